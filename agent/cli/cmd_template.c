/* cmd_template.c — `appdeploy template FILE...`: executes template files verbatim with render's data, for debugging templates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "commands.h"
#include "slurp.h"
#include "tmpl.h"
#include "vars.h"
#include "yamlval.h"

static int usage(void)
{
	fprintf(stderr, "usage: appdeploy template FILE... [-f VARS.yaml]... [-v key=value]... [-n NS] "
			"[-i SECRET]... [--images FILE] [--source NAME[=on|off]]... [--missingkey=error]\n");
	return 2;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int cmd_template(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--chart"))
			return cmd_template_chart(argc, argv); /* Helm chart mode (chart_cmd.c) */
	const char **files = calloc((size_t)argc, sizeof *files);
	const char **vfiles = calloc((size_t)argc, sizeof *vfiles);
	const char **sets = calloc((size_t)argc, sizeof *sets);
	const char **secrets = calloc((size_t)argc, sizeof *secrets);
	if (!files || !vfiles || !sets || !secrets)
		abort();
	const char **sources = calloc((size_t)argc, sizeof *sources); /* source mode (#6): --source */
	if (!sources)
		abort();
	const char *images_file = NULL;
	json_t *images = NULL;
	size_t nfiles = 0, nvfiles = 0, nsets = 0, nsecrets = 0, nsources = 0;
	const char *ns = NULL;
	int missing_error = 0, rc = 1;
	struct tmpl_set *set = NULL;
	json_t *data = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "-f") || !strcmp(a, "-v") || !strcmp(a, "-n") || !strcmp(a, "-i") ||
		    !strcmp(a, "--values") || !strcmp(a, "--set") || !strcmp(a, "--namespace") ||
		    !strcmp(a, "--imagepullsecret")) {
			if (i + 1 >= argc) {
				rc = usage();
				goto out;
			}
			val = argv[++i];
			char c = a[1] == '-' ? (a[2] == 'v' ? 'f' : a[2] == 's' ? 'v' : a[2] == 'n' ? 'n' : 'i') : a[1];
			if (c == 'f')
				vfiles[nvfiles++] = val;
			else if (c == 'v')
				sets[nsets++] = val;
			else if (c == 'n')
				ns = val;
			else
				secrets[nsecrets++] = val;
		} else if ((!strcmp(a, "--source") || !strcmp(a, "--images")) && i + 1 < argc) {
			/* source mode (#6): .Source and .Images as render has them */
			if (a[2] == 's')
				sources[nsources++] = argv[++i];
			else
				images_file = argv[++i];
		} else if (!strcmp(a, "--missingkey=error")) {
			missing_error = 1;
		} else if (!strcmp(a, "--missingkey=default") || !strcmp(a, "--missingkey=invalid")) {
			missing_error = 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			rc = 0;
			goto out;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "appdeploy template: unknown flag %s\n", a);
			rc = usage();
			goto out;
		} else {
			files[nfiles++] = a;
		}
	}
	if (!nfiles) {
		rc = usage();
		goto out;
	}
	struct sm_error err;
	if (images_file) {
		struct sm_error ye = {0};
		json_t *docs = yv_load_file(images_file, 1, NULL, &ye);
		if (!docs) {
			fprintf(stderr, "appdeploy template: %s:%d:%d: %s\n", images_file, ye.line, ye.col,
				sm_error_what(&ye));
			goto out;
		}
		images = json_incref(json_array_get(docs, 0));
		json_decref(docs);
	}
	json_t *source = json_object(); /* the state --source builds; vars_build makes .Source and .SourceMode of it */
	for (size_t i = 0; i < nsources; i++)
		if (vars_source_set(source, sources[i], &err)) {
			fprintf(stderr, "appdeploy template: --source %s\n", err.msg);
			json_decref(source);
			rc = 2;
			goto out;
		}
	struct vars_opts vo = {.files = vfiles, .nfiles = nvfiles, .sets = sets, .nsets = nsets, .namespace_ = ns,
			       .pull_secrets = secrets, .npull_secrets = nsecrets, .images = images, .source = source};
	data = vars_build(&vo, &err);
	json_decref(source);
	if (!data) {
		fprintf(stderr, "appdeploy template: %s\n", err.msg);
		goto out;
	}
	set = tmpl_set_new();
	helm_install_funcs(set);
	tmpl_set_missingkey_error(set, missing_error);
	struct sm_error te;
	for (size_t i = 0; i < nfiles; i++) {
		size_t len;
		char *text = slurp(files[i], 0, &len);
		if (!text) {
			fprintf(stderr, "appdeploy template: cannot read %s: %m\n", files[i]);
			goto out;
		}
		int prc = tmpl_parse(set, base_name(files[i]), text, len, &te);
		free(text);
		if (prc) {
			fprintf(stderr, "%s\n", te.msg);
			goto out;
		}
	}
	for (size_t i = 0; i < nfiles; i++) {
		const char *name = base_name(files[i]);
		if (name[0] == '_')
			continue; /* helpers only define templates */
		char *out;
		size_t outlen;
		if (tmpl_execute(set, name, data, &out, &outlen, &te)) {
			fflush(stdout);
			fprintf(stderr, "%s\n", te.msg);
			goto out;
		}
		fwrite(out, 1, outlen, stdout);
		free(out);
	}
	rc = fflush(stdout) ? 1 : 0;
out:
	tmpl_set_free(set);
	json_decref(data);
	free(files);
	free(vfiles);
	free(sets);
	free(secrets);
	free(sources);
	json_decref(images);
	return rc;
}
