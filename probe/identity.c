/*
 * identity.c - the submitter key on disk, and what the uploader sends
 * with it; see identity.h. The formats are engine/core/subsig.h's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "identity.h"
#include "subsig.h"
#include "util.h"

/* A PEM Ed25519 key is about 120 bytes; anything far larger is not one. */
#define KEY_FILE_MAX 4096

struct probe_identity {
	EVP_PKEY *key;
	char key_id[33];
};

static struct probe_identity *
identity_of(EVP_PKEY *k)
{
	struct probe_identity *id;
	unsigned char pub[WW_SUB_PUB_LEN];

	if (ww_sub_raw_public(k, pub) != 0)
		return NULL;
	id = xcalloc(1, sizeof(*id));
	id->key = k;
	ww_sub_key_id(pub, id->key_id);
	return id;
}

/* Read path (at most KEY_FILE_MAX bytes) as an Ed25519 private key. */
static struct probe_identity *
id_load(const char *path, char *err, size_t errlen)
{
	char buf[KEY_FILE_MAX + 1];
	struct probe_identity *id;
	struct stat sb;
	EVP_PKEY *k;
	BIO *b;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		ww_set_err(err, errlen, "cannot read %s: %s", path,
			   strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
		log_warn("identity",
			 "%s is readable by others (mode %03o): chmod 600 it",
			 path, (unsigned)(sb.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > KEY_FILE_MAX) {
		ww_set_err(err, errlen, "%s: %s", path,
			   n < 0 ? strerror(errno)
				 : "too large to be a submitter key");
		return NULL;
	}
	b = BIO_new_mem_buf(buf, (int)n);
	k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 ||
	    (id = identity_of(k)) == NULL) {
		EVP_PKEY_free(k);
		ww_set_err(err, errlen,
			   "%s is damaged (not a PEM Ed25519 private key): "
			   "move it away to make a new key (the collector "
			   "will know this probe as a new submitter)",
			   path);
		return NULL;
	}
	return id;
}

/* Write pem to dir/IDENTITY_FILE through a temporary file made 0600 from
 * the start, fsync'ed, renamed, and the directory fsync'ed: a crash
 * leaves the old state or the whole key, never half of one. */
static int
id_write(const char *dir, const char *pem, size_t len, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, IDENTITY_FILE);
	char *path = xasprintf("%s/%s", dir, IDENTITY_FILE);
	int fd, dfd, rc = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pem, len) != (ssize_t)len || fsync(fd) != 0) {
		ww_set_err(err, errlen, "cannot write %s: %s", tmp,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	/* link() rather than rename(): never replaces a key that appeared
	 * meanwhile (another probe process on the same directory). */
	if (link(tmp, path) != 0) {
		ww_set_err(err, errlen, "cannot create %s: %s", path,
			   strerror(errno));
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

static struct probe_identity *
id_create(const char *dir, char *err, size_t errlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	struct probe_identity *id = NULL;
	char *pem;
	long n;

	if (c == NULL || b == NULL || EVP_PKEY_keygen_init(c) != 1 ||
	    EVP_PKEY_keygen(c, &k) != 1 ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1) {
		ww_set_err(err, errlen, "cannot make an Ed25519 key pair");
		goto out;
	}
	n = BIO_get_mem_data(b, &pem);
	if (id_write(dir, pem, (size_t)n, err, errlen) != 0)
		goto out;
	id = identity_of(k);
	if (id != NULL) {
		k = NULL;
		log_info("identity", "made a new submitter key %s in %s/%s",
			 id->key_id, dir, IDENTITY_FILE);
	}
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(c);
	BIO_free(b);
	return id;
}

struct probe_identity *
identity_open(const char *dir, bool create, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, IDENTITY_FILE);
	struct probe_identity *id = NULL;
	struct stat sb;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (lstat(path, &sb) == 0)
		id = id_load(path, err, errlen);
	else if (errno != ENOENT)
		ww_set_err(err, errlen, "cannot read %s: %s", path,
			   strerror(errno));
	else if (create) {
		id = id_create(dir, err, errlen);
		/* Lost a race with another process: take its key. */
		if (id == NULL && lstat(path, &sb) == 0)
			id = id_load(path, err, errlen);
	}
	free(path);
	return id;
}

void
identity_free(struct probe_identity *id)
{
	if (id == NULL)
		return;
	EVP_PKEY_free(id->key);
	free(id);
}

const char *
identity_key_id(const struct probe_identity *id)
{
	return id->key_id;
}

char *
identity_public_b64(const struct probe_identity *id)
{
	unsigned char pub[WW_SUB_PUB_LEN];

	if (ww_sub_raw_public(id->key, pub) != 0)
		return NULL;
	return ww_base64(pub, sizeof(pub));
}

char *
identity_registration(const struct probe_identity *id)
{
	return ww_sub_registration_new(id->key);
}

int
identity_sign(const struct probe_identity *id, const void *body, size_t len,
	      time_t now, char *hdr[3])
{
	unsigned char sig[WW_SUB_SIG_LEN];
	char *text = ww_sub_upload_text(id->key_id, (int64_t)now, body, len);
	char *b64;
	int rc = ww_sub_sign(id->key, text, strlen(text), sig);

	free(text);
	if (rc != 0)
		return -1;
	b64 = ww_base64(sig, sizeof(sig));
	hdr[0] = xasprintf("%s: %s", WW_SUB_HDR_KEY, id->key_id);
	hdr[1] = xasprintf("%s: %lld", WW_SUB_HDR_DATE, (long long)now);
	hdr[2] = xasprintf("%s: %s", WW_SUB_HDR_SIG, b64);
	free(b64);
	return 0;
}
