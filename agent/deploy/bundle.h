/* bundle.h — `appdeploy up`'s bundle: DIR as a gzip'd tar in the ConfigMap appdeploy-bundle, when the cluster cannot clone it. */
#ifndef SM_BUNDLE_H
#define SM_BUNDLE_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

#define BUNDLE_CONFIGMAP "appdeploy-bundle"
#define BUNDLE_KEY "set.tar.gz"
/* The API server refuses a ConfigMap over 1 MiB (data and binaryData together). */
#define BUNDLE_MAX_OBJECT (1024 * 1024)

/*
 * The gzip'd tar of dir: paths relative to dir ("./hello.yaml"), VCS folders left out, entries sorted,
 * owner 0 and mtime 0, gzip without a time stamp, so the same files always give the same digest.
 * *out is malloc'd. Returns 0, or -1 with err filled (tar's message).
 */
int bundle_make(const char *dir, unsigned char **out, size_t *len, struct sm_error *err);
/* bundle_make with one more file (extra: its path, may be NULL) stored as extra_name at the top of the archive
 * (the image list of a set whose list lives outside DIR: a hidden name, which render_dir passes over). */
int bundle_make_with(const char *dir, const char *extra, const char *extra_name, unsigned char **out, size_t *len,
		     struct sm_error *err);
/* The name bundle_make_with's callers give the image list inside the bundle. */
#define BUNDLE_IMAGES_NAME ".appdeploy-images.yaml"

/*
 * The ConfigMap appdeploy-bundle in ns holding it (binaryData set.tar.gz, data digest: the SHA-256 hex of
 * the tar.gz), a new reference; *size is the object's size as JSON. Over BUNDLE_MAX_OBJECT it returns NULL
 * with err naming dir, the size and the limit.
 */
json_t *bundle_configmap(const char *dir, const char *ns, const unsigned char *tgz, size_t len, size_t *size,
			 struct sm_error *err);

#endif
