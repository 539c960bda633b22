/* watch.h — file watching that triggers restarts (inotify via libinotifytools, or polling). */
#ifndef RL_WATCH_H
#define RL_WATCH_H

#include <ev.h>

#include "supervise.h"

struct watcher;

/*
 * Starts watching cfg->watch.paths (nothing to do when none are set: *out stays NULL).
 * With inotify (poll: auto|never) one thread owns libinotifytools; watch_start returns once every
 * watch is in place. Ignored trees (exclude, .gitignore, .git, the cache dir, build outputs) are
 * never watched. A relevant change, after cfg->watch.debounce of quiet, calls
 * sv_request(sv, "watch", 0). Past the inotify watch limit (or watch.max_watches), poll: auto polls
 * the remaining directories; poll: always polls everything every watch.poll interval.
 * Sets status_watch_hook. Returns 0, or -1 after logging.
 */
int watch_start(struct watcher **out, struct ev_loop *loop, struct supervisor *sv);
/* Stops the thread (joined) and timers, frees everything. NULL is fine. */
void watch_stop(struct watcher *w);

#endif
