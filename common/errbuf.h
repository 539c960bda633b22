/* errbuf.h — the agent's one error convention: a caller-owned buffer filled printf-style (Redis's anetSetError). */
#ifndef SM_ERRBUF_H
#define SM_ERRBUF_H

#include <stddef.h>

/* Formats the message into err (errlen bytes, always NUL-terminated, truncated when longer).
 * The caller decides the wording around it and the exit status. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
