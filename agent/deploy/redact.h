/* redact.h — keeps Secret values out of everything appdeploy prints: diffs, progress lines, server errors. */
#ifndef SM_REDACT_H
#define SM_REDACT_H

#include <jansson.h>
#include <stddef.h>

/* True when o is a core v1 Secret. */
int redact_is_secret(json_t *o);

/*
 * Masks the data and stringData values of before and after (each a Secret or NULL; changed in
 * place) the way kubectl diff does: a key present on both sides with the same value becomes "***"
 * on both, a changed one "*** (before)" / "*** (after)", a key on one side only "***".
 * Objects that are not Secrets are left as they are.
 */
void redact_pair(json_t *before, json_t *after);

/* Copies msg into buf (len bytes) with every value of secret's data (as sent and decoded) and
 * stringData (as sent and base64-encoded) replaced by "***". Returns buf, or msg when secret is not
 * a Secret. */
const char *redact_text(json_t *secret, const char *msg, char *buf, size_t len);

#endif
