/*
 * neutral.c - see neutral.h.
 *
 * Both kinds are drawn first and repaired after: the random kind's first
 * byte, printable count and printable runs are forced out of Ex2..Ex5, the
 * ASCII kind's layout gives it Ex2 and Ex3 by construction, and then the
 * popcount of either is walked into the blocked band (3.4, 4.6) one bit at
 * a time. Each step keeps a byte printable or non-printable as it was, so
 * the popcount repair never undoes the other properties. The band is
 * always reachable: a random payload is at least half non-printable bytes,
 * which can go up to 0xff or down to 0x00; an ASCII one can move each
 * printable byte between 1 and 6 set bits.
 */
#include "neutral.h"

#include <stdint.h>
#include <string.h>

#include <openssl/rand.h>

#define FET_RUN_MAX 20 /* Ex4: more than 20 contiguous printable bytes */
#define ASCII_GAP 8    /* every eighth byte of the ASCII kind non-printable */

/* HTTP methods Ex5 names; each starts with one of 'G', 'P', 'H'. */
static const char *const http_methods[] = {"GET ", "PUT ", "POST", "HEAD"};

/* splitmix64 (Steele, Lea, Flood 2014): small, seedable, good enough. */
struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, const unsigned char seed[16])
{
	uint64_t a = 0, b = 0;

	for (int i = 0; i < 8; i++) {
		a = (a << 8) | seed[i];
		b = (b << 8) | seed[8 + i];
	}
	r->s = a;
	r->s ^= rng_next(r) ^ b; /* both halves matter */
}

static bool
printable(unsigned c)
{
	return c >= 0x20 && c <= 0x7e;
}

static unsigned
popcount8(unsigned c)
{
	unsigned n = 0;

	for (; c != 0; c &= c - 1)
		n++;
	return n;
}

static bool
http_start(const unsigned char *b, size_t len)
{
	if (len < 4)
		return false;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(*http_methods);
	     i++)
		if (memcmp(b, http_methods[i], 4) == 0)
			return true;
	return false;
}

static bool
method_letter(unsigned c)
{
	return c == 'G' || c == 'P' || c == 'H';
}

unsigned
ww_neutral_fet_exempt(const unsigned char *b, size_t len)
{
	size_t bits = 0, pr = 0, run = 0, maxrun = 0;
	unsigned ex = 0;

	if (b == NULL || len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		bits += popcount8(b[i]);
		if (printable(b[i])) {
			pr++;
			if (++run > maxrun)
				maxrun = run;
		} else {
			run = 0;
		}
	}
	if (10 * bits <= 34 * len || 10 * bits >= 46 * len)
		ex |= WW_FET_EX1;
	if (len >= 6) {
		size_t i = 0;

		while (i < 6 && printable(b[i]))
			i++;
		if (i == 6)
			ex |= WW_FET_EX2;
	}
	if (2 * pr > len)
		ex |= WW_FET_EX3;
	if (maxrun > FET_RUN_MAX)
		ex |= WW_FET_EX4;
	if ((len >= 3 && (b[0] == 0x16 || b[0] == 0x17) && b[1] == 0x03 &&
	     b[2] <= 0x09) ||
	    http_start(b, len))
		ex |= WW_FET_EX5;
	return ex;
}

/* One more (up) or one fewer set bit in a printable byte, still printable. */
static bool
step_printable(unsigned char *c, bool up, bool first)
{
	for (unsigned bit = 1; bit < 0x80; bit <<= 1) {
		unsigned r = up ? (*c | bit) : (*c & ~bit);

		if (r == *c || !printable(r) || (first && method_letter(r)))
			continue;
		*c = (unsigned char)r;
		return true;
	}
	return false;
}

/*
 * The same for a non-printable byte, still non-printable, never one of the
 * TLS record types 0x16/0x17 (the random kind's first byte must not start
 * like TLS): values stay at or above 0x80, or become 0x00.
 */
static bool
step_other(unsigned char *c, bool up)
{
	unsigned pc = popcount8(*c);

	if (up) {
		if (*c == 0xff)
			return false;
		if (*c < 0x80) {
			*c |= 0x80;
			return true;
		}
		for (unsigned bit = 1; bit < 0x80; bit <<= 1)
			if (!(*c & bit)) {
				*c |= (unsigned char)bit;
				return true;
			}
		return false;
	}
	if (pc == 0)
		return false;
	if (*c >= 0x80 && (*c & 0x7f) != 0) {
		*c &= (unsigned char)(*c - 1) | 0x80; /* lowest low bit */
		return true;
	}
	/* 0x80, or 0x01..0x1f / 0x7f: the smallest byte >= 0x80 with pc-1 */
	*c = pc == 1 ? 0x00 : (unsigned char)(0x80 | ((1u << (pc - 2)) - 1));
	return true;
}

static bool
in_band(size_t bits, size_t len)
{
	return 10 * bits > 34 * len && 10 * bits < 46 * len;
}

/* Walk the popcount into the blocked band; -1 if it cannot (never seen). */
static int
repair_popcount(unsigned char *b, size_t len, struct rng *r, bool ascii)
{
	size_t bits = 0, idle = 0, i = (size_t)(rng_next(r) % len);

	for (size_t k = 0; k < len; k++)
		bits += popcount8(b[k]);
	while (!in_band(bits, len)) {
		bool up = 10 * bits <= 34 * len;
		bool moved = printable(b[i]) ? step_printable(&b[i], up,
							      ascii && i == 0)
					     : step_other(&b[i], up);

		if (moved) {
			bits = up ? bits + 1 : bits - 1;
			idle = 0;
		} else if (++idle > len) {
			return -1;
		}
		i = (i + 1) % len;
	}
	return 0;
}

static void
fill(unsigned char *b, size_t len, struct rng *r)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = rng_next(r);
		b[i] = (unsigned char)(v >> (8 * (i % 8)));
	}
}

static int
build_random(unsigned char *b, size_t len, struct rng *r)
{
	size_t pr = 0, run = 0;

	fill(b, len, r);
	/* not printable (Ex2), not a TLS record type (Ex5, and HTTP) */
	if (printable(b[0]) || b[0] == 0x16 || b[0] == 0x17)
		b[0] ^= 0x80;
	for (size_t i = 1; i < len; i++) {
		if (!printable(b[i])) {
			run = 0;
		} else if (run + 1 > FET_RUN_MAX || 2 * (pr + 1) > len) {
			b[i] ^= 0x80; /* Ex4, Ex3: make it 0xa0..0xfe */
			run = 0;
		} else {
			pr++;
			run++;
		}
	}
	return repair_popcount(b, len, r, false);
}

static int
build_ascii(unsigned char *b, size_t len, struct rng *r)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t v = rng_next(r);

		if (i % ASCII_GAP == ASCII_GAP - 1)
			b[i] = (unsigned char)(0x80 | (v & 0x7f));
		else
			b[i] = (unsigned char)(0x20 + v % 95);
	}
	if (method_letter(b[0]))
		b[0] ^= 0x20; /* lower case: no HTTP method (Ex5) */
	return repair_popcount(b, len, r, true);
}

const char *
ww_neutral_kind_name(enum ww_neutral_kind kind)
{
	switch (kind) {
	case WW_NEUTRAL_RANDOM:
		return "random";
	case WW_NEUTRAL_ASCII:
		return "ascii";
	}
	return NULL;
}

int
ww_neutral_params_random(struct ww_neutral_params *p, enum ww_neutral_kind kind,
			 size_t len)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->len = len;
	return RAND_bytes(p->seed, sizeof(p->seed)) == 1 ? 0 : -1;
}

ssize_t
ww_neutral_build(const struct ww_neutral_params *p, unsigned char *out,
		 size_t cap)
{
	struct rng r;
	int rc;

	if (p == NULL || out == NULL || p->len == 0 ||
	    p->len > WW_NEUTRAL_MAX_LEN || cap < p->len ||
	    ww_neutral_kind_name(p->kind) == NULL)
		return -1;
	rng_seed(&r, p->seed);
	rc = p->kind == WW_NEUTRAL_RANDOM ? build_random(out, p->len, &r)
					  : build_ascii(out, p->len, &r);
	return rc == 0 ? (ssize_t)p->len : -1;
}
