/* crypto.c — sprig's crypto functions on OpenSSL's libcrypto: keys, certificates, AES, derivePassword, bcrypt/htpasswd, sha1/adler32. */
#include <arpa/inet.h>
#include <crypt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sprig.h"
#include "base64.h"
#include "sha256.h"
#include "tmpl_node.h"


static void b64_encode(struct sbuf *b, const unsigned char *s, size_t n)
{
	char *e = base64_encode(s, n);
	if (e)
		sb_add(b, e, strlen(e));
	free(e);
}

/* Strict standard base64 (Go's StdEncoding): -1 on bad input. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
	long o = 0;
	unsigned v = 0;
	int bits = 0;
	size_t i, pad = 0;
	if (n % 4)
		return -1;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int d;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -1;
		if (ch >= 'A' && ch <= 'Z')
			d = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			d = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			d = ch - '0' + 52;
		else if (ch == '+')
			d = 62;
		else if (ch == '/')
			d = 63;
		else
			return -1;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return pad > 2 ? -1 : o;
}

/* ---- keys ---- */

static char *key_pem(EVP_PKEY *k, const char *structure)
{
	BIO *b = BIO_new(BIO_s_mem());
	OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(k, OSSL_KEYMGMT_SELECT_KEYPAIR | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS,
							    "PEM", structure, NULL);
	char *out = NULL;
	if (e && OSSL_ENCODER_to_bio(e, b)) {
		char *p;
		long n = BIO_get_mem_data(b, &p);
		out = strndup(p, (size_t)n);
	}
	OSSL_ENCODER_CTX_free(e);
	BIO_free(b);
	return out;
}

/* Go's pemBlockForKey: PKCS#1 for RSA, SEC1 for EC, the DSA sequence, PKCS#8 for the rest. */
static char *pem_for_key(EVP_PKEY *k)
{
	int id = EVP_PKEY_get_base_id(k);
	return key_pem(k, id == EVP_PKEY_RSA || id == EVP_PKEY_EC || id == EVP_PKEY_DSA ? "type-specific" : "PrivateKeyInfo");
}

static EVP_PKEY *gen_key(const char *type, int rsa_bits)
{
	EVP_PKEY *k = NULL;
	if (!strcmp(type, "rsa") || !*type) {
		k = EVP_RSA_gen((unsigned)rsa_bits);
	} else if (!strcmp(type, "ecdsa")) {
		k = EVP_EC_gen("P-256");
	} else if (!strcmp(type, "ed25519")) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else if (!strcmp(type, "dsa")) {
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
		EVP_PKEY *params = NULL;
		if (pc && EVP_PKEY_paramgen_init(pc) > 0 && EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, 2048) > 0 &&
		    EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, 256) > 0 && EVP_PKEY_paramgen(pc, &params) > 0) {
			EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new(params, NULL);
			if (kc && EVP_PKEY_keygen_init(kc) > 0)
				EVP_PKEY_keygen(kc, &k);
			EVP_PKEY_CTX_free(kc);
		}
		EVP_PKEY_free(params);
		EVP_PKEY_CTX_free(pc);
	}
	return k;
}

int tfx_gen_private_key(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *t = S(a[0]);
	if (*t && strcmp(t, "rsa") && strcmp(t, "dsa") && strcmp(t, "ecdsa") && strcmp(t, "ed25519")) {
		char msg[300];
		snprintf(msg, sizeof msg, "Unknown type %s", t);
		return tf_ret_str(c, msg, strlen(msg));
	}
	EVP_PKEY *k = gen_key(t, 4096);
	char *pem = k ? pem_for_key(k) : NULL;
	EVP_PKEY_free(k);
	if (!pem)
		return tf_ret_str(c, "failed to generate private key", 30);
	int rc = tf_ret_str(c, pem, strlen(pem));
	free(pem);
	return rc;
}

/* Go's parsePrivateKeyPEM: NULL with msg set. */
static EVP_PKEY *parse_key_pem(const char *pem, size_t len, char *msg, size_t msglen)
{
	const char *begin = memmem(pem, len, "-----BEGIN ", 11);
	if (!begin) {
		snprintf(msg, msglen, "no PEM data in input");
		return NULL;
	}
	const char *te = strstr(begin + 11, "-----");
	if (!te) {
		snprintf(msg, msglen, "no PEM data in input");
		return NULL;
	}
	size_t tl = (size_t)(te - begin - 11);
	const char *type = begin + 11;
	if (!(tl >= 12 && !memcmp(type + tl - 12, " PRIVATE KEY", 12)) && !(tl == 11 && !memcmp(type, "PRIVATE KEY", 11))) {
		snprintf(msg, msglen, "no private key data in PEM block of type %.*s", (int)tl, type);
		return NULL;
	}
	BIO *b = BIO_new_mem_buf(begin, (int)(len - (size_t)(begin - pem)));
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!k)
		snprintf(msg, msglen, "invalid private key type %.*s", (int)tl, type);
	return k;
}

/* ---- certificates ---- */

static json_t *cert_object(const char *cert, const char *key)
{
	return json_pack("{ssss}", "Cert", cert, "Key", key);
}

/* Go's getNetIPs / getAlternateDNSStrs into the SAN extension value ("IP:..,DNS:.."). */
static int san_string(struct tmpl_call *c, json_t *ips, json_t *dns, struct sbuf *san)
{
	size_t i;
	json_t *v;
	json_array_foreach(ips, i, v)
	{
		if (!json_is_string(v)) {
			struct sbuf t = {0};
			go_print_value(&t, v);
			char *s = sb_take(&t);
			tf_fail(c, "error parsing ip: %s is not a string", s);
			free(s);
			return -1;
		}
		unsigned char buf[16];
		if (inet_pton(AF_INET, S(v), buf) != 1 && inet_pton(AF_INET6, S(v), buf) != 1)
			return tf_fail(c, "error parsing ip: %s", S(v));
		sb_printf(san, "%sIP:%s", san->len ? "," : "", S(v));
	}
	json_array_foreach(dns, i, v)
	{
		if (!json_is_string(v)) {
			struct sbuf t = {0};
			go_print_value(&t, v);
			char *s = sb_take(&t);
			tf_fail(c, "error processing alternate dns name: %s is not a string", s);
			free(s);
			return -1;
		}
		sb_printf(san, "%sDNS:%s", san->len ? "," : "", S(v));
	}
	return 0;
}

static void add_ext(X509 *crt, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext) {
		X509_add_ext(crt, ext, -1);
		X509_EXTENSION_free(ext);
	}
}

/* sprig's getBaseCertTemplate + getCertAndKey: signed by issuer (NULL: self-signed). */
static int make_cert(struct tmpl_call *c, const char *cn, json_t *ips, json_t *dns, long long days, int is_ca, EVP_PKEY *key,
		     X509 *issuer, EVP_PKEY *issuer_key)
{
	struct sbuf san = {0};
	sb_add(&san, "", 0);
	if (san_string(c, ips, dns, &san)) {
		free(san.s);
		return -1;
	}
	X509 *crt = X509_new();
	X509_set_version(crt, 2);
	unsigned char serial[16];
	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7F;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(crt), 0);
	X509_gmtime_adj(X509_getm_notAfter(crt), (long)(days * 86400));
	X509_NAME *name = X509_get_subject_name(crt);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(crt, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(crt, key);
	add_ext(crt, issuer ? issuer : crt, NID_key_usage,
		is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign" : "critical,digitalSignature,keyEncipherment");
	add_ext(crt, issuer ? issuer : crt, NID_ext_key_usage, "serverAuth,clientAuth");
	add_ext(crt, issuer ? issuer : crt, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (san.len)
		add_ext(crt, issuer ? issuer : crt, NID_subject_alt_name, san.s);
	free(san.s);
	EVP_PKEY *sk = issuer_key ? issuer_key : key;
	/* Ed25519 signs the message itself: no digest */
	int ok = X509_sign(crt, sk, EVP_PKEY_get_base_id(sk) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0;
	BIO *b = BIO_new(BIO_s_mem());
	ok = ok && PEM_write_bio_X509(b, crt);
	X509_free(crt);
	char *kp = pem_for_key(key);
	if (!ok || !kp) {
		BIO_free(b);
		free(kp);
		return tf_fail(c, "error creating certificate");
	}
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *cp = strndup(p, (size_t)n);
	BIO_free(b);
	int rc = tf_ret(c, cert_object(cp, kp));
	free(cp);
	free(kp);
	return rc;
}

int tfx_gen_ca(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	EVP_PKEY *k = gen_key("rsa", 2048);
	int rc = make_cert(c, S(a[0]), NULL, NULL, (long long)json_integer_value(a[1]), 1, k, NULL, NULL);
	EVP_PKEY_free(k);
	return rc;
}

int tfx_gen_ca_with_key(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char msg[300];
	EVP_PKEY *k = parse_key_pem(S(a[2]), SL(a[2]), msg, sizeof msg);
	if (!k)
		return tf_fail(c, "parsing private key: %s", msg);
	int rc = make_cert(c, S(a[0]), NULL, NULL, (long long)json_integer_value(a[1]), 1, k, NULL, NULL);
	EVP_PKEY_free(k);
	return rc;
}

int tfx_gen_self_signed_cert(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	EVP_PKEY *k = gen_key("rsa", 2048);
	int rc = make_cert(c, S(a[0]), a[1], a[2], (long long)json_integer_value(a[3]), 0, k, NULL, NULL);
	EVP_PKEY_free(k);
	return rc;
}

int tfx_gen_self_signed_cert_with_key(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char msg[300];
	EVP_PKEY *k = parse_key_pem(S(a[4]), SL(a[4]), msg, sizeof msg);
	if (!k)
		return tf_fail(c, "parsing private key: %s", msg);
	int rc = make_cert(c, S(a[0]), a[1], a[2], (long long)json_integer_value(a[3]), 0, k, NULL, NULL);
	EVP_PKEY_free(k);
	return rc;
}

/* The CA argument (sprig's certificate struct): its Cert and Key PEMs. */
static int signer(struct tmpl_call *c, json_t *ca, X509 **crt, EVP_PKEY **key)
{
	const char *cp = S(json_object_get(ca, "Cert")), *kp = S(json_object_get(ca, "Key"));
	if (!cp || !strstr(cp, "-----BEGIN"))
		return tf_fail(c, "unable to decode certificate");
	BIO *b = BIO_new_mem_buf(cp, -1);
	*crt = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!*crt)
		return tf_fail(c, "error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate");
	char msg[300];
	*key = parse_key_pem(kp ? kp : "", kp ? strlen(kp) : 0, msg, sizeof msg);
	if (!*key) {
		X509_free(*crt);
		return tf_fail(c, "error parsing private key: %s", msg);
	}
	return 0;
}

int tfx_gen_signed_cert(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	X509 *ca;
	EVP_PKEY *cak;
	if (signer(c, a[4], &ca, &cak))
		return -1;
	EVP_PKEY *k = gen_key("rsa", 2048);
	int rc = make_cert(c, S(a[0]), a[1], a[2], (long long)json_integer_value(a[3]), 0, k, ca, cak);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	X509_free(ca);
	return rc;
}

int tfx_gen_signed_cert_with_key(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char msg[300];
	EVP_PKEY *k = parse_key_pem(S(a[5]), SL(a[5]), msg, sizeof msg);
	if (!k)
		return tf_fail(c, "parsing private key: %s", msg);
	X509 *ca;
	EVP_PKEY *cak;
	if (signer(c, a[4], &ca, &cak)) {
		EVP_PKEY_free(k);
		return -1;
	}
	int rc = make_cert(c, S(a[0]), a[1], a[2], (long long)json_integer_value(a[3]), 0, k, ca, cak);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	X509_free(ca);
	return rc;
}

int tfx_build_custom_cert(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	unsigned char *cert = malloc(SL(a[0]) + 1), *key = malloc(SL(a[1]) + 1);
	if (!cert || !key)
		abort();
	long cl = b64_decode(S(a[0]), SL(a[0]), cert), kl = -1;
	int rc = -1;
	if (cl < 0) {
		tf_fail(c, "unable to decode base64 certificate");
		goto out;
	}
	kl = b64_decode(S(a[1]), SL(a[1]), key);
	if (kl < 0) {
		tf_fail(c, "unable to decode base64 private key");
		goto out;
	}
	cert[cl] = 0;
	key[kl] = 0;
	if (!strstr((char *)cert, "-----BEGIN")) {
		tf_fail(c, "unable to decode certificate");
		goto out;
	}
	BIO *b = BIO_new_mem_buf(cert, (int)cl);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!x) {
		tf_fail(c, "error parsing certificate: decodedCert.Bytes: x509: malformed certificate");
		goto out;
	}
	X509_free(x);
	char msg[300];
	EVP_PKEY *k = parse_key_pem((char *)key, (size_t)kl, msg, sizeof msg);
	if (!k) {
		tf_fail(c, "error parsing private key: %s", msg);
		goto out;
	}
	EVP_PKEY_free(k);
	rc = tf_ret(c, cert_object((char *)cert, (char *)key));
out:
	free(cert);
	free(key);
	return rc;
}

/* ---- AES (sprig: key = password zero-padded to 32 bytes, CBC, PKCS#7, IV first, base64) ---- */

int tfx_encrypt_aes(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!SL(a[1]))
		return tf_ret_str(c, "", 0);
	unsigned char key[32] = {0};
	memcpy(key, S(a[0]), SL(a[0]) < 32 ? SL(a[0]) : 32);
	size_t len = SL(a[1]), pad = 16 - len % 16;
	unsigned char *buf = malloc(16 + len + pad + 16);
	if (!buf)
		abort();
	RAND_bytes(buf, 16);
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	int o1 = 0, o2 = 0;
	EVP_EncryptInit_ex(e, EVP_aes_256_cbc(), NULL, key, buf);
	EVP_EncryptUpdate(e, buf + 16, &o1, (const unsigned char *)S(a[1]), (int)len);
	EVP_EncryptFinal_ex(e, buf + 16 + o1, &o2);
	EVP_CIPHER_CTX_free(e);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	b64_encode(&b, buf, 16 + (size_t)o1 + (size_t)o2);
	free(buf);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

int tfx_decrypt_aes(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	unsigned char *ct = malloc(SL(a[1]) + 1);
	if (!ct)
		abort();
	long cl = b64_decode(S(a[1]), SL(a[1]), ct);
	if (cl < 0) {
		free(ct);
		return tf_fail(c, "illegal base64 data at input byte 0");
	}
	if (cl < 16) {
		free(ct);
		return tf_fail(c, "ciphertext too short");
	}
	unsigned char key[32] = {0};
	memcpy(key, S(a[0]), SL(a[0]) < 32 ? SL(a[0]) : 32);
	unsigned char *pt = malloc((size_t)cl + 16);
	if (!pt)
		abort();
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	int o1 = 0, o2 = 0;
	EVP_DecryptInit_ex(e, EVP_aes_256_cbc(), NULL, key, ct);
	EVP_CIPHER_CTX_set_padding(e, 0);
	EVP_DecryptUpdate(e, pt, &o1, ct + 16, (int)(cl - 16));
	EVP_DecryptFinal_ex(e, pt + o1, &o2);
	EVP_CIPHER_CTX_free(e);
	free(ct);
	size_t len = (size_t)o1 + (size_t)o2;
	if (len) { /* sprig strips as many bytes as the last one says, and Go panics past the start */
		if (pt[len - 1] > len) {
			long past = (long)len - (long)pt[len - 1];
			free(pt);
			return tf_fail(c, "runtime error: slice bounds out of range [:%ld]", past);
		}
		len -= pt[len - 1];
	}
	int rc = tf_ret_str(c, (char *)pt, len);
	free(pt);
	return rc;
}

/* ---- derivePassword (the Master Password algorithm, as sprig implements it) ---- */

static const struct {
	const char *type;
	const char *t[21];
} PW_TEMPLATES[] = {
	{"maximum", {"anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"}},
	{"long", {"CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv", "CvccCvcvCvcvno",
		  "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno",
		  "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno", "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno",
		  "CvccnoCvcvCvcc", "CvccCvcvnoCvcc", "CvccCvcvCvccno"}},
	{"medium", {"CvcnoCvc", "CvcCvcno"}},
	{"short", {"Cvcn"}},
	{"basic", {"aaanaaan", "aannaaan", "aaannaaa"}},
	{"pin", {"nnnn"}},
};

static const char *pw_chars(char cls)
{
	switch (cls) {
	case 'V': return "AEIOU";
	case 'C': return "BCDFGHJKLMNPQRSTVWXYZ";
	case 'v': return "aeiou";
	case 'c': return "bcdfghjklmnpqrstvwxyz";
	case 'A': return "AEIOUBCDFGHJKLMNPQRSTVWXYZ";
	case 'a': return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
	case 'n': return "0123456789";
	case 'o': return "@&%?,=[]_:-+*$#!'^~;()/.";
	default: return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()";
	}
}

static void put_be32(struct sbuf *b, unsigned v)
{
	char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
	sb_add(b, x, 4);
}

int tfx_derive_password(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *type = S(a[1]);
	size_t ti, nt = 0;
	for (ti = 0; ti < sizeof PW_TEMPLATES / sizeof PW_TEMPLATES[0]; ti++)
		if (!strcmp(PW_TEMPLATES[ti].type, type))
			break;
	if (ti == sizeof PW_TEMPLATES / sizeof PW_TEMPLATES[0]) {
		char msg[300];
		snprintf(msg, sizeof msg, "cannot find password template %s", type);
		return tf_ret_str(c, msg, strlen(msg));
	}
	while (nt < 21 && PW_TEMPLATES[ti].t[nt])
		nt++;
	static const char SEED[] = "com.lyndir.masterpassword";
	struct sbuf salt = {0};
	sb_add(&salt, SEED, sizeof SEED - 1);
	put_be32(&salt, (unsigned)SL(a[3]));
	sb_add(&salt, S(a[3]), SL(a[3]));
	unsigned char key[64];
	if (!EVP_PBE_scrypt(S(a[2]), SL(a[2]), (unsigned char *)salt.s, salt.len, 32768, 8, 2, 64u << 20, key, sizeof key)) {
		free(salt.s);
		return tf_ret_str(c, "failed to derive password", 25);
	}
	salt.len = sizeof SEED - 1;
	put_be32(&salt, (unsigned)SL(a[4]));
	sb_add(&salt, S(a[4]), SL(a[4]));
	put_be32(&salt, (unsigned)json_integer_value(a[0]));
	unsigned char seed[32];
	unsigned slen = sizeof seed;
	HMAC(EVP_sha256(), key, sizeof key, (unsigned char *)salt.s, salt.len, seed, &slen);
	free(salt.s);
	const char *t = PW_TEMPLATES[ti].t[seed[0] % nt];
	char out[64];
	size_t i;
	for (i = 0; t[i] && i + 1 < sizeof seed; i++) {
		const char *chars = pw_chars(t[i]);
		out[i] = chars[seed[i + 1] % strlen(chars)];
	}
	return tf_ret_str(c, out, i);
}

/* ---- bcrypt / htpasswd (Go's bcrypt cost 10, "$2a$") ---- */

static int bcrypt_hash(const char *pw, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2a$", 10, NULL, 0, salt, sizeof salt))
		return -1;
	struct crypt_data *cd = calloc(1, sizeof *cd);
	if (!cd)
		abort();
	const char *h = crypt_r(pw, salt, cd);
	int rc = h && h[0] == '$' ? 0 : -1;
	if (!rc)
		snprintf(out, outlen, "%s", h);
	free(cd);
	return rc;
}

int tfx_bcrypt(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char h[128];
	if (bcrypt_hash(S(a[0]), h, sizeof h))
		return tf_ret_str(c, "failed to encrypt string with bcrypt", 36);
	return tf_ret_str(c, h, strlen(h));
}

int tfx_htpasswd(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char out[512];
	if (strchr(S(a[0]), ':')) {
		snprintf(out, sizeof out, "invalid username: %s", S(a[0]));
		return tf_ret_str(c, out, strlen(out));
	}
	char h[128];
	if (bcrypt_hash(S(a[1]), h, sizeof h))
		snprintf(h, sizeof h, "failed to encrypt string with bcrypt");
	struct sbuf b = {0};
	sb_printf(&b, "%s:%s", S(a[0]), h);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

/* ---- digests ---- */

int tfx_sha1sum(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	unsigned char d[20];
	SHA1((const unsigned char *)S(a[0]), SL(a[0]), d);
	char hex[41];
	for (int i = 0; i < 20; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	return tf_ret_str(c, hex, 40);
}

int tfx_adler32sum(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	uLong v = adler32(adler32(0L, Z_NULL, 0), (const Bytef *)S(a[0]), (uInt)SL(a[0]));
	char s[32];
	snprintf(s, sizeof s, "%lu", (unsigned long)v);
	return tf_ret_str(c, s, strlen(s));
}

int tfx_rand_bytes(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long k = (long long)json_integer_value(a[0]);
	if (k < 0)
		return tf_fail(c, "len must be non-negative");
	unsigned char *buf = malloc((size_t)k + 1);
	if (!buf)
		abort();
	RAND_bytes(buf, (int)k);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	b64_encode(&b, buf, (size_t)k);
	free(buf);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

int tfx_sha256sum(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char hex[65];
	sha256_hex(S(a[0]), SL(a[0]), hex);
	return tf_ret_str(c, hex, 64);
}
