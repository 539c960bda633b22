/* helm_funcs.c — Helm's own template functions over sprig's (Helm's engine/funcs.go): include, tpl, required, toYaml, fromYaml, fromYamlArray, lookup, toToml, fromToml, toYamlPretty; and the map charts and sets render with. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "sprig.h"
#include "chart.h"
#include "helm_lookup.h"
#include "toml.h"
#include "tmpl_node.h"
#include "yamlemit.h"
#include "yamlval.h"

static int fn_required(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[1] || json_is_null(a[1]) || (json_is_string(a[1]) && SL(a[1]) == 0))
		return tf_fail(c, "%s", S(a[0]));
	return tf_ret(c, json_incref(a[1]));
}

static int fn_to_yaml(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	size_t len;
	char *y = yaml_emit(a[0], &len);
	if (len && y[len - 1] == '\n') /* Helm trims the final newline */
		len--;
	int rc = tf_ret_str(c, y, len);
	free(y);
	return rc;
}

/* A load error as yaml.v2 words it: libyaml's problem without its context ("while parsing ..."). */
static void yaml_v2_error(char *buf, size_t n, struct sm_error *e)
{
	const char *what = sm_error_what(e);
	const char *w = strstr(what, " while ");
	int len = w ? (int)(w - what) : (int)strlen(what);
	if (e->go_line)
		snprintf(buf, n, "yaml: line %d: %.*s", e->go_line, len, what);
	else
		snprintf(buf, n, "yaml: %.*s", len, what);
}

static int fn_from_yaml(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sm_error e;
	memset(&e, 0, sizeof e);
	json_t *docs = yv_load(S(a[0]), SL(a[0]), "fromYaml", 1, NULL, &e);
	if (!docs) {
		char where[600];
		yaml_v2_error(where, sizeof where, &e);
		return tf_ret(c, sprig_error_map("error converting YAML to JSON: %s", where));
	}
	json_t *first = json_array_get(docs, 0);
	json_t *m;
	if (first && json_is_object(first))
		m = json_incref(first);
	else if (first && !json_is_null(first))
		m = sprig_error_map("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type "
			      "map[string]interface {}",
			      sprig_json_kind(first));
	else
		m = json_object();
	json_decref(docs);
	return tf_ret(c, m);
}

static int fn_from_yaml_array(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sm_error e;
	memset(&e, 0, sizeof e);
	json_t *docs = yv_load(S(a[0]), SL(a[0]), "fromYamlArray", 1, NULL, &e);
	json_t *out;
	if (!docs) {
		char where[600], msg[700];
		yaml_v2_error(where, sizeof where, &e);
		snprintf(msg, sizeof msg, "error converting YAML to JSON: %s", where);
		out = json_pack("[s]", msg);
		return tf_ret(c, out);
	}
	json_t *first = json_array_get(docs, 0);
	if (first && json_is_array(first)) {
		out = json_incref(first);
	} else if (first && !json_is_null(first)) {
		char msg[300];
		snprintf(msg, sizeof msg, "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type "
			 "[]interface {}",
			 sprig_json_kind(first));
		out = json_pack("[s]", msg);
	} else {
		out = json_array();
	}
	json_decref(docs);
	return tf_ret(c, out);
}

static int fn_include(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char *out;
	size_t len;
	/* on the heap: include nests up to MAX_EXEC_DEPTH deep, and sanitizer builds pad every stack array */
	struct sm_error *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	if (tmpl_exec_nested(c->st, tmpl_exec_set(c->st), S(a[0]), a[1], &out, &len, e)) {
		tmpl_copy_ellipsized(c->err, sizeof c->err, e->msg);
		free(e);
		return -1;
	}
	free(e);
	int rc = tf_ret_str(c, out, len);
	free(out);
	return rc;
}

static int fn_tpl(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct tmpl_set *parent = tmpl_exec_set(c->st);
	struct tmpl_set *child = tmpl_set_new();
	child->parent = parent;
	child->missingkey_error = parent->missingkey_error;
	child->missingkey_zero = parent->missingkey_zero;
	child->helm = parent->helm;
	/* Helm parses tpl text as a new template named after its root template, "gotpl" */
	const char *name = "gotpl";
	/* error buffers on the heap: tpl and include nest deeply, keep their frames small */
	struct {
		struct sm_error parse;
		struct sm_error exec;
		char exec_msg[1024]; /* exec's message cut to its head and tail */
	} *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	char *out = NULL;
	size_t len = 0;
	int rc = 0;
	if (tmpl_parse(child, name, S(a[0]), SL(a[0]), &e->parse)) {
		struct sbuf q = {0};
		go_quote(&q, S(a[0]), SL(a[0]), 0);
		rc = tf_fail(c, "cannot parse template %s: %s", q.s, e->parse.msg);
		free(q.s);
	} else if (tmpl_exec_nested(c->st, child, name, a[1], &out, &len, &e->exec)) {
		tmpl_copy_ellipsized(e->exec_msg, sizeof e->exec_msg, e->exec.msg);
		struct sbuf q = {0};
		go_quote(&q, S(a[0]), SL(a[0]), 0);
		rc = tf_fail(c, "error during tpl function execution for %s: %s", q.s, e->exec_msg);
		free(q.s);
	}
	free(e);
	tmpl_set_free(child);
	if (rc)
		return rc;
	/* Helm blanks "<no value>" in tpl output */
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	sprig_replace_all(&b, out, len, "<no value>", 10, "", 0);
	free(out);
	return sprig_ret_sbuf(c, &b);
}

/* Helm's additions to sprig's map (engine/funcs.go); the set gets sprig's first. */
static const struct tmpl_func helm[] = {
	{"fromYamlArray", "s", fn_from_yaml_array},
	{"fromYaml", "s", fn_from_yaml},
	{"include", "sa", fn_include},
	{"fromToml", "s", tfx_from_toml},       /* toml.c */
	{"lookup", "ssss", tfx_lookup},         /* helm_lookup.c: the live cluster in apply/diff, else empty */
	{"required", "sa", fn_required},
	{"toToml", "v", tfx_to_toml},           /* toml.c */
	{"toYaml", "a", fn_to_yaml},
	{"toYamlPretty", "a", tfx_to_yaml_pretty}, /* toml.c */
	{"tpl", "sa", fn_tpl},
};

int helm_install_funcs(struct tmpl_set *set)
{
	if (sprig_install(set))
		return -1;
	return tmpl_set_funcs(set, helm, sizeof helm / sizeof helm[0]);
}
