/* errbuf.h — the one error convention of agent/ and common/: a caller-owned error that the failing
 * function fills and the caller words and reports (Redis's anetSetError), with the position when the
 * error is about an input (parsers, templates, renders).
 *
 * Functions that can fail take a `struct sm_error *err` and return -1 (or NULL) after filling it;
 * errors about an input (a kubeconfig, variables or values file, a template, a rendered document)
 * carry its file, line and column, the others (an API or transport error) none. The CLI decides the
 * wording around msg and the exit status. */
#ifndef SM_ERRBUF_H
#define SM_ERRBUF_H

#include <stddef.h>

struct sm_error {
	char msg[2304]; /* the whole message, as users see it (position included, worded by its producer) */
	char file[256]; /* the input the error is in, as the caller named it ("": none) */
	int line;       /* 1-based line, 0 if unknown */
	int col;        /* 1-based byte column, 0 if unknown */
	size_t what;    /* offset in msg of the text after the position sm_error_set wrote (0: none) */
	int go_line;    /* YAML syntax errors: the line gopkg.in/yaml.v2 names (0: none), for Helm's wording */
};

/* The message without the position sm_error_set put in front of it. */
static inline const char *sm_error_what(const struct sm_error *err) { return err->msg + err->what; }

/* The formatter: records the position and sets msg to "FILE:LINE:COL: " and the formatted text;
 * an unknown line or column (0) and an empty or NULL file leave their part out ("FILE: text",
 * or just the text). Always NUL-terminated, truncated when longer than msg. */
void sm_error_set(struct sm_error *err, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Formats the message into err (errlen bytes, always NUL-terminated, truncated when longer).
 * For fixed text fields that are results rather than a function's error (kube_req.err), and the
 * few file-local helpers that still fill a plain buffer. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
