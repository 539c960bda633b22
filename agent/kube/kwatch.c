/* kwatch.c — list + watch of one API collection on its own thread, into a cache read by deep copy (kwatch.h; the stream parser is kwatchstream.c). */
#include "kwatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "errbuf.h"
#include "kube.h"

#define LIST_PAGE 500
#define BACKOFF_MIN 0.25
#define BACKOFF_MAX 5.0
#define STREAM_GRACE 15        /* seconds past timeoutSeconds before a silent stream counts as hung */
#define MAX_ERR_BODY 16384

struct kwatch {
	struct kwatch_cfg cfg;
	char *path;
	struct kube *k;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cond;        /* stop, resync asked, a list attempt ended (CLOCK_MONOTONIC) */
	struct kwatch_stream st;     /* st.items: changed by the thread under mu; the rest is the thread's */
	unsigned long gen;          /* changes applied to st.items (guarded by mu) */
	unsigned long attempts;     /* list attempts ended (guarded by mu): kwatch_resync waits on it */
	int listed;                 /* a list succeeded once (guarded by mu) */
	int listing;                /* a list attempt is under way (guarded by mu) */
	int synced;                 /* the last request succeeded (guarded by mu) */
	char err[1400];             /* why not synced (guarded by mu) */
	struct kwatch_counts counts; /* guarded by mu */
	atomic_int stop, resync;
};

/* ------------------------------------------------------------------ the thread */

static struct timespec at_ts(double at)
{
	struct timespec ts = {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)};
	return ts;
}

static void notify(struct kwatch *w)
{
	if (w->cfg.changed)
		w->cfg.changed(w->cfg.changed_arg);
}

static void failed(struct kwatch *w, const char *what)
{
	pthread_mutex_lock(&w->mu);
	w->synced = 0;
	snprintf(w->err, sizeof w->err, "%.1023s", what); /* as long as the error buffers it came from always were */
	w->counts.failures++;
	pthread_mutex_unlock(&w->mu);
}

/* Waits s seconds, or less when stopping or asked to resync. */
static void backoff(struct kwatch *w, double s)
{
	struct timespec until = at_ts(mono_seconds() + s);
	pthread_mutex_lock(&w->mu);
	while (!atomic_load(&w->stop) && !atomic_load(&w->resync))
		if (pthread_cond_timedwait(&w->cond, &w->mu, &until))
			break;
	pthread_mutex_unlock(&w->mu);
}

static char *with_query(const char *path, const char *query)
{
	char *p;
	if (asprintf(&p, "%s%c%s", path, strchr(path, '?') ? '&' : '?', query) < 0)
		abort();
	return p;
}

/* Step 1: the whole collection, page by page. Returns 0 (the cache replaced, rv set) or -1 (err filled;
 * 410 on a stale continue token starts again once). */
static int list_all(struct kwatch *w, struct sm_error *err)
{
	json_t *items = json_object();
	char *cont = NULL, *rv = NULL;
	int restarted = 0;
	for (;;) {
		char q[64];
		snprintf(q, sizeof q, "limit=%d%s", LIST_PAGE, cont ? "&continue=" : "");
		char *base = with_query(w->path, q);
		struct kube_req r = {.method = KUBE_GET};
		if (cont) {
			/* continue tokens are base64url: safe in a query as they are, but escape '=' padding */
			size_t bl = strlen(base), cl = strlen(cont);
			r.path = malloc(bl + 3 * cl + 1);
			memcpy(r.path, base, bl);
			char *o = r.path + bl;
			for (const char *c = cont; *c; c++)
				o += *c == '=' ? sprintf(o, "%%3D") : (*o = *c, 1);
			*o = 0;
			free(base);
		} else
			r.path = base;
		kube_do(w->k, &r, 1);
		if (r.status == 410 && cont && !restarted) {
			/* the continue token expired mid-list: the list starts again, whole */
			restarted = 1;
			kube_req_clear(&r);
			json_object_clear(items);
			free(cont), cont = NULL;
			free(rv), rv = NULL;
			continue;
		}
		if (r.status / 100 != 2 || !json_is_object(r.response)) {
			sm_error_set(err, NULL, 0, 0, "list %s: %s", w->path, r.status / 100 == 2 ? "the answer is not a list" : r.err);
			kube_req_clear(&r);
			json_decref(items);
			free(cont);
			free(rv);
			return -1;
		}
		json_t *md = json_object_get(r.response, "metadata"), *it;
		size_t i;
		json_array_foreach(json_object_get(r.response, "items"), i, it) {
			char *key = kwatch_key(it);
			if (key)
				json_object_set(items, key, it);
			free(key);
		}
		/* the first page's resourceVersion is the list's: later pages are served at the same one */
		if (!rv)
			rv = strdup(json_string_value(json_object_get(md, "resourceVersion")) ?: "");
		const char *c = json_string_value(json_object_get(md, "continue"));
		free(cont);
		cont = c && *c ? strdup(c) : NULL;
		kube_req_clear(&r);
		if (!cont)
			break;
	}
	pthread_mutex_lock(&w->mu);
	json_decref(w->st.items);
	w->st.items = items;
	free(w->st.rv);
	w->st.rv = *rv ? rv : NULL;
	if (!*rv)
		free(rv);
	w->gen++;
	w->listed = w->synced = 1;
	w->err[0] = 0;
	w->counts.lists++;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

struct stream_ctx {
	struct kwatch *w;
	long status;     /* the answer's status once known */
	int ended;       /* the parser ended the stream (w->st.err, w->st.gone) */
	char *body;      /* a refusal's body (a Status) */
	size_t body_len;
};

static int stream_cb(void *arg, long status, const char *data, size_t len)
{
	struct stream_ctx *c = arg;
	struct kwatch *w = c->w;
	if (atomic_load(&w->stop) || atomic_load(&w->resync))
		return 1;
	if (status && !c->status) {
		c->status = status;
		if (status / 100 == 2) {
			pthread_mutex_lock(&w->mu);
			w->synced = 1;
			w->err[0] = 0;
			w->counts.watches++;
			pthread_mutex_unlock(&w->mu);
		}
	}
	if (!data || !len)
		return 0;
	if (status / 100 != 2) {
		if (c->body_len + len <= MAX_ERR_BODY) {
			c->body = realloc(c->body, c->body_len + len + 1);
			memcpy(c->body + c->body_len, data, len);
			c->body_len += len;
			c->body[c->body_len] = 0;
		}
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	long n = kwatch_stream_feed(&w->st, data, len);
	if (n > 0) {
		w->gen++;
		w->counts.events += (unsigned long)n;
	}
	pthread_mutex_unlock(&w->mu);
	if (n > 0)
		notify(w);
	if (n < 0) {
		c->ended = 1;
		return 1;
	}
	return 0;
}

/* A refusal's Status message, or the body as it is. */
static void refusal(char *out, size_t outlen, const char *path, long status, const char *body)
{
	json_t *st = body ? json_loads(body, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(st, "message"));
	snprintf(out, outlen, "watch %s: HTTP %ld: %s", path, status, msg ? msg : body && *body ? body : "no message");
	json_decref(st);
}

enum next { NEXT_WATCH, NEXT_LIST, NEXT_STOP };

/* Step 2: one watch request from w->st.rv. Returns what to do next; *bad is set when it failed. */
static enum next kwatch_once(struct kwatch *w, int *bad)
{
	char q[160];
	struct sm_error err;
	snprintf(q, sizeof q, "watch=true&allowWatchBookmarks=true&timeoutSeconds=%ld&resourceVersion=", w->cfg.watch_timeout_s);
	char *base = with_query(w->path, q), *path;
	if (asprintf(&path, "%s%s", base, w->st.rv ? w->st.rv : "") < 0)
		abort();
	free(base);
	w->st.len = 0; /* a line cut off by the last stream's end is gone with it */
	w->st.gone = 0;
	struct stream_ctx c = {.w = w};
	unsigned long events0 = w->st.events;
	double t0 = mono_seconds();
	long rc = kube_stream(w->k, "GET", path, w->cfg.watch_timeout_s + STREAM_GRACE, stream_cb, &c, &err);
	free(path);
	enum next next = NEXT_WATCH;
	*bad = 0;
	if (atomic_load(&w->stop)) {
		next = NEXT_STOP;
	} else if (atomic_load(&w->resync)) {
		next = NEXT_LIST;
	} else if (c.ended) {
		if (w->st.gone) {
			pthread_mutex_lock(&w->mu);
			w->counts.gone++;
			pthread_mutex_unlock(&w->mu);
		} else {
			char m[1200];
			snprintf(m, sizeof m, "watch %s: %s", w->path, w->st.err);
			failed(w, m);
			*bad = 1;
		}
		next = NEXT_LIST;
	} else if (rc < 0) {
		failed(w, err.msg); /* unreachable: the same watch again, once it answers (410 then lists) */
		*bad = 1;
	} else if (rc == 410) {
		pthread_mutex_lock(&w->mu);
		w->counts.gone++;
		pthread_mutex_unlock(&w->mu);
		next = NEXT_LIST;
	} else if (rc / 100 != 2) {
		char m[1200];
		refusal(m, sizeof m, w->path, rc, c.body);
		failed(w, m);
		*bad = 1;
		next = NEXT_LIST;
	} else if (w->st.events == events0 && mono_seconds() - t0 < 1.0) {
		*bad = 1; /* a server that ends every watch at once must not make this a busy loop */
	}
	free(c.body);
	return next;
}

static void *kwatch_main(void *arg)
{
	struct kwatch *w = arg;
	double delay = 0;
	enum next next = NEXT_LIST;
	struct sm_error err;
	while (!atomic_load(&w->stop)) {
		int bad = 0;
		if (next == NEXT_LIST || atomic_load(&w->resync)) {
			pthread_mutex_lock(&w->mu);
			atomic_store(&w->resync, 0);
			w->listing = 1;
			pthread_mutex_unlock(&w->mu);
			bad = list_all(w, &err) != 0;
			if (bad)
				failed(w, err.msg);
			else
				notify(w);
			pthread_mutex_lock(&w->mu);
			w->attempts++;
			w->listing = 0;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->mu);
			next = bad ? NEXT_LIST : NEXT_WATCH;
		} else {
			next = kwatch_once(w, &bad);
		}
		if (next == NEXT_STOP)
			break;
		if (bad) {
			delay = delay ? delay * 2 : BACKOFF_MIN;
			if (delay > BACKOFF_MAX)
				delay = BACKOFF_MAX;
			backoff(w, delay);
		} else {
			delay = 0;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ the API */

struct kwatch *kwatch_start(const struct kwatch_cfg *cfg, struct sm_error *err)
{
	struct kwatch *w = calloc(1, sizeof *w);
	if (!w) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	w->path = strdup(cfg->path);
	w->st.items = json_object();
	w->k = kube_new(cfg->kc, err);
	if (!w->k) {
		json_decref(w->st.items);
		free(w->path);
		free(w);
		return NULL;
	}
	kube_set_retries(w->k, 2, 500);
	kube_set_limits(w->k, cfg->list_timeout_s, &w->stop);
	snprintf(w->err, sizeof w->err, "list %s: no answer yet", w->path);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	if (pthread_create(&w->th, NULL, kwatch_main, w)) {
		sm_error_set(err, NULL, 0, 0, "cannot start a thread");
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		kube_free(w->k);
		json_decref(w->st.items);
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

void kwatch_stop(struct kwatch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	kube_free(w->k);
	json_decref(w->st.items);
	kwatch_stream_clear(&w->st);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w->path);
	free(w);
}

/* One slice of a caller's wait (under w->mu): 0 while it should go on waiting until `until`. */
static int wait_slice(struct kwatch *w, double until)
{
	double now = mono_seconds();
	if (now >= until || atomic_load(&w->stop) || (w->cfg.cancel && atomic_load(w->cfg.cancel)))
		return 1;
	/* short slices: cfg.cancel is another thread's flag, with no signal on this cond */
	struct timespec ts = at_ts(now + 0.1 < until ? now + 0.1 : until);
	pthread_cond_timedwait(&w->cond, &w->mu, &ts);
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *kwatch_items(struct kwatch *w, unsigned long *seen, double wait_s, struct sm_error *err)
{
	double until = mono_seconds() + wait_s;
	*err = (struct sm_error){.line = 0}; /* "": no error */
	pthread_mutex_lock(&w->mu);
	while (!w->listed && !w->attempts && !wait_slice(w, until))
		;
	json_t *out = NULL;
	if (!w->synced) {
		sm_error_set(err, NULL, 0, 0, "%s", w->err);
		*seen = 0;
	} else if (w->gen != *seen) {
		size_t n = json_object_size(w->st.items), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof *keys);
		const char *key;
		json_t *v;
		json_object_foreach(w->st.items, key, v)
			keys[i++] = key;
		qsort(keys, n, sizeof *keys, by_key);
		out = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(out, json_deep_copy(json_object_get(w->st.items, keys[i])));
		free(keys);
		*seen = w->gen;
	}
	pthread_mutex_unlock(&w->mu);
	return out;
}

int kwatch_resync(struct kwatch *w, double wait_s)
{
	double until = mono_seconds() + wait_s;
	pthread_mutex_lock(&w->mu);
	/* a list already under way may have read the server before this call: the one after it counts */
	unsigned long want = w->attempts + 1 + (w->listing ? 1 : 0);
	atomic_store(&w->resync, 1);
	pthread_cond_broadcast(&w->cond);
	while (w->attempts < want && !wait_slice(w, until))
		;
	int rc = w->attempts >= want && w->synced ? 0 : -1;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void kwatch_counts(struct kwatch *w, struct kwatch_counts *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->counts;
	pthread_mutex_unlock(&w->mu);
}
