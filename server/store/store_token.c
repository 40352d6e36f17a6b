/*
 * store_token.c - API tokens, backend-neutral: generation, the token text,
 * hashing and the constant-time check. The backends only keep rows.
 *
 * A token reads "skewd_<id>_<secret>": <id> is TOKEN_ID_BYTES random bytes in
 * hex, public, used to find the row; <secret> is TOKEN_SECRET_BYTES random
 * bytes in hex. Only the SHA-256 of the secret is stored. A plain hash (not a
 * slow password hash) is enough because the secret is 256 random bits: there
 * is nothing to guess. The "skewd_" prefix lets secret scanners spot a leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

#define TOKEN_PREFIX "skewd_"
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)
#define TOKEN_ID_HEX (2 * TOKEN_ID_BYTES)
#define TOKEN_SECRET_HEX (2 * TOKEN_SECRET_BYTES)
#define TOKEN_TEXT_LEN (TOKEN_PREFIX_LEN + TOKEN_ID_HEX + 1 + TOKEN_SECRET_HEX)

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
			return err_set(e, ERR_INTERNAL, "no random bytes for a token: %s", strerror(errno));
		got += (size_t)r;
	}
	return 0;
}

static void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
is_hex(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* Names are DNS-label-like: [a-z0-9] and inner '-', at most TOKEN_MAX_NAME. */
int
store_token_name_check(const char *name, struct err *e)
{
	size_t len, i;

	if (name == NULL || name[0] == '\0')
		return err_set(e, ERR_INVALID, "a token needs a name");
	len = strlen(name);
	if (len > TOKEN_MAX_NAME)
		return err_set(e, ERR_INVALID, "token name is longer than %d characters", TOKEN_MAX_NAME);
	for (i = 0; i < len; i++) {
		char c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (c == '-' && i > 0 && i < len - 1)
			continue;
		return err_set(e, ERR_INVALID, "token name '%.*s' may only hold a-z, 0-9 and inner '-'",
		    TOKEN_MAX_NAME, name);
	}
	return 0;
}

int
store_token_create(struct store *s, const char *name, enum store_role role,
    char **plain, struct store_token *out, struct err *e)
{
	unsigned char id_raw[TOKEN_ID_BYTES], secret_raw[TOKEN_SECRET_BYTES];
	char secret[TOKEN_SECRET_HEX + 1];
	struct store_token_row row;
	char *text = NULL;
	int ret = -1;

	*plain = NULL;
	memset(&row, 0, sizeof(row));
	if (store_token_name_check(name, e) < 0)
		goto out;
	if (role != ROLE_VIEWER && role != ROLE_EDITOR && role != ROLE_ADMIN) {
		ret = err_set(e, ERR_INVALID, "a token's role must be viewer, editor or admin");
		goto out;
	}
	if (random_bytes(id_raw, sizeof(id_raw), e) < 0 ||
	    random_bytes(secret_raw, sizeof(secret_raw), e) < 0)
		goto out;
	hex_encode(id_raw, sizeof(id_raw), row.public_id);
	hex_encode(secret_raw, sizeof(secret_raw), secret);
	if (store_sha256_hex(secret, TOKEN_SECRET_HEX, row.secret_hash, e) < 0)
		goto out;
	text = malloc(TOKEN_TEXT_LEN + 1);
	if (text == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory creating a token");
		goto out;
	}
	snprintf(text, TOKEN_TEXT_LEN + 1, "%s%s_%s", TOKEN_PREFIX, row.public_id, secret);
	snprintf(row.tok.name, sizeof(row.tok.name), "%s", name);
	row.tok.role = role;
	row.tok.created_at = store_now();
	if (s->be->token_insert(s, &row, e) < 0)
		goto out;
	if (out != NULL)
		*out = row.tok;
	*plain = text;
	text = NULL;
	ret = 0;
out:
	OPENSSL_cleanse(secret_raw, sizeof(secret_raw));
	OPENSSL_cleanse(secret, sizeof(secret));
	if (text != NULL) {
		OPENSSL_cleanse(text, TOKEN_TEXT_LEN + 1);
		free(text);
	}
	return ret;
}

int
store_token_verify(struct store *s, const char *plain, struct store_token *out, struct err *e)
{
	char public_id[TOKEN_ID_HEX + 1], hash[65];
	struct store_token_row row;
	struct err te = ERR_INIT;
	const char *secret;
	int64_t now;

	/* Reject what cannot be a token before touching the database. The
	 * messages never quote what was presented. */
	if (plain == NULL || strlen(plain) != TOKEN_TEXT_LEN ||
	    strncmp(plain, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0 ||
	    plain[TOKEN_PREFIX_LEN + TOKEN_ID_HEX] != '_' ||
	    !is_hex(plain + TOKEN_PREFIX_LEN, TOKEN_ID_HEX) ||
	    !is_hex(plain + TOKEN_PREFIX_LEN + TOKEN_ID_HEX + 1, TOKEN_SECRET_HEX))
		return err_set(e, ERR_UNAUTHORIZED, "the token is not a skewd API token");
	memcpy(public_id, plain + TOKEN_PREFIX_LEN, TOKEN_ID_HEX);
	public_id[TOKEN_ID_HEX] = '\0';
	secret = plain + TOKEN_PREFIX_LEN + TOKEN_ID_HEX + 1;
	if (store_sha256_hex(secret, TOKEN_SECRET_HEX, hash, e) < 0)
		return -1;
	memset(&row, 0, sizeof(row));
	if (s->be->token_find(s, public_id, &row, e) < 0) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			return err_set(e, ERR_UNAUTHORIZED, "unknown API token");
		return -1;
	}
	if (CRYPTO_memcmp(hash, row.secret_hash, 64) != 0)
		return err_set(e, ERR_UNAUTHORIZED, "unknown API token");
	if (row.tok.revoked)
		return err_set(e, ERR_UNAUTHORIZED, "API token '%s' is revoked", row.tok.name);
	now = store_now();
	if (row.tok.last_used_at == 0 || now - row.tok.last_used_at >= TOKEN_TOUCH_INTERVAL_S ||
	    now < row.tok.last_used_at) {
		/* Bookkeeping only: a busy database must not turn a good token away. */
		if (s->be->token_touch(s, row.tok.id, now, &te) < 0)
			log_warn("recording use of token '%s': %s", row.tok.name, te.msg);
		else
			row.tok.last_used_at = now;
	}
	if (out != NULL)
		*out = row.tok;
	return 0;
}

int
store_token_list(struct store *s, struct store_token **items, size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->token_list(s, items, n, e);
}

int
store_token_revoke(struct store *s, const char *name, struct err *e)
{
	if (store_token_name_check(name, e) < 0)
		return -1;
	return s->be->token_revoke(s, name, store_now(), e);
}
