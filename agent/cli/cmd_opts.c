/* cmd_opts.c — the flags render, diff, apply, serve and dev share (cmd_common.h), and the CLI's diagnostics sink. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "log.h"
#include "vars.h"

/* The CLI's sink (cmd_common.h): what the pipeline reports, printed as appdeploy always has. */
static void cli_diag(void *arg, enum diag_kind kind, const char *text)
{
	(void)arg;
	if (kind == DIAG_PROGRESS)
		printf("%s\n", text);
	else if (kind == DIAG_RENDER)
		fprintf(stderr, "appdeploy: %s\n", text);
	else if (kind == DIAG_WARN)
		log_warn("%s", text);
	else
		log_error("%s", text);
}

const struct diag cmd_diag = {cli_diag, NULL};

static void push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof **v);
	if (!nv)
		abort();
	*v = nv;
	(*v)[(*n)++] = s;
}

void cmd_opts_free(struct cmd_opts *c)
{
	free(c->var_files);
	free(c->vars);
	free(c->pull_secrets);
	free(c->sources);
	memset(c, 0, sizeof *c);
}

int cmd_opts_parse(int argc, char **argv, int sync_flags, struct cmd_opts *c)
{
	memset(c, 0, sizeof *c);
	struct pipeline_opts *p = &c->pl;
	p->wait_timeout = 300;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		/* flags that take a value accept both "--flag value" and "--flag=value" */
		static const char *with_value[] = {"-f", "--values", "-v", "--var", "-n", "--namespace", "-o", "--output",
						   "--set", "-c", "--context", "--kubeconfig", "-i",
						   "--imagepullsecret", "--timeout", "--concurrency", "--images",
						   "--source", NULL};
		const char *flag = a;
		char flagbuf[64];
		const char *eq = strchr(a, '=');
		if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof flagbuf) {
			memcpy(flagbuf, a, (size_t)(eq - a));
			flagbuf[eq - a] = 0;
			flag = flagbuf;
			val = eq + 1;
		}
		int takes = 0;
		for (size_t j = 0; with_value[j]; j++)
			takes |= !strcmp(flag, with_value[j]);
		if (takes && !val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "appdeploy %s: %s needs a value\n", argv[0], flag);
				cmd_opts_free(c);
				return 2;
			}
			val = argv[++i];
		}
		int sync_only = 0;
		if (!strcmp(flag, "-f") || !strcmp(flag, "--values"))
			push(&c->var_files, &c->n_var_files, val);
		else if (!strcmp(flag, "-v") || !strcmp(flag, "--var"))
			push(&c->vars, &c->n_vars, val);
		else if (!strcmp(flag, "-n") || !strcmp(flag, "--namespace"))
			p->ns = val;
		else if (!strcmp(flag, "--images"))
			p->images = val;
		else if (!strcmp(flag, "--source")) { /* source mode (#6): a bad value is a usage error */
			struct sm_error err;
			json_t *scratch = json_object();
			int bad = vars_source_set(scratch, val, &err);
			json_decref(scratch);
			if (bad) {
				fprintf(stderr, "appdeploy %s: --source %s\n", argv[0], err.msg);
				cmd_opts_free(c);
				return 2;
			}
			push(&c->sources, &c->n_sources, val);
		}
		else if (!strcmp(flag, "--set"))
			p->set_name = val;
		else if (!strcmp(flag, "-c") || !strcmp(flag, "--context"))
			p->context = val;
		else if (!strcmp(flag, "--kubeconfig"))
			p->kubeconfig = val;
		else if (!strcmp(flag, "-i") || !strcmp(flag, "--imagepullsecret"))
			push(&c->pull_secrets, &c->n_pull_secrets, val);
		else if (!strcmp(flag, "-o") || !strcmp(flag, "--output")) {
			if (sync_flags)
				sync_only = -1;
			c->out = val;
		} else if (!strcmp(flag, "--dry-run"))
			p->dry_run = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-prune"))
			p->no_prune = 1, sync_only = 1;
		else if (!strcmp(flag, "--force-apply"))
			p->force_apply = 1, sync_only = 1;
		else if (!strcmp(flag, "--adopt"))
			p->adopt = 1, sync_only = 1;
		else if (!strcmp(flag, "--take-over"))
			p->take_over = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-force-conflicts"))
			p->no_force_conflicts = 1, sync_only = 1;
		else if (!strcmp(flag, "--allow-empty"))
			p->allow_empty = 1, sync_only = 1;
		else if (!strcmp(flag, "--wait"))
			p->wait = 1, sync_only = 1;
		else if (!strcmp(flag, "--timeout")) {
			char *end;
			p->wait_timeout = strtod(val, &end);
			if (end == val || p->wait_timeout <= 0 || (*end && strcmp(end, "s"))) {
				fprintf(stderr, "appdeploy %s: --timeout wants seconds, e.g. 300 or 300s\n", argv[0]);
				cmd_opts_free(c);
				return 2;
			}
			sync_only = 1;
		} else if (!strcmp(flag, "--concurrency")) {
			p->concurrency = atoi(val);
			sync_only = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "appdeploy %s: unknown flag %s\n", argv[0], a);
			cmd_opts_free(c);
			return 2;
		} else if (!p->dir)
			p->dir = a;
		else {
			fprintf(stderr, "appdeploy %s: one DIR only (got \"%s\" and \"%s\")\n", argv[0], p->dir, a);
			cmd_opts_free(c);
			return 2;
		}
		if ((sync_only == 1 && !sync_flags) || sync_only == -1) {
			fprintf(stderr, "appdeploy %s: %s is not a flag of this command\n", argv[0], flag);
			cmd_opts_free(c);
			return 2;
		}
	}
	if (!p->dir) {
		fprintf(stderr, "appdeploy %s: which DIR? (usage: appdeploy %s DIR [flags])\n", argv[0], argv[0]);
		cmd_opts_free(c);
		return 2;
	}
	/* the arrays are complete: the pipeline's view of them */
	p->var_files = c->var_files, p->n_var_files = c->n_var_files;
	p->vars = c->vars, p->n_vars = c->n_vars;
	p->pull_secrets = c->pull_secrets, p->n_pull_secrets = c->n_pull_secrets;
	p->sources = c->sources, p->n_sources = c->n_sources;
	const char *ps = getenv("APPDEPLOY_PAGE_SIZE"); /* lets tests exercise pagination */
	if (ps && atoi(ps) > 0)
		p->page_size = atoi(ps);
	return 0;
}

int cmd_take_valued(int *argc, char **argv, const char *const *names, size_t n, const char **vals)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *val = NULL;
		size_t which = n;
		for (size_t k = 0; k < n && which == n; k++) {
			size_t l = strlen(names[k]);
			if (!strncmp(a, names[k], l) && (a[l] == 0 || a[l] == '=')) {
				which = k;
				val = a[l] == '=' ? a + l + 1 : NULL;
			}
		}
		if (which == n) {
			argv[out++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "appdeploy %s: %s needs a value\n", argv[0], names[which]);
				return 2;
			}
			val = argv[++i];
		}
		vals[which] = val;
	}
	*argc = out;
	return 0;
}
