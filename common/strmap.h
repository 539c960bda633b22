/* strmap.h — a small string-keyed hash map (chained), used by the watcher, poller and ignore rules. */
#ifndef RL_STRMAP_H
#define RL_STRMAP_H

#include <stddef.h>

struct strmap_node {
	struct strmap_node *next;
	void *val;
	size_t hash;
	char key[]; /* owned copy */
};

struct strmap {
	struct strmap_node **b; /* buckets, nb a power of two */
	size_t nb, n;
};

/* An all-zero struct strmap is an empty map. */
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces (the previous value goes to *old when old is set). Returns 0, -1 on ENOMEM. */
int strmap_put(struct strmap *m, const char *key, void *val, void **old);
/* Removes key; returns its value, NULL when absent. */
void *strmap_del(struct strmap *m, const char *key);
/* Calls fn for every entry; fn must not modify the map. */
void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *val, void *arg), void *arg);
/* Frees the nodes (and each value with free_val unless NULL). */
void strmap_free(struct strmap *m, void (*free_val)(void *));

#endif
