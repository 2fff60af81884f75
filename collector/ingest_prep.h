/*
 * ingest_prep.h - the CPU-heavy half of the ingest, safe to run on any
 * thread: a submitted body as measurements (gzip, JSON Lines or one JSON
 * document), and each measurement as a row ready for the store: parsed,
 * validated (collector/validate.c), analysed again with the collector's rules
 * and fingerprints, checked against the store's bounds and compressed.
 * Nothing here touches the database or the HTTP request.
 */
#ifndef WW_INGEST_PREP_H
#define WW_INGEST_PREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Bytes of a decompressed body: a 1,000-measurement batch is a few MiB. */
#define PREP_MAX_INFLATED (64u * 1024 * 1024)
#define PREP_MAX_LINES 10000

struct ww_fingerprints;

struct prep_line {
	const char *text; /* into the body; not NUL-terminated */
	size_t len;
	size_t line; /* 1-based line of the body it starts on */
};

struct prep_body {
	unsigned char *plain; /* the gunzipped body (owned), or NULL */
	struct prep_line *lines;
	size_t n;
};

/*
 * body (len bytes; gunzipped first when gzip) as measurements: one JSON
 * document, which may span lines, or JSON Lines (blank lines skipped). The
 * lines point into body or out->plain, so body must outlive out. Returns 0,
 * or the HTTP status to refuse the whole body with (400 not gzip, 413 too
 * many lines or too big inflated) and a message in err.
 */
int prep_body_decode(const unsigned char *body, size_t len, bool gzip,
		     struct prep_body *out, char *err, size_t errlen);
void prep_body_free(struct prep_body *b);

/* What the collector saw of the submitter, for every row of a body. */
struct prep_peer {
	const char *cc, *asn;  /* from --asn-db; NULL: unknown */
	int64_t received;      /* when the body arrived, unix seconds */
	const char *submitter; /* store_meas.submitter; NULL: none */
};

/* One measurement's outcome. */
struct prep_row {
	size_t line;
	bool ok;
	/* ok: the store's view of it. Its strings and zraw live in mem;
	 * raw points into the body; observed_cc/asn are the peer's. */
	struct store_meas sm;
	/* refused: the field at fault ("" for the whole line) and why; in
	 * mem too */
	const char *field, *error;
	void *mem;
};

/* Have jansson allocate from a per-thread arena while a row is made
 * (faster; see ingest_prep.c). Once, before any other use of jansson in
 * the process; jansson uses malloc and free everywhere else. */
void prep_install_json_arena(void);

/* Per-thread state (a compressor, the arena); fp (may be NULL: no fingerprints)
 * is only read, and may be shared by every thread. */
struct prep_ctx;
struct prep_ctx *prep_ctx_new(const struct ww_fingerprints *fp);
void prep_ctx_free(struct prep_ctx *c);

/* l as a row: stored-to-be, or refused with its reason. */
void prep_row_make(struct prep_ctx *c, const struct prep_line *l,
		   const struct prep_peer *peer, struct prep_row *out);
void prep_row_clear(struct prep_row *r);

#endif
