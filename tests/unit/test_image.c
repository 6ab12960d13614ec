/* test_image.c: kb images (fx_kb_save_image / fx_kb_load_image): an image read back writes the
 * same bytes and diagnoses every case of the built-in kb as the kb loaded from YAML does; a
 * damaged, truncated or foreign image is refused with a diagnostic, never a crash; regexes
 * of a loaded image compile only when used. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixit.h"
#include "image.h"
#include "kb.h"
#include "regex.h"

static fx_kb *load_dir(void)
{
	const char *dir = "rules/iphone-backup";
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load(&kb, &dir, 1, NULL), 0);
	return kb;
}

/* kb's image (the caller frees it) and, in *back, the kb loaded from it. */
static char *save_and_load(const fx_kb *kb, size_t *len, fx_kb **back)
{
	char *img = NULL;
	assert_int_equal(fx_kb_save_image(kb, &img, len), 0);
	assert_int_equal(fx_kb_load_image(back, img, *len, NULL), 0);
	return img;
}

typedef struct diag_log {
	unsigned n;
	char code[32];
	char message[256];
} diag_log;

static void on_diag(const fx_diag *d, void *ud)
{
	diag_log *l = ud;
	if (l->n++ == 0) {
		snprintf(l->code, sizeof l->code, "%s", d->code);
		snprintf(l->message, sizeof l->message, "%s", d->message);
	}
}

static void test_round_trip_same_bytes(void **state)
{
	(void)state;
	fx_kb *kb = load_dir(), *back = NULL;
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	assert_int_equal(fx_kb_save_image(kb, &a, &alen), 0);
	assert_true(alen > 1000);
	assert_int_equal(fx_kb_load_image(&back, a, alen, NULL), 0);
	assert_int_equal(fx_kb_save_image(back, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* What the public accessors show is the same too. */
	assert_int_equal(fx_kb_template_count(back), fx_kb_template_count(kb));
	assert_int_equal(fx_kb_rule_count(back), fx_kb_rule_count(kb));
	assert_int_equal(fx_kb_case_count(back), fx_kb_case_count(kb));
	for (size_t i = 0; i < fx_kb_rule_count(kb); i++) {
		const char *xf, *yf;
		unsigned xl, xc, yl, yc;
		fx_kb_rule_pos(kb, i, &xf, &xl, &xc);
		fx_kb_rule_pos(back, i, &yf, &yl, &yc);
		assert_string_equal(fx_kb_rule_name(kb, i), fx_kb_rule_name(back, i));
		assert_string_equal(xf, yf);
		assert_int_equal(xl, yl);
		assert_int_equal(xc, yc);
		assert_true(xl > 0);
	}
	fx_kb_free(back);
	fx_kb_free(kb);
	free(a);
	free(b);
}

/* Runs kb on a facts file (one fact a line, as `fixit run --facts` reads them); returns the
 * number of firings. */
static uint64_t run_facts(fx_kb *kb, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	fx_session *s = NULL;
	uint64_t fired = 0;
	assert_non_null(f);
	assert_int_equal(fx_session_new(&s, kb), 0);
	fx_session_set_output(s, NULL, NULL);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '(')
			assert_int_equal(fx_session_assert_text(s, line, NULL), 0);
	}
	fclose(f);
	int rc = fx_session_run(s, 0, &fired);
	assert_true(rc == 0 || rc == FX_EHALT);
	fx_session_free(s);
	return fired;
}

/* The classic benchmarks modify facts, bind and test a lot: their kbs read back from images
 * write the same bytes and fire as CLIPS does (bench/README.md). */
static void test_round_trip_benchmarks(void **state)
{
	(void)state;
	static const struct {
		const char *rules, *facts;
		uint64_t firings;
	} runs[] = {{"bench/manners.yaml", "bench/data/manners16.fct", 183},
	            {"bench/waltz.yaml", "bench/data/waltz12.fct", 3576}};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		fx_kb *kb = NULL, *back = NULL;
		assert_int_equal(fx_kb_load(&kb, &runs[i].rules, 1, NULL), 0);
		size_t len = 0, blen = 0;
		char *img = save_and_load(kb, &len, &back), *again = NULL;
		assert_int_equal(fx_kb_save_image(back, &again, &blen), 0);
		assert_int_equal(len, blen);
		assert_memory_equal(img, again, len);
		assert_int_equal(run_facts(kb, runs[i].facts), runs[i].firings);
		assert_int_equal(run_facts(back, runs[i].facts), runs[i].firings);
		fx_kb_free(back);
		fx_kb_free(kb);
		free(img);
		free(again);
	}
}

/* The findings and remedies of one case's text and answers, as one comparable string. */
static void diagnose(fx_kb *kb, const fx_case_info *c, char *out, size_t cap)
{
	fx_session *s = NULL;
	fx_diagnosis *d = NULL;
	size_t n = 0;
	assert_int_equal(fx_session_new(&s, kb), 0);
	if (c->input)
		assert_int_equal(fx_text_assert(s, c->input, c->input_len, NULL, NULL), 0);
	for (size_t i = 0; i < c->nanswers; i++)
		assert_int_equal(fx_session_answer(s, c->answers[i].question, c->answers[i].answer,
		                                   NULL),
		                 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	assert_int_equal(fx_diagnosis_new(&d, s), 0);
	out[0] = '\0';
	for (size_t i = 0; i < fx_diagnosis_finding_count(d); i++) {
		fx_finding f;
		assert_int_equal(fx_diagnosis_finding(d, i, &f), 0);
		n += (size_t)snprintf(out + n, cap - n, "F %s [%s] %.6f; ", f.id,
		                      f.title ? f.title : "-", f.certainty);
		assert_true(n < cap);
	}
	for (size_t i = 0; i < fx_diagnosis_remedy_count(d); i++) {
		fx_ranked_remedy r;
		assert_int_equal(fx_diagnosis_remedy(d, i, &r), 0);
		n += (size_t)snprintf(out + n, cap - n, "R %s %.6f; ", r.id, r.score);
		assert_true(n < cap);
	}
	fx_diagnosis_free(d);
	fx_session_free(s);
}

static void test_same_diagnoses(void **state)
{
	(void)state;
	fx_kb *kb = load_dir(), *back = NULL;
	size_t len = 0;
	char *img = save_and_load(kb, &len, &back);
	size_t diagnosed = 0, n = fx_kb_case_count(kb);
	assert_true(n >= 50);
	static char x[8192], y[8192];
	for (size_t i = 0; i < n; i++) {
		fx_case_info c;
		assert_int_equal(fx_kb_case_get(kb, i, &c), 0);
		diagnose(kb, &c, x, sizeof x);
		diagnose(back, &c, y, sizeof y);
		if (strcmp(x, y) != 0)
			fail_msg("case %s: from YAML '%s', from the image '%s'", c.id, x, y);
		diagnosed += x[0] != '\0';
	}
	/* The comparison is worth something only if most cases find something, and the kb
	 * describes its findings. */
	assert_true(diagnosed * 10 >= n * 9);
	assert_true(fx_kb_finding_count(back) >= 20);
	assert_int_equal(fx_kb_finding_count(back), fx_kb_finding_count(kb));
	fx_kb_free(back);
	fx_kb_free(kb);
	free(img);
}

static void expect_refused(const char *img, size_t len, const char *words)
{
	diag_log l;
	memset(&l, 0, sizeof l);
	fx_load_opts lo = {on_diag, &l, 0};
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_image(&kb, img, len, &lo), FX_ELOAD);
	assert_null(kb);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.code, "image");
	if (!strstr(l.message, words))
		fail_msg("'%s' does not say '%s'", l.message, words);
}

static void test_damage_refused(void **state)
{
	(void)state;
	fx_kb *kb = load_dir();
	char *img = NULL;
	size_t len = 0;
	assert_int_equal(fx_kb_save_image(kb, &img, &len), 0);
	fx_kb_free(kb);

	expect_refused("key: value\n", 11, "not a fixit image");
	expect_refused(img, 0, "not a fixit image");
	for (size_t cut = 8; cut < len; cut += len / 97 + 1)
		expect_refused(img, cut, "");
	expect_refused(img, len - 1, "damaged");

	char *bad = malloc(len + 1);
	assert_non_null(bad);
	memcpy(bad, img, len);
	bad[len] = 0;
	expect_refused(bad, len + 1, "damaged");
	bad[len / 2] ^= 0x20;
	expect_refused(bad, len, "checksum");
	memcpy(bad, img, len);
	bad[7]++;
	expect_refused(bad, len, "format version");
	memcpy(bad, img, len);
	/* The version string follows the magic, the length and the checksum. */
	assert_memory_equal(bad + 20, FX_VERSION_STRING, strlen(FX_VERSION_STRING));
	bad[20] = '9';
	expect_refused(bad, len, "another fixit version");
	free(bad);
	free(img);
}

/* Damage the checksum cannot see (it is recomputed): every count and index is checked, so the
 * reader refuses or reads something, and never reads past the image (ASan) or crashes. */
static void test_damage_behind_the_checksum(void **state)
{
	(void)state;
	fx_kb *kb = load_dir();
	char *img = NULL;
	size_t len = 0;
	assert_int_equal(fx_kb_save_image(kb, &img, &len), 0);
	fx_kb_free(kb);
	size_t head = 20 + strlen(FX_VERSION_STRING) + 1;
	char *bad = malloc(len);
	assert_non_null(bad);
	unsigned refused = 0, tries = 0;
	uint32_t seed = 12345;
	for (size_t pos = head; pos < len; pos += 1 + (seed % 211), tries++) {
		seed = seed * 1103515245u + 12345u;
		memcpy(bad, img, len);
		bad[pos] = (char)(seed >> 16);
		uint32_t h = fx_image_checksum(bad + head, len - head);
		for (int i = 0; i < 4; i++)
			bad[12 + i] = (char)(h >> (8 * i));
		fx_load_opts lo = {NULL, NULL, 0};
		fx_kb *k = NULL;
		int rc = fx_kb_load_image(&k, bad, len, &lo);
		assert_true(rc == 0 || rc == FX_ELOAD);
		refused += rc != 0;
		fx_kb_free(k);
	}
	assert_true(tries > 1000);
	assert_true(refused > 0);
	free(bad);
	free(img);
}

static void test_regexes_deferred(void **state)
{
	(void)state;
	fx_kb *kb = load_dir(), *back = NULL;
	size_t len = 0;
	char *img = save_and_load(kb, &len, &back);
	size_t compiled = 0, n = back->regexes.len;
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++)
		compiled += fx_regex_compiled(back->regexes.items[i]) == 1;
	assert_int_equal(compiled, 0);
	/* A pattern's group names are known without compiling it. */
	const fx_pattern_def *p = NULL;
	for (uint32_t i = 0; i < back->prog.npatterns && !p; i++)
		if (back->prog.patterns[i].ngroups > 1 && back->prog.patterns[i].groups[1])
			p = &back->prog.patterns[i];
	assert_non_null(p);
	const char *names[8] = {0};
	int ng = fx_regex_group_names(p->re, names, 8);
	assert_int_equal(ng, (int)p->ngroups - 1);
	assert_string_equal(names[1], p->groups[1]);
	assert_int_equal(fx_regex_compiled(p->re), 0);
	/* Diagnosing a message compiles some of them, and they match as before. */
	fx_session *s = NULL;
	const char *msg = "iCloud Backup failed. There is not enough iCloud storage available";
	assert_int_equal(fx_session_new(&s, back), 0);
	size_t nf = 0;
	assert_int_equal(fx_text_assert(s, msg, strlen(msg), NULL, &nf), 0);
	assert_true(nf > 0);
	fx_session_free(s);
	compiled = 0;
	for (size_t i = 0; i < n; i++)
		compiled += fx_regex_compiled(back->regexes.items[i]) == 1;
	assert_true(compiled > 0);
	fx_kb_free(back);
	fx_kb_free(kb);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_same_bytes),
		cmocka_unit_test(test_same_diagnoses),
		cmocka_unit_test(test_round_trip_benchmarks),
		cmocka_unit_test(test_damage_refused),
		cmocka_unit_test(test_damage_behind_the_checksum),
		cmocka_unit_test(test_regexes_deferred),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
