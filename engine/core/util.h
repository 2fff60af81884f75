/*
 * util.h - small helpers shared by the engine, the probe and the collector.
 *
 * Only libc and OpenSSL's libcrypto (for randomness, hashing and base64).
 * Allocation helpers abort on out-of-memory: we are an application, and a
 * half-built measurement is worse than a clear crash (see STYLE.md 5).
 */
#ifndef WW_UTIL_H
#define WW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

struct stat;

#define WW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WW_CONTAINER_OF(ptr, type, member)                                     \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns NULL for NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Append n bytes of data to the NUL-terminated *buf of *len bytes, unless
 * that would make it longer than max: then nothing is appended and false
 * is returned (an answer read from the network stops there).
 */
bool ww_append_bounded(char **buf, size_t *len, size_t max, const void *data,
		       size_t n);

/*
 * Grow a dynamic array: ensures room for one more element in *arr, whose
 * current length is *len and capacity *cap (both in elements).
 */
void ww_grow(void **arr, size_t elem_size, size_t len, size_t *cap);
#define WW_PUSH(arr, len, cap)                                                 \
	(ww_grow((void **)&(arr), sizeof(*(arr)), (len), &(cap)),              \
	 &(arr)[(len)++])

/* printf into err (errlen bytes); nothing when err is NULL or errlen 0. */
void ww_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ww_set_err(), then -1: for `return ww_fail(err, errlen, ...);`. */
int ww_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* path opened for reading, its fstat in *st (st may be NULL); a directory
 * is refused. NULL with "PATH: why" in err. */
FILE *ww_open_read(const char *path, struct stat *st, char *err, size_t errlen);

/* A uniform random number in [0, 1] from the CSPRNG. */
double ww_random_unit(void);

/* Seconds (negative: 0) as a struct timeval, for event timers. */
struct timeval ww_timeval(double secs);

/* Seconds on CLOCK_MONOTONIC, as a double. */
double ww_mono(void);
/* Format a UTC wall-clock time as "YYYY-MM-DD HH:MM:SS" (OONI df-000). */
void ww_fmt_utc(time_t t, char out[20]);
/* Format a UTC wall-clock time as "YYYYMMDDTHHMMSSZ" (compact, sortable). */
void ww_fmt_utc_compact(time_t t, char out[17]);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void ww_hex(const unsigned char *in, size_t len, char *out);
/* SHA-256 of in, as 64 hex chars + NUL. */
void ww_sha256_hex(const void *in, size_t len, char out[65]);
/* Base64 (no line breaks) of in; caller frees. */
char *ww_base64(const unsigned char *in, size_t len);
/* Decode RFC 4648 base64 as ww_base64() writes it (padded, no line
 * breaks): a new buffer (caller frees) and its length; NULL when s[0..n)
 * is anything else or longer than max_in characters. */
unsigned char *ww_base64_decode(const char *s, size_t n, size_t max_in,
				size_t *out_len);
/* n random bytes from the CSPRNG as 2n hex chars; aborts if the CSPRNG
 * cannot deliver (a measurement_uid must never be predictable). */
void ww_random_hex(char *out, size_t n_bytes);

/*
 * Parse a whole decimal integer in [min, max]. Returns 0, or -1 when s is
 * empty, has trailing junk, or is out of range.
 */
int ww_parse_long(const char *s, long min, long max, long *out);
/* The whole of file path, NUL-terminated (*len: its bytes): NULL with err
 * saying why when it cannot be read, is not a regular file, or is over max
 * bytes. For small files of the user's (keys); caller frees. */
char *ww_read_file(const char *path, size_t max, size_t *len, char *err,
		   size_t errlen);

/* Seconds from min to max ("2", "0.5"); 0, or -1 if s is not that. */
int ww_parse_seconds(const char *s, double min, double max, double *out);

/*
 * A DNS name as a host name or SNI: letters, digits, '-' and '_', dots
 * between labels of 1..63 bytes, at most 253 in all; one final dot is
 * dropped. Lower-cases s in place. Returns false when s is not that.
 */
bool ww_hostname_normalize(char *s);
/* Is path a directory (following symlinks)? */
bool ww_is_dir(const char *path);

/* True when s is valid UTF-8 of length len (no overlongs, no surrogates). */
bool ww_utf8_valid(const unsigned char *s, size_t len);
/* Length (1..4) of the valid UTF-8 sequence starting at s, 0 if none
 * starts there (or len is 0). */
size_t ww_utf8_seq_len(const unsigned char *s, size_t len);
/* A copy of in[0..len) as valid UTF-8: each byte that starts no valid
 * sequence, and NUL, becomes U+FFFD. Caller frees. */
char *ww_utf8_sanitize(const char *in, size_t len);

/*
 * Logging to stderr with a subsystem tag: "wallwatch-probe: tag: message".
 * ww_log_set_prog() sets the program name once at start-up;
 * ww_log_set_level() filters (0 error, 1 warn, 2 info, 3 debug).
 */
enum ww_log_level { WW_LOG_ERROR, WW_LOG_WARN, WW_LOG_INFO, WW_LOG_DEBUG };
void ww_log_set_prog(const char *prog);
void ww_log_set_level(enum ww_log_level lvl);
/* "prog: message" and "Try 'prog --help'." on stderr, for a command
 * line the program refuses (prog from ww_log_set_prog()). */
void ww_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole number arg of option --opt (a name without "--") in [min, max]
 * into *out: 0, or -1 after a usage error that names the option, the
 * value and the range. */
int ww_opt_long(const char *opt, const char *arg, long min, long max,
		long *out);
/* Every message is written as one line: ww_log() escapes it as
 * ww_log_escape() does, so that text a client chose (a path, a filter, a
 * uid) cannot end the line and forge another. */
void ww_log(enum ww_log_level lvl, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_error(tag, ...) ww_log(WW_LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) ww_log(WW_LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) ww_log(WW_LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) ww_log(WW_LOG_DEBUG, tag, __VA_ARGS__)

/*
 * s as one safe log line into out (outlen bytes, always NUL-terminated;
 * cut, ending in "...", when it does not fit): a newline, carriage
 * return and tab become \n, \r, \t; a backslash "\\"; other control
 * characters (C0, DEL, C1) and bytes that are not UTF-8 \xHH. Valid UTF-8
 * otherwise stays as it is. NULL is "(null)". Returns out.
 */
const char *ww_log_escape(const char *s, char *out, size_t outlen);

#endif
