/*
 * fuzz_control.c - what a control service and a probe read from the
 * network: a control request (ours or OONI's, by the first byte) and a
 * control answer, on arbitrary bytes. Checks what success promises: an
 * input and at most 16 literal addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "fuzz.h"
#include "ipaddr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_control_req r;
	char err[256];
	json_t *j;

	if (size < 1)
		return 0;
	if (ww_control_req_parse((const char *)data + 1, size - 1, data[0] & 1,
				 &r, err, sizeof(err)) == 0) {
		if (r.input == NULL || r.n_addrs > 16)
			abort();
		for (size_t i = 0; i < r.n_addrs; i++)
			if (!ww_ip_is_literal(r.addrs[i]))
				abort();
		ww_control_req_clear(&r);
	} else if (err[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (j != NULL) {
		(void)ww_control_answer_check(j, err, sizeof(err));
		json_decref(j);
	}
	return 0;
}
