/* serve.h — what `appdeploy serve` and `appdeploy agent` share (cmd_serve.c): the dashboard's flags and its event loop. */
#ifndef SM_SERVE_H
#define SM_SERVE_H

#include <jansson.h>
#include <stddef.h>

#include "kubeconfig.h"
#include "pipeline.h"
#include "workers.h"

struct serve_flags {
	const char *listen;     /* --listen HOST:PORT */
	double interval;        /* --interval: template/image re-read period */
	double poll;            /* --poll: cluster state poll period */
	const char *token_file; /* --token-file: access token */
};

/* Takes the dashboard's flags (--listen, --interval, --poll, --token-file) out of argv (argv[0] is the
 * subcommand, for messages); the rest stay for cmd_opts_parse. Returns 0, or 2 after a usage message. */
int serve_take_flags(int *argc, char **argv, struct serve_flags *f);

/* Prints seconds the way --interval takes them: "1h", "10s", "1m30s", "300ms". */
void serve_fmt_duration(double s, char *out, size_t outlen);

struct serve_run_cfg {
	const struct serve_flags *flags;
	const char *token; /* access token, or NULL */
	const struct kube_config *kc;
	const struct pipeline_opts *opts;
	const char *ns;                    /* the namespace served */
	const char *what;                  /* what is re-read, for the log line (DIR) */
	const char *kubeconfig;            /* for the page's exec hint, or NULL */
	const struct workers_agent *agent; /* the agent's hooks (NULL: serve) */
	json_t *(*lease)(void *arg);       /* the agent's Lease for the page (NULL: serve) */
	void *lease_arg;
};

/* Starts the dashboard and its workers, runs the loop until SIGINT or SIGTERM, stops everything.
 * Returns the exit status (1 when the dashboard could not start). */
int serve_run(const struct serve_run_cfg *sr);

#endif
