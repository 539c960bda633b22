/* cmd_down.c — `appdeploy down DIR`: removes the agent that up installed (and with --all the set), after asking. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentdir.h"
#include "agentset.h"
#include "bundle.h"
#include "cmd_common.h"
#include "commands.h"
#include "duration.h"
#include "ownership.h"
#include "pipeline.h"
#include "upcommon.h"
#include "yamlval.h"

/* Prunes set `set` in ns through its inventory (nothing when it has none), then deletes the inventory.
 * Returns 0, 1 when there was no inventory, -1 on failure (said). */
static int prune_set(struct kube *k, const char *ns, const char *set, const char *dir, int take_over)
{
	struct own_inventory inv = {0};
	struct sm_error err;
	if (own_inventory_load(k, ns, set, &inv, &err)) {
		fprintf(stderr, "appdeploy down: %.1023s\n", err.msg);
		return -1;
	}
	int found = inv.found;
	own_inventory_free(&inv);
	if (!found)
		return 1;
	json_t *none = json_array();
	struct pipeline_opts o = {.dir = dir, .allow_empty = 1, .take_over = take_over};
	int rc = pipeline_apply(k, &o, ns, set, none, &cmd_diag, &err);
	json_decref(none);
	if (rc) {
		fflush(stdout);
		fprintf(stderr, "appdeploy down: pruning set %s in namespace %s: %.1023s\n", set, ns, err.msg);
		return -1;
	}
	char *name = own_inventory_name(set), *path;
	if (asprintf(&path, "/api/v1/namespaces/%s/configmaps/%s", ns, name) >= 0) {
		char why[1024];
		long st = up_request(k, KUBE_DELETE, path, NULL, NULL, why, sizeof why);
		if (st >= 200 && st < 300)
			printf("configmap/%s deleted (the inventory of set %s)\n", name, set);
		free(path);
	}
	free(name);
	return 0;
}

static int delete_named(struct kube *k, const char *path, const char *label)
{
	char why[1024];
	long st = up_request(k, KUBE_DELETE, path, NULL, NULL, why, sizeof why);
	if (st >= 200 && st < 300) {
		printf("%s deleted\n", label);
		return 0;
	}
	if (st == 404)
		return 0;
	fprintf(stderr, "appdeploy down: deleting %s: %s\n", label, why);
	return -1;
}

static int confirm(const char *what, int yes)
{
	if (yes)
		return 0;
	if (!isatty(0) || !isatty(2)) {
		fprintf(stderr, "appdeploy down: not asking without a terminal: pass --yes to remove %s\n", what);
		return 2;
	}
	fprintf(stderr, "This removes %s. Continue? [y/N] ", what);
	char line[64];
	if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
		fprintf(stderr, "appdeploy down: nothing was removed\n");
		return 1;
	}
	return 0;
}

int cmd_down(int argc, char **argv)
{
	const char *agent_ns = NULL, *all = NULL, *yes = NULL;
	const struct up_flag flags[] = {{"--agent-namespace", 1, &agent_ns}, {"--all", 0, &all}, {"--yes", 0, &yes}};
	int rc = up_take_flags("down", &argc, argv, flags, 3);
	if (rc)
		return rc;
	struct cmd_opts c;
	if ((rc = cmd_opts_parse(argc, argv, 1, &c)))
		return rc;
	const char *ns2 = agent_ns ? agent_ns : AGENTSET_DEFAULT_NS;
	struct kube_config kc;
	struct sm_error err;
	struct pipeline_set s = {0};
	struct kube *k = NULL;
	json_t *vars = NULL;
	char *what = NULL, *path = NULL;
	rc = 1;
	if (kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, &err)) {
		fprintf(stderr, "appdeploy down: %.1023s\n", err.msg);
		cmd_opts_free(&c);
		return 1;
	}
	if (!(k = pipeline_connect(&c.pl, &kc, &cmd_diag, &err)) || kube_discover(k, &err)) {
		fprintf(stderr, "appdeploy down: %.1023s\n", err.msg);
		goto out;
	}
	/* the namespace and set: DIR's as apply finds them, checked against what the agent was given */
	if (pipeline_load(&c.pl, kc.namespace, &cmd_diag, &s)) {
		fprintf(stderr, "appdeploy down: %s does not load as a set (see above): fix it, or give -n and --set\n",
			c.pl.dir);
		goto out;
	}
	if (asprintf(&path, "/api/v1/namespaces/%s/configmaps/%s", ns2, AGENTSET_VARS_CONFIGMAP) < 0)
		goto out;
	json_t *cm = NULL;
	char why[1024];
	long st = up_request(k, KUBE_GET, path, NULL, &cm, why, sizeof why);
	free(path);
	path = NULL;
	if (st == 200) {
		const char *text = json_string_value(json_object_get(json_object_get(cm, "data"), AGENTSET_VARS_KEY));
		struct sm_error ye = {0};
		json_t *docs = text ? yv_load(text, strlen(text), AGENTSET_VARS_KEY, 1, NULL, &ye) : NULL;
		vars = docs ? json_incref(json_array_get(docs, 0)) : NULL;
		json_decref(docs);
	} else if (st != 404) {
		fprintf(stderr, "appdeploy down: reading configmap/%s in namespace %s: %s\n", AGENTSET_VARS_CONFIGMAP,
			ns2, why);
		json_decref(cm);
		goto out;
	}
	json_decref(cm);
	const char *vns = json_string_value(json_object_get(vars, "targetNamespace"));
	const char *vset = json_string_value(json_object_get(vars, "setName"));
	if (vars && ((vns && strcmp(vns, s.ns)) || (vset && strcmp(vset, s.set)))) {
		fprintf(stderr,
			"appdeploy down: the agent in namespace %s manages set %s in namespace %s, not set %s in namespace %s: "
			"give -n %s --set %s (or the right --agent-namespace); nothing was removed\n",
			ns2, vset ? vset : "?", vns ? vns : "?", s.set, s.ns, vns ? vns : "?", vset ? vset : "?");
		goto out;
	}
	if (asprintf(&what, "the appdeploy agent from namespace %s%s%s%s%s", ns2,
		     all ? " and every object of set " : "", all ? s.set : "", all ? " from namespace " : "",
		     all ? s.ns : "") < 0)
		goto out;
	if ((rc = confirm(what, yes != NULL)))
		goto out;
	rc = 1;
	/* the agent first (its Deployment goes with the set in NS2), so nothing re-applies what follows */
	char adir[PATH_MAX + 256];
	if (agent_manifest_dir(adir, sizeof adir))
		snprintf(adir, sizeof adir, "%s", c.pl.dir); /* only the origin's wording depends on it */
	int self = prune_set(k, ns2, AGENTSET_NAME, adir, 1);
	int grants = prune_set(k, s.ns, AGENTSET_NAME, adir, 1);
	int failed = self < 0 || grants < 0;
	const char *names[][2] = {{"configmaps", BUNDLE_CONFIGMAP},
				  {"configmaps", AGENTSET_VARS_CONFIGMAP},
				  {"secrets", AGENTSET_GIT_SECRET}};
	for (size_t i = 0; i < 3; i++) {
		char *p, *label;
		if (asprintf(&p, "/api/v1/namespaces/%s/%s/%s", ns2, names[i][0], names[i][1]) < 0)
			continue;
		if (asprintf(&label, "%s/%s", i < 2 ? "configmap" : "secret", names[i][1]) >= 0) {
			failed |= delete_named(k, p, label) != 0;
			free(label);
		}
		free(p);
	}
	if (kube_find(k, "coordination.k8s.io/v1", "Lease")) {
		char *p;
		if (asprintf(&p, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", ns2, AGENTSET_LEASE) >= 0) {
			failed |= delete_named(k, p, "lease.coordination.k8s.io/" AGENTSET_LEASE) != 0;
			free(p);
		}
	}
	if (all && !failed) {
		int r = prune_set(k, s.ns, s.set, c.pl.dir, 0);
		if (r == 1)
			printf("set %s has no inventory in namespace %s: nothing of it to prune\n", s.set, s.ns);
		failed |= r < 0;
	}
	/* the namespace, only when up made it */
	json_t *ns = NULL;
	if (asprintf(&path, "/api/v1/namespaces/%s", ns2) >= 0 &&
	    up_request(k, KUBE_GET, path, NULL, &ns, why, sizeof why) == 200) {
		const char *by = json_string_value(json_object_get(
			json_object_get(json_object_get(ns, "metadata"), "labels"), AGENTSET_LABEL_CREATED_BY));
		if (by && !strcmp(by, AGENTSET_CREATED_BY) && !failed) {
			char label[300];
			snprintf(label, sizeof label, "namespace/%s (up created it)", ns2);
			failed |= delete_named(k, path, label) != 0;
			/* a namespace goes once its contents are gone: a next `up` must not find it Terminating */
			double end = mono_seconds() + 120;
			while (up_request(k, KUBE_GET, path, NULL, NULL, NULL, 0) == 200 && mono_seconds() < end) {
				struct timespec ts = {0, 200 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		} else if (!by)
			printf("namespace/%s left in place (up did not create it)\n", ns2);
	}
	json_decref(ns);
	if (self == 1 && grants == 1)
		printf("no agent set found in namespace %s\n", ns2);
	rc = failed ? 1 : 0;
out:
	free(path);
	free(what);
	json_decref(vars);
	pipeline_set_clear(&s);
	kube_free(k);
	kubeconfig_free(&kc);
	cmd_opts_free(&c);
	return rc;
}
