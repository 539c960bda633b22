/* signals.c — reloader's signal policy: TERM/INT stop, HUP restarts, the rest go to the service. */
#include "signals.h"

#include <signal.h>
#include <string.h>

static const int forwarded[] = {SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT, SIGPWR};
static ev_signal watchers[3 + sizeof forwarded / sizeof forwarded[0]];
static size_t nwatchers;

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	sv_shutdown(w->data, w->signum);
}

static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	sv_request(w->data, "signal", 0);
}

static void forward_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	sv_forward_signal(w->data, w->signum);
}

static void watch_signal(struct ev_loop *loop, struct supervisor *sv, int signum,
			 void (*cb)(struct ev_loop *, ev_signal *, int))
{
	ev_signal *w = &watchers[nwatchers++];

	ev_signal_init(w, cb, signum);
	w->data = sv;
	ev_signal_start(loop, w);
}

int signals_start(struct ev_loop *loop, struct supervisor *sv)
{
	/* Writes to a closed pipe or socket are errors we handle, not reasons to die. */
	signal(SIGPIPE, SIG_IGN);
	/* As PID 1 of a container, a terminal's job control must not stop us. */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	watch_signal(loop, sv, SIGTERM, stop_cb);
	watch_signal(loop, sv, SIGINT, stop_cb);
	watch_signal(loop, sv, SIGHUP, hup_cb);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		watch_signal(loop, sv, forwarded[i], forward_cb);
	return 0;
}

void signals_stop(struct ev_loop *loop)
{
	for (size_t i = 0; i < nwatchers; i++)
		ev_signal_stop(loop, &watchers[i]);
	nwatchers = 0;
}
