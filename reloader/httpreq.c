/* httpreq.c — reads one control-API request with Node's http_parser (libhttp-parser): method, URL,
 * Accept/Authorization/X-Reloader-Token, the body limit. The only file of reloader that includes the parser. */
#include "httpreq.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void httpreq_init(struct httpreq *r)
{
	char *url = r->url;
	size_t cap = r->url_cap;

	memset(r, 0, sizeof *r);
	r->url = url; /* the buffer is kept for the next request on the connection */
	r->url_cap = cap;
	if (r->url)
		r->url[0] = 0;
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
}

void httpreq_free(struct httpreq *r)
{
	free(r->url);
	r->url = NULL;
	r->url_cap = r->url_len = 0;
}

/* ---- parser callbacks --------------------------------------------------------------------- */

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct httpreq *r = p->data;

	if (r->url_too_long || r->url_len + len >= HTTPREQ_MAX_URL) {
		r->url_too_long = 1;
		return 0;
	}
	if (r->url_len + len + 1 > r->url_cap) {
		size_t cap = r->url_cap ? r->url_cap : 256;
		char *bigger;

		while (cap < r->url_len + len + 1)
			cap *= 2;
		if (!(bigger = realloc(r->url, cap))) {
			r->url_too_long = 1;
			return 0;
		}
		r->url = bigger;
		r->url_cap = cap;
	}
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	r->url[r->url_len] = 0;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct httpreq *r = p->data;

	if (r->field_done) { /* a new header starts */
		r->field_len = 0;
		r->field_done = 0;
	}
	if (r->field_len + len < sizeof r->field) {
		memcpy(r->field + r->field_len, at, len);
		r->field_len += len;
	} else {
		r->field_len = sizeof r->field; /* too long to be one we use */
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
	struct httpreq *r = p->data;

	if (!r->field_done) {
		r->field_done = 1;
		r->want = 0;
		if (r->field_len == 6 && !strncasecmp(r->field, "Accept", 6))
			r->want = 1;
		else if (r->field_len == 13 && !strncasecmp(r->field, "Authorization", 13))
			r->want = 2;
		else if (r->field_len == 16 && !strncasecmp(r->field, "X-Reloader-Token", 16))
			r->want = 3;
	}
	if (r->want == 1)
		append_value(r->accept, sizeof r->accept, at, len);
	else if (r->want == 2)
		append_value(r->auth, sizeof r->auth, at, len);
	else if (r->want == 3)
		append_value(r->token, sizeof r->token, at, len);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct httpreq *r = p->data;

	if (r->on_head && (r->refused = r->on_head(r, p->content_length, &r->refused_msg)))
		return -1; /* answered with r->refused */
	if (r->stream)
		return 0; /* on_body applies its own limits */
	/* A declared body over the limit is refused before it is read. */
	if (p->content_length != ULLONG_MAX && p->content_length > HTTPREQ_MAX_BODY) {
		r->body_bytes = HTTPREQ_MAX_BODY + 1;
		return -1; /* HPE_CB_headers_complete (1 would mean "no body"): answered with 413 */
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct httpreq *r = p->data;

	if (r->stream)
		return r->on_body(r, at, len) != 0;
	r->body_bytes += len;
	return r->body_bytes > HTTPREQ_MAX_BODY; /* a chunked body that grows too large */
}

static int on_message_complete(http_parser *p)
{
	struct httpreq *r = p->data;

	r->complete = 1;
	r->keep_alive = http_should_keep_alive(p);
	r->method = p->method;
	http_parser_pause(p, 1); /* one request at a time: the rest waits for the next one */
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

size_t httpreq_feed(struct httpreq *r, const char *data, size_t len, unsigned *status, const char **msg)
{
	size_t used;
	enum http_errno err;

	*status = 0;
	*msg = NULL;
	if (r->complete || !len)
		return 0;
	r->started = 1;
	used = http_parser_execute(&r->parser, &settings, data, len);
	err = HTTP_PARSER_ERRNO(&r->parser);
	if (err == HPE_PAUSED) {
		http_parser_pause(&r->parser, 0);
		err = HPE_OK;
	}
	if (err != HPE_OK && r->refused) {
		*status = r->refused;
		*msg = r->refused_msg;
		return len;
	}
	if (err != HPE_OK) {
		*status = err == HPE_HEADER_OVERFLOW ? 431
			  : (err == HPE_CB_headers_complete || err == HPE_CB_body) ? 413 : 400;
		*msg = *status == 431 ? "request headers too large"
		       : *status == 413 ? "request body too large"
					: "malformed HTTP request";
		return len;
	}
	return used;
}

/* ---- what the request asks ---------------------------------------------------------------- */

void httpreq_path(const struct httpreq *r, char *buf, size_t cap)
{
	const char *q = r->url ? memchr(r->url, '?', r->url_len) : NULL;
	size_t n = q ? (size_t)(q - r->url) : r->url_len;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(buf, r->url, n);
	buf[n] = 0;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

const char *httpreq_query(const struct httpreq *r, const char *name, char *buf, size_t cap)
{
	const char *end_of_url = r->url ? r->url + r->url_len : NULL;
	const char *q = r->url ? memchr(r->url, '?', r->url_len) : NULL;
	size_t nlen = strlen(name);

	while (q && q < end_of_url) {
		const char *start = q + 1, *end = memchr(start, '&', (size_t)(end_of_url - start)), *eq;

		if (!end)
			end = end_of_url;
		eq = memchr(start, '=', (size_t)(end - start));
		if ((size_t)((eq ? eq : end) - start) == nlen && !strncmp(start, name, nlen)) {
			size_t n = 0;

			for (const char *p = eq ? eq + 1 : end; p < end && n + 1 < cap; p++) {
				if (*p == '%' && end - p > 2 && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
					buf[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
					p += 2;
				} else {
					buf[n++] = *p == '+' ? ' ' : *p;
				}
			}
			buf[n] = 0;
			return buf;
		}
		q = end < end_of_url ? end : NULL;
	}
	return NULL;
}

int httpreq_flag(const struct httpreq *r, const char *name)
{
	char v[16];

	if (!httpreq_query(r, name, v, sizeof v))
		return 0;
	return !*v || !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes");
}

int httpreq_wants_json(const struct httpreq *r)
{
	return strstr(r->accept, "application/json") != NULL;
}
