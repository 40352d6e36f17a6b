/*
 * bundles.c - evidence bundles over REST.
 *
 * POST .../targets/{cluster}/{namespace}/{kind}/{name}/bundles builds a bundle
 * (server/bundle/) from two snapshots of the target: by default its baseline
 * (last good) and its latest pull, or {"from": ID, "to": ID}. The archive is
 * written atomically under data_dir/bundles/; its row is inserted only after
 * the file is in place. GET /api/v1/bundles (paged), GET /api/v1/bundles/{id}
 * (metadata), GET /api/v1/bundles/{id}/download and the public short link
 * GET /b/{id} stream the file; DELETE /api/v1/bundles/{id} removes both.
 *
 * The short link needs no token (a ticket is read by people without one): a
 * bundle id is 128 random bits, and everything in a bundle went through the
 * redaction (docs/bundles.md). Bundles older than bundle_retention_days are
 * removed by api_bundles_prune(), run at start and on each new bundle.
 */
#include "api/api.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "config/config.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

/* data_dir/bundles into out. Returns 0, or -1 with e set when it does not fit. */
static int
bundles_dir(const struct config *cfg, char *out, size_t outsz, struct err *e)
{
	int n = snprintf(out, outsz, "%s/bundles", cfg != NULL && cfg->data_dir != NULL ? cfg->data_dir : ".");

	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, ERR_INVALID, "the data_dir path is too long for the bundles folder");
	return 0;
}

int
api_resp_file(struct api_resp *rs, int status, const char *path, const char *content_type,
    const char *filename, struct err *e)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOT_FOUND, "the file of this resource is gone");
		return err_set(e, ERR_IO, "cannot open a file to send: %s", strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_IO, "the file to send is not a regular file");
	}
	if (rs->file_set)
		close(rs->file_fd);
	rs->status = status;
	rs->file_set = 1;
	rs->file_fd = fd;
	rs->content_type = content_type;
	snprintf(rs->filename, sizeof(rs->filename), "%s", filename != NULL ? filename : "");
	return 0;
}

/* The public view of a bundle row; `meta` (may be NULL) adds files, truncated, redactions. */
static json_t *
bundle_json(const struct store_bundle *b, const struct config *cfg)
{
	char created[32], url[64 + STORE_MAX_BUNDLE_ID], dl[64 + STORE_MAX_BUNDLE_ID];
	json_t *o, *meta = NULL;

	api_time_rfc3339(b->created_at, created);
	snprintf(url, sizeof(url), "/b/%s", b->id);
	snprintf(dl, sizeof(dl), "/api/v1/bundles/%s/download", b->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:s, s:s, s:s}",
	    "id", b->id,
	    "url", url,
	    "download", dl,
	    "target", b->target,
	    "from", b->from_snapshot_id > 0 ? json_integer(b->from_snapshot_id) : json_null(),
	    "to", (json_int_t)b->to_snapshot_id,
	    "size", (json_int_t)b->size,
	    "sha256", b->sha256,
	    "created_at", created,
	    "created_by", b->created_by);
	if (o == NULL)
		return NULL;
	if (cfg != NULL && cfg->public_url != NULL && cfg->public_url[0] != '\0') {
		char abs[1024];
		size_t n = strlen(cfg->public_url);

		while (n > 0 && cfg->public_url[n - 1] == '/')
			n--;
		snprintf(abs, sizeof(abs), "%.*s%s", (int)(n > 900 ? 900 : n), cfg->public_url, url);
		json_object_set_new(o, "public_url", json_string(abs));
	}
	if (b->meta_json != NULL && (meta = json_loads(b->meta_json, 0, NULL)) != NULL) {
		json_object_set(o, "files", json_object_get(meta, "files"));
		json_object_set(o, "truncated", json_object_get(meta, "truncated"));
		json_object_set(o, "redactions", json_object_get(meta, "redactions"));
		json_decref(meta);
	}
	return o;
}

int
api_bundles_prune(struct store *st, const struct config *cfg, int64_t now, size_t *removed,
    struct err *e)
{
	struct store_bundle *items = NULL;
	char dir[PATH_MAX], path[PATH_MAX + STORE_MAX_BUNDLE_FILE + 2];
	size_t n = 0, i, count = 0;
	int ret = -1;

	if (removed != NULL)
		*removed = 0;
	if (cfg == NULL || cfg->bundle_retention_days <= 0)
		return 0;
	if (bundles_dir(cfg, dir, sizeof(dir), e) < 0)
		return -1;
	if (store_bundle_expired(st, now - (int64_t)cfg->bundle_retention_days * 86400, 0, &items, &n, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct err de = ERR_INIT;

		/* The row goes first, so the link stops working before the file goes. */
		if (store_bundle_delete(st, items[i].id, &de) < 0 && de.code != ERR_NOT_FOUND) {
			log_warn("bundles: retention: %s", de.msg);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, items[i].file);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("bundles: retention: cannot remove the file of bundle %s: %s", items[i].id,
			    strerror(errno));
		count++;
	}
	if (removed != NULL)
		*removed = count;
	ret = 0;
out:
	store_bundles_free(items, n);
	return ret;
}

/* Is `name` "<prefix><26-character bundle id><suffix>"? Copies the id into id. */
static int
bundle_file_name(const char *name, const char *prefix, const char *suffix, char id[BUNDLE_ID_CHARS + 1])
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(name);

	if (n != pl + BUNDLE_ID_CHARS + sl || strncmp(name, prefix, pl) != 0 || strcmp(name + n - sl, suffix) != 0)
		return 0;
	memcpy(id, name + pl, BUNDLE_ID_CHARS);
	id[BUNDLE_ID_CHARS] = '\0';
	return bundle_id_valid(id);
}

int
api_bundles_sweep(struct store *st, const struct config *cfg, size_t *removed, struct err *e)
{
	char dir[PATH_MAX], id[BUNDLE_ID_CHARS + 1];
	struct store_bundle row;
	struct dirent *d;
	size_t count = 0;
	DIR *dh;
	int dfd, ret = -1;

	if (removed != NULL)
		*removed = 0;
	if (bundles_dir(cfg, dir, sizeof(dir), e) < 0)
		return -1;
	if ((dh = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "cannot read the bundles folder: %s", strerror(errno));
	}
	dfd = dirfd(dh);
	errno = 0;
	while ((d = readdir(dh)) != NULL) {
		struct err ge = ERR_INIT;
		int stale = 0;

		if (bundle_file_name(d->d_name, ".skewd-bundle-", ".tar.gz.tmp", id)) {
			stale = 1;      /* bundle_write() never finished it */
		} else if (bundle_file_name(d->d_name, "skewd-bundle-", ".tar.gz", id)) {
			if (store_bundle_get(st, id, &row, &ge) == 0) {
				free(row.meta_json);
			} else if (ge.code == ERR_NOT_FOUND) {
				stale = 1;      /* in place, but its row was never recorded */
			} else {
				err_set(e, ge.code, "%s", ge.msg);
				goto out;
			}
		}
		if (stale) {
			if (unlinkat(dfd, d->d_name, 0) != 0 && errno != ENOENT) {
				err_set(e, ERR_IO, "cannot remove the unfinished bundle file '%s': %s", d->d_name,
				    strerror(errno));
				goto out;
			}
			count++;
		}
		errno = 0;
	}
	if (errno != 0) {
		err_set(e, ERR_IO, "cannot read the bundles folder: %s", strerror(errno));
		goto out;
	}
	if (count > 0 && fsync(dfd) != 0) {
		err_set(e, ERR_IO, "cannot sync the bundles folder: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (removed != NULL)
		*removed = count;
	closedir(dh);
	return ret;
}

/* The evidence row of snapshot `sid` of target `tid` (the newest pull that found it). */
static json_t *
evidence_of(struct store *st, int64_t tid, const struct store_snapshot *sn)
{
	struct store_evidence *ev = NULL;
	struct err e = ERR_INIT;
	json_t *out = NULL;
	size_t n = 0, i;

	if (store_evidence_range(st, tid, sn->first_seen, sn->last_seen, 0, &ev, &n, &e) < 0)
		return NULL;
	for (i = n; i > 0; i--) {
		if (ev[i - 1].snapshot_id == sn->id) {
			out = json_loads(ev[i - 1].json, 0, NULL);
			break;
		}
	}
	store_evidence_free(ev, n);
	return out;
}

/* The first scrape of an evidence document that has figures. Borrowed. */
static json_t *
first_scrape(const json_t *ev)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(ev, "scrapes"), i, s) {
		if (json_object_get(s, "figures") != NULL && json_object_get(s, "error") == NULL)
			return s;
	}
	return NULL;
}

/* A snapshot of target t by id: its metadata and parsed document. */
static int
load_snapshot(struct store *st, const struct store_target *t, int64_t id, struct store_snapshot *meta,
    json_t **doc, struct err *e)
{
	char *text = NULL;

	if (store_snapshot_get(st, id, meta, &text, e) < 0) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "no snapshot %" PRId64, id);
		return -1;
	}
	if (meta->target_id != t->id) {
		free(text);
		return err_set(e, ERR_INVALID, "snapshot %" PRId64 " is not a snapshot of this target", id);
	}
	*doc = json_loads(text, 0, NULL);
	free(text);
	if (*doc == NULL)
		return err_set(e, ERR_INTERNAL, "stored snapshot %" PRId64 " is not valid JSON", id);
	return 0;
}

/* An optional snapshot id member of the body: 1 and *out when present. */
static int
body_id(const json_t *body, const char *name, int64_t *out, struct err *e)
{
	const json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return err_set(e, ERR_INVALID, "'%s' must be a snapshot id (a positive number)", name);
	*out = json_integer_value(v);
	return 1;
}

int
api_bundles_create(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct store_target t;
	struct store_baseline base;
	struct store_snapshot from_meta, to_meta;
	struct store_bundle row;
	json_t *from_doc = NULL, *to_doc = NULL, *from_ev = NULL, *to_ev = NULL, *metrics = NULL;
	json_t *meta = NULL, *out = NULL;
	char dir[PATH_MAX], path[PATH_MAX + STORE_MAX_BUNDLE_FILE + 2], from_label[32], to_label[32];
	const char *key;
	json_t *v;
	int64_t from = 0, to = 0;
	struct api_diff_sides sides;
	int have_base = 0, have_from, have_sides = 0, written = 0, ret = -1;

	memset(&row, 0, sizeof(row));
	memset(&sides, 0, sizeof(sides));
	if (api_target_from_path(rq, &t, e) < 0)
		goto out;
	if (rq->body != NULL) {
		if (!json_is_object(rq->body)) {
			err_set(e, ERR_INVALID, "the body must be a JSON object {\"from\": ID, \"to\": ID}");
			goto out;
		}
		json_object_foreach(rq->body, key, v) {
			if (strcmp(key, "from") != 0 && strcmp(key, "to") != 0) {
				err_set(e, ERR_INVALID, "unknown member '%.64s'; a bundle takes only 'from' and 'to'", key);
				goto out;
			}
		}
	}
	if ((have_from = body_id(rq->body, "from", &from, e)) < 0 || body_id(rq->body, "to", &to, e) < 0)
		goto out;
	if (store_baseline_get(rq->store, t.id, &base, e) == 0) {
		have_base = 1;
	} else if (e->code != ERR_NOT_FOUND) {
		goto out;
	}
	*e = (struct err)ERR_INIT;
	if (!have_from && have_base)
		from = base.snapshot_id;
	if (to == 0)
		to = t.latest_snapshot_id;
	if (to == 0) {
		err_set(e, ERR_CONFLICT, "the target has no snapshot yet; collect it first");
		goto out;
	}
	if (from != 0 && load_snapshot(rq->store, &t, from, &from_meta, &from_doc, e) < 0)
		goto out;
	if (load_snapshot(rq->store, &t, to, &to_meta, &to_doc, e) < 0)
		goto out;
	if (from != 0)
		from_ev = evidence_of(rq->store, t.id, &from_meta);
	to_ev = evidence_of(rq->store, t.id, &to_meta);
	metrics = json_pack("{s:O?, s:O?}", "baseline", first_scrape(from_ev), "current", first_scrape(to_ev));
	snprintf(from_label, sizeof(from_label), "snapshot %" PRId64, from);
	snprintf(to_label, sizeof(to_label), "snapshot %" PRId64, to);
	in.baseline = from_doc;
	in.current = to_doc;
	in.baseline_evidence = from_ev;
	in.current_evidence = to_ev;
	in.metrics = metrics;
	in.baseline_label = from != 0 ? from_label : NULL;
	in.current_label = to_label;
	/* The same diff and verdict GET .../diff answers (the bundle redacts both). */
	if (from != 0) {
		if (api_diff_snapshots(rq->store, from, to, from_label, to_label, 0, &sides, e) < 0)
			goto out;
		have_sides = 1;
		in.diff = sides.diff;
		in.verdict = sides.verdict;
	}
	if (have_base && from == base.snapshot_id) {
		in.baseline_marked_at = (time_t)base.set_at;
		in.baseline_note = base.note[0] != '\0' ? base.note : NULL;
	}
	if (bundles_dir(rq->cfg, dir, sizeof(dir), e) < 0)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err_set(e, ERR_IO, "cannot create the bundles folder: %s", strerror(errno));
		goto out;
	}
	if (bundle_write(&in, dir, &meta, e) < 0)
		goto out;
	written = 1;
	snprintf(row.id, sizeof(row.id), "%s", json_string_value(json_object_get(meta, "id")));
	snprintf(row.file, sizeof(row.file), "%s", json_string_value(json_object_get(meta, "file")));
	snprintf(path, sizeof(path), "%s/%s", dir, row.file);
	row.target_id = t.id;
	snprintf(row.target, sizeof(row.target), "%s/%s/%s/%s", t.cluster, t.ns, t.kind, t.name);
	row.from_snapshot_id = from;
	row.to_snapshot_id = to;
	row.size = (int64_t)json_integer_value(json_object_get(meta, "bytes"));
	snprintf(row.sha256, sizeof(row.sha256), "%s", json_string_value(json_object_get(meta, "sha256")));
	snprintf(row.created_by, sizeof(row.created_by), "%s", rq->who != NULL ? rq->who->name : "");
	if ((row.meta_json = json_dumps(meta, JSON_COMPACT)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory recording a bundle");
		goto out;
	}
	if (store_bundle_insert(rq->store, &row, e) < 0)
		goto out;
	written = 0;
	if ((out = bundle_json(&row, rq->cfg)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory answering a new bundle");
		goto out;
	}
	snprintf(rs->location, sizeof(rs->location), "/api/v1/bundles/%s", row.id);
	ret = api_resp_json(rs, 201, out, e);
	out = NULL;
	{
		struct err pe = ERR_INIT;

		if (api_bundles_prune(rq->store, rq->cfg, row.created_at, NULL, &pe) < 0)
			log_warn("bundles: retention: %s", pe.msg);
	}
out:
	/* A file whose row could not be recorded is not left behind. */
	if (written && row.file[0] != '\0' && unlink(path) != 0 && errno != ENOENT)
		log_warn("bundles: cannot remove an unrecorded bundle file: %s", strerror(errno));
	free(row.meta_json);
	if (have_sides)
		api_diff_sides_release(&sides);
	json_decref(out);
	json_decref(meta);
	json_decref(metrics);
	json_decref(from_doc);
	json_decref(to_doc);
	json_decref(from_ev);
	json_decref(to_ev);
	return ret;
}

int
api_bundles_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_bundle *items = NULL;
	long long limit = API_BUNDLES_DEFAULT_LIMIT, before = 0;
	json_t *arr = NULL, *out;
	size_t i, n = 0;
	int ret = -1;

	if (api_query_int(rq, "limit", 1, API_BUNDLES_MAX_LIMIT, &limit, e) < 0 ||
	    api_query_int(rq, "before", 1, INT64_MAX, &before, e) < 0)
		goto out;
	if (store_bundle_list(rq->store, before, (size_t)limit, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, bundle_json(&items[i], rq->cfg)) < 0)
			goto oom;
	}
	out = json_pack("{s:o, s:o}", "bundles", arr,
	    "next_before", n == (size_t)limit && n > 0 ? json_integer(items[n - 1].seq) : json_null());
	arr = NULL;
	ret = api_resp_json(rs, 200, out, e);
	goto out;
oom:
	err_set(e, ERR_NOMEM, "out of memory listing bundles");
out:
	json_decref(arr);
	store_bundles_free(items, n);
	return ret;
}

int
api_bundles_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_bundle b;
	int ret;

	if (store_bundle_get(rq->store, api_param(rq, "id"), &b, e) < 0)
		return -1;
	ret = api_resp_json(rs, 200, bundle_json(&b, rq->cfg), e);
	free(b.meta_json);
	return ret;
}

/* Both download routes: the archive as an attachment. */
static int
send_bundle(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_bundle b;
	char dir[PATH_MAX], path[PATH_MAX + STORE_MAX_BUNDLE_FILE + 2];
	char name[STORE_MAX_BUNDLE_ID + 32];
	int ret = -1;

	if (store_bundle_get(rq->store, api_param(rq, "id"), &b, e) < 0)
		return -1;
	if (bundles_dir(rq->cfg, dir, sizeof(dir), e) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, b.file);
	snprintf(name, sizeof(name), "skewd-bundle-%s.tar.gz", b.id);
	if (api_resp_file(rs, 200, path, "application/gzip", name, e) < 0) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "the archive of bundle %s is gone", b.id);
		goto out;
	}
	ret = 0;
out:
	free(b.meta_json);
	return ret;
}

int
api_bundles_download(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	return send_bundle(rq, rs, e);
}

int
api_bundles_short(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *id = api_param(rq, "id");

	/* Public: only a well-formed id reaches the store, and any miss is one 404. */
	if (id == NULL || !bundle_id_valid(id))
		return err_set(e, ERR_NOT_FOUND, "no such bundle");
	return send_bundle(rq, rs, e);
}

int
api_bundles_delete(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_bundle b;
	char dir[PATH_MAX], path[PATH_MAX + STORE_MAX_BUNDLE_FILE + 2];
	int ret = -1;

	if (store_bundle_get(rq->store, api_param(rq, "id"), &b, e) < 0)
		return -1;
	if (bundles_dir(rq->cfg, dir, sizeof(dir), e) < 0)
		goto out;
	if (store_bundle_delete(rq->store, b.id, e) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, b.file);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("bundles: cannot remove the file of bundle %s: %s", b.id, strerror(errno));
	rs->status = 204;
	ret = 0;
out:
	free(b.meta_json);
	return ret;
}
