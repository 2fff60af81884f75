/*
 * fuzz_whoami.c - the probe's reading of a collector's GET /api/v1/whoami
 * answer (untrusted network bytes) into its state: whatever the answer,
 * only an address literal is learned, at most STATE_MAX_ADDRS are kept, and
 * the network fields are well-formed or absent.
 *
 * Linked from build/libprobe.a, with an in-memory state (no state
 * directory).
 */
#include <stdlib.h>
#include <string.h>

#include "../../probe/identity.h"
#include "../../probe/probe.h"
#include "../../probe/scrub.h"
#include "../../probe/spool.h"
#include "../../probe/state.h"
#include "../../probe/upload.h"
#include "fuzz.h"
#include "ipaddr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_env env;
	char err[256];
	const char *asn, *cc;
	json_t *addrs, *v;
	size_t i;

	memset(&env, 0, sizeof(env));
	env.state = json_object();
	env.scrub = ww_scrub_new();
	env.read_only = true;
	for (int round = 0; round < 2; round++)
		if (upload_parse_whoami(&env, "fuzz", (const char *)data, size,
					err, sizeof(err)) != 0 &&
		    err[0] == '\0')
			abort(); /* a refusal always says why */
	asn = state_asn(&env);
	cc = state_cc(&env);
	if (asn != NULL && (strncmp(asn, "AS", 2) != 0 || asn[2] == '\0' ||
			    strspn(asn + 2, "0123456789") != strlen(asn + 2)))
		abort();
	if (cc != NULL && (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z'))
		abort();
	addrs = json_object_get(env.state, "addresses");
	if (json_array_size(addrs) > STATE_MAX_ADDRS)
		abort();
	json_array_foreach(addrs, i, v)
	{
		if (!ww_ip_is_literal(
			    json_string_value(json_object_get(v, "ip"))))
			abort();
	}
	json_decref(env.state);
	ww_scrub_free(env.scrub);
	return 0;
}
