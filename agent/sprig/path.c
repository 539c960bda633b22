/* path.c — sprig's path functions (Go's path package: base, dir, clean, ext, isAbs; os* are filepath, the same on Linux). */
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

/* Go's path.Clean into b. */
static void path_clean(struct sbuf *b, const char *p, size_t n)
{
	if (!n) {
		sb_putc(b, '.');
		return;
	}
	int rooted = p[0] == '/';
	size_t start = b->len;
	if (rooted)
		sb_putc(b, '/');
	size_t dotdot = b->len; /* where .. may no longer back up */
	size_t r = rooted;
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (b->len > dotdot) {
				b->len--;
				while (b->len > dotdot && b->s[b->len] != '/')
					b->len--;
			} else if (!rooted) {
				if (b->len > start)
					sb_putc(b, '/');
				sb_add(b, "..", 2);
				dotdot = b->len;
			}
		} else {
			if ((rooted && b->len != start + 1) || (!rooted && b->len != start))
				sb_putc(b, '/');
			for (; r < n && p[r] != '/'; r++)
				sb_putc(b, p[r]);
		}
	}
	if (b->len == start)
		sb_putc(b, '.');
	sb_add(b, "", 0);
}

static int ret_sb(struct tmpl_call *c, struct sbuf *b)
{
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

int tfx_path_clean(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	path_clean(&b, json_string_value(a[0]), json_string_length(a[0]));
	return ret_sb(c, &b);
}

int tfx_path_base(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *p = json_string_value(a[0]);
	size_t len = json_string_length(a[0]);
	if (!len)
		return tf_ret_str(c, ".", 1);
	while (len > 0 && p[len - 1] == '/')
		len--;
	if (!len)
		return tf_ret_str(c, "/", 1);
	size_t i = len;
	while (i > 0 && p[i - 1] != '/')
		i--;
	return tf_ret_str(c, p + i, len - i);
}

int tfx_path_dir(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *p = json_string_value(a[0]);
	size_t len = json_string_length(a[0]), i = len;
	while (i > 0 && p[i - 1] != '/')
		i--;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	path_clean(&b, p, i);
	return ret_sb(c, &b);
}

int tfx_path_ext(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *p = json_string_value(a[0]);
	size_t len = json_string_length(a[0]);
	for (size_t i = len; i-- > 0 && p[i] != '/';)
		if (p[i] == '.')
			return tf_ret_str(c, p + i, len - i);
	return tf_ret_str(c, "", 0);
}

int tfx_path_is_abs(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, json_string_length(a[0]) > 0 && json_string_value(a[0])[0] == '/');
}
