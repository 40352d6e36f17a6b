/*
 * auth.c - who is asking: "Authorization: Bearer <token>" on /api/, checked
 * by store_token_verify() (constant time lives there), and whether that
 * role may use the route (viewer < editor < admin).
 *
 * The token is never logged, never echoed and never part of an error
 * message. A malformed token is refused before any database lookup.
 */
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* Finds the token in an Authorization header value. Returns its length and
 * sets *tok, or 0 when the header is not a well-formed Bearer credential. */
static size_t
bearer_token(const char *authz, const char **tok)
{
	const char *p = authz;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return 0;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = 0;
	while (p[n] > 0x20 && p[n] < 0x7f)
		n++;
	*tok = p;
	if (n == 0 || n > TOKEN_MAX_PRESENTED)
		return 0;
	/* Only trailing blanks may follow the token. */
	{
		const char *q = p + n;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '\0')
			return 0;
	}
	return n;
}

int
http_auth(struct store *st, int anonymous_read, const char *method, const char *authz,
    enum store_role need, struct api_principal *who, int *invalid_token, struct err *e)
{
	struct store_token t;
	char tok[TOKEN_MAX_PRESENTED + 1];
	const char *p = NULL;
	size_t n;
	int ret;

	memset(who, 0, sizeof(*who));
	*invalid_token = 0;
	if (need == ROLE_NONE)
		return 0;
	if (authz == NULL || authz[0] == '\0') {
		int reading = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

		if (anonymous_read && reading) {
			snprintf(who->name, sizeof(who->name), "anonymous");
			who->role = ROLE_VIEWER;
			who->anonymous = 1;
			if (need <= ROLE_VIEWER)
				return 0;
			return err_set(e, ERR_UNAUTHORIZED,
			    "this route needs the %s role; anonymous access is read-only, send a bearer token",
			    store_role_name(need));
		}
		return err_set(e, ERR_UNAUTHORIZED, "this route needs a bearer token "
		    "(\"Authorization: Bearer <token>\"; create one with 'skewd token create')");
	}
	n = bearer_token(authz, &p);
	if (n == 0) {
		*invalid_token = 1;
		return err_set(e, ERR_UNAUTHORIZED,
		    "the Authorization header is not a bearer token (\"Authorization: Bearer <token>\")");
	}
	memcpy(tok, p, n);
	tok[n] = '\0';
	memset(&t, 0, sizeof(t));
	ret = store_token_verify(st, tok, &t, e);
	explicit_bzero(tok, sizeof(tok));
	if (ret < 0) {
		if (e != NULL && e->code == ERR_UNAUTHORIZED) {
			*invalid_token = 1;
			return err_set(e, ERR_UNAUTHORIZED, "the bearer token is not valid (unknown or revoked)");
		}
		return -1;
	}
	snprintf(who->name, sizeof(who->name), "%s", t.name);
	who->role = t.role;
	if (t.role < need)
		return err_set(e, ERR_FORBIDDEN, "this route needs the %s role; token '%s' has the %s role",
		    store_role_name(need), t.name, store_role_name(t.role));
	return 0;
}
