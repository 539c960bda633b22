/* main.c — reloader, a PID-1 supervisor that builds, runs and restarts a service.
 * Reads as a table of contents: settings, subreaper, loop, supervisor, signals, control API,
 * build cache, watcher, run, teardown in reverse. */
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "signals.h"
#include "supervise.h"
#include "syncapi.h"
#include "watch.h"

/* When not PID 1, orphans of the service must still come to us to be reaped and stopped. */
static int become_subreaper(void)
{
	if (getpid() == 1)
		return 0;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		log_warn("cannot become a child subreaper; escaped descendants will be reaped by init");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct supervisor sv;
	struct control *ctl = NULL;
	struct watcher *watch = NULL;
	struct cache *cache = NULL;
	struct ev_loop *loop;
	int rc, status;

	log_init("reloader");
	if (getenv("RELOADER_DEBUG"))
		log_set_level(LOG_DEBUG);
	rc = config_load(&cfg, argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	become_subreaper();
	loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOENV);
	if (sv_init(&sv, loop, &cfg) != 0 || signals_start(loop, &sv) != 0)
		return 1;
	if (cfg.control.listen && !(ctl = control_start(loop, &sv)))
		return 1;
	if (cache_start(&cache, &sv) != 0 || watch_start(&watch, loop, &sv) != 0)
		return 1;
	cache_use_watcher(cache, watch);
	syncapi_use_watcher(watch);
	sv_start(&sv);
	ev_run(loop, 0);

	status = sv.exit_status;
	watch_stop(watch);
	cache_stop(cache);
	control_stop(ctl);
	signals_stop(loop);
	sv_free(&sv);
	config_free(&cfg);
	ev_loop_destroy(loop);
	return status;
}
