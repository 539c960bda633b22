/* tmpl.h — the public face of the Go text/template-compatible engine (lex.c, parse.c, exec.c, funcs.c, fmt.c).
 *
 * Layer agent/template: Go's text/template and nothing else — lexer, parser, node types, executor,
 * Go's builtin functions and fmt verbs. Owns the template sets. May call: common/ only (it knows no
 * sprig, no Helm, no kube); other functions arrive through the set's function table. */
#ifndef SM_TMPL_H
#define SM_TMPL_H

#include <jansson.h>
#include <stddef.h>

/* A set of named templates parsed together (files plus their {{define}}s), like Go's *Template. */
struct tmpl_set;

#include "errbuf.h"

/* Errors are struct sm_error (errbuf.h): msg worded the way Go words it, e.g.
 * "template: deploy.yaml:3: unexpected \"}\" in operand" or
 * "template: deploy.yaml:3:12: executing \"deploy.yaml\" at <.Values.x>: ..."; file is the
 * template's name, line and col where it is known (a parse error names the line only).
 * An execution error longer than TMPL_ERROR_MSG_MAX keeps its head and tail around " [...] ". */
#define TMPL_ERROR_MSG_MAX 2048

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
int tmpl_parse(struct tmpl_set *set, const char *name, const char *text, size_t len, struct sm_error *err);

/* Executes template `name` with data as dot. On success returns 0 and *out is a malloc'd,
 * NUL-terminated buffer of *outlen bytes that the caller frees. Returns -1 with *err filled. */
int tmpl_execute(struct tmpl_set *set, const char *name, json_t *data, char **out, size_t *outlen,
		 struct sm_error *err);

/* True when the set holds a template of that name. */
int tmpl_has(struct tmpl_set *set, const char *name);

/* ---- functions: Go's Template.Funcs(FuncMap) ----
 * The engine knows only Go's builtins (and, or, not, len, index, slice, print, printf, println,
 * html, js, urlquery, eq, ne, lt, le, gt, ge, call). Every other function is installed into a set
 * with tmpl_set_funcs before the templates that call it are parsed: as in Go, a name is looked up
 * at parse time and an unknown one is the parse error `function "NAME" not defined`. */

/* One call of a function: what it was called as, and where its result or error goes. */
struct tmpl_call;

struct tmpl_func {
	const char *name; /* an identifier, as templates call it */
	/* The parameters, one letter each, and so the arity: s string, i int, f float64, b bool,
	 * a interface{}, m map[string]interface{}, v reflect.Value (raw, may be NULL), S []interface{};
	 * a trailing '*' makes the last one variadic. Arguments arrive converted to these kinds,
	 * or the call fails as Go's would ("wrong number of args for NAME: want 2 got 1"). */
	const char *sig;
	/* args are borrowed. Returns 0 after tf_ret* set the result (none: "no value"), or -1 after
	 * tf_fail set the error. */
	int (*fn)(struct tmpl_call *c, json_t **args, size_t n);
};

/* During a call: the ctx given to tmpl_set_funcs_ctx with the function being called (else NULL). */
void *tf_ctx(const struct tmpl_call *c);

/* Adds funcs[0..n) to the set (Go's Funcs): a name also defined by an earlier call, or by a builtin,
 * is replaced for the templates parsed after this call. The array is copied; the name and sig
 * strings must outlive the set. Returns 0, or -1 (errno EINVAL) when a name is not an identifier,
 * a sig holds an unknown kind, or fn is NULL; then nothing is added. Not thread-safe on one set;
 * sets are independent. Templates run by tpl/include see their parent set's functions. */
int tmpl_set_funcs(struct tmpl_set *set, const struct tmpl_func *funcs, size_t n);
/* tmpl_set_funcs with a context the functions read with tf_ctx (a library user's closure). */
int tmpl_set_funcs_ctx(struct tmpl_set *set, const struct tmpl_func *funcs, size_t n, void *ctx);

/* Results of a function (each returns 0, for `return tf_ret(c, v);`): tf_ret steals v (NULL: no value). */
int tf_ret(struct tmpl_call *c, json_t *v);
int tf_ret_str(struct tmpl_call *c, const char *s, size_t n);
int tf_ret_int(struct tmpl_call *c, long long i);
int tf_ret_bool(struct tmpl_call *c, int b);
/* Fails the call (returns -1): the template error reads "error calling NAME: MESSAGE". */
int tf_fail(struct tmpl_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
