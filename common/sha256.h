/* sha256.h — SHA-256 digest (FIPS 180-4), for the template engine's sha256sum and other fingerprints. */
#ifndef SM_SHA256_H
#define SM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	unsigned char buf[64]; /* pending partial block */
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* One-shot: writes the 64-character lower-case hex digest plus NUL into hex. */
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
