/* filehash.h — SHA-256 of file contents for `appdeploy dev`'s manifests, through OpenSSL (several times the speed of common/sha256.c). */
#ifndef SM_FILEHASH_H
#define SM_FILEHASH_H

#include <stddef.h>

/* Writes the SHA-256 of the n bytes at data as 64 lowercase hex digits and a NUL into hex.
 * Returns 0, or -1 when OpenSSL failed (hex is then empty). Not thread-safe (one context is kept). */
int filehash_hex(const void *data, size_t n, char hex[65]);

/* Frees the kept context (at exit; LeakSanitizer-clean). */
void filehash_done(void);

#endif
