/* slurp.c — reads a whole file into a NUL-terminated buffer (slurp.h). */
#include "slurp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int err = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = (n + 4096 + 1) * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (max && n > max) {
			err = EFBIG;
			break;
		}
		if (!r) {
			if (ferror(f))
				err = errno ? errno : EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}
