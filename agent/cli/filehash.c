/* filehash.c — SHA-256 hex digests with OpenSSL's EVP interface, the digest fetched once (filehash.h). */
#include "filehash.h"

#include <openssl/evp.h>
#include <stdio.h>

static EVP_MD *md;      /* fetched once: an implicit fetch per file costs more than hashing a small one */
static EVP_MD_CTX *ctx;

int filehash_hex(const void *data, size_t n, char hex[65])
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	hex[0] = 0;
	if (!md && !(md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		return -1;
	if (!ctx && !(ctx = EVP_MD_CTX_new()))
		return -1;
	if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, data, n) || !EVP_DigestFinal_ex(ctx, dig, &len) ||
	    len != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	return 0;
}

void filehash_done(void)
{
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	ctx = NULL;
	md = NULL;
}
