/*
 * redact.c - what stands for a secret value in settings and diffs.
 *
 * A secret value is never kept, but two sides of one comparison must still
 * show whether it changed. So a value becomes "<redacted:" + the first 12 hex
 * of SHA-256(salt || value) + ">", with a salt drawn once per process: equal
 * values compare equal within a run, and no hash can be checked against a list
 * of guesses outside it. A value that is already an install HMAC
 * ("hmac-sha256:" + 64 lower-case hex, what the collector stores) is kept: it
 * is not secret and it compares equal across runs. Only that exact shape is
 * kept: "hmac-sha256:hunter2" is a secret like any other.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "doc/doc.h"
#include "engine/engine.h"
#include "util/banned.h"

#define HMAC_PREFIX "hmac-sha256:"

static unsigned char salt[32];
static pthread_once_t salt_once = PTHREAD_ONCE_INIT;

static void
salt_init(void)
{
	size_t got = 0;

	while (got < sizeof(salt)) {
		ssize_t r = getrandom(salt + got, sizeof(salt) - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
}

int
engine_is_install_hmac(const char *value, size_t len)
{
	size_t i, pre = sizeof(HMAC_PREFIX) - 1;

	if (len != pre + 64 || memcmp(value, HMAC_PREFIX, pre) != 0)
		return 0;
	for (i = pre; i < len; i++)
		if (!((value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f')))
			return 0;
	return 1;
}

void
engine_redact_text(const char *value, size_t len, char *out, size_t outsz)
{
	char hex[65];
	unsigned char small[256], *tmp = small;

	if (engine_is_install_hmac(value, len)) {
		snprintf(out, outsz, "%.*s", (int)len, value);
		return;
	}
	pthread_once(&salt_once, salt_init);
	if (sizeof(salt) + len > sizeof(small)) {
		tmp = malloc(sizeof(salt) + len);
		if (tmp == NULL) {
			snprintf(out, outsz, "<redacted>");
			return;
		}
	}
	memcpy(tmp, salt, sizeof(salt));
	if (len > 0)
		memcpy(tmp + sizeof(salt), value, len);
	doc_sha256_hex(tmp, sizeof(salt) + len, hex);
	explicit_bzero(tmp, sizeof(salt) + len);
	if (tmp != small)
		free(tmp);
	snprintf(out, outsz, "<redacted:%.12s>", hex);
}

json_t *
engine_redact_value(const char *value, size_t len)
{
	char out[ENGINE_REDACTED_MAX];

	engine_redact_text(value, len, out, sizeof(out));
	return json_string(out);
}
