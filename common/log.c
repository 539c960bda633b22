/* log.c — one-line diagnostics on stderr with a program prefix; colour only on a terminal. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *log_prog = "sourcemode";
static enum log_level log_level = LOG_INFO;
static int log_use_color;
void log_init(const char *prog)
{
	const char *no_color = getenv("NO_COLOR");

	log_prog = prog;
	log_use_color = isatty(STDERR_FILENO) && !(no_color && *no_color);
}

void log_set_level(enum log_level level) { log_level = level; }

int log_color(void) { return log_use_color; }

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "", "debug"};
	static const char *const colors[] = {"\033[31m", "\033[33m", "", "\033[2m"};
	char line[4096];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several processes do not interleave mid-line. */
	if (log_use_color && *names[level])
		n = fprintf(stderr, "\033[1m%s:\033[0m %s%s:\033[0m %s\n", log_prog, colors[level], names[level], line);
	else if (*names[level])
		n = fprintf(stderr, "%s: %s: %s\n", log_prog, names[level], line);
	else
		n = fprintf(stderr, "%s: %s\n", log_prog, line);
	(void)n;
}
