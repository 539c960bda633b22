/* dirmap.h — the watched directories: inotify wd <-> path relative to the service dir, one string per directory. */
#ifndef RL_DIRMAP_H
#define RL_DIRMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Two open-addressing tables instead of two string maps: wd -> path (the one copy of the path,
 * owned) and 64-bit path hash -> wd (checked against the path, so a hash collision is never a
 * wrong answer). About 70 bytes a directory. An all-zero struct is empty. Not thread-safe.
 */
struct dirmap {
	int *wd;           /* 0: empty slot (the kernel's wds start at 1) */
	char **rel;
	size_t wcap;
	uint64_t *ph;      /* path hash, 0: empty */
	int *pwd;
	size_t pcap;
	size_t n;          /* directories */
};

/* The path watched as wd, NULL when none. */
const char *dm_rel(const struct dirmap *m, int wd);
/* The wd watching rel, 0 when none. */
int dm_wd(const struct dirmap *m, const char *rel);
/* Records wd as watching rel (a wd the kernel hands out again replaces its old path). 0, -1 on ENOMEM. */
int dm_put(struct dirmap *m, int wd, const char *rel);
/* Forgets wd (and its path). */
void dm_del(struct dirmap *m, int wd);
/* Calls fn for every directory; fn must not change the map. */
void dm_each(const struct dirmap *m, void (*fn)(const char *rel, int wd, void *arg), void *arg);
void dm_free(struct dirmap *m);

#endif
