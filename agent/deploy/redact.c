/* redact.c — Secret value masking for diffs and messages (kubectl diff's "***" convention). */
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* NULL when s is not valid base64 */
static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1), *p = out;
	unsigned v = 0;
	int bits = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		const char *c = strchr(B64, s[i]);
		if (!c || !s[i]) {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(c - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*p++ = (char)((v >> bits) & 0xff);
		}
	}
	*p = 0;
	return out;
}

int redact_is_secret(json_t *o)
{
	const char *k = json_string_value(json_object_get(o, "kind"));
	const char *av = json_string_value(json_object_get(o, "apiVersion"));
	return k && !strcmp(k, "Secret") && (!av || !strcmp(av, "v1"));
}

static void mask_field(json_t *before, json_t *after, const char *field)
{
	json_t *a = json_object_get(before, field), *b = json_object_get(after, field);
	const char *key;
	json_t *v;
	json_object_foreach(a, key, v) {
		json_t *w = json_object_get(b, key);
		int same = w && json_equal(v, w);
		json_object_set_new(a, key, json_string(!w || same ? "***" : "*** (before)"));
		if (w)
			json_object_set_new(b, key, json_string(same ? "***" : "*** (after)"));
	}
	json_object_foreach(b, key, v) {
		if (!json_object_get(a, key))
			json_object_set_new(b, key, json_string("***"));
	}
}

void redact_pair(json_t *before, json_t *after)
{
	if ((before && !redact_is_secret(before)) || (after && !redact_is_secret(after)))
		return;
	mask_field(before, after, "data");
	mask_field(before, after, "stringData");
}

/* Replaces every occurrence of needle in buf (NUL-terminated, capacity len) with "***". */
static void replace_all(char *buf, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	if (!nl)
		return;
	for (char *p = strstr(buf, needle); p; p = strstr(p + 3, needle)) {
		size_t tail = strlen(p + nl);
		if (nl < 3 && (size_t)(p - buf) + 3 + tail >= len)
			break;
		memmove(p + 3, p + nl, tail + 1);
		memcpy(p, "***", 3);
	}
}

const char *redact_text(json_t *secret, const char *msg, char *buf, size_t len)
{
	if (!redact_is_secret(secret) || !msg || !len)
		return msg;
	snprintf(buf, len, "%s", msg);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(secret, "data"), key, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		char *plain = b64_decode(s);
		replace_all(buf, len, s);
		if (plain)
			replace_all(buf, len, plain);
		free(plain);
	}
	json_object_foreach(json_object_get(secret, "stringData"), key, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		char *enc = base64_encode(s, strlen(s));
		if (enc)
			replace_all(buf, len, enc);
		replace_all(buf, len, s);
		free(enc);
	}
	return buf;
}
