/* config.c — reloader's settings: runner file < config file < RELOADER_* env < flags.
 *
 * Each layer becomes a jansson object that is checked against one schema table (unknown
 * keys and bad values are reported where they were written), then the layers are merged
 * and the result is converted into struct config, which cannot fail any more. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "yamlval.h"

#ifndef RUNNERS_DIR
#define RUNNERS_DIR "/usr/local/share/sourcemode/runners"
#endif
#define RELOADER_VERSION "0.1.0"

enum value_type {
	T_SECTION,  /* a mapping of further keys */
	T_STRING,   /* any scalar, kept as text */
	T_COMMAND,  /* a string (run through sh -c) or a list of strings (argv) */
	T_LIST,     /* a list of strings (a single string is a list of one) */
	T_ENVMAP,   /* a mapping of NAME: scalar */
	T_BOOL,     /* true/false/yes/no/on/off */
	T_DURATION, /* "50ms", "2s", "1m" */
	T_SIGNAL,   /* TERM, SIGTERM, 15 */
	T_POLL,     /* auto | always | never | a duration (always, at that interval) */
	T_POLICY,   /* always | on-failure | never */
	T_ADDRESS,  /* host:port or a bare port; "none" where allowed */
	T_URL,      /* http://host[:port]/path */
	T_COUNT,    /* a non-negative integer */
};

static const struct config_key {
	const char *path;
	enum value_type type;
	const char *flag; /* the command-line flag that sets it, if any */
} schema[] = {
	{"dir", T_STRING, "--dir"},
	{"build", T_COMMAND, "--build"},
	{"build_timeout", T_DURATION, "--build-timeout"},
	{"run", T_COMMAND, NULL},
	{"env", T_ENVMAP, NULL},
	{"watch", T_SECTION, NULL},
	{"watch.paths", T_LIST, "--watch"},
	{"watch.include", T_LIST, NULL},
	{"watch.exclude", T_LIST, NULL},
	{"watch.gitignore", T_BOOL, NULL},
	{"watch.debounce", T_DURATION, "--debounce"},
	{"watch.poll", T_POLL, NULL},
	{"watch.max_watches", T_COUNT, NULL},
	{"watch.data", T_LIST, NULL},
	{"watch.build_writes", T_LIST, NULL},
	{"watch.default_excludes", T_BOOL, NULL},
	{"watch.loop_limit", T_COUNT, NULL},
	{"watch.loop_window", T_DURATION, NULL},
	{"cache", T_SECTION, NULL},
	{"cache.dir", T_STRING, "--cache-dir"},
	{"cache.inputs", T_LIST, NULL},
	{"cache.outputs", T_LIST, NULL},
	{"stop", T_SECTION, NULL},
	{"stop.signal", T_SIGNAL, "--stop-signal"},
	{"stop.timeout", T_DURATION, "--stop-timeout"},
	{"restart", T_SECTION, NULL},
	{"restart.on_exit", T_POLICY, NULL},
	{"restart.backoff_min", T_DURATION, NULL},
	{"restart.backoff_max", T_DURATION, NULL},
	{"ready", T_SECTION, NULL},
	{"ready.tcp", T_ADDRESS, NULL},
	{"ready.http", T_URL, NULL},
	{"ready.timeout", T_DURATION, NULL},
	{"ready.settle", T_DURATION, NULL},
	{"control", T_SECTION, NULL},
	{"control.listen", T_ADDRESS, "--listen"},
	{"control.token_file", T_STRING, NULL},
	{"control.sync", T_BOOL, NULL},
};

/* Where a layer's values came from, for error messages. */
struct layer {
	json_t *root;      /* the layer's settings, nested like the YAML */
	json_t *positions; /* YAML positions (file layers only) */
	const char *file;  /* file name (file layers) */
	int is_env;        /* values came from RELOADER_* variables */
};

static const struct config_key *find_key(const char *path)
{
	for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++)
		if (!strcmp(schema[i].path, path))
			return &schema[i];
	return NULL;
}

/* RELOADER_WATCH_DEBOUNCE for "watch.debounce". */
static void env_name(const char *path, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "RELOADER_");

	for (; *path && n + 1 < cap; path++)
		out[n++] = *path == '.' ? '_' : (char)toupper((unsigned char)*path);
	out[n] = 0;
}

static void report(const struct layer *ly, const char *path, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prints one error naming where the value was written: FILE:LINE:COL, the variable or the flag. */
static void report(const struct layer *ly, const char *path, int at_key, const char *fmt, ...)
{
	char msg[1024], where[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ly->file) {
		char pointer[512];
		int line, col;
		size_t n = (size_t)snprintf(pointer, sizeof pointer, "0/");

		for (const char *p = path; *p && n + 1 < sizeof pointer; p++)
			pointer[n++] = *p == '.' ? '/' : *p;
		pointer[n] = 0;
		yv_position(ly->positions, pointer, at_key, &line, &col);
		snprintf(where, sizeof where, "%s:%d:%d", ly->file, line, col);
	} else if (ly->is_env) {
		env_name(path, where, sizeof where);
	} else {
		const struct config_key *k = find_key(path);

		snprintf(where, sizeof where, "%s", k && k->flag ? k->flag : path);
	}
	fprintf(stderr, "reloader: %s: %s\n", where, msg);
}

static int is_scalar(json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Text of a scalar as the user wrote it (ints stay ints). Caller frees. */
static char *scalar_text(json_t *v)
{
	char *s = NULL;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_true(v))
		return strdup("true");
	if (json_is_false(v))
		return strdup("false");
	if (json_is_integer(v)) {
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			return NULL;
		return s;
	}
	if (json_is_real(v)) {
		if (asprintf(&s, "%.17g", json_real_value(v)) < 0)
			return NULL;
		return s;
	}
	return strdup("");
}

static int parse_bool_text(const char *s, int *out)
{
	json_t *v = yv_resolve_plain(s, strlen(s));
	int ok = json_is_boolean(v);

	if (ok)
		*out = json_is_true(v);
	json_decref(v);
	return ok ? 0 : -1;
}

int config_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
		    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
		    {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM}, {"PWR", SIGPWR}};
	char *end;
	long n;

	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!strcasecmp(name, sigs[i].name))
			return sigs[i].sig;
	n = strtol(name, &end, 10);
	if (*name && !*end && n > 0 && n < NSIG)
		return (int)n;
	return -1;
}

const char *config_signal_name(int sig)
{
	const char *abbrev = sigabbrev_np(sig);

	return abbrev ? abbrev : "?";
}

static int check_address(const char *s, int allow_none)
{
	const char *colon = strrchr(s, ':');
	const char *port = colon ? colon + 1 : s;
	char *end;
	long n;

	if (allow_none && !strcmp(s, "none"))
		return 0;
	n = strtol(port, &end, 10);
	if (!*port || *end || n < 0 || n > 65535)
		return -1;
	return 0;
}

/* The lists whose items are globs (checked when read, so a typo is not a silent non-match). */
static int is_glob_list(const char *path)
{
	return !strcmp(path, "watch.include") || !strcmp(path, "watch.exclude") || !strcmp(path, "cache.inputs");
}

/* A glob (gitignore style) is well formed: every `[` has its `]`, no lone trailing `\`.
 * Returns 0, or -1 with the reason in *why. */
static int check_glob(const char *pat, const char **why)
{
	for (const char *p = pat; *p; p++) {
		if (*p == '\\') {
			if (!p[1]) {
				*why = "ends with a lone \\ (write \\\\ for a backslash)";
				return -1;
			}
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']') /* a leading ] is a member of the class */
				q++;
			while (*q && *q != ']')
				q += *q == '\\' && q[1] ? 2 : 1;
			if (!*q) {
				*why = "a [ without its closing ] (write \\[ for a literal bracket)";
				return -1;
			}
			p = q;
		}
	}
	return 0;
}

/* Checks one value against its type. Reports and returns -1 when it is wrong. */
static int check_value(const struct layer *ly, const char *path, const struct config_key *key, json_t *v)
{
	const char *why = NULL;
	char *text = NULL;
	double secs;
	int rc = 0, b;

	switch (key->type) {
	case T_SECTION:
		break; /* handled by the caller */
	case T_STRING:
		if (!is_scalar(v) || (json_is_string(v) && !*json_string_value(v)))
			goto want_string;
		break;
	case T_COMMAND:
		if (json_is_string(v) && *json_string_value(v))
			break;
		if (json_is_array(v) && json_array_size(v) > 0) {
			size_t i;
			json_t *item;

			json_array_foreach(v, i, item) if (!is_scalar(item)) goto want_command;
			break;
		}
	want_command:
		report(ly, path, 0, "expected a command: a string (run by sh -c) or a non-empty list of arguments");
		return -1;
	case T_LIST:
		if (json_is_array(v)) {
			size_t i;
			json_t *item;

			json_array_foreach(v, i, item)
			{
				char at[300];

				snprintf(at, sizeof at, "%s.%zu", path, i);
				if (!is_scalar(item) || (json_is_string(item) && !*json_string_value(item))) {
					report(ly, at, 0, "item %zu: expected a non-empty string", i + 1);
					return -1;
				}
				if (is_glob_list(path) && json_is_string(item) &&
				    check_glob(json_string_value(item), &why) != 0) {
					report(ly, at, 0, "item %zu: bad glob \"%s\": %s", i + 1, json_string_value(item), why);
					return -1;
				}
			}
			break;
		}
		if (is_scalar(v)) {
			text = scalar_text(v);
			report(ly, path, 0, "expected a list of strings, e.g. [%s] (a plain string is not a list)",
			       text ? text : "");
			free(text);
			return -1;
		}
		report(ly, path, 0, "expected a list of strings");
		return -1;
	case T_ENVMAP:
		if (json_is_object(v)) {
			const char *name;
			json_t *item;

			json_object_foreach(v, name, item)
			{
				if (!*name || strchr(name, '=')) {
					report(ly, path, 0, "environment variable name \"%s\" is not valid", name);
					return -1;
				}
				if (!is_scalar(item) && !json_is_null(item)) {
					report(ly, path, 0, "env %s: expected a scalar value", name);
					return -1;
				}
			}
			break;
		}
		report(ly, path, 0, "expected a mapping of NAME: value");
		return -1;
	case T_BOOL:
		if (json_is_boolean(v))
			break;
		if (json_is_string(v) && parse_bool_text(json_string_value(v), &b) == 0)
			break;
		text = scalar_text(v);
		report(ly, path, 0, "expected true or false, got \"%s\"", text ? text : "?");
		rc = -1;
		break;
	case T_DURATION:
	case T_POLL:
		if (!is_scalar(v))
			goto want_string;
		text = scalar_text(v);
		if (key->type == T_POLL &&
		    (!strcmp(text, "auto") || !strcmp(text, "always") || !strcmp(text, "never")))
			break;
		if (json_is_boolean(v) || duration_parse(text, &secs, &why) != 0) {
			report(ly, path, 0, "invalid %s \"%s\": %s", key->type == T_POLL ? "poll setting" : "duration",
			       text, why ? why : "expected a duration");
			if (key->type == T_POLL)
				fprintf(stderr, "reloader: hint: poll is auto, always, never, or an interval like 500ms\n");
			rc = -1;
		}
		break;
	case T_SIGNAL:
		if (!is_scalar(v))
			goto want_string;
		text = scalar_text(v);
		if (config_signal_number(text) < 0) {
			report(ly, path, 0, "unknown signal \"%s\" (use a name like TERM, INT, QUIT or a number)", text);
			rc = -1;
		}
		break;
	case T_POLICY:
		if (!is_scalar(v))
			goto want_string;
		text = scalar_text(v);
		if (strcmp(text, "always") && strcmp(text, "on-failure") && strcmp(text, "never")) {
			report(ly, path, 0, "invalid restart policy \"%s\" (use always, on-failure or never)", text);
			rc = -1;
		}
		break;
	case T_ADDRESS:
		if (!is_scalar(v))
			goto want_string;
		text = scalar_text(v);
		if (check_address(text, !strcmp(path, "control.listen")) != 0) {
			report(ly, path, 0, "invalid address \"%s\" (use HOST:PORT or a port number%s)", text,
			       !strcmp(path, "control.listen") ? ", or none" : "");
			rc = -1;
		}
		break;
	case T_URL:
		if (!json_is_string(v) || strncmp(json_string_value(v), "http://", 7) ||
		    !json_string_value(v)[7]) {
			report(ly, path, 0, "expected an http:// URL, e.g. http://127.0.0.1:8080/healthz");
			return -1;
		}
		break;
	case T_COUNT:
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			break;
		if (json_is_string(v)) {
			char *end;
			long long n = strtoll(json_string_value(v), &end, 10);

			if (*json_string_value(v) && !*end && n >= 0)
				break;
		}
		report(ly, path, 0, "expected a non-negative whole number");
		return -1;
	}
	free(text);
	return rc;
want_string:
	report(ly, path, 0, "expected a single value, not a %s", json_is_object(v) ? "mapping" : "list");
	return -1;
}

/* Checks every key of obj (the section at prefix) against the schema. */
static int check_section(const struct layer *ly, json_t *obj, const char *prefix)
{
	const char *name;
	json_t *v;

	json_object_foreach(obj, name, v)
	{
		char path[256];
		const struct config_key *key;

		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
		key = find_key(path);
		if (!key) {
			char known[512] = "";
			size_t plen = *prefix ? strlen(prefix) + 1 : 0;

			for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
				const char *p = schema[i].path;

				if ((plen == 0 && !strchr(p, '.')) ||
				    (plen && !strncmp(p, path, plen) && !strchr(p + plen, '.') && p[plen - 1] == '.')) {
					if (*known)
						strncat(known, ", ", sizeof known - strlen(known) - 1);
					strncat(known, p + plen, sizeof known - strlen(known) - 1);
				}
			}
			report(ly, path, 1, "unknown key \"%s\"%s%s (known keys: %s)", name, *prefix ? " in " : "",
			       prefix, known);
			return -1;
		}
		if (key->type == T_SECTION) {
			if (json_is_null(v))
				continue;
			if (!json_is_object(v)) {
				report(ly, path, 0, "\"%s\" must be a mapping of settings", name);
				return -1;
			}
			if (check_section(ly, v, path) != 0)
				return -1;
			continue;
		}
		if (json_is_null(v))
			continue; /* "key:" with no value means unset */
		if (check_value(ly, path, key, v) != 0)
			return -1;
	}
	return 0;
}

/* Sets path (dotted) in root to v (stolen), creating sections. */
static void set_path(json_t *root, const char *path, json_t *v)
{
	char buf[256], *dot;
	json_t *obj = root;
	char *p = buf;

	snprintf(buf, sizeof buf, "%s", path);
	while ((dot = strchr(p, '.'))) {
		json_t *next;

		*dot = 0;
		next = json_object_get(obj, p);
		if (!json_is_object(next)) {
			next = json_object();
			json_object_set_new(obj, p, next);
		}
		obj = next;
		p = dot + 1;
	}
	json_object_set_new(obj, p, v);
}

static json_t *get_path(json_t *root, const char *path)
{
	char buf[256], *dot, *p = buf;
	json_t *obj = root;

	snprintf(buf, sizeof buf, "%s", path);
	while ((dot = strchr(p, '.'))) {
		*dot = 0;
		obj = json_object_get(obj, p);
		p = dot + 1;
	}
	return json_object_get(obj, p);
}

/* Splits "a,b , c" into a JSON list of strings. */
static json_t *split_list(const char *s)
{
	json_t *list = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);)
			*--e = 0;
		if (*tok)
			json_array_append_new(list, json_string(tok));
	}
	free(copy);
	return list;
}

/* Loads one YAML layer; `origin` says where its name came from ("-c", "RELOADER_CONFIG",
 * "--runner"), for the error when the file itself cannot be read. */
static int load_file_layer(struct layer *ly, const char *path, const char *origin)
{
	struct sm_error err;
	json_t *docs = yv_load_file(path, 0, &ly->positions, &err);

	ly->file = path;
	if (!docs) {
		if (err.line <= 0) /* no position inside the file: the file itself is the problem */
			fprintf(stderr, "reloader: %s %s: %s\n", origin, path, sm_error_what(&err));
		else
			fprintf(stderr, "reloader: %s\n", err.msg);
		return -1;
	}
	if (json_array_size(docs) > 1) {
		fprintf(stderr, "reloader: %s: expected one YAML document, found %zu\n", path, json_array_size(docs));
		json_decref(docs);
		return -1;
	}
	ly->root = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	if (!ly->root || json_is_null(ly->root)) {
		json_decref(ly->root);
		ly->root = json_object();
	}
	if (!json_is_object(ly->root)) {
		fprintf(stderr, "reloader: %s:1:1: the config must be a mapping of settings (dir, build, run, ...)\n",
			path);
		return -1;
	}
	return check_section(ly, ly->root, "");
}

/* Variables reloader reads that are not config keys. */
static const char *const other_env[] = {"RELOADER_CONFIG", "RELOADER_RUNNER", "RELOADER_RUNNERS_DIR", "RELOADER_DEBUG"};

/* Edit distance between a and b (for "did you mean"), capped at 99. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];

	if (la >= sizeof row / sizeof row[0] || lb >= sizeof row / sizeof row[0])
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb] < 99 ? row[lb] : 99;
}

/* 1 when name (a RELOADER_* variable) is one reloader reads; else the nearest known name in near. */
static int known_env(const char *name, char *near, size_t cap)
{
	size_t best = 100;

	for (size_t i = 0; i < sizeof schema / sizeof schema[0] + sizeof other_env / sizeof other_env[0]; i++) {
		char known[128];
		size_t d;

		if (i < sizeof schema / sizeof schema[0]) {
			if (schema[i].type == T_SECTION || schema[i].type == T_ENVMAP)
				continue;
			env_name(schema[i].path, known, sizeof known);
		} else {
			snprintf(known, sizeof known, "%s", other_env[i - sizeof schema / sizeof schema[0]]);
		}
		if (!strcmp(known, name))
			return 1;
		if ((d = distance(name, known)) < best) {
			best = d;
			snprintf(near, cap, "%s", known);
		}
	}
	return 0;
}

extern char **environ;

/* An unknown RELOADER_* variable with a value is a typo until shown otherwise, like an unknown key.
 * (Empty ones set nothing, as empty known ones do; make exports RELOADER_STATIC= to its recipes.) */
static int check_env_names(void)
{
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		char name[128], near[128] = "";

		if (strncmp(*e, "RELOADER_", 9) || !eq || !eq[1])
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
		if (known_env(name, near, sizeof near))
			continue;
		fprintf(stderr, "reloader: %s: unknown variable (did you mean %s?); unset it, or see the config reference "
				"in README.md for the RELOADER_* names\n", name, near);
		return -1;
	}
	return 0;
}

static int load_env_layer(struct layer *ly)
{
	ly->root = json_object();
	ly->is_env = 1;
	if (check_env_names() != 0)
		return -1;
	for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++) {
		char name[128];
		const char *val;

		if (schema[i].type == T_SECTION || schema[i].type == T_ENVMAP)
			continue;
		env_name(schema[i].path, name, sizeof name);
		if (!(val = getenv(name)) || !*val)
			continue;
		set_path(ly->root, schema[i].path, schema[i].type == T_LIST ? split_list(val) : json_string(val));
	}
	return check_section(ly, ly->root, "");
}

/* Where the runner file NAME lives, first found of: RELOADER_RUNNERS_DIR; ../share/sourcemode/runners
 * beside the executable (an install under any PREFIX, whatever prefix the build compiled in); the
 * compiled-in RUNNERS_DIR; runners/ in the source tree above the binary (build/reloader).
 * Returns a malloc'd path, or NULL when none is readable. */
static char *find_runner(const char *name)
{
	char exe[PATH_MAX], *path = NULL, *slash;
	ssize_t n;
	const char *dir = getenv("RELOADER_RUNNERS_DIR");

	if (strchr(name, '/')) /* a path to a runner file */
		return strdup(name);
	if (dir && asprintf(&path, "%s/%s.yaml", dir, name) > 0 && access(path, R_OK) == 0)
		return path;
	free(path);
	path = NULL;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0)
		exe[n] = 0;
	slash = n > 0 ? strrchr(exe, '/') : NULL;
	if (slash) { /* PREFIX/bin/reloader -> PREFIX/share/sourcemode/runners */
		*slash = 0;
		if (asprintf(&path, "%s/../share/sourcemode/runners/%s.yaml", exe, name) > 0 && access(path, R_OK) == 0)
			return path;
		free(path);
		path = NULL;
		*slash = '/';
	}
	if (asprintf(&path, "%s/%s.yaml", RUNNERS_DIR, name) > 0 && access(path, R_OK) == 0)
		return path;
	free(path);
	path = NULL;
	if (n > 0) {
		for (int up = 0; up < 3; up++) {
			slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = 0;
			if (asprintf(&path, "%s/runners/%s.yaml", exe, name) > 0 && access(path, R_OK) == 0)
				return path;
			free(path);
			path = NULL;
		}
	}
	return NULL;
}

void config_usage(void)
{
	printf("usage: reloader [-c FILE] [--runner NAME] [--build CMD] [--watch PATH]... [--listen ADDR|none]\n"
	       "                [--stop-signal SIG] [--stop-timeout DUR] [--debounce DUR] [--cache-dir DIR]\n"
	       "                [--dir DIR] [--build-timeout DUR] [--] CMD [ARG...]\n"
	       "\n"
	       "Builds the service, runs CMD, and rebuilds + restarts it on a poke\n"
	       "(curl -X POST localhost:7070/restart), on SIGHUP or on a file change.\n"
	       "Settings: runner file < config file (-c, RELOADER_CONFIG) < RELOADER_* env < flags.\n");
}

/* Converts the merged, already checked settings into cfg. */
static int fill_config(struct config *cfg, json_t *m, const struct layer layers[4]);

static void merge_into(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);

		if (json_is_object(v) && json_is_object(d))
			merge_into(d, v);
		else if (json_is_object(v))
			json_object_set_new(dst, k, json_deep_copy(v));
		else if (!json_is_null(v))
			json_object_set(dst, k, v);
	}
}

int config_load(struct config *cfg, int argc, char **argv)
{
	enum { O_RUNNER = 256, O_BUILD, O_WATCH, O_LISTEN, O_STOPSIG, O_STOPTIMEOUT, O_DEBOUNCE, O_CACHEDIR, O_DIR,
	       O_VERSION, O_BUILDTIMEOUT };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},	{"runner", required_argument, NULL, O_RUNNER},
		{"build", required_argument, NULL, O_BUILD},	{"watch", required_argument, NULL, O_WATCH},
		{"listen", required_argument, NULL, O_LISTEN},	{"stop-signal", required_argument, NULL, O_STOPSIG},
		{"stop-timeout", required_argument, NULL, O_STOPTIMEOUT},
		{"debounce", required_argument, NULL, O_DEBOUNCE}, {"cache-dir", required_argument, NULL, O_CACHEDIR},
		{"dir", required_argument, NULL, O_DIR},	{"help", no_argument, NULL, 'h'},
		{"build-timeout", required_argument, NULL, O_BUILDTIMEOUT},
		{"version", no_argument, NULL, O_VERSION},	{NULL, 0, NULL, 0},
	};
	struct layer layers[4] = {{0}}; /* runner, file, env, flags */
	struct layer *flags = &layers[3];
	const char *config_file = getenv("RELOADER_CONFIG");
	const char *config_origin = "RELOADER_CONFIG";
	const char *runner = getenv("RELOADER_RUNNER");
	char *runner_path = NULL;
	json_t *watch_flags = NULL, *merged = NULL;
	int c, rc = 2;

	memset(cfg, 0, sizeof *cfg);
	flags->root = json_object();
	optind = 0; /* 0, not 1: glibc's getopt starts afresh (config_load may run more than once) */
	/* "+" stops at the first non-option: everything after is the service's command. */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_file = optarg;
			config_origin = "-c";
			break;
		case O_RUNNER:
			runner = optarg;
			break;
		case O_BUILD:
			set_path(flags->root, "build", json_string(optarg));
			break;
		case O_WATCH:
			if (!watch_flags)
				watch_flags = json_array();
			json_array_append_new(watch_flags, json_string(optarg));
			break;
		case O_LISTEN:
			set_path(flags->root, "control.listen", json_string(optarg));
			break;
		case O_STOPSIG:
			set_path(flags->root, "stop.signal", json_string(optarg));
			break;
		case O_STOPTIMEOUT:
			set_path(flags->root, "stop.timeout", json_string(optarg));
			break;
		case O_DEBOUNCE:
			set_path(flags->root, "watch.debounce", json_string(optarg));
			break;
		case O_CACHEDIR:
			set_path(flags->root, "cache.dir", json_string(optarg));
			break;
		case O_DIR:
			set_path(flags->root, "dir", json_string(optarg));
			break;
		case O_BUILDTIMEOUT:
			set_path(flags->root, "build_timeout", json_string(optarg));
			break;
		case 'h':
			config_usage();
			rc = 1;
			goto out;
		case O_VERSION:
			printf("reloader %s\n", RELOADER_VERSION);
			rc = 1;
			goto out;
		default:
			fprintf(stderr, "reloader: see reloader --help\n");
			goto out;
		}
	}
	if (watch_flags)
		set_path(flags->root, "watch.paths", watch_flags);
	watch_flags = NULL; /* owned by flags->root now */
	if (optind < argc) {
		json_t *run = json_array();

		for (int i = optind; i < argc; i++)
			json_array_append_new(run, json_string(argv[i]));
		set_path(flags->root, "run", run);
	}

	if (runner && *runner) {
		runner_path = find_runner(runner);
		if (!runner_path) {
			fprintf(stderr, "reloader: runner \"%s\" not found in %s or the source tree's runners/ "
					"(set RELOADER_RUNNERS_DIR or pass a path to a runner file)\n",
				runner, RUNNERS_DIR);
			goto out;
		}
		if (load_file_layer(&layers[0], runner_path, "runner") != 0)
			goto out;
		cfg->runner = strdup(runner);
	}
	if (config_file && *config_file) {
		if (load_file_layer(&layers[1], config_file, config_origin) != 0)
			goto out;
		cfg->config_file = strdup(config_file);
	}
	if (load_env_layer(&layers[2]) != 0)
		goto out;
	if (check_section(flags, flags->root, "") != 0)
		goto out;

	merged = json_object();
	for (int i = 0; i < 4; i++)
		if (layers[i].root)
			merge_into(merged, layers[i].root);
	if (!json_object_get(merged, "run")) {
		fprintf(stderr, "reloader: no service command: give one after the flags (reloader [flags] -- CMD ARG...), "
				"as `run:` in the config file, or with --runner\n");
		goto out;
	}
	rc = fill_config(cfg, merged, layers);
out:
	for (int i = 0; i < 4; i++) {
		json_decref(layers[i].root);
		json_decref(layers[i].positions);
	}
	json_decref(merged);
	json_decref(watch_flags); /* a flag error came before it was stored */
	free(runner_path);
	if (rc != 0)
		config_free(cfg); /* nothing half-filled is left to the caller */
	return rc;
}

static strlist list_from_json(json_t *v)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	strlist l = calloc(n + 1, sizeof *l);

	if (json_is_array(v))
		for (size_t i = 0; i < n; i++)
			l[i] = scalar_text(json_array_get(v, i));
	else
		l[0] = scalar_text(v);
	return l;
}

static strlist command_from_json(json_t *v)
{
	strlist l;

	if (json_is_array(v))
		return list_from_json(v);
	l = calloc(4, sizeof *l);
	l[0] = strdup("/bin/sh");
	l[1] = strdup("-c");
	l[2] = scalar_text(v);
	return l;
}

static double duration_or(json_t *m, const char *path, double fallback)
{
	json_t *v = get_path(m, path);
	const char *why;
	char *text;
	double secs = fallback;

	if (!v || json_is_null(v))
		return fallback;
	text = scalar_text(v);
	if (duration_parse(text, &secs, &why) != 0)
		secs = fallback;
	free(text);
	return secs;
}

static char *string_or(json_t *m, const char *path, const char *fallback)
{
	json_t *v = get_path(m, path);

	if (!v || json_is_null(v))
		return fallback ? strdup(fallback) : NULL;
	return scalar_text(v);
}

/* Makes path absolute against base (both stay owned by the caller; result is new). */
static char *absolute(const char *base, const char *path)
{
	char *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", base, path) < 0)
		return NULL;
	return out;
}

/*
 * Expands ${NAME}, $NAME, ${NAME:-default} (default when unset or empty), ${NAME-default} (when
 * unset) and $$ (a literal $) from the environment. Returns the new string, or NULL with the
 * problem in why (an unset name without a default, an unclosed ${).
 */
static char *expand_env(const char *s, char *why, size_t cap)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			fputc('$', f);
			s += 2;
			continue;
		}
		if (s[0] == '$' && (s[1] == '{' || isalpha((unsigned char)s[1]) || s[1] == '_')) {
			char name[128];
			size_t n = 0;
			const char *val, *def = NULL;
			size_t deflen = 0;
			int braced = s[1] == '{', colon = 0;

			s += braced ? 2 : 1;
			while ((isalnum((unsigned char)*s) || *s == '_') && n + 1 < sizeof name)
				name[n++] = *s++;
			name[n] = 0;
			if (braced) {
				const char *close;

				if (*s == ':' && s[1] == '-') {
					colon = 1;
					s++;
				}
				if (*s == '-')
					def = ++s;
				close = strchr(s, '}');
				if (!n || !close || (!def && close != s)) {
					snprintf(why, cap, "%s", !close ? "${ without its closing }"
								     : "write ${NAME}, ${NAME:-default} or $$ for a literal $");
					goto fail;
				}
				deflen = def ? (size_t)(close - def) : 0;
				s = close + 1;
			}
			val = getenv(name);
			if (val && (!colon || *val))
				fputs(val, f);
			else if (def)
				fwrite(def, 1, deflen, f);
			else if (!val) {
				snprintf(why, cap, "$%s%s%s is not set (give a default: ${%s:-value}; $$ is a literal $)",
					 braced ? "{" : "", name, braced ? "}" : "", name);
				goto fail;
			}
			continue;
		}
		fputc(*s++, f);
	}
	fclose(f);
	return out;
fail:
	fclose(f);
	free(out);
	return NULL;
}

/* The highest layer that sets path: where a bad merged value was written (NULL: a default). */
static const struct layer *source_of(const struct layer layers[4], const char *path)
{
	for (int i = 3; i >= 0; i--)
		if (layers[i].root && get_path(layers[i].root, path) && !json_is_null(get_path(layers[i].root, path)))
			return &layers[i];
	return NULL;
}

/* Reports a problem with the merged value at path where it was written, or plainly for a default. */
#define report_merged(layers, path, ...)                                                                           \
	do {                                                                                                       \
		const struct layer *src_ = source_of(layers, path);                                                \
		if (src_)                                                                                          \
			report(src_, path, 0, __VA_ARGS__);                                                        \
		else {                                                                                             \
			fprintf(stderr, "reloader: %s: ", path);                                                   \
			fprintf(stderr, __VA_ARGS__);                                                              \
			fputc('\n', stderr);                                                                       \
		}                                                                                                  \
	} while (0)

static int fill_config(struct config *cfg, json_t *m, const struct layer layers[4])
{
	char *dir, *text, *token_file;
	json_t *env, *v;
	const char *name;
	size_t n = 0;

	dir = string_or(m, "dir", ".");
	cfg->dir = realpath(dir, NULL);
	{
		struct stat st;

		if (!cfg->dir || stat(cfg->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			report_merged(layers, "dir", "dir %s: %s (create it, or point dir at the service's source)", dir,
				      cfg->dir ? "not a directory" : strerror(errno));
			free(dir);
			return 2;
		}
	}
	free(dir);
	if ((v = get_path(m, "build"))) {
		if (json_is_array(v)) {
			/* A list is one command line; quote nothing, the user chose the words. */
			strlist words = list_from_json(v);
			size_t total = 1;

			for (size_t i = 0; words[i]; i++)
				total += strlen(words[i]) + 1;
			cfg->build = calloc(total, 1);
			for (size_t i = 0; words[i]; i++) {
				if (i)
					strcat(cfg->build, " ");
				strcat(cfg->build, words[i]);
			}
			strlist_free(words);
		} else {
			cfg->build = scalar_text(v);
		}
	}
	cfg->run = command_from_json(get_path(m, "run"));

	/* The cache dir comes first: env values may refer to it as ${RELOADER_CACHE_DIR}. */
	text = string_or(m, "cache.dir", NULL);
	if (!text) {
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

		if (xdg && *xdg && asprintf(&text, "%s/reloader", xdg) < 0)
			text = NULL;
		else if (!(xdg && *xdg) && home && *home && strcmp(home, "/") &&
			 asprintf(&text, "%s/.cache/reloader", home) < 0)
			text = NULL;
		if (!text)
			text = strdup("/tmp/reloader-cache");
	}
	cfg->cache.dir = absolute(cfg->dir, text);
	free(text);
	setenv("RELOADER_CACHE_DIR", cfg->cache.dir, 1);
	cfg->cache.inputs = get_path(m, "cache.inputs") ? list_from_json(get_path(m, "cache.inputs")) : NULL;
	cfg->cache.outputs = get_path(m, "cache.outputs") ? list_from_json(get_path(m, "cache.outputs")) : NULL;

	env = get_path(m, "env");
	cfg->env = calloc(json_object_size(env) + 1, sizeof *cfg->env);
	json_object_foreach(env, name, v)
	{
		char *val = json_is_null(v) ? strdup("") : scalar_text(v);
		char why[600], at[300];
		char *expanded = expand_env(val, why, sizeof why);

		if (!expanded) {
			snprintf(at, sizeof at, "env.%s", name);
			report_merged(layers, at, "env %s: %s", name, why);
			free(val);
			return 2;
		}
		if (asprintf(&cfg->env[n], "%s=%s", name, expanded) < 0)
			cfg->env[n] = NULL;
		else
			n++;
		free(val);
		free(expanded);
	}

	cfg->watch.paths = get_path(m, "watch.paths") ? list_from_json(get_path(m, "watch.paths")) : NULL;
	cfg->watch.include = get_path(m, "watch.include") ? list_from_json(get_path(m, "watch.include")) : NULL;
	cfg->watch.exclude = get_path(m, "watch.exclude") ? list_from_json(get_path(m, "watch.exclude")) : NULL;
	cfg->watch.gitignore = 1;
	if ((v = get_path(m, "watch.gitignore"))) {
		if (json_is_boolean(v))
			cfg->watch.gitignore = json_is_true(v);
		else
			parse_bool_text(json_string_value(v), &cfg->watch.gitignore);
	}
	cfg->watch.debounce = duration_or(m, "watch.debounce", 0.05);
	cfg->watch.poll = POLL_AUTO;
	cfg->watch.poll_interval = 0.5;
	text = string_or(m, "watch.poll", "auto");
	if (!strcmp(text, "always"))
		cfg->watch.poll = POLL_ALWAYS;
	else if (!strcmp(text, "never"))
		cfg->watch.poll = POLL_NEVER;
	else if (strcmp(text, "auto")) {
		cfg->watch.poll = POLL_ALWAYS;
		cfg->watch.poll_interval = duration_or(m, "watch.poll", 0.5);
	}
	free(text);
	if ((v = get_path(m, "watch.max_watches")))
		cfg->watch.max_watches = json_is_integer(v) ? (long)json_integer_value(v) : atol(json_string_value(v));
	cfg->watch.data = get_path(m, "watch.data") ? list_from_json(get_path(m, "watch.data")) : NULL;
	cfg->watch.build_writes =
		get_path(m, "watch.build_writes") ? list_from_json(get_path(m, "watch.build_writes")) : NULL;
	cfg->watch.default_excludes = 1;
	if ((v = get_path(m, "watch.default_excludes"))) {
		if (json_is_boolean(v))
			cfg->watch.default_excludes = json_is_true(v);
		else
			parse_bool_text(json_string_value(v), &cfg->watch.default_excludes);
	}
	cfg->watch.loop_limit = 10;
	if ((v = get_path(m, "watch.loop_limit")))
		cfg->watch.loop_limit = json_is_integer(v) ? (long)json_integer_value(v) : atol(json_string_value(v));
	cfg->watch.loop_window = duration_or(m, "watch.loop_window", 10);

	text = string_or(m, "stop.signal", "TERM");
	cfg->stop.signal = config_signal_number(text);
	free(text);
	cfg->stop.timeout = duration_or(m, "stop.timeout", 10);

	text = string_or(m, "restart.on_exit", "on-failure");
	cfg->restart.on_exit = !strcmp(text, "always") ? RESTART_ALWAYS
			       : !strcmp(text, "never") ? RESTART_NEVER
							: RESTART_ON_FAILURE;
	free(text);
	cfg->restart.backoff_min = duration_or(m, "restart.backoff_min", 0.1);
	cfg->restart.backoff_max = duration_or(m, "restart.backoff_max", 10);
	if (cfg->restart.backoff_max < cfg->restart.backoff_min) {
		if (get_path(m, "restart.backoff_max") && !json_is_null(get_path(m, "restart.backoff_max"))) {
			report_merged(layers, "restart.backoff_min",
				      "backoff_min (%gs) is above backoff_max (%gs): the first delay cannot exceed the cap",
				      cfg->restart.backoff_min, cfg->restart.backoff_max);
			return 2;
		}
		cfg->restart.backoff_max = cfg->restart.backoff_min; /* only the minimum was raised */
	}
	cfg->build_timeout = duration_or(m, "build_timeout", 0);

	cfg->ready.tcp = string_or(m, "ready.tcp", NULL);
	cfg->ready.http = string_or(m, "ready.http", NULL);
	cfg->ready.timeout = duration_or(m, "ready.timeout", 30);
	cfg->ready.settle = duration_or(m, "ready.settle", 0.3);

	text = string_or(m, "control.listen", "0.0.0.0:7070");
	if (!strcmp(text, "none"))
		free(text);
	else
		cfg->control.listen = text;
	token_file = string_or(m, "control.token_file", NULL);
	if (token_file) {
		/* Non-blocking and regular files only: a FIFO or a terminal must not hang the start. */
		int fd = open(token_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		FILE *f = NULL;
		char buf[4096];
		size_t len;

		cfg->control.token_file = token_file;
		if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
			close(fd);
			fd = -1;
			errno = EINVAL;
		}
		if (fd < 0 || !(f = fdopen(fd, "r"))) {
			report_merged(layers, "control.token_file", "token file %s: %s (write the token into that file, or drop "
				      "control.token_file)", token_file, errno == EINVAL ? "not a regular file" : strerror(errno));
			if (fd >= 0)
				close(fd);
			return 2;
		}
		len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		while (len && isspace((unsigned char)buf[len - 1]))
			len--;
		buf[len] = 0;
		if (!len) {
			report_merged(layers, "control.token_file", "token file %s is empty; put the token in it", token_file);
			return 2;
		}
		cfg->control.token = strdup(buf);
	}
	if ((v = get_path(m, "control.sync"))) { /* syncapi.c: pushing files is running code, never without a token */
		if (json_is_boolean(v))
			cfg->control.sync = json_is_true(v);
		else
			parse_bool_text(json_string_value(v), &cfg->control.sync);
	}
	if (cfg->control.sync && !cfg->control.token) {
		report_merged(layers, "control.sync", "control.sync: true needs control.token_file (a token that every "
			      "push must carry); set it, or turn sync off");
		return 2;
	}
	return 0;
}

size_t strlist_len(strlist l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

void strlist_free(strlist l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void config_free(struct config *cfg)
{
	free(cfg->dir);
	free(cfg->build);
	strlist_free(cfg->run);
	strlist_free(cfg->env);
	strlist_free(cfg->watch.paths);
	strlist_free(cfg->watch.include);
	strlist_free(cfg->watch.exclude);
	strlist_free(cfg->watch.data);
	strlist_free(cfg->watch.build_writes);
	free(cfg->cache.dir);
	strlist_free(cfg->cache.inputs);
	strlist_free(cfg->cache.outputs);
	free(cfg->ready.tcp);
	free(cfg->ready.http);
	free(cfg->control.listen);
	free(cfg->control.token);
	free(cfg->control.token_file);
	free(cfg->runner);
	free(cfg->config_file);
	memset(cfg, 0, sizeof *cfg);
}
