/* diag.h — the explicit sink the deploy pipeline reports through: errors, warnings, render failures and progress lines. */
#ifndef SM_DIAG_H
#define SM_DIAG_H

#include <stdio.h>

enum diag_kind {
	DIAG_ERROR,    /* a per-object or per-step error ("web.yaml:3: deployment.apps/web: ...") */
	DIAG_WARN,     /* something the user should know; the step went on */
	DIAG_RENDER,   /* the render failed: the worded message ("DIR/x.yaml:3:5: ...", "template: ...") */
	DIAG_PROGRESS, /* one line of progress or result (apply's "deployment.apps/web created", diff's text) */
};

/*
 * Where diagnostics go. fn receives one message without its trailing newline; the text is valid
 * during the call only. A NULL sink (or fn) sends errors and warnings to log.c (stderr) and drops
 * progress lines, as code outside the pipeline (unit tests, the fuzzers) expects.
 * Thread-safety: a sink is called only from the thread that runs the step it was given to.
 */
struct diag {
	void (*fn)(void *arg, enum diag_kind kind, const char *text);
	void *arg;
};

void diag_say(const struct diag *d, enum diag_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define diag_error(d, ...) diag_say((d), DIAG_ERROR, __VA_ARGS__)
#define diag_warn(d, ...) diag_say((d), DIAG_WARN, __VA_ARGS__)

/*
 * A FILE whose complete lines become DIAG_PROGRESS messages of d as each is written (line
 * buffered; the sync and diff code write their output to a FILE). The last unterminated line is
 * delivered at fclose. Returns NULL when
 * out of memory.
 */
FILE *diag_progress_open(const struct diag *d);

#endif
