/* ready.c — readiness checks after a start: a TCP port that accepts, or an HTTP URL that answers 2xx/3xx.
 * Attempts are non-blocking on the event loop: at the start, then 1, 2, 4, 8 ms apart (a service that
 * listens within a few milliseconds is seen within one or two), then every 10 ms until the deadline. */
#include "ready.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "portowner.h"

#define READY_FIRST 0.001   /* seconds to the first retry */
#define READY_INTERVAL 0.01 /* the most between attempts */

static int split_host_port(const char *text, char *host, size_t hostcap, char *port, size_t portcap)
{
	const char *colon = strrchr(text, ':');

	if (!colon) { /* a bare port */
		snprintf(host, hostcap, "127.0.0.1");
		snprintf(port, portcap, "%s", text);
		return 0;
	}
	if (text[0] == '[') { /* [::1]:8080 */
		const char *close = strchr(text, ']');

		if (!close || close + 1 != colon)
			return -1;
		snprintf(host, hostcap, "%.*s", (int)(close - text - 1), text + 1);
	} else {
		snprintf(host, hostcap, "%.*s", (int)(colon - text), text);
	}
	if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		snprintf(host, hostcap, "127.0.0.1");
	snprintf(port, portcap, "%s", colon + 1);
	return 0;
}

int ready_configure(struct ready_check *r, const char *tcp, const char *http, double timeout)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->timeout = timeout;
	if (http) {
		const char *hostport = http + strlen("http://");
		const char *slash = strchr(hostport, '/');
		char hp[300];

		snprintf(hp, sizeof hp, "%.*s", (int)(slash ? (size_t)(slash - hostport) : strlen(hostport)), hostport);
		if (!strchr(hp, ':') || hp[0] == '[') {
			if (strlen(hp) + 4 < sizeof hp && !strchr(hp, ':'))
				strcat(hp, ":80");
		}
		if (split_host_port(hp, r->host, sizeof r->host, r->port, sizeof r->port) != 0) {
			log_error("ready.http: cannot read host and port from %s", http);
			return -1;
		}
		snprintf(r->path, sizeof r->path, "%s", slash ? slash : "/");
		r->http = 1;
		r->enabled = 1;
	} else if (tcp) {
		if (split_host_port(tcp, r->host, sizeof r->host, r->port, sizeof r->port) != 0) {
			log_error("ready.tcp: cannot read host and port from %s", tcp);
			return -1;
		}
		r->enabled = 1;
	}
	return 0;
}

static void close_attempt(struct ready_check *r, struct ev_loop *loop)
{
	if (r->fd >= 0) {
		ev_io_stop(loop, &r->io);
		close(r->fd);
		r->fd = -1;
	}
}

static void finish(struct ready_check *r, struct ev_loop *loop, int ok)
{
	close_attempt(r, loop);
	ev_timer_stop(loop, &r->tick);
	ev_timer_stop(loop, &r->deadline);
	r->done(r, ok, r->last_error);
}

static void retry_later(struct ready_check *r, struct ev_loop *loop, const char *why)
{
	snprintf(r->last_error, sizeof r->last_error, "%s", why);
	close_attempt(r, loop);
	ev_timer_set(&r->tick, r->wait, 0);
	ev_timer_start(loop, &r->tick);
	r->wait = r->wait * 2 < READY_INTERVAL ? r->wait * 2 : READY_INTERVAL;
}

static void http_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ready_check *r = w->data;
	ssize_t n = read(r->fd, r->response + r->response_len, sizeof r->response - 1 - r->response_len);
	int status;

	(void)revents;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		r->response_len += (size_t)n;
	r->response[r->response_len] = 0;
	if (n > 0 && r->response_len < 12 && !strchr(r->response, '\n'))
		return; /* the status line is not complete yet */
	if (sscanf(r->response, "HTTP/%*d.%*d %d", &status) == 1 && status >= 200 && status < 400) {
		finish(r, loop, 1);
		return;
	}
	retry_later(r, loop, r->response_len ? "HTTP status not 2xx/3xx" : "connection closed without a response");
}

static void connected_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ready_check *r = w->data;
	int err = 0;
	socklen_t len = sizeof err;
	char req[1400];
	int n;

	(void)revents;
	getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		retry_later(r, loop, strerror(err));
		return;
	}
	/* Whoever accepted must be the new service, not a process that already held the port. */
	if (port_check_ours(r->host, r->port, r->last_error, sizeof r->last_error) != 0) {
		r->foreign = 1;
		close_attempt(r, loop);
		ev_timer_stop(loop, &r->tick);
		ev_timer_stop(loop, &r->deadline);
		r->done(r, 0, r->last_error);
		return;
	}
	if (!r->http) {
		finish(r, loop, 1);
		return;
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: reloader\r\n\r\n", r->path,
		     r->host, r->port);
	if (write(r->fd, req, (size_t)n) != n) {
		retry_later(r, loop, "cannot send the request");
		return;
	}
	r->response_len = 0;
	ev_io_stop(loop, &r->io);
	ev_io_init(&r->io, http_read_cb, r->fd, EV_READ);
	r->io.data = r;
	ev_io_start(loop, &r->io);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ready_check *r = w->data;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
	int rc;

	(void)revents;
	close_attempt(r, loop);
	if ((rc = getaddrinfo(r->host, r->port, &hints, &ai)) != 0) {
		retry_later(r, loop, gai_strerror(rc));
		return;
	}
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0 || (connect(r->fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
		const char *why = strerror(errno);

		freeaddrinfo(ai);
		retry_later(r, loop, why);
		return;
	}
	freeaddrinfo(ai);
	ev_io_init(&r->io, connected_cb, r->fd, EV_WRITE);
	r->io.data = r;
	ev_io_start(loop, &r->io);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	finish(w->data, loop, 0);
}

int ready_port_free(const struct ready_check *r, char *why, size_t cap)
{
	return r->enabled ? port_check_free(r->host, r->port, why, cap) : 0;
}

void ready_begin(struct ready_check *r, struct ev_loop *loop)
{
	r->last_error[0] = 0;
	r->foreign = 0;
	r->wait = READY_FIRST;
	ev_timer_init(&r->tick, tick_cb, 0, 0);
	r->tick.data = r;
	ev_timer_init(&r->deadline, deadline_cb, r->timeout, 0);
	r->deadline.data = r;
	ev_timer_start(loop, &r->deadline);
	ev_timer_start(loop, &r->tick);
}

void ready_cancel(struct ready_check *r, struct ev_loop *loop)
{
	close_attempt(r, loop);
	ev_timer_stop(loop, &r->tick);
	ev_timer_stop(loop, &r->deadline);
}
