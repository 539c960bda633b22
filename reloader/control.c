/* control.c — the control API (POST /restart, /rebuild, /cancel; GET /status, /logs, /healthz, /metrics)
 * on the libev loop: one ev_io per connection; requests are read by httpreq.c (Node's http_parser).
 *
 * Why not libmicrohttpd, as DESIGN.md suggests: Debian's build links GnuTLS, whose start-up alone
 * costs ~2.9 MB of resident memory — more than reloader's whole 2 MB budget (issue #2). The parser
 * is still a library; this file owns only connection handling, which libev makes small.
 *
 * Nobody who can reach the port can starve it (issue #12): a request head must arrive within
 * HEADER_TIMEOUT of the connection (or of its first byte on a kept-alive one); at the connection
 * cap the connection that has waited longest without a request in progress is closed to admit the
 * new one; an idle connection costs one small struct (buffers are allocated while bytes are in). */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpreq.h"
#include "jsontext.h"
#include "log.h"
#include "secret.h"
#include "status.h"
#include "syncapi.h"

#define MAX_CONNECTIONS 256
#define MAX_FOLLOWERS 64
#define HEADER_TIMEOUT 5.0         /* seconds for a whole request head (slow-dribbling clients) */
#define IDLE_TIMEOUT 30.0          /* seconds a kept-alive connection may wait for its next request */
#define ACCEPT_PAUSE 0.1           /* out of file descriptors and nothing to evict: retry after this */
#define READ_CHUNK 16384

/* One client connection; at most one request in flight (pipelined bytes wait in `in`). */
struct conn {
	ev_io io;                  /* the socket: EV_READ while reading, EV_WRITE while output is pending */
	ev_timer timer;            /* header timeout, then idle timeout; stopped while waiting or following */
	struct control *ctl;
	struct httpreq *req;       /* the request being read or answered, NULL between requests */
	char *in;                  /* READ_CHUNK bytes while unparsed bytes are held, else NULL */
	size_t in_len;
	int keep_alive;            /* the last request keeps the connection */
	int head;                  /* HEAD request: no body in the answer */
	char *out;                 /* pending output */
	size_t out_len, out_off;
	int close_after;           /* close once the output is written */
	int waiting;               /* a POST ...?wait=1 waiting for its cycle */
	int following;             /* a /logs?follow=1 stream */
	int chunked;               /* the stream uses chunked encoding (HTTP/1.1) */
	unsigned served;           /* requests answered on this connection */
	double since;              /* ev_now when it began waiting for its current request (eviction order) */
	uint64_t log_pos;          /* next log offset to send (follow streams) */
	struct sync_req *sync;     /* a /sync/ request's state (syncapi.c), NULL otherwise */
	struct conn *next;
};

struct control {
	struct supervisor *sv;
	struct ev_loop *loop;
	ev_io listen_io;
	ev_timer accept_pause;     /* restarts accepting after EMFILE with nothing to evict */
	int listen_fd;
	struct conn *conns;
	int nconns, max_conns;
	unsigned long evicted;     /* connections closed to admit a newer one */
};

static void conn_close(struct conn *c);
static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void process_input(struct conn *c);

static void conn_timer(struct conn *c, double seconds)
{
	ev_timer_stop(c->ctl->loop, &c->timer);
	ev_timer_set(&c->timer, seconds, 0);
	ev_timer_start(c->ctl->loop, &c->timer);
}

/* ---- output ------------------------------------------------------------------------------- */

static void out_append(struct conn *c, const char *data, size_t len)
{
	char *bigger;

	if (c->out_off == c->out_len) { /* all written: start over at the front */
		c->out_off = c->out_len = 0;
	}
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
	if (!c->close_after && c->in_len < READ_CHUNK)
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
	case 408: return "Request Timeout";
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

/* The request was answered: forget it and wait (IDLE_TIMEOUT) for the next one. */
static void request_done(struct conn *c)
{
	if (c->req) {
		httpreq_free(c->req);
		free(c->req);
		c->req = NULL;
	}
	c->served++;
	c->since = ev_now(c->ctl->loop);
	conn_timer(c, IDLE_TIMEOUT);
}

/* Queues a whole response; the request is done. */
static void respond(struct conn *c, unsigned status, const char *type, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n%s%s\r\n",
			 status, reason(status), type, len,
			 status == 401 ? "WWW-Authenticate: Bearer realm=\"reloader\"\r\n"
			 : status == 405 ? "Allow: GET, POST\r\n" : "",
			 c->keep_alive && !c->close_after ? "" : "Connection: close\r\n");

	out_append(c, head, (size_t)n);
	if (!c->head)
		out_append(c, body, len);
	if (!c->keep_alive)
		c->close_after = 1;
	request_done(c);
	set_events(c);
}

static int wants_json(struct conn *c) { return c->req && httpreq_wants_json(c->req); }

static void respond_text(struct conn *c, unsigned status, const char *text)
{
	respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void respond_json(struct conn *c, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	size_t len = s ? strlen(s) : 0;
	char *bigger;

	json_decref(j);
	if (!s || !(bigger = realloc(s, len + 2))) {
		free(s);
		respond_text(c, 500, "out of memory\n");
		return;
	}
	s = bigger;
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

static int authorized(struct conn *c)
{
	const char *want = c->ctl->sv->cfg->control.token;
	char from_query[512];
	const char *given = NULL;

	if (!want)
		return 1;
	if (!strncasecmp(c->req->auth, "Bearer ", 7))
		given = c->req->auth + 7;
	else if (*c->req->token)
		given = c->req->token;
	else
		given = httpreq_query(c->req, "token", from_query, sizeof from_query);
	return given && secret_equal(given, want);
}

/* A text answer: a first line, then output bytes exactly as they are. */
static void respond_outcome_text(struct conn *c, unsigned status, const char *first, const char *bytes, size_t len)
{
	size_t flen = strlen(first);
	char *all = malloc(flen + len + 1);

	if (!all) {
		respond_text(c, 500, "out of memory\n");
		return;
	}
	memcpy(all, first, flen);
	if (len)
		memcpy(all + flen, bytes, len);
	respond(c, status, "text/plain; charset=utf-8", all, flen + len);
	free(all);
}

/* Why the cycle's new process is not running, for a 502: the start error, or its exit status. */
static char *start_failure(struct supervisor *sv)
{
	char *text = NULL;
	int st = sv->svc_status, n;

	if (*sv->start_error)
		n = asprintf(&text, "%s", sv->start_error);
	else if (sv->svc && sv->svc->pid)
		n = asprintf(&text, "the new process (pid %d) did not become ready within %g s", (int)sv->svc->pid,
			     sv->cfg->ready.timeout);
	else if (st >= 0 && WIFSIGNALED(st))
		n = asprintf(&text, "the new process was killed by SIG%s %s", config_signal_name(WTERMSIG(st)),
			     sv->ready.enabled ? "before it was ready" : "within the settle time");
	else if (st >= 0)
		n = asprintf(&text, "the new process exited with status %d %s", WEXITSTATUS(st),
			     sv->ready.enabled ? "before it was ready" : "within the settle time");
	else
		n = asprintf(&text, "the new process could not start");
	return n < 0 ? NULL : text;
}

/* What the build's end was, for a 500. */
static const char *build_failure(struct supervisor *sv, char *buf, size_t cap)
{
	if (sv->build_end == BUILD_TIMED_OUT)
		snprintf(buf, cap, "build timed out after %g s (build_timeout) and was killed", sv->cfg->build_timeout);
	else if (sv->build_end == BUILD_CANCELLED)
		snprintf(buf, cap, "build cancelled (POST /cancel)");
	else
		snprintf(buf, cap, "build failed (exit %d)", sv->build.exit_code);
	return buf;
}

/* The answer to POST /restart?wait=1 once its cycle ended. */
static void respond_outcome(struct conn *c, enum sv_outcome outcome)
{
	struct supervisor *sv = c->ctl->sv;
	static const unsigned codes[] = {200, 500, 502, 503};
	static const char *const names[] = {"running", "build-failed", "start-failed", "shutting-down"};
	size_t build_len = 0, out_len = 0;
	char *build_output = logring_tail_len(&sv->build_log, 400, 60000, &build_len);
	char *last_output = outcome == OUTCOME_START_FAILED ? logring_tail_len(&sv->logs, 20, 8000, &out_len) : NULL;
	char *why = outcome == OUTCOME_START_FAILED ? start_failure(sv) : NULL;
	char *text = NULL, bwhy[200];
	const char *keeps = sv->svc && sv->svc->pid ? "the previous service is still running" : "nothing is running";
	int n = -1;

	if (wants_json(c)) {
		json_t *j = json_pack("{s:b, s:s, s:o}", "ok", outcome == OUTCOME_RUNNING, "outcome", names[outcome],
				      "status", status_json(sv));

		if (j && outcome == OUTCOME_BUILD_FAILED) {
			json_object_set_new(j, "build_output", jsontext_string(build_output ? build_output : "", build_len));
			json_object_set_new(j, "error", json_string(build_failure(sv, bwhy, sizeof bwhy)));
			json_object_set_new(j, "timed_out", json_boolean(sv->build_end == BUILD_TIMED_OUT));
		}
		if (j && outcome == OUTCOME_START_FAILED) {
			json_object_set_new(j, "error", json_string(why ? why : ""));
			json_object_set_new(j, "last_output", jsontext_lines(last_output ? last_output : "", out_len));
		}
		free(build_output);
		free(last_output);
		free(why);
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
		n = asprintf(&text, "%s; %s\n", build_failure(sv, bwhy, sizeof bwhy), keeps);
		if (n >= 0) {
			/* the compiler's output is bytes: sent as they are */
			respond_outcome_text(c, 500, text, build_output, build_len);
			free(text);
			free(build_output);
			free(why);
			return;
		}
		break;
	case OUTCOME_START_FAILED:
		n = asprintf(&text, "%s; see GET /logs. Last output:\n", why ? why : "the new process failed");
		if (n >= 0) {
			respond_outcome_text(c, 502, text, last_output, out_len);
			free(text);
			free(build_output);
			free(last_output);
			free(why);
			return;
		}
		break;
	case OUTCOME_SHUTDOWN:
		n = asprintf(&text, "reloader is shutting down\n");
		break;
	}
	free(build_output);
	free(last_output);
	free(why);
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
	if (httpreq_flag(c->req, "wait")) {
		if (sv->cycle_done >= cycle) { /* it already ended inside sv_request */
			respond_outcome(c, sv->state == SV_BUILD_FAILED ? OUTCOME_BUILD_FAILED
					   : sv->state == SV_RUNNING    ? OUTCOME_RUNNING
									: OUTCOME_START_FAILED);
			return;
		}
		c->waiting = 1;
		ev_timer_stop(c->ctl->loop, &c->timer);
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

static void handle_cancel(struct conn *c)
{
	pid_t pid = sv_cancel_build(c->ctl->sv);
	char text[128];

	if (!pid) {
		respond_error(c, 409, "no build is running: nothing to cancel");
		return;
	}
	if (wants_json(c)) {
		respond_json(c, 200, json_pack("{s:b, s:i}", "cancelled", 1, "build_pid", (int)pid));
		return;
	}
	snprintf(text, sizeof text, "cancelled the build (process group %d); the previous service keeps running\n",
		 (int)pid);
	respond_text(c, 200, text);
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
	const char *lines_arg = httpreq_query(c->req, "lines", arg, sizeof arg);
	long lines = lines_arg ? strtol(lines_arg, NULL, 10) : 200;

	if (lines <= 0)
		lines = 200;
	if (httpreq_flag(c->req, "follow")) {
		int followers = 0;
		char head[256];
		int n;

		for (struct conn *o = c->ctl->conns; o; o = o->next)
			followers += o->following;
		if (followers >= MAX_FOLLOWERS) {
			respond_error(c, 503, "too many log followers");
			return;
		}
		c->chunked = c->req->parser.http_major == 1 && c->req->parser.http_minor >= 1;
		n = snprintf(head, sizeof head,
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
			     "X-Content-Type-Options: nosniff\r\n%s\r\n",
			     c->chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
		out_append(c, head, (size_t)n);
		c->following = 1;
		httpreq_free(c->req);
		free(c->req);
		c->req = NULL;
		ev_timer_stop(c->ctl->loop, &c->timer);
		c->log_pos = logring_tail_offset(&c->ctl->sv->logs, (size_t)lines);
		set_events(c);
		return;
	}
	{
		size_t len = 0;
		char *text = logring_tail_len(&c->ctl->sv->logs, (size_t)lines, 256 * 1024, &len);

		/* Bytes exactly as the service wrote them (NULs, any encoding); JSON escapes and replaces. */
		if (wants_json(c))
			respond_json(c, 200, json_pack("{s:o}", "lines", jsontext_lines(text ? text : "", len)));
		else
			respond(c, 200, "text/plain; charset=utf-8", text ? text : "", text ? len : 0);
		free(text);
	}
}

static void handle_status(struct conn *c)
{
	json_t *st = status_json(c->ctl->sv);
	char *text;

	if (wants_json(c)) {
		respond_json(c, 200, st);
		return;
	}
	text = st ? status_text(st) : NULL;
	json_decref(st);
	respond_text(c, text ? 200 : 500, text ? text : "out of memory\n");
	free(text);
}

/* ---- /sync/ (syncapi.c reads the body and answers through these) --------------------------- */

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
	ev_timer_stop(c->ctl->loop, &c->timer);
	sv_wait(sv, cycle, cycle_done_cb, c);
	set_events(c);
}

static const struct sync_reply_ops sync_ops = {sync_error, sync_json, sync_wait};

/* httpreq's head hook: a /sync/ request is checked (token, method, size) before its body, which
 * then streams to syncapi instead of the MAX_BODY limit. Every other request goes on as before. */
static unsigned sync_head(struct httpreq *r, unsigned long long content_length, const char **msg)
{
	struct conn *c = r->arg;
	unsigned status = 0;

	if (r->url_too_long || !syncapi_is_path(r->url ? r->url : "", r->url_len)) /* too long: answered 414 */
		return 0;
	if (!authorized(c)) {
		*msg = "a token is required: send Authorization: Bearer <token from control.token_file>";
		return 401;
	}
	c->sync = syncapi_open(c->ctl->sv, r->url, r->url_len, r->parser.method == HTTP_POST, content_length, &status,
			       msg);
	if (!c->sync)
		return status;
	r->stream = 1;
	conn_timer(c, IDLE_TIMEOUT); /* the head came in time; a body may take long, but must keep coming */
	return 0;
}

static int sync_body(struct httpreq *r, const char *at, size_t len)
{
	struct conn *c = r->arg;

	conn_timer(c, IDLE_TIMEOUT);
	return syncapi_body(c->sync, at, len) != 0;
}

static void dispatch(struct conn *c)
{
	char path[256];
	int get = c->req->method == HTTP_GET || c->req->method == HTTP_HEAD;
	int post = c->req->method == HTTP_POST;

	httpreq_path(c->req, path, sizeof path);
	c->head = c->req->method == HTTP_HEAD;
	if (c->sync) { /* token, method and size were checked when its head came (sync_head) */
		c->waiting = 1; /* until syncapi answers (a batch answers once its cycle ends) */
		ev_timer_stop(c->ctl->loop, &c->timer);
		syncapi_finish(c->sync, &sync_ops, c);
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
	} else if (!strcmp(path, "/cancel")) {
		if (post)
			handle_cancel(c);
		else
			respond_error(c, 405, "use POST /cancel");
	} else if (!strcmp(path, "/status")) {
		if (get)
			handle_status(c);
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
		respond_error(c, 404, "not found: try POST /restart, /rebuild, /cancel, GET /status, /logs, /healthz, /metrics");
	}
}

/* Parses what is buffered; answers one complete request, or a parse error with a 4xx and close. */
static void process_input(struct conn *c)
{
	unsigned status;
	const char *msg;
	size_t used;

	while (c->in_len && !c->waiting && !c->following && !c->close_after && !(c->req && c->req->complete) &&
	       c->out_off == c->out_len) {
		if (!c->req) {
			if (!(c->req = calloc(1, sizeof *c->req))) {
				conn_close(c);
				return;
			}
			httpreq_init(c->req);
			c->req->on_head = sync_head;
			c->req->on_body = sync_body;
			c->req->arg = c;
			syncapi_close(c->sync); /* the previous request's, answered */
			c->sync = NULL;
			if (c->served) /* a kept-alive connection: its next head must come in time too */
				conn_timer(c, HEADER_TIMEOUT);
		}
		used = httpreq_feed(c->req, c->in, c->in_len, &status, &msg);
		if (used < c->in_len)
			memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (status) {
			c->in_len = 0;
			c->keep_alive = 0;
			c->close_after = 1;
			c->head = 0;
			respond_error(c, status, msg);
			return;
		}
		if (!c->req->complete)
			return;
		c->keep_alive = c->req->keep_alive;
		if (c->req->url_too_long) {
			c->keep_alive = 0;
			respond_error(c, 414, "URL too long");
			return;
		}
		dispatch(c);
		return; /* one at a time: a pipelined request waits until this answer is written */
	}
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	struct control *ctl = c->ctl;

	if (c->waiting)
		sv_unwait(ctl->sv, c);
	syncapi_close(c->sync);
	ev_io_stop(ctl->loop, &c->io);
	ev_timer_stop(ctl->loop, &c->timer);
	close(c->io.fd);
	for (struct conn **at = &ctl->conns; *at; at = &(*at)->next)
		if (*at == c) {
			*at = c->next;
			break;
		}
	ctl->nconns--;
	if (c->req) {
		httpreq_free(c->req);
		free(c->req);
	}
	free(c->in);
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
			if (!c->in_len) {
				free(c->in);
				c->in = NULL;
			}
		}
		if (c->out_off < c->out_len || !(revents & EV_READ)) {
			set_events(c);
			return;
		}
	}
	if (revents & EV_READ) {
		ssize_t n;

		if (c->in_len == READ_CHUNK) /* everything held waits for an answer to be written */
			return;
		if (!c->in && !(c->in = malloc(READ_CHUNK))) {
			conn_close(c);
			return;
		}
		n = read(c->io.fd, c->in + c->in_len, READ_CHUNK - c->in_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(c); /* closed: nobody is left to answer, waiting or not */
			return;
		}
		c->in_len += (size_t)n; /* kept for later while a request is being answered */
		process_input(c);
		if (!c->in_len) {
			free(c->in); /* an idle or dribbling connection holds no buffer */
			c->in = NULL;
		}
	}
	set_events(c);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->waiting || c->following)
		return;
	if (c->req && c->req->started && !c->req->complete && c->out_off == c->out_len) {
		/* A head that did not arrive in time: say so (best effort), then close. */
		static const char late[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

		if (write(c->io.fd, late, sizeof late - 1) < 0) { /* best effort */
		}
	}
	conn_close(c);
}

/* The connection that has waited longest with no request in progress and nothing to send:
 * idle kept-alive ones, and those still sending (or not sending) their head. NULL when none. */
static struct conn *oldest_idle(struct control *ctl)
{
	struct conn *best = NULL;

	for (struct conn *c = ctl->conns; c; c = c->next) {
		if (c->waiting || c->following || (c->req && c->req->complete) || c->out_off < c->out_len ||
		    (c->req && c->req->stream)) /* a sync body on its way is a request in progress */
			continue;
		if (!best || c->since < best->since)
			best = c;
	}
	return best;
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = w->data;

	(void)revents;
	ev_io_start(loop, &ctl->listen_io);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;

	(void)revents;
	for (;;) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c, *old;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Make room by closing the oldest idle connection; with none, pause accepting
				 * rather than spin on a listening socket that stays readable. */
				if ((old = oldest_idle(ctl))) {
					conn_close(old);
					ctl->evicted++;
					continue;
				}
				ev_io_stop(loop, &ctl->listen_io);
				ev_timer_set(&ctl->accept_pause, ACCEPT_PAUSE, 0);
				ev_timer_start(loop, &ctl->accept_pause);
				return;
			}
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("control API: accept: %s", strerror(errno));
			return;
		}
		if (ctl->nconns >= ctl->max_conns && (old = oldest_idle(ctl))) {
			conn_close(old); /* the newcomer may be a probe: /healthz must answer whatever the load */
			ctl->evicted++;
		}
		if (ctl->nconns >= ctl->max_conns || !(c = calloc(1, sizeof *c))) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

			if (write(fd, busy, sizeof busy - 1) < 0) { /* best effort */
			}
			close(fd);
			continue;
		}
		c->ctl = ctl;
		c->since = ev_now(loop);
		ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_init(&c->timer, timer_cb);
		c->timer.data = c;
		conn_timer(c, HEADER_TIMEOUT);
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
	ctl->max_conns = MAX_CONNECTIONS;
	{
		/* Stay below the descriptor limit: the service's pipes, the watcher and the build need some. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)ctl->max_conns + 64 > rl.rlim_cur)
			ctl->max_conns = rl.rlim_cur > 96 ? (int)rl.rlim_cur - 64 : 32;
	}
	ev_init(&ctl->accept_pause, accept_resume_cb);
	ctl->accept_pause.data = ctl;
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
	ev_timer_stop(ctl->loop, &ctl->accept_pause);
	close(ctl->listen_fd);
	free(ctl);
}
