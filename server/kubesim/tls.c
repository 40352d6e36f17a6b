/*
 * tls.c - the test CA, the server certificate (127.0.0.1, ::1, localhost)
 * and client certificates (CN = user name), generated with libcrypto.
 *
 * Keys are ECDSA P-256. Private keys are written 0600. The CA key stays in
 * the folder so that client certificates can be signed after start.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kubesim/kubesim_int.h"
#include "util/err.h"
#include "util/banned.h"

static FILE *
open_private(const char *path, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (f == NULL)
		close(fd);
	return f;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* A certificate for key, issued by issuer/issuer_key (self-signed when NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
    const char *const *exts)
{
	X509 *cert = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;
	size_t i;

	if (cert == NULL || serial == NULL)
		goto fail;
	if (X509_set_version(cert, 2) != 1 || BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * KUBESIM_CERT_DAYS) == NULL)
		goto fail;
	if (X509_set_pubkey(cert, key) != 1)
		goto fail;
	name = X509_get_subject_name(cert);
	if (org != NULL && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org,
	    -1, -1, 0) != 1)
		goto fail;
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1)
		goto fail;
	if (X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name) != 1)
		goto fail;
	for (i = 0; exts[i] != NULL; i += 2) {
		if (add_ext(cert, issuer != NULL ? issuer : cert, OBJ_txt2nid(exts[i]), exts[i + 1]) < 0)
			goto fail;
	}
	if (X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256()) == 0)
		goto fail;
	BN_free(serial);
	return cert;
fail:
	BN_free(serial);
	X509_free(cert);
	return NULL;
}

static int
write_cert(const char *path, X509 *cert, struct err *e)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return err_set(e, ERR_IO, "cannot write certificate '%s'", path);
	ok = PEM_write_X509(f, cert);
	if (fclose(f) != 0 || ok != 1)
		return err_set(e, ERR_IO, "cannot write certificate '%s'", path);
	return 0;
}

static int
write_key(const char *path, EVP_PKEY *key, struct err *e)
{
	FILE *f = open_private(path, 0600);
	int ok;

	if (f == NULL)
		return err_set(e, ERR_IO, "cannot write private key '%s'", path);
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || ok != 1)
		return err_set(e, ERR_IO, "cannot write private key '%s'", path);
	return 0;
}

static int
load_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key, struct err *e)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, ERR_IO, "cannot read the kubesim CA '%s'", path);
	*ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, ERR_IO, "cannot read the kubesim CA key '%s'", path);
	*ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*ca == NULL || *ca_key == NULL)
		return err_set(e, ERR_IO, "the kubesim CA in '%s' does not parse", dir);
	return 0;
}

int
ks_tls_generate(const char *dir, char *ca_path, size_t ca_size, char *server_pem, size_t pem_size,
    struct err *e)
{
	static const char *const ca_exts[] = {
		"basicConstraints", "critical,CA:TRUE",
		"keyUsage", "critical,keyCertSign,cRLSign,digitalSignature",
		"subjectKeyIdentifier", "hash",
		NULL,
	};
	static const char *const server_exts[] = {
		"basicConstraints", "critical,CA:FALSE",
		"keyUsage", "critical,digitalSignature,keyEncipherment",
		"extendedKeyUsage", "serverAuth",
		"subjectAltName", "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:::1",
		"authorityKeyIdentifier", "keyid",
		NULL,
	};
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	char path[PATH_MAX];
	FILE *f = NULL;
	int ret = -1;

	ca_key = EVP_EC_gen("P-256");
	key = EVP_EC_gen("P-256");
	if (ca_key == NULL || key == NULL) {
		err_set(e, ERR_INTERNAL, "cannot generate the kubesim keys");
		goto out;
	}
	ca = make_cert(ca_key, "kubesim-ca", NULL, NULL, NULL, ca_exts);
	cert = ca != NULL ? make_cert(key, "kube-apiserver", NULL, ca, ca_key, server_exts) : NULL;
	if (cert == NULL) {
		err_set(e, ERR_INTERNAL, "cannot build the kubesim certificates");
		goto out;
	}
	snprintf(ca_path, ca_size, "%s/ca.crt", dir);
	if (write_cert(ca_path, ca, e) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (write_key(path, ca_key, e) < 0)
		goto out;
	/* CivetWeb wants the certificate and its key in one file. */
	snprintf(server_pem, pem_size, "%s/server.pem", dir);
	f = open_private(server_pem, 0600);
	if (f == NULL || PEM_write_X509(f, cert) != 1 ||
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1) {
		err_set(e, ERR_IO, "cannot write the server certificate '%s'", server_pem);
		goto out;
	}
	ret = 0;
out:
	if (f != NULL && fclose(f) != 0 && ret == 0)
		ret = err_set(e, ERR_IO, "cannot write the server certificate '%s'", server_pem);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return ret;
}

int
ks_tls_client_cert(const char *dir, const char *user, struct err *e)
{
	static const char *const client_exts[] = {
		"basicConstraints", "critical,CA:FALSE",
		"keyUsage", "critical,digitalSignature,keyEncipherment",
		"extendedKeyUsage", "clientAuth",
		"authorityKeyIdentifier", "keyid",
		NULL,
	};
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	char path[PATH_MAX];
	int ret = -1;

	if (load_ca(dir, &ca, &ca_key, e) < 0)
		goto out;
	key = EVP_EC_gen("P-256");
	cert = key != NULL ? make_cert(key, user, "skewd:collectors", ca, ca_key, client_exts) : NULL;
	if (cert == NULL) {
		err_set(e, ERR_INTERNAL, "cannot build a client certificate for '%s'", user);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/client-%s.crt", dir, user);
	if (write_cert(path, cert, e) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/client-%s.key", dir, user);
	if (write_key(path, key, e) < 0)
		goto out;
	ret = 0;
out:
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return ret;
}
