/* http.c — the dashboard's HTTP server: libmicrohttpd driven from the libev loop (MHD's epoll fd is
 * one ev_io, its timeout one ev_timer), requests with bodies, replies and suspended streams.
 * The only file of appdeploy that includes the HTTP server library. */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_MAX_BACKLOG (4u << 20)
#define HTTP_IDLE_TIMEOUT 10 /* seconds */
#define HTTP_PER_IP_LIMIT 64
#define HTTP_CONN_LIMIT 768  /* under the default 1024 open files, with room for the kube clients */

struct http_server {
	struct MHD_Daemon *mhd;
	struct ev_loop *loop;
	ev_io epoll_io;
	ev_timer timeout;
	http_handler handler;
	void *arg;
	int fd, port;
	int in_run, kicked; /* a stream was resumed from inside MHD_run: run again at once */
	struct http_stream *streams; /* every open stream, for http_stop */
};

/* Per connection-request state, from the first access callback to the completion callback. */
struct conn {
	char *body;
	size_t len, cap;
	int too_big;
	struct http_deferred *deferred; /* http_defer's handle while the answer is pending */
	struct MHD_Response *resp;      /* a deferred answer, queued when MHD calls again after the resume */
	unsigned status;
};

struct http_deferred {
	struct http_server *srv;
	struct MHD_Connection *mc;
	struct conn *c;
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *mc;
	struct conn *c;
	const char *url, *method;
	int answered;
};

struct http_stream {
	struct http_server *srv;
	struct MHD_Connection *mc;
	char *buf;           /* queued bytes: buf[off..len) */
	size_t len, off, cap;
	int suspended;       /* parked in the reader for lack of data */
	int ended;           /* no more data will come: end after the queue drains */
	void (*on_close)(void *arg);
	void *arg;
	struct http_stream *next, **pprev;
};

static void run(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	s->in_run = 1;
	s->kicked = 0;
	MHD_run(s->mhd);
	s->in_run = 0;
	ev_timer_stop(s->loop, &s->timeout);
	/* MHD wants a timer only while it has connections: idle means no wakeups */
	if (s->kicked) {
		/* a handler resumed a stream (e.g. a POST broadcast an event): serve it now */
		ev_timer_set(&s->timeout, 0, 0);
		ev_timer_start(s->loop, &s->timeout);
	} else if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) {
		ev_timer_set(&s->timeout, (double)ms / 1000.0, 0);
		ev_timer_start(s->loop, &s->timeout);
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop, (void)revents;
	run(w->data);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)revents;
	run(w->data);
}

/* A resumed connection is only served by the next MHD_run (external-loop mode): make it happen now. */
static void kick(struct http_server *s)
{
	if (s->in_run) {
		s->kicked = 1;
		return;
	}
	ev_timer_stop(s->loop, &s->timeout);
	ev_timer_set(&s->timeout, 0, 0);
	ev_timer_start(s->loop, &s->timeout);
}

const char *http_method(struct http_req *r) { return r->method; }
const char *http_path(struct http_req *r) { return r->url; }

const char *http_query(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

const char *http_cookie(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mc, MHD_COOKIE_KIND, name);
}

const char *http_body(struct http_req *r, size_t *len)
{
	if (len)
		*len = r->c->len;
	return r->c->body ? r->c->body : "";
}

static void common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
}

void http_reply(struct http_req *r, unsigned status, const char *ctype, const void *body, size_t len,
		const char *const *headers)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	common_headers(resp);
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		MHD_add_response_header(resp, headers[i], headers[i + 1]);
	if (MHD_queue_response(r->mc, status, resp) == MHD_YES)
		r->answered = 1;
	MHD_destroy_response(resp);
}

void http_reply_json(struct http_req *r, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return;
	http_reply(r, status, "application/json", s, strlen(s), NULL);
	free(s);
}

void http_reply_error(struct http_req *r, unsigned status, const char *msg)
{
	http_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	(void)pos;
	if (st->len > st->off) {
		size_t n = st->len - st->off < max ? st->len - st->off : max;
		memcpy(buf, st->buf + st->off, n);
		st->off += n;
		if (st->off == st->len)
			st->off = st->len = 0;
		return (ssize_t)n;
	}
	if (st->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* nothing queued: park the connection until http_stream_write or _end */
	st->suspended = 1;
	MHD_suspend_connection(st->mc);
	return 0;
}

static void wake(struct http_stream *st)
{
	if (!st->suspended)
		return;
	st->suspended = 0;
	MHD_resume_connection(st->mc);
	kick(st->srv);
}

/* MHD frees the response when the connection is done with it: the stream's end of life. */
static void stream_free(void *cls)
{
	struct http_stream *st = cls;
	if (st->pprev) {
		*st->pprev = st->next;
		if (st->next)
			st->next->pprev = st->pprev;
	}
	if (st->on_close)
		st->on_close(st->arg);
	free(st->buf);
	free(st);
}

struct http_stream *http_stream_open(struct http_req *r, const char *ctype, void (*on_close)(void *arg), void *arg)
{
	struct http_stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->srv = r->srv;
	st->mc = r->mc;
	st->on_close = on_close;
	st->arg = arg;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, st, stream_free);
	if (!resp) {
		free(st);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	common_headers(resp);
	st->next = r->srv->streams;
	if (st->next)
		st->next->pprev = &st->next;
	st->pprev = &r->srv->streams;
	r->srv->streams = st;
	if (MHD_queue_response(r->mc, MHD_HTTP_OK, resp) == MHD_YES)
		r->answered = 1;
	/* when queueing failed MHD_destroy_response frees st through stream_free (on_close runs) */
	MHD_destroy_response(resp);
	return r->answered ? st : NULL;
}

int http_stream_write(struct http_stream *st, const char *data, size_t len)
{
	if (st->ended)
		return -1;
	if (st->len - st->off + len > STREAM_MAX_BACKLOG) {
		/* a client this far behind is not reading: cut it off rather than buffer without end */
		st->off = st->len = 0;
		st->ended = 1;
		wake(st);
		return -1;
	}
	if (st->len + len > st->cap) {
		size_t cap = st->cap ? st->cap : 4096;
		while (cap < st->len + len)
			cap *= 2;
		char *nb = realloc(st->buf, cap);
		if (!nb)
			return -1;
		st->buf = nb;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, data, len);
	st->len += len;
	wake(st);
	return 0;
}

void http_stream_end(struct http_stream *st)
{
	st->ended = 1;
	wake(st);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct conn *c = *con_cls;
	(void)version;
	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return MHD_NO;
		*con_cls = c;
		return MHD_YES;
	}
	if (c->resp) { /* a deferred answer is ready: MHD calls again after the resume */
		enum MHD_Result q = MHD_queue_response(mc, c->status, c->resp);
		MHD_destroy_response(c->resp);
		c->resp = NULL;
		return q;
	}
	if (c->deferred)
		return MHD_YES; /* still waiting */
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (c->too_big || c->len + n > HTTP_MAX_BODY) {
			c->too_big = 1;
			return MHD_YES;
		}
		if (c->len + n + 1 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1024;
			while (cap < c->len + n + 1)
				cap *= 2;
			char *nb = realloc(c->body, cap);
			if (!nb)
				return MHD_NO;
			c->body = nb;
			c->cap = cap;
		}
		memcpy(c->body + c->len, upload_data, n);
		c->len += n;
		c->body[c->len] = 0;
		return MHD_YES;
	}
	struct http_req r = {.srv = s, .mc = mc, .c = c, .url = url, .method = method};
	if (c->too_big)
		http_reply_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	else
		s->handler(s->arg, &r);
	if (!r.answered)
		http_reply_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer");
	return r.answered ? MHD_YES : MHD_NO;
}

static void completed_cb(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *con_cls;
	(void)cls, (void)mc, (void)toe;
	if (!c)
		return;
	if (c->resp) /* answered after the connection went (or the server stopped): on_close runs here */
		MHD_destroy_response(c->resp);
	free(c->deferred);
	free(c->body);
	free(c);
	*con_cls = NULL;
}

/* Binds listen ("HOST:PORT") ourselves, so that errors say exactly what went wrong. */
static int bind_listen(const char *listen_addr, int *port, struct sm_error *err)
{
	char host[256] = "", serv[16];
	const char *colon = strrchr(listen_addr, ':');
	if (!colon) {
		sm_error_set(err, NULL, 0, 0, "--listen %s: want HOST:PORT, e.g. 127.0.0.1:8090", listen_addr);
		return -1;
	}
	size_t hl = (size_t)(colon - listen_addr);
	const char *h = listen_addr;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	snprintf(host, sizeof host, "%.*s", (int)hl, h);
	snprintf(serv, sizeof serv, "%s", colon + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
	int rc = getaddrinfo(*host ? host : NULL, serv, &hints, &ai);
	if (rc) {
		sm_error_set(err, NULL, 0, 0, "--listen %s: %s", listen_addr, gai_strerror(rc));
		return -1;
	}
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		sm_error_set(err, NULL, 0, 0, "cannot listen on %s: %s%s", listen_addr, strerror(errno),
			 errno == EADDRINUSE ? " (choose another with --listen HOST:PORT)" : "");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	*port = 0;
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		*port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

struct http_server *http_start(struct ev_loop *loop, const char *listen_addr, http_handler h, void *arg, struct sm_error *err)
{
	int port;
	int fd = bind_listen(listen_addr, &port, err);
	if (fd < 0)
		return NULL;
	struct http_server *s = calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		return NULL;
	}
	s->loop = loop;
	s->handler = h;
	s->arg = arg;
	s->fd = fd;
	s->port = port;
	/* Idle or slowly dribbling clients must not starve the page: a connection silent for
	 * HTTP_IDLE_TIMEOUT s is closed (open event streams write at least every 5 s), one address
	 * holds at most HTTP_PER_IP_LIMIT connections, all of them at most HTTP_CONN_LIMIT. */
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, access_cb, s,
				  MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)HTTP_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)HTTP_PER_IP_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
				  MHD_OPTION_END);
	if (!s->mhd) {
		sm_error_set(err, NULL, 0, 0, "the HTTP server did not start on %s", listen_addr);
		close(fd);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&s->epoll_io, io_cb, info->epoll_fd, EV_READ);
	s->epoll_io.data = s;
	ev_io_start(loop, &s->epoll_io);
	ev_timer_init(&s->timeout, timer_cb, 0, 0);
	s->timeout.data = s;
	return s;
}

int http_port(struct http_server *s) { return s->port; }

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	for (struct http_stream *st = s->streams; st; st = st->next) {
		st->ended = 1;
		st->off = st->len = 0;
		wake(st);
	}
	ev_io_stop(s->loop, &s->epoll_io);
	ev_timer_stop(s->loop, &s->timeout);
	MHD_stop_daemon(s->mhd); /* closes the listening socket too */
	free(s);
}

/* --- answers that come later (up's forward, #16) --- */

struct http_deferred *http_defer(struct http_req *r)
{
	struct http_deferred *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->srv = r->srv;
	d->mc = r->mc;
	d->c = r->c;
	r->c->deferred = d;
	MHD_suspend_connection(r->mc);
	r->answered = 1; /* by http_deferred_stream, later */
	return d;
}

struct http_stream *http_deferred_stream(struct http_deferred *d, unsigned status, const char *ctype,
					 const char *const *headers, void (*on_close)(void *arg), void *arg)
{
	struct http_stream *st = calloc(1, sizeof *st);
	struct MHD_Response *resp =
		st ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, st, stream_free) : NULL;
	struct conn *c = d->c;
	if (!resp) {
		free(st);
		/* nothing to send: end the connection with a bare 500 */
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		st = NULL;
		if (on_close)
			on_close(arg);
	} else {
		st->srv = d->srv;
		st->mc = d->mc;
		st->on_close = on_close;
		st->arg = arg;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
			MHD_add_response_header(resp, headers[i], headers[i + 1]);
		st->next = d->srv->streams;
		if (st->next)
			st->next->pprev = &st->next;
		st->pprev = &d->srv->streams;
		d->srv->streams = st;
	}
	c->resp = resp;
	c->status = status;
	c->deferred = NULL;
	MHD_resume_connection(d->mc);
	kick(d->srv);
	free(d);
	return st;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	FILE *f = cls;
	static const char hex[] = "0123456789ABCDEF";
	const char *parts[2] = {key, value};
	if (ftell(f) > 0)
		fputc('&', f);
	for (int i = 0; i < 2; i++) {
		if (i == 1) {
			if (!value)
				break;
			fputc('=', f);
		}
		for (const unsigned char *p = (const unsigned char *)parts[i]; p && *p; p++)
			if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    strchr("-._~", *p))
				fputc(*p, f);
			else
				fprintf(f, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return MHD_YES;
}

char *http_query_string(struct http_req *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return strdup("");
	MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, query_arg, f);
	fclose(f);
	return out;
}
