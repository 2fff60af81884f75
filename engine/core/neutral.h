/*
 * neutral.h - protocol-neutral payloads: bytes of the same size as a
 * protocol's packet, sent to the same address and port, to tell "this
 * protocol is blocked" from "this address/port is blocked" (issue 15).
 *
 * Two kinds, built to sit on either side of the GFW's rule for "fully
 * encrypted" traffic as Wu et al. inferred it ("How the Great Firewall of
 * China Detects and Blocks Fully Encrypted Traffic", USENIX Security 2023,
 * section 4 / Algorithm 1). The GFW exempts a connection whose first data
 * packet meets any of:
 *   Ex1  popcount: the average number of set bits per byte is <= 3.4 or
 *        >= 4.6;
 *   Ex2  its first six bytes are printable ASCII (0x20..0x7e);
 *   Ex3  more than half of its bytes are printable ASCII;
 *   Ex4  it holds more than 20 contiguous printable ASCII bytes;
 *   Ex5  its first bytes match TLS ([\x16-\x17]\x03[\x00-\x09]) or HTTP
 *        (a method such as "GET ", "PUT ", "POST", "HEAD");
 * and blocks (in the paper, about 26 % of the time, in affected ranges)
 * one that meets none.
 *
 *  - WW_NEUTRAL_RANDOM meets none of Ex1..Ex5: random bytes with 3.4 <
 *    popcount/byte < 4.6, a non-printable first byte that is not a TLS
 *    record type, at most half printable, no printable run over 20. It is
 *    what the rule would block.
 *  - WW_NEUTRAL_ASCII ("mostly ASCII") is exempt by Ex2 and Ex3 only: its
 *    first seven bytes are printable, then every eighth byte is not
 *    (0x80..0xff), so 7/8 are printable but no run exceeds 7 (no Ex4); its
 *    popcount is kept in the same band as the random kind's (no Ex1) and it
 *    never starts like TLS or HTTP (no Ex5). Under 6 bytes it is all
 *    printable and Ex3 alone applies.
 * The two differ only in the printable-ASCII exemptions, so "random
 * blocked, ASCII answered" points at the fully-encrypted rule
 * (`fe_heuristic` in the field notes). The rule was measured on TCP; for
 * UDP the pair still separates the payload's look from the address.
 *
 * Deterministic from a 16-byte seed (a small non-cryptographic generator:
 * the bytes need to look random, not be secret), so tests and reruns give
 * the same bytes; ww_neutral_params_random() draws the seed from OpenSSL.
 */
#ifndef WW_NEUTRAL_H
#define WW_NEUTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define WW_NEUTRAL_MAX_LEN 65507 /* the largest UDP payload over IPv4 */

enum ww_neutral_kind {
	WW_NEUTRAL_RANDOM,
	WW_NEUTRAL_ASCII,
};

/* The exemptions of Wu et al.'s rule, as bits (ww_neutral_fet_exempt). */
#define WW_FET_EX1 0x01 /* popcount/byte <= 3.4 or >= 4.6 */
#define WW_FET_EX2 0x02 /* first 6 bytes printable */
#define WW_FET_EX3 0x04 /* more than half printable */
#define WW_FET_EX4 0x08 /* a printable run over 20 bytes */
#define WW_FET_EX5 0x10 /* starts like TLS or HTTP */

struct ww_neutral_params {
	enum ww_neutral_kind kind;
	size_t len; /* the protocol packet's size: 1..WW_NEUTRAL_MAX_LEN */
	unsigned char seed[16];
};

/* "random" or "ascii" (for logs and JSON); NULL for an unknown kind. */
const char *ww_neutral_kind_name(enum ww_neutral_kind kind);

/* Fill p with kind, len and a seed from OpenSSL. Returns 0 or -1. */
int ww_neutral_params_random(struct ww_neutral_params *p,
			     enum ww_neutral_kind kind, size_t len);

/*
 * Write p->len bytes of p->kind into out. Returns p->len, or -1 when cap is
 * under p->len, len is 0 or over WW_NEUTRAL_MAX_LEN, or the kind unknown.
 */
ssize_t ww_neutral_build(const struct ww_neutral_params *p, unsigned char *out,
			 size_t cap);

/*
 * Which exemptions of the rule the payload buf meets (WW_FET_* bits); 0
 * means the rule would block it. Also usable by a censor lab emulating the
 * rule. An empty payload meets none.
 */
unsigned ww_neutral_fet_exempt(const unsigned char *buf, size_t len);

#endif
