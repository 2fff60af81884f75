/*
 * fuzz_tltext.c - tl_restore() (collector/timeline.c) on arbitrary bytes as
 * the stored text of a target's window and voters: never a crash, never
 * more entries or voters than there is room for, and what it accepts is
 * written back by tl_encode() into text that is accepted again and
 * written the same (the text a backend reads is what it wrote).
 */
#include <stdlib.h>
#include <string.h>

#include "../../collector/timeline.c"
#include "fuzz.h"

/* The input as a window: 0, or -1 refused (with a message). */
static int
restore(struct tl *t, const char *text)
{
	struct store_agreement ag = STORE_AGREEMENT_DEFAULT;
	char err[256] = "";
	int rc;

	ag.min_submitters = 1;
	tl_init(t, "https://example.org/", "CN", "AS1");
	t->n_conclusive = TL_WINDOW;
	rc = tl_restore(t, &ag, "unknown", NULL, text, err, sizeof(err));
	if (rc != 0 && strstr(err, "is damaged: ") == NULL)
		abort();
	if (t->wn < 0 || t->wn > TL_WINDOW || t->nv < 0 || t->nv > TL_VOTERS)
		abort();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), a[TL_TEXT_MAX], b[TL_TEXT_MAX];
	struct tl t, u;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (restore(&t, s) == 0) {
		tl_encode(&t, a, sizeof(a));
		if (strlen(a) + 1 >= sizeof(a) || restore(&u, a) != 0)
			abort();
		tl_encode(&u, b, sizeof(b));
		if (strcmp(a, b) != 0)
			abort();
		tl_free(&u);
	}
	tl_free(&t);
	free(s);
	return 0;
}
