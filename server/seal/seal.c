/*
 * seal.c - AES-256-GCM for credentials at rest, HMAC-SHA256 for secret values.
 *
 * The install's master secret is 32 random bytes, from SKEWD_SEAL_KEY (64 hex
 * chars) or a key file holding the same 64 hex chars. It is never used
 * directly: HKDF-SHA256 derives one key for AES-256-GCM and another for
 * HMAC-SHA256, so an HMAC published in a snapshot says nothing about the
 * encryption key. The master secret is wiped once both keys exist.
 *
 * A sealed blob is:
 *   byte 0        version (SEAL_VERSION)
 *   bytes 1..12   a random nonce, fresh for every blob
 *   then          the ciphertext, as long as the plaintext
 *   last 16       the GCM tag
 * The AAD is the version byte followed by the caller's AAD string, so a blob
 * copied to another field, or with its version byte changed, does not open.
 */
#include "seal/seal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

#define SEAL_VERSION     1
#define SEAL_KEY_BYTES   32
#define SEAL_NONCE_BYTES 12
#define SEAL_TAG_BYTES   16
#define SEAL_OVERHEAD    (1 + SEAL_NONCE_BYTES + SEAL_TAG_BYTES)
#define SEAL_KEY_HEX     (2 * SEAL_KEY_BYTES)
#define SEAL_ENV         "SKEWD_SEAL_KEY"

/* HKDF inputs: a fixed salt for the install-wide derivation and one label per key. */
static const char hkdf_salt[] = "skewd seal v1";
static const char hkdf_info_enc[] = "skewd aes-256-gcm credentials";
static const char hkdf_info_mac[] = "skewd hmac-sha256 secret values";

struct seal {
	unsigned char enc_key[SEAL_KEY_BYTES];
	unsigned char mac_key[SEAL_KEY_BYTES];
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly SEAL_KEY_HEX hex chars (trailing whitespace allowed) into
 * out. Returns 0, or -1 when the text is not that. */
static int
key_from_hex(const char *p, size_t len, unsigned char out[SEAL_KEY_BYTES])
{
	size_t i;
	int hi, lo;

	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len != SEAL_KEY_HEX)
		return -1;
	for (i = 0; i < SEAL_KEY_BYTES; i++) {
		hi = hexval((unsigned char)p[2 * i]);
		lo = hexval((unsigned char)p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
random_bytes(unsigned char *p, size_t n, struct err *e)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, ERR_INTERNAL, "no random bytes for sealing: %s", strerror(errno));
		got += (size_t)r;
	}
	return 0;
}

/* Creates the parent folders of `path` (mode 0700) when missing. */
static int
mkdir_parents(const char *path, struct err *e)
{
	char tmp[4096];
	size_t len = strlen(path), i;

	if (len >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "seal key path '%.200s...' is too long", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i < len; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return err_set(e, ERR_IO, "cannot create folder '%s' for the seal key: %s", tmp,
			    strerror(errno));
		tmp[i] = '/';
	}
	return 0;
}

/* Creates a new key file with a fresh secret. Returns 1 when it exists
 * already (another process won the race), 0 when created, -1 with e set. */
static int
key_file_create(const char *path, unsigned char master[SEAL_KEY_BYTES], struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	char text[SEAL_KEY_HEX + 1];
	size_t i, off = 0;
	ssize_t w;
	int fd = -1, ret = -1;

	if (mkdir_parents(path, e) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		ret = 1;
		goto out;
	}
	if (fd < 0) {
		ret = err_set(e, ERR_IO, "cannot create seal key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (random_bytes(master, SEAL_KEY_BYTES, e) < 0)
		goto out;
	for (i = 0; i < SEAL_KEY_BYTES; i++) {
		text[2 * i] = hex[master[i] >> 4];
		text[2 * i + 1] = hex[master[i] & 0xf];
	}
	text[SEAL_KEY_HEX] = '\n';
	while (off < sizeof(text)) {
		w = write(fd, text + off, sizeof(text) - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = err_set(e, ERR_IO, "cannot write seal key file '%s': %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		ret = err_set(e, ERR_IO, "cannot write seal key file '%s': %s", path, strerror(errno));
		goto out;
	}
	log_info("created seal key file %s (keep a copy: without it stored credentials cannot be read)",
	    path);
	ret = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (fd >= 0) {
		close(fd);
		if (ret < 0)
			unlink(path);
	}
	return ret;
}

/* Reads an existing key file. Returns 1 when it does not exist, 0 when read,
 * -1 with e set (not a regular file, readable by others, bad content). */
static int
key_file_read(const char *path, unsigned char master[SEAL_KEY_BYTES], struct err *e)
{
	char text[SEAL_KEY_HEX + 8];
	size_t len = 0;
	struct stat sb;
	ssize_t r;
	int fd = -1, ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		ret = 1;
		goto out;
	}
	if (fd < 0 && errno == ELOOP) {
		ret = err_set(e, ERR_INVALID, "seal key file '%s' is a symbolic link; refusing it", path);
		goto out;
	}
	if (fd < 0) {
		ret = err_set(e, ERR_IO, "cannot open seal key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0) {
		ret = err_set(e, ERR_IO, "cannot read seal key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		ret = err_set(e, ERR_INVALID, "seal key file '%s' is not a regular file; refusing it", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		ret = err_set(e, ERR_INVALID,
		    "seal key file '%s' is readable by group or others (mode %04o); run chmod 600 on it",
		    path, (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	for (;;) {
		r = read(fd, text + len, sizeof(text) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = err_set(e, ERR_IO, "cannot read seal key file '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof(text))
			break;
	}
	if (len == sizeof(text) || key_from_hex(text, len, master) < 0) {
		ret = err_set(e, ERR_INVALID, "seal key file '%s' does not hold %d hex characters", path,
		    SEAL_KEY_HEX);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* HKDF-SHA256(master, salt, info) into out. */
static int
derive(const unsigned char master[SEAL_KEY_BYTES], const char *info, unsigned char out[SEAL_KEY_BYTES],
    struct err *e)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	int ret = -1;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf == NULL || (kctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		ret = err_set(e, ERR_INTERNAL, "this OpenSSL has no HKDF");
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, SEAL_KEY_BYTES);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)hkdf_salt,
	    sizeof(hkdf_salt) - 1);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, SEAL_KEY_BYTES, params) != 1) {
		ret = err_set(e, ERR_INTERNAL, "deriving the seal keys failed");
		goto out;
	}
	ret = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

int
seal_open(const char *key_path, struct seal **out, struct err *e)
{
	unsigned char master[SEAL_KEY_BYTES];
	struct seal *s = NULL;
	const char *env;
	int ret = -1, r, tries;

	*out = NULL;
	env = getenv(SEAL_ENV);
	if (env != NULL && env[0] != '\0') {
		/* The message never quotes the variable's value. */
		if (key_from_hex(env, strlen(env), master) < 0) {
			ret = err_set(e, ERR_INVALID, "%s must be %d hex characters", SEAL_ENV, SEAL_KEY_HEX);
			goto out;
		}
	} else if (key_path == NULL || key_path[0] == '\0') {
		ret = err_set(e, ERR_INVALID, "no seal key: set %s or give a key file path", SEAL_ENV);
		goto out;
	} else {
		/* Read, else create; a lost O_EXCL race means another process just
		 * created it, so read again. */
		for (tries = 0;; tries++) {
			r = key_file_read(key_path, master, e);
			if (r < 0)
				goto out;
			if (r == 0)
				break;
			r = key_file_create(key_path, master, e);
			if (r < 0)
				goto out;
			if (r == 0)
				break;
			if (tries > 0) {
				ret = err_set(e, ERR_IO, "seal key file '%s' keeps appearing and vanishing",
				    key_path);
				goto out;
			}
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory opening the seal key");
		goto out;
	}
	if (derive(master, hkdf_info_enc, s->enc_key, e) < 0 ||
	    derive(master, hkdf_info_mac, s->mac_key, e) < 0)
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	OPENSSL_cleanse(master, sizeof(master));
	seal_close(s);
	return ret;
}

void
seal_close(struct seal *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* Feeds the AAD (version byte, then the caller's string) to a GCM context. */
static int
gcm_aad(EVP_CIPHER_CTX *ctx, const char *aad)
{
	unsigned char v = SEAL_VERSION;
	size_t alen = aad != NULL ? strlen(aad) : 0;
	int outl;

	if (EVP_CipherUpdate(ctx, NULL, &outl, &v, 1) != 1)
		return -1;
	if (alen > 0 && EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)aad, (int)alen) != 1)
		return -1;
	return 0;
}

int
seal_lock(const struct seal *s, const char *aad, const void *plain, size_t len,
    unsigned char **blob, size_t *bloblen, struct err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *b = NULL, *nonce, *ct, *tag;
	size_t total = 0;
	int outl = 0, fin = 0, ret = -1;

	*blob = NULL;
	*bloblen = 0;
	if (len > SEAL_MAX_PLAIN_BYTES) {
		ret = err_set(e, ERR_TOO_LARGE, "a value to seal is larger than %d bytes",
		    SEAL_MAX_PLAIN_BYTES);
		goto out;
	}
	if (aad != NULL && strlen(aad) > SEAL_MAX_AAD_BYTES) {
		ret = err_set(e, ERR_INVALID, "a seal label is longer than %d bytes", SEAL_MAX_AAD_BYTES);
		goto out;
	}
	total = SEAL_OVERHEAD + len;
	b = malloc(total);
	if (b == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory sealing a value");
		goto out;
	}
	b[0] = SEAL_VERSION;
	nonce = b + 1;
	ct = nonce + SEAL_NONCE_BYTES;
	tag = ct + len;
	if (random_bytes(nonce, SEAL_NONCE_BYTES, e) < 0)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, s->enc_key, nonce) != 1 ||
	    gcm_aad(ctx, aad) < 0 ||
	    (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &fin) != 1 ||
	    (size_t)outl + (size_t)fin != len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_BYTES, tag) != 1) {
		ret = err_set(e, ERR_INTERNAL, "sealing a value failed in libcrypto");
		goto out;
	}
	*blob = b;
	*bloblen = total;
	b = NULL;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (b != NULL) {
		OPENSSL_cleanse(b, total);
		free(b);
	}
	return ret;
}

int
seal_unlock(const struct seal *s, const char *aad, const unsigned char *blob, size_t bloblen,
    char **plain, size_t *len, struct err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	const unsigned char *nonce, *ct, *tag;
	unsigned char tagbuf[SEAL_TAG_BYTES];
	char *p = NULL;
	size_t ctlen = 0;
	int outl = 0, fin = 0, ret = -1;

	*plain = NULL;
	*len = 0;
	if (blob == NULL || bloblen < SEAL_OVERHEAD || bloblen - SEAL_OVERHEAD > SEAL_MAX_PLAIN_BYTES) {
		ret = err_set(e, ERR_INVALID, "a sealed value is malformed (wrong length)");
		goto out;
	}
	if (blob[0] != SEAL_VERSION) {
		ret = err_set(e, ERR_INVALID, "a sealed value has unknown version %u", (unsigned)blob[0]);
		goto out;
	}
	if (aad != NULL && strlen(aad) > SEAL_MAX_AAD_BYTES) {
		ret = err_set(e, ERR_INVALID, "a seal label is longer than %d bytes", SEAL_MAX_AAD_BYTES);
		goto out;
	}
	nonce = blob + 1;
	ct = nonce + SEAL_NONCE_BYTES;
	ctlen = bloblen - SEAL_OVERHEAD;
	tag = ct + ctlen;
	memcpy(tagbuf, tag, sizeof(tagbuf));
	p = malloc(ctlen + 1);
	if (p == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory opening a sealed value");
		goto out;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_BYTES, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, s->enc_key, nonce) != 1 ||
	    gcm_aad(ctx, aad) < 0 ||
	    (ctlen > 0 && EVP_DecryptUpdate(ctx, (unsigned char *)p, &outl, ct, (int)ctlen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_BYTES, tagbuf) != 1) {
		ret = err_set(e, ERR_INTERNAL, "opening a sealed value failed in libcrypto");
		goto out;
	}
	/* The tag check happens here: nothing decrypted is handed out before it passes. */
	if (EVP_DecryptFinal_ex(ctx, (unsigned char *)p + outl, &fin) != 1 ||
	    (size_t)outl + (size_t)fin != ctlen) {
		ret = err_set(e, ERR_INVALID,
		    "a sealed value does not open (altered, moved to another field, or sealed under another key)");
		goto out;
	}
	p[ctlen] = '\0';
	*plain = p;
	*len = ctlen;
	p = NULL;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (p != NULL) {
		OPENSSL_cleanse(p, ctlen + 1);
		free(p);
	}
	return ret;
}

void
seal_hmac(const struct seal *s, const void *value, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	static const unsigned char empty[1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	const size_t plen = sizeof("hmac-sha256:") - 1;

	memcpy(out, "hmac-sha256:", plen);
	if (HMAC(EVP_sha256(), s->mac_key, SEAL_KEY_BYTES, len > 0 ? value : empty, len, md, &mdlen) ==
	    NULL || mdlen != 32) {
		/* Only an allocation failure inside libcrypto gets here. An
		 * impossible digest beats a wrong one: "x" is not hex. */
		log_error("computing an HMAC failed in libcrypto");
		memset(out + plen, 'x', 64);
		out[plen + 64] = '\0';
		return;
	}
	for (i = 0; i < mdlen; i++) {
		out[plen + 2 * i] = hex[md[i] >> 4];
		out[plen + 2 * i + 1] = hex[md[i] & 0xf];
	}
	out[plen + 64] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
}
