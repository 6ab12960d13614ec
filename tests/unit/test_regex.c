/* test_regex.c: unit tests for regex.c: matching, flags, byte semantics on invalid UTF-8,
 * compile errors with their offset, the match limits, use from several threads, and the lazy
 * JIT compilation (same answers before and after). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fixit.h"
#include "regex.h"

static fx_regex *compile(const char *pat, unsigned flags)
{
	fx_buf err;
	fx_buf_init(&err);
	size_t off;
	fx_regex *re = fx_regex_new(pat, strlen(pat), flags, &err, &off);
	if (!re)
		print_error("compiling '%s': %s at %zu\n", pat, fx_buf_cstr(&err), off);
	fx_buf_dispose(&err);
	assert_non_null(re);
	return re;
}

static int match(const fx_regex *re, const char *s)
{
	return fx_regex_match(re, s, strlen(s));
}

static void test_match_basic(void **state)
{
	(void)state;
	fx_regex *re = compile("not enough (space|storage)", 0);
	assert_int_equal(match(re, "error: not enough space left"), 1);
	assert_int_equal(match(re, "not enough storage"), 1);
	assert_int_equal(match(re, "not enough memory"), 0);
	assert_int_equal(match(re, "NOT ENOUGH SPACE"), 0);
	assert_string_equal(fx_regex_source(re), "not enough (space|storage)");
	fx_regex_free(re);

	/* The subject's length is honoured, not its NUL. */
	re = compile("b$", 0);
	assert_int_equal(fx_regex_match(re, "abc", 2), 1);
	assert_int_equal(fx_regex_match(re, "abc", 3), 0);
	assert_int_equal(fx_regex_match(re, "a\0b", 3), 1);
	fx_regex_free(re);

	re = compile("^$", 0);
	assert_int_equal(fx_regex_match(re, NULL, 0), 1);
	fx_regex_free(re);
	fx_regex_free(NULL);
}

static void test_flags(void **state)
{
	(void)state;
	fx_regex *re = compile("hello", FX_RE_CASELESS);
	assert_int_equal(match(re, "say HeLLo"), 1);
	fx_regex_free(re);

	re = compile("^two$", 0);
	assert_int_equal(match(re, "one\ntwo\nthree"), 0);
	fx_regex_free(re);
	re = compile("^two$", FX_RE_MULTILINE);
	assert_int_equal(match(re, "one\ntwo\nthree"), 1);
	fx_regex_free(re);

	re = compile("a.b", 0);
	assert_int_equal(match(re, "a\nb"), 0);
	fx_regex_free(re);
	re = compile("a.b", FX_RE_DOTALL);
	assert_int_equal(match(re, "a\nb"), 1);
	fx_regex_free(re);

	re = compile("a b  c # comment", FX_RE_EXTENDED);
	assert_int_equal(match(re, "abc"), 1);
	assert_int_equal(match(re, "a b c"), 0);
	fx_regex_free(re);
}

static void test_bytes_not_utf(void **state)
{
	(void)state;
	/* Invalid UTF-8 in the subject is fine: matching is by byte. */
	fx_regex *re = compile("caf\xc3\xa9", 0);
	assert_int_equal(match(re, "\xff\xfe caf\xc3\xa9 \xc3"), 1);
	fx_regex_free(re);
	re = compile("^.{2}$", 0);
	assert_int_equal(match(re, "\xc3\xa9"), 1); /* two bytes, one character */
	fx_regex_free(re);

	fx_buf err;
	fx_buf_init(&err);
	size_t off = 99;
	assert_null(fx_regex_new("(*UTF)x", 7, 0, &err, &off));
	assert_true(err.len > 0);
	fx_buf_dispose(&err);
}

static void test_bad_pattern_reports_offset(void **state)
{
	(void)state;
	fx_buf err;
	fx_buf_init(&err);
	size_t off = 99;
	assert_null(fx_regex_new("ab(cd", 5, 0, &err, &off));
	assert_int_equal(off, 5);
	assert_non_null(strstr(fx_buf_cstr(&err), "missing closing parenthesis"));
	fx_buf_clear(&err);
	assert_null(fx_regex_new("a[z-a]", 6, 0, &err, &off));
	assert_int_equal(off, 4);
	assert_non_null(strstr(fx_buf_cstr(&err), "range out of order"));
	fx_buf_clear(&err);
	assert_null(fx_regex_new("x**", 3, 0, &err, &off));
	assert_int_equal(off, 2);
	fx_buf_dispose(&err);
	/* err and erroffset may be NULL. */
	assert_null(fx_regex_new("(", 1, 0, NULL, NULL));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_catastrophic_pattern_hits_limit(void **state)
{
	(void)state;
	char subject[64];
	memset(subject, 'a', 40);
	subject[40] = 'b';
	subject[41] = '\0';
	const char *pats[] = { "(a+)+$", "(a|aa)+$", "(a|a)+$", "(?:a+)+(?:x|y)" };
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		fx_regex *re = compile(pats[i], 0);
		double t0 = now();
		assert_int_equal(match(re, subject), FX_ELIMIT);
		assert_true(now() - t0 < 2.0);
		/* The thread's match data is usable again after a limit hit. */
		assert_int_equal(match(re, "aaa"), i < 3 ? 1 : 0);
		fx_regex_free(re);
	}
}

static fx_regex *shared_re;

static void *worker(void *arg)
{
	(void)arg;
	intptr_t bad = 0;
	for (int i = 0; i < 2000; i++) {
		bad += fx_regex_match(shared_re, "id-12345", 8) != 1;
		bad += fx_regex_match(shared_re, "id-x", 4) != 0;
	}
	return (void *)bad;
}

static void *worker_deferred(void *arg)
{
	(void)arg;
	uintptr_t bad = 0;
	for (int i = 0; i < 200; i++) {
		bad += fx_regex_match(shared_re, "backup ERROR -36", 16) != 1;
		bad += fx_regex_match(shared_re, "backup failed", 13) != 0;
	}
	return (void *)bad;
}

static void test_threads_share_a_regex(void **state)
{
	(void)state;
	shared_re = compile("^id-[0-9]+$", 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_null(bad);
	}
	/* The threads passed the JIT threshold while matching: one of them compiled it. */
	fx_regex *probe = compile("x", 0);
	assert_int_equal(fx_regex_is_jit(shared_re), fx_regex_jit_now(probe));
	fx_regex_free(probe);
	fx_regex_free(shared_re);
}

/* A deferred regex compiles on first use, from any number of threads at once (one code wins,
 * the others' are freed: LeakSanitizer), answers group names without compiling when it was
 * given them, and fails its matches when its text does not compile. */
static void test_deferred(void **state)
{
	(void)state;
	static const char *const names[] = {NULL, "code"};
	fx_regex *re = fx_regex_new_deferred("error (?<code>-?[0-9]+)", 23, FX_RE_CASELESS, names, 1);
	assert_non_null(re);
	assert_int_equal(fx_regex_compiled(re), 0);
	const char *got[3] = {"x", "x", "x"};
	assert_int_equal(fx_regex_group_names(re, got, 3), 1);
	assert_null(got[0]);
	assert_string_equal(got[1], "code");
	assert_null(got[2]);
	assert_int_equal(fx_regex_compiled(re), 0);
	shared_re = re;
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_deferred, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_null(bad);
	}
	assert_int_equal(fx_regex_compiled(re), 1);
	fx_regex_free(re);

	/* Without names it compiles to answer; a text that does not compile fails to match. */
	re = fx_regex_new_deferred("a(?<x>b)", 8, 0, NULL, 0);
	assert_int_equal(fx_regex_group_names(re, got, 2), 1);
	assert_string_equal(got[1], "x");
	assert_int_equal(fx_regex_compiled(re), 1);
	fx_regex_free(re);
	re = fx_regex_new_deferred("a(b", 3, 0, NULL, 0);
	assert_int_equal(fx_regex_match(re, "ab", 2), FX_EINVAL);
	assert_int_equal(fx_regex_compiled(re), 0);
	fx_regex_free(re);
}

/* A regex starts interpreted and is JIT-compiled once its searches pass FX_REGEX_JIT_BYTES
 * (where the platform has a JIT); one pasted message never gets there. */
static void test_lazy_jit(void **state)
{
	(void)state;
	fx_regex *probe = compile("x", 0);
	assert_int_equal(fx_regex_is_jit(probe), 0);
	int has_jit = fx_regex_jit_now(probe);
	assert_true(has_jit == 0 || has_jit == 1);
	assert_int_equal(fx_regex_is_jit(probe), has_jit);
	assert_int_equal(fx_regex_jit_now(probe), has_jit);
	fx_regex_free(probe);
	assert_int_equal(fx_regex_jit_now(NULL), FX_EINVAL);

	fx_regex *re = compile("error (?:code )?(-?[0-9]+)", FX_RE_CASELESS);
	assert_int_equal(match(re, "iCloud Backup failed: Error code -39"), 1);
	assert_int_equal(fx_regex_is_jit(re), 0);
	size_t calls = 0;
	while (!fx_regex_is_jit(re) && calls < FX_REGEX_JIT_BYTES) {
		assert_int_equal(match(re, "no problem here, all fine"), 0);
		assert_int_equal(match(re, "ERROR 7"), 1);
		calls++;
	}
	assert_int_equal(fx_regex_is_jit(re), has_jit);
	if (has_jit)
		assert_true(calls > 16 && calls < FX_REGEX_JIT_BYTES / 64);
	assert_int_equal(match(re, "iCloud Backup failed: Error code -39"), 1);
	assert_int_equal(match(re, "no problem"), 0);
	fx_regex_free(re);
}

/* fx_regex_exec gives the same spans interpreted and JIT-compiled, start limits included, and
 * a pathological pattern still stops with FX_ELIMIT once JIT-compiled. */
static void test_jit_same_spans(void **state)
{
	(void)state;
	const char *pat = "(?<code>-?[0-9]+)|(?:fail(ed)?)";
	fx_regex *interp = compile(pat, FX_RE_CASELESS | FX_RE_START_LIMIT);
	fx_regex *jit = compile(pat, FX_RE_CASELESS | FX_RE_START_LIMIT);
	int has_jit = fx_regex_jit_now(jit);
	fx_regex_data *d = fx_regex_data_new(2);
	assert_non_null(d);
	const char *subject = "Backup FAILED with -39, then failed again (code 7)";
	size_t len = strlen(subject);
	size_t limits[] = {FX_REGEX_UNSET, 0, 10, 16, 30, len};
	size_t interpreted = 0;
	for (size_t start = 0; start <= len; start++) {
		for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
			size_t a[6], b[6];
			interpreted += !fx_regex_is_jit(interp);
			int ra = fx_regex_exec(interp, d, subject, len, start, limits[k], 0, a, 3);
			int rb = fx_regex_exec(jit, d, subject, len, start, limits[k], 0, b, 3);
			assert_int_equal(ra, rb);
			if (ra == 1)
				assert_memory_equal(a, b, sizeof a);
		}
	}
	/* The first searches were interpreted (later ones pass the threshold). */
	assert_true(interpreted >= 20);
	assert_int_equal(fx_regex_is_jit(jit), has_jit);
	fx_regex_data_free(d);
	fx_regex_free(interp);
	fx_regex_free(jit);

	char subject2[64];
	memset(subject2, 'a', 40);
	subject2[40] = 'b';
	subject2[41] = '\0';
	fx_regex *bad = compile("(a|aa)+$", 0);
	fx_regex_jit_now(bad);
	assert_int_equal(match(bad, subject2), FX_ELIMIT);
	assert_int_equal(match(bad, "aaa"), 1);
	fx_regex_free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_basic),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bytes_not_utf),
		cmocka_unit_test(test_bad_pattern_reports_offset),
		cmocka_unit_test(test_catastrophic_pattern_hits_limit),
		cmocka_unit_test(test_threads_share_a_regex),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_lazy_jit),
		cmocka_unit_test(test_jit_same_spans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
