/* cmd_serve.c — `appdeploy serve DIR`: the deploy dashboard and periodic re-sync, on one libev loop. */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "dashboard.h"
#include "duration.h"
#include "kubeconfig.h"
#include "log.h"
#include "pipeline.h"

#include "serve.h"

#define DEFAULT_LISTEN "127.0.0.1:8090"

int serve_take_flags(int *argc, char **argv, struct serve_flags *f)
{
	static const char *const names[] = {"--listen", "--interval", "--poll", "--token-file"};
	const char *vals[4] = {NULL};
	double *periods[] = {&f->interval, &f->poll};
	if (cmd_take_valued(argc, argv, names, 4, vals))
		return 2;
	if (vals[0])
		f->listen = vals[0];
	if (vals[3])
		f->token_file = vals[3];
	for (int i = 0; i < 2; i++) {
		const char *why = NULL;
		if (vals[1 + i] && (duration_parse(vals[1 + i], periods[i], &why) || *periods[i] <= 0)) {
			fprintf(stderr, "appdeploy %s: %s %s: %s\n", argv[0], names[1 + i], vals[1 + i],
				why ? why : "must be positive");
			return 2;
		}
	}
	return 0;
}

static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "appdeploy serve: --token-file %s: cannot read it\n", path);
		return NULL;
	}
	char buf[512] = "";
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\r\n")] = 0;
	if (!buf[0]) {
		fprintf(stderr, "appdeploy serve: --token-file %s is empty\n", path);
		return NULL;
	}
	return strdup(buf);
}

/* Prints seconds the way --interval takes them: "1h", "10s", "1m30s", "300ms". */
void serve_fmt_duration(double s, char *out, size_t outlen)
{
	long ms = (long)(s * 1000 + 0.5);
	if (ms % 1000 || ms < 1000) {
		snprintf(out, outlen, "%ldms", ms);
		return;
	}
	long t = ms / 1000, h = t / 3600, m = t / 60 % 60, sec = t % 60;
	size_t n = 0;
	out[0] = 0;
	if (h)
		n += (size_t)snprintf(out + n, outlen - n, "%ldh", h);
	if (m && n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "%ldm", m);
	if (sec && n < outlen)
		snprintf(out + n, outlen - n, "%lds", sec);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w, (void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int serve_run(const struct serve_run_cfg *sr)
{
	const struct serve_flags *f = sr->flags;
	/* not libev's default loop: that one reaps every child on SIGCHLD, and the worker threads wait
	 * for their own (exec credential plugins, the agent's git and tar) */
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "appdeploy %s: cannot start an event loop\n", sr->agent ? "agent" : "serve");
		return 1;
	}
	struct sm_error kerr;
	int rc = 0;
	signal(SIGPIPE, SIG_IGN);
	struct dashboard_cfg dc = {
		.loop = loop,
		.listen = f->listen,
		.token = sr->token,
		.context = sr->opts->context,
		.kubeconfig = sr->kubeconfig,
		.workers = {.kc = sr->kc,
			    .opts = sr->opts,
			    .ns = sr->ns,
			    .interval = f->interval,
			    .poll = f->poll,
			    .agent = sr->agent},
		.lease = sr->lease,
		.lease_arg = sr->lease_arg,
	};
	struct dashboard *d = dashboard_start(&dc, &kerr);
	if (!d) {
		fprintf(stderr, "appdeploy %s: %.1023s\n", sr->agent ? "agent" : "serve", kerr.msg);
		ev_loop_destroy(loop);
		return 1;
	}
	char host[256];
	snprintf(host, sizeof host, "%s", f->listen);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = 0;
	if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]"))
		snprintf(host, sizeof host, "localhost");
	char every[64];
	serve_fmt_duration(f->interval, every, sizeof every);
	log_info("dashboard for namespace %s on http://%s:%d/%s%s (re-reading %s every %s)", sr->ns, host,
		 dashboard_port(d), sr->token ? "?token=" : "", sr->token ? sr->token : "", sr->what, every);
	ev_signal sig_int, sig_term;
	ev_signal_init(&sig_int, stop_cb, SIGINT);
	ev_signal_init(&sig_term, stop_cb, SIGTERM);
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_term);
	ev_run(loop, 0);
	log_info("stopping");
	ev_signal_stop(loop, &sig_int);
	ev_signal_stop(loop, &sig_term);
	dashboard_stop(d);
	ev_loop_destroy(loop);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_flags f = {.listen = DEFAULT_LISTEN, .interval = 10, .poll = 1};
	const char *env_listen = getenv("APPDEPLOY_LISTEN");
	if (env_listen && *env_listen)
		f.listen = env_listen;
	int rc = serve_take_flags(&argc, argv, &f);
	if (rc)
		return rc;
	struct cmd_opts c;
	if ((rc = cmd_opts_parse(argc, argv, 1, &c)))
		return rc;
	if (c.pl.dry_run || c.pl.wait) {
		fprintf(stderr, "appdeploy serve: --dry-run and --wait are apply's flags, not serve's\n");
		cmd_opts_free(&c);
		return 2;
	}
	char *token = NULL;
	if (f.token_file && !(token = read_token(f.token_file))) {
		cmd_opts_free(&c);
		return 2;
	}
	struct kube_config kc;
	struct sm_error kerr;
	if (kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, &kerr)) {
		fprintf(stderr, "appdeploy serve: %s\n", kerr.msg);
		free(token);
		cmd_opts_free(&c);
		return 1;
	}
	/* The namespace is settled once, from the set as loaded (-n, the `namespace` variable, the
	 * context's, "default"); a set that does not load falls back to -n, the context's or "default"
	 * (the page shows the error). */
	struct pipeline_set ps;
	char *ns;
	if (pipeline_load(&c.pl, kc.namespace, &cmd_diag, &ps))
		ns = strdup(c.pl.ns ? c.pl.ns : kc.namespace ? kc.namespace : "default");
	else {
		ns = ps.ns;
		ps.ns = NULL;
		pipeline_set_clear(&ps);
	}

	/* the exec hint names the same file, wherever the developer pastes it */
	char *kc_abs = c.pl.kubeconfig ? realpath(c.pl.kubeconfig, NULL) : NULL;
	struct serve_run_cfg sr = {.flags = &f,
				   .token = token,
				   .kc = &kc,
				   .opts = &c.pl,
				   .ns = ns,
				   .what = c.pl.dir,
				   .kubeconfig = kc_abs ? kc_abs : c.pl.kubeconfig};
	rc = serve_run(&sr);
	free(ns);
	free(kc_abs);
	kubeconfig_free(&kc);
	free(token);
	cmd_opts_free(&c);
	return rc;
}
