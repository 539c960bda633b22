/* logring.h — a fixed-size byte ring of recent output, read by absolute offsets (for /logs and build tails). */
#ifndef RL_LOGRING_H
#define RL_LOGRING_H

#include <stddef.h>
#include <stdint.h>

struct logring {
	char *buf;       /* cap bytes */
	size_t cap;      /* capacity, bytes */
	uint64_t end;    /* absolute offset one past the newest byte */
	uint64_t begin;  /* nothing before this offset is readable (moved by logring_clear) */
	void (*on_append)(void *arg); /* called after every append (wakes /logs followers) */
	void *on_append_arg;
};

int logring_init(struct logring *r, size_t cap);
void logring_free(struct logring *r);
void logring_append(struct logring *r, const char *data, size_t len);
void logring_clear(struct logring *r);

/* Absolute offset of the oldest byte still held. */
uint64_t logring_start(const struct logring *r);

/* Copies up to max bytes from absolute offset *pos (moved forward past anything already
 * overwritten) into dst; advances *pos. Returns the number of bytes copied. */
size_t logring_read(const struct logring *r, uint64_t *pos, char *dst, size_t max);

/* Offset where the last `lines` lines start (the whole ring if it holds fewer). */
uint64_t logring_tail_offset(const struct logring *r, size_t lines);

/* A malloc'd, NUL-terminated copy of the last `lines` lines (at most max_bytes of them). */
char *logring_tail(const struct logring *r, size_t lines, size_t max_bytes);
/* The same, with its length in *len (the bytes may hold NULs: use the length, not strlen). */
char *logring_tail_len(const struct logring *r, size_t lines, size_t max_bytes, size_t *len);

#endif
