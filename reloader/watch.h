/* watch.h — file watching that triggers restarts (inotify via libinotifytools, or polling). */
#ifndef RL_WATCH_H
#define RL_WATCH_H

#include <ev.h>

#include "supervise.h"

struct watcher;

/* Starts watching cfg->watch.paths (nothing to do when none are set: *out stays NULL).
 * Returns 0, or -1 after logging. */
int watch_start(struct watcher **out, struct ev_loop *loop, struct supervisor *sv);
void watch_stop(struct watcher *w);

#endif
