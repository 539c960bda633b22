/* httpreq_test.c — control-API request reading (httpreq.c) and JSON text from raw bytes (jsontext.c), as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpreq.h"
#include "jsontext.h"

static const struct {
	const char *name, *bytes;
	size_t chunk;         /* bytes per feed: how the request arrives */
	unsigned status;      /* the 4xx httpreq_feed reports, 0 for none */
	const char *path;     /* for a complete request */
	const char *wait;     /* ?wait= value, NULL when absent */
	int json, keep_alive, too_long;
} cases[] = {
	{"plain get", "GET /status HTTP/1.1\r\nHost: a\r\n\r\n", 1000, 0, "/status", NULL, 0, 1, 0},
	{"byte by byte", "GET /logs?lines=3 HTTP/1.1\r\nAccept: application/json\r\n\r\n", 1, 0, "/logs", NULL, 1, 1, 0},
	{"wait flag", "POST /restart?wait=1 HTTP/1.0\r\n\r\n", 7, 0, "/restart", "1", 0, 0, 0},
	{"decoded query", "POST /restart?x=1&wait=%74rue+x HTTP/1.1\r\n\r\n", 1000, 0, "/restart", "true x", 0, 1, 0},
	{"bad percent kept", "POST /r?wait=%7 HTTP/1.1\r\n\r\n", 3, 0, "/r", "%7", 0, 1, 0},
	{"declared body too large", "POST /restart HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 1000, 413, NULL, NULL, 0, 0, 0},
	{"chunked body too large", "POST /restart HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20000\r\n", 1000, 0, NULL, NULL, 0, 0, 0},
	{"garbage", "GARBAGE\r\n\r\n", 1000, 400, NULL, NULL, 0, 0, 0},
	{"bad chunk size", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1000, 400, NULL, NULL, 0, 0, 0},
};

static void test_request_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct httpreq r = {0};
		const char *p = cases[i].bytes;
		size_t left = strlen(p);
		unsigned status = 0;
		const char *msg;
		char path[64], v[64];

		httpreq_init(&r);
		while (left && !status && !r.complete) {
			size_t n = left < cases[i].chunk ? left : cases[i].chunk;
			size_t used = httpreq_feed(&r, p, n, &status, &msg);

			assert_true(used <= n);
			p += used;
			left -= used;
		}
		assert_int_equal(status, cases[i].status);
		if (cases[i].path) {
			assert_true(r.complete);
			httpreq_path(&r, path, sizeof path);
			assert_string_equal(path, cases[i].path);
			if (cases[i].wait)
				assert_string_equal(httpreq_query(&r, "wait", v, sizeof v), cases[i].wait);
			else
				assert_null(httpreq_query(&r, "wait", v, sizeof v));
			assert_int_equal(httpreq_wants_json(&r), cases[i].json);
			assert_int_equal(r.keep_alive, cases[i].keep_alive);
			assert_int_equal(r.url_too_long, cases[i].too_long);
		} else if (!cases[i].status) {
			assert_false(r.complete); /* still reading: the chunked body is refused once it grows */
		}
		httpreq_free(&r);
	}
}

static void test_pipelined_requests_one_at_a_time(void **state)
{
	const char *two = "GET /healthz HTTP/1.1\r\n\r\nGET /nope?wait HTTP/1.1\r\n\r\n";
	struct httpreq r = {0};
	unsigned status;
	const char *msg;
	char path[64], v[8];
	size_t used;

	(void)state;
	httpreq_init(&r);
	used = httpreq_feed(&r, two, strlen(two), &status, &msg);
	assert_int_equal(used, strlen("GET /healthz HTTP/1.1\r\n\r\n"));
	httpreq_path(&r, path, sizeof path);
	assert_string_equal(path, "/healthz");
	httpreq_init(&r);
	used = httpreq_feed(&r, two + used, strlen(two) - used, &status, &msg);
	httpreq_path(&r, path, sizeof path);
	assert_string_equal(path, "/nope");
	assert_true(httpreq_flag(&r, "wait"));
	assert_string_equal(httpreq_query(&r, "wait", v, sizeof v), "");
	httpreq_free(&r);
}

static void test_long_url_is_flagged(void **state)
{
	size_t n = HTTPREQ_MAX_URL + 100;
	char *req = malloc(n + 64);
	struct httpreq r = {0};
	unsigned status;
	const char *msg;

	(void)state;
	strcpy(req, "GET /");
	memset(req + 5, 'a', n);
	strcpy(req + 5 + n, " HTTP/1.1\r\n\r\n");
	httpreq_init(&r);
	httpreq_feed(&r, req, strlen(req), &status, &msg);
	assert_int_equal(status, 0);
	assert_true(r.complete);
	assert_true(r.url_too_long);
	assert_true(r.url_len < HTTPREQ_MAX_URL);
	httpreq_free(&r);
	free(req);
}

/* The head hook (control.c's /sync/ endpoints): a body streamed to on_body passes the 64 KiB limit;
 * a refusal is reported before the body with the hook's status and message; other requests keep
 * the limit. */
static size_t hook_bytes;

static unsigned hook_head(struct httpreq *r, unsigned long long content_length, const char **msg)
{
	if (strncmp(r->url, "/sync/", 6))
		return 0;
	if (!strcmp(r->url, "/sync/no")) {
		*msg = "no token";
		return 401;
	}
	assert_int_equal(content_length, 70000);
	r->stream = 1;
	return 0;
}

static int hook_body(struct httpreq *r, const char *at, size_t len)
{
	(void)r;
	for (size_t i = 0; i < len; i++)
		assert_int_equal(at[i], 'x');
	hook_bytes += len;
	return 0;
}

static void feed_hooked(const char *head, size_t body_len, unsigned *status, const char **msg, struct httpreq *r)
{
	char *all = malloc(strlen(head) + body_len);
	size_t len = strlen(head) + body_len, off = 0;

	assert_non_null(all);
	memcpy(all, head, strlen(head));
	memset(all + strlen(head), 'x', body_len);
	httpreq_init(r);
	r->on_head = hook_head;
	r->on_body = hook_body;
	*status = 0;
	while (off < len && !*status && !r->complete) {
		size_t n = len - off < 4096 ? len - off : 4096;

		off += httpreq_feed(r, all + off, n, status, msg);
	}
	free(all);
}

static void test_head_hook_streams_or_refuses(void **state)
{
	struct httpreq r = {0};
	unsigned status;
	const char *msg = NULL;

	(void)state;
	hook_bytes = 0;
	feed_hooked("POST /sync/batch HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 70000, &status, &msg, &r);
	assert_int_equal(status, 0);
	assert_true(r.complete);
	assert_int_equal(hook_bytes, 70000);
	assert_int_equal(r.body_bytes, 0);

	feed_hooked("POST /sync/no HTTP/1.1\r\nContent-Length: 3\r\n\r\n", 3, &status, &msg, &r);
	assert_int_equal(status, 401);
	assert_string_equal(msg, "no token");
	assert_false(r.complete);

	hook_bytes = 0;
	feed_hooked("POST /restart HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 70000, &status, &msg, &r);
	assert_int_equal(status, 413);
	assert_int_equal(hook_bytes, 0);
	httpreq_free(&r);
}

static void test_jsontext_keeps_valid_bytes_and_replaces_invalid(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
		size_t out_len;
	} t[] = {
		{"plain", 5, "plain", 5},
		{"a\0b", 3, "a\0b", 3},
		{"\xff\xfe", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6},
		{"\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9", 5},
		{"\xe2\x82", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6},         /* truncated sequence */
		{"\xed\xa0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 9}, /* a surrogate */
		{"\xc0\xaf", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", 6},          /* overlong */
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		json_t *j = jsontext_string(t[i].in, t[i].len);

		assert_non_null(j);
		assert_int_equal(json_string_length(j), t[i].out_len);
		assert_memory_equal(json_string_value(j), t[i].out, t[i].out_len);
		json_decref(j);
	}
	{
		json_t *lines = jsontext_lines("one\ntwo\0x\nlast", 15);

		assert_int_equal(json_array_size(lines), 3);
		assert_string_equal(json_string_value(json_array_get(lines, 0)), "one");
		assert_int_equal(json_string_length(json_array_get(lines, 1)), 5);
		assert_string_equal(json_string_value(json_array_get(lines, 2)), "last");
		json_decref(lines);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_pipelined_requests_one_at_a_time),
		cmocka_unit_test(test_long_url_is_flagged),
		cmocka_unit_test(test_head_hook_streams_or_refuses),
		cmocka_unit_test(test_jsontext_keeps_valid_bytes_and_replaces_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
