/* contents.h — what each watched file holds now against what the running service was built from:
 * a file event restarts the service only when some content really differs. */
#ifndef RL_CONTENTS_H
#define RL_CONTENTS_H

#include <stddef.h>
#include <stdint.h>

#define CT_ABSENT 0u   /* "no such file" (never a content value) */
/* Flag on a value that may not be the state the service started from (read after the watch was
 * set up, while the file was changing, or not read yet): the next event on it is a change. */
#define CT_UNSURE 0x80000000u
#define CT_PENDING CT_UNSURE /* listed by the first walk, contents not read yet */
#define CT_RECENT 8    /* changed paths kept for log lines */

/* 32 bits of a path's hash. Two files of a tree sharing one (about one pair in 100,000 files)
 * share a slot: an event on either then compares against the other's content, which can only
 * cause an extra restart, never a missed one (short of equal 31-bit digests). */
typedef uint32_t ct_key_t;

/*
 * 12 bytes per watched file and no path strings: open addressing on 32 bits of the hash of the
 * relative path; the value is a 31-bit digest of the content (XXH3 and the size) and the inotify
 * wd of the directory holding the file (to forget a moved-away directory).
 * A second, small table keeps the value each changed file had at the last commit, so `dirty`
 * counts the files that differ from it: a file written and restored, a temp file created and
 * renamed away, a touch, leave it at 0. Not thread-safe: the caller locks.
 */
struct contents {
	ct_key_t *key;   /* 0: empty slot */
	uint32_t *val;
	int32_t *dir;
	size_t cap, n;   /* n: files known */

	ct_key_t *bkey;  /* changed since the commit: key -> value at the commit */
	uint32_t *bval;
	size_t bcap, bn;
	size_t dirty;    /* files whose value differs from the commit */
	int forced;      /* a change content cannot judge (a lost event queue, a polled directory) */

	char *recent[CT_RECENT]; /* relative paths of the latest changes (owned) */
	size_t nrecent;
	unsigned long more;      /* changed paths beyond those */
};

/* Key of a relative path (never 0). */
ct_key_t ct_key(const char *rel);
/* Sizes the table for `files` files at once (no doubling while the first walk fills it). */
int ct_reserve(struct contents *c, size_t files);
/* Content value of dirfd/name (31 bits, never 0): CT_ABSENT when it is not a regular file;
 * unreadable files get a value of their own. ctime_ns, when not NULL, receives its ctime. */
uint32_t ct_read(int dirfd, const char *name, int64_t *ctime_ns);
/* The value ct_read gives a regular file of `size` bytes whose content has this XXH3-64 digest
 * (for a writer that hashed what it wrote: the sync, watch_expect). */
uint32_t ct_value(uint64_t xxh3, uint64_t size);

/*
 * Sets the current value of key (CT_ABSENT removes it). track: count the change against the
 * commit (0 for the initial walk, which defines the state). Returns 1 when the value changed,
 * 0 when it is what was recorded already, -1 on ENOMEM (then `forced` is set).
 */
int ct_set(struct contents *c, ct_key_t key, uint32_t val, int dir, int track);
/* ct_set (tracked) keeping the directory recorded for key. */
int ct_update(struct contents *c, ct_key_t key, uint32_t val);
/* Current value of key (CT_ABSENT when unknown). */
uint32_t ct_get(const struct contents *c, ct_key_t key);
/* 1 when key differs from the commit. */
int ct_is_dirty(const struct contents *c, ct_key_t key);
/* Takes key's current value as its committed one (the build wrote it: not a change). */
void ct_absorb(struct contents *c, ct_key_t key);
/* Drops the unsure flags (every event queued while they were set has been seen); files listed
 * but found gone are forgotten. */
void ct_clear_unsure(struct contents *c);
/* Removes (tracked) every file whose directory wd is in dirs[0..n). */
void ct_forget_dirs(struct contents *c, const int *dirs, size_t n);
/* Remembers rel among the recent changed paths. */
void ct_note_path(struct contents *c, const char *rel);
/* 1 when anything differs from the commit. */
int ct_changed(const struct contents *c);
/* The current state becomes the reference (a cycle starts building from it). */
void ct_commit(struct contents *c);
/* Forgets every file (a rescan follows) and marks the state as changed. */
void ct_reset(struct contents *c);
void ct_free(struct contents *c);

#endif
