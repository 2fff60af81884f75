/*
 * fuzz_apiquery.c - the read API's query strings (collector/api_query.c),
 * untrusted text from any client, and the CSV export's cells
 * (collector/export_csv.c). The invariants: a refusal always names a
 * parameter and says why, starting with that name; what is accepted
 * holds no control character; a CSV cell that a spreadsheet would take
 * for a formula never starts with a formula character once written; a
 * cursor of /api/v1/changes (collector/api_network.c) is taken only when
 * it prints back the same.
 *
 * Linked from build/libcollector.a.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include <inttypes.h>
#include <stdio.h>

#include "../../collector/api_network.h"
#include "../../collector/api_query.h"
#include "../../collector/collector.h"
#include "fuzz.h"

static void
check_clean(const char *s)
{
	for (; s != NULL && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	struct api_query q;
	struct evbuffer *b;
	unsigned allowed = size > 0 ? data[0] : AQ_FILTERS;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	allowed |= (size > 1 ? (unsigned)data[1] << 8 : 0u);
	allowed &= (1u << AQ_N) - 1;
	err[0] = '\0';
	if (api_query_parse(text, allowed, &q, err, sizeof(err)) != 0) {
		if (q.err_param[0] == '\0' || err[0] == '\0' ||
		    strncmp(err, q.err_param, strlen(q.err_param)) != 0)
			abort();
	} else {
		check_clean(q.f.input);
		check_clean(q.f.cc);
		check_clean(q.f.asn);
		check_clean(q.f.category);
		check_clean(q.f.state);
		if (q.f.limit < 0 || q.f.limit > STORE_LIMIT_MAX)
			abort();
	}
	api_query_clear(&q);
	/* the same bytes as a cursor of the changes */
	{
		int64_t t = -1, id = -1;
		char back[64];

		if (api_changes_cursor(text, &t, &id) == 0) {
			snprintf(back, sizeof(back), "%" PRId64 "-%" PRId64, t,
				 id);
			if (t < 0 || id < 1 || strcmp(back, text) != 0)
				abort();
		} else if (t != -1 || id != -1) {
			abort();
		}
	}
	/* the same bytes as a CSV cell */
	b = evbuffer_new();
	export_csv_cell(b, text, false);
	if (csv_cell_is_formula(text)) {
		const unsigned char *o = evbuffer_pullup(b, 2);

		if (o == NULL || o[0] != '"' || o[1] != '\'')
			abort();
	}
	evbuffer_free(b);
	free(text);
	return 0;
}
