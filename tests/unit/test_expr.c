/* test_expr.c: unit tests for expr.c: precedence, every function, constant folding, short-circuit,
 * overflow and division by zero, every syntax error with its column, and formatting back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"

#define COL0 10 /* the column of the first byte of every expression parsed here */

/* Variables known to the test resolver, with their values. */
static const char *const var_names[] = { "x", "y", "s", "sym", "zero", "big", "min", "t", "n",
                                         "first-name" };
enum { NVARS = sizeof var_names / sizeof var_names[0] };

typedef struct fixture {
	fx_arena arena;
	fx_atoms kb_atoms, atoms;  /* atoms is a session table over kb_atoms */
	fx_expr_parser p;
	fx_eval ev;
	fx_buf err;
	fx_val vars[NVARS];
	int get_var_calls;
	/* the last syntax error */
	int nerrors;
	fx_pos epos;
	unsigned espan;
	char emsg[256];
} fixture;

static fixture *F; /* the current test's fixture, for the helpers */

static int32_t resolve(void *ud, const char *name, size_t len, fx_pos pos)
{
	fixture *f = ud;
	for (int i = 0; i < NVARS; i++)
		if (strlen(var_names[i]) == len && memcmp(var_names[i], name, len) == 0)
			return i;
	f->nerrors++;
	f->epos = pos;
	f->espan = (unsigned)len + 1;
	snprintf(f->emsg, sizeof f->emsg, "unknown variable ?%.*s", (int)len, name);
	return -1;
}

static void on_error(void *ud, fx_pos pos, unsigned span, const char *msg)
{
	fixture *f = ud;
	f->nerrors++;
	f->epos = pos;
	f->espan = span;
	snprintf(f->emsg, sizeof f->emsg, "%s", msg);
}

static int get_var(fx_eval *ev, uint32_t var, fx_val *out)
{
	fixture *f = ev->ud;
	f->get_var_calls++;
	*out = f->vars[var];
	return 0;
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof *f);
	fx_arena_init(&f->arena);
	fx_atoms_init(&f->kb_atoms, NULL);
	fx_atoms_init(&f->atoms, &f->kb_atoms);
	f->p.arena = &f->arena;
	f->p.atoms = &f->kb_atoms;
	f->p.resolve = resolve;
	f->p.error = on_error;
	f->p.ud = f;
	fx_buf_init(&f->err);
	f->ev.get_var = get_var;
	f->ev.ud = f;
	f->ev.atoms = &f->atoms;
	f->ev.err = &f->err;
	fx_buf_init(&f->ev.scratch);
	f->vars[0] = fx_val_int(7);
	f->vars[1] = fx_val_float(2.5);
	f->vars[2] = fx_val_atom(FX_STRING, fx_atoms_intern(&f->kb_atoms, "Hello", 5));
	f->vars[3] = fx_val_atom(FX_SYMBOL, fx_atoms_intern(&f->kb_atoms, "abc", 3));
	f->vars[4] = fx_val_int(0);
	f->vars[5] = fx_val_int(INT64_MAX);
	f->vars[6] = fx_val_int(INT64_MIN);
	f->vars[7] = fx_val_bool(1);
	f->vars[8] = fx_val_nil();
	f->vars[9] = fx_val_int(100);
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	fx_buf_dispose(&f->ev.scratch);
	fx_buf_dispose(&f->err);
	fx_atoms_dispose(&f->atoms);
	fx_atoms_dispose(&f->kb_atoms);
	fx_arena_dispose(&f->arena);
	test_free(f);
	return 0;
}

static fx_expr *parse(const char *text)
{
	fx_pos pos = { "t.yaml", 3, COL0 };
	F->nerrors = 0;
	fx_expr *e = fx_expr_parse(&F->p, text, strlen(text), pos);
	if (!e)
		print_error("parsing '%s': col %u: %s\n", text, (unsigned)F->epos.col, F->emsg);
	assert_non_null(e);
	assert_int_equal(F->nerrors, 0);
	return e;
}

static fx_val eval(const char *text)
{
	fx_expr *e = parse(text);
	fx_val v;
	int rc = fx_expr_eval(&F->ev, e, &v);
	if (rc)
		print_error("evaluating '%s': %s\n", text, fx_buf_cstr(&F->err));
	assert_int_equal(rc, 0);
	return v;
}

static void expect_int(const char *text, int64_t want)
{
	fx_val v = eval(text);
	if (v.type != FX_INTEGER)
		print_error("'%s' gave a %s\n", text, fx_type_name((fx_type)v.type));
	assert_int_equal(v.type, FX_INTEGER);
	assert_int_equal(v.u.i, want);
}

static void expect_float(const char *text, double want)
{
	fx_val v = eval(text);
	assert_int_equal(v.type, FX_FLOAT);
	if (v.u.f != want)
		print_error("'%s' gave %.17g, not %.17g\n", text, v.u.f, want);
	assert_true(v.u.f == want);
}

static void expect_bool(const char *text, int want)
{
	fx_val v = eval(text);
	if (v.type != FX_BOOLEAN || v.u.b != want)
		print_error("'%s' is not %s\n", text, want ? "true" : "false");
	assert_int_equal(v.type, FX_BOOLEAN);
	assert_int_equal(v.u.b, want);
}

static void expect_text(const char *text, fx_type type, const char *want, size_t len)
{
	fx_val v = eval(text);
	assert_int_equal(v.type, type);
	assert_int_equal(v.u.a->len, len);
	assert_memory_equal(v.u.a->text, want, len);
}

static void expect_str(const char *text, const char *want)
{
	expect_text(text, FX_STRING, want, strlen(want));
}

static void expect_sym(const char *text, const char *want)
{
	expect_text(text, FX_SYMBOL, want, strlen(want));
}

/* A syntax error at 0-based offset off of the text (column COL0 + off), of this span. */
static void expect_syntax(const char *text, unsigned off, unsigned span, const char *msg)
{
	fx_pos pos = { "t.yaml", 3, COL0 };
	F->nerrors = 0;
	F->emsg[0] = '\0';
	fx_expr *e = fx_expr_parse(&F->p, text, strlen(text), pos);
	if (e || strcmp(F->emsg, msg) != 0 || F->epos.col != COL0 + off)
		print_error("'%s': got col %u span %u '%s'\n", text, (unsigned)F->epos.col, F->espan,
		            F->emsg);
	assert_null(e);
	assert_int_equal(F->nerrors, 1);
	assert_string_equal(F->emsg, msg);
	assert_int_equal(F->epos.col, COL0 + off);
	assert_int_equal(F->epos.line, 3);
	assert_string_equal(F->epos.file, "t.yaml");
	assert_int_equal(F->espan, span);
}

static void expect_fail(const char *text, int code, const char *msg)
{
	fx_expr *e = parse(text);
	fx_val v;
	fx_buf_clear(&F->err);
	int rc = fx_expr_eval(&F->ev, e, &v);
	if (rc != code || strcmp(fx_buf_cstr(&F->err), msg) != 0)
		print_error("'%s': got %d '%s'\n", text, rc, fx_buf_cstr(&F->err));
	assert_int_equal(rc, code);
	assert_string_equal(fx_buf_cstr(&F->err), msg);
}

/* --- Tests ---------------------------------------------------------------------------------- */

static void test_precedence(void **state)
{
	(void)state;
	expect_int("1 + 2 * 3", 7);
	expect_int("(1 + 2) * 3", 9);
	expect_int("10 - 4 - 3", 3);     /* left-associative */
	expect_int("100 / 10 / 5", 2);
	expect_int("2 * 3 % 4", 2);      /* (2*3)%4 */
	expect_int("-2 * 3", -6);
	expect_int("- - 3", 3);
	expect_int("-?x + 1", -6);
	expect_int("?x-1", 6);           /* '-' before a digit is subtraction */
	expect_int("?first-name + 1", 101); /* '-' before a letter joins a name */
	expect_bool("1 + 1 == 2", 1);
	expect_bool("1 < 2 and 2 < 1 or 3 == 3", 1);   /* (a and b) or c */
	expect_bool("1 < 2 or 2 < 1 and 3 == 4", 1);   /* a or (b and c) */
	expect_bool("not 1 == 2", 1);                  /* not (1 == 2) */
	expect_bool("not not ?t", 1);
	expect_bool("not ?t or ?t", 1);                /* (not t) or t */
	expect_int("-9223372036854775808", INT64_MIN);
	expect_int("9223372036854775807", INT64_MAX);
}

static void test_literals(void **state)
{
	(void)state;
	expect_float("1.5", 1.5);
	expect_float("1e3", 1000.0);
	expect_float("2.5E-1", 0.25);
	expect_float("-0.5", -0.5);
	expect_str("\"a\\\"b\\\\c\\n\\t\\x41\"", "a\"b\\c\n\tA");
	expect_str("'raw \\n \"quoted\"'", "raw \\n \"quoted\"");
	expect_str("\"\"", "");
	expect_sym("red", "red");
	expect_sym("v1.2", "v1.2");
	expect_sym("find-seating", "find-seating");
	expect_bool("true", 1);
	expect_bool("false", 0);
	/* Constants are interned in the parser's table. */
	fx_expr *e = parse("\"abc\"");
	assert_ptr_equal(e->val.u.a, fx_atoms_find(&F->kb_atoms, "abc", 3));
}

static void test_arithmetic(void **state)
{
	(void)state;
	expect_int("7 / 2", 3);
	expect_int("-7 / 2", -3);        /* truncates */
	expect_int("-7 % 2", -1);
	expect_int("?min % -1", 0);
	expect_float("7.0 / 2", 3.5);
	expect_float("?x + ?y", 9.5);
	expect_float("?x * 0.5", 3.5);
	expect_float("7 % 2.5", 2.0);
	expect_float("-?y", -2.5);
	expect_int("?big - 1 + 1", INT64_MAX);
}

static void test_comparisons(void **state)
{
	(void)state;
	expect_bool("1 == 1.0", 1);
	expect_bool("1 != 1.0", 0);
	expect_bool("abc == \"abc\"", 1);   /* symbol and string with the same text */
	expect_bool("?sym == abc", 1);
	expect_bool("1 == \"1\"", 0);       /* equality never fails, it is false */
	expect_bool("?n == nil", 0);
	expect_bool("?x > 6.5", 1);
	expect_bool("?x >= 7", 1);
	expect_bool("?x <= 6.99", 0);
	expect_bool("?x < 8", 1);
	expect_bool("\"abc\" < \"abd\"", 1);
	expect_bool("apple < banana", 1);
	expect_bool("true > false", 1);
}

static void test_functions(void **state)
{
	(void)state;
	expect_int("abs(-3)", 3);
	expect_float("abs(-2.5)", 2.5);
	expect_int("min(3, 1, 2)", 1);
	expect_float("min(3, 0.5)", 0.5);
	expect_int("max(3, 1, 2)", 3);
	expect_int("max(?x)", 7);
	expect_int("integer(3.9)", 3);
	expect_int("integer(-3.9)", -3);
	expect_int("integer(\"42\")", 42);
	expect_int("integer(\"-12.7\")", -12);
	expect_int("integer(\"1e3\")", 1000);
	expect_int("integer(7)", 7);
	expect_float("float(2)", 2.0);
	expect_float("float(\"2.25\")", 2.25);
	expect_float("float(\".5\")", 0.5);
	expect_str("string(42)", "42");
	expect_str("string(1.0)", "1.0");
	expect_str("string(abc)", "abc");
	expect_str("string(true)", "true");
	expect_sym("symbol(\"a b\")", "a b");
	expect_sym("symbol(-5)", "-5");
	expect_str("concat(?s, \", \", ?sym, 1, 2.5, true)", "Hello, abc12.5true");
	expect_str("concat(\"x\")", "x");
	expect_int("length(?s)", 5);
	expect_int("length(\"\")", 0);
	expect_int("length(abc)", 3);
	expect_str("upper(?s)", "HELLO");
	expect_sym("lower(ABC-Def)", "abc-def");
	expect_str("substr(?s, 1, 3)", "ell");
	expect_str("substr(?s, 3, 100)", "lo");
	expect_str("substr(?s, 9, 1)", "");
	expect_sym("substr(abcdef, 0, 2)", "ab");
	expect_bool("contains(?s, \"ell\")", 1);
	expect_bool("contains(?s, \"elk\")", 0);
	expect_bool("contains(?s, \"\")", 1);
	expect_bool("starts-with(?s, \"He\")", 1);
	expect_bool("starts-with(?s, \"he\")", 0);
	expect_bool("starts-with(\"a\", \"abc\")", 0);
	expect_bool("ends-with(?s, \"llo\")", 1);
	expect_bool("ends-with(?s, \"ell\")", 0);
	expect_int("index(?s, \"l\")", 2);
	expect_int("index(?s, \"lo\")", 3);
	expect_int("index(?s, \"x\")", -1);
	expect_int("index(\"aab\", \"ab\")", 1);
	expect_int("length(concat(upper(?s), lower(?s)))", 10);
	assert_non_null(fx_expr_func("substr", 6));
	assert_non_null(fx_expr_func("==", 2));
	assert_null(fx_expr_func("nope", 4));
}

static void test_runtime_texts_go_to_eval_table(void **state)
{
	(void)state;
	fx_val v = eval("concat(?s, \"!\")");
	assert_ptr_equal(v.u.a, fx_atoms_find(&F->atoms, "Hello!", 6));
	assert_null(fx_atoms_find(&F->kb_atoms, "Hello!", 6));
}

static void test_constant_folding(void **state)
{
	(void)state;
	fx_expr *e = parse("1 + 2 * 3");
	assert_int_equal(e->kind, FX_X_CONST);
	assert_int_equal(e->val.u.i, 7);
	e = parse("concat(\"a\", 1 + 1)");
	assert_int_equal(e->kind, FX_X_CONST);
	assert_string_equal(e->val.u.a->text, "a2");
	e = parse("not (1 > 2 and true)");
	assert_int_equal(e->kind, FX_X_CONST);
	assert_int_equal(e->val.u.b, 1);
	/* A call that fails is left for run time. */
	e = parse("1 / 0");
	assert_int_equal(e->kind, FX_X_CALL);
	assert_string_equal(e->fn->name, "/");
	assert_int_equal(e->pos.col, COL0);
	e = parse("?x + 1");
	assert_int_equal(e->kind, FX_X_CALL);
	assert_int_equal(e->args[0]->kind, FX_X_VAR);
	assert_int_equal(e->args[0]->var, 0);
	assert_int_equal(e->args[1]->pos.col, COL0 + 5);
}

static void test_short_circuit(void **state)
{
	(void)state;
	expect_bool("?zero != 0 and 10 / ?zero > 1", 0);
	expect_bool("?zero == 0 or 10 / ?zero > 1", 1);
	F->get_var_calls = 0;
	expect_bool("false and ?x > 1", 0);
	assert_int_equal(F->get_var_calls, 0);
	expect_bool("true or ?x", 1);
	assert_int_equal(F->get_var_calls, 0);
	expect_bool("?n or false", 0);      /* nil is false */
	expect_bool("?x and ?s", 1);        /* and/or give booleans */
	expect_fail("?zero == 0 and 10 / ?zero > 1", FX_ERUNTIME, "division by zero");
}

static void test_overflow_and_division(void **state)
{
	(void)state;
	expect_fail("?big + 1", FX_ERUNTIME, "integer overflow in 9223372036854775807 + 1");
	expect_fail("?min - 1", FX_ERUNTIME, "integer overflow in -9223372036854775808 - 1");
	expect_fail("?big * 2", FX_ERUNTIME, "integer overflow in 9223372036854775807 * 2");
	expect_fail("?min / -1", FX_ERUNTIME, "integer overflow in -9223372036854775808 / -1");
	expect_fail("-?min", FX_ERUNTIME, "integer overflow in -(-9223372036854775808)");
	expect_fail("abs(?min)", FX_ERUNTIME, "integer overflow in abs(-9223372036854775808)");
	expect_fail("?x / 0", FX_ERUNTIME, "division by zero");
	expect_fail("?x / ?zero", FX_ERUNTIME, "division by zero");
	expect_fail("?y / 0", FX_ERUNTIME, "division by zero");
	expect_fail("?x % 0", FX_ERUNTIME, "division by zero in %");
	expect_fail("?y % 0.0", FX_ERUNTIME, "division by zero in %");
	expect_fail("1e300 * 1e300", FX_ERUNTIME, "float overflow in 1e+300 * 1e+300");
	expect_fail("-1e308 - 1e308", FX_ERUNTIME, "float overflow in -1e+308 - 1e+308");
	expect_fail("1e308 + ?big * 1e300", FX_ERUNTIME, "float overflow in 9.22337e+18 * 1e+300");
	expect_fail("1e300 / 1e-300", FX_ERUNTIME, "float overflow in 1e+300 / 1e-300");
	expect_fail("float(\"1e999\")", FX_ERUNTIME, "float: \"1e999\" is out of range");
	expect_fail("integer(1e300)", FX_ERUNTIME, "integer: 1e+300 is out of the integer range");
	expect_fail("substr(?s, -1, 2)", FX_ERUNTIME, "substr: start -1 is negative");
	expect_fail("substr(?s, 1, -2)", FX_ERUNTIME, "substr: length -2 is negative");
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_fail("?s + 1", FX_ETYPE, "cannot apply + to string and integer");
	expect_fail("?s + ?sym", FX_ETYPE,
	            "cannot apply + to string and symbol (use concat to join texts)");
	expect_fail("?x * ?t", FX_ETYPE, "cannot apply * to integer and boolean");
	expect_fail("?n - 1", FX_ETYPE, "cannot apply - to nil and integer");
	expect_fail("?x / ?s", FX_ETYPE, "cannot apply / to integer and string");
	expect_fail("?s % 2", FX_ETYPE, "cannot apply % to string and integer");
	expect_fail("-?s", FX_ETYPE, "cannot negate a string");
	expect_fail("?x < ?s", FX_ETYPE, "cannot compare integer and string with <");
	expect_fail("?sym >= 1.5", FX_ETYPE, "cannot compare symbol and float with >=");
	expect_fail("?t > 1", FX_ETYPE, "cannot compare boolean and integer with >");
	expect_bool("?n <= ?n", 1); /* nil orders with nil */
}

static void test_function_type_errors(void **state)
{
	(void)state;
	expect_fail("abs(?s)", FX_ETYPE, "abs: argument 1 must be a number, not string");
	expect_fail("min(1, ?s)", FX_ETYPE, "min: argument 2 must be a number, not string");
	expect_fail("max(?t)", FX_ETYPE, "max: argument 1 must be a number, not boolean");
	expect_fail("integer(?s)", FX_ETYPE, "integer: \"Hello\" is not a number");
	expect_fail("integer(?t)", FX_ETYPE, "integer: argument 1 must be a number, not boolean");
	expect_fail("float(\"1.5x\")", FX_ETYPE, "float: \"1.5x\" is not a number");
	expect_fail("float(\" 1\")", FX_ETYPE, "float: \" 1\" is not a number");
	expect_fail("float(?n)", FX_ETYPE, "float: argument 1 must be a number, not nil");
	expect_fail("length(?x)", FX_ETYPE,
	            "length: argument 1 must be a symbol or string, not integer");
	expect_fail("upper(?y)", FX_ETYPE, "upper: argument 1 must be a symbol or string, not float");
	expect_fail("lower(?t)", FX_ETYPE,
	            "lower: argument 1 must be a symbol or string, not boolean");
	expect_fail("substr(?s, 1.5, 2)", FX_ETYPE, "substr: argument 2 must be an integer, not float");
	expect_fail("substr(1, 1, 2)", FX_ETYPE,
	            "substr: argument 1 must be a symbol or string, not integer");
	expect_fail("contains(?s, 1)", FX_ETYPE,
	            "contains: argument 2 must be a symbol or string, not integer");
	expect_fail("starts-with(1, ?s)", FX_ETYPE,
	            "starts-with: argument 1 must be a symbol or string, not integer");
	expect_fail("ends-with(?s, ?t)", FX_ETYPE,
	            "ends-with: argument 2 must be a symbol or string, not boolean");
	expect_fail("index(?x, ?s)", FX_ETYPE,
	            "index: argument 1 must be a symbol or string, not integer");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_syntax("", 0, 1, "empty expression");
	expect_syntax("   ", 0, 1, "empty expression");
	expect_syntax("1 +", 3, 1, "expected an expression, found the end of the expression");
	expect_syntax("1 + )", 4, 1, "expected an expression, found ')'");
	expect_syntax("1 + and", 4, 3, "expected an expression, found 'and'");
	expect_syntax("()", 1, 1, "expected an expression, found ')'");
	expect_syntax("concat(1, 2", 11, 1, "expected ')' after arguments of concat");
	expect_syntax("concat(1 2)", 9, 1, "expected ')' after arguments of concat");
	expect_syntax("concat(1,)", 9, 1, "expected an expression, found ')'");
	expect_syntax("foo(1)", 0, 3, "unknown function 'foo'");
	expect_syntax("1 + neg(1)", 4, 3, "unknown function 'neg'");
	expect_syntax("substr(?s, 1)", 0, 13,
	              "wrong number of arguments to substr: expected 3, got 2");
	expect_syntax("abs()", 0, 5, "wrong number of arguments to abs: expected 1, got 0");
	expect_syntax("min()", 0, 5, "wrong number of arguments to min: expected at least 1, got 0");
	expect_syntax("(1 + 2", 6, 1,
	              "expected ')' to close the '(' at column 10, found the end of the expression");
	expect_syntax("(1 + 2 3)", 7, 1, "expected ')' to close the '(' at column 10, found '3'");
	expect_syntax("1 + 2)", 5, 1, "unmatched ')'");
	expect_syntax("1 2", 2, 1, "expected an operator or the end, found '2'");
	expect_syntax("?x ?y", 3, 2, "expected an operator or the end, found '?y'");
	expect_syntax("?x \"s\"", 3, 3, "expected an operator or the end, found a string");
	expect_syntax("(1)(2)", 3, 1, "unexpected '(': only functions can be called");
	expect_syntax("1 < 2 < 3", 6, 1, "comparisons cannot be chained: join them with 'and'");
	expect_syntax("?x = 1", 3, 1, "'=' is not an operator here: use '==' to compare");
	expect_syntax("!?t", 0, 1, "unexpected '!': use 'not' for negation, '!=' for inequality");
	expect_syntax("?t && ?t", 3, 2, "unexpected '&&': use 'and'");
	expect_syntax("?t || ?t", 3, 2, "unexpected '||': use 'or'");
	expect_syntax("1 @ 2", 2, 1, "unexpected character '@'");
	expect_syntax("1 + \x01", 4, 1, "unexpected byte 0x01");
	expect_syntax("\"abc", 0, 4, "unterminated string: missing closing \"");
	expect_syntax("'abc\" + 1", 0, 9, "unterminated string: missing closing '");
	expect_syntax("\"a\\qb\"", 2, 2, "unknown escape '\\q' in string (use \\\\ for a backslash)");
	expect_syntax("\"\\x4\"", 1, 2, "'\\x' must be followed by two hexadecimal digits");
	expect_syntax("1 + 99999999999999999999", 4, 20,
	              "integer constant out of range (a 64-bit integer is at most "
	              "9223372036854775807)");
	expect_syntax("-9223372036854775809", 0, 20,
	              "integer constant out of range (a 64-bit integer is at most "
	              "9223372036854775807)");
	expect_syntax("1e999", 0, 5, "float constant out of range");
	expect_syntax("3com", 0, 4, "invalid number '3com'");
	expect_syntax("1. + 2", 0, 2, "invalid number '1.'");
	expect_syntax(".5", 0, 1, "a number must start with a digit: write 0.5...");
	expect_syntax("1 + ? x", 4, 1, "expected a variable name after '?'");
	expect_syntax("2 * ?nope", 4, 5, "unknown variable ?nope"); /* from the resolver */
}

static void test_nesting_limits(void **state)
{
	(void)state;
	char text[4000];
	/* Deep parentheses. */
	size_t n = 0;
	for (int i = 0; i < 300; i++)
		text[n++] = '(';
	text[n++] = '1';
	for (int i = 0; i < 300; i++)
		text[n++] = ')';
	text[n] = '\0';
	expect_syntax(text, 256, 1, "expression nested too deeply (more than 256 levels)");
	/* A long chain builds a deep tree: limited too, unless it folds. */
	n = 0;
	n += (size_t)sprintf(text + n, "?x");
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "+?x");
	expect_syntax(text, 0, 1, "expression nested too deeply (more than 256 levels)");
	n = 0;
	n += (size_t)sprintf(text + n, "1");
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "+1");
	expect_int(text, 301);
	/* Nested calls. */
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "abs(");
	text[n++] = '1';
	for (int i = 0; i < 300; i++)
		text[n++] = ')';
	text[n] = '\0';
	expect_syntax(text, 256 * 4 + 3, 1, "expression nested too deeply (more than 256 levels)");
	/* Just under the limit works and evaluates. */
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(text + n, "abs(?x + ");
	text[n++] = '1';
	for (int i = 0; i < 100; i++)
		text[n++] = ')';
	text[n] = '\0';
	expect_int(text, 701);
}

static void collect_var(void *ud, uint32_t var)
{
	fx_buf *b = ud;
	fx_buf_printf(b, "%u,", (unsigned)var);
}

static void test_vars(void **state)
{
	(void)state;
	fx_buf b;
	fx_buf_init(&b);
	fx_expr_vars(parse("?x + ?y * ?x > 1 and not contains(?s, \"a\")"), collect_var, &b);
	assert_string_equal(fx_buf_cstr(&b), "0,1,0,2,");
	fx_buf_dispose(&b);
}

static void expect_format(const char *text, const char *want)
{
	fx_var_def defs[NVARS];
	memset(defs, 0, sizeof defs);
	for (int i = 0; i < NVARS; i++)
		defs[i].name = var_names[i];
	fx_rule_def rule;
	memset(&rule, 0, sizeof rule);
	rule.vars = defs;
	rule.nvars = NVARS;
	fx_buf b;
	fx_buf_init(&b);
	fx_expr_format(&b, parse(text), &rule);
	if (strcmp(fx_buf_cstr(&b), want) != 0)
		print_error("'%s' formatted as '%s'\n", text, fx_buf_cstr(&b));
	assert_string_equal(fx_buf_cstr(&b), want);
	/* What is printed reads back as the same tree. */
	fx_buf again;
	fx_buf_init(&again);
	fx_expr_format(&again, parse(fx_buf_cstr(&b)), &rule);
	assert_string_equal(fx_buf_cstr(&again), want);
	fx_buf_dispose(&again);
	fx_buf_dispose(&b);
}

static void test_format(void **state)
{
	(void)state;
	expect_format("?x+1*?y", "?x + 1 * ?y");
	expect_format("(?x + 1) * ?y", "(?x + 1) * ?y");
	expect_format("?x - (?y - 1)", "?x - (?y - 1)");
	expect_format("(?x - ?y) - 1", "?x - ?y - 1");
	expect_format("?x - -3", "?x - -3");
	expect_format("-?x", "-?x");
	expect_format("- -?x", "- -?x");
	expect_format("-(-?x + 1)", "-(-?x + 1)");
	expect_format("-(?x + 1)", "-(?x + 1)");
	expect_format("not (?x > 1 and ?t)", "not (?x > 1 and ?t)");
	expect_format("not ?x > 1", "not ?x > 1");
	expect_format("(?x < 1) == ?t", "(?x < 1) == ?t");
	expect_format("?t or ?t and ?t", "?t or ?t and ?t");
	expect_format("(?t or ?t) and ?t", "(?t or ?t) and ?t");
	expect_format("?t and (?t and ?t)", "?t and (?t and ?t)");
	expect_format("concat(?s, 'a \"b\"', red, 1.0)", "concat(?s, \"a \\\"b\\\"\", red, 1.0)");
	expect_format("symbol('a b')", "symbol(\"a b\")");
	expect_format("symbol(\"and\")", "symbol(\"and\")");
	expect_format("?first-name != true", "?first-name != true");
	expect_format("substr(?s, 0, length(?s) - 1)", "substr(?s, 0, length(?s) - 1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arithmetic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comparisons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_functions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_texts_go_to_eval_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constant_folding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_circuit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_and_division, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_type_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nesting_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
