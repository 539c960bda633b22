/* render.h — turns a folder of manifest templates into checked, labelled Kubernetes objects.
 *
 * Layer agent/deploy: a set from folder to cluster — template data (vars.c, loadset.c), render
 * (render.c, chart_set.c), ownership and source state, sync/apply/prune and readiness (sync.c,
 * wait.c). Prints nothing itself except through the log. May call: agent/chart, agent/sprig,
 * agent/template, agent/kube, common/. */
#ifndef SM_RENDER_H
#define SM_RENDER_H

#include <jansson.h>
#include <stddef.h>

/* Ownership labels every rendered object carries; prune selects on both. */
#define RENDER_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define RENDER_MANAGED_BY "appdeploy"
#define RENDER_LABEL_SET "appdeploy.sourcemode.dev/set"
/* Annotation naming the template an object came from (relative to DIR). */
#define RENDER_ANNOTATION_SOURCE "appdeploy.sourcemode.dev/source"

#include "errbuf.h"

/* A render failure is a struct sm_error (errbuf.h) whose msg is already worded:
 * "DIR/file.yaml:LINE:COL: ..." or Go's "template: ..." text. */

/*
 * Renders DIR: every *.yaml / *.yml below it (recursively, sorted by relative path; hidden entries
 * and DIR/variables.yaml skipped) is a template; files whose name starts with '_' and *.tpl files
 * only contribute {{define}}s. All are parsed into one set (missingkey=error) and each template is
 * executed with data as dot. The output is split into YAML documents; empty ones are skipped; each
 * must be a mapping with apiVersion, kind and metadata.name. Each object gets the ownership labels
 * (set label value: set_name) and the source annotation.
 *
 * Returns 0 and *out = a new array of {"file": REL, "line": N, "object": {...}} in render order, or
 * -1 with *err filled (nothing is returned on any error).
 */
int render_dir(const char *dir, json_t *data, const char *set_name, json_t **out, struct sm_error *err);
/* render_dir with n template functions of the caller's added to DIR's templates (tmpl_set_funcs;
 * charts below DIR render without them). */
struct tmpl_func;
struct render_func {
	const struct tmpl_func *fn; /* borrowed */
	void *ctx;                  /* what fn reads with tf_ctx */
};
int render_dir_funcs(const char *dir, json_t *data, const char *set_name, const struct render_func *funcs, size_t nfuncs,
		     json_t **out, struct sm_error *err);

/* Checks that s is a valid label value (<= 63 chars, alphanumerics, '-', '_', '.'). */
int render_valid_label_value(const char *s);

#endif
