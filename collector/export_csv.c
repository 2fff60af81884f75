/*
 * export_csv.c - one CSV cell of the export (docs/export.md): quoted per
 * RFC 4180, and a cell a spreadsheet would run as a formula neutralised
 * as OWASP's "CSV Injection" page recommends.
 */
#include <stdbool.h>
#include <string.h>

#include <event2/buffer.h>

#include "collector.h"
#include "util.h"

/*
 * A cell a spreadsheet would run as a formula (OWASP, "CSV Injection"):
 * its first character is = + - @, a tab or a carriage return, or, as some
 * spreadsheets skip leading spaces, the first after spaces is; or one of
 * their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some
 * spreadsheets read as the ASCII ones. A cell starting with a single
 * quote is one too, so that the rule stays reversible: every exported
 * cell that starts with ' had exactly one added (docs/export.md).
 */
bool
csv_cell_is_formula(const char *s)
{
	static const char *const wide[] = {"\xef\xbc\x9d", "\xef\xbc\x8b",
					   "\xef\xbc\x8d", "\xef\xbc\xa0"};

	if (s == NULL)
		return false;
	if (*s == '\'' || *s == '\t' || *s == '\r')
		return true;
	while (*s == ' ')
		s++;
	if (*s != '\0' && strchr("=+-@\t\r", *s) != NULL)
		return true;
	for (size_t i = 0; i < WW_ARRAY_LEN(wide); i++)
		if (strncmp(s, wide[i], 3) == 0)
			return true;
	return false;
}

/* One CSV cell: quoted per RFC 4180 when it holds a comma, a quote or a
 * line break; a formula (csv_cell_is_formula) gets a ' in front and is
 * quoted, as OWASP recommends. */
void
export_csv_cell(struct evbuffer *b, const char *s, bool last)
{
	bool formula = csv_cell_is_formula(s);

	if (s != NULL && (formula || strpbrk(s, ",\"\r\n") != NULL)) {
		evbuffer_add(b, formula ? "\"'" : "\"", formula ? 2 : 1);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				evbuffer_add(b, "\"", 1);
			evbuffer_add(b, p, 1);
		}
		evbuffer_add(b, "\"", 1);
	} else if (s != NULL) {
		evbuffer_add(b, s, strlen(s));
	}
	evbuffer_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}
