/*
 * reports.c - GET /api/v1/targets/{cluster}/{namespace}/{kind}/{name}/report
 * ?format=json|markdown|slack (&from=baseline|ID&to=latest|ID): the answer for
 * a chat message or a ticket. The verdict, the RENDER_REPORT_MAX_CHANGES most
 * severe changes with a count of the rest, the key metrics before and after,
 * and links to the dashboard page and to the target's newest bundle (its short
 * link /b/<id>) when one is among the newest STORE_MAX_PAGE bundles. A failure
 * to read bundles only leaves that link out: the report is still the answer.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "render/render.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* The short link of the target's newest bundle into out; 0, or -1 when there is none. */
static int
newest_bundle(struct api_req *rq, const struct store_target *t, char *out, size_t outsz)
{
	struct store_bundle *items = NULL;
	struct err ignored = ERR_INIT;
	const char *base = rq->cfg != NULL && rq->cfg->public_url != NULL ? rq->cfg->public_url : "";
	size_t i, n = 0, blen = strlen(base);
	int ret = -1;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (store_bundle_list(rq->store, 0, STORE_MAX_PAGE, &items, &n, &ignored) < 0)
		return -1;
	/* Newest first: the first of the target's is its newest. */
	for (i = 0; i < n; i++) {
		if (items[i].target_id == t->id) {
			if (snprintf(out, outsz, "%.*s/b/%s", (int)(blen > 1024 ? 1024 : blen), base,
			    items[i].id) < (int)outsz)
				ret = 0;
			break;
		}
	}
	store_bundles_free(items, n);
	return ret;
}

int
api_reports_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct api_diff_sides d = { 0 };
	struct render_report_info info;
	struct store_target t;
	struct buf out = BUF_INIT(RENDER_MAX_BYTES);
	char format[16] = "json", fl[48], tl[48], link[2048], bundle[2048], title[STORE_MAX_NAME + STORE_MAX_NAMESPACE +
	    STORE_MAX_KIND + STORE_MAX_OBJECT_NAME + 8];
	json_t *rep = NULL, *msg = NULL;
	int64_t from_id = 0, to_id = 0;
	int ret = -1;

	if (api_query_get(rq, "format", format, sizeof(format), e) < 0)
		return -1;
	if (strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0 && strcmp(format, "slack") != 0)
		return err_set(e, ERR_INVALID, "format must be json, markdown or slack");
	if (api_target_from_path(rq, &t, e) < 0 ||
	    api_diff_resolve(rq, &t, &from_id, &to_id, fl, tl, sizeof(fl), e) < 0 ||
	    api_diff_snapshots(rq->store, from_id, to_id, fl, tl, 0, &d, e) < 0)
		goto out;
	snprintf(title, sizeof(title), "%s/%s/%s/%s", t.cluster, t.ns, t.kind, t.name);
	memset(&info, 0, sizeof(info));
	info.title = title;
	info.target = title;
	info.from_id = from_id;
	info.to_id = to_id;
	info.from_label = fl;
	info.to_label = tl;
	info.dashboard_url = api_target_link(rq, &t, link, sizeof(link)) == 0 ? link : NULL;
	info.bundle_url = newest_bundle(rq, &t, bundle, sizeof(bundle)) == 0 ? bundle : NULL;
	if (render_report_build(d.diff, d.verdict, &info, RENDER_REPORT_MAX_CHANGES, &rep, e) < 0)
		goto out;
	if (strcmp(format, "json") == 0) {
		ret = api_resp_json(rs, 200, rep, e);
		rep = NULL;
	} else if (strcmp(format, "slack") == 0) {
		if (render_slack(rep, &msg, e) < 0)
			goto out;
		ret = api_resp_json(rs, 200, msg, e);
		msg = NULL;
	} else {
		if (render_report_markdown(rep, &out, e) < 0)
			goto out;
		ret = api_resp_text(rs, 200, "text/markdown; charset=utf-8", buf_str(&out), buf_len(&out), e);
	}
out:
	buf_release(&out);
	json_decref(rep);
	json_decref(msg);
	api_diff_sides_release(&d);
	return ret;
}
