/* liberror.c — the library's one error type (appdeploy_error): built from a pipeline message, its position parsed out. */
#include "liberror.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void appdeploy_error_free(appdeploy_error *e)
{
	if (!e)
		return;
	free(e->message);
	free(e->file);
	free(e);
}

/*
 * A new error from a message as the pipeline words it: "FILE:LINE:COL: ...", "FILE:LINE: ..." or
 * Go's "template: NAME:LINE:COL: ..." give the position; anything else has none.
 */
appdeploy_error *liberror_from_message(const char *msg)
{
	appdeploy_error *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	if (!(e->message = strdup(msg))) {
		free(e);
		return NULL;
	}
	const char *s = msg;
	if (!strncmp(s, "template: ", 10))
		s += 10;
	for (const char *p = s; *p && strncmp(p, ": ", 2); p++) {
		if (*p != ':' || p == s || !isdigit((unsigned char)p[1]))
			continue;
		char *end;
		long line = strtol(p + 1, &end, 10), col = 0;
		if (*end == ':' && isdigit((unsigned char)end[1]))
			col = strtol(end + 1, &end, 10);
		if (*end != ':' || line > INT_MAX || col > INT_MAX)
			continue;
		e->file = strndup(s, (size_t)(p - s));
		e->line = (int)line;
		e->col = (int)col;
		break;
	}
	return e;
}
