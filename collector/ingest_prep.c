/*
 * ingest_prep.c - a submitted body as rows for the store (ingest_prep.h).
 *
 * Every row owns one block of memory with its strings and its compressed
 * raw, so that the parsed JSON (the large part) is freed as soon as the
 * row is made: a batch of 10,000 costs 10,000 small blocks, not 10,000
 * JSON trees.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#include "analysis.h"
#include "ingest_prep.h"
#include "pktview.h"
#include "util.h"
#include "validate.h"
#include "verdict_json.h"

/* --- an arena for the JSON of one row -----------------------------------
 *
 * Parsing a 4 KB measurement makes a few hundred small allocations, and
 * freeing them one by one cost as much again (a fifth of the ingest's
 * CPU). While a row is made, jansson's allocations on that thread come
 * from the thread's arena instead, and are dropped all at once after it.
 * Everywhere else (and on threads without an arena) jansson uses malloc
 * and free as usual, so that json_dumps() results can still be free()d.
 * Nothing allocated in the arena may outlive the row: prep_row_make()
 * copies what it keeps (own()).
 */
#define ARENA_BLOCK ((size_t)256 * 1024)

struct arena {
	char **blk; /* blk[0] is kept between rows (if of ARENA_BLOCK) */
	size_t *size, n, cap;
	size_t used; /* in blk[n - 1] */
};

static _Thread_local struct arena *cur_arena;
static bool arena_installed;

static bool
arena_owns(const struct arena *a, const void *p)
{
	for (size_t i = 0; i < a->n; i++)
		if ((const char *)p >= a->blk[i] &&
		    (const char *)p < a->blk[i] + a->size[i])
			return true;
	return false;
}

static void *
arena_alloc(struct arena *a, size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15; /* malloc's alignment */
	if (a->n == 0 || a->used + n > a->size[a->n - 1]) {
		size_t sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if (a->n == a->cap) {
			a->cap = a->cap ? 2 * a->cap : 4;
			a->blk = xrealloc(a->blk, a->cap * sizeof(*a->blk));
			a->size = xrealloc(a->size, a->cap * sizeof(*a->size));
		}
		a->blk[a->n] = xmalloc(sz);
		a->size[a->n++] = sz;
		a->used = 0;
	}
	p = a->blk[a->n - 1] + a->used;
	a->used += n;
	return p;
}

/* Drop everything but the first block, unless that one was made for one
 * large allocation (a 16 MiB measurement should not stay with the thread). */
static void
arena_reset(struct arena *a)
{
	while (a->n > 1 || (a->n == 1 && a->size[0] > ARENA_BLOCK))
		free(a->blk[--a->n]);
	a->used = 0;
}

static void
arena_free(struct arena *a)
{
	arena_reset(a);
	if (a->n > 0)
		free(a->blk[0]);
	free(a->blk);
	free(a->size);
	free(a);
}

static void *
json_alloc(size_t n)
{
	struct arena *a = cur_arena;

	return a != NULL ? arena_alloc(a, n) : malloc(n);
}

static void
json_release(void *p)
{
	struct arena *a = cur_arena;

	if (a == NULL || !arena_owns(a, p))
		free(p);
}

void
prep_install_json_arena(void)
{
	json_set_alloc_funcs(json_alloc, json_release);
	arena_installed = true;
}

struct prep_ctx {
	const struct ww_fingerprints *fp;
	struct store_packer *pk;
	struct arena *arena; /* NULL unless installed */
};

struct prep_ctx *
prep_ctx_new(const struct ww_fingerprints *fp)
{
	struct prep_ctx *c = xcalloc(1, sizeof(*c));

	c->fp = fp;
	c->pk = store_packer_new();
	if (arena_installed)
		c->arena = xcalloc(1, sizeof(*c->arena));
	return c;
}

void
prep_ctx_free(struct prep_ctx *c)
{
	if (c == NULL)
		return;
	store_packer_free(c->pk);
	if (c->arena != NULL)
		arena_free(c->arena);
	free(c);
}

/* --- the body ------------------------------------------------------------ */

/* gunzip src into a new buffer of at most PREP_MAX_INFLATED bytes. Returns
 * NULL with the HTTP status in *code and a message.
 *
 * A body of several gzip members (RFC 1952 section 2.2: "a series of
 * members"; `cat a.gz b.gz`) is read whole: zlib stops at the end of each
 * member, so decoding starts again while bytes remain (issue 12: only the
 * first member was stored, after a 200). Bytes after the last member that
 * do not begin another one are refused, never ignored. The bound on the
 * decoded size counts every member together. */
static unsigned char *
gunzip(const unsigned char *src, size_t len, size_t *out_len, int *code,
       char *err, size_t errlen)
{
	z_stream z;
	size_t cap = len * 4 + 1024, n = 0;
	unsigned char *out;
	int rc;

	memset(&z, 0, sizeof(z));
	*code = 400;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "cannot start gzip decoding");
		return NULL;
	}
	if (cap > PREP_MAX_INFLATED)
		cap = PREP_MAX_INFLATED;
	out = xmalloc(cap);
	z.next_in = src;
	z.avail_in = (uInt)len;
	do {
		if (n == cap) {
			if (cap >= PREP_MAX_INFLATED) {
				*code = 413;
				snprintf(err, errlen,
					 "body: more than 64 MiB once "
					 "decompressed");
				goto fail;
			}
			cap = cap * 2 > PREP_MAX_INFLATED ? PREP_MAX_INFLATED
							  : cap * 2;
			out = xrealloc(out, cap);
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END) {
			snprintf(err, errlen, "body: not valid gzip (%s)",
				 z.msg ? z.msg : "truncated");
			goto fail;
		}
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			snprintf(err, errlen, "body: gzip stream is truncated");
			goto fail;
		}
		if (rc == Z_STREAM_END && z.avail_in > 0) {
			/* Another member (its magic bytes), or garbage. */
			if (z.avail_in < 2 || z.next_in[0] != 0x1f ||
			    z.next_in[1] != 0x8b) {
				snprintf(err, errlen,
					 "body: %u bytes after the end of the "
					 "gzip data (not another gzip member)",
					 z.avail_in);
				goto fail;
			}
			if (inflateReset(&z) != Z_OK) {
				snprintf(err, errlen,
					 "cannot restart gzip decoding");
				goto fail;
			}
			rc = Z_OK;
		}
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	*out_len = n;
	return out;
fail:
	inflateEnd(&z);
	free(out);
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

/*
 * True when the body (several non-blank lines) is one JSON document rather
 * than JSON Lines: its first value is an object that ends where the body's
 * text ends. Only the first value is parsed, and only when the body starts
 * with "{" on a line of its own or the like; a batch costs one extra parse
 * of its first line.
 */
static bool
one_document(const char *body, size_t len)
{
	json_error_t jerr;
	json_t *v;
	size_t used;

	while (len > 0 && is_space(body[0])) {
		body++;
		len--;
	}
	if (len == 0 || body[0] != '{')
		return false;
	v = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (v == NULL)
		return false;
	json_decref(v);
	used = (size_t)jerr.position;
	return used <= len && blank(body + used, len - used);
}

int
prep_body_decode(const unsigned char *body, size_t len, bool gzip,
		 struct prep_body *out, char *err, size_t errlen)
{
	const char *text;
	struct prep_line *v = NULL, *first = NULL;
	size_t n = 0, cap = 0, line = 0;
	int code;

	memset(out, 0, sizeof(*out));
	if (gzip) {
		out->plain =
			gunzip(body != NULL ? body : (const unsigned char *)"",
			       len, &len, &code, err, errlen);
		if (out->plain == NULL)
			return code;
		body = out->plain;
	}
	text = body != NULL ? (const char *)body : "";
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		line++;
		if (!blank(text + pos, end - pos)) {
			struct prep_line *l;

			if (n >= PREP_MAX_LINES) {
				free(v);
				prep_body_free(out);
				snprintf(err, errlen,
					 "more than %u measurements in one "
					 "batch",
					 PREP_MAX_LINES);
				return 413;
			}
			/* Without the white space around it (a CR of CRLF,
			 * say): what is kept is the measurement as sent. */
			l = WW_PUSH(v, n, cap);
			l->text = text + pos;
			l->len = end - pos;
			l->line = line;
			while (is_space(l->text[0])) {
				l->text++;
				l->len--;
			}
			while (is_space(l->text[l->len - 1]))
				l->len--;
		}
		pos = end + 1;
	}
	if (n == 0) {
		prep_body_free(out);
		snprintf(err, errlen,
			 "empty body: send a measurement or JSON Lines");
		return 400;
	}
	first = &v[0];
	if (n > 1 &&
	    one_document(first->text, (size_t)(text + len - first->text))) {
		/* The whole document, from where its first line starts. */
		size_t end = (size_t)(text + len - first->text);

		while (end > 0 && is_space(first->text[end - 1]))
			end--;
		first->len = end;
		n = 1;
	}
	out->lines = v;
	out->n = n;
	return 0;
}

void
prep_body_free(struct prep_body *b)
{
	free(b->plain);
	free(b->lines);
	memset(b, 0, sizeof(*b));
}

/* --- one measurement ----------------------------------------------------- */

static void
refuse(struct prep_row *r, const char *field, const char *msg)
{
	size_t fl = strlen(field) + 1, ml = strlen(msg) + 1;
	char *mem = xmalloc(fl + ml);

	memcpy(mem, field, fl);
	memcpy(mem + fl, msg, ml);
	r->ok = false;
	r->field = mem;
	r->error = mem + fl;
	r->mem = mem;
}

static const char *
tk_str(const json_t *m, const char *k)
{
	return json_string_value(
		json_object_get(json_object_get(m, "test_keys"), k));
}

/* sm from the analysed measurement m; its strings point into m, the
 * evidence's into ev. */
static void
view(const struct prep_line *l, const json_t *m, const struct prep_peer *peer,
     struct store_meas *sm, struct verdict_bufs *ev)
{
	struct store_derived d;
	int64_t t = 0;

	memset(sm, 0, sizeof(*sm));
	sm->uid = json_string_value(json_object_get(m, "measurement_uid"));
	sm->raw = l->text;
	sm->raw_len = l->len;
	sm->input = json_string_value(json_object_get(m, "input"));
	sm->test_name = json_string_value(json_object_get(m, "test_name"));
	sm->software_name =
		json_string_value(json_object_get(m, "software_name"));
	sm->software_version =
		json_string_value(json_object_get(m, "software_version"));
	sm->test_version =
		json_string_value(json_object_get(m, "test_version"));
	sm->category_code = tk_str(m, "category_code");
	sm->probe_cc = json_string_value(json_object_get(m, "probe_cc"));
	sm->probe_asn = json_string_value(json_object_get(m, "probe_asn"));
	if (peer->cc != NULL && peer->asn != NULL) {
		sm->observed_cc = peer->cc;
		sm->observed_asn = peer->asn;
		sm->geo_mismatch = sm->probe_cc == NULL ||
				   sm->probe_asn == NULL ||
				   strcmp(peer->cc, sm->probe_cc) != 0 ||
				   strcmp(peer->asn, sm->probe_asn) != 0;
	}
	ww_parse_utc(
		json_string_value(json_object_get(m, "measurement_start_time")),
		&t);
	sm->start_time = t;
	sm->received_time = peer->received;
	sm->submitter = peer->submitter;
	verdict_from_json(m, &d, ev);
	sm->blocking = d.blocking;
	sm->accessible = d.accessible;
	sm->blocking_detail = d.blocking_detail;
	sm->confirmed = d.confirmed;
	sm->analysis_version = d.analysis_version;
	sm->analysis_reason = d.analysis_reason;
	sm->evidence = d.evidence;
	sm->evidence_detail = d.evidence_detail;
	sm->packets = d.packets;
}

/* The row's own copy of sm's strings (into m) and of the compressed raw,
 * in one block. */
static void
own(struct prep_row *r, const struct store_meas *sm, const void *z, size_t zlen)
{
	const char **f[] = {
		&r->sm.uid,
		&r->sm.input,
		&r->sm.test_name,
		&r->sm.software_name,
		&r->sm.software_version,
		&r->sm.test_version,
		&r->sm.category_code,
		&r->sm.probe_cc,
		&r->sm.probe_asn,
		&r->sm.blocking,
		&r->sm.blocking_detail,
		&r->sm.analysis_version,
		&r->sm.analysis_reason,
		&r->sm.evidence,
		&r->sm.evidence_detail,
	};
	size_t need = zlen, at = zlen;
	char *mem;

	r->sm = *sm;
	for (size_t i = 0; i < WW_ARRAY_LEN(f); i++)
		if (*f[i] != NULL)
			need += strlen(*f[i]) + 1;
	mem = xmalloc(need);
	memcpy(mem, z, zlen);
	for (size_t i = 0; i < WW_ARRAY_LEN(f); i++) {
		size_t n;

		if (*f[i] == NULL)
			continue;
		n = strlen(*f[i]) + 1;
		memcpy(mem + at, *f[i], n);
		*f[i] = mem + at;
		at += n;
	}
	r->sm.zraw = mem;
	r->sm.zraw_len = zlen;
	r->mem = mem;
	r->ok = true;
}

void
prep_row_make(struct prep_ctx *c, const struct prep_line *l,
	      const struct prep_peer *peer, struct prep_row *out)
{
	char field[256], msg[512], uid[WW_OONI_UID_LEN + 1];
	struct verdict_bufs ev;
	struct store_meas sm;
	json_error_t jerr;
	const void *z;
	size_t zlen;
	json_t *m;

	memset(out, 0, sizeof(*out));
	out->line = l->line;
	cur_arena = c->arena;
	m = json_loadb(l->text, l->len, JSON_REJECT_DUPLICATES, &jerr);
	if (m == NULL) {
		snprintf(msg, sizeof(msg), "not JSON: %s", jerr.text);
		refuse(out, "", msg);
		goto done;
	}
	if (ww_validate_measurement(m, field, sizeof(field), msg,
				    sizeof(msg)) != 0) {
		refuse(out, field, msg);
		goto done;
	}
	/* Derived data is ours to compute: the probe's verdict is replaced
	 * by the collector's current rules (raw stays as sent). */
	if (ww_analyze(m, c->fp, msg, sizeof(msg)) != 0) {
		refuse(out, "test_keys", msg);
		goto done;
	}
	view(l, m, peer, &sm, &ev);
	/* An OONI measurement without a measurement_uid gets its stable
	 * identity (docs/ooni-data.md): the same one each time it comes, so
	 * a second import or POST is a duplicate, not a second row. */
	if (sm.uid == NULL && ww_validate_is_ooni(m)) {
		ww_ooni_uid(m, uid);
		sm.uid = uid;
	}
	/* The store would refuse the whole batch for it: refuse it alone. */
	if (store_meas_check(&sm, msg, sizeof(msg)) != 0) {
		refuse(out, "", msg);
		goto done;
	}
	if (store_pack(c->pk, l->text, l->len, &z, &zlen, msg, sizeof(msg)) !=
	    0) {
		refuse(out, "", msg);
		goto done;
	}
	own(out, &sm, z, zlen);
done:
	json_decref(m);
	if (c->arena != NULL) {
		cur_arena = NULL;
		arena_reset(c->arena);
	}
}

void
prep_row_clear(struct prep_row *r)
{
	free(r->mem);
	memset(r, 0, sizeof(*r));
}
