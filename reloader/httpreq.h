/* httpreq.h — reads one control-API request with Node's http_parser: method, URL, the three headers
 * reloader uses, and the body limit. No I/O: the connection code feeds it bytes. */
#ifndef RL_HTTPREQ_H
#define RL_HTTPREQ_H

#include <http_parser.h>
#include <stddef.h>

#define HTTPREQ_MAX_BODY (64 * 1024) /* POST bodies are ignored, but only up to this size */
#define HTTPREQ_MAX_URL 8192

struct httpreq {
	http_parser parser;
	char *url;                 /* malloc'd, NUL-terminated, grown up to HTTPREQ_MAX_URL */
	size_t url_len, url_cap;
	int url_too_long;          /* answered with 414 once the request is complete */
	char field[64];            /* the header name being read (only the ones we use matter) */
	size_t field_len;
	int field_done;
	int want;                  /* header the current value belongs to: 0 none, 1 Accept, 2 Authorization, 3 X-Reloader-Token */
	char accept[256];          /* NUL-terminated header values (truncated when longer) */
	char auth[512];
	char token[512];
	size_t body_bytes;         /* body bytes seen, or the declared Content-Length when over the limit */
	int started;               /* at least one byte of this request was parsed */
	int complete;              /* the whole request was read: answer it before feeding more */
	int keep_alive;            /* the client keeps the connection after the answer */
	unsigned method;           /* enum http_method */

	/* Optional, set after httpreq_init (the sync endpoints, control.c): on_head runs once the head
	 * is read and returns 0, or a status to refuse the request before its body (with *msg); when
	 * it sets `stream`, body bytes go to on_body (nonzero: 413) instead of the MAX_BODY limit. */
	unsigned (*on_head)(struct httpreq *r, unsigned long long content_length, const char **msg);
	int (*on_body)(struct httpreq *r, const char *at, size_t len);
	void *arg;                 /* for the hooks */
	int stream;                /* the body goes to on_body */
	unsigned refused;          /* the status on_head returned ... */
	const char *refused_msg;   /* ... and its message */
};

void httpreq_init(struct httpreq *r);
void httpreq_free(struct httpreq *r);

/*
 * Parses data until one request is complete (the rest is left for the next request: re-init
 * first). Returns the number of bytes used. On a malformed or oversized request returns with
 * *status set to the 4xx to answer (then close the connection) and *msg saying why; *status
 * is 0 otherwise. A complete request with url_too_long set must be answered 414.
 */
size_t httpreq_feed(struct httpreq *r, const char *data, size_t len, unsigned *status, const char **msg);

/* The URL's path (before '?') into buf. */
void httpreq_path(const struct httpreq *r, char *buf, size_t cap);
/* Value of query parameter name, percent-decoded into buf (cap > 0), or NULL when absent. */
const char *httpreq_query(const struct httpreq *r, const char *name, char *buf, size_t cap);
/* 1 when the parameter is present as name, name=, name=1, true or yes. */
int httpreq_flag(const struct httpreq *r, const char *name);
/* 1 when the Accept header asks for application/json. */
int httpreq_wants_json(const struct httpreq *r);

#endif
