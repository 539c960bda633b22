/* watch.c — file watching that triggers restarts: one thread owns libinotifytools, the loop debounces and polls. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotifytools.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glob.h"
#include "log.h"
#include "poll.h"
#include "status.h"
#include "strmap.h"

/* Interrupts the thread's blocking read when it must stop (no timeouts, so idle means asleep). */
#define WAKE_SIG (SIGRTMIN + 7)
#define DIR_MASK                                                                                                   \
	(IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |       \
	 IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

/* What the thread hands to the loop; guarded by watcher.mu. */
struct handoff {
	unsigned long changes;  /* relevant changes not yet taken */
	char last[PATH_MAX];    /* the latest of them */
	char **poll;            /* directories to poll instead (watch limit) */
	size_t npoll, cappoll;
	long dirs, files;       /* what inotify covers now */
	int ready;              /* the initial walk is done */
	int failed;             /* inotify could not start at all */
	unsigned long total;    /* every relevant change ever flushed (never reset) */
	int settled;            /* the latest change finished a file: a short quiet period will do */
	pid_t tid;              /* the inotify thread's id, for watch_quiet */
};

struct watcher {
	struct ev_loop *loop;
	struct supervisor *sv;
	struct config *cfg;
	char **roots;              /* normalized watch paths relative to cfg->dir ("" = dir) */
	size_t nroots;

	/* loop side */
	ev_async async;            /* the thread has something for us */
	ev_timer debounce;         /* one-shot: quiet period after the last change */
	struct ignore ig_poll;     /* the poller's own rules (the thread has its own: no sharing) */
	struct poller poll;
	int use_inotify;
	int inotify_fd;            /* the library's inotify fd (found in /proc/self/fd), -1 if unknown */
	char last_path[PATH_MAX];
	double last_wall;          /* time(2)-style seconds of the last change, 0 when none */
	unsigned long changes;     /* relevant changes seen */
	unsigned long window_changes; /* changes since the last debounce fired */
	int short_wait;               /* the debounce timer runs the short wait of a lone save */
	int limit_logged;
	int held;                     /* watch_hold: a sync is writing files; the debounce waits */

	/* shared */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct handoff q;
	volatile sig_atomic_t stop;

	/* thread side */
	pthread_t thread;
	int thread_started;
	struct ignore ig;
	struct strmap by_wd;       /* "wd" -> char *rel */
	struct strmap by_path;     /* rel -> (intptr_t)wd */
	int last_wd;               /* highest wd the kernel handed out (it allocates cyclically) */
	long files;
	unsigned long t_changes;   /* batched for the next flush */
	int t_settled;             /* the latest change finished a file (close after write, rename into place) */
	char t_last[PATH_MAX];
	char **t_poll;
	size_t t_npoll, t_cappoll;
	size_t over_limit;         /* directories that could not get a watch */
	int limit_hit;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void join_path(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s%s%s", dir, *dir ? "/" : "", name);
}

/* ---- the inotify thread ------------------------------------------------------------------ */

static void t_change(struct watcher *w, const char *rel)
{
	w->t_changes++;
	w->t_settled = 0; /* t_event sets it again for a finished file */
	snprintf(w->t_last, sizeof w->t_last, "%s", rel);
	log_debug("watch: %s changed", rel);
}

static void t_poll(struct watcher *w, const char *rel)
{
	char *copy = strdup(rel);

	if (!copy)
		return;
	if (w->t_npoll == w->t_cappoll) {
		size_t cap = w->t_cappoll ? w->t_cappoll * 2 : 16;
		char **v = realloc(w->t_poll, cap * sizeof *v);

		if (!v) {
			free(copy);
			return;
		}
		w->t_poll = v;
		w->t_cappoll = cap;
	}
	w->t_poll[w->t_npoll++] = copy;
}

/* Hands batched results to the loop and wakes it when there is news. */
static void t_flush(struct watcher *w)
{
	int wake;

	pthread_mutex_lock(&w->mu);
	w->q.dirs = (long)w->by_path.n;
	w->q.files = w->files;
	wake = w->t_changes || w->t_npoll;
	if (w->t_changes) {
		w->q.total += w->t_changes;
		w->q.changes += w->t_changes;
		w->q.settled = w->t_settled;
		memcpy(w->q.last, w->t_last, sizeof w->q.last);
		w->t_changes = 0;
	}
	for (size_t i = 0; i < w->t_npoll; i++) {
		if (w->q.npoll == w->q.cappoll) {
			size_t cap = w->q.cappoll ? w->q.cappoll * 2 : 16;
			char **v = realloc(w->q.poll, cap * sizeof *v);

			if (!v) {
				free(w->t_poll[i]);
				continue;
			}
			w->q.poll = v;
			w->q.cappoll = cap;
		}
		w->q.poll[w->q.npoll++] = w->t_poll[i];
	}
	w->t_npoll = 0;
	pthread_mutex_unlock(&w->mu);
	if (wake)
		ev_async_send(w->loop, &w->async);
}

/*
 * The wd of the watch just added on abs. The library only finds watches by name, and keeps the
 * names of watches the kernel dropped (IN_IGNORED), so a re-created directory would resolve to
 * its dead predecessor. The kernel hands out wds cyclically: a new watch is last_wd + 1.
 */
static int t_wd_of(struct watcher *w, const char *abs)
{
	const char *fn = inotifytools_filename_from_wd(w->last_wd + 1);
	int wd;

	if (fn && strcmp(fn, abs) == 0)
		return ++w->last_wd;
	wd = inotifytools_wd_from_filename(abs);
	if (wd > w->last_wd)
		w->last_wd = wd;
	return wd;
}

/* Returns 1 when rel got a watch, 2 when it had one, 0 when it cannot have one, -1 at the limit. */
static int t_add_watch(struct watcher *w, const char *rel)
{
	char abs[PATH_MAX + 2], key[16];
	char *copy;
	int n, wd;

	if (strmap_get(&w->by_path, rel))
		return 2;
	if (w->cfg->watch.max_watches > 0 && (long)w->by_path.n >= w->cfg->watch.max_watches)
		return -1;
	n = snprintf(abs, sizeof abs, "%s%s%s/", w->cfg->dir, *rel ? "/" : "", rel);
	if (n < 0 || (size_t)n >= sizeof abs)
		return 0;
	if (!inotifytools_watch_file(abs, DIR_MASK))
		return inotifytools_error() == ENOSPC ? -1 : 0;
	wd = t_wd_of(w, abs);
	if (wd <= 0)
		return 0;
	snprintf(key, sizeof key, "%d", wd);
	if (!(copy = strdup(rel)))
		return 0;
	free(strmap_del(&w->by_wd, key)); /* a wd reused after a move: the old name is stale */
	if (strmap_put(&w->by_wd, key, copy, NULL) != 0) {
		free(copy);
		return 0;
	}
	strmap_put(&w->by_path, rel, (void *)(intptr_t)wd, NULL);
	return 1;
}

struct stack {
	char **v;
	size_t n, cap;
};

static int stack_push(struct stack *s, const char *rel)
{
	char *copy = strdup(rel);

	if (!copy)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof *v);

		if (!v) {
			free(copy);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = copy;
	return 0;
}

/*
 * Watches start and every directory below it that is not pruned. report: count the files found
 * as changes (a directory that appeared with files already inside). Directories past the watch
 * limit go to the poller, whole subtrees at a time.
 */
static void t_walk(struct watcher *w, const char *start, int report)
{
	struct stack st = {0};
	char rel[PATH_MAX];

	if (stack_push(&st, start) != 0)
		return;
	while (st.n && !w->stop) {
		char *dir = st.v[--st.n];
		int r = t_add_watch(w, dir), dfd;
		DIR *d;
		struct dirent *de;

		if (r < 0) {
			w->limit_hit = 1;
			w->over_limit++;
			t_poll(w, dir);
		}
		if (r <= 0) {
			free(dir);
			continue;
		}
		dfd = openat(AT_FDCWD, w->cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && *dir) {
			int sub = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			close(dfd);
			dfd = sub;
		}
		d = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (!d) {
			if (dfd >= 0)
				close(dfd);
			free(dir);
			continue;
		}
		while ((de = readdir(d))) {
			int is_dir;

			if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			join_path(rel, sizeof rel, dir, de->d_name);
			if (de->d_type == DT_UNKNOWN) {
				struct stat sb;

				if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
					continue;
				is_dir = S_ISDIR(sb.st_mode);
			} else {
				is_dir = de->d_type == DT_DIR;
			}
			if (ignore_path(&w->ig, rel, is_dir))
				continue;
			if (is_dir) {
				stack_push(&st, rel);
			} else if (r == 1 && ignore_included(&w->ig, rel)) {
				w->files++;
				if (report)
					t_change(w, rel);
			}
		}
		closedir(d);
		free(dir);
	}
	while (st.n)
		free(st.v[--st.n]);
	free(st.v);
}

struct prefix_walk {
	const char *rel;
	size_t len;
	struct stack found;
};

static void collect_prefix(const char *key, void *val, void *arg)
{
	struct prefix_walk *pw = arg;

	(void)val;
	if (strncmp(key, pw->rel, pw->len) == 0 && (key[pw->len] == '\0' || key[pw->len] == '/' || pw->len == 0))
		stack_push(&pw->found, key);
}

/* Forgets the watches of rel and below. alive: the kernel still has them (a move), so remove them. */
static void t_unwatch_tree(struct watcher *w, const char *rel, int alive)
{
	struct prefix_walk pw = {.rel = rel, .len = strlen(rel)};
	char key[16];

	strmap_each(&w->by_path, collect_prefix, &pw);
	for (size_t i = 0; i < pw.found.n; i++) {
		int wd = (int)(intptr_t)strmap_del(&w->by_path, pw.found.v[i]);

		snprintf(key, sizeof key, "%d", wd);
		free(strmap_del(&w->by_wd, key));
		if (alive)
			inotifytools_remove_watch_by_wd(wd);
		free(pw.found.v[i]);
	}
	free(pw.found.v);
}

static void free_val(void *v) { free(v); }

/* After IN_Q_OVERFLOW nothing the library or we know can be trusted: start over. */
static int t_reset(struct watcher *w)
{
	strmap_free(&w->by_wd, free_val);
	strmap_free(&w->by_path, NULL);
	inotifytools_cleanup();
	w->last_wd = 0;
	w->files = 0;
	if (!inotifytools_initialize()) {
		log_error("watch: inotify: cannot start again after an overflow: %s", strerror(inotifytools_error()));
		return -1;
	}
	for (size_t i = 0; i < w->nroots; i++)
		t_walk(w, w->roots[i], 0);
	return 0;
}

static int is_root(const struct watcher *w, const char *rel)
{
	for (size_t i = 0; i < w->nroots; i++)
		if (strcmp(w->roots[i], rel) == 0)
			return 1;
	return 0;
}

static void t_event(struct watcher *w, const struct inotify_event *ev)
{
	char key[16], child[PATH_MAX];
	const char *dir;
	int is_dir = (ev->mask & IN_ISDIR) != 0;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("watch: the inotify event queue overflowed (fs.inotify.max_queued_events); rescanning");
		t_reset(w);
		t_change(w, "(rescan after event queue overflow)");
		return;
	}
	snprintf(key, sizeof key, "%d", ev->wd);
	if (!(dir = strmap_get(&w->by_wd, key)))
		return; /* a watch we already dropped */
	if (ev->mask & IN_IGNORED) {
		char *rel = strmap_del(&w->by_wd, key);

		if ((intptr_t)strmap_get(&w->by_path, rel) == ev->wd)
			strmap_del(&w->by_path, rel);
		free(rel);
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (is_root(w, dir))
			t_change(w, dir); /* the parent reports everything else */
		return;
	}
	if (!ev->len || !ev->name[0])
		return;
	join_path(child, sizeof child, dir, ev->name);
	if (!is_dir && w->cfg->watch.gitignore && strcmp(ev->name, ".gitignore") == 0) {
		/* New rules: directories they no longer ignore get watches (ones they now ignore keep theirs). */
		char parent[PATH_MAX];

		snprintf(parent, sizeof parent, "%s", dir);
		ignore_forget(&w->ig, parent);
		t_walk(w, parent, 0);
		t_change(w, child);
		return;
	}
	if (ignore_path(&w->ig, child, is_dir))
		return;
	if (is_dir) {
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			/* It may already hold files (mkdir -p + writes, a moved-in tree): look inside. */
			t_walk(w, child, 1);
			if (ev->mask & IN_MOVED_TO)
				t_change(w, child);
		} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
			t_unwatch_tree(w, child, (ev->mask & IN_MOVED_FROM) != 0);
			t_change(w, child);
		}
		return;
	}
	if (!ignore_included(&w->ig, child))
		return;
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		w->files++;
	else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		w->files--;
	t_change(w, child);
	w->t_settled = (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
}

static void wake_handler(int sig) { (void)sig; }

static void log_limit(struct watcher *w)
{
	long sys = inotifytools_get_max_user_watches();
	long cap = w->cfg->watch.max_watches;
	long suggest = sys > 0 ? sys * 2 : 524288;

	if (suggest < 524288)
		suggest = 524288;
	if (cap > 0 && (sys <= 0 || cap < sys))
		log_warn("watch: watch limit reached: %zu directories watched with inotify, %zu more over watch.max_watches=%ld; "
			 "%s (raise watch.max_watches, or the system limit: sysctl fs.inotify.max_user_watches=%ld)",
			 w->by_path.n, w->over_limit, cap,
			 w->cfg->watch.poll == POLL_NEVER ? "changes there are NOT seen (poll: never)" : "polling those instead",
			 suggest);
	else
		log_warn("watch: inotify watch limit reached: %zu directories watched, %zu more over "
			 "fs.inotify.max_user_watches=%ld (shared by every process of this user); %s. "
			 "Raise it on the host: sysctl fs.inotify.max_user_watches=%ld",
			 w->by_path.n, w->over_limit, sys,
			 w->cfg->watch.poll == POLL_NEVER ? "changes there are NOT seen (poll: never)" : "polling those instead",
			 suggest);
}

static void *thread_main(void *arg)
{
	struct watcher *w = arg;
	sigset_t set;
	int ok;

	sigfillset(&set);
	sigdelset(&set, WAKE_SIG);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	ok = inotifytools_initialize();
	if (ok) {
		for (size_t i = 0; i < w->nroots; i++)
			t_walk(w, w->roots[i], 0);
		if (w->limit_hit)
			log_limit(w);
	} else {
		log_error("watch: inotify unavailable: %s", strerror(inotifytools_error()));
	}
	t_flush(w);
	pthread_mutex_lock(&w->mu);
	w->q.tid = gettid();
	w->q.ready = 1;
	w->q.failed = !ok;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (!ok)
		return NULL;

	while (!w->stop) {
		/* Blocks with no timeout: idle costs nothing. WAKE_SIG interrupts it (EINTR). */
		struct inotify_event *ev = inotifytools_next_event(-1);
		size_t hit_before = w->over_limit;

		if (!ev) {
			int err = inotifytools_error();

			if (err == EINTR || err == 0)
				continue;
			log_error("watch: reading inotify events failed: %s; watching stops", strerror(err));
			break;
		}
		t_event(w, ev);
		if (w->over_limit > hit_before && !hit_before)
			log_limit(w);
		t_flush(w);
	}
	strmap_free(&w->by_wd, free_val);
	strmap_free(&w->by_path, NULL);
	inotifytools_cleanup();
	return NULL;
}

/* ---- the loop side ------------------------------------------------------------------------- */

/*
 * Restarts the quiet period. A lone finished save (an editor's close-after-write or rename into
 * place: at most SETTLED_BURST changes so far) needs only SETTLED_QUIET of quiet; anything
 * burstier (checkouts, generators, touch storms, polling) waits the whole watch.debounce.
 */
#define SETTLED_QUIET 0.005
#define SETTLED_BURST 3

static void note_change(struct watcher *w, const char *rel, unsigned long n, int settled)
{
	double quiet = w->cfg->watch.debounce > 0 ? w->cfg->watch.debounce : 0.0001;

	snprintf(w->last_path, sizeof w->last_path, "%s", rel);
	w->last_wall = wall_now();
	w->changes += n;
	w->window_changes += n;
	w->short_wait = settled && w->window_changes <= SETTLED_BURST && quiet > SETTLED_QUIET;
	if (w->short_wait)
		quiet = SETTLED_QUIET;
	ev_timer_stop(w->loop, &w->debounce);
	ev_timer_set(&w->debounce, quiet, 0);
	ev_timer_start(w->loop, &w->debounce);
}

int watch_quiet(struct watcher *w, unsigned long *generation);

static void debounce_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watcher *w = t->data;
	unsigned long gen;

	(void)revents;
	if (w->held)
		return; /* watch_absorb decides: the sync's own cycle covers these changes */
	/* The short wait of a lone save only holds if nothing else is on its way: inside a burst
	 * (a slow writer, a loaded machine) wait the whole debounce instead. */
	if (w->short_wait && !watch_quiet(w, &gen)) {
		w->short_wait = 0;
		ev_timer_set(t, w->cfg->watch.debounce, 0);
		ev_timer_start(loop, t);
		return;
	}
	w->short_wait = 0;
	w->window_changes = 0;
	sv_request(w->sv, "watch", 0);
}

static void poll_change(const char *rel, void *arg)
{
	log_debug("watch: %s changed (poll)", rel);
	note_change(arg, rel, 1, 0);
}

static void async_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct watcher *w = a->data;
	unsigned long changes;
	char last[PATH_MAX];
	char **polls;
	size_t npoll;
	int settled;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&w->mu);
	changes = w->q.changes;
	settled = w->q.settled;
	memcpy(last, w->q.last, sizeof last);
	polls = w->q.poll;
	npoll = w->q.npoll;
	w->q.changes = 0;
	w->q.poll = NULL;
	w->q.npoll = w->q.cappoll = 0;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < npoll; i++) {
		if (w->cfg->watch.poll != POLL_NEVER)
			poll_add_tree(&w->poll, polls[i]);
		free(polls[i]);
	}
	free(polls);
	if (changes)
		note_change(w, last, changes, settled);
}

static const char *mode_name(struct watcher *w)
{
	int polled = w->poll.dirs.n > 0;
	int inotify;

	pthread_mutex_lock(&w->mu);
	inotify = w->use_inotify && !w->q.failed && w->q.dirs > 0;
	pthread_mutex_unlock(&w->mu);
	return inotify && polled ? "mixed" : polled ? "poll" : inotify ? "inotify" : "off";
}

static void status_hook(json_t *obj, void *ctx)
{
	struct watcher *w = ctx;
	long dirs, files;

	pthread_mutex_lock(&w->mu);
	dirs = w->q.dirs;
	files = w->q.files;
	pthread_mutex_unlock(&w->mu);
	json_object_set_new(obj, "mode", json_string(mode_name(w)));
	json_object_set_new(obj, "dirs", json_integer(dirs + (long)w->poll.dirs.n));
	json_object_set_new(obj, "files", json_integer(files + (long)w->poll.files));
	json_object_set_new(obj, "polled_dirs", json_integer((json_int_t)w->poll.dirs.n));
	json_object_set_new(obj, "changes", json_integer((json_int_t)w->changes));
	if (w->last_wall > 0)
		json_object_set_new(obj, "last_event",
				    json_pack("{s:s, s:f, s:I}", "path", w->last_path, "time", w->last_wall, "age_ms",
					      (json_int_t)((wall_now() - w->last_wall) * 1000)));
	else
		json_object_set_new(obj, "last_event", json_null());
}

/* Watch paths relative to cfg->dir; paths outside it, or not directories, are skipped with a warning. */
static int normalize_roots(struct watcher *w)
{
	size_t n = strlist_len(w->cfg->watch.paths);

	if (!(w->roots = calloc(n + 1, sizeof *w->roots)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = w->cfg->watch.paths[i];
		char buf[PATH_MAX], *real;
		const char *rel;
		struct stat st;

		if (p[0] == '/')
			snprintf(buf, sizeof buf, "%s", p);
		else
			snprintf(buf, sizeof buf, "%s/%s", w->cfg->dir, p);
		real = realpath(buf, NULL);
		if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
			log_warn("watch: %s: %s; not watched", p, real ? "not a directory" : strerror(errno));
			free(real);
			continue;
		}
		if (!(rel = path_rel(w->cfg->dir, real))) {
			log_warn("watch: %s is outside %s; not watched", p, w->cfg->dir);
			free(real);
			continue;
		}
		w->roots[w->nroots] = strdup(rel);
		free(real);
		if (!w->roots[w->nroots])
			return -1;
		w->nroots++;
	}
	return 0;
}

static int init_ignore(struct watcher *w, struct ignore *ig)
{
	struct config *cfg = w->cfg;

	if (ignore_init(ig, cfg->dir, cfg->watch.exclude, cfg->watch.include, cfg->watch.gitignore) != 0)
		return -1;
	/* what the build writes must not trigger the next build */
	ignore_add_extra(ig, path_rel(cfg->dir, cfg->cache.dir));
	for (size_t i = 0; cfg->cache.outputs && cfg->cache.outputs[i]; i++) {
		const char *o = cfg->cache.outputs[i];

		ignore_add_extra(ig, o[0] == '/' ? path_rel(cfg->dir, o) : o);
	}
	return 0;
}

int watch_start(struct watcher **out, struct ev_loop *loop, struct supervisor *sv)
{
	struct watcher *w;
	struct sigaction sa;
	double t0 = ev_time();

	*out = NULL;
	if (!sv->cfg->watch.paths)
		return 0;
	if ((w = calloc(1, sizeof *w)))
		w->inotify_fd = -1;
	if (!w) {
		log_error("watch: out of memory");
		return -1;
	}
	w->loop = loop;
	w->sv = sv;
	w->cfg = sv->cfg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	ev_async_init(&w->async, async_cb);
	w->async.data = w;
	ev_async_start(loop, &w->async);
	ev_timer_init(&w->debounce, debounce_cb, 0, 0);
	w->debounce.data = w;
	if (normalize_roots(w) != 0 || init_ignore(w, &w->ig) != 0 || init_ignore(w, &w->ig_poll) != 0) {
		log_error("watch: out of memory");
		watch_stop(w);
		return -1;
	}
	poll_init(&w->poll, loop, &w->ig_poll, w->cfg->watch.poll_interval, poll_change, w);
	*out = w;
	status_watch_hook = status_hook;
	status_watch_ctx = w;

	if (w->cfg->watch.poll != POLL_ALWAYS) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = wake_handler; /* no SA_RESTART: the blocked read must fail with EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(WAKE_SIG, &sa, NULL);
		w->use_inotify = 1;
		if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
			log_error("watch: cannot start the inotify thread");
			w->use_inotify = 0;
		} else {
			w->thread_started = 1;
			pthread_mutex_lock(&w->mu);
			while (!w->q.ready)
				pthread_cond_wait(&w->cv, &w->mu);
			pthread_mutex_unlock(&w->mu);
			if (w->q.failed)
				w->use_inotify = 0;
			async_cb(loop, &w->async, 0); /* take the over-limit directories now */
		}
	}
	if (!w->use_inotify) {
		if (w->cfg->watch.poll == POLL_NEVER) {
			log_error("watch: inotify is unavailable and poll: never; changes are not seen");
		} else {
			for (size_t i = 0; i < w->nroots; i++)
				poll_add_tree(&w->poll, w->roots[i]);
		}
	}
	{
		json_t *st = json_object();

		status_hook(st, w);
		log_info("watch: %s, %lld directories, %lld files (%.0f ms)", mode_name(w),
			 (long long)json_integer_value(json_object_get(st, "dirs")),
			 (long long)json_integer_value(json_object_get(st, "files")), (ev_time() - t0) * 1000);
		json_decref(st);
	}
	return 0;
}

void watch_stop(struct watcher *w)
{
	if (!w)
		return;
	if (w->thread_started) {
		struct timespec ts;

		w->stop = 1;
		/* The signal may land just before the thread blocks: repeat until it has left. */
		for (;;) {
			pthread_kill(w->thread, WAKE_SIG);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0)
				break;
		}
	}
	if (status_watch_ctx == w) {
		status_watch_hook = NULL;
		status_watch_ctx = NULL;
	}
	ev_async_stop(w->loop, &w->async);
	ev_timer_stop(w->loop, &w->debounce);
	poll_free(&w->poll);
	for (size_t i = 0; i < w->q.npoll; i++)
		free(w->q.poll[i]);
	free(w->q.poll);
	for (size_t i = 0; i < w->t_npoll; i++)
		free(w->t_poll[i]);
	free(w->t_poll);
	for (size_t i = 0; w->roots && i < w->nroots; i++)
		free(w->roots[i]);
	free(w->roots);
	ignore_free(&w->ig);
	ignore_free(&w->ig_poll);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* ---- is every change already counted? (the cache's shortcut) ------------------------------ */

/* The library keeps its inotify fd private: find it among ours. */
static int find_inotify_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], target[64];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			if (!strcmp(target, "anon_inode:inotify"))
				found = atoi(de->d_name);
		}
	}
	closedir(d);
	return found;
}

/* True when the thread sits in its select() on the inotify fd, i.e. the library has no
 * buffered events left and everything it read has been counted and flushed. */
static int thread_waiting(struct watcher *w, pid_t tid)
{
	char path[64], line[256];
	FILE *f;
	long nr = -1, nfds = -1;

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	if (!(f = fopen(path, "re")))
		return 0;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	if (sscanf(line, "%ld 0x%lx", &nr, &nfds) != 2)
		return 0; /* "running" */
	/* pselect6/select with nfds = fd + 1 (what libinotifytools does before read), or read(fd). */
	return ((nr == 270 || nr == 23) && nfds == w->inotify_fd + 1) || (nr == 0 && nfds == w->inotify_fd);
}

int watch_quiet(struct watcher *w, unsigned long *generation)
{
	unsigned long before, after;
	int pending = 1, polled;
	pid_t tid;

	if (!w || !w->use_inotify || w->nroots != strlist_len(w->cfg->watch.paths))
		return 0; /* a watch path was skipped: the watcher does not see everything the cache reads */
	pthread_mutex_lock(&w->mu);
	before = w->q.total;
	tid = w->q.tid;
	polled = w->q.failed || w->q.npoll > 0;
	pthread_mutex_unlock(&w->mu);
	*generation = before;
	if (polled || w->poll.dirs.n > 0 || !tid)
		return 0;
	if (w->inotify_fd < 0 && (w->inotify_fd = find_inotify_fd()) < 0)
		return 0;
	if (!thread_waiting(w, tid) || ioctl(w->inotify_fd, FIONREAD, &pending) != 0 || pending != 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	after = w->q.total;
	pthread_mutex_unlock(&w->mu);
	return before == after;
}

unsigned long watch_generation(struct watcher *w)
{
	unsigned long g;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	g = w->q.total;
	pthread_mutex_unlock(&w->mu);
	return g;
}

/* ---- the sync's hook: its own writes fold into its own cycle (syncapi.c) ------------------ */

void watch_hold(struct watcher *w)
{
	if (w)
		w->held = 1;
}

int watch_absorb(struct watcher *w, int force)
{
	unsigned long gen;

	if (!w)
		return 1;
	if (!force && w->use_inotify && !watch_quiet(w, &gen))
		return 0;
	pthread_mutex_lock(&w->mu);
	w->q.changes = 0;
	pthread_mutex_unlock(&w->mu);
	ev_timer_stop(w->loop, &w->debounce);
	w->short_wait = 0;
	w->window_changes = 0;
	w->held = 0;
	return 1;
}
