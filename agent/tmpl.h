/* tmpl.h — the public face of the Go text/template-compatible engine (tmpl_lex/parse/exec/funcs.c). */
#ifndef SM_TMPL_H
#define SM_TMPL_H

#include <jansson.h>
#include <stddef.h>

/* A set of named templates parsed together (files plus their {{define}}s), like Go's *Template. */
struct tmpl_set;

/* An error already worded the way Go words it, e.g.
 * "template: deploy.yaml:3: unexpected \"}\" in operand" or
 * "template: deploy.yaml:3:12: executing \"deploy.yaml\" at <.Values.x>: ...". */
struct tmpl_error {
	char msg[2048];
	char name[256]; /* template (file) name the error is in */
	int line;       /* 1-based, 0 if unknown */
	int col;        /* 1-based byte column, 0 if unknown */
};

/* Process-wide set-up, once, before any thread starts (main, appdeploy_global_init): lets
 * dateInZone switch TZ while other threads read the environment (tmpl_sprig_date.c). */
void tmpl_process_init(void);

/* Returns a new empty set; free with tmpl_set_free. */
struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *set);

/* missingkey=error: a missing map key is an execution error instead of "<no value>". */
void tmpl_set_missingkey_error(struct tmpl_set *set, int on);

/* missingkey=zero (Helm's): a missing map key is a nil interface{} value, so a field of it is the
 * error "nil pointer evaluating interface {}.x"; printed it is still "<no value>". */
void tmpl_set_missingkey_zero(struct tmpl_set *set, int on);

/* Helm's engine: missingkey=zero, and sprig's slice (lists only) instead of Go's builtin. */
void tmpl_set_helm(struct tmpl_set *set, int on);

/* Bounds one execution (0 = unlimited): bytes of output and evaluation steps (actions, commands,
 * loop iterations). Exceeding either is an execution error. For untrusted templates and fuzzing. */
void tmpl_set_limits(struct tmpl_set *set, size_t max_output, unsigned long max_steps);

/* Parses text as template `name` into the set (its {{define}}s join the set too).
 * Returns 0, or -1 with *err filled. */
int tmpl_parse(struct tmpl_set *set, const char *name, const char *text, size_t len, struct tmpl_error *err);

/* Executes template `name` with data as dot. On success returns 0 and *out is a malloc'd,
 * NUL-terminated buffer of *outlen bytes that the caller frees. Returns -1 with *err filled. */
int tmpl_execute(struct tmpl_set *set, const char *name, json_t *data, char **out, size_t *outlen,
		 struct tmpl_error *err);

/* A template function of the caller's (Go's FuncMap entry). fn is called as the engine's own
 * functions are (tmpl_node.h: struct fcall, arguments converted as sig says: s string, i int,
 * f float64, b bool, a interface{}, m map, v raw value, S slice, '*' variadic); c->fn_ctx is ctx. */
struct fcall;
struct tmpl_func {
	const char *name; /* the identifier templates call */
	const char *sig;  /* parameter kinds */
	int (*fn)(struct fcall *c, json_t **args, size_t n);
	void *ctx;        /* handed to fn as c->fn_ctx */
};

/* Adds n functions to the set (Go's Template.Funcs): they are found before the builtins, by this
 * set's parses and executions only (and by tpl's sets made from it). Must be called before the
 * templates using them are parsed. The table is copied (names and sigs are not: keep them alive).
 * Returns 0, or -1 when an entry has no name or no fn. */
int tmpl_set_funcs(struct tmpl_set *set, const struct tmpl_func *funcs, size_t n);

/* True when the set holds a template of that name. */
int tmpl_has(struct tmpl_set *set, const char *name);

#endif
