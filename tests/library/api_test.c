/* api_test.c — libappdeploy's public API tested from outside (appdeploy.h only): errors with positions, ownership, user functions, threads.
 *
 * Built by tests/integration/test_library.py against the installed library (pkg-config), never
 * against the source tree. Usage: api_test SCRATCH_DIR [KUBECONFIG]; with a kubeconfig (the
 * test's fakekube) diff and apply run too. Exit 0 when every case passed, 1 otherwise; run under
 * ASan/LSan by the sanitizer suite, so every pointer the library returns must be freed here.
 */
#include <appdeploy.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			failures++;                                                                                    \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                          \
			fprintf(stderr, __VA_ARGS__);                                                                  \
			fputc('\n', stderr);                                                                           \
		}                                                                                                      \
	} while (0)

static const char *root;

struct file {
	const char *path; /* relative to the case's folder */
	const char *text;
};

/* Writes files under ROOT/name (creating it) and returns the folder (malloc'd). */
static char *make_dir(const char *name, const struct file *files)
{
	char *dir;
	if (asprintf(&dir, "%s/%s", root, name) < 0)
		abort();
	if (mkdir(dir, 0777) && errno != EEXIST)
		abort();
	for (; files && files->path; files++) {
		char *p;
		if (asprintf(&p, "%s/%s", dir, files->path) < 0)
			abort();
		char *slash = strrchr(p, '/');
		if (slash > p + strlen(dir)) { /* a file in a subfolder: make it first */
			*slash = 0;
			if (mkdir(p, 0777) && errno != EEXIST)
				abort();
			*slash = '/';
		}
		FILE *f = fopen(p, "w");
		if (!f || fputs(files->text, f) < 0 || fclose(f))
			abort();
		free(p);
	}
	return dir;
}

static int eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* ---- user template functions ---- */

/* shout "x": the string in capitals. Arguments come as JSON text: "\"x\"". */
static char *fn_shout(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)arg;
	size_t n = argc ? strlen(argv[0]) : 0;
	if (argc != 1 || n < 2 || argv[0][0] != '"') {
		*error = strdup("shout wants one string");
		return NULL;
	}
	char *out = strdup(argv[0]);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return out;
}

/* count ARGS...: how many arguments came (a JSON number). */
static char *fn_count(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)arg, (void)argv, (void)error;
	char *out;
	if (asprintf(&out, "%zu", argc) < 0)
		return NULL;
	return out;
}

/* fail: always an error. */
static char *fn_fail(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)arg, (void)argc, (void)argv;
	*error = strdup("boom");
	return NULL;
}

/* notjson: a result that is not JSON. */
static char *fn_notjson(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)arg, (void)argc, (void)argv, (void)error;
	return strdup("{nope");
}

/* who: the name its arg points to, as a JSON string (each thread's set has its own). */
static char *fn_who(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)argc, (void)argv, (void)error;
	char *out;
	if (asprintf(&out, "\"%s\"", (const char *)arg) < 0)
		return NULL;
	return out;
}

/* upper, overriding sprig's: a user function wins over a built-in of the same name. */
static char *fn_upper(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)arg, (void)argc, (void)argv, (void)error;
	return strdup("\"mine\"");
}

static void add_funcs(appdeploy_set *s)
{
	CHECK(!appdeploy_set_func(s, "shout", fn_shout, NULL), "set_func shout");
	CHECK(!appdeploy_set_func(s, "count", fn_count, NULL), "set_func count");
	CHECK(!appdeploy_set_func(s, "fail", fn_fail, NULL), "set_func fail");
	CHECK(!appdeploy_set_func(s, "notjson", fn_notjson, NULL), "set_func notjson");
	CHECK(!appdeploy_set_func(s, "upper", fn_upper, NULL), "set_func upper");
	CHECK(appdeploy_set_func(s, "", fn_fail, NULL) == -1, "set_func with an empty name is refused");
	CHECK(appdeploy_set_func(s, "x", NULL, NULL) == -1, "set_func without a function is refused");
}

#define CM(name_expr) "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " name_expr "\n"

/* ---- table 1: renders that fail, and where ---- */

static const struct err_case {
	const char *name;
	struct file files[3];
	const char *message; /* exact; "%s" is the case's folder */
	const char *file;    /* exact; "%s" is the case's folder; NULL: no position */
	int line, col;
} err_cases[] = {
	{"parse", {{"a.yaml", CM("{{ .Variables.name")}, {0}},
	 "template: a.yaml:5: unclosed action started at a.yaml:4", "a.yaml", 5, 0},
	{"exec", {{"a.yaml", CM("{{ .Variables.missing }}")}, {0}},
	 "template: a.yaml:4:21: executing \"a.yaml\" at <.Variables.missing>: map has no entry for key \"missing\"",
	 "a.yaml", 4, 21},
	{"yaml", {{"a.yaml", CM("x") " data: [\n"}, {0}},
	 "%s/a.yaml:5:2: rendered output is not valid YAML: did not find expected key while parsing a block mapping",
	 "%s/a.yaml", 5, 2},
	{"kind", {{"a.yaml", "apiVersion: v1\nmetadata:\n  name: x\n"}, {0}},
	 "%s/a.yaml:1:1: rendered document 1: kind is missing", "%s/a.yaml", 1, 1},
	{"vars", {{"a.yaml", CM("x")}, {"variables.yaml", "a: 1\nb: [\n"}, {0}},
	 "%s/variables.yaml:3:1: did not find expected node content while parsing a flow node", "%s/variables.yaml", 3, 1},
	{"user-func-error", {{"a.yaml", CM("{{ fail }}")}, {0}},
	 "template: a.yaml:4:11: executing \"a.yaml\" at <fail>: error calling fail: boom", "a.yaml", 4, 11},
	{"user-func-not-json", {{"a.yaml", CM("{{ notjson }}")}, {0}},
	 "template: a.yaml:4:11: executing \"a.yaml\" at <notjson>: error calling notjson: the function's result is not "
	 "JSON: string or '}' expected near 'nope'",
	 "a.yaml", 4, 11},
	{"no-templates", {{"README", "nothing here\n"}, {0}}, "%s: no manifest templates (*.yaml, *.yml) found", NULL, 0,
	 0},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		const struct err_case *c = &err_cases[i];
		char *dir = make_dir(c->name, c->files), *want_msg, *want_file = NULL;
		if (asprintf(&want_msg, c->message, dir) < 0 || (c->file && asprintf(&want_file, c->file, dir) < 0))
			abort();
		appdeploy_set *s = appdeploy_set_new(dir);
		add_funcs(s);
		appdeploy_error *err = (appdeploy_error *)1; /* must be overwritten */
		appdeploy_objects *o = appdeploy_render(s, &err);
		CHECK(!o, "%s: rendered", c->name);
		CHECK(err && err != (appdeploy_error *)1, "%s: no error", c->name);
		if (err && err != (appdeploy_error *)1) {
			CHECK(eq(err->message, want_msg), "%s: message\n  got  %s\n  want %s", c->name, err->message, want_msg);
			CHECK(eq(err->file, want_file), "%s: file %s, want %s", c->name, err->file ? err->file : "(null)",
			      want_file ? want_file : "(null)");
			CHECK(err->line == c->line && err->col == c->col, "%s: at %d:%d, want %d:%d", c->name, err->line, err->col,
			      c->line, c->col);
			appdeploy_error_free(err);
		}
		appdeploy_objects_free(o);
		appdeploy_set_free(s);
		free(want_msg);
		free(want_file);
		free(dir);
	}
}

/* ---- table 2: renders that work ---- */

static const struct ok_case {
	const char *name;
	struct file files[3];
	const char *values[3]; /* appdeploy_set_value, NULL-terminated */
	size_t count;          /* objects */
	const char *yaml0;     /* object 0 as YAML, exact */
	const char *source0;
} ok_cases[] = {
	{"plain", {{"a.yaml", CM("web")}, {0}}, {NULL}, 1,
	 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    appdeploy.sourcemode.dev/source: a.yaml\n"
	 "  labels:\n    app.kubernetes.io/managed-by: appdeploy\n    appdeploy.sourcemode.dev/set: plain\n  name: web\n",
	 "a.yaml"},
	{"user-func", {{"a.yaml", CM("{{ shout \"web\" }}-{{ count 1 \"x\" .Namespace }}-{{ upper \"x\" }}")}, {0}}, {NULL},
	 1,
	 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    appdeploy.sourcemode.dev/source: a.yaml\n"
	 "  labels:\n    app.kubernetes.io/managed-by: appdeploy\n    appdeploy.sourcemode.dev/set: user-func\n  name: WEB-3-mine\n",
	 "a.yaml"},
	{"values", {{"sub/b.yaml", CM("{{ .Variables.n }}-{{ .Variables.a.b }}")}, {"variables.yaml", "n: from-file\n"}},
	 {"a.b=7", NULL}, 1,
	 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    appdeploy.sourcemode.dev/source: sub/b.yaml\n"
	 "  labels:\n    app.kubernetes.io/managed-by: appdeploy\n    appdeploy.sourcemode.dev/set: values\n  name: from-file-7\n",
	 "sub/b.yaml"},
	{"empty", {{"a.yaml", "{{ if false }}x: 1{{ end }}\n"}, {0}}, {NULL}, 0, NULL, NULL},
};

static void test_renders(void)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];
		char *dir = make_dir(c->name, c->files);
		appdeploy_set *s = appdeploy_set_new(dir);
		add_funcs(s);
		CHECK(!appdeploy_set_namespace(s, "ns1"), "set_namespace");
		for (size_t j = 0; c->values[j]; j++)
			CHECK(!appdeploy_set_value(s, c->values[j], NULL), "%s: set_value %s", c->name, c->values[j]);
		appdeploy_error *err = NULL;
		appdeploy_objects *o = appdeploy_render(s, &err);
		CHECK(o && !err, "%s: %s", c->name, err ? err->message : "no objects");
		if (o) {
			CHECK(appdeploy_objects_count(o) == c->count, "%s: %zu objects, want %zu", c->name,
			      appdeploy_objects_count(o), c->count);
			CHECK(eq(appdeploy_objects_namespace(o), "ns1"), "%s: namespace %s", c->name, appdeploy_objects_namespace(o));
			if (c->count) {
				CHECK(eq(appdeploy_objects_yaml(o, 0), c->yaml0), "%s: yaml\n%s", c->name, appdeploy_objects_yaml(o, 0));
				CHECK(eq(appdeploy_objects_source(o, 0), c->source0), "%s: source %s", c->name,
				      appdeploy_objects_source(o, 0));
				const char *json = appdeploy_objects_json(o, 0);
				CHECK(json && json[0] == '{' && strstr(json, "\"kind\": \"ConfigMap\""), "%s: json %s", c->name,
				      json ? json : "(null)");
			}
			CHECK(!appdeploy_objects_yaml(o, c->count) && !appdeploy_objects_json(o, c->count) &&
				      !appdeploy_objects_source(o, c->count),
			      "%s: out of range is NULL", c->name);
			char *stream = appdeploy_objects_stream(o), *want = NULL;
			if (c->count && asprintf(&want, "---\n# Source: %s\n%s", c->source0, c->yaml0) < 0)
				abort();
			CHECK(stream && eq(stream, c->count ? want : ""), "%s: stream\n%s", c->name, stream ? stream : "(null)");
			free(want);
			appdeploy_free(stream);
		}
		appdeploy_error_free(err);
		appdeploy_objects_free(o);
		appdeploy_set_free(s);
		free(dir);
	}
}

/* ---- table 3: values the setters refuse ---- */

static void test_setters(void)
{
	static const struct {
		int source; /* 0: appdeploy_set_value, 1: appdeploy_set_source */
		const char *arg;
		const char *message;
	} cases[] = {
		{0, "novalue", "bad variable \"novalue\": want key=value"},
		{0, "=1", "bad variable \"=1\": want key=value"},
		{1, "web=maybe", "--source \"web=maybe\": want NAME, NAME=on, NAME=off, NAME=hostpath or NAME=sync"},
	};
	appdeploy_set *s = appdeploy_set_new(root);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		appdeploy_error *err = NULL;
		int rc = cases[i].source ? appdeploy_set_source(s, cases[i].arg, &err) : appdeploy_set_value(s, cases[i].arg, &err);
		CHECK(rc == -1 && err, "%s: accepted", cases[i].arg);
		if (err) {
			CHECK(eq(err->message, cases[i].message), "%s: message %s", cases[i].arg, err->message);
			CHECK(!err->file && !err->line, "%s: a position", cases[i].arg);
		}
		appdeploy_error_free(err);
		/* without err: the same refusal, nothing to free */
		rc = cases[i].source ? appdeploy_set_source(s, cases[i].arg, NULL) : appdeploy_set_value(s, cases[i].arg, NULL);
		CHECK(rc == -1, "%s: accepted without err", cases[i].arg);
	}
	appdeploy_set_free(s);
	/* NULL is fine for every free function */
	appdeploy_set_free(NULL);
	appdeploy_objects_free(NULL);
	appdeploy_error_free(NULL);
	appdeploy_free(NULL);
	CHECK(!strncmp(appdeploy_version(), "0.", 2), "version %s", appdeploy_version());
}

/* ---- two handles, two threads ---- */

struct worker {
	const char *who;
	char *dir;
	char *first; /* the first render's stream */
	int bad;
};

static void *render_loop(void *arg)
{
	struct worker *w = arg;
	appdeploy_set *s = appdeploy_set_new(w->dir);
	appdeploy_set_func(s, "who", fn_who, (void *)w->who);
	for (int i = 0; i < 25; i++) {
		appdeploy_objects *o = appdeploy_render(s, NULL);
		char *stream = o ? appdeploy_objects_stream(o) : NULL;
		if (!stream)
			w->bad++;
		else if (!w->first)
			w->first = stream, stream = NULL;
		else if (strcmp(stream, w->first))
			w->bad++;
		appdeploy_free(stream);
		appdeploy_objects_free(o);
	}
	appdeploy_set_free(s);
	return NULL;
}

static void test_threads(void)
{
	/* each thread's set names a different time zone: dateInZone switches the process's TZ, which
	 * the library must serialise */
	static const struct {
		const char *who, *zone, *want;
	} t[2] = {{"alpha", "Asia/Tokyo", "1970-01-01 09:00"}, {"beta", "America/New_York", "1969-12-31 19:00"}};
	struct worker w[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		char text[512], name[64];
		snprintf(text, sizeof text,
			 CM("{{ who }}") "data:\n  n: {{ .Namespace | quote }}\n  s: {{ sha256sum (who) }}\n"
					 "  t: {{ dateInZone \"2006-01-02 15:04\" 0 \"%s\" | quote }}\n"
			 "  u: {{ range until 40 }}{{ dateInZone \"15:04 \" 0 \"%s\" }}{{ end }}\n",
			 t[i].zone, t[i].zone);
		const struct file files[] = {{"a.yaml", text}, {0}};
		snprintf(name, sizeof name, "thread-%s", t[i].who);
		w[i] = (struct worker){t[i].who, make_dir(name, files), NULL, 0};
	}
	for (int i = 0; i < 2; i++)
		CHECK(!pthread_create(&th[i], NULL, render_loop, &w[i]), "pthread_create");
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		char want_name[32], want_t[64];
		snprintf(want_name, sizeof want_name, "name: %s\n", t[i].who);
		snprintf(want_t, sizeof want_t, "t: \"%s\"\n", t[i].want);
		CHECK(!w[i].bad, "thread %s: %d renders failed or differed", w[i].who, w[i].bad);
		CHECK(w[i].first && strstr(w[i].first, want_name) && strstr(w[i].first, want_t), "thread %s rendered %s",
		      w[i].who, w[i].first ? w[i].first : "(nothing)");
		free(w[i].first);
		free(w[i].dir);
	}
}

/* ---- diff and apply against a cluster (the test's fakekube) ---- */

struct lines {
	int progress, warnings, errors;
	char last[512];
};

static void count_lines(void *arg, enum appdeploy_event kind, const char *line)
{
	struct lines *l = arg;
	if (kind == APPDEPLOY_PROGRESS)
		l->progress++;
	else if (kind == APPDEPLOY_WARNING)
		l->warnings++;
	else
		l->errors++;
	snprintf(l->last, sizeof l->last, "%s", line);
}

/* tick: counts its calls (one per render of the template that calls it) and returns "x". */
static char *fn_tick(void *arg, size_t argc, const char *const *argv, char **error)
{
	(void)argc, (void)argv, (void)error;
	++*(int *)arg;
	return strdup("\"x\"");
}

/* The namespace "api" holds a saved source mode (web: true, made by test_library.py): apply and
 * diff render once, with it. */
static void test_cluster(const char *kubeconfig)
{
	static const struct file good[] = {
		{"a.yaml", CM("api-web") "data:\n  k: {{ tick }}\n  mode: {{ if index .Source \"web\" }}source{{ else }}ci{{ end }}\n"},
		{0}};
	static const struct file broken[] = {{"a.yaml", CM("{{ .Variables.nope }}")}, {0}};
	char *dir = make_dir("api-apply", good), *bad = make_dir("api-broken", broken);
	appdeploy_set *s = appdeploy_set_new(dir);
	int ticks = 0;
	appdeploy_set_func(s, "tick", fn_tick, &ticks);
	appdeploy_set_namespace(s, "api");
	appdeploy_set_cluster(s, kubeconfig, NULL);
	appdeploy_error *err = NULL;
	struct lines l = {0};
	int changes = -1;
	CHECK(!appdeploy_diff(s, NULL, count_lines, &l, &changes, &err), "diff: %s", err ? err->message : "");
	CHECK(changes == 1, "diff before apply: %d changes, want 1", changes);
	CHECK(ticks == 1, "diff rendered %d times, want 1", ticks);
	appdeploy_error_free(err);
	err = NULL;
	memset(&l, 0, sizeof l);
	ticks = 0;
	CHECK(!appdeploy_apply(s, NULL, count_lines, &l, &err), "apply: %s", err ? err->message : "");
	CHECK(l.errors == 0 && l.progress >= 2, "apply: %d progress lines, %d errors", l.progress, l.errors);
	CHECK(ticks == 1, "apply rendered %d times, want 1 (the saved source state is read before rendering)", ticks);
	appdeploy_error_free(err);
	err = NULL;
	CHECK(!appdeploy_diff(s, NULL, NULL, NULL, &changes, &err) && changes == 0, "diff after apply: %d changes",
	      changes);
	appdeploy_error_free(err);
	appdeploy_set_free(s);

	/* a render failure in apply comes back with its position, and nothing is applied */
	s = appdeploy_set_new(bad);
	appdeploy_set_namespace(s, "api");
	appdeploy_set_cluster(s, kubeconfig, NULL);
	err = NULL;
	memset(&l, 0, sizeof l);
	CHECK(appdeploy_apply(s, NULL, count_lines, &l, &err) == -1, "broken apply succeeded");
	CHECK(err && eq(err->file, "a.yaml") && err->line == 4 && err->col == 21, "broken apply: %s at %s:%d:%d",
	      err ? err->message : "", err && err->file ? err->file : "", err ? err->line : 0, err ? err->col : 0);
	CHECK(l.progress == 0, "broken apply printed %d lines", l.progress);
	appdeploy_error_free(err);
	appdeploy_set_free(s);

	/* a kubeconfig that does not exist: the error, no position */
	s = appdeploy_set_new(dir);
	appdeploy_set_cluster(s, "/nonexistent/kubeconfig", NULL);
	err = NULL;
	CHECK(appdeploy_apply(s, NULL, NULL, NULL, &err) == -1 && err && err->message && !err->file,
	      "apply without a kubeconfig: %s", err ? err->message : "no error");
	appdeploy_error_free(err);
	appdeploy_set_free(s);
	free(dir);
	free(bad);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: api_test SCRATCH_DIR [KUBECONFIG]\n");
		return 2;
	}
	root = argv[1];
	if (appdeploy_global_init()) {
		fprintf(stderr, "appdeploy_global_init failed\n");
		return 1;
	}
	test_errors();
	test_renders();
	test_setters();
	test_threads();
	if (argc > 2)
		test_cluster(argv[2]);
	appdeploy_global_cleanup();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	else
		printf("api_test: all checks passed\n");
	return failures ? 1 : 0;
}
