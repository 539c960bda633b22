/* secret.h — comparing secrets (tokens, CSRF values) in time that does not depend on where they differ. */
#ifndef SM_SECRET_H
#define SM_SECRET_H

/* 1 when a and b are the same string, else 0 (also when either is NULL). Takes time proportional to
 * strlen(a) whatever the contents, so a network peer cannot find a token byte by byte. */
int secret_equal(const char *a, const char *b);

#endif
