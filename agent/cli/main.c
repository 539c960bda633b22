/* main.c — appdeploy's entry point: picks the subcommand and hands it the rest of argv; version and help. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "sprig.h"
#include "version.h"

#define SYNC_FLAGS                                                                                               \
	"  -n, --namespace NS        target namespace (default: the context's, else \"default\")\n"               \
	"  -c, --context NAME        kubeconfig context (default: current-context)\n"                            \
	"      --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)\n"       \
	"  -i, --imagepullsecret S   merge S into the default ServiceAccount's imagePullSecrets (repeatable)\n"   \
	"      --concurrency N       requests in flight (default 8)\n"
#define RENDER_FLAGS                                                                                             \
	"  -f, --values FILE         variables file (DIR/variables.yaml is read first; repeatable)\n"            \
	"  -v, --var KEY=VALUE       a variable (KEY:VALUE works too; repeatable; wins over files)\n"            \
	"      --set NAME            the set label (default: DIR's base name)\n"                                \
	"      --images FILE|URL     the CI image list, as .Images\n"                                           \
	"      --source NAME[=on|off|hostpath|sync] run service NAME from source (repeatable; sync: synced\n" \
	"                            source mode, filled by appdeploy dev)\n"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help; /* what --help prints after the usage line */
} commands[] = {
	{"template", cmd_template, "template FILE... [-f VARS.yaml]... [-v key=value]... [-n NS]",
	 "Executes template files as Go's text/template would, and prints the result.\n"
	 "  -f, --values FILE         variables (repeatable)\n"
	 "  -v, --set KEY=VALUE       a variable (repeatable)\n"
	 "  -n, --namespace NS        .Namespace\n"
	 "      --missingkey=error    a missing map key is an error (default: <no value>)\n"},
	{"render", cmd_render, "render DIR [-f variables.yaml] [-v key=value]... [-n NS] [-o OUTDIR|-]",
	 "Renders a manifest folder and prints the objects (or writes one file per object to OUTDIR).\n" RENDER_FLAGS
	 "  -n, --namespace NS        .Namespace\n"
	 "  -o, --output OUTDIR|-     where to write (default: stdout)\n"},
	{"diff", cmd_diff, "diff DIR [render flags] [--context C] [--kubeconfig F]",
	 "Shows what apply would change. Exit status 0: no changes, 1: changes, 2 or more: error.\n" RENDER_FLAGS
		 SYNC_FLAGS},
	{"apply", cmd_apply, "apply DIR [-n NS] [--context C] [--kubeconfig F] [--dry-run] [--no-prune] [--wait]",
	 "Renders DIR and makes the namespace match it (server-side apply, then prune of owned objects).\n" RENDER_FLAGS
		 SYNC_FLAGS "      --dry-run             ask the server, change nothing\n"
			    "      --no-prune            keep owned objects that are no longer rendered\n"
			    "      --force-apply         send unchanged objects too\n"
			    "      --wait                wait for Deployments, StatefulSets, DaemonSets, Jobs and objects with\n"
			    "                            a Ready condition to become ready\n"
			    "      --timeout SECONDS     for --wait and for CRDs to be established (default 300)\n"},
	{"serve", cmd_serve, "serve DIR [--listen ADDR] [--interval DUR]",
	 "The dashboard: switch services to source mode, redeploy, follow logs; re-syncs every interval.\n"
	 "      --listen ADDR         where to listen (default: $APPDEPLOY_LISTEN, else 127.0.0.1:8090)\n"
	 "      --interval DUR        between template/image re-reads and re-syncs (default 10s)\n"
	 "      --poll DUR            between cluster state polls (default 1s)\n"
	 "      --token-file FILE     require this bearer token\n"},
	{"agent", cmd_agent,
	 "agent -n NS --set-name NAME (--git URL [--git-ref REF] [--git-path P] | --bundle CONFIGMAP) [flags]",
	 "The deploy manager inside the cluster (appdeploy up installs it): fetches the configuration every\n"
	 "interval, applies the set into NS and its own set into the agent namespace; only the holder of\n"
	 "the Lease syncs. Serves the dashboard and GET /healthz.\n"
	 "      --agent-namespace NS2 its own namespace (default appdeploy-system)\n"
	 "      --git URL             the configuration's repository (cloned into $HOME, fetched every interval)\n"
	 "      --git-ref REF         branch, tag or commit (default main)\n"
	 "      --git-path P          the set's folder inside the repository (default: the root)\n"
	 "      --git-credentials F   a git-credential-store file (the only credentials git uses)\n"
	 "      --bundle CONFIGMAP    the set as ConfigMap NS2/CONFIGMAP (binaryData set.tar.gz, data digest)\n"
	 "      --images PATH         the image list, inside the configuration (or a URL)\n"
	 "      --listen ADDR         where to listen (default 0.0.0.0:8080)\n"
	 "      --interval DUR        between configuration fetches and re-syncs (default 60s)\n"
	 "      --poll DUR            between cluster state polls (default 1s)\n" RENDER_FLAGS},
	{"dev", cmd_dev, "dev SERVICE DIR [--local SRC] [--once] [render/apply flags]",
	 "Pushes the local source of SERVICE into its pod (synced source mode): one full sync, then one batch\n"
	 "per save, following the pod when it is replaced.\n"
	 "      --local SRC           the local source folder (default: the sourcemode.dev/local-source annotation)\n"
	 "      --once                sync once and exit\n" RENDER_FLAGS SYNC_FLAGS},
	{"up", cmd_up, "up DIR [-n NS] [--agent-namespace NS2] [--git-credentials FILE] [--detach]",
	 "Applies DIR as apply does, then installs the deploy agent in the cluster (namespace NS2, default\n"
	 "appdeploy-system): it fetches the configuration (DIR's git remote, else a bundle of DIR) every interval and\n"
	 "keeps the namespace in sync. Then serves the agent's dashboard on localhost until Ctrl-C.\n"
	 "  -n, --namespace NS        target namespace (default: the context's, else \"default\")\n"
	 "  -c, --context NAME        kubeconfig context (default: current-context)\n"
	 "      --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)\n"
	 "  -v, --var KEY=VALUE       a variable, passed on to the agent (repeatable)\n"
	 "      --set NAME            the set label (default: DIR's base name)\n"
	 "      --images FILE|URL     the CI image list (inside DIR's configuration, or a URL); its appdeploy key\n"
	 "                            is the agent's image\n"
	 "      --agent-namespace NS2 where the agent runs (default appdeploy-system; created when missing)\n"
	 "      --git-credentials FILE  git-credential-store lines for a private remote (kept in a Secret, never printed)\n"
	 "      --interval DUR        how often the agent fetches the configuration (default 60s)\n"
	 "      --listen ADDR         the local dashboard's address (default 127.0.0.1:8090)\n"
	 "      --detach              do not forward: print the kubectl proxy URL and exit\n"
	 "      --timeout SECONDS     for the agent to become ready (default 300)\n"},
	{"down", cmd_down, "down DIR [--agent-namespace NS2] [--all] [--yes]",
	 "Removes the deploy agent that up installed (its set, ConfigMaps, Secret, Lease, and its namespace when up\n"
	 "created it); --all also prunes DIR's set from the target namespace.\n"
	 "  -n, --namespace NS        target namespace (default: the context's, else \"default\")\n"
	 "  -c, --context NAME        kubeconfig context (default: current-context)\n"
	 "      --kubeconfig FILE     kubeconfig file\n"
	 "      --agent-namespace NS2 where the agent runs (default appdeploy-system)\n"
	 "      --all                 also delete every object of the set (through its inventory)\n"
	 "      --yes                 do not ask (needed without a terminal)\n"},
};

static int usage(FILE *out)
{
	fprintf(out, "usage:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  appdeploy %s\n", commands[i].usage);
	fprintf(out, "  appdeploy version\n\n`appdeploy COMMAND --help` describes a command's flags.\n");
	return out == stdout ? 0 : 2;
}

static int version(void)
{
	printf("appdeploy %s\n", APPDEPLOY_VERSION);
	return 0;
}

/* `appdeploy CMD --help`: the usage line and the flags. */
static int command_help(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(name, commands[i].name)) {
			printf("usage: appdeploy %s\n\n%s", commands[i].usage, commands[i].help);
			return 0;
		}
	fprintf(stderr, "appdeploy: unknown command \"%s\"\n", name);
	return usage(stderr);
}

/* True when --help or -h is among argv's flags (not the value of a flag that takes one, not after --). */
static int wants_help(int argc, char **argv)
{
	static const char *const with_value[] = {"-f", "--values", "-v", "--var", "-n", "--namespace", "-o",
						 "--output", "--set", "-c", "--context", "--kubeconfig", "-i",
						 "--imagepullsecret", "--timeout", "--concurrency", "--images", "--source",
						 "--listen", "--interval", "--poll", "--token-file", "--local",
						 "--agent-namespace", "--git-credentials", NULL};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		for (const char *const *w = with_value; *w; w++)
			if (!strcmp(argv[i], *w)) {
				i++;
				break;
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	log_init("appdeploy");
	/* Process-wide set-up before any thread starts: libcurl's global init (which initialises
	 * OpenSSL) is not thread-safe, so the kube client never does it lazily. */
	sprig_process_init(); /* dateInZone may switch TZ while the dashboard's threads read the environment */
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "appdeploy: cannot initialise libcurl\n");
		return 1;
	}
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "help") && argc > 2)
		return command_help(argv[2]);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
		return version();
	/* kube-appdeploy's form: flags and a folder, no subcommand, meant apply. */
	if (argv[1][0] == '-' && argv[1][1]) {
		static char apply[] = "apply";

		if (wants_help(argc, argv))
			return command_help("apply");
		argv[0] = apply;
		return cmd_apply(argc, argv);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			if (wants_help(argc - 1, argv + 1))
				return command_help(commands[i].name);
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "appdeploy: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
