/* syncapi.c — source sync over the control API: the manifest diff and the batch upload (staged by
 * stage.c, committed all or nothing), then exactly one restart cycle for the whole batch. */
#include "syncapi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glob.h"
#include "log.h"
#include "sha256.h"
#include "stage.h"
#include "strmap.h"
#include "syncproto.h"
#include "watch.h"

#define SETTLE_POLL 0.001 /* seconds between checks that the watcher has seen the batch's writes */
#define SETTLE_MAX 2.0    /* then the cycle starts anyway */

enum kind { K_MANIFEST, K_BATCH };

struct sync_req {
	struct supervisor *sv;
	enum kind kind;
	unsigned long long body_bytes;
	/* manifest: the body, kept whole */
	char *buf;
	size_t len, cap;
	/* batch */
	struct stage *stage;
	struct syncframe parser;
	struct syncframe_ops fops; /* frame_ops with arg = this request */
	unsigned status; /* first error's HTTP status, 0 while fine */
	char err[512];
	int holds_busy;  /* this request owns the one batch slot */
	void *conn;      /* while settling: who waits for the answer (NULL when gone) */
	const struct sync_reply_ops *ops;
};

/* The one batch in flight (uploads are serialised: a second gets 409). */
static struct {
	int busy;
	struct watcher *watcher;
	struct sync_req *settling; /* committed, waiting for the watcher to see its writes */
	struct supervisor *sv;
	ev_timer timer;
	double deadline;
	unsigned long written, deleted;
} g;

void syncapi_use_watcher(struct watcher *w) { g.watcher = w; }

int syncapi_is_path(const char *url, size_t len)
{
	return len >= 6 && !strncmp(url, "/sync/", 6);
}

/* ---- the batch's callbacks (parser -> stage) ------------------------------------------------ */

static int failed(struct sync_req *r, enum stage_error e)
{
	r->status = e == STAGE_REFUSED ? 400 : 500;
	syncframe_fail(&r->parser, "%s", r->err);
	return -1;
}

static int on_file_begin(void *arg, const char *path, unsigned mode, uint64_t size)
{
	struct sync_req *r = arg;
	enum stage_error e = stage_file_begin(r->stage, path, mode, r->err, sizeof r->err);

	(void)size;
	return e == STAGE_OK ? 0 : failed(r, e);
}

static int on_file_data(void *arg, const char *data, size_t len)
{
	struct sync_req *r = arg;
	enum stage_error e = stage_file_data(r->stage, data, len, r->err, sizeof r->err);

	return e == STAGE_OK ? 0 : failed(r, e);
}

static int on_file_end(void *arg)
{
	struct sync_req *r = arg;
	enum stage_error e = stage_file_end(r->stage, r->err, sizeof r->err);

	return e == STAGE_OK ? 0 : failed(r, e);
}

static int on_delete(void *arg, const char *path)
{
	struct sync_req *r = arg;
	enum stage_error e = stage_delete(r->stage, path, r->err, sizeof r->err);

	return e == STAGE_OK ? 0 : failed(r, e);
}

static const struct syncframe_ops frame_ops = {on_file_begin, on_file_data, on_file_end, on_delete, NULL};

/* ---- requests ------------------------------------------------------------------------------- */

struct sync_req *syncapi_open(struct supervisor *sv, const char *url, size_t url_len, int is_post,
			      unsigned long long content_length, unsigned *status, const char **msg)
{
	const char *q = memchr(url, '?', url_len);
	size_t plen = q ? (size_t)(q - url) : url_len;
	struct sync_req *r;
	enum kind kind;
	char err[512];

	if (!sv->cfg->control.sync) {
		*status = 404;
		*msg = "sync is off: start reloader with control.sync: true and control.token_file";
		return NULL;
	}
	if (plen == 14 && !strncmp(url, "/sync/manifest", 14))
		kind = K_MANIFEST;
	else if (plen == 11 && !strncmp(url, "/sync/batch", 11))
		kind = K_BATCH;
	else {
		*status = 404;
		*msg = "not found: POST /sync/manifest, then POST /sync/batch";
		return NULL;
	}
	if (!is_post) {
		*status = 405;
		*msg = "use POST";
		return NULL;
	}
	if (content_length != ~0ULL &&
	    content_length > (kind == K_MANIFEST ? SYNC_MAX_MANIFEST : SYNC_MAX_BATCH)) {
		*status = 413;
		*msg = kind == K_MANIFEST ? "manifest larger than 32 MiB" : "batch larger than 1 GiB: send it in several batches";
		return NULL;
	}
	if (kind == K_BATCH && g.busy) {
		*status = 409;
		*msg = "another sync batch is being applied; retry when it is answered";
		return NULL;
	}
	if (sv->exiting) {
		*status = 503;
		*msg = "reloader is shutting down";
		return NULL;
	}
	if (!(r = calloc(1, sizeof *r))) {
		*status = 500;
		*msg = "out of memory";
		return NULL;
	}
	r->sv = sv;
	r->kind = kind;
	if (kind == K_BATCH) {
		if (!(r->stage = stage_open(sv->cfg->dir, err, sizeof err))) {
			log_error("sync: %s", err);
			free(r);
			*status = 500;
			*msg = "cannot create the staging directory (see reloader's log)";
			return NULL;
		}
		r->fops = frame_ops;
		r->fops.arg = r;
		syncframe_init(&r->parser, &r->fops, SYNC_MAX_FILE, SYNC_MAX_ENTRIES);
		g.busy = r->holds_busy = 1;
	}
	return r;
}

int syncapi_body(struct sync_req *r, const char *at, size_t len)
{
	r->body_bytes += len;
	if (r->body_bytes > (r->kind == K_MANIFEST ? SYNC_MAX_MANIFEST : SYNC_MAX_BATCH))
		return -1;
	if (r->kind == K_MANIFEST) {
		if (r->len + len > r->cap) {
			size_t cap = r->cap ? r->cap : 65536;
			char *v;

			while (cap < r->len + len)
				cap *= 2;
			if (!(v = realloc(r->buf, cap)))
				return -1;
			r->buf = v;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, at, len);
		r->len += len;
		return 0;
	}
	if (r->status)
		return 0; /* already refused: the rest is read and dropped */
	if (syncframe_feed(&r->parser, at, len) != 0) {
		if (!r->status)
			r->status = 400;
		snprintf(r->err, sizeof r->err, "%s", r->parser.err);
	}
	return 0;
}

/* ---- the manifest diff ---------------------------------------------------------------------- */

/* 1 when the file at root_fd/path has this size, mode and sha256 hex. */
static int same_file(int root_fd, const char *path, json_int_t size, json_int_t mode, const char *hex)
{
	int fd = stage_open_read(root_fd, path);
	struct stat sb;
	struct sha256 h;
	unsigned char d[32], buf[65536];
	char got[65];
	ssize_t n;

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || sb.st_size != size || (json_int_t)(sb.st_mode & 0777) != (mode & 0777)) {
		close(fd);
		return 0;
	}
	sha256_init(&h);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return 0;
	sha256_final(&h, d);
	for (int i = 0; i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	return !strcasecmp(got, hex);
}

/* Every regular file under rel that the ignore rules keep and the manifest lacks goes to `del`, up to
 * limit of them (0: no limit). */
static void walk_deletions(int dir_fd, char *rel, size_t rlen, struct ignore *ig, struct strmap *want, json_t *del,
			   size_t limit)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *de;

	if (!d) {
		close(dir_fd);
		return;
	}
	while ((!limit || json_array_size(del) < limit) && (de = readdir(d))) {
		struct stat sb;
		size_t nlen = strlen(de->d_name);

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || rlen + nlen + 2 > SYNC_PATH_MAX + 1)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (rlen)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen ? 1 : 0), de->d_name, nlen + 1);
		if (S_ISDIR(sb.st_mode)) {
			if (!ignore_path(ig, rel, 1)) {
				int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

				if (sub >= 0)
					walk_deletions(sub, rel, rlen + nlen + (rlen ? 1 : 0), ig, want, del, limit);
			}
		} else if (S_ISREG(sb.st_mode) && !ignore_path(ig, rel, 0) && !strmap_get(want, rel)) {
			json_array_append_new(del, json_string(rel));
		}
		rel[rlen] = 0;
	}
	closedir(d);
}

static void answer_manifest(struct sync_req *r, const struct sync_reply_ops *ops, void *conn)
{
	struct config *cfg = r->sv->cfg;
	json_error_t jerr;
	json_t *m = json_loadb(r->buf ? r->buf : "", r->len, 0, &jerr), *files, *f, *upload, *del, *lim;
	struct strmap want = {0};
	struct ignore ig;
	char msg[512], rel[SYNC_PATH_MAX + 2] = "";
	size_t i;
	int root_fd;

	if (!m) {
		snprintf(msg, sizeof msg, "manifest:%d:%d: %s", jerr.line, jerr.column, jerr.text);
		ops->error(conn, 400, msg);
		return;
	}
	if (!json_is_array(files = json_object_get(m, "files"))) {
		json_decref(m);
		ops->error(conn, 400, "manifest: expected {\"files\": [{\"path\", \"size\", \"mode\", \"sha256\"}, ...]}");
		return;
	}
	lim = json_object_get(m, "delete_limit"); /* a client asking only whether the tree is empty */
	if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 0)) {
		json_decref(m);
		ops->error(conn, 400, "manifest: delete_limit must be an integer >= 0 (0: no limit)");
		return;
	}
	if ((root_fd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    ignore_init(&ig, cfg->dir, cfg->watch.exclude, NULL, cfg->watch.gitignore) != 0) {
		if (root_fd >= 0)
			close(root_fd);
		json_decref(m);
		ops->error(conn, 500, "cannot read the source root");
		return;
	}
	ignore_add_extra(&ig, path_rel(cfg->dir, cfg->cache.dir));
	upload = json_array();
	del = json_array();
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path")), *hex = json_string_value(json_object_get(f, "sha256")), *why;
		json_t *size = json_object_get(f, "size"), *mode = json_object_get(f, "mode");

		if (!path || !hex || !json_is_integer(size) || !json_is_integer(mode)) {
			snprintf(msg, sizeof msg, "manifest: files[%zu] needs path, size, mode (integers) and sha256", i);
			goto bad;
		}
		if (syncpath_check(path, strlen(path), &why) != 0) {
			snprintf(msg, sizeof msg, "manifest: files[%zu] %s: %s", i, path, why);
			goto bad;
		}
		strmap_put(&want, path, (void *)1, NULL);
		if (!same_file(root_fd, path, json_integer_value(size), json_integer_value(mode), hex))
			json_array_append_new(upload, json_string(path));
	}
	walk_deletions(dup(root_fd), rel, 0, &ig, &want, del, lim ? (size_t)json_integer_value(lim) : 0);
	close(root_fd);
	ignore_free(&ig);
	strmap_free(&want, NULL);
	ops->json(conn, 200, json_pack("{s:o, s:o, s:I}", "upload", upload, "delete", del, "files",
				       (json_int_t)json_array_size(files)));
	json_decref(m);
	return;
bad:
	close(root_fd);
	ignore_free(&ig);
	strmap_free(&want, NULL);
	json_decref(upload);
	json_decref(del);
	json_decref(m);
	ops->error(conn, 400, msg);
}

/* ---- commit, settle, one cycle -------------------------------------------------------------- */

static void expect_file(void *arg, const char *path, uint32_t val, unsigned long long ino, unsigned long long size,
			long long mtime_ns)
{
	struct watch_known k = {val, ino, size, mtime_ns};

	watch_expect(arg, path, &k);
}

static void release(struct sync_req *r)
{
	stage_close(r->stage);
	r->stage = NULL;
	if (r->holds_busy) {
		g.busy = 0;
		r->holds_busy = 0;
	}
}

/* Once the watcher has counted the batch's own writes (or the deadline passed): one cycle. */
static void settle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sync_req *r = g.settling;
	unsigned long cycle;

	(void)revents;
	if (!watch_absorb(g.watcher, ev_now(loop) >= g.deadline)) {
		ev_timer_again(loop, t);
		return;
	}
	ev_timer_stop(loop, t);
	g.settling = NULL;
	cycle = sv_request(g.sv, "sync", 0);
	log_info("sync: %lu files written, %lu deleted; cycle %lu", g.written, g.deleted, cycle);
	if (r) {
		release(r);
		if (r->conn)
			r->ops->wait(r->conn, cycle);
		r->conn = NULL;
	} else {
		g.busy = 0; /* the request went away while settling */
	}
}

void syncapi_finish(struct sync_req *r, const struct sync_reply_ops *ops, void *conn)
{
	unsigned long written, deleted;
	enum stage_error e;

	if (r->kind == K_MANIFEST) {
		answer_manifest(r, ops, conn);
		return;
	}
	if (!r->status && syncframe_finish(&r->parser) != 0) {
		r->status = 400;
		snprintf(r->err, sizeof r->err, "%s", r->parser.err);
	}
	if (r->status) {
		release(r); /* nothing was committed: the tree is as it was */
		ops->error(conn, r->status, r->err);
		return;
	}
	watch_hold(g.watcher);
	/* the watcher need not read again what the batch writes (watch_absorb drops what is left) */
	if (g.watcher)
		stage_each_file(r->stage, expect_file, g.watcher);
	e = stage_commit(r->stage, &written, &deleted, r->err, sizeof r->err);
	if (e != STAGE_OK) {
		log_warn("sync: batch refused, nothing changed: %s", r->err);
		watch_absorb(g.watcher, 1); /* the undone steps' events are no change */
		release(r);
		ops->error(conn, e == STAGE_REFUSED ? 400 : 500, r->err);
		return;
	}
	if (!written && !deleted) {
		watch_absorb(g.watcher, 1);
		release(r);
		ops->json(conn, 200, json_pack("{s:b, s:s, s:i, s:i}", "ok", 1, "outcome", "unchanged", "written", 0,
					       "deleted", 0));
		return;
	}
	g.sv = r->sv;
	g.settling = r;
	g.written = written;
	g.deleted = deleted;
	g.deadline = ev_now(r->sv->loop) + SETTLE_MAX;
	r->conn = conn;
	r->ops = ops;
	ev_init(&g.timer, settle_cb);
	g.timer.repeat = SETTLE_POLL;
	ev_timer_again(r->sv->loop, &g.timer);
}

void syncapi_close(struct sync_req *r)
{
	if (!r)
		return;
	if (g.settling == r) {
		/* committed: the cycle still comes, with nobody to tell */
		r->conn = NULL;
		g.settling = NULL;
		r->holds_busy = 0; /* settle_cb frees the slot */
		stage_close(r->stage);
		r->stage = NULL;
	}
	release(r);
	free(r->buf);
	free(r);
}
