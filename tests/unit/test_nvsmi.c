/*
 * test_nvsmi.c - metrics_nvsmi_parse() on every capture in
 * tests/fixtures/nvidia-smi/ (the -q and --query-gpu CSV sections cut out of
 * nvidia_gpu_exporter's captures, its small query fixture, and telegraf's
 * -q -x XML files), with the exact facts each one states, and on bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static char *
slurp(const char *name, size_t *len)
{
	const char *dir = getenv("SKEWD_FIXTURES");
	char path[1024];
	FILE *f;
	char *p;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/nvidia-smi/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

struct want {
	const char *file;
	const char *format;
	const char *name;
	double memory_mib;     /* 0: not in this output */
	const char *driver;
	const char *cuda;      /* NULL: not in this output */
	const char *mig;       /* NULL: N/A or not in this output */
	const char *uuid;
	const char *bus;
};

#define H100 "NVIDIA H100 80GB HBM3"
#define ZERO_UUID "GPU-00000000-0000-0000-0000-000000000000"

static const struct want cases[] = {
	/* -q: "FB Memory Usage / Total", "MIG Mode / Current", driver and CUDA at the top. */
	{ "nvgpuexp__linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__q.txt", "query", H100, 81559,
		"590.48.01", "13.1", "Disabled", ZERO_UUID, "00000000:00:09.0" },
	/* MIG devices list their own "Shared FB Memory Usage / Total" (40448 MiB ...); the
	 * GPU's total is still 81559. */
	{ "nvgpuexp__linux-x86_64__nvidia-h100-mig__590.48.01__q.txt", "query", H100, 81559,
		"590.48.01", "13.1", "Enabled", ZERO_UUID, "00000000:00:09.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-h200-mig__590.48.01__q.txt", "query", "NVIDIA H200",
		143771, "590.48.01", "13.1", "Enabled", ZERO_UUID, "00000000:83:00.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-h200__590.48.01__q.txt", "query", "NVIDIA H200",
		143771, "590.48.01", "13.1", "Disabled", ZERO_UUID, "00000000:83:00.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-l40s__595.80__q.txt", "query", "NVIDIA L40S", 46068,
		"595.80", "13.2", NULL, ZERO_UUID, "00000000:01:00.0" },
	/* CSV: "memory.total [MiB]" header, "81559 MiB" values, no CUDA column. */
	{ "nvgpuexp__linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__query-gpu.csv", "csv", H100,
		81559, "590.48.01", NULL, "Disabled", ZERO_UUID, "00000000:00:09.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-h100-mig__590.48.01__query-gpu.csv", "csv", H100,
		81559, "590.48.01", NULL, "Enabled", ZERO_UUID, "00000000:00:09.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-h200-mig__590.48.01__query-gpu.csv", "csv",
		"NVIDIA H200", 143771, "590.48.01", NULL, "Enabled", ZERO_UUID, "00000000:83:00.0" },
	{ "nvgpuexp__linux-x86_64__nvidia-h200__590.48.01__query-gpu.csv", "csv", "NVIDIA H200",
		143771, "590.48.01", NULL, "Disabled", ZERO_UUID, "00000000:83:00.0" },
	/* L40S: mig.mode.current is "[N/A]", so no MIG fact. */
	{ "nvgpuexp__linux-x86_64__nvidia-l40s__595.80__query-gpu.csv", "csv", "NVIDIA L40S",
		46068, "595.80", NULL, NULL, ZERO_UUID, "00000000:01:00.0" },
	/* XML: the A100's four <mig_device> entries carry <fb_memory_usage><total>19968 MiB;
	 * the GPU's own is 81920 MiB. */
	{ "telegraf__a100-sxm4-v12.xml", "xml", "NVIDIA A100-SXM4-80GB", 81920, "535.54.03",
		"12.2", "Enabled", "GPU-513536b6-7d19-9063-b049-1e69664bb298", "00000000:01:00.0" },
	{ "telegraf__a10g.xml", "xml", "NVIDIA A10G", 23028, "515.105.01", "11.7", NULL,
		"GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94", "00000000:00:1E.0" },
	{ "telegraf__rtx-4000-sff-ada-v13.xml", "xml", "NVIDIA RTX 4000 SFF Ada Generation", 20475,
		"595.84", "13.2", NULL, "GPU-37037c3f-65c8-ec4d-24a9-420204ad8026", "00000000:06:00.0" },
	{ "telegraf__tesla-t4.xml", "xml", "Tesla T4", 15360, "515.105.01", "11.7", NULL,
		"GPU-d37e67a5-91dd-3774-a5cb-99096249601a", "00000000:00:1E.0" },
};

static void
check_str(const json_t *o, const char *key, const char *want, const char *file)
{
	const char *got = json_string_value(json_object_get(o, key));

	if (want == NULL) {
		if (json_object_get(o, key) != NULL)
			fail_msg("%s: '%s' should be absent, is '%s'", file, key, got ? got : "?");
		return;
	}
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: '%s' is '%s', want '%s'", file, key, got ? got : "(absent)", want);
}

static void
test_captures(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct want *w = &cases[i];
		struct err e = ERR_INIT;
		json_t *out = NULL;
		const json_t *g;
		size_t len;
		char *text = slurp(w->file, &len);

		if (metrics_nvsmi_parse(text, len, &out, &e) < 0)
			fail_msg("%s: %s", w->file, e.msg);
		check_str(out, "schema", METRICS_NVSMI_SCHEMA, w->file);
		check_str(out, "format", w->format, w->file);
		check_str(out, "driver_version", w->driver, w->file);
		check_str(out, "cuda_version", w->cuda, w->file);
		assert_int_equal(json_array_size(json_object_get(out, "gpus")), 1);
		g = json_array_get(json_object_get(out, "gpus"), 0);
		check_str(g, "name", w->name, w->file);
		check_str(g, "driver_version", w->driver, w->file);
		check_str(g, "cuda_version", w->cuda, w->file);
		check_str(g, "mig_mode", w->mig, w->file);
		check_str(g, "uuid", w->uuid, w->file);
		check_str(g, "pci_bus_id", w->bus, w->file);
		if (json_number_value(json_object_get(g, "memory_total_mib")) != w->memory_mib)
			fail_msg("%s: memory_total_mib %g, want %g", w->file,
				json_number_value(json_object_get(g, "memory_total_mib")), w->memory_mib);
		json_decref(out);
		free(text);
	}
}

static void
test_query_fixture(void **state)
{
	struct err e = ERR_INIT;
	json_t *out = NULL;
	const json_t *g;
	size_t len;
	char *text = slurp("nvgpuexp__query.txt", &len);

	(void)state;
	/* Two GPUs; units in the header ("memory.used [MiB]") and values; no memory.total. */
	if (metrics_nvsmi_parse(text, len, &out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(json_object_get(out, "gpus")), 2);
	g = json_array_get(json_object_get(out, "gpus"), 0);
	check_str(g, "name", "NVIDIA GeForce RTX 2080 SUPER", "query");
	check_str(g, "driver_version", "466.63", "query");
	check_str(g, "uuid", "GPU-df6e7a7c-7314-46f8-abc4-b88b36dcf3aa", "query");
	check_str(g, "compute_cap", "7.5", "query");
	check_str(g, "index", "0", "query");
	assert_null(json_object_get(g, "memory_total_mib"));
	g = json_array_get(json_object_get(out, "gpus"), 1);
	check_str(g, "name", "Some Other GPU", "query");
	check_str(g, "driver_version", "123.45", "query");
	check_str(g, "compute_cap", "8.6", "query");
	/* The top-level driver is the first GPU's. */
	check_str(out, "driver_version", "466.63", "query");
	json_decref(out);
	free(text);
}

static void
test_csv_forms(void **state)
{
	/* nounits: the unit only in the header; GiB converted; CRLF line ends. */
	static const char nounits[] =
		"name, memory.total [MiB], driver_version, mig.mode.current\r\n"
		"NVIDIA A100-SXM4-40GB, 40960, 550.54.15, Enabled\r\n"
		"NVIDIA A100-SXM4-40GB, 40960, 550.54.15, Disabled\r\n";
	static const char gib[] = "name, memory.total\nX, 80 GiB\n";
	struct err e = ERR_INIT;
	json_t *out = NULL;
	const json_t *g;

	(void)state;
	assert_int_equal(metrics_nvsmi_parse(nounits, strlen(nounits), &out, &e), 0);
	assert_int_equal(json_array_size(json_object_get(out, "gpus")), 2);
	g = json_array_get(json_object_get(out, "gpus"), 0);
	assert_true(json_number_value(json_object_get(g, "memory_total_mib")) == 40960);
	check_str(g, "mig_mode", "Enabled", "nounits");
	check_str(json_array_get(json_object_get(out, "gpus"), 1), "mig_mode", "Disabled", "nounits");
	json_decref(out);
	assert_int_equal(metrics_nvsmi_parse(gib, strlen(gib), &out, &e), 0);
	g = json_array_get(json_object_get(out, "gpus"), 0);
	assert_true(json_number_value(json_object_get(g, "memory_total_mib")) == 80 * 1024);
	json_decref(out);
}

static void
expect_fail(const char *text, size_t len, enum err_code code, const char *want)
{
	struct err e = ERR_INIT;
	json_t *out = NULL;

	assert_int_equal(metrics_nvsmi_parse(text, len, &out, &e), -1);
	assert_null(out);
	assert_int_equal(e.code, code);
	if (strstr(e.msg, want) == NULL)
		fail_msg("error '%s' does not say '%s'", e.msg, want);
}

static void
test_bad_input(void **state)
{
	static const char noheader[] = "NVIDIA H100 80GB HBM3, 81559 MiB, 590.48.01\n";
	static const char ragged[] = "name, memory.total\nA, 1 MiB, extra\n";
	static const char headeronly[] = "name, memory.total [MiB]\n";
	static const char unclosed[] = "<nvidia_smi_log><gpu id=\"0\"><product_name>X</product_name>";
	static const char badutf8[] = "name, driver_version\n\xff\xfe, 1\n";
	char *big, *many;
	size_t i, off = 0;

	(void)state;
	expect_fail("hello\n", 6, ERR_INVALID, "not nvidia-smi output");
	expect_fail("", 0, ERR_INVALID, "not nvidia-smi output");
	expect_fail(noheader, strlen(noheader), ERR_INVALID, "not a header");
	expect_fail(ragged, strlen(ragged), ERR_INVALID, "line 2: 3 fields, the header has 2");
	expect_fail(headeronly, strlen(headeronly), ERR_INVALID, "lists no GPU");
	expect_fail(unclosed, strlen(unclosed), ERR_INVALID, "not closed");
	expect_fail(badutf8, strlen(badutf8), ERR_INVALID, "not valid UTF-8");
	expect_fail("name,x\n\0,1\n", 11, ERR_INVALID, "NUL byte");
	/* Over the byte limit: refused before reading. */
	big = calloc(METRICS_NVSMI_MAX_BYTES + 1, 1);
	assert_non_null(big);
	expect_fail(big, METRICS_NVSMI_MAX_BYTES + 1, ERR_TOO_LARGE, "over the limit");
	free(big);
	/* Over the GPU limit. */
	many = malloc(64 * (METRICS_NVSMI_MAX_GPUS + 2));
	assert_non_null(many);
	off += (size_t)snprintf(many + off, 64, "name, index\n");
	for (i = 0; i <= METRICS_NVSMI_MAX_GPUS; i++)
		off += (size_t)snprintf(many + off, 64, "GPU, %zu\n", i);
	expect_fail(many, off, ERR_TOO_LARGE, "more than 64 GPUs");
	free(many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_query_fixture),
		cmocka_unit_test(test_csv_forms),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
