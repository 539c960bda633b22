/* stage.h — a sync batch's files staged under ROOT/.reloader-sync, then committed all together or not at all. */
#ifndef RL_STAGE_H
#define RL_STAGE_H

#include <stddef.h>
#include <stdint.h>

#define STAGE_DIR ".reloader-sync" /* never watched nor fingerprinted (glob.c prunes it like .git) */

struct stage;

/* What went wrong, so the caller can pick the HTTP status. */
enum stage_error {
	STAGE_OK,
	STAGE_REFUSED, /* the batch asks for something unsafe (a symlink on the path, not a regular file): 400 */
	STAGE_IO,      /* the disk said no (space, permissions): 500 */
};

/*
 * Creates ROOT/.reloader-sync (leftovers of an earlier crash are removed). root must be absolute.
 * Returns NULL with a message in err on failure. Nothing outside the staging directory is touched
 * before stage_commit.
 */
struct stage *stage_open(const char *root, char *err, size_t cap);

/*
 * A file of the batch: checks that path can be written safely (every existing directory on it is
 * a real directory, not a symlink; the file itself is absent or a regular file), then receives its
 * content into a staged file with mode & 0777. path was checked by syncpath_check already.
 * Each returns STAGE_OK or an error with a message in err.
 */
enum stage_error stage_file_begin(struct stage *st, const char *path, unsigned mode, char *err, size_t cap);
enum stage_error stage_file_data(struct stage *st, const char *data, size_t len, char *err, size_t cap);
enum stage_error stage_file_end(struct stage *st, char *err, size_t cap);
/* A deletion: the path must be absent (nothing to do) or a regular file, reached through real directories. */
enum stage_error stage_delete(struct stage *st, const char *path, char *err, size_t cap);

/*
 * Moves every staged file into place (rename over the old one, creating missing directories) and
 * applies the deletions, in batch order. On any failure every step already done is undone, so the
 * tree is as before, and the error says what failed. *written / *deleted count the steps applied.
 */
enum stage_error stage_commit(struct stage *st, unsigned long *written, unsigned long *deleted, char *err, size_t cap);

/*
 * Calls fn for every file of the batch received so far (before stage_commit: the watcher is told
 * what is coming, watch_expect): its path, contents.h's value of its content (ct_value), and the
 * staged file's inode, size and mtime, which the rename into place keeps.
 */
void stage_each_file(struct stage *st,
		     void (*fn)(void *arg, const char *path, uint32_t val, unsigned long long ino,
				unsigned long long size, long long mtime_ns),
		     void *arg);

/* Opens root_fd/path for reading when it is a regular file reached through real directories (no
 * symlink followed anywhere); -1 otherwise. For comparing a manifest with the tree. */
int stage_open_read(int root_fd, const char *path);

/* Removes the staging directory and whatever is left in it; frees st. NULL is fine. */
void stage_close(struct stage *st);

#endif
