/* test_value.c: unit tests for value.c (atom interning with parent tables, equality, hashing,
 * ordering, truth, printing, public conversions) and the arena and buffer it builds on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "value.h"

static const fx_atom *intern(fx_atoms *t, const char *s)
{
	const fx_atom *a = fx_atoms_intern(t, s, strlen(s));
	assert_non_null(a);
	return a;
}

static fx_val sym(fx_atoms *t, const char *s) { return fx_val_atom(FX_SYMBOL, intern(t, s)); }
static fx_val str(fx_atoms *t, const char *s) { return fx_val_atom(FX_STRING, intern(t, s)); }

static void test_atoms_intern_same_pointer(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	const fx_atom *a = intern(&t, "hello");
	const fx_atom *b = fx_atoms_intern(&t, "hello world", 5);
	assert_ptr_equal(a, b);
	assert_int_equal(a->len, 5);
	assert_string_equal(a->text, "hello");
	assert_ptr_not_equal(a, intern(&t, "hellO"));
	assert_int_equal(t.count, 2);
	assert_int_equal(t.bytes, 10);
	fx_atoms_dispose(&t);
}

static void test_atoms_embedded_nul_and_empty(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	const fx_atom *a = fx_atoms_intern(&t, "a\0b", 3);
	const fx_atom *b = fx_atoms_intern(&t, "a\0c", 3);
	const fx_atom *e = fx_atoms_intern(&t, "", 0);
	assert_non_null(a);
	assert_non_null(e);
	assert_ptr_not_equal(a, b);
	assert_int_equal(e->len, 0);
	assert_ptr_equal(e, fx_atoms_find(&t, "", 0));
	assert_ptr_equal(a, fx_atoms_find(&t, "a\0b", 3));
	fx_atoms_dispose(&t);
}

static void test_atoms_grow_keeps_all(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	const fx_atom *first[5000];
	char s[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(s, sizeof s, "atom-%d", i);
		first[i] = intern(&t, s);
	}
	assert_int_equal(t.count, 5000);
	assert_true(t.count * 10 <= t.cap * 7);
	for (int i = 0; i < 5000; i++) {
		snprintf(s, sizeof s, "atom-%d", i);
		assert_ptr_equal(first[i], fx_atoms_find(&t, s, strlen(s)));
		assert_ptr_equal(first[i], intern(&t, s));
	}
	assert_int_equal(t.count, 5000);
	assert_null(fx_atoms_find(&t, "atom-5000", 9));
	fx_atoms_dispose(&t);
}

static void test_atoms_parent_consulted_first(void **state)
{
	(void)state;
	fx_atoms kb, sess;
	fx_atoms_init(&kb, NULL);
	const fx_atom *red = intern(&kb, "red");
	fx_atoms_init(&sess, &kb);
	assert_ptr_equal(red, intern(&sess, "red"));
	assert_int_equal(sess.count, 0); /* nothing duplicated in the child */
	const fx_atom *blue = intern(&sess, "blue");
	assert_int_equal(sess.count, 1);
	assert_null(fx_atoms_find(&kb, "blue", 4)); /* the parent is not modified */
	assert_ptr_equal(blue, fx_atoms_find(&sess, "blue", 4));
	assert_ptr_equal(red, fx_atoms_find(&sess, "red", 3));
	fx_atoms_dispose(&sess);
	fx_atoms_dispose(&kb);
}

static void test_hash_bytes_spreads(void **state)
{
	(void)state;
	assert_int_equal(fx_hash_bytes("abcdefghij", 10), fx_hash_bytes("abcdefghij", 10));
	assert_int_not_equal(fx_hash_bytes("abcdefghij", 10), fx_hash_bytes("abcdefghik", 10));
	assert_int_not_equal(fx_hash_bytes("", 0), fx_hash_bytes("\0", 1));
	assert_int_not_equal(fx_hash_bytes("a", 1), fx_hash_bytes("b", 1));
	/* Low bits (those used by the table mask) differ for consecutive keys most of the time. */
	char s[16];
	unsigned same = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(s, sizeof s, "k%d", i);
		uint32_t h1 = fx_hash_bytes(s, strlen(s));
		snprintf(s, sizeof s, "k%d", i + 1);
		uint32_t h2 = fx_hash_bytes(s, strlen(s));
		same += (h1 & 255) == (h2 & 255);
	}
	assert_true(same < 20);
}

static void test_val_eq_and_hash(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	assert_true(fx_val_eq(fx_val_int(3), fx_val_int(3)));
	assert_false(fx_val_eq(fx_val_int(3), fx_val_int(4)));
	assert_false(fx_val_eq(fx_val_int(1), fx_val_float(1.0)));
	assert_true(fx_val_eq(sym(&t, "a"), sym(&t, "a")));
	assert_false(fx_val_eq(sym(&t, "a"), str(&t, "a")));
	assert_false(fx_val_eq(sym(&t, "a"), sym(&t, "b")));
	assert_true(fx_val_eq(fx_val_bool(1), fx_val_bool(7)));
	assert_false(fx_val_eq(fx_val_bool(1), fx_val_bool(0)));
	assert_true(fx_val_eq(fx_val_nil(), fx_val_nil()));
	assert_false(fx_val_eq(fx_val_nil(), fx_val_bool(0)));
	assert_true(fx_val_eq(fx_val_float(0.0), fx_val_float(-0.0)));
	assert_int_equal(fx_val_hash(fx_val_float(0.0)), fx_val_hash(fx_val_float(-0.0)));
	assert_true(fx_val_eq(fx_val_float(NAN), fx_val_float(-NAN)));
	assert_int_equal(fx_val_hash(fx_val_float(NAN)), fx_val_hash(fx_val_float(-NAN)));
	assert_int_equal(fx_val_hash(sym(&t, "x")), fx_val_hash(sym(&t, "x")));
	assert_int_not_equal(fx_val_hash(fx_val_int(1)), fx_val_hash(fx_val_int(2)));
	assert_int_not_equal(fx_val_hash(fx_val_int(0)), fx_val_hash(fx_val_bool(0)));
	fx_atoms_dispose(&t);
}

static void test_val_cmp(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	assert_int_equal(fx_val_cmp(fx_val_int(1), fx_val_int(2)), -1);
	assert_int_equal(fx_val_cmp(fx_val_int(2), fx_val_int(2)), 0);
	assert_int_equal(fx_val_cmp(fx_val_int(INT64_MAX), fx_val_int(INT64_MIN)), 1);
	assert_int_equal(fx_val_cmp(fx_val_int(1), fx_val_float(1.5)), -1);
	assert_int_equal(fx_val_cmp(fx_val_float(1.5), fx_val_int(1)), 1);
	assert_int_equal(fx_val_cmp(fx_val_int(2), fx_val_float(2.0)), 0);
	assert_int_equal(fx_val_cmp(fx_val_int(-2), fx_val_float(-1.5)), -1);
	assert_int_equal(fx_val_cmp(fx_val_int(-1), fx_val_float(-1.5)), 1);
	/* 2^53 + 1 is not a double: an exact comparison still orders it above 2^53. */
	assert_int_equal(fx_val_cmp(fx_val_int(9007199254740993LL), fx_val_float(9007199254740992.0)), 1);
	assert_int_equal(fx_val_cmp(fx_val_int(INT64_MAX), fx_val_float(9223372036854775808.0)), -1);
	assert_int_equal(fx_val_cmp(fx_val_int(INT64_MIN), fx_val_float(-9223372036854775808.0)), 0);
	assert_int_equal(fx_val_cmp(fx_val_float(1.0), fx_val_float(NAN)), -1);
	assert_int_equal(fx_val_cmp(fx_val_float(NAN), fx_val_float(NAN)), 0);
	assert_int_equal(fx_val_cmp(sym(&t, "abc"), sym(&t, "abd")), -1);
	assert_int_equal(fx_val_cmp(sym(&t, "ab"), str(&t, "abc")), -1);
	assert_int_equal(fx_val_cmp(str(&t, "b"), sym(&t, "abc")), 1);
	assert_int_equal(fx_val_cmp(str(&t, "\xff"), str(&t, "a")), 1); /* bytes are unsigned */
	assert_int_equal(fx_val_cmp(sym(&t, "x"), sym(&t, "x")), 0);
	assert_int_equal(fx_val_cmp(fx_val_int(1), sym(&t, "1")), 2);
	assert_int_equal(fx_val_cmp(fx_val_bool(1), fx_val_int(1)), 2);
	assert_int_equal(fx_val_cmp(fx_val_nil(), fx_val_int(0)), 2);
	assert_int_equal(fx_val_cmp(fx_val_bool(0), fx_val_bool(1)), -1);
	fx_atoms_dispose(&t);
}

static void test_val_equal_loose_and_truthy(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	assert_true(fx_val_equal_loose(fx_val_int(1), fx_val_float(1.0)));
	assert_false(fx_val_equal_loose(fx_val_int(1), fx_val_float(1.25)));
	assert_true(fx_val_equal_loose(sym(&t, "a"), str(&t, "a")));
	assert_false(fx_val_equal_loose(sym(&t, "1"), fx_val_int(1)));
	assert_false(fx_val_equal_loose(fx_val_bool(0), fx_val_nil()));
	assert_true(fx_val_equal_loose(fx_val_nil(), fx_val_nil()));
	assert_true(fx_val_equal_loose(fx_val_float(0.5), fx_val_float(0.5)));

	assert_false(fx_val_truthy(fx_val_nil()));
	assert_false(fx_val_truthy(fx_val_bool(0)));
	assert_false(fx_val_truthy(sym(&t, "false")));
	assert_true(fx_val_truthy(str(&t, "false")));
	assert_true(fx_val_truthy(sym(&t, "falsey")));
	assert_true(fx_val_truthy(fx_val_bool(1)));
	assert_true(fx_val_truthy(fx_val_int(0)));
	fx_atoms_dispose(&t);
}

static void expect_format(fx_val v, int quote, const char *want)
{
	fx_buf b;
	fx_buf_init(&b);
	fx_val_format(&b, v, quote);
	assert_string_equal(fx_buf_cstr(&b), want);
	fx_buf_dispose(&b);
}

static void test_val_format(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	expect_format(sym(&t, "red"), 1, "red");
	expect_format(str(&t, "a \"b\" \\ c\n\td"), 1, "\"a \\\"b\\\" \\\\ c\\n\\td\"");
	expect_format(str(&t, "a \"b\"\n"), 0, "a \"b\"\n");
	expect_format(fx_val_atom(FX_STRING, fx_atoms_intern(&t, "\x01\0\x7f\xc3\xa9", 5)), 1,
	              "\"\\x01\\x00\\x7f\xc3\xa9\"");
	expect_format(str(&t, ""), 1, "\"\"");
	expect_format(fx_val_int(-42), 1, "-42");
	expect_format(fx_val_int(INT64_MIN), 1, "-9223372036854775808");
	expect_format(fx_val_float(1.0), 1, "1.0");
	expect_format(fx_val_float(0.1), 1, "0.1");
	expect_format(fx_val_float(-2.5), 1, "-2.5");
	expect_format(fx_val_float(1e300), 1, "1e+300");
	expect_format(fx_val_float(1e15), 1, "1e+15");
	expect_format(fx_val_float(123456.0), 1, "123456.0");
	expect_format(fx_val_bool(1), 1, "true");
	expect_format(fx_val_bool(0), 0, "false");
	expect_format(fx_val_nil(), 1, "nil");
	fx_atoms_dispose(&t);
}

static void test_float_format_round_trips(void **state)
{
	(void)state;
	double xs[] = { 0.1 + 0.2, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, 4.35, 100.0 };
	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		fx_buf b;
		fx_buf_init(&b);
		fx_val_format(&b, fx_val_float(xs[i]), 1);
		assert_true(strtod(fx_buf_cstr(&b), NULL) == xs[i]);
		fx_buf_dispose(&b);
	}
}

static void test_public_conversions(void **state)
{
	(void)state;
	fx_atoms t;
	fx_atoms_init(&t, NULL);
	fx_val v;
	fx_value pv = fx_value_string("hi");
	assert_int_equal(pv.len, 2);
	assert_int_equal(fx_val_from_public(&t, &pv, &v), 0);
	assert_int_equal(v.type, FX_STRING);
	assert_ptr_equal(v.u.a, fx_atoms_find(&t, "hi", 2));
	fx_value back = fx_val_public(v);
	assert_int_equal(back.type, FX_STRING);
	assert_int_equal(back.len, 2);
	assert_memory_equal(back.u.text, "hi", 2);

	pv = fx_value_symbol("s");
	assert_int_equal(fx_val_from_public(&t, &pv, &v), 0);
	assert_int_equal(v.type, FX_SYMBOL);
	pv = fx_value_integer(-7);
	assert_int_equal(fx_val_from_public(&t, &pv, &v), 0);
	assert_int_equal(v.u.i, -7);
	assert_int_equal(fx_val_public(v).u.i, -7);
	pv = fx_value_float(2.5);
	assert_int_equal(fx_val_from_public(&t, &pv, &v), 0);
	assert_true(v.u.f == 2.5);
	pv = fx_value_boolean(42);
	assert_int_equal(pv.u.b, 1);
	assert_int_equal(fx_val_from_public(&t, &pv, &v), 0);
	assert_true(fx_val_eq(v, fx_val_bool(1)));
	pv.type = (fx_type)99;
	assert_int_equal(fx_val_from_public(&t, &pv, &v), FX_EINVAL);
	pv.type = FX_STRING;
	pv.u.text = NULL;
	pv.len = 3;
	assert_int_equal(fx_val_from_public(&t, &pv, &v), FX_EINVAL);
	assert_string_equal(fx_type_name(FX_FLOAT), "float");
	assert_string_equal(fx_type_name(FX_NIL), "nil");
	assert_string_equal(fx_version(), FX_VERSION_STRING);
	assert_string_equal(fx_strerror(FX_ELIMIT), "limit reached");
	assert_string_equal(fx_strerror(-1000), "unknown error");
	fx_atoms_dispose(&t);
}

static void test_arena(void **state)
{
	(void)state;
	fx_arena a;
	fx_arena_init(&a);
	for (int i = 0; i < 10000; i++) {
		unsigned char *p = fx_arena_alloc(&a, (size_t)(i % 37) + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (int j = 0; j < i % 37 + 1; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xab, (size_t)(i % 37) + 1);
	}
	unsigned char *big = fx_arena_alloc(&a, 1 << 20);
	assert_non_null(big);
	assert_int_equal(big[(1 << 20) - 1], 0);
	char *s = fx_arena_strndup(&a, "hello world", 5);
	assert_string_equal(s, "hello");
	assert_string_equal(fx_arena_strdup(&a, "x"), "x");
	int arr[3] = { 1, 2, 3 };
	int *c = fx_arena_memdup(&a, arr, sizeof arr);
	assert_int_equal(c[2], 3);
	assert_true(a.total >= (1 << 20));
	fx_arena_dispose(&a);
	assert_null(a.head);
}

static void test_buf_and_vec(void **state)
{
	(void)state;
	fx_buf b;
	fx_buf_init(&b);
	assert_string_equal(fx_buf_cstr(&b), "");
	fx_buf_puts(&b, "ab");
	fx_buf_putc(&b, 'c');
	fx_buf_printf(&b, "-%d-%s", 42, "x");
	assert_string_equal(fx_buf_cstr(&b), "abc-42-x");
	char longer[1000];
	memset(longer, 'z', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	fx_buf_printf(&b, "%s!", longer);
	assert_int_equal(b.len, 8 + 999 + 1);
	assert_int_equal(b.data[b.len - 1], '!');
	fx_buf_clear(&b);
	assert_string_equal(fx_buf_cstr(&b), "");
	fx_buf_dispose(&b);

	fx_vec v;
	fx_vec_init(&v);
	int x[100];
	for (int i = 0; i < 100; i++)
		assert_int_equal(fx_vec_push(&v, &x[i]), 0);
	assert_int_equal(v.len, 100);
	assert_ptr_equal(v.items[57], &x[57]);
	fx_vec_dispose(&v);
}


/* The strict number parsers shared by rule files and text captures. */
static void test_parse_numbers(void **state)
{
	(void)state;
	int64_t i = 0;
	double d = 0;
	assert_int_equal(fx_parse_int("-42", 3, &i), 1);
	assert_int_equal(i, -42);
	assert_int_equal(fx_parse_int("9223372036854775807", 19, &i), 1);
	assert_int_equal(i, INT64_MAX);
	assert_int_equal(fx_parse_int("-9223372036854775808", 20, &i), 1);
	assert_int_equal(i, INT64_MIN);
	assert_int_equal(fx_parse_int("9223372036854775808", 19, &i), 2);
	assert_int_equal(fx_parse_int("12a", 3, &i), 0);
	assert_int_equal(fx_parse_int("-", 1, &i), 0);
	assert_int_equal(fx_parse_int(" 1", 2, &i), 0);
	assert_int_equal(fx_parse_float("1.5e3", 5, &d), 1);
	assert_true(d == 1500.0);
	assert_int_equal(fx_parse_float("1e999", 5, &d), 2);
	assert_int_equal(fx_parse_float(".5", 2, &d), 0);
	assert_int_equal(fx_parse_float("1.", 2, &d), 0);
	assert_int_equal(fx_parse_float("inf", 3, &d), 0);
	/* not NUL-terminated: only len bytes count */
	assert_int_equal(fx_parse_float("2.25xyz", 4, &d), 1);
	assert_true(d == 2.25);
}

static void test_hex_digit(void **state)
{
	(void)state;
	const char *digits = "0123456789abcdefABCDEF";
	for (const char *d = digits; *d; d++)
		assert_int_equal(fx_hex_digit(*d), d - digits < 16 ? d - digits : d - digits - 6);
	assert_int_equal(fx_hex_digit('g'), -1);
	assert_int_equal(fx_hex_digit('G'), -1);
	assert_int_equal(fx_hex_digit('/'), -1);
	assert_int_equal(fx_hex_digit(':'), -1);
	assert_int_equal(fx_hex_digit('@'), -1);
	assert_int_equal(fx_hex_digit(0xe9), -1);
	assert_int_equal(fx_hex_digit(0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atoms_intern_same_pointer),
		cmocka_unit_test(test_atoms_embedded_nul_and_empty),
		cmocka_unit_test(test_atoms_grow_keeps_all),
		cmocka_unit_test(test_atoms_parent_consulted_first),
		cmocka_unit_test(test_hash_bytes_spreads),
		cmocka_unit_test(test_val_eq_and_hash),
		cmocka_unit_test(test_val_cmp),
		cmocka_unit_test(test_val_equal_loose_and_truthy),
		cmocka_unit_test(test_val_format),
		cmocka_unit_test(test_float_format_round_trips),
		cmocka_unit_test(test_public_conversions),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_buf_and_vec),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_hex_digit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
