/*
 * openvpn.c - OpenVPN control packets without credentials (openvpn.h says
 * what is sent and what counts as an answer). Learned from OpenVPN's
 * ssl_pkt.c (swap_hmac: the HMAC's input order), tls_crypt.c (the tag as
 * IV), reliable.c (the ack array, RELIABLE_ACK_SIZE) and crypto.c
 * (read_key_file, key directions); written anew.
 *
 * Replies are untrusted: every length is checked before a read, an ack
 * count over OpenVPN's own limit is refused, tls-crypt decrypts only into
 * the reply's fixed buffer, and HMACs are compared in constant time.
 */
#include "openvpn.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "util.h"

#define OP_SHIFT 3
#define KEY_ID_MASK 0x07
#define REPLAY_LEN 8 /* packet id + time */
#define CRYPT_TAG_LEN 32
#define CRYPT_KEY_LEN 32 /* AES-256 and HMAC-SHA256 keys */
#define CRYPT_IV_LEN 16
#define ONE_KEY_LEN 128 /* cipher 64 + HMAC 64 */
#define HMAC_HALF 64	/* where a key's HMAC half starts */
#define MAX_DIGEST 64
#define TCP_FRAME_MAX 65535

static const char KEY_HEAD[] = "-----BEGIN OpenVPN Static key V1-----";
static const char KEY_FOOT[] = "-----END OpenVPN Static key V1-----";

/* --- small helpers -------------------------------------------------------- */

const char *
ww_openvpn_opcode_name(unsigned opcode)
{
	static const char *const names[] = {
		[WW_OPENVPN_HARD_RESET_CLIENT_V1] =
			"P_CONTROL_HARD_RESET_CLIENT_V1",
		[WW_OPENVPN_HARD_RESET_SERVER_V1] =
			"P_CONTROL_HARD_RESET_SERVER_V1",
		[WW_OPENVPN_SOFT_RESET_V1] = "P_CONTROL_SOFT_RESET_V1",
		[WW_OPENVPN_CONTROL_V1] = "P_CONTROL_V1",
		[WW_OPENVPN_ACK_V1] = "P_ACK_V1",
		[WW_OPENVPN_DATA_V1] = "P_DATA_V1",
		[WW_OPENVPN_HARD_RESET_CLIENT_V2] =
			"P_CONTROL_HARD_RESET_CLIENT_V2",
		[WW_OPENVPN_HARD_RESET_SERVER_V2] =
			"P_CONTROL_HARD_RESET_SERVER_V2",
		[WW_OPENVPN_DATA_V2] = "P_DATA_V2",
		[WW_OPENVPN_HARD_RESET_CLIENT_V3] =
			"P_CONTROL_HARD_RESET_CLIENT_V3",
		[WW_OPENVPN_CONTROL_WKC_V1] = "P_CONTROL_WKC_V1",
	};

	if (opcode < sizeof(names) / sizeof(names[0]) && names[opcode])
		return names[opcode];
	return "unknown";
}

static const char *
digest_name(enum ww_openvpn_digest d)
{
	switch (d) {
	case WW_OPENVPN_SHA1:
		return "SHA1";
	case WW_OPENVPN_SHA256:
		return "SHA256";
	case WW_OPENVPN_SHA512:
		return "SHA512";
	}
	return NULL;
}

static size_t
digest_len(enum ww_openvpn_digest d)
{
	switch (d) {
	case WW_OPENVPN_SHA1:
		return 20;
	case WW_OPENVPN_SHA256:
		return 32;
	case WW_OPENVPN_SHA512:
		return 64;
	}
	return 0;
}

/* HMAC over up to three pieces (the wire order is not the HMAC's order,
 * so the pieces are not contiguous). mac gets the full digest. */
static bool
hmac3(const char *digest, const unsigned char *key, size_t keylen,
      const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
      const unsigned char *c, size_t clen, unsigned char *mac, size_t maclen)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2];
	size_t out = 0;
	bool ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	     EVP_MAC_update(ctx, a, alen) == 1 &&
	     EVP_MAC_update(ctx, b, blen) == 1 &&
	     (clen == 0 || EVP_MAC_update(ctx, c, clen) == 1) &&
	     EVP_MAC_final(ctx, mac, &out, maclen) == 1 && out == maclen;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return ok;
}

/* AES-256-CTR (tls-crypt): encryption and decryption are the same. */
static bool
aes256_ctr(const unsigned char *key, const unsigned char *iv,
	   const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	bool ok;

	if (len > (size_t)TCP_FRAME_MAX)
		ok = false;
	else
		ok = c != NULL &&
		     EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, key, iv) ==
			     1 &&
		     EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
		     EVP_EncryptFinal_ex(c, out + n, &fin) == 1 &&
		     (size_t)(n + fin) == len;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

/* --- parameters and keys -------------------------------------------------- */

int
ww_openvpn_params_random(struct ww_openvpn_params *p)
{
	static const unsigned char zero[WW_OPENVPN_SID_LEN];

	memset(p, 0, sizeof(*p));
	p->key_direction = 1;
	p->digest = WW_OPENVPN_SHA1;
	p->net_time = (uint32_t)time(NULL);
	/* OpenVPN treats an all-zero session id as "not defined". */
	do {
		if (RAND_bytes(p->session_id, WW_OPENVPN_SID_LEN) != 1)
			return -1;
	} while (memcmp(p->session_id, zero, WW_OPENVPN_SID_LEN) == 0);
	return RAND_bytes(p->noise, (int)sizeof(p->noise)) == 1 ? 0 : -1;
}

/* The line at text[*pos..] without its "\n" or "\r\n" and trailing
 * blanks; *pos moves past the newline. */
static void
next_line(const char *text, size_t len, size_t *pos, const char **line,
	  size_t *linelen)
{
	size_t s = *pos, e = s;

	while (e < len && text[e] != '\n')
		e++;
	*pos = e < len ? e + 1 : e;
	while (e > s && (text[e - 1] == '\r' || text[e - 1] == ' ' ||
			 text[e - 1] == '\t'))
		e--;
	*line = text + s;
	*linelen = e - s;
}

static bool
line_is(const char *line, size_t n, const char *want)
{
	/* Leading blanks are allowed (an indented inline block). */
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	return n == strlen(want) && memcmp(line, want, n) == 0;
}

/* Hex digits of one data line into k; -1 on a stray character. */
static int
key_line(const char *line, size_t n, size_t lineno, struct ww_openvpn_key *k,
	 size_t *count, int *half, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int v = ww_hexval(line[i]);

		if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
			continue;
		if (v < 0)
			return ww_fail(err, errlen,
				       "key line %zu: character 0x%02x is not "
				       "a hex digit",
				       lineno, (unsigned char)line[i]);
		if (*count >= WW_OPENVPN_KEY_LEN)
			return ww_fail(
				err, errlen,
				"key line %zu: more than %d bytes of key",
				lineno, WW_OPENVPN_KEY_LEN);
		if (*half < 0) {
			*half = v;
		} else {
			k->bytes[(*count)++] = (unsigned char)(*half << 4 | v);
			*half = -1;
		}
	}
	return 0;
}

static int
key_parse(const char *text, size_t len, struct ww_openvpn_key *k, char *err,
	  size_t errlen)
{
	size_t pos = 0, lineno = 0, count = 0;
	const char *line = NULL;
	size_t n = 0;
	int half = -1;
	bool in_block = false, ended = false;

	memset(k, 0, sizeof(*k));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || len > WW_OPENVPN_KEY_TEXT_MAX)
		return ww_fail(err, errlen, "key text over %d bytes",
			       WW_OPENVPN_KEY_TEXT_MAX);
	while (pos < len) {
		next_line(text, len, &pos, &line, &n);
		lineno++;
		if (memchr(line, '\0', n) != NULL)
			return ww_fail(err, errlen, "key line %zu: NUL byte",
				       lineno);
		if (!in_block) {
			in_block = line_is(line, n, KEY_HEAD);
			continue;
		}
		if (line_is(line, n, KEY_FOOT)) {
			ended = true;
			break;
		}
		if (key_line(line, n, lineno, k, &count, &half, err, errlen) !=
		    0)
			return -1;
	}
	if (!in_block)
		return ww_fail(err, errlen, "no \"%s\" line", KEY_HEAD);
	if (!ended)
		return ww_fail(err, errlen, "no \"%s\" line after the key",
			       KEY_FOOT);
	if (half >= 0)
		return ww_fail(err, errlen, "odd number of hex digits");
	if (count != ONE_KEY_LEN && count != WW_OPENVPN_KEY_LEN)
		return ww_fail(err, errlen,
			       "%zu bytes of key: want %d (or %d for one key)",
			       count, WW_OPENVPN_KEY_LEN, ONE_KEY_LEN);
	k->n_keys = (int)(count / ONE_KEY_LEN);
	return 0;
}

int
ww_openvpn_key_parse(const char *text, size_t len, struct ww_openvpn_key *k,
		     char *err, size_t errlen)
{
	if (key_parse(text, len, k, err, errlen) == 0)
		return 0;
	/* No half-read key material is left behind. */
	OPENSSL_cleanse(k, sizeof(*k));
	return -1;
}

/* --- client profiles (.ovpn) ---------------------------------------------- */

/* The words of a line: at most max, each NUL-terminated in w (31 bytes
 * each, longer ones cut; bytes outside printable ASCII become '?', as
 * words end up in error messages). Returns how many. */
static size_t
words(const char *line, size_t n, char w[][32], size_t max)
{
	size_t k = 0, i = 0;

	while (k < max) {
		size_t l = 0;

		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= n)
			break;
		while (i < n && line[i] != ' ' && line[i] != '\t') {
			if (l < 31)
				w[k][l++] = line[i] > 0x20 && line[i] < 0x7f
						    ? line[i]
						    : '?';
			i++;
		}
		w[k++][l] = '\0';
	}
	return k;
}

static int
profile_digest(const char *name, enum ww_openvpn_digest *d, size_t lineno,
	       char *err, size_t errlen)
{
	if (strcasecmp(name, "SHA1") == 0)
		*d = WW_OPENVPN_SHA1;
	else if (strcasecmp(name, "SHA256") == 0)
		*d = WW_OPENVPN_SHA256;
	else if (strcasecmp(name, "SHA512") == 0)
		*d = WW_OPENVPN_SHA512;
	else
		return ww_fail(err, errlen,
			       "profile line %zu: auth %s is not SHA1, SHA256 "
			       "or SHA512",
			       lineno, name);
	return 0;
}

/* An inline block <tag> opened on line lineno: *pos is after its first
 * line; moves *pos past "</tag>" and says where the body is. */
static int
profile_block(const char *text, size_t len, size_t *pos, size_t *lineno,
	      const char *tag, size_t *body, size_t *body_len, char *err,
	      size_t errlen)
{
	size_t start = *pos, open_line = *lineno;
	char close[40];

	snprintf(close, sizeof(close), "</%s>", tag);
	while (*pos < len) {
		size_t at = *pos, n;
		const char *line;

		next_line(text, len, pos, &line, &n);
		(*lineno)++;
		if (line_is(line, n, close)) {
			*body = start;
			*body_len = at - start;
			return 0;
		}
	}
	return ww_fail(err, errlen, "profile line %zu: <%s> is not closed",
		       open_line, tag);
}

static int
profile_key(const char *text, size_t len, size_t *pos, size_t *lineno,
	    const char *tag, struct ww_openvpn_profile *pr, char *err,
	    size_t errlen)
{
	size_t body, blen, open_line = *lineno;
	char why[128];

	if (profile_block(text, len, pos, lineno, tag, &body, &blen, err,
			  errlen) != 0)
		return -1;
	if (pr->wrap != WW_OPENVPN_WRAP_NONE)
		return ww_fail(err, errlen,
			       "profile line %zu: a second control-channel "
			       "key",
			       open_line);
	if (ww_openvpn_key_parse(text + body, blen, &pr->key, why,
				 sizeof(why)) != 0)
		return ww_fail(err, errlen,
			       "in the <%s> block opened at line %zu: %s", tag,
			       open_line, why);
	pr->wrap = strcmp(tag, "tls-auth") == 0 ? WW_OPENVPN_WRAP_AUTH
						: WW_OPENVPN_WRAP_CRYPT;
	return 0;
}

/* One directive line (not a block). */
static int
profile_line(char w[][32], size_t nw, size_t lineno,
	     struct ww_openvpn_profile *pr, char *err, size_t errlen)
{
	bool inline_key = nw >= 2 && strcmp(w[1], "[inline]") == 0;

	if (strcmp(w[0], "key-direction") == 0) {
		if (nw != 2 || (strcmp(w[1], "0") != 0 && strcmp(w[1], "1")))
			return ww_fail(err, errlen,
				       "profile line %zu: key-direction is "
				       "not 0 or 1",
				       lineno);
		pr->key_direction = w[1][0] - '0';
	} else if (strcmp(w[0], "auth") == 0 && nw == 2) {
		return profile_digest(w[1], &pr->digest, lineno, err, errlen);
	} else if ((strcmp(w[0], "tls-auth") == 0 ||
		    strcmp(w[0], "tls-crypt") == 0) &&
		   nw >= 2 && !inline_key) {
		return ww_fail(err, errlen,
			       "profile line %zu: %s names the file %s: give "
			       "that key file",
			       lineno, w[0], w[1]);
	} else if (strcmp(w[0], "tls-auth") == 0 && inline_key && nw >= 3) {
		if (strcmp(w[2], "0") != 0 && strcmp(w[2], "1") != 0)
			return ww_fail(err, errlen,
				       "profile line %zu: tls-auth direction "
				       "is not 0 or 1",
				       lineno);
		pr->key_direction = w[2][0] - '0';
	} else if (strcmp(w[0], "tls-crypt-v2") == 0) {
		return ww_fail(err, errlen,
			       "profile line %zu: tls-crypt-v2 needs the "
			       "client's wrapped key (not supported)",
			       lineno);
	}
	return 0;
}

int
ww_openvpn_profile_parse(const char *text, size_t len,
			 struct ww_openvpn_profile *pr, char *err,
			 size_t errlen)
{
	size_t pos = 0, lineno = 0;

	memset(pr, 0, sizeof(*pr));
	pr->key_direction = -1;
	pr->digest = WW_OPENVPN_SHA1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || len > WW_OPENVPN_KEY_TEXT_MAX)
		return ww_fail(err, errlen, "profile over %d bytes",
			       WW_OPENVPN_KEY_TEXT_MAX);
	while (pos < len) {
		char w[3][32], tag[32];
		const char *line;
		size_t n, nw;
		int rc = 0;

		next_line(text, len, &pos, &line, &n);
		lineno++;
		if (memchr(line, '\0', n) != NULL)
			return ww_fail(err, errlen,
				       "profile line %zu: NUL byte", lineno);
		nw = words(line, n, w, 3);
		if (nw == 0 || w[0][0] == '#' || w[0][0] == ';')
			continue;
		if (nw == 1 && w[0][0] == '<' && w[0][1] != '/' &&
		    strlen(w[0]) > 2 && w[0][strlen(w[0]) - 1] == '>') {
			size_t body, blen;

			snprintf(tag, sizeof(tag), "%.*s",
				 (int)(strlen(w[0]) - 2), w[0] + 1);
			if (strcmp(tag, "tls-auth") == 0 ||
			    strcmp(tag, "tls-crypt") == 0)
				rc = profile_key(text, len, &pos, &lineno, tag,
						 pr, err, errlen);
			else if (strcmp(tag, "tls-crypt-v2") == 0)
				rc = profile_line((char[][32]){"tls-crypt-v2"},
						  1, lineno, pr, err, errlen);
			else
				rc = profile_block(text, len, &pos, &lineno,
						   tag, &body, &blen, err,
						   errlen);
		} else {
			rc = profile_line(w, nw, lineno, pr, err, errlen);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

void
ww_openvpn_profile_apply(const struct ww_openvpn_profile *pr,
			 struct ww_openvpn_params *p)
{
	p->wrap = pr->wrap;
	p->key = pr->wrap == WW_OPENVPN_WRAP_NONE ? NULL : &pr->key;
	p->key_direction = pr->key_direction;
	p->digest = pr->digest;
}

/* Which of the file's keys a client uses: tls-auth by key direction
 * (OpenVPN's key_direction_state_init), tls-crypt as a client always. */
static int
key_index(const struct ww_openvpn_params *p, bool outgoing)
{
	if (p->wrap == WW_OPENVPN_WRAP_CRYPT)
		return outgoing ? 1 : 0;
	if (p->key_direction < 0)
		return 0;
	return outgoing ? p->key_direction : 1 - p->key_direction;
}

static bool
wrap_ok(const struct ww_openvpn_params *p)
{
	if (p->wrap == WW_OPENVPN_WRAP_NONE)
		return true;
	if (p->key == NULL || (p->key->n_keys != 1 && p->key->n_keys != 2))
		return false;
	if (p->wrap == WW_OPENVPN_WRAP_CRYPT)
		return p->key->n_keys == 2;
	if (p->wrap != WW_OPENVPN_WRAP_AUTH || digest_len(p->digest) == 0)
		return false;
	if (p->key_direction < 0)
		return p->key_direction == -1;
	return p->key_direction <= 1 && p->key->n_keys == 2;
}

/* Bytes between the session id and the ack array. */
static size_t
wrap_len(const struct ww_openvpn_params *p)
{
	if (p->wrap == WW_OPENVPN_WRAP_AUTH)
		return digest_len(p->digest) + REPLAY_LEN;
	if (p->wrap == WW_OPENVPN_WRAP_CRYPT)
		return REPLAY_LEN + CRYPT_TAG_LEN;
	return 0;
}

/* --- building ------------------------------------------------------------- */

static size_t
body_len(const struct ww_openvpn_msg *m)
{
	return 1 + 4 * m->n_acks + (m->n_acks > 0 ? WW_OPENVPN_SID_LEN : 0) +
	       (m->opcode == WW_OPENVPN_ACK_V1 ? 0 : 4) + m->payload_len;
}

static void
write_body(const struct ww_openvpn_msg *m, unsigned char *b)
{
	size_t o = 0;

	b[o++] = (unsigned char)m->n_acks;
	for (size_t i = 0; i < m->n_acks; i++, o += 4)
		ww_put_be32(b + o, m->acks[i]);
	if (m->n_acks > 0) {
		memcpy(b + o, m->peer_session_id, WW_OPENVPN_SID_LEN);
		o += WW_OPENVPN_SID_LEN;
	}
	if (m->opcode != WW_OPENVPN_ACK_V1) {
		ww_put_be32(b + o, m->msg_pid);
		o += 4;
	}
	if (m->payload_len > 0)
		memcpy(b + o, m->payload, m->payload_len);
}

/* tls-auth: pkt is op|sid|HMAC|pid|time|body; the HMAC goes over
 * pid|time, op|sid, body (OpenVPN's swap_hmac order). */
static bool
seal_auth(const struct ww_openvpn_params *p, unsigned char *pkt, size_t len)
{
	const unsigned char *key =
		p->key->bytes + key_index(p, true) * ONE_KEY_LEN + HMAC_HALF;
	size_t h = digest_len(p->digest), hdr = 1 + WW_OPENVPN_SID_LEN;

	return hmac3(digest_name(p->digest), key, h, pkt + hdr + h, REPLAY_LEN,
		     pkt, hdr, pkt + hdr + h + REPLAY_LEN,
		     len - hdr - h - REPLAY_LEN, pkt + hdr, h);
}

/* tls-crypt: pkt is op|sid|pid|time|tag|plaintext body; the tag is the
 * HMAC-SHA256 of the header and the plaintext, then CTR with the tag as
 * IV encrypts the body in place. */
static bool
seal_crypt(const struct ww_openvpn_params *p, unsigned char *pkt, size_t len)
{
	const unsigned char *k =
		p->key->bytes + key_index(p, true) * ONE_KEY_LEN;
	size_t hdr = 1 + WW_OPENVPN_SID_LEN + REPLAY_LEN;
	unsigned char *tag = pkt + hdr, *body = tag + CRYPT_TAG_LEN;
	size_t blen = len - hdr - CRYPT_TAG_LEN;

	return hmac3("SHA256", k + HMAC_HALF, CRYPT_KEY_LEN, pkt, hdr, body,
		     blen, NULL, 0, tag, CRYPT_TAG_LEN) &&
	       aes256_ctr(k, tag, body, blen, body);
}

static bool
msg_ok(const struct ww_openvpn_msg *m)
{
	return m->opcode <= 31 && m->key_id <= KEY_ID_MASK &&
	       m->n_acks <= WW_OPENVPN_MAX_ACKS &&
	       (m->n_acks == 0 || (m->acks != NULL && m->peer_session_id)) &&
	       (m->payload_len == 0 || m->payload != NULL) &&
	       m->payload_len <= TCP_FRAME_MAX;
}

ssize_t
ww_openvpn_build(const struct ww_openvpn_params *p,
		 const struct ww_openvpn_msg *m, unsigned char *out, size_t cap)
{
	size_t pre, wl, blen, len, hdr = 1 + WW_OPENVPN_SID_LEN;
	unsigned char *pkt;

	if (p == NULL || m == NULL || out == NULL || !wrap_ok(p) || !msg_ok(m))
		return -1;
	pre = p->tcp ? 2 : 0;
	wl = wrap_len(p);
	blen = body_len(m);
	len = hdr + wl + blen;
	if (len > TCP_FRAME_MAX || pre + len > cap)
		return -1;
	pkt = out + pre;
	if (p->tcp) {
		out[0] = (unsigned char)(len >> 8);
		out[1] = (unsigned char)len;
	}
	pkt[0] = (unsigned char)(m->opcode << OP_SHIFT | m->key_id);
	memcpy(pkt + 1, p->session_id, WW_OPENVPN_SID_LEN);
	write_body(m, pkt + hdr + wl);
	if (p->wrap == WW_OPENVPN_WRAP_AUTH) {
		unsigned char *rp = pkt + hdr + digest_len(p->digest);

		ww_put_be32(rp, m->replay_pid);
		ww_put_be32(rp + 4, p->net_time);
		if (!seal_auth(p, pkt, len))
			return -1;
	} else if (p->wrap == WW_OPENVPN_WRAP_CRYPT) {
		ww_put_be32(pkt + hdr, m->replay_pid);
		ww_put_be32(pkt + hdr + 4, p->net_time);
		if (!seal_crypt(p, pkt, len))
			return -1;
	}
	return (ssize_t)(pre + len);
}

ssize_t
ww_openvpn_build_reset(const struct ww_openvpn_params *p, unsigned char *out,
		       size_t cap)
{
	struct ww_openvpn_msg m = {
		.opcode = WW_OPENVPN_HARD_RESET_CLIENT_V2,
		.msg_pid = 0,
		.replay_pid = 1,
	};

	return ww_openvpn_build(p, &m, out, cap);
}

ssize_t
ww_openvpn_build_ack(const struct ww_openvpn_params *p,
		     const struct ww_openvpn_reply *r, uint32_t replay_pid,
		     unsigned char *out, size_t cap)
{
	struct ww_openvpn_msg m = {
		.opcode = WW_OPENVPN_ACK_V1,
		.n_acks = 1,
		.replay_pid = replay_pid,
	};

	if (r == NULL || !r->has_msg_pid)
		return -1;
	m.key_id = r->key_id;
	m.acks = &r->msg_pid;
	m.peer_session_id = r->session_id;
	return ww_openvpn_build(p, &m, out, cap);
}

ssize_t
ww_openvpn_build_probe(const struct ww_openvpn_params *p,
		       enum ww_openvpn_probe which, unsigned char *out,
		       size_t cap)
{
	struct ww_openvpn_params tp;
	ssize_t n;

	if (p == NULL || out == NULL)
		return -1;
	if (which == WW_OPENVPN_PROBE_OVERSIZE) {
		if (cap < WW_OPENVPN_OVERSIZE_LEN)
			return -1;
		out[0] = (unsigned char)((WW_OPENVPN_OVERSIZE_LEN - 2) >> 8);
		out[1] = (unsigned char)(WW_OPENVPN_OVERSIZE_LEN - 2);
		memcpy(out + 2, p->noise, sizeof(p->noise));
		return WW_OPENVPN_OVERSIZE_LEN;
	}
	if (which != WW_OPENVPN_PROBE_RESET &&
	    which != WW_OPENVPN_PROBE_RESET_SHORT)
		return -1;
	tp = *p;
	tp.tcp = true;
	n = ww_openvpn_build_reset(&tp, out, cap);
	if (n > 0 && which == WW_OPENVPN_PROBE_RESET_SHORT)
		n--; /* the length prefix still promises the last byte */
	return n;
}

/* --- parsing -------------------------------------------------------------- */

size_t
ww_openvpn_tcp_frame_len(const unsigned char *buf, size_t len)
{
	if (buf == NULL || len < 2)
		return 0;
	return 2 + ((size_t)buf[0] << 8 | buf[1]);
}

/* Is opcode one a server sends in a handshake? Sets kind, or err. */
static int
server_opcode(unsigned op, const char **kind, char *err, size_t errlen)
{
	switch (op) {
	case WW_OPENVPN_HARD_RESET_SERVER_V2:
		*kind = "server_reset";
		return 0;
	case WW_OPENVPN_HARD_RESET_SERVER_V1:
		*kind = "server_reset_v1";
		return 0;
	case WW_OPENVPN_SOFT_RESET_V1:
		*kind = "soft_reset";
		return 0;
	case WW_OPENVPN_CONTROL_V1:
		*kind = "control";
		return 0;
	case WW_OPENVPN_ACK_V1:
		*kind = "ack";
		return 0;
	case WW_OPENVPN_HARD_RESET_CLIENT_V1:
	case WW_OPENVPN_HARD_RESET_CLIENT_V2:
	case WW_OPENVPN_HARD_RESET_CLIENT_V3:
	case WW_OPENVPN_CONTROL_WKC_V1:
		return ww_fail(err, errlen,
			       "opcode %u (%s) is a client's, not a server "
			       "reply (an echo?)",
			       op, ww_openvpn_opcode_name(op));
	case WW_OPENVPN_DATA_V1:
	case WW_OPENVPN_DATA_V2:
		return ww_fail(err, errlen,
			       "opcode %u (%s) is a data packet, not a "
			       "handshake reply",
			       op, ww_openvpn_opcode_name(op));
	default:
		return ww_fail(err, errlen,
			       "opcode %u is not an OpenVPN opcode", op);
	}
}

/* The ack array, peer session id, message packet id and payload: body is
 * b[0..n), at byte off of the packet (for the error messages). */
static int
parse_body(const unsigned char *b, size_t n, size_t off,
	   struct ww_openvpn_reply *r, char *err, size_t errlen)
{
	size_t o = 0, need;

	if (n < 1)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: no ack count", off);
	r->n_acks = b[o++];
	if (r->n_acks > WW_OPENVPN_MAX_ACKS)
		return ww_fail(err, errlen,
			       "ack count %zu over OpenVPN's limit of %d",
			       r->n_acks, WW_OPENVPN_MAX_ACKS);
	need = 4 * r->n_acks + (r->n_acks > 0 ? WW_OPENVPN_SID_LEN : 0);
	if (n - o < need)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: %zu acks and a session "
			       "id need %zu bytes",
			       off + n, r->n_acks, need);
	for (size_t i = 0; i < r->n_acks; i++, o += 4)
		r->acks[i] = ww_be32(b + o);
	if (r->n_acks > 0) {
		r->has_peer_sid = true;
		memcpy(r->peer_session_id, b + o, WW_OPENVPN_SID_LEN);
		o += WW_OPENVPN_SID_LEN;
	}
	if (r->opcode != WW_OPENVPN_ACK_V1) {
		if (n - o < 4)
			return ww_fail(err, errlen,
				       "truncated at byte %zu: no message "
				       "packet id",
				       off + n);
		r->has_msg_pid = true;
		r->msg_pid = ww_be32(b + o);
		o += 4;
	}
	r->payload = b + o;
	r->payload_len = n - o;
	return 0;
}

/* tls-auth: check the HMAC of pkt (len bytes), then parse the body. */
static int
open_auth(const unsigned char *pkt, size_t len,
	  const struct ww_openvpn_params *p, struct ww_openvpn_reply *r,
	  char *err, size_t errlen)
{
	size_t h = digest_len(p->digest), hdr = 1 + WW_OPENVPN_SID_LEN;
	size_t body = hdr + h + REPLAY_LEN;
	const unsigned char *key =
		p->key->bytes + key_index(p, false) * ONE_KEY_LEN + HMAC_HALF;
	unsigned char mac[MAX_DIGEST];

	if (len < body)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: tls-auth needs %zu "
			       "bytes of HMAC and packet id",
			       len, h + REPLAY_LEN);
	r->replay_pid = ww_be32(pkt + hdr + h);
	r->net_time = ww_be32(pkt + hdr + h + 4);
	if (!hmac3(digest_name(p->digest), key, h, pkt + hdr + h, REPLAY_LEN,
		   pkt, hdr, pkt + body, len - body, mac, h))
		return ww_fail(err, errlen, "HMAC computation failed");
	if (CRYPTO_memcmp(mac, pkt + hdr, h) != 0)
		return ww_fail(err, errlen,
			       "tls-auth HMAC does not verify (another key, "
			       "key direction or digest?)");
	r->auth = WW_OPENVPN_AUTH_OK;
	return parse_body(pkt + body, len - body, body, r, err, errlen);
}

/* tls-crypt: decrypt into r->plain, check the tag, parse the plaintext.
 * After a bad tag the (garbage) plaintext is not read. */
static int
open_crypt(const unsigned char *pkt, size_t len,
	   const struct ww_openvpn_params *p, struct ww_openvpn_reply *r,
	   char *err, size_t errlen)
{
	size_t hdr = 1 + WW_OPENVPN_SID_LEN + REPLAY_LEN;
	size_t ct = hdr + CRYPT_TAG_LEN, n;
	const unsigned char *k =
		p->key->bytes + key_index(p, false) * ONE_KEY_LEN;
	unsigned char tag[CRYPT_TAG_LEN];

	if (len < ct)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: tls-crypt needs %zu "
			       "bytes of packet id and tag",
			       len, ct - 1 - WW_OPENVPN_SID_LEN);
	n = len - ct;
	if (n > sizeof(r->plain))
		return ww_fail(err, errlen,
			       "tls-crypt packet of %zu bytes over the "
			       "parser's limit of %d",
			       len, WW_OPENVPN_MAX_PACKET);
	r->replay_pid = ww_be32(pkt + hdr - REPLAY_LEN);
	r->net_time = ww_be32(pkt + hdr - 4);
	if (!aes256_ctr(k, pkt + hdr, pkt + ct, n, r->plain) ||
	    !hmac3("SHA256", k + HMAC_HALF, CRYPT_KEY_LEN, pkt, hdr, r->plain,
		   n, NULL, 0, tag, sizeof(tag)))
		return ww_fail(err, errlen, "tls-crypt computation failed");
	if (CRYPTO_memcmp(tag, pkt + hdr, CRYPT_TAG_LEN) != 0)
		return ww_fail(err, errlen,
			       "tls-crypt tag does not verify (another key?)");
	r->auth = WW_OPENVPN_AUTH_OK;
	return parse_body(r->plain, n, ct, r, err, errlen);
}

static bool
acks_id(const struct ww_openvpn_reply *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_acks; i++)
		if (r->acks[i] == id)
			return true;
	return false;
}

/* The frame of buf: over TCP after its length prefix. */
static int
frame(const unsigned char *buf, size_t len, bool tcp, const unsigned char **pkt,
      size_t *plen, size_t *consumed, char *err, size_t errlen)
{
	size_t need;

	if (!tcp) {
		*pkt = buf;
		*plen = len;
		*consumed = len;
		return 0;
	}
	need = ww_openvpn_tcp_frame_len(buf, len);
	if (need == 0)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: no TCP length prefix",
			       len);
	if (need == 2)
		return ww_fail(err, errlen, "TCP frame of length 0");
	if (len < need)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: the TCP frame says %zu "
			       "bytes",
			       len, need - 2);
	*pkt = buf + 2;
	*plen = need - 2;
	*consumed = need;
	return 0;
}

int
ww_openvpn_parse_reply(const unsigned char *buf, size_t len,
		       const struct ww_openvpn_params *p,
		       struct ww_openvpn_reply *r, char *err, size_t errlen)
{
	const unsigned char *pkt = NULL;
	size_t plen = 0, hdr = 1 + WW_OPENVPN_SID_LEN;
	const char *kind = NULL;
	int rc;

	memset(r, 0, offsetof(struct ww_openvpn_reply, plain));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL || p == NULL || !wrap_ok(p))
		return ww_fail(err, errlen, "no packet or invalid parameters");
	if (frame(buf, len, p->tcp, &pkt, &plen, &r->consumed, err, errlen))
		return -1;
	if (plen < 1)
		return ww_fail(err, errlen, "empty packet");
	r->opcode = pkt[0] >> OP_SHIFT;
	r->key_id = pkt[0] & KEY_ID_MASK;
	if (server_opcode(r->opcode, &kind, err, errlen) != 0)
		return -1;
	if (plen < hdr)
		return ww_fail(err, errlen,
			       "truncated at byte %zu: no session id", plen);
	memcpy(r->session_id, pkt + 1, WW_OPENVPN_SID_LEN);
	if (p->wrap == WW_OPENVPN_WRAP_AUTH)
		rc = open_auth(pkt, plen, p, r, err, errlen);
	else if (p->wrap == WW_OPENVPN_WRAP_CRYPT)
		rc = open_crypt(pkt, plen, p, r, err, errlen);
	else
		rc = parse_body(pkt + hdr, plen - hdr, hdr, r, err, errlen);
	if (rc != 0)
		return -1;
	r->kind = kind; /* only now: a refused packet has no kind */
	r->answers_us =
		r->has_peer_sid && memcmp(r->peer_session_id, p->session_id,
					  WW_OPENVPN_SID_LEN) == 0;
	r->acks_reset = r->answers_us && acks_id(r, 0);
	return 0;
}

bool
ww_openvpn_reply_proves_up(const struct ww_openvpn_reply *r)
{
	if (r == NULL || r->kind == NULL)
		return false;
	if (r->opcode == WW_OPENVPN_HARD_RESET_SERVER_V2 ||
	    r->opcode == WW_OPENVPN_HARD_RESET_SERVER_V1)
		return r->acks_reset;
	return r->answers_us;
}
