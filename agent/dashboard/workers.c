/* workers.c — the dashboard's threads: cluster poller, sync (redeploy, source toggles, periodic re-render), reloader pokes and log followers. */
#include "workers.h"

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clusterview.h"
#include "clusterwatch.h"
#include "duration.h"
#include "kube.h"
#include "log.h"
#include "lookup.h"
#include "sha256.h"
#include "sourcemode.h"
#include "sourcestate.h"
#include "sync.h"

#define MAX_POKES 8
#define MAX_FOLLOWERS 32
#define POKE_MAX_BODY (1u << 20)
#define SYNC_REQUEST_TIMEOUT 30 /* seconds before a sync's API request gives up (a hung API server) */
#define ROLLOUT_TIMEOUT 300.0   /* seconds a source toggle waits for its rollout */

enum job_kind { JOB_REDEPLOY, JOB_SOURCE };

struct job {
	struct job *next;
	enum job_kind kind;
	unsigned id;
	char *service; /* JOB_SOURCE */
	int on;        /* JOB_SOURCE: the enum sourcemode to switch to */
};

/* A thread doing one thing for the page: a reloader poke or a log follow. */
struct task {
	struct task *next;
	struct workers *w;
	unsigned id;
	char *deployment;
	struct workers_log_opts log; /* follows: which pod and container, how (strings owned) */
	pthread_t th;
	atomic_int cancel; /* set by the owner: stop as soon as possible */
	atomic_int done;   /* set by the thread as it ends */
};

struct workers {
	struct workers_cfg cfg;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* jobs queued, poll asked, or stopping */
	int stopping, poll_now;
	int watch_changed, poll_fresh; /* the watches' caches changed / a job waits for a relisted snapshot */
	unsigned long polls_started, polls_done; /* the poller's counts (guarded by mu): workers_poll_wait */
	struct job *jobs, **jobs_tail;
	pthread_t poll_th, sync_th;
	struct task *pokes, *follows; /* guarded by mu */
	unsigned next_follow;
	atomic_uint next_auto; /* ids of jobs the sync thread starts itself (periodic changes) */
	unsigned running;      /* id of the job the sync thread runs now, 0 when none (guarded by mu) */
	atomic_int sync_cancel; /* set by workers_cancel: the running sync job ends as soon as it can */
	atomic_int quit;        /* set by workers_stop: the poller's requests end at once */
};

static struct timespec deadline_ts(double at)
{
	struct timespec ts = {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)};
	return ts;
}

static void post(struct workers *w, json_t *msg)
{
	w->cfg.post(w->cfg.post_arg, msg);
}

/* Sleeps up to s seconds, returning early (1) when *cancel is set. */
static int nap(atomic_int *cancel, double s)
{
	for (double end = mono_seconds() + s; mono_seconds() < end;) {
		if (atomic_load(cancel))
			return 1;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return atomic_load(cancel) != 0;
}

static struct kube *client(struct workers *w, long timeout_s, const atomic_int *cancel, char *err, size_t errlen)
{
	struct sm_error e;
	struct kube *k = kube_new(w->cfg.kc, &e);
	if (!k)
		errbuf_set(err, errlen, "%s", e.msg);
	if (k) {
		kube_set_retries(k, 2, 500);
		kube_set_limits(k, timeout_s, cancel);
	}
	return k;
}

/* ------------------------------------------------------------------ cluster state */

/* For each Deployment in source mode with a ready pod: its reloader's GET /status through the pod
 * proxy, as "reloader": {pod, state, ready, restarts, crashes, build:{ok, duration_ms, exit_code},
 * last_restart:{trigger, build_ms}} or {pod, error}. */
static void reloader_status(struct workers *w, struct kube *k, json_t *deps)
{
	size_t n = json_array_size(deps), m = 0, i;
	struct kube_req *r = calloc(n ? n : 1, sizeof *r);
	json_t **of = calloc(n ? n : 1, sizeof *of);
	json_t *d;
	json_array_foreach(deps, i, d) {
		if (strcmp(json_string_value(json_object_get(d, "mode")) ?: "", "source"))
			continue;
		const char *pod = NULL, *best_t = "";
		size_t j;
		json_t *p;
		json_array_foreach(json_object_get(d, "pods"), j, p) {
			const char *t = json_string_value(json_object_get(p, "created")) ?: "";
			if (json_is_true(json_object_get(p, "ready")) && (!pod || strcmp(t, best_t) > 0)) {
				pod = json_string_value(json_object_get(p, "name"));
				best_t = t;
			}
		}
		const char *port = json_string_value(json_object_get(d, "control_port"));
		if (!pod)
			continue;
		r[m].method = KUBE_GET;
		if (asprintf(&r[m].path, "/api/v1/namespaces/%s/pods/%s:%s/proxy/status", w->cfg.ns, pod, port ? port : "7070") < 0)
			abort();
		r[m].data = (void *)pod;
		of[m++] = d;
	}
	if (m)
		kube_do(k, r, m);
	for (i = 0; i < m; i++) {
		json_t *st = r[i].response, *out;
		if (r[i].status / 100 == 2 && json_is_object(st) && json_object_get(st, "state")) {
			json_t *b = json_object_get(st, "build"), *lr = json_object_get(st, "last_restart");
			out = json_pack("{s:s, s:s?, s:b, s:I, s:I, s:{s:b, s:I, s:I}, s:{s:s?, s:I}}", "pod", (const char *)r[i].data,
					"state", json_string_value(json_object_get(st, "state")), "ready",
					json_is_true(json_object_get(st, "ready")), "restarts",
					json_integer_value(json_object_get(st, "restarts")), "crashes",
					json_integer_value(json_object_get(st, "crashes")), "build", "ok",
					json_is_true(json_object_get(b, "ok")), "duration_ms",
					json_integer_value(json_object_get(b, "duration_ms")), "exit_code",
					json_integer_value(json_object_get(b, "exit_code")), "last_restart", "trigger",
					json_string_value(json_object_get(lr, "trigger")), "build_ms",
					json_integer_value(json_object_get(lr, "build_ms")));
		} else {
			out = json_pack("{s:s, s:s}", "pod", (const char *)r[i].data, "error",
					r[i].status / 100 == 2 ? "the pod's control port did not answer as reloader does" : r[i].err);
		}
		json_object_set_new(of[i], "reloader", out);
		kube_req_clear(&r[i]);
	}
	free(r);
	free(of);
}

/* The snapshot from the watches (clusterwatch.c); probe: read the ConfigMap (the liveness check). */
static json_t *poll_once(struct workers *w, struct clusterwatch *cw, struct kube *k, int probe, int fresh)
{
	json_t *snap = clusterwatch_snapshot(cw, k, probe, fresh), *d;
	size_t i;
	json_array_foreach(json_object_get(snap, "deployments"), i, d) {
		if (!strcmp(json_string_value(json_object_get(d, "mode")) ?: "", "source")) {
			/* the reloaders' status goes into a copy: the cached snapshot stays as the watches made it */
			json_t *copy = json_deep_copy(snap);
			json_decref(snap);
			snap = copy;
			reloader_status(w, k, json_object_get(snap, "deployments"));
			break;
		}
	}
	return snap;
}

/* A watch thread's cache changed: the poller builds a snapshot (no request needed). */
static void watch_changed(void *arg)
{
	struct workers *w = arg;
	pthread_mutex_lock(&w->mu);
	w->watch_changed = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

static void *poll_main(void *arg)
{
	struct workers *w = arg;
	char err[1024];
	/* a hung API server must not hold the poller for curl's default two minutes: the page says
	 * "stale" after 2 polls anyway, and the error comes after this */
	double t = 5 * w->cfg.poll;
	long timeout = t < 5 ? 5 : t > 30 ? 30 : (long)t;
	struct kube *k = client(w, timeout, &w->quit, err, sizeof err);
	struct sm_error se;
	struct clusterwatch *cw = k ? clusterwatch_start(w->cfg.kc, w->cfg.ns, timeout, &w->quit, watch_changed, w, &se) : NULL;
	if (k && !cw)
		snprintf(err, sizeof err, "%.1023s", se.msg);
	json_t *last = NULL;
	int probe = 1, fresh = 0;
	double next_probe = 0, built = 0;
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		w->polls_started++;
		pthread_mutex_unlock(&w->mu);
		if (probe)
			next_probe = mono_seconds() + w->cfg.poll;
		json_t *snap = cw ? poll_once(w, cw, k, probe, fresh)
				  : json_pack("{s:s, s:[], s:{}, s:s}", "namespace", w->cfg.ns, "deployments", "source", "error", err);
		built = mono_seconds();
		/* the loop gets its own copy: no jansson value is shared between threads (workers.h) */
		if (!last || !json_equal(last, snap))
			post(w, json_pack("{s:s, s:o}", "type", "snapshot", "snapshot", json_deep_copy(snap)));
		post(w, json_pack("{s:s, s:s?}", "type", "poll", "error", json_string_value(json_object_get(snap, "error"))));
		json_decref(last);
		last = snap;
		pthread_mutex_lock(&w->mu);
		w->polls_done++;
		pthread_cond_broadcast(&w->cond); /* workers_poll_wait */
		/* until the next probe, a job's ask, or a watch's change (at most 20 snapshots a second) */
		for (;;) {
			double now = mono_seconds(), wake = next_probe;
			if (w->stopping || w->poll_now || now >= next_probe)
				break;
			if (w->watch_changed) {
				if (now >= built + 0.05)
					break;
				if (built + 0.05 < wake)
					wake = built + 0.05;
			}
			struct timespec until = deadline_ts(wake);
			pthread_cond_timedwait(&w->cond, &w->mu, &until);
		}
		probe = w->poll_now || mono_seconds() >= next_probe;
		fresh = w->poll_fresh;
		w->poll_now = w->watch_changed = w->poll_fresh = 0;
	}
	pthread_mutex_unlock(&w->mu);
	json_decref(last);
	clusterwatch_stop(cw);
	kube_free(k);
	return NULL;
}

void workers_poll_now(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->poll_now = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Asks for a poll and waits (at most timeout seconds) until one that started after this call has
 * posted its snapshot: what a job reports next is then never ahead of what the page shows. */
static void workers_poll_wait(struct workers *w, double timeout)
{
	struct timespec until = deadline_ts(mono_seconds() + timeout);
	pthread_mutex_lock(&w->mu);
	unsigned long want = w->polls_started + 1;
	w->poll_now = 1;
	w->poll_fresh = 1; /* relisted: the watches may not have delivered what the job saw yet */
	pthread_cond_broadcast(&w->cond);
	while (!w->stopping && w->polls_done < want)
		if (pthread_cond_timedwait(&w->cond, &w->mu, &until))
			break;
	pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------ sync */

/* A FILE whose lines become "append" messages of job id: the sync's progress lines, render errors
 * and logged errors all reach the page through it. */
struct job_out {
	struct workers *w;
	unsigned id;
};

/* Each line of text as a log line (the agent's log repeats its page's job output). */
static void log_lines(const char *text, size_t n)
{
	while (n) {
		const char *nl = memchr(text, '\n', n);
		size_t l = nl ? (size_t)(nl - text) : n;
		log_info("%.*s", (int)l, text);
		l += nl != NULL;
		text += l;
		n -= l;
	}
}

/* 1 when text ends with tail (a failure said again, maybe without the line naming the new configuration). */
static int ends_with(const char *text, const char *tail)
{
	size_t a = strlen(text), b = strlen(tail);
	return b <= a && !strcmp(text + a - b, tail);
}

static ssize_t job_out_write(void *cookie, const char *buf, size_t n)
{
	struct job_out *jo = cookie;
	if (jo->w->cfg.agent) /* the agent's log says what its page says */
		log_lines(buf, n);
	json_t *msg = json_pack("{s:s, s:I, s:s%}", "type", "job", "id", (json_int_t)jo->id, "append", buf, n);
	if (msg)
		post(jo->w, msg);
	return (ssize_t)n;
}

static int job_out_close(void *cookie)
{
	free(cookie);
	return 0;
}

static FILE *job_out_open(struct workers *w, unsigned id)
{
	struct job_out *jo = malloc(sizeof *jo);
	jo->w = w;
	jo->id = id;
	FILE *f = fopencookie(jo, "w", (cookie_io_functions_t){.write = job_out_write, .close = job_out_close});
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static void job_start(struct workers *w, unsigned id, const char *kind, const char *target)
{
	post(w, json_pack("{s:s, s:I, s:b, s:s, s:s?}", "type", "job", "id", (json_int_t)id, "start", 1, "kind", kind,
			  "target", target));
}

static void job_done(struct workers *w, unsigned id, int ok, json_t *result)
{
	post(w, json_pack("{s:s, s:I, s:b, s:b, s:o}", "type", "job", "id", (json_int_t)id, "done", 1, "ok", ok, "result",
			  result ? result : json_object()));
}

/* The sync run's sink (diag.h): everything the pipeline reports goes to the job's output f (which
 * the run switches from memory to the page once it knows there is something to show); errors and
 * warnings also go to stderr, as appdeploy logs them. */
struct run_sink {
	FILE *f;
};

static void run_diag(void *arg, enum diag_kind kind, const char *text)
{
	struct run_sink *rs = arg;
	if (kind == DIAG_PROGRESS)
		fprintf(rs->f, "%s\n", text);
	else if (kind == DIAG_RENDER)
		fprintf(rs->f, "appdeploy: %s\n", text);
	else if (kind == DIAG_WARN) {
		fprintf(rs->f, "warning: %s\n", text);
		log_warn("%s", text);
	} else {
		fprintf(rs->f, "%s\n", text);
		log_error("%s", text);
	}
}

/* State of the sync thread between runs. */
struct sync_state {
	struct kube *k;
	char applied[65];   /* digest of the last successfully applied render ("" = none yet) */
	char *last_failure; /* the last periodic render/apply failure shown, to not repeat it each interval */
	json_t *baseline;   /* live versions of what was applied last (live_versions), or NULL */
	int again;          /* the source state changed while the last sync ran (it rendered the old one): at once */
};

/* A manifest's object (objs items are {"object": {...}, ...}). */
static json_t *obj_at(json_t *objs, size_t i)
{
	return json_object_get(json_array_get(objs, i), "object");
}

/* "KIND/NAME" of a manifest or live object. */
static void obj_key(json_t *o, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", json_string_value(json_object_get(o, "kind")) ?: "",
		 json_string_value(json_object_get(json_object_get(o, "metadata"), "name")) ?: "");
}

/*
 * The live version of each rendered object, {"KIND/NAME": "gen N" | "rv N" | ""} ("" = missing):
 * metadata.generation where the API server keeps one (it moves only when the spec changes, not on
 * status updates), else resourceVersion. One list per kind, not one GET per object. Returns NULL
 * with err filled when the cluster could not be read.
 */
static json_t *live_versions(struct workers *w, struct kube *k, json_t *objs, char *err, size_t errlen)
{
	struct sm_error ke;
	if (kube_discover(k, &ke)) {
		errbuf_set(err, errlen, "%s", ke.msg);
		return NULL;
	}
	size_t n = json_array_size(objs), nres = 0;
	const struct kube_resource **res = calloc(n ? n : 1, sizeof *res);
	json_t *out = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *o = obj_at(objs, i);
		const struct kube_resource *r = kube_find(k, json_string_value(json_object_get(o, "apiVersion")) ?: "",
							  json_string_value(json_object_get(o, "kind")) ?: "");
		char key[512];
		obj_key(o, key, sizeof key);
		json_object_set_new(out, key, json_string(""));
		size_t j = 0;
		while (r && j < nres && res[j] != r)
			j++;
		if (r && j == nres)
			res[nres++] = r;
	}
	int failed = 0;
	for (int scope = 0; scope < 2 && !failed; scope++) {
		const struct kube_resource **pick = calloc(nres ? nres : 1, sizeof *pick);
		size_t np = 0;
		for (size_t j = 0; j < nres; j++)
			if (res[j]->namespaced == !scope)
				pick[np++] = res[j];
		json_t **items = calloc(np ? np : 1, sizeof *items);
		if (np && kube_list_many(k, pick, np, scope ? "" : w->cfg.ns, NULL, items, &ke)) {
			errbuf_set(err, errlen, "%s", ke.msg);
			failed = 1;
		}
		for (size_t j = 0; j < np && !failed; j++) {
			size_t i;
			json_t *o;
			json_array_foreach(items[j], i, o) {
				char key[512], ver[64];
				if (!json_object_get(o, "kind"))
					json_object_set_new(o, "kind", json_string(pick[j]->kind));
				obj_key(o, key, sizeof key);
				if (!json_object_get(out, key))
					continue;
				json_t *md = json_object_get(o, "metadata"), *gen = json_object_get(md, "generation");
				if (json_is_integer(gen))
					snprintf(ver, sizeof ver, "gen %lld", (long long)json_integer_value(gen));
				else
					snprintf(ver, sizeof ver, "rv %s", json_string_value(json_object_get(md, "resourceVersion")) ?: "");
				json_object_set_new(out, key, json_string(ver));
			}
		}
		for (size_t j = 0; j < np; j++)
			json_decref(items[j]);
		free(items);
		free(pick);
	}
	free(res);
	if (failed) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Says (into why) how the live objects differ from the baseline; 0 when they do not. */
static int drifted(json_t *baseline, json_t *now, char *why, size_t whylen)
{
	const char *key;
	json_t *v;
	int missing = 0, changed = 0;
	why[0] = 0;
	json_object_foreach(baseline, key, v) {
		const char *have = json_string_value(json_object_get(now, key)) ?: "";
		if (!strcmp(have, json_string_value(v) ?: ""))
			continue;
		if (!why[0])
			snprintf(why, whylen, "%s %s", key, *have ? "was changed in the cluster" : "is missing");
		if (*have)
			changed++;
		else
			missing++;
	}
	if (missing + changed > 1) {
		size_t l = strlen(why);
		snprintf(why + l, whylen - l, " (%d missing, %d changed in all)", missing, changed);
	}
	return missing + changed;
}

/* Waits for deployment name's rollout: every replica updated, ready and available, old ones gone.
 * Returns 0, or -1 with err filled (failed, cancelled, timed out, unreadable). Progress lines to f. */
static int wait_rollout(struct workers *w, struct kube *k, const char *name, FILE *f, char *err, size_t errlen)
{
	double end = mono_seconds() + ROLLOUT_TIMEOUT;
	char last[256] = "";
	for (;;) {
		if (atomic_load(&w->sync_cancel)) {
			snprintf(err, errlen, "cancelled while waiting for deployment/%s to roll out", name);
			return -1;
		}
		struct kube_req r = {.method = KUBE_GET};
		if (asprintf(&r.path, "/apis/apps/v1/namespaces/%s/deployments/%s", w->cfg.ns, name) < 0)
			abort();
		kube_do(k, &r, 1);
		if (r.status / 100 != 2) {
			snprintf(err, errlen, "deployment/%.200s: %.700s", name, r.err);
			kube_req_clear(&r);
			return -1;
		}
		json_t *d = r.response, *spec = json_object_get(d, "spec");
		json_int_t want = json_is_integer(json_object_get(spec, "replicas")) ? json_integer_value(json_object_get(spec, "replicas")) : 1;
		json_int_t gen = cv_int(d, "metadata", "generation", 0), seen = cv_int(d, "status", "observedGeneration", 0);
		json_int_t total = cv_int(d, "status", "replicas", 0), upd = cv_int(d, "status", "updatedReplicas", 0);
		json_int_t ready = cv_int(d, "status", "readyReplicas", 0), avail = cv_int(d, "status", "availableReplicas", 0);
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(json_object_get(d, "status"), "conditions"), i, c) {
			if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", "Progressing") &&
			    !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "False")) {
				snprintf(err, errlen, "deployment/%s rollout failed: %s: %s", name,
					 json_string_value(json_object_get(c, "reason")) ?: "",
					 json_string_value(json_object_get(c, "message")) ?: "");
				kube_req_clear(&r);
				return -1;
			}
		}
		kube_req_clear(&r);
		if (seen >= gen && upd == want && ready == want && avail == want && total == want) {
			fprintf(f, "deployment/%s rolled out: %lld/%lld ready\n", name, (long long)ready, (long long)want);
			return 0;
		}
		char line[256];
		snprintf(line, sizeof line, "waiting for deployment/%s: %lld of %lld updated, %lld ready, %lld old\n", name,
			 (long long)upd, (long long)want, (long long)ready, (long long)(total > upd ? total - upd : 0));
		if (strcmp(line, last)) {
			fputs(line, f);
			snprintf(last, sizeof last, "%s", line);
		}
		if (mono_seconds() > end) {
			snprintf(err, errlen, "deployment/%s did not finish rolling out in %.0f s", name, ROLLOUT_TIMEOUT);
			return -1;
		}
		workers_poll_now(w);
		if (nap(&w->sync_cancel, 0.25))
			continue; /* says "cancelled" above */
	}
}

/* sourcestate_edit_fn: a source-mode job's choice for its service. */
static int set_source(json_t *state, void *arg, struct sm_error *err)
{
	const struct job *job = arg;
	(void)err;
	if (job->on)
		json_object_set_new(state, job->service, job->on == SOURCEMODE_SYNC ? json_string("sync") : json_true());
	else
		json_object_del(state, job->service);
	return 0;
}

/* One run: job NULL is the periodic check (sync only when the render changed, the live objects
 * drifted from what was applied, or the last sync failed). */
static void sync_run(struct workers *w, struct sync_state *ss, struct job *job)
{
	char err[1024], why[700] = "";
	char *early = NULL;
	size_t early_len = 0;
	unsigned id = job ? job->id : 0;
	/* the periodic check writes to memory until it knows there is something to show */
	FILE *f = job ? job_out_open(w, id) : open_memstream(&early, &early_len);
	struct run_sink rs = {f};
	const struct diag sink = {run_diag, &rs};
	kube_set_diag(ss->k, &sink);
	int ok = 0;
	json_t *state = NULL, *objs = NULL;
	struct pipeline_set ps = {0};
	if (job)
		job_start(w, id, job->kind == JOB_SOURCE ? sourcemode_job_kind(job->on) : "redeploy", job->service);
	struct sm_error se;
	if (job && job->kind == JOB_SOURCE) {
		int changed;
		/* read, set, write back unless another writer came in between (then again): a CLI --source saved
		 * meanwhile is kept */
		if (sourcestate_update(ss->k, w->cfg.ns, set_source, job, &state, &changed, &se)) {
			fprintf(f, "%.1023s\n", se.msg);
			goto out;
		}
		fprintf(f, "source mode %s for %s (saved in configmap/%s)\n", sourcemode_said(job->on), job->service,
			SOURCESTATE_NAME);
		workers_poll_now(w);
	} else if (sourcestate_load(ss->k, w->cfg.ns, &state, &se)) {
		fprintf(f, "%.1023s\n", se.msg); /* periodic: no job; the poller shows the cluster's error */
		goto out;
	}
	/* the pipeline's load and one render, with the state just read (and saved) as .Source;
	 * lookup reads the cluster in the dashboard's syncs too, as in apply (lookup.c) */
	const struct workers_agent *ag = w->cfg.agent;
	int fetch_failed = ag && !job && ag->refresh(ag->arg, ss->k, &sink);
	int rc = fetch_failed;
	if (!rc) {
		lookup_use(ss->k, NULL);
		rc = pipeline_load(w->cfg.opts, w->cfg.kc->namespace, &sink, &ps) ||
		     pipeline_render(w->cfg.opts, &ps, state, &sink, &objs);
		lookup_use(NULL, NULL);
	}
	int self_changed = 0;
	char digest[65] = "";
	if (!rc) {
		char *text = json_dumps(objs, JSON_COMPACT | JSON_SORT_KEYS);
		sha256_hex(text, strlen(text), digest);
		free(text);
		if (strcmp(ps.ns, w->cfg.ns))
			fprintf(f, "warning: the templates now name namespace %s; this dashboard serves %s (restart it to switch)\n",
				ps.ns, w->cfg.ns);
	}
	if (!job) {
		/* periodic: nothing to do when the render is what we applied last and still live */
		if (!rc && !strcmp(digest, ss->applied) && !ss->last_failure) {
			json_t *now = ss->baseline ? live_versions(w, ss->k, objs, err, sizeof err) : NULL;
			int drift = now && drifted(ss->baseline, now, why, sizeof why);
			json_decref(now);
			self_changed = !drift && ag ? ag->self(ag->arg, ss->k, 0, &sink) : 0;
			if (!drift && !self_changed)
				goto out;
		}
		fflush(f);
		if (rc && ss->last_failure && early && ends_with(ss->last_failure, early))
			goto out; /* the same error as last time: said already (the page keeps it as a banner) */
		id = atomic_fetch_add(&w->next_auto, 1);
		job_start(w, id, ss->applied[0] ? "auto-sync" : "initial-sync", NULL);
		fclose(f);
		if (early_len) {
			if (w->cfg.agent)
				log_lines(early, early_len);
			post(w, json_pack("{s:s, s:I, s:s}", "type", "job", "id", (json_int_t)id, "append", early));
		}
		free(ss->last_failure);
		ss->last_failure = rc ? early : NULL;
		if (rc)
			early = NULL;
		f = job_out_open(w, id);
		rs.f = f;
		if (rc) {
			/* said below, after the failure's own lines */
		} else if (why[0])
			fprintf(f, "live objects drifted from the last applied state: %s: syncing\n", why);
		else if (strcmp(digest, ss->applied))
			fprintf(f, "templates or images changed: syncing\n");
		else if (self_changed)
			fprintf(f, "the agent's own set changed: syncing\n");
		else
			fprintf(f, "the last sync failed: syncing again\n");
	}
	if (rc) {
		fprintf(f, fetch_failed ? "fetching the configuration failed; nothing was changed\n"
					: "render failed; nothing was changed\n");
		goto out;
	}
	if (pipeline_apply(ss->k, w->cfg.opts, w->cfg.ns, ps.set, objs, &sink, &se))
		fprintf(f, "%.1023s\n", se.msg);
	else {
		memcpy(ss->applied, digest, sizeof ss->applied);
		fprintf(f, "applied to namespace %s\n", w->cfg.ns);
		workers_poll_now(w);
		/* a source toggle is done when its new pods are up, not when the API took the change */
		if (job && job->kind == JOB_SOURCE && wait_rollout(w, ss->k, job->service, f, err, sizeof err))
			fprintf(f, "%s\n", err);
		else
			ok = 1;
		json_decref(ss->baseline);
		ss->baseline = live_versions(w, ss->k, objs, err, sizeof err);
		/* a choice saved while this sync ran (an apply --source, another agent's toggle) is not in what it
		 * applied: the next check runs at once and renders it */
		json_t *now = NULL;
		if (!sourcestate_load(ss->k, w->cfg.ns, &now, &se) && !json_equal(now, state)) {
			fprintf(f, "the source-mode state changed during this sync: syncing again\n");
			ss->again = 1;
		}
		json_decref(now);
	}
	if (ok && ag && ag->self(ag->arg, ss->k, 1, &sink))
		ok = 0; /* the agent's own set did not apply: the next periodic check tries again */
	if (ok) {
		free(ss->last_failure);
		ss->last_failure = NULL;
	} else if (!ss->last_failure)
		ss->last_failure = strdup("sync failed"); /* the next periodic check tries again */
	/* a job's result reaches the page after the snapshot that shows it (a toggle's "ok" never
	 * arrives while its row still says progressing) */
	if (id)
		workers_poll_wait(w, 5.0);
	else
		workers_poll_now(w);
out:
	if (id && atomic_load(&w->sync_cancel))
		fprintf(f, "cancelled: the sync stopped at the step above (what was applied before it stays)\n");
	fflush(f);
	kube_set_diag(ss->k, NULL);
	fclose(f);
	free(early);
	if (id)
		job_done(w, id, ok, atomic_load(&w->sync_cancel) ? json_pack("{s:b}", "cancelled", 1) : NULL);
	json_decref(state);
	json_decref(objs);
	pipeline_set_clear(&ps);
}

/* A job asked of an agent that does not hold the Lease. */
static void refuse_job(struct workers *w, struct job *job, const char *holder)
{
	job_start(w, job->id, job->kind == JOB_SOURCE ? sourcemode_job_kind(job->on) : "redeploy", job->service);
	post(w, json_pack("{s:s, s:I, s:s+++}", "type", "job", "id", (json_int_t)job->id, "append", "waiting: agent ",
			  *holder ? holder : "(unknown)",
			  " is syncing; this agent does not sync until it holds the lease", "\n"));
	job_done(w, job->id, 0, NULL);
}

static void *sync_main(void *arg)
{
	struct workers *w = arg;
	struct sync_state ss = {0};
	char err[1024];
	ss.k = client(w, SYNC_REQUEST_TIMEOUT, &w->sync_cancel, err, sizeof err);
	if (!ss.k) {
		log_error("dashboard sync: %s", err);
		return NULL;
	}
	kube_set_discovery_max_age(ss.k, w->cfg.interval); /* #11: one discovery per re-sync interval */
	double next = 0; /* the first periodic check runs at once: serve syncs on start */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct timespec until = deadline_ts(next);
		while (!w->stopping && !w->jobs && mono_seconds() < next)
			if (pthread_cond_timedwait(&w->cond, &w->mu, &until))
				break;
		if (w->stopping)
			break;
		struct job *job = w->jobs;
		if (job) {
			w->jobs = job->next;
			if (!w->jobs)
				w->jobs_tail = &w->jobs;
		} else if (mono_seconds() < next)
			continue;
		w->running = job ? job->id : 0;
		atomic_store(&w->sync_cancel, 0);
		pthread_mutex_unlock(&w->mu);
		char holder[256] = "";
		if (w->cfg.agent && !w->cfg.agent->leading(w->cfg.agent->arg, holder, sizeof holder)) {
			/* another agent holds the Lease: it syncs, this one waits (and looks again soon) */
			if (job)
				refuse_job(w, job, holder);
			else
				next = mono_seconds() + (w->cfg.interval < 1 ? w->cfg.interval : 1);
		} else {
			sync_run(w, &ss, job);
			if (!job) {
				next = mono_seconds() + w->cfg.interval;
				post(w, json_pack("{s:s}", "type", "templates-read"));
			}
			if (ss.again)
				next = 0;
			ss.again = 0;
		}
		if (job) {
			free(job->service);
			free(job);
		}
		pthread_mutex_lock(&w->mu);
		w->running = 0;
		atomic_store(&w->sync_cancel, 0);
	}
	pthread_mutex_unlock(&w->mu);
	free(ss.last_failure);
	json_decref(ss.baseline);
	kube_free(ss.k);
	return NULL;
}

int workers_cancel(struct workers *w, unsigned id)
{
	int rc = 0;
	struct job *gone = NULL;
	pthread_mutex_lock(&w->mu);
	for (struct job **at = &w->jobs; *at; at = &(*at)->next)
		if ((*at)->id == id) {
			gone = *at;
			*at = gone->next;
			if (!*at)
				w->jobs_tail = at;
			rc = 1;
			break;
		}
	if (!rc && id && w->running == id) {
		atomic_store(&w->sync_cancel, 1);
		rc = 2;
	}
	for (struct task *t = w->pokes; !rc && t; t = t->next)
		if (t->id == id && !atomic_load(&t->done)) {
			atomic_store(&t->cancel, 1);
			rc = 2;
		}
	pthread_mutex_unlock(&w->mu);
	if (gone) {
		post(w, json_pack("{s:s, s:I, s:s}", "type", "job", "id", (json_int_t)id, "append", "cancelled before it started\n"));
		job_done(w, id, 0, json_pack("{s:b}", "cancelled", 1));
		free(gone->service);
		free(gone);
	}
	return rc;
}

static void queue(struct workers *w, struct job *j)
{
	pthread_mutex_lock(&w->mu);
	*w->jobs_tail = j;
	w->jobs_tail = &j->next;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

void workers_redeploy(struct workers *w, unsigned id)
{
	struct job *j = calloc(1, sizeof *j);
	j->kind = JOB_REDEPLOY;
	j->id = id;
	queue(w, j);
}

void workers_source(struct workers *w, unsigned id, const char *service, int on)
{
	struct job *j = calloc(1, sizeof *j);
	j->kind = JOB_SOURCE;
	j->id = id;
	j->service = strdup(service);
	j->on = on;
	queue(w, j);
}

/* ------------------------------------------------------------------ pods of a deployment */

static void esc_selector(char *out, size_t outlen, json_t *match)
{
	size_t n = 0;
	const char *k;
	json_t *v;
	out[0] = 0;
	json_object_foreach(match, k, v) {
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s%%3D%s", n ? "%2C" : "", k,
				      json_string_value(v) ?: "");
		if (n >= outlen) {
			out[0] = 0;
			return;
		}
	}
}

/* The deployment's current pod: running and not being deleted, newest first; NULL when none.
 * *dep (when given) receives the Deployment. */
static char *current_pod(struct workers *w, struct kube *k, const char *deployment, json_t **dep, char *err, size_t errlen)
{
	struct kube_req r = {.method = KUBE_GET};
	if (asprintf(&r.path, "/apis/apps/v1/namespaces/%s/deployments/%s", w->cfg.ns, deployment) < 0)
		abort();
	kube_do(k, &r, 1);
	if (r.status / 100 != 2) {
		snprintf(err, errlen, "deployment %.200s: %.800s", deployment, r.err);
		kube_req_clear(&r);
		return NULL;
	}
	char sel[2048];
	esc_selector(sel, sizeof sel, json_object_get(json_object_get(json_object_get(r.response, "spec"), "selector"), "matchLabels"));
	if (dep)
		*dep = json_incref(r.response);
	kube_req_clear(&r);
	struct kube_req p = {.method = KUBE_GET};
	if (asprintf(&p.path, "/api/v1/namespaces/%s/pods?labelSelector=%s", w->cfg.ns, sel) < 0)
		abort();
	kube_do(k, &p, 1);
	char *best = NULL;
	const char *best_t = "";
	size_t i;
	json_t *pod;
	json_array_foreach(json_object_get(p.response, "items"), i, pod) {
		json_t *md = json_object_get(pod, "metadata");
		const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase")) ?: "";
		const char *t = json_string_value(json_object_get(md, "creationTimestamp")) ?: "";
		if (json_object_get(md, "deletionTimestamp") || strcmp(phase, "Running"))
			continue;
		if (!best || strcmp(t, best_t) > 0) {
			free(best);
			best = strdup(json_string_value(json_object_get(md, "name")));
			best_t = t;
		}
	}
	if (!best)
		snprintf(err, errlen, "%s", p.status / 100 != 2 ? p.err : "no running pod yet");
	kube_req_clear(&p);
	if (!best && dep) {
		json_decref(*dep);
		*dep = NULL;
	}
	return best;
}

/* ------------------------------------------------------------------ reloader pokes */

struct body_buf {
	struct task *t;
	char *data;
	size_t len;
};

static int collect_cb(void *arg, long status, const char *data, size_t len)
{
	struct body_buf *b = arg;
	(void)status;
	if (atomic_load(&b->t->cancel))
		return 1;
	if (!data || b->len + len > POKE_MAX_BODY)
		return 0;
	char *nb = realloc(b->data, b->len + len + 1);
	if (!nb)
		return 1;
	b->data = nb;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

static void *poke_main(void *arg)
{
	struct task *t = arg;
	struct workers *w = t->w;
	char err[1024];
	json_t *dep = NULL, *result = json_object();
	int ok = 0;
	job_start(w, t->id, "restart", t->deployment);
	struct kube *k = client(w, SYNC_REQUEST_TIMEOUT, &t->cancel, err, sizeof err);
	char *pod = k ? current_pod(w, k, t->deployment, &dep, err, sizeof err) : NULL;
	if (pod) {
		const char *port = cv_annotation(dep, "sourcemode.dev/control-port");
		char *path;
		if (asprintf(&path, "/api/v1/namespaces/%s/pods/%s:%s/proxy/restart?wait=1", w->cfg.ns, pod, port ? port : "7070") < 0)
			abort();
		json_object_set_new(result, "pod", json_string(pod));
		post(w, json_pack("{s:s, s:I, s:s+}", "type", "job", "id", (json_int_t)t->id, "append",
				  "POST /restart?wait=1 to the reloader of pod ", pod));
		struct body_buf b = {.t = t};
		struct sm_error se;
		long status = kube_stream(k, "POST", path, 600, collect_cb, &b, &se);
		if (status < 0)
			errbuf_set(err, sizeof err, "%s", se.msg);
		free(path);
		json_object_set_new(result, "status", json_integer(status));
		json_t *answer = b.data ? json_loads(b.data, 0, NULL) : NULL;
		if (status < 0) {
			json_object_set_new(result, "error", json_string(err));
		} else if (json_is_object(answer) && json_object_get(answer, "outcome")) {
			/* reloader's answer: {ok, outcome, status, build_output} */
			ok = json_is_true(json_object_get(answer, "ok"));
			json_object_set(result, "outcome", json_object_get(answer, "outcome"));
			if (json_object_get(answer, "build_output"))
				json_object_set(result, "build_output", json_object_get(answer, "build_output"));
			json_t *bs = json_object_get(json_object_get(answer, "status"), "build");
			if (bs)
				json_object_set(result, "build", bs);
		} else {
			/* not reloader (the API server's own error, or a service without a control API) */
			const char *msg = json_string_value(json_object_get(answer, "message"));
			json_object_set_new(result, "error", json_string(msg ? msg : b.data ? b.data : "empty answer"));
		}
		json_decref(answer);
		free(b.data);
	} else {
		json_object_set_new(result, "error", json_string(err));
	}
	free(pod);
	json_decref(dep);
	kube_free(k);
	job_done(w, t->id, ok, result);
	workers_poll_now(w);
	atomic_store(&t->done, 1);
	return NULL;
}

static void task_free(struct task *t);

/* Joins finished tasks of list *at (mu held). */
static void reap_done(struct task **at)
{
	while (*at) {
		struct task *t = *at;
		if (atomic_load(&t->done)) {
			pthread_join(t->th, NULL);
			*at = t->next;
			task_free(t);
		} else
			at = &t->next;
	}
}

static struct task *task_new(struct workers *w, unsigned id, const char *deployment)
{
	struct task *t = calloc(1, sizeof *t);
	t->w = w;
	t->id = id;
	t->deployment = strdup(deployment);
	return t;
}

int workers_restart(struct workers *w, unsigned id, const char *deployment)
{
	pthread_mutex_lock(&w->mu);
	reap_done(&w->pokes);
	int n = 0;
	for (struct task *t = w->pokes; t; t = t->next)
		n++;
	if (n >= MAX_POKES || w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	struct task *t = task_new(w, id, deployment);
	if (pthread_create(&t->th, NULL, poke_main, t)) {
		pthread_mutex_unlock(&w->mu);
		task_free(t);
		return -1;
	}
	t->next = w->pokes;
	w->pokes = t;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* ------------------------------------------------------------------ log followers */

static void log_msg_post(struct task *t, const char *key, const char *text)
{
	post(t->w, json_pack("{s:s, s:I, s:s}", "type", "log", "id", (json_int_t)t->id, key, text));
}

static int log_cb(void *arg, long status, const char *data, size_t len)
{
	struct task *t = arg;
	if (atomic_load(&t->cancel))
		return 1;
	if (data && len && status / 100 == 2)
		post(t->w, json_pack("{s:s, s:I, s:s%}", "type", "log", "id", (json_int_t)t->id, "text", data, len));
	return 0;
}

static int url_safe(const char *s)
{
	for (; s && *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static void *follow_main(void *arg)
{
	struct task *t = arg;
	struct workers *w = t->w;
	const struct workers_log_opts *lo = &t->log;
	char err[1024], *last_pod = NULL, last_note[1024] = "";
	struct kube *k = client(w, SYNC_REQUEST_TIMEOUT, &t->cancel, err, sizeof err);
	while (k && !atomic_load(&t->cancel)) {
		/* one named pod: its log once (to its end); else the current pod, following replacements */
		char *pod = lo->pod ? strdup(lo->pod) : current_pod(w, k, t->deployment, NULL, err, sizeof err);
		if (!pod) {
			if (strcmp(err, last_note)) {
				log_msg_post(t, "note", err);
				snprintf(last_note, sizeof last_note, "%s", err);
			}
			nap(&t->cancel, 0.5);
			continue;
		}
		last_note[0] = 0;
		if (!last_pod || strcmp(pod, last_pod))
			log_msg_post(t, "pod", pod);
		char *path;
		if (asprintf(&path, "/api/v1/namespaces/%s/pods/%s/log?%stailLines=200%s%s%s", w->cfg.ns, pod,
			     lo->previous ? "previous=true&" : "follow=true&", lo->timestamps ? "&timestamps=true" : "",
			     lo->container ? "&container=" : "", lo->container ? lo->container : "") < 0)
			abort();
		struct sm_error se;
		long status = kube_stream(k, "GET", path, lo->previous ? SYNC_REQUEST_TIMEOUT : 0, log_cb, t, &se);
		if (status < 0)
			errbuf_set(err, sizeof err, "%s", se.msg);
		free(path);
		if (status < 0 || (status && status / 100 != 2))
			log_msg_post(t, "note", status < 0 ? err
					: lo->previous ? "no previous container log (the container has not restarted)"
						       : "the log could not be read");
		free(last_pod);
		last_pod = pod;
		if (lo->pod || lo->previous) {
			if (!atomic_load(&t->cancel) && status / 100 == 2)
				log_msg_post(t, "note", lo->previous ? "end of the previous container's log" : "the pod's log ended");
			break;
		}
		/* the stream ended: the pod stopped or was replaced; look again shortly */
		nap(&t->cancel, 0.3);
	}
	if (!k)
		log_msg_post(t, "note", err);
	free(last_pod);
	kube_free(k);
	atomic_store(&t->done, 1);
	post(w, json_pack("{s:s, s:I}", "type", "follow-exit", "id", (json_int_t)t->id));
	return NULL;
}

static void task_free(struct task *t)
{
	free(t->deployment);
	free(t->log.pod);
	free(t->log.container);
	free(t);
}

unsigned workers_follow(struct workers *w, const char *deployment, const struct workers_log_opts *o)
{
	if (o && (!url_safe(o->pod) || !url_safe(o->container)))
		return 0;
	pthread_mutex_lock(&w->mu);
	int n = 0;
	for (struct task *t = w->follows; t; t = t->next)
		n++;
	if (n >= MAX_FOLLOWERS || w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	struct task *t = task_new(w, ++w->next_follow, deployment);
	if (o) {
		t->log = *o;
		t->log.pod = o->pod ? strdup(o->pod) : NULL;
		t->log.container = o->container ? strdup(o->container) : NULL;
	}
	if (pthread_create(&t->th, NULL, follow_main, t)) {
		pthread_mutex_unlock(&w->mu);
		task_free(t);
		return 0;
	}
	t->next = w->follows;
	w->follows = t;
	pthread_mutex_unlock(&w->mu);
	return t->id;
}

void workers_unfollow(struct workers *w, unsigned id)
{
	pthread_mutex_lock(&w->mu);
	for (struct task *t = w->follows; t; t = t->next)
		if (t->id == id)
			atomic_store(&t->cancel, 1);
	pthread_mutex_unlock(&w->mu);
}

void workers_reap(struct workers *w, unsigned id)
{
	(void)id;
	pthread_mutex_lock(&w->mu);
	reap_done(&w->follows);
	pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------ life cycle */

struct workers *workers_start(const struct workers_cfg *cfg, struct sm_error *err)
{
	struct workers *w = calloc(1, sizeof *w);
	w->cfg = *cfg;
	w->jobs_tail = &w->jobs;
	atomic_init(&w->next_auto, 1u << 30); /* apart from the dashboard's ids */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	if (pthread_create(&w->poll_th, NULL, poll_main, w)) {
		sm_error_set(err, NULL, 0, 0, "cannot start a thread");
		free(w);
		return NULL;
	}
	if (pthread_create(&w->sync_th, NULL, sync_main, w)) {
		sm_error_set(err, NULL, 0, 0, "cannot start a thread");
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->poll_th, NULL);
		free(w);
		return NULL;
	}
	return w;
}

void workers_stop(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	/* a hung API server must not hold the shutdown: abort what the poller and the sync wait for */
	atomic_store(&w->quit, 1);
	atomic_store(&w->sync_cancel, 1);
	pthread_cond_broadcast(&w->cond);
	for (struct task *t = w->pokes; t; t = t->next)
		atomic_store(&t->cancel, 1);
	for (struct task *t = w->follows; t; t = t->next)
		atomic_store(&t->cancel, 1);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->poll_th, NULL);
	pthread_join(w->sync_th, NULL);
	for (struct task **list = &w->pokes; list; list = list == &w->pokes ? &w->follows : NULL)
		while (*list) {
			struct task *t = *list;
			pthread_join(t->th, NULL);
			*list = t->next;
			task_free(t);
		}
	while (w->jobs) {
		struct job *j = w->jobs;
		w->jobs = j->next;
		free(j->service);
		free(j);
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
