/* test_match.c: unit tests for match.c: matches and named captures in order, results identical
 * with the Vectorscan prefilter forced on, forced off and against a plain PCRE2 loop, bytes that
 * are not UTF-8, PCRE2 limits, compile errors, empty sets and texts, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "match.h"
#include "regex.h"

/* --- Helpers --------------------------------------------------------------------------------- */

/* A string literal's bytes and length, NULs included. */
#define LIT(s) s, sizeof(s) - 1

static fx_matcher *make(const fx_match_pattern *pats, size_t n, fx_match_prefilter mode)
{
	fx_match_options o = {mode, 0};
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 0, off = 0;
	fx_matcher *m = NULL;
	int rc = fx_match_new(&m, pats, n, &o, &err, &bad, &off);
	if (rc != 0)
		print_error("fx_match_new: %d: pattern %zu: %s at %zu\n", rc, bad, fx_buf_cstr(&err),
		            off);
	fx_buf_dispose(&err);
	assert_int_equal(rc, 0);
	return m;
}

/* Collects matches as text, one line each: "pattern start-end group... \n". */
struct collect {
	fx_buf out;
	size_t n;
	size_t warns;
	size_t warn_pattern, warn_offset;
	size_t stop_after; /* 0: never stop */
};

static void put_spans(fx_buf *b, size_t pattern, const fx_match_span *sp, size_t n)
{
	fx_buf_printf(b, "%zu", pattern);
	for (size_t i = 0; i < n; i++) {
		if (sp[i].start == FX_MATCH_UNSET)
			fx_buf_puts(b, " -");
		else
			fx_buf_printf(b, " %zu-%zu", sp[i].start, sp[i].end);
	}
	fx_buf_putc(b, '\n');
}

static int on_match(void *ud, size_t pattern, const fx_match_span *sp, size_t n)
{
	struct collect *c = ud;
	put_spans(&c->out, pattern, sp, n);
	c->n++;
	return c->stop_after && c->n == c->stop_after ? -100 : 0;
}

static void on_warn(void *ud, size_t pattern, size_t offset, int code)
{
	struct collect *c = ud;
	assert_int_equal(code, FX_ELIMIT);
	c->warns++;
	c->warn_pattern = pattern;
	c->warn_offset = offset;
}

/* Scans text with a fresh scratch; the caller disposes c->out. */
static int scan(const fx_matcher *m, const char *text, size_t len, size_t max,
                struct collect *c)
{
	memset(c, 0, sizeof *c);
	fx_buf_init(&c->out);
	fx_match_scratch *sc = NULL;
	assert_int_equal(fx_match_scratch_new(&sc, m), 0);
	int rc = fx_match_scan(m, sc, text, len, max, on_match, on_warn, c);
	fx_match_scratch_free(sc);
	return rc;
}

/* --- Basics ------------------------------------------------------------------------------------ */

static void test_single_pattern_captures(void **state)
{
	(void)state;
	static const char re[] = "disk (?<dev>sd[a-z]+)(?: at (\\d+))? failed(?<why>: \\w+)?";
	fx_match_pattern p = {re, sizeof re - 1, 0, NULL};
	for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(&p, 1, (fx_match_prefilter)mode);
		assert_int_equal(fx_match_count(m), 1);
		assert_int_equal(fx_match_capture_count(m, 0), 3);
		assert_string_equal(fx_match_capture_name(m, 0, 1), "dev");
		assert_null(fx_match_capture_name(m, 0, 2));
		assert_string_equal(fx_match_capture_name(m, 0, 3), "why");
		assert_null(fx_match_capture_name(m, 0, 0));
		assert_null(fx_match_capture_name(m, 0, 4));
		assert_null(fx_match_capture_name(m, 1, 1));
		assert_int_equal(fx_match_capture_index(m, 0, "why"), 3);
		assert_int_equal(fx_match_capture_index(m, 0, "nope"), FX_ENOTFOUND);
		assert_int_equal(fx_match_capture_count(m, 7), 0);

		const char *t = "x disk sda failed: EIO\nok\ndisk sdb at 42 failed\n";
		struct collect c;
		assert_int_equal(scan(m, t, strlen(t), 0, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "0 2-22 7-10 - 17-22\n"
		                                         "0 26-47 31-34 38-40 -\n");
		fx_buf_dispose(&c.out);
		fx_match_free(m);
	}
}

static void test_many_patterns_in_order(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {
		{"b+", 2, 0, NULL},          /* 0 */
		{"ab", 2, 0, NULL},          /* 1: starts with 0's ties later, same start as 3 */
		{"[a-c]", 5, 0, NULL},       /* 2 */
		{"ABC", 3, FX_RE_CASELESS, NULL},
	};
	for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(p, 4, (fx_match_prefilter)mode);
		struct collect c;
		assert_int_equal(scan(m, "abbc abc", 8, 0, &c), 0);
		/* Start order; at equal starts, pattern order; each pattern's matches disjoint. */
		assert_string_equal(fx_buf_cstr(&c.out), "1 0-2\n"
		                                         "2 0-1\n"
		                                         "0 1-3\n"
		                                         "2 1-2\n"
		                                         "2 2-3\n"
		                                         "2 3-4\n"
		                                         "1 5-7\n"
		                                         "2 5-6\n"
		                                         "3 5-8\n"
		                                         "0 6-7\n"
		                                         "2 6-7\n"
		                                         "2 7-8\n");
		fx_buf_dispose(&c.out);

		/* At most one match a pattern. */
		assert_int_equal(scan(m, "abbc abc", 8, 1, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "1 0-2\n2 0-1\n0 1-3\n3 5-8\n");
		fx_buf_dispose(&c.out);

		/* The callback stops the scan and its value comes back. */
		assert_int_equal(scan(m, "abbc abc", 8, 0, &c), 0);
		fx_buf_dispose(&c.out);
		memset(&c, 0, sizeof c);
		fx_buf_init(&c.out);
		c.stop_after = 3;
		fx_match_scratch *sc;
		assert_int_equal(fx_match_scratch_new(&sc, m), 0);
		assert_int_equal(fx_match_scan(m, sc, "abbc abc", 8, 0, on_match, NULL, &c), -100);
		assert_int_equal(c.n, 3);
		fx_match_scratch_free(sc);
		fx_buf_dispose(&c.out);
		fx_match_free(m);
	}
}

static void test_empty_matches_advance(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {{"x*", 2, 0, NULL}, {"$", 1, FX_RE_MULTILINE, NULL}};
	for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(p, 2, (fx_match_prefilter)mode);
		struct collect c;
		assert_int_equal(scan(m, "axxb\nc", 6, 0, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "0 0-0\n0 1-3\n0 3-3\n0 4-4\n1 4-4\n"
		                                         "0 5-5\n0 6-6\n1 6-6\n");
		fx_buf_dispose(&c.out);
		fx_match_free(m);
	}
}

static void test_bytes_not_utf8_and_nul(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {
		{LIT("a\0b"), 0, NULL},                 /* a NUL in the regex itself */
		{LIT("\\x00+"), 0, NULL},
		{LIT("caf\xc3\xa9 (\\S+)"), 0, NULL},  /* UTF-8 literal, then any non-space bytes */
		{LIT("\xff\xfe."), 0, NULL},            /* bytes that are no UTF-8 at all */
		{LIT("\\r$"), FX_RE_MULTILINE, NULL},
	};
	const char t[] = "xa\0b\0\0 caf\xc3\xa9 \xc3(\xff\xfe\r\nend";
	for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(p, 5, (fx_match_prefilter)mode);
		struct collect c;
		assert_int_equal(scan(m, t, sizeof t - 1, 0, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "0 1-4\n"
		                                         "1 2-3\n"
		                                         "1 4-6\n"
		                                         "2 7-17 13-17\n"
		                                         "3 15-18\n"
		                                         "4 17-18\n");
		fx_buf_dispose(&c.out);
		if (mode == FX_MATCH_PREFILTER_ALWAYS) {
			fx_match_stats st;
			fx_match_get_stats(m, &st);
			assert_int_equal(st.built, 1);
			/* Atoms: "a\0b" (a NUL is a byte like any other) and "caf\xc3\xa9 "; the
			 * others have no literal of 3 bytes. */
			assert_int_equal(st.prefiltered, 2);
			fx_match_atom_info at;
			assert_int_equal(fx_match_atom(m, 0, 0, &at), 0);
			assert_int_equal(at.len, 3);
			assert_memory_equal(at.text, "a\0b", 3);
			assert_int_equal(fx_match_atom(m, 3, 0, &at), FX_ENOTFOUND);
		}
		fx_match_free(m);
	}
}

static void test_limit_reported_scan_goes_on(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {
		{"(a+)+c$|ok", 10, FX_RE_MULTILINE, NULL}, /* explodes on a line of a's */
		{"b", 1, 0, NULL},
	};
	char t[128];
	memset(t, 'a', 40);
	strcpy(t + 40, "b ok\nok b\n");
	for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(p, 2, (fx_match_prefilter)mode);
		struct collect c;
		assert_int_equal(scan(m, t, strlen(t), 0, &c), 0);
		/* Pattern 0 gave up on the first line only: its match on the next line is found,
		 * with or without the prefilter (which here points PCRE2 at that first line too). */
		assert_string_equal(fx_buf_cstr(&c.out), "1 40-41\n0 45-47 -\n1 48-49\n");
		assert_int_equal(c.warns, 1);
		assert_int_equal(c.warn_pattern, 0);
		assert_int_equal(c.warn_offset, 0);
		fx_buf_dispose(&c.out);
		fx_match_free(m);
	}
}

static void test_compile_error_offset(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {{"fine", 4, 0, NULL}, {"ab(cd", 5, 0, NULL}};
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 99, off = 99;
	fx_matcher *m = (fx_matcher *)&bad;
	assert_int_equal(fx_match_new(&m, p, 2, NULL, &err, &bad, &off), FX_EINVAL);
	assert_null(m);
	assert_int_equal(bad, 1);
	assert_int_equal(off, 5);
	assert_non_null(strstr(fx_buf_cstr(&err), "missing closing parenthesis"));
	fx_buf_dispose(&err);
	/* err, bad_pattern and bad_offset may be NULL. */
	assert_int_equal(fx_match_new(&m, p + 1, 1, NULL, NULL, NULL, NULL), FX_EINVAL);
	assert_int_equal(fx_match_new(NULL, p, 1, NULL, NULL, NULL, NULL), FX_EINVAL);
	assert_int_equal(fx_match_new(&m, NULL, 1, NULL, NULL, NULL, NULL), FX_EINVAL);
}

static void test_empty_set_and_empty_text(void **state)
{
	(void)state;
	for (int mode = FX_MATCH_PREFILTER_AUTO; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
		fx_matcher *m = make(NULL, 0, (fx_match_prefilter)mode);
		struct collect c;
		assert_int_equal(scan(m, "some text", 9, 0, &c), 0);
		assert_int_equal(c.n, 0);
		fx_buf_dispose(&c.out);
		assert_int_equal(scan(m, NULL, 0, 0, &c), 0);
		fx_buf_dispose(&c.out);
		fx_match_free(m);

		const fx_match_pattern p[] = {{"a", 1, 0, NULL}, {"^", 1, 0, NULL}, {"x?$", 3, 0, NULL}};
		m = make(p, 3, (fx_match_prefilter)mode);
		assert_int_equal(scan(m, NULL, 0, 0, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "1 0-0\n2 0-0\n");
		fx_buf_dispose(&c.out);
		assert_int_equal(scan(m, "", 0, 0, &c), 0);
		assert_string_equal(fx_buf_cstr(&c.out), "1 0-0\n2 0-0\n");
		fx_buf_dispose(&c.out);

		/* A scratch of another matcher, a missing callback, text NULL with a length. */
		fx_matcher *other = make(p, 1, FX_MATCH_PREFILTER_NEVER);
		fx_match_scratch *sc;
		assert_int_equal(fx_match_scratch_new(&sc, other), 0);
		assert_int_equal(fx_match_scan(m, sc, "a", 1, 0, on_match, NULL, &c), FX_EINVAL);
		fx_match_scratch_free(sc);
		assert_int_equal(fx_match_scratch_new(&sc, m), 0);
		assert_int_equal(fx_match_scan(m, sc, "a", 1, 0, NULL, NULL, NULL), FX_EINVAL);
		assert_int_equal(fx_match_scan(m, sc, NULL, 1, 0, on_match, NULL, &c), FX_EINVAL);
		fx_match_scratch_free(sc);
		fx_match_free(other);
		fx_match_free(m);
	}
	fx_match_free(NULL);
	fx_match_scratch_free(NULL);
}

/* --- Atoms ---------------------------------------------------------------------------------- */

/* The atoms the reader takes from regexes: "text@dmin-dmax" (dmax '*' when unbounded), '/'
 * between alternatives of one cover, a space between covers of one branch, '|' between
 * branches; "" when it takes none. */
static void check_atoms(const char *re, unsigned flags, const char *want)
{
	fx_match_pattern p = {re, strlen(re), flags, NULL};
	fx_matcher *m = make(&p, 1, FX_MATCH_PREFILTER_NEVER);
	fx_buf got;
	fx_buf_init(&got);
	fx_match_atom_info at;
	size_t branch = 0, cover = 0;
	for (size_t k = 0; fx_match_atom(m, 0, k, &at) == 0; k++) {
		if (k)
			fx_buf_putc(&got, at.branch != branch ? '|' : at.cover != cover ? ' ' : '/');
		branch = at.branch;
		cover = at.cover;
		fx_buf_append(&got, at.text, at.len);
		if (at.dmax == SIZE_MAX)
			fx_buf_printf(&got, "@%zu-*", at.dmin);
		else
			fx_buf_printf(&got, "@%zu-%zu", at.dmin, at.dmax);
	}
	if (strcmp(fx_buf_cstr(&got), want) != 0)
		print_error("regex %s: atoms %s, expected %s\n", re, fx_buf_cstr(&got), want);
	assert_string_equal(fx_buf_cstr(&got), want);
	fx_buf_dispose(&got);
	fx_match_free(m);
}

static void test_atoms(void **state)
{
	(void)state;
	check_atoms("disk (?<dev>sd[a-z]+) failed", 0, " failed@8-*");
	/* Not line-local (\\s): the longest run at a bounded distance is offered too. */
	check_atoms("disk\\s+(?<dev>sd[a-z]+) failed", 0, " failed@8-* disk@0-0");
	check_atoms("kernel: \\[\\s*\\d+\\.\\d+\\] usb", 0, "kernel: [@0-0");
	check_atoms("^(?:ab|cd)efgh{2}", 0, "efg@2-2");
	check_atoms("x{2,5}(abcd)(?:wxyz)+tail", 0, "abcd@2-5");
	check_atoms("(a|bc)\\Q.*?\\E", 0, ".*?@1-2");
	check_atoms("(?<=abc)def|ghij?", 0, "def@0-0|ghi@0-0");
	check_atoms("abc|d", 0, "");                  /* a branch without an atom */
	check_atoms("abcd(?=xyzw)", 0, "abcd@0-0");   /* nothing from lookarounds */
	check_atoms("ab\\x41\\x{42}\\tc", 0, "abAB\tc@0-0");
	check_atoms("(\\w)\\1abc", 0, "abc@1-*");
	check_atoms("a{,3}bcd", 0, "");               /* "{,3}": meaning depends on the version */
	check_atoms("ab{x}cde", 0, "ab{x}cde@0-0");   /* not a quantifier, so literal */
	check_atoms("(?x) abc def", 0, "");           /* extended: not read */
	check_atoms("abc def", FX_RE_EXTENDED, "");
	check_atoms("(*COMMIT)abcdef", 0, "");        /* where a search starts matters */
	check_atoms("\\Gabcdef", 0, "");
	check_atoms("abc\\Kdef", 0, "");
	check_atoms("(a)?(?(1)bcd|efg)", 0, "");
	check_atoms("(?i)Error: (?-i)disk", 0, "Error: @0-0");
	check_atoms("[abc]]def(?#comment)ghi", 0, "]def@1-1");
	/* Alternation groups: one atom an alternative, if each has one; one level deep. */
	check_atoms("disk (?:full|quota (exceeded)) on", 0,
	            "disk @0-0 full@5-5/exceeded@11-11");
	check_atoms("(?:ab|quota)xyz", 0, "xyz@2-5");
	check_atoms("(?:(?:abc|def)|ghi)", 0, "");
	check_atoms("x(?:(abc)|(?:def))?", 0, "");
	check_atoms("(?:abc|def(?:gh|ij))", 0, "abc@0-0/def@0-0");
}

/* --- Generated patterns: prefilter on = off = a plain PCRE2 loop ---------------------------- */

static uint64_t rng = 88172645463325252u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const words[] = {
	"error", "disk", "sda", "usb", "timeout", "failed", "eth0", "link", "down", "up",
	"kernel", "mount", "ext4", "I/O", "sector", "reset", "device", "memory", "oom", "killed",
	"process", "pid", "segfault", "at", "ip", "code", "warning", "nvme0", "Controller", "is",
};
#define NWORDS (sizeof words / sizeof words[0])

/* Self-contained regex pieces; %s is a word, %d a group number for a unique name. */
static const char *const frags[] = {
	" ", "\\s+", "\\d+", "\\d{1,4}", "[0-9a-f]+", "\\w+", "\\S+", ".*", ".*?", ".{0,12}",
	"[^ ]+", "[^\\n]*", "(?:%s|%s)", "(?<g%d>\\w+)", "(\\d+)?", "\\b", "$", "(?=%s)",
	"(?<=%s )", "(?!%s)", "\\x20", "\\.?", "[[:alpha:]]+", "[[:space:]]", "\\h+", "\\N{1,9}",
	"(?i:%s)", "(\\w)\\1", "\\d++", "(?>\\w+)", "\\Q.\\E?", "\\R?", "[\\x80-\\xff]", "\\xff",
	"(?s:.)", "[\\t-~]{2}", "\\W", "\\D\\d", "(?<g%d>%s)?", "[ ]*", "[[:punct:]]", "\\v",
	"(?:%s|%s)+", "(%s){2}", "%s{1,3}", "(?:%s)?", "\\Q%s\\E", "(?:%s %s)", "|%s", "(?i)%s",
	"(?-i)%s", "\\b%s\\b", "(?<=%s)%s", "(?>%s)", "\\x41%s", "{", "(%s)\\g{-1}?",
};
#define NFRAGS (sizeof frags / sizeof frags[0])

static void gen_pattern(fx_buf *b, unsigned *flags)
{
	fx_buf_clear(b);
	*flags = 0;
	unsigned r = rnd(100);
	if (r < 10)
		*flags |= FX_RE_CASELESS;
	else if (r < 20)
		*flags |= FX_RE_MULTILINE;
	else if (r < 24)
		*flags |= FX_RE_DOTALL;
	else if (r < 28)
		*flags |= FX_RE_EXTENDED;
	if (rnd(8) == 0)
		fx_buf_putc(b, '^');
	fx_buf_puts(b, words[rnd(NWORDS)]);
	unsigned nf = 1 + rnd(4);
	for (unsigned i = 0; i < nf; i++) {
		const char *f = frags[rnd(NFRAGS)];
		for (const char *q = f; *q; q++) {
			if (q[0] == '%' && q[1] == 's') {
				fx_buf_puts(b, words[rnd(NWORDS)]);
				q++;
			} else if (q[0] == '%' && q[1] == 'd') {
				fx_buf_printf(b, "%u", i);
				q++;
			} else {
				fx_buf_putc(b, *q);
			}
		}
		if (rnd(2))
			fx_buf_puts(b, words[rnd(NWORDS)]);
	}
	if (rnd(3) == 0)
		fx_buf_puts(b, rnd(2) ? " " : words[rnd(NWORDS)]);
}

static void gen_line(fx_buf *b)
{
	static const char *const odd[] = {"\r", "\t", "\xff\xfe", "caf\xc3\xa9", "\xc3", "  ",
	                                  "aa", "1234", "0x1f", ".", ":", "[42]", "\v", "\x85"};
	unsigned n = 2 + rnd(9);
	for (unsigned i = 0; i < n; i++) {
		unsigned r = rnd(10);
		if (r < 6)
			fx_buf_puts(b, words[rnd(NWORDS)]);
		else if (r < 8)
			fx_buf_printf(b, "%u", rnd(100000));
		else if (r < 9)
			fx_buf_puts(b, odd[rnd(sizeof odd / sizeof odd[0])]);
		else
			fx_buf_append(b, "\0", 1);
		if (i + 1 < n)
			fx_buf_putc(b, rnd(12) ? ' ' : ':');
	}
}

/* The reference: each pattern searched from start to end by PCRE2 alone, then sorted. */
struct ref_match {
	size_t pattern, seq;
	fx_buf text;
	size_t start;
};

static int cmp_ref(const void *x, const void *y)
{
	const struct ref_match *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static void reference(const fx_match_pattern *pats, size_t n, const char *t, size_t len,
                      fx_buf *out)
{
	size_t cap = 1024, nm = 0;
	struct ref_match *ms = malloc(cap * sizeof *ms);
	assert_non_null(ms);
	for (size_t p = 0; p < n; p++) {
		fx_regex *re = fx_regex_new(pats[p].regex, pats[p].len, pats[p].flags, NULL, NULL);
		assert_non_null(re);
		int ng = fx_regex_group_names(re, NULL, 0);
		fx_regex_data *d = fx_regex_data_new((size_t)ng);
		size_t sp[2 * 32];
		assert_true(ng < 32);
		size_t pos = 0, seq = 0;
		unsigned opts = 0;
		while (pos <= len) {
			int rc = fx_regex_exec(re, d, t, len, pos, FX_REGEX_UNSET, opts, sp,
			                       (size_t)ng + 1);
			assert_true(rc == 0 || rc == 1);
			if (rc == 0)
				break;
			if (nm == cap) {
				cap *= 2;
				ms = realloc(ms, cap * sizeof *ms);
				assert_non_null(ms);
			}
			struct ref_match *r = &ms[nm++];
			r->pattern = p;
			r->seq = seq++;
			r->start = sp[0];
			fx_buf_init(&r->text);
			fx_match_span spans[32];
			for (int g = 0; g <= ng; g++) {
				spans[g].start = sp[2 * g];
				spans[g].end = sp[2 * g + 1];
			}
			put_spans(&r->text, p, spans, (size_t)ng + 1);
			opts = sp[0] == sp[1] ? FX_REGEX_NOTEMPTY_ATSTART : 0;
			pos = sp[1];
		}
		fx_regex_data_free(d);
		fx_regex_free(re);
	}
	qsort(ms, nm, sizeof *ms, cmp_ref);
	for (size_t i = 0; i < nm; i++) {
		fx_buf_append(out, ms[i].text.data, ms[i].text.len);
		fx_buf_dispose(&ms[i].text);
	}
	free(ms);
}

#define NGEN 300
#define NLINES 400

static void test_generated_prefilter_on_off_identical(void **state)
{
	(void)state;
	fx_buf src[NGEN];
	fx_match_pattern pats[NGEN];
	for (size_t i = 0; i < NGEN; i++) {
		fx_buf_init(&src[i]);
		gen_pattern(&src[i], &pats[i].flags);
		pats[i].regex = fx_buf_cstr(&src[i]);
		pats[i].len = src[i].len;
		pats[i].re = NULL;
	}
	fx_buf text;
	fx_buf_init(&text);
	size_t *line_start = malloc((NLINES + 1) * sizeof *line_start);
	assert_non_null(line_start);
	for (size_t i = 0; i < NLINES; i++) {
		line_start[i] = text.len;
		gen_line(&text);
		fx_buf_putc(&text, '\n');
	}
	line_start[NLINES] = text.len;

	fx_matcher *on = make(pats, NGEN, FX_MATCH_PREFILTER_ALWAYS);
	fx_matcher *off = make(pats, NGEN, FX_MATCH_PREFILTER_NEVER);
	fx_match_stats st;
	fx_match_get_stats(on, &st);
	assert_int_equal(st.built, 1);
	assert_true(st.prefiltered >= NGEN / 2);
	fx_match_get_stats(off, &st);
	assert_int_equal(st.built, 0);

	/* The whole text at once, then line by line. */
	struct collect a, b;
	fx_buf ref;
	fx_buf_init(&ref);
	assert_int_equal(scan(on, text.data, text.len, 0, &a), 0);
	assert_int_equal(scan(off, text.data, text.len, 0, &b), 0);
	reference(pats, NGEN, text.data, text.len, &ref);
	assert_true(b.n > 300);
	assert_int_equal(a.n, b.n);
	assert_string_equal(fx_buf_cstr(&a.out), fx_buf_cstr(&b.out));
	assert_string_equal(fx_buf_cstr(&b.out), fx_buf_cstr(&ref));
	fx_buf_dispose(&a.out);
	fx_buf_dispose(&b.out);
	fx_buf_dispose(&ref);
	size_t total = 0;
	for (size_t i = 0; i < NLINES; i++) {
		const char *l = text.data + line_start[i];
		size_t n = line_start[i + 1] - line_start[i] - 1;
		assert_int_equal(scan(on, l, n, 0, &a), 0);
		assert_int_equal(scan(off, l, n, 0, &b), 0);
		assert_string_equal(fx_buf_cstr(&a.out), fx_buf_cstr(&b.out));
		total += a.n;
		fx_buf_dispose(&a.out);
		fx_buf_dispose(&b.out);
	}
	assert_true(total > 100);

	/* Short texts before any database (a pasted message): patterns are skipped by looking
	 * for their atoms directly, with the same results as PCRE2 alone. Texts of one line,
	 * then of as many lines as fit in about 4 KiB. */
	fx_match_options never_build = {FX_MATCH_PREFILTER_AUTO, (size_t)-1};
	fx_matcher *direct = NULL;
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 0, off_at = 0;
	assert_int_equal(fx_match_new(&direct, pats, NGEN, &never_build, &err, &bad, &off_at), 0);
	fx_buf_dispose(&err);
	total = 0;
	for (size_t i = 0, j; i < NLINES; i = j) {
		for (j = i + 1; j < NLINES && line_start[j + 1] - line_start[i] < 4000 && j % 7; j++)
			;
		const char *l = text.data + line_start[i];
		size_t n = line_start[j] - line_start[i] - 1;
		assert_int_equal(scan(direct, l, n, 0, &a), 0);
		assert_int_equal(scan(off, l, n, 0, &b), 0);
		assert_string_equal(fx_buf_cstr(&a.out), fx_buf_cstr(&b.out));
		total += a.n;
		fx_buf_dispose(&a.out);
		fx_buf_dispose(&b.out);
	}
	assert_true(total > 100);
	fx_match_get_stats(direct, &st);
	assert_int_equal(st.built, 0);
	fx_match_free(direct);

	fx_match_free(on);
	fx_match_free(off);
	free(line_start);
	fx_buf_dispose(&text);
	for (size_t i = 0; i < NGEN; i++)
		fx_buf_dispose(&src[i]);
}

/* --- Lines that may match (fx_match_lines) ----------------------------------------------------- */

struct lines {
	size_t start[64], end[64];
	size_t n;
	int stop; /* returned by the callback when not 0 */
};

static int on_line(void *ud, size_t start, size_t end)
{
	struct lines *l = ud;
	if (l->n < 64) {
		l->start[l->n] = start;
		l->end[l->n] = end;
	}
	l->n++;
	return l->stop;
}

static int lines(const fx_matcher *m, const char *text, size_t len, struct lines *l)
{
	fx_match_scratch *sc = NULL;
	int stop = l->stop;
	memset(l, 0, sizeof *l);
	l->stop = stop;
	assert_int_equal(fx_match_scratch_new(&sc, m), 0);
	int rc = fx_match_lines(m, sc, text, len, on_line, l);
	fx_match_scratch_free(sc);
	return rc;
}

static void test_lines_reported(void **state)
{
	(void)state;
	fx_match_pattern p[2] = {{LIT("disk full"), 0, NULL},
	                         {LIT("time(out|d out)"), FX_RE_CASELESS, NULL}};
	fx_matcher *m = make(p, 2, FX_MATCH_PREFILTER_ALWAYS);
	/* Lines end at LF, CR or CRLF: "disk\nfull" and "ti\rme" are split by a line end, so
	 * no line holds an atom ("disk full", "time") but the three reported. */
	const char t[] = "a disk\nfull b\r\nno disk full\rno\nTIMEOUT x\n\nti\rme\nend disk full";
	struct lines l = {0};
	assert_int_equal(lines(m, LIT(t), &l), 0);
	assert_int_equal(l.n, 3);
	assert_memory_equal(t + l.start[0], "no disk full", 12);
	assert_int_equal(l.end[0] - l.start[0], 12);
	assert_memory_equal(t + l.start[1], "TIMEOUT x", 9);
	assert_int_equal(l.end[1] - l.start[1], 9);
	assert_memory_equal(t + l.start[2], "end disk full", 13);
	assert_int_equal(l.end[2], sizeof t - 1);
	/* The callback stops the scan. */
	l.stop = -7;
	assert_int_equal(lines(m, LIT(t), &l), -7);
	assert_int_equal(l.n, 1);
	fx_match_free(m);

	/* A pattern without atoms, or no prefilter: the lines cannot be told apart. */
	fx_match_pattern q[2] = {{LIT("disk full"), 0, NULL}, {LIT("\\d+"), 0, NULL}};
	m = make(q, 2, FX_MATCH_PREFILTER_ALWAYS);
	l.stop = 0;
	assert_int_equal(lines(m, LIT(t), &l), 1);
	assert_int_equal(l.n, 0);
	fx_match_free(m);
	m = make(p, 2, FX_MATCH_PREFILTER_NEVER);
	assert_int_equal(lines(m, LIT(t), &l), 1);
	fx_match_free(m);
}

/* A line is reported for a branch only when it holds an atom of each of the branch's covers
 * and each of its other runs (checks): a line holding the longest run alone is not. */
static void test_lines_need_every_run(void **state)
{
	(void)state;
	fx_match_pattern p[2] = {
		/* line-local: its atom is "manifest refused", "copy " is checked */
		{LIT("copy (\\w+ )?manifest refused"), FX_RE_CASELESS, NULL},
		/* not line-local: covers " failed" and "disk" (at a bounded distance) */
		{LIT("disk\\s+(\\w+) failed"), 0, NULL},
	};
	fx_matcher *m = make(p, 2, FX_MATCH_PREFILTER_ALWAYS);
	const char t[] = "copy manifest started\n"
	                 "read manifest refused\n"
	                 "a COPY THE MANIFEST REFUSED b\n"
	                 "disk sda ok\n"
	                 "sdb failed\n"
	                 "disk sdc failed, manifest\n"
	                 "manifest refused, copy it";
	struct lines l = {0};
	assert_int_equal(lines(m, LIT(t), &l), 0);
	assert_int_equal(l.n, 3);
	assert_memory_equal(t + l.start[0], "a COPY", 6);
	assert_memory_equal(t + l.start[1], "disk sdc", 8);
	/* The runs are all there, out of order: reported (it is PCRE2 that says no). */
	assert_memory_equal(t + l.start[2], "manifest refused, copy it", 25);
	assert_int_equal(l.end[2], sizeof t - 1);
	fx_match_free(m);
}

struct starts {
	size_t *starts, n; /* room for one a line of the text */
};

static int lines_into(void *ud, size_t start, size_t end)
{
	struct starts *g = ud;
	(void)end;
	g->starts[g->n++] = start;
	return 0;
}

/* Over generated regexes and lines: every line on which a pattern matches, scanned on its own,
 * is reported, and most lines are not. */
static void test_lines_cover_every_match(void **state)
{
	(void)state;
	fx_buf src[NGEN];
	fx_match_pattern pats[NGEN];
	for (size_t i = 0; i < NGEN; i++) {
		fx_buf_init(&src[i]);
		gen_pattern(&src[i], &pats[i].flags);
		pats[i].regex = fx_buf_cstr(&src[i]);
		pats[i].len = src[i].len;
		pats[i].re = NULL;
	}
	/* Only the patterns with atoms: one without would make every line a candidate. */
	fx_matcher *all = make(pats, NGEN, FX_MATCH_PREFILTER_NEVER);
	fx_match_pattern with[NGEN];
	size_t nwith = 0;
	for (size_t i = 0; i < NGEN; i++) {
		fx_match_atom_info ai;
		if (fx_match_atom(all, i, 0, &ai) == 0)
			with[nwith++] = pats[i];
	}
	fx_match_free(all);
	assert_true(nwith > NGEN / 2);
	fx_matcher *m = make(with, nwith, FX_MATCH_PREFILTER_ALWAYS);

	fx_buf text;
	fx_buf_init(&text);
	for (size_t i = 0; i < NLINES; i++) {
		gen_line(&text);
		fx_buf_putc(&text, i % 7 == 3 ? '\r' : '\n');
	}
	size_t *rep = calloc(NLINES + 1, sizeof *rep), nrep = 0;
	assert_non_null(rep);
	struct starts got = {rep, 0};
	fx_match_scratch *sc = NULL;
	assert_int_equal(fx_match_scratch_new(&sc, m), 0);
	assert_int_equal(fx_match_lines(m, sc, text.data, text.len, lines_into, &got), 0);
	nrep = got.n;
	size_t matching = 0, start = 0, k = 0;
	for (size_t i = 0; i < text.len; i++) {
		if (text.data[i] != '\n' && text.data[i] != '\r')
			continue;
		struct collect c;
		assert_int_equal(scan(m, text.data + start, i - start, 0, &c), 0);
		while (k < nrep && rep[k] < start)
			k++;
		if (c.n) {
			matching++;
			assert_true(k < nrep && rep[k] == start);
		}
		fx_buf_dispose(&c.out);
		start = i + 1;
	}
	assert_true(matching > 50);
	assert_true(nrep >= matching);
	assert_true(nrep < NLINES);
	fx_match_scratch_free(sc);
	fx_match_free(m);
	free(rep);
	fx_buf_dispose(&text);
	for (size_t i = 0; i < NGEN; i++)
		fx_buf_dispose(&src[i]);
}

/* A big text where atoms are frequent: classes overflow the first pass, are recorded again by
 * a second, or are too frequent to be used at all; the results stay those of PCRE2 alone. */
static void test_frequent_atoms(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {
		{LIT("usb\\s+timeout waiting\\s+for reset on (?<dev>\\w+)"), 0, NULL},
		{LIT("port\\s+(\\d+), speed"), 0, NULL},
		{LIT("xhci_hcd, port (\\d+)"), 0, NULL},
		{LIT("(?:link|carrier) down after (\\d+) ms"), 0, NULL},
		{LIT("serial ([0-9A-F]+) ok$"), FX_RE_MULTILINE, NULL},
	};
	fx_buf text;
	fx_buf_init(&text);
	rng = 42;
	while (text.len < (4u << 20)) {
		unsigned r = rnd(200);
		if (r == 0)
			fx_buf_puts(&text, "usb   timeout waiting\n  for reset on sdb\n");
		else if (r == 1)
			fx_buf_printf(&text, "eth0 %s down after %u ms\n", rnd(2) ? "link" : "carrier",
			              rnd(1000));
		else
			fx_buf_printf(&text, "host%u usb 1-1.%u: new high-speed USB device number %u "
			              "using xhci_hcd, port %u, speed 480 Mbps, driver usb-storage, "
			              "serial %08X ok\n", rnd(50), rnd(9), rnd(100), rnd(8), rnd(1u << 30));
	}
	fx_matcher *on = make(p, 5, FX_MATCH_PREFILTER_ALWAYS);
	fx_matcher *off = make(p, 5, FX_MATCH_PREFILTER_NEVER);
	struct collect a, b;
	fx_match_scratch *sc;
	assert_int_equal(fx_match_scratch_new(&sc, on), 0);
	memset(&a, 0, sizeof a);
	fx_buf_init(&a.out);
	assert_int_equal(fx_match_scan(on, sc, text.data, text.len, 0, on_match, on_warn, &a), 0);
	fx_match_scan_stats st;
	fx_match_scan_stats_get(sc, &st);
	assert_int_equal(st.prefiltered, 1);
	assert_true(st.second_pass >= 1); /* "port", chosen over ", speed" */
	assert_true(st.saturated >= 1);   /* "serial ", "xhci_hcd, port ": a window a line */
	assert_true(st.everywhere >= 1);
	assert_int_equal(scan(off, text.data, text.len, 0, &b), 0);
	assert_true(b.n > 50000);
	assert_int_equal(a.n, b.n);
	assert_string_equal(fx_buf_cstr(&a.out), fx_buf_cstr(&b.out));
	fx_buf_dispose(&a.out);
	fx_buf_dispose(&b.out);
	/* The same scratch on a small text afterwards: nothing stale. */
	memset(&a, 0, sizeof a);
	fx_buf_init(&a.out);
	const char *small = "usb \t timeout waiting for reset on sdc\n";
	assert_int_equal(fx_match_scan(on, sc, small, strlen(small), 0, on_match, NULL, &a), 0);
	assert_string_equal(fx_buf_cstr(&a.out), "0 0-38 35-38\n");
	fx_buf_dispose(&a.out);
	fx_match_scratch_free(sc);
	fx_match_free(on);
	fx_match_free(off);
	fx_buf_dispose(&text);
}

/* --- Lazy build and threads ----------------------------------------------------------------- */

static void test_auto_builds_after_threshold(void **state)
{
	(void)state;
	const fx_match_pattern p[] = {{LIT("disk (\\w+) failed"), 0, NULL}};
	fx_match_options o = {FX_MATCH_PREFILTER_AUTO, 100};
	fx_matcher *m = NULL;
	assert_int_equal(fx_match_new(&m, p, 1, &o, NULL, NULL, NULL), 0);
	fx_match_stats st;
	fx_match_get_stats(m, &st);
	assert_int_equal(st.built, 0);
	assert_int_equal(st.line_local, 1);
	struct collect c;
	const char *t = "a disk sda failed, more text to reach sixty bytes or so......\n";
	assert_int_equal(scan(m, t, strlen(t), 0, &c), 0);
	assert_string_equal(fx_buf_cstr(&c.out), "0 2-17 7-10\n");
	fx_buf_dispose(&c.out);
	fx_match_get_stats(m, &st);
	assert_int_equal(st.built, 0);
	assert_int_equal(scan(m, t, strlen(t), 0, &c), 0); /* now past 100 bytes */
	assert_string_equal(fx_buf_cstr(&c.out), "0 2-17 7-10\n");
	fx_buf_dispose(&c.out);
	fx_match_get_stats(m, &st);
	assert_int_equal(st.built, 1);
	assert_int_equal(st.prefiltered, 1);
	fx_match_free(m);
}

struct job {
	const fx_matcher *m;
	const char *text;
	size_t len;
	const char *expect;
	int bad;
};

static int count_only(void *ud, size_t pattern, const fx_match_span *sp, size_t n)
{
	put_spans(ud, pattern, sp, n);
	return 0;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	fx_match_scratch *sc = NULL;
	if (fx_match_scratch_new(&sc, j->m) != 0) {
		j->bad = 1;
		return NULL;
	}
	for (int i = 0; i < 20 && !j->bad; i++) {
		fx_buf out;
		fx_buf_init(&out);
		if (fx_match_scan(j->m, sc, j->text, j->len, 0, count_only, NULL, &out) != 0 ||
		    strcmp(fx_buf_cstr(&out), j->expect) != 0)
			j->bad = 1;
		fx_buf_dispose(&out);
	}
	fx_match_scratch_free(sc);
	return NULL;
}

static void test_threads_share_a_matcher(void **state)
{
	(void)state;
	fx_buf src[40];
	fx_match_pattern pats[40];
	for (size_t i = 0; i < 40; i++) {
		fx_buf_init(&src[i]);
		gen_pattern(&src[i], &pats[i].flags);
		pats[i].regex = fx_buf_cstr(&src[i]);
		pats[i].len = src[i].len;
		pats[i].re = NULL;
	}
	fx_buf text;
	fx_buf_init(&text);
	for (size_t i = 0; i < 100; i++) {
		gen_line(&text);
		fx_buf_putc(&text, '\n');
	}
	fx_matcher *off = make(pats, 40, FX_MATCH_PREFILTER_NEVER);
	struct collect c;
	assert_int_equal(scan(off, text.data, text.len, 0, &c), 0);
	fx_match_free(off);
	/* Built lazily while the threads run. */
	fx_match_options o = {FX_MATCH_PREFILTER_AUTO, 3 * text.len};
	fx_matcher *m = NULL;
	assert_int_equal(fx_match_new(&m, pats, 40, &o, NULL, NULL, NULL), 0);
	struct job jobs[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){m, text.data, text.len, fx_buf_cstr(&c.out), 0};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].bad, 0);
	}
	fx_match_stats st;
	fx_match_get_stats(m, &st);
	assert_int_equal(st.built, 1);
	fx_match_free(m);
	fx_buf_dispose(&c.out);
	fx_buf_dispose(&text);
	for (size_t i = 0; i < 40; i++)
		fx_buf_dispose(&src[i]);
}

/* Texts of up to 255 bytes are prefiltered by a block-mode database, longer ones by the
 * vectored one: around that length the matches are the same as PCRE2's alone, wherever the
 * atom lies. */
static void test_block_and_vectored_lengths(void **state)
{
	(void)state;
	const fx_match_pattern pats[] = {
		{LIT("backup failed: error (?<code>-?[0-9]+)"), FX_RE_CASELESS, NULL},
		{LIT("^Nov [0-9]+ .*disk full"), 0, NULL},
	};
	fx_matcher *on = make(pats, 2, FX_MATCH_PREFILTER_ALWAYS);
	fx_matcher *off = make(pats, 2, FX_MATCH_PREFILTER_NEVER);
	fx_match_scratch *sc = NULL;
	assert_int_equal(fx_match_scratch_new(&sc, on), 0);
	char text[600];
	const char *tail = "Backup FAILED: error -39";
	size_t tl = strlen(tail);
	for (size_t len = 240; len <= 280; len++) {
		/* "Nov 24 " ... filler ... "disk full" in the middle, the error at the very end. */
		memset(text, 'x', len);
		memcpy(text, "Nov 24 ", 7);
		memcpy(text + len / 2, "disk full", 9);
		memcpy(text + len - tl, tail, tl);
		struct collect a, b;
		assert_int_equal(scan(off, text, len, 0, &a), 0);
		memset(&b, 0, sizeof b);
		fx_buf_init(&b.out);
		assert_int_equal(fx_match_scan(on, sc, text, len, 0, on_match, on_warn, &b), 0);
		fx_match_scan_stats st;
		fx_match_scan_stats_get(sc, &st);
		assert_int_equal(st.prefiltered, 1);
		assert_int_equal(a.n, 2);
		assert_string_equal(fx_buf_cstr(&a.out), fx_buf_cstr(&b.out));
		fx_buf_dispose(&a.out);
		fx_buf_dispose(&b.out);
	}
	fx_match_scratch_free(sc);
	fx_match_free(on);
	fx_match_free(off);
}

/* A regex the caller compiled already (with FX_RE_START_LIMIT, same bytes and flags) is
 * borrowed, not compiled again nor freed; one that does not fit is ignored. */
static void test_borrowed_regex(void **state)
{
	(void)state;
	const char *rx = "error (?<code>-?[0-9]+)";
	fx_regex *fit = fx_regex_new(rx, strlen(rx), FX_RE_CASELESS | FX_RE_START_LIMIT, NULL, NULL);
	fx_regex *plain = fx_regex_new(rx, strlen(rx), FX_RE_CASELESS, NULL, NULL);
	assert_non_null(fit);
	assert_non_null(plain);
	assert_int_equal(fx_regex_flags(fit), FX_RE_CASELESS | FX_RE_START_LIMIT);
	assert_int_equal(fx_regex_source_len(fit), strlen(rx));
	const fx_regex *given[] = {fit, plain, NULL};
	for (size_t k = 0; k < 3; k++) {
		fx_match_pattern p = {rx, strlen(rx), FX_RE_CASELESS, given[k]};
		for (int mode = FX_MATCH_PREFILTER_ALWAYS; mode <= FX_MATCH_PREFILTER_NEVER; mode++) {
			fx_matcher *m = make(&p, 1, (fx_match_prefilter)mode);
			struct collect c;
			assert_int_equal(scan(m, LIT("x ERROR 12, error -3"), 0, &c), 0);
			assert_string_equal(fx_buf_cstr(&c.out), "0 2-10 8-10\n0 12-20 18-20\n");
			assert_int_equal(fx_match_capture_index(m, 0, "code"), 1);
			fx_buf_dispose(&c.out);
			fx_match_free(m);
		}
	}
	/* Still usable after the matchers are gone: they did not free it. */
	assert_int_equal(fx_regex_match(fit, "error 1", 7), 1);
	fx_regex_free(fit);
	fx_regex_free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_and_vectored_lengths),
		cmocka_unit_test(test_borrowed_regex),
		cmocka_unit_test(test_single_pattern_captures),
		cmocka_unit_test(test_many_patterns_in_order),
		cmocka_unit_test(test_empty_matches_advance),
		cmocka_unit_test(test_bytes_not_utf8_and_nul),
		cmocka_unit_test(test_limit_reported_scan_goes_on),
		cmocka_unit_test(test_compile_error_offset),
		cmocka_unit_test(test_empty_set_and_empty_text),
		cmocka_unit_test(test_atoms),
		cmocka_unit_test(test_generated_prefilter_on_off_identical),
		cmocka_unit_test(test_frequent_atoms),
		cmocka_unit_test(test_auto_builds_after_threshold),
		cmocka_unit_test(test_threads_share_a_matcher),
		cmocka_unit_test(test_lines_reported),
		cmocka_unit_test(test_lines_need_every_run),
		cmocka_unit_test(test_lines_cover_every_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
