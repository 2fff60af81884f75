/*
 * fuzz_quic.c - the QUIC reply parser on arbitrary bytes, three ways: as a
 * datagram (ww_quic_parse_reply, with the ids of RFC 9001 Appendix A's
 * client so the seeds' server Initials decrypt), as the decrypted frames
 * of an Initial, and as a ServerHello. Besides the sanitizers' checks,
 * abort() on any broken promise of quic.h: an error string exactly on -1,
 * a kind from the documented set exactly on 0, counts within their caps,
 * reason text printable and NUL-terminated, "ours" only when it can be.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "quic.h"
#include "quic_hello.h"

static const char *const kinds[] = {
	"version_negotiation", "retry",	  "server_hello",
	"connection_close",    "initial", "handshake",
};

static void
check_text(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);

	if (end == NULL)
		abort();
	for (; s < end; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

static void
check_kind(const struct ww_quic_reply *r)
{
	bool known = false;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (r->kind != NULL && strcmp(r->kind, kinds[i]) == 0)
			known = true;
	if (!known)
		abort();
	if (ww_quic_reply_proves_up(r) != r->ours)
		abort();
	if (strcmp(r->kind, "retry") == 0 && r->ours && !r->retry_tag_ok)
		abort();
	if (strcmp(r->kind, "server_hello") == 0 && !r->server_hello)
		abort();
	if (strcmp(r->kind, "connection_close") == 0 && !r->connection_close)
		abort();
	if (strcmp(r->kind, "initial") == 0 && r->n_initial == 0)
		abort();
}

static void
check_reply(const struct ww_quic_reply *r, size_t size)
{
	if (r->dcid_len > WW_QUIC_CID_MAX || r->scid_len > WW_QUIC_CID_MAX ||
	    r->token_len > WW_QUIC_TOKEN_MAX ||
	    r->n_versions > WW_QUIC_MAX_VERSIONS ||
	    r->n_versions > r->n_versions_total ||
	    r->n_versions_total > size / 4 ||
	    r->n_packets > WW_QUIC_MAX_PACKETS ||
	    r->n_initial + r->n_handshake > r->n_packets || r->trailing > size)
		abort();
	if (r->tls_alert != -1 &&
	    (r->tls_alert < 0 || r->tls_alert > 255 ||
	     r->error_code != 0x100 + (uint64_t)r->tls_alert))
		abort();
	check_text(r->reason, sizeof(r->reason));
	check_text(r->frame_error, sizeof(r->frame_error));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char dcid[8] = {0x83, 0x94, 0xc8, 0xf0,
					      0x3e, 0x51, 0x57, 0x08};
	struct ww_quic_params sent;
	struct ww_quic_reply r;
	char err[128];
	int rc;

	memset(&sent, 0, sizeof(sent));
	memcpy(sent.dcid, dcid, sizeof(dcid));
	sent.dcid_len = sizeof(dcid);

	rc = ww_quic_parse_reply(data, size, &sent, &r, err, sizeof(err));
	if ((rc != 0 && rc != -1) || (rc == -1) != (err[0] != '\0') ||
	    (rc == -1) != (r.kind == NULL))
		abort();
	if (rc == 0)
		check_kind(&r);
	check_reply(&r, size);
	if (rc == -1)
		check_text(err, sizeof(err));

	memset(&r, 0, sizeof(r));
	r.tls_alert = -1;
	err[0] = '\0';
	rc = ww_quic_parse_initial_frames(data, size, &r, err, sizeof(err));
	if ((rc != 0 && rc != -1) || (rc == -1) != (err[0] != '\0') ||
	    r.kind != NULL)
		abort();
	check_reply(&r, size);

	memset(&r, 0, sizeof(r));
	r.tls_alert = -1;
	rc = ww_quic_parse_server_hello(data, size, &r, err, sizeof(err));
	if ((rc != 0 && rc != -1) || (rc == 0) != r.server_hello)
		abort();
	return 0;
}
