/* cmd_dev.c — `appdeploy dev SERVICE DIR`: push the developer's local source into the service's pod
 * through the API server's pod proxy and reloader's /sync/ endpoints (synced source mode, #18):
 * one manifest-diff sync, then one batch per save, following the pod when it is replaced. */
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/poll.h> /* not <poll.h>: reloader/poll.h is on the include path */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_common.h"
#include "commands.h"
#include "duration.h"
#include "glob.h"
#include "kube.h"
#include "kubeconfig.h"
#include "filehash.h"
#include "strmap.h"
#include "syncproto.h"
#include "synctoken.h"

#define TOKEN_SECRET SYNCTOKEN_SECRET
#define QUIET_MS 30 /* a save is pushed after this much quiet */
#define SAVED_MS 5  /* ... or this much after a lone finished save (at most 3 events, the last a close after
		     * write or a rename into place), as reloader's own watcher does */
#define FILE_MAX ((off_t)64 << 20) /* reloader's limit on one file (README: Synced source mode) */
#define CACHE_MAX ((size_t)256 << 20) /* file contents a whole-tree sync keeps between manifest and batch */
#define POD_FRESH_MS 1000 /* a pod looked up this recently is pushed to without asking again */

/* Editors' temporary files are never pushed (vim's swap and 4913 probe, emacs' lock and backup files). */
static char *editor_temp[] = {"*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", ".*.tmp", NULL};

/* Appends bytes to a growing buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

/* Makes room for n more bytes. */
static int buf_room(struct buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *v;

		while (cap < b->len + n)
			cap *= 2;
		if (!(v = realloc(b->p, cap)))
			return -1;
		b->p = v;
		b->cap = cap;
	}
	return 0;
}

static int buf_add(struct buf *b, const void *data, size_t n)
{
	if (buf_room(b, n) != 0)
		return -1;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

/* A batch sent while it is built: the walk appends under mu (publishing len), the request reads
 * what is published. Bytes below len never change; only the walk moves the buffer (under mu). */
struct stream {
	pthread_mutex_t mu;
	pthread_cond_t more;
	struct buf *b;
	size_t sent; /* bytes handed to the request */
	int done;    /* the walk has ended (the batch's END is in) */
};

struct dev {
	struct kube *k;
	char *ns;
	char *service;
	char *local;          /* absolute local source folder */
	char selector[1024];  /* the Deployment's matchLabels as a label selector */
	char port[16];        /* reloader's control port in the pod */
	char token_header[600];
	char pod[256], pod_uid[128]; /* the pod synced last */
	struct ignore ig;
	int ino;
	struct strmap wd_dir; /* "wd" -> relative dir (malloc'd) */
	struct strmap changed; /* relative paths changed since the last push */
	unsigned burst;       /* events read since the last push */
	int finished;         /* the latest event finished a file (close after write, rename into place) */
	double pod_at;        /* when the pod was last looked up (mono_seconds, in ms) */
	struct strmap cache;  /* during a whole-tree sync: relative path -> struct cached */
	size_t cached;        /* bytes in cache */
	struct buf *direct;   /* a whole-tree sync to an empty pod: the walk puts every file straight in this batch */
	struct stream *stream; /* ... which is sent while the walk goes on (NULL: the walk is all there is) */
	unsigned long direct_files;
	struct buf notes; /* the direct walk's "not synced" lines, printed once the pod is known to be empty */
};

static int b64_decode(const char *in, char *out, size_t cap)
{
	static const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(tab, *in);

		if (!p)
			return -1;
		acc = (acc << 6) | (unsigned)(p - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = 0;
	return 0;
}

/* ---- cluster side ----------------------------------------------------------------------------- */

static json_t *get_json(struct dev *d, const char *path, char *err, size_t cap)
{
	struct kube_req r = {.method = KUBE_GET, .path = strdup(path)};
	json_t *out = NULL;

	if (kube_do(d->k, &r, 1) == 0 && r.response)
		out = json_incref(r.response);
	else
		snprintf(err, cap, "GET %.200s: %.800s", path, r.err);
	kube_req_clear(&r);
	return out;
}

/* The sync token from the namespace's Secret, read with the user's credentials. `appdeploy apply`
 * creates the Secret (synctoken.h) when it deploys a service in synced mode; dev never does: a
 * missing one means the service is not deployed that way, and saying so beats making a Secret that
 * no pod mounts (and that apply would then find under no set). */
static int read_token(struct dev *d, const char *dir, char *err, size_t cap)
{
	char tok[512];
	const char *b64;
	struct kube_req r = {.method = KUBE_GET};

	if (asprintf(&r.path, "/api/v1/namespaces/%s/secrets/%s", d->ns, TOKEN_SECRET) < 0)
		return -1;
	kube_do(d->k, &r, 1);
	b64 = json_string_value(json_object_get(json_object_get(r.response, "data"), "token"));
	if (r.status == 404)
		snprintf(err, cap, "namespace %s has no Secret %s: %s is not deployed in synced source mode. Deploy it so "
			 "(appdeploy apply %s --source %s=sync, or \"source synced\" in appdeploy serve), which creates the "
			 "Secret, then run appdeploy dev again", d->ns, TOKEN_SECRET, d->service, dir, d->service);
	else if (r.status != 200 || !b64 || b64_decode(b64, tok, sizeof tok) != 0 || !*tok)
		snprintf(err, cap, "Secret %s/%s: %.800s", d->ns, TOKEN_SECRET, r.status == 200 ? "no data.token in it" : r.err);
	else {
		snprintf(d->token_header, sizeof d->token_header, "X-Reloader-Token: %s", tok);
		explicit_bzero(tok, sizeof tok);
		kube_req_clear(&r);
		return 0;
	}
	kube_req_clear(&r);
	return -1;
}

/* The newest pod of the Deployment that is not being deleted. Returns 1 when it changed, 0 same, -1 none. */
static int find_pod(struct dev *d, char *err, size_t cap)
{
	char path[4096], sel[3072];
	json_t *list, *items, *p, *best = NULL;
	const char *best_ts = "";
	size_t i;
	int changed;

	size_t n = 0;

	for (const char *c = d->selector; *c && n + 4 < sizeof sel; c++) /* percent-encode the selector */
		n += (size_t)(isalnum((unsigned char)*c) || strchr("-._~", *c) ? snprintf(sel + n, 2, "%c", *c)
									 : snprintf(sel + n, 4, "%%%02X", (unsigned char)*c));
	sel[n] = 0;
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?labelSelector=%s", d->ns, sel);
	if (!(list = get_json(d, path, err, cap)))
		return -1;
	items = json_object_get(list, "items");
	json_array_foreach(items, i, p) {
		json_t *md = json_object_get(p, "metadata");
		const char *ts = json_string_value(json_object_get(md, "creationTimestamp"));

		if (json_object_get(md, "deletionTimestamp"))
			continue;
		if (!best || (ts && strcmp(ts, best_ts) >= 0)) {
			best = p;
			best_ts = ts ? ts : "";
		}
	}
	if (!best) {
		snprintf(err, cap, "no pod of Deployment %s in namespace %s yet", d->service, d->ns);
		json_decref(list);
		return -1;
	}
	{
		json_t *md = json_object_get(best, "metadata");
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *uid = json_string_value(json_object_get(md, "uid"));

		changed = strcmp(d->pod, name ? name : "") || strcmp(d->pod_uid, uid ? uid : "");
		d->pod_at = (mono_seconds() * 1e3);
		snprintf(d->pod, sizeof d->pod, "%s", name ? name : "");
		snprintf(d->pod_uid, sizeof d->pod_uid, "%s", uid ? uid : "");
	}
	json_decref(list);
	return changed;
}

/* kube_body_cb over a stream: what the walk has published, a whole piece at a time (small pieces would
 * each cost a chunk and a TLS record) unless the walk is over. */
static size_t stream_read(void *arg, int rewind, char *buf, size_t cap)
{
	struct stream *s = arg;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	if (rewind)
		s->sent = 0;
	else {
		while (!s->done && s->b->len - s->sent < cap)
			pthread_cond_wait(&s->more, &s->mu);
		n = s->b->len - s->sent < cap ? s->b->len - s->sent : cap;
		memcpy(buf, s->b->p + s->sent, n);
		s->sent += n;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* POST to the pod's reloader through the API server's pod proxy: body (len bytes), or with body NULL what
 * stream_read gives from st. */
static long pod_request(struct dev *d, const char *what, const char *body, size_t len, struct stream *st, char **out,
			char *err, size_t cap)
{
	char path[1024];
	const char *headers[] = {d->token_header, "Content-Type: application/octet-stream", NULL};
	size_t out_len;
	struct sm_error e;
	long rc;

	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s:%s/proxy/sync/%s", d->ns, d->pod, d->port, what);
	rc = body ? kube_post_raw(d->k, path, headers, body, len, 600, out, &out_len, &e)
		  : kube_post_stream(d->k, path, headers, stream_read, st, 600, out, &out_len, &e);
	if (rc < 0)
		errbuf_set(err, cap, "%s", e.msg);
	return rc;
}

static long pod_post(struct dev *d, const char *what, const char *body, size_t len, char **out, char *err, size_t cap)
{
	return pod_request(d, what, body, len, NULL, out, err, cap);
}

static long pod_post_stream(struct dev *d, const char *what, struct stream *st, char **out, char *err, size_t cap)
{
	return pod_request(d, what, NULL, 0, st, out, err, cap);
}

/* ---- local side ------------------------------------------------------------------------------- */

/* A file's content as the manifest described it, kept from the hashing pass for the batch that follows
 * (so a whole-tree sync reads each file once, and sends what it hashed). */
struct cached {
	size_t len;
	unsigned mode;
	char data[];
};

static int file_entry(struct dev *d, const char *rel, json_t *files)
{
	char full[2 * PATH_MAX + 2], hex[65];
	struct stat sb;
	struct cached *c;
	size_t got = 0;
	ssize_t n;
	int fd;

	const char *why;

	if (syncpath_check(rel, strlen(rel), &why) != 0) { /* reloader would refuse the whole manifest */
		fprintf(stderr, "appdeploy dev: not synced: %s: %s\n", rel, why);
		return -1;
	}
	snprintf(full, sizeof full, "%s/%s", d->local, rel);
	if ((fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	if (sb.st_size > FILE_MAX) {
		fprintf(stderr, "appdeploy dev: not synced: %s: %lld bytes, over reloader's limit of 64 MiB for one file\n", rel,
			(long long)sb.st_size);
		close(fd);
		return -1;
	}
	if (!(c = malloc(sizeof *c + (size_t)sb.st_size + 1))) {
		close(fd);
		return -1;
	}
	/* the whole file in one go; one that grows meanwhile is taken up to its size at the stat (its
	 * inotify event sends the rest), one that shrinks as far as it goes */
	while (got < (size_t)sb.st_size && (n = read(fd, c->data + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (filehash_hex(c->data, got, hex) != 0) {
		free(c);
		return -1;
	}
	json_array_append_new(files, json_pack("{s:s, s:I, s:i, s:s}", "path", rel, "size", (json_int_t)got, "mode",
					       (int)(sb.st_mode & 0777), "sha256", hex));
	c->len = got;
	c->mode = sb.st_mode & 0777;
	if (d->cached + got <= CACHE_MAX) {
		void *old = NULL;

		strmap_put(&d->cache, rel, c, &old);
		free(old);
		d->cached += got;
	} else
		free(c);
	return 0;
}

/* A line for stderr, kept until the walk it came from is known to be the one used. */
static void note(struct dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct dev *d, const char *fmt, ...)
{
	char line[PATH_MAX + 200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(&d->notes, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The pod's tree is empty: rel's frame goes straight into the batch, read into place (no hash, no
 * copy kept), with file_entry's checks. */
static void direct_add(struct dev *d, const char *rel)
{
	char full[2 * PATH_MAX + 2], head[SYNC_PATH_MAX + 64];
	struct buf *b = d->direct;
	size_t room = strlen(rel) + 64, got = 0, hl;
	struct stat sb;
	const char *why;
	ssize_t n;
	int fd;

	if (syncpath_check(rel, strlen(rel), &why) != 0) {
		note(d, "appdeploy dev: not synced: %s: %s\n", rel, why);
		return;
	}
	snprintf(full, sizeof full, "%s/%s", d->local, rel);
	if ((fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return;
	}
	if (sb.st_size > FILE_MAX) {
		note(d, "appdeploy dev: not synced: %s: %lld bytes, over reloader's limit of 64 MiB for one file\n",
		     rel, (long long)sb.st_size);
		close(fd);
		return;
	}
	if (d->stream)
		pthread_mutex_lock(&d->stream->mu);
	n = buf_room(b, room + (size_t)sb.st_size + 1);
	if (d->stream)
		pthread_mutex_unlock(&d->stream->mu);
	if (n != 0) {
		note(d, "appdeploy dev: not synced: %s: out of memory\n", rel);
		close(fd);
		return;
	}
	/* the content lands after room for the longest header, which then goes in front of it; as in
	 * file_entry, a file that grows is taken up to its size at the stat, one that shrinks as far as it goes */
	while (got < (size_t)sb.st_size && (n = read(fd, b->p + b->len + room + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	hl = syncframe_file_header(head, sizeof head, sb.st_mode & 0777, (uint64_t)got, rel);
	memcpy(b->p + b->len, head, hl);
	memmove(b->p + b->len + hl, b->p + b->len + room, got);
	b->p[b->len + hl + got] = '\n';
	if (d->stream)
		pthread_mutex_lock(&d->stream->mu);
	b->len += hl + got + 1;
	d->direct_files++;
	if (d->stream) {
		pthread_cond_signal(&d->stream->more);
		pthread_mutex_unlock(&d->stream->mu);
	}
}

/* Walks the local tree (what the ignore rules keep), adding manifest entries and inotify watches. */
static void walk(struct dev *d, const char *rel, json_t *files)
{
	char full[2 * PATH_MAX + 2];
	DIR *dir;
	struct dirent *de;

	snprintf(full, sizeof full, "%s%s%s", d->local, *rel ? "/" : "", rel);
	if (d->ino >= 0) {
		int wd = inotify_add_watch(d->ino, full, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
								IN_CREATE | IN_ATTRIB | IN_ONLYDIR | IN_DONT_FOLLOW);
		char key[16];

		if (wd >= 0) {
			void *old = NULL;

			snprintf(key, sizeof key, "%d", wd);
			strmap_put(&d->wd_dir, key, strdup(rel), &old);
			free(old);
		}
	}
	if (!(dir = opendir(full)))
		return;
	while ((de = readdir(dir))) {
		char child[PATH_MAX];
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof full, "%s/%s", d->local, child);
		/* the entry's type from readdir where the filesystem gives it (no lstat per file); file_entry
		 * checks a file again on its open descriptor */
		if (de->d_type == DT_DIR)
			sb.st_mode = S_IFDIR;
		else if (de->d_type == DT_REG)
			sb.st_mode = S_IFREG;
		else if (de->d_type != DT_UNKNOWN || lstat(full, &sb) != 0)
			continue; /* symlinks, devices, fifos, sockets are never synced */
		if (S_ISDIR(sb.st_mode)) {
			if (!ignore_path(&d->ig, child, 1))
				walk(d, child, files);
		} else if (S_ISREG(sb.st_mode) && !ignore_path(&d->ig, child, 0)) {
			if (d->direct)
				direct_add(d, child);
			else if (files)
				file_entry(d, child, files);
			else
				strmap_put(&d->changed, child, (void *)1, NULL); /* a new directory's files */
		}
	}
	closedir(dir);
}

/* Adds path to the batch: its content when it is a regular file here, else a deletion. */
static void batch_add(struct dev *d, struct buf *b, const char *rel, unsigned long *files, unsigned long *dels)
{
	char full[2 * PATH_MAX + 2], head[SYNC_PATH_MAX + 64];
	struct stat sb;
	const char *why;
	int fd;

	if (syncpath_check(rel, strlen(rel), &why) != 0)
		return;
	struct cached *c = strmap_get(&d->cache, rel);
	if (c) { /* hashed for the manifest a moment ago: send exactly that */
		buf_add(b, head, syncframe_file_header(head, sizeof head, c->mode, (uint64_t)c->len, rel));
		buf_add(b, c->data, c->len);
		buf_add(b, "\n", 1);
		(*files)++;
		return;
	}
	snprintf(full, sizeof full, "%s/%s", d->local, rel);
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		size_t at = b->len, hl = syncframe_file_header(head, sizeof head, sb.st_mode & 0777, (uint64_t)sb.st_size, rel);
		char chunk[65536];
		ssize_t n;
		uint64_t got = 0;

		buf_add(b, head, hl);
		while ((n = read(fd, chunk, sizeof chunk)) > 0 && got + (uint64_t)n <= (uint64_t)sb.st_size) {
			buf_add(b, chunk, (size_t)n);
			got += (uint64_t)n;
		}
		close(fd);
		if (got != (uint64_t)sb.st_size) { /* changed while read: the next save sends it */
			b->len = at;
			return;
		}
		buf_add(b, "\n", 1);
		(*files)++;
		return;
	}
	if (fd >= 0)
		close(fd);
	if (lstat(full, &sb) != 0 && errno == ENOENT) {
		buf_add(b, head, syncframe_delete_line(head, sizeof head, rel));
		(*dels)++;
	}
}

/* Prints a batch's line (and the build output in full when the build failed) from its answer (status,
 * out; status < 0: err says why there was none). 0 when the batch was applied. */
static int report(struct dev *d, long status, char *out, const char *err, size_t bytes, unsigned long files,
		  unsigned long dels, double t0)
{
	json_t *j;
	const char *outcome;

	if (status < 0) {
		printf("push failed: %s\n", err);
		fflush(stdout);
		return -1;
	}
	j = out ? json_loads(out, 0, NULL) : NULL;
	outcome = j ? json_string_value(json_object_get(j, "outcome")) : NULL;
	printf("pushed %lu file%s, %lu deleted, %zu bytes to %s in %.0f ms: %s\n", files, files == 1 ? "" : "s", dels,
	       bytes, d->pod, mono_seconds() * 1e3 - t0,
	       outcome ? outcome : status == 200 ? "ok" : "refused");
	if (j && json_string_value(json_object_get(j, "build_output")))
		fputs(json_string_value(json_object_get(j, "build_output")), stdout);
	else if (!outcome || (status != 200 && !j))
		printf("%ld: %s", status, out ? out : "");
	else if (status >= 400 && json_string_value(json_object_get(j, "error")))
		printf("%ld: %s\n", status, json_string_value(json_object_get(j, "error")));
	fflush(stdout);
	json_decref(j);
	return status == 200 || status == 500 || status == 502 ? 0 : -1;
}

/* Sends the batch and reports it. */
static int push(struct dev *d, struct buf *b, unsigned long files, unsigned long dels, double t0)
{
	char err[1024], *out = NULL;
	long status;
	int rc;

	buf_add(b, "END\n", 4);
	status = pod_post(d, "batch", b->p, b->len, &out, err, sizeof err);
	rc = report(d, status, out, err, b->len, files, dels, t0);
	free(out);
	return rc;
}

/* The whole-tree walk straight into the batch, on its own thread; the batch's END when it is over. */
static void *walk_main(void *arg)
{
	struct dev *d = arg;

	walk(d, "", NULL);
	pthread_mutex_lock(&d->stream->mu);
	buf_add(d->direct, "END\n", 4);
	d->stream->done = 1;
	pthread_cond_broadcast(&d->stream->more);
	pthread_mutex_unlock(&d->stream->mu);
	return NULL;
}

/* APPDEPLOY_DEV_TIMING=1: where a whole-tree sync's time goes, on stderr (bench/devsync.sh). */
static void timing(const char *what, double t0)
{
	static int on = -1;

	if (on < 0)
		on = getenv("APPDEPLOY_DEV_TIMING") != NULL;
	if (on)
		fprintf(stderr, "timing: %s at %.1f ms\n", what, (mono_seconds() * 1e3) - t0);
}

/* 1 when the pod's tree holds no file (a new pod's empty folder): a manifest listing nothing, whose
 * answer needs to name one deletion at most, says so in one short round trip. 0 otherwise, or when
 * it cannot tell (the manifest that follows reports why). */
static int remote_empty(struct dev *d)
{
	static const char probe[] = "{\"files\": [], \"delete_limit\": 1}";
	char err[1024], *out = NULL;
	long status = pod_post(d, "manifest", probe, sizeof probe - 1, &out, err, sizeof err);
	json_t *j = status == 200 && out ? json_loads(out, 0, NULL) : NULL, *del = json_object_get(j, "delete");
	int empty = json_is_array(del) && json_array_size(del) == 0;

	json_decref(j);
	free(out);
	return empty;
}

/* The whole tree: manifest, then one batch with what differs; to an empty pod, the tree in one batch. */
static int full_sync(struct dev *d)
{
	double t0 = mono_seconds() * 1e3;
	json_t *files, *man, *diff, *v;
	char err[1024], *body, *out = NULL;
	struct buf b = {0};
	struct stream st = {.b = &b};
	unsigned long nf = 0, nd = 0;
	long status = -1;
	size_t i;
	pthread_t th;
	int threaded, empty, any = 0;

	strmap_free(&d->wd_dir, free);
	timing("start", t0);
	/* The tree is read straight into a batch on another thread, as if the pod's tree were empty, while
	 * this one asks whether it is; when it is, the batch goes out as the walk makes it (d->k is this
	 * thread's, the walk only reads files). A pod with files gets the manifest diff; that walk reads again. */
	buf_add(&b, SYNC_MAGIC, sizeof SYNC_MAGIC - 1);
	pthread_mutex_init(&st.mu, NULL);
	pthread_cond_init(&st.more, NULL);
	d->direct = &b;
	d->stream = &st;
	d->direct_files = 0;
	d->notes.len = 0;
	threaded = pthread_create(&th, NULL, walk_main, d) == 0;
	if (!threaded)
		walk_main(d);
	if ((empty = remote_empty(d))) { /* every file differs: no hashes to compare, no manifest to send */
		timing("pod is empty", t0);
		pthread_mutex_lock(&st.mu);
		while (!st.done && !d->direct_files)
			pthread_cond_wait(&st.more, &st.mu);
		any = d->direct_files > 0;
		pthread_mutex_unlock(&st.mu);
		if (any)
			status = pod_post_stream(d, "batch", &st, &out, err, sizeof err);
	}
	if (threaded)
		pthread_join(th, NULL);
	d->direct = NULL;
	d->stream = NULL;
	pthread_cond_destroy(&st.more);
	pthread_mutex_destroy(&st.mu);
	if (empty) {
		timing("batch answered", t0);
		fwrite(d->notes.p ? d->notes.p : "", 1, d->notes.len, stderr);
		if ((nf = d->direct_files)) {
			int rc = report(d, status, out, err, b.len, nf, 0, t0);

			free(out);
			free(b.p);
			return rc;
		}
		free(b.p); /* nothing to send: up to date */
		b = (struct buf){0};
		goto send;
	}
	timing("pod has files", t0);
	free(b.p);
	b = (struct buf){0};
	strmap_free(&d->wd_dir, free);
	files = json_array();
	walk(d, "", files);
	timing("walk and hash", t0);
	man = json_pack("{s:o}", "files", files);
	body = json_dumps(man, JSON_COMPACT);
	json_decref(man);
	timing("manifest built", t0);
	status = pod_post(d, "manifest", body, strlen(body), &out, err, sizeof err);
	free(body);
	timing("manifest answered", t0);
	if (status != 200) {
		strmap_free(&d->cache, free);
		d->cached = 0;
		printf("sync to %s failed: %s\n", d->pod, status < 0 ? err : out ? out : "");
		fflush(stdout);
		free(out);
		return -1;
	}
	diff = json_loads(out, 0, NULL);
	if (!json_is_array(json_object_get(diff, "upload")) || !json_is_array(json_object_get(diff, "delete"))) {
		strmap_free(&d->cache, free);
		d->cached = 0;
		printf("sync to %s failed: not reloader's manifest answer: %.200s\n", d->pod, out);
		fflush(stdout);
		json_decref(diff);
		free(out);
		return -1;
	}
	free(out);
	buf_add(&b, SYNC_MAGIC, sizeof SYNC_MAGIC - 1);
	json_array_foreach(json_object_get(diff, "upload"), i, v)
		batch_add(d, &b, json_string_value(v), &nf, &nd);
	json_array_foreach(json_object_get(diff, "delete"), i, v) {
		char head[SYNC_PATH_MAX + 64];

		buf_add(&b, head, syncframe_delete_line(head, sizeof head, json_string_value(v)));
		nd++;
	}
	json_decref(diff);
	strmap_free(&d->cache, free);
	d->cached = 0;
	timing("batch built", t0);
send:
	if (!nf && !nd) {
		printf("%s is up to date (%.0f ms)\n", d->pod, mono_seconds() * 1e3 - t0);
		fflush(stdout);
		free(b.p);
		return 0;
	}
	{
		int rc = push(d, &b, nf, nd, t0);

		timing("batch answered", t0);

		free(b.p);
		return rc;
	}
}

static void collect(const char *key, void *val, void *arg)
{
	void **a = arg;
	(void)val;
	batch_add(a[0], a[1], key, a[2], a[3]);
}

/* Reads inotify events into d->changed; new directories are walked (their files count as changed). */
static void read_events(struct dev *d)
{
	char buf[65536] __attribute__((aligned(8)));
	ssize_t n = read(d->ino, buf, sizeof buf);

	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		char key[16], rel[PATH_MAX];
		const char *dir;

		p += sizeof *ev + ev->len;
		snprintf(key, sizeof key, "%d", ev->wd);
		if (!ev->len || !(dir = strmap_get(&d->wd_dir, key)))
			continue;
		snprintf(rel, sizeof rel, "%s%s%s", dir, *dir ? "/" : "", ev->name);
		if (ignore_path(&d->ig, rel, (ev->mask & IN_ISDIR) != 0))
			continue;
		if (ev->mask & IN_ISDIR) {
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				walk(d, rel, NULL);
			continue;
		}
		d->burst++;
		d->finished = (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
		if (ev->mask & IN_CREATE)
			continue; /* its close-after-write follows */
		strmap_put(&d->changed, rel, (void *)1, NULL);
	}
}

static int run(struct dev *d, int once)
{
	char err[1024];
	int rc, need_full; /* the last whole-tree sync failed (reloader not up yet): retry it */

	while ((rc = find_pod(d, err, sizeof err)) < 0) {
		fprintf(stderr, "appdeploy dev: %s; waiting\n", err);
		sleep(1);
	}
	printf("syncing %s to pod %s (namespace %s)\n", d->local, d->pod, d->ns);
	fflush(stdout);
	need_full = full_sync(d) != 0;
	if (once)
		return need_full;
	for (;;) {
		struct pollfd pfd = {.fd = d->ino, .events = POLLIN};
		double t0;
		struct buf b = {0};
		unsigned long nf = 0, nd = 0;
		void *arg[4] = {d, &b, &nf, &nd};

		if (poll(&pfd, 1, 1000) > 0)
			read_events(d);
		while (d->changed.n && poll(&pfd, 1, d->finished && d->burst <= 3 ? SAVED_MS : QUIET_MS) > 0)
			read_events(d); /* until the save is over */
		d->burst = 0;
		/* the pod is looked up on every idle second; a save right after that goes straight to it (a
		 * push that fails looks again and syncs the whole tree, below) */
		if (!d->changed.n || need_full || (mono_seconds() * 1e3) - d->pod_at > POD_FRESH_MS) {
			rc = find_pod(d, err, sizeof err);
			if (rc < 0)
				continue;
		} else
			rc = 0;
		if (rc > 0 || need_full) { /* a new pod: its source folder starts empty */
			if (rc > 0)
				printf("pod replaced: now %s\n", d->pod);
			fflush(stdout);
			strmap_free(&d->changed, NULL);
			need_full = full_sync(d) != 0;
			continue;
		}
		if (!d->changed.n)
			continue;
		t0 = mono_seconds() * 1e3;
		buf_add(&b, SYNC_MAGIC, sizeof SYNC_MAGIC - 1);
		strmap_each(&d->changed, collect, arg);
		strmap_free(&d->changed, NULL);
		if ((nf || nd) && push(d, &b, nf, nd, t0) != 0)
			need_full = 1; /* not applied (the pod went away?): look it up, then compare the whole tree */
		else if (find_pod(d, err, sizeof err) > 0)
			need_full = 1; /* look again while the user is not waiting; a new pod gets the whole tree */
		free(b.p);
	}
}

/* ---- the command ------------------------------------------------------------------------------ */

static int setup(struct dev *d, const struct cmd_opts *c, const char *local_flag, char *err, size_t cap)
{
	json_t *objs, *dep = NULL, *ann, *labels, *v;
	const char *key, *local, *port;
	size_t i, n = 0;

	if (pipeline_render_local(&c->pl, NULL, &cmd_diag, &objs, &d->ns)) {
		snprintf(err, cap, "render failed");
		return -1;
	}
	json_array_foreach(objs, i, v) {
		json_t *o = json_object_get(v, "object"); /* render_dir's {"file", "line", "object"} */
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

		if (kind && name && !strcmp(kind, "Deployment") && !strcmp(name, d->service))
			dep = o;
	}
	if (!dep) {
		snprintf(err, cap, "the set renders no Deployment %s", d->service);
		json_decref(objs);
		return -1;
	}
	ann = json_object_get(json_object_get(dep, "metadata"), "annotations");
	if (!json_object_get(ann, "sourcemode.dev/runner")) {
		snprintf(err, cap, "Deployment %s has no sourcemode.dev/runner annotation: it has no source mode", d->service);
		json_decref(objs);
		return -1;
	}
	local = local_flag ? local_flag : json_string_value(json_object_get(ann, "sourcemode.dev/local-source"));
	port = json_string_value(json_object_get(ann, "sourcemode.dev/control-port"));
	snprintf(d->port, sizeof d->port, "%s", port ? port : "7070");
	if (!local || !(d->local = realpath(local, NULL))) {
		snprintf(err, cap, "local source folder %s: %s (set sourcemode.dev/local-source in the template, or --local DIR)",
			 local ? local : "(none)", local ? strerror(errno) : "not given");
		json_decref(objs);
		return -1;
	}
	labels = json_object_get(json_object_get(json_object_get(dep, "spec"), "selector"), "matchLabels");
	json_object_foreach(labels, key, v)
		n += (size_t)snprintf(d->selector + n, n < sizeof d->selector ? sizeof d->selector - n : 0, "%s%s=%s",
				      n ? "," : "", key, json_string_value(v) ? json_string_value(v) : "");
	json_decref(objs);
	return 0;
}

int cmd_dev(int argc, char **argv)
{
	struct cmd_opts c;
	struct kube_config kc;
	struct dev d = {.ino = -1};
	char err[1024], **rest = calloc((size_t)argc + 4, sizeof *rest), *sync_flag = NULL;
	const char *local = NULL;
	int n = 0, once = 0, rc;

	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: appdeploy dev SERVICE DIR [--local SRC] [--once] [render/apply flags]\n");
		free(rest);
		return 2;
	}
	d.service = argv[1];
	rest[n++] = argv[0];
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--local") && i + 1 < argc)
			local = argv[++i];
		else if (!strcmp(argv[i], "--once"))
			once = 1;
		else
			rest[n++] = argv[i];
	}
	if (asprintf(&sync_flag, "%s=sync", d.service) < 0) {
		free(rest);
		return 1;
	}
	rest[n++] = "--source";
	rest[n++] = sync_flag; /* render the service as synced source mode runs it */
	if ((rc = cmd_opts_parse(n, rest, 1, &c)) != 0) {
		free(rest);
		free(sync_flag);
		return rc;
	}
	struct sm_error kerr;
	if (kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, &kerr)) {
		fprintf(stderr, "appdeploy dev: %s\n", kerr.msg);
		cmd_opts_free(&c);
		free(rest);
		free(sync_flag);
		return 1;
	}
	rc = 1;
	if (setup(&d, &c, local, err, sizeof err) != 0 ||
	    (!(d.k = kube_new(&kc, &kerr)) && (errbuf_set(err, sizeof err, "%s", kerr.msg), 1)) ||
	    read_token(&d, c.pl.dir, err, sizeof err) != 0) {
		fprintf(stderr, "appdeploy dev: %s\n", err);
		goto out;
	}
	if (ignore_init(&d.ig, d.local, editor_temp, NULL, 1) != 0) {
		fprintf(stderr, "appdeploy dev: out of memory\n");
		goto out;
	}
	if (!once && (d.ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		fprintf(stderr, "appdeploy dev: inotify: %s\n", strerror(errno));
		goto out;
	}
	rc = run(&d, once);
	ignore_free(&d.ig);
out:
	if (d.ino >= 0)
		close(d.ino);
	strmap_free(&d.wd_dir, free);
	strmap_free(&d.changed, NULL);
	strmap_free(&d.cache, free);
	free(d.notes.p);
	filehash_done();
	explicit_bzero(d.token_header, sizeof d.token_header);
	kube_free(d.k);
	free(d.ns);
	free(d.local);
	kubeconfig_free(&kc);
	cmd_opts_free(&c);
	free(rest);
	free(sync_flag);
	return rc;
}
