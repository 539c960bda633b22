/* watch.c — file watching that triggers restarts: one thread owns the inotify instance, the loop debounces and polls.
 *
 * Departure from DESIGN.md: inotify is used directly, not through libinotifytools. The library
 * keeps a record per watch (absolute name, counters, two tree nodes: ~3 MB for 10,000
 * directories) beside ours; we need only wd -> directory, and inotify_add_watch returns the wd. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "contents.h"
#include "dirmap.h"
#include "glob.h"
#include "ignoredefs.h"
#include "log.h"
#include "loopguard.h"
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
	unsigned long unchanged; /* events on watched files that left their content as it was, not yet taken */
	int settled;            /* the latest change finished a file: a short quiet period will do */
	pid_t tid;              /* the inotify thread's id, for watch_quiet */
	unsigned long sync_req; /* barrier requests (the loop's), and ... */
	unsigned long synced;   /* ... the latest one the thread has reached */
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
	int inotify_fd;            /* the thread's inotify fd (guarded by mu: an overflow replaces it), -1 if none */
	int sync_fd;               /* a private temp file: touching it queues an event behind every earlier one */
	char sync_path[64];
	char last_path[PATH_MAX];
	double last_wall;          /* time(2)-style seconds of the last change, 0 when none */
	unsigned long changes;     /* relevant changes seen */
	unsigned long window_changes; /* changes since the last debounce fired */
	int short_wait;               /* the debounce timer runs the short wait of a lone save */
	int waited_missing;           /* this quiet period was extended once for a missing file */
	int limit_logged;
	unsigned long ignored;        /* quiet periods that ended with every watched file as it was: no restart */
	unsigned long unchanged_total; /* events on watched files that did not change their content */

	struct loopguard guard;       /* file-triggered restarts in a row with no poke */
	int held;                     /* watch_hold: a sync is writing files; the debounce waits */
	struct strmap expect;         /* guarded by mu: rel -> struct watch_known the sync wrote (watch_expect) */

	/* shared */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct handoff q;
	volatile sig_atomic_t stop;
	struct contents ct;        /* what each watched file holds, against the last cycle's start */
	int building;              /* a build runs: changes to build_writes files are its own */
	struct patlist build_writes;
	char **pending;            /* watch paths that do not exist yet (relative), picked up when they appear */
	size_t npending;

	/* thread side */
	pthread_t thread;
	int thread_started;
	struct ignore ig;
	struct dirmap dirs;        /* wd <-> rel of every watched directory */
	int ifd;                   /* the inotify instance, -1 before it exists */
	int sync_wd;               /* watch on sync_path: the loop's barrier events */
	int reset;                 /* t_reset ran: the rest of the read batch belongs to the old instance */
	struct strmap pend_dirs;   /* nearest existing parents of pending paths (watched, not recursively) */
	long unsure_bytes;         /* event bytes queued before the hash pass ended, still to be read */
	size_t t_listed;           /* files the first walk found */
	unsigned long t_changes;   /* batched for the next flush */
	unsigned long t_unchanged;
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

/* An event on a watched file that left its content as it was (a touch, a same-content save). */
static void t_unchanged(struct watcher *w, const char *rel)
{
	w->t_unchanged++;
	if (!w->t_changes)
		snprintf(w->t_last, sizeof w->t_last, "%s", rel);
	log_debug("watch: %s: event, content unchanged", rel);
}

/*
 * Records what file rel (dirfd/name, in the directory watched as wd) holds now. track: report a
 * change (0 in the initial walk, which defines the state). While a build runs, files matching
 * watch.build_writes take what it wrote as their new state (Cargo.lock, go.sum, generated code).
 */
static void t_file(struct watcher *w, int dirfd, const char *name, const char *rel, int wd, int track)
{
	uint32_t val;
	ct_key_t key;
	int changed, own = 0;

	if (!track) {
		w->t_listed++; /* the first walk only counts: the hash pass reads them into a table of the right size */
		return;
	}
	val = 0;
	{ /* a file the sync just wrote: its value is known while it is still that file */
		struct watch_known *k;
		struct stat sb;

		pthread_mutex_lock(&w->mu);
		k = w->expect.n ? strmap_del(&w->expect, rel) : NULL;
		pthread_mutex_unlock(&w->mu);
		if (k && fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
		    (unsigned long long)sb.st_ino == k->ino && (unsigned long long)sb.st_size == k->size &&
		    (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec == k->mtime_ns)
			val = k->val;
		free(k);
	}
	if (!val)
		val = ct_read(dirfd, name, NULL);
	key = ct_key(rel);

	pthread_mutex_lock(&w->mu);
	changed = ct_set(&w->ct, key, val, wd, track);
	if (track && changed > 0 && w->building && w->build_writes.n && patlist_match(&w->build_writes, rel, 0) > 0) {
		ct_absorb(&w->ct, key);
		own = 1;
	}
	if (track && changed && ct_is_dirty(&w->ct, key))
		ct_note_path(&w->ct, rel);
	pthread_mutex_unlock(&w->mu);
	if (!track)
		return;
	if (own)
		log_debug("watch: %s written by the build: not a change", rel);
	if (changed && !own)
		t_change(w, rel);
	else
		t_unchanged(w, rel);
}


/*
 * Reads a file the first walk listed. One that changed after the watches were set up (since_ns)
 * may have changed after the first build read it, and its event is still queued: marked unsure,
 * so that event counts as a change.
 */
static void t_hash_listed(struct watcher *w, int dirfd, const char *name, const char *rel, int wd, int64_t since_ns)
{
	ct_key_t key = ct_key(rel);
	int64_t ctime_ns = 0;
	uint32_t val;

	val = ct_read(dirfd, name, &ctime_ns);
	if (val == CT_ABSENT)
		return; /* gone again: its events say so */
	if (ctime_ns >= since_ns)
		val |= CT_UNSURE;
	pthread_mutex_lock(&w->mu);
	ct_set(&w->ct, key, val, wd, 0);
	pthread_mutex_unlock(&w->mu);
}

static void t_clear_unsure(struct watcher *w)
{
	pthread_mutex_lock(&w->mu);
	ct_clear_unsure(&w->ct);
	pthread_mutex_unlock(&w->mu);
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
	w->q.dirs = (long)w->dirs.n;
	w->q.files = (long)(w->ct.n ? w->ct.n : w->t_listed);
	wake = w->t_changes || w->t_npoll || w->t_unchanged;
	w->q.unchanged += w->t_unchanged;
	w->t_unchanged = 0;
	if (w->t_changes || w->q.unchanged)
		memcpy(w->q.last, w->t_last, sizeof w->q.last);
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

/* Returns 1 when rel got a watch, 2 when it had one, 0 when it cannot have one, -1 at the limit. */
static int t_add_watch(struct watcher *w, const char *rel)
{
	char abs[PATH_MAX + 2];
	int n, wd;

	if (dm_wd(&w->dirs, rel))
		return 2;
	if (w->cfg->watch.max_watches > 0 && (long)w->dirs.n >= w->cfg->watch.max_watches)
		return -1;
	n = snprintf(abs, sizeof abs, "%s%s%s/", w->cfg->dir, *rel ? "/" : "", rel);
	if (n < 0 || (size_t)n >= sizeof abs)
		return 0;
	if ((wd = inotify_add_watch(w->ifd, abs, DIR_MASK)) < 0)
		return errno == ENOSPC ? -1 : 0;
	if (dm_put(&w->dirs, wd, rel) != 0) {
		inotify_rm_watch(w->ifd, wd);
		return 0;
	}
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
enum { WALK_LIST = 0, WALK_REPORT = 1, WALK_HASH = 2 };

static void t_walk_mode(struct watcher *w, const char *start, int mode, int64_t since_ns)
{
	struct stack st = {0};
	char rel[PATH_MAX];
	int report = mode == WALK_REPORT;

	if (stack_push(&st, start) != 0)
		return;
	while (st.n && !w->stop) {
		char *dir = st.v[--st.n];
		/* the hash pass visits what the first walk watched, and adds nothing */
		int r = mode == WALK_HASH ? (dm_wd(&w->dirs, dir) ? 2 : 0) : t_add_watch(w, dir), dfd;
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
		int dir_wd = dm_wd(&w->dirs, dir);

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
			} else if (mode == WALK_HASH && ignore_included(&w->ig, rel)) {
				t_hash_listed(w, dirfd(d), de->d_name, rel, dir_wd, since_ns);
			} else if (r == 1 && ignore_included(&w->ig, rel)) {
				t_file(w, dirfd(d), de->d_name, rel, dir_wd, report);
			}
		}
		closedir(d);
		free(dir);
	}
	while (st.n)
		free(st.v[--st.n]);
	free(st.v);
}

/*
 * Watches start and every directory below it that is not pruned; report: the files found are
 * changes (a directory that appeared with files inside), else they are only listed for the
 * hash pass (t_hash_all), which reads them once every watch is in place.
 */
static void t_walk(struct watcher *w, const char *start, int report)
{
	t_walk_mode(w, start, report ? WALK_REPORT : WALK_LIST, 0);
}

static void t_hash_all(struct watcher *w, int64_t since_ns)
{
	pthread_mutex_lock(&w->mu);
	ct_reserve(&w->ct, w->t_listed + 64);
	pthread_mutex_unlock(&w->mu);
	w->t_listed = 0;
	for (size_t i = 0; i < w->nroots && !w->stop; i++)
		t_walk_mode(w, w->roots[i], WALK_HASH, since_ns);
}

/* The clock file timestamps come from (the kernel's coarse clock): a change after now has a ctime >= it. */
static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct wd_list {
	int *v;
	size_t n, cap;
};

struct prefix_walk {
	const char *rel;
	size_t len;
	struct wd_list found; /* the wds of rel and below */
};

static void collect_prefix(const char *key, int wd, void *arg)
{
	struct prefix_walk *pw = arg;
	struct wd_list *wl = &pw->found;

	if (strncmp(key, pw->rel, pw->len) == 0 && (key[pw->len] == '\0' || key[pw->len] == '/' || pw->len == 0)) {
		if (wl->n == wl->cap) {
			size_t cap = wl->cap ? wl->cap * 2 : 16;
			int *v = realloc(wl->v, cap * sizeof *v);

			if (!v)
				return;
			wl->v = v;
			wl->cap = cap;
		}
		wl->v[wl->n++] = wd;
	}
}

/* Forgets the watches of rel and below. alive: the kernel still has them (a move), so remove them. */
static void t_unwatch_tree(struct watcher *w, const char *rel, int alive)
{
	struct prefix_walk pw = {.rel = rel, .len = strlen(rel)};
	struct wd_list *wl = &pw.found;

	dm_each(&w->dirs, collect_prefix, &pw);
	for (size_t i = 0; i < wl->n; i++) {
		dm_del(&w->dirs, wl->v[i]);
		if (alive)
			inotify_rm_watch(w->ifd, wl->v[i]);
	}
	/* the files that were in there are gone from the watched tree */
	pthread_mutex_lock(&w->mu);
	ct_forget_dirs(&w->ct, wl->v, wl->n);
	pthread_mutex_unlock(&w->mu);
	free(wl->v);
}


/* A fresh inotify instance (the loop side's copy of the fd too). */
static int t_open(struct watcher *w)
{
	int fd = inotify_init1(IN_CLOEXEC);

	w->sync_wd = fd >= 0 && w->sync_fd >= 0 ? inotify_add_watch(fd, w->sync_path, IN_ATTRIB) : -1;
	pthread_mutex_lock(&w->mu);
	w->inotify_fd = fd;
	pthread_mutex_unlock(&w->mu);
	w->ifd = fd;
	return fd;
}

static void t_pending(struct watcher *w);

/* After IN_Q_OVERFLOW nothing we know can be trusted: start over with a new instance. */
static int t_reset(struct watcher *w)
{
	dm_free(&w->dirs);
	strmap_free(&w->pend_dirs, NULL);
	close(w->ifd);
	w->reset = 1;
	pthread_mutex_lock(&w->mu);
	ct_reset(&w->ct); /* every file is read again; the next quiet period restarts (forced) */
	pthread_mutex_unlock(&w->mu);
	if (t_open(w) < 0) {
		log_error("watch: inotify: cannot start again after an overflow: %s", strerror(errno));
		return -1;
	}
	if (w->npending)
		t_pending(w);
	{
		int64_t since = wall_ns();

		for (size_t i = 0; i < w->nroots; i++)
			t_walk(w, w->roots[i], 0);
		t_hash_all(w, since);
		t_clear_unsure(w); /* the rescan counts as a change anyway (forced) */
	}
	return 0;
}

static int is_root(const struct watcher *w, const char *rel)
{
	for (size_t i = 0; i < w->nroots; i++)
		if (strcmp(w->roots[i], rel) == 0)
			return 1;
	return 0;
}

static int under_root(const struct watcher *w, const char *rel)
{
	for (size_t i = 0; i < w->nroots; i++) {
		size_t n = strlen(w->roots[i]);

		if (!n || (strncmp(rel, w->roots[i], n) == 0 && (rel[n] == '\0' || rel[n] == '/')))
			return 1;
	}
	return 0;
}

/*
 * Watch paths that did not exist yet: each one that exists now becomes a root (walked, its files
 * reported); the others get a watch on their nearest existing parent, whose creations bring us
 * back here. Watch first, then look, so a directory made in between is not missed.
 */
static void t_pending(struct watcher *w)
{
	for (size_t i = 0; i < w->npending;) {
		const char *rel = w->pending[i];
		char abs[PATH_MAX * 2 + 2], parent[PATH_MAX];
		struct stat st;

		snprintf(abs, sizeof abs, "%s/%s", w->cfg->dir, rel);
		if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
			char *root = w->pending[i];

			pthread_mutex_lock(&w->mu);
			w->pending[i] = w->pending[--w->npending];
			w->roots[w->nroots++] = root;
			pthread_mutex_unlock(&w->mu);
			log_info("watch: %s appeared: watching it", root);
			t_walk(w, root, 1);
			t_change(w, root);
			continue;
		}
		snprintf(parent, sizeof parent, "%s", rel);
		for (;;) {
			char *slash = strrchr(parent, '/');

			if (slash)
				*slash = '\0';
			else
				parent[0] = '\0';
			snprintf(abs, sizeof abs, "%s%s%s", w->cfg->dir, *parent ? "/" : "", parent);
			if (!*parent || (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)))
				break;
		}
		if (!dm_wd(&w->dirs, parent) && t_add_watch(w, parent) == 1) {
			strmap_put(&w->pend_dirs, parent, (void *)1, NULL);
			continue; /* look again: it may have appeared meanwhile */
		}
		i++;
	}
}

static void t_event(struct watcher *w, const struct inotify_event *ev)
{
	char child[PATH_MAX];
	const char *dir;
	int is_dir = (ev->mask & IN_ISDIR) != 0;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("watch: the inotify event queue overflowed (fs.inotify.max_queued_events); rescanning");
		t_reset(w);
		t_change(w, "(rescan after event queue overflow)");
		return;
	}
	if (ev->wd == w->sync_wd && w->sync_wd >= 0) {
		/* the loop's barrier: every event queued before it has been handled (and flushed) */
		t_flush(w);
		pthread_mutex_lock(&w->mu);
		w->q.synced = w->q.sync_req;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		return;
	}
	if (!(dir = dm_rel(&w->dirs, ev->wd)))
		return; /* a watch we already dropped */
	if (w->npending && is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		t_pending(w);
	if (w->pend_dirs.n && strmap_get(&w->pend_dirs, dir) && !under_root(w, dir))
		return; /* a parent watched only for a path that does not exist yet */
	if (ev->mask & IN_IGNORED) {
		dm_del(&w->dirs, ev->wd);
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
		t_walk(w, parent, 1);
		t_change(w, child);
		if (!ignore_included(&w->ig, child) || ignore_path(&w->ig, child, 0))
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
	{
		char abs[PATH_MAX * 2 + 2];

		snprintf(abs, sizeof abs, "%s/%s", w->cfg->dir, child);
		t_file(w, AT_FDCWD, abs, child, ev->wd, 1);
	}
	w->t_settled = (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
}

static void wake_handler(int sig) { (void)sig; }

static void log_limit(struct watcher *w)
{
	long sys = -1;
	FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "re");

	if (f) {
		if (fscanf(f, "%ld", &sys) != 1)
			sys = -1;
		fclose(f);
	}
	long cap = w->cfg->watch.max_watches;
	long suggest = sys > 0 ? sys * 2 : 524288;

	if (suggest < 524288)
		suggest = 524288;
	if (cap > 0 && (sys <= 0 || cap < sys))
		log_warn("watch: watch limit reached: %zu directories watched with inotify, %zu more over watch.max_watches=%ld; "
			 "%s (raise watch.max_watches, or the system limit: sysctl fs.inotify.max_user_watches=%ld)",
			 w->dirs.n, w->over_limit, cap,
			 w->cfg->watch.poll == POLL_NEVER ? "changes there are NOT seen (poll: never)" : "polling those instead",
			 suggest);
	else
		log_warn("watch: inotify watch limit reached: %zu directories watched, %zu more over "
			 "fs.inotify.max_user_watches=%ld (shared by every process of this user); %s. "
			 "Raise it on the host: sysctl fs.inotify.max_user_watches=%ld",
			 w->dirs.n, w->over_limit, sys,
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

	int64_t since = wall_ns();
	static char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	ok = t_open(w) >= 0;
	if (ok) {
		for (size_t i = 0; i < w->nroots; i++)
			t_walk(w, w->roots[i], 0);
		if (w->npending)
			t_pending(w);
		if (w->limit_hit)
			log_limit(w);
	} else {
		log_error("watch: inotify unavailable: %s", strerror(errno));
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
	/* Every watch is in place (reloader is ready); now read what the files hold. Events queue
	 * in the kernel meanwhile. */
	{
		double t0 = ev_time();

		int queued = 0;

		t_hash_all(w, since);
		log_info("watch: contents of %zu files read in %.0f ms", w->ct.n, (ev_time() - t0) * 1000);
		/* files changed during the pass are unsure until the events queued by then are read */
		if (ioctl(w->ifd, FIONREAD, &queued) != 0)
			queued = 0;
		w->unsure_bytes = queued;
		if (!queued)
			t_clear_unsure(w);
	}

	while (!w->stop) {
		/* Blocks with no timeout: idle costs nothing. WAKE_SIG interrupts it (EINTR). */
		ssize_t n = read(w->ifd, buf, sizeof buf);
		size_t hit_before = w->over_limit;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("watch: reading inotify events failed: %s; watching stops", strerror(errno));
			break;
		}
		w->reset = 0;
		for (char *p = buf; p < buf + n && !w->reset;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof *ev + ev->len;
			t_event(w, ev);
			if (w->unsure_bytes > 0 && (w->unsure_bytes -= (long)(sizeof *ev + ev->len)) <= 0)
				t_clear_unsure(w);
		}
		if (w->over_limit > hit_before && !hit_before)
			log_limit(w);
		t_flush(w);
	}
	dm_free(&w->dirs);
	strmap_free(&w->pend_dirs, NULL);
	close(w->ifd);
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

/* The changed paths (still differing from the commit) as "a, b (+3 more)". Called with mu held. */
static void describe(struct watcher *w, char *out, size_t cap)
{
	size_t len = 0, shown = 0;
	unsigned long more = w->ct.more;

	out[0] = '\0';
	for (size_t i = 0; i < w->ct.nrecent; i++) {
		const char *p = w->ct.recent[i];

		if (!ct_is_dirty(&w->ct, ct_key(p)))
			continue;
		if (len + strlen(p) + 16 >= cap) {
			more++;
			continue;
		}
		len += (size_t)snprintf(out + len, cap - len, "%s%s", shown ? ", " : "", p);
		shown++;
	}
	if (more && len + 24 < cap)
		snprintf(out + len, cap - len, "%s(+%lu more)", shown ? " " : "", more);
	else if (!shown && w->ct.forced)
		snprintf(out, cap, "(rescanned tree)");
}

/* The loop guard let go after a quiet time: what changed meanwhile is taken as it is; only a
 * later change (or a poke) restarts. */
static void guard_released(void *arg)
{
	struct watcher *w = arg;

	pthread_mutex_lock(&w->mu);
	ct_commit(&w->ct);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Reads the recently changed files again (a few; not after a burst): their events may lag behind
 * an editor that is still saving. Returns 1 when one of them is missing now, which in the middle
 * of a save (renamed away before the new file is renamed in) it briefly is. Called with mu held.
 */
static int refresh_recent(struct watcher *w)
{
	int missing = 0;

	if (w->ct.more)
		return 0;
	for (size_t i = 0; i < w->ct.nrecent; i++) {
		char abs[PATH_MAX * 2 + 2];
		ct_key_t key = ct_key(w->ct.recent[i]);
		uint32_t now;

		snprintf(abs, sizeof abs, "%s/%s", w->cfg->dir, w->ct.recent[i]);
		now = ct_read(AT_FDCWD, abs, NULL);
		ct_update(&w->ct, key, now);
		missing |= now == CT_ABSENT && ct_is_dirty(&w->ct, key);
	}
	return missing;
}

/* Extra quiet while a changed file is missing (a save in progress), once per quiet period. */
#define MISSING_WAIT 0.1

/* A quiet period ended: restart only if some watched file holds something new. */
static void fire(struct watcher *w)
{
	char why[320];
	int changed, missing;

	pthread_mutex_lock(&w->mu);
	missing = refresh_recent(w);
	changed = ct_changed(&w->ct);
	if (changed)
		describe(w, why, sizeof why);
	pthread_mutex_unlock(&w->mu);
	if (changed && missing && !w->waited_missing) {
		w->waited_missing = 1;
		ev_timer_set(&w->debounce, w->cfg->watch.debounce > MISSING_WAIT ? w->cfg->watch.debounce : MISSING_WAIT, 0);
		ev_timer_start(w->loop, &w->debounce);
		return;
	}
	w->waited_missing = 0;
	if (!changed) {
		w->ignored++;
		log_info("watch: %s: written, but the watched files hold what the service was built from; no restart",
			 w->last_path);
		return;
	}
	if (lg_blocks(&w->guard, why))
		return;
	snprintf(w->sv->watch_why, sizeof w->sv->watch_why, "%s", why);
	sv_request(w->sv, "watch", 0);
}

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
	fire(w);
}

static void poll_change(const char *rel, void *arg)
{
	struct watcher *w = arg;
	char abs[PATH_MAX * 2 + 2];
	struct stat st;
	ct_key_t key = ct_key(rel);

	log_debug("watch: %s changed (poll)", rel);
	snprintf(abs, sizeof abs, "%s/%s", w->cfg->dir, rel);
	pthread_mutex_lock(&w->mu);
	if (lstat(abs, &st) == 0 ? S_ISREG(st.st_mode) : ct_get(&w->ct, key) != CT_ABSENT) {
		if (ct_set(&w->ct, key, ct_read(AT_FDCWD, abs, NULL), -1, 1) > 0 && ct_is_dirty(&w->ct, key))
			ct_note_path(&w->ct, rel);
	} else {
		w->ct.forced = 1; /* a directory came or went: its files are not known one by one */
		ct_note_path(&w->ct, rel);
	}
	pthread_mutex_unlock(&w->mu);
	note_change(w, rel, 1, 0);
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
	changes = w->q.changes + w->q.unchanged;
	w->unchanged_total += w->q.unchanged;
	w->q.unchanged = 0;
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

static void metrics_hook(FILE *f, void *ctx)
{
	struct watcher *w = ctx;

	fprintf(f, "# HELP reloader_watch_ignored_total Quiet periods after file events that found every watched file unchanged (no restart).\n"
		   "# TYPE reloader_watch_ignored_total counter\nreloader_watch_ignored_total %lu\n",
		w->ignored);
	fprintf(f, "# HELP reloader_watch_loop_guard_tripped 1 while the loop guard holds back file-triggered restarts.\n"
		   "# TYPE reloader_watch_loop_guard_tripped gauge\nreloader_watch_loop_guard_tripped %d\n",
		w->guard.tripped);
	fprintf(f, "# HELP reloader_watch_loop_guard_trips_total Times the loop guard stopped a restart loop.\n"
		   "# TYPE reloader_watch_loop_guard_trips_total counter\nreloader_watch_loop_guard_trips_total %lu\n",
		w->guard.trips);
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
	json_object_set_new(obj, "ignored", json_integer((json_int_t)w->ignored));
	json_object_set_new(obj, "unchanged_events", json_integer((json_int_t)w->unchanged_total));
	json_object_set_new(obj, "pending_paths", json_integer((json_int_t)w->npending));
	json_object_set_new(obj, "loop_guard",
			    json_pack("{s:b, s:I, s:I, s:I, s:s}", "tripped", w->guard.tripped, "trips",
				      (json_int_t)w->guard.trips, "limit", (json_int_t)w->cfg->watch.loop_limit,
				      "window_ms", (json_int_t)(w->cfg->watch.loop_window * 1000), "paths",
				      w->guard.tripped ? w->guard.why : ""));
	if (w->last_wall > 0)
		json_object_set_new(obj, "last_event",
				    json_pack("{s:s, s:f, s:I}", "path", w->last_path, "time", w->last_wall, "age_ms",
					      (json_int_t)((wall_now() - w->last_wall) * 1000)));
	else
		json_object_set_new(obj, "last_event", json_null());
}

/* A watch path that does not exist yet (abs: its absolute spelling): watched for, inside dir only. */
static int add_pending(struct watcher *w, const char *p, const char *abs)
{
	char norm[PATH_MAX];
	size_t n = 0;
	const char *rel;

	/* lexically: no "//", "/./" or trailing "/" ("..", which needs the real tree, is refused) */
	for (const char *s = abs; *s && n + 1 < sizeof norm; s++) {
		if (*s == '/' && (s[1] == '/' || s[1] == '\0'))
			continue;
		if (*s == '/' && s[1] == '.' && (s[2] == '/' || s[2] == '\0')) {
			s++;
			continue;
		}
		norm[n++] = *s;
	}
	norm[n] = '\0';
	if (strstr(norm, "/../") || (n >= 3 && !strcmp(norm + n - 3, "/..")) || !(rel = path_rel(w->cfg->dir, norm)) ||
	    !*rel) {
		log_warn("watch: %s does not exist and is not below %s; not watched", p, w->cfg->dir);
		return 0;
	}
	if (w->cfg->watch.poll == POLL_ALWAYS) {
		log_warn("watch: %s does not exist; with watch.poll always it is not picked up later", p);
		return 0;
	}
	if (!(w->pending[w->npending] = strdup(rel)))
		return -1;
	w->npending++;
	log_warn("watch: %s does not exist yet; watching for it to appear", p);
	return 0;
}

/* Watch paths relative to cfg->dir; paths outside it, or not directories, are skipped with a warning. */
static int normalize_roots(struct watcher *w)
{
	size_t n = strlist_len(w->cfg->watch.paths);

	if (!(w->roots = calloc(n + 1, sizeof *w->roots)) || !(w->pending = calloc(n + 1, sizeof *w->pending)))
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
		if (!real && errno == ENOENT) {
			if (add_pending(w, p, buf) != 0)
				return -1;
			continue;
		}
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

	if (ignore_init(ig, cfg->dir, cfg->watch.exclude, cfg->watch.include, cfg->watch.gitignore) != 0 ||
	    ignore_defaults(ig, cfg) != 0)
		return -1;
	/* what the build writes must not trigger the next build */
	ignore_add_extra(ig, path_rel(cfg->dir, cfg->cache.dir));
	for (size_t i = 0; cfg->cache.outputs && cfg->cache.outputs[i]; i++) {
		const char *o = cfg->cache.outputs[i];

		ignore_add_extra(ig, o[0] == '/' ? path_rel(cfg->dir, o) : o);
	}
	return 0;
}

/* True when the inotify thread has read and counted every event the kernel holds for us. */
static int caught_up(struct watcher *w);

/*
 * Waits (at most 1 s) until the thread has handled every event queued before now: touches the
 * private sync file, whose event lines up behind them. One request at a time (the loop's). Falls
 * back to watching the thread's state when there is no sync file.
 */
static void barrier(struct watcher *w)
{
	struct timespec until;
	unsigned long want;

	if (!w->use_inotify || !w->thread_started)
		return;
	if (w->sync_fd < 0) {
		for (int i = 0; i < 100 && !caught_up(w); i++)
			usleep(500);
		return;
	}
	pthread_mutex_lock(&w->mu);
	want = ++w->q.sync_req;
	pthread_mutex_unlock(&w->mu);
	if (futimens(w->sync_fd, NULL) != 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (w->q.synced < want && !w->q.failed)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			break;
	pthread_mutex_unlock(&w->mu);
}

static int hook_changed(void *ctx)
{
	struct watcher *w = ctx;
	int changed;

	pthread_mutex_lock(&w->mu);
	changed = ct_changed(&w->ct);
	pthread_mutex_unlock(&w->mu);
	return changed;
}

static void hook_cycle_started(void *ctx, const char *trigger, int full)
{
	struct watcher *w = ctx;

	lg_cycle(&w->guard, trigger);
	if (!full)
		return;
	/* This cycle builds from the files as they are now: changes so far are its own. A save just
	 * before a poke is queued in the kernel already: let the thread count it first. */
	barrier(w);
	pthread_mutex_lock(&w->mu);
	/* An editor may still be writing (several steps, an fsync between them): take the changed
	 * files as they are now, which is what this cycle's build reads, not as their last event
	 * found them; the events still to come then find nothing new. */
	refresh_recent(w);
	ct_commit(&w->ct);
	pthread_mutex_unlock(&w->mu);
	ev_timer_stop(w->loop, &w->debounce);
	w->short_wait = 0;
	w->window_changes = 0;
}

static void hook_build_running(void *ctx, int running)
{
	struct watcher *w = ctx;

	if (!running && w->build_writes.n) {
		/* the build has exited, its writes are queued: let the thread read them as its own */
		barrier(w);
	}
	pthread_mutex_lock(&w->mu);
	w->building = running;
	pthread_mutex_unlock(&w->mu);
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
		w->inotify_fd = w->ifd = w->sync_fd = w->sync_wd = -1;
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
	if (lg_init(&w->guard, loop, w->cfg->watch.loop_limit, w->cfg->watch.loop_window, guard_released, w) != 0)
		log_warn("watch: out of memory: the loop guard is off");
	for (size_t i = 0; w->cfg->watch.build_writes && w->cfg->watch.build_writes[i]; i++)
		patlist_add(&w->build_writes, w->cfg->watch.build_writes[i]);
	if (normalize_roots(w) != 0 || init_ignore(w, &w->ig) != 0 || init_ignore(w, &w->ig_poll) != 0) {
		log_error("watch: out of memory");
		watch_stop(w);
		return -1;
	}
	poll_init(&w->poll, loop, &w->ig_poll, w->cfg->watch.poll_interval, poll_change, w);
	*out = w;
	status_watch_hook = status_hook;
	status_watch_ctx = w;
	status_watch_metrics_hook = metrics_hook;
	sv->watch.changed = hook_changed;
	sv->watch.cycle_started = hook_cycle_started;
	sv->watch.build_running = hook_build_running;
	sv->watch.ctx = w;

	if (w->cfg->watch.poll != POLL_ALWAYS) {
		const char *tmp = getenv("TMPDIR");

		snprintf(w->sync_path, sizeof w->sync_path, "%s/reloader-sync-XXXXXX",
			 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
		if ((w->sync_fd = mkostemp(w->sync_path, O_CLOEXEC)) < 0)
			log_debug("watch: no sync file in %s (%s): barriers fall back to polling the thread", w->sync_path,
				  strerror(errno));
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
		status_watch_metrics_hook = NULL;
		status_watch_ctx = NULL;
	}
	if (w->sv && w->sv->watch.ctx == w)
		memset(&w->sv->watch, 0, sizeof w->sv->watch);
	lg_free(&w->guard);
	strmap_free(&w->expect, free);
	if (w->sync_fd >= 0) {
		close(w->sync_fd);
		unlink(w->sync_path);
	}
	ct_free(&w->ct);
	patlist_free(&w->build_writes);
	for (size_t i = 0; w->pending && i < w->npending; i++)
		free(w->pending[i]);
	free(w->pending);
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

/* True when the thread sits in its read() of the inotify fd (fd): everything it read before has
 * been counted and flushed. */
static int thread_waiting(pid_t tid, int fd)
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
	return nr == 0 && nfds == fd; /* read(fd, ...) */
}

static int caught_up(struct watcher *w)
{
	int pending = 1, fd;
	pid_t tid;

	pthread_mutex_lock(&w->mu);
	tid = w->q.tid;
	fd = w->inotify_fd;
	pthread_mutex_unlock(&w->mu);
	if (!tid || fd < 0)
		return 0;
	return thread_waiting(tid, fd) && ioctl(fd, FIONREAD, &pending) == 0 && pending == 0;
}

int watch_quiet(struct watcher *w, unsigned long *generation)
{
	unsigned long before, after;
	int polled;
	size_t nroots;
	pid_t tid;

	if (!w || !w->use_inotify)
		return 0;
	pthread_mutex_lock(&w->mu);
	nroots = w->nroots;
	pthread_mutex_unlock(&w->mu);
	if (nroots != strlist_len(w->cfg->watch.paths))
		return 0; /* a watch path was skipped: the watcher does not see everything the cache reads */
	pthread_mutex_lock(&w->mu);
	before = w->q.total;
	tid = w->q.tid;
	polled = w->q.failed || w->q.npoll > 0;
	pthread_mutex_unlock(&w->mu);
	*generation = before;
	if (polled || w->poll.dirs.n > 0 || !tid)
		return 0;
	if (!caught_up(w))
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

void watch_expect(struct watcher *w, const char *rel, const struct watch_known *k)
{
	struct watch_known *c;
	void *old = NULL;

	if (!w || !w->use_inotify || !(c = malloc(sizeof *c)))
		return;
	*c = *k;
	pthread_mutex_lock(&w->mu);
	if (strmap_put(&w->expect, rel, c, &old) != 0)
		free(c);
	pthread_mutex_unlock(&w->mu);
	free(old);
}

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
	/* The events are counted, not yet taken: drop them. The contents stay as the events found
	 * them; the sync's cycle takes the files as they are when it starts (hook_cycle_started), so
	 * a late event for a file the sync wrote finds nothing new. */
	pthread_mutex_lock(&w->mu);
	w->q.changes = 0;
	w->q.unchanged = 0;
	strmap_free(&w->expect, free); /* the writes' events are all handled: what is left was not seen */
	pthread_mutex_unlock(&w->mu);
	ev_timer_stop(w->loop, &w->debounce);
	w->short_wait = 0;
	w->window_changes = 0;
	w->waited_missing = 0;
	w->held = 0;
	return 1;
}
