/* errbuf.c — fills a caller-owned error (see errbuf.h). */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

void sm_error_set(struct sm_error *err, const char *file, int line, int col, const char *fmt, ...)
{
	if (!err)
		return;
	if (file != err->file)
		snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	err->line = line;
	err->col = col;
	int n = 0;
	if (err->file[0] && line && col)
		n = snprintf(err->msg, sizeof err->msg, "%s:%d:%d: ", err->file, line, col);
	else if (err->file[0] && line)
		n = snprintf(err->msg, sizeof err->msg, "%s:%d: ", err->file, line);
	else if (err->file[0])
		n = snprintf(err->msg, sizeof err->msg, "%s: ", err->file);
	if (n < 0 || (size_t)n >= sizeof err->msg)
		n = 0; /* a file name too long for msg: the text alone */
	err->what = (size_t)n;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
	va_end(ap);
}

void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
