/* kubeconfig.h — where the cluster is and who we are: kubeconfig files read as kubectl reads them, or the in-cluster service account. */
#ifndef SM_KUBECONFIG_H
#define SM_KUBECONFIG_H

#include <stddef.h>

#include "errbuf.h"

/* users[].user.exec: an exec credential plugin (client.authentication.k8s.io), as client-go runs it.
 * Every string malloc'd and owned (NULL when unset). Runtime: execcred.h. */
enum kube_exec_interactive { KUBE_EXEC_NEVER, KUBE_EXEC_IF_AVAILABLE, KUBE_EXEC_ALWAYS };
struct kube_exec {
	char *api_version;         /* "client.authentication.k8s.io/v1" or ".../v1beta1" */
	char *command;             /* looked up in $PATH when it has no '/'; relative paths with '/' resolved
	                              against the kubeconfig's directory */
	char **args;               /* nargs arguments after the command */
	size_t nargs;
	char **env;                /* nenv "NAME=VALUE" strings added to our environment */
	size_t nenv;
	char *install_hint;        /* shown when the command is missing */
	int interactive;           /* enum kube_exec_interactive */
	int provide_cluster_info;  /* pass spec.cluster in KUBERNETES_EXEC_INFO */
	char *cluster_config;      /* JSON of the cluster's extensions[client.authentication.k8s.io/exec], or NULL */
	char *user;                /* the users[] entry name, for errors */
};

/* The resolved connection settings of one context. Every string is malloc'd and owned by the
 * struct (NULL when unset); free with kubeconfig_free. Secrets (token, key data) live only here
 * and in the HTTP client's memory: never print them. */
struct kube_config {
	char *context;       /* context name used ("in-cluster" for the service account) */
	char *cluster;       /* cluster entry name */
	char *user;          /* user entry name */
	char *server;        /* "https://host:port", without trailing slash */
	char *namespace;     /* the context's namespace, NULL when the context names none */
	char *ca_file;       /* certificate-authority, absolute path */
	char *ca_data;       /* certificate-authority-data, decoded PEM */
	size_t ca_data_len;  /* its length in bytes */
	int insecure;        /* insecure-skip-tls-verify */
	char *token;         /* bearer token given inline */
	char *token_file;    /* tokenFile: re-read whenever it changes (service-account rotation) */
	char *cert_file;     /* client-certificate, absolute path */
	char *key_file;      /* client-key, absolute path */
	char *cert_data;     /* client-certificate-data, decoded PEM */
	size_t cert_data_len;
	char *key_data;      /* client-key-data, decoded PEM */
	size_t key_data_len;
	char *username;      /* basic auth username, when the kubeconfig has one */
	char *password;      /* basic auth password */
	int in_cluster;      /* settings came from the pod's service account */
	char *proxy_url;     /* proxy-url: http(s):// or socks5:// proxy for every request (else HTTPS_PROXY etc.) */
	char *tls_server_name; /* tls-server-name: the name the server certificate is checked against (and SNI) */
	int disable_compression; /* disable-compression: do not ask for gzip answers */
	struct kube_exec *exec;  /* users[].user.exec, NULL when the user has none */
};

/* A deep copy of e (NULL for NULL); kube_exec_free frees one. */
struct kube_exec *kube_exec_dup(const struct kube_exec *e);
void kube_exec_free(struct kube_exec *e);

/*
 * Resolves the settings the way kubectl does:
 *   path given (--kubeconfig)  -> only that file, which must exist;
 *   else $KUBECONFIG           -> a ':'-separated list, merged: for every named cluster, user and
 *                                 context and for current-context the first file that sets it wins;
 *                                 missing files are skipped;
 *   else ~/.kube/config        -> when it exists;
 *   else the in-cluster service account ($KUBERNETES_SERVICE_HOST/_PORT and the token, ca.crt and
 *        namespace files under /var/run/secrets/kubernetes.io/serviceaccount, or under
 *        $APPDEPLOY_SERVICEACCOUNT_DIR when set).
 * context NULL means current-context. Relative file paths are resolved against the kubeconfig file
 * that names them. Returns 0, or -1 with err filled ("FILE:LINE:COL: ..." when a position is known);
 * err never contains secrets.
 */
int kubeconfig_load(const char *path, const char *context, struct kube_config *cfg, struct sm_error *err);

/* Loads from one already-parsed in-memory text (for tests and fuzzing); name is used in errors. */
int kubeconfig_load_text(const char *text, size_t len, const char *name, const char *context,
			 struct kube_config *cfg, struct sm_error *err);

/* The current bearer token: the inline one, else the tokenFile's content (trimmed, re-read on
 * every call so a rotated service-account token is picked up). *out is malloc'd (NULL when there is
 * no token). Returns 0, or -1 with err filled when the token file cannot be read. */
int kubeconfig_token(const struct kube_config *cfg, char **out, struct sm_error *err);

void kubeconfig_free(struct kube_config *cfg);

#endif
