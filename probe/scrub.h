/*
 * scrub.h - remove the volunteer's own IP addresses from a measurement.
 *
 * The probe learns its addresses (collector whoami answers, global-scope
 * interface addresses) and replaces every occurrence by WW_SCRUBBED before
 * a measurement is spooled, uploaded or exported (issue 5, "Scrubbing").
 *
 * An occurrence in text is:
 *   - IPv4 dotted a.b.c.d (groups may be zero-padded to 3 digits), at
 *     number boundaries: not preceded by a digit or by '.' after a digit,
 *     not followed by a digit or by '.' before a digit, so "1.2.3.4" is
 *     found in "ip: 1.2.3.4." but not in "11.2.3.4", "1.2.3.45" or
 *     "1.2.3.4.5";
 *   - the dashed a-b-c-d (host names like ip-1-2-3-4.example), with the
 *     same boundaries using '-';
 *   - the reverse-DNS d.c.b.a.in-addr.arpa (the digits are replaced,
 *     ".in-addr.arpa" stays);
 *   - IPv6 in any spelling inet_pton() reads (compressed, expanded, with or
 *     without leading zeros, any case, a dotted IPv4 tail), at hex-digit
 *     and ':' boundaries: the longest run of hex digits and colons is read
 *     as one address, so "2001:db8::1" is not found in "2001:db8::1f" nor in
 *     "2001:db8::1:443", but is in "[2001:db8::1]:443" and "ip:2001:db8::1";
 *     an IPv4-mapped ::ffff:a.b.c.d is found by the IPv4 rule;
 *   - the reverse-DNS nibble form (32 hex digits and dots).ip6.arpa.
 * Boundaries are judged on the text as given, where a WW_SCRUBBED already
 * there counts as part of an address (it replaced one): so scrubbing the
 * result again finds nothing new.
 *
 * In binary data (ww_scrub_bytes(), base64 data in JSON) the 4- and 16-byte
 * network-order forms are also replaced, by as many zero bytes, so that
 * binary structures such as DNS messages keep their layout.
 */
#ifndef WW_SCRUB_H
#define WW_SCRUB_H

#include <stddef.h>

#include <jansson.h>

#define WW_SCRUBBED "[scrubbed]"
#define WW_SCRUB_MAX 64 /* addresses in one set */

struct ww_scrub;

struct ww_scrub *ww_scrub_new(void);
void ww_scrub_free(struct ww_scrub *s);

/*
 * Add an address (IPv4 or IPv6 literal, any valid spelling). 0, or -1 when
 * ip is not an address, is the unspecified address (0.0.0.0, ::: it would
 * match every run of zero bytes), or the set already holds WW_SCRUB_MAX.
 * Duplicates (in any spelling) are ignored with 0. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is added as its IPv4 address.
 */
int ww_scrub_add(struct ww_scrub *s, const char *ip);
size_t ww_scrub_count(const struct ww_scrub *s);

/*
 * Scrub every string in the JSON tree in place (object keys too, array
 * items, nested), returning how many replacements were made. Binary data
 * is scrubbed as binary: the "data" string of an object whose "format" is
 * "base64" (HTTP bodies, certificates) and any "raw_response" string (DNS
 * messages) are decoded, scrubbed and re-encoded when they are valid
 * base64, else scrubbed as text. A renamed key that would collide with
 * another key of its object gets " (2)", " (3)", ... appended. root must
 * be a tree (no cycles); sharing (json_incref) is fine.
 */
size_t ww_scrub_json(const struct ww_scrub *s, json_t *root);

/*
 * Scrub binary data in[0..len): text forms and the network-order forms.
 * Returns a new buffer (caller frees; NUL-terminated for convenience) and
 * its length in *outlen; *count += replacements. Not for text meant to stay
 * text: an address's 4 bytes may well be printable ("abcd" is 97.98.99.100)
 * and would become NUL bytes.
 */
char *ww_scrub_bytes(const struct ww_scrub *s, const char *in, size_t len,
		     size_t *outlen, size_t *count);
/*
 * Same, in place and keeping the length (packets in a pcapng file, whose
 * headers count their bytes): binary forms become zero bytes, each byte of
 * a text form becomes WW_SCRUB_MASK. Returns the replacements made. An
 * address cut by the end of b (a capture's snaplen, a segment's end) is
 * masked too: a tail of b of 2 bytes or more that begins one, binary or
 * text (dotted, dashed, IPv6 as inet_ntop writes it).
 */
#define WW_SCRUB_MASK 'x'
size_t ww_scrub_mask_inplace(const struct ww_scrub *s, unsigned char *b,
			     size_t len);
/* Same, text forms only: for text such as a JSON line or a log line. */
char *ww_scrub_text(const struct ww_scrub *s, const char *in, size_t len,
		    size_t *outlen, size_t *count);

#endif
