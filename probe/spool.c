/*
 * spool.c - the probe's durable queue of unacknowledged measurements; see
 * spool.h for the guarantees and docs/volunteer.md for the layout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "spool.h"
#include "util.h"

int
spool_mkdirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* fsync a directory, so that a rename or unlink in it survives a power
 * cut (rename(2) alone is atomic but not durable). */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write the whole buffer and fsync; -1 with errno on failure. */
static int
write_all_sync(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return fsync(fd);
}

/* Write data to tmp_dir, then rename it to final_dir/name. */
static int
commit_file(const char *tmp_dir, const char *final_dir, const char *name,
	    const void *data, size_t len, char *err, size_t errlen)
{
	char rnd[9];
	char *tmp, *dst;
	int fd, saved, rc = -1;

	ww_random_hex(rnd, 4);
	tmp = xasprintf("%s/.%s.%s.tmp", tmp_dir, name, rnd);
	dst = xasprintf("%s/%s", final_dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		saved = errno;
		ww_set_err(err, errlen, "cannot create %s: %s", tmp,
			   strerror(saved));
		goto out;
	}
	if (write_all_sync(fd, data, len) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		ww_set_err(err, errlen, "writing %s: %s", tmp, strerror(saved));
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, dst) != 0) {
		saved = errno;
		unlink(tmp);
		ww_set_err(err, errlen, "storing %s: %s", dst, strerror(saved));
		goto out;
	}
	if (sync_dir(final_dir) != 0) {
		/* The entry is in place; only its durability across a power
		 * cut is in doubt. Report, but do not undo. */
		saved = errno;
		ww_set_err(err, errlen, "fsync of %s: %s", final_dir,
			   strerror(saved));
		goto out;
	}
	rc = 0;
	saved = 0;
out:
	free(tmp);
	free(dst);
	errno = saved;
	return rc;
}

int
spool_write_atomic(const char *dir, const char *name, const void *data,
		   size_t len, char *err, size_t errlen)
{
	return commit_file(dir, dir, name, data, len, err, errlen);
}

/* Remove every file in dir (the leftovers of interrupted writes). */
static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

int
spool_open(struct spool *s, const char *state_dir, uint64_t max_bytes,
	   bool read_only, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->dir = xasprintf("%s/spool", state_dir);
	s->queue = xasprintf("%s/queue", s->dir);
	s->tmp = xasprintf("%s/tmp", s->dir);
	s->rejected = xasprintf("%s/rejected", s->dir);
	s->max_bytes = max_bytes;
	if (read_only) {
		if (access(s->queue, R_OK | X_OK) != 0) {
			ww_set_err(err, errlen, "no spool in %s: %s", state_dir,
				   strerror(errno));
			spool_close(s);
			return -1;
		}
		return 0;
	}
	if (spool_mkdirs(s->queue) != 0 || spool_mkdirs(s->tmp) != 0 ||
	    spool_mkdirs(s->rejected) != 0) {
		ww_set_err(err, errlen, "cannot create the spool in %s: %s",
			   s->dir, strerror(errno));
		spool_close(s);
		return -1;
	}
	empty_dir(s->tmp);
	/* One listing to start the running estimate from the truth. */
	{
		struct spool_entry *e;
		size_t n;

		if (spool_list(s, &e, &n, NULL, err, errlen) == 0)
			spool_entries_free(e, n);
	}
	return 0;
}

void
spool_close(struct spool *s)
{
	free(s->dir);
	free(s->queue);
	free(s->tmp);
	free(s->rejected);
	memset(s, 0, sizeof(*s));
}

bool
spool_uid_ok(const char *uid)
{
	size_t n = strlen(uid);

	if (n == 0 || n > 128 || uid[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = uid[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int
spool_put(struct spool *s, const char *uid, const char *data, size_t len,
	  char *err, size_t errlen)
{
	char *name;
	int rc;

	if (!spool_uid_ok(uid)) {
		ww_set_err(err, errlen,
			   "measurement_uid \"%.40s\" cannot name "
			   "a spool file",
			   uid);
		errno = EINVAL;
		return -1;
	}
	name = xasprintf("%s.json", uid);
	rc = commit_file(s->tmp, s->queue, name, data, len, err, errlen);
	if (rc == 0)
		s->bytes += len;
	free(name);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static bool
is_entry_name(const char *n)
{
	size_t len = strlen(n);

	return len > 5 && n[0] != '.' && strcmp(n + len - 5, ".json") == 0;
}

int
spool_list(struct spool *s, struct spool_entry **out, size_t *n,
	   uint64_t *total, char *err, size_t errlen)
{
	DIR *d = opendir(s->queue);
	struct dirent *de;
	struct spool_entry *v = NULL;
	size_t len = 0, cap = 0;
	uint64_t sum = 0;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (d == NULL) {
		ww_set_err(err, errlen, "cannot read %s: %s", s->queue,
			   strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (!is_entry_name(de->d_name))
			continue;
		p = xasprintf("%s/%s", s->queue, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			struct spool_entry *e = WW_PUSH(v, len, cap);

			e->name = xstrdup(de->d_name);
			e->size = (uint64_t)st.st_size;
			e->mtime = st.st_mtime;
			sum += e->size;
		}
		free(p);
	}
	closedir(d);
	if (len > 1)
		qsort(v, len, sizeof(*v), entry_cmp);
	*out = v;
	*n = len;
	s->bytes = sum;
	if (total != NULL)
		*total = sum;
	return 0;
}

void
spool_entries_free(struct spool_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

char *
spool_read(const struct spool *s, const char *name, size_t *len, char *err,
	   size_t errlen)
{
	char *p = xasprintf("%s/%s", s->queue, name);
	struct stat st;
	FILE *f = ww_open_read(p, &st, err, errlen);
	char *buf = NULL;

	free(p);
	*len = 0;
	if (f == NULL)
		return NULL;
	if (st.st_size < 0 || (uint64_t)st.st_size > SPOOL_MAX_ENTRY) {
		ww_set_err(err, errlen, "%s: %lld bytes, over the %u limit",
			   name, (long long)st.st_size, SPOOL_MAX_ENTRY);
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		ww_set_err(err, errlen, "reading %s: %s", name,
			   strerror(errno));
		free(buf);
		buf = NULL;
		*len = 0;
	} else {
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

size_t
spool_remove(const struct spool *s, const char *const *names, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", s->queue, names[i]);

		if (unlink(p) == 0)
			done++;
		free(p);
	}
	if (n > 0)
		sync_dir(s->queue);
	return done;
}

int
spool_reject(const struct spool *s, const char *name, const char *why)
{
	char *src = xasprintf("%s/%s", s->queue, name);
	char *dst = xasprintf("%s/%s", s->rejected, name);
	char *why_name = xasprintf("%s.why", name);
	char *line = xasprintf("%s\n", why);
	char err[256];
	int rc = 0;

	/* The reason first: a crash in between leaves a .why without its
	 * measurement, never a rejected measurement without a reason. */
	if (spool_write_atomic(s->rejected, why_name, line, strlen(line), err,
			       sizeof(err)) != 0)
		log_warn("spool", "%s", err);
	if (rename(src, dst) != 0)
		rc = -1;
	else {
		sync_dir(s->rejected);
		sync_dir(s->queue);
	}
	free(src);
	free(dst);
	free(why_name);
	free(line);
	return rc;
}

size_t
spool_rejected_count(const struct spool *s)
{
	DIR *d = opendir(s->rejected);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += is_entry_name(de->d_name);
	closedir(d);
	return n;
}

/* Drop the HTTP bodies of one measurement; true when it changed. */
static bool
drop_bodies(json_t *m)
{
	json_t *reqs =
		json_object_get(json_object_get(m, "test_keys"), "requests");
	json_t *ann = json_object_get(m, "annotations");
	json_t *r;
	size_t i;
	bool changed = false;

	if (json_is_string(json_object_get(ann, "spool_trimmed")))
		return false;
	json_array_foreach(reqs, i, r)
	{
		json_t *resp = json_object_get(r, "response");

		if (json_is_object(resp) &&
		    !json_is_null(json_object_get(resp, "body")) &&
		    json_object_get(resp, "body") != NULL) {
			json_object_set_new(resp, "body", json_null());
			changed = true;
		}
	}
	if (changed && json_is_object(ann))
		json_object_set_new(ann, "spool_trimmed", json_string("true"));
	return changed;
}

size_t
spool_trim(struct spool *s, uint64_t *total_after)
{
	struct spool_entry *e;
	size_t n, trimmed = 0;
	uint64_t total;
	char err[512];

	if (spool_list(s, &e, &n, &total, err, sizeof(err)) != 0) {
		*total_after = 0;
		return 0;
	}
	for (size_t i = 0; i < n && s->max_bytes > 0 && total > s->max_bytes;
	     i++) {
		size_t len;
		char *buf = spool_read(s, e[i].name, &len, err, sizeof(err));
		json_t *m = buf ? json_loadb(buf, len, 0, NULL) : NULL;
		char *out = NULL;

		if (m != NULL && drop_bodies(m))
			out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS |
						    JSON_REAL_PRECISION(9));
		if (out != NULL &&
		    commit_file(s->tmp, s->queue, e[i].name, out, strlen(out),
				err, sizeof(err)) == 0) {
			total -= e[i].size;
			total += strlen(out);
			trimmed++;
		}
		free(out);
		json_decref(m);
		free(buf);
	}
	spool_entries_free(e, n);
	*total_after = total;
	return trimmed;
}
