/* syncproto.c — path rules and the incremental parser / writer of the source-sync batch format (syncproto.h). */
#include "syncproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { S_MAGIC, S_LINE, S_DATA, S_DATA_NL, S_DONE, S_FAILED };

int syncpath_check(const char *path, size_t len, const char **why)
{
	size_t i = 0;

	if (!len) {
		*why = "empty path";
		return -1;
	}
	if (len > SYNC_PATH_MAX) {
		*why = "path longer than 1024 bytes";
		return -1;
	}
	if (path[0] == '/') {
		*why = "absolute path (paths are relative to the source root)";
		return -1;
	}
	while (i < len) {
		size_t start = i;

		while (i < len && path[i] != '/') {
			if (!path[i] || path[i] == '\n' || path[i] == '\r') {
				*why = "NUL, newline or carriage return in path";
				return -1;
			}
			i++;
		}
		if (i == start) {
			*why = "empty path component ('//' or a trailing '/')";
			return -1;
		}
		if ((i - start == 1 && path[start] == '.') || (i - start == 2 && !memcmp(path + start, "..", 2))) {
			*why = "'.' or '..' in path";
			return -1;
		}
		if ((i - start == 14 && !memcmp(path + start, ".reloader-sync", 14)) ||
		    (i - start == 4 && !memcmp(path + start, ".git", 4))) {
			*why = "path inside .git or .reloader-sync";
			return -1;
		}
		if (i < len) {
			i++; /* the '/' */
			if (i == len) {
				*why = "empty path component ('//' or a trailing '/')";
				return -1;
			}
		}
	}
	return 0;
}

void syncframe_init(struct syncframe *p, const struct syncframe_ops *ops, uint64_t max_file, unsigned long max_entries)
{
	memset(p, 0, sizeof *p);
	p->ops = ops;
	p->state = S_MAGIC;
	p->max_file = max_file;
	p->max_entries = max_entries;
}

static void vfail(struct syncframe *p, const char *fmt, va_list ap)
{
	char msg[192];

	vsnprintf(msg, sizeof msg, fmt, ap);
	snprintf(p->err, sizeof p->err, "byte %llu (entry %lu): %s", (unsigned long long)p->offset, p->entries, msg);
	p->state = S_FAILED;
}

void syncframe_fail(struct syncframe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, fmt, ap);
	va_end(ap);
}

static int fail(struct syncframe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct syncframe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, fmt, ap);
	va_end(ap);
	return -1;
}

/* A callback said stop: keep its message, or say something. */
static int stopped(struct syncframe *p)
{
	if (p->state != S_FAILED)
		return fail(p, "refused");
	return -1;
}

/* Parses a decimal or octal number filling the whole of [s, e). */
static int parse_num(const char *s, const char *e, int base, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;

	if (s == e || e - s > 20)
		return -1;
	for (; s < e; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*s < '0' || d >= (unsigned)base)
			return -1;
		if (v > (limit - d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return 0;
}

/* One complete header line (without its '\n'). */
static int entry_line(struct syncframe *p)
{
	char *l = p->line, *end = l + p->line_len;
	const char *why;

	if (p->line_len == 3 && !memcmp(l, "END", 3)) {
		p->state = S_DONE;
		return 0;
	}
	if (p->max_entries && p->entries >= p->max_entries)
		return fail(p, "more than %lu entries in one batch", p->max_entries);
	p->entries++;
	if (p->line_len >= 2 && l[0] == 'D' && l[1] == ' ') {
		if (syncpath_check(l + 2, p->line_len - 2, &why) != 0)
			return fail(p, "%s", why);
		*end = 0;
		if (p->ops->del && p->ops->del(p->ops->arg, l + 2) != 0)
			return stopped(p);
		p->state = S_LINE;
		return 0;
	}
	if (p->line_len >= 2 && l[0] == 'F' && l[1] == ' ') {
		char *m = l + 2, *ms = memchr(m, ' ', (size_t)(end - m)), *ss;
		uint64_t mode, size;

		if (!ms || !(ss = memchr(ms + 1, ' ', (size_t)(end - ms - 1))))
			return fail(p, "a file entry is \"F MODE SIZE PATH\"");
		if (parse_num(m, ms, 8, 07777, &mode) != 0)
			return fail(p, "bad mode (octal, at most 7777)");
		if (parse_num(ms + 1, ss, 10, UINT64_MAX, &size) != 0)
			return fail(p, "bad size (decimal)");
		if (p->max_file && size > p->max_file)
			return fail(p, "file of %llu bytes is over the limit of %llu", (unsigned long long)size,
				    (unsigned long long)p->max_file);
		if (syncpath_check(ss + 1, (size_t)(end - ss - 1), &why) != 0)
			return fail(p, "%s", why);
		*end = 0;
		if (p->ops->file_begin && p->ops->file_begin(p->ops->arg, ss + 1, (unsigned)mode, size) != 0)
			return stopped(p);
		p->left = size;
		p->state = S_DATA;
		return 0;
	}
	return fail(p, "expected \"F MODE SIZE PATH\", \"D PATH\" or \"END\"");
}

int syncframe_feed(struct syncframe *p, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		switch (p->state) {
		case S_MAGIC: {
			size_t want = sizeof SYNC_MAGIC - 1 - p->line_len, n = len - i < want ? len - i : want;

			if (memcmp(data + i, &SYNC_MAGIC[p->line_len], n) != 0)
				return fail(p, "not a sync batch (it starts with \"RLSYNC 1\\n\")");
			p->line_len += n;
			i += n;
			p->offset += n;
			if (p->line_len == sizeof SYNC_MAGIC - 1) {
				p->line_len = 0;
				p->state = S_LINE;
			}
			break;
		}
		case S_LINE: {
			const char *nl = memchr(data + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - (data + i)) : len - i;

			if (p->line_len + n >= sizeof p->line)
				return fail(p, "entry line too long");
			memcpy(p->line + p->line_len, data + i, n);
			p->line_len += n;
			i += n;
			p->offset += n;
			if (nl) {
				i++;
				p->offset++;
				if (entry_line(p) != 0)
					return -1;
				p->line_len = 0;
			}
			break;
		}
		case S_DATA: {
			size_t n = (uint64_t)(len - i) < p->left ? len - i : (size_t)p->left;

			if (n && p->ops->file_data && p->ops->file_data(p->ops->arg, data + i, n) != 0)
				return stopped(p);
			i += n;
			p->offset += n;
			p->left -= n;
			if (!p->left)
				p->state = S_DATA_NL;
			break;
		}
		case S_DATA_NL:
			if (data[i] != '\n')
				return fail(p, "a file's content must be followed by \"\\n\" (is SIZE right?)");
			i++;
			p->offset++;
			if (p->ops->file_end && p->ops->file_end(p->ops->arg) != 0)
				return stopped(p);
			p->state = S_LINE;
			break;
		case S_DONE:
			return fail(p, "bytes after \"END\"");
		default:
			return -1;
		}
	}
	return 0;
}

int syncframe_finish(struct syncframe *p)
{
	if (p->state == S_DONE)
		return 0;
	if (p->state != S_FAILED)
		fail(p, "truncated batch: the body ended before \"END\\n\"");
	return -1;
}

size_t syncframe_file_header(char *buf, size_t cap, unsigned mode, uint64_t size, const char *path)
{
	int n = snprintf(buf, cap, "F %o %llu %s\n", mode & 07777, (unsigned long long)size, path);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t syncframe_delete_line(char *buf, size_t cap, const char *path)
{
	int n = snprintf(buf, cap, "D %s\n", path);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
