/*
 * fuzz_registration.c - the collector's check of a self-registration body
 * (POST /api/v1/submitters; untrusted network bytes). Whatever the input:
 * a refusal says why; an acceptance gives the key id of the key it
 * returns, and that key's proof really verifies.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "subsig.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char pub[WW_SUB_PUB_LEN], sig[WW_SUB_SIG_LEN];
	char id[33], id2[33], err[256] = "";
	json_t *j;
	char *text;
	size_t n;
	unsigned char *d;
	const char *proof;

	if (ww_sub_registration_check((const char *)data, size, pub, id, err,
				      sizeof(err)) != 0) {
		if (err[0] == '\0' || strnlen(err, sizeof(err)) == sizeof(err))
			abort();
		return 0;
	}
	ww_sub_key_id(pub, id2);
	if (strcmp(id, id2) != 0 || !ww_sub_key_id_valid(id))
		abort();
	/* Accepted: the proof in it verifies under the key returned. */
	j = json_loadb((const char *)data, size, 0, NULL);
	proof = json_string_value(json_object_get(j, "proof"));
	d = proof ? ww_base64_decode(proof, strlen(proof), 88, &n) : NULL;
	if (d == NULL || n != WW_SUB_SIG_LEN)
		abort();
	memcpy(sig, d, sizeof(sig));
	free(d);
	text = ww_sub_register_text(
		json_string_value(json_object_get(j, "public_key")));
	if (!ww_sub_verify(pub, text, strlen(text), sig))
		abort();
	free(text);
	json_decref(j);
	return 0;
}
