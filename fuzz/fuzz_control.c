/* fuzz_control.c — libFuzzer target for the control API's request reading (reloader/httpreq.c): the
 * http_parser callbacks, URL/query and header handling, body limits, pipelining. Any bytes, in any
 * chunking: never a crash, a leak or an unbounded buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

/* What the connection code asks of a complete request. */
static void use(const struct httpreq *r)
{
	char path[256], v[512];

	httpreq_path(r, path, sizeof path);
	if (r->url_len && !r->url)
		abort();
	httpreq_query(r, "wait", v, sizeof v);
	httpreq_query(r, "lines", v, sizeof v);
	httpreq_query(r, "token", v, 1);
	httpreq_flag(r, "follow");
	httpreq_wants_json(r);
	if (strlen(r->accept) >= sizeof r->accept || strlen(r->auth) >= sizeof r->auth ||
	    r->url_len >= HTTPREQ_MAX_URL)
		abort();
}

/* The sync endpoints' hooks (control.c): /sync/ bodies stream past the 64 KiB limit, up to their
 * own; /sync/refused is turned away before its body. */
static size_t streamed;

static unsigned fuzz_head(struct httpreq *r, unsigned long long content_length, const char **msg)
{
	(void)content_length;
	if (!r->url || r->url_len < 6 || strncmp(r->url, "/sync/", 6))
		return 0;
	if (r->url_len >= 13 && !strncmp(r->url, "/sync/refused", 13)) {
		*msg = "refused";
		return 401;
	}
	r->stream = 1;
	streamed = 0;
	return 0;
}

static int fuzz_body(struct httpreq *r, const char *at, size_t len)
{
	(void)r;
	(void)at;
	streamed += len;
	return streamed > (1u << 20);
}

static void start(struct httpreq *r)
{
	httpreq_init(r);
	r->on_head = fuzz_head;
	r->on_body = fuzz_body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq r = {0};
	size_t chunk, off = 0, held = 0;
	char buf[4096];
	int requests = 0;

	if (!size)
		return 0;
	chunk = 1 + data[0] % 97; /* the first byte picks how the bytes arrive */
	data++;
	size--;
	start(&r);
	while ((off < size || held) && requests < 64) {
		unsigned status;
		const char *msg;
		size_t take = size - off < chunk ? size - off : chunk, used;

		if (take > sizeof buf - held)
			take = sizeof buf - held;
		memcpy(buf + held, data + off, take);
		off += take;
		held += take;
		used = httpreq_feed(&r, buf, held, &status, &msg);
		if (used > held)
			abort();
		memmove(buf, buf + used, held - used);
		held -= used;
		if (status) {
			if (status < 400 || status > 499 || !msg)
				abort();
			break; /* the connection answers 4xx and closes */
		}
		if (r.complete) {
			use(&r);
			requests++;
			if (!r.keep_alive)
				break;
			start(&r); /* the next pipelined request */
		} else if (!take && held) {
			break; /* bytes that cannot be parsed yet and no more coming */
		}
	}
	httpreq_free(&r);
	return 0;
}
