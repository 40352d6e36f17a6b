/*
 * nvsmi.c - GPU facts from nvidia-smi output a person attaches: the CSV of
 * `--query-gpu=... --format=csv`, the text of `-q`, and the XML of `-q -x`.
 *
 * All three are read with (pointer, length) pairs over the caller's bytes;
 * nothing is NUL-terminated until a value is copied into JSON. The XML is
 * nvidia-smi's own fixed layout (nvsmi_device_v11/v12/v13 DTDs), read by tag
 * search, not a general XML parser: only the elements named below are read.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

struct span {
	const char *p;
	size_t n;
};

static struct span
trim(struct span s)
{
	while (s.n > 0 && isspace((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

static int
span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static const char *
span_find(struct span s, const char *lit)
{
	size_t n = strlen(lit), i;

	for (i = 0; n <= s.n && i <= s.n - n; i++)
		if (memcmp(s.p + i, lit, n) == 0)
			return s.p + i;
	return NULL;
}

/* "[N/A]", "N/A", "[Not Supported]", "[Requested functionality has been deprecated]":
 * nvidia-smi's ways of saying it has no value. */
static int
no_value(struct span v)
{
	return v.n == 0 || span_eq(v, "N/A") || (v.p[0] == '[' && v.p[v.n - 1] == ']');
}

/* Sets key to the trimmed value unless it is one of nvidia-smi's "no value" forms. */
static int
put_str(json_t *o, const char *key, struct span v)
{
	v = trim(v);
	if (no_value(v))
		return 0;
	return json_object_set_new(o, key, json_stringn(v.p, v.n));
}

/* "81559 MiB" (or "81559" with the unit in the CSV header) to MiB. */
static int
put_mib(json_t *o, const char *key, struct span v, int header_mib)
{
	char num[32], *end;
	double d;
	struct span unit;

	v = trim(v);
	if (no_value(v) || v.n >= sizeof(num))
		return 0;
	memcpy(num, v.p, v.n);
	num[v.n] = '\0';
	d = strtod(num, &end);
	if (end == num)
		return 0;
	unit.p = v.p + (end - num);
	unit.n = v.n - (size_t)(end - num);
	unit = trim(unit);
	if (span_eq(unit, "GiB"))
		d *= 1024;
	else if (!(span_eq(unit, "MiB") || (unit.n == 0 && header_mib)))
		return 0;
	return json_object_set_new(o, key, json_real(d));
}

/* Each GPU's driver and CUDA version, from the log's top when the GPU has none. */
static int
finish(json_t *root, json_t *gpus, struct err *e)
{
	json_t *drv = json_object_get(root, "driver_version");
	json_t *cuda = json_object_get(root, "cuda_version");
	size_t i;

	if (json_array_size(gpus) == 0)
		return err_set(e, ERR_INVALID, "nvidia-smi text lists no GPU");
	for (i = 0; i < json_array_size(gpus); i++) {
		json_t *g = json_array_get(gpus, i);

		if (drv != NULL && json_object_get(g, "driver_version") == NULL &&
		    json_object_set(g, "driver_version", drv) < 0)
			return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
		if (cuda != NULL && json_object_get(g, "cuda_version") == NULL &&
		    json_object_set(g, "cuda_version", cuda) < 0)
			return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
	}
	if (drv == NULL && json_object_get(json_array_get(gpus, 0), "driver_version") != NULL &&
	    json_object_set(root, "driver_version",
	    json_object_get(json_array_get(gpus, 0), "driver_version")) < 0)
		return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
	return 0;
}

static json_t *
new_gpu(json_t *gpus, struct err *e)
{
	json_t *g;

	if (json_array_size(gpus) >= METRICS_NVSMI_MAX_GPUS) {
		err_set(e, ERR_TOO_LARGE, "nvidia-smi text lists more than %d GPUs",
			METRICS_NVSMI_MAX_GPUS);
		return NULL;
	}
	g = json_object();
	if (g == NULL || json_array_append_new(gpus, g) < 0) {
		err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
		return NULL;
	}
	return g;
}

/* The next line of `all` from *pos (without the line end); 0 at the end. */
static int
next_line(struct span all, size_t *pos, struct span *line)
{
	const char *nl;

	if (*pos >= all.n)
		return 0;
	line->p = all.p + *pos;
	nl = memchr(line->p, '\n', all.n - *pos);
	line->n = nl != NULL ? (size_t)(nl - line->p) : all.n - *pos;
	*pos += line->n + (nl != NULL);
	if (line->n > 0 && line->p[line->n - 1] == '\r')
		line->n--;
	return 1;
}

/*
 * CSV: a header line of field names (units in brackets: "memory.total [MiB]"), then
 * one line per GPU. nvidia-smi writes ", " between fields and never quotes.
 */
#define CSV_FIELD_NONE (-1)

static const struct {
	const char *field;
	const char *key;
	int mib;
} csv_fields[] = {
	{ "name", "name", 0 },
	{ "gpu_name", "name", 0 },
	{ "memory.total", "memory_total_mib", 1 },
	{ "driver_version", "driver_version", 0 },
	{ "cuda_version", "cuda_version", 0 },
	{ "mig.mode.current", "mig_mode", 0 },
	{ "uuid", "uuid", 0 },
	{ "gpu_uuid", "uuid", 0 },
	{ "pci.bus_id", "pci_bus_id", 0 },
	{ "gpu_bus_id", "pci_bus_id", 0 },
	{ "compute_cap", "compute_cap", 0 },
	{ "index", "index", 0 },
};

#define NCSV (sizeof(csv_fields) / sizeof(csv_fields[0]))

static size_t
split_csv(struct span line, struct span *out, size_t max)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i <= line.n; i++) {
		if (i < line.n && line.p[i] != ',')
			continue;
		if (n == max)
			return max + 1;
		out[n].p = line.p + start;
		out[n].n = i - start;
		out[n] = trim(out[n]);
		n++;
		start = i + 1;
	}
	return n;
}

static int
parse_csv(struct span all, json_t *root, json_t *gpus, struct err *e)
{
	struct span line, *cols = NULL;
	int *map = NULL, *hmib = NULL;
	size_t pos = 0, nh = 0, nv, i, j, lineno = 0;
	int ret = -1, header = 0;

	cols = calloc(METRICS_NVSMI_MAX_FIELDS + 1, sizeof(*cols));
	map = calloc(METRICS_NVSMI_MAX_FIELDS + 1, sizeof(*map));
	hmib = calloc(METRICS_NVSMI_MAX_FIELDS + 1, sizeof(*hmib));
	if (cols == NULL || map == NULL || hmib == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi CSV");
		goto out;
	}
	while (next_line(all, &pos, &line)) {
		lineno++;
		if (trim(line).n == 0)
			continue;
		if (!header) {
			nh = split_csv(line, cols, METRICS_NVSMI_MAX_FIELDS);
			if (nh > METRICS_NVSMI_MAX_FIELDS) {
				err_set(e, ERR_TOO_LARGE, "nvidia-smi CSV line %zu: more than %d fields",
					lineno, METRICS_NVSMI_MAX_FIELDS);
				goto out;
			}
			for (i = 0; i < nh; i++) {
				struct span name = cols[i];
				const char *br = memchr(name.p, '[', name.n);

				map[i] = CSV_FIELD_NONE;
				if (br != NULL) {
					hmib[i] = span_find(name, "[MiB]") != NULL;
					name.n = (size_t)(br - name.p);
					name = trim(name);
				}
				for (j = 0; j < NCSV; j++)
					if (span_eq(name, csv_fields[j].field))
						map[i] = (int)j;
			}
			for (i = 0; i < nh && map[i] == CSV_FIELD_NONE; i++)
				;
			if (i == nh) {
				err_set(e, ERR_INVALID, "nvidia-smi CSV line %zu is not a header naming "
					"name, memory.total, driver_version or uuid (use --format=csv, not "
					"noheader)", lineno);
				goto out;
			}
			header = 1;
			continue;
		}
		nv = split_csv(line, cols, METRICS_NVSMI_MAX_FIELDS);
		if (nv != nh) {
			err_set(e, ERR_INVALID, "nvidia-smi CSV line %zu: %zu fields, the header has %zu",
				lineno, nv, nh);
			goto out;
		}
		{
			json_t *g = new_gpu(gpus, e);

			if (g == NULL)
				goto out;
			for (i = 0; i < nv; i++) {
				int rc;

				if (map[i] == CSV_FIELD_NONE)
					continue;
				if (csv_fields[map[i]].mib)
					rc = put_mib(g, csv_fields[map[i]].key, cols[i], hmib[i]);
				else
					rc = put_str(g, csv_fields[map[i]].key, cols[i]);
				if (rc < 0) {
					err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi CSV");
					goto out;
				}
			}
		}
	}
	if (json_object_set_new(root, "format", json_string("csv")) < 0) {
		err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi CSV");
		goto out;
	}
	ret = 0;
out:
	free(cols);
	free(map);
	free(hmib);
	return ret;
}

/*
 * -q: "Key    : value" lines, sections by indentation (4 spaces a level), and one
 * "GPU 00000000:01:00.0" line at the left margin per GPU.
 */
static size_t
indent_of(struct span line)
{
	size_t i = 0;

	while (i < line.n && line.p[i] == ' ')
		i++;
	return i;
}

static int
parse_query(struct span all, json_t *root, json_t *gpus, struct err *e)
{
	struct span line, section = { "", 0 };
	json_t *g = NULL;
	size_t pos = 0;

	while (next_line(all, &pos, &line)) {
		size_t ind = indent_of(line);
		const char *sep = span_find(line, " : ");
		struct span key, val;
		int rc = 0;

		if (trim(line).n == 0)
			continue;
		if (sep == NULL) {
			/* A section name, or a GPU at the left margin. */
			if (ind == 0 && line.n > 4 && memcmp(line.p, "GPU ", 4) == 0) {
				g = new_gpu(gpus, e);
				if (g == NULL)
					return -1;
				section.n = 0;
			} else if (ind == 4) {
				section = trim(line);
			}
			continue;
		}
		key.p = line.p;
		key.n = (size_t)(sep - line.p);
		key = trim(key);
		val.p = sep + 3;
		val.n = line.n - (size_t)(val.p - line.p);
		if (ind == 0 && span_eq(key, "Driver Version"))
			rc = put_str(root, "driver_version", val);
		else if (ind == 0 && span_eq(key, "CUDA Version"))
			rc = put_str(root, "cuda_version", val);
		else if (g == NULL)
			continue;
		else if (ind == 4) {
			section.n = 0;
			if (span_eq(key, "Product Name"))
				rc = put_str(g, "name", val);
			else if (span_eq(key, "GPU UUID"))
				rc = put_str(g, "uuid", val);
		} else if (ind == 8 && span_eq(section, "MIG Mode") && span_eq(key, "Current"))
			rc = put_str(g, "mig_mode", val);
		else if (ind == 8 && span_eq(section, "FB Memory Usage") && span_eq(key, "Total"))
			rc = put_mib(g, "memory_total_mib", val, 0);
		else if (ind == 8 && span_eq(section, "PCI") && span_eq(key, "Bus Id"))
			rc = put_str(g, "pci_bus_id", val);
		if (rc < 0)
			return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi -q text");
	}
	if (json_object_set_new(root, "format", json_string("query")) < 0)
		return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi -q text");
	return 0;
}

/*
 * -q -x: <nvidia_smi_log> with <driver_version>, <cuda_version> and one
 * <gpu id="..."> per GPU. <mig_devices> inside a GPU repeat <fb_memory_usage>, so
 * they are skipped when reading the GPU's own elements.
 */

/* The text of the first <tag>...</tag> in s outside [skip, skip_end). */
static int
xml_elem(struct span s, const char *tag, const char *skip, const char *skip_end,
	struct span *out)
{
	char open[64], close[64];
	struct span rest = s;
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	for (;;) {
		a = span_find(rest, open);
		if (a == NULL)
			return -1;
		if (skip != NULL && a >= skip && a < skip_end) {
			rest.n -= (size_t)(skip_end - rest.p);
			rest.p = skip_end;
			continue;
		}
		a += strlen(open);
		rest.n -= (size_t)(a - rest.p);
		rest.p = a;
		b = span_find(rest, close);
		if (b == NULL)
			return -1;
		out->p = a;
		out->n = (size_t)(b - a);
		return 0;
	}
}

/* nvidia-smi escapes only the five predefined entities; a value with any is copied
 * decoded. */
static int
put_xml(json_t *o, const char *key, struct span v)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		{ "&apos;", '\'' } };
	char *buf;
	size_t i, j, n = 0;
	int rc;

	v = trim(v);
	if (memchr(v.p, '&', v.n) == NULL)
		return put_str(o, key, v);
	buf = malloc(v.n + 1);
	if (buf == NULL)
		return -1;
	for (i = 0; i < v.n; i++) {
		for (j = 0; j < sizeof(ents) / sizeof(ents[0]); j++) {
			size_t el = strlen(ents[j].ent);

			if (v.n - i >= el && memcmp(v.p + i, ents[j].ent, el) == 0) {
				buf[n++] = ents[j].c;
				i += el - 1;
				break;
			}
		}
		if (j == sizeof(ents) / sizeof(ents[0]))
			buf[n++] = v.p[i];
	}
	rc = put_str(o, key, (struct span){ buf, n });
	free(buf);
	return rc;
}

static int
parse_xml(struct span all, json_t *root, json_t *gpus, struct err *e)
{
	struct span rest = all, v, block, mig, fb;
	const char *a, *b, *skip, *skip_end;
	int rc;

	/* The log's own driver and CUDA versions come before the first <gpu>. */
	a = span_find(all, "<gpu id=");
	block.p = all.p;
	block.n = a != NULL ? (size_t)(a - all.p) : all.n;
	if ((xml_elem(block, "driver_version", NULL, NULL, &v) == 0 &&
	    put_xml(root, "driver_version", v) < 0) ||
	    (xml_elem(block, "cuda_version", NULL, NULL, &v) == 0 &&
	    put_xml(root, "cuda_version", v) < 0))
		return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi XML");
	while ((a = span_find(rest, "<gpu id=")) != NULL) {
		json_t *g;

		rest.n -= (size_t)(a - rest.p);
		rest.p = a;
		b = span_find(rest, "</gpu>");
		if (b == NULL)
			return err_set(e, ERR_INVALID, "nvidia-smi XML: a <gpu> element is not closed");
		block.p = a;
		block.n = (size_t)(b - a);
		rest.n -= (size_t)(b + 6 - rest.p);
		rest.p = b + 6;
		g = new_gpu(gpus, e);
		if (g == NULL)
			return -1;
		skip = span_find(block, "<mig_devices>");
		skip_end = skip != NULL ? span_find(block, "</mig_devices>") : NULL;
		if (skip_end == NULL)
			skip = NULL;
		rc = 0;
		if (xml_elem(block, "product_name", skip, skip_end, &v) == 0)
			rc |= put_xml(g, "name", v);
		if (xml_elem(block, "uuid", skip, skip_end, &v) == 0)
			rc |= put_xml(g, "uuid", v);
		if (xml_elem(block, "pci_bus_id", skip, skip_end, &v) == 0)
			rc |= put_xml(g, "pci_bus_id", v);
		if (xml_elem(block, "mig_mode", skip, skip_end, &mig) == 0 &&
		    xml_elem(mig, "current_mig", NULL, NULL, &v) == 0)
			rc |= put_xml(g, "mig_mode", v);
		if (xml_elem(block, "fb_memory_usage", skip, skip_end, &fb) == 0 &&
		    xml_elem(fb, "total", NULL, NULL, &v) == 0)
			rc |= put_mib(g, "memory_total_mib", v, 0);
		if (rc != 0)
			return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi XML");
	}
	if (json_object_set_new(root, "format", json_string("xml")) < 0)
		return err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi XML");
	return 0;
}

int
metrics_nvsmi_parse(const char *text, size_t len, json_t **out, struct err *e)
{
	struct span all = { text, len }, first = { "", 0 }, line;
	json_t *root = NULL, *gpus = NULL, *check;
	size_t pos = 0;
	int ret = -1;

	*out = NULL;
	if (len > METRICS_NVSMI_MAX_BYTES)
		return err_set(e, ERR_TOO_LARGE, "nvidia-smi text of %zu bytes is over the limit of %d",
			len, METRICS_NVSMI_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return err_set(e, ERR_INVALID, "nvidia-smi text holds a NUL byte");
	check = json_stringn(text, len);
	if (check == NULL)
		return err_set(e, ERR_INVALID, "nvidia-smi text is not valid UTF-8");
	json_decref(check);
	while (next_line(all, &pos, &line)) {
		first = trim(line);
		if (first.n > 0)
			break;
	}
	root = json_object();
	gpus = json_array();
	if (root == NULL || gpus == NULL ||
	    json_object_set_new(root, "schema", json_string(METRICS_NVSMI_SCHEMA)) < 0) {
		json_decref(gpus);
		err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
		goto out;
	}
	if (json_object_set_new(root, "gpus", gpus) < 0) {
		err_set(e, ERR_NOMEM, "out of memory reading nvidia-smi text");
		goto out;
	}
	if (span_find(all, "<nvidia_smi_log>") != NULL) {
		if (parse_xml(all, root, gpus, e) < 0)
			goto out;
	} else if (span_find(all, "==============NVSMI LOG==============") != NULL) {
		if (parse_query(all, root, gpus, e) < 0)
			goto out;
	} else if (memchr(first.p, ',', first.n) != NULL) {
		if (parse_csv(all, root, gpus, e) < 0)
			goto out;
	} else {
		err_set(e, ERR_INVALID, "not nvidia-smi output: expected --query-gpu CSV with its "
			"header, nvidia-smi -q or nvidia-smi -q -x");
		goto out;
	}
	if (finish(root, gpus, e) < 0)
		goto out;
	*out = root;
	root = NULL;
	ret = 0;
out:
	json_decref(root);
	return ret;
}
