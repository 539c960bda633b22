/* execcred.h — exec credential plugins (client.authentication.k8s.io v1/v1beta1): run, parse, cache until expiry. */
#ifndef SM_EXECCRED_H
#define SM_EXECCRED_H

#include <stddef.h>

#include "kubeconfig.h"

/* A credential a plugin returned. Strings are malloc'd; free with execcred_clear (which wipes them). */
struct execcred {
	char *token;      /* status.token, or NULL */
	char *cert;       /* status.clientCertificateData (PEM), or NULL */
	size_t cert_len;
	char *key;        /* status.clientKeyData (PEM), or NULL */
	size_t key_len;
	double expires;   /* status.expirationTimestamp as Unix seconds; 0 = never */
};

/*
 * The credential for cfg's exec plugin (cfg->exec must be set): a copy of the one cached in this
 * process for the same plugin and cluster while it has not expired, else the plugin's fresh answer.
 * When `rejected` is a token or certificate the server just refused (401), a cached credential equal to
 * it is dropped and the plugin runs again. Thread-safe. Returns 0, or -1 with err filled: the error names
 * the user entry, the command, its exit status and its stderr (never its stdout: that holds the secret).
 */
int execcred_get(const struct kube_config *cfg, const struct execcred *rejected, struct execcred *out, struct sm_error *err);

/* Parses a plugin's stdout (an ExecCredential of api_version). Returns 0, or -1 with err filled (the
 * text is never quoted). For tests and fuzzing as well. */
int execcred_parse(const char *text, size_t len, const char *api_version, struct execcred *out, struct sm_error *err);

/* Parses an RFC 3339 time ("2026-01-02T03:04:05Z", fractions and offsets allowed) to Unix seconds.
 * Returns 0 or -1. */
int execcred_parse_time(const char *s, double *out);

/* A deep copy of src into dst (0, or -1 when out of memory). */
int execcred_copy(struct execcred *dst, const struct execcred *src);
void execcred_clear(struct execcred *c);

#endif
