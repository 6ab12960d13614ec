/* test_lint.c: unit tests of the linter (engine/lint.c): each warning produced by a minimal
 * knowledge base at its exact place, none by a clean one, and the regex reader that looks for
 * catastrophic backtracking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "lint.h"
#include "regex.h"

/* --- Harness ----------------------------------------------------------------------------------- */

typedef struct rec {
	fx_severity sev;
	char code[32];
	unsigned line, col;
	char msg[800];
	char rule[64];
	char src[200];
} rec;

typedef struct got {
	rec d[64];
	int n;
} got;

static void collect(const fx_diag *d, void *ud)
{
	got *g = ud;
	if (g->n == 64)
		return;
	rec *r = &g->d[g->n++];
	r->sev = d->severity;
	snprintf(r->code, sizeof r->code, "%s", d->code);
	r->line = d->line;
	r->col = d->col;
	snprintf(r->msg, sizeof r->msg, "%s", d->message);
	snprintf(r->rule, sizeof r->rule, "%s", d->rule ? d->rule : "");
	snprintf(r->src, sizeof r->src, "%s", d->source_line ? d->source_line : "(none)");
}

static void dump(const got *g)
{
	for (int i = 0; i < g->n; i++)
		print_message("  %u:%u: [%s] %s (rule %s)\n", g->d[i].line, g->d[i].col, g->d[i].code,
		              g->d[i].msg, g->d[i].rule);
}

/* Load text (which must load cleanly) and lint it into g; returns fx_kb_lint's result. */
static int lint_text(const char *text, got *g)
{
	memset(g, 0, sizeof *g);
	got load;
	memset(&load, 0, sizeof load);
	fx_load_opts o;
	memset(&o, 0, sizeof o);
	o.diag = collect;
	o.diag_ud = &load;
	fx_kb *kb = NULL;
	int rc = fx_kb_load_buffer(&kb, "k.yaml", text, strlen(text), &o);
	if (rc != 0) {
		dump(&load);
		fail_msg("load failed: %d", rc);
	}
	rc = fx_kb_lint(kb, collect, g);
	fx_kb_free(kb);
	return rc;
}

/* The warning with this code, checked to be at line:col, or fail. */
static const rec *expect(const got *g, const char *code, unsigned line, unsigned col)
{
	for (int i = 0; i < g->n; i++)
		if (strcmp(g->d[i].code, code) == 0 && g->d[i].line == line && g->d[i].col == col) {
			assert_int_equal(g->d[i].sev, FX_SEV_WARNING);
			assert_string_not_equal(g->d[i].src, "(none)");
			return &g->d[i];
		}
	dump(g);
	fail_msg("no [%s] at %u:%u", code, line, col);
	return NULL;
}

static void expect_msg(const rec *r, const char *part)
{
	if (!strstr(r->msg, part))
		fail_msg("message '%s' lacks '%s'", r->msg, part);
}

static int count(const got *g, const char *code)
{
	int n = 0;
	for (int i = 0; i < g->n; i++)
		n += strcmp(g->d[i].code, code) == 0;
	return n;
}

/* A knowledge base with nothing to warn about. */
static const char *clean =
        "templates:\n"                                             /* 1 */
        "  - id: symptom\n"                                        /* 2 */
        "    slots: {kind: symbol}\n"                              /* 3 */
        "patterns:\n"                                              /* 4 */
        "  - id: full\n"                                           /* 5 */
        "    regex: 'not enough (?:iCloud )?storage'\n"            /* 6 */
        "    asserts: {symptom: {kind: full}}\n"                   /* 7 */
        "    source: seed article\n"                               /* 8 */
        "    examples: [There is not enough iCloud storage]\n"     /* 9 */
        "  - id: code\n"                                           /* 10 */
        "    regex: 'error (\\d+)'\n"                              /* 11 */
        "    asserts: {symptom: {kind: coded}}\n"                  /* 12 */
        "    source: seed article\n"                               /* 13 */
        "    examples: [error 42]\n"                               /* 14 */
        "remedies:\n"                                              /* 15 */
        "  - id: free-space\n"                                     /* 16 */
        "    title: Free space\n"                                  /* 17 */
        "    steps: [Delete old backups.]\n"                       /* 18 */
        "    cost: 2\n"                                            /* 19 */
        "    source: seed article\n"                               /* 20 */
        "questions:\n"                                             /* 21 */
        "  - id: storage-full\n"                                   /* 22 */
        "    ask: Is your storage full?\n"                         /* 23 */
        "    answers:\n"                                           /* 24 */
        "      yes: [{symptom: {kind: full}}]\n"                   /* 25 */
        "      no: []\n"                                           /* 26 */
        "rules:\n"                                                 /* 27 */
        "  - id: r\n"                                              /* 28 */
        "    because: A full storage stops backups.\n"             /* 29 */
        "    when: [{symptom: {kind: full}}]\n"                    /* 30 */
        "    then:\n"                                              /* 31 */
        "      - conclude: {id: storage-full}\n"                   /* 32 */
        "      - recommend: {remedy: free-space, finding: storage-full}\n" /* 33 */
        "  - id: asks\n"                                           /* 34 */
        "    because: Backups that fail may be out of space.\n"    /* 35 */
        "    when: [{symptom: {kind: coded}}]\n"                   /* 36 */
        "    then: [{ask: storage-full}]\n";                       /* 37 */

/* clean with the first occurrence of `from` replaced by `to`. */
static char *variant(const char *from, const char *to)
{
	const char *at = strstr(clean, from);
	if (!at)
		fail_msg("no '%s' in the clean kb", from);
	size_t n = strlen(clean) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(at - clean), clean, to, at + strlen(from));
	return s;
}

/* --- The checks -------------------------------------------------------------------------------- */

static void test_lint_clean(void **state)
{
	(void)state;
	got g;
	int rc = lint_text(clean, &g);
	if (rc != 0 || g.n != 0) {
		dump(&g);
		fail_msg("a clean kb gave %d warnings", rc);
	}
	assert_int_equal(fx_kb_lint(NULL, collect, &g), FX_EINVAL);
	/* The prelude alone (an empty kb) is clean too. */
	assert_int_equal(lint_text("", &g), 0);
}

static void test_lint_regex_empty(void **state)
{
	(void)state;
	char *s = variant("'not enough (?:iCloud )?storage'", "'(not enough storage)?'");
	got g;
	assert_int_equal(lint_text(s, &g), 1);
	const rec *r = expect(&g, "regex-empty", 6, 12);
	expect_msg(r, "pattern 'full'");
	expect_msg(r, "matches the empty string");
	expect_msg(r, "make some part of it required");
	assert_string_equal(r->src, "    regex: '(not enough storage)?'");
	free(s);
}

static void test_lint_regex_backtrack(void **state)
{
	(void)state;
	/* The column is that of the repetition inside the quoted regex. */
	char *s = variant("'error (\\d+)'", "'error: (\\w+\\s?)+$'");
	got g;
	assert_int_equal(lint_text(s, &g), 1);
	const rec *r = expect(&g, "regex-backtrack", 11, 20);
	expect_msg(r, "pattern 'code'");
	expect_msg(r, "'(\\w+\\s?)+$'");
	expect_msg(r, "possessive");
	free(s);
	/* Also in double quotes with escapes before it. */
	s = variant("'error (\\d+)'", "\"\\\\[(a|a)*\\\\]\"");
	assert_int_equal(lint_text(s, &g), 1);
	expect_msg(expect(&g, "regex-backtrack", 11, 16), "'(a|a)*\\]'");
	free(s);
	/* The same nesting made safe: no warning. */
	s = variant("'error (\\d+)'", "'error: (\\w++\\s?)+$'");
	assert_int_equal(lint_text(s, &g), 0);
	free(s);
}

static void test_lint_rule_unreachable(void **state)
{
	(void)state;
	static const char *text =
	        "templates:\n"                                   /* 1 */
	        "  - id: other\n"                                /* 2 */
	        "    slots: {x: symbol}\n"                       /* 3 */
	        "  - id: derived\n"                              /* 4 */
	        "    slots: {x: symbol}\n"                       /* 5 */
	        "rules:\n"                                       /* 6 */
	        "  - id: dead\n"                                 /* 7 */
	        "    because: x\n"                               /* 8 */
	        "    when:\n"                                    /* 9 */
	        "      - answer: {question: q}\n"                /* 10 */
	        "      - not: {derived: {}}\n"                   /* 11 */
	        "      - other: {x: ?x}\n"                       /* 12 */
	        "    then: [{assert: {derived: {x: ?x}}}]\n"     /* 13 */
	        "  - id: dead2\n"                                /* 14 */
	        "    because: x\n"                               /* 15 */
	        "    when: [{exists: {derived: {}}}]\n"          /* 16 */
	        "  - id: fine\n"                                 /* 17 */
	        "    because: x\n"                               /* 18 */
	        "    when: [{not: {other: {}}}, {tried: {}}]\n"; /* 19 */
	got g;
	assert_int_equal(lint_text(text, &g), 2);
	const rec *r = expect(&g, "rule-unreachable", 12, 9);
	assert_string_equal(r->rule, "dead");
	expect_msg(r, "nothing asserts a 'other' fact");
	expect_msg(r, "add a pattern or fact that asserts one");
	assert_string_equal(r->src, "      - other: {x: ?x}");
	r = expect(&g, "rule-unreachable", 16, 22);
	assert_string_equal(r->rule, "dead2");
	expect_msg(r, "only from rules that can never fire");

	/* An initial fact makes it reachable, and then what it asserts too. */
	size_t n = strlen(text) + 64;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%sfacts:\n  - other: {x: y}\n", text);
	assert_int_equal(lint_text(s, &g), 0);
	free(s);
}

static void test_lint_unused(void **state)
{
	(void)state;
	char *s = variant("questions:\n",
	                  "  - id: buy-disk\n"               /* 21 */
	                  "    title: Buy a disk\n"
	                  "    steps: [Buy one.]\n"
	                  "    cost: 9\n"
	                  "    source: x\n"
	                  "questions:\n"                     /* 26 */
	                  "  - id: wifi-on\n"                /* 27 */
	                  "    ask: Is Wi-Fi on?\n");
	got g;
	assert_int_equal(lint_text(s, &g), 2);
	expect_msg(expect(&g, "remedy-unused", 21, 9), "recommend: {remedy: buy-disk}");
	expect_msg(expect(&g, "question-unused", 27, 9), "add `ask: wifi-on`");
	free(s);
	/* A described finding that no rule concludes. */
	s = variant("questions:\n", "findings:\n"                          /* 21 */
	                             "  - {id: storage-full, title: Storage is full}\n"
	                             "  - {id: disk-gone, title: The disk is gone}\n" /* 23 */
	                             "questions:\n");
	assert_int_equal(lint_text(s, &g), 1);
	expect_msg(expect(&g, "finding-unused", 23, 10), "`conclude: {id: disk-gone");
	free(s);
	/* A remedy computed by a rule could be any: no remedy-unused then. */
	s = variant("      - recommend: {remedy: free-space, finding: storage-full}\n",
	            "      - recommend: {remedy: \"= concat('free-', 'space')\"}\n");
	assert_int_equal(lint_text(s, &g), 0);
	free(s);
}

static void test_lint_pattern_duplicate(void **state)
{
	(void)state;
	/* Same regex once option settings are read as flags. */
	char *s = variant("    regex: 'error (\\d+)'\n",
	                  "    regex: '(?i)not enough (?:iCloud )?storage'\n");
	char *t = malloc(strlen(s) + 16);
	assert_non_null(t);
	const char *at = strstr(s, "    regex: 'not enough");
	snprintf(t, strlen(s) + 16, "%.*s    flags: i\n%s", (int)(at - s), s, at);
	got g;
	assert_int_equal(lint_text(t, &g), 1);
	expect_msg(expect(&g, "pattern-duplicate", 11, 9), "same regex as pattern 'full' (k.yaml:5:9)");
	free(s);
	free(t);
	/* Different regexes, each matching the other's examples. */
	s = variant("'error (\\d+)'\n    asserts: {symptom: {kind: coded}}\n    source: seed article\n"
	            "    examples: [error 42]",
	            "'not enough \\w* ?storage'\n    asserts: {symptom: {kind: coded}}\n"
	            "    source: seed article\n    examples: [not enough storage]");
	assert_int_equal(lint_text(s, &g), 1);
	expect_msg(expect(&g, "pattern-duplicate", 10, 9), "each match all the other's examples");
	free(s);
	/* One way only: not duplicates. */
	s = variant("'error (\\d+)'", "'storage'");
	assert_int_equal(lint_text(s, &g), 0);
	free(s);
}

static void test_lint_missing(void **state)
{
	(void)state;
	char *s = variant("    because: A full storage stops backups.\n", "");
	got g;
	assert_int_equal(lint_text(s, &g), 1);
	const rec *r = expect(&g, "missing-because", 28, 9);
	assert_string_equal(r->rule, "r");
	expect_msg(r, "add `because:`");
	free(s);

	s = variant("    cost: 2\n    source: seed article\n", "    cost: 2\n");
	assert_int_equal(lint_text(s, &g), 1);
	expect_msg(expect(&g, "missing-source", 16, 9), "remedy 'free-space' has no source");
	free(s);

	s = variant("    source: seed article\n", "");
	assert_int_equal(lint_text(s, &g), 1);
	expect_msg(expect(&g, "missing-source", 5, 9), "pattern 'full' has no source");
	free(s);
}

/* Warnings come in file order whatever check found them. */
static void test_lint_order(void **state)
{
	(void)state;
	char *s = variant("    because: A full storage stops backups.\n", "");
	char *t = malloc(strlen(s) + 1);
	assert_non_null(t);
	const char *src = "    source: seed article\n";
	const char *at = strstr(s, src);
	snprintf(t, strlen(s) + 1, "%.*s%s", (int)(at - s), s, at + strlen(src));
	got g;
	assert_int_equal(lint_text(t, &g), 2);
	assert_string_equal(g.d[0].code, "missing-source");
	assert_string_equal(g.d[1].code, "missing-because");
	assert_true(g.d[0].line < g.d[1].line);
	assert_int_equal(count(&g, "missing-source"), 1);
	free(s);
	free(t);
}

/* --- The regex reader ------------------------------------------------------------------------ */

static int backtrack(const char *re, unsigned flags, size_t *off, int run)
{
	fx_buf err, subj;
	fx_buf_init(&err);
	fx_buf_init(&subj);
	size_t eo;
	fx_regex *rx = fx_regex_new(re, strlen(re), flags, &err, &eo);
	if (!rx)
		fail_msg("'%s' does not compile: %s", re, fx_buf_cstr(&err));
	int rc = fx_lint_backtrack(re, strlen(re), flags, run ? rx : NULL, off, &subj);
	if (rc == 2) /* the text it reports is one that exhausts the limit */
		assert_int_equal(fx_regex_match(rx, subj.data, subj.len), FX_ELIMIT);
	fx_regex_free(rx);
	fx_buf_dispose(&err);
	fx_buf_dispose(&subj);
	return rc;
}

static void test_lint_backtrack_reader(void **state)
{
	(void)state;
	static const struct {
		const char *re;
		unsigned flags;
		int found;   /* by the static search */
		int confirm; /* by the run */
		size_t off;
	} cases[] = {
	        {"(a+)+b", 0, 1, 1, 0},
	        {"^(\\w+\\s?)*$", 0, 1, 1, 1},
	        {"(a|a)*b", 0, 1, 1, 0},
	        {"(a|b|ab)*c", 0, 1, 1, 0},
	        {"(x+x+)+y", 0, 1, 1, 0},
	        {"^(([a-z])+.)+[A-Z]([a-z])+$", 0, 1, 1, 1},
	        {"(?i)(A+)+B", 0, 1, 1, 4},
	        {" ( a + ) + b # spaced", FX_RE_EXTENDED, 1, 1, 1},
	        {"(\\d+|\\w+)*!", 0, 1, 1, 0},
	        {"([^ ]+ ?)+$", 0, 1, 0, 0}, /* always matches: never exponential */
	        {"(a+)+", 0, 1, 0, 0},       /* matches at once */
	        {"(a+b)+c", 0, 0, 0, 0},
	        {"(a++)+b", 0, 0, 0, 0},
	        {"(?>a+)+b", 0, 0, 0, 0},
	        {"not enough (?:iCloud )?storage", 0, 0, 0, 0},
	        {"error (?<code>-?\\d+)", 0, 0, 0, 0},
	        {"[(]+[)]*\\Q(a+)+\\E", 0, 0, 0, 0},
	        {"(b+)+c(a)\\1", 0, 1, 1, 0},
	        {"(x)(?(1)(a+)+|b)c", 0, 0, 0, 0}, /* beyond the reader: not suspected */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t off = 99;
		int rc = backtrack(cases[i].re, cases[i].flags, &off, 0);
		if (rc != cases[i].found)
			fail_msg("'%s': static search gave %d", cases[i].re, rc);
		rc = backtrack(cases[i].re, cases[i].flags, &off, 1);
		int want = cases[i].confirm ? 2 : cases[i].found;
		if (rc != want)
			fail_msg("'%s': with the run gave %d, expected %d", cases[i].re, rc, want);
		if (rc && off != cases[i].off)
			fail_msg("'%s': offset %zu, expected %zu", cases[i].re, off, cases[i].off);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lint_clean),
	        cmocka_unit_test(test_lint_regex_empty),
	        cmocka_unit_test(test_lint_regex_backtrack),
	        cmocka_unit_test(test_lint_rule_unreachable),
	        cmocka_unit_test(test_lint_unused),
	        cmocka_unit_test(test_lint_pattern_duplicate),
	        cmocka_unit_test(test_lint_missing),
	        cmocka_unit_test(test_lint_order),
	        cmocka_unit_test(test_lint_backtrack_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
