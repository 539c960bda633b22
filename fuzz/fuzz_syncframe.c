/* fuzz_syncframe.c — libFuzzer target for the source-sync batch parser (common/syncproto.c): any bytes,
 * fed in two pieces, never a crash or leak; every failure says why, and file data adds up to SIZE. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncproto.h"

struct count {
	uint64_t want, got;
	int in_file;
};

static int begin(void *arg, const char *path, unsigned mode, uint64_t size)
{
	struct count *c = arg;
	const char *why;

	if (c->in_file || mode > 07777 || syncpath_check(path, strlen(path), &why) != 0)
		abort();
	c->want = size;
	c->got = 0;
	c->in_file = 1;
	return 0;
}

static int data(void *arg, const char *d, size_t len)
{
	struct count *c = arg;

	(void)d;
	c->got += len;
	return c->got > c->want ? (abort(), -1) : 0;
}

static int end(void *arg)
{
	struct count *c = arg;

	if (!c->in_file || c->got != c->want)
		abort();
	c->in_file = 0;
	return 0;
}

static int del(void *arg, const char *path)
{
	const char *why;

	(void)arg;
	return syncpath_check(path, strlen(path), &why) == 0 ? 0 : (abort(), -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct count c = {0};
	struct syncframe_ops ops = {begin, data, end, del, &c};
	struct syncframe p;
	size_t split = size ? buf[0] % (size + 1) : 0; /* the first byte picks where the body is cut */
	int rc;

	syncframe_init(&p, &ops, 1 << 20, 1000);
	rc = syncframe_feed(&p, (const char *)buf, split);
	if (rc == 0)
		rc = syncframe_feed(&p, (const char *)buf + split, size - split);
	if (rc == 0)
		rc = syncframe_finish(&p);
	if (rc != 0 && !p.err[0])
		abort();
	return 0;
}
