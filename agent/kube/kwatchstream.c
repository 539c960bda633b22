/* kwatchstream.c — the watch stream parser: newline-delimited {"type","object"} events applied to a cache (kwatch.h; pure, fuzzed by fuzz_kwatch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwatch.h"

#define MAX_LINE (64u << 20) /* one event; the API server's objects are far smaller (etcd's limit is 1.5 MiB) */

char *kwatch_key(json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace")) ?: "";
	char *key;
	if (!name || asprintf(&key, "%s/%s", ns, name) < 0)
		return NULL;
	return key;
}

static void set_rv(struct kwatch_stream *s, json_t *obj)
{
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	if (rv && *rv) {
		free(s->rv);
		s->rv = strdup(rv);
	}
}

/* One event line. Returns 1 when the cache changed, 0 when not, -1 when the stream must end. */
static int apply_line(struct kwatch_stream *s, const char *line, size_t n)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	json_error_t je;
	json_t *ev = json_loadb(line, n, 0, &je);
	if (!ev) {
		snprintf(s->err, sizeof s->err, "watch stream line %lu, column %d: %s", s->line, je.column, je.text);
		return -1;
	}
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	int rc = 0;
	if (!type || !json_is_object(obj)) {
		snprintf(s->err, sizeof s->err, "watch stream line %lu, column 1: an event needs a \"type\" and an \"object\"",
			 s->line);
		rc = -1;
	} else if (!strcmp(type, "ERROR")) {
		/* the object is a Status: 410 Gone (reason Expired) means our resourceVersion is older than the
		 * history the server keeps; anything else is an error all the same */
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		s->gone = code == 410;
		snprintf(s->err, sizeof s->err, "the watch ended: %s (HTTP %lld %s)",
			 json_string_value(json_object_get(obj, "message")) ?: "no message", (long long)code,
			 json_string_value(json_object_get(obj, "reason")) ?: "");
		rc = -1;
	} else if (!strcmp(type, "BOOKMARK")) {
		set_rv(s, obj); /* nothing changed up to here: a later watch may start from it */
	} else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED")) {
		char *key = kwatch_key(obj);
		if (!key) {
			snprintf(s->err, sizeof s->err, "watch stream line %lu, column 1: a %s object without metadata.name",
				 s->line, type);
			rc = -1;
		} else {
			if (type[0] == 'D')
				json_object_del(s->items, key);
			else
				json_object_set(s->items, key, obj);
			free(key);
			set_rv(s, obj);
			s->events++;
			rc = 1;
		}
	} /* an unknown type is a newer server's: skipped, as client-go's decoder does not */
	json_decref(ev);
	return rc;
}

long kwatch_stream_feed(struct kwatch_stream *s, const char *data, size_t n)
{
	long applied = 0;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (s->len + take > MAX_LINE) {
			snprintf(s->err, sizeof s->err, "watch stream line %lu, column 1: an event over %u MiB", s->line + 1,
				 MAX_LINE >> 20);
			return -1;
		}
		if (s->len + take + 1 > s->cap) {
			size_t cap = s->cap ? s->cap : 4096;
			while (cap < s->len + take + 1)
				cap *= 2;
			char *b = realloc(s->buf, cap);
			if (!b) {
				snprintf(s->err, sizeof s->err, "out of memory reading the watch stream");
				return -1;
			}
			s->buf = b;
			s->cap = cap;
		}
		memcpy(s->buf + s->len, data, take);
		s->len += take;
		data += take;
		n -= take;
		if (!nl)
			break;
		data++, n--;
		s->line++;
		int rc = apply_line(s, s->buf, s->len);
		s->len = 0;
		if (rc < 0)
			return -1;
		applied += rc;
	}
	return applied;
}

void kwatch_stream_clear(struct kwatch_stream *s)
{
	free(s->buf);
	free(s->rv);
	s->buf = s->rv = NULL;
	s->len = s->cap = 0;
}
