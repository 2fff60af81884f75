# collector-gen.awk - unique measurements for bench/collector.sh, made from
# real probe measurements (templates) by substituting the envelope.
#
#   awk -v n=N -v first=J0 -v total=M -v t0=UNIX -v t1=UNIX -v tag=STR \
#       -f bench/collector-gen.awk TEMPLATES >OUT.jsonl
#
# TEMPLATES: one line per probe measurement, "INPUT_INDEX TAB VARIANT TAB
# JSON", where the JSON has @@UID@@, @@TIME@@, @@CC@@ and @@ASN@@ in place
# of measurement_uid, measurement_start_time and test_start_time, probe_cc
# and probe_asn. VARIANT 0 was measured through the lab's resolver, 1
# through a dead one (the collector's analysis makes it DNS blocking when
# the control resolved the name).
#
# Measurement j (first <= j < first + n) is for target key j % K, K = the
# number of inputs x 25 networks: input j % K % NI on network j % K / NI.
# Its start time is t0 + j * (t1 - t0) / total (total: all the j of the
# whole set, made in chunks of n from first; default n), so that each
# key's measurements arrive in time order, as a probe submits them. On a third
# of the networks each input is blocked (variant 1) for 60 days somewhere
# in the range, so targets change state and events are written. The uid
# carries tag and j: unique across runs and within one.
function civil(t,    z, era, doe, yoe, doy, mp, d, m, y, s) {
	s = t % 86400
	z = (t - s) / 86400 + 719468
	era = int(z / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
	y = yoe + era * 400
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	if (m <= 2)
		y++
	CY = y; CM = m; CD = d
	CH = int(s / 3600); CMI = int(s % 3600 / 60); CS = s % 60
}
BEGIN {
	FS = "\t"
	# 25 networks: five countries, five ASNs each.
	split("CN CN CN CN CN IR IR IR IR IR RU RU RU RU RU TR TR TR TR TR MM MM MM MM MM", CCS, " ")
	split("AS4134 AS4837 AS9808 AS56046 AS4538 AS58224 AS197207 AS44244 AS12880 AS16322 AS12389 AS8359 AS3216 AS31213 AS25513 AS9121 AS15897 AS16135 AS34984 AS47331 AS9988 AS136255 AS133385 AS132167 AS18399", ASNS, " ")
	NNET = 25
}
{
	ii = $1 + 0
	v = $2 + 0
	if (ii + 1 > NI)
		NI = ii + 1
	np = split($3, p, "@@")
	NP[ii, v] = np
	for (k = 1; k <= np; k++)
		P[ii, v, k] = p[k]
}
END {
	if (NI == 0 || n <= 0)
		exit 1
	K = NI * NNET
	span = t1 - t0
	if (total <= 0)
		total = n
	for (j = first; j < first + n; j++) {
		key = j % K
		ii = key % NI
		net = int(key / NI)
		t = t0 + int(j * span / total)
		day = int((t - t0) / 86400)
		b0 = 20 + (ii * 37 + net * 11) % 200
		v = (net % 3 == 0 && day >= b0 && day < b0 + 60) ? 1 : 0
		if (!((ii, v, 1) in P))
			v = 0
		civil(t)
		time = sprintf("%04d-%02d-%02d %02d:%02d:%02d", CY, CM, CD, CH, CMI, CS)
		cc = CCS[net + 1]
		uid = sprintf("%04d%02d%02d%02d%02d%02d.%06d_%s_bench_%s_%d", CY, CM, CD, CH, CMI, CS, j % 1000000, cc, tag, j)
		out = ""
		np = NP[ii, v]
		for (k = 1; k <= np; k++) {
			s = P[ii, v, k]
			if (k % 2 == 0) {
				if (s == "UID") s = uid
				else if (s == "TIME") s = time
				else if (s == "CC") s = cc
				else if (s == "ASN") s = ASNS[net + 1]
			}
			out = out s
		}
		print out
	}
}
