/* chart.h — Helm charts: loading (chart_load.c), values (chart_values.c) and `helm template`-exact rendering (chart_render.c).
 *
 * Layer agent/chart: Helm's chart model and engine (values, schema, Helm's own template functions
 * over sprig's). May call: agent/sprig, agent/template, common/. */
#ifndef SM_CHART_H
#define SM_CHART_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

/* One file of a chart; name is relative to the chart's root ("templates/x.yaml"). */
struct chart_file {
	char *name;
	char *data;
	size_t len;
};

struct chart {
	char *name;      /* metadata name, the alias once dependencies are processed */
	json_t *meta;    /* Chart.yaml with Go's field names (Name, Version, AppVersion, Dependencies ...) */
	json_t *values;  /* values.yaml (float64 numbers, as Helm reads them); an object */
	char *schema;    /* values.schema.json text or NULL */
	size_t schemalen;
	struct chart_file *templates; /* templates/..., in path order */
	size_t ntemplates;
	struct chart_file *files; /* everything else but Chart.yaml, values.yaml, schema, charts/ (the .Files) */
	size_t nfiles;
	struct chart **deps; /* charts/ subcharts */
	size_t ndeps;
	struct chart *parent;
};

/* Loads a chart folder or packaged .tgz. NULL with err filled (Helm's wording). Free with chart_free. */
struct chart *chart_load(const char *path, struct sm_error *err);
/* Loads a chart from files already read (names relative to the chart root); takes nothing from files. */
struct chart *chart_load_files(struct chart_file *files, size_t n, struct sm_error *err);
void chart_free(struct chart *c);
/* "PREFIX: error converting YAML to JSON: yaml: [line N: ]MSG" as sigs.k8s.io/yaml + yaml.v2 word a syntax error. */
void chart_yaml_error(struct sm_error *err, const char *prefix, const struct sm_error *ye);
/* "parent/charts/child" (Helm's ChartFullPath) into buf. */
void chart_full_path(const struct chart *c, char *buf, size_t n);
int chart_is_library(const struct chart *c);

/* ---- values (chart_values.c) ---- */

/* Helm's mergeMaps (-f files, left to right): returns a new object. */
json_t *chart_merge_maps(json_t *a, json_t *b);
/* Applies one --set (as_string: --set-string) assignment "a.b[0]=x,c=y" to vals (strvals). -1 with err. */
int chart_strvals(json_t *vals, const char *assignment, int as_string, struct sm_error *err);
/* Helm's ProcessDependenciesWithMerge: conditions, tags, aliases, import-values (changes the chart tree). */
int chart_process_dependencies(struct chart *c, json_t *vals, struct sm_error *err);
/* Helm's CoalesceValues: a new object of the chart's values under the user's (null deletes). */
json_t *chart_coalesce(struct chart *c, json_t *vals, struct sm_error *err);
/* Numbers read from values files become float64 (reals), as Helm's JSON round trip makes them. */
void chart_floatify(json_t *v);
/* Validates values against the values.schema.json of c and its subcharts. 0, or -1 with err as Helm's. */
int chart_validate_schema(struct chart *c, json_t *vals, struct sm_error *err);

/* ---- rendering (chart_render.c) ---- */

struct chart_opts {
	const char *release;      /* default "release-name" */
	const char *namespace_;   /* default "default" */
	const char *kube_version; /* default v1.32.0 (Helm 3.17's) */
	const char **api_versions;
	size_t napi_versions;
	json_t *values; /* user values (merged -f/--set), borrowed */
	/* Helm's log lines (an unknown hook skipped ...), each without its newline; NULL: dropped */
	void (*warn)(void *ctx, const char *line);
	void *warn_ctx;
};

/* Renders like `helm template`: on success 0 and *out is malloc'd output of *outlen bytes;
 * -1 and err filled with Helm's message (without the "Error: " prefix), -2 for an error of the
 * rendering itself (Helm then adds "Use --debug flag to render out invalid YAML"). */
int chart_template(struct chart *c, const struct chart_opts *o, char **out, size_t *outlen, struct sm_error *err);

/* Helm's function map into a template set (helm_funcs.c): sprig's functions, then Helm's (include,
 * tpl, required, toYaml, fromYaml, fromYamlArray, lookup). Sets, charts and `appdeploy template`
 * all render with it. Returns 0, or -1. */
struct tmpl_set;
int helm_install_funcs(struct tmpl_set *set);

#endif
