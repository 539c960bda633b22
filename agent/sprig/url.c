/* url.c — sprig's URL and network functions: urlParse, urlJoin (Go's net/url for the common forms), getHostByName. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

static int hexv(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static json_t *unescaped(const char *s, size_t n)
{
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
			sb_putc(&b, (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2])));
			i += 2;
		} else {
			sb_putc(&b, s[i]);
		}
	}
	json_t *j = json_stringn_nocheck(b.s, b.len);
	free(b.s);
	return j;
}

/* urlParse: scheme, host, hostname, path (decoded), query, opaque, fragment, userinfo. */
int tfx_url_parse(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = json_string_value(a[0]), *end = s + json_string_length(a[0]);
	json_t *d = json_object();
	const char *hash = memchr(s, '#', (size_t)(end - s));
	json_object_set_new(d, "fragment", hash ? unescaped(hash + 1, (size_t)(end - hash - 1)) : json_string(""));
	if (hash)
		end = hash;
	const char *q = memchr(s, '?', (size_t)(end - s));
	json_object_set_new(d, "query", q ? json_stringn_nocheck(q + 1, (size_t)(end - q - 1)) : json_string(""));
	if (q)
		end = q;
	const char *p = s, *colon = NULL;
	for (const char *t = s; t < end; t++) {
		if (*t == ':') {
			colon = t;
			break;
		}
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (t > s && ((*t >= '0' && *t <= '9') || *t == '+' || *t == '-' || *t == '.'))))
			break;
	}
	char *scheme = colon && colon > s ? strndup(s, (size_t)(colon - s)) : strdup("");
	for (char *x = scheme; *x; x++)
		if (*x >= 'A' && *x <= 'Z')
			*x = (char)(*x + 32);
	json_object_set_new(d, "scheme", json_string(scheme));
	free(scheme);
	if (colon && colon > s)
		p = colon + 1;
	json_object_set_new(d, "opaque", json_string(""));
	const char *host = "", *hend = host, *user = NULL, *uend = NULL;
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *auth_end = slash ? slash : end;
		const char *at = NULL;
		for (const char *t = p; t < auth_end; t++)
			if (*t == '@')
				at = t;
		if (at) {
			user = p;
			uend = at;
			host = at + 1;
		} else {
			host = p;
		}
		hend = auth_end;
		p = auth_end;
	} else if (colon && colon > s && p < end && *p != '/') {
		json_object_set_new(d, "opaque", json_stringn_nocheck(p, (size_t)(end - p)));
		p = end;
	}
	json_object_set_new(d, "host", json_stringn_nocheck(host, (size_t)(hend - host)));
	/* Hostname(): without the port; an IPv6 literal without its brackets */
	const char *hn = host, *hne = hend;
	if (hn < hne && *hn == '[') {
		const char *rb = memchr(hn, ']', (size_t)(hne - hn));
		hn++;
		hne = rb ? rb : hne;
	} else {
		const char *pc = memchr(hn, ':', (size_t)(hne - hn));
		if (pc)
			hne = pc;
	}
	json_object_set_new(d, "hostname", json_stringn_nocheck(hn, (size_t)(hne - hn)));
	json_object_set_new(d, "path", unescaped(p, (size_t)(end - p)));
	json_object_set_new(d, "userinfo", user ? json_stringn_nocheck(user, (size_t)(uend - user)) : json_string(""));
	return tf_ret(c, d);
}

/* fmt.Sprint(default "" d[k]): a malloc'd string. */
static char *field(json_t *d, const char *k)
{
	json_t *v = json_object_get(d, k);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	if (v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v)))
		go_print_value(&b, v);
	return sb_take(&b);
}

/* urlJoin: Go's URL.String() of the parts. */
int tfx_url_join(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char *scheme = field(a[0], "scheme"), *opaque = field(a[0], "opaque"), *host = field(a[0], "host");
	char *user = field(a[0], "userinfo"), *path = field(a[0], "path"), *query = field(a[0], "query");
	char *frag = field(a[0], "fragment");
	struct sbuf out = {0};
	sb_add(&out, "", 0);
	if (*scheme)
		sb_printf(&out, "%s:", scheme);
	if (*opaque) {
		sb_puts(&out, opaque);
	} else {
		if (*scheme || *host || *user) {
			sb_puts(&out, "//");
			if (*user)
				sb_printf(&out, "%s@", user);
			sb_puts(&out, host);
		}
		if (*path && path[0] != '/' && *host)
			sb_putc(&out, '/');
		sb_puts(&out, path);
	}
	if (*query)
		sb_printf(&out, "?%s", query);
	if (*frag)
		sb_printf(&out, "#%s", frag);
	free(scheme), free(opaque), free(host), free(user), free(path), free(query), free(frag);
	int rc = tf_ret_str(c, out.s, out.len);
	free(out.s);
	return rc;
}

/* getHostByName: "" — `helm template` disables DNS lookups (Helm's --enable-dns is off by default), and a
 * render must not depend on the network. */
int tfx_get_host_by_name(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	return tf_ret_str(c, "", 0);
}
