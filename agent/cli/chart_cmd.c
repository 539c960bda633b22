/* chart_cmd.c — `appdeploy template --chart CHART ...`: the command line of `helm template` (values, release, capabilities). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "commands.h"
#include "yamlval.h"

static int usage(void)
{
	fprintf(stderr, "usage: appdeploy template --chart CHART [--name RELEASE] [-n NS] [-f VALUES]... [--set k=v]... "
			"[--set-string k=v]... [--kube-version V] [--api-versions G/V]...\n");
	return 2;
}

/* A values file as Helm reads it (-f): a map, numbers as float64. */
static json_t *values_file(const char *path, struct sm_error *err)
{
	struct sm_error ye = {0};
	json_t *docs = yv_load_file(path, 1, NULL, &ye);
	if (!docs) {
		char prefix[4200];
		snprintf(prefix, sizeof prefix, "failed to parse %s", path);
		chart_yaml_error(err, prefix, &ye);
		return NULL;
	}
	json_t *d = json_array_get(docs, 0);
	if (d && !json_is_object(d) && !json_is_null(d)) {
		sm_error_set(err, NULL, 0, 0,
			 "failed to parse %s: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go "
			 "value of type map[string]interface {}",
			 path, json_is_array(d) ? "array" : json_is_string(d) ? "string" : json_is_boolean(d) ? "bool" : "number");
		json_decref(docs);
		return NULL;
	}
	json_t *v = json_is_object(d) ? json_incref(d) : json_object();
	json_decref(docs);
	chart_floatify(v);
	return v;
}

static void warn_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

int cmd_template_chart(int argc, char **argv)
{
	struct chart_opts o = {0};
	const char *chart_path = NULL;
	const char **apis = calloc((size_t)argc + 1, sizeof *apis);
	if (!apis)
		abort();
	json_t *vals = json_object();
	struct sm_error err;
	int rc = 1;
	struct chart *c = NULL;
	char *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int takes = !strcmp(a, "--chart") || !strcmp(a, "--name") || !strcmp(a, "-n") || !strcmp(a, "--namespace") ||
			    !strcmp(a, "-f") || !strcmp(a, "--values") || !strcmp(a, "--set") || !strcmp(a, "--set-string") ||
			    !strcmp(a, "--kube-version") || !strcmp(a, "--api-versions") || !strcmp(a, "-a");
		if (!takes) {
			if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
				usage();
				rc = 0;
			} else {
				fprintf(stderr, "appdeploy template: unknown flag or argument %s in chart mode\n", a);
				rc = usage();
			}
			goto out;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "appdeploy template: %s needs a value\n", a);
			rc = usage();
			goto out;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--chart")) {
			chart_path = v;
		} else if (!strcmp(a, "--name")) {
			o.release = v;
		} else if (a[1] == 'n' || !strcmp(a, "--namespace")) {
			o.namespace_ = v;
		} else if (a[1] == 'f' || !strcmp(a, "--values")) {
			json_t *fv = values_file(v, &err);
			if (!fv) {
				fprintf(stderr, "Error: %s\n", err.msg);
				goto out;
			}
			json_t *m = chart_merge_maps(vals, fv);
			json_decref(fv);
			json_decref(vals);
			vals = m;
		} else if (!strcmp(a, "--set") || !strcmp(a, "--set-string")) {
			if (chart_strvals(vals, v, a[5] == '-', &err)) {
				fprintf(stderr, "Error: failed parsing %s data: %s\n", a, err.msg);
				goto out;
			}
		} else if (!strcmp(a, "--kube-version")) {
			o.kube_version = v;
		} else {
			/* --api-versions takes a comma-separated list too */
			apis[o.napi_versions++] = v;
		}
	}
	if (!chart_path) {
		rc = usage();
		goto out;
	}
	c = chart_load(chart_path, &err);
	if (!c) {
		fprintf(stderr, "Error: %s\n", err.msg);
		goto out;
	}
	o.api_versions = apis;
	o.warn = warn_stderr;
	o.values = vals;
	size_t len;
	int trc = chart_template(c, &o, &out, &len, &err);
	if (trc) {
		fprintf(stderr, "Error: %s\n%s", err.msg, trc == -2 ? "\nUse --debug flag to render out invalid YAML\n" : "");
		goto out;
	}
	fwrite(out, 1, len, stdout);
	rc = fflush(stdout) ? 1 : 0;
out:
	free(out);
	chart_free(c);
	json_decref(vals);
	free(apis);
	return rc;
}
