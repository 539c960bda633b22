/* dashboard.c — `appdeploy serve`'s loop side: routes of the JSON API, jobs, server-sent events, the embedded page, CSRF and token checks. */
#include "dashboard.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "secret.h"
#include "sourcemode.h"

/* scripts/embed.sh's table of the files in agent/web (NULL-terminated) */
extern const struct embedded_asset {
	const char *name;
	const unsigned char *data;
	size_t size;
} embedded_assets[];

#define MAX_JOBS 50
#define MAX_JOB_OUTPUT (256 * 1024)
#define MAX_LOG_PODS 6 /* pods one "all pods" log view interleaves */
#define PING_SECONDS 5.0 /* also how often pages hear the data's age: silence for 3 pings = agent gone */

/* A client of /api/events (every snapshot and job change) or of a service's log. */
struct sub {
	struct dashboard *d;
	struct http_stream *st;
	unsigned follower[MAX_LOG_PODS]; /* log subscribers: the workers' follower ids (0 = unused) */
	char *from[MAX_LOG_PODS];        /* ... and the pod each follows, when several are interleaved */
	struct sub *next, **pprev;
};

struct dashboard {
	struct dashboard_cfg cfg;
	struct http_server *http;
	struct workers *w;
	pthread_mutex_t qmu;
	json_t *queue;        /* messages from the workers, guarded by qmu */
	ev_async async;       /* "the queue has messages" */
	ev_timer ping;        /* keeps idle streams alive (and notices clients that left) */
	json_t *snapshot;     /* the last cluster state */
	json_t *jobs;         /* recent jobs, oldest first */
	unsigned next_job;
	char csrf[65];        /* required in X-CSRF-Token on every POST */
	char cookie[64];      /* the token cookie's name: one per port, so two dashboards on one host do not clash */
	ev_tstamp polled_at;  /* when the last cluster poll ended (0 = none yet) */
	char *poll_error;     /* its error, or NULL */
	ev_tstamp read_at;    /* when the templates were last re-read (0 = none yet) */
	json_t *sync_failed;  /* the last sync job when it failed, until one succeeds (NULL otherwise) */
	int loopback;         /* listening on a loopback address: only accept loopback Host names */
	struct sub *events, *logs;
};

/* ------------------------------------------------------------------ helpers */

static void random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, nbytes) != (ssize_t)nbytes) {
		/* no urandom: weaker, but still unguessable from a web page */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		srandom((unsigned)(ts.tv_nsec ^ getpid()));
		for (size_t i = 0; i < nbytes; i++)
			b[i] = (unsigned char)random();
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void sse(struct http_stream *st, const char *event, json_t *data)
{
	char *s = json_dumps(data, JSON_COMPACT);
	char *msg;
	int n = asprintf(&msg, "event: %s\ndata: %s\n\n", event, s ? s : "null");
	free(s);
	if (n > 0) {
		http_stream_write(st, msg, (size_t)n);
		free(msg);
	}
}

static void broadcast(struct dashboard *d, const char *event, json_t *data)
{
	for (struct sub *s = d->events; s; s = s->next)
		sse(s->st, event, data);
}

static void sub_link(struct sub **head, struct sub *s)
{
	s->next = *head;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = head;
	*head = s;
}

static void sub_unlink(struct sub *s)
{
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
}

static json_t *find_deployment(struct dashboard *d, const char *name)
{
	size_t i;
	json_t *dep;
	json_array_foreach(json_object_get(d->snapshot, "deployments"), i, dep) {
		if (!strcmp(json_string_value(json_object_get(dep, "name")) ?: "", name))
			return dep;
	}
	return NULL;
}

static json_t *find_job(struct dashboard *d, unsigned id)
{
	size_t i;
	json_t *j;
	json_array_foreach(d->jobs, i, j) {
		if (json_integer_value(json_object_get(j, "id")) == (json_int_t)id)
			return j;
	}
	return NULL;
}

static json_t *new_job(struct dashboard *d, unsigned id, const char *kind, const char *target)
{
	json_t *j = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:I, s:n}", "id", (json_int_t)id, "kind", kind, "target", target,
			      "state", "queued", "output", "", "started", (json_int_t)time(NULL), "result");
	if (json_array_size(d->jobs) >= MAX_JOBS)
		json_array_remove(d->jobs, 0);
	json_array_append_new(d->jobs, j);
	return j;
}

/* How fresh each source is: ages in seconds (null = never yet), the periods they should refresh in,
 * the cluster's error and the last failed sync (until one succeeds). */
static json_t *status_json(struct dashboard *d)
{
	ev_tstamp now = ev_now(d->cfg.loop);
	json_t *st = json_pack("{s:o, s:f, s:o, s:f, s:s?, s:O?}", "cluster_age",
			       d->polled_at ? json_real(now - d->polled_at) : json_null(), "poll", d->cfg.workers.poll,
			       "templates_age", d->read_at ? json_real(now - d->read_at) : json_null(), "interval",
			       d->cfg.workers.interval, "error", d->poll_error, "sync_failed", d->sync_failed);
	if (d->cfg.lease)
		json_object_set_new(st, "lease", d->cfg.lease(d->cfg.lease_arg));
	return st;
}

static json_t *session_json(struct dashboard *d)
{
	json_t *s = json_pack("{s:s, s:s, s:s?, s:b}", "csrf", d->csrf, "namespace", d->cfg.workers.ns, "context",
			      d->cfg.context, "token", d->cfg.token != NULL);
	if (d->cfg.lease)
		json_object_set_new(s, "lease", d->cfg.lease(d->cfg.lease_arg));
	return s;
}

static void broadcast_status(struct dashboard *d)
{
	if (!d->events)
		return;
	json_t *st = status_json(d);
	broadcast(d, "status", st);
	json_decref(st);
}

static int is_sync_kind(const char *kind)
{
	return !strcmp(kind, "redeploy") || !strcmp(kind, "auto-sync") || !strcmp(kind, "initial-sync") ||
	       !strncmp(kind, "source-", 7);
}

/* ------------------------------------------------------------------ messages from the workers */

static void on_job_msg(struct dashboard *d, json_t *m)
{
	unsigned id = (unsigned)json_integer_value(json_object_get(m, "id"));
	json_t *j = find_job(d, id);
	if (!j && !json_is_true(json_object_get(m, "start")))
		return;
	if (!j)
		j = new_job(d, id, json_string_value(json_object_get(m, "kind")) ?: "job",
			    json_string_value(json_object_get(m, "target")));
	if (json_is_true(json_object_get(m, "start")))
		json_object_set_new(j, "state", json_string("running"));
	const char *add = json_string_value(json_object_get(m, "append"));
	if (add) {
		const char *have = json_string_value(json_object_get(j, "output")) ?: "";
		size_t hl = strlen(have), al = strlen(add);
		if (hl + al > MAX_JOB_OUTPUT) /* keep the tail: the error is usually last */
			have += hl + al - MAX_JOB_OUTPUT < hl ? hl + al - MAX_JOB_OUTPUT : hl;
		char *out;
		if (asprintf(&out, "%s%s", have, add) >= 0) {
			json_object_set_new(j, "output", json_string(out));
			free(out);
		}
	}
	int done = json_is_true(json_object_get(m, "done"));
	if (done) {
		int ok = json_is_true(json_object_get(m, "ok"));
		int cancelled = json_is_true(json_object_get(json_object_get(m, "result"), "cancelled"));
		json_object_set_new(j, "state", json_string(ok ? "ok" : cancelled ? "cancelled" : "failed"));
		json_object_set_new(j, "ok", json_boolean(ok));
		json_object_set(j, "result", json_object_get(m, "result"));
		json_object_set_new(j, "finished", json_integer((json_int_t)time(NULL)));
	}
	broadcast(d, "job", j);
	/* the last failed sync stays on every page (also ones opened later) until a sync succeeds */
	if (done && is_sync_kind(json_string_value(json_object_get(j, "kind")) ?: "")) {
		int ok = json_is_true(json_object_get(j, "ok"));
		if (ok || strcmp(json_string_value(json_object_get(j, "state")), "cancelled")) {
			json_decref(d->sync_failed);
			d->sync_failed = ok ? NULL : json_deep_copy(j);
			broadcast_status(d);
		}
	}
}

static void on_log_msg(struct dashboard *d, json_t *m)
{
	unsigned id = (unsigned)json_integer_value(json_object_get(m, "id"));
	for (struct sub *s = d->logs; s; s = s->next)
		for (int i = 0; i < MAX_LOG_PODS; i++)
			if (s->follower[i] == id) {
				json_object_del(m, "type");
				json_object_del(m, "id");
				if (s->from[i])
					json_object_set_new(m, "from", json_string(s->from[i]));
				sse(s->st, "log", m);
				return;
			}
}

static void handle_msg(struct dashboard *d, json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type")) ?: "";
	if (!strcmp(type, "snapshot")) {
		json_t *snap = json_object_get(m, "snapshot");
		/* the cluster could not be read: keep showing what was last known, marked stale, rather
		 * than an empty list that looks like "no Deployments" */
		if (!json_is_null(json_object_get(snap, "error")) && d->snapshot) {
			json_t *prev = json_object_get(d->snapshot, "deployments");
			if (json_array_size(prev)) {
				json_object_set(snap, "deployments", prev);
				json_object_set(snap, "source", json_object_get(d->snapshot, "source"));
				json_object_set_new(snap, "stale", json_true());
			}
		}
		json_decref(d->snapshot);
		d->snapshot = json_incref(snap);
		broadcast(d, "snapshot", d->snapshot);
	} else if (!strcmp(type, "poll")) {
		const char *e = json_string_value(json_object_get(m, "error"));
		if (!e) /* "updated N s ago" counts from the last poll that read the cluster */
			d->polled_at = ev_now(d->cfg.loop);
		free(d->poll_error);
		d->poll_error = e ? strdup(e) : NULL;
		broadcast_status(d);
	} else if (!strcmp(type, "templates-read")) {
		d->read_at = ev_now(d->cfg.loop);
		broadcast_status(d);
	} else if (!strcmp(type, "job"))
		on_job_msg(d, m);
	else if (!strcmp(type, "log"))
		on_log_msg(d, m);
	else if (!strcmp(type, "follow-exit"))
		workers_reap(d->w, (unsigned)json_integer_value(json_object_get(m, "id")));
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct dashboard *d = w->data;
	(void)loop, (void)revents;
	pthread_mutex_lock(&d->qmu);
	json_t *q = d->queue;
	d->queue = json_array();
	pthread_mutex_unlock(&d->qmu);
	size_t i;
	json_t *m;
	json_array_foreach(q, i, m) {
		handle_msg(d, m);
	}
	json_decref(q);
}

/* Called on worker threads. */
static void post_cb(void *arg, json_t *msg)
{
	struct dashboard *d = arg;
	pthread_mutex_lock(&d->qmu);
	json_array_append_new(d->queue, msg);
	pthread_mutex_unlock(&d->qmu);
	ev_async_send(d->cfg.loop, &d->async);
}

static void ping_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dashboard *d = w->data;
	(void)loop, (void)revents;
	broadcast_status(d); /* doubles as the events stream's keep-alive */
	for (struct sub *s = d->logs; s; s = s->next)
		http_stream_write(s->st, ": ping\n\n", 8);
}

/* ------------------------------------------------------------------ routes */

static void sub_closed(void *arg)
{
	struct sub *s = arg;
	sub_unlink(s);
	for (int i = 0; i < MAX_LOG_PODS; i++) {
		if (s->follower[i] && s->d->w)
			workers_unfollow(s->d->w, s->follower[i]);
		free(s->from[i]);
	}
	free(s);
}

static void open_events(struct dashboard *d, struct http_req *r)
{
	struct sub *s = calloc(1, sizeof *s);
	s->d = d;
	sub_link(&d->events, s);
	s->st = http_stream_open(r, "text/event-stream", sub_closed, s);
	if (!s->st)
		return; /* sub_closed ran */
	http_stream_write(s->st, "retry: 1000\n\n", 13);
	json_t *st = status_json(d);
	sse(s->st, "status", st);
	json_decref(st);
	sse(s->st, "jobs", d->jobs);
	if (d->snapshot)
		sse(s->st, "snapshot", d->snapshot);
}

static int query_true(struct http_req *r, const char *name)
{
	const char *v = http_query(r, name);
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

/* GET /api/services/NAME/logs[?pod=P|all][&container=C][&previous=1][&timestamps=1] */
static void open_logs(struct dashboard *d, struct http_req *r, json_t *dep)
{
	const char *name = json_string_value(json_object_get(dep, "name"));
	const char *pod = http_query(r, "pod");
	struct workers_log_opts o = {.container = (char *)http_query(r, "container"), .previous = query_true(r, "previous"),
				     .timestamps = query_true(r, "timestamps")};
	if (o.container && !*o.container)
		o.container = NULL;
	struct sub *s = calloc(1, sizeof *s);
	s->d = d;
	int n = 0;
	if (pod && !strcmp(pod, "all")) {
		/* every pod of the Deployment, interleaved; the page re-opens when the pods change */
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(dep, "pods"), i, p) {
			const char *pn = json_string_value(json_object_get(p, "name"));
			if (!pn || n >= MAX_LOG_PODS || json_is_true(json_object_get(p, "deleting")))
				continue;
			o.pod = (char *)pn;
			if ((s->follower[n] = workers_follow(d->w, name, &o)))
				s->from[n++] = strdup(pn);
		}
	} else {
		o.pod = pod && *pod ? (char *)pod : NULL;
		if ((s->follower[0] = workers_follow(d->w, name, &o)))
			n = 1;
	}
	if (!n) {
		for (int i = 0; i < MAX_LOG_PODS; i++)
			free(s->from[i]);
		free(s);
		http_reply_error(r, pod && !strcmp(pod, "all") ? 404 : 503,
				 pod && !strcmp(pod, "all") ? "no pods to follow" : "too many log viewers, or a bad pod/container name");
		return;
	}
	sub_link(&d->logs, s);
	s->st = http_stream_open(r, "text/event-stream", sub_closed, s);
	if (!s->st)
		return; /* sub_closed ran */
	http_stream_write(s->st, "retry: 2000\n\n", 13);
}

static json_t *service_details(struct dashboard *d, json_t *dep)
{
	json_t *out = json_deep_copy(dep);
	const char *name = json_string_value(json_object_get(dep, "name"));
	const char *container = json_string_value(json_object_get(dep, "container"));
	char *cmd;
	/* the same cluster the dashboard talks to: --kubeconfig and --context as serve was given them */
	if (asprintf(&cmd, "kubectl%s%s%s%s exec -it -n %s deploy/%s%s%s -- sh", d->cfg.kubeconfig ? " --kubeconfig " : "",
		     d->cfg.kubeconfig ? d->cfg.kubeconfig : "", d->cfg.context ? " --context " : "",
		     d->cfg.context ? d->cfg.context : "", d->cfg.workers.ns, name, container ? " -c " : "",
		     container ? container : "") >= 0) {
		json_object_set_new(out, "exec", json_string(cmd));
		free(cmd);
	}
	json_object_set_new(out, "namespace", json_string(d->cfg.workers.ns));
	return out;
}

static void serve_asset(struct http_req *r, const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		     {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
		     {".json", "application/json"}, {".ico", "image/svg+xml"}};
	for (size_t i = 0; embedded_assets[i].name; i++) {
		if (strcmp(embedded_assets[i].name, name))
			continue;
		const char *type = "application/octet-stream", *dot = strrchr(name, '.');
		for (size_t t = 0; dot && t < sizeof types / sizeof types[0]; t++)
			if (!strcmp(dot, types[t].ext))
				type = types[t].type;
		http_reply(r, 200, type, embedded_assets[i].data, embedded_assets[i].size, NULL);
		return;
	}
	http_reply_error(r, 404, "not found");
}

/* Host names a loopback-bound dashboard answers to (against DNS rebinding from web pages). */
static int host_ok(struct dashboard *d, struct http_req *r)
{
	if (!d->loopback)
		return 1;
	const char *h = http_header(r, "Host");
	if (!h)
		return 1;
	char host[256];
	snprintf(host, sizeof host, "%s", h);
	char *colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
	if (colon && *colon == ']')
		colon[1] = 0;
	else if (colon)
		*colon = 0;
	return !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]");
}

static int authorized(struct dashboard *d, struct http_req *r)
{
	if (!d->cfg.token)
		return 1;
	const char *auth = http_header(r, "Authorization");
	if (auth && !strncasecmp(auth, "Bearer ", 7) && secret_equal(auth + 7, d->cfg.token))
		return 1;
	return secret_equal(http_cookie(r, d->cookie), d->cfg.token);
}

/* "/api/services/NAME[/REST]" -> NAME into name, returns REST ("" when none) or NULL. */
static const char *service_route(const char *path, char *name, size_t namelen)
{
	const char *p = path + strlen("/api/services/");
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (!n || n >= namelen)
		return NULL;
	memcpy(name, p, n);
	name[n] = 0;
	for (size_t i = 0; i < n; i++) /* Kubernetes names: lower-case alphanumerics, '-' and '.' */
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '.'))
			return NULL;
	return slash ? slash : "";
}

static void handle_post(struct dashboard *d, struct http_req *r, const char *path)
{
	if (!secret_equal(http_header(r, "X-CSRF-Token"), d->csrf)) {
		http_reply_error(r, 403, "missing or wrong X-CSRF-Token (reload the page)");
		return;
	}
	if (!strncmp(path, "/api/jobs/", 10)) {
		char *end;
		unsigned long id = strtoul(path + 10, &end, 10);
		json_t *j = find_job(d, (unsigned)id);
		if (!j || strcmp(end, "/cancel")) {
			http_reply_error(r, 404, "no such job");
			return;
		}
		const char *st = json_string_value(json_object_get(j, "state")) ?: "";
		if (strcmp(st, "queued") && strcmp(st, "running")) {
			http_reply_error(r, 409, "the job has ended already");
			return;
		}
		int how = workers_cancel(d->w, (unsigned)id);
		if (!how) {
			http_reply_error(r, 409, "the job has ended already");
			return;
		}
		http_reply_json(r, 202, json_pack("{s:I, s:s}", "job", (json_int_t)id, "cancel", how == 1 ? "dropped" : "asked"));
		return;
	}
	if (!strcmp(path, "/api/redeploy")) {
		unsigned id = ++d->next_job;
		json_t *j = new_job(d, id, "redeploy", NULL);
		broadcast(d, "job", j);
		workers_redeploy(d->w, id);
		http_reply_json(r, 202, json_pack("{s:I}", "job", (json_int_t)id));
		return;
	}
	char name[254];
	const char *rest = !strncmp(path, "/api/services/", 14) ? service_route(path, name, sizeof name) : NULL;
	if (!rest || (strcmp(rest, "/source") && strcmp(rest, "/restart"))) {
		http_reply_error(r, 404, "no such action");
		return;
	}
	json_t *dep = find_deployment(d, name);
	if (!dep) {
		http_reply_error(r, 404, "no such deployment");
		return;
	}
	if (!json_is_true(json_object_get(dep, "source_capable"))) {
		http_reply_error(r, 409, "this deployment has no source mode (no sourcemode.dev/runner annotation)");
		return;
	}
	if (!strcmp(rest, "/source")) {
		/* {"mode": "ci"|"hostpath"|"sync"} (#18), or {"on": true|false} (hostpath / ci) */
		json_t *body = json_loads(http_body(r, NULL), 0, NULL);
		json_t *on = json_object_get(body, "on");
		int mode = json_is_boolean(on) ? json_is_true(on) : sourcemode_parse(json_string_value(json_object_get(body, "mode")));
		json_decref(body);
		if (mode < 0) {
			http_reply_error(r, 400, "want a JSON body {\"mode\": \"ci\"|\"hostpath\"|\"sync\"} or {\"on\": true|false}");
			return;
		}
		json_t *allowed = json_object_get(dep, "source_modes"), *m;
		size_t i;
		int ok = 0;
		json_array_foreach(allowed, i, m)
			ok |= !strcmp(json_string_value(m) ?: "", sourcemode_name(mode));
		if (!ok) {
			http_reply_error(r, 409, mode == SOURCEMODE_SYNC ? "this deployment has no synced source mode (its "
					 "sourcemode.dev/source-modes annotation does not list sync)"
					 : "this deployment has no source mode from a hostPath (its sourcemode.dev/source-modes "
					   "annotation does not list hostpath)");
			return;
		}
		unsigned id = ++d->next_job;
		broadcast(d, "job", new_job(d, id, sourcemode_job_kind(mode), name));
		workers_source(d->w, id, name, mode);
		http_reply_json(r, 202, json_pack("{s:I}", "job", (json_int_t)id));
		return;
	}
	if (strcmp(json_string_value(json_object_get(dep, "mode")) ?: "", "source")) {
		http_reply_error(r, 409, "restart pokes reloader: switch the service to source mode first");
		return;
	}
	unsigned id = ++d->next_job;
	broadcast(d, "job", new_job(d, id, "restart", name));
	if (workers_restart(d->w, id, name)) {
		json_t *j = find_job(d, id);
		json_object_set_new(j, "state", json_string("failed"));
		json_object_set_new(j, "output", json_string("too many restarts running; try again\n"));
		broadcast(d, "job", j);
		http_reply_error(r, 503, "too many restarts running");
		return;
	}
	http_reply_json(r, 202, json_pack("{s:I}", "job", (json_int_t)id));
}

static void handle(void *arg, struct http_req *r)
{
	struct dashboard *d = arg;
	const char *path = http_path(r), *method = http_method(r);
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	if (!host_ok(d, r)) {
		http_reply_error(r, 421, "this dashboard answers to localhost names only");
		return;
	}
	/* the readiness probe: no token, no Host check beyond the one above */
	if (get && !strcmp(path, "/healthz")) {
		http_reply(r, 200, "text/plain; charset=utf-8", "ok", 2, NULL);
		return;
	}
	/* /?token=T (the URL serve prints) trades the token for a cookie, then cleans the address bar */
	const char *qt = http_query(r, "token");
	if (d->cfg.token && get && !strcmp(path, "/") && qt) {
		if (!secret_equal(qt, d->cfg.token)) {
			http_reply_error(r, 401, "wrong token");
			return;
		}
		char cookie[512];
		snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict", d->cookie, d->cfg.token);
		const char *h[] = {"Set-Cookie", cookie, "Location", "./", NULL};
		http_reply(r, 303, "text/plain", "", 0, h);
		return;
	}
	if (!authorized(d, r)) {
		const char *h[] = {"WWW-Authenticate", "Bearer realm=\"appdeploy\"", NULL};
		static const char msg[] = "open the URL appdeploy serve printed (it carries the token)\n";
		http_reply(r, 401, "text/plain; charset=utf-8", msg, sizeof msg - 1, h);
		return;
	}
	if (!strcmp(method, "POST")) {
		handle_post(d, r, path);
		return;
	}
	if (!get) {
		http_reply_error(r, 405, "GET, or POST for actions");
		return;
	}
	if (!strcmp(path, "/"))
		serve_asset(r, "index.html");
	else if (!strcmp(path, "/favicon.ico"))
		serve_asset(r, "favicon.svg");
	else if (!strcmp(path, "/api/status"))
		http_reply_json(r, 200, status_json(d));
	else if (!strcmp(path, "/api/session"))
		http_reply_json(r, 200, session_json(d));
	else if (!strcmp(path, "/api/deployments")) {
		json_t *snap = d->snapshot ? json_copy(d->snapshot) : json_pack("{s:[]}", "deployments");
		json_object_set_new(snap, "age", d->polled_at ? json_real(ev_now(d->cfg.loop) - d->polled_at) : json_null());
		http_reply_json(r, 200, snap);
	}
	else if (!strcmp(path, "/api/events"))
		open_events(d, r);
	else if (!strcmp(path, "/api/jobs"))
		http_reply_json(r, 200, json_incref(d->jobs));
	else if (!strncmp(path, "/api/jobs/", 10)) {
		json_t *j = find_job(d, (unsigned)strtoul(path + 10, NULL, 10));
		if (j)
			http_reply_json(r, 200, json_incref(j));
		else
			http_reply_error(r, 404, "no such job");
	} else if (!strncmp(path, "/api/services/", 14)) {
		char name[254];
		const char *rest = service_route(path, name, sizeof name);
		json_t *dep = rest ? find_deployment(d, name) : NULL;
		if (rest && !d->snapshot)
			http_reply_error(r, 503, "the agent has not read the cluster yet; try again in a moment");
		else if (!dep)
			http_reply_error(r, 404, "no such deployment");
		else if (!*rest)
			http_reply_json(r, 200, service_details(d, dep));
		else if (!strcmp(rest, "/logs"))
			open_logs(d, r, dep);
		else
			http_reply_error(r, 404, "not found");
	} else if (!strncmp(path, "/api/", 5))
		http_reply_error(r, 404, "not found");
	else if (!strchr(path + 1, '/'))
		serve_asset(r, path + 1);
	else
		http_reply_error(r, 404, "not found");
}

/* ------------------------------------------------------------------ life cycle */

struct dashboard *dashboard_start(const struct dashboard_cfg *cfg, struct sm_error *err)
{
	struct dashboard *d = calloc(1, sizeof *d);
	d->cfg = *cfg;
	d->queue = json_array();
	d->jobs = json_array();
	pthread_mutex_init(&d->qmu, NULL);
	random_hex(d->csrf, 32);
	d->loopback = !strncmp(cfg->listen, "127.", 4) || !strncmp(cfg->listen, "localhost:", 10) ||
		      !strncmp(cfg->listen, "[::1]:", 6);
	d->http = http_start(cfg->loop, cfg->listen, handle, d, err);
	if (!d->http) {
		json_decref(d->queue);
		json_decref(d->jobs);
		pthread_mutex_destroy(&d->qmu);
		free(d);
		return NULL;
	}
	snprintf(d->cookie, sizeof d->cookie, "appdeploy_token_%d", http_port(d->http));
	ev_async_init(&d->async, async_cb);
	d->async.data = d;
	ev_async_start(cfg->loop, &d->async);
	ev_timer_init(&d->ping, ping_cb, PING_SECONDS, PING_SECONDS);
	d->ping.data = d;
	ev_timer_start(cfg->loop, &d->ping);
	d->cfg.workers.post = post_cb;
	d->cfg.workers.post_arg = d;
	d->w = workers_start(&d->cfg.workers, err);
	if (!d->w) {
		dashboard_stop(d);
		return NULL;
	}
	return d;
}

int dashboard_port(struct dashboard *d) { return http_port(d->http); }

void dashboard_stop(struct dashboard *d)
{
	if (!d)
		return;
	/* streams first (their close asks followers to end), then join the workers */
	http_stop(d->http);
	workers_stop(d->w);
	d->w = NULL;
	ev_async_stop(d->cfg.loop, &d->async);
	ev_timer_stop(d->cfg.loop, &d->ping);
	json_decref(d->queue);
	json_decref(d->jobs);
	json_decref(d->snapshot);
	json_decref(d->sync_failed);
	free(d->poll_error);
	pthread_mutex_destroy(&d->qmu);
	free(d);
}
