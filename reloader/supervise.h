/* supervise.h — the restart cycle: build -> stop old -> start new -> ready, coalescing requests,
 * reaping every child, crash restarts with backoff, and the graceful exit. */
#ifndef RL_SUPERVISE_H
#define RL_SUPERVISE_H

#include <ev.h>
#include <sys/types.h>

#include "config.h"
#include "logring.h"
#include "output.h"
#include "ready.h"

enum { BUILD_EXITED, BUILD_TIMED_OUT, BUILD_CANCELLED };

enum sv_state { SV_STARTING, SV_BUILDING, SV_RUNNING, SV_BUILD_FAILED, SV_CRASHED, SV_STOPPED };

/* What the supervisor is doing right now; one cycle runs the phases in this order. */
enum sv_phase { PH_IDLE, PH_BUILDING, PH_STOPPING, PH_READY_WAIT, PH_BACKOFF };

/* How a cycle ended, handed to waiters (POST ...?wait=1). */
enum sv_outcome {
	OUTCOME_RUNNING,      /* the new process runs (and is ready, if a check is set) */
	OUTCOME_BUILD_FAILED, /* the build failed; the old service (if any) still runs */
	OUTCOME_START_FAILED, /* the new process could not start, exited, or never became ready */
	OUTCOME_SHUTDOWN,     /* reloader is exiting */
};

struct supervisor;
typedef void (*sv_waiter_cb)(struct supervisor *sv, enum sv_outcome outcome, void *arg);

/* One service process and the pipes that carry its output; freed when its leader is reaped. */
struct service_proc {
	pid_t pid; /* group leader */
	struct output_pipe out, err;
};

struct sv_waiter {
	unsigned long cycle; /* resolved when this cycle (or a later one) ends */
	sv_waiter_cb cb;
	void *arg;
	struct sv_waiter *next;
};

/* Optional build cache (cache.c): says whether a build is needed and records successes. */
struct sv_cache_hooks {
	int (*up_to_date)(void *ctx);      /* 1: inputs and outputs unchanged since the last good build */
	void (*build_succeeded)(void *ctx); /* store the fingerprint of what was just built */
	void (*build_started)(void *ctx);   /* inputs are being read by a build from now on */
	void *ctx;
};

/* Optional file-change filter (watch.c): restarts only for content that really changed. */
struct sv_watch_hooks {
	int (*changed)(void *ctx); /* 1: watched content differs from what the current cycle builds from */
	void (*cycle_started)(void *ctx, const char *trigger, int full); /* builds from the files as they are now */
	void (*build_running)(void *ctx, int running); /* 1 at build start, 0 at its end: its own writes do not count */
	void *ctx;
};

struct supervisor {
	struct ev_loop *loop;
	struct config *cfg;
	enum sv_state state;
	enum sv_phase phase;

	ev_child child_watcher; /* pid 0: sees (and libev reaps) every child, orphans included */
	ev_timer stop_timer;    /* stop timeout: then SIGKILL to everything left */
	ev_timer gone_timer;    /* while stopping: polls until no descendant is left */
	ev_timer backoff_timer; /* delay before a crash restart */
	struct ready_check ready;

	struct service_proc *svc;      /* the current service, NULL when none runs */
	double svc_started;            /* ev_now when the current service started */
	int svc_status;                /* wait status of the last service exit, -1 if none */

	pid_t build_pid;               /* running build (its group), 0 when none */
	double build_started;
	struct output_pipe build_out, build_err;
	ev_timer build_timer;          /* build_timeout: kills a hung build's whole group */
	int build_end;                 /* how the last build ended: BUILD_EXITED, BUILD_TIMED_OUT, BUILD_CANCELLED */
	ev_timer settle_timer;         /* no readiness check: the new process must stay up ready.settle */
	char start_error[512];         /* why the last start failed before or instead of running, "" if none */

	struct logring logs;      /* build + service output, for GET /logs */
	struct logring build_log; /* the last build's output, for status and failed pokes */

	/* figures for /status and /metrics */
	unsigned long starts, restarts, builds, builds_cached, build_failures, crashes;
	double build_seconds_total;
	struct {
		int ran, ok, cached, exit_code;
		long duration_ms;
	} build;
	struct {
		char trigger[32];
		long build_ms, stop_ms, start_ms, ready_ms;
	} last;
	int ready_ok; /* the current service passed its readiness check (1 when none is set) */

	/* the cycle in progress and the one waiting behind it */
	unsigned long cycle, cycle_done;
	int cycle_full;           /* build (if needed) before restarting, vs. restart only */
	int cycle_force;          /* build even when the cache says nothing changed */
	double t_cycle, t_phase;  /* ev_now at cycle/phase start */
	int pending, pending_force;
	char pending_trigger[32];
	char cycle_trigger[32];

	int crash_streak;    /* crashes in a row, for the backoff */
	double backoff_next; /* seconds of the scheduled backoff, 0 when none */

	int exiting;         /* a SIGTERM/SIGINT arrived: stop the service, then leave */
	int exit_status;     /* what reloader exits with */

	struct sv_waiter *waiters;
	struct sv_cache_hooks cache;
	struct sv_watch_hooks watch;
	char watch_why[320];    /* the changed paths behind the latest "watch" request (its log line) */
	int pending_watch_only; /* the follow-up cycle was asked for by file changes alone */
	void (*on_idle_change)(struct supervisor *sv); /* state changed (wakes status watchers) */
};

/* Sets up watchers and rings. Returns 0 or -1 after logging. */
int sv_init(struct supervisor *sv, struct ev_loop *loop, struct config *cfg);
/* Starts the first cycle (build if needed, start). */
void sv_start(struct supervisor *sv);
void sv_free(struct supervisor *sv);

/*
 * Asks for a restart (full=1: rebuild first if inputs changed; force: rebuild regardless).
 * trigger names the cause for status ("poke", "signal", "watch", "crash").
 * Requests during a cycle coalesce into exactly one follow-up cycle.
 * Returns the cycle number that will serve this request.
 */
unsigned long sv_request(struct supervisor *sv, const char *trigger, int force);

/* Calls cb once cycle `cycle` (or a later one) has ended. */
void sv_wait(struct supervisor *sv, unsigned long cycle, sv_waiter_cb cb, void *arg);
/* Drops a waiter before it fires (its connection went away). */
void sv_unwait(struct supervisor *sv, void *arg);

/* POST /cancel: kills the running build's group (reported as a failed build). Returns the
 * build's pid, or 0 when no build runs. */
pid_t sv_cancel_build(struct supervisor *sv);

/* SIGTERM/SIGINT: stop the service gracefully, then break the loop. A second call kills. */
void sv_shutdown(struct supervisor *sv, int signo);
/* Forwards a signal to the service's process group. */
void sv_forward_signal(struct supervisor *sv, int signo);

const char *sv_state_name(enum sv_state s);

#endif
