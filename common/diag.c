/* diag.c — delivers diagnostics to an explicit sink (diag.h), or to log.c when none was given. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "log.h"

void diag_say(const struct diag *d, enum diag_kind kind, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (d && d->fn) {
		d->fn(d->arg, kind, line);
		return;
	}
	if (kind == DIAG_ERROR)
		log_error("%s", line);
	else if (kind == DIAG_WARN)
		log_warn("%s", line);
	else if (kind == DIAG_RENDER)
		log_error("%s", line);
}

/* The progress FILE's state: the sink and the unfinished line. */
struct progress {
	struct diag d;
	char *buf;
	size_t len, cap;
};

static void deliver(struct progress *p, const char *s, size_t n)
{
	char *line = strndup(s, n);
	if (!line)
		return;
	if (p->d.fn)
		p->d.fn(p->d.arg, DIAG_PROGRESS, line);
	free(line);
}

static ssize_t progress_write(void *cookie, const char *buf, size_t n)
{
	struct progress *p = cookie;
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (p->len) { /* the head of this line came in an earlier write */
			if (p->len + (i - start) + 1 > p->cap) {
				p->cap = p->len + (i - start) + 1;
				p->buf = realloc(p->buf, p->cap);
				if (!p->buf)
					abort();
			}
			memcpy(p->buf + p->len, buf + start, i - start);
			deliver(p, p->buf, p->len + (i - start));
			p->len = 0;
		} else
			deliver(p, buf + start, i - start);
		start = i + 1;
	}
	if (start < n) {
		if (p->len + (n - start) > p->cap) {
			p->cap = (p->len + (n - start)) * 2;
			p->buf = realloc(p->buf, p->cap);
			if (!p->buf)
				abort();
		}
		memcpy(p->buf + p->len, buf + start, n - start);
		p->len += n - start;
	}
	return (ssize_t)n;
}

static int progress_close(void *cookie)
{
	struct progress *p = cookie;
	if (p->len)
		deliver(p, p->buf, p->len);
	free(p->buf);
	free(p);
	return 0;
}

FILE *diag_progress_open(const struct diag *d)
{
	struct progress *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (d)
		p->d = *d;
	FILE *f = fopencookie(p, "w", (cookie_io_functions_t){.write = progress_write, .close = progress_close});
	if (!f)
		free(p);
	else
		setvbuf(f, NULL, _IOLBF, 0); /* each line as it is written: progress, not a report at the end */
	return f;
}
