/* bundle.c — DIR as a reproducible gzip'd tar (tar for the archive, zlib for gzip) and the ConfigMap that carries it (bundle.h). */
#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base64.h"
#include "runcmd.h"
#include "sha256.h"

/* More than this much tar cannot fit however well it compresses (real sets are far smaller). */
#define TAR_CAP (256u << 20)

static int gzip_bytes(const char *in, size_t n, unsigned char **out, size_t *len)
{
	z_stream z = {0};
	/* windowBits 15 + 16: a gzip wrapper; deflateInit2 writes mtime 0 and no name, so equal input, equal bytes */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, n) + 64;
	*out = malloc(cap);
	if (!*out) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int bundle_make(const char *dir, unsigned char **out, size_t *len, struct sm_error *err)
{
	return bundle_make_with(dir, NULL, NULL, out, len, err);
}

int bundle_make_with(const char *dir, const char *extra, const char *extra_name, unsigned char **out, size_t *len,
		     struct sm_error *err)
{
	const char *argv[24] = {"tar",
				"-C",
				dir,
				"--sort=name",
				"--owner=0",
				"--group=0",
				"--numeric-owner",
				"--mtime=@0",
				"--format=gnu",
				"--exclude-vcs",
				"-cf",
				"-",
				"."};
	size_t n = 13;
	char *copy = NULL, *xform = NULL;
	if (extra && extra_name) {
		/* GNU tar: -C to the file's folder (absolute: a later -C is relative to the one before), its member
		 * renamed (DIR's own members all start with "./", so only this one matches) */
		copy = strdup(extra);
		char *slash = strrchr(copy, '/');
		const char *base = slash ? slash + 1 : copy;
		if (asprintf(&xform, "--transform=s,^%s$,%s,", base, extra_name) < 0)
			xform = NULL;
		argv[n++] = "-C";
		if (slash) {
			*slash = 0;
			argv[n++] = *copy ? copy : "/";
		} else
			argv[n++] = ".";
		argv[n++] = xform;
		argv[n++] = base;
	}
	argv[n] = NULL;
	struct runcmd r;
	*out = NULL;
	*len = 0;
	if (runcmd(argv, NULL, TAR_CAP, &r)) {
		free(copy);
		free(xform);
		sm_error_set(err, NULL, 0, 0, "bundling %s: %s (install tar)", dir,
			     r.err ? r.err : "tar did not start");
		runcmd_free(&r);
		return -1;
	}
	if (r.status) {
		size_t el = strlen(r.err);
		while (el && (r.err[el - 1] == '\n' || r.err[el - 1] == '\r'))
			r.err[--el] = 0;
		sm_error_set(err, NULL, 0, 0, "bundling %s: tar exited %d: %s", dir, r.status, r.err);
		runcmd_free(&r);
		free(copy);
		free(xform);
		return -1;
	}
	if (r.truncated) {
		sm_error_set(
			err, NULL, 0, 0,
			"bundling %s: over %u MiB of files, which cannot fit the %d MiB object limit; put DIR in a git "
			"repository whose remote the cluster can reach instead",
			dir, TAR_CAP >> 20, BUNDLE_MAX_OBJECT >> 20);
		runcmd_free(&r);
		free(copy);
		free(xform);
		return -1;
	}
	int rc = gzip_bytes(r.out, r.out_len, out, len);
	runcmd_free(&r);
	free(copy);
	free(xform);
	if (rc)
		sm_error_set(err, NULL, 0, 0, "bundling %s: out of memory", dir);
	return rc;
}

json_t *bundle_configmap(const char *dir, const char *ns, const unsigned char *tgz, size_t len, size_t *size,
			 struct sm_error *err)
{
	char digest[65];
	sha256_hex(tgz, len, digest);
	char *b64 = base64_encode(tgz, len);
	if (!b64) {
		sm_error_set(err, NULL, 0, 0, "bundling %s: out of memory", dir);
		return NULL;
	}
	json_t *cm = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind",
			       "ConfigMap", "metadata", "name", BUNDLE_CONFIGMAP, "namespace", ns, "labels",
			       "app.kubernetes.io/name", "appdeploy", "app.kubernetes.io/component", "agent", "data",
			       "digest", digest, "binaryData", BUNDLE_KEY, b64);
	free(b64);
	char *text = json_dumps(cm, JSON_COMPACT);
	*size = text ? strlen(text) : 0;
	free(text);
	if (*size > BUNDLE_MAX_OBJECT) {
		sm_error_set(
			err, NULL, 0, 0,
			"the bundle of %s is %.2f MiB as a ConfigMap (%zu bytes; %zu bytes of tar.gz), over the API "
			"server's 1 MiB object limit (%d bytes): nothing was written. Make %s smaller (move large files "
			"out of it), or put it in a git repository whose remote the cluster can reach (the agent then "
			"clones it)",
			dir, (double)*size / (1024.0 * 1024.0), *size, len, BUNDLE_MAX_OBJECT, dir);
		json_decref(cm);
		return NULL;
	}
	return cm;
}
