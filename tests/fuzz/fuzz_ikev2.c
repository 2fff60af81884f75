/*
 * fuzz_ikev2.c - ww_ikev2_parse_reply() on arbitrary bytes. The first
 * input byte chooses what we "sent": bit 0 UDP 4500 (a non-ESP marker is
 * expected), bit 1 an SPIi equal to the datagram's own (so the "ours" path
 * is reached), else a fixed one. The rest is the datagram. Besides the
 * sanitizers' checks, abort() on any broken promise of ikev2.h: 0 or -1,
 * an error string exactly on -1 (printable), a kind from the documented
 * set exactly on 0 with the fields that kind promises (an "ikev1" only its
 * header), the caps held, and
 * proves_up exactly for our SPI.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ikev2.h"

static const char *const kinds[] = {
	"sa_init_response",
	"notify_invalid_ke",
	"notify_no_proposal",
	"notify_cookie",
	"notify_other",
	"informational",
	"ikev1",
};

static void
check_err(const char *s)
{
	if (*s == '\0')
		abort();
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

static void
check_kind(const struct ww_ikev2_reply *r, size_t len)
{
	static const unsigned char zero[8];
	size_t i = 0;

	while (i < sizeof(kinds) / sizeof(*kinds) && strcmp(r->kind, kinds[i]))
		i++;
	if (i == sizeof(kinds) / sizeof(*kinds))
		abort();
	if (r->n_payloads > WW_IKEV2_MAX_PAYLOADS ||
	    r->cookie_len > WW_IKEV2_COOKIE_MAX || r->length < 28 ||
	    r->length + (r->natt ? 4 : 0) != len)
		abort();
	if (!strcmp(r->kind, "ikev1")) {
		if ((r->version >> 4) != 1 || r->n_payloads != 0)
			abort();
		return;
	}
	if (!(r->flags & 0x20) || (r->version >> 4) != 2)
		abort();
	if ((r->exchange == WW_IKEV2_EXCH_INFORMATIONAL) !=
	    (strcmp(r->kind, "informational") == 0))
		abort();
	if (!strcmp(r->kind, "notify_invalid_ke") &&
	    r->notify_type != WW_IKEV2_N_INVALID_KE_PAYLOAD)
		abort();
	if (!strcmp(r->kind, "notify_no_proposal") &&
	    r->notify_type != WW_IKEV2_N_NO_PROPOSAL_CHOSEN)
		abort();
	if (!strcmp(r->kind, "notify_cookie") &&
	    (r->cookie_len == 0 || r->notify_type != WW_IKEV2_N_COOKIE))
		abort();
	if (!strcmp(r->kind, "sa_init_response") &&
	    (memcmp(r->spi_r, zero, 8) == 0 || r->msg_id != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_ikev2_params sent, again;
	struct ww_ikev2_reply r;
	char err[160];
	size_t spi_at;
	int rc;

	if (size < 1)
		return 0;
	memset(&sent, 0, sizeof(sent));
	sent.natt = data[0] & 1;
	memcpy(sent.spi_i, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	spi_at = 1 + (sent.natt ? 4 : 0);
	if ((data[0] & 2) && size >= spi_at + 8)
		memcpy(sent.spi_i, data + spi_at, 8);
	sent.groups[0] = 19;
	sent.groups[1] = 31;
	sent.groups[2] = 14;
	sent.n_groups = 3;
	sent.ke_group = 19;
	sent.ke_len = 64;
	rc = ww_ikev2_parse_reply(data + 1, size - 1, &sent, &r, err,
				  sizeof(err));
	if (rc != 0 && rc != -1)
		abort();
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (rc == -1) {
		check_err(err);
		if (r.kind != NULL || ww_ikev2_reply_proves_up(&r))
			abort();
		return 0;
	}
	if (err[0] != '\0' || r.kind == NULL)
		abort();
	check_kind(&r, size - 1);
	if (r.ours != (memcmp(r.spi_i, sent.spi_i, 8) == 0) ||
	    ww_ikev2_reply_proves_up(&r) != r.ours)
		abort();
	/* a COOKIE is taken over as sent; a group we never offered refused
	 * (an offered one would make a key: too slow to fuzz) */
	again = sent;
	if (!strcmp(r.kind, "notify_cookie") &&
	    (ww_ikev2_params_retry(&again, &r) != 1 ||
	     again.cookie_len != r.cookie_len ||
	     memcmp(again.cookie, r.cookie, r.cookie_len) != 0))
		abort();
	if (!strcmp(r.kind, "notify_invalid_ke") && r.group != 31 &&
	    r.group != 14 && ww_ikev2_params_retry(&again, &r) != -1)
		abort();
	return 0;
}
