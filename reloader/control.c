/* control.c — the control API (POST /restart, /rebuild; GET /status, /logs, /healthz, /metrics)
 * served by libmicrohttpd from the libev loop: MHD's epoll fd is one ev_io, its timeout one ev_timer.
 * The only file of reloader that includes the HTTP server library. */
#include "control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

#define MAX_BODY (64 * 1024)    /* POST bodies are ignored, but only up to this size */
#define MAX_FOLLOWERS 64

/* One request in flight. Lives from the first handler call until MHD says it completed. */
struct request {
	struct control *ctl;
	struct MHD_Connection *conn;
	size_t body_bytes;
	int waiting;             /* suspended until its restart cycle ends */
	int have_outcome;
	enum sv_outcome outcome;
	int follower;            /* a /logs?follow=1 stream that is suspended for lack of data */
	uint64_t log_pos;        /* next log offset to send (follow streams) */
	struct request *next_follower;
};

struct control {
	struct supervisor *sv;
	struct MHD_Daemon *mhd;
	struct ev_loop *loop;
	ev_io epoll_io;
	ev_timer timeout;
	struct request *followers; /* suspended /logs streams, resumed on new output */
	int stopping;
};

static void control_run(struct control *ctl)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(ctl->mhd);
	ev_timer_stop(ctl->loop, &ctl->timeout);
	/* Only live connections have a timeout; with none, MHD needs no timer (idle = no wakeups). */
	if (MHD_get_timeout(ctl->mhd, &ms) == MHD_YES) {
		ev_timer_set(&ctl->timeout, (double)ms / 1000.0, 0);
		ev_timer_start(ctl->loop, &ctl->timeout);
	}
}

static void epoll_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	control_run(w->data);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	control_run(w->data);
}

/* In external-loop mode a resumed connection is handled at the next MHD_run: make that soon. */
static void kick(struct control *ctl)
{
	ev_timer_stop(ctl->loop, &ctl->timeout);
	ev_timer_set(&ctl->timeout, 0, 0);
	ev_timer_start(ctl->loop, &ctl->timeout);
}

static void resume_followers(void *arg)
{
	struct control *ctl = arg;
	struct request *r = ctl->followers;

	if (!r)
		return;
	ctl->followers = NULL;
	for (; r; r = r->next_follower) {
		r->follower = 0;
		MHD_resume_connection(r->conn);
	}
	kick(ctl);
}

static void drop_follower(struct control *ctl, struct request *req)
{
	for (struct request **at = &ctl->followers; *at; at = &(*at)->next_follower)
		if (*at == req) {
			*at = req->next_follower;
			break;
		}
}

static int wants_json(struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/json") != NULL;
}

static int query_flag(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

	return v && (!*v || !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *body,
			     size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"reloader\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* JSON for Accept: application/json, else the message as text. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	if (wants_json(conn)) {
		json_t *j = json_pack("{s:s}", "error", msg);
		char *s = json_dumps(j, JSON_COMPACT);
		enum MHD_Result rc = reply(conn, status, "application/json", s, strlen(s));

		free(s);
		json_decref(j);
		return rc;
	}
	{
		char *text = NULL;
		enum MHD_Result rc;

		if (asprintf(&text, "%s\n", msg) < 0)
			return MHD_NO;
		rc = reply_text(conn, status, text);
		free(text);
		return rc;
	}
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	enum MHD_Result rc;
	size_t len = strlen(s);

	s = realloc(s, len + 2);
	s[len] = '\n';
	s[len + 1] = 0;
	rc = reply(conn, status, "application/json", s, len + 1);
	free(s);
	json_decref(j);
	return rc;
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

static int authorized(struct control *ctl, struct MHD_Connection *conn)
{
	const char *want = ctl->sv->cfg->control.token, *auth, *given = NULL;

	if (!want)
		return 1;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && !strncasecmp(auth, "Bearer ", 7))
		given = auth + 7;
	if (!given)
		given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Reloader-Token");
	if (!given)
		given = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
	return given && token_equal(given, want);
}

static void cycle_done_cb(struct supervisor *sv, enum sv_outcome outcome, void *arg)
{
	struct request *req = arg;

	(void)sv;
	req->outcome = outcome;
	req->have_outcome = 1;
	req->waiting = 0;
	MHD_resume_connection(req->conn);
	kick(req->ctl);
}

/* The answer to POST /restart?wait=1 once its cycle ended. */
static enum MHD_Result reply_outcome(struct control *ctl, struct request *req)
{
	struct supervisor *sv = ctl->sv;
	static const unsigned codes[] = {MHD_HTTP_OK, MHD_HTTP_INTERNAL_SERVER_ERROR, MHD_HTTP_BAD_GATEWAY,
					 MHD_HTTP_SERVICE_UNAVAILABLE};
	static const char *const names[] = {"running", "build-failed", "start-failed", "shutting-down"};
	char *build_output = logring_tail(&sv->build_log, 400, 60000);
	unsigned code = codes[req->outcome];
	enum MHD_Result rc;

	if (wants_json(req->conn)) {
		json_t *j = json_pack("{s:b, s:s, s:o}", "ok", req->outcome == OUTCOME_RUNNING, "outcome",
				      names[req->outcome], "status", status_json(sv));
		if (req->outcome == OUTCOME_BUILD_FAILED)
			json_object_set_new(j, "build_output", json_string(build_output ? build_output : ""));
		free(build_output);
		return reply_json(req->conn, code, j);
	}
	{
		char *text = NULL;
		int n = -1;

		switch (req->outcome) {
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
		if (n < 0)
			return MHD_NO;
		rc = reply_text(req->conn, code, text);
		free(text);
		return rc;
	}
}

static enum MHD_Result handle_restart(struct control *ctl, struct request *req, int force)
{
	struct supervisor *sv = ctl->sv;
	unsigned long cycle = sv_request(sv, "poke", force);

	if (sv->exiting)
		return reply_error(req->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "reloader is shutting down");
	if (query_flag(req->conn, "wait")) {
		if (sv->cycle_done >= cycle) {
			/* The cycle already ended inside sv_request (e.g. nothing to build and no process). */
			req->have_outcome = 1;
			req->outcome = sv->state == SV_BUILD_FAILED ? OUTCOME_BUILD_FAILED
				       : sv->state == SV_RUNNING    ? OUTCOME_RUNNING
								    : OUTCOME_START_FAILED;
			return reply_outcome(ctl, req);
		}
		req->waiting = 1;
		sv_wait(sv, cycle, cycle_done_cb, req);
		MHD_suspend_connection(req->conn);
		return MHD_YES;
	}
	if (wants_json(req->conn))
		return reply_json(req->conn, MHD_HTTP_ACCEPTED,
				  json_pack("{s:b, s:I, s:s}", "queued", 1, "cycle", (json_int_t)cycle, "state",
					    sv_state_name(sv->state)));
	return reply_text(req->conn, MHD_HTTP_ACCEPTED, force ? "rebuild queued\n" : "restart queued\n");
}

static ssize_t follow_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct request *req = cls;
	struct control *ctl = req->ctl;
	size_t n;

	(void)pos;
	if (ctl->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = logring_read(&ctl->sv->logs, &req->log_pos, buf, max);
	if (n > 0)
		return (ssize_t)n;
	/* Nothing new: park the connection until the next line arrives. */
	req->follower = 1;
	req->next_follower = ctl->followers;
	ctl->followers = req;
	MHD_suspend_connection(req->conn);
	return 0;
}

static enum MHD_Result handle_logs(struct control *ctl, struct request *req)
{
	const char *lines_arg = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "lines");
	long lines = lines_arg ? strtol(lines_arg, NULL, 10) : 200;

	if (lines <= 0)
		lines = 200;
	if (query_flag(req->conn, "follow")) {
		struct MHD_Response *resp;
		enum MHD_Result rc;
		int followers = 0;

		for (struct request *r = ctl->followers; r; r = r->next_follower)
			followers++;
		if (followers >= MAX_FOLLOWERS)
			return reply_error(req->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "too many log followers");
		req->log_pos = logring_tail_offset(&ctl->sv->logs, (size_t)lines);
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, follow_reader, req, NULL);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
		rc = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return rc;
	}
	{
		char *text = logring_tail(&ctl->sv->logs, (size_t)lines, 256 * 1024);
		enum MHD_Result rc = reply_text(req->conn, MHD_HTTP_OK, text ? text : "");

		free(text);
		return rc;
	}
}

static enum MHD_Result dispatch(struct control *ctl, struct request *req, const char *url, const char *method)
{
	struct MHD_Connection *conn = req->conn;
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int post = !strcmp(method, "POST");

	if (req->body_bytes > MAX_BODY)
		return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (!strcmp(url, "/healthz")) {
		if (!get)
			return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET /healthz");
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	}
	if (!authorized(ctl, conn))
		return reply_error(conn, MHD_HTTP_UNAUTHORIZED,
				   "a token is required: send Authorization: Bearer <token from control.token_file>");
	if (!strcmp(url, "/restart") || !strcmp(url, "/rebuild")) {
		if (!post)
			return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST, e.g. curl -X POST .../restart");
		return handle_restart(ctl, req, !strcmp(url, "/rebuild"));
	}
	if (!strcmp(url, "/status")) {
		if (!get)
			return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET /status");
		return reply_json(conn, MHD_HTTP_OK, status_json(ctl->sv));
	}
	if (!strcmp(url, "/logs")) {
		if (!get)
			return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET /logs");
		return handle_logs(ctl, req);
	}
	if (!strcmp(url, "/metrics")) {
		char *text;
		enum MHD_Result rc;

		if (!get)
			return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET /metrics");
		text = status_metrics(ctl->sv);
		rc = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text, strlen(text));
		free(text);
		return rc;
	}
	return reply_error(conn, MHD_HTTP_NOT_FOUND,
			   "not found: try POST /restart, POST /rebuild, GET /status, /logs, /healthz, /metrics");
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct control *ctl = cls;
	struct request *req = *con_cls;

	(void)version;
	(void)upload_data;
	if (!req) {
		req = calloc(1, sizeof *req);
		if (!req)
			return MHD_NO;
		req->ctl = ctl;
		req->conn = conn;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size) {
		req->body_bytes += *upload_data_size; /* ignored, but counted */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->waiting)
		return MHD_YES;
	if (req->have_outcome)
		return reply_outcome(ctl, req);
	return dispatch(ctl, req, url, method);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct control *ctl = cls;
	struct request *req = *con_cls;

	(void)conn;
	(void)toe;
	if (!req)
		return;
	if (req->waiting)
		sv_unwait(ctl->sv, req);
	if (req->follower)
		drop_follower(ctl, req);
	free(req);
	*con_cls = NULL;
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
	const union MHD_DaemonInfo *info;
	int fd;

	if (!sv->cfg->control.listen)
		return NULL;
	if ((fd = listen_socket(sv->cfg->control.listen)) < 0)
		return NULL;
	ctl = calloc(1, sizeof *ctl);
	ctl->sv = sv;
	ctl->loop = loop;
	ctl->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, access_cb, ctl,
				    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, ctl,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_CONNECTION_LIMIT,
				    (unsigned int)256, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				    MHD_OPTION_END);
	if (!ctl->mhd) {
		log_error("control API: the HTTP server did not start on %s", sv->cfg->control.listen);
		close(fd);
		free(ctl);
		return NULL;
	}
	info = MHD_get_daemon_info(ctl->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&ctl->epoll_io, epoll_cb, info->epoll_fd, EV_READ);
	ctl->epoll_io.data = ctl;
	ev_io_start(loop, &ctl->epoll_io);
	ev_timer_init(&ctl->timeout, timeout_cb, 0, 0);
	ctl->timeout.data = ctl;
	sv->logs.on_append = resume_followers;
	sv->logs.on_append_arg = ctl;
	log_info("control API on http://%s (try: curl -X POST localhost:%s/restart)", sv->cfg->control.listen,
		 strrchr(sv->cfg->control.listen, ':') ? strrchr(sv->cfg->control.listen, ':') + 1
						       : sv->cfg->control.listen);
	return ctl;
}

void control_stop(struct control *ctl)
{
	if (!ctl)
		return;
	ctl->stopping = 1;
	ctl->sv->logs.on_append = NULL;
	resume_followers(ctl);
	ev_io_stop(ctl->loop, &ctl->epoll_io);
	ev_timer_stop(ctl->loop, &ctl->timeout);
	MHD_stop_daemon(ctl->mhd);
	free(ctl);
}
