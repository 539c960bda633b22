/* supervise.c — the restart cycle: build -> stop old -> start new -> ready, coalescing requests,
 * reaping every child, crash restarts with backoff, and the graceful exit.
 *
 * State variables: `phase` is what the cycle in progress is doing (PH_IDLE when none runs);
 * `cycle` numbers cycles, `cycle_done` is the last one that ended; `pending` is the one
 * follow-up cycle that every request arriving mid-cycle folds into. */
#include "supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

#define LOG_RING_BYTES (256 * 1024)
#define BUILD_RING_BYTES (64 * 1024)
#define GONE_POLL 0.005 /* seconds between checks for leftover descendants while stopping */

static void begin_build(struct supervisor *sv);
static void begin_stop(struct supervisor *sv);
static void start_service(struct supervisor *sv);
static void finish_cycle(struct supervisor *sv, enum sv_outcome outcome);

const char *sv_state_name(enum sv_state s)
{
	static const char *const names[] = {"starting", "building", "running", "build-failed", "crashed", "stopped"};

	return names[s];
}

static long ms_since(struct supervisor *sv, double t)
{
	ev_now_update(sv->loop);
	return (long)((ev_now(sv->loop) - t) * 1000 + 0.5);
}

static void set_state(struct supervisor *sv, enum sv_state s)
{
	sv->state = s;
	if (sv->on_idle_change)
		sv->on_idle_change(sv);
}

/* Writes one of reloader's own event lines into the log ring (and to stderr). */
static void event_line(struct supervisor *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void event_line(struct supervisor *sv, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	log_info("%s", line);
	logring_append(&sv->logs, "[reloader] ", 11);
	line[n] = '\n';
	logring_append(&sv->logs, line, (size_t)n + 1);
}

/* ---- start checks, settle and build timeout (issue #12: ?wait=1 tells the truth) -------- */

static void settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	sv->ready_ok = 1;
	sv->last.ready_ms = ms_since(sv, sv->t_phase);
	set_state(sv, SV_RUNNING);
	finish_cycle(sv, OUTCOME_RUNNING);
}

/* Without a readiness check the new process counts as running once it stayed up ready.settle:
 * an exit inside that window ends the cycle as a failed start (service_exited). */
static void begin_settle(struct supervisor *sv)
{
	sv->ready_ok = 0;
	sv->t_phase = ev_now(sv->loop);
	if (sv->cfg->ready.settle <= 0) {
		settle_cb(sv->loop, &sv->settle_timer, 0);
		return;
	}
	set_state(sv, SV_STARTING);
	ev_timer_set(&sv->settle_timer, sv->cfg->ready.settle, 0);
	ev_timer_start(sv->loop, &sv->settle_timer);
}

/* A request during the settle time need not wait for it: the process is replaced anyway. Its
 * cycle's waiters move to the next cycle, which starts now and answers for the newer process. */
static void interrupt_settle(struct supervisor *sv)
{
	ev_timer_stop(sv->loop, &sv->settle_timer);
	for (struct sv_waiter *w = sv->waiters; w; w = w->next)
		if (w->cycle <= sv->cycle)
			w->cycle = sv->cycle + 1;
	sv->ready_ok = 1;
	sv->last.ready_ms = ms_since(sv, sv->t_phase);
	set_state(sv, SV_RUNNING);
	finish_cycle(sv, OUTCOME_RUNNING); /* starts the pending cycle */
}

/* A readiness port held by another process before the start: starting would crash-loop on
 * EADDRINUSE while the other process answers the check. Returns 1 (and says so) when taken. */
static int port_taken(struct supervisor *sv)
{
	if (ready_port_free(&sv->ready, sv->start_error, sizeof sv->start_error) == 0)
		return 0;
	event_line(sv, "not starting %s: %s", sv->cfg->run[0], sv->start_error);
	return 1;
}

static void kill_build(struct supervisor *sv, int why)
{
	if (!sv->build_pid)
		return;
	sv->build_end = why;
	if (kill(-sv->build_pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("killing the build's group %d: %s", (int)sv->build_pid, strerror(errno));
	/* child_cb reaps the leader and reports the build as failed */
}

static void build_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	kill_build(w->data, BUILD_TIMED_OUT);
}

static void arm_build_timeout(struct supervisor *sv)
{
	if (sv->cfg->build_timeout <= 0)
		return;
	ev_timer_set(&sv->build_timer, sv->cfg->build_timeout, 0);
	ev_timer_start(sv->loop, &sv->build_timer);
}

pid_t sv_cancel_build(struct supervisor *sv)
{
	pid_t pid = sv->build_pid;

	if (!pid)
		return 0;
	ev_timer_stop(sv->loop, &sv->build_timer);
	kill_build(sv, BUILD_CANCELLED);
	/* The follow-up cycle would only start the same build again: drop it, and answer its waiters
	 * with this cycle's outcome. */
	sv->pending = sv->pending_force = 0;
	for (struct sv_waiter *w = sv->waiters; w; w = w->next)
		if (w->cycle > sv->cycle)
			w->cycle = sv->cycle;
	return pid;
}

/* ---- service processes ---------------------------------------------------------------- */

/* Ends the current service record once its leader was reaped: reads what its pipes still hold
 * (a descendant writing after that gets EPIPE; it is being stopped anyway) and frees it. */
static void retire_service(struct supervisor *sv)
{
	struct service_proc *sp = sv->svc;

	sv->svc = NULL;
	if (!sp)
		return;
	output_pipe_close(&sp->out, sv->loop);
	output_pipe_close(&sp->err, sv->loop);
	free(sp);
}

static void start_service(struct supervisor *sv)
{
	struct service_proc *sp = calloc(1, sizeof *sp);
	double t0 = ev_now(sv->loop);

	sv->phase = PH_READY_WAIT;
	sv->t_phase = t0;
	sv->start_error[0] = 0;
	if (port_taken(sv)) {
		free(sp);
		goto failed;
	}
	if (!sp || output_pipe_open(&sp->out, sv->loop, STDOUT_FILENO, "") != 0) {
		free(sp);
		goto failed;
	}
	if (output_pipe_open(&sp->err, sv->loop, STDERR_FILENO, "") != 0) {
		output_pipe_close(&sp->out, sv->loop);
		free(sp);
		goto failed;
	}
	sp->out.rings[0] = sp->err.rings[0] = &sv->logs;
	sp->pid = proc_spawn(sv->cfg->run, sv->cfg->dir, sv->cfg->env, sp->out.child_fd, sp->err.child_fd);
	if (sp->pid < 0) {
		sv->svc = sp;
		retire_service(sv);
		goto failed;
	}
	output_pipe_started(&sp->out, sv->loop);
	output_pipe_started(&sp->err, sv->loop);
	sv->svc = sp;
	sv->svc_started = t0;
	if (sv->starts++ > 0)
		sv->restarts++;
	sv->last.start_ms = ms_since(sv, t0);
	event_line(sv, "started %s (pid %d)", sv->cfg->run[0], (int)sp->pid);
	if (sv->ready.enabled) {
		sv->ready_ok = 0;
		sv->t_phase = ev_now(sv->loop);
		ready_begin(&sv->ready, sv->loop);
		return;
	}
	begin_settle(sv);
	return;
failed:
	set_state(sv, SV_CRASHED);
	finish_cycle(sv, OUTCOME_START_FAILED);
}

static void ready_done(struct ready_check *r, int ok, const char *why)
{
	struct supervisor *sv = r->owner;

	sv->last.ready_ms = ms_since(sv, sv->t_phase);
	if (ok) {
		sv->ready_ok = 1;
		event_line(sv, "ready after %ld ms", sv->last.ready_ms);
		set_state(sv, SV_RUNNING);
		finish_cycle(sv, OUTCOME_RUNNING);
		return;
	}
	if (r->foreign) {
		snprintf(sv->start_error, sizeof sv->start_error, "%s", why);
		event_line(sv, "not ready: %s; it keeps running", why);
	} else {
		event_line(sv, "not ready within %.1f s (%s); it keeps running", sv->cfg->ready.timeout,
			   why && *why ? why : "no answer");
	}
	set_state(sv, SV_RUNNING);
	finish_cycle(sv, OUTCOME_START_FAILED);
}

/* ---- stopping --------------------------------------------------------------------------- */

static pid_t build_pgid(struct supervisor *sv)
{
	return sv->build_pid > 0 ? sv->build_pid : 0;
}

/* Stopping ends when the leader was reaped and no descendant (but a build) is left. */
static void check_stopped(struct supervisor *sv)
{
	pid_t any;

	if (sv->phase != PH_STOPPING)
		return;
	if (sv->svc && sv->svc->pid)
		return;
	if (proc_descendants(&any, 1, build_pgid(sv)) > 0)
		return;
	ev_timer_stop(sv->loop, &sv->stop_timer);
	ev_timer_stop(sv->loop, &sv->gone_timer);
	sv->last.stop_ms = ms_since(sv, sv->t_phase);
	if (sv->exiting) {
		ev_break(sv->loop, EVBREAK_ALL);
		return;
	}
	start_service(sv);
}

static void stop_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;
	int n;

	(void)loop;
	(void)revents;
	n = proc_signal_tree(sv->svc && sv->svc->pid ? sv->svc->pid : 0, SIGKILL, build_pgid(sv));
	event_line(sv, "stop timeout (%.1f s) passed: killed %d process%s", sv->cfg->stop.timeout, n,
		   n == 1 ? "" : "es");
}

static void gone_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	check_stopped(w->data);
}

static void begin_stop(struct supervisor *sv)
{
	pid_t leader = sv->svc && sv->svc->pid ? sv->svc->pid : 0;

	sv->phase = PH_STOPPING;
	sv->t_phase = ev_now(sv->loop);
	/* The group gets the stop signal; so does any descendant that left it (setsid, orphans). */
	proc_signal_tree(leader, sv->cfg->stop.signal, build_pgid(sv));
	if (sv->cfg->stop.signal != SIGKILL && sv->cfg->stop.signal != SIGCONT && leader)
		kill(-leader, SIGCONT); /* a stopped process must run to handle the signal */
	ev_timer_set(&sv->stop_timer, sv->cfg->stop.timeout, 0);
	ev_timer_start(sv->loop, &sv->stop_timer);
	ev_timer_set(&sv->gone_timer, GONE_POLL, GONE_POLL);
	ev_timer_start(sv->loop, &sv->gone_timer);
	check_stopped(sv);
}

/* ---- building --------------------------------------------------------------------------- */

static void build_finished(struct supervisor *sv, int status)
{
	long ms = ms_since(sv, sv->build_started);

	ev_timer_stop(sv->loop, &sv->build_timer);
	output_pipe_close(&sv->build_out, sv->loop);
	output_pipe_close(&sv->build_err, sv->loop);
	/* Whatever the build left behind in its group is not ours to keep. */
	kill(-sv->build_pid, SIGKILL);
	sv->build_pid = 0;
	if (sv->watch.build_running)
		sv->watch.build_running(sv->watch.ctx, 0);
	sv->build.ran = 1;
	sv->build.cached = 0;
	sv->build.duration_ms = ms;
	sv->build.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	sv->build.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sv->build_end == BUILD_EXITED;
	sv->last.build_ms = ms;
	sv->builds++;
	sv->build_seconds_total += ms / 1000.0;
	if (sv->exiting) {
		begin_stop(sv);
		return;
	}
	if (!sv->build.ok) {
		sv->build_failures++;
		if (sv->build_end == BUILD_TIMED_OUT)
			event_line(sv, "build timed out after %ld ms (build_timeout %gs): killed its process group; %s", ms,
				   sv->cfg->build_timeout, sv->svc ? "the previous service keeps running" : "fix it and poke again");
		else if (sv->build_end == BUILD_CANCELLED)
			event_line(sv, "build cancelled (POST /cancel) after %ld ms; %s", ms,
				   sv->svc ? "the previous service keeps running" : "poke again to build");
		else
			event_line(sv, "build failed (exit %d) after %ld ms; %s", sv->build.exit_code, ms,
				   sv->svc ? "the previous service keeps running" : "fix it and poke again");
		set_state(sv, SV_BUILD_FAILED);
		finish_cycle(sv, OUTCOME_BUILD_FAILED);
		return;
	}
	event_line(sv, "build ok in %ld ms", ms);
	if (sv->cache.build_succeeded)
		sv->cache.build_succeeded(sv->cache.ctx);
	begin_stop(sv);
}

static void begin_build(struct supervisor *sv)
{
	char *argv[] = {"/bin/sh", "-c", sv->cfg->build, NULL};

	sv->phase = PH_BUILDING;
	sv->t_phase = sv->build_started = ev_now(sv->loop);
	sv->last.build_ms = 0;
	sv->build_end = BUILD_EXITED;
	if (!sv->cfg->build || (!sv->cycle_force && sv->cache.up_to_date && sv->cache.up_to_date(sv->cache.ctx))) {
		if (sv->cfg->build) {
			sv->build.cached = 1;
			sv->build.ok = 1;
			sv->build.exit_code = 0;
			sv->build.duration_ms = ms_since(sv, sv->build_started);
			sv->builds_cached++;
			event_line(sv, "build skipped: inputs unchanged since the last good build");
		}
		begin_stop(sv);
		return;
	}
	set_state(sv, SV_BUILDING);
	logring_clear(&sv->build_log);
	if (output_pipe_open(&sv->build_out, sv->loop, STDERR_FILENO, "build| ") != 0 ||
	    output_pipe_open(&sv->build_err, sv->loop, STDERR_FILENO, "build| ") != 0)
		goto failed;
	if (sv->cache.build_started)
		sv->cache.build_started(sv->cache.ctx);
	if (sv->watch.build_running) /* before the spawn: the build may write at once */
		sv->watch.build_running(sv->watch.ctx, 1);
	sv->build_pid = proc_spawn(argv, sv->cfg->dir, sv->cfg->env, sv->build_out.child_fd, sv->build_err.child_fd);
	if (sv->build_pid < 0) {
		sv->build_pid = 0;
		if (sv->watch.build_running)
			sv->watch.build_running(sv->watch.ctx, 0);
		output_pipe_close(&sv->build_out, sv->loop);
		output_pipe_close(&sv->build_err, sv->loop);
		goto failed;
	}
	output_pipe_started(&sv->build_out, sv->loop);
	output_pipe_started(&sv->build_err, sv->loop);
	arm_build_timeout(sv);
	return;
failed:
	sv->build.ok = 0;
	sv->build_failures++;
	set_state(sv, SV_BUILD_FAILED);
	finish_cycle(sv, OUTCOME_BUILD_FAILED);
}

/* ---- cycles ------------------------------------------------------------------------------ */

/* Every cycle says why it runs (the paths of a file-triggered one); the watcher takes the files
 * as they are now as the state this cycle builds from. */
static void cycle_announce(struct supervisor *sv, const char *trigger, int full)
{
	int watch = strcmp(trigger, "watch") == 0;

	event_line(sv, "cycle %lu: %s%s%s", sv->cycle, watch ? "file change: " : trigger,
		   watch ? (*sv->watch_why ? sv->watch_why : "(watched files)") : "", full ? "" : " (restart without build)");
	if (sv->watch.cycle_started)
		sv->watch.cycle_started(sv->watch.ctx, trigger, full);
}

/* A poke while a cycle runs joins it when nothing changed since that cycle took its inputs
 * (save + poke is one restart, not two); a rebuild joins only a cycle that rebuilds too. */
static int joins_running_cycle(struct supervisor *sv, const char *trigger, int force)
{
	if (!sv->watch.changed || strcmp(trigger, "watch") == 0 || (force && !sv->cycle_force) || !sv->cycle_full)
		return 0;
	return !sv->watch.changed(sv->watch.ctx);
}

/* A follow-up cycle asked for by file changes alone is dropped when they were undone (or were the
 * build's own) by the time it would start. */
static int pending_is_stale(struct supervisor *sv)
{
	return sv->pending_watch_only && !sv->pending_force && sv->watch.changed && !sv->watch.changed(sv->watch.ctx);
}

static void start_cycle(struct supervisor *sv, int full, int force, const char *trigger)
{
	sv->cycle++;
	sv->cycle_full = full;
	sv->cycle_force = force;
	sv->t_cycle = ev_now(sv->loop);
	snprintf(sv->cycle_trigger, sizeof sv->cycle_trigger, "%s", trigger);
	snprintf(sv->last.trigger, sizeof sv->last.trigger, "%s", trigger);
	sv->last.build_ms = sv->last.stop_ms = sv->last.start_ms = sv->last.ready_ms = 0;
	ev_timer_stop(sv->loop, &sv->backoff_timer);
	sv->backoff_next = 0;
	cycle_announce(sv, trigger, full);
	if (full)
		begin_build(sv);
	else
		begin_stop(sv);
}

static void finish_cycle(struct supervisor *sv, enum sv_outcome outcome)
{
	struct sv_waiter *keep = NULL, *w, *next;

	sv->phase = PH_IDLE;
	sv->cycle_done = sv->cycle;
	/* Take the list first: a callback may add waiters or start requests. */
	w = sv->waiters;
	sv->waiters = NULL;
	for (; w; w = next) {
		next = w->next;
		if (w->cycle <= sv->cycle_done) {
			w->cb(sv, outcome, w->arg);
			free(w);
		} else {
			w->next = keep;
			keep = w;
		}
	}
	for (w = keep; w; w = next) {
		next = w->next;
		w->next = sv->waiters;
		sv->waiters = w;
	}
	if (sv->exiting)
		return;
	if (sv->pending && pending_is_stale(sv)) {
		event_line(sv, "follow-up cycle dropped: the watched files are as this cycle built them");
		sv->pending = sv->pending_force = sv->pending_watch_only = 0;
	}
	if (sv->pending) {
		int force = sv->pending_force;

		sv->pending = sv->pending_force = sv->pending_watch_only = 0;
		start_cycle(sv, 1, force, sv->pending_trigger);
	}
}

unsigned long sv_request(struct supervisor *sv, const char *trigger, int force)
{
	if (sv->exiting)
		return sv->cycle;
	if (sv->phase == PH_IDLE || sv->phase == PH_BACKOFF) {
		start_cycle(sv, 1, force, trigger);
		return sv->cycle;
	}
	if (joins_running_cycle(sv, trigger, force))
		return sv->cycle;
	/* Mid-cycle: fold into the one follow-up cycle. */
	if (!sv->pending) {
		snprintf(sv->pending_trigger, sizeof sv->pending_trigger, "%s", trigger);
		sv->pending_watch_only = strcmp(trigger, "watch") == 0;
	} else if (strcmp(trigger, "watch") != 0) {
		sv->pending_watch_only = 0;
	}
	sv->pending = 1;
	sv->pending_force |= force;
	if (ev_is_active(&sv->settle_timer)) {
		interrupt_settle(sv);
		return sv->cycle;
	}
	return sv->cycle + 1;
}

void sv_wait(struct supervisor *sv, unsigned long cycle, sv_waiter_cb cb, void *arg)
{
	struct sv_waiter *w = calloc(1, sizeof *w);

	if (!w) {
		cb(sv, OUTCOME_START_FAILED, arg);
		return;
	}
	w->cycle = cycle;
	w->cb = cb;
	w->arg = arg;
	w->next = sv->waiters;
	sv->waiters = w;
}

void sv_unwait(struct supervisor *sv, void *arg)
{
	for (struct sv_waiter **at = &sv->waiters; *at;) {
		if ((*at)->arg == arg) {
			struct sv_waiter *gone = *at;

			*at = gone->next;
			free(gone);
		} else {
			at = &(*at)->next;
		}
	}
}

/* ---- crashes ---------------------------------------------------------------------------- */

static void backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	sv->phase = PH_IDLE;
	start_cycle(sv, 0, 0, "crash");
}

static void service_exited(struct supervisor *sv, int status)
{
	double uptime = ev_now(sv->loop) - sv->svc_started;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	int failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	enum restart_policy policy = sv->cfg->restart.on_exit;

	sv->svc_status = status;
	if (sv->exiting)
		sv->exit_status = code;
	retire_service(sv);
	if (sv->phase == PH_STOPPING || sv->exiting) {
		check_stopped(sv);
		return;
	}
	if (WIFSIGNALED(status))
		event_line(sv, "service killed by SIG%s after %.1f s", config_signal_name(WTERMSIG(status)), uptime);
	else
		event_line(sv, "service exited with status %d after %.1f s", code, uptime);
	if (sv->phase == PH_READY_WAIT) {
		ready_cancel(&sv->ready, sv->loop);
		ev_timer_stop(sv->loop, &sv->settle_timer);
		sv->crashes++;
		set_state(sv, SV_CRASHED);
		finish_cycle(sv, OUTCOME_START_FAILED);
		if (sv->phase != PH_IDLE)
			return; /* a pending request already started the next cycle */
	} else {
		sv->crashes += failed;
		set_state(sv, failed ? SV_CRASHED : SV_STOPPED);
		if (sv->phase != PH_IDLE)
			return; /* mid-build: the cycle will start a new process anyway */
	}
	if (policy == RESTART_NEVER || (policy == RESTART_ON_FAILURE && !failed))
		return;
	if (uptime >= 10)
		sv->crash_streak = 0;
	sv->backoff_next = sv->cfg->restart.backoff_min;
	for (int i = 0; i < sv->crash_streak && sv->backoff_next < sv->cfg->restart.backoff_max; i++)
		sv->backoff_next *= 2;
	if (sv->backoff_next > sv->cfg->restart.backoff_max)
		sv->backoff_next = sv->cfg->restart.backoff_max;
	sv->crash_streak++;
	event_line(sv, "restarting in %.0f ms (crash %d in a row)", sv->backoff_next * 1000, sv->crash_streak);
	sv->phase = PH_BACKOFF;
	ev_timer_set(&sv->backoff_timer, sv->backoff_next, 0);
	ev_timer_start(sv->loop, &sv->backoff_timer);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct supervisor *sv = w->data;

	(void)loop;
	(void)revents;
	if (sv->build_pid && w->rpid == sv->build_pid) {
		build_finished(sv, w->rstatus);
		return;
	}
	if (sv->svc && sv->svc->pid == w->rpid) {
		service_exited(sv, w->rstatus);
		return;
	}
	/* An orphan or an old generation's process: reaped by libev already. */
	check_stopped(sv);
}

/* ---- set-up and exit -------------------------------------------------------------------- */

int sv_init(struct supervisor *sv, struct ev_loop *loop, struct config *cfg)
{
	memset(sv, 0, sizeof *sv);
	sv->loop = loop;
	sv->cfg = cfg;
	sv->svc_status = -1;
	sv->state = SV_STARTING;
	sv->ready_ok = 1;
	if (logring_init(&sv->logs, LOG_RING_BYTES) != 0 || logring_init(&sv->build_log, BUILD_RING_BYTES) != 0) {
		log_error("out of memory");
		return -1;
	}
	sv->build_out.rings[0] = sv->build_err.rings[0] = &sv->logs;
	sv->build_out.rings[1] = sv->build_err.rings[1] = &sv->build_log;
	sv->build_out.color = sv->build_err.color = "\033[36m";
	if (ready_configure(&sv->ready, cfg->ready.tcp, cfg->ready.http, cfg->ready.timeout) != 0)
		return -1;
	sv->ready.done = ready_done;
	sv->ready.owner = sv;
	ev_child_init(&sv->child_watcher, child_cb, 0, 0);
	sv->child_watcher.data = sv;
	ev_child_start(loop, &sv->child_watcher);
	ev_timer_init(&sv->stop_timer, stop_timeout_cb, 0, 0);
	sv->stop_timer.data = sv;
	ev_timer_init(&sv->gone_timer, gone_poll_cb, 0, 0);
	sv->gone_timer.data = sv;
	ev_timer_init(&sv->backoff_timer, backoff_cb, 0, 0);
	sv->backoff_timer.data = sv;
	ev_timer_init(&sv->build_timer, build_timeout_cb, 0, 0);
	sv->build_timer.data = sv;
	ev_timer_init(&sv->settle_timer, settle_cb, 0, 0);
	sv->settle_timer.data = sv;
	return 0;
}

void sv_start(struct supervisor *sv)
{
	start_cycle(sv, 1, 0, "start");
}

void sv_shutdown(struct supervisor *sv, int signo)
{
	if (sv->exiting) {
		/* Asked twice: no more waiting. */
		event_line(sv, "SIG%s again: killing everything now", config_signal_name(signo));
		proc_signal_tree(sv->svc && sv->svc->pid ? sv->svc->pid : 0, SIGKILL, 0);
		if (sv->build_pid)
			kill(-sv->build_pid, SIGKILL);
		return;
	}
	sv->exiting = 1;
	sv->exit_status = 128 + signo;
	event_line(sv, "SIG%s: stopping the service", config_signal_name(signo));
	ev_timer_stop(sv->loop, &sv->backoff_timer);
	if (sv->phase == PH_READY_WAIT) {
		ready_cancel(&sv->ready, sv->loop);
		ev_timer_stop(sv->loop, &sv->settle_timer);
	}
	{
		/* Waiters get their answer now. */
		struct sv_waiter *w = sv->waiters, *next;

		sv->waiters = NULL;
		for (; w; w = next) {
			next = w->next;
			w->cb(sv, OUTCOME_SHUTDOWN, w->arg);
			free(w);
		}
	}
	if (sv->build_pid) {
		kill(-sv->build_pid, SIGKILL); /* build_finished then stops the service */
		return;
	}
	if (sv->phase != PH_STOPPING)
		begin_stop(sv);
}

void sv_forward_signal(struct supervisor *sv, int signo)
{
	if (sv->svc && sv->svc->pid && kill(-sv->svc->pid, signo) != 0 && errno != ESRCH)
		log_warn("forwarding SIG%s: %s", config_signal_name(signo), strerror(errno));
}

void sv_free(struct supervisor *sv)
{
	struct sv_waiter *w, *next;

	ready_cancel(&sv->ready, sv->loop);
	ev_child_stop(sv->loop, &sv->child_watcher);
	ev_timer_stop(sv->loop, &sv->stop_timer);
	ev_timer_stop(sv->loop, &sv->gone_timer);
	ev_timer_stop(sv->loop, &sv->backoff_timer);
	ev_timer_stop(sv->loop, &sv->build_timer);
	ev_timer_stop(sv->loop, &sv->settle_timer);
	output_pipe_close(&sv->build_out, sv->loop);
	output_pipe_close(&sv->build_err, sv->loop);
	retire_service(sv);
	for (w = sv->waiters; w; w = next) {
		next = w->next;
		free(w);
	}
	logring_free(&sv->logs);
	logring_free(&sv->build_log);
}
