/* config.h — reloader's settings: runner file < config file < RELOADER_* env < flags. */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H

#include <stddef.h>

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum poll_mode { POLL_AUTO, POLL_ALWAYS, POLL_NEVER };

/* A NULL-terminated list of strings (argv-style); NULL when unset. */
typedef char **strlist;

struct config {
	char *dir;            /* absolute working directory of build and service */
	char *build;          /* build command for `sh -c`, NULL for none */
	double build_timeout; /* seconds a build may run before its group is killed, 0: no limit */
	strlist run;          /* service argv (a `run` string becomes sh -c STRING) */
	strlist env;          /* extra environment, "NAME=value" entries, ${VAR} expanded */
	struct {
		strlist paths;          /* directories/files to watch, relative to dir */
		strlist include;        /* globs a change must match (empty: everything) */
		strlist exclude;        /* globs pruned from watching */
		int gitignore;          /* honour .gitignore files */
		double debounce;        /* seconds of quiet after the last event */
		enum poll_mode poll;    /* auto: inotify, polling past the watch limit */
		double poll_interval;   /* seconds between polls */
		long max_watches;       /* cap on inotify watches (0: the system's limit) */
		strlist data;           /* globs of files the service writes at run time: never a restart */
		strlist build_writes;   /* globs of inputs the build itself writes (Cargo.lock): no new cycle */
		int default_excludes;   /* prune editor temp files, VCS folders, .DS_Store ... */
		long loop_limit;        /* file-triggered restarts per loop_window before the guard stops them (0: off) */
		double loop_window;     /* seconds; also the quiet time after which the guard lets go */
	} watch;
	struct {
		char *dir;       /* absolute cache directory (fingerprints, outputs, tool caches) */
		strlist inputs;  /* globs of build inputs (default: the watched include set) */
		strlist outputs; /* files the build produces, relative to dir */
	} cache;
	struct {
		int signal;     /* sent to the service's process group first */
		double timeout; /* seconds before SIGKILL */
	} stop;
	struct {
		enum restart_policy on_exit;
		double backoff_min; /* first crash-restart delay, seconds */
		double backoff_max; /* cap of the doubling delay, seconds */
	} restart;
	struct {
		char *tcp;      /* "host:port" to connect to, NULL for none */
		char *http;     /* http://host:port/path that must answer 2xx/3xx, NULL for none */
		double timeout; /* seconds to wait for readiness */
		double settle;  /* without a check: seconds the new process must stay up before it counts as running */
	} ready;
	struct {
		char *listen;     /* "host:port"; NULL when "none" */
		char *token;      /* contents of token_file, NULL when no token */
		char *token_file; /* where the token came from */
		int sync;         /* the /sync/ endpoints may write the source tree (needs a token) */
	} control;
	char *runner;      /* runner name, for status */
	char *config_file; /* the config file used, for messages */
};

/*
 * Fills cfg from the runner file, config file, RELOADER_* environment and argv, in that
 * order of precedence (later wins). On a bad value prints "FILE:LINE:COL: message" (or the
 * variable or flag name) to stderr and returns 2; returns 1 after --help/--version output
 * (exit 0); returns 0 when cfg is ready (free it with config_free). On 1 or 2 nothing is left
 * allocated in cfg.
 */
int config_load(struct config *cfg, int argc, char **argv);
void config_free(struct config *cfg);

/* Prints the usage text to stdout. */
void config_usage(void);

/* Signal number for "TERM", "SIGTERM" or "15"; -1 when unknown. */
int config_signal_number(const char *name);
/* Name without the SIG prefix ("TERM"); "?" when unknown. */
const char *config_signal_name(int sig);

size_t strlist_len(strlist l);
void strlist_free(strlist l);

#endif
