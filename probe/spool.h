/*
 * spool.h - the probe's on-disk queue of measurements not yet acknowledged
 * by a collector (docs/volunteer.md, "The spool").
 *
 * One file per measurement, named after its measurement_uid, which starts
 * with the UTC time: names sort oldest first. A file is written under tmp/,
 * fsync'd, renamed into queue/ and the directory fsync'd, so a crash or a
 * power cut leaves either the whole measurement in queue/ or nothing there
 * (a leftover in tmp/ is removed at the next start). A file is deleted only
 * after a collector acknowledged the measurement.
 */
#ifndef WW_SPOOL_H
#define WW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest spooled measurement read back (a measurement keeps at most
 * 64 KiB of body per response; this is far above any real one). */
#define SPOOL_MAX_ENTRY (16u * 1024 * 1024)

struct spool {
	char *dir;	/* STATE/spool */
	char *queue;	/* STATE/spool/queue */
	char *tmp;	/* STATE/spool/tmp */
	char *rejected; /* STATE/spool/rejected */
	uint64_t max_bytes;
	/* Bytes queued as of the last spool_list(), plus what spool_put()
	 * added since: never below the truth for this process's own puts,
	 * so it tells when a full listing is worth doing. */
	uint64_t bytes;
};

struct spool_entry {
	char *name; /* "<uid>.json" */
	uint64_t size;
	time_t mtime;
};

/* Create the directories under state_dir (mode 0700), empty tmp/
 * (read_only: neither; the queue must exist). 0, or -1 with a message. */
int spool_open(struct spool *s, const char *state_dir, uint64_t max_bytes,
	       bool read_only, char *err, size_t errlen);
void spool_close(struct spool *s);

/* Is uid usable as a file name ([A-Za-z0-9._-], 1..128, no leading dot)? */
bool spool_uid_ok(const char *uid);

/* Store one measurement durably. 0, or -1 with errno kept and a message
 * (ENOSPC for a full disk). Nothing is left in queue/ on failure. */
int spool_put(struct spool *s, const char *uid, const char *data, size_t len,
	      char *err, size_t errlen);

/* Queued entries, oldest first; *total their bytes. Caller frees with
 * spool_entries_free. 0, or -1 with a message. */
int spool_list(struct spool *s, struct spool_entry **out, size_t *n,
	       uint64_t *total, char *err, size_t errlen);
void spool_entries_free(struct spool_entry *e, size_t n);

/* One queued entry's bytes (NUL-terminated); NULL with a message when it
 * is gone, unreadable or over SPOOL_MAX_ENTRY. */
char *spool_read(const struct spool *s, const char *name, size_t *len,
		 char *err, size_t errlen);

/* Delete acknowledged entries (missing ones are fine), then fsync the
 * directory once. Returns how many were deleted. */
size_t spool_remove(const struct spool *s, const char *const *names, size_t n);

/* Move an entry to rejected/ with a NAME.why file saying why. 0 or -1. */
int spool_reject(const struct spool *s, const char *name, const char *why);

/* Count of files in rejected/ (the .json ones). */
size_t spool_rejected_count(const struct spool *s);

/*
 * Bring the spool under max_bytes by dropping the HTTP bodies of the
 * oldest measurements first (the rest of each measurement is kept; it is
 * marked with annotations.spool_trimmed). Returns how many entries were
 * trimmed; *total_after is the spool's size afterwards.
 */
size_t spool_trim(struct spool *s, uint64_t *total_after);

/* Write data to dir/name atomically (temporary file, fsync, rename, fsync
 * of the directory). 0, or -1 with errno kept and a message. */
int spool_write_atomic(const char *dir, const char *name, const void *data,
		       size_t len, char *err, size_t errlen);

/* mkdir -p with mode 0700; 0 or -1 with errno. */
int spool_mkdirs(const char *path);

#endif
