/* watch.h — file watching that triggers restarts (inotify directly, or polling). */
#ifndef RL_WATCH_H
#define RL_WATCH_H

#include <ev.h>

#include "supervise.h"

struct watcher;

/*
 * Starts watching cfg->watch.paths (nothing to do when none are set: *out stays NULL).
 * With inotify (poll: auto|never) one thread owns the inotify instance; watch_start returns once every
 * watch is in place. Ignored trees (exclude, .gitignore, .git, the cache dir, build outputs) are
 * never watched. A relevant change, after cfg->watch.debounce of quiet, calls
 * sv_request(sv, "watch", 0). Past the inotify watch limit (or watch.max_watches), poll: auto polls
 * the remaining directories; poll: always polls everything every watch.poll interval.
 * Sets status_watch_hook. Returns 0, or -1 after logging.
 */
int watch_start(struct watcher **out, struct ev_loop *loop, struct supervisor *sv);
/*
 * 1 when every change under the watched tree up to now has been counted: inotify covers all of
 * it (nothing polled), the thread waits in its select() with nothing buffered, and the kernel
 * queue is empty. *generation receives the count of relevant changes so far; equal counts with
 * watch_quiet true in between mean nothing watched has changed. 0 when that cannot be told.
 */
int watch_quiet(struct watcher *w, unsigned long *generation);
/* The count of relevant changes so far (taken before a scan whose result it then vouches for). */
unsigned long watch_generation(struct watcher *w);

/*
 * For writers that request their own cycle (the sync endpoint): watch_hold keeps the debounce from
 * firing while they write. watch_absorb returns 0 while the writes' events may still be on their
 * way (call again); once every change so far is counted (watch_quiet), or with force, it drops the
 * pending changes (the caller's cycle, requested next, covers them), ends the hold and returns 1.
 * NULL is fine (returns 1).
 */
void watch_hold(struct watcher *w);
int watch_absorb(struct watcher *w, int force);

/*
 * What a held writer is about to put at rel (before it does): content value (ct_value), inode,
 * size and mtime. The watcher's event for rel then takes the value without reading the file again
 * when the file it finds has that inode, size and mtime (anything else is read as usual). Each is
 * used once; watch_absorb drops those left. NULL is fine.
 */
struct watch_known {
	uint32_t val;
	unsigned long long ino, size;
	long long mtime_ns;
};
void watch_expect(struct watcher *w, const char *rel, const struct watch_known *k);

/* Stops the thread (joined) and timers, frees everything. NULL is fine. */
void watch_stop(struct watcher *w);

#endif
