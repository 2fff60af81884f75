#!/bin/sh
# mkcerts.sh DIR [CA_NAME] - make the certificates fakenet serves (see
# README.md). CA_NAME is the CA's common name (default "Wallwatch Test CA");
# the censor lab makes a second, untrusted set for its man in the middle.
#
# EC P-256 keys everywhere: handshakes stay cheap when the benchmark opens
# thousands of them. Leaves are issued with `openssl ca` because the 3.0 CLI
# has no -not_before/-not_after on `x509 -req`, and we need a leaf that is
# valid from yesterday (clock skew) and one that has already expired.
# Quiet on success; on failure prints openssl's output and exits non-zero.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 DIR [CA_NAME]" >&2
	exit 2
fi
dir=$1
ca_name=${2:-Wallwatch Test CA}
mkdir -p "$dir"

work=$(mktemp -d "${TMPDIR:-/tmp}/mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/log

# Run a command with its output in $log; show it only when the command fails.
run() {
	if ! "$@" >"$log" 2>&1; then
		echo "mkcerts: failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}

# GNU date: generalized time as `openssl ca -startdate/-enddate` accept it.
when() {
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

newkey() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$work/$1.key"
}

cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = lab_ca

[ lab_ca ]
dir = $work
database = $work/index.txt
new_certs_dir = $work/issued
certificate = $work/ca.pem
private_key = $work/ca.key
rand_serial = yes
unique_subject = no
default_md = sha256
policy = lab_policy
copy_extensions = none
email_in_dn = no

[ lab_policy ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ good_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:good.lab.test, DNS:*.lab.test, IP:127.0.0.1, IP:::1

[ wrong_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong-name.example

[ expired_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:*.lab.test

[ self_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:good.lab.test
EOF
: >"$work/index.txt"
mkdir "$work/issued"

# The CA itself, backdated like the leaves.
newkey ca
run openssl req -new -config "$work/ca.cnf" -key "$work/ca.key" \
	-subj "/CN=$ca_name" -out "$work/ca.csr"
run openssl ca -batch -config "$work/ca.cnf" -selfsign -notext \
	-keyfile "$work/ca.key" -in "$work/ca.csr" -out "$work/ca.pem" \
	-extensions ca_ext -startdate "$(when '2 days ago')" \
	-enddate "$(when '3650 days')"

# issue NAME CN EXT_SECTION STARTDATE ENDDATE
issue() {
	newkey "$1"
	run openssl req -new -config "$work/ca.cnf" -key "$work/$1.key" \
		-subj "/CN=$2" -out "$work/$1.csr"
	run openssl ca -batch -config "$work/ca.cnf" -notext \
		-in "$work/$1.csr" -out "$work/$1.pem" -extensions "$3" \
		-startdate "$4" -enddate "$5"
}

issue good good.lab.test good_ext "$(when '1 day ago')" "$(when '29 days')"
issue wrong wrong-name.example wrong_ext "$(when '1 day ago')" \
	"$(when '29 days')"
issue expired '*.lab.test' expired_ext "$(when '60 days ago')" \
	"$(when '30 days ago')"

newkey selfsigned
run openssl req -x509 -new -config "$work/ca.cnf" -key "$work/selfsigned.key" \
	-subj "/CN=good.lab.test" -extensions self_ext -days 30 \
	-out "$work/selfsigned.pem"

# Sanity: the chain we promise is the chain we made.
run openssl verify -CAfile "$work/ca.pem" "$work/good.pem" "$work/wrong.pem"

for name in ca good wrong selfsigned expired; do
	chmod 0644 "$work/$name.pem"
	chmod 0600 "$work/$name.key"
	mv -f "$work/$name.pem" "$dir/$name.pem"
	mv -f "$work/$name.key" "$dir/$name.key"
done
