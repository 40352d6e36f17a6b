/*
 * test_seal.c - sealing credentials and hashing secret values, with real key
 * files in a temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal/seal.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define CANARY "canary-token-7f3a9c2e-never-stored-in-clear"
#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

struct fx {
	char dir[256];
	char key[320];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	unsetenv("SKEWD_SEAL_KEY");
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-seal-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* A folder that does not exist yet: seal_open creates it 0700. */
	snprintf(f->key, sizeof(f->key), "%s/keys/seal.key", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char sub[300];

	unsetenv("SKEWD_SEAL_KEY");
	unlink(f->key);
	snprintf(sub, sizeof(sub), "%s/keys", f->dir);
	rmdir(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct seal *
open_env(const char *hex)
{
	struct err e = ERR_INIT;
	struct seal *s = NULL;

	assert_int_equal(setenv("SKEWD_SEAL_KEY", hex, 1), 0);
	if (seal_open(NULL, &s, &e) < 0)
		fail_msg("seal_open: %s", e.msg);
	unsetenv("SKEWD_SEAL_KEY");
	return s;
}

static int
contains(const unsigned char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++) {
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	}
	return 0;
}

static void
test_round_trip(void **state)
{
	struct seal *s = open_env(KEY_A);
	struct err e = ERR_INIT;
	unsigned char *blob = NULL, *blob2 = NULL;
	size_t bloblen = 0, bloblen2 = 0, len = 0;
	char *plain = NULL;

	(void)state;
	assert_int_equal(seal_lock(s, "cluster:prod-us:token", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	/* version + nonce + ciphertext + tag */
	assert_int_equal(bloblen, 1 + 12 + strlen(CANARY) + 16);
	assert_false(contains(blob, bloblen, CANARY));
	assert_false(contains(blob, bloblen, "canary"));
	assert_int_equal(seal_unlock(s, "cluster:prod-us:token", blob, bloblen, &plain, &len, &e), 0);
	assert_int_equal(len, strlen(CANARY));
	assert_string_equal(plain, CANARY);
	free(plain);
	plain = NULL;

	/* A fresh nonce per blob: the same value never seals to the same bytes. */
	assert_int_equal(seal_lock(s, "cluster:prod-us:token", CANARY, strlen(CANARY), &blob2, &bloblen2, &e), 0);
	assert_int_equal(bloblen, bloblen2);
	assert_memory_not_equal(blob, blob2, bloblen);

	/* An empty value and a NULL label work too. */
	free(blob);
	blob = NULL;
	assert_int_equal(seal_lock(s, NULL, "", 0, &blob, &bloblen, &e), 0);
	assert_int_equal(bloblen, 1 + 12 + 16);
	assert_int_equal(seal_unlock(s, NULL, blob, bloblen, &plain, &len, &e), 0);
	assert_int_equal(len, 0);
	assert_string_equal(plain, "");
	free(plain);
	free(blob);
	free(blob2);
	seal_close(s);
}

static void
test_wrong_aad_fails(void **state)
{
	struct seal *s = open_env(KEY_A);
	struct err e = ERR_INIT;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len = 0;
	char *plain = NULL;

	(void)state;
	assert_int_equal(seal_lock(s, "cluster:prod-us:token", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	assert_int_equal(seal_unlock(s, "cluster:prod-eu:token", blob, bloblen, &plain, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(plain);
	assert_null(strstr(e.msg, CANARY));
	assert_int_equal(seal_unlock(s, NULL, blob, bloblen, &plain, &len, &e), -1);
	assert_null(plain);
	free(blob);
	seal_close(s);
}

static void
test_flipped_byte_fails(void **state)
{
	struct seal *s = open_env(KEY_A);
	struct err e = ERR_INIT;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len = 0, i;
	char *plain = NULL;

	(void)state;
	assert_int_equal(seal_lock(s, "x", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	/* Every position: version, nonce, ciphertext and tag. */
	for (i = 0; i < bloblen; i++) {
		blob[i] ^= 0x01;
		err_clear(&e);
		assert_int_equal(seal_unlock(s, "x", blob, bloblen, &plain, &len, &e), -1);
		assert_int_equal(e.code, ERR_INVALID);
		assert_null(plain);
		blob[i] ^= 0x01;
	}
	/* Cut short, and too short to be a blob at all. */
	assert_int_equal(seal_unlock(s, "x", blob, bloblen - 1, &plain, &len, &e), -1);
	assert_int_equal(seal_unlock(s, "x", blob, 10, &plain, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(seal_unlock(s, "x", blob, bloblen, &plain, &len, &e), 0);
	free(plain);
	free(blob);
	seal_close(s);
}

static void
test_other_key_fails(void **state)
{
	struct seal *a = open_env(KEY_A), *b = open_env(KEY_B);
	struct err e = ERR_INIT;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len = 0;
	char *plain = NULL;

	(void)state;
	assert_int_equal(seal_lock(a, "x", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	assert_int_equal(seal_unlock(b, "x", blob, bloblen, &plain, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(strstr(e.msg, KEY_A));
	assert_null(strstr(e.msg, KEY_B));
	assert_null(plain);
	free(blob);
	seal_close(a);
	seal_close(b);
}

static void
test_key_file_created_and_reused(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct seal *s = NULL;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len = 0;
	char *plain = NULL, dir[300], text[100];
	char h1[SEAL_HMAC_TEXT_LEN + 1], h2[SEAL_HMAC_TEXT_LEN + 1];
	struct stat sb;
	FILE *fp;

	if (seal_open(f->key, &s, &e) < 0)
		fail_msg("seal_open: %s", e.msg);
	assert_int_equal(stat(f->key, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/keys", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	/* The file holds 64 hex chars and a newline: the same form SKEWD_SEAL_KEY takes. */
	fp = fopen(f->key, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	assert_int_equal(strlen(text), 65);
	assert_int_equal(strspn(text, "0123456789abcdef"), 64);

	assert_int_equal(seal_lock(s, "c:t", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	seal_hmac(s, "v", 1, h1);
	seal_close(s);
	s = NULL;

	/* Reopened: the same key, so the blob opens and the HMAC is the same. */
	if (seal_open(f->key, &s, &e) < 0)
		fail_msg("seal_open again: %s", e.msg);
	assert_int_equal(seal_unlock(s, "c:t", blob, bloblen, &plain, &len, &e), 0);
	assert_string_equal(plain, CANARY);
	seal_hmac(s, "v", 1, h2);
	assert_string_equal(h1, h2);
	free(plain);
	seal_close(s);
	s = NULL;

	/* The key file and the env var are the same form: the file's text works as the env key. */
	text[64] = '\0';
	s = open_env(text);
	plain = NULL;
	assert_int_equal(seal_unlock(s, "c:t", blob, bloblen, &plain, &len, &e), 0);
	assert_string_equal(plain, CANARY);
	free(plain);
	seal_close(s);
	free(blob);
}

static void
test_key_file_refused(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct seal *s = NULL;
	char dir[300], link[320];
	int fd;

	snprintf(dir, sizeof(dir), "%s/keys", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);

	/* Readable by group or others. */
	fd = open(f->key, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, KEY_A "\n", 65), 65);
	close(fd);
	assert_int_equal(chmod(f->key, 0644), 0);
	assert_int_equal(seal_open(f->key, &s, &e), -1);
	assert_null(s);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "group or others"));
	assert_null(strstr(e.msg, KEY_A));
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(seal_open(f->key, &s, &e), -1);
	/* Fixed to 0600 it opens. */
	assert_int_equal(chmod(f->key, 0600), 0);
	assert_int_equal(seal_open(f->key, &s, &e), 0);
	seal_close(s);
	s = NULL;

	/* A symbolic link to a good key is refused (O_NOFOLLOW). */
	snprintf(link, sizeof(link), "%s/link.key", dir);
	assert_int_equal(symlink(f->key, link), 0);
	assert_int_equal(seal_open(link, &s, &e), -1);
	assert_non_null(strstr(e.msg, "symbolic link"));
	unlink(link);

	/* A folder is not a key file. */
	assert_int_equal(seal_open(dir, &s, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));

	/* Bad content. */
	fd = open(f->key, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a key\n", 10), 10);
	close(fd);
	assert_int_equal(seal_open(f->key, &s, &e), -1);
	assert_non_null(strstr(e.msg, "hex"));
	assert_null(s);
}

static void
test_env_key(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	struct seal *s = NULL, *t = NULL;
	unsigned char *blob = NULL;
	size_t bloblen = 0, len = 0;
	char *plain = NULL;
	struct stat sb;

	/* The env var wins: no key file is created. */
	assert_int_equal(setenv("SKEWD_SEAL_KEY", KEY_B, 1), 0);
	assert_int_equal(seal_open(f->key, &s, &e), 0);
	assert_int_equal(stat(f->key, &sb), -1);
	assert_int_equal(seal_lock(s, "a", CANARY, strlen(CANARY), &blob, &bloblen, &e), 0);
	/* Upper-case hex is the same key. */
	assert_int_equal(setenv("SKEWD_SEAL_KEY",
	    "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100", 1), 0);
	assert_int_equal(seal_open(NULL, &t, &e), 0);
	assert_int_equal(seal_unlock(t, "a", blob, bloblen, &plain, &len, &e), 0);
	assert_string_equal(plain, CANARY);
	free(plain);
	seal_close(t);

	/* A bad value is refused without being echoed. */
	assert_int_equal(setenv("SKEWD_SEAL_KEY", "secretish-but-not-hex", 1), 0);
	assert_int_equal(seal_open(f->key, &t, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(strstr(e.msg, "secretish"));
	assert_int_equal(setenv("SKEWD_SEAL_KEY", KEY_B "00", 1), 0);
	assert_int_equal(seal_open(f->key, &t, &e), -1);
	unsetenv("SKEWD_SEAL_KEY");

	/* Neither env nor a path. */
	assert_int_equal(seal_open(NULL, &t, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	free(blob);
	seal_close(s);
}

static void
test_hmac(void **state)
{
	struct seal *a = open_env(KEY_A), *b = open_env(KEY_B), *a2 = open_env(KEY_A);
	char h1[SEAL_HMAC_TEXT_LEN + 1], h2[SEAL_HMAC_TEXT_LEN + 1], h3[SEAL_HMAC_TEXT_LEN + 1];
	char h4[SEAL_HMAC_TEXT_LEN + 1];

	(void)state;
	seal_hmac(a, "s3cr3t", 6, h1);
	seal_hmac(a2, "s3cr3t", 6, h2);
	seal_hmac(b, "s3cr3t", 6, h3);
	seal_hmac(a, "s3cr3u", 6, h4);
	assert_int_equal(strlen(h1), SEAL_HMAC_TEXT_LEN);
	assert_int_equal(strncmp(h1, "hmac-sha256:", 12), 0);
	assert_int_equal(strspn(h1 + 12, "0123456789abcdef"), 64);
	assert_string_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_string_not_equal(h1, h4);
	/* Not a plain SHA-256 of the value, and not keyed by the master secret itself. */
	assert_null(strstr(h1, "s3cr3t"));
	seal_hmac(a, "", 0, h4);
	assert_int_equal(strlen(h4), SEAL_HMAC_TEXT_LEN);
	seal_close(a);
	seal_close(a2);
	seal_close(b);
}

static void
test_too_large(void **state)
{
	struct seal *s = open_env(KEY_A);
	struct err e = ERR_INIT;
	unsigned char *blob = NULL;
	size_t bloblen = 0;
	char *big;

	(void)state;
	big = calloc(1, (size_t)SEAL_MAX_PLAIN_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(seal_lock(s, "x", big, (size_t)SEAL_MAX_PLAIN_BYTES + 1, &blob, &bloblen, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_null(blob);
	free(big);
	seal_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_aad_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_created_and_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
