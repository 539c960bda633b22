/* workers.h — the dashboard's cluster work off the event loop: state polling, syncs, reloader pokes, log tails, each on its own thread. */
#ifndef SM_WORKERS_H
#define SM_WORKERS_H

#include <jansson.h>

#include "kubeconfig.h"
#include "pipeline.h"

/*
 * Why threads: the kube client (kube.c) is blocking curl, per batch. Rather than rewrite it around
 * the libev loop, every piece of cluster work runs on a worker thread with its own client, and
 * hands results to the loop as JSON messages through post() (which the dashboard implements with
 * a locked queue and an ev_async). The loop thread never waits on the network.
 *
 * Ownership between threads: a value is owned by one thread at a time. post() hands msg over
 * whole: the worker keeps no reference into it (no json_incref'd child of something it still
 * uses, no shared string), because jansson's reference counts and objects are not safe to touch
 * from two threads. What a worker must keep (the poller's last snapshot) it deep-copies before
 * posting. The cfg's kc, opts and ns are read-only while workers run; only the sync thread runs the
 * pipeline, with a diagnostics sink of its own per job. Flags between threads are C11 atomics (cancel, done) or guarded by the workers' mutex.
 * libcurl's global init runs once in main before any thread (curl_global_init is not
 * thread-safe); every thread has its own kube client. The poller owns a clusterwatch
 * (clusterwatch.h): three watch threads (kwatch.h) whose caches it reads by deep copy only.
 *
 * Messages (each a new reference, handed over to post):
 *   {"type":"snapshot", "snapshot":{namespace, deployments:[...], source:{...}, error}}
 *   {"type":"poll", "error":S|null}                         every cluster poll that ended
 *   {"type":"templates-read"}                               every periodic template/image re-read
 *   {"type":"job", "id":N, "append":"text"}                progress/error lines of a job
 *   {"type":"job", "id":N, "done":true, "ok":B, "result":{...}}   result.cancelled when cancelled
 *   {"type":"log", "id":F, "text":"..."} / {"type":"log", "id":F, "pod":"NAME"} / {"type":"log", "id":F, "note":"..."}
 *   {"type":"follow-exit", "id":F}                          the follower thread ended: join it
 */
/* What `appdeploy agent` adds to the sync thread (cmd_agent.c); every callback runs on the sync thread
 * with the sync's client k, and reports through d (the job's output on the page, and the log). */
struct workers_agent {
	/* before each periodic check: fetch the configuration (git fetch, the bundle). 0, or -1 after
	 * saying why through d (nothing is synced; what was applied stays) */
	int (*refresh)(void *arg, struct kube *k, const struct diag *d);
	/* 1 when this process may sync (it holds the Lease), else 0 with the holder's name in holder */
	int (*leading)(void *arg, char *holder, size_t holderlen);
	/* the agent's own set, after the set rendered. apply 0: 1 when its render differs from what was
	 * applied last, 0 when not, -1 after an error through d. apply 1: applies it when it differs:
	 * 0, or -1 after an error through d */
	int (*self)(void *arg, struct kube *k, int apply, const struct diag *d);
	void *arg;
};

struct workers_cfg {
	const struct kube_config *kc; /* connection (borrowed for the workers' lifetime) */
	const struct pipeline_opts *opts; /* the render/apply flags (borrowed, read-only: the sync thread runs the pipeline with them) */
	const char *ns;               /* the namespace served */
	double interval;              /* seconds between template/image re-reads */
	double poll;                  /* seconds between cluster state polls */
	/* `appdeploy agent`'s hooks (NULL for serve; borrowed); its job lines are logged too */
	const struct workers_agent *agent;
	void (*post)(void *arg, json_t *msg); /* thread-safe hand-over to the loop */
	void *post_arg;
};

struct workers;

/* Starts the poller and sync threads. Returns NULL with err filled. */
struct workers *workers_start(const struct workers_cfg *cfg, struct sm_error *err);
/* Stops and joins every thread (running syncs finish first; follows and pokes are aborted). */
void workers_stop(struct workers *w);

/* Re-polls the cluster now (after a change the page should see soon). */
void workers_poll_now(struct workers *w);
/* Queues job id: re-render and sync everything (what `appdeploy apply` does). */
void workers_redeploy(struct workers *w, unsigned id);
/* Queues job id: switch service to mode on (enum sourcemode: 0 CI image, 1 source from a hostPath, 2 synced),
 * save it in the ConfigMap, re-render and sync. */
void workers_source(struct workers *w, unsigned id, const char *service, int on);
/* Cancels job id: a queued sync job is dropped (1), a running sync or restart is asked to end (2;
 * its API requests are aborted, it ends failed with result.cancelled); 0 when no such job runs. */
int workers_cancel(struct workers *w, unsigned id);
/* Starts job id: POST /restart?wait=1 to the reloader of deployment's current pod via the pod proxy.
 * Returns 0, or -1 when too many pokes are running. */
int workers_restart(struct workers *w, unsigned id, const char *deployment);
/* What a log follower reads (NULL: the current pod, default container, followed). */
struct workers_log_opts {
	char *pod;       /* one pod of the deployment, read to its end; NULL = the current pod, following replacements */
	char *container; /* NULL = the pod's default */
	int previous;    /* the previous (crashed) container's log instead, not followed */
	int timestamps;  /* RFC 3339 timestamps in front of each line */
};

/* Starts following deployment's log as o says (o may be NULL; its strings are copied); returns the
 * follower id for "log" messages, 0 when too many follow or a name is not a Kubernetes name. */
unsigned workers_follow(struct workers *w, const char *deployment, const struct workers_log_opts *o);
/* Asks follower id to end; a "follow-exit" message follows, then call workers_reap. */
void workers_unfollow(struct workers *w, unsigned id);
/* Joins an exited follower. */
void workers_reap(struct workers *w, unsigned id);

#endif
