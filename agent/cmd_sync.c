/* cmd_sync.c — `appdeploy diff` and `appdeploy apply`: render, connect, then sync or show the difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
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
	if (cmd_render_objects(c, kc->namespace, objs, ns)) {
		fprintf(stderr, "appdeploy %s: render failed; nothing was changed\n", argv[0]);
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
	if (!o->set_name)
		o->set_name = c->set_name ? c->set_name : "default";
	o->dry_run = c->dry_run;
	o->prune = !c->no_prune;
	o->wait = c->wait;
	o->force = c->force_apply;
	o->wait_timeout = c->wait_timeout;
	o->pull_secrets = c->pull_secrets;
	o->n_pull_secrets = c->n_pull_secrets;
	o->out = stdout;
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
	int rc = prepare(argc, argv, &c, &kc, &k, &objs, &ns);
	if (rc)
		return rc;
	struct sync_opts o;
	fill_opts(&o, &c, ns, objs);
	char err[1024];
	int changes = 0;
	rc = sync_diff(k, objs, &o, stdout, &changes, err, sizeof err) ? 1 : 0;
	fflush(stdout);
	if (rc)
		fprintf(stderr, "appdeploy diff: %s\n", err);
	else
		fprintf(stderr, "appdeploy diff: %d object%s would change\n", changes, changes == 1 ? "" : "s");
	finish(&c, &kc, k, objs, ns);
	return rc;
}
