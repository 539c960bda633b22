/* fingerprint.h — what a build read: per-file stat + content hash, scanned with a stat fast path, stored atomically. */
#ifndef RL_FINGERPRINT_H
#define RL_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "glob.h"

struct fp_entry {
	char *path;        /* relative to the scanned root; owned */
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;
	uint32_t racy;     /* modified too close to the scan to trust the stat: re-hash next time */
	uint64_t hash;     /* XXH3_64bits of the contents */
};

/* Files sorted by path. An all-zero struct is an empty set. */
struct fp_set {
	struct fp_entry *v;
	size_t n, cap;
	size_t hashed; /* files whose contents were read by the scan that made this set */
};

/*
 * Walks each of roots (relative to root; NULL means root itself) top-down, pruning what ig prunes
 * and keeping files in ig's include set; stats every file and hashes only those whose stat
 * (size, mtime, ctime, inode, mode) differs from prev's entry for the same path, or that prev marks
 * racy. prev may be NULL. Fills *out (freed first). Returns 0, -1 on ENOMEM (unreadable files are
 * recorded with hash 0 and mode 0 so they still differ from a readable state).
 */
int fp_scan(struct fp_set *out, const char *root, char *const *roots, struct ignore *ig, const struct fp_set *prev);

/* 1 when a and b list the same paths with the same contents and file types/permissions. */
int fp_same_content(const struct fp_set *a, const struct fp_set *b);
/* 1 when a and b also agree on every stat field (nothing to refresh). */
int fp_same_stat(const struct fp_set *a, const struct fp_set *b);

/* Appends a copy of e (its path duplicated); the caller keeps the set sorted. Returns 0, -1 on ENOMEM. */
int fp_append(struct fp_set *s, const struct fp_entry *e);
/* Deep copy; returns 0, -1 on ENOMEM. */
int fp_copy(struct fp_set *dst, const struct fp_set *src);
/* Moves src into dst (dst freed first); src is left empty. */
void fp_move(struct fp_set *dst, struct fp_set *src);
void fp_free(struct fp_set *s);

/*
 * Writes s to file atomically (temp file in the same directory, fsync, rename), tagged with key
 * (what the fingerprint is of: dir, build command, env ...). Creates missing directories.
 * Returns 0, -1 after logging.
 */
int fp_save(const char *file, const struct fp_set *s, uint64_t key);
/*
 * Reads what fp_save wrote. Returns 0; 1 when the file is missing; -1 when it is damaged
 * (bad magic, version, key, length or checksum) — then *s is empty and the caller rebuilds.
 */
int fp_load(const char *file, struct fp_set *s, uint64_t key);

#endif
