/* forward.c — up's local forward to the agent's dashboard through the API server's service proxy (forward.h): requests parked on the loop, each passed on by a thread of its own, answers streamed back. */
#include "forward.h"

#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentset.h"
#include "http.h"

struct fwd;

/* One forwarded request. The loop thread owns the list links and the fields marked (loop); the worker
 * writes the fields under mu; cancel is read by both. */
struct fwd_req {
	struct fwd *f;
	struct fwd_req *next;      /* (loop) */
	struct http_deferred *def; /* (loop) until answered */
	struct http_stream *st;    /* (loop) while the answer streams */
	char *method, *path, *accept, *ctype_in, *body;
	size_t body_len;
	char *hdrs[4]; /* extra "Name: value" headers the page sends, NULL-terminated */
	pthread_t th;
	atomic_int cancel; /* the client went, or we stop: the worker aborts its transfer */
	/* under f->mu */
	int head, done;
	long status;
	char ctype[192];
	char *buf;
	size_t len, cap;
	char err[512];
	/* (loop) */
	int started, answered, ended, closed, joined;
};

struct fwd {
	struct ev_loop *loop;
	struct http_server *srv;
	ev_async async;
	const struct kube_config *kc;
	char prefix[512]; /* /api/v1/namespaces/NS2/services/appdeploy:http/proxy */
	pthread_mutex_t mu;
	struct fwd_req *reqs;
	int loopback;
};

static int forward_cb(void *arg, long status, const char *ctype, const char *data, size_t len)
{
	struct fwd_req *r = arg;
	if (atomic_load(&r->cancel))
		return 1;
	if (!status && !data)
		return 0;
	pthread_mutex_lock(&r->f->mu);
	int wake = 0;
	if (status && !r->head) {
		r->head = 1;
		r->status = status;
		snprintf(r->ctype, sizeof r->ctype, "%s", ctype && *ctype ? ctype : "application/octet-stream");
		wake = 1;
	}
	if (data && len) {
		if (r->len + len > r->cap) {
			size_t cap = r->cap ? r->cap : 16384;
			while (cap < r->len + len)
				cap *= 2;
			char *nb = realloc(r->buf, cap);
			if (!nb) {
				pthread_mutex_unlock(&r->f->mu);
				return 1;
			}
			r->buf = nb;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, data, len);
		r->len += len;
		wake = 1;
	}
	pthread_mutex_unlock(&r->f->mu);
	if (wake)
		ev_async_send(r->f->loop, &r->f->async);
	return 0;
}

static void *worker(void *arg)
{
	struct fwd_req *r = arg;
	struct sm_error err = {0};
	struct kube *k = kube_new(r->f->kc, &err);
	long st = -1;
	if (k)
		st = kube_forward(k, r->method, r->path, r->accept, (const char *const *)r->hdrs, r->ctype_in, r->body,
				  r->body_len, 0, forward_cb, r, &err);
	kube_free(k);
	pthread_mutex_lock(&r->f->mu);
	r->done = 1;
	if (st < 0)
		snprintf(r->err, sizeof r->err, "%.400s", err.msg);
	pthread_mutex_unlock(&r->f->mu);
	ev_async_send(r->f->loop, &r->f->async);
	return NULL;
}

static void req_free(struct fwd_req *r)
{
	free(r->method);
	free(r->path);
	free(r->accept);
	free(r->ctype_in);
	free(r->body);
	for (int i = 0; r->hdrs[i]; i++)
		free(r->hdrs[i]);
	free(r->buf);
	free(r);
}

static void on_close(void *arg)
{
	struct fwd_req *r = arg;
	r->st = NULL;
	r->closed = 1;
	atomic_store(&r->cancel, 1);
	ev_async_send(r->f->loop, &r->f->async); /* reaped in async_cb, never from inside http's own calls */
}

/* Moves what the workers produced onto the answers; reaps finished requests. */
static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop, (void)revents;
	struct fwd *f = w->data;
	for (struct fwd_req **pp = &f->reqs; *pp;) {
		struct fwd_req *r = *pp;
		pthread_mutex_lock(&f->mu);
		int head = r->head, done = r->done;
		long status = r->status;
		char ctype[192], err[512];
		snprintf(ctype, sizeof ctype, "%s", r->ctype);
		snprintf(err, sizeof err, "%s", r->err);
		char *data = r->buf;
		size_t len = r->len;
		r->buf = NULL;
		r->len = r->cap = 0;
		pthread_mutex_unlock(&f->mu);
		if (!r->answered && (head || done)) {
			r->answered = 1;
			if (head)
				r->st = http_deferred_stream(r->def, (unsigned)status, ctype, NULL, on_close, r);
			else { /* the API server did not answer */
				r->st = http_deferred_stream(r->def, 502, "text/plain; charset=utf-8", NULL, on_close,
							     r);
				if (r->st) {
					char msg[700];
					int n = snprintf(msg, sizeof msg,
							 "appdeploy up: the API server did not answer: %s\n", err);
					http_stream_write(r->st, msg, (size_t)n);
				}
			}
			r->def = NULL;
		}
		if (r->st && len)
			http_stream_write(r->st, data, len);
		free(data);
		if (done && !r->joined) {
			pthread_join(r->th, NULL);
			r->joined = 1;
		}
		if (done && r->st && !r->ended) {
			http_stream_end(r->st);
			r->ended = 1;
		}
		if (r->joined && r->answered && (r->closed || !r->st)) {
			*pp = r->next;
			req_free(r);
			continue;
		}
		pp = &r->next;
	}
}

/* A loopback forward answers only to loopback names (a page elsewhere must not reach the cluster through it). */
static int loopback_host(const char *host)
{
	if (!host)
		return 0;
	return !strncasecmp(host, "localhost", 9) || !strncmp(host, "127.", 4) || !strncmp(host, "[::1]", 5);
}

/* The path escaped again for the URL (MHD hands it decoded). */
static char *escape_path(const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(p) * 3 + 1), *o = out;
	for (const unsigned char *q = (const unsigned char *)p; *q; q++)
		if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
		    strchr("/-._~!$&'()*+,;=:@", *q))
			*o++ = (char)*q;
		else {
			*o++ = '%';
			*o++ = hex[*q >> 4];
			*o++ = hex[*q & 15];
		}
	*o = 0;
	return out;
}

static void handler(void *arg, struct http_req *req)
{
	struct fwd *f = arg;
	if (f->loopback && !loopback_host(http_header(req, "Host"))) {
		http_reply_error(req, 421, "this forward answers to localhost names only");
		return;
	}
	struct fwd_req *r = calloc(1, sizeof *r);
	if (!r) {
		http_reply_error(req, 500, "out of memory");
		return;
	}
	r->f = f;
	r->method = strdup(http_method(req));
	char *q = http_query_string(req), *p = escape_path(http_path(req));
	if (asprintf(&r->path, "%s%s%s%s", f->prefix, p, *q ? "?" : "", q) < 0)
		r->path = NULL;
	free(p);
	free(q);
	const char *accept = http_header(req, "Accept"), *ct = http_header(req, "Content-Type");
	r->accept = strdup(accept ? accept : "*/*");
	r->ctype_in = ct ? strdup(ct) : NULL;
	size_t blen;
	const char *body = http_body(req, &blen);
	if (blen || strcmp(r->method, "GET")) {
		r->body = malloc(blen + 1);
		memcpy(r->body, body, blen + 1);
		r->body_len = blen;
	}
	/* what the dashboard's page sends besides Accept and Content-Type (the API server passes them on) */
	static const char *const pass[] = {"X-CSRF-Token", "Last-Event-ID", "Cache-Control"};
	int n = 0;
	for (size_t i = 0; i < 3; i++) {
		const char *v = http_header(req, pass[i]);
		if (v && asprintf(&r->hdrs[n], "%s: %s", pass[i], v) >= 0)
			n++;
	}
	r->def = http_defer(req);
	if (!r->def || !r->path) {
		req_free(r);
		return;
	}
	r->next = f->reqs;
	f->reqs = r;
	if (pthread_create(&r->th, NULL, worker, r)) {
		pthread_mutex_lock(&f->mu);
		r->done = 1;
		snprintf(r->err, sizeof r->err, "cannot start a thread");
		pthread_mutex_unlock(&f->mu);
		r->joined = 1; /* nothing to join */
		ev_async_send(f->loop, &f->async);
	}
	r->started = 1;
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w, (void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int forward_run(const struct kube_config *kc, const char *ns2, const char *listen)
{
	struct fwd f = {.loop = EV_DEFAULT, .kc = kc};
	snprintf(f.prefix, sizeof f.prefix, "/api/v1/namespaces/%s/services/%s:http/proxy", ns2, AGENTSET_DEPLOYMENT);
	f.loopback = !strncmp(listen, "127.", 4) || !strncmp(listen, "localhost:", 10) || !strncmp(listen, "[::1]:", 6);
	pthread_mutex_init(&f.mu, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sm_error err;
	f.srv = http_start(f.loop, listen, handler, &f, &err);
	if (!f.srv) {
		fprintf(stderr,
			"appdeploy up: %.1023s (the agent is installed and keeps running; --detach skips the forward)\n",
			err.msg);
		pthread_mutex_destroy(&f.mu);
		return -1;
	}
	ev_async_init(&f.async, async_cb);
	f.async.data = &f;
	ev_async_start(f.loop, &f.async);
	ev_signal sig_int, sig_term;
	ev_signal_init(&sig_int, stop_cb, SIGINT);
	ev_signal_init(&sig_term, stop_cb, SIGTERM);
	ev_signal_start(f.loop, &sig_int);
	ev_signal_start(f.loop, &sig_term);
	char host[256];
	snprintf(host, sizeof host, "%s", listen);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = 0;
	if (!*host || !strcmp(host, "0.0.0.0"))
		snprintf(host, sizeof host, "127.0.0.1");
	printf("dashboard: http://%s:%d/\n(through the API server's service proxy; Ctrl-C stops the forward, the agent keeps "
	       "running: `appdeploy down DIR` removes it)\n",
	       host, http_port(f.srv));
	fflush(stdout);
	ev_run(f.loop, 0);
	/* the workers end within 100 ms of their cancel (kube_forward's idle calls) */
	for (struct fwd_req *r = f.reqs; r; r = r->next)
		atomic_store(&r->cancel, 1);
	for (struct fwd_req *r = f.reqs; r; r = r->next)
		if (r->started && !r->joined) {
			pthread_join(r->th, NULL);
			r->joined = 1;
		}
	for (struct fwd_req *r = f.reqs; r; r = r->next)
		if (r->def) { /* never answered: close it with the server */
			http_deferred_stream(r->def, 503, "text/plain", NULL, NULL, NULL);
			r->def = NULL;
		}
	http_stop(f.srv); /* ends the streams: their on_close only marks them */
	ev_signal_stop(f.loop, &sig_int);
	ev_signal_stop(f.loop, &sig_term);
	ev_async_stop(f.loop, &f.async);
	while (f.reqs) {
		struct fwd_req *r = f.reqs;
		f.reqs = r->next;
		req_free(r);
	}
	pthread_mutex_destroy(&f.mu);
	printf("forward stopped\n");
	return 0;
}
