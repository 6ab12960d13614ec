/* test_reader.c: unit tests for reader.c: the three split modes, line ends, bytes kept as they
 * are, independence from chunk boundaries, the cap and its cut rule, bounded memory on long
 * lines and endless streams, stopping from the callback and resuming. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "reader.h"

/* --- Helpers: collect cases as owned copies ------------------------------------------------- */

typedef struct rec {
	uint64_t index, line, last_line, offset, dropped;
	int truncated;
	char *text;
	size_t len;
} rec;

typedef struct coll {
	rec *v;
	size_t n, cap;
	uint64_t stop_at; /* callback returns 42 on this case index (0: never) */
} coll;

static int collect(void *ud, const fx_case *c)
{
	coll *k = ud;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->v = realloc(k->v, k->cap * sizeof *k->v);
		assert_non_null(k->v);
	}
	rec *r = &k->v[k->n++];
	r->index = c->index;
	r->line = c->line;
	r->last_line = c->last_line;
	r->offset = c->offset;
	r->dropped = c->dropped;
	r->truncated = c->truncated;
	r->len = c->len;
	assert_true(c->len > 0);
	assert_int_equal(c->text[c->len], '\0');
	assert_int_equal(c->truncated, c->dropped > 0);
	r->text = malloc(c->len + 1);
	assert_non_null(r->text);
	memcpy(r->text, c->text, c->len + 1);
	return c->index == k->stop_at ? 42 : 0;
}

static void coll_free(coll *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].text);
	free(k->v);
	memset(k, 0, sizeof *k);
}

static fx_reader *make(fx_read_mode mode, size_t cap)
{
	fx_reader *r = NULL;
	int rc = fx_reader_new(&r, mode, cap);
	if (rc != 0)
		print_error("fx_reader_new(%d, %zu) failed: %d\n", (int)mode, cap, rc);
	assert_int_equal(rc, 0);
	assert_non_null(r);
	return r;
}

/* Feed `in` in chunks of `chunk` bytes (0: all at once) and finish; stats in *st if not NULL. */
static coll run(fx_read_mode mode, size_t cap, const char *in, size_t n, size_t chunk,
                fx_read_stats *st)
{
	coll k;
	memset(&k, 0, sizeof k);
	fx_reader *r = make(mode, cap);
	size_t step = chunk ? chunk : (n ? n : 1);
	for (size_t i = 0; i < n; i += step) {
		size_t m = n - i < step ? n - i : step;
		assert_int_equal(fx_reader_feed(r, in + i, m, collect, &k), 0);
	}
	assert_int_equal(fx_reader_finish(r, collect, &k), 0);
	if (st)
		fx_reader_stats(r, st);
	fx_reader_free(r);
	return k;
}

static void expect_case(const coll *k, size_t i, const char *text, size_t len, uint64_t line,
                        uint64_t last_line, uint64_t offset)
{
	assert_true(i < k->n);
	const rec *r = &k->v[i];
	if (r->len != len || memcmp(r->text, text, len) != 0)
		print_error("case %zu: got '%.*s' (%zu bytes)\n", i + 1, (int)r->len, r->text,
		            r->len);
	assert_int_equal(r->len, len);
	assert_memory_equal(r->text, text, len);
	assert_int_equal(r->index, i + 1);
	assert_int_equal(r->line, line);
	assert_int_equal(r->last_line, last_line);
	assert_int_equal(r->offset, offset);
	assert_int_equal(r->dropped, 0);
}

#define S(lit) lit, sizeof(lit) - 1

static void assert_same(const coll *a, const coll *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const rec *x = &a->v[i], *y = &b->v[i];
		assert_int_equal(x->index, y->index);
		assert_int_equal(x->line, y->line);
		assert_int_equal(x->last_line, y->last_line);
		assert_int_equal(x->offset, y->offset);
		assert_int_equal(x->dropped, y->dropped);
		assert_int_equal(x->truncated, y->truncated);
		assert_int_equal(x->len, y->len);
		assert_memory_equal(x->text, y->text, x->len);
	}
}

/* --- The three modes -------------------------------------------------------------------------- */

static void test_blocks_basic(void **state)
{
	(void)state;
	static const char in[] = "\n  \n\talert one\nsecond line  \n\n \t\n\nalert two\n\n\nlast";
	fx_read_stats st;
	coll k = run(FX_READ_BLOCKS, 0, in, sizeof in - 1, 0, &st);
	assert_int_equal(k.n, 3);
	expect_case(&k, 0, S("\talert one\nsecond line  "), 3, 4, 4);
	expect_case(&k, 1, S("alert two"), 8, 8, (uint64_t)(strstr(in, "alert two") - in));
	expect_case(&k, 2, S("last"), 11, 11, sizeof in - 5);
	assert_int_equal(st.lines, 11);
	assert_int_equal(st.bytes, sizeof in - 1);
	assert_int_equal(st.cases, 3);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(st.cap, FX_READER_DEFAULT_CAP);
	coll_free(&k);

	/* Only blank lines: no case, however many. */
	k = run(FX_READ_BLOCKS, 0, S(" \n\t\n\n   "), 0, &st);
	assert_int_equal(k.n, 0);
	assert_int_equal(st.lines, 4);
	coll_free(&k);
}

static void test_lines_basic(void **state)
{
	(void)state;
	static const char in[] = "first\n\n   \nsecond\t\n  third  \r\n\tlast";
	fx_read_stats st;
	coll k = run(FX_READ_LINES, 0, in, sizeof in - 1, 0, &st);
	assert_int_equal(k.n, 4);
	expect_case(&k, 0, S("first"), 1, 1, 0);
	expect_case(&k, 1, S("second\t"), 4, 4, 11);
	expect_case(&k, 2, S("  third  "), 5, 5, 19);
	expect_case(&k, 3, S("\tlast"), 6, 6, 30);
	assert_int_equal(st.lines, 6);
	coll_free(&k);
}

static void test_whole_basic(void **state)
{
	(void)state;
	static const char in[] = "\n \n  head\n\n  \nmiddle\n\n \n";
	fx_read_stats st;
	coll k = run(FX_READ_WHOLE, 0, in, sizeof in - 1, 0, &st);
	assert_int_equal(k.n, 1);
	expect_case(&k, 0, S("  head\n\n  \nmiddle"), 3, 6, 3);
	assert_int_equal(st.lines, 8);
	coll_free(&k);

	/* An empty input gives no case; nor does one of blank lines only. */
	k = run(FX_READ_WHOLE, 0, "", 0, 0, &st);
	assert_int_equal(k.n, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.lines, 0);
	coll_free(&k);
	k = run(FX_READ_WHOLE, 0, S("\n \t\n\r\n"), 0, &st);
	assert_int_equal(k.n, 0);
	assert_int_equal(st.bytes, 6);
	assert_int_equal(st.lines, 3);
	coll_free(&k);

	k = run(FX_READ_WHOLE, 0, S("x"), 0, &st);
	assert_int_equal(k.n, 1);
	expect_case(&k, 0, S("x"), 1, 1, 0);
	assert_int_equal(st.lines, 1);
	coll_free(&k);
}

static void test_line_endings(void **state)
{
	(void)state;
	/* Lines: a(1) b(2) c(3) empty(4, CRLF) d(5, CR) empty(6, CR) e(7). */
	static const char in[] = "a\r\nb\rc\n\r\nd\r\re\n";
	fx_read_stats st;
	coll k = run(FX_READ_BLOCKS, 0, in, sizeof in - 1, 0, &st);
	assert_int_equal(k.n, 3);
	expect_case(&k, 0, S("a\nb\nc"), 1, 3, 0);
	expect_case(&k, 1, S("d"), 5, 5, 9);
	expect_case(&k, 2, S("e"), 7, 7, 12);
	assert_int_equal(st.lines, 7);
	coll_free(&k);

	k = run(FX_READ_LINES, 0, in, sizeof in - 1, 0, NULL);
	assert_int_equal(k.n, 5);
	expect_case(&k, 0, S("a"), 1, 1, 0);
	expect_case(&k, 1, S("b"), 2, 2, 3);
	expect_case(&k, 2, S("c"), 3, 3, 5);
	expect_case(&k, 3, S("d"), 5, 5, 9);
	expect_case(&k, 4, S("e"), 7, 7, 12);
	coll_free(&k);

	k = run(FX_READ_WHOLE, 0, in, sizeof in - 1, 0, NULL);
	assert_int_equal(k.n, 1);
	expect_case(&k, 0, S("a\nb\nc\n\nd\n\ne"), 1, 7, 0);
	coll_free(&k);

	/* LF then CR is two line ends, not one. */
	k = run(FX_READ_LINES, 0, S("x\n\ry\r"), 0, &st);
	assert_int_equal(k.n, 2);
	expect_case(&k, 0, S("x"), 1, 1, 0);
	expect_case(&k, 1, S("y"), 3, 3, 3);
	assert_int_equal(st.lines, 3);
	coll_free(&k);
}

static void test_bytes_preserved(void **state)
{
	(void)state;
	/* NUL is not blank; invalid UTF-8, tabs and trailing spaces pass through untouched. */
	static const char in[] = "a\0b\t\xff \r\n\xc3\x28\0\xed\xa0\x80\n\n\0\n \n\xfe";
	coll k = run(FX_READ_BLOCKS, 0, in, sizeof in - 1, 0, NULL);
	assert_int_equal(k.n, 3);
	expect_case(&k, 0, S("a\0b\t\xff \n\xc3\x28\0\xed\xa0\x80"), 1, 2, 0);
	expect_case(&k, 1, S("\0"), 4, 4, 16);
	expect_case(&k, 2, S("\xfe"), 6, 6, 20);
	coll_free(&k);
}

/* --- Chunking and a reference model ----------------------------------------------------------- */

static const struct {
	const char *s;
	size_t n;
} tricky[] = {
        {S("a\r\nb\r\n\r\n\r\nc\rd\r\r\n  \r\n\te\r")},
        {S("\r\n\r\n  x  \r\n\r\n\t\r\n  y\n\n\n")},
        {S("one two three four five "
           "six\nseven\n\n\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\n")},
        {S("\0\0\r\0\n \0 \n\n\xff\xfe\r\n   \t   \n")},
        {S("long-line-without-end-that-crosses-every-small-cap-several-times")},
        {S("a\n            \n            \n\nb\n                                      ")},
        {S("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nz\r")},
};

static void test_chunk_sizes_do_not_matter(void **state)
{
	(void)state;
	static const size_t caps[] = {0, 1, 3, 7, 16};
	for (size_t t = 0; t < sizeof tricky / sizeof tricky[0]; t++) {
		for (int mode = FX_READ_BLOCKS; mode <= FX_READ_WHOLE; mode++) {
			for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
				fx_read_stats st1, st2;
				coll whole = run((fx_read_mode)mode, caps[c], tricky[t].s,
				                 tricky[t].n, 0, &st1);
				for (size_t chunk = 1; chunk <= 17; chunk++) {
					coll parts = run((fx_read_mode)mode, caps[c], tricky[t].s,
					                 tricky[t].n, chunk, &st2);
					assert_same(&whole, &parts);
					assert_int_equal(st1.lines, st2.lines);
					assert_int_equal(st1.bytes, st2.bytes);
					assert_int_equal(st1.truncated, st2.truncated);
					coll_free(&parts);
				}
				/* Whatever the cap, every byte is kept or counted. */
				for (size_t i = 0; i < whole.n; i++)
					assert_true(caps[c] == 0 || whole.v[i].len <= caps[c]);
				coll_free(&whole);
			}
		}
	}
}

/* An obviously correct, non-incremental splitter: split into lines, then group them. */
static coll reference(fx_read_mode mode, const char *in, size_t n)
{
	size_t start[80], len[80], nl = 0;
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		while (i < n && in[i] != '\n' && in[i] != '\r')
			i++;
		start[nl] = s;
		len[nl++] = i - s;
		if (i < n && in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			i++;
		if (i < n)
			i++;
	}
	int blank[80];
	for (size_t l = 0; l < nl; l++) {
		blank[l] = 1;
		for (size_t j = 0; j < len[l]; j++)
			if (in[start[l] + j] != ' ' && in[start[l] + j] != '\t')
				blank[l] = 0;
	}
	coll k;
	memset(&k, 0, sizeof k);
	size_t l = 0;
	while (l < nl) {
		if (blank[l]) {
			l++;
			continue;
		}
		size_t first = l, last = l;
		if (mode == FX_READ_BLOCKS) {
			while (last + 1 < nl && !blank[last + 1])
				last++;
		} else if (mode == FX_READ_WHOLE) {
			for (size_t m = l; m < nl; m++)
				if (!blank[m])
					last = m;
		}
		char text[200];
		size_t tl = 0;
		for (size_t m = first; m <= last; m++) {
			if (m > first)
				text[tl++] = '\n';
			memcpy(text + tl, in + start[m], len[m]);
			tl += len[m];
		}
		fx_case c = {k.n + 1, first + 1, last + 1, start[first], text, tl, 0, 0};
		text[tl] = '\0';
		collect(&k, &c);
		l = last + 1;
	}
	return k;
}

static void test_matches_reference(void **state)
{
	(void)state;
	static const char alphabet[] = "ab \t\r\n\n\r\n \0";
	uint32_t seed = 12345;
	for (int round = 0; round < 3000; round++) {
		char in[64];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof in;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		size_t chunk = (seed >> 16) % 6;
		for (int mode = FX_READ_BLOCKS; mode <= FX_READ_WHOLE; mode++) {
			coll want = reference((fx_read_mode)mode, in, n);
			coll got = run((fx_read_mode)mode, 0, in, n, chunk, NULL);
			assert_same(&want, &got);
			coll_free(&want);
			coll_free(&got);
		}
	}
}

/* --- The cap -------------------------------------------------------------------------------- */

static void expect_cut(const coll *k, size_t i, const char *text, size_t len, uint64_t dropped)
{
	assert_true(i < k->n);
	const rec *r = &k->v[i];
	if (r->len != len)
		print_error("case %zu: got %zu bytes '%.*s'\n", i + 1, r->len,
		            (int)(r->len < 80 ? r->len : 80), r->text);
	assert_int_equal(r->len, len);
	assert_memory_equal(r->text, text, len);
	assert_int_equal(r->dropped, dropped);
	assert_int_equal(r->truncated, dropped > 0);
}

static void test_cut_rules(void **state)
{
	(void)state;
	/* A line end within the window: cut there. */
	coll k = run(FX_READ_BLOCKS, 10, S("abcdefgh\nijklmnop\n\nnext"), 3, NULL);
	assert_int_equal(k.n, 2);
	expect_cut(&k, 0, S("abcdefgh"), 9);
	expect_case(&k, 1, S("next"), 4, 4, 19);
	coll_free(&k);

	/* No line end: cut at the cap, but not inside a UTF-8 sequence. */
	k = run(FX_READ_LINES, 10, S("abcdefgh\xe2\x82\xaczz\nok"), 0, NULL);
	expect_cut(&k, 0, S("abcdefgh"), 5);
	expect_case(&k, 1, S("ok"), 2, 2, 14);
	coll_free(&k);
	k = run(FX_READ_LINES, 10, S("abcdefgh\xe2\x82\xac"), 0, NULL);
	expect_cut(&k, 0, S("abcdefgh"), 3);
	coll_free(&k);
	/* A sequence that ends right at the cap stays; stray continuation bytes are cut as bytes. */
	k = run(FX_READ_LINES, 10, S("abcdefg\xe2\x82\xaczz"), 0, NULL);
	expect_cut(&k, 0, S("abcdefg\xe2\x82\xac"), 2);
	coll_free(&k);
	k = run(FX_READ_LINES, 10, S("abcdefghi\x80\x80\x80"), 0, NULL);
	expect_cut(&k, 0, S("abcdefghi\x80"), 2);
	coll_free(&k);

	/* Blank lines left at the end by the cut go too. */
	k = run(FX_READ_WHOLE, 12, S("abc\n  \n\nxyzxyzxyzxyz"), 0, NULL);
	expect_cut(&k, 0, S("abc"), 17);
	coll_free(&k);
	k = run(FX_READ_BLOCKS, 8, S("abc\n          xyz\n"), 0, NULL);
	expect_cut(&k, 0, S("abc"), 14);
	coll_free(&k);

	/* Trailing blank lines past the cap are not part of the case: no truncation. */
	k = run(FX_READ_WHOLE, 8, S("abcdef\n\n      \n   \n\n"), 0, NULL);
	expect_case(&k, 0, S("abcdef"), 1, 1, 0);
	coll_free(&k);
	/* Exactly the cap is not over it. */
	k = run(FX_READ_LINES, 6, S("abcdef\nabcdefg"), 0, NULL);
	expect_case(&k, 0, S("abcdef"), 1, 1, 0);
	expect_cut(&k, 1, S("abcdef"), 1);
	coll_free(&k);
}

/* The window, at a realistic scale: a line end up to FX_READER_CUT_WINDOW bytes before the cap
 * is used, one further back is not, one exactly at the cap is. */
static void test_cut_window(void **state)
{
	(void)state;
	const size_t cap = 16384;
	char *in = malloc(3 * cap);
	assert_non_null(in);
	static const size_t gaps[] = {100, 2000, 4096, 4097, 5000, 0};
	for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
		size_t a = cap - gaps[g], n = a + 1 + 10000;
		memset(in, 'a', a);
		in[a] = '\n';
		memset(in + a + 1, 'b', 10000);
		coll k = run(FX_READ_BLOCKS, cap, in, n, 4096, NULL);
		assert_int_equal(k.n, 1);
		size_t keep = gaps[g] <= FX_READER_CUT_WINDOW ? a : cap;
		expect_cut(&k, 0, in, keep, n - keep);
		coll_free(&k);
	}
	free(in);
}

static void test_ten_megabyte_line(void **state)
{
	(void)state;
	const size_t cap = (size_t)1 << 20, big = 10 * 1000 * 1000, chunk = 65536;
	char *line = malloc(big);
	assert_non_null(line);
	for (size_t i = 0; i < big; i++)
		line[i] = (char)('a' + i % 26);
	for (int mode = FX_READ_BLOCKS; mode <= FX_READ_WHOLE; mode++) {
		fx_reader *r = make((fx_read_mode)mode, cap);
		coll k;
		memset(&k, 0, sizeof k);
		assert_int_equal(fx_reader_feed(r, S("short\n"), collect, &k), 0);
		for (size_t i = 0; i < big; i += chunk)
			assert_int_equal(fx_reader_feed(r, line + i,
			                                big - i < chunk ? big - i : chunk, collect,
			                                &k),
			                 0);
		assert_int_equal(fx_reader_feed(r, S("\r\n\r\nnext\n"), collect, &k), 0);
		assert_int_equal(fx_reader_finish(r, collect, &k), 0);
		fx_read_stats st;
		fx_reader_stats(r, &st);
		/* The memory bound of reader.h, and proof the buffer was really used. */
		assert_true(st.peak_bytes <= 2 * (cap + 2) + 1024);
		assert_true(st.peak_bytes >= cap);
		assert_int_equal(st.lines, 4);
		if (mode == FX_READ_LINES) {
			assert_int_equal(k.n, 3);
			expect_case(&k, 0, S("short"), 1, 1, 0);
			expect_cut(&k, 1, line, cap, big - cap);
			assert_int_equal(k.v[1].line, 2);
			assert_int_equal(k.v[1].offset, 6);
			expect_case(&k, 2, S("next"), 4, 4, 6 + big + 4);
		} else {
			/* The only line end is far outside the window: cut mid-line at the cap. */
			size_t total = 6 + big + (mode == FX_READ_WHOLE ? 6 : 0);
			assert_int_equal(k.n, mode == FX_READ_WHOLE ? 1 : 2);
			assert_memory_equal(k.v[0].text, "short\n", 6);
			expect_cut(&k, 0, k.v[0].text, cap, total - cap);
			assert_memory_equal(k.v[0].text + 6, line, cap - 6);
			assert_int_equal(k.v[0].last_line, mode == FX_READ_WHOLE ? 4 : 2);
			if (mode == FX_READ_BLOCKS)
				expect_case(&k, 1, S("next"), 4, 4, 6 + big + 4);
		}
		assert_int_equal(st.truncated, 1);
		coll_free(&k);
		fx_reader_free(r);
	}
	free(line);
}

/* --- Endless streams ------------------------------------------------------------------------ */

typedef struct stream_check {
	const char *block; /* the expected text of every full case */
	size_t len;
	uint64_t cases, bad, partial;
} stream_check;

static int check_case(void *ud, const fx_case *c)
{
	stream_check *s = ud;
	s->cases++;
	/* Four lines per block: case i starts on line 4(i-1)+1. */
	if (c->index != s->cases || c->line != 4 * (c->index - 1) + 1 || c->truncated ||
	    c->len > s->len || memcmp(c->text, s->block, c->len) != 0)
		s->bad++;
	/* Only the input's end may cut a block short. */
	if (c->len < s->len)
		s->partial++;
	return 0;
}

static void test_endless_stream(void **state)
{
	(void)state;
	static const char pattern[] =
	        "ERROR 28: backup of /srv failed\r\nreason: no space\n \t\n\n";
	const size_t plen = sizeof pattern - 1, chunk = 65536;
	const uint64_t total = (uint64_t)200 << 20;
	char *src = malloc(chunk + plen);
	assert_non_null(src);
	for (size_t i = 0; i < chunk + plen; i++)
		src[i] = pattern[i % plen];
	const size_t cap = 4096;
	fx_reader *r = make(FX_READ_BLOCKS, cap);
	stream_check sc = {"ERROR 28: backup of /srv failed\nreason: no space", 48, 0, 0, 0};
	for (uint64_t pos = 0; pos < total; pos += chunk) {
		size_t m = total - pos < chunk ? (size_t)(total - pos) : chunk;
		assert_int_equal(fx_reader_feed(r, src + pos % plen, m, check_case, &sc), 0);
	}
	assert_int_equal(fx_reader_finish(r, check_case, &sc), 0);
	uint64_t want = total / plen + (total % plen ? 1 : 0);
	assert_int_equal(sc.cases, want);
	assert_int_equal(sc.bad, 0);
	assert_int_equal(sc.partial, total % plen > 0 && total % plen < 50);
	fx_read_stats st;
	fx_reader_stats(r, &st);
	assert_int_equal(st.bytes, total);
	assert_true(st.peak_bytes <= 2 * (cap + 2) + 1024);
	fx_reader_free(r);

	/* The same stream as one never-ending case: one truncated case, counted to the byte. */
	const uint64_t total2 = (uint64_t)32 << 20;
	r = make(FX_READ_WHOLE, cap);
	coll k;
	memset(&k, 0, sizeof k);
	for (uint64_t pos = 0; pos < total2; pos += chunk)
		assert_int_equal(fx_reader_feed(r, src + pos % plen, chunk, collect, &k), 0);
	assert_int_equal(fx_reader_finish(r, collect, &k), 0);
	assert_int_equal(k.n, 1);
	/* Normalised length: one byte less per CRLF; the tail is a piece of the first line. */
	uint64_t blocks = total2 / plen, rest = total2 % plen;
	assert_true(rest > 0 && rest < 32);
	uint64_t normalised = blocks * (plen - 1) + rest;
	assert_int_equal(k.v[0].len + k.v[0].dropped, normalised);
	assert_true(k.v[0].len <= cap && k.v[0].len > cap - FX_READER_CUT_WINDOW);
	fx_reader_stats(r, &st);
	assert_true(st.peak_bytes <= 2 * (cap + 2) + 1024);
	coll_free(&k);
	fx_reader_free(r);
	free(src);
}

/* --- Stopping, resuming, arguments ------------------------------------------------------------ */

static void test_callback_stops_and_resumes(void **state)
{
	(void)state;
	static const char in[] = "one\r\n\r\ntwo\r\n  \r\nthree\rfour\r\n\r\nfive";
	for (int mode = FX_READ_BLOCKS; mode <= FX_READ_WHOLE; mode++) {
		coll want = run((fx_read_mode)mode, 0, in, sizeof in - 1, 0, NULL);
		coll got;
		memset(&got, 0, sizeof got);
		fx_reader *r = make((fx_read_mode)mode, 0);
		size_t done = 0;
		for (uint64_t stop = 1; stop <= 3; stop++) {
			got.stop_at = stop;
			int rc = fx_reader_feed(r, in + done, sizeof in - 1 - done, collect, &got);
			fx_read_stats st;
			fx_reader_stats(r, &st);
			if (rc == 42) {
				assert_int_equal(got.n, stop);
				assert_true(st.bytes > done);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(st.bytes, sizeof in - 1);
			}
			done = (size_t)st.bytes;
		}
		got.stop_at = 0;
		assert_int_equal(fx_reader_feed(r, in + done, sizeof in - 1 - done, collect, &got),
		                 0);
		assert_int_equal(fx_reader_finish(r, collect, &got), 0);
		assert_same(&want, &got);
		fx_reader_free(r);
		coll_free(&want);
		coll_free(&got);
	}

	/* A stop from finish is passed on too. */
	fx_reader *r = make(FX_READ_WHOLE, 0);
	coll k;
	memset(&k, 0, sizeof k);
	k.stop_at = 1;
	assert_int_equal(fx_reader_feed(r, S("x\n"), collect, &k), 0);
	assert_int_equal(fx_reader_finish(r, collect, &k), 42);
	assert_int_equal(k.n, 1);
	coll_free(&k);
	fx_reader_free(r);
}

static void test_api(void **state)
{
	(void)state;
	fx_reader *r = (fx_reader *)&r; /* any non-NULL value: failures must set *out to NULL */
	assert_int_equal(fx_reader_new(NULL, FX_READ_LINES, 0), FX_EINVAL);
	assert_int_equal(fx_reader_new(&r, (fx_read_mode)7, 0), FX_EINVAL);
	assert_null(r);
	assert_int_equal(fx_reader_new(&r, FX_READ_LINES, SIZE_MAX), FX_EINVAL);
	assert_null(r);
	fx_reader_free(NULL);
	assert_int_equal(fx_reader_feed(NULL, "x", 1, NULL, NULL), FX_EINVAL);
	assert_int_equal(fx_reader_finish(NULL, NULL, NULL), FX_EINVAL);

	r = make(FX_READ_LINES, 0);
	fx_read_stats st;
	fx_reader_stats(r, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.lines, 0);
	assert_true(st.peak_bytes > 0 && st.peak_bytes < 1024); /* nothing allocated up front */
	assert_int_equal(fx_reader_feed(r, NULL, 3, NULL, NULL), FX_EINVAL);
	assert_int_equal(fx_reader_feed(r, NULL, 0, NULL, NULL), 0);
	/* A NULL callback counts cases without delivering them. */
	assert_int_equal(fx_reader_feed(r, S("a\nb\n\nc"), NULL, NULL), 0);
	assert_int_equal(fx_reader_finish(r, NULL, NULL), 0);
	fx_reader_stats(r, &st);
	assert_int_equal(st.cases, 3);
	assert_int_equal(st.lines, 4);
	assert_int_equal(fx_reader_finish(r, NULL, NULL), 0); /* a second finish does nothing */
	fx_reader_stats(r, &st);
	assert_int_equal(st.cases, 3);
	/* A feed after finish starts a new input: numbering starts again. */
	assert_int_equal(fx_reader_feed(r, S("d\ne\n"), NULL, NULL), 0);
	fx_reader_stats(r, &st);
	assert_int_equal(st.cases, 2);
	assert_int_equal(st.lines, 2);
	assert_int_equal(st.bytes, 4);
	assert_int_equal(fx_reader_finish(r, NULL, NULL), 0);

	/* After a reset, numbering starts again, even mid-case and mid-CRLF. */
	fx_reader_reset(r);
	coll k;
	memset(&k, 0, sizeof k);
	assert_int_equal(fx_reader_feed(r, S("half\r"), collect, &k), 0);
	fx_reader_reset(r);
	assert_int_equal(fx_reader_feed(r, S("\nagain"), collect, &k), 0);
	assert_int_equal(fx_reader_finish(r, collect, &k), 0);
	assert_int_equal(k.n, 2);
	expect_case(&k, 0, S("half"), 1, 1, 0);
	assert_int_equal(k.v[1].index, 1);
	assert_int_equal(k.v[1].line, 2);
	assert_int_equal(k.v[1].offset, 1);
	assert_string_equal(k.v[1].text, "again");
	coll_free(&k);
	fx_reader_free(r);

	fx_read_mode m = FX_READ_LINES;
	assert_int_equal(fx_reader_mode_parse("whole", &m), 0);
	assert_int_equal(m, FX_READ_WHOLE);
	assert_int_equal(fx_reader_mode_parse("blocks", &m), 0);
	assert_int_equal(m, FX_READ_BLOCKS);
	assert_int_equal(fx_reader_mode_parse("Lines", &m), FX_EINVAL);
	assert_int_equal(fx_reader_mode_parse(NULL, &m), FX_EINVAL);
	assert_string_equal(fx_reader_mode_name(FX_READ_LINES), "lines");
	assert_string_equal(fx_reader_mode_name((fx_read_mode)9), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_blocks_basic),
	        cmocka_unit_test(test_lines_basic),
	        cmocka_unit_test(test_whole_basic),
	        cmocka_unit_test(test_line_endings),
	        cmocka_unit_test(test_bytes_preserved),
	        cmocka_unit_test(test_chunk_sizes_do_not_matter),
	        cmocka_unit_test(test_matches_reference),
	        cmocka_unit_test(test_cut_rules),
	        cmocka_unit_test(test_cut_window),
	        cmocka_unit_test(test_ten_megabyte_line),
	        cmocka_unit_test(test_endless_stream),
	        cmocka_unit_test(test_callback_stops_and_resumes),
	        cmocka_unit_test(test_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
