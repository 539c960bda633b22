/* appdeploy.h — libappdeploy, the public C API: load a manifest set, render it, diff and apply it to a namespace. */
#ifndef APPDEPLOY_H
#define APPDEPLOY_H

/*
 * The library is the pipeline `appdeploy render/diff/apply/serve` run (same rendering, same
 * ownership rules, same output lines); it prints nothing. Link with
 * `pkg-config --cflags --libs appdeploy`.
 *
 * Ownership: every pointer a function returns says who frees it and with what:
 *   appdeploy_set_new          -> appdeploy_set_free
 *   appdeploy_render           -> appdeploy_objects_free (strings it hands out are borrowed from it)
 *   appdeploy_objects_stream   -> appdeploy_free
 *   appdeploy_error *, via err -> appdeploy_error_free
 * Strings passed in are copied; callbacks' strings are valid during the call only.
 *
 * Errors: functions return 0 (or a handle) on success and -1 (or NULL) on failure; when err is
 * not NULL, *err receives a new appdeploy_error (message, and the file:line:col it is about when
 * known), else NULL. Messages read as the CLI's do ("app/web.yaml:3:7: ...", "template: ...").
 *
 * Threads: appdeploy_global_init runs once per process, from main, before any other thread (it
 * initialises libcurl, which is not thread-safe to initialise). After that, distinct handles may
 * be used from distinct threads at the same time: the library keeps no state that two handles
 * share (the one exception: exec credential plugins' answers are cached per process, under a lock,
 * as client-go does, so a plugin runs once per process). One handle is used by one thread at a
 * time. Callbacks run on the thread that called the function that takes them.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define APPDEPLOY_API __attribute__((visibility("default")))
#else
#define APPDEPLOY_API
#endif

/* Version of the library ("0.1.0"); the soname is libappdeploy.so.0. Thread-safe. */
APPDEPLOY_API const char *appdeploy_version(void);

/* Process-wide set-up and tear-down: call appdeploy_global_init once from main before threads
 * start and before any other function; appdeploy_global_cleanup once at the end, after every
 * handle is freed. Not thread-safe. The set-up is libcurl's global init, and TZ=:/etc/localtime
 * when TZ is unset (the same local time: the templates' dateInZone switches TZ while it runs, which
 * is safe for other threads' getenv only when the variable exists throughout). Returns 0, or -1
 * when libcurl cannot start. */
APPDEPLOY_API int appdeploy_global_init(void);
APPDEPLOY_API void appdeploy_global_cleanup(void);

/* ---- errors ---- */

/* The one error type. Free with appdeploy_error_free. */
typedef struct appdeploy_error {
	char *message; /* the whole message, as `appdeploy` prints it after "appdeploy: " */
	char *file;    /* the file (or template name) it is about, or NULL */
	int line;      /* 1-based line in file, 0 when unknown */
	int col;       /* 1-based byte column, 0 when unknown */
} appdeploy_error;

/* Frees e (NULL is fine). Thread-safe. */
APPDEPLOY_API void appdeploy_error_free(appdeploy_error *e);
/* Frees memory the library returned to the caller (appdeploy_objects_stream). Thread-safe. */
APPDEPLOY_API void appdeploy_free(void *p);

/* ---- a set: the manifest folder and everything rendering it takes ---- */

typedef struct appdeploy_set appdeploy_set;

/* A set for manifest folder dir (`appdeploy render DIR`). The folder is read when rendering.
 * Returns NULL only when out of memory. Free with appdeploy_set_free. */
APPDEPLOY_API appdeploy_set *appdeploy_set_new(const char *dir);
APPDEPLOY_API void appdeploy_set_free(appdeploy_set *s);

/* The flags of `appdeploy render` and `apply`, in the same order of precedence. Each returns 0, or -1
 * with *err for a value the CLI would refuse. The set must not be in use by another thread. */
APPDEPLOY_API int appdeploy_set_values_file(appdeploy_set *s, const char *path);                  /* -f, repeatable */
APPDEPLOY_API int appdeploy_set_value(appdeploy_set *s, const char *key_eq_value, appdeploy_error **err); /* -v k=v */
APPDEPLOY_API int appdeploy_set_namespace(appdeploy_set *s, const char *ns);                      /* -n */
APPDEPLOY_API int appdeploy_set_name(appdeploy_set *s, const char *set_name);                     /* --set */
APPDEPLOY_API int appdeploy_set_images(appdeploy_set *s, const char *file_or_url);                /* --images */
APPDEPLOY_API int appdeploy_set_pull_secret(appdeploy_set *s, const char *secret);                /* -i, repeatable */
APPDEPLOY_API int appdeploy_set_source(appdeploy_set *s, const char *name_on_off, appdeploy_error **err); /* --source */
/* --kubeconfig and --context (either may be NULL: KUBECONFIG, ~/.kube/config, in-cluster; the current context). */
APPDEPLOY_API int appdeploy_set_cluster(appdeploy_set *s, const char *kubeconfig, const char *context);

/*
 * A template function of your own (Go's Template.Funcs), callable from the set's templates as
 * {{ name ARG... }} or in a pipeline. Each argument arrives as JSON text (a string "\"x\"", a number
 * "3", a map "{...}", nil "null"). Return the result as JSON text in memory from malloc (the library
 * frees it), or NULL with *error set to a message from malloc (the template fails with
 * `error calling NAME: MESSAGE`, as Go's do). fn runs on the thread rendering, with arg as given.
 * Functions added later win over earlier ones and over the built-in functions of the same name.
 * Not for charts below DIR (they render with Helm's functions only).
 */
typedef char *(*appdeploy_func)(void *arg, size_t argc, const char *const *argv_json, char **error);
APPDEPLOY_API int appdeploy_set_func(appdeploy_set *s, const char *name, appdeploy_func fn, void *arg);

/* ---- rendering ---- */

typedef struct appdeploy_objects appdeploy_objects;

/*
 * Renders the set (no cluster needed; the kubeconfig context's namespace is the fallback namespace
 * when one loads, as `appdeploy render` does). Returns the objects, or NULL with *err (a template
 * or YAML error with its file, line and column). Free with appdeploy_objects_free.
 */
APPDEPLOY_API appdeploy_objects *appdeploy_render(appdeploy_set *s, appdeploy_error **err);
APPDEPLOY_API void appdeploy_objects_free(appdeploy_objects *o);

APPDEPLOY_API size_t appdeploy_objects_count(const appdeploy_objects *o);
/* The namespace rendered into (borrowed from o). */
APPDEPLOY_API const char *appdeploy_objects_namespace(const appdeploy_objects *o);
/* Object i as YAML (as `appdeploy render` prints it, without the "---" and "# Source:" lines), as
 * JSON, and the template it came from (relative to DIR). Borrowed from o; NULL when i is out of range. */
APPDEPLOY_API const char *appdeploy_objects_yaml(const appdeploy_objects *o, size_t i);
APPDEPLOY_API const char *appdeploy_objects_json(const appdeploy_objects *o, size_t i);
APPDEPLOY_API const char *appdeploy_objects_source(const appdeploy_objects *o, size_t i);
/* The whole set as a multi-document YAML stream, byte for byte what `appdeploy render DIR -o -`
 * prints. New memory: free with appdeploy_free. NULL only when out of memory. */
APPDEPLOY_API char *appdeploy_objects_stream(const appdeploy_objects *o);

/* ---- diff and apply ---- */

/* apply's and diff's flags; zero is the CLI's default for every field. */
typedef struct appdeploy_apply_opts {
	int dry_run;            /* --dry-run: the server's dry run, nothing changes */
	int no_prune;           /* --no-prune */
	int wait;               /* --wait: follow rollouts */
	double wait_timeout;    /* --timeout seconds (0: 300) */
	int force_apply;        /* --force-apply: send unchanged objects too */
	int adopt;              /* --adopt */
	int take_over;          /* --take-over */
	int no_force_conflicts; /* --no-force-conflicts */
	int allow_empty;        /* --allow-empty */
	int concurrency;        /* --concurrency (0: 8) */
} appdeploy_apply_opts;

enum appdeploy_event {
	APPDEPLOY_PROGRESS, /* a line `appdeploy apply` prints on stdout ("deployment.apps/web created"), or a line of diff's text */
	APPDEPLOY_WARNING,  /* a warning (`appdeploy: warning: ...` on the CLI's stderr) */
	APPDEPLOY_ERROR,    /* a per-object error (`appdeploy: error: ...`); the run's summary comes in *err */
};

/* Called once per line, without the newline. line is valid during the call only. */
typedef void (*appdeploy_progress)(void *arg, enum appdeploy_event kind, const char *line);

/*
 * `appdeploy apply` on the set: connect, read the namespace's saved source mode, render once,
 * check ownership, apply, prune, wait, as the CLI does (opts may be NULL for the defaults).
 * progress (may be NULL) receives each line. Returns 0, or -1 with *err (the render error with its
 * position when rendering failed). Blocking; uses the network.
 */
APPDEPLOY_API int appdeploy_apply(appdeploy_set *s, const appdeploy_apply_opts *opts, appdeploy_progress progress,
				  void *arg, appdeploy_error **err);

/* `appdeploy diff`: the difference as APPDEPLOY_PROGRESS lines, *changes the number of objects that
 * would change. Returns 0, or -1 with *err (also when apply would refuse the set). */
APPDEPLOY_API int appdeploy_diff(appdeploy_set *s, const appdeploy_apply_opts *opts, appdeploy_progress progress,
				 void *arg, int *changes, appdeploy_error **err);

#ifdef __cplusplus
}
#endif

#endif
