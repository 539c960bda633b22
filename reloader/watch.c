/* watch.c — file watching that triggers restarts (placeholder until the watcher lands). */
#include "watch.h"

#include <stddef.h>

#include "log.h"

int watch_start(struct watcher **out, struct ev_loop *loop, struct supervisor *sv)
{
	(void)loop;
	*out = NULL;
	if (sv->cfg->watch.paths)
		log_warn("watching is not available in this build; poke instead");
	return 0;
}

void watch_stop(struct watcher *w) { (void)w; }
