/* cache.h — the build cache: skip a build when its inputs are unchanged and its outputs are present. */
#ifndef RL_CACHE_H
#define RL_CACHE_H

#include "supervise.h"

struct cache;

/*
 * Installs sv->cache hooks when a build command is set (else *out stays NULL).
 * Inputs: cache.inputs globs under dir if set, else the watched include set (watch.paths or dir,
 * minus excludes, .gitignore'd paths, the cache dir and the outputs). The fingerprint of the last
 * good build lives in cache.dir/<hash of dir and build command>/fingerprint and survives restarts;
 * a missing or damaged file means "build". Returns 0, or -1 after logging.
 */
int cache_start(struct cache **out, struct supervisor *sv);
struct watcher;
/* Lets the cache trust the watcher: when it saw no change since the last check that found the
 * inputs unchanged, the next check skips the scan (only when cache.inputs is not set, so the
 * inputs are the watched set). NULL is fine. */
void cache_use_watcher(struct cache *c, struct watcher *w);

/* Uninstalls the hooks and frees everything. NULL is fine. */
void cache_stop(struct cache *c);

/* For status/bench: milliseconds the last up-to-date check took, files in the last scan. */
double cache_last_check_ms(const struct cache *c);

#endif
