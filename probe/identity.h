/*
 * identity.h - the probe's submitter key (docs/volunteer.md, "Your
 * submitter key"; docs/submitters.md): an Ed25519 key pair made on first
 * run and kept as <state dir>/submitter.key (PEM PKCS#8, mode 0600). The
 * collector knows the probe by the key's id, never by who runs it: the key
 * is random, made here, and says nothing about the volunteer.
 */
#ifndef WW_PROBE_IDENTITY_H
#define WW_PROBE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define IDENTITY_FILE "submitter.key"

struct probe_identity;

/*
 * Load <dir>/submitter.key; when it does not exist and create is true,
 * make a new key pair and write it atomically (mode 0600). A file that
 * exists but is not an Ed25519 private key is an error, never replaced:
 * the volunteer decides (docs/volunteer.md). Returns the identity, or NULL
 * with a message in err (err[0] is '\0' when the file is simply missing
 * and create is false).
 */
struct probe_identity *identity_open(const char *dir, bool create, char *err,
				     size_t errlen);
void identity_free(struct probe_identity *id);

/* The key id (32 lowercase hex characters), as the collector stores it in
 * "key:<id>". */
const char *identity_key_id(const struct probe_identity *id);

/* The public key, base64 of its 32 raw bytes (caller frees): what an
 * operator adds with `wallwatch-collector keys add`. */
char *identity_public_b64(const struct probe_identity *id);

/* The body of POST /api/v1/submitters (caller frees), or NULL. */
char *identity_registration(const struct probe_identity *id);

/* The signature headers for an upload of body (len bytes, exactly as
 * sent) at now: three "Name: value" lines (caller frees each), or -1. */
int identity_sign(const struct probe_identity *id, const void *body, size_t len,
		  time_t now, char *hdr[3]);

#endif
