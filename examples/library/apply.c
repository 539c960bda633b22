/* apply.c — libappdeploy example: applies DIR to its namespace and prints one line per object as it goes.
 *
 *   cc apply.c $(pkg-config --cflags --libs appdeploy) -o apply
 *   ./apply DIR [--kubeconfig FILE] [--context NAME] [--images FILE|URL] [-n NS] [--dry-run]
 */
#include <appdeploy.h>
#include <stdio.h>
#include <string.h>

/* The progress callback: object lines on stdout, as `appdeploy apply` prints them; problems on stderr. */
static void progress(void *arg, enum appdeploy_event kind, const char *line)
{
	unsigned *lines = arg;
	if (kind == APPDEPLOY_PROGRESS) {
		printf("%s\n", line);
		++*lines;
	} else
		fprintf(stderr, "apply: %s: %s\n", kind == APPDEPLOY_WARNING ? "warning" : "error", line);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [--kubeconfig FILE] [--context NAME] [--images FILE] [-n NS] [--dry-run]\n",
			argv[0]);
		return 2;
	}
	if (appdeploy_global_init()) {
		fprintf(stderr, "apply: libcurl did not start\n");
		return 1;
	}
	appdeploy_set *s = appdeploy_set_new(argv[1]);
	appdeploy_apply_opts opts = {0}; /* zero: the CLI's defaults */
	const char *kubeconfig = NULL, *context = NULL;
	for (int i = 2; s && i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--dry-run"))
			opts.dry_run = 1;
		else if (v && !strcmp(a, "--kubeconfig"))
			kubeconfig = v, i++;
		else if (v && !strcmp(a, "--context"))
			context = v, i++;
		else if (v && !strcmp(a, "--images"))
			appdeploy_set_images(s, v), i++;
		else if (v && !strcmp(a, "-n"))
			appdeploy_set_namespace(s, v), i++;
		else {
			fprintf(stderr, "apply: unknown flag %s\n", a);
			appdeploy_set_free(s);
			appdeploy_global_cleanup();
			return 2;
		}
	}
	if (s)
		appdeploy_set_cluster(s, kubeconfig, context);
	unsigned lines = 0;
	appdeploy_error *err = NULL;
	int rc = s && !appdeploy_apply(s, &opts, progress, &lines, &err) ? 0 : 1;
	fflush(stdout);
	if (rc)
		fprintf(stderr, "apply: %s\n", err ? err->message : "out of memory");
	appdeploy_error_free(err);
	appdeploy_set_free(s);
	appdeploy_global_cleanup();
	return rc;
}
