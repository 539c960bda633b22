/* ready.h — readiness checks after a start: a TCP port that accepts, or an HTTP URL that answers 2xx/3xx. */
#ifndef RL_READY_H
#define RL_READY_H

#include <ev.h>
#include <stddef.h>

struct ready_check {
	int enabled;         /* a tcp or http check is configured */
	int http;            /* 1: send GET path and want a 2xx/3xx status */
	char host[256];      /* host to connect to */
	char port[16];       /* port, as text */
	char path[1024];     /* request path for http */
	double timeout;      /* seconds before giving up */
	ev_timer tick;       /* next attempt */
	double wait;         /* until the next attempt: 1 ms after the first, doubling up to 10 ms */
	ev_timer deadline;   /* gives up after timeout */
	ev_io io;            /* the attempt's socket */
	int fd;              /* -1 when no attempt is in flight */
	char response[64];   /* start of the HTTP response */
	size_t response_len;
	/* Called once per ready_begin: ok=1 ready, ok=0 timed out (why says what was last seen). */
	void (*done)(struct ready_check *r, int ok, const char *why);
	void *owner;
	char last_error[384];
	int foreign;         /* the last failure: another process answered on the port */
};

/* Reads the ready.{tcp,http,timeout} settings. Returns 0, or -1 after logging a bad address. */
int ready_configure(struct ready_check *r, const char *tcp, const char *http, double timeout);
/* Starts polling; done() is called exactly once unless ready_cancel comes first. */
void ready_begin(struct ready_check *r, struct ev_loop *loop);
void ready_cancel(struct ready_check *r, struct ev_loop *loop);
/* Before a start: 0 when no check is set or nobody listens on its port yet; else -1 with a
 * message naming the process that holds it. */
int ready_port_free(const struct ready_check *r, char *why, size_t cap);

#endif
