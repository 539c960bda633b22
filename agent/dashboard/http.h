/* http.h — the dashboard's HTTP server: libmicrohttpd on the libev loop, with requests, replies and streamed responses in our own small types. */
#ifndef SM_HTTP_H
#define SM_HTTP_H

#include <ev.h>
#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

struct http_server;
struct http_req;    /* one request; valid only during the handler call */
struct http_stream; /* a response streamed over time (server-sent events) */

/* Called on the loop thread once a request (and its body, up to HTTP_MAX_BODY) arrived. The
 * handler must answer with http_reply* or http_stream_open before returning. */
typedef void (*http_handler)(void *arg, struct http_req *req);

#define HTTP_MAX_BODY (64 * 1024)

/* Listens on "HOST:PORT" ("127.0.0.1:8090", "[::1]:8090", ":8090" for every address). Returns NULL
 * with err filled. */
struct http_server *http_start(struct ev_loop *loop, const char *listen, http_handler h, void *arg, struct sm_error *err);
/* The port actually bound (useful with port 0). */
int http_port(struct http_server *s);
/* Ends every stream (their on_close runs), then stops the server. */
void http_stop(struct http_server *s);

const char *http_method(struct http_req *r);
const char *http_path(struct http_req *r);
/* A query argument, a request header (case-insensitive) or a cookie; NULL when absent. */
const char *http_query(struct http_req *r, const char *name);
const char *http_header(struct http_req *r, const char *name);
const char *http_cookie(struct http_req *r, const char *name);
/* The request body (NUL-terminated; "" when none); *len may be NULL. Over HTTP_MAX_BODY the
 * request is answered 413 before the handler runs. */
const char *http_body(struct http_req *r, size_t *len);

/* Answers with a copy of body. headers: NULL, or a NULL-terminated list of name, value pairs. */
void http_reply(struct http_req *r, unsigned status, const char *ctype, const void *body, size_t len,
		const char *const *headers);
/* Answers JSON (takes the reference to j). */
void http_reply_json(struct http_req *r, unsigned status, json_t *j);
/* Answers {"error": msg} as JSON. */
void http_reply_error(struct http_req *r, unsigned status, const char *msg);

/* Starts a streamed answer (200, ctype, no caching). on_close(arg) runs exactly once on the loop
 * thread when the stream is over — client gone, http_stream_end, or server stop; after it the
 * stream pointer is invalid. */
struct http_stream *http_stream_open(struct http_req *r, const char *ctype, void (*on_close)(void *arg), void *arg);
/* Queues bytes. A client that falls more than 4 MiB behind is cut off (returns -1; on_close follows). */
int http_stream_write(struct http_stream *s, const char *data, size_t len);
/* Finishes the stream once the queued bytes are sent. */
void http_stream_end(struct http_stream *s);

/* --- answers that come later (up's forward, #16) --- */
struct http_deferred;
/* Parks the request: the handler returns without an answer, and later, on the loop thread, exactly one
 * http_deferred_stream answers it. What the handler reads of the request (method, path, headers, body) is
 * valid only during the handler: copy what is needed. Returns NULL (the request is answered 500) when out of
 * memory. */
struct http_deferred *http_defer(struct http_req *r);
/* Answers a deferred request: status, ctype, headers (NULL or name, value pairs), then a stream as
 * http_stream_open's (its on_close runs exactly once). d is invalid after. */
struct http_stream *http_deferred_stream(struct http_deferred *d, unsigned status, const char *ctype,
					 const char *const *headers, void (*on_close)(void *arg), void *arg);
/* The request's query string as received, re-encoded ("a=1&b=x%20y"; "" when none); malloc'd. */
char *http_query_string(struct http_req *r);

#endif
