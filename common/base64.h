/* base64.h — standard base64 encoding (RFC 4648, padded, no line breaks) through OpenSSL's EVP_EncodeBlock. */
#ifndef SM_BASE64_H
#define SM_BASE64_H

#include <stddef.h>

/* Encodes n bytes of in. Returns a malloc'd NUL-terminated string (the caller frees it), or NULL
 * when out of memory. */
char *base64_encode(const void *in, size_t n);

/* Decodes padded base64 (trailing newlines allowed). Returns malloc'd bytes with *n their count, or
 * NULL when in is not base64 or out of memory. */
unsigned char *base64_decode(const char *in, size_t *n);

#endif
