/*
 * validate_walk.c - how the measurement check (validate.c) walks a
 * submission: the JSON path of where it is, the failure that names it, the
 * type checks of keys, the bounds on arrays and on nesting. The rules
 * themselves are in validate.c (the envelope), validate_test_keys.c and
 * validate_packets.c.
 *
 * The path and the message are always valid UTF-8, so they can go into a
 * JSON error answer as they are: key names from the submission are reduced
 * to printable ASCII, and a byte of a message that starts no valid UTF-8
 * sequence (cut short, or quoted from the input) becomes '?'.
 */
#include "validate.h"
#include "validate_int.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* A key from the submission, as shown in a path. */
#define MAX_PATH_KEY 64

/* --- context and errors ------------------------------------------------- */

/* Make s valid UTF-8 in place: each byte that starts no valid sequence
 * becomes '?' (a sequence cut short by snprintf, or a target parser's
 * message that quotes part of the input and cut it mid-character). */
static void
utf8_fix(char *s)
{
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		n = ww_utf8_seq_len((const unsigned char *)s + i, len - i);
		if (n == 0) {
			s[i] = '?';
			n = 1;
		}
		i += n;
	}
}

static void
path_append(struct vctx *c, const char *s, size_t n)
{
	if (n > sizeof(c->path) - 1 - c->plen)
		n = sizeof(c->path) - 1 - c->plen;
	memcpy(c->path + c->plen, s, n);
	c->plen += n;
	c->path[c->plen] = '\0';
}

/* Append ".key" (or "key" at the root); returns the length to pop to. Bytes
 * outside printable ASCII show as '?', and a long key is cut. */
size_t
vd_push_key(struct vctx *c, const char *key)
{
	size_t old = c->plen;
	char buf[MAX_PATH_KEY + 1];
	size_t i;

	for (i = 0; key[i] != '\0' && i < MAX_PATH_KEY; i++)
		buf[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (old > 0)
		path_append(c, ".", 1);
	path_append(c, buf, i);
	return old;
}

size_t
vd_push_index(struct vctx *c, size_t idx)
{
	size_t old = c->plen;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", idx);

	path_append(c, buf, (size_t)n);
	return old;
}

void
vd_pop(struct vctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

int
vd_fail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->fieldlen > 0) {
		snprintf(c->field, c->fieldlen, "%s", c->path);
		utf8_fix(c->field);
	}
	if (c->msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->msg, c->msglen, fmt, ap);
		va_end(ap);
		utf8_fix(c->msg);
	}
	return -1;
}

/* --- types ---------------------------------------------------------------- */

bool
vd_type_ok(const json_t *v, unsigned types)
{
	return ((types & T_STR) && json_is_string(v)) ||
	       ((types & T_NULL) && json_is_null(v)) ||
	       ((types & T_INT) && json_is_integer(v)) ||
	       ((types & T_NUM) && json_is_number(v)) ||
	       ((types & T_BOOL) && json_is_boolean(v)) ||
	       ((types & T_OBJ) && json_is_object(v)) ||
	       ((types & T_ARR) && json_is_array(v));
}

/* "a string or null" */
static void
type_desc(unsigned types, char *out, size_t outlen)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{T_STR, "a string"},  {T_INT, "an integer"},
		{T_NUM, "a number"},  {T_BOOL, "a boolean"},
		{T_OBJ, "an object"}, {T_ARR, "an array"},
		{T_NULL, "null"},
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < WW_ARRAY_LEN(names); i++) {
		if (!(types & names[i].bit))
			continue;
		len += (size_t)snprintf(out + len, outlen - len, "%s%s",
					len > 0 ? " or " : "", names[i].name);
		if (len >= outlen)
			break;
	}
}

/* Check one key of obj against its spec (on failure the path names it). */
static int
check_key(struct vctx *c, const json_t *obj, const struct keyspec *k)
{
	const json_t *v = json_object_get(obj, k->key);
	char desc[96];

	if (v == NULL && !k->required)
		return 0;
	if (v != NULL && vd_type_ok(v, k->types))
		return 0;
	type_desc(k->types, desc, sizeof(desc));
	vd_push_key(c, k->key);
	return vd_fail(c, v == NULL ? "missing (must be %s)" : "must be %s",
		       desc);
}

int
vd_check_keys(struct vctx *c, const json_t *obj, const struct keyspec *specs,
	      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_key(c, obj, &specs[i]) != 0)
			return -1;
	return 0;
}

/* An array of at most max elements; the path stays at the array. */
int
vd_check_array_size(struct vctx *c, const json_t *arr, size_t max)
{
	if (json_array_size(arr) > max)
		return vd_fail(c, "has %zu elements, more than %zu",
			       json_array_size(arr), max);
	return 0;
}

/* --- nesting ------------------------------------------------------------ */

int
vd_check_depth(struct vctx *c, const json_t *v, int depth)
{
	const char *key;
	const json_t *e;
	size_t i, old;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > WW_VALIDATE_MAX_DEPTH)
		return vd_fail(c, "nested deeper than %d levels",
			       WW_VALIDATE_MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e)
		{
			old = vd_push_key(c, key);
			if (vd_check_depth(c, e, depth + 1) != 0)
				return -1;
			vd_pop(c, old);
		}
	} else {
		json_array_foreach(v, i, e)
		{
			old = vd_push_index(c, i);
			if (vd_check_depth(c, e, depth + 1) != 0)
				return -1;
			vd_pop(c, old);
		}
	}
	return 0;
}

/* The array at key (already type-checked) has at most max elements, each
 * an object passing check(). */
int
vd_check_elements(struct vctx *c, const json_t *obj, const char *key,
		  size_t max, int (*check)(struct vctx *c, const json_t *elem))
{
	const json_t *arr = vd_get(obj, key), *e;
	size_t old = vd_push_key(c, key), i;

	if (vd_check_array_size(c, arr, max) != 0)
		return -1;
	json_array_foreach(arr, i, e)
	{
		size_t eold = vd_push_index(c, i);

		if (!json_is_object(e))
			return vd_fail(c, "must be an object");
		if (check(c, e) != 0)
			return -1;
		vd_pop(c, eold);
	}
	vd_pop(c, old);
	return 0;
}
