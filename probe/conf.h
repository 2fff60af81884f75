/*
 * conf.h - the probe's configuration file: "key = value" lines.
 *
 * The parser knows the syntax only, not which keys exist: main.c maps each
 * key to the long option of the same name, and uses an entry's line to
 * report an unknown key or a bad value as "PATH:LINE: why".
 *
 * Syntax (issue 5):
 *   - blank lines, and lines whose first non-blank character is '#', are
 *     skipped; there are no comments after a value, because URLs hold '#';
 *   - a line is `key = value`; the key is 1..64 of [a-z0-9-]; spaces and
 *     tabs around the key and the value are dropped, so is a final CR;
 *   - a value wrapped in double quotes keeps its leading and trailing
 *     spaces; the outer quotes are removed and nothing else is special
 *     (no escapes: `"a"b"` is the value a"b), a quote that is opened and
 *     not closed at the end of the line is an error;
 *   - an empty value (`key =`, `key = ""`) is an error;
 *   - a key may repeat (repeatable options); entries keep file order.
 * Limits: WW_CONF_MAX_BYTES per file, WW_CONF_MAX_LINE bytes per line
 * (without its line ending), WW_CONF_MAX_ENTRIES entries; the file must be
 * UTF-8 (a BOM at its start is skipped) without NUL or control characters
 * other than tab (a lone CR would be a classic-Mac line end, which would
 * make the whole file one line).
 */
#ifndef WW_CONF_H
#define WW_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define WW_CONF_MAX_BYTES (1024 * 1024)
#define WW_CONF_MAX_LINE 4096
#define WW_CONF_MAX_ENTRIES 4096
#define WW_CONF_MAX_KEY 64

struct ww_conf_entry {
	char *key;
	char *value;
	int line; /* 1-based, for "PATH:LINE: ..." messages */
};

struct ww_conf {
	char *path; /* the name given to ww_conf_parse(), or the path */
	struct ww_conf_entry *e;
	size_t n, cap;
};

/*
 * Load path (key = value lines) into c, which is overwritten (free an
 * earlier load first). 0, or -1 with "PATH:LINE: why" (or "PATH: why") in
 * err and c left empty (ww_conf_free() on it is harmless). A directory is
 * refused; a missing file is "PATH: No such file or directory".
 */
int ww_conf_load(struct ww_conf *c, const char *path, char *err, size_t errlen);
/* Parse an in-memory buffer (for tests and fuzzing); name is used in
 * messages and kept in c->path. Same contract as ww_conf_load(). */
int ww_conf_parse(struct ww_conf *c, const char *name, const char *buf,
		  size_t len, char *err, size_t errlen);
void ww_conf_free(struct ww_conf *c);

/* A flag value: true/false/yes/no/on/off/1/0 (case-insensitive). 0, or -1
 * (and *out untouched) for anything else. */
int ww_conf_bool(const char *value, bool *out);

#endif
