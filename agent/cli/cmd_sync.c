/* cmd_sync.c — `appdeploy diff` and `appdeploy apply`: render, connect, then sync or show the difference. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_common.h"
#include "commands.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
#include "lookup.h"
#include "sourcestate.h"
#include "sync.h"

/* Shared start of diff and apply: flags, kubeconfig, render, client. Returns 0 or an exit status. */
static int prepare(int argc, char **argv, struct cmd_opts *c, struct kube_config *kc, struct kube **k, json_t **objs,
		   char **ns)
{
	int rc = cmd_opts_parse(argc, argv, 1, c);
	if (rc)
		return rc;
	char err[1024];
	if (kubeconfig_load(c->kubeconfig, c->context, kc, err, sizeof err)) {
		fprintf(stderr, "appdeploy %s: %s\n", argv[0], err);
		cmd_opts_free(c);
		return 1;
	}
	lookup_use(NULL, kc); /* templates' lookup reads the live cluster, as helm install's does (lookup.c) */
	if (cmd_render_objects(c, kc->namespace, objs, ns)) {
		fprintf(stderr, "appdeploy %s: render failed; nothing was changed\n", argv[0]);
		lookup_use(NULL, NULL);
		kubeconfig_free(kc);
		cmd_opts_free(c);
		return 1;
	}
	*k = kube_new(kc, err, sizeof err);
	if (!*k) {
		fprintf(stderr, "appdeploy %s: %s\n", argv[0], err);
		json_decref(*objs);
		free(*ns);
		kubeconfig_free(kc);
		cmd_opts_free(c);
		return 1;
	}
	if (c->concurrency > 0)
		kube_set_concurrency(*k, c->concurrency);
	/* #7: services switched to source mode (the dashboard's ConfigMap) stay so; --source flags win.
	 * The namespace comes out of the first render; render again only when there is saved state. */
	json_t *saved = NULL;
	if (sourcestate_load(*k, *ns, &saved, err, sizeof err)) {
		fprintf(stderr, "appdeploy %s: %s\n", argv[0], err);
		rc = 1;
	} else if (json_object_size(saved)) {
		json_decref(*objs);
		free(*ns);
		c->source_base = saved;
		rc = cmd_render_objects(c, kc->namespace, objs, ns) ? 1 : 0;
		c->source_base = NULL;
		if (rc)
			fprintf(stderr, "appdeploy %s: render failed; nothing was changed\n", argv[0]);
	}
	json_decref(saved);
	lookup_use(NULL, NULL);
	if (rc) {
		kube_free(*k);
		json_decref(*objs);
		free(*ns);
		kubeconfig_free(kc);
		cmd_opts_free(c);
		return rc;
	}
	const char *ps = getenv("APPDEPLOY_PAGE_SIZE"); /* lets tests exercise pagination */
	if (ps && atoi(ps) > 0)
		kube_set_page_size(*k, atoi(ps));
	return 0;
}

static void fill_opts(struct sync_opts *o, const struct cmd_opts *c, const char *ns, json_t *objs)
{
	memset(o, 0, sizeof *o);
	o->ns = ns;
	/* every object carries the same set label: read it back rather than recompute it */
	json_t *first = json_object_get(json_array_get(objs, 0), "object");
	o->set_name = json_string_value(json_object_get(
		json_object_get(json_object_get(first, "metadata"), "labels"), "appdeploy.sourcemode.dev/set"));
	if (!o->set_name) {
		/* an empty render: the set is still DIR's (never a fallback name another set may have) */
		static __thread char set_buf[256];
		if (c->set_name)
			o->set_name = c->set_name;
		else {
			cmd_default_set_name(c->dir, set_buf, sizeof set_buf);
			o->set_name = set_buf;
		}
	}
	o->dry_run = c->dry_run;
	o->prune = !c->no_prune;
	o->wait = c->wait;
	o->force = c->force_apply;
	o->wait_timeout = c->wait_timeout;
	o->pull_secrets = c->pull_secrets;
	o->n_pull_secrets = c->n_pull_secrets;
	o->out = stdout;
	o->dir = c->dir;
	o->adopt = c->adopt;
	o->take_over = c->take_over;
	o->no_force_conflicts = c->no_force_conflicts;
	o->allow_empty = c->allow_empty;
}

/* Collects the templates of dir (relative paths) the way render_dir finds them: *.yaml / *.yml,
 * hidden entries, variables.yaml, '_' files and *.tpl left out. */
static void list_templates(const char *dir, const char *rel, FILE *out, int *count)
{
	char *path;
	if (asprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return;
	DIR *d = opendir(path);
	free(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *sub;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
			continue;
		char *full;
		struct stat st;
		if (asprintf(&full, "%s/%s", dir, sub) >= 0 && !stat(full, &st)) {
			size_t l = strlen(e->d_name);
			int yaml = (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml"));
			if (S_ISDIR(st.st_mode))
				list_templates(dir, sub, out, count);
			else if (yaml && e->d_name[0] != '_' && strcmp(sub, "variables.yaml")) {
				fprintf(out, "%s%s", (*count)++ ? ", " : "", sub);
			}
		}
		free(full);
		free(sub);
	}
	closedir(d);
}

/* An empty render is refused unless --allow-empty: pruning a whole set because an {{ if }}
 * turned everything off is never what was meant. Returns 0 to go on, or 1 after saying why. */
static int refuse_empty(const char *cmd, const struct cmd_opts *c, json_t *objs)
{
	if (json_array_size(objs) || c->allow_empty)
		return 0;
	char *names = NULL;
	size_t len = 0;
	int count = 0;
	FILE *f = open_memstream(&names, &len);
	if (f) {
		list_templates(c->dir, "", f, &count);
		fclose(f);
	}
	fprintf(stderr,
		"appdeploy %s: every template of %s rendered empty (%s): nothing was applied or pruned. Pass "
		"--allow-empty to %s it anyway (that prunes every object of the set)\n",
		cmd, c->dir, count ? names : "no templates", strcmp(cmd, "diff") ? "apply" : "diff");
	free(names);
	return 1;
}

static void finish(struct cmd_opts *c, struct kube_config *kc, struct kube *k, json_t *objs, char *ns)
{
	kube_free(k);
	json_decref(objs);
	free(ns);
	kubeconfig_free(kc);
	cmd_opts_free(c);
}

int cmd_apply(int argc, char **argv)
{
	struct cmd_opts c;
	struct kube_config kc;
	struct kube *k;
	json_t *objs;
	char *ns;
	int rc = prepare(argc, argv, &c, &kc, &k, &objs, &ns);
	if (rc)
		return rc;
	if (refuse_empty("apply", &c, objs)) {
		finish(&c, &kc, k, objs, ns);
		return 1;
	}
	struct sync_opts o;
	fill_opts(&o, &c, ns, objs);
	char err[1024];
	rc = sync_apply(k, objs, &o, err, sizeof err) ? 1 : 0;
	fflush(stdout);
	if (rc)
		fprintf(stderr, "appdeploy apply: %s\n", err);
	finish(&c, &kc, k, objs, ns);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	struct cmd_opts c;
	struct kube_config kc;
	struct kube *k;
	json_t *objs;
	char *ns;
	/* kubectl diff's convention: 0 no change, 1 changes, >1 an error */
	int rc = prepare(argc, argv, &c, &kc, &k, &objs, &ns);
	if (rc)
		return rc == 1 ? 2 : rc;
	if (refuse_empty("diff", &c, objs)) {
		finish(&c, &kc, k, objs, ns);
		return 2;
	}
	struct sync_opts o;
	fill_opts(&o, &c, ns, objs);
	char err[1024];
	int changes = 0;
	rc = sync_diff(k, objs, &o, stdout, &changes, err, sizeof err) ? 2 : 0;
	fflush(stdout);
	if (rc)
		fprintf(stderr, "appdeploy diff: %s\n", err);
	else {
		fprintf(stderr, "appdeploy diff: %d object%s would change\n", changes, changes == 1 ? "" : "s");
		rc = changes ? 1 : 0;
	}
	finish(&c, &kc, k, objs, ns);
	return rc;
}
