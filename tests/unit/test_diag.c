/* test_diag.c: unit tests for diag.c: quoting the source line (LF and CRLF files), positions,
 * the error limit, and the error record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "diag.h"

/* What the callback saw, copied since the pointers die with the call. */
typedef struct seen {
	int n;
	fx_severity sev[8];
	char msg[8][128];
	char line[8][128];
	int has_line[8];
	unsigned lineno[8], col[8], span[8];
	char code[8][32];
	char rule[8][32];
} seen;

static void collect(const fx_diag *d, void *ud)
{
	seen *s = ud;
	int i = s->n++;
	if (i >= 8)
		return;
	s->sev[i] = d->severity;
	strncpy(s->msg[i], d->message, sizeof s->msg[i] - 1);
	s->has_line[i] = d->source_line != NULL;
	if (d->source_line)
		strncpy(s->line[i], d->source_line, sizeof s->line[i] - 1);
	s->lineno[i] = d->line;
	s->col[i] = d->col;
	s->span[i] = d->span;
	strncpy(s->code[i], d->code, sizeof s->code[i] - 1);
	if (d->rule)
		strncpy(s->rule[i], d->rule, sizeof s->rule[i] - 1);
}

static fx_pos at(const char *file, uint32_t line, uint32_t col)
{
	fx_pos p = { file, line, col };
	return p;
}

static void test_quotes_line_lf(void **state)
{
	(void)state;
	static const char text[] = "first\nsecond line\nthird";
	seen s;
	memset(&s, 0, sizeof s);
	fx_reporter r;
	fx_reporter_init(&r, collect, &s, 0);
	assert_int_equal(fx_reporter_add_source(&r, "a.yaml", text, sizeof text - 1), 0);
	fx_report(&r, FX_SEV_ERROR, "unknown-slot", at("a.yaml", 2, 8), 4, "r1", "no slot '%s'", "line");
	fx_report(&r, FX_SEV_WARNING, "w", at("a.yaml", 3, 1), 0, NULL, "last line");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.msg[0], "no slot 'line'");
	assert_string_equal(s.line[0], "second line");
	assert_int_equal(s.lineno[0], 2);
	assert_int_equal(s.col[0], 8);
	assert_int_equal(s.span[0], 4);
	assert_string_equal(s.code[0], "unknown-slot");
	assert_string_equal(s.rule[0], "r1");
	assert_string_equal(s.line[1], "third");
	assert_int_equal(s.span[1], 1); /* 0 becomes 1 */
	assert_int_equal(s.sev[1], FX_SEV_WARNING);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.warnings, 1);
	fx_reporter_dispose(&r);
}

static void test_quotes_line_crlf_by_name(void **state)
{
	(void)state;
	static const char text[] = "one\r\ntwo\r\n\r\nfour\r\n";
	char name[] = "b.yaml"; /* a different pointer with the same text */
	seen s;
	memset(&s, 0, sizeof s);
	fx_reporter r;
	fx_reporter_init(&r, collect, &s, 0);
	assert_int_equal(fx_reporter_add_source(&r, "b.yaml", text, sizeof text - 1), 0);
	fx_report(&r, FX_SEV_ERROR, "x", at(name, 2, 1), 1, NULL, "m");
	fx_report(&r, FX_SEV_ERROR, "x", at(name, 3, 1), 1, NULL, "m");
	fx_report(&r, FX_SEV_ERROR, "x", at(name, 4, 1), 1, NULL, "m");
	fx_report(&r, FX_SEV_ERROR, "x", at(name, 5, 1), 1, NULL, "past the end");
	fx_report(&r, FX_SEV_ERROR, "x", at("other.yaml", 1, 1), 1, NULL, "unknown file");
	fx_report(&r, FX_SEV_ERROR, "x", at(NULL, 0, 0), 1, NULL, "no position");
	assert_int_equal(s.n, 6);
	assert_string_equal(s.line[0], "two");
	assert_true(s.has_line[1]);
	assert_string_equal(s.line[1], "");
	assert_string_equal(s.line[2], "four");
	assert_false(s.has_line[3]);
	assert_false(s.has_line[4]);
	assert_false(s.has_line[5]);
	fx_reporter_dispose(&r);
}

static void test_max_errors_stops_delivery_keeps_counting(void **state)
{
	(void)state;
	seen s;
	memset(&s, 0, sizeof s);
	fx_reporter r;
	fx_reporter_init(&r, collect, &s, 2);
	for (int i = 0; i < 5; i++)
		fx_report(&r, FX_SEV_ERROR, "e", at(NULL, 0, 0), 1, NULL, "error %d", i);
	fx_report(&r, FX_SEV_WARNING, "w", at(NULL, 0, 0), 1, NULL, "late warning");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.msg[1], "error 1");
	assert_int_equal(r.errors, 5);
	assert_int_equal(r.warnings, 1);
	fx_reporter_dispose(&r);

	fx_reporter_init(&r, NULL, NULL, 0);
	assert_int_equal(r.max_errors, 100); /* 0 means the default */
	fx_report(&r, FX_SEV_ERROR, "e", at(NULL, 0, 0), 1, NULL, "no callback");
	assert_int_equal(r.errors, 1);
	fx_reporter_dispose(&r);
}

static void test_error_record(void **state)
{
	(void)state;
	fx_error e;
	fx_error_init(&e);
	assert_string_equal(e.d.message, "");
	assert_null(e.d.file);
	char file[] = "r.yaml";
	fx_error_set(&e, "runtime", at(file, 3, 9), "rule-a", "division by %s", "zero");
	file[0] = 'X'; /* the record owns its copy */
	assert_string_equal(e.d.message, "division by zero");
	assert_string_equal(e.d.file, "r.yaml");
	assert_string_equal(e.d.rule, "rule-a");
	assert_string_equal(e.d.code, "runtime");
	assert_int_equal(e.d.line, 3);
	assert_int_equal(e.d.col, 9);
	/* A new message may wrap the previous one. */
	fx_error_set(&e, "runtime", at(NULL, 0, 0), e.d.rule, "in %s: %s", e.d.rule, e.d.message);
	assert_string_equal(e.d.message, "in rule-a: division by zero");
	assert_string_equal(e.d.rule, "rule-a");
	assert_null(e.d.file);
	fx_error_clear(&e);
	assert_string_equal(e.d.message, "");
	assert_null(e.d.rule);
	fx_error_dispose(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_line_lf),
		cmocka_unit_test(test_quotes_line_crlf_by_name),
		cmocka_unit_test(test_max_errors_stops_delivery_keeps_counting),
		cmocka_unit_test(test_error_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
