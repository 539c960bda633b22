/* syncproto.h — the source-sync wire format shared by reloader (POST /sync/batch) and appdeploy dev:
 * path rules and an incremental parser / writer for the framed batch body.
 *
 * A batch body is, byte for byte:
 *     "RLSYNC 1\n"
 *     then any number of entries, each one of
 *         "F " MODE " " SIZE " " PATH "\n" <SIZE bytes of content> "\n"   a file (MODE octal, SIZE decimal)
 *         "D " PATH "\n"                                                   a deletion
 *     then "END\n" and nothing after it.
 * PATH is relative to the source root, '/'-separated (see syncpath_check). A body that stops before
 * "END\n" is truncated: the receiver must apply none of it. */
#ifndef SM_SYNCPROTO_H
#define SM_SYNCPROTO_H

#include <stddef.h>
#include <stdint.h>

#define SYNC_MAGIC "RLSYNC 1\n"
#define SYNC_PATH_MAX 1024 /* bytes in one relative path */

/*
 * 0 when path is a safe relative path: not empty, at most SYNC_PATH_MAX bytes, no leading '/',
 * no empty, "." or ".." component, no NUL, newline or carriage return, and no component named
 * ".reloader-sync" (the receiver's staging directory) or ".git". Otherwise -1 with a reason
 * (static text) in *why.
 */
int syncpath_check(const char *path, size_t len, const char **why);

/* What the parser reports; each returns 0 to go on, -1 to stop (set the parser's error first
 * with syncframe_fail, or a generic one is used). Paths are NUL-terminated and checked. */
struct syncframe_ops {
	int (*file_begin)(void *arg, const char *path, unsigned mode, uint64_t size);
	int (*file_data)(void *arg, const char *data, size_t len);
	int (*file_end)(void *arg);
	int (*del)(void *arg, const char *path);
	void *arg;
};

struct syncframe {
	const struct syncframe_ops *ops;
	int state;                    /* where in the grammar the next byte belongs (syncproto.c) */
	char line[SYNC_PATH_MAX + 64]; /* the header line being read */
	size_t line_len;
	uint64_t left;                /* content bytes of the current file still to come */
	uint64_t offset;              /* bytes consumed so far (for error messages) */
	unsigned long entries;        /* entries seen so far */
	uint64_t max_file;            /* largest SIZE accepted */
	unsigned long max_entries;    /* most entries accepted */
	char err[256];                /* "byte OFFSET (entry N): message" after a failure */
};

/* Starts a parse; limits 0 mean none. */
void syncframe_init(struct syncframe *p, const struct syncframe_ops *ops, uint64_t max_file, unsigned long max_entries);
/* Feeds the next bytes. Returns 0, or -1 with p->err set (the parse is over). */
int syncframe_feed(struct syncframe *p, const char *data, size_t len);
/* The body ended: 0 when it ended right after "END\n", else -1 with p->err ("truncated ..."). */
int syncframe_finish(struct syncframe *p);
/* Sets p->err from a callback (the position is added). */
void syncframe_fail(struct syncframe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes an entry header into buf (cap >= SYNC_PATH_MAX + 64). Returns its length. */
size_t syncframe_file_header(char *buf, size_t cap, unsigned mode, uint64_t size, const char *path);
size_t syncframe_delete_line(char *buf, size_t cap, const char *path);

#endif
