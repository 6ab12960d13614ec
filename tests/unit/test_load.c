/* test_load.c: unit tests of the loader (engine/load.c): YAML texts and small directory trees
 * in, the checked program (ast.h) or the exact diagnostics (code, file:line:col) out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "load.h"
#include "expr.h"
#include "regex.h"

/* --- Harness ----------------------------------------------------------------------------------- */

typedef struct rec {
	fx_severity sev;
	char code[32];
	char file[512];
	unsigned line, col, span;
	char msg[600];
	char rule[64];
} rec;

typedef struct lt {
	fx_arena arena;
	fx_atoms atoms;
	fx_vec regexes;
	fx_reporter rep;
	fx_program prog;
	rec d[128];
	int nd;
	int rc;
} lt;

static void collect(const fx_diag *d, void *ud)
{
	lt *t = ud;
	if (t->nd == 128)
		return;
	rec *r = &t->d[t->nd++];
	r->sev = d->severity;
	snprintf(r->code, sizeof r->code, "%s", d->code);
	snprintf(r->file, sizeof r->file, "%s", d->file ? d->file : "");
	r->line = d->line;
	r->col = d->col;
	r->span = d->span;
	snprintf(r->msg, sizeof r->msg, "%s", d->message);
	snprintf(r->rule, sizeof r->rule, "%s", d->rule ? d->rule : "");
}

static void lt_init(lt *t)
{
	memset(t, 0, sizeof *t);
	fx_arena_init(&t->arena);
	fx_atoms_init(&t->atoms, NULL);
	fx_vec_init(&t->regexes);
	fx_reporter_init(&t->rep, collect, t, 1000);
}

static void lt_free(lt *t)
{
	for (size_t i = 0; i < t->regexes.len; i++)
		fx_regex_free(t->regexes.items[i]);
	fx_vec_dispose(&t->regexes);
	fx_reporter_dispose(&t->rep);
	fx_atoms_dispose(&t->atoms);
	fx_arena_dispose(&t->arena);
}

static void dump(const lt *t)
{
	for (int i = 0; i < t->nd; i++)
		print_message("  %s:%u:%u: %s [%s] %s\n", t->d[i].file, t->d[i].line, t->d[i].col,
		              t->d[i].sev == FX_SEV_ERROR ? "error" : "warning", t->d[i].code,
		              t->d[i].msg);
}

static int load_text(lt *t, const char *text)
{
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.buf = text;
	in.len = strlen(text);
	in.name = "t.yaml";
	t->rc = fx_load_program(&t->prog, &t->arena, &t->atoms, &t->regexes, &t->rep, &in);
	return t->rc;
}

static int load_paths(lt *t, const char *const *paths, size_t n)
{
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.paths = paths;
	in.npaths = n;
	t->rc = fx_load_program(&t->prog, &t->arena, &t->atoms, &t->regexes, &t->rep, &in);
	return t->rc;
}

/* A text that must load without errors or warnings. */
static void load_ok(lt *t, const char *text)
{
	int rc = load_text(t, text);
	if (rc != 0 || t->nd != 0) {
		dump(t);
		fail_msg("expected a clean load, got rc %d and %d diagnostics", rc, t->nd);
	}
}

static const rec *find(const lt *t, const char *code, unsigned line, unsigned col)
{
	for (int i = 0; i < t->nd; i++)
		if (strcmp(t->d[i].code, code) == 0 && t->d[i].line == line && t->d[i].col == col)
			return &t->d[i];
	return NULL;
}

/* Assert a diagnostic with this code at line:col, and return it. */
static const rec *expect(const lt *t, const char *code, unsigned line, unsigned col)
{
	const rec *r = find(t, code, line, col);
	if (!r) {
		dump(t);
		fail_msg("no [%s] at %u:%u", code, line, col);
	}
	return r;
}

static void expect_msg(const rec *r, const char *part)
{
	if (!strstr(r->msg, part))
		fail_msg("message '%s' lacks '%s'", r->msg, part);
}

/* Exactly one diagnostic, with this code at line:col. */
static const rec *expect_only(const lt *t, const char *code, unsigned line, unsigned col)
{
	if (t->nd != 1) {
		dump(t);
		fail_msg("expected exactly one diagnostic [%s] at %u:%u, got %d", code, line, col,
		         t->nd);
	}
	return expect(t, code, line, col);
}

static const char *atom(fx_val v)
{
	return v.u.a->text;
}

static const fx_rule_def *rule(const lt *t, const char *name)
{
	for (uint32_t i = 0; i < t->prog.nrules; i++)
		if (strcmp(t->prog.rules[i].name, name) == 0)
			return &t->prog.rules[i];
	fail_msg("no rule %s", name);
	return NULL;
}

/* Every program starts with the prelude's templates (finding, recommend, ask, answer, tried)
 * and file: a user's first template has index NB, a user's first file index 1. */
#define NB 5

static const char *tmpls =
        "templates:\n"
        "  - id: p\n"
        "    slots: {name: symbol, age: integer, w: float, ok: boolean, s: string}\n"
        "  - id: q\n"
        "    slots: {a: symbol, b: integer}\n";

/* tmpls followed by text (which starts at line 6). */
static int load_with(lt *t, const char *text)
{
	size_t n = strlen(tmpls) + strlen(text) + 1;
	char *all = malloc(n);
	assert_non_null(all);
	snprintf(all, n, "%s%s", tmpls, text);
	int rc = load_text(t, all);
	free(all);
	return rc;
}

/* --- Good programs ------------------------------------------------------------------------------ */

static void test_load_empty(void **state)
{
	(void)state;
	const char *texts[] = {"", "# nothing\n", "---\n", "~\n",
	                       "templates:\nfacts: []\nrules:\n"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		lt t;
		lt_init(&t);
		load_ok(&t, texts[i]);
		assert_int_equal(t.prog.ntemplates, NB);
		assert_int_equal(t.prog.nrules, 0);
		assert_int_equal(t.prog.nfacts, 0);
		assert_int_equal(t.prog.nfiles, 2);
		assert_string_equal(t.prog.files[0], "<builtin>");
		assert_string_equal(t.prog.files[1], "t.yaml");
		lt_free(&t);
	}
}

static void test_load_templates(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_ok(&t, "templates:\n"
	            "  - id: guest\n"
	            "    doc: A person.\n"
	            "    slots:\n"
	            "      name: symbol\n"
	            "      note: string\n"
	            "      n: integer\n"
	            "      f: float\n"
	            "      b: boolean\n"
	            "  - id: count\n"
	            "    slots:\n"
	            "      c: {type: integer, default: -7, doc: how many}\n"
	            "      x: {type: float, default: 2}\n"
	            "      s: {type: symbol, default: red}\n"
	            "      t: {type: boolean, default: true}\n"
	            "  - id: flag\n");
	const fx_program *p = &t.prog;
	assert_int_equal(p->ntemplates, NB + 3);
	const fx_template_def *g = &p->templates[NB];
	assert_string_equal(g->name, "guest");
	assert_string_equal(g->doc, "A person.");
	assert_int_equal(g->index, NB);
	assert_int_equal(g->pos.line, 2);
	assert_int_equal(g->pos.col, 9);
	assert_string_equal(g->pos.file, "t.yaml");
	assert_int_equal(g->nslots, 5);
	const fx_type types[] = {FX_SYMBOL, FX_STRING, FX_INTEGER, FX_FLOAT, FX_BOOLEAN};
	for (int i = 0; i < 5; i++)
		assert_int_equal(g->slots[i].type, types[i]);
	assert_string_equal(g->slots[0].name, "name");
	assert_int_equal(g->slots[0].dflt.type, FX_SYMBOL);
	assert_string_equal(atom(g->slots[0].dflt), "nil");
	assert_int_equal(g->slots[1].dflt.type, FX_STRING);
	assert_string_equal(atom(g->slots[1].dflt), "");
	assert_int_equal(g->slots[2].dflt.u.i, 0);
	assert_true(g->slots[3].dflt.type == FX_FLOAT && g->slots[3].dflt.u.f == 0.0);
	assert_true(g->slots[4].dflt.type == FX_BOOLEAN && g->slots[4].dflt.u.b == 0);
	assert_int_equal(g->slots[2].pos.line, 7);
	assert_int_equal(g->slots[2].pos.col, 7);

	const fx_template_def *c = &p->templates[NB + 1];
	assert_int_equal(c->index, NB + 1);
	assert_int_equal(c->slots[0].dflt.type, FX_INTEGER);
	assert_int_equal(c->slots[0].dflt.u.i, -7);
	assert_string_equal(c->slots[0].doc, "how many");
	assert_true(c->slots[1].dflt.type == FX_FLOAT && c->slots[1].dflt.u.f == 2.0);
	assert_string_equal(atom(c->slots[2].dflt), "red");
	assert_true(c->slots[3].dflt.u.b == 1);
	assert_int_equal(p->templates[NB + 2].nslots, 0);
	lt_free(&t);
}

static void test_load_facts(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_ok(&t, "facts:\n"
	            "  - p: {name: bob, age: -42, w: 1.5e3, ok: true, s: \"a b\"}\n"
	            "  - id: second\n"
	            "    q: {b: 9223372036854775807}\n"
	            "  - q:\n"
	            "templates:\n"
	            "  - id: p\n"
	            "    slots: {name: symbol, age: integer, w: float, ok: boolean, s: string}\n"
	            "  - id: q\n"
	            "    slots: {a: {type: symbol, default: zz}, b: integer}\n");
	const fx_program *p = &t.prog;
	assert_int_equal(p->nfacts, 3);
	const fx_fact_def *f = &p->facts[0];
	assert_null(f->id);
	assert_int_equal(f->tmpl, NB);
	assert_int_equal(f->pos.line, 2);
	assert_int_equal(f->pos.col, 5);
	assert_int_equal(f->values[0].type, FX_SYMBOL);
	assert_string_equal(atom(f->values[0]), "bob");
	assert_int_equal(f->values[1].u.i, -42);
	assert_true(f->values[2].type == FX_FLOAT && f->values[2].u.f == 1500.0);
	assert_int_equal(f->values[3].type, FX_BOOLEAN);
	assert_int_equal(f->values[3].u.b, 1);
	assert_int_equal(f->values[4].type, FX_STRING);
	assert_string_equal(atom(f->values[4]), "a b");
	f = &p->facts[1];
	assert_string_equal(f->id, "second");
	assert_int_equal(f->tmpl, NB + 1);
	assert_string_equal(atom(f->values[0]), "zz"); /* default */
	assert_int_equal(f->values[1].u.i, INT64_MAX);
	assert_int_equal(p->facts[2].values[1].u.i, 0);
	lt_free(&t);
}

static const fx_constraint *cons(const fx_ce *ce, uint32_t i)
{
	assert_true(i < ce->ncons);
	return &ce->cons[i];
}

static void test_load_scalar_constraints(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	int rc = load_with(
	        &t,
	        "rules:\n"
	        "  - id: r\n"
	        "    when:\n"
	        "      - p: {name: red, age: ?a, w: 2, s: \"?a\"}\n"
	        "      - p: {name: \"!= red\", age: \"< 5\", w: \">= ?a + 1\", ok: \"= true\"}\n"
	        "      - q: {a: \"?b & != ?a & > m\", b: [1, 2, 3]}\n"
	        "      - q: {a: ?b2, b: \"== ?a\"}\n"
	        "    then:\n"
	        "      - print: [?b, ?b2]\n");
	if (rc) {
		dump(&t);
		fail();
	}
	const fx_rule_def *r = rule(&t, "r");
	assert_int_equal(r->nces, 4);
	assert_int_equal(r->ndepth, 4);
	const fx_ce *c0 = &r->ces[0];
	assert_int_equal(c0->kind, FX_CE_PATTERN);
	assert_int_equal(c0->tmpl, NB);
	assert_int_equal(c0->depth, 0);
	assert_int_equal(c0->fact_var, -1);
	assert_int_equal(c0->ncons, 4);
	/* name: red */
	assert_int_equal(cons(c0, 0)->op, FX_C_EQ);
	assert_int_equal(cons(c0, 0)->slot, 0);
	assert_int_equal(cons(c0, 0)->arg->kind, FX_X_CONST);
	assert_int_equal(cons(c0, 0)->arg->val.type, FX_SYMBOL);
	assert_string_equal(atom(cons(c0, 0)->arg->val), "red");
	assert_int_equal(cons(c0, 0)->pos.line, 9);
	assert_int_equal(cons(c0, 0)->pos.col, 19);
	/* age: ?a binds */
	assert_int_equal(cons(c0, 1)->op, FX_C_BIND);
	assert_int_equal(cons(c0, 1)->slot, 1);
	uint32_t a = cons(c0, 1)->var;
	assert_string_equal(r->vars[a].name, "a");
	assert_int_equal(r->vars[a].kind, FX_VAR_SLOT);
	assert_int_equal(r->vars[a].depth, 0);
	assert_int_equal(r->vars[a].slot, 1);
	assert_int_equal(r->vars[a].pos.line, 9);
	assert_int_equal(r->vars[a].pos.col, 29);
	/* w: 2 becomes a float constant */
	assert_int_equal(cons(c0, 2)->arg->val.type, FX_FLOAT);
	assert_true(cons(c0, 2)->arg->val.u.f == 2.0);
	/* s: "?a" is a later occurrence: equality with ?a */
	assert_int_equal(cons(c0, 3)->op, FX_C_EQ);
	assert_int_equal(cons(c0, 3)->slot, 4);
	assert_int_equal(cons(c0, 3)->arg->kind, FX_X_VAR);
	assert_int_equal(cons(c0, 3)->arg->var, a);

	const fx_ce *c1 = &r->ces[1];
	assert_int_equal(c1->depth, 1);
	assert_int_equal(cons(c1, 0)->op, FX_C_NE);
	assert_string_equal(atom(cons(c1, 0)->arg->val), "red");
	assert_int_equal(cons(c1, 1)->op, FX_C_LT);
	assert_int_equal(cons(c1, 1)->arg->val.type, FX_INTEGER);
	assert_int_equal(cons(c1, 1)->arg->val.u.i, 5);
	assert_int_equal(cons(c1, 2)->op, FX_C_GE);
	assert_int_equal(cons(c1, 2)->arg->kind, FX_X_CALL);
	assert_int_equal(cons(c1, 3)->op, FX_C_EQ);
	assert_int_equal(cons(c1, 3)->arg->val.type, FX_BOOLEAN);
	assert_int_equal(cons(c1, 3)->pos.col, 62); /* the operator */

	const fx_ce *c2 = &r->ces[2];
	assert_int_equal(c2->ncons, 4);
	assert_int_equal(cons(c2, 0)->op, FX_C_BIND);
	uint32_t b = cons(c2, 0)->var;
	assert_string_equal(r->vars[b].name, "b");
	assert_int_equal(r->vars[b].depth, 2);
	assert_int_equal(r->vars[b].slot, 0);
	assert_int_equal(cons(c2, 1)->op, FX_C_NE);
	assert_int_equal(cons(c2, 1)->arg->kind, FX_X_VAR);
	assert_int_equal(cons(c2, 1)->arg->var, a);
	assert_int_equal(cons(c2, 2)->op, FX_C_GT);
	assert_string_equal(atom(cons(c2, 2)->arg->val), "m");
	assert_int_equal(cons(c2, 3)->op, FX_C_IN);
	const fx_ce *c3 = &r->ces[3];
	assert_int_equal(cons(c3, 0)->op, FX_C_BIND);
	assert_int_equal(r->vars[cons(c3, 0)->var].depth, 3);
	assert_int_equal(cons(c3, 1)->op, FX_C_EQ);
	assert_int_equal(cons(c3, 1)->arg->kind, FX_X_VAR);
	assert_int_equal(r->nvars, 3);
	lt_free(&t);
}

static void test_load_conjunction(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - q: {b: ?x}\n"
	              "      - q: {a: \"?y & != ?x & > m & == (z)\", b: [1, 2, 3]}\n"
	              "    then: [{print: ?y}]\n");
	/* (z) is an expression that folds to the symbol z: fine for a symbol slot. */
	if (t.rc) {
		dump(&t);
		fail();
	}
	const fx_ce *c = &rule(&t, "r")->ces[1];
	assert_int_equal(c->ncons, 5);
	assert_int_equal(cons(c, 0)->op, FX_C_BIND);
	assert_int_equal(cons(c, 0)->pos.col, 17);
	assert_int_equal(cons(c, 1)->op, FX_C_NE);
	assert_int_equal(cons(c, 1)->arg->kind, FX_X_VAR);
	assert_int_equal(cons(c, 1)->pos.col, 22);
	assert_int_equal(cons(c, 2)->op, FX_C_GT);
	assert_int_equal(cons(c, 2)->arg->val.type, FX_SYMBOL);
	assert_int_equal(cons(c, 3)->op, FX_C_EQ);
	assert_int_equal(cons(c, 4)->op, FX_C_IN);
	assert_int_equal(cons(c, 4)->nlist, 3);
	assert_int_equal(cons(c, 4)->list[2].type, FX_INTEGER);
	assert_int_equal(cons(c, 4)->list[2].u.i, 3);
	lt_free(&t);
}

static void test_load_mapping_constraints(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - q: {b: {bind: ?n, gt: 0, le: 10, ne: ?n2}}\n"
	              "      - p:\n"
	              "          name: {in: [a, b], not-in: [c]}\n"
	              "          s: {matches: \"/^ab+c$/i\", not-matches: x.y, contains: \"=\", "
	              "starts-with: a,\n"
	              "              ends-with: z}\n"
	              "          age: {eq: ?n, lt: 3, ge: -1, test: \"?n > 2\"}\n");
	/* ?n2 is unbound: exactly that error. */
	expect_only(&t, "unbound-variable", 9, 46);
	lt_free(&t);

	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - q: {b: {bind: ?n, gt: 0, le: 10}}\n"
	              "      - p:\n"
	              "          name: {in: [a, b], not-in: [c]}\n"
	              "          s: {matches: \"/^ab+c$/i\", not-matches: x.y, contains: \"=\", "
	              "starts-with: a,\n"
	              "              ends-with: z}\n"
	              "          age: {eq: ?n, lt: 3, ge: -1, test: \"?n > 2\"}\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	const fx_rule_def *r = rule(&t, "r");
	const fx_ce *c0 = &r->ces[0], *c1 = &r->ces[1];
	assert_int_equal(c0->ncons, 3);
	assert_int_equal(cons(c0, 0)->op, FX_C_BIND);
	assert_int_equal(cons(c0, 1)->op, FX_C_GT);
	assert_int_equal(cons(c0, 1)->arg->val.u.i, 0);
	assert_int_equal(cons(c0, 2)->op, FX_C_LE);
	const fx_cons_op ops[] = {FX_C_IN,       FX_C_NOT_IN, FX_C_MATCH, FX_C_NOT_MATCH,
	                          FX_C_CONTAINS, FX_C_STARTS, FX_C_ENDS,  FX_C_EQ,
	                          FX_C_LT,       FX_C_GE,     FX_C_TEST};
	assert_int_equal(c1->ncons, 11);
	for (int i = 0; i < 11; i++)
		assert_int_equal(cons(c1, (uint32_t)i)->op, ops[i]);
	assert_int_equal(cons(c1, 0)->nlist, 2);
	assert_string_equal(atom(cons(c1, 0)->list[1]), "b");
	assert_non_null(cons(c1, 2)->re);
	assert_string_equal(fx_regex_source(cons(c1, 2)->re), "^ab+c$");
	assert_int_equal(fx_regex_match(cons(c1, 2)->re, "ABBC", 4), 1);
	assert_string_equal(fx_regex_source(cons(c1, 3)->re), "x.y");
	assert_int_equal(t.regexes.len, 2);
	assert_int_equal(cons(c1, 4)->arg->val.type, FX_STRING);
	assert_string_equal(atom(cons(c1, 4)->arg->val), "=");
	assert_int_equal(cons(c1, 7)->arg->kind, FX_X_VAR);
	assert_int_equal(cons(c1, 7)->slot, 1);
	assert_int_equal(cons(c1, 10)->arg->kind, FX_X_CALL);
	assert_int_equal(cons(c1, 10)->pos.line, 14);
	assert_int_equal(cons(c1, 10)->pos.col, 40);
	lt_free(&t);
}

static void test_load_depths_and_scopes(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - as: ?f\n"                                      /* 9 */
	              "        q: {a: ?x}\n"                                  /* 10: depth 0 */
	              "      - not:\n"                                        /* 11 */
	              "          - q: {a: ?x, b: ?inner}\n"                   /* 12: depth 1 */
	              "          - exists: {p: {age: ?inner, name: ?deep}}\n" /* 13: depth 2 */
	              "          - test: \"?inner > 1\"\n"                    /* 14 */
	              "      - p: {name: ?x, age: ?inner}\n"                  /* 15: depth 3 */
	              "      - exists: [{as: ?_g, q: {b: ?inner}}]\n"         /* 16: depth 4 */
	              "    then:\n"
	              "      - retract: ?f\n");
	/* ?deep is bound and never used: a warning (and nothing else). */
	const rec *w = expect_only(&t, "unused-variable", 13, 45);
	assert_int_equal(w->sev, FX_SEV_WARNING);
	assert_int_equal(w->span, 5);
	assert_string_equal(w->rule, "r");
	assert_int_equal(t.rc, 0);
	const fx_rule_def *r = rule(&t, "r");
	assert_int_equal(r->ndepth, 5);
	assert_int_equal(r->nces, 4);
	const fx_ce *c0 = &r->ces[0], *nt = &r->ces[1], *c3 = &r->ces[2], *ex = &r->ces[3];
	assert_int_equal(c0->depth, 0);
	assert_true(c0->fact_var >= 0);
	const fx_var_def *f = &r->vars[c0->fact_var];
	assert_string_equal(f->name, "f");
	assert_int_equal(f->kind, FX_VAR_FACT);
	assert_int_equal(f->depth, 0);
	assert_int_equal(f->pos.line, 9);
	assert_int_equal(f->pos.col, 13);
	assert_int_equal(nt->kind, FX_CE_NOT);
	assert_int_equal(nt->nchildren, 3);
	assert_int_equal(nt->children[0].depth, 1);
	/* ?x inside the not compares with the outer ?x */
	assert_int_equal(nt->children[0].cons[0].op, FX_C_EQ);
	assert_int_equal(nt->children[0].cons[1].op, FX_C_BIND);
	uint32_t inner1 = nt->children[0].cons[1].var;
	assert_int_equal(r->vars[inner1].depth, 1);
	assert_int_equal(nt->children[1].kind, FX_CE_EXISTS);
	assert_int_equal(nt->children[1].nchildren, 1);
	assert_int_equal(nt->children[1].children[0].depth, 2);
	assert_int_equal(nt->children[1].children[0].cons[0].op, FX_C_EQ);
	assert_int_equal(nt->children[2].kind, FX_CE_TEST);
	assert_non_null(nt->children[2].test);
	/* after the not, ?inner is unbound again: a new variable at depth 3 */
	assert_int_equal(c3->depth, 3);
	assert_int_equal(c3->cons[0].op, FX_C_EQ);
	assert_int_equal(c3->cons[1].op, FX_C_BIND);
	uint32_t inner2 = c3->cons[1].var;
	assert_true(inner2 != inner1);
	assert_string_equal(r->vars[inner2].name, "inner");
	assert_int_equal(r->vars[inner2].depth, 3);
	assert_int_equal(r->vars[inner2].slot, 1);
	assert_int_equal(ex->kind, FX_CE_EXISTS);
	assert_int_equal(ex->children[0].depth, 4);
	assert_true(ex->children[0].fact_var >= 0);
	assert_int_equal(r->vars[ex->children[0].fact_var].depth, 4);
	assert_int_equal(ex->children[0].cons[0].op, FX_C_EQ);
	assert_int_equal(ex->children[0].cons[0].arg->var, inner2);
	/* the action */
	assert_int_equal(r->nactions, 1);
	assert_int_equal(r->actions[0].kind, FX_A_RETRACT);
	assert_int_equal(r->actions[0].target->kind, FX_X_VAR);
	assert_int_equal(r->actions[0].target->var, (uint32_t)c0->fact_var);
	lt_free(&t);
}

static void test_load_actions(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    salience: -12\n"
	              "    because: it must\n"
	              "    doc: a doc\n"
	              "    when:\n"
	              "      - as: ?f\n"
	              "        p: {name: ?n, age: ?a}\n"
	              "      - as: ?g\n"
	              "        q: {}\n"
	              "    then:\n"
	              "      - assert: {p: {name: ?n, age: \"= ?a + 1\", w: 3, s: hello, ok: "
	              "true}}\n" /* 17 */
	              "      - modify: ?f\n"
	              "        set: {age: 0, w: \"= 2\"}\n"
	              "      - bind: {?sum: \"= ?a * 2\", ?k: 7}\n" /* 20 */
	              "      - bind: {?sum: \"= ?sum + ?k\"}\n"
	              "      - print: [\"sum \", ?sum, \" \", 1.5, word]\n"
	              "      - print: done\n"
	              "      - retract: [?f, ?g]\n"
	              "      - halt: true\n"
	              "      - halt\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	const fx_rule_def *r = rule(&t, "r");
	assert_int_equal(r->salience, -12);
	assert_string_equal(r->because, "it must");
	assert_string_equal(r->doc, "a doc");
	assert_int_equal(r->pos.line, 7);
	assert_int_equal(r->pos.col, 9);
	assert_int_equal(r->nactions, 11);
	const fx_action *a = r->actions;
	assert_int_equal(a[0].kind, FX_A_ASSERT);
	assert_int_equal(a[0].tmpl, NB);
	assert_int_equal(a[0].nsets, 5);
	assert_int_equal(a[0].sets[0].slot, 0);
	assert_int_equal(a[0].sets[0].value->kind, FX_X_VAR);
	assert_int_equal(a[0].sets[1].slot, 1);
	assert_int_equal(a[0].sets[1].value->kind, FX_X_CALL);
	assert_int_equal(a[0].sets[2].value->val.type, FX_FLOAT);
	assert_int_equal(a[0].sets[3].slot, 4);
	assert_int_equal(a[0].sets[3].value->val.type, FX_STRING);
	assert_int_equal(a[0].sets[4].value->val.type, FX_BOOLEAN);
	assert_int_equal(a[0].pos.line, 17);
	assert_int_equal(a[0].pos.col, 9);
	assert_int_equal(a[1].kind, FX_A_MODIFY);
	assert_int_equal(a[1].tmpl, NB);
	assert_int_equal(a[1].target->kind, FX_X_VAR);
	assert_int_equal(a[1].nsets, 2);
	assert_int_equal(a[1].sets[1].slot, 2);
	assert_int_equal(a[1].sets[1].value->val.type, FX_FLOAT); /* "= 2" fits the float slot */
	assert_int_equal(a[2].kind, FX_A_BIND);
	assert_int_equal(a[3].kind, FX_A_BIND);
	assert_int_equal(a[4].kind, FX_A_BIND);
	uint32_t sum = a[2].var, k = a[3].var;
	assert_int_equal(a[4].var, sum); /* rebinding a local reuses it */
	assert_int_equal(r->vars[sum].kind, FX_VAR_LOCAL);
	assert_int_equal(r->vars[sum].slot, 0);
	assert_int_equal(r->vars[k].kind, FX_VAR_LOCAL);
	assert_int_equal(r->vars[k].slot, 1);
	assert_int_equal(r->vars[k].pos.line, 20);
	assert_int_equal(r->nlocals, 2);
	assert_int_equal(a[3].value->val.type, FX_INTEGER);
	assert_int_equal(a[5].kind, FX_A_PRINT);
	assert_int_equal(a[5].nitems, 5);
	assert_int_equal(a[5].items[0]->val.type, FX_STRING);
	assert_int_equal(a[5].items[1]->kind, FX_X_VAR);
	assert_int_equal(a[5].items[3]->val.type, FX_FLOAT);
	assert_int_equal(a[5].items[4]->val.type, FX_SYMBOL);
	assert_int_equal(a[6].nitems, 1);
	assert_int_equal(a[7].kind, FX_A_RETRACT);
	assert_int_equal(a[8].kind, FX_A_RETRACT);
	assert_int_equal(a[8].target->var, (uint32_t)r->ces[1].fact_var);
	assert_int_equal(a[9].kind, FX_A_HALT);
	assert_int_equal(a[10].kind, FX_A_HALT);
	lt_free(&t);
}

/* The rule language writes variables unquoted inside flow collections, which libyaml alone
 * would refuse ({a: ?x}) or misread ([?f] as [{f: null}]). */
static void test_load_flow_variables(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when: [{as: ?f, q: {a: ?x, b: ?y & > 0}}, {as: ?g, p: {name: ?x}}]\n"
	              "    then: [{retract: [?f, ?g]}, {print: [?x, ?y, 'it''s ?y']}]\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	const fx_rule_def *r = rule(&t, "r");
	assert_int_equal(r->nvars, 4);
	assert_string_equal(r->vars[0].name, "x");
	assert_int_equal(r->vars[0].pos.col, 28);
	assert_string_equal(r->vars[1].name, "y");
	assert_string_equal(r->vars[2].name, "f");
	assert_string_equal(r->vars[3].name, "g");
	assert_int_equal(r->ces[0].ncons, 3);
	assert_int_equal(r->ces[0].cons[2].op, FX_C_GT);
	assert_int_equal(r->nactions, 3);
	assert_int_equal(r->actions[1].kind, FX_A_RETRACT);
	const fx_action *pr = &r->actions[2];
	assert_int_equal(pr->nitems, 3);
	assert_int_equal(pr->items[2]->val.type, FX_STRING);
	assert_string_equal(atom(pr->items[2]->val), "it's ?y");
	lt_free(&t);
}

/* --- Errors: each kind at its exact place --------------------------------------------------- */

static void test_load_err_yaml(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	assert_int_equal(load_text(&t, "templates:\n  - id: a\n   slots: x\n"), FX_ELOAD);
	expect_only(&t, "yaml", 3, 4); /* libyaml stops at the badly indented key */
	lt_free(&t);

	lt_init(&t);
	load_text(&t, "rules: [a, b\n");
	expect(&t, "yaml", 2, 1);
	lt_free(&t);

	/* bytes that are not UTF-8, and NUL, at their byte position */
	lt_init(&t);
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.buf = "rules:\n  - \"\xc3\xa9\xff\"\n";
	in.len = strlen(in.buf);
	in.name = "u.yaml";
	assert_int_equal(fx_load_program(&t.prog, &t.arena, &t.atoms, &t.regexes, &t.rep, &in),
	                 FX_ELOAD);
	expect_only(&t, "yaml", 2, 8); /* é is two bytes */
	assert_string_equal(t.d[0].file, "u.yaml");
	lt_free(&t);

	lt_init(&t);
	memset(&in, 0, sizeof in);
	in.buf = "a: b\nrules: [\0]\n";
	in.len = 16;
	assert_int_equal(fx_load_program(&t.prog, &t.arena, &t.atoms, &t.regexes, &t.rep, &in),
	                 FX_ELOAD);
	expect_only(&t, "yaml", 2, 9);
	assert_string_equal(t.d[0].file, "<buffer>");
	lt_free(&t);

	/* a second document */
	lt_init(&t);
	load_text(&t, "templates: []\n---\nrules: []\n");
	expect_only(&t, "yaml", 2, 1);
	lt_free(&t);

	/* an unquoted > starts a block scalar: the error, and a note saying to quote */
	lt_init(&t);
	load_with(&t, "rules:\n  - id: r\n    when:\n      - q: {b: > 5}\n");
	assert_int_equal(t.nd, 2);
	expect(&t, "yaml", 9, 16);
	assert_int_equal(t.d[1].sev, FX_SEV_NOTE);
	expect_msg(expect(&t, "yaml", 9, 16), "YAML");
	expect_msg(&t.d[1], "quotes");
	lt_free(&t);

	/* a text holding every byte the loader could use to mask '?' in flow collections: libyaml
	 * then sees `?b` as a key indicator, and a note says to quote */
	lt_init(&t);
	load_text(&t, "# ^~$;QXZJKVWYqxzjkvwy\na: {b: ?c}\n");
	assert_int_equal(t.nd, 2);
	expect(&t, "yaml", 2, 8);
	expect_msg(&t.d[1], "\"?x\"");
	lt_free(&t);

	/* an unquoted != reads as a YAML tag */
	lt_init(&t);
	load_with(&t, "rules:\n  - id: r\n    when:\n      - q: {a: != x}\n");
	expect_msg(expect_only(&t, "yaml", 9, 16), "quotes");
	lt_free(&t);
}

static void test_load_err_bom_and_utf8_columns(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	/* libyaml would count the BOM as a column and then misread the indentation */
	load_text(&t, "\xef\xbb\xbftemplates:\n  - id: t\n    slots: {s: strin}\n");
	expect_only(&t, "unknown-type", 3, 16);
	lt_free(&t);

	/* on the BOM's line, columns count its three bytes (the reporter quotes them too) */
	lt_init(&t);
	load_text(&t, "\xef\xbb\xbf{bogus: 1}\n");
	expect_only(&t, "unknown-key", 1, 5);
	lt_free(&t);

	/* columns count bytes: é is two */
	lt_init(&t);
	load_text(&t, "templates:\n  - {id: t, doc: \xc3\xa9\xc3\xa9, slots: {s: strin}}\n");
	expect_only(&t, "unknown-type", 2, 35);
	lt_free(&t);
}

static void test_load_err_alias_and_depth(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_text(&t,
	          "templates:\n  - id: a\n    slots: &s {x: symbol}\n  - id: b\n    slots: *s\n");
	expect_only(&t, "alias", 5, 12);
	lt_free(&t);

	/* billion laughs: refused at the first alias, nothing expands */
	lt_init(&t);
	load_text(&t, "a: &a [x, x, x, x, x, x, x, x, x]\n"
	              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n");
	expect(&t, "alias", 2, 8);
	expect(&t, "unknown-key", 1, 1);
	lt_free(&t);

	lt_init(&t);
	char deep[1000];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	snprintf(deep + 600, sizeof deep - 600, "\n");
	char text[1100];
	snprintf(text, sizeof text, "rules: %s", deep);
	load_text(&t, text);
	expect(&t, "too-deep", 1, 71);
	lt_free(&t);
}

static void test_load_err_structure(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_text(&t, "- a\n- b\n");
	expect_only(&t, "shape", 1, 1);
	lt_free(&t);

	lt_init(&t);
	load_text(&t, "templats: []\nrules: {}\nrules: []\n");
	expect_msg(expect(&t, "unknown-key", 1, 1), "include, templates, facts, rules");
	expect(&t, "shape", 2, 8);
	expect(&t, "duplicate-key", 3, 1);
	assert_int_equal(t.nd, 3);
	lt_free(&t);
}

/* Many errors in one file, each reported once at its place. */
static void test_load_err_many(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	int rc = load_text(&t, "templates:\n"
	                       "  - id: p\n"                                          /* 2 */
	                       "    slots: {name: symbol, age: integer, s: string}\n" /* 3 */
	                       "  - id: p\n"                                          /* 4 */
	                       "  - id: not\n"                                        /* 5 */
	                       "  - id: 9lives\n"                                     /* 6 */
	                       "    slots: {a: int, b: {type: integer, default: x}, c: {doc: y}}\n"
	                       "  - slots: {}\n" /* 8 */
	                       "    wat: 1\n"    /* 9 */
	                       "facts:\n"
	                       "  - p: {name: bob, age: old}\n" /* 11 */
	                       "  - nope: {}\n"                 /* 12 */
	                       "  - p: {nme: x}\n"              /* 13 */
	                       "  - id: f1\n"                   /* 14 */
	                       "    p: {}\n"
	                       "  - id: f1\n" /* 16 */
	                       "    p: {}\n");
	assert_int_equal(rc, FX_ELOAD);
	expect_msg(expect(&t, "duplicate-id", 4, 9), "t.yaml:2:9");
	expect(&t, "reserved-name", 5, 9);
	expect(&t, "bad-id", 6, 9);
	expect(&t, "unknown-type", 7, 16);
	expect_msg(expect(&t, "type", 7, 49), "slot 'b' of template '9lives' is an integer");
	expect(&t, "missing-key", 7, 53);
	expect(&t, "missing-key", 8, 5);
	expect(&t, "unknown-key", 9, 5);
	expect_msg(expect(&t, "type", 11, 25), "found 'old'");
	expect(&t, "unknown-template", 12, 5);
	expect_msg(expect(&t, "unknown-slot", 13, 9), "its slots are: name, age, s");
	expect(&t, "duplicate-id", 16, 9);
	assert_int_equal(t.nd, 12);
	lt_free(&t);
}

static void test_load_err_rules(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	int rc = load_with(
	        &t, "rules:\n"
	            "  - id: r1\n" /* 7 */
	            "    when:\n"
	            "      - p: {name: ?n, age: \"> ?m\", s: {matches: \"/ab(c/i\"}}\n" /* 9 */
	            "      - p: {name: \"!= ?n\", ok: maybe, zz: 1}\n"                  /* 10 */
	            "      - test: \"?n == \"\n"                                        /* 11 */
	            "      - not: {p: {name: ?inner}}\n"                                /* 12 */
	            "      - test: \"?inner\"\n"                                        /* 13 */
	            "      - nope: {x: ?z}\n"                                           /* 14 */
	            "    then:\n"
	            "      - retract: ?n\n" /* 16 */
	            "      - modify: ?f\n"  /* 17 */
	            "        set: {age: 1}\n"
	            "      - bind: {?n: 1}\n" /* 19 */
	            "      - frob: 1\n"       /* 20 */
	            "      - print: ?z\n"     /* 21 */
	            "  - id: r1\n"            /* 22 */
	            "    when: []\n"          /* 23 */
	            "  - id: r3\n"
	            "    salience: 99999999999\n"  /* 25 */
	            "  - when: [{q: {}}]\n"        /* 26 */
	            "    then: [{modify: ?x}]\n"); /* 27 */
	assert_int_equal(rc, FX_ELOAD);
	const rec *r = expect(&t, "unbound-variable", 9, 31);
	assert_int_equal(r->span, 2);
	assert_string_equal(r->rule, "r1");
	expect_msg(expect(&t, "bad-regex", 9, 55), "missing closing parenthesis");
	expect_msg(expect(&t, "type", 10, 32), "expected true or false, found 'maybe'");
	expect(&t, "unknown-slot", 10, 39);
	expect(&t, "bad-expression", 11, 22); /* the end of the text: its closing quote */
	expect_msg(expect(&t, "unbound-variable", 13, 16), "inside a not/exists");
	expect(&t, "unknown-template", 14, 9);
	expect_msg(expect(&t, "bad-target", 16, 18), "slot's value");
	expect(&t, "unbound-variable", 17, 17);
	expect(&t, "rebound-variable", 19, 16);
	expect(&t, "unknown-key", 20, 9);
	expect_msg(expect(&t, "duplicate-id", 22, 9), "t.yaml:7:9");
	expect(&t, "empty-rule", 23, 5);
	expect(&t, "type", 25, 15);
	expect(&t, "missing-key", 24, 5); /* r3 has no when */
	expect(&t, "missing-key", 26, 5); /* no id */
	expect(&t, "unbound-variable", 27, 21);
	expect(&t, "missing-key", 27, 13); /* modify without set */
	/* ?z was bound in the pattern with the unknown template: no follow-on error for print */
	assert_null(find(&t, "unbound-variable", 21, 16));
	assert_int_equal(t.nd, 18);
	lt_free(&t);
}

static void test_load_err_constraints(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - q: {a: \"?x + 1\"}\n"                                /* 9 */
	              "      - q: {a: \"?y & red\"}\n"                              /* 10 */
	              "      - q: {a: \"?w & \", b: \"<\"}\n"                       /* 11 */
	              "      - q: {a: \"?1\", b: [?y]}\n"                           /* 12 */
	              "      - p: {age: {lt: abc}, ok: {contains: x}}\n"            /* 13 */
	              "      - p: {name: {bind: x, frob: 1}}\n"                     /* 14 */
	              "      - p: {s: {matches: \"/x\\\\\\u00e9(/\"}}\n"            /* 15 */
	              "      - p: {s: {matches: '/a''b(/'}, age: {in: [1, x]}}\n"); /* 16 */
	expect_msg(expect(&t, "bad-constraint", 9, 17), "== ?x + 1");
	expect_msg(expect(&t, "bad-constraint", 10, 22), "== red");
	expect(&t, "bad-constraint", 11, 22); /* the empty term, at the end */
	expect(&t, "bad-constraint", 11, 29);
	expect(&t, "bad-variable", 12, 17);
	expect(&t, "bad-constraint", 12, 26);
	expect_msg(expect(&t, "type", 13, 23), "expected a decimal integer, found 'abc'");
	expect_msg(expect(&t, "type", 13, 34), "needs a symbol or string slot");
	expect(&t, "bad-variable", 14, 26);
	expect(&t, "unknown-key", 14, 29);
	expect(&t, "bad-regex", 15, 38); /* through the \\ and \u00e9 escapes */
	expect(&t, "bad-regex", 16, 33); /* through the '' */
	expect(&t, "type", 16, 52);
	assert_int_equal(t.nd, 13);
	lt_free(&t);
}

/* The column of a regex error points into the scalar, through its quoting. */
static void test_load_err_regex_columns(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - p: {s: {matches: \"\\t\\u00e9x(\"}}\n" /* 9: PCRE offset 5 (end) */
	              "      - p: {s: {matches: plain)}}\n"           /* 10: offset 5, the ')' */
	              "      - p: {s: {matches: \"/a{2,1}/\"}}\n");   /* 11 */
	expect(&t, "bad-regex", 9, 37);
	expect(&t, "bad-regex", 10, 31);
	expect_msg(expect(&t, "bad-regex", 11, 33), "out of order");
	assert_int_equal(t.nd, 3);
	lt_free(&t);
}

static void test_load_err_actions(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - as: ?f\n"
	              "        p: {age: ?a}\n"
	              "      - not: {as: ?h, q: {}}\n" /* 11 */
	              "    then:\n"
	              "      - assert: {p: {age: x, w: \"= ?a\", zz: 1}, q: {}}\n" /* 13 */
	              "      - modify: ?f\n"                                       /* 14 */
	              "      - modify: ?f\n"
	              "        set: {age: 1.5, name: \"= 1\"}\n" /* 16 */
	              "      - retract: [?a, ?h, 3]\n"           /* 17 */
	              "      - bind: {x: 1, ?f: 2}\n"            /* 18 */
	              "      - print: {a: 1}\n"                  /* 19 */
	              "      - halt: maybe\n"                    /* 20 */
	              "      - set: {a: 1}\n"                    /* 21 */
	              "      - {print: x, halt: true}\n"         /* 22 */
	              "      - print: \"?\"\n"                   /* 23 */
	              "      - print: \"=\"\n");                 /* 24 */
	expect(&t, "type", 13, 27);
	expect(&t, "unknown-slot", 13, 41);
	expect(&t, "shape", 13, 49);
	expect(&t, "missing-key", 14, 9);
	expect(&t, "type", 16, 20);
	expect_msg(expect(&t, "type", 16, 34), "is a symbol, but this value is an integer");
	expect(&t, "bad-target", 17, 19);
	expect(&t, "unbound-variable", 17, 23);
	expect(&t, "bad-target", 17, 27);
	expect(&t, "bad-variable", 18, 16);
	expect(&t, "rebound-variable", 18, 22);
	expect(&t, "shape", 19, 16);
	expect(&t, "type", 20, 15);
	expect(&t, "unknown-key", 21, 9);
	expect(&t, "shape", 22, 20);
	expect(&t, "bad-variable", 23, 16);
	expect(&t, "bad-expression", 24, 16);
	assert_int_equal(t.nd, 17);
	lt_free(&t);
}

static void test_load_err_conditions(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - q: {}\n"
	              "        p: {}\n"  /* 10 */
	              "      - as: ?f\n" /* 11 */
	              "      - as: 5\n"  /* 12 */
	              "        q: {}\n"
	              "      - not: []\n"   /* 14 */
	              "      - exists: x\n" /* 15 */
	              "      - as: ?g\n"    /* 16 */
	              "        test: \"true\"\n"
	              "      - or: {q: {}}\n"         /* 18 */
	              "      - test: \"abs(1, 2)\"\n" /* 19 */
	              "      - q: {a: ?v}\n"
	              "      - as: ?v\n" /* 21 */
	              "        q: {a: ?v}\n"
	              "      - just text\n"); /* 23 */
	expect(&t, "shape", 10, 9);
	expect(&t, "missing-key", 11, 9);
	expect(&t, "bad-variable", 12, 13);
	expect(&t, "empty-rule", 14, 9);
	expect(&t, "shape", 15, 17);
	expect(&t, "shape", 16, 9);
	expect_msg(expect(&t, "unknown-template", 18, 9), "reserved");
	expect(&t, "bad-expression", 19, 16);
	expect(&t, "rebound-variable", 21, 13);
	expect(&t, "shape", 23, 9);
	assert_int_equal(t.nd, 10);
	lt_free(&t);
}

static void test_load_unused_variable(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when:\n"
	              "      - as: ?f\n"
	              "        q: {a: ?x, b: ?_quiet}\n"
	              "    then:\n"
	              "      - bind: {?loc: 1}\n");
	assert_int_equal(t.rc, 0); /* warnings do not fail a load */
	assert_int_equal(t.nd, 3);
	assert_int_equal(expect(&t, "unused-variable", 9, 13)->sev, FX_SEV_WARNING);
	expect(&t, "unused-variable", 10, 16);
	expect(&t, "unused-variable", 12, 16);
	lt_free(&t);
}

static void test_load_err_values(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_text(&t, "templates:\n"
	              "  - id: v\n"
	              "    slots:\n"
	              "      i: {type: integer, default: 9223372036854775808}\n" /* 4 */
	              "      j: {type: integer, default: 1.0}\n"                 /* 5 */
	              "      f: {type: float, default: 1e999}\n"                 /* 6 */
	              "      g: {type: float, default: .5}\n"                    /* 7 */
	              "      b: {type: boolean, default: yes}\n"                 /* 8 */
	              "      k: {type: integer, default: -9223372036854775808}\n"
	              "      h: {type: float, default: -2.5e-3}\n");
	expect_msg(expect(&t, "type", 4, 35), "within 64 bits");
	expect(&t, "type", 5, 35);
	expect_msg(expect(&t, "type", 6, 33), "range");
	expect(&t, "type", 7, 33);
	expect(&t, "type", 8, 35);
	assert_int_equal(t.nd, 5);
	assert_int_equal(t.prog.templates[NB].slots[5].dflt.u.i, INT64_MIN);
	assert_true(t.prog.templates[NB].slots[6].dflt.u.f == -2.5e-3);
	lt_free(&t);
}

/* --- The diagnosis vocabulary ------------------------------------------------------------------- */

static void ignore_diag(const fx_diag *d, void *ud)
{
	(void)d;
	(void)ud;
}

static void expect_slot(const fx_kb *kb, long ti, size_t i, const char *name, fx_type type)
{
	assert_string_equal(fx_kb_template_slot_name(kb, (size_t)ti, i), name);
	assert_int_equal(fx_kb_template_slot_type(kb, (size_t)ti, i), type);
}

/* The prelude's templates are in every kb, even one loaded from an empty buffer. */
static void test_load_prelude_templates(void **state)
{
	(void)state;
	fx_load_opts o;
	memset(&o, 0, sizeof o);
	o.diag = ignore_diag;
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "empty.yaml", "", 0, &o), 0);
	assert_int_equal(fx_kb_template_count(kb), NB);
	long f = fx_kb_template_find(kb, "finding"), r = fx_kb_template_find(kb, "recommend");
	long a = fx_kb_template_find(kb, "ask"), n = fx_kb_template_find(kb, "answer");
	long t = fx_kb_template_find(kb, "tried");
	assert_true(f >= 0 && r >= 0 && a >= 0 && n >= 0 && t >= 0);
	assert_int_equal(fx_kb_template_slot_count(kb, (size_t)f), 3);
	expect_slot(kb, f, 0, "id", FX_SYMBOL);
	expect_slot(kb, f, 1, "certainty", FX_FLOAT);
	expect_slot(kb, f, 2, "rule", FX_SYMBOL);
	assert_int_equal(fx_kb_template_slot_count(kb, (size_t)r), 3);
	expect_slot(kb, r, 0, "remedy", FX_SYMBOL);
	expect_slot(kb, r, 1, "finding", FX_SYMBOL);
	expect_slot(kb, r, 2, "rule", FX_SYMBOL);
	assert_int_equal(fx_kb_template_slot_count(kb, (size_t)a), 1);
	expect_slot(kb, a, 0, "question", FX_SYMBOL);
	assert_int_equal(fx_kb_template_slot_count(kb, (size_t)n), 2);
	expect_slot(kb, n, 0, "question", FX_SYMBOL);
	expect_slot(kb, n, 1, "value", FX_SYMBOL);
	assert_int_equal(fx_kb_template_slot_count(kb, (size_t)t), 1);
	expect_slot(kb, t, 0, "remedy", FX_SYMBOL);
	fx_kb_free(kb);

	/* Defaults, docs and positions, through the program. */
	lt lt0;
	lt_init(&lt0);
	load_ok(&lt0, "");
	for (uint32_t i = 0; i < NB; i++) {
		const fx_template_def *td = &lt0.prog.templates[i];
		assert_non_null(td->doc);
		assert_string_equal(td->pos.file, "<builtin>");
		assert_true(td->pos.line > 0);
		for (uint32_t k = 0; k < td->nslots; k++)
			assert_non_null(td->slots[k].doc);
	}
	const fx_template_def *fd = &lt0.prog.templates[f];
	assert_true(fd->slots[1].dflt.type == FX_FLOAT && fd->slots[1].dflt.u.f == 1.0);
	assert_string_equal(atom(fd->slots[0].dflt), "nil");
	lt_free(&lt0);
}

static uint32_t tmpl_index(const lt *t, const char *name)
{
	for (uint32_t i = 0; i < t->prog.ntemplates; i++)
		if (strcmp(t->prog.templates[i].name, name) == 0)
			return i;
	fail_msg("no template %s", name);
	return 0;
}

/* Slot set i of an assert: slot `slot`, a constant symbol `text` (or a variable if NULL). */
static void expect_set(const fx_action *a, uint32_t i, uint32_t slot, const char *text)
{
	assert_true(i < a->nsets);
	assert_int_equal(a->sets[i].slot, slot);
	if (!text) {
		assert_int_equal(a->sets[i].value->kind, FX_X_VAR);
		return;
	}
	assert_int_equal(a->sets[i].value->kind, FX_X_CONST);
	assert_int_equal(a->sets[i].value->val.type, FX_SYMBOL);
	assert_string_equal(atom(a->sets[i].value->val), text);
}

static void test_load_vocab_actions(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: diag\n" /* 7 */
	              "    when:\n"
	              "      - p: {name: ?n, w: ?w}\n"
	              "    then:\n"
	              "      - conclude: {id: disk-full, certainty: 0.75}\n" /* 11 */
	              "      - conclude: {id: ?n}\n"
	              "      - conclude: {certainty: \"= ?w / 2\", id: x}\n"
	              "      - conclude: {id: y, certainty: 1}\n"
	              "      - recommend: {remedy: free-space, finding: disk-full}\n" /* 15 */
	              "      - recommend: {remedy: ?n}\n"
	              "      - ask: backup-size\n" /* 17 */
	              "      - ask: ?n\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	uint32_t fi = tmpl_index(&t, "finding"), ri = tmpl_index(&t, "recommend");
	uint32_t ai = tmpl_index(&t, "ask");
	const fx_rule_def *r = rule(&t, "diag");
	assert_int_equal(r->nactions, 8);
	const fx_action *a = r->actions;
	for (int i = 0; i < 8; i++)
		assert_int_equal(a[i].kind, FX_A_ASSERT);

	/* finding: id 0, certainty 1, rule 2 */
	assert_int_equal(a[0].tmpl, fi);
	assert_int_equal(a[0].pos.line, 11);
	assert_int_equal(a[0].pos.col, 9);
	assert_int_equal(a[0].nsets, 3);
	expect_set(&a[0], 0, 0, "disk-full");
	assert_int_equal(a[0].sets[1].slot, 1);
	assert_int_equal(a[0].sets[1].value->val.type, FX_FLOAT);
	assert_true(a[0].sets[1].value->val.u.f == 0.75);
	expect_set(&a[0], 2, 2, "diag");

	assert_int_equal(a[1].tmpl, fi);
	assert_int_equal(a[1].nsets, 2); /* certainty left to its default, 1.0 */
	expect_set(&a[1], 0, 0, NULL);
	expect_set(&a[1], 1, 2, "diag");

	assert_int_equal(a[2].nsets, 3); /* in slot order, whatever the order written */
	expect_set(&a[2], 0, 0, "x");
	assert_int_equal(a[2].sets[1].slot, 1);
	assert_int_equal(a[2].sets[1].value->kind, FX_X_CALL);

	assert_int_equal(a[3].sets[1].value->val.type, FX_FLOAT); /* 1 fits the float slot */
	assert_true(a[3].sets[1].value->val.u.f == 1.0);

	/* recommend: remedy 0, finding 1, rule 2 */
	assert_int_equal(a[4].tmpl, ri);
	assert_int_equal(a[4].pos.line, 15);
	assert_int_equal(a[4].nsets, 3);
	expect_set(&a[4], 0, 0, "free-space");
	expect_set(&a[4], 1, 1, "disk-full");
	expect_set(&a[4], 2, 2, "diag");
	assert_int_equal(a[5].nsets, 2);
	expect_set(&a[5], 0, 0, NULL);
	expect_set(&a[5], 1, 2, "diag");

	/* ask: question 0, and no rule slot */
	assert_int_equal(a[6].tmpl, ai);
	assert_int_equal(a[6].pos.line, 17);
	assert_int_equal(a[6].pos.col, 9);
	assert_int_equal(a[6].nsets, 1);
	expect_set(&a[6], 0, 0, "backup-size");
	assert_int_equal(a[7].nsets, 1);
	expect_set(&a[7], 0, 0, NULL);
	lt_free(&t);
}

static void test_load_err_vocab(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when: [{p: {name: ?_n}}]\n"
	              "    then:\n"
	              "      - conclude: {id: a, certainty: 1.5}\n" /* 10 */
	              "      - conclude: {id: a, certainty: high}\n"
	              "      - conclude: {id: a, rule: r}\n"
	              "      - conclude: {certainty: 0.5}\n"
	              "      - conclude: {id: a, cert: 0.5}\n"
	              "      - recommend: {remedy: m, rule: r}\n" /* 15 */
	              "      - recommend: {finding: f}\n"
	              "      - ask: [a, b]\n"
	              "      - conclude: {id: a, certainty: -0.1}\n"
	              "      - conclude: {id: a, certainty: \"= 2\"}\n"
	              "      - conclude: {id: ?zz}\n" /* 20 */
	              "      - conclude: a\n"
	              "      - ask:\n");
	expect_msg(expect(&t, "type", 10, 38), "from 0 to 1");
	expect_msg(expect(&t, "type", 11, 38), "slot 'certainty' of template 'finding'");
	const rec *e = expect(&t, "unknown-key", 12, 27);
	expect_msg(e, "rule");
	expect_msg(e, "expected one of: id, certainty");
	expect_msg(expect(&t, "missing-key", 13, 9), "conclude needs id");
	e = expect(&t, "unknown-key", 14, 27);
	expect_msg(e, "expected one of: id, certainty");
	if (strstr(e->msg, "rule"))
		fail_msg("'rule' offered as a key: %s", e->msg);
	expect_msg(expect(&t, "unknown-key", 15, 32), "expected one of: remedy, finding");
	expect_msg(expect(&t, "missing-key", 16, 9), "recommend needs remedy");
	expect(&t, "shape", 17, 14);
	expect(&t, "type", 18, 38);
	expect(&t, "type", 19, 38);
	expect(&t, "unbound-variable", 20, 24);
	expect(&t, "shape", 21, 19);
	expect(&t, "missing-key", 22, 9);
	assert_int_equal(t.nd, 13);
	assert_string_equal(t.d[0].rule, "r");
	lt_free(&t);

	/* A user template may not take a built-in name. */
	lt_init(&t);
	load_text(&t, "templates:\n"
	              "  - id: mine\n"
	              "  - id: tried\n"
	              "    slots: {what: symbol}\n");
	e = expect_only(&t, "duplicate-id", 3, 9);
	assert_string_equal(e->file, "t.yaml");
	expect_msg(e, "'tried' is built in");
	expect_msg(e, "<builtin>");
	lt_free(&t);
}

/* Through a session: the rule's name lands in the finding's rule slot. */
static void test_load_vocab_session(void **state)
{
	(void)state;
	static const char kb_text[] =
	        "templates:\n"
	        "  - id: log\n"
	        "    slots: {line: string}\n"
	        "facts:\n"
	        "  - log: {line: \"not enough storage\"}\n"
	        "rules:\n"
	        "  - id: storage-full\n"
	        "    when: [{log: {line: {contains: storage}}}]\n"
	        "    then:\n"
	        "      - conclude: {id: no-space, certainty: 0.8}\n"
	        "      - ask: free-space\n"
	        "  - id: free-some\n"
	        "    when: [{finding: {id: ?f}}, {not: {tried: {remedy: delete-backups}}}]\n"
	        "    then: [{recommend: {remedy: delete-backups, finding: ?f}}]\n";
	fx_load_opts o;
	memset(&o, 0, sizeof o);
	o.diag = ignore_diag;
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "s.yaml", kb_text, strlen(kb_text), &o), 0);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	uint64_t fired = 0;
	assert_int_equal(fx_session_run(s, 0, &fired), 0);
	assert_int_equal(fired, 2);
	long ft = fx_kb_template_find(kb, "finding"), rt = fx_kb_template_find(kb, "recommend");
	long at = fx_kb_template_find(kb, "ask");
	int nf = 0, nr = 0, na = 0;
	fx_value v;
	for (uint64_t id = 0; fx_session_fact_next(s, id, &id);) {
		long tt = fx_session_fact_template(s, id);
		if (tt == ft) {
			nf++;
			assert_int_equal(fx_session_fact_slot(s, id, 0, &v), 0);
			assert_string_equal(v.u.text, "no-space");
			assert_int_equal(fx_session_fact_slot(s, id, 1, &v), 0);
			assert_true(v.type == FX_FLOAT && v.u.f == 0.8);
			assert_int_equal(fx_session_fact_slot(s, id, 2, &v), 0);
			assert_int_equal(v.type, FX_SYMBOL);
			assert_string_equal(v.u.text, "storage-full");
		} else if (tt == rt) {
			nr++;
			char buf[160];
			fx_session_fact_format(s, id, buf, sizeof buf);
			assert_string_equal(buf,
			                    "(recommend (remedy delete-backups) (finding no-space) "
			                    "(rule free-some))");
		} else if (tt == at) {
			na++;
			assert_int_equal(fx_session_fact_slot(s, id, 0, &v), 0);
			assert_string_equal(v.u.text, "free-space");
		}
	}
	assert_int_equal(nf, 1);
	assert_int_equal(nr, 1);
	assert_int_equal(na, 1);
	fx_session_free(s);
	fx_kb_free(kb);
}

/* --- Patterns and remedies ------------------------------------------------------------------ */

static const fx_pattern_def *pattern(const lt *t, const char *name)
{
	for (uint32_t i = 0; i < t->prog.npatterns; i++)
		if (strcmp(t->prog.patterns[i].name, name) == 0)
			return &t->prog.patterns[i];
	fail_msg("no pattern %s", name);
	return NULL;
}

/* A diagnostic with this code at line:col whose message holds part (several may share a place). */
static void expect_with(const lt *t, const char *code, unsigned line, unsigned col,
                        const char *part)
{
	for (int i = 0; i < t->nd; i++)
		if (strcmp(t->d[i].code, code) == 0 && t->d[i].line == line && t->d[i].col == col &&
		    strstr(t->d[i].msg, part))
			return;
	dump(t);
	fail_msg("no [%s] at %u:%u saying '%s'", code, line, col, part);
}

static void expect_pos(fx_pos p, unsigned line, unsigned col)
{
	if (p.line != line || p.col != col)
		fail_msg("position %u:%u, expected %u:%u", (unsigned)p.line, (unsigned)p.col, line,
		         col);
}

static void test_load_patterns(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "patterns:\n"
	              "  - id: disk-full\n" /* 7 */
	              "    regex: 'no (space|room) left'\n"
	              "    flags: im\n"
	              "    asserts:\n"
	              "      - p: {name: disk-full, age: 3}\n" /* 11 */
	              "      - q:\n"
	              "    source: man 2 write\n"
	              "    doc: ENOSPC\n"
	              "    examples:\n"
	              "      - \"write failed: No space left on device\"\n" /* 16 */
	              "      - No room left\n"
	              "    near-misses: \"space left: 3 GB\"\n"
	              "  - id: err-code\n" /* 19 */
	              "    regex: 'error (?<code>-?\\d+)( \\w+)?(?:: (?<msg>.*))?'\n"
	              "    asserts: {p: {age: ?code, s: ?_match, name: ?msg, w: 1}}\n"); /* 21 */
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	assert_int_equal(t.prog.npatterns, 2);
	const fx_pattern_def *d = pattern(&t, "disk-full");
	assert_int_equal(d->index, 0);
	expect_pos(d->pos, 7, 9);
	assert_string_equal(d->regex, "no (space|room) left");
	assert_int_equal(d->regex_len, 20);
	expect_pos(d->regex_pos, 8, 12);
	assert_int_equal(d->flags, FX_RE_CASELESS | FX_RE_MULTILINE);
	assert_non_null(d->re);
	assert_int_equal(t.regexes.len, 2); /* registered for the kb to free */
	assert_int_equal(fx_regex_match(d->re, "No Space Left", 13), 1);
	assert_string_equal(d->source, "man 2 write");
	assert_string_equal(d->doc, "ENOSPC");
	/* one unnamed group */
	assert_int_equal(d->ngroups, 2);
	assert_string_equal(d->groups[0], "_match");
	assert_null(d->groups[1]);
	/* facts: constants converted, the others at their defaults */
	assert_int_equal(d->nfacts, 2);
	const fx_pattern_fact *f = &d->facts[0];
	assert_int_equal(f->tmpl, NB);
	expect_pos(f->pos, 11, 9);
	const fx_pattern_value *pv = f->vals;
	assert_int_equal(pv[0].kind, FX_PV_CONST);
	assert_int_equal(pv[0].val.type, FX_SYMBOL);
	assert_string_equal(atom(pv[0].val), "disk-full");
	expect_pos(pv[0].pos, 11, 19);
	assert_int_equal(pv[1].kind, FX_PV_CONST);
	assert_int_equal(pv[1].val.type, FX_INTEGER);
	assert_int_equal(pv[1].val.u.i, 3);
	assert_int_equal(pv[2].val.type, FX_FLOAT); /* w: default 0.0 */
	assert_true(pv[2].val.u.f == 0.0);
	expect_pos(pv[2].pos, 11, 9);
	assert_int_equal(pv[3].val.type, FX_BOOLEAN);
	assert_int_equal(pv[4].val.type, FX_STRING);
	assert_string_equal(atom(pv[4].val), "");
	f = &d->facts[1]; /* `- q:`: every slot at its default */
	assert_int_equal(f->tmpl, NB + 1);
	assert_int_equal(f->vals[0].kind, FX_PV_CONST);
	assert_string_equal(atom(f->vals[0].val), "nil");
	assert_int_equal(f->vals[1].val.u.i, 0);
	/* examples and near-misses, a list and a single text */
	assert_int_equal(d->nexamples, 2);
	assert_string_equal(d->examples[0].text, "write failed: No space left on device");
	assert_int_equal(d->examples[0].len, 37);
	expect_pos(d->examples[0].pos, 16, 9);
	assert_string_equal(d->examples[1].text, "No room left");
	assert_int_equal(d->nnear, 1);
	assert_string_equal(d->near_misses[0].text, "space left: 3 GB");
	expect_pos(d->near_misses[0].pos, 18, 18);

	const fx_pattern_def *e = pattern(&t, "err-code");
	assert_int_equal(e->index, 1);
	assert_int_equal(e->flags, 0);
	assert_string_equal(e->regex, "error (?<code>-?\\d+)( \\w+)?(?:: (?<msg>.*))?");
	assert_null(e->source);
	assert_int_equal(e->nexamples, 0);
	assert_null(e->examples);
	assert_int_equal(e->ngroups, 4);
	assert_string_equal(e->groups[1], "code");
	assert_null(e->groups[2]);
	assert_string_equal(e->groups[3], "msg");
	assert_int_equal(e->nfacts, 1);
	pv = e->facts[0].vals;
	assert_int_equal(pv[0].kind, FX_PV_CAPTURE); /* name: ?msg */
	assert_int_equal(pv[0].group, 3);
	expect_pos(pv[0].pos, 21, 49);
	assert_int_equal(pv[1].kind, FX_PV_CAPTURE); /* age: ?code, converted at run time */
	assert_int_equal(pv[1].group, 1);
	expect_pos(pv[1].pos, 21, 24);
	assert_int_equal(pv[2].kind, FX_PV_CONST); /* w: 1, a float */
	assert_int_equal(pv[2].val.type, FX_FLOAT);
	assert_true(pv[2].val.u.f == 1.0);
	assert_int_equal(pv[3].kind, FX_PV_CONST);
	assert_int_equal(pv[4].kind, FX_PV_CAPTURE); /* s: ?_match */
	assert_int_equal(pv[4].group, 0);
	lt_free(&t);
}

static void test_load_err_patterns(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_with(&t, "patterns:\n"
	              "  - id: a\n" /* 7 */
	              "    regex: 'x(?<n>y'\n"
	              "    flags: isq\n"
	              "    asserts: {p: {name: ?n, s: ?zz}}\n" /* 10: not reported, regex failed */
	              "    example: x\n"
	              "  - id: b\n" /* 12 */
	              "    regex: 'e(?<code>\\d+)(?<at>@\\w+)?'\n"
	              "    asserts:\n"
	              "      - p: {age: ?cod, name: \"?1\", s: ?_match}\n" /* 15 */
	              "      - p: {age: x, nope: 1}\n"
	              "      - zz: {}\n"
	              "      - {p: {}, q: {}}\n" /* 18 */
	              "      - [p]\n"
	              "    examples: {a: b}\n" /* 20 */
	              "  - id: b\n"
	              "    regex: 'e(\\d+)'\n"
	              "    asserts: {q: {a: ?num}}\n" /* 23 */
	              "  - regex: '(?<_match>x)'\n"
	              "    asserts: []\n" /* 25 */
	              "  - id: c\n"
	              "    regex: '(?J)(?<v>a)|(?<v>b)'\n"
	              "    asserts: {q: {a: ?v}}\n" /* 28 */
	              "  - id: d\n"
	              "    asserts: {q: {}}\n" /* 30 */
	              "  - id: e\n"
	              "    regex: [x]\n");
	const rec *r = expect(&t, "bad-regex", 8, 20);
	expect_msg(r, "missing closing parenthesis");
	expect_msg(expect(&t, "bad-regex", 9, 14), "unknown regex flag 'q'");
	expect_msg(expect(&t, "unknown-key", 11, 5), "expected one of: id, regex, flags, asserts");
	r = expect(&t, "unbound-variable", 15, 18);
	expect_msg(r, "?cod names no group of this pattern's regex");
	expect_msg(r, "its groups are ?code, ?at (and ?_match");
	assert_int_equal(r->span, 4);
	expect_msg(expect(&t, "bad-variable", 15, 30), "'?1' is not a variable");
	expect_msg(expect(&t, "type", 16, 18), "slot 'age' of template 'p' is an integer");
	expect(&t, "unknown-slot", 16, 21);
	expect(&t, "unknown-template", 17, 9);
	expect_msg(expect(&t, "shape", 18, 17), "one fact per mapping");
	expect_msg(expect(&t, "shape", 19, 9), "an item of asserts must be a fact");
	expect(&t, "shape", 20, 15);
	expect_msg(expect(&t, "duplicate-id", 21, 9),
	           "pattern 'b' is already defined at t.yaml:12:9");
	expect_msg(expect(&t, "unbound-variable", 23, 22), "which has no named groups");
	expect_msg(expect(&t, "missing-key", 24, 5), "a pattern needs an id");
	expect_msg(expect(&t, "bad-regex", 24, 16), "cannot be named _match");
	expect_msg(expect(&t, "shape", 25, 14), "non-empty list of facts");
	expect_msg(expect(&t, "bad-regex", 27, 12), "used by groups 1 and 2");
	expect_msg(expect(&t, "missing-key", 29, 5), "a pattern needs regex");
	expect_msg(expect(&t, "shape", 32, 12), "regex must be a regular expression");
	expect_msg(expect(&t, "missing-key", 31, 5), "a pattern needs asserts");
	assert_int_equal(t.nd, 20);
	assert_int_equal(t.rc, FX_ELOAD);
	lt_free(&t);
}

static const char *remedies_text = "remedies:\n"
                                   "  - id: free-space\n" /* 7 */
                                   "    title: Free some space\n"
                                   "    steps:\n"
                                   "      - Empty the trash.\n"
                                   "      - Delete old backups.\n"
                                   "    cost: 2\n"
                                   "    warning: Deleted backups are gone.\n"
                                   "    source: seed article\n"
                                   "    doc: The usual fix.\n"
                                   "  - id: buy-disk\n" /* 16 */
                                   "    title: Buy a larger disk\n"
                                   "    steps: [Order it, Copy everything over]\n"
                                   "    cost: 10\n";

/* remedies_text, then text (which starts at line 20). */
static int load_remedies_with(lt *t, const char *text)
{
	size_t n = strlen(remedies_text) + strlen(text) + 1;
	char *all = malloc(n);
	assert_non_null(all);
	snprintf(all, n, "%s%s", remedies_text, text);
	int rc = load_with(t, all);
	free(all);
	return rc;
}

static void test_load_remedies(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_remedies_with(&t, "facts:\n"
	                       "  - tried: {remedy: buy-disk}\n"
	                       "rules:\n"
	                       "  - id: r\n"
	                       "    when:\n"
	                       "      - p: {name: ?n}\n"
	                       "      - not: {tried: {remedy: free-space}}\n"
	                       "      - recommend: {remedy: [free-space, buy-disk]}\n"
	                       "    then:\n"
	                       "      - recommend: {remedy: free-space, finding: ?n}\n"
	                       "      - assert: {recommend: {remedy: buy-disk}}\n"
	                       "      - recommend: {remedy: ?n}\n"
	                       "patterns:\n"
	                       "  - id: full\n"
	                       "    regex: full\n"
	                       "    asserts: {tried: {remedy: free-space}}\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	assert_int_equal(t.prog.nremedies, 2);
	const fx_remedy_def *m = &t.prog.remedies[0];
	assert_string_equal(m->name, "free-space");
	assert_int_equal(m->index, 0);
	expect_pos(m->pos, 7, 9);
	assert_string_equal(m->title, "Free some space");
	assert_int_equal(m->nsteps, 2);
	assert_string_equal(m->steps[0], "Empty the trash.");
	assert_string_equal(m->steps[1], "Delete old backups.");
	assert_int_equal(m->cost, 2);
	assert_string_equal(m->warning, "Deleted backups are gone.");
	assert_string_equal(m->source, "seed article");
	assert_string_equal(m->doc, "The usual fix.");
	m = &t.prog.remedies[1];
	assert_string_equal(m->name, "buy-disk");
	assert_int_equal(m->index, 1);
	assert_int_equal(m->nsteps, 2);
	assert_string_equal(m->steps[1], "Copy everything over");
	assert_int_equal(m->cost, 10);
	assert_null(m->warning);
	assert_null(m->source);
	assert_null(m->doc);
	lt_free(&t);

	/* Without a remedies section, remedy names are not checked. */
	lt_init(&t);
	load_with(&t, "rules:\n"
	              "  - id: r\n"
	              "    when: [{p: {}}]\n"
	              "    then: [{recommend: {remedy: anything}}]\n");
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	assert_int_equal(t.prog.nremedies, 0);
	assert_null(t.prog.remedies);
	lt_free(&t);
}

static void test_load_err_remedies(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_remedies_with(&t, "  - id: free-space\n" /* 20 */
	                       "    title: again\n"
	                       "    steps: [x]\n"
	                       "    cost: 1\n"
	                       "  - id: no-title\n" /* 24 */
	                       "    steps: []\n"
	                       "    cost: 0\n"
	                       "    colour: red\n"
	                       "  - id: bad-steps\n" /* 28 */
	                       "    title: x\n"
	                       "    steps: [a, [b], '']\n"
	                       "    cost: x\n"
	                       "  - title: only\n" /* 32 */
	                       "    steps: Just one\n"
	                       "  - id: big\n" /* 34 */
	                       "    title:\n"
	                       "    steps:\n"
	                       "    cost: 11\n"
	                       "facts:\n"
	                       "  - tried: {remedy: by-disk}\n" /* 39 */
	                       "rules:\n"
	                       "  - id: r\n"
	                       "    when:\n"
	                       "      - p: {name: ?n}\n"
	                       "      - not: {tried: {remedy: free-spaces}}\n" /* 44 */
	                       "      - recommend: {remedy: [buy-disk, reboot]}\n"
	                       "      - recommend: {remedy: \"!= frees\"}\n"
	                       "      - as: ?f\n"
	                       "        recommend: {remedy: {ne: buy-dsk, starts-with: nothing}}\n"
	                       "    then:\n"
	                       "      - recommend: {remedy: fre-spac, finding: ?n}\n" /* 50 */
	                       "      - assert: {recommend: {remedy: \"wipe everything\"}}\n"
	                       "      - modify: ?f\n"
	                       "        set: {remedy: \"= 'computed'\", finding: buy-dsk}\n"
	                       "patterns:\n"
	                       "  - id: full\n"
	                       "    regex: full\n"
	                       "    asserts: {tried: {remedy: free_space}}\n"); /* 57 */
	expect_msg(expect(&t, "duplicate-id", 20, 9),
	           "remedy 'free-space' is already defined at t.yaml:7:9");
	expect_msg(expect(&t, "missing-key", 24, 5), "a remedy needs a title");
	expect_msg(expect(&t, "shape", 25, 12), "not an empty list");
	expect_msg(expect(&t, "type", 26, 11), "cost is an integer from 1 (trivial) to 10");
	expect_msg(expect(&t, "unknown-key", 27, 5),
	           "expected one of: id, title, steps, cost, warning, source, doc");
	expect_msg(expect(&t, "shape", 30, 16), "not a list");
	expect_msg(expect(&t, "shape", 30, 21), "not empty text");
	expect(&t, "type", 31, 11);
	expect_with(&t, "missing-key", 32, 5, "a remedy needs an id");
	expect_with(&t, "missing-key", 32, 5, "a remedy needs a cost");
	expect_msg(expect(&t, "shape", 33, 12), "not a scalar");
	expect(&t, "missing-key", 35, 5);
	expect(&t, "shape", 36, 5);
	expect(&t, "type", 37, 11);
	const rec *r = expect(&t, "unknown-remedy", 39, 21);
	expect_msg(r, "no remedy named 'by-disk'; did you mean 'buy-disk' (defined at "
	              "t.yaml:16:9)?");
	assert_int_equal(r->span, 7);
	expect_msg(expect(&t, "unknown-remedy", 44, 31), "did you mean 'free-space'");
	expect_msg(expect(&t, "unknown-remedy", 45, 40), "no remedy named 'reboot'");
	expect_msg(expect(&t, "unknown-remedy", 46, 33), "'frees'");
	expect_msg(expect(&t, "unknown-remedy", 48, 34), "did you mean 'buy-disk'");
	r = expect(&t, "unknown-remedy", 50, 29);
	expect_msg(r, "did you mean 'free-space'");
	assert_string_equal(r->rule, "r");
	r = expect(&t, "unknown-remedy", 51, 38);
	expect_msg(r, "remedies are defined in the remedies: sections (one is at t.yaml:6:1)");
	expect_msg(expect(&t, "unknown-remedy", 57, 31), "did you mean 'free-space'");
	assert_int_equal(t.nd, 22);
	lt_free(&t);

	/* An empty remedies section still turns the check on. */
	lt_init(&t);
	load_with(&t, "remedies:\n"
	              "rules:\n"
	              "  - id: r\n"
	              "    when: [{p: {}}]\n"
	              "    then: [{recommend: {remedy: anything}}]\n"); /* 10 */
	expect_msg(expect_only(&t, "unknown-remedy", 10, 33), "(one is at t.yaml:6:1)");
	lt_free(&t);
}

/* --- Findings ------------------------------------------------------------------------------------ */

/* A `findings:` section describes what rules conclude; with one, every finding concluded,
 * recommended for or expected by a case must be described (the check remedies have). */
static void test_load_findings(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	load_ok(&t, "findings:\n"                                                        /* 1 */
	            "  - id: disk-full\n"                                                 /* 2 */
	            "    title: The disk is full\n"                                       /* 3 */
	            "    doc: Nothing more fits.\n"                                       /* 4 */
	            "    source: a manual\n"                                              /* 5 */
	            "  - {id: other, title: Something else}\n"                            /* 6 */
	            "rules:\n"                                                            /* 7 */
	            "  - id: r\n"                                                         /* 8 */
	            "    when: [{test: \"1 == 1\"}]\n"                                    /* 9 */
	            "    then: [{conclude: {id: disk-full, certainty: 0.5}}]\n");         /* 10 */
	assert_int_equal(t.prog.nfindings, 2);
	const fx_finding_def *f = &t.prog.findings[0];
	assert_string_equal(f->name, "disk-full");
	assert_string_equal(f->title, "The disk is full");
	assert_string_equal(f->doc, "Nothing more fits.");
	assert_string_equal(f->source, "a manual");
	assert_int_equal(f->pos.line, 2);
	assert_int_equal(f->pos.col, 9);
	assert_null(t.prog.findings[1].doc);
	lt_free(&t);

	lt_init(&t);
	load_with(&t, "findings:\n"                                                      /* 6 */
	              "  - {id: disk-full, title: The disk is full}\n"                    /* 7 */
	              "  - {id: disk-full, title: Again}\n"                               /* 8 */
	              "  - {id: no-title}\n"                                              /* 9 */
	              "  - {id: x, title: X, cost: 3}\n"                                  /* 10 */
	              "rules:\n"                                                          /* 11 */
	              "  - id: r\n"                                                       /* 12 */
	              "    when: [{p: {}}]\n"                                             /* 13 */
	              "    then:\n"                                                       /* 14 */
	              "      - conclude: {id: disk-ful, certainty: 0.5}\n"                /* 15 */
	              "      - recommend: {remedy: a, finding: nope}\n"                   /* 16 */
	              "      - assert: {finding: {id: disk-full}}\n"                      /* 17 */
	              "cases:\n"                                                          /* 18 */
	              "  - {input: x, expect: {findings: [disk-fulll]}}\n");              /* 19 */
	expect_msg(expect(&t, "duplicate-id", 8, 10), "already described at t.yaml:7:10");
	expect_msg(expect(&t, "missing-key", 9, 5), "a finding needs a title");
	expect_msg(expect(&t, "unknown-key", 10, 23), "id, title, source, doc");
	expect_msg(expect(&t, "unknown-finding", 15, 24), "did you mean 'disk-full'");
	expect_msg(expect(&t, "unknown-finding", 16, 41), "no finding named 'nope'");
	expect_msg(expect(&t, "unknown-finding", 19, 36), "did you mean 'disk-full'");
	assert_int_equal(t.nd, 6);
	lt_free(&t);

	/* Without a findings section any id may be concluded. */
	lt_init(&t);
	load_ok(&t, "rules:\n"
	            "  - id: r\n"
	            "    when: [{test: \"1 == 1\"}]\n"
	            "    then: [{conclude: {id: anything, certainty: 0.5}}]\n");
	assert_int_equal(t.prog.nfindings, 0);
	lt_free(&t);
}

/* --- Questions, cases, rule source and logical ------------------------------------------------ */

static const char *qkb =
        "templates:\n"                                                          /* 1 */
        "  - id: symptom\n"                                                     /* 2 */
        "    slots: {kind: symbol, text: string}\n"                             /* 3 */
        "remedies:\n"                                                           /* 4 */
        "  - id: free-icloud-storage\n"                                         /* 5 */
        "    title: Free iCloud storage\n"                                      /* 6 */
        "    steps: [Delete old backups.]\n"                                    /* 7 */
        "    cost: 2\n"                                                         /* 8 */
        "questions:\n"                                                          /* 9 */
        "  - id: icloud-storage-full\n"                                         /* 10 */
        "    ask: \"Is your iCloud storage full?\"\n"                           /* 11 */
        "    doc: Settings shows it.\n"                                         /* 12 */
        "    source: seed article\n"                                            /* 13 */
        "    answers:\n"                                                        /* 14 */
        "      yes: [{symptom: {kind: icloud-storage-full, text: \"you said so\"}}]\n" /* 15 */
        "      no: []\n"                                                        /* 16 */
        "      maybe:\n"                                                        /* 17 */
        "  - id: wifi-ok\n"                                                     /* 18 */
        "    ask: Is Wi-Fi on?\n";                                              /* 19 */

static const char *qrules =
        "rules:\n"                                                              /* 20 */
        "  - id: r\n"                                                           /* 21 */
        "    source: \"seed article, section 1\"\n"                             /* 22 */
        "    logical: true\n"                                                   /* 23 */
        "    when:\n"                                                           /* 24 */
        "      - symptom: {kind: icloud-storage-full}\n"                        /* 25 */
        "      - answer: {question: wifi-ok, value: yes}\n"                     /* 26 */
        "    then:\n"                                                           /* 27 */
        "      - ask: icloud-storage-full\n"                                    /* 28 */
        "      - recommend: {remedy: free-icloud-storage}\n"                    /* 29 */
        "  - id: s\n"                                                           /* 30 */
        "    logical: false\n"                                                  /* 31 */
        "    when: [{symptom: {kind: x}}]\n";                                   /* 32 */

static const char *qcases =
        "cases:\n"                                                              /* 33 */
        "  - id: storage-alert\n"                                               /* 34 */
        "    source: https://example.com/x\n"                                   /* 35 */
        "    input: \"iCloud Backup failed.\"\n"                                /* 36 */
        "    answers: {wifi-ok: yes, icloud-storage-full: unknown}\n"           /* 37 */
        "    tried: [free-icloud-storage]\n"                                    /* 38 */
        "    expect:\n"                                                         /* 39 */
        "      findings: [icloud-storage-full]\n"                               /* 40 */
        "      remedies: [free-icloud-storage]\n"                               /* 41 */
        "      top: free-icloud-storage\n"                                      /* 42 */
        "      absent: [fix-wifi]\n"                                            /* 43 */
        "  - input: all good\n"                                                 /* 44 */
        "    expect: {nothing: true}\n";                                        /* 45 */

/* kb text + extra, loaded as one buffer. */
static int kb_plus(lt *t, const char *kb, const char *extra)
{
	size_t n = strlen(kb) + strlen(extra) + 1;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s%s", kb, extra);
	int rc = load_text(t, s);
	free(s);
	return rc;
}

static void test_load_questions_and_cases(void **state)
{
	(void)state;
	char all[4096];
	snprintf(all, sizeof all, "%s%s%s", qkb, qrules, qcases);
	lt t;
	lt_init(&t);
	load_ok(&t, all);
	assert_int_equal(t.prog.nquestions, 2);
	const fx_question_def *q = &t.prog.questions[0];
	assert_string_equal(q->name, "icloud-storage-full");
	assert_int_equal(q->index, 0);
	expect_pos(q->pos, 10, 9);
	assert_string_equal(q->text, "Is your iCloud storage full?");
	assert_string_equal(q->doc, "Settings shows it.");
	assert_string_equal(q->source, "seed article");
	assert_int_equal(q->nanswers, 3);
	assert_string_equal(q->answers[0].value, "yes");
	expect_pos(q->answers[0].pos, 15, 7);
	assert_int_equal(q->answers[0].nfacts, 1);
	const fx_fact_def *f = &q->answers[0].facts[0];
	assert_int_equal(f->tmpl, NB);
	expect_pos(f->pos, 15, 14);
	assert_string_equal(atom(f->values[0]), "icloud-storage-full");
	assert_int_equal(f->values[1].type, FX_STRING);
	assert_string_equal(atom(f->values[1]), "you said so");
	assert_string_equal(q->answers[1].value, "no");
	assert_int_equal(q->answers[1].nfacts, 0);
	assert_string_equal(q->answers[2].value, "maybe");
	assert_int_equal(q->answers[2].nfacts, 0);
	/* No answers: yes and no, asserting nothing. */
	q = &t.prog.questions[1];
	assert_string_equal(q->name, "wifi-ok");
	assert_int_equal(q->index, 1);
	assert_null(q->doc);
	assert_null(q->source);
	assert_int_equal(q->nanswers, 2);
	assert_string_equal(q->answers[0].value, "yes");
	assert_string_equal(q->answers[1].value, "no");
	assert_int_equal(q->answers[0].nfacts + q->answers[1].nfacts, 0);
	/* Initial facts are not touched by answers. */
	assert_int_equal(t.prog.nfacts, 0);

	const fx_rule_def *r = rule(&t, "r");
	assert_string_equal(r->source, "seed article, section 1");
	assert_int_equal(r->logical, 1);
	r = rule(&t, "s");
	assert_null(r->source);
	assert_int_equal(r->logical, 0);

	assert_int_equal(t.prog.ncases, 2);
	const fx_case_def *c = &t.prog.cases[0];
	assert_string_equal(c->name, "storage-alert");
	assert_int_equal(c->index, 0);
	expect_pos(c->pos, 34, 5);
	assert_string_equal(c->source, "https://example.com/x");
	assert_string_equal(c->input, "iCloud Backup failed.");
	assert_int_equal(c->input_len, 21);
	assert_int_equal(c->nanswers, 2);
	assert_int_equal(c->answers[0].question, 1);
	assert_int_equal(c->answers[0].answer, 0);
	expect_pos(c->answers[0].pos, 37, 15);
	assert_int_equal(c->answers[1].question, 0);
	assert_int_equal(c->answers[1].answer, UINT32_MAX);
	assert_int_equal(c->ntried, 1);
	assert_string_equal(c->tried[0], "free-icloud-storage");
	assert_int_equal(c->nfindings, 1);
	assert_string_equal(c->findings[0], "icloud-storage-full");
	assert_int_equal(c->nremedies, 1);
	assert_string_equal(c->remedies[0], "free-icloud-storage");
	assert_string_equal(c->top, "free-icloud-storage");
	assert_int_equal(c->nabsent, 1);
	assert_string_equal(c->absent[0], "fix-wifi");
	assert_int_equal(c->nothing, 0);
	c = &t.prog.cases[1];
	assert_string_equal(c->name, "t.yaml:44");
	assert_int_equal(c->index, 1);
	assert_string_equal(c->input, "all good");
	assert_int_equal(c->nothing, 1);
	assert_int_equal(c->nfindings + c->nremedies + c->nabsent + c->nanswers + c->ntried, 0);
	assert_null(c->top);
	assert_null(c->source);
	lt_free(&t);
}

/* A corpus is a file of cases alone, loaded with the kb it tests, in either order. */
static void test_load_cases_corpus(void **state)
{
	(void)state;
	const char *corpus = "cases:\n"
	                     "  - input: x\n"
	                     "    answers: {wifi-ok: no}\n"
	                     "    expect: {top: free-icloud-storage}\n";
	for (int order = 0; order < 2; order++) {
		const char *bufs[2] = {order ? corpus : qkb, order ? qkb : corpus};
		const char *names[2] = {order ? "corpus.yaml" : "kb.yaml",
		                        order ? "kb.yaml" : "corpus.yaml"};
		size_t lens[2] = {strlen(bufs[0]), strlen(bufs[1])};
		fx_load_input in;
		memset(&in, 0, sizeof in);
		in.bufs = bufs;
		in.lens = lens;
		in.names = names;
		in.nbufs = 2;
		lt t;
		lt_init(&t);
		t.rc = fx_load_program(&t.prog, &t.arena, &t.atoms, &t.regexes, &t.rep, &in);
		if (t.rc || t.nd) {
			dump(&t);
			fail();
		}
		assert_int_equal(t.prog.ncases, 1);
		assert_string_equal(t.prog.cases[0].name, "corpus.yaml:2");
		assert_int_equal(t.prog.cases[0].answers[0].question, 1);
		assert_int_equal(t.prog.cases[0].answers[0].answer, 1);
		lt_free(&t);
	}
	/* Alone, a corpus without answers loads too. */
	lt t;
	lt_init(&t);
	load_ok(&t, "cases:\n  - {input: x, expect: {findings: [a, b]}}\n");
	assert_int_equal(t.prog.ncases, 1);
	assert_int_equal(t.prog.cases[0].nfindings, 2);
	lt_free(&t);
}

static void test_load_err_questions(void **state)
{
	(void)state;
	lt t;
	lt_init(&t);
	kb_plus(&t, "questions:\n  - id: q\n", "");
	expect_msg(expect_only(&t, "missing-key", 2, 5), "needs ask");
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "questions:\n  - id: q\n    ask: x\n    color: red\n", "");
	expect_msg(expect_only(&t, "unknown-key", 4, 5), "id, ask, doc, source, answers");
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "questions:\n  - id: q\n    ask: x\n    answers: {}\n", "");
	expect_msg(expect_only(&t, "shape", 4, 14), "non-empty mapping");
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "questions:\n  - id: q\n    ask: x\n    answers:\n      yes: [{nosuch: {}}]\n",
	          "");
	expect_only(&t, "unknown-template", 5, 14);
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "questions:\n  - id: q\n    ask: x\n    answers:\n      two words: []\n", "");
	expect_only(&t, "bad-id", 5, 7);
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t,
	          "questions:\n  - id: q\n    ask: x\n    answers:\n"
	          "      yes: [{id: f, finding: {id: a}}]\n      yes: []\n",
	          "");
	expect(&t, "unknown-key", 5, 14);
	expect(&t, "duplicate-key", 6, 7);
	assert_int_equal(t.nd, 2);
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "questions:\n  - {id: q, ask: x}\n  - {id: q, ask: y}\n", "");
	expect_msg(expect_only(&t, "duplicate-id", 3, 10), "already defined at t.yaml:2:10");
	lt_free(&t);

	/* ask: and answer conditions name declared questions, with a suggestion. */
	lt_init(&t);
	kb_plus(&t, qkb,
	          "rules:\n"
	          "  - id: r\n"
	          "    when: [{answer: {question: nope}}]\n"
	          "    then: [{ask: wifi-of}]\n");
	expect_msg(expect(&t, "unknown-question", 22, 32), "questions are defined in the");
	expect_msg(expect(&t, "unknown-question", 23, 18), "did you mean 'wifi-ok'");
	assert_int_equal(t.nd, 2);
	lt_free(&t);

	/* Without a questions section, nothing is checked. */
	lt_init(&t);
	load_ok(&t, "rules:\n  - id: r\n    when: [{answer: {question: a}}]\n    then: [{ask: b}]\n");
	lt_free(&t);

	lt_init(&t);
	kb_plus(&t, "rules:\n  - id: r\n    logical: maybe\n    when: [{answer: {}}]\n", "");
	expect_msg(expect_only(&t, "type", 3, 14), "true or false");
	lt_free(&t);
}

static void test_load_err_cases(void **state)
{
	(void)state;
	static const struct {
		const char *text; /* after qkb (19 lines) */
		const char *code;
		unsigned line, col;
		const char *msg;
	} bad[] = {
	        {"cases:\n  - {input: x, answers: {wifi-k: yes}, expect: {nothing: true}}\n",
	         "unknown-question", 21, 26, "did you mean 'wifi-ok'"},
	        {"cases:\n  - {input: x, answers: {wifi-ok: maybe}, expect: {nothing: true}}\n",
	         "unknown-answer", 21, 35, "its answers are: yes, no, unknown"},
	        {"cases:\n  - {input: x, tried: [free-icloud-storag], expect: {nothing: true}}\n",
	         "unknown-remedy", 21, 24, "did you mean 'free-icloud-storage'"},
	        {"cases:\n  - {input: x, expect: {top: nope}}\n", "unknown-remedy", 21, 30,
	         "no remedy named 'nope'"},
	        {"cases:\n  - {input: x, expect: {remedies: [nope]}}\n", "unknown-remedy", 21,
	         36, "no remedy named 'nope'"},
	        {"cases:\n  - {input: x}\n", "missing-key", 21, 5, "needs expect"},
	        {"cases:\n  - {input: x, expect: {}}\n", "shape", 21, 24, "empty mapping"},
	        {"cases:\n  - {input: x, expect: {nothing: false}}\n", "shape", 21, 16,
	         "must expect something"},
	        {"cases:\n  - {input: x, expect: {nothing: true, findings: [a]}}\n", "shape", 21,
	         25, "cannot go with"},
	        {"cases:\n  - {input: x, expect: {nothing: yes}}\n", "type", 21, 34,
	         "true or false"},
	        {"cases:\n  - {input: x, expect: {finding: [a]}}\n", "unknown-key", 21, 25,
	         "findings, remedies, top, absent, nothing"},
	        {"cases:\n  - {input: [x], expect: {findings: [a]}}\n", "shape", 21, 13, "text"},
	        {"cases:\n  - {input: x, expected: 1, expect: {findings: [a]}}\n", "unknown-key", 21, 16,
	         "id, source, doc, input, answers, tried, expect"},
	        {"cases:\n  - {id: c, expect: {absent: [a]}}\n  - {id: c, expect: {absent: [a]}}\n",
	         "duplicate-id", 22, 10, "case 'c' is already defined at t.yaml:21:6"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		lt t;
		lt_init(&t);
		kb_plus(&t, qkb, bad[i].text);
		if (t.rc != FX_ELOAD)
			fail_msg("case %zu: rc %d", i, t.rc);
		expect_msg(expect_only(&t, bad[i].code, bad[i].line, bad[i].col), bad[i].msg);
		lt_free(&t);
	}
	/* A kb without questions: any answer names an unknown question. */
	lt t;
	lt_init(&t);
	load_text(&t, "cases:\n  - {input: x, answers: {q: yes}, expect: {findings: [a]}}\n");
	expect_msg(expect_only(&t, "unknown-question", 2, 26), "declares no questions");
	lt_free(&t);
}

/* --- Files, directories, includes ---------------------------------------------------------- */

static char tmpdir[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void sub(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	assert_int_equal(mkdir(path, 0700), 0);
}

static int make_tree(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/fixit-load-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	sub("kb");
	sub("kb/lib");
	sub("kb/d");
	sub("kb/d/sub.yaml");
	put("kb/main.yaml", "include:\n"
	                    "  - lib/common.yaml\n"
	                    "  - d\n"
	                    "rules:\n"
	                    "  - id: r\n"
	                    "    when: [{t: {a: ?x}}, {u: {b: ?x}}]\n"
	                    "    then: [{print: ?x}]\n");
	put("kb/lib/common.yaml", "include: [../main.yaml, ../d/]\n"
	                          "templates:\n"
	                          "  - id: t\n"
	                          "    slots: {a: symbol}\n");
	put("kb/d/b.yml", "templates:\n  - id: u\n    slots: {b: symbol}\n");
	put("kb/d/a.yaml", "facts:\n  - u: {b: one}\n");
	put("kb/d/.hidden.yaml", "this: [is broken\n");
	put("kb/d/notes.txt", "not yaml: [\n");
	put("kb/bad.yaml", "include:\n  - nowhere.yaml\n  - [x]\n");
	sub("kb/rem");
	put("kb/rem/use.yaml", "templates:\n"
	                       "  - id: t\n"
	                       "rules:\n"
	                       "  - id: r\n"
	                       "    when: [{t: {}}]\n"
	                       "    then: [{recommend: {remedy: fix-it}}]\n"
	                       "patterns:\n"
	                       "  - id: p\n"
	                       "    regex: broken\n"
	                       "    asserts: {recommend: {remedy: fix-it}}\n");
	put("kb/rem/defs.yaml", "remedies:\n"
	                        "  - id: fix-it\n"
	                        "    title: Fix it\n"
	                        "    steps: [Do it]\n"
	                        "    cost: 1\n");
	return 0;
}

static int remove_tree(void **state)
{
	(void)state;
	const char *files[] = {"kb/main.yaml", "kb/lib/common.yaml", "kb/d/b.yml",
	                       "kb/d/a.yaml",  "kb/d/.hidden.yaml",  "kb/d/notes.txt",
	                       "kb/bad.yaml",  "kb/rem/use.yaml",    "kb/rem/defs.yaml"};
	const char *dirs[] = {"kb/d/sub.yaml", "kb/d", "kb/lib", "kb/rem", "kb", ""};
	char path[512];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, dirs[i]);
		rmdir(path);
	}
	return 0;
}

static void test_load_includes(void **state)
{
	(void)state;
	char main_path[512];
	snprintf(main_path, sizeof main_path, "%s/kb/main.yaml", tmpdir);
	const char *paths[] = {main_path, main_path};
	lt t;
	lt_init(&t);
	load_paths(&t, paths, 2);
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	/* main, common, then d's files in name order; each once despite the cycle and repeats */
	assert_int_equal(t.prog.nfiles, 5);
	assert_string_equal(t.prog.files[0], "<builtin>");
	assert_string_equal(t.prog.files[1], main_path);
	assert_non_null(strstr(t.prog.files[2], "kb/lib/common.yaml"));
	assert_non_null(strstr(t.prog.files[3], "/d/a.yaml"));
	assert_non_null(strstr(t.prog.files[4], "/d/b.yml"));
	/* a file's definitions come after those of the files it includes: d (included by common),
	 * then common, then main */
	assert_int_equal(t.prog.ntemplates, NB + 2);
	assert_string_equal(t.prog.templates[NB].name, "u");
	assert_string_equal(t.prog.templates[NB + 1].name, "t");
	assert_true(strstr(t.prog.templates[NB].pos.file, "b.yml") != NULL);
	assert_int_equal(t.prog.nfacts, 1);
	assert_int_equal(t.prog.nrules, 1);
	assert_string_equal(t.prog.rules[0].pos.file, main_path);
	lt_free(&t);
}

static void test_load_directory(void **state)
{
	(void)state;
	char dir[512];
	snprintf(dir, sizeof dir, "%s/kb/d", tmpdir);
	const char *paths[] = {dir};
	lt t;
	lt_init(&t);
	load_paths(&t, paths, 1);
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	/* the prelude, a.yaml and b.yml: hidden, .txt and the directory sub.yaml skipped */
	assert_int_equal(t.prog.nfiles, 3);
	assert_int_equal(t.prog.nfacts, 1);
	assert_int_equal(t.prog.facts[0].tmpl, NB);
	lt_free(&t);
}

/* A remedy defined in a file loaded after the one that names it is known there. */
static void test_load_remedies_across_files(void **state)
{
	(void)state;
	char use[512], defs[512];
	snprintf(use, sizeof use, "%s/kb/rem/use.yaml", tmpdir);
	snprintf(defs, sizeof defs, "%s/kb/rem/defs.yaml", tmpdir);
	const char *paths[] = {use, defs};
	lt t;
	lt_init(&t);
	load_paths(&t, paths, 2);
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	assert_int_equal(t.prog.nremedies, 1);
	assert_string_equal(t.prog.remedies[0].pos.file, defs);
	assert_int_equal(t.prog.npatterns, 1);
	assert_string_equal(t.prog.patterns[0].pos.file, use);
	lt_free(&t);

	/* Alone, use.yaml has no remedies section: nothing is checked. */
	lt_init(&t);
	load_paths(&t, paths, 1);
	if (t.rc || t.nd) {
		dump(&t);
		fail();
	}
	lt_free(&t);
}

static void test_load_err_io(void **state)
{
	(void)state;
	char bad[512], missing[512];
	snprintf(bad, sizeof bad, "%s/kb/bad.yaml", tmpdir);
	snprintf(missing, sizeof missing, "%s/kb/missing.yaml", tmpdir);
	const char *paths[] = {missing, bad};
	lt t;
	lt_init(&t);
	assert_int_equal(load_paths(&t, paths, 2), FX_EIO);
	assert_int_equal(t.nd, 3);
	assert_string_equal(t.d[0].code, "io");
	assert_string_equal(t.d[0].file, missing);
	assert_int_equal(t.d[0].line, 0);
	expect_msg(&t.d[0], "no such file");
	const rec *r = expect(&t, "include", 2, 5);
	assert_string_equal(r->file, bad);
	assert_int_equal(r->span, 12);
	expect(&t, "shape", 3, 5);
	lt_free(&t);
}

/* --- Robustness ------------------------------------------------------------------------------ */

static void test_load_never_crashes(void **state)
{
	(void)state;
	const char *texts[] = {
	        "rules: x",
	        "rules: [x, [y], {z: 1}]",
	        "templates: [{id: [a]}]",
	        "templates: [{id: a, slots: [x]}]",
	        "templates: [{id: a, slots: {[x]: y}}]",
	        "facts: [[1]]",
	        "facts: [{id: x}]",
	        "rules: [{id: r, when: x}]",
	        "rules: [{id: r, when: [{p: {}}], then: x}]",
	        "include: {a: b}",
	        "include: ['']",
	        "? [a]\n: b\n",
	        "{[a]: b}",
	        "rules: [{id: r, when: [{not: {not: {not: {x: {}}}}}]}]",
	        "rules: [{id: r, when: [{test: \"((((((((((1))))))))))\"}]}]",
	        "\"\\x00\": 1",
	        "templates: [{id: t, slots: {s: {type: [x]}}}]",
	        "rules: [{id: r, when: [{? x : y}]}]",
	        "&a a: *a",
	        "!!map {}",
	        "!foo\n",
	        "%YAML 1.1\n---\na: 1\n",
	        "a: |\n  x\n  y\n",
	        "patterns: x",
	        "patterns: [x, [y], {id: [a]}, {}]",
	        "patterns: [{id: p, regex: '(', asserts: {a: b}}]",
	        "patterns: [{id: p, regex: '(?<a>x)', asserts: [{finding: {id: ?a, certainty: "
	        "?a}}, {finding: [x]}, {[x]: y}, {? x : y}]}]",
	        "patterns: [{id: p, regex: \"\\x00(\", flags: \"\\x00\", asserts: {}, examples: "
	        "[[x]], near-misses: {a: b}}]",
	        "patterns: [{id: p, regex: '(?<a>x)(?<b>y)(z)', asserts: {finding: {id: ?c}}}]",
	        "remedies: [{id: r, steps: [[]], cost: [1], title: [t]}, {}, x]",
	        "remedies: {a: b}",
	        "remedies: [{id: r, title: t, steps: [s], cost: 1}]\n"
	        "facts: [{recommend: {remedy: \"\\x00r\"}}]",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		lt t;
		lt_init(&t);
		int rc = load_text(&t, texts[i]);
		assert_true(rc == 0 || rc == FX_ELOAD || rc == FX_EIO);
		if (rc == FX_ELOAD)
			assert_true(t.rep.errors > 0);
		lt_free(&t);
	}
}

static void test_load_large(void **state)
{
	(void)state;
	/* many templates, slots and rules: hashed lookups keep this fast */
	size_t cap = 4u << 20, n = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	n += (size_t)snprintf(s + n, cap - n, "templates:\n  - id: big\n    slots:\n");
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(s + n, cap - n, "      s%d: integer\n", i);
	n += (size_t)snprintf(s + n, cap - n, "rules:\n");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(s + n, cap - n,
		                      "  - id: r%d\n    when: [{big: {s%d: ?x, s%d: \"> ?x\"}}]\n",
		                      i, i, 4999 - i);
	lt t;
	lt_init(&t);
	load_text(&t, s);
	free(s);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.prog.nrules, 2000);
	assert_int_equal(t.prog.templates[NB].nslots, 5000);
	lt_free(&t);
}

/* The views the accessors hand out are built on first use: threads asking at once all get
 * the same ones, and they describe the program. */
typedef struct view_ask {
	const fx_kb *kb;
	fx_rule_summary rs;
	fx_pattern_info pi;
	int rc_rule, rc_pattern;
} view_ask;

static const char views_src[] =
        "# a comment\n"
        "templates:\n"
        "  - id: sym\n"
        "    slots: {kind: symbol, text: string}\n"
        "patterns:\n"
        "  - id: disk\n"
        "    regex: 'disk (?<what>full|gone)'\n"
        "    flags: i\n"
        "    asserts:\n"
        "      - sym: {kind: disk, text: ?what}\n"
        "rules:\n"
        "  - id: r\n"
        "    because: >-\n"
        "      The disk is\n"
        "      full.\n"
        "    when:\n"
        "      - sym: {kind: disk}\n"
        "    then:\n"
        "      - assert: {sym: {kind: seen, text: \"x\"}}\n";

static void *ask_views(void *arg)
{
	view_ask *a = arg;
	a->rc_rule = fx_kb_rule_summary(a->kb, 0, &a->rs);
	a->rc_pattern = fx_kb_pattern_get(a->kb, 0, &a->pi);
	return NULL;
}

static void test_load_views_on_first_use(void **state)
{
	(void)state;
	fx_kb *kb = NULL;
	const char *names[1] = {"k.yaml"}, *bufs[1] = {views_src};
	size_t lens[1] = {strlen(views_src)};
	assert_int_equal(fx_kb_load_buffers(&kb, names, bufs, lens, 1, NULL), 0);
	view_ask asks[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		memset(&asks[i], 0, sizeof asks[i]);
		asks[i].kb = kb;
		assert_int_equal(pthread_create(&th[i], NULL, ask_views, &asks[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(asks[i].rc_rule, 0);
		assert_int_equal(asks[i].rc_pattern, 0);
		assert_ptr_equal(asks[i].rs.conds, asks[0].rs.conds);
		assert_ptr_equal(asks[i].pi.asserts, asks[0].pi.asserts);
	}
	assert_int_equal(asks[0].rs.nconds, 1);
	assert_string_equal(asks[0].rs.conds[0].tmpl, "sym");
	assert_int_equal(asks[0].rs.conds[0].line, 17);
	assert_int_equal(asks[0].rs.nacts, 1);
	assert_int_equal(asks[0].rs.acts[0].nconst, 2);
	assert_int_equal(asks[0].pi.nasserts, 1);
	assert_string_equal(asks[0].pi.asserts[0], "sym");
	fx_rule_summary rs;
	assert_int_equal(fx_kb_rule_summary(kb, 1, &rs), FX_ENOTFOUND);
	fx_kb_free(kb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_load_empty),
	        cmocka_unit_test(test_load_templates),
	        cmocka_unit_test(test_load_facts),
	        cmocka_unit_test(test_load_scalar_constraints),
	        cmocka_unit_test(test_load_conjunction),
	        cmocka_unit_test(test_load_mapping_constraints),
	        cmocka_unit_test(test_load_depths_and_scopes),
	        cmocka_unit_test(test_load_actions),
	        cmocka_unit_test(test_load_flow_variables),
	        cmocka_unit_test(test_load_err_yaml),
	        cmocka_unit_test(test_load_err_bom_and_utf8_columns),
	        cmocka_unit_test(test_load_err_alias_and_depth),
	        cmocka_unit_test(test_load_err_structure),
	        cmocka_unit_test(test_load_err_many),
	        cmocka_unit_test(test_load_err_rules),
	        cmocka_unit_test(test_load_err_constraints),
	        cmocka_unit_test(test_load_err_regex_columns),
	        cmocka_unit_test(test_load_err_actions),
	        cmocka_unit_test(test_load_err_conditions),
	        cmocka_unit_test(test_load_unused_variable),
	        cmocka_unit_test(test_load_err_values),
	        cmocka_unit_test(test_load_prelude_templates),
	        cmocka_unit_test(test_load_vocab_actions),
	        cmocka_unit_test(test_load_err_vocab),
	        cmocka_unit_test(test_load_vocab_session),
	        cmocka_unit_test(test_load_patterns),
	        cmocka_unit_test(test_load_err_patterns),
	        cmocka_unit_test(test_load_remedies),
	        cmocka_unit_test(test_load_findings),
	        cmocka_unit_test(test_load_err_remedies),
	        cmocka_unit_test(test_load_questions_and_cases),
	        cmocka_unit_test(test_load_cases_corpus),
	        cmocka_unit_test(test_load_err_questions),
	        cmocka_unit_test(test_load_err_cases),
	        cmocka_unit_test(test_load_includes),
	        cmocka_unit_test(test_load_directory),
	        cmocka_unit_test(test_load_remedies_across_files),
	        cmocka_unit_test(test_load_err_io),
	        cmocka_unit_test(test_load_never_crashes),
	        cmocka_unit_test(test_load_large),
	        cmocka_unit_test(test_load_views_on_first_use),
	};
	return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
