/* control.c — the control API (POST /restart, /rebuild; GET /status, /logs, /healthz, /metrics) on the
 * libev loop: one ev_io per connection, requests parsed by Node's http_parser (libhttp-parser).
 *
 * Why not libmicrohttpd, as DESIGN.md suggests: Debian's build links GnuTLS, whose start-up alone
 * costs ~2.9 MB of resident memory — more than reloader's whole 2 MB budget (issue #2). The parser
 * is still a library; this file owns only connection handling, which libev makes small.
 * The only file of reloader that includes the parser. */
#include "control.h"

#include <ctype.h>
#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "syncapi.h"

#define MAX_BODY (64 * 1024)       /* POST bodies are ignored, but only up to this size */
#define MAX_URL 8192
#define MAX_CONNECTIONS 256
#define MAX_FOLLOWERS 64
#define IDLE_TIMEOUT 60.0          /* seconds a connection may sit without a request in flight */
#define READ_CHUNK 16384

/* One client connection; at most one request in flight (pipelined bytes wait in `in`). */
struct conn {
	ev_io io;                  /* the socket: EV_READ while reading, EV_WRITE while output is pending */
	ev_timer idle;             /* closes a connection that stays quiet */
	struct control *ctl;
	http_parser parser;
	char in[READ_CHUNK];       /* bytes read but not parsed yet (after a complete request) */
	size_t in_len;
	char url[MAX_URL];
	size_t url_len;
	int url_too_long;
	char field[64];            /* the header name being read (only the ones we use matter) */
	size_t field_len;
	int field_done;
	int want;                  /* which header the current value belongs to: 0 none, 1 Accept, 2 Authorization, 3 X-Reloader-Token */
	char accept[256];
	char auth[512];
	char token[512];
	size_t body_bytes;
	int complete;              /* a whole request was read: answer it before reading on */
	int keep_alive;
	int head;                  /* HEAD request: no body in the answer */
	char *out;                 /* pending output */
	size_t out_len, out_off;
	int close_after;           /* close once the output is written */
	int waiting;               /* a POST ...?wait=1 waiting for its cycle */
	int following;             /* a /logs?follow=1 stream */
	int chunked;               /* the stream uses chunked encoding (HTTP/1.1) */
	uint64_t log_pos;          /* next log offset to send (follow streams) */
	struct sync_req *sync;     /* a /sync/ request's state (syncapi.c), NULL otherwise */
	unsigned reject;           /* refused before its body was read: this status ... */
	const char *reject_msg;    /* ... and this message */
	struct conn *next;
};

struct control {
	struct supervisor *sv;
	struct ev_loop *loop;
	ev_io listen_io;
	int listen_fd;
	struct conn *conns;
	int nconns;
};

static void conn_close(struct conn *c);
static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void process_input(struct conn *c);

/* ---- output ------------------------------------------------------------------------------- */

static void out_append(struct conn *c, const char *data, size_t len)
{
	char *bigger;

	if (c->out_off == c->out_len) /* all written: start over at the front */
		c->out_off = c->out_len = 0;
	bigger = realloc(c->out, c->out_len + len + 1);
	if (!bigger) {
		c->close_after = 1;
		return;
	}
	c->out = bigger;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

/* Write while output is pending; read while a request may come (or to notice the client leaving). */
static void set_events(struct conn *c)
{
	int events = 0;

	if (c->out_off < c->out_len)
		events |= EV_WRITE;
	if (!c->close_after && c->in_len < sizeof c->in)
		events |= EV_READ;
	if (!events)
		events = EV_WRITE; /* close_after with nothing left: the write path closes */
	ev_io_stop(c->ctl->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(c->ctl->loop, &c->io);
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* Queues a whole response; the request is done. */
static void respond(struct conn *c, unsigned status, const char *type, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s%s\r\n",
			 status, reason(status), type, len,
			 status == 401 ? "WWW-Authenticate: Bearer realm=\"reloader\"\r\n"
			 : status == 405 ? "Allow: GET, POST\r\n" : "",
			 c->keep_alive && !c->close_after ? "" : "Connection: close\r\n");

	out_append(c, head, (size_t)n);
	if (!c->head)
		out_append(c, body, len);
	if (!c->keep_alive)
		c->close_after = 1;
	c->complete = 0;
	ev_timer_again(c->ctl->loop, &c->idle);
	set_events(c);
}

static int wants_json(struct conn *c) { return strstr(c->accept, "application/json") != NULL; }

static void respond_text(struct conn *c, unsigned status, const char *text)
{
	respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void respond_json(struct conn *c, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t len = s ? strlen(s) : 0;

	json_decref(j);
	if (!s) {
		respond_text(c, 500, "out of memory\n");
		return;
	}
	s = realloc(s, len + 2);
	s[len] = '\n';
	respond(c, status, "application/json", s, len + 1);
	free(s);
}

/* JSON for Accept: application/json, else the message as a line of text. */
static void respond_error(struct conn *c, unsigned status, const char *msg)
{
	char text[1024];

	if (wants_json(c)) {
		respond_json(c, status, json_pack("{s:s}", "error", msg));
		return;
	}
	snprintf(text, sizeof text, "%s\n", msg);
	respond_text(c, status, text);
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Value of a query parameter (percent-decoded into buf), or NULL. */
static const char *query_param(struct conn *c, const char *name, char *buf, size_t cap)
{
	const char *q = memchr(c->url, '?', c->url_len);
	size_t nlen = strlen(name);

	while (q && *q) {
		const char *start = q + 1, *end = strchr(start, '&'), *eq;

		if (!end)
			end = start + strlen(start);
		eq = memchr(start, '=', (size_t)(end - start));
		if ((size_t)((eq ? eq : end) - start) == nlen && !strncmp(start, name, nlen)) {
			size_t n = 0;

			for (const char *p = eq ? eq + 1 : end; p < end && n + 1 < cap; p++) {
				if (*p == '%' && p + 2 < end && isxdigit((unsigned char)p[1]) &&
				    isxdigit((unsigned char)p[2])) {
					char hex[3] = {p[1], p[2], 0};

					buf[n++] = (char)strtol(hex, NULL, 16);
					p += 2;
				} else {
					buf[n++] = *p == '+' ? ' ' : *p;
				}
			}
			buf[n] = 0;
			return buf;
		}
		q = *end ? end : NULL;
	}
	return NULL;
}

static int query_flag(struct conn *c, const char *name)
{
	char v[16];

	if (!query_param(c, name, v, sizeof v))
		return 0;
	return !*v || !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes");
}

/* A token compare that takes the same time whatever matches. */
static int token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

static int authorized(struct conn *c)
{
	const char *want = c->ctl->sv->cfg->control.token;
	char from_query[512];
	const char *given = NULL;

	if (!want)
		return 1;
	if (!strncasecmp(c->auth, "Bearer ", 7))
		given = c->auth + 7;
	else if (*c->token)
		given = c->token;
	else
		given = query_param(c, "token", from_query, sizeof from_query);
	return given && token_equal(given, want);
}

/* The answer to POST /restart?wait=1 once its cycle ended. */
static void respond_outcome(struct conn *c, enum sv_outcome outcome)
{
	struct supervisor *sv = c->ctl->sv;
	static const unsigned codes[] = {200, 500, 502, 503};
	static const char *const names[] = {"running", "build-failed", "start-failed", "shutting-down"};
	char *build_output = logring_tail(&sv->build_log, 400, 60000);
	char *text = NULL;
	int n = -1;

	if (wants_json(c)) {
		json_t *j = json_pack("{s:b, s:s, s:o}", "ok", outcome == OUTCOME_RUNNING, "outcome", names[outcome],
				      "status", status_json(sv));

		if (outcome == OUTCOME_BUILD_FAILED)
			json_object_set_new(j, "build_output", json_string(build_output ? build_output : ""));
		free(build_output);
		respond_json(c, codes[outcome], j);
		return;
	}
	switch (outcome) {
	case OUTCOME_RUNNING:
		n = asprintf(&text, "running: pid %d (build %s%ld ms, stop %ld ms, start %ld ms, ready %ld ms)\n",
			     sv->svc && sv->svc->pid ? (int)sv->svc->pid : 0, sv->build.cached ? "cached, " : "",
			     sv->last.build_ms, sv->last.stop_ms, sv->last.start_ms, sv->last.ready_ms);
		break;
	case OUTCOME_BUILD_FAILED:
		n = asprintf(&text, "build failed (exit %d); %s\n%s", sv->build.exit_code,
			     sv->svc && sv->svc->pid ? "the previous service is still running" : "nothing is running",
			     build_output ? build_output : "");
		break;
	case OUTCOME_START_FAILED:
		n = asprintf(&text, "the new process %s; see GET /logs\n",
			     sv->svc && sv->svc->pid ? "did not become ready in time" : "exited or could not start");
		break;
	case OUTCOME_SHUTDOWN:
		n = asprintf(&text, "reloader is shutting down\n");
		break;
	}
	free(build_output);
	respond_text(c, codes[outcome], n < 0 ? "out of memory\n" : text);
	free(text);
}

static void cycle_done_cb(struct supervisor *sv, enum sv_outcome outcome, void *arg)
{
	struct conn *c = arg;

	(void)sv;
	c->waiting = 0;
	respond_outcome(c, outcome);
}

static void handle_restart(struct conn *c, int force)
{
	struct supervisor *sv = c->ctl->sv;
	unsigned long cycle;

	if (sv->exiting) {
		respond_error(c, 503, "reloader is shutting down");
		return;
	}
	cycle = sv_request(sv, "poke", force);
	if (query_flag(c, "wait")) {
		if (sv->cycle_done >= cycle) { /* it already ended inside sv_request */
			respond_outcome(c, sv->state == SV_BUILD_FAILED ? OUTCOME_BUILD_FAILED
					   : sv->state == SV_RUNNING    ? OUTCOME_RUNNING
									: OUTCOME_START_FAILED);
			return;
		}
		c->waiting = 1;
		ev_timer_stop(c->ctl->loop, &c->idle);
		sv_wait(sv, cycle, cycle_done_cb, c);
		set_events(c);
		return;
	}
	if (wants_json(c))
		respond_json(c, 202, json_pack("{s:b, s:I, s:s}", "queued", 1, "cycle", (json_int_t)cycle, "state",
					       sv_state_name(sv->state)));
	else
		respond_text(c, 202, force ? "rebuild queued\n" : "restart queued\n");
}

/* Moves new log bytes into a follow stream's output (only when the previous ones are written). */
static void follow_refill(struct conn *c)
{
	char buf[READ_CHUNK];
	size_t n;

	if (c->out_off < c->out_len)
		return;
	n = logring_read(&c->ctl->sv->logs, &c->log_pos, buf, sizeof buf);
	if (!n)
		return;
	if (c->chunked) {
		char size[32];
		int m = snprintf(size, sizeof size, "%zx\r\n", n);

		out_append(c, size, (size_t)m);
		out_append(c, buf, n);
		out_append(c, "\r\n", 2);
	} else {
		out_append(c, buf, n);
	}
	set_events(c);
}

static void logs_appended(void *arg)
{
	struct control *ctl = arg;

	for (struct conn *c = ctl->conns; c; c = c->next)
		if (c->following)
			follow_refill(c);
}

static void handle_logs(struct conn *c)
{
	char arg[32];
	const char *lines_arg = query_param(c, "lines", arg, sizeof arg);
	long lines = lines_arg ? strtol(lines_arg, NULL, 10) : 200;

	if (lines <= 0)
		lines = 200;
	if (query_flag(c, "follow")) {
		int followers = 0;
		char head[256];
		int n;

		for (struct conn *o = c->ctl->conns; o; o = o->next)
			followers += o->following;
		if (followers >= MAX_FOLLOWERS) {
			respond_error(c, 503, "too many log followers");
			return;
		}
		c->chunked = c->parser.http_major == 1 && c->parser.http_minor >= 1;
		n = snprintf(head, sizeof head,
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
			     "X-Content-Type-Options: nosniff\r\n%s\r\n",
			     c->chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
		out_append(c, head, (size_t)n);
		c->following = 1;
		c->complete = 0;
		ev_timer_stop(c->ctl->loop, &c->idle);
		c->log_pos = logring_tail_offset(&c->ctl->sv->logs, (size_t)lines);
		set_events(c);
		return;
	}
	{
		char *text = logring_tail(&c->ctl->sv->logs, (size_t)lines, 256 * 1024);

		respond_text(c, 200, text ? text : "");
		free(text);
	}
}

/* ---- /sync/ (syncapi.c answers through these) ------------------------------------------------ */

static void sync_error(void *conn, unsigned status, const char *msg)
{
	((struct conn *)conn)->waiting = 0;
	respond_error(conn, status, msg);
}

static void sync_json(void *conn, unsigned status, json_t *j)
{
	((struct conn *)conn)->waiting = 0;
	respond_json(conn, status, j);
}

static void sync_wait(void *conn, unsigned long cycle)
{
	struct conn *c = conn;
	struct supervisor *sv = c->ctl->sv;

	if (sv->cycle_done >= cycle) {
		c->waiting = 0;
		respond_outcome(c, sv->state == SV_BUILD_FAILED ? OUTCOME_BUILD_FAILED
				   : sv->state == SV_RUNNING    ? OUTCOME_RUNNING
								: OUTCOME_START_FAILED);
		return;
	}
	c->waiting = 1;
	sv_wait(sv, cycle, cycle_done_cb, c);
	set_events(c);
}

static const struct sync_reply_ops sync_ops = {sync_error, sync_json, sync_wait};

static void dispatch(struct conn *c)
{
	const char *q = memchr(c->url, '?', c->url_len);
	char path[256];
	int get = c->parser.method == HTTP_GET || c->parser.method == HTTP_HEAD;
	int post = c->parser.method == HTTP_POST;

	snprintf(path, sizeof path, "%.*s", (int)(q ? (size_t)(q - c->url) : c->url_len), c->url);
	c->head = c->parser.method == HTTP_HEAD;
	if (c->sync) { /* token and method were checked when its headers came */
		c->waiting = 1; /* until syncapi answers (a batch answers once its cycle ends) */
		ev_timer_stop(c->ctl->loop, &c->idle);
		syncapi_finish(c->sync, &sync_ops, c);
		return;
	}
	if (c->body_bytes > MAX_BODY) {
		respond_error(c, 413, "request body too large");
		return;
	}
	if (!strcmp(path, "/healthz")) {
		if (get)
			respond_text(c, 200, "ok\n");
		else
			respond_error(c, 405, "use GET /healthz");
		return;
	}
	if (!authorized(c)) {
		respond_error(c, 401, "a token is required: send Authorization: Bearer <token from control.token_file>");
		return;
	}
	if (!strcmp(path, "/restart") || !strcmp(path, "/rebuild")) {
		if (post)
			handle_restart(c, !strcmp(path, "/rebuild"));
		else
			respond_error(c, 405, "use POST, e.g. curl -X POST .../restart");
	} else if (!strcmp(path, "/status")) {
		if (get)
			respond_json(c, 200, status_json(c->ctl->sv));
		else
			respond_error(c, 405, "use GET /status");
	} else if (!strcmp(path, "/logs")) {
		if (get)
			handle_logs(c);
		else
			respond_error(c, 405, "use GET /logs");
	} else if (!strcmp(path, "/metrics")) {
		if (get) {
			char *text = status_metrics(c->ctl->sv);

			respond(c, 200, "text/plain; version=0.0.4", text, strlen(text));
			free(text);
		} else {
			respond_error(c, 405, "use GET /metrics");
		}
	} else {
		respond_error(c, 404, "not found: try POST /restart, POST /rebuild, GET /status, /logs, /healthz, /metrics");
	}
}

/* ---- parser callbacks --------------------------------------------------------------------- */

static int on_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	c->url_len = c->field_len = c->body_bytes = 0;
	syncapi_close(c->sync);
	c->sync = NULL;
	c->reject = 0;
	c->url_too_long = c->field_done = c->want = 0;
	c->accept[0] = c->auth[0] = c->token[0] = 0;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (c->url_len + len >= sizeof c->url) {
		c->url_too_long = 1;
		return 0;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = 0;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (c->field_done) { /* a new header starts */
		c->field_len = 0;
		c->field_done = 0;
	}
	if (c->field_len + len < sizeof c->field) {
		memcpy(c->field + c->field_len, at, len);
		c->field_len += len;
	} else {
		c->field_len = sizeof c->field; /* too long to be one we use */
	}
	return 0;
}

static void append_value(char *dst, size_t cap, const char *at, size_t len)
{
	size_t have = strlen(dst);

	if (have + len < cap) {
		memcpy(dst + have, at, len);
		dst[have + len] = 0;
	}
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (!c->field_done) {
		c->field_done = 1;
		c->want = 0;
		if (c->field_len == 6 && !strncasecmp(c->field, "Accept", 6))
			c->want = 1;
		else if (c->field_len == 13 && !strncasecmp(c->field, "Authorization", 13))
			c->want = 2;
		else if (c->field_len == 16 && !strncasecmp(c->field, "X-Reloader-Token", 16))
			c->want = 3;
	}
	if (c->want == 1)
		append_value(c->accept, sizeof c->accept, at, len);
	else if (c->want == 2)
		append_value(c->auth, sizeof c->auth, at, len);
	else if (c->want == 3)
		append_value(c->token, sizeof c->token, at, len);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct conn *c = p->data;

	if (syncapi_is_path(c->url, c->url_len)) { /* its own limits; refused before the body when it must be */
		if (!authorized(c)) {
			c->reject = 401;
			c->reject_msg = "a token is required: send Authorization: Bearer <token from control.token_file>";
		} else {
			c->sync = syncapi_open(c->ctl->sv, c->url, c->url_len, p->method == HTTP_POST, p->content_length,
					       &c->reject, &c->reject_msg);
		}
		return c->reject ? -1 : 0;
	}
	/* A declared body over the limit is refused before it is read. */
	if (p->content_length != ULLONG_MAX && p->content_length > MAX_BODY) {
		c->body_bytes = (size_t)p->content_length;
		return -1; /* HPE_CB_headers_complete (1 would mean "no body"): answered with 413 */
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	(void)at;
	if (c->sync)
		return syncapi_body(c->sync, at, len) != 0;
	c->body_bytes += len;
	return c->body_bytes > MAX_BODY; /* a chunked body that grows too large */
}

static int on_message_complete(http_parser *p)
{
	struct conn *c = p->data;

	c->complete = 1;
	c->keep_alive = http_should_keep_alive(p);
	http_parser_pause(p, 1); /* one request at a time: the rest waits in c->in */
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* Parses what is buffered; answers a complete request, or a parse error with a 4xx and close. */
static void process_input(struct conn *c)
{
	size_t used;
	enum http_errno err;

	if (c->complete || c->waiting || c->following || !c->in_len)
		return;
	used = http_parser_execute(&c->parser, &parser_settings, c->in, c->in_len);
	err = HTTP_PARSER_ERRNO(&c->parser);
	if (err == HPE_PAUSED) {
		http_parser_pause(&c->parser, 0);
		err = HPE_OK;
	}
	if (used < c->in_len && err == HPE_OK)
		memmove(c->in, c->in + used, c->in_len - used);
	c->in_len = err == HPE_OK ? c->in_len - used : 0;
	if (err != HPE_OK) {
		unsigned status = c->reject ? c->reject : err == HPE_HEADER_OVERFLOW ? 431
				  : (err == HPE_CB_headers_complete || err == HPE_CB_body) ? 413 : 400;

		c->keep_alive = 0;
		c->close_after = 1;
		c->head = 0;
		respond_error(c, status, c->reject ? c->reject_msg : status == 431 ? "request headers too large"
				  : status == 413 ? "request body too large"
						  : "malformed HTTP request");
		return;
	}
	if (!c->complete)
		return;
	if (c->url_too_long) {
		c->keep_alive = 0;
		respond_error(c, 414, "URL too long");
		return;
	}
	ev_timer_again(c->ctl->loop, &c->idle);
	dispatch(c);
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	struct control *ctl = c->ctl;

	if (c->waiting)
		sv_unwait(ctl->sv, c);
	syncapi_close(c->sync);
	ev_io_stop(ctl->loop, &c->io);
	ev_timer_stop(ctl->loop, &c->idle);
	close(c->io.fd);
	for (struct conn **at = &ctl->conns; *at; at = &(*at)->next)
		if (*at == c) {
			*at = c->next;
			break;
		}
	ctl->nconns--;
	free(c->out);
	free(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	if (revents & EV_WRITE) {
		while (c->out_off < c->out_len) {
			ssize_t n = write(c->io.fd, c->out + c->out_off, c->out_len - c->out_off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				conn_close(c); /* EPIPE, ECONNRESET: the client left */
				return;
			}
			c->out_off += (size_t)n;
		}
		if (c->out_off == c->out_len) {
			if (c->close_after) {
				conn_close(c);
				return;
			}
			if (c->following)
				follow_refill(c);
			else
				process_input(c); /* a pipelined request may be waiting */
		}
		if (c->out_off < c->out_len || !(revents & EV_READ)) {
			set_events(c);
			return;
		}
	}
	if (revents & EV_READ) {
		ssize_t n;

		if (c->in_len == sizeof c->in) { /* a request bigger than the buffer: parse to make room */
			process_input(c);
			if (c->in_len == sizeof c->in)
				return;
		}
		n = read(c->io.fd, c->in + c->in_len, sizeof c->in - c->in_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(c); /* closed: nobody is left to answer, waiting or not */
			return;
		}
		c->in_len += (size_t)n; /* kept for later while a request is being answered */
		ev_timer_again(c->ctl->loop, &c->idle);
		process_input(c);
	}
	set_events(c);
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (!c->waiting && !c->following)
		conn_close(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;

	(void)revents;
	for (;;) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("control API: accept: %s", strerror(errno));
			return;
		}
		if (ctl->nconns >= MAX_CONNECTIONS || !(c = calloc(1, sizeof *c))) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

			if (write(fd, busy, sizeof busy - 1) < 0) { /* best effort */
			}
			close(fd);
			continue;
		}
		c->ctl = ctl;
		http_parser_init(&c->parser, HTTP_REQUEST);
		c->parser.data = c;
		ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_init(&c->idle, idle_cb);
		c->idle.repeat = IDLE_TIMEOUT;
		c->idle.data = c;
		ev_timer_again(loop, &c->idle);
		c->next = ctl->conns;
		ctl->conns = c;
		ctl->nconns++;
	}
}

/* Binds host:port ourselves so that errors can say exactly what went wrong. */
static int listen_socket(const char *listen_addr)
{
	char host[256], port[16];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
	int fd, one = 1, rc;

	if (colon) {
		const char *h = listen_addr;
		size_t hl = (size_t)(colon - listen_addr);

		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		snprintf(host, sizeof host, "%.*s", (int)hl, h);
		snprintf(port, sizeof port, "%s", colon + 1);
	} else {
		host[0] = 0;
		snprintf(port, sizeof port, "%s", listen_addr);
	}
	if ((rc = getaddrinfo(*host && strcmp(host, "*") ? host : "0.0.0.0", port, &hints, &ai)) != 0) {
		log_error("control API: cannot resolve %s: %s", listen_addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		log_error("control API: cannot listen on %s: %s%s", listen_addr, strerror(errno),
			  errno == EADDRINUSE ? " (another reloader? choose one with --listen HOST:PORT, or --listen none)"
					      : "");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

struct control *control_start(struct ev_loop *loop, struct supervisor *sv)
{
	struct control *ctl;
	const char *port;
	int fd;

	if (!sv->cfg->control.listen)
		return NULL;
	if ((fd = listen_socket(sv->cfg->control.listen)) < 0)
		return NULL;
	if (!(ctl = calloc(1, sizeof *ctl))) {
		close(fd);
		return NULL;
	}
	ctl->sv = sv;
	ctl->loop = loop;
	ctl->listen_fd = fd;
	ev_io_init(&ctl->listen_io, accept_cb, fd, EV_READ);
	ctl->listen_io.data = ctl;
	ev_io_start(loop, &ctl->listen_io);
	sv->logs.on_append = logs_appended;
	sv->logs.on_append_arg = ctl;
	port = strrchr(sv->cfg->control.listen, ':');
	log_info("control API on http://%s (try: curl -X POST localhost:%s/restart)", sv->cfg->control.listen,
		 port ? port + 1 : sv->cfg->control.listen);
	return ctl;
}

void control_stop(struct control *ctl)
{
	if (!ctl)
		return;
	ctl->sv->logs.on_append = NULL;
	while (ctl->conns)
		conn_close(ctl->conns);
	ev_io_stop(ctl->loop, &ctl->listen_io);
	close(ctl->listen_fd);
	free(ctl);
}
