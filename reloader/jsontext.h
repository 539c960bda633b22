/* jsontext.h — JSON strings from arbitrary output bytes (service logs are not always UTF-8). */
#ifndef RL_JSONTEXT_H
#define RL_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string holding the len bytes at s: valid UTF-8 is kept (NUL too: JSON escapes it as
 * \u0000), each byte of an invalid sequence becomes U+FFFD. Never NULL unless out of memory. */
json_t *jsontext_string(const char *s, size_t len);

/* A JSON array of the lines of s (split at '\n', the newline dropped; a final line without one
 * counts), each made with jsontext_string. */
json_t *jsontext_lines(const char *s, size_t len);

#endif
