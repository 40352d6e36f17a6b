/*
 * seal.h - keeping credentials unreadable at rest, and hashing secret values.
 *
 * skewd stores cluster credentials (bearer tokens, client keys, Prometheus
 * tokens, webhook URLs) encrypted with AES-256-GCM under a key that is never
 * in the database: a key file created 0600 on first start (data_dir/seal.key,
 * or the path in the config) or the environment variable SKEWD_SEAL_KEY
 * (64 hex chars). A second key, derived from the same secret with HKDF, is the
 * per-install HMAC key: Secret values and secret-looking env values are never
 * stored, only "hmac-sha256:<hex>" of them, so a changed value shows as a
 * change without the value.
 *
 * Sealed blobs are self-describing bytes: version, nonce, ciphertext, tag. A
 * blob sealed under another key, or altered, fails to open with ERR_INVALID
 * and a message that names neither the key nor the plaintext.
 *
 * Thread-safety: a struct seal is read-only after seal_open() and may be
 * shared by all threads.
 */
#ifndef SKEWD_SEAL_SEAL_H
#define SKEWD_SEAL_SEAL_H

#include <stddef.h>

struct err;
struct seal;

#define SEAL_HMAC_TEXT_LEN (12 + 64)   /* "hmac-sha256:" + 64 hex chars */

/* Opens the key: from SKEWD_SEAL_KEY when set, else from `key_path`, creating it
 * (0600, 32 random bytes, parent folder 0700) when missing. A key file readable by
 * group or others is refused. Returns 0 and *out, or -1 with e set. */
int seal_open(const char *key_path, struct seal **out, struct err *e);
void seal_close(struct seal *s);

/* Encrypts len bytes; *blob (caller frees) gets *bloblen bytes. The AAD binds the
 * blob to its use (e.g. "cluster:prod-us:token") so a blob copied to another
 * field does not open. Returns 0 or -1 with e set. */
int seal_lock(const struct seal *s, const char *aad, const void *plain, size_t len,
    unsigned char **blob, size_t *bloblen, struct err *e);
/* Decrypts; *plain (caller frees, and should explicit_bzero) is NUL-terminated,
 * *len excludes the NUL. Returns 0 or -1 with e set (ERR_INVALID when the blob
 * does not open). */
int seal_unlock(const struct seal *s, const char *aad, const unsigned char *blob, size_t bloblen,
    char **plain, size_t *len, struct err *e);

/* Writes "hmac-sha256:<64 hex>" of the value under the install's HMAC key into
 * out (at least SEAL_HMAC_TEXT_LEN + 1 bytes). */
void seal_hmac(const struct seal *s, const void *value, size_t len, char *out);

#endif
