/*
 * fuzz_kubeconfig.c - libFuzzer target for the kubeconfig import
 * (kube_creds_from_kubeconfig, and through it kube_server_check).
 *
 * The input is the kubeconfig. It is imported with its current-context and
 * with each context it names. On success the credentials must be complete (a
 * server, a token or a certificate with its key); on failure the message must
 * be printable ASCII that holds no credential: no value of a token,
 * client-key-data, password or *-token field of the input (unless that same
 * string also appears where it is not a credential). Built by hand, not by
 * CMake's default build (tests/lint/fuzz_smoke.sh does the same):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       -DSKEWD_VERSION='"fuzz"' tests/fuzz/fuzz_kubeconfig.c server/kube/kube.c server/kube/kubeconfig.c \
 *       server/doc/[a-z]*.c server/util/buf.c server/util/err.c server/util/log.c \
 *       -lcurl -lyaml -ljansson -lcrypto -lm -o fuzz_kubeconfig
 *   ./fuzz_kubeconfig -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fixtures/kube
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "kube/kube.h"
#include "util/err.h"
#include "util/banned.h"

/* Shorter strings are too likely to be part of any sentence. */
#define MIN_SECRET 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_kubeconfig: %s\n", what);
		abort();
	}
}

static int
key_is_secret(const char *k)
{
	size_t n = strlen(k);

	return strcmp(k, "token") == 0 || strcmp(k, "client-key-data") == 0 ||
	    strcmp(k, "password") == 0 || (n > 6 && strcmp(k + n - 6, "-token") == 0) ||
	    (n > 6 && strcmp(k + n - 6, "secret") == 0);
}

/* Collects secret strings (values under a secret key) and every other string
 * (keys and values) of v. */
static void
collect(const json_t *v, int secret, json_t *secrets, json_t *others)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		json_array_append_new(secret ? secrets : others, json_string(json_string_value(v)));
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			json_array_append_new(others, json_string(k));
			collect(x, secret || key_is_secret(k), secrets, others);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			collect(x, secret, secrets, others);
	}
}

static void
check_message(const char *msg, const json_t *secrets, const json_t *others)
{
	size_t i, j, n = strlen(msg);
	json_t *s, *o;

	check(n > 0, "an error has a message");
	for (i = 0; i < n; i++) {
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f) {
			fprintf(stderr, "fuzz_kubeconfig: the message is not printable ASCII: %s\n", msg);
			abort();
		}
	}
	json_array_foreach(secrets, i, s) {
		const char *sv = json_string_value(s);
		int elsewhere = 0;

		if (sv == NULL || strlen(sv) < MIN_SECRET || strstr(msg, sv) == NULL)
			continue;
		json_array_foreach(others, j, o)
			if (json_string_value(o) != NULL && strstr(json_string_value(o), sv) != NULL)
				elsewhere = 1;
		if (!elsewhere) {
			fprintf(stderr, "fuzz_kubeconfig: a credential in the message: %s\n", msg);
			abort();
		}
	}
}

static void
import(const char *text, size_t len, const char *context, const json_t *secrets, const json_t *others)
{
	struct kube_creds c;
	struct err e = ERR_INIT;
	char *hint = NULL;

	if (kube_creds_from_kubeconfig(text, len, context, &c, &hint, &e) == 0) {
		check(c.server != NULL && c.server[0] != '\0', "a server");
		check(c.token != NULL || (c.client_cert_pem != NULL && c.client_key_pem != NULL),
		    "a token or a certificate with its key");
		check(c.token_file == NULL, "no token file from an upload");
		check(hint != NULL, "a name hint");
		kube_creds_release(&c);
		free(hint);
	} else {
		check(hint == NULL, "no name hint on failure");
		check_message(e.msg, secrets, others);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc_set *ds = NULL;
	struct err e = ERR_INIT;
	json_t *secrets = json_array(), *others = json_array(), *ctxs, *x;
	size_t i;

	if (secrets == NULL || others == NULL)
		goto out;
	/* What the input holds, seen the same way the import sees it. */
	if (doc_load_mem("kubeconfig", (const char *)data, size, DOC_AUTO, &ds, &e) == 0) {
		for (i = 0; i < doc_set_count(ds); i++)
			collect(doc_set_get(ds, i), 0, secrets, others);
	}
	import((const char *)data, size, NULL, secrets, others);
	if (ds != NULL && doc_set_count(ds) == 1) {
		ctxs = json_object_get(doc_set_get(ds, 0), "contexts");
		json_array_foreach(ctxs, i, x) {
			const char *name = json_string_value(json_object_get(x, "name"));

			if (name != NULL && i < 8)
				import((const char *)data, size, name, secrets, others);
		}
	}
out:
	doc_set_free(ds);
	json_decref(secrets);
	json_decref(others);
	return 0;
}
