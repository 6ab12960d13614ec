/* test_text.c: unit tests for text.c through the public API: texts become facts with their
 * captures converted, provenance with exact spans, rules firing on those facts, warnings
 * (conversion, match cap, regex limit), bytes of any value, retraction, reset, and the reader
 * feeding cases into fx_text_assert. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "buf.h"

/* --- Helpers ---------------------------------------------------------------------------------- */

#define S(lit) lit, sizeof(lit) - 1

static void print_diag(const fx_diag *d, void *ud)
{
	(void)ud;
	print_error("%s:%u:%u: %s: %s\n", d->file ? d->file : "?", d->line, d->col, d->code,
	            d->message);
}

static fx_kb *load(const char *yaml)
{
	fx_load_opts o;
	memset(&o, 0, sizeof o);
	o.diag = print_diag;
	fx_kb *kb = NULL;
	int rc = fx_kb_load_buffer(&kb, "t.yaml", yaml, strlen(yaml), &o);
	if (rc)
		print_error("load: %s\n", fx_strerror(rc));
	assert_int_equal(rc, 0);
	return kb;
}

static const char kb_text[] =
        "templates:\n"
        "  - id: error-code\n"
        "    slots: {code: integer, text: string}\n"
        "  - id: symptom\n"
        "    slots: {kind: symbol}\n"
        "  - id: disk\n"
        "    slots: {device: symbol, pct: float, bang: symbol, source: symbol}\n"
        "  - id: setting\n"
        "    slots: {on: boolean}\n"
        "  - id: num\n"
        "    slots: {k: integer}\n"
        "  - id: alert\n"
        "    slots: {code: integer}\n"
        "patterns:\n"
        "  - id: err-code\n"
        "    regex: 'error (?<code>-?\\w+)'\n"
        "    asserts:\n"
        "      - error-code: {code: ?code, text: ?_match}\n"
        "      - symptom: {kind: saw-error}\n"
        "  - id: storage\n"
        "    regex: 'not enough (?:iCloud )?storage'\n"
        "    flags: i\n"
        "    asserts: {symptom: {kind: storage-full}}\n"
        "  - id: disk\n"
        "    regex: '(?<dev>/dev/\\w+) at (?<pct>[\\w.]+)%(?<bang>!)?'\n"
        "    asserts: {disk: {device: ?dev, pct: ?pct, bang: ?bang, source: df}}\n"
        "  - id: setting\n"
        "    regex: 'enabled=(?<v>\\w+)'\n"
        "    asserts: {setting: {on: ?v}}\n"
        "  - id: tag\n"
        "    regex: 'tag=(?<t>\\S*)'\n"
        "    asserts: {symptom: {kind: ?t}}\n"
        "  - id: num\n"
        "    regex: 'n(?<k>\\d+)'\n"
        "    asserts: {num: {k: ?k}}\n"
        "  - id: slow\n"
        "    regex: '(a+)+c$|slowok'\n"
        "    flags: m\n"
        "    asserts: {symptom: {kind: slow}}\n"
        "rules:\n"
        "  - id: storage-full\n"
        "    when:\n"
        "      - symptom: {kind: storage-full}\n"
        "    then:\n"
        "      - conclude: {id: icloud-full, certainty: 0.9}\n"
        "  - id: alert-on-error\n"
        "    when:\n"
        "      - error-code: {code: ?c}\n"
        "    then:\n"
        "      - assert: {alert: {code: ?c}}\n"
        "remedies:\n"
        "  - id: free-space\n"
        "    title: Free some space\n"
        "    steps: [Delete old backups., Empty the bin.]\n"
        "    cost: 2\n"
        "    warning: Deleted backups are gone.\n"
        "  - id: reboot\n"
        "    title: Restart\n"
        "    steps: [Restart the phone.]\n"
        "    cost: 1\n"
        "    source: folklore\n";

/* Warnings received, as owned copies. */
typedef struct warns {
	size_t n;
	char code[8][32];
	char msg[8][512];
	char file[8][32];
	char source_line[8][128];
	unsigned line[8], col[8], span[8];
} warns;

static void on_warn(const fx_diag *d, void *ud)
{
	warns *w = ud;
	assert_int_equal(d->severity, FX_SEV_WARNING);
	if (w->n < 8) {
		snprintf(w->code[w->n], sizeof w->code[0], "%s", d->code);
		snprintf(w->msg[w->n], sizeof w->msg[0], "%s", d->message);
		snprintf(w->file[w->n], sizeof w->file[0], "%s", d->file ? d->file : "(null)");
		snprintf(w->source_line[w->n], sizeof w->source_line[0], "%s",
		         d->source_line ? d->source_line : "(null)");
		w->line[w->n] = d->line;
		w->col[w->n] = d->col;
		w->span[w->n] = d->span;
	}
	w->n++;
}

typedef struct fixture {
	fx_kb *kb;
	fx_session *s;
	warns w;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->kb = load(kb_text);
	assert_int_equal(fx_session_new(&f->s, f->kb), 0);
	fx_session_set_warn(f->s, on_warn, &f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	fx_session_free(f->s);
	fx_kb_free(f->kb);
	free(f);
	return 0;
}

/* The id of the live fact printed as `want`, or 0. */
static uint64_t find_fact(fx_session *s, const char *want)
{
	char buf[512];
	uint64_t id = 0;
	while (fx_session_fact_next(s, id, &id)) {
		int n = fx_session_fact_format(s, id, buf, sizeof buf);
		assert_true(n >= 0);
		if (strcmp(buf, want) == 0)
			return id;
	}
	return 0;
}

static void print_facts(fx_session *s)
{
	char buf[512];
	uint64_t id = 0;
	while (fx_session_fact_next(s, id, &id)) {
		fx_session_fact_format(s, id, buf, sizeof buf);
		print_message("f-%llu %s\n", (unsigned long long)id, buf);
	}
}

static uint64_t must_find(fx_session *s, const char *want)
{
	uint64_t id = find_fact(s, want);
	if (!id) {
		print_error("no fact %s among:\n", want);
		print_facts(s);
	}
	assert_true(id != 0);
	return id;
}

static void expect_origin(fx_session *s, uint64_t id, const char *pattern, const char *input,
                          uint64_t case_index, uint64_t line, size_t start, size_t end)
{
	fx_text_origin o;
	assert_int_equal(fx_text_origin_get(s, id, &o), 1);
	assert_string_equal(o.pattern, pattern);
	if (input)
		assert_string_equal(o.input, input);
	else
		assert_null(o.input);
	assert_int_equal(o.case_index, case_index);
	assert_int_equal(o.line, line);
	assert_int_equal(o.start, start);
	assert_int_equal(o.end, end);
}

/* --- Tests -------------------------------------------------------------------------------------- */

static void test_kb_accessors(void **state)
{
	fixture *f = *state;
	assert_int_equal(fx_kb_pattern_count(f->kb), 7);
	assert_string_equal(fx_kb_pattern_name(f->kb, 0), "err-code");
	assert_string_equal(fx_kb_pattern_name(f->kb, 6), "slow");
	assert_null(fx_kb_pattern_name(f->kb, 7));
	assert_null(fx_kb_pattern_name(NULL, 0));

	assert_int_equal(fx_kb_remedy_count(f->kb), 2);
	assert_int_equal(fx_kb_remedy_find(f->kb, "reboot"), 1);
	assert_int_equal(fx_kb_remedy_find(f->kb, "nope"), -1);
	assert_int_equal(fx_kb_remedy_find(f->kb, NULL), -1);
	fx_remedy_info r;
	assert_int_equal(fx_kb_remedy_get(f->kb, 0, &r), 0);
	assert_string_equal(r.id, "free-space");
	assert_string_equal(r.title, "Free some space");
	assert_int_equal(r.nsteps, 2);
	assert_string_equal(r.steps[0], "Delete old backups.");
	assert_string_equal(r.steps[1], "Empty the bin.");
	assert_int_equal(r.cost, 2);
	assert_string_equal(r.warning, "Deleted backups are gone.");
	assert_null(r.source);
	assert_int_equal(fx_kb_remedy_get(f->kb, 1, &r), 0);
	assert_null(r.warning);
	assert_string_equal(r.source, "folklore");
	assert_int_equal(fx_kb_remedy_get(f->kb, 2, &r), FX_ENOTFOUND);
	assert_int_equal(fx_kb_remedy_get(f->kb, 0, NULL), FX_EINVAL);
	assert_int_equal(fx_kb_remedy_get(NULL, 0, &r), FX_EINVAL);
}

static void test_facts_provenance_and_rules(void **state)
{
	fixture *f = *state;
	char input[] = "log.txt";
	fx_origin o = {input, 3, 10, 100};
	const char text[] = "backup failed: error 42, then error -7\nNot enough iCloud storage";
	size_t n = 99;
	assert_int_equal(fx_text_assert(f->s, S(text), &o, &n), 0);
	/* error-code twice, saw-error once (the second is a duplicate), storage-full */
	assert_int_equal(n, 4);
	assert_int_equal(f->w.n, 0);
	input[0] = 'X'; /* the name was copied */

	uint64_t e42 = must_find(f->s, "(error-code (code 42) (text \"error 42\"))");
	uint64_t e7 = must_find(f->s, "(error-code (code -7) (text \"error -7\"))");
	uint64_t saw = must_find(f->s, "(symptom (kind saw-error))");
	uint64_t full = must_find(f->s, "(symptom (kind storage-full))");
	expect_origin(f->s, e42, "err-code", "log.txt", 3, 10, 15, 23);
	expect_origin(f->s, e7, "err-code", "log.txt", 3, 10, 30, 38);
	expect_origin(f->s, saw, "err-code", "log.txt", 3, 10, 15, 23); /* the first match's */
	expect_origin(f->s, full, "storage", "log.txt", 3, 10, 39, 64);
	assert_memory_equal(text + 39, "Not enough iCloud storage", 64 - 39);

	/* Rules are not run by fx_text_assert, but fire on these facts afterwards. */
	assert_int_equal(find_fact(f->s, "(alert (code 42))"), 0);
	uint64_t fired = 0;
	assert_int_equal(fx_session_run(f->s, 0, &fired), 0);
	assert_int_equal(fired, 3);
	uint64_t a42 = must_find(f->s, "(alert (code 42))");
	must_find(f->s, "(alert (code -7))");
	uint64_t fin = must_find(f->s, "(finding (id icloud-full) (certainty 0.9) (rule storage-full))");
	/* Facts from rules have no provenance. */
	fx_text_origin to;
	assert_int_equal(fx_text_origin_get(f->s, a42, &to), 0);
	assert_null(to.pattern);
	assert_int_equal(fx_text_origin_get(f->s, fin, NULL), 0);
	assert_int_equal(fx_text_origin_get(f->s, e42, NULL), 1);
	assert_int_equal(fx_text_origin_get(f->s, 9999, &to), 0);
	assert_int_equal(fx_text_origin_get(NULL, e42, &to), 0);

	/* No origin at all: no input, zero case and line. */
	assert_int_equal(fx_text_assert(f->s, S("error 5"), NULL, &n), 0);
	assert_int_equal(n, 1);
	expect_origin(f->s, must_find(f->s, "(error-code (code 5) (text \"error 5\"))"), "err-code",
	              NULL, 0, 0, 0, 7);
}

static void test_conversions(void **state)
{
	fixture *f = *state;
	fx_origin o = {"in.log", 1, 20, 0};
	const char text[] = "ok\nthen error abc and /dev/sda1 at 93.5%! enabled=yes\n"
	                    "/dev/sdb at 7% enabled=true /dev/sdc at 1e999% enabled=false\n"
	                    "error 99999999999999999999";
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, S(text), &o, &n), 0);
	/* saw-error, disk sda1, disk sdb, setting true, setting false */
	assert_int_equal(n, 5);
	must_find(f->s, "(symptom (kind saw-error))");
	must_find(f->s, "(disk (device /dev/sda1) (pct 93.5) (bang !) (source df))");
	/* the optional group took no part: the empty text */
	uint64_t sdb = must_find(f->s, "(disk (device /dev/sdb) (pct 7.0) (bang ) (source df))");
	fx_value v;
	assert_int_equal(fx_session_fact_slot(f->s, sdb, 2, &v), 0);
	assert_int_equal(v.type, FX_SYMBOL);
	assert_int_equal(v.len, 0);
	must_find(f->s, "(setting (on true))");
	must_find(f->s, "(setting (on false))");

	/* Four conversions failed, in text order; each skipped its fact only. */
	assert_int_equal(f->w.n, 4);
	assert_string_equal(f->w.code[0], "capture-type");
	assert_string_equal(f->w.msg[0], "pattern 'err-code': ?code captured 'abc' for slot 'code' "
	                                 "(integer) of template 'error-code', which takes a decimal "
	                                 "integer; the fact is skipped");
	assert_string_equal(f->w.file[0], "in.log");
	assert_int_equal(f->w.line[0], 21);
	assert_int_equal(f->w.col[0], 12);
	assert_int_equal(f->w.span[0], 3);
	assert_string_equal(f->w.source_line[0],
	                    "then error abc and /dev/sda1 at 93.5%! enabled=yes");
	assert_true(strstr(f->w.msg[1], "pattern 'setting': ?v captured 'yes' for slot 'on' "
	                                "(boolean)") != NULL);
	assert_int_equal(f->w.line[1], 21);
	assert_int_equal(f->w.col[1], 48);
	assert_true(strstr(f->w.msg[2], "'1e999'") && strstr(f->w.msg[2], "within the range"));
	assert_int_equal(f->w.line[2], 22);
	assert_int_equal(f->w.col[2], 41);
	assert_true(strstr(f->w.msg[3], "'99999999999999999999'") &&
	            strstr(f->w.msg[3], "an integer within 64 bits"));
	assert_int_equal(f->w.line[3], 23);
	assert_int_equal(f->w.col[3], 7);

	/* Without a callback the same problems are silent and still skip their facts. */
	fx_session_set_warn(f->s, NULL, NULL);
	assert_int_equal(fx_text_assert(f->s, S("error xyz"), &o, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(f->w.n, 4);
}

static void test_bytes_of_any_value(void **state)
{
	fixture *f = *state;
	/* invalid UTF-8, a NUL inside a capture, a NUL before a match */
	const char text[] = "\xff\xfe tag=a\0b\xc3 x\0error 5\xc3(";
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, S(text), NULL, &n), 0);
	assert_int_equal(n, 3); /* symptom a\0b\xc3, error-code 5, saw-error */
	assert_int_equal(f->w.n, 0);
	uint64_t id = 0, tag = 0;
	while (fx_session_fact_next(f->s, id, &id)) {
		fx_value v;
		if (fx_session_fact_template(f->s, id) != fx_kb_template_find(f->kb, "symptom"))
			continue;
		assert_int_equal(fx_session_fact_slot(f->s, id, 0, &v), 0);
		if (v.len == 4 && memcmp(v.u.text, "a\0b\xc3", 4) == 0)
			tag = id;
	}
	assert_true(tag != 0);
	expect_origin(f->s, tag, "tag", NULL, 0, 0, 3, 11);
	uint64_t e5 = 0;
	id = 0;
	while (fx_session_fact_next(f->s, id, &id)) {
		fx_value v;
		if (fx_session_fact_template(f->s, id) != fx_kb_template_find(f->kb, "error-code"))
			continue;
		assert_int_equal(fx_session_fact_slot(f->s, id, 0, &v), 0);
		assert_int_equal(v.u.i, 5);
		e5 = id;
	}
	assert_true(e5 != 0);
	expect_origin(f->s, e5, "err-code", NULL, 0, 0, 14, 21);
	assert_memory_equal(text + 14, "error 5", 7);

	/* An empty text, and a NULL one of length 0, assert nothing. */
	assert_int_equal(fx_text_assert(f->s, "", 0, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fx_text_assert(f->s, NULL, 0, NULL, &n), 0);
	assert_int_equal(fx_text_assert(f->s, NULL, 1, NULL, &n), FX_EINVAL);
	assert_int_equal(fx_text_assert(NULL, "x", 1, NULL, &n), FX_EINVAL);
}

static void test_match_cap(void **state)
{
	fixture *f = *state;
	size_t len = 0, cap = 1600 * 7;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 1500; i++)
		len += (size_t)snprintf(text + len, cap - len, "n%d ", i);
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, text, len, NULL, &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(f->w.n, 1);
	assert_string_equal(f->w.code[0], "too-many-matches");
	char want[128];
	size_t off = (size_t)(strstr(text, " n1000 ") + 1 - text);
	snprintf(want, sizeof want,
	         "pattern 'num' matched more than 1000 times in this text; its matches from byte "
	         "offset %zu on are ignored",
	         off);
	assert_string_equal(f->w.msg[0], want);
	must_find(f->s, "(num (k 999))");
	assert_int_equal(find_fact(f->s, "(num (k 1000))"), 0);
	/* The cap is per call: the next call starts counting again. */
	assert_int_equal(fx_text_assert(f->s, S("n1000 n1001"), NULL, &n), 0);
	assert_int_equal(n, 2);
	free(text);
}

static void test_regex_limit_warning(void **state)
{
	fixture *f = *state;
	char text[128];
	memset(text, 'a', 40);
	strcpy(text + 40, "b\nslowok");
	fx_origin o = {"big.log", 2, 7, 0};
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, text, strlen(text), &o, &n), 0);
	/* the first line was given up, the second still matched */
	assert_int_equal(n, 1);
	must_find(f->s, "(symptom (kind slow))");
	assert_int_equal(f->w.n, 1);
	assert_string_equal(f->w.code[0], "regex-limit");
	assert_true(strstr(f->w.msg[0], "pattern 'slow'") != NULL);
	assert_true(strstr(f->w.msg[0], "byte offset 0") != NULL);
	assert_int_equal(f->w.line[0], 7);
	assert_int_equal(f->w.col[0], 1);
}

static void test_retract_modify_duplicate(void **state)
{
	fixture *f = *state;
	fx_origin o1 = {"a", 1, 1, 0}, o2 = {"b", 2, 5, 9};
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, S("error 1 error 2"), &o1, &n), 0);
	assert_int_equal(n, 3);
	uint64_t e1 = must_find(f->s, "(error-code (code 1) (text \"error 1\"))");
	uint64_t e2 = must_find(f->s, "(error-code (code 2) (text \"error 2\"))");
	uint64_t saw = must_find(f->s, "(symptom (kind saw-error))");

	/* The same facts again from elsewhere: duplicates keep their first provenance. */
	assert_int_equal(fx_text_assert(f->s, S("xx error 1"), &o2, &n), 0);
	assert_int_equal(n, 0);
	expect_origin(f->s, e1, "err-code", "a", 1, 1, 0, 7);
	expect_origin(f->s, saw, "err-code", "a", 1, 1, 0, 7);

	/* A fact asserted through the API first has none, even when text produces it later. */
	uint64_t api = 0;
	assert_int_equal(fx_session_assert_text(f->s, "(symptom (kind storage-full))", &api), 0);
	assert_int_equal(fx_text_assert(f->s, S("not enough storage"), &o2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fx_text_origin_get(f->s, api, NULL), 0);

	/* Retraction drops provenance; modify keeps the id and the provenance. */
	assert_int_equal(fx_session_retract(f->s, e1), 0);
	assert_int_equal(fx_text_origin_get(f->s, e1, NULL), 0);
	const char *slot = "code";
	fx_value v = fx_value_integer(20);
	assert_int_equal(fx_session_modify(f->s, e2, &slot, &v, 1), 0);
	expect_origin(f->s, e2, "err-code", "a", 1, 1, 8, 15);
	/* Provenance of the other facts survives the table's deletions. */
	expect_origin(f->s, saw, "err-code", "a", 1, 1, 0, 7);

	/* Asserted again from text after its retraction: a new fact with a new provenance. */
	assert_int_equal(fx_text_assert(f->s, S("xx error 1"), &o2, &n), 0);
	assert_int_equal(n, 1);
	uint64_t e1b = must_find(f->s, "(error-code (code 1) (text \"error 1\"))");
	assert_true(e1b != e1);
	expect_origin(f->s, e1b, "err-code", "b", 2, 5, 3, 10);

	/* A rule that retracts: the fact's provenance goes with it (many facts, so the table
	 * grows and deletes across collisions). */
	char buf[64];
	uint64_t ids[300];
	for (int i = 0; i < 300; i++) {
		int len = snprintf(buf, sizeof buf, "n%d", i);
		assert_int_equal(fx_text_assert(f->s, buf, (size_t)len, &o1, &n), 0);
		assert_int_equal(n, 1);
		snprintf(buf, sizeof buf, "(num (k %d))", i);
		ids[i] = must_find(f->s, buf);
	}
	for (int i = 0; i < 300; i += 2)
		assert_int_equal(fx_session_retract(f->s, ids[i]), 0);
	for (int i = 0; i < 300; i++) {
		fx_text_origin to;
		assert_int_equal(fx_text_origin_get(f->s, ids[i], &to), i % 2);
		if (i % 2)
			assert_int_equal(to.end, (size_t)snprintf(buf, sizeof buf, "n%d", i));
	}
}

static void test_reset_clears(void **state)
{
	fixture *f = *state;
	fx_origin o = {"r", 1, 1, 0};
	size_t n = 0;
	assert_int_equal(fx_text_assert(f->s, S("error 1"), &o, &n), 0);
	uint64_t e1 = must_find(f->s, "(error-code (code 1) (text \"error 1\"))");
	assert_int_equal(fx_text_origin_get(f->s, e1, NULL), 1);
	assert_int_equal(fx_session_reset(f->s), 0);
	assert_int_equal(fx_session_fact_count(f->s), 0);
	assert_int_equal(fx_text_origin_get(f->s, e1, NULL), 0);
	/* ids start again: the same id now names a fact from another text */
	fx_origin o2 = {"s", 4, 2, 0};
	assert_int_equal(fx_text_assert(f->s, S(" not enough storage"), &o2, &n), 0);
	assert_int_equal(n, 1);
	uint64_t sf = must_find(f->s, "(symptom (kind storage-full))");
	expect_origin(f->s, sf, "storage", "s", 4, 2, 1, 19);
	assert_int_equal(fx_session_reset(f->s), 0);
	assert_int_equal(fx_text_origin_get(f->s, sf, NULL), 0);
}

/* --- The reader feeding cases, as `fixit diagnose` does ----------------------------------------- */

typedef struct feed_ctx {
	fx_session *s;
	const char *input;
	size_t facts;
	uint64_t cases;
} feed_ctx;

static int diagnose_case(void *ud, const fx_case *c)
{
	feed_ctx *k = ud;
	fx_origin o = {k->input, c->index, c->line, c->offset};
	size_t n = 0;
	int rc = fx_text_assert(k->s, c->text, c->len, &o, &n);
	k->facts += n;
	k->cases++;
	return rc;
}

static void test_reader_to_facts(void **state)
{
	fixture *f = *state;
	fx_reader *r = NULL;
	assert_int_equal(fx_reader_new(&r, FX_READ_BLOCKS, 0), 0);
	feed_ctx k = {f->s, "paste", 0, 0};
	const char in[] = "\n  \nfirst: error 12\r\nnot enough storage\r\n\r\nsecond\nerror 13";
	/* byte by byte: chunks make no difference */
	for (size_t i = 0; i < sizeof in - 1; i++)
		assert_int_equal(fx_reader_feed(r, in + i, 1, diagnose_case, &k), 0);
	assert_int_equal(k.cases, 1);
	assert_int_equal(fx_reader_finish(r, diagnose_case, &k), 0);
	assert_int_equal(k.cases, 2);
	assert_int_equal(k.facts, 4); /* e12, saw-error, storage-full, e13 */
	uint64_t e12 = must_find(f->s, "(error-code (code 12) (text \"error 12\"))");
	expect_origin(f->s, e12, "err-code", "paste", 1, 3, 7, 15);
	/* the case's text has \n for \r\n: the span counts in it */
	uint64_t sf = must_find(f->s, "(symptom (kind storage-full))");
	expect_origin(f->s, sf, "storage", "paste", 1, 3, 16, 34);
	uint64_t e13 = must_find(f->s, "(error-code (code 13) (text \"error 13\"))");
	expect_origin(f->s, e13, "err-code", "paste", 2, 6, 7, 15);

	/* After finish the reader takes a new input, numbered from 1 again. */
	k.input = "second-input";
	assert_int_equal(fx_reader_feed(r, S("error 14\n"), diagnose_case, &k), 0);
	assert_int_equal(fx_reader_finish(r, diagnose_case, &k), 0);
	uint64_t e14 = must_find(f->s, "(error-code (code 14) (text \"error 14\"))");
	expect_origin(f->s, e14, "err-code", "second-input", 1, 1, 0, 8);
	fx_reader_free(r);

	/* Lines mode with a cap: the long case is truncated, not dropped. */
	assert_int_equal(fx_reader_new(&r, FX_READ_LINES, 16), 0);
	k.input = "capped";
	assert_int_equal(fx_reader_feed(r, S("0123456789 error 15 and more\nerror 16\n"),
	                                diagnose_case, &k), 0);
	assert_int_equal(fx_reader_finish(r, diagnose_case, &k), 0);
	assert_int_equal(find_fact(f->s, "(error-code (code 15) (text \"error 15\"))"), 0);
	must_find(f->s, "(error-code (code 16) (text \"error 16\"))");
	fx_reader_free(r);
	fx_reader_free(NULL);

	assert_int_equal(fx_reader_new(NULL, FX_READ_WHOLE, 0), FX_EINVAL);
	assert_int_equal(fx_reader_feed(NULL, "x", 1, NULL, NULL), FX_EINVAL);
	assert_int_equal(fx_reader_finish(NULL, NULL, NULL), FX_EINVAL);
}

static void test_kb_without_patterns(void **state)
{
	(void)state;
	fx_kb *kb = load("templates:\n  - id: t\n    slots: {a: symbol}\n");
	assert_int_equal(fx_kb_pattern_count(kb), 0);
	assert_int_equal(fx_kb_remedy_count(kb), 0);
	fx_remedy_info r;
	assert_int_equal(fx_kb_remedy_get(kb, 0, &r), FX_ENOTFOUND);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	size_t n = 5;
	assert_int_equal(fx_text_assert(s, S("anything at all"), NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fx_session_fact_count(s), 0);
	assert_int_equal(fx_text_origin_get(s, 1, NULL), 0);
	fx_session_set_warn(NULL, NULL, NULL);
	fx_session_free(s);
	fx_kb_free(kb);
}

/* fx_text_scan_lines: one prefilter pass over many lines names those a pattern may match. */
struct line_list {
	size_t start[16], end[16];
	size_t n;
};

static int on_line(void *ud, size_t start, size_t end)
{
	struct line_list *l = ud;
	if (l->n < 16) {
		l->start[l->n] = start;
		l->end[l->n] = end;
	}
	l->n++;
	return 0;
}

static void test_scan_lines(void **state)
{
	(void)state;
	fx_kb *kb = load("templates:\n  - id: t\n    slots: {a: symbol}\n"
	                 "patterns:\n  - id: p\n    regex: 'not enough (?:iCloud )?storage'\n"
	                 "    flags: i\n    asserts: {t: {a: x}}\n");
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	/* Over 64 KiB, so that the prefilter is built by this scan. */
	fx_buf text;
	fx_buf_init(&text);
	size_t want[3], nwant = 0;
	for (int i = 0; i < 2000; i++) {
		if (i == 3 || i == 1000 || i == 1999) {
			want[nwant++] = text.len;
			fx_buf_printf(&text, "line %d: NOT ENOUGH storage\n", i);
		} else {
			fx_buf_printf(&text, "line %d: enough said, storage fine, nothing to see here\n", i);
		}
	}
	assert_true(text.len > 65536);
	struct line_list l = {{0}, {0}, 0};
	assert_int_equal(fx_text_scan_lines(s, text.data, text.len, on_line, &l), 0);
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(l.start[i], want[i]);
		assert_int_equal(text.data[l.end[i]], '\n');
	}
	/* A line not reported asserts nothing; a reported one does. */
	size_t n = 9;
	assert_int_equal(fx_text_assert(s, text.data, l.start[0] - 1, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fx_text_assert(s, text.data + l.start[0], l.end[0] - l.start[0], NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fx_text_scan_lines(s, text.data, text.len, NULL, &l), FX_EINVAL);
	assert_int_equal(fx_text_scan_lines(NULL, text.data, text.len, on_line, &l), FX_EINVAL);
	fx_session_free(s);
	fx_kb_free(kb);

	/* A pattern with nothing literal to look for: every line may match. */
	kb = load(kb_text);
	assert_int_equal(fx_session_new(&s, kb), 0);
	l.n = 0;
	assert_int_equal(fx_text_scan_lines(s, text.data, text.len, on_line, &l), 1);
	assert_int_equal(l.n, 0);
	fx_session_free(s);
	fx_kb_free(kb);

	/* No patterns: no line asserts anything. */
	kb = load("templates:\n  - id: t\n    slots: {a: symbol}\n");
	assert_int_equal(fx_session_new(&s, kb), 0);
	assert_int_equal(fx_text_scan_lines(s, text.data, text.len, on_line, &l), 0);
	assert_int_equal(l.n, 0);
	fx_session_free(s);
	fx_kb_free(kb);
	fx_buf_dispose(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_kb_accessors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_facts_provenance_and_rules, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bytes_of_any_value, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_match_cap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_regex_limit_warning, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_retract_modify_duplicate, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reset_clears, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reader_to_facts, setup, teardown),
	        cmocka_unit_test(test_kb_without_patterns),
	        cmocka_unit_test(test_scan_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
