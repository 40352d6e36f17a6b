/*
 * api.c - helpers shared by the handlers: path parameters, response bodies, times.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/err.h"
#include "util/banned.h"

const char *
api_param(const struct api_req *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->nparams; i++) {
		if (strcmp(rq->params[i].name, name) == 0)
			return rq->params[i].value;
	}
	return NULL;
}

int
api_resp_json(struct api_resp *rs, int status, json_t *v, struct err *e)
{
	if (v == NULL)
		return err_set(e, ERR_NOMEM, "out of memory building the response");
	json_decref(rs->json);
	rs->json = v;
	rs->status = status;
	rs->content_type = NULL;
	return 0;
}

int
api_resp_text(struct api_resp *rs, int status, const char *content_type,
    const char *s, size_t n, struct err *e)
{
	json_decref(rs->json);
	rs->json = NULL;
	buf_reset(&rs->text);
	if (buf_add(&rs->text, s, n, e) < 0)
		return -1;
	rs->status = status;
	rs->content_type = content_type;
	return 0;
}

void
api_time_rfc3339(long long secs, char out[32])
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}
