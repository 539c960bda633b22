/* yamlval.c — YAML text -> jansson values, resolving scalars the way kubectl does, with positions.
 * The only file that includes libyaml. */
#include "yamlval.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Aliases are expanded by copying; this bounds "billion laughs" inputs. */
#define YV_MAX_NODES 2000000

struct yv_loader {
	yaml_parser_t *parser;
	json_t *positions; /* may be NULL */
	json_t *anchors;   /* anchor name -> [value, node count] */
	struct sm_error *err;
	long nodes; /* values produced so far, aliases counted by their size */
	int depth;
};

static int ieq(const char *a, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(*words, a, len) == 0)
			return 1;
	return 0;
}

/* Parses digits in base with optional '_' separators; returns 0 on success. */
static int parse_uint(const char *s, size_t len, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		int d;
		char c = s[i];

		if (c == '_')
			continue;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -2; /* overflow: caller may fall back to float */
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

static json_t *resolve_int(const char *s, size_t len)
{
	int neg = 0, base = 10, rc;
	uint64_t v;

	if (len && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	if (len == 0 || s[0] == '_')
		return NULL;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	} else if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
		len -= 2;
	} else if (len > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
		len -= 2;
	} else if (len > 1 && s[0] == '0') {
		base = 8; /* YAML 1.1: a leading zero means octal */
	}
	rc = parse_uint(s, len, base, &v);
	if (rc != 0)
		return NULL;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return NULL;
		return json_integer(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v);
	}
	if (v > (uint64_t)INT64_MAX)
		return NULL; /* larger than int64: resolved as a float below */
	return json_integer((json_int_t)v);
}

static json_t *resolve_float(const char *s, size_t len)
{
	static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
	static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
	static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};
	char buf[128], *end;
	size_t j = 0;
	int seen_digit = 0;
	double d;

	/* jansson cannot hold inf/nan: keep those as the strings they are. */
	if (ieq(s, len, inf) || ieq(s, len, ninf) || ieq(s, len, nan_words))
		return NULL;
	if (len == 0 || len >= sizeof buf)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '_')
			continue;
		if (c >= '0' && c <= '9')
			seen_digit = 1;
		else if (!strchr("+-.eE", c))
			return NULL;
		buf[j++] = c;
	}
	buf[j] = 0;
	if (!seen_digit)
		return NULL;
	errno = 0;
	d = strtod(buf, &end);
	if (*end || errno == ERANGE || !isfinite(d))
		return NULL;
	return json_real(d);
}

json_t *yv_resolve_plain(const char *s, size_t len)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
					    "on", "On", "ON", NULL};
	static const char *const falses[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE",
					     "off", "Off", "OFF", NULL};
	json_t *v;

	if (ieq(s, len, nulls))
		return json_null();
	if (ieq(s, len, trues))
		return json_true();
	if (ieq(s, len, falses))
		return json_false();
	if (len && ((s[0] >= '0' && s[0] <= '9') || strchr("+-.", s[0]))) {
		if ((v = resolve_int(s, len)))
			return v;
		if ((v = resolve_float(s, len)))
			return v;
	}
	return json_stringn(s, len);
}

/* Appends a JSON-pointer-escaped key to path (which has room for cap bytes). */
static void pointer_join(char *out, size_t cap, const char *base, const char *key, size_t keylen)
{
	size_t n = (size_t)snprintf(out, cap, "%s/", base);

	for (size_t i = 0; i < keylen && n + 3 < cap; i++) {
		if (key[i] == '~') {
			out[n++] = '~';
			out[n++] = '0';
		} else if (key[i] == '/') {
			out[n++] = '~';
			out[n++] = '1';
		} else {
			out[n++] = key[i];
		}
	}
	out[n < cap ? n : cap - 1] = 0;
}

static void note_position(struct yv_loader *ld, const char *path, yaml_mark_t value, const yaml_mark_t *key)
{
	json_t *pos;

	if (!ld->positions)
		return;
	pos = json_pack("[ii]", (int)value.line + 1, (int)value.column + 1);
	if (key) {
		json_array_append_new(pos, json_integer((json_int_t)key->line + 1));
		json_array_append_new(pos, json_integer((json_int_t)key->column + 1));
	}
	json_object_set_new(ld->positions, path, pos);
}

static int next_event(struct yv_loader *ld, yaml_event_t *ev)
{
	if (yaml_parser_parse(ld->parser, ev))
		return 0;
	sm_error_set(ld->err, ld->err->file, (int)ld->parser->problem_mark.line + 1,
		     (int)ld->parser->problem_mark.column + 1, "%s%s%s",
		     ld->parser->problem ? ld->parser->problem : "invalid YAML", ld->parser->context ? " " : "",
		     ld->parser->context ? ld->parser->context : "");
	/* yaml.v2 names the 0-based problem line (1-based for scanner errors), else the context line */
	int line = (int)ld->parser->problem_mark.line;
	if (line && ld->parser->error == YAML_SCANNER_ERROR)
		line++;
	ld->err->go_line = line ? line : (int)ld->parser->context_mark.line;
	return -1;
}

static int tag_is(const yaml_char_t *tag, const char *want)
{
	return tag && strcmp((const char *)tag, want) == 0;
}

static json_t *convert_scalar(struct yv_loader *ld, yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const yaml_char_t *tag = ev->data.scalar.tag;
	json_t *v;

	if (tag && !tag_is(tag, "!")) {
		if (tag_is(tag, YAML_STR_TAG) || tag_is(tag, "tag:yaml.org,2002:binary"))
			return json_stringn(s, len);
		v = yv_resolve_plain(s, len);
		if (tag_is(tag, YAML_FLOAT_TAG) && json_is_integer(v)) {
			json_t *r = json_real((double)json_integer_value(v));
			json_decref(v);
			return r;
		}
		if ((tag_is(tag, YAML_INT_TAG) && !json_is_integer(v)) ||
		    (tag_is(tag, YAML_FLOAT_TAG) && !json_is_real(v)) ||
		    (tag_is(tag, YAML_BOOL_TAG) && !json_is_boolean(v)) ||
		    (tag_is(tag, YAML_NULL_TAG) && !json_is_null(v))) {
			json_decref(v);
			sm_error_set(ld->err, ld->err->file, (int)ev->start_mark.line + 1,
				     (int)ev->start_mark.column + 1, "cannot decode \"%.*s\" as %s",
				     (int)(len > 60 ? 60 : len), s, (const char *)tag);
			return NULL;
		}
		return v;
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && tag_is(tag, "!")))
		return json_stringn(s, len);
	return yv_resolve_plain(s, len);
}

static json_t *convert(struct yv_loader *ld, yaml_event_t *ev, const char *path);

/* Reads the next node (its first event not yet consumed); *end set when a collection ended instead. */
static json_t *convert_next(struct yv_loader *ld, const char *path, yaml_event_type_t end_type, int *ended,
			    yaml_mark_t *mark)
{
	yaml_event_t ev;
	json_t *v;

	*ended = 0;
	if (next_event(ld, &ev) != 0)
		return NULL;
	if (ev.type == end_type) {
		yaml_event_delete(&ev);
		*ended = 1;
		return NULL;
	}
	*mark = ev.start_mark;
	v = convert(ld, &ev, path);
	yaml_event_delete(&ev);
	return v;
}

/* Merges a "<<" value (a mapping or a list of mappings) into obj, keeping keys already set. */
static int merge_into(struct yv_loader *ld, json_t *obj, json_t *m, yaml_mark_t mark)
{
	const char *k;
	json_t *v, *item;
	size_t i;

	if (json_is_object(m)) {
		json_object_foreach(m, k, v) if (!json_object_get(obj, k)) json_object_set(obj, k, v);
		return 0;
	}
	if (json_is_array(m)) {
		json_array_foreach(m, i, item)
		{
			if (!json_is_object(item))
				break;
			json_object_foreach(item, k, v) if (!json_object_get(obj, k)) json_object_set(obj, k, v);
		}
		if (i == json_array_size(m))
			return 0;
	}
	sm_error_set(ld->err, ld->err->file, (int)mark.line + 1, (int)mark.column + 1,
		     "map merge requires a mapping or a list of mappings");
	return -1;
}

static json_t *convert_mapping(struct yv_loader *ld, const char *path)
{
	json_t *obj = json_object();
	json_t *merged = json_object(); /* keys from "<<": explicit keys win over them */

	for (;;) {
		yaml_event_t kev;
		yaml_mark_t kmark, vmark;
		char child[4096];
		const char *key;
		size_t keylen;
		int ended, merge;
		json_t *val;

		if (next_event(ld, &kev) != 0)
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			const char *mk;
			json_t *mv;

			yaml_event_delete(&kev);
			json_object_foreach(merged, mk, mv) if (!json_object_get(obj, mk)) json_object_set(obj, mk, mv);
			json_decref(merged);
			return obj;
		}
		kmark = kev.start_mark;
		if (kev.type != YAML_SCALAR_EVENT) {
			sm_error_set(ld->err, ld->err->file, (int)kmark.line + 1, (int)kmark.column + 1,
				     "mapping keys must be scalars");
			yaml_event_delete(&kev);
			goto fail;
		}
		key = (const char *)kev.data.scalar.value;
		keylen = kev.data.scalar.length;
		merge = keylen == 2 && memcmp(key, "<<", 2) == 0 && kev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (memchr(key, 0, keylen) || (!merge && json_object_getn(obj, key, keylen))) {
			sm_error_set(ld->err, ld->err->file, (int)kmark.line + 1, (int)kmark.column + 1,
				     "key \"%.*s\" %s", (int)(keylen > 60 ? 60 : keylen), key,
				     memchr(key, 0, keylen) ? "contains a NUL byte" : "already set in this mapping");
			yaml_event_delete(&kev);
			goto fail;
		}
		pointer_join(child, sizeof child, path, key, keylen);
		val = convert_next(ld, child, YAML_MAPPING_END_EVENT, &ended, &vmark);
		if (!val) {
			yaml_event_delete(&kev);
			goto fail;
		}
		if (merge) {
			int rc = merge_into(ld, merged, val, vmark);

			json_decref(val);
			yaml_event_delete(&kev);
			if (rc != 0)
				goto fail;
			continue;
		}
		note_position(ld, child, vmark, &kmark);
		json_object_setn_new(obj, key, keylen, val);
		yaml_event_delete(&kev);
	}
fail:
	json_decref(obj);
	json_decref(merged);
	return NULL;
}

static json_t *convert_sequence(struct yv_loader *ld, const char *path)
{
	json_t *arr = json_array();

	for (size_t index = 0;; index++) {
		char child[4096];
		yaml_mark_t mark;
		int ended;
		json_t *val;

		snprintf(child, sizeof child, "%s/%zu", path, index);
		val = convert_next(ld, child, YAML_SEQUENCE_END_EVENT, &ended, &mark);
		if (ended)
			return arr;
		if (!val) {
			json_decref(arr);
			return NULL;
		}
		note_position(ld, child, mark, NULL);
		json_array_append_new(arr, val);
	}
}

static json_t *convert(struct yv_loader *ld, yaml_event_t *ev, const char *path)
{
	const yaml_char_t *anchor = NULL;
	json_t *v = NULL;
	long before = ld->nodes;

	if (++ld->nodes > YV_MAX_NODES || ld->depth > 256) {
		sm_error_set(ld->err, ld->err->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			     "document too large or too deeply nested (over %d values or 256 levels)", YV_MAX_NODES);
		return NULL;
	}
	ld->depth++;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		v = convert_scalar(ld, ev);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		v = convert_mapping(ld, path);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		v = convert_sequence(ld, path);
		break;
	case YAML_ALIAS_EVENT: {
		json_t *entry = json_object_get(ld->anchors, (const char *)ev->data.alias.anchor);

		if (!entry) {
			sm_error_set(ld->err, ld->err->file, (int)ev->start_mark.line + 1,
				     (int)ev->start_mark.column + 1, "unknown anchor \"%s\" referenced",
				     (const char *)ev->data.alias.anchor);
			break;
		}
		ld->nodes += (long)json_integer_value(json_array_get(entry, 1));
		if (ld->nodes > YV_MAX_NODES) {
			sm_error_set(ld->err, ld->err->file, (int)ev->start_mark.line + 1,
				     (int)ev->start_mark.column + 1, "aliases expand to over %d values", YV_MAX_NODES);
			break;
		}
		/* A copy, so that changing one place never changes another. */
		v = json_deep_copy(json_array_get(entry, 0));
		break;
	}
	default:
		sm_error_set(ld->err, ld->err->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			     "unexpected YAML event");
		break;
	}
	ld->depth--;
	if (v && anchor)
		json_object_set_new(ld->anchors, (const char *)anchor,
				    json_pack("[Oi]", v, (json_int_t)(ld->nodes - before)));
	return v;
}

json_t *yv_load(const char *text, size_t len, const char *name, int skip_empty, json_t **positions,
		struct sm_error *err)
{
	yaml_parser_t parser;
	json_t *docs = json_array();
	json_t *pos = positions ? json_object() : NULL;
	struct yv_loader ld = {&parser, pos, NULL, err, 0, 0};
	size_t index = 0;

	memset(err, 0, sizeof *err);
	snprintf(err->file, sizeof err->file, "%s", name ? name : "<input>");
	if (!yaml_parser_initialize(&parser)) {
		sm_error_set(err, err->file, 0, 0, "out of memory");
		goto fail_early;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		yaml_mark_t mark;
		char path[32];
		int ended;
		json_t *v;

		if (next_event(&ld, &ev) != 0)
			goto fail;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT) { /* STREAM_START */
			yaml_event_delete(&ev);
			continue;
		}
		mark = ev.start_mark;
		yaml_event_delete(&ev);
		ld.anchors = json_object();
		snprintf(path, sizeof path, "%zu", index);
		v = convert_next(&ld, path, YAML_DOCUMENT_END_EVENT, &ended, &mark);
		json_decref(ld.anchors);
		ld.anchors = NULL;
		if (!v && !ended)
			goto fail;
		if (!ended) {
			note_position(&ld, path, mark, NULL);
			if (next_event(&ld, &ev) != 0) { /* DOCUMENT_END */
				json_decref(v);
				goto fail;
			}
			yaml_event_delete(&ev);
		}
		if (!v)
			v = json_null();
		if (skip_empty && json_is_null(v)) {
			json_decref(v);
			continue;
		}
		json_array_append_new(docs, v);
		index++;
	}
	yaml_parser_delete(&parser);
	if (positions)
		*positions = pos;
	return docs;
fail:
	yaml_parser_delete(&parser);
fail_early:
	json_decref(docs);
	json_decref(pos);
	return NULL;
}

json_t *yv_load_file(const char *path, int skip_empty, json_t **positions, struct sm_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	json_t *docs;

	if (!f) {
		memset(err, 0, sizeof *err);
		sm_error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	{
		FILE *mem = open_memstream(&buf, &len);
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(mem);
	}
	fclose(f);
	docs = yv_load(buf, len, path, skip_empty, positions, err);
	free(buf);
	return docs;
}

int yv_position(json_t *positions, const char *pointer, int want_key, int *line, int *col)
{
	char path[4096];
	json_t *pos;

	*line = *col = 0;
	if (!positions)
		return -1;
	snprintf(path, sizeof path, "%s", pointer);
	for (;;) {
		pos = json_object_get(positions, path);
		if (pos) {
			size_t at = (want_key && json_array_size(pos) == 4) ? 2 : 0;

			*line = (int)json_integer_value(json_array_get(pos, at));
			*col = (int)json_integer_value(json_array_get(pos, at + 1));
			return 0;
		}
		char *slash = strrchr(path, '/');
		if (!slash)
			return -1;
		*slash = 0;
		want_key = 0;
	}
}
