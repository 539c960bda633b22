/* kwatch_test.c — the watch stream parser (agent/kube/kwatchstream.c), as a table of streams cut into pieces and the cache they leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kwatch.h"

#define ADD(name, rv) "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"demo\",\"resourceVersion\":\"" rv "\"}}}\n"
#define MOD(name, rv) "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"demo\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"replicas\":3}}}\n"
#define DEL(name, rv) "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"demo\",\"resourceVersion\":\"" rv "\"}}}\n"
#define BOOKMARK(rv) "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"" rv "\"}}}\n"

static const struct {
	const char *name;
	const char *stream;
	size_t piece;      /* fed this many bytes at a time (0: all at once) */
	long rc;           /* what the last feed returns: events applied, or -1 */
	const char *keys;  /* the cache's keys, sorted, comma-separated */
	const char *rv;    /* the resourceVersion to watch from next (NULL: none) */
	int gone;          /* 410: list again */
	const char *err;   /* a substring of the error */
} cases[] = {
	{"added, modified, deleted", ADD("a", "11") ADD("b", "12") MOD("a", "13") DEL("b", "14"), 0, 4, "demo/a", "14", 0, NULL},
	{"cut one byte at a time", ADD("a", "11") MOD("a", "12"), 1, 0, "demo/a", "12", 0, NULL},
	{"a bookmark moves the version only", ADD("a", "11") BOOKMARK("20"), 0, 1, "demo/a", "20", 0, NULL},
	{"a line not yet ended waits", ADD("a", "11") "{\"type\":\"ADDED\",\"obj", 0, 1, "demo/a", "11", 0, NULL},
	{"CRLF and blank lines", "\r\n\n" ADD("a", "11"), 7, 0, "demo/a", "11", 0, NULL},
	{"410 Gone", ADD("a", "11") "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\","
	 "\"message\":\"too old resource version: 5 (9)\"}}\n", 0, -1, "demo/a", "11", 1, "too old resource version"},
	{"another ERROR", "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500,\"message\":\"etcd down\"}}\n", 0, -1,
	 "", NULL, 0, "etcd down (HTTP 500"},
	{"not JSON: line and column", ADD("a", "11") "{\"type\": nope}\n", 0, -1, "demo/a", "11", 0, "watch stream line 2, column"},
	{"no object", "{\"type\":\"ADDED\"}\n", 0, -1, "", NULL, 0, "needs a \"type\" and an \"object\""},
	{"no name", "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n", 0, -1, "", NULL, 0, "without metadata.name"},
	{"an unknown type is skipped", "{\"type\":\"FUTURE\",\"object\":{}}\n" ADD("a", "11"), 0, 1, "demo/a", "11", 0, NULL},
};

static void test_streams(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kwatch_stream s = {.items = json_object()};
		const char *p = cases[i].stream;
		size_t n = strlen(p), piece = cases[i].piece ? cases[i].piece : n;
		long rc = 0;
		for (size_t off = 0; off < n && rc >= 0; off += piece)
			rc = kwatch_stream_feed(&s, p + off, n - off < piece ? n - off : piece);
		if (rc != cases[i].rc && !(cases[i].piece && cases[i].rc >= 0 && rc >= 0))
			fail_msg("%s: feed returned %ld, want %ld (%s)", cases[i].name, rc, cases[i].rc, s.err);
		char keys[256] = "";
		const char *key;
		json_t *v;
		json_object_foreach(s.items, key, v) {
			if (keys[0])
				strcat(keys, ",");
			strcat(keys, key);
		}
		if (strcmp(keys, cases[i].keys))
			fail_msg("%s: cache has %s, want %s", cases[i].name, keys, cases[i].keys);
		if ((s.rv == NULL) != (cases[i].rv == NULL) || (s.rv && strcmp(s.rv, cases[i].rv)))
			fail_msg("%s: resourceVersion %s, want %s", cases[i].name, s.rv ? s.rv : "(none)",
				 cases[i].rv ? cases[i].rv : "(none)");
		if (s.gone != cases[i].gone)
			fail_msg("%s: gone %d, want %d", cases[i].name, s.gone, cases[i].gone);
		if (cases[i].err && !strstr(s.err, cases[i].err))
			fail_msg("%s: error \"%s\", want it to say \"%s\"", cases[i].name, s.err, cases[i].err);
		if (!strcmp(cases[i].name, "added, modified, deleted"))
			assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(s.items, "demo/a"), "spec"),
									    "replicas")),
					 3);
		kwatch_stream_clear(&s);
		json_decref(s.items);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_streams)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
