/*
 * health.c - liveness and readiness probes: GET /healthz and GET /readyz.
 */
#include "api/api.h"

#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

int
api_health_live(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	(void)rq;
	return api_resp_json(rs, 200, json_pack("{s:s}", "status", "ok"), e);
}

int
api_health_ready(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct err pe = ERR_INIT;

	if (store_ping(rq->store, &pe) < 0)
		return err_set(e, ERR_UNAVAILABLE, "the database is not usable: %s", pe.msg);
	return api_resp_json(rs, 200, json_pack("{s:s}", "status", "ready"), e);
}
