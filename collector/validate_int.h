/*
 * validate_int.h - what the measurement check's files share (validate.c:
 * the envelope; validate_test_keys.c, validate_packets.c: test_keys;
 * validate_walk.c: the walk below); not installed. The interface is
 * validate.h.
 *
 * A check walks the measurement with a JSON path of where it is
 * (vd_push_key/vd_push_index, vd_pop back); vd_fail() records that path
 * and a message and returns -1.
 */
#ifndef WW_VALIDATE_INT_H
#define WW_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct vctx {
	int64_t now;
	char *field;
	size_t fieldlen;
	char *msg;
	size_t msglen;
	char path[512];
	size_t plen;
};

enum {
	T_STR = 1,
	T_NULL = 2,
	T_INT = 4,
	T_NUM = 8, /* integer or real */
	T_BOOL = 16,
	T_OBJ = 32,
	T_ARR = 64,
};

struct keyspec {
	const char *key;
	unsigned types;
	bool required;
};

/* field = the current path, msg = the formatted message; returns -1. */
int vd_fail(struct vctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append ".key" / "[i]" to the path; both return the length to pop to. */
size_t vd_push_key(struct vctx *c, const char *key);
size_t vd_push_index(struct vctx *c, size_t idx);
void vd_pop(struct vctx *c, size_t old);
bool vd_type_ok(const json_t *v, unsigned types);
int vd_check_keys(struct vctx *c, const json_t *obj,
		  const struct keyspec *specs, size_t n);
/* Value of a key known (by an earlier vd_check_keys) to have the right
 * type. */
static inline const json_t *
vd_get(const json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}
/* No array or object in v nested deeper than WW_VALIDATE_MAX_DEPTH (v at
 * depth). */
int vd_check_depth(struct vctx *c, const json_t *v, int depth);
/* An array of at most max elements; the path stays at the array. */
int vd_check_array_size(struct vctx *c, const json_t *arr, size_t max);
/* The array at key (already type-checked) has at most max elements, each
 * an object passing check(). */
int vd_check_elements(struct vctx *c, const json_t *obj, const char *key,
		      size_t max,
		      int (*check)(struct vctx *c, const json_t *elem));

#define CHECK_KEYS(c, obj, specs)                                              \
	vd_check_keys((c), (obj), (specs), WW_ARRAY_LEN(specs))

/* validate.c: m's measurement_uid (a string, already type-checked), and
 * its probe_cc and probe_asn (strings, already type-checked). */
int vd_check_uid(struct vctx *c, const json_t *m);
int vd_check_probe_net(struct vctx *c, const json_t *m);
/* validate_ooni.c: m, one of OONI's measurements (ww_validate_is_ooni()),
 * against OONI's data format (docs/ooni-data.md). */
int vd_check_ooni(struct vctx *c, const json_t *m);

/* validate_test_keys.c: m's test_keys, packets included. */
int vd_check_test_keys(struct vctx *c, const json_t *tk);
/* validate_exchanges.c: test_keys.exchanges and control.exchanges (VPN
 * and QUIC endpoints). */
int vd_check_exchanges(struct vctx *c, const json_t *tk);
/* validate_packets.c: test_keys.packets (docs/measurement-format.md). */
int vd_check_packets(struct vctx *c, const json_t *tk);

#endif
