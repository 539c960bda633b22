/* logring.c — a fixed-size byte ring of recent output, read by absolute offsets. */
#include "logring.h"

#include <stdlib.h>
#include <string.h>

int logring_init(struct logring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->buf = malloc(cap);
	r->cap = cap;
	return r->buf ? 0 : -1;
}

void logring_free(struct logring *r)
{
	free(r->buf);
	r->buf = NULL;
}

void logring_clear(struct logring *r)
{
	/* Forget the content but keep offsets increasing, so readers never see old bytes again. */
	r->begin = r->end;
}

uint64_t logring_start(const struct logring *r)
{
	uint64_t oldest = r->end > r->cap ? r->end - r->cap : 0;

	return oldest > r->begin ? oldest : r->begin;
}

void logring_append(struct logring *r, const char *data, size_t len)
{
	if (len > r->cap) { /* only the newest cap bytes can be kept */
		r->end += len - r->cap;
		data += len - r->cap;
		len = r->cap;
	}
	while (len) {
		size_t at = (size_t)(r->end % r->cap);
		size_t chunk = r->cap - at < len ? r->cap - at : len;

		memcpy(r->buf + at, data, chunk);
		r->end += chunk;
		data += chunk;
		len -= chunk;
	}
	if (r->on_append)
		r->on_append(r->on_append_arg);
}

size_t logring_read(const struct logring *r, uint64_t *pos, char *dst, size_t max)
{
	size_t done = 0;

	if (*pos < logring_start(r))
		*pos = logring_start(r);
	while (done < max && *pos < r->end) {
		size_t at = (size_t)(*pos % r->cap);
		size_t avail = (size_t)(r->end - *pos);
		size_t chunk = r->cap - at;

		if (chunk > avail)
			chunk = avail;
		if (chunk > max - done)
			chunk = max - done;
		memcpy(dst + done, r->buf + at, chunk);
		done += chunk;
		*pos += chunk;
	}
	return done;
}

uint64_t logring_tail_offset(const struct logring *r, size_t lines)
{
	uint64_t start = logring_start(r), pos = r->end;
	size_t seen = 0;

	/* A final unterminated line counts as a line. */
	if (pos > start && r->buf[(pos - 1) % r->cap] == '\n')
		pos--;
	while (pos > start) {
		if (r->buf[(pos - 1) % r->cap] == '\n' && ++seen == lines)
			return pos;
		pos--;
	}
	return start;
}

char *logring_tail(const struct logring *r, size_t lines, size_t max_bytes)
{
	return logring_tail_len(r, lines, max_bytes, NULL);
}

char *logring_tail_len(const struct logring *r, size_t lines, size_t max_bytes, size_t *out_len)
{
	uint64_t pos = logring_tail_offset(r, lines);
	size_t len;
	char *out;

	if (r->end - pos > max_bytes)
		pos = r->end - max_bytes;
	len = (size_t)(r->end - pos);
	out = malloc(len + 1);
	if (!out)
		return NULL;
	len = logring_read(r, &pos, out, len);
	out[len] = 0;
	if (out_len)
		*out_len = len;
	return out;
}
