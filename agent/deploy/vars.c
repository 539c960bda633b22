/* vars.c — builds the template data (.Variables from files and -v flags, .Namespace, .ImagePullSecrets, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vars.h"
#include "yamlval.h"

/* Deep merge: objects merge key by key, anything else in src replaces dst's value. */
static void merge(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);
		if (d && json_is_object(d) && json_is_object(v))
			merge(d, v);
		else
			json_object_set(dst, k, v);
	}
}

static int load_file(json_t *vars, const char *path, struct sm_error *err)
{
	struct sm_error e;
	memset(&e, 0, sizeof e);
	json_t *docs = yv_load_file(path, 1, NULL, &e);
	if (!docs) {
		*err = e; /* "PATH:LINE:COL: what", with its position */
		return -1;
	}
	size_t i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		if (json_is_null(doc))
			continue;
		if (!json_is_object(doc)) {
			sm_error_set(err, path, 0, 0, "variables must be a mapping");
			json_decref(docs);
			return -1;
		}
		merge(vars, doc);
	}
	json_decref(docs);
	return 0;
}

int vars_set(json_t *vars, const char *assignment, struct sm_error *err)
{
	const char *sep = strchr(assignment, '=');
	if (!sep)
		sep = strchr(assignment, ':');
	if (!sep || sep == assignment) {
		sm_error_set(err, NULL, 0, 0, "bad variable \"%s\": want key=value", assignment);
		return -1;
	}
	size_t klen = (size_t)(sep - assignment);
	char *key = strndup(assignment, klen);
	if (!key)
		abort();
	json_t *obj = vars;
	char *part = key;
	for (;;) {
		char *dot = strchr(part, '.');
		if (!*part || (dot && dot == part)) {
			sm_error_set(err, NULL, 0, 0, "bad variable \"%s\": empty key segment", assignment);
			free(key);
			return -1;
		}
		if (!dot)
			break;
		*dot = 0;
		json_t *next = json_object_get(obj, part);
		if (!next || !json_is_object(next)) {
			next = json_object();
			json_object_set_new(obj, part, next);
		}
		obj = next;
		part = dot + 1;
	}
	const char *val = sep + 1;
	json_object_set_new(obj, part, yv_resolve_plain(val, strlen(val)));
	free(key);
	return 0;
}

json_t *vars_build(const struct vars_opts *o, struct sm_error *err)
{
	json_t *vars = json_object();
	if (o->dir) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/variables.yaml", o->dir);
		if (stat(path, &st) == 0 && load_file(vars, path, err)) {
			json_decref(vars);
			return NULL;
		}
	}
	for (size_t i = 0; i < o->nfiles; i++)
		if (load_file(vars, o->files[i], err)) {
			json_decref(vars);
			return NULL;
		}
	for (size_t i = 0; i < o->nsets; i++)
		if (vars_set(vars, o->sets[i], err)) {
			json_decref(vars);
			return NULL;
		}
	json_t *data = json_object();
	const char *ns = o->namespace_;
	json_t *nsvar = json_object_get(vars, "namespace");
	json_t *nsval = ns ? json_string(ns) : nsvar && json_is_string(nsvar) ? json_incref(nsvar) : json_string("");
	json_object_set_new(data, "Variables", vars);
	json_object_set_new(data, "Namespace", nsval);
	json_t *secrets = json_array();
	for (size_t i = 0; i < o->npull_secrets; i++)
		json_array_append_new(secrets, json_pack("{s:s}", "name", o->pull_secrets[i]));
	json_object_set_new(data, "ImagePullSecrets", secrets);
	json_object_set_new(data, "Images", o->images ? json_incref(o->images) : json_object());
	vars_set_source(data, o->source);
	return data;
}

void vars_set_source(json_t *data, json_t *state)
{
	/* #18: the state maps a service to true (source mode from a hostPath) or "sync" (synced): .Source
	 * says "runs from source" (true either way), .SourceMode says which ("hostpath" or "sync") */
	json_t *source = json_object(), *mode = json_object(), *v;
	const char *key;
	json_object_foreach(state, key, v) {
		int sync = json_is_string(v) && !strcmp(json_string_value(v), "sync");
		if (sync || json_is_true(v)) {
			json_object_set_new(source, key, json_true());
			json_object_set_new(mode, key, json_string(sync ? "sync" : "hostpath"));
		}
	}
	json_object_set_new(data, "Source", source);
	json_object_set_new(data, "SourceMode", mode);
}

/* source mode (#6): --source NAME[=on|off|hostpath|sync] (#18: sync) */
int vars_source_set(json_t *source, const char *arg, struct sm_error *err)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	int on = 1; /* 0 off, 1 from a hostPath, 2 synced */
	if (eq && !strcmp(eq + 1, "sync"))
		on = 2;
	else if (eq && strcmp(eq + 1, "hostpath")) {
		json_t *v = yv_resolve_plain(eq + 1, strlen(eq + 1));
		if (!json_is_boolean(v)) {
			json_decref(v);
			sm_error_set(err, NULL, 0, 0, "\"%s\": want NAME, NAME=on, NAME=off, NAME=hostpath or NAME=sync", arg);
			return -1;
		}
		on = json_is_true(v);
		json_decref(v);
	}
	if (!nlen) {
		sm_error_set(err, NULL, 0, 0, "\"%s\": the service name is empty", arg);
		return -1;
	}
	char *name = strndup(arg, nlen);
	if (!name)
		abort();
	if (on)
		json_object_set_new(source, name, on == 2 ? json_string("sync") : json_true());
	else
		json_object_del(source, name);
	free(name);
	return 0;
}
