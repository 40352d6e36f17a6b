/*
 * whoami.c - GET /api/v1/whoami: the token name and role the request acts as.
 */
#include "api/api.h"

#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

int
api_whoami_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	if (rq->who == NULL)
		return err_set(e, ERR_INTERNAL, "whoami called without a principal");
	return api_resp_json(rs, 200, json_pack("{s:s, s:s, s:b}",
	    "name", rq->who->name,
	    "role", store_role_name(rq->who->role),
	    "anonymous", rq->who->anonymous), e);
}
