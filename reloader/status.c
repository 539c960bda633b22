/* status.c — what GET /status and GET /metrics say about the supervisor. */
#include "status.h"

#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "proc.h"

void (*status_watch_hook)(json_t *watch, void *ctx);
void *status_watch_ctx;
void (*status_watch_metrics_hook)(FILE *f, void *ctx);

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *status_json(struct supervisor *sv)
{
	size_t tail_len = 0;
	char *tail = logring_tail_len(&sv->build_log, 20, 4096, &tail_len);
	json_t *watch = json_object();
	json_t *st;

	if (status_watch_hook)
		status_watch_hook(watch, status_watch_ctx);
	else
		json_object_set_new(watch, "mode", json_string("off"));
	st = json_pack("{s:s, s:o, s:I, s:I, s:I, s:b, s:{s:b, s:b, s:I, s:i, s:s}, "
		       "s:{s:s, s:I, s:I, s:I, s:I}, s:o, s:{s:s, s:I, s:o}}",
		       "state", sv_state_name(sv->state),
		       "pid", sv->svc && sv->svc->pid ? json_integer(sv->svc->pid) : json_null(),
		       "restarts", (json_int_t)sv->restarts,
		       "crashes", (json_int_t)sv->crashes,
		       "cycle", (json_int_t)sv->cycle,
		       "ready", sv->ready_ok && sv->svc && sv->svc->pid,
		       "build",
		       "ok", sv->build.ok,
		       "cached", sv->build.cached,
		       "duration_ms", (json_int_t)sv->build.duration_ms,
		       "exit_code", sv->build.exit_code,
		       "log_tail", "",
		       "last_restart",
		       "trigger", sv->last.trigger,
		       "build_ms", (json_int_t)sv->last.build_ms,
		       "stop_ms", (json_int_t)sv->last.stop_ms,
		       "start_ms", (json_int_t)sv->last.start_ms,
		       "ready_ms", (json_int_t)sv->last.ready_ms,
		       "watch", watch,
		       "backoff",
		       "phase", sv->phase == PH_BACKOFF ? "waiting" : "idle",
		       "next_ms", (json_int_t)(sv->backoff_next * 1000),
		       "crash_streak", json_integer(sv->crash_streak));
	/* Build output is bytes: kept exactly where valid UTF-8, replaced where not (NULs escaped). */
	json_object_set_new(json_object_get(st, "build"), "log_tail", jsontext_string(tail ? tail : "", tail_len));
	free(tail);
	json_object_set_new(st, "busy", json_boolean(sv->phase != PH_IDLE && sv->phase != PH_BACKOFF));
	json_object_set_new(st, "exit_status",
			    sv->svc_status < 0 ? json_null() : json_integer(WIFEXITED(sv->svc_status)
										     ? WEXITSTATUS(sv->svc_status)
										     : 128 + WTERMSIG(sv->svc_status)));
	return st;
}

char *status_metrics(struct supervisor *sv)
{
	static const enum sv_state states[] = {SV_STARTING, SV_BUILDING, SV_RUNNING, SV_BUILD_FAILED, SV_CRASHED,
					       SV_STOPPED};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fprintf(f, "# HELP reloader_restarts_total Service restarts (pokes, signals, file changes, crashes).\n"
		   "# TYPE reloader_restarts_total counter\nreloader_restarts_total %lu\n",
		sv->restarts);
	fprintf(f, "# HELP reloader_builds_total Builds run (cached skips not counted).\n"
		   "# TYPE reloader_builds_total counter\nreloader_builds_total %lu\n",
		sv->builds);
	fprintf(f, "# HELP reloader_builds_cached_total Builds skipped because inputs were unchanged.\n"
		   "# TYPE reloader_builds_cached_total counter\nreloader_builds_cached_total %lu\n",
		sv->builds_cached);
	fprintf(f, "# HELP reloader_build_failures_total Builds that failed.\n"
		   "# TYPE reloader_build_failures_total counter\nreloader_build_failures_total %lu\n",
		sv->build_failures);
	fprintf(f, "# HELP reloader_build_duration_seconds Time spent building.\n"
		   "# TYPE reloader_build_duration_seconds summary\n"
		   "reloader_build_duration_seconds_sum %.3f\nreloader_build_duration_seconds_count %lu\n",
		sv->build_seconds_total, sv->builds);
	fprintf(f, "# HELP reloader_crashes_total Service exits reloader did not ask for.\n"
		   "# TYPE reloader_crashes_total counter\nreloader_crashes_total %lu\n",
		sv->crashes);
	fprintf(f, "# HELP reloader_state Current state (1 for the state it is in).\n# TYPE reloader_state gauge\n");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		fprintf(f, "reloader_state{state=\"%s\"} %d\n", sv_state_name(states[i]), sv->state == states[i]);
	fprintf(f, "# HELP reloader_last_restart_milliseconds Phases of the last restart.\n"
		   "# TYPE reloader_last_restart_milliseconds gauge\n"
		   "reloader_last_restart_milliseconds{phase=\"build\"} %ld\n"
		   "reloader_last_restart_milliseconds{phase=\"stop\"} %ld\n"
		   "reloader_last_restart_milliseconds{phase=\"start\"} %ld\n"
		   "reloader_last_restart_milliseconds{phase=\"ready\"} %ld\n",
		sv->last.build_ms, sv->last.stop_ms, sv->last.start_ms, sv->last.ready_ms);
	fprintf(f, "# HELP reloader_open_fds Open file descriptors of reloader.\n"
		   "# TYPE reloader_open_fds gauge\nreloader_open_fds %d\n",
		proc_open_fds());
	fprintf(f, "# HELP reloader_zombies Exited children not yet reaped.\n"
		   "# TYPE reloader_zombies gauge\nreloader_zombies %d\n",
		proc_zombie_children());
	fprintf(f, "# HELP reloader_peak_rss_bytes Peak resident memory of reloader.\n"
		   "# TYPE reloader_peak_rss_bytes gauge\nreloader_peak_rss_bytes %ld\n",
		proc_peak_rss_kb() * 1024);
	if (status_watch_metrics_hook)
		status_watch_metrics_hook(f, status_watch_ctx);
	fclose(f);
	return out;
}

/* One "key: value" line per scalar, nested keys joined with dots; multi-line strings as an
 * indented block after their key. */
static void text_of(FILE *f, json_t *v, const char *prefix)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *item;
		void *it;
		const char **keys = calloc(json_object_size(v) + 1, sizeof *keys);
		size_t n = 0;

		if (!keys)
			return;
		json_object_foreach(v, k, item) keys[n++] = k;
		qsort(keys, n, sizeof *keys, cmp_keys);
		for (size_t i = 0; i < n; i++) {
			char path[256];

			if (!*prefix && !strcmp(keys[i], "state"))
				continue; /* printed first by status_text */
			snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", keys[i]);
			it = json_object_get(v, keys[i]);
			text_of(f, it, path);
		}
		free(keys);
		return;
	}
	if (json_is_string(v) && strchr(json_string_value(v), '\n')) {
		const char *s = json_string_value(v);

		fprintf(f, "%s:\n", prefix);
		while (*s) {
			const char *nl = strchr(s, '\n');
			int len = nl ? (int)(nl - s) : (int)strlen(s);

			fprintf(f, "  | %.*s\n", len, s);
			s += len + (nl ? 1 : 0);
		}
		return;
	}
	if (json_is_string(v)) {
		fprintf(f, "%s: %s\n", prefix, json_string_value(v));
		return;
	}
	{
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(f, "%s: %s\n", prefix, s ? s : "?");
		free(s);
	}
}

char *status_text(json_t *st)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (json_is_string(json_object_get(st, "state")))
		fprintf(f, "state: %s\n", json_string_value(json_object_get(st, "state")));
	text_of(f, st, "");
	fclose(f);
	return out;
}
