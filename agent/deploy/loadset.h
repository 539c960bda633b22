/* loadset.h — one set's render from the render/diff/apply options: template data, namespace, set label (loadset.c).
 * Part of the deploy layer (see render.h). The CLI fills struct cmd_opts from flags (cmd_common.h), the
 * dashboard's workers from the flags `serve` was given. */
#ifndef SM_LOADSET_H
#define SM_LOADSET_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Parsed command line; strings point into argv, arrays are malloc'd (cmd_opts_free). */
struct cmd_opts {
	const char *dir;            /* the manifest folder */
	const char **var_files;     /* -f FILE, in order */
	size_t n_var_files;
	const char **vars;          /* -v key=value (or key:value), in order */
	size_t n_vars;
	const char *ns;             /* -n */
	const char *out;            /* render -o DIR|- */
	const char *set_name;       /* --set NAME (default: DIR's base name) */
	const char *images;         /* --images FILE|URL: .Images */
	const char *context;        /* -c/--context */
	const char *kubeconfig;     /* --kubeconfig */
	const char **pull_secrets;  /* -i/--imagepullsecret */
	size_t n_pull_secrets;
	int dry_run, no_prune, wait;
	int force_apply;            /* --force-apply: send unchanged objects to the server too */
	/* #10 ownership overrides (see sync.h) */
	int adopt;                  /* --adopt: take over existing objects of other owners */
	int take_over;              /* --take-over: take over a set applied from another origin */
	int no_force_conflicts;     /* --no-force-conflicts: fields of other managers are errors */
	int allow_empty;            /* --allow-empty: apply an empty render */
	double wait_timeout;        /* --timeout seconds for --wait (default 300) */
	int concurrency;            /* --concurrency (0: client default) */
	/* source mode (#6): --source NAME[=on|off], repeatable; later ones win */
	const char **sources;       /* the flags' values, in order */
	size_t n_sources;
	json_t *source_base;        /* #7: .Source saved in the cluster (borrowed, may be NULL); flags override it */
};

/* #7: when set (per thread), cmd_render_objects reports render errors here instead of stderr. */
extern __thread FILE *cmd_errout;

/* Builds the template data and renders c->dir. ctx_ns is the kubeconfig context's namespace (may be
 * NULL). On success returns 0 with *objs (render_dir's array) and *ns_out (malloc'd namespace); on
 * failure prints the error and returns -1. */
int cmd_render_objects(const struct cmd_opts *c, const char *ctx_ns, json_t **objs, char **ns_out);
/* The set label when --set is not given: DIR's base name made a valid label value (into out). */
void cmd_default_set_name(const char *dir, char *out, size_t cap);

#endif
