/* log.h — one-line diagnostics on stderr with a program prefix; colour only on a terminal. */
#ifndef SM_LOG_H
#define SM_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the prefix ("reloader") and decides colour: stderr is a tty and NO_COLOR is unset. */
void log_init(const char *prog);
/* Messages above this level are dropped (default LOG_INFO; RELOADER_DEBUG/APPDEPLOY_DEBUG raise it). */
void log_set_level(enum log_level level);
/* True when colour escapes may be written to stderr. */
int log_color(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
