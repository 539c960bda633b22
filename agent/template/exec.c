/* exec.c — the template executor (Go's text/template/exec.go semantics) on jansson values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"

/* Go allows 100000 nested template calls; C stacks are smaller, so the limit here is lower. */
#define MAX_EXEC_DEPTH 1000

struct var {
	const char *name;
	struct tval v; /* owned reference */
};

struct exec_state {
	struct tmpl_set *set;
	struct tree *tmpl; /* template being executed (its name is in error messages) */
	struct sbuf *out;
	const struct node *node; /* node being evaluated, for error context */
	struct var *vars;
	size_t nvars, capvars;
	int depth;
	int *nest; /* shared count of nested executions (template, include, tpl) */
	unsigned long *steps; /* shared count of evaluation steps (limits) */
	struct sm_error *err;
	const struct tval *cmd_dot; /* dot of the command being evaluated (method arguments) */
	json_t *recv;               /* a method call being set up: its receiver */
	void *recv_ctx;
};

enum walk_result { W_OK = 0, W_ERR = -1, W_BREAK = 1, W_CONTINUE = 2 };

static const struct tval INVALID = {NULL, 0};

static struct tval tv_new(json_t *j, int boxed) { return (struct tval){j, boxed}; }

static struct tval tv_copy(const struct tval *v)
{
	return (struct tval){v->j ? json_incref(v->j) : NULL, v->boxed};
}

static void tv_clear(struct tval *v)
{
	json_decref(v->j);
	v->j = NULL;
	v->boxed = 0;
}

const char *tv_type_name(const struct tval *v)
{
	if (v->boxed)
		return "interface {}";
	if (!v->j)
		return "<nil>";
	switch (json_typeof(v->j)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_OBJECT: return "map[string]interface {}";
	default: return "interface {}";
	}
}

int tv_truth(json_t *j)
{
	if (!j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_STRING: return json_string_length(j) > 0;
	case JSON_INTEGER: return json_integer_value(j) != 0;
	case JSON_REAL: return json_real_value(j) != 0;
	case JSON_TRUE: return 1;
	case JSON_FALSE: return 0;
	case JSON_ARRAY: return json_array_size(j) > 0;
	case JSON_OBJECT: return json_object_size(j) > 0;
	default: return 0;
	}
}

/* ---- errors ---- */

static void error_location(const struct node *n, struct tree *fallback, char *loc, size_t loclen, int *line, int *col)
{
	struct tree *t = n->tree ? n->tree : fallback;
	size_t pos = (size_t)n->pos;
	if (pos > t->srclen)
		pos = t->srclen;
	int ln = 1;
	size_t last_nl = (size_t)-1;
	for (size_t i = 0; i < pos; i++)
		if (t->src[i] == '\n')
			ln++, last_nl = i;
	int c = last_nl == (size_t)-1 ? (int)pos : (int)(pos - last_nl - 1);
	snprintf(loc, loclen, "%s:%d:%d", t->parse_name, ln, c);
	*line = ln;
	*col = c;
}

/* Copies src into dst; when it does not fit, keeps its head and its tail (where nested errors
 * such as include's carry the root cause) around " [...] ". */
void tmpl_copy_ellipsized(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n < dstlen) {
		memcpy(dst, src, n + 1);
		return;
	}
	size_t keep = (dstlen - 8) / 2;
	memcpy(dst, src, keep);
	memcpy(dst + keep, " [...] ", 7);
	memcpy(dst + keep + 7, src + n - (dstlen - keep - 8), dstlen - keep - 8);
	dst[dstlen - 1] = 0;
}

static int errorf(struct exec_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errorf(struct exec_state *st, const char *fmt, ...)
{
	struct sbuf msg = {0};
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len > 0) {
		char *tmp = malloc((size_t)len + 1);
		if (!tmp)
			abort();
		va_start(ap, fmt);
		vsnprintf(tmp, (size_t)len + 1, fmt, ap);
		va_end(ap);
		sb_add(&msg, tmp, (size_t)len);
		free(tmp);
	}
	struct sm_error *e = st->err;
	snprintf(e->file, sizeof e->file, "%s", st->tmpl->name);
	struct sbuf full = {0};
	if (!st->node) {
		sb_printf(&full, "template: %s: %s", st->tmpl->name, msg.s ? msg.s : "");
		e->line = e->col = 0;
	} else {
		char loc[512];
		int line, col;
		error_location(st->node, st->tmpl, loc, sizeof loc, &line, &col);
		struct sbuf ctx = {0};
		tmpl_node_string(st->node, &ctx);
		sb_printf(&full, "template: %s: executing \"%s\" at <%s>: %s", loc, st->tmpl->name, ctx.s ? ctx.s : "",
			  msg.s ? msg.s : "");
		free(ctx.s);
		e->line = line;
		e->col = col + 1;
	}
	tmpl_copy_ellipsized(e->msg, TMPL_ERROR_MSG_MAX, full.s);
	free(full.s);
	free(msg.s);
	return -1;
}

static const char *node_text(const struct node *n, char *buf, size_t len)
{
	struct sbuf b = {0};
	tmpl_node_string(n, &b);
	snprintf(buf, len, "%s", b.s ? b.s : "");
	free(b.s);
	return buf;
}

/* ---- variables ---- */

static void push_var(struct exec_state *st, const char *name, struct tval v)
{
	if (st->nvars == st->capvars) {
		st->capvars = st->capvars ? st->capvars * 2 : 16;
		struct var *nv = realloc(st->vars, st->capvars * sizeof *nv);
		if (!nv)
			abort();
		st->vars = nv;
	}
	st->vars[st->nvars++] = (struct var){name, v};
}

static void pop_vars(struct exec_state *st, size_t mark)
{
	while (st->nvars > mark)
		tv_clear(&st->vars[--st->nvars].v);
}

static int set_var(struct exec_state *st, const char *name, const struct tval *v)
{
	for (size_t i = st->nvars; i-- > 0;)
		if (!strcmp(st->vars[i].name, name)) {
			tv_clear(&st->vars[i].v);
			st->vars[i].v = tv_copy(v);
			return 0;
		}
	return errorf(st, "undefined variable: %s", name);
}

static void set_top_var(struct exec_state *st, size_t n, struct tval v)
{
	tv_clear(&st->vars[st->nvars - n].v);
	st->vars[st->nvars - n].v = v;
}

static int var_value(struct exec_state *st, const char *name, struct tval *out)
{
	for (size_t i = st->nvars; i-- > 0;)
		if (!strcmp(st->vars[i].name, name)) {
			*out = tv_copy(&st->vars[i].v);
			return 0;
		}
	return errorf(st, "undefined variable: %s", name);
}

/* ---- evaluation ---- */

static int over_budget(struct exec_state *st);

static int eval_pipeline(struct exec_state *st, const struct tval *dot, const struct node *pipe, struct tval *out);
static int eval_arg(struct exec_state *st, const struct tval *dot, char kind, const struct node *n, struct tval *out);
static int eval_function(struct exec_state *st, const struct tval *dot, const struct node *ident,
			 const struct node *cmd, const struct tval *final, struct tval *out);

static int not_a_function(struct exec_state *st, const struct node *cmd, const struct tval *final)
{
	if ((cmd && cmd->nkids > 1) || final) {
		char b[512];
		return errorf(st, "can't give argument to non-function %s",
			      node_text(cmd ? cmd->kids[0] : st->node, b, sizeof b));
	}
	return 0;
}

static int ideal_constant(struct exec_state *st, const struct node *n, struct tval *out)
{
	st->node = n;
	const char *t = n->orig;
	int hexint = n->origlen > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && !strpbrk(t, "pP");
	if (n->is_float && !hexint && !n->is_char && strpbrk(t, ".eEpP")) {
		*out = tv_new(json_real(n->fval), 0);
		return 0;
	}
	if (n->is_int) {
		*out = tv_new(json_integer(n->ival), 0);
		return 0;
	}
	if (n->is_uint_only)
		return errorf(st, "%s overflows int", t);
	*out = INVALID;
	return 0;
}

static int eval_call(struct exec_state *st, const struct tval *dot, const struct tmpl_func *fn, const struct node *node,
		     const struct node *const *args, size_t nargs, const struct tval *final, struct tval *out);

static int eval_field(struct exec_state *st, const char *name, const struct node *cmd, const struct tval *final,
		      struct tval *receiver, struct tval *out)
{
	const struct tbind *bind = tmpl_find_bind(st->set, receiver->j);
	if (bind) {
		for (size_t i = 0; i < bind->type->nmethods; i++) {
			const struct tmpl_func *m = &bind->type->methods[i];
			if (strcmp(m->name, name))
				continue;
			const struct node *node = st->node;
			st->recv = receiver->j;
			st->recv_ctx = bind->ctx;
			if (cmd)
				return eval_call(st, st->cmd_dot, m, node, (const struct node *const *)cmd->kids + 1,
						 cmd->nkids - 1, final, out);
			return eval_call(st, st->cmd_dot, m, node, NULL, 0, final, out);
		}
	}
	if (!receiver->j) {
		if (st->set->missingkey_error)
			return errorf(st, "nil data; no entry for key \"%s\"", name);
		*out = INVALID;
		return 0;
	}
	const char *typ = tv_type_name(receiver);
	if (json_is_null(receiver->j))
		return errorf(st, "nil pointer evaluating %s.%s", typ, name);
	int has_args = (cmd && cmd->nkids > 1) || final;
	if (json_is_object(receiver->j)) {
		if (has_args)
			return errorf(st, "%s is not a method but has arguments", name);
		json_t *v = json_object_get(receiver->j, name);
		if (!v) {
			if (st->set->missingkey_error)
				return errorf(st, "map has no entry for key \"%s\"", name);
			*out = st->set->missingkey_zero ? tv_new(json_null(), 1) : INVALID;
			return 0;
		}
		*out = tv_new(json_incref(v), 1);
		return 0;
	}
	return errorf(st, "can't evaluate field %s in type %s", name, typ);
}

/* Walks receiver through the names; receiver is consumed. */
static int eval_field_chain(struct exec_state *st, struct tval receiver, const char **ident, size_t n,
			    const struct node *cmd, const struct tval *final, struct tval *out)
{
	for (size_t i = 0; i < n; i++) {
		struct tval next;
		int last = i == n - 1;
		if (eval_field(st, ident[i], last ? cmd : NULL, last ? final : NULL, &receiver, &next)) {
			tv_clear(&receiver);
			return -1;
		}
		tv_clear(&receiver);
		receiver = next;
	}
	*out = receiver;
	return 0;
}

static int eval_field_node(struct exec_state *st, const struct tval *dot, const struct node *field,
			   const struct node *cmd, const struct tval *final, struct tval *out)
{
	st->node = field;
	return eval_field_chain(st, tv_copy(dot), field->ident, field->nident, cmd, final, out);
}

static int eval_chain_node(struct exec_state *st, const struct tval *dot, const struct node *chain,
			   const struct node *cmd, const struct tval *final, struct tval *out)
{
	st->node = chain;
	if (chain->pipe->type == N_NIL) {
		char b[512];
		return errorf(st, "indirection through explicit nil in %s", node_text(chain, b, sizeof b));
	}
	struct tval recv;
	if (eval_arg(st, dot, 0, chain->pipe, &recv))
		return -1;
	return eval_field_chain(st, recv, chain->ident, chain->nident, cmd, final, out);
}

static int eval_variable_node(struct exec_state *st, const struct node *var, const struct node *cmd,
			      const struct tval *final, struct tval *out)
{
	st->node = var;
	struct tval v;
	if (var_value(st, var->ident[0], &v))
		return -1;
	if (var->nident == 1) {
		if (not_a_function(st, cmd, final)) {
			tv_clear(&v);
			return -1;
		}
		*out = v;
		return 0;
	}
	return eval_field_chain(st, v, var->ident + 1, var->nident - 1, cmd, final, out);
}

static int eval_command(struct exec_state *st, const struct tval *dot, const struct node *cmd,
			const struct tval *final, struct tval *out)
{
	const struct node *first = cmd->kids[0];
	if (over_budget(st))
		return -1;
	const struct tval *saved_dot = st->cmd_dot;
	int rc;
	switch (first->type) {
	case N_FIELD:
		st->cmd_dot = dot;
		rc = eval_field_node(st, dot, first, cmd, final, out);
		st->cmd_dot = saved_dot;
		return rc;
	case N_CHAIN:
		st->cmd_dot = dot;
		rc = eval_chain_node(st, dot, first, cmd, final, out);
		st->cmd_dot = saved_dot;
		return rc;
	case N_IDENT:
		return eval_function(st, dot, first, cmd, final, out);
	case N_PIPE:
		if (not_a_function(st, cmd, final))
			return -1;
		return eval_pipeline(st, dot, first, out);
	case N_VARIABLE:
		st->cmd_dot = dot;
		rc = eval_variable_node(st, first, cmd, final, out);
		st->cmd_dot = saved_dot;
		return rc;
	default:
		break;
	}
	st->node = first;
	if (not_a_function(st, cmd, final))
		return -1;
	switch (first->type) {
	case N_BOOL:
		*out = tv_new(json_boolean(first->bval), 0);
		return 0;
	case N_DOT:
		*out = tv_copy(dot);
		return 0;
	case N_NIL:
		return errorf(st, "nil is not a command");
	case N_NUMBER:
		return ideal_constant(st, first, out);
	case N_STRING:
		*out = tv_new(json_stringn_nocheck(first->text, first->textlen), 0);
		return 0;
	default: {
		char b[512];
		return errorf(st, "can't evaluate command \"%s\"", node_text(first, b, sizeof b));
	}
	}
}

static int eval_pipeline(struct exec_state *st, const struct tval *dot, const struct node *pipe, struct tval *out)
{
	*out = INVALID;
	if (!pipe)
		return 0;
	st->node = pipe;
	struct tval value = INVALID;
	for (size_t i = 0; i < pipe->nkids; i++) {
		struct tval next;
		if (eval_command(st, dot, pipe->kids[i], i ? &value : NULL, &next)) {
			tv_clear(&value);
			return -1;
		}
		tv_clear(&value);
		value = next;
		/* an interface{} result is unwrapped: a nil one becomes "no value" */
		if (value.j && json_is_null(value.j))
			tv_clear(&value);
		value.boxed = 0;
	}
	for (size_t i = 0; i < pipe->ndecl; i++) {
		if (pipe->is_assign) {
			if (set_var(st, pipe->decl[i]->ident[0], &value)) {
				tv_clear(&value);
				return -1;
			}
		} else {
			push_var(st, pipe->decl[i]->ident[0], tv_copy(&value));
		}
	}
	*out = value;
	return 0;
}

static const char *kind_type(char kind)
{
	switch (kind) {
	case 's': return "string";
	case 'i': return "int";
	case 'f': return "float64";
	case 'b': return "bool";
	case 'm': return "map[string]interface {}";
	case 'S': return "[]interface {}";
	case 'v': return "reflect.Value";
	default: return "interface {}";
	}
}

static int kind_can_be_nil(char kind) { return kind == 'a' || kind == 'm' || kind == 'S' || kind == 'v'; }

/* The zero value of a nil-able kind: nil interface/map/slice is JSON null, a zero reflect.Value is NULL. */
static struct tval kind_zero(char kind) { return kind == 'v' ? INVALID : tv_new(json_null(), 0); }

static int kind_accepts(char kind, json_t *j)
{
	switch (kind) {
	case 's': return json_is_string(j);
	case 'i': return json_is_integer(j);
	case 'f': return json_is_real(j);
	case 'b': return json_is_boolean(j);
	case 'm': return json_is_object(j);
	case 'S': return json_is_array(j);
	default: return 1;
	}
}

/* Go's validateType; v is consumed and the result stored in *out. kind 0 means "no type" (chain receivers). */
static int validate_type(struct exec_state *st, struct tval v, char kind, struct tval *out)
{
	if (!v.j) {
		if (!kind) {
			*out = INVALID;
			return 0;
		}
		if (kind_can_be_nil(kind)) {
			*out = kind_zero(kind);
			return 0;
		}
		return errorf(st, "invalid value; expected %s", kind_type(kind));
	}
	if (!kind || kind == 'v' || kind == 'a') {
		*out = v;
		return 0;
	}
	if (json_is_null(v.j)) { /* a nil interface{} is assignable to no concrete type */
		tv_clear(&v);
		return errorf(st, "wrong type for value; expected %s; got interface {}", kind_type(kind));
	}
	if (!kind_accepts(kind, v.j)) {
		struct tval concrete = {v.j, 0};
		const char *got = tv_type_name(&concrete);
		int rc = errorf(st, "wrong type for value; expected %s; got %s", kind_type(kind), got);
		tv_clear(&v);
		return rc;
	}
	v.boxed = 0;
	*out = v;
	return 0;
}

static int eval_arg(struct exec_state *st, const struct tval *dot, char kind, const struct node *n, struct tval *out)
{
	st->node = n;
	struct tval v;
	char b[512];
	switch (n->type) {
	case N_DOT:
		return validate_type(st, tv_copy(dot), kind, out);
	case N_NIL:
		if (kind_can_be_nil(kind)) {
			*out = kind_zero(kind);
			return 0;
		}
		return errorf(st, "cannot assign nil to %s", kind_type(kind));
	case N_FIELD:
		if (eval_field_node(st, dot, n, NULL, NULL, &v))
			return -1;
		return validate_type(st, v, kind, out);
	case N_VARIABLE:
		if (eval_variable_node(st, n, NULL, NULL, &v))
			return -1;
		return validate_type(st, v, kind, out);
	case N_PIPE:
		if (eval_pipeline(st, dot, n, &v))
			return -1;
		return validate_type(st, v, kind, out);
	case N_IDENT:
		if (eval_function(st, dot, n, NULL, NULL, &v))
			return -1;
		return validate_type(st, v, kind, out);
	case N_CHAIN:
		if (eval_chain_node(st, dot, n, NULL, NULL, &v))
			return -1;
		return validate_type(st, v, kind, out);
	default:
		break;
	}
	switch (kind) {
	case 'b':
		if (n->type == N_BOOL) {
			*out = tv_new(json_boolean(n->bval), 0);
			return 0;
		}
		return errorf(st, "expected bool; found %s", node_text(n, b, sizeof b));
	case 'f':
		if (n->type == N_NUMBER && n->is_float) {
			*out = tv_new(json_real(n->fval), 0);
			return 0;
		}
		return errorf(st, "expected float; found %s", node_text(n, b, sizeof b));
	case 'i':
		if (n->type == N_NUMBER && n->is_int) {
			*out = tv_new(json_integer(n->ival), 0);
			return 0;
		}
		return errorf(st, "expected integer; found %s", node_text(n, b, sizeof b));
	case 's':
		if (n->type == N_STRING) {
			*out = tv_new(json_stringn_nocheck(n->text, n->textlen), 0);
			return 0;
		}
		return errorf(st, "expected string; found %s", node_text(n, b, sizeof b));
	case 'a':
	case 'v':
		switch (n->type) {
		case N_BOOL:
			*out = tv_new(json_boolean(n->bval), 0);
			return 0;
		case N_NUMBER:
			return ideal_constant(st, n, out);
		case N_STRING:
			*out = tv_new(json_stringn_nocheck(n->text, n->textlen), 0);
			return 0;
		default:
			break;
		}
		return errorf(st, "can't handle assignment of %s to empty interface argument", node_text(n, b, sizeof b));
	default:
		return errorf(st, "can't handle %s for arg of type %s", node_text(n, b, sizeof b), kind_type(kind));
	}
}

/* Parses a signature into kinds; returns the count, *variadic set when the last one repeats. */
static size_t sig_kinds(const char *sig, char *kinds, int *variadic)
{
	size_t n = 0;
	*variadic = 0;
	for (const char *p = sig; *p; p++) {
		if (*p == '*')
			*variadic = 1;
		else
			kinds[n++] = *p;
	}
	return n;
}

static int eval_call(struct exec_state *st, const struct tval *dot, const struct tmpl_func *fn, const struct node *node,
		     const struct node *const *args, size_t nargs, const struct tval *final, struct tval *out)
{
	char kinds[16];
	int variadic;
	json_t *recv = st->recv; /* taken before the arguments, which may call methods themselves */
	void *recv_ctx = st->recv_ctx;
	st->recv = NULL;
	st->recv_ctx = NULL;
	size_t nparams = sig_kinds(fn->sig, kinds, &variadic);
	size_t num_in = nargs + (final ? 1 : 0);
	size_t num_fixed = nargs;
	if (variadic) {
		num_fixed = nparams - 1;
		if (num_in < num_fixed)
			return errorf(st, "wrong number of args for %s: want at least %zu got %zu", fn->name, nparams - 1,
				      nargs);
	} else if (num_in != nparams) {
		return errorf(st, "wrong number of args for %s: want %zu got %zu", fn->name, nparams, num_in);
	}
	int is_and = !strcmp(fn->name, "and"), is_or = !strcmp(fn->name, "or");
	if (is_and || is_or) {
		struct tval v = INVALID;
		for (size_t i = 0; i < nargs; i++) {
			tv_clear(&v);
			if (eval_arg(st, dot, 'v', args[i], &v))
				return -1;
			json_t *inner = v.j && json_is_null(v.j) ? NULL : v.j;
			if (tv_truth(inner) == is_or) {
				*out = v;
				return 0;
			}
		}
		if (final) {
			tv_clear(&v);
			v = tv_copy(final);
		}
		*out = v;
		return 0;
	}
	int *boxed = NULL;
	struct tval *argv = calloc(num_in ? num_in : 1, sizeof *argv);
	json_t **jargs = calloc(num_in ? num_in : 1, sizeof *jargs);
	if (!argv || !jargs)
		abort();
	size_t i = 0;
	int rc = 0;
	for (; i < num_fixed && i < nargs; i++)
		if ((rc = eval_arg(st, dot, kinds[i], args[i], &argv[i])))
			goto done;
	if (variadic)
		for (; i < nargs; i++)
			if ((rc = eval_arg(st, dot, kinds[nparams - 1], args[i], &argv[i])))
				goto done;
	if (final) {
		char k = kinds[nparams - 1];
		if (variadic && num_in - 1 < num_fixed)
			k = kinds[num_in - 1];
		if ((rc = validate_type(st, tv_copy(final), k, &argv[i])))
			goto done;
		i++;
	}
	boxed = calloc(num_in ? num_in : 1, sizeof *boxed);
	if (!boxed)
		abort();
	for (size_t k = 0; k < num_in; k++) {
		jargs[k] = argv[k].j;
		boxed[k] = argv[k].boxed;
	}
	struct tmpl_call c = {.st = st, .name = fn->name, .boxed = boxed, .recv = recv, .recv_ctx = recv_ctx,
			      .fn_ctx = tmpl_func_ctx(st->set, fn)};
	if (fn->fn(&c, jargs, num_in)) {
		json_decref(c.result);
		st->node = node;
		/* errors raised by nested executions (include, tpl, template) are passed on as they are */
		rc = errorf(st, "error calling %s: %s", fn->name, c.err);
		goto done;
	}
	*out = tv_new(c.result, 0);
done:
	free(boxed);
	for (size_t k = 0; k < num_in; k++)
		tv_clear(&argv[k]);
	free(argv);
	free(jargs);
	return rc;
}

static int eval_function(struct exec_state *st, const struct tval *dot, const struct node *ident,
			 const struct node *cmd, const struct tval *final, struct tval *out)
{
	st->node = ident;
	const struct tmpl_func *fn = ident->fn ? ident->fn : tmpl_find_func(st->set, ident->text);
	if (!fn)
		return errorf(st, "\"%s\" is not a defined function", ident->text);
	if (cmd)
		return eval_call(st, dot, fn, cmd, (const struct node *const *)cmd->kids + 1, cmd->nkids - 1, final, out);
	return eval_call(st, dot, fn, ident, NULL, 0, final, out);
}

/* ---- walking ---- */

static enum walk_result walk(struct exec_state *st, const struct tval *dot, const struct node *n);

static enum walk_result walk_if_with(struct exec_state *st, const struct tval *dot, const struct node *n)
{
	size_t mark = st->nvars;
	struct tval val;
	if (eval_pipeline(st, dot, n->pipe, &val)) {
		pop_vars(st, mark);
		return W_ERR;
	}
	enum walk_result r = W_OK;
	if (tv_truth(val.j && !json_is_null(val.j) ? val.j : NULL))
		r = walk(st, n->type == N_WITH ? &val : dot, n->list);
	else if (n->else_list)
		r = walk(st, dot, n->else_list);
	tv_clear(&val);
	pop_vars(st, mark);
	return r;
}

static enum walk_result range_iteration(struct exec_state *st, const struct node *r, struct tval idx, struct tval elem,
					size_t mark)
{
	if (r->pipe->ndecl > 0)
		set_top_var(st, 1, tv_copy(&elem));
	if (r->pipe->ndecl > 1)
		set_top_var(st, 2, tv_copy(&idx));
	enum walk_result w = walk(st, &elem, r->list);
	pop_vars(st, mark);
	tv_clear(&idx);
	tv_clear(&elem);
	return w;
}

static int cmp_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static enum walk_result walk_range(struct exec_state *st, const struct tval *dot, const struct node *r)
{
	st->node = r;
	size_t outer = st->nvars;
	struct tval val;
	if (eval_pipeline(st, dot, r->pipe, &val)) {
		pop_vars(st, outer);
		return W_ERR;
	}
	size_t mark = st->nvars;
	enum walk_result res = W_OK;
	int iterated = 0;
	json_t *j = val.j && !json_is_null(val.j) ? val.j : NULL;
	if (j && json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			iterated = 1;
			enum walk_result w = range_iteration(st, r, tv_new(json_integer((json_int_t)i), 0),
							     tv_new(json_incref(json_array_get(j, i)), 1), mark);
			if (w == W_ERR) {
				res = W_ERR;
				break;
			}
			if (w == W_BREAK)
				break;
		}
	} else if (j && json_is_object(j)) {
		size_t n = json_object_size(j);
		const char **keys = malloc((n ? n : 1) * sizeof *keys);
		if (!keys)
			abort();
		size_t k = 0;
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v) keys[k++] = key;
		qsort(keys, n, sizeof *keys, cmp_keys);
		for (size_t i = 0; i < n; i++) {
			iterated = 1;
			json_t *elem = json_object_get(j, keys[i]);
			enum walk_result w = range_iteration(st, r, tv_new(json_string_nocheck(keys[i]), 0),
							     tv_new(json_incref(elem), 1), mark);
			if (w == W_ERR) {
				res = W_ERR;
				break;
			}
			if (w == W_BREAK)
				break;
		}
		free(keys);
	} else if (j && json_is_integer(j)) {
		/* range over an int: current Go (1.22+) iterates 0..n-1; Go 1.19 refuses */
		if (r->pipe->ndecl > 1) {
			errorf(st, "can't use %s, %s to iterate over an int", r->pipe->decl[0]->ident[0],
			       r->pipe->decl[1]->ident[0]);
			res = W_ERR;
		} else {
			for (json_int_t i = 0; i < json_integer_value(j); i++) {
				iterated = 1;
				enum walk_result w = range_iteration(st, r, tv_new(json_integer(i), 0),
								     tv_new(json_integer(i), 0), mark);
				if (w == W_ERR) {
					res = W_ERR;
					break;
				}
				if (w == W_BREAK)
					break;
			}
		}
	} else if (j) {
		struct sbuf b = {0};
		go_print_value(&b, j);
		errorf(st, "range can't iterate over %s", b.s ? b.s : "");
		res = W_ERR;
		free(b.s);
	}
	if (res == W_OK && !iterated && r->else_list)
		res = walk(st, dot, r->else_list);
	tv_clear(&val);
	pop_vars(st, outer);
	return res == W_ERR ? W_ERR : W_OK;
}

static int exec_tree(struct exec_state *parent, struct tmpl_set *set, struct tree *t, const struct tval *dot,
		     struct sbuf *out, struct sm_error *err);

static enum walk_result walk_template(struct exec_state *st, const struct tval *dot, const struct node *n)
{
	st->node = n;
	struct tree *t = tmpl_lookup(st->set, n->text);
	if (!t)
		return errorf(st, "template \"%s\" not defined", n->text), W_ERR;
	if (*st->nest >= MAX_EXEC_DEPTH)
		return errorf(st, "exceeded maximum template depth (%d)", MAX_EXEC_DEPTH), W_ERR;
	struct tval newdot;
	if (eval_pipeline(st, dot, n->pipe, &newdot))
		return W_ERR;
	int rc = exec_tree(st, st->set, t, &newdot, st->out, st->err);
	tv_clear(&newdot);
	return rc ? W_ERR : W_OK;
}

/* Enforces tmpl_set_limits; returns -1 with the error set when a bound is passed. */
static int over_budget(struct exec_state *st)
{
	unsigned long max_steps = st->set->max_steps;
	size_t max_out = st->set->max_output;
	for (struct tmpl_set *p = st->set->parent; p; p = p->parent) {
		if (!max_steps)
			max_steps = p->max_steps;
		if (!max_out)
			max_out = p->max_output;
	}
	if (max_steps && ++*st->steps > max_steps)
		return errorf(st, "execution budget of %lu steps exceeded", max_steps);
	if (max_out && st->out->len > max_out)
		return errorf(st, "output exceeds %zu bytes", max_out);
	return 0;
}

static enum walk_result walk(struct exec_state *st, const struct tval *dot, const struct node *n)
{
	st->node = n;
	if (over_budget(st))
		return W_ERR;
	switch (n->type) {
	case N_ACTION: {
		struct tval val;
		if (eval_pipeline(st, dot, n->pipe, &val))
			return W_ERR;
		if (n->pipe->ndecl == 0) {
			st->node = n;
			const struct tbind *b = val.j ? tmpl_find_bind(st->set, val.j) : NULL;
			if (!val.j)
				sb_puts(st->out, "<no value>");
			else if (b && b->type->string)
				b->type->string(val.j, b->ctx, st->out);
			else
				go_print_value(st->out, val.j);
		}
		tv_clear(&val);
		return W_OK;
	}
	case N_BREAK:
		return W_BREAK;
	case N_CONTINUE:
		return W_CONTINUE;
	case N_IF:
	case N_WITH:
		return walk_if_with(st, dot, n);
	case N_LIST:
		for (size_t i = 0; i < n->nkids; i++) {
			enum walk_result r = walk(st, dot, n->kids[i]);
			if (r != W_OK)
				return r;
		}
		return W_OK;
	case N_RANGE:
		return walk_range(st, dot, n);
	case N_TEMPLATE:
		return walk_template(st, dot, n);
	case N_TEXT:
		sb_add(st->out, n->text, n->textlen);
		return W_OK;
	default: {
		char b[512];
		return errorf(st, "unknown node: %s", node_text(n, b, sizeof b)), W_ERR;
	}
	}
}

static int exec_tree(struct exec_state *parent, struct tmpl_set *set, struct tree *t, const struct tval *dot,
		     struct sbuf *out, struct sm_error *err)
{
	int nest0 = 0;
	unsigned long steps0 = 0;
	struct exec_state st = {.set = set, .tmpl = t, .out = out, .err = err};
	st.nest = parent ? parent->nest : &nest0;
	st.steps = parent ? parent->steps : &steps0;
	(*st.nest)++;
	push_var(&st, "$", tv_copy(dot));
	enum walk_result r = t->root ? walk(&st, dot, t->root) : W_OK;
	pop_vars(&st, 0);
	free(st.vars);
	(*st.nest)--;
	return r == W_ERR ? -1 : 0;
}

int tmpl_execute(struct tmpl_set *set, const char *name, json_t *data, char **out, size_t *outlen, struct sm_error *err)
{
	memset(err, 0, sizeof *err);
	*out = NULL;
	*outlen = 0;
	struct tree *t = tmpl_lookup(set, name);
	if (!t) {
		snprintf(err->msg, sizeof err->msg, "template: no template \"%s\" associated with template \"%s\"", name,
			 name);
		snprintf(err->file, sizeof err->file, "%s", name);
		return -1;
	}
	struct sbuf b = {0};
	struct tval dot = tv_new(data, 0);
	if (exec_tree(NULL, set, t, &dot, &b, err)) {
		free(b.s);
		return -1;
	}
	*outlen = b.len;
	*out = sb_take(&b);
	return 0;
}

/* ---- hooks for include / tpl ---- */

struct tmpl_set *tmpl_exec_set(struct exec_state *st) { return st->set; }


int tmpl_exec_nested(struct exec_state *st, struct tmpl_set *set, const char *name, json_t *dot, char **out,
		     size_t *outlen, struct sm_error *err)
{
	struct tree *t = tmpl_lookup(set, name);
	if (!t) {
		/* Helm runs include on its root template, named "gotpl" */
		sm_error_set(err, NULL, 0, 0, "template: no template \"%s\" associated with template \"gotpl\"", name);
		return -1;
	}
	if (*st->nest >= MAX_EXEC_DEPTH) {
		/* Helm's wording for its include recursion limit */
		sm_error_set(err, NULL, 0, 0,
			     "rendering template has a nested reference name: %s: unable to execute template", name);
		return -1;
	}
	struct sbuf b = {0};
	struct tval d = tv_new(dot, 0);
	if (exec_tree(st, set, t, &d, &b, err)) {
		free(b.s);
		return -1;
	}
	*outlen = b.len;
	*out = sb_take(&b);
	return 0;
}
