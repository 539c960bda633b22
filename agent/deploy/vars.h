/* vars.h — the template data shared by `template` and `render`: .Variables, .Namespace, .ImagePullSecrets, .Images, .Source, .SourceMode. */
#ifndef SM_VARS_H
#define SM_VARS_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

struct vars_opts {
	const char *dir;               /* DIR whose variables.yaml (if present) is read first, or NULL */
	const char *const *files;      /* -f FILEs, read in order after DIR's file; each must exist */
	size_t nfiles;
	const char *const *sets;       /* -v "key=value" (or kube-appdeploy's "key:value"), applied last */
	size_t nsets;
	const char *namespace_;        /* -n NS, or NULL to take the `namespace` variable */
	const char *const *pull_secrets; /* -i NAMEs for .ImagePullSecrets */
	size_t npull_secrets;
	json_t *images;                /* .Images (borrowed; NULL for an empty object) */
	json_t *source;                /* the source-mode state: NAME -> true | "sync" (borrowed; NULL: none) */
};

/*
 * Builds the data object templates execute on:
 *   {"Variables": {...}, "Namespace": "...", "ImagePullSecrets": [{"name": ...}...], "Images": {}, "Source": {}, "SourceMode": {}}
 * Variables files merge deeply in order (later files win key by key); -v values are typed as
 * YAML plain scalars (so "3" is an int and "true" a bool) and dotted keys ("a.b.c=1") set nested
 * values. Returns a new reference, or NULL with err filled ("FILE:LINE:COL: message").
 */
json_t *vars_build(const struct vars_opts *o, struct sm_error *err);

/* Applies one "key=value" / "key:value" to an object of variables. Returns 0 or -1 with err filled. */
int vars_set(json_t *vars, const char *assignment, struct sm_error *err);

/*
 * Source mode (#6): applies one --source value to a source-mode state object (vars_opts.source).
 * "NAME", "NAME=on" and "NAME=hostpath" set NAME to true (source mode from a hostPath); "NAME=sync"
 * (#18) sets it to "sync" (synced source mode); "NAME=off" removes NAME. vars_build turns the state
 * into .Source (NAME -> true for either source mode; absent means the CI image, so templates test it
 * with `index .Source "NAME"`) and .SourceMode (NAME -> "hostpath" or "sync"). on/off also accept
 * YAML 1.1 booleans (true, yes, false, no).
 * Returns 0, or -1 with err filled.
 */
int vars_source_set(json_t *source, const char *arg, struct sm_error *err);

/* Sets data's .Source and .SourceMode from a source-mode state (NAME -> true | "sync"; may be NULL),
 * as vars_build does: for a render with the state the cluster saved. */
void vars_set_source(json_t *data, json_t *state);

#endif
