/*
 * patch.c - the `patch` format: a unified diff of the two normalised sides,
 * each written as multi-document YAML.
 */
#include "render/render.h"

#include <stdlib.h>

#include "doc/doc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* One side as YAML documents, each opened by "---". */
static int
side_yaml(const json_t *side, const char *which, struct buf *out, struct err *e)
{
	size_t i;

	if (!json_is_array(side))
		return err_set(e, ERR_INVALID, "the %s side of a patch is not an array of objects",
		    which);
	for (i = 0; i < json_array_size(side); i++) {
		if (buf_addstr(out, "---\n", e) < 0 ||
		    doc_emit_yaml(json_array_get(side, i), out, e) < 0)
			return err_prefix(e, "writing object %zu of the %s side as YAML", i, which);
	}
	return 0;
}

int
render_patch(const json_t *before, const json_t *after, const char *label_a,
    const char *label_b, struct buf *out, struct err *e)
{
	struct buf ya = BUF_INIT(RENDER_MAX_BYTES), yb = BUF_INIT(RENDER_MAX_BYTES);
	int ret = -1;

	if (side_yaml(before, "before", &ya, e) < 0 || side_yaml(after, "after", &yb, e) < 0)
		goto out;
	if (render_unified(buf_str(&ya), buf_len(&ya), buf_str(&yb), buf_len(&yb),
	    label_a ? label_a : "a", label_b ? label_b : "b", RENDER_PATCH_CONTEXT, out, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&yb);
	buf_release(&ya);
	return ret;
}
