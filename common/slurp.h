/* slurp.h — reading a whole file into memory, the one way agent/ and reloader/ do it. */
#ifndef SM_SLURP_H
#define SM_SLURP_H

#include <stddef.h>

/*
 * Reads the file at path whole (opened close-on-exec). Returns a malloc'd buffer the caller frees,
 * NUL-terminated after its *len bytes (len may be NULL: text files), or NULL with errno set: the
 * open's or read's errno, ENOMEM, or EFBIG when the file holds more than max bytes (max 0: no limit).
 */
char *slurp(const char *path, size_t max, size_t *len);

#endif
