/* pipeline.h — the one deploy pipeline: load a set, render it once, connect, source state, ownership, diff/apply. */
#ifndef SM_PIPELINE_H
#define SM_PIPELINE_H

/*
 * Every front end calls this: `appdeploy render/diff/apply/dev` (cmd_*.c parse flags, then print
 * what the sink receives), the dashboard's workers (workers.c) and the public library (lib.c).
 * The pipeline prints nothing: errors, warnings, render failures and progress lines go to the
 * struct diag it is given (diag.h), the final failure into a caller-owned buffer. It reads its
 * options and never changes them; it keeps no global or thread-local state, so two threads may
 * run it at once, each with its own options, sink and kube client (curl_global_init must have run
 * once before, in the program's main).
 *
 * It may call: render/vars/chart (template layer), kube/kubeconfig/sourcestate/sync (kube and
 * deploy layer), common/. Nothing above it.
 */

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "kube.h"
#include "kubeconfig.h"
#include "render.h"
#include "tmpl.h"

/* What to deploy and how; owned by the caller (strings and arrays borrowed for the call). */
struct pipeline_opts {
	/* the set */
	const char *dir;                 /* the manifest folder (required) */
	const char *const *var_files;    /* -f FILEs, in order, after DIR/variables.yaml */
	size_t n_var_files;
	const char *const *vars;         /* -v key=value (or key:value), applied last */
	size_t n_vars;
	const char *ns;                  /* -n: .Namespace (else the `namespace` variable, the context's, "default") */
	const char *set_name;            /* --set (NULL: DIR's base name made a label value) */
	const char *images;              /* --images FILE|URL: .Images (NULL: empty) */
	const char *const *pull_secrets; /* -i NAMEs: .ImagePullSecrets, merged into the default ServiceAccount */
	size_t n_pull_secrets;
	const char *const *sources;      /* --source NAME[=on|off], later wins over the cluster's saved state */
	size_t n_sources;
	const struct render_func *funcs; /* template functions added to DIR's templates (tmpl_set_funcs_ctx) */
	size_t n_funcs;
	/* the cluster */
	const char *kubeconfig;          /* --kubeconfig (NULL: KUBECONFIG, ~/.kube/config, in-cluster) */
	const char *context;             /* --context (NULL: the current one) */
	int concurrency;                 /* requests in flight (0: the client's default) */
	int page_size;                   /* list page size (0: the client's default) */
	/* diff and apply */
	int dry_run, no_prune, wait, force_apply;
	int adopt, take_over, no_force_conflicts, allow_empty; /* ownership overrides (sync.h) */
	double wait_timeout;             /* seconds for wait (0: 300) */
};

/* A loaded set: the template data and what follows from it before anything is rendered. */
struct pipeline_set {
	json_t *data;  /* .Variables, .Namespace, .ImagePullSecrets, .Images; .Source from the flags */
	char *ns;      /* the namespace (malloc'd) */
	char *set;     /* the set label (malloc'd), computed once: stamped on every object, selects prune */
};

/* Loads o's set: variables files, key=values, images, --source values, the namespace (ctx_ns: the
 * kubeconfig context's, may be NULL) and the set name. Returns 0, or -1 after a DIAG_RENDER message. */
int pipeline_load(const struct pipeline_opts *o, const char *ctx_ns, const struct diag *d, struct pipeline_set *s);
void pipeline_set_clear(struct pipeline_set *s);

/* Renders the loaded set once. saved (may be NULL) is the cluster's saved .Source, which o->sources
 * override. Returns 0 with *objs (render_dir's array of {file, line, object}, a new reference), or
 * -1 after a DIAG_RENDER message. */
int pipeline_render(const struct pipeline_opts *o, const struct pipeline_set *s, json_t *saved,
		    const struct diag *d, json_t **objs);

/* pipeline_load + pipeline_render without a cluster (`appdeploy render`, `dev`): *ns malloc'd. */
int pipeline_render_local(const struct pipeline_opts *o, const char *ctx_ns, const struct diag *d, json_t **objs,
			  char **ns);

/* A client for kc with o's concurrency and page size, reporting to d. NULL with err filled. */
struct kube *pipeline_connect(const struct pipeline_opts *o, const struct kube_config *kc, const struct diag *d,
			      struct sm_error *err);

/* Refuses an empty render unless o->allow_empty (mode "apply" or "diff" words the advice): 0 to go
 * on, or -1 with err filled, naming the templates that rendered empty. */
int pipeline_check_empty(const struct pipeline_opts *o, const char *mode, json_t *objs, struct sm_error *err);

/* Applies objs (rendered into namespace ns as set `set`) as o says; progress lines and per-object
 * errors go to d. Returns 0, or -1 with err filled. */
int pipeline_apply(struct kube *k, const struct pipeline_opts *o, const char *ns, const char *set, json_t *objs,
		   const struct diag *d, struct sm_error *err);
/* Before an apply of o's set that rendered (not a dry run): its --source choices written into the
 * namespace's source-mode state (sourcestate.h), as the dashboard's toggle writes it before its sync, so
 * that a sync of the dashboard or of the in-cluster agent renders them too instead of undoing them. A
 * progress line says so when the state changed. Returns 0, or -1 with err filled (nothing applied then). */
int pipeline_save_sources(struct kube *k, const struct pipeline_opts *o, const char *ns, const struct diag *d,
			  struct sm_error *err);

/* What pipeline_apply would change: the diff as DIAG_PROGRESS lines, *changes objects differing. */
int pipeline_diff(struct kube *k, const struct pipeline_opts *o, const char *ns, const char *set, json_t *objs,
		  const struct diag *d, int *changes, struct sm_error *err);

enum pipeline_mode { PIPELINE_APPLY, PIPELINE_DIFF };

/* The whole pipeline, as `appdeploy apply` / `diff` run it: kubeconfig, load, connect, the
 * namespace's saved source state, one render, the empty check, then apply or diff. Returns 0
 * (*changes set for diff), or -1 with err filled ("render failed; nothing was changed" after the
 * render's own DIAG_RENDER message). */
int pipeline_run(const struct pipeline_opts *o, enum pipeline_mode mode, const struct diag *d, int *changes, struct sm_error *err);

/* What pipeline_prepare hands a front end that does more than apply or diff (`appdeploy up`): the kubeconfig,
 * a connected client, the loaded set and its one render. Owned; pipeline_prepared_free. */
struct pipeline_prepared {
	struct kube_config kc;
	struct kube *k;
	struct pipeline_set s;
	json_t *objs; /* render_dir's array of {file, line, object} */
};

/* pipeline_run's steps before the apply or diff (kubeconfig, load, connect, the saved source state, the one
 * render with live lookups, the empty check; mode words the empty check's advice). Returns 0 with p filled, or
 * -1 with err filled and p cleared. */
int pipeline_prepare(const struct pipeline_opts *o, enum pipeline_mode mode, const struct diag *d,
		     struct pipeline_prepared *p, struct sm_error *err);
void pipeline_prepared_free(struct pipeline_prepared *p);

/* The set label when o->set_name is not given: DIR's base name made a valid label value. */
void pipeline_default_set_name(const char *dir, char *out, size_t cap);

#endif
