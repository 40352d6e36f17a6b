/*
 * version.c - GET /api/v1/version: which skewd answers, and which API version it speaks.
 */
#include "api/api.h"

#include "util/err.h"
#include "util/banned.h"

int
api_version_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	(void)rq;
	return api_resp_json(rs, 200, json_pack("{s:s, s:s}",
	    "version", SKEWD_VERSION, "api", "v1"), e);
}
