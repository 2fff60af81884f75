/*
 * fuzz_validate.c - the collector's measurement check on arbitrary JSON
 * (any root). Checks what the contract promises: a refusal names a field
 * and says why, both terminated and valid UTF-8 at any buffer size; an
 * acceptance leaves both empty; and the verdict does not depend on the
 * buffers given. The clock is fixed at the corpus's time
 * (tests/data/validate/good.json), so that replays never age. OONI's
 * measurements (validate_ooni.c; seeds ooni_*) go through the same check,
 * and an accepted one gets an identity of the documented form.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "util.h"
#include "../../collector/validate.h"

/* 2026-11-22 22:45:56 UTC: a minute after good.json began */
#define FUZZ_NOW INT64_C(1795387556)

static void
check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap || !ww_utf8_valid((const unsigned char *)s, n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char field[256], msg[256], sfield[17], smsg[11];
	json_t *m;
	int rc;

	m = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (m == NULL)
		return 0;
	memset(field, 'x', sizeof(field));
	memset(msg, 'x', sizeof(msg));
	rc = ww_validate_measurement_at(m, FUZZ_NOW, field, sizeof(field), msg,
					sizeof(msg));
	check_text(field, sizeof(field));
	check_text(msg, sizeof(msg));
	if (rc == 0 ? field[0] != '\0' || msg[0] != '\0'
		    : rc != -1 || msg[0] == '\0')
		abort();
	/* small buffers: a prefix of the same answer; none: the same rc */
	if (ww_validate_measurement_at(m, FUZZ_NOW, sfield, sizeof(sfield),
				       smsg, 1 + size % sizeof(smsg)) != rc ||
	    ww_validate_measurement_at(m, FUZZ_NOW, NULL, 0, NULL, 0) != rc)
		abort();
	check_text(sfield, sizeof(sfield));
	check_text(smsg, sizeof(smsg));
	if (strncmp(sfield, field,
		    strlen(sfield) > 0 ? strlen(sfield) - 1 : 0) != 0)
		abort();
	if (rc == 0 && ww_validate_is_ooni(m)) {
		char uid[WW_OONI_UID_LEN + 1], again[WW_OONI_UID_LEN + 1];
		size_t p = strlen(WW_OONI_UID_PREFIX);

		ww_ooni_uid(m, uid);
		ww_ooni_uid(m, again);
		if (strlen(uid) != WW_OONI_UID_LEN ||
		    strncmp(uid, WW_OONI_UID_PREFIX, p) != 0 ||
		    strspn(uid + p, "0123456789abcdef") != 32 ||
		    strcmp(uid, again) != 0)
			abort();
	}
	json_decref(m);
	return 0;
}
