/*
 * json_path.h - for the validators' tests: a value of a measurement
 * reached by a path such as "test_keys.queries[1].failure", to break it
 * in one place. Static functions, cmocka's asserts (include after
 * cmocka.h and jansson.h).
 */
#ifndef WW_TEST_JSON_PATH_H
#define WW_TEST_JSON_PATH_H

#include <stdlib.h>
#include <string.h>

/* The container and last key or index of a path such as
 * "test_keys.queries[1].failure" in root; *key is "" for an index. */
static json_t *
walk(json_t *root, const char *path, char *key, size_t keylen, size_t *idx)
{
	json_t *cur = root;
	const char *p = path;

	for (;;) {
		size_t n = strcspn(p, ".[");

		if (n > 0) {
			assert_true(n < keylen);
			memcpy(key, p, n);
			key[n] = '\0';
			p += n;
			if (*p == '\0')
				return cur;
			cur = json_object_get(cur, key);
			assert_non_null(cur);
		}
		if (*p == '.') {
			p++;
			continue;
		}
		assert_int_equal(*p, '[');
		*idx = strtoul(p + 1, (char **)&p, 10);
		assert_int_equal(*p, ']');
		p++;
		key[0] = '\0';
		if (*p == '\0')
			return cur;
		cur = json_array_get(cur, *idx);
		assert_non_null(cur);
	}
}

/* Set (or, with v NULL, delete) the value at path; takes v's reference. */
static void
set_at(json_t *root, const char *path, json_t *v)
{
	char key[128];
	size_t idx = 0;
	json_t *parent = walk(root, path, key, sizeof(key), &idx);

	if (key[0] != '\0') {
		assert_true(json_is_object(parent));
		if (v == NULL)
			assert_int_equal(json_object_del(parent, key), 0);
		else
			assert_int_equal(json_object_set_new(parent, key, v),
					 0);
	} else {
		assert_true(json_is_array(parent));
		if (v == NULL)
			assert_int_equal(json_array_remove(parent, idx), 0);
		else
			assert_int_equal(json_array_set_new(parent, idx, v), 0);
	}
}

#endif
