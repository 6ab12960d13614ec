/* expr.c: the expression language of `test:`, operator constraints and computed action values.
 * The loader parses expression text once (fx_expr_parse) into trees in the kb's arena; the
 * matcher and the actions evaluate them (fx_expr_eval) at run time.
 *
 * Parsing is a hand-written lexer and a recursive-descent parser with one function per
 * precedence level (the grammar in docs/rule-language.md, repeated above the functions). It
 * stops at the first syntax error, which it reports with the exact column and the offending
 * token's length. Trees are bounded in height (MAX_HEIGHT) and the parser in recursion, so
 * neither parsing nor the recursive evaluation can exhaust the stack whatever the input.
 *
 * Operators are calls to built-ins ("+", "==", "neg"...), except `and`, `or` and `not`, which
 * get their own node kinds because they short-circuit. A call whose arguments are all constants
 * is evaluated at parse time and replaced by its result, unless evaluating it fails (division by
 * zero...): that error is left for run time, where it is reported with the rule that fired.
 *
 * Evaluation never invokes undefined behaviour: integer overflow is detected and reported, as is
 * division by zero (integer or float). Texts built at run time (concat, upper...) are assembled
 * in ev->scratch and interned in ev->atoms, so they compare by pointer like every other text. */
#include "expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define MAX_HEIGHT 256  /* tree height and parser recursion */
#define MAX_ARGS 1024   /* arguments of one call */
#define STACK_ARGS 8    /* arguments evaluated without a heap allocation */

/* ============================================================================================
 * Built-in functions
 * ============================================================================================ */

static int fail(fx_eval *ev, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(fx_eval *ev, int code, const char *fmt, ...)
{
	if (ev->err) {
		va_list ap;
		va_start(ap, fmt);
		fx_buf_clear(ev->err);
		fx_buf_vprintf(ev->err, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *tname(fx_val v)
{
	return fx_type_name((fx_type)v.type);
}

static inline int is_text(fx_val v)
{
	return v.type == FX_SYMBOL || v.type == FX_STRING;
}

static inline int is_num(fx_val v)
{
	return v.type == FX_INTEGER || v.type == FX_FLOAT;
}

static inline double as_double(fx_val v)
{
	return v.type == FX_INTEGER ? (double)v.u.i : v.u.f;
}

static int intern(fx_eval *ev, uint32_t type, const char *s, size_t n, fx_val *out)
{
	const fx_atom *a = fx_atoms_intern(ev->atoms, s, n);
	if (!a)
		return n >= UINT32_MAX ? fail(ev, FX_ELIMIT, "text too long (%zu bytes)", n)
		                       : fail(ev, FX_ENOMEM, "out of memory");
	*out = fx_val_atom((fx_type)type, a);
	return 0;
}

/* Intern what was built in ev->scratch. */
static int intern_scratch(fx_eval *ev, uint32_t type, fx_val *out)
{
	if (ev->scratch.oom)
		return fail(ev, FX_ENOMEM, "out of memory");
	return intern(ev, type, ev->scratch.data ? ev->scratch.data : "", ev->scratch.len, out);
}

static const char *fname(const fx_expr *call)
{
	return call && call->fn ? call->fn->name : "?";
}

static int need_num(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t i)
{
	if (is_num(args[i]))
		return 0;
	return fail(ev, FX_ETYPE, "%s: argument %u must be a number, not %s", fname(call), i + 1,
	            tname(args[i]));
}

static int need_text(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t i)
{
	if (is_text(args[i]))
		return 0;
	return fail(ev, FX_ETYPE, "%s: argument %u must be a symbol or string, not %s", fname(call),
	            i + 1, tname(args[i]));
}

static int need_int(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t i)
{
	if (args[i].type == FX_INTEGER)
		return 0;
	return fail(ev, FX_ETYPE, "%s: argument %u must be an integer, not %s", fname(call), i + 1,
	            tname(args[i]));
}

/* --- Arithmetic ----------------------------------------------------------------------------- */

static int arith_types(fx_eval *ev, const char *op, const fx_val *args)
{
	if (is_num(args[0]) && is_num(args[1]))
		return 0;
	if (is_text(args[0]) && is_text(args[1]) && op[0] == '+')
		return fail(ev, FX_ETYPE, "cannot apply + to %s and %s (use concat to join texts)",
		            tname(args[0]), tname(args[1]));
	return fail(ev, FX_ETYPE, "cannot apply %s to %s and %s", op, tname(args[0]), tname(args[1]));
}

static int overflow(fx_eval *ev, const char *op, const fx_val *args)
{
	return fail(ev, FX_ERUNTIME, "integer overflow in %lld %s %lld", (long long)args[0].u.i, op,
	            (long long)args[1].u.i);
}

/* A float result that is not finite: the language has no infinities or NaNs to offer. */
static int float_result(fx_eval *ev, const char *op, const fx_val *args, double r, fx_val *out)
{
	if (!isfinite(r))
		return fail(ev, FX_ERUNTIME, "float overflow in %g %s %g", as_double(args[0]), op,
		            as_double(args[1]));
	*out = fx_val_float(r);
	return 0;
}

static int fn_add(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	int rc = arith_types(ev, "+", args);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER && args[1].type == FX_INTEGER) {
		int64_t r;
		if (__builtin_add_overflow(args[0].u.i, args[1].u.i, &r))
			return overflow(ev, "+", args);
		*out = fx_val_int(r);
	} else {
		return float_result(ev, "+", args, as_double(args[0]) + as_double(args[1]), out);
	}
	return 0;
}

static int fn_sub(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	int rc = arith_types(ev, "-", args);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER && args[1].type == FX_INTEGER) {
		int64_t r;
		if (__builtin_sub_overflow(args[0].u.i, args[1].u.i, &r))
			return overflow(ev, "-", args);
		*out = fx_val_int(r);
	} else {
		return float_result(ev, "-", args, as_double(args[0]) - as_double(args[1]), out);
	}
	return 0;
}

static int fn_mul(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	int rc = arith_types(ev, "*", args);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER && args[1].type == FX_INTEGER) {
		int64_t r;
		if (__builtin_mul_overflow(args[0].u.i, args[1].u.i, &r))
			return overflow(ev, "*", args);
		*out = fx_val_int(r);
	} else {
		return float_result(ev, "*", args, as_double(args[0]) * as_double(args[1]), out);
	}
	return 0;
}

/* Float division by zero is an error too, for the same reason as float overflow. */
static int fn_div(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	int rc = arith_types(ev, "/", args);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER && args[1].type == FX_INTEGER) {
		if (args[1].u.i == 0)
			return fail(ev, FX_ERUNTIME, "division by zero");
		if (args[1].u.i == -1 && args[0].u.i == INT64_MIN)
			return overflow(ev, "/", args);
		*out = fx_val_int(args[0].u.i / args[1].u.i);
	} else {
		double d = as_double(args[1]);
		if (d == 0)
			return fail(ev, FX_ERUNTIME, "division by zero");
		return float_result(ev, "/", args, as_double(args[0]) / d, out);
	}
	return 0;
}

/* The remainder takes the sign of the dividend, as C's % and fmod do. */
static int fn_mod(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	int rc = arith_types(ev, "%", args);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER && args[1].type == FX_INTEGER) {
		if (args[1].u.i == 0)
			return fail(ev, FX_ERUNTIME, "division by zero in %%");
		/* INT64_MIN % -1 is undefined in C although its value is plainly 0. */
		*out = fx_val_int(args[1].u.i == -1 ? 0 : args[0].u.i % args[1].u.i);
	} else {
		double d = as_double(args[1]);
		if (d == 0)
			return fail(ev, FX_ERUNTIME, "division by zero in %%");
		*out = fx_val_float(fmod(as_double(args[0]), d));
	}
	return 0;
}

static int fn_neg(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)call, (void)n;
	if (args[0].type == FX_INTEGER) {
		if (args[0].u.i == INT64_MIN)
			return fail(ev, FX_ERUNTIME, "integer overflow in -(%lld)", (long long)args[0].u.i);
		*out = fx_val_int(-args[0].u.i);
	} else if (args[0].type == FX_FLOAT) {
		*out = fx_val_float(-args[0].u.f);
	} else {
		return fail(ev, FX_ETYPE, "cannot negate a %s", tname(args[0]));
	}
	return 0;
}

/* --- Comparisons ---------------------------------------------------------------------------- */

static int fn_eq(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)ev, (void)call, (void)n;
	*out = fx_val_bool(fx_val_equal_loose(args[0], args[1]));
	return 0;
}

static int fn_ne(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)ev, (void)call, (void)n;
	*out = fx_val_bool(!fx_val_equal_loose(args[0], args[1]));
	return 0;
}

static int order(fx_eval *ev, const char *op, const fx_val *args, int *c)
{
	*c = fx_val_cmp(args[0], args[1]);
	if (*c == 2)
		return fail(ev, FX_ETYPE, "cannot compare %s and %s with %s", tname(args[0]),
		            tname(args[1]), op);
	return 0;
}

#define DEFINE_ORDER(name, op, test)                                                          \
	static int name(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,      \
	                fx_val *out)                                                           \
	{                                                                                      \
		(void)call, (void)n;                                                           \
		int c, rc = order(ev, op, args, &c);                                           \
		if (rc)                                                                        \
			return rc;                                                             \
		*out = fx_val_bool(test);                                                      \
		return 0;                                                                      \
	}

DEFINE_ORDER(fn_lt, "<", c < 0)
DEFINE_ORDER(fn_le, "<=", c <= 0)
DEFINE_ORDER(fn_gt, ">", c > 0)
DEFINE_ORDER(fn_ge, ">=", c >= 0)

/* --- Numbers -------------------------------------------------------------------------------- */

static int fn_abs(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	int rc = need_num(ev, call, args, 0);
	if (rc)
		return rc;
	if (args[0].type == FX_INTEGER) {
		if (args[0].u.i == INT64_MIN)
			return fail(ev, FX_ERUNTIME, "integer overflow in abs(%lld)", (long long)args[0].u.i);
		*out = fx_val_int(args[0].u.i < 0 ? -args[0].u.i : args[0].u.i);
	} else {
		*out = fx_val_float(fabs(args[0].u.f));
	}
	return 0;
}

/* The winning argument is returned as it is, keeping its type. */
static int minmax(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out,
                  int want)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = need_num(ev, call, args, i);
		if (rc)
			return rc;
	}
	fx_val best = args[0];
	for (uint32_t i = 1; i < n; i++)
		if (fx_val_cmp(args[i], best) == want)
			best = args[i];
	*out = best;
	return 0;
}

static int fn_min(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	return minmax(ev, call, args, n, out, -1);
}

static int fn_max(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	return minmax(ev, call, args, n, out, 1);
}

/* Read a whole text as a number: [+-] digits [. digits] [e [+-] digits], or [+-] . digits ...
 * No spaces, no "inf" or "nan". Integers that do not fit in 64 bits come back as floats. */
static int number_from_text(const fx_atom *a, fx_val *out)
{
	const char *s = a->text, *end = s + a->len;
	const char *p = s;
	if (p < end && (*p == '+' || *p == '-'))
		p++;
	const char *digits = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	size_t nint = (size_t)(p - digits);
	size_t nfrac = 0;
	int is_float = 0;
	if (p < end && *p == '.') {
		is_float = 1;
		const char *f = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		nfrac = (size_t)(p - f);
	}
	if (nint + nfrac == 0)
		return 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		is_float = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const char *e = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == e)
			return 0;
	}
	if (p != end)
		return 0;
	if (!is_float) {
		int64_t v = 0;
		int neg = s[0] == '-', ok = 1;
		for (const char *q = digits; q < end && ok; q++) {
			int d = *q - '0';
			ok = !__builtin_mul_overflow(v, 10, &v) &&
			     !(neg ? __builtin_sub_overflow(v, d, &v) : __builtin_add_overflow(v, d, &v));
		}
		if (ok) {
			*out = fx_val_int(v);
			return 1;
		}
	}
	/* The atom's text is NUL-terminated right after the validated number. */
	*out = fx_val_float(strtod(s, NULL));
	return 1;
}

/* How much of a text to quote in a message. */
static int quoted_len(fx_val v)
{
	return v.u.a->len > 60 ? 60 : (int)v.u.a->len;
}

static int fn_integer(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                      fx_val *out)
{
	(void)n;
	fx_val v = args[0];
	if (is_text(v) && !number_from_text(v.u.a, &v))
		return fail(ev, FX_ETYPE, "integer: \"%.*s\" is not a number", quoted_len(args[0]),
		            args[0].u.a->text);
	if (v.type == FX_INTEGER) {
		*out = v;
		return 0;
	}
	if (v.type != FX_FLOAT)
		return need_num(ev, call, args, 0);
	double f = trunc(v.u.f);
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
		return fail(ev, FX_ERUNTIME, "integer: %g is out of the integer range", v.u.f);
	*out = fx_val_int((int64_t)f);
	return 0;
}

static int fn_float(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	fx_val v = args[0];
	if (is_text(v) && !number_from_text(v.u.a, &v))
		return fail(ev, FX_ETYPE, "float: \"%.*s\" is not a number", quoted_len(args[0]),
		            args[0].u.a->text);
	if (!is_num(v))
		return need_num(ev, call, args, 0);
	if (is_text(args[0]) && v.type == FX_FLOAT && !isfinite(v.u.f))
		return fail(ev, FX_ERUNTIME, "float: \"%.*s\" is out of range", quoted_len(args[0]),
		            args[0].u.a->text);
	*out = fx_val_float(as_double(v));
	return 0;
}

/* --- Texts ---------------------------------------------------------------------------------- */

static int to_text(fx_eval *ev, fx_val v, uint32_t type, fx_val *out)
{
	if (is_text(v)) {
		/* Symbols and strings share atoms: only the tag changes. */
		*out = fx_val_atom((fx_type)type, v.u.a);
		return 0;
	}
	fx_buf_clear(&ev->scratch);
	fx_val_format(&ev->scratch, v, 0);
	return intern_scratch(ev, type, out);
}

static int fn_string(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)call, (void)n;
	return to_text(ev, args[0], FX_STRING, out);
}

static int fn_symbol(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)call, (void)n;
	return to_text(ev, args[0], FX_SYMBOL, out);
}

static int fn_concat(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)call;
	fx_buf_clear(&ev->scratch);
	for (uint32_t i = 0; i < n; i++)
		fx_val_format(&ev->scratch, args[i], 0);
	return intern_scratch(ev, FX_STRING, out);
}

static int fn_length(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)n;
	int rc = need_text(ev, call, args, 0);
	if (rc)
		return rc;
	*out = fx_val_int((int64_t)args[0].u.a->len);
	return 0;
}

static int map_case(fx_eval *ev, const fx_expr *call, const fx_val *args, fx_val *out, int up)
{
	int rc = need_text(ev, call, args, 0);
	if (rc)
		return rc;
	const fx_atom *a = args[0].u.a;
	fx_buf_clear(&ev->scratch);
	fx_buf_append(&ev->scratch, a->text, a->len);
	if (ev->scratch.oom)
		return fail(ev, FX_ENOMEM, "out of memory");
	for (size_t i = 0; i < ev->scratch.len; i++) {
		char c = ev->scratch.data[i];
		if (up && c >= 'a' && c <= 'z')
			ev->scratch.data[i] = (char)(c - 'a' + 'A');
		else if (!up && c >= 'A' && c <= 'Z')
			ev->scratch.data[i] = (char)(c - 'A' + 'a');
	}
	return intern_scratch(ev, args[0].type, out);
}

static int fn_upper(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	return map_case(ev, call, args, out, 1);
}

static int fn_lower(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	return map_case(ev, call, args, out, 0);
}

/* Out-of-range parts are clipped, as most languages' substring functions do; only negative
 * numbers, which are surely a mistake, are errors. */
static int fn_substr(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)n;
	int rc;
	if ((rc = need_text(ev, call, args, 0)) || (rc = need_int(ev, call, args, 1)) ||
	    (rc = need_int(ev, call, args, 2)))
		return rc;
	int64_t start = args[1].u.i, len = args[2].u.i;
	if (start < 0)
		return fail(ev, FX_ERUNTIME, "substr: start %lld is negative", (long long)start);
	if (len < 0)
		return fail(ev, FX_ERUNTIME, "substr: length %lld is negative", (long long)len);
	const fx_atom *a = args[0].u.a;
	uint64_t from = (uint64_t)start < a->len ? (uint64_t)start : a->len;
	uint64_t take = a->len - from;
	if ((uint64_t)len < take)
		take = (uint64_t)len;
	return intern(ev, args[0].type, a->text + from, (size_t)take, out);
}

/* Offset of needle in hay, or -1. */
static int64_t find_bytes(const fx_atom *hay, const fx_atom *needle)
{
	size_t h = hay->len, n = needle->len;
	if (n == 0)
		return 0;
	if (n > h)
		return -1;
	const char *p = hay->text, *last = hay->text + (h - n);
	char first = needle->text[0];
	while (p <= last) {
		p = memchr(p, first, (size_t)(last - p) + 1);
		if (!p)
			return -1;
		if (memcmp(p, needle->text, n) == 0)
			return p - hay->text;
		p++;
	}
	return -1;
}

static int two_texts(fx_eval *ev, const fx_expr *call, const fx_val *args)
{
	int rc = need_text(ev, call, args, 0);
	return rc ? rc : need_text(ev, call, args, 1);
}

static int fn_contains(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                       fx_val *out)
{
	(void)n;
	int rc = two_texts(ev, call, args);
	if (rc)
		return rc;
	*out = fx_val_bool(find_bytes(args[0].u.a, args[1].u.a) >= 0);
	return 0;
}

static int fn_starts(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n,
                     fx_val *out)
{
	(void)n;
	int rc = two_texts(ev, call, args);
	if (rc)
		return rc;
	const fx_atom *s = args[0].u.a, *t = args[1].u.a;
	*out = fx_val_bool(t->len <= s->len && memcmp(s->text, t->text, t->len) == 0);
	return 0;
}

static int fn_ends(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	int rc = two_texts(ev, call, args);
	if (rc)
		return rc;
	const fx_atom *s = args[0].u.a, *t = args[1].u.a;
	*out = fx_val_bool(t->len <= s->len &&
	                   memcmp(s->text + (s->len - t->len), t->text, t->len) == 0);
	return 0;
}

static int fn_index(fx_eval *ev, const fx_expr *call, const fx_val *args, uint32_t n, fx_val *out)
{
	(void)n;
	int rc = two_texts(ev, call, args);
	if (rc)
		return rc;
	*out = fx_val_int(find_bytes(args[0].u.a, args[1].u.a));
	return 0;
}

/* Functions callable by name in expressions. */
static const fx_func functions[] = {
	{ "abs", 1, 1, fn_abs },
	{ "min", 1, -1, fn_min },
	{ "max", 1, -1, fn_max },
	{ "integer", 1, 1, fn_integer },
	{ "float", 1, 1, fn_float },
	{ "string", 1, 1, fn_string },
	{ "symbol", 1, 1, fn_symbol },
	{ "concat", 1, -1, fn_concat },
	{ "length", 1, 1, fn_length },
	{ "upper", 1, 1, fn_upper },
	{ "lower", 1, 1, fn_lower },
	{ "substr", 3, 3, fn_substr },
	{ "contains", 2, 2, fn_contains },
	{ "starts-with", 2, 2, fn_starts },
	{ "ends-with", 2, 2, fn_ends },
	{ "index", 2, 2, fn_index },
};

/* Operators, named as written ("neg" is unary minus). Not callable by name in expressions. */
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_NEG };
static const fx_func operators[] = {
	[OP_ADD] = { "+", 2, 2, fn_add },
	[OP_SUB] = { "-", 2, 2, fn_sub },
	[OP_MUL] = { "*", 2, 2, fn_mul },
	[OP_DIV] = { "/", 2, 2, fn_div },
	[OP_MOD] = { "%", 2, 2, fn_mod },
	[OP_EQ] = { "==", 2, 2, fn_eq },
	[OP_NE] = { "!=", 2, 2, fn_ne },
	[OP_LT] = { "<", 2, 2, fn_lt },
	[OP_LE] = { "<=", 2, 2, fn_le },
	[OP_GT] = { ">", 2, 2, fn_gt },
	[OP_GE] = { ">=", 2, 2, fn_ge },
	[OP_NEG] = { "neg", 1, 1, fn_neg },
};

static const fx_func *lookup(const fx_func *tab, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(tab[i].name) == len && memcmp(tab[i].name, name, len) == 0)
			return &tab[i];
	return NULL;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const fx_func *fx_expr_func(const char *name, size_t len)
{
	const fx_func *f = lookup(functions, NELEM(functions), name, len);
	return f ? f : lookup(operators, NELEM(operators), name, len);
}

/* ============================================================================================
 * Evaluation
 * ============================================================================================ */

/* Integer operands of a binary operator: the common case in tests, done without a call.
 * Returns 1 when it produced *out, 0 when the general path must run (other types, overflow,
 * division by zero: the built-ins give those their messages). */
static int int_fast(int op, int64_t a, int64_t b, fx_val *out)
{
	int64_t r;
	switch (op) {
	case OP_ADD:
		if (__builtin_add_overflow(a, b, &r))
			return 0;
		break;
	case OP_SUB:
		if (__builtin_sub_overflow(a, b, &r))
			return 0;
		break;
	case OP_MUL:
		if (__builtin_mul_overflow(a, b, &r))
			return 0;
		break;
	case OP_DIV:
		if (b == 0 || b == -1)
			return 0;
		r = a / b;
		break;
	case OP_MOD:
		if (b == 0 || b == -1)
			return 0;
		r = a % b;
		break;
	case OP_EQ: *out = fx_val_bool(a == b); return 1;
	case OP_NE: *out = fx_val_bool(a != b); return 1;
	case OP_LT: *out = fx_val_bool(a < b); return 1;
	case OP_LE: *out = fx_val_bool(a <= b); return 1;
	case OP_GT: *out = fx_val_bool(a > b); return 1;
	case OP_GE: *out = fx_val_bool(a >= b); return 1;
	default:
		return 0;
	}
	*out = fx_val_int(r);
	return 1;
}

static int eval_call(fx_eval *ev, const fx_expr *e, fx_val *out)
{
	if (e->nargs == 2 && e->fn >= operators && e->fn < operators + OP_NEG) {
		fx_val ab[2];
		int rc = fx_expr_eval(ev, e->args[0], &ab[0]);
		if (rc == 0)
			rc = fx_expr_eval(ev, e->args[1], &ab[1]);
		if (rc)
			return rc;
		if (ab[0].type == FX_INTEGER && ab[1].type == FX_INTEGER &&
		    int_fast((int)(e->fn - operators), ab[0].u.i, ab[1].u.i, out))
			return 0;
		return e->fn->impl(ev, e, ab, 2, out);
	}
	fx_val stack[STACK_ARGS];
	fx_val *args = stack;
	if (e->nargs > STACK_ARGS) {
		args = malloc(e->nargs * sizeof *args);
		if (!args)
			return fail(ev, FX_ENOMEM, "out of memory");
	}
	int rc = 0;
	for (uint32_t i = 0; i < e->nargs && rc == 0; i++)
		rc = fx_expr_eval(ev, e->args[i], &args[i]);
	if (rc == 0)
		rc = e->fn->impl(ev, e, args, e->nargs, out);
	if (args != stack)
		free(args);
	return rc;
}

int fx_expr_eval(fx_eval *ev, const fx_expr *e, fx_val *out)
{
	fx_val v;
	int rc;
	switch (e->kind) {
	case FX_X_CONST:
		*out = e->val;
		return 0;
	case FX_X_VAR:
		if (!ev->get_var)
			return fail(ev, FX_EINVAL, "variable used where none is available");
		return ev->get_var(ev, e->var, out);
	case FX_X_AND:
	case FX_X_OR:
		if ((rc = fx_expr_eval(ev, e->args[0], &v)))
			return rc;
		/* The right side is not evaluated once the left decides: `?d != 0 and ?n / ?d > 1`. */
		if (fx_val_truthy(v) == (e->kind == FX_X_OR)) {
			*out = fx_val_bool(e->kind == FX_X_OR);
			return 0;
		}
		if ((rc = fx_expr_eval(ev, e->args[1], &v)))
			return rc;
		*out = fx_val_bool(fx_val_truthy(v));
		return 0;
	case FX_X_NOT:
		if ((rc = fx_expr_eval(ev, e->args[0], &v)))
			return rc;
		*out = fx_val_bool(!fx_val_truthy(v));
		return 0;
	case FX_X_CALL:
		return eval_call(ev, e, out);
	}
	return fail(ev, FX_EINVAL, "bad expression node");
}

void fx_expr_vars(const fx_expr *e, void (*fn)(void *ud, uint32_t var), void *ud)
{
	if (e->kind == FX_X_VAR)
		fn(ud, e->var);
	for (uint32_t i = 0; i < e->nargs; i++)
		fx_expr_vars(e->args[i], fn, ud);
}

/* ============================================================================================
 * Lexer
 * ============================================================================================ */

typedef enum tok_kind {
	T_EOF, T_INT, T_FLOAT, T_STR, T_VAR, T_NAME, T_LP, T_RP, T_COMMA,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_ERR /* a lexical error, already reported */
} tok_kind;

typedef struct tok {
	tok_kind kind;
	size_t off, len;   /* the token's bytes in the text */
} tok;

typedef struct parser {
	fx_expr_parser *p;
	const char *s;     /* the text */
	size_t n;          /* its length */
	size_t i;          /* lexer position */
	fx_pos pos;        /* position of s[0] */
	tok t;             /* current token */
	unsigned depth;    /* parser recursion */
	int failed;        /* an error has been reported */
	fx_eval fold;      /* for constant folding */
	fx_buf tmp;        /* decoding strings and numbers */
} parser;

static fx_pos pos_at(const parser *ps, size_t off)
{
	fx_pos q = ps->pos;
	if (q.col)
		q.col += (uint32_t)off;
	return q;
}

static void error_at(parser *ps, size_t off, size_t span, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_at(parser *ps, size_t off, size_t span, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (!ps->p->error)
		return;
	fx_buf msg;
	fx_buf_init(&msg);
	va_list ap;
	va_start(ap, fmt);
	fx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	ps->p->error(ps->p->ud, pos_at(ps, off), span ? (unsigned)span : 1,
	             msg.oom ? "out of memory" : fx_buf_cstr(&msg));
	fx_buf_dispose(&msg);
}

static void oom(parser *ps)
{
	error_at(ps, ps->t.off, 1, "out of memory");
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Names are those of rule ids: letters, digits, `_`, and `-` or `.` between them. A `-` joins
 * a name only when a letter or `_` follows, so `?first-name` is one variable and `?x-1` is a
 * subtraction; `.` needs a letter, digit or `_` after it. */
static size_t name_end(const char *s, size_t n, size_t i)
{
	while (i < n) {
		int c = (unsigned char)s[i];
		int next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		if (is_alpha(c) || is_digit(c))
			i++;
		else if (c == '-' && is_alpha(next))
			i++;
		else if (c == '.' && (is_alpha(next) || is_digit(next)))
			i++;
		else
			break;
	}
	return i;
}

static const char *describe(const parser *ps, const tok *t, fx_buf *b)
{
	switch (t->kind) {
	case T_EOF:
		return "the end of the expression";
	case T_STR:
		return "a string";
	default:
		fx_buf_clear(b);
		fx_buf_putc(b, '\'');
		fx_buf_append(b, ps->s + t->off, t->len > 40 ? 40 : t->len);
		fx_buf_puts(b, t->len > 40 ? "...'" : "'");
		return fx_buf_cstr(b);
	}
}

static void lex_string(parser *ps, size_t start)
{
	char q = ps->s[start];
	size_t i = start + 1;
	while (i < ps->n && ps->s[i] != q) {
		if (ps->s[i] == '\\' && q == '"')
			i++;
		i++;
	}
	if (i >= ps->n) {
		error_at(ps, start, ps->n - start, "unterminated string: missing closing %c", q);
		ps->t.kind = T_ERR;
		return;
	}
	ps->t.kind = T_STR;
	ps->i = i + 1;
}

static void lex_number(parser *ps, size_t start)
{
	const char *s = ps->s;
	size_t i = start, n = ps->n;
	ps->t.kind = T_INT;
	while (i < n && is_digit(s[i]))
		i++;
	if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
		ps->t.kind = T_FLOAT;
		i++;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < n && is_digit(s[j])) {
			ps->t.kind = T_FLOAT;
			i = j;
			while (i < n && is_digit(s[i]))
				i++;
		}
	}
	if (i < n && (is_alpha(s[i]) || s[i] == '.')) {
		size_t e = name_end(s, n, i);
		if (e < n && s[e] == '.')
			e++;
		error_at(ps, start, e - start, "invalid number '%.*s'", (int)(e - start), s + start);
		ps->t.kind = T_ERR;
		return;
	}
	ps->i = i;
}

static void next(parser *ps)
{
	const char *s = ps->s;
	size_t n = ps->n, i = ps->i;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	ps->t.off = i;
	ps->i = i + 1;
	if (i >= n) {
		ps->t.kind = T_EOF;
		ps->i = n;
		ps->t.len = 0;
		return;
	}
	char c = s[i], d = i + 1 < n ? s[i + 1] : 0;
	switch (c) {
	case '(': ps->t.kind = T_LP; break;
	case ')': ps->t.kind = T_RP; break;
	case ',': ps->t.kind = T_COMMA; break;
	case '+': ps->t.kind = T_PLUS; break;
	case '-': ps->t.kind = T_MINUS; break;
	case '*': ps->t.kind = T_STAR; break;
	case '/': ps->t.kind = T_SLASH; break;
	case '%': ps->t.kind = T_PCT; break;
	case '<':
		ps->t.kind = d == '=' ? T_LE : T_LT;
		ps->i += d == '=';
		break;
	case '>':
		ps->t.kind = d == '=' ? T_GE : T_GT;
		ps->i += d == '=';
		break;
	case '=':
		if (d == '=') {
			ps->t.kind = T_EQ;
			ps->i++;
			break;
		}
		error_at(ps, i, 1, "'=' is not an operator here: use '==' to compare");
		ps->t.kind = T_ERR;
		break;
	case '!':
		if (d == '=') {
			ps->t.kind = T_NE;
			ps->i++;
			break;
		}
		error_at(ps, i, 1, "unexpected '!': use 'not' for negation, '!=' for inequality");
		ps->t.kind = T_ERR;
		break;
	case '&':
	case '|':
		if (d == c)
			error_at(ps, i, 2, "unexpected '%c%c': use '%s'", c, c, c == '&' ? "and" : "or");
		else
			error_at(ps, i, 1, "unexpected '%c'", c);
		ps->t.kind = T_ERR;
		break;
	case '"':
	case '\'':
		lex_string(ps, i);
		break;
	case '?':
		if (!is_alpha(d)) {
			error_at(ps, i, 1, "expected a variable name after '?'");
			ps->t.kind = T_ERR;
			break;
		}
		ps->t.kind = T_VAR;
		ps->i = name_end(s, n, i + 1);
		break;
	default:
		if (is_digit(c) || (c == '.' && is_digit(d))) {
			if (c == '.') {
				error_at(ps, i, 1, "a number must start with a digit: write 0.%c...", d);
				ps->t.kind = T_ERR;
				break;
			}
			lex_number(ps, i);
		} else if (is_alpha(c)) {
			ps->t.kind = T_NAME;
			ps->i = name_end(s, n, i);
		} else {
			unsigned char u = (unsigned char)c;
			if (u >= 0x21 && u < 0x7f)
				error_at(ps, i, 1, "unexpected character '%c'", c);
			else
				error_at(ps, i, 1, "unexpected byte 0x%02x", u);
			ps->t.kind = T_ERR;
		}
		break;
	}
	ps->t.len = ps->i - i;
}

static int tok_is(const parser *ps, const char *word)
{
	size_t len = strlen(word);
	return ps->t.kind == T_NAME && ps->t.len == len && memcmp(ps->s + ps->t.off, word, len) == 0;
}

/* ============================================================================================
 * Parser
 * ============================================================================================ */

static fx_expr *node(parser *ps, fx_expr_kind kind, size_t off, uint32_t nargs)
{
	fx_expr *e = fx_arena_alloc(ps->p->arena, sizeof *e);
	if (e && nargs) {
		e->args = fx_arena_alloc(ps->p->arena, nargs * sizeof *e->args);
		if (!e->args)
			e = NULL;
	}
	if (!e) {
		oom(ps);
		return NULL;
	}
	e->kind = kind;
	e->pos = pos_at(ps, off);
	e->nargs = nargs;
	return e;
}

static size_t node_off(const parser *ps, const fx_expr *e)
{
	return ps->pos.col ? e->pos.col - ps->pos.col : 0;
}

/* Replace a call or logic node by its value when its operands are all constants and it
 * evaluates without error. */
static void fold(parser *ps, fx_expr *e)
{
	for (uint32_t i = 0; i < e->nargs; i++)
		if (e->args[i]->kind != FX_X_CONST)
			return;
	fx_val v;
	if (fx_expr_eval(&ps->fold, e, &v) == 0) {
		e->kind = FX_X_CONST;
		e->val = v;
		e->fn = NULL;
		e->args = NULL;
		e->nargs = 0;
	}
}

/* Height of the tree under a new node with these children; an error past MAX_HEIGHT. */
static int check_height(parser *ps, size_t off, unsigned *h, unsigned a, unsigned b)
{
	*h = (a > b ? a : b) + 1;
	if (*h > MAX_HEIGHT) {
		error_at(ps, off, 1, "expression nested too deeply (more than %d levels)", MAX_HEIGHT);
		return -1;
	}
	return 0;
}

static fx_expr *binary(parser *ps, fx_expr_kind kind, const fx_func *fn, fx_expr *l, fx_expr *r,
                       unsigned *h, unsigned hl, unsigned hr)
{
	size_t off = node_off(ps, l);
	if (check_height(ps, off, h, hl, hr) < 0)
		return NULL;
	fx_expr *e = node(ps, kind, off, 2);
	if (!e)
		return NULL;
	e->fn = fn;
	e->args[0] = l;
	e->args[1] = r;
	fold(ps, e);
	if (e->kind == FX_X_CONST)
		*h = 1;
	return e;
}

static fx_expr *unary(parser *ps, fx_expr_kind kind, const fx_func *fn, size_t off, fx_expr *a,
                      unsigned *h, unsigned ha)
{
	if (check_height(ps, off, h, ha, 0) < 0)
		return NULL;
	fx_expr *e = node(ps, kind, off, 1);
	if (!e)
		return NULL;
	e->fn = fn;
	e->args[0] = a;
	fold(ps, e);
	if (e->kind == FX_X_CONST)
		*h = 1;
	return e;
}

static fx_expr *parse_or(parser *ps, unsigned *h);

static int enter(parser *ps)
{
	if (++ps->depth > MAX_HEIGHT) {
		error_at(ps, ps->t.off, 1, "expression nested too deeply (more than %d levels)",
		         MAX_HEIGHT);
		return -1;
	}
	return 0;
}

static void expected_expr(parser *ps)
{
	if (ps->t.kind == T_ERR)
		return;
	fx_buf b;
	fx_buf_init(&b);
	error_at(ps, ps->t.off, ps->t.len, "expected an expression, found %s",
	         describe(ps, &ps->t, &b));
	fx_buf_dispose(&b);
}

static fx_expr *constant(parser *ps, fx_val v, size_t off)
{
	fx_expr *e = node(ps, FX_X_CONST, off, 0);
	if (e)
		e->val = v;
	return e;
}

static fx_expr *text_constant(parser *ps, fx_type type, const char *s, size_t len, size_t off)
{
	const fx_atom *a = fx_atoms_intern(ps->p->atoms, s, len);
	if (!a) {
		oom(ps);
		return NULL;
	}
	return constant(ps, fx_val_atom(type, a), off);
}

/* A string token: '...' is taken as written; "..." understands \" \\ \n \t \r and \xNN (the
 * last two so that anything fx_val_format prints reads back). */
static fx_expr *string_constant(parser *ps)
{
	const char *s = ps->s + ps->t.off;
	size_t len = ps->t.len;
	if (s[0] == '\'')
		return text_constant(ps, FX_STRING, s + 1, len - 2, ps->t.off);
	fx_buf *b = &ps->tmp;
	fx_buf_clear(b);
	for (size_t i = 1; i + 1 < len; i++) {
		char c = s[i];
		if (c != '\\') {
			fx_buf_putc(b, c);
			continue;
		}
		char e = s[++i];
		switch (e) {
		case '"': case '\\': case '\'': fx_buf_putc(b, e); break;
		case 'n': fx_buf_putc(b, '\n'); break;
		case 't': fx_buf_putc(b, '\t'); break;
		case 'r': fx_buf_putc(b, '\r'); break;
		case 'x': {
			int hi = i + 1 < len - 1 ? fx_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < len - 1 ? fx_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				error_at(ps, ps->t.off + i - 1, 2,
				         "'\\x' must be followed by two hexadecimal digits");
				return NULL;
			}
			fx_buf_putc(b, (char)(hi * 16 + lo));
			i += 2;
			break;
		}
		default:
			if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7f)
				error_at(ps, ps->t.off + i - 1, 2,
				         "unknown escape '\\%c' in string (use \\\\ for a backslash)", e);
			else
				error_at(ps, ps->t.off + i - 1, 2, "unknown escape in string");
			return NULL;
		}
	}
	if (b->oom) {
		oom(ps);
		return NULL;
	}
	return text_constant(ps, FX_STRING, b->data ? b->data : "", b->len, ps->t.off);
}

/* An integer literal, negated when it follows a unary minus (so INT64_MIN can be written). */
static fx_expr *int_constant(parser *ps, int neg, size_t off)
{
	const char *s = ps->s + ps->t.off;
	int64_t v = 0;
	for (size_t i = 0; i < ps->t.len; i++) {
		int d = s[i] - '0';
		if (__builtin_mul_overflow(v, 10, &v) ||
		    (neg ? __builtin_sub_overflow(v, d, &v) : __builtin_add_overflow(v, d, &v))) {
			error_at(ps, off, ps->t.off + ps->t.len - off,
			         "integer constant out of range (a 64-bit integer is at most "
			         "9223372036854775807)");
			return NULL;
		}
	}
	return constant(ps, fx_val_int(v), off);
}

static fx_expr *float_constant(parser *ps)
{
	fx_buf_clear(&ps->tmp);
	fx_buf_append(&ps->tmp, ps->s + ps->t.off, ps->t.len);
	if (ps->tmp.oom) {
		oom(ps);
		return NULL;
	}
	double f = strtod(ps->tmp.data, NULL);
	if (isinf(f)) {
		error_at(ps, ps->t.off, ps->t.len, "float constant out of range");
		return NULL;
	}
	return constant(ps, fx_val_float(f), ps->t.off);
}

static fx_expr *variable(parser *ps)
{
	const char *name = ps->s + ps->t.off + 1;
	size_t len = ps->t.len - 1;
	if (!ps->p->resolve) {
		error_at(ps, ps->t.off, ps->t.len, "variables cannot be used here");
		return NULL;
	}
	int32_t id = ps->p->resolve(ps->p->ud, name, len, pos_at(ps, ps->t.off));
	if (id < 0) {
		ps->failed = 1; /* the resolver reported it */
		return NULL;
	}
	fx_expr *e = node(ps, FX_X_VAR, ps->t.off, 0);
	if (e)
		e->var = (uint32_t)id;
	return e;
}

static void arity_error(parser *ps, const fx_func *fn, size_t off, size_t span, uint32_t got)
{
	if (fn->max_args < 0)
		error_at(ps, off, span,
		         "wrong number of arguments to %s: expected at least %d, got %u",
		         fn->name, fn->min_args, got);
	else if (fn->min_args == fn->max_args)
		error_at(ps, off, span, "wrong number of arguments to %s: expected %d, got %u",
		         fn->name, fn->min_args, got);
	else
		error_at(ps, off, span, "wrong number of arguments to %s: expected %d to %d, got %u",
		         fn->name, fn->min_args, fn->max_args, got);
}

/* call := NAME "(" [ expr ( "," expr )* ] ")"   (the current token is the '(') */
static fx_expr *call(parser *ps, size_t name_off, size_t name_len, unsigned *h)
{
	const fx_func *fn = lookup(functions, NELEM(functions), ps->s + name_off, name_len);
	if (!fn) {
		error_at(ps, name_off, name_len, "unknown function '%.*s'", (int)name_len,
		         ps->s + name_off);
		return NULL;
	}
	fx_vec args;
	fx_vec_init(&args);
	fx_expr *e = NULL;
	unsigned hmax = 0;
	if (enter(ps) < 0)
		return NULL;
	next(ps);
	if (ps->t.kind != T_RP) {
		for (;;) {
			unsigned ha;
			fx_expr *a = parse_or(ps, &ha);
			if (!a)
				goto done;
			if (ha > hmax)
				hmax = ha;
			if (args.len == MAX_ARGS) {
				error_at(ps, node_off(ps, a), 1, "too many arguments to %s (at most %d)",
				         fn->name, MAX_ARGS);
				goto done;
			}
			if (fx_vec_push(&args, a) < 0) {
				oom(ps);
				goto done;
			}
			if (ps->t.kind == T_COMMA) {
				next(ps);
				continue;
			}
			if (ps->t.kind == T_RP)
				break;
			if (ps->t.kind != T_ERR)
				error_at(ps, ps->t.off, ps->t.len, "expected ')' after arguments of %s",
				         fn->name);
			goto done;
		}
	}
	size_t end = ps->t.off + 1;
	uint32_t nargs = (uint32_t)args.len;
	if ((int)nargs < fn->min_args || (fn->max_args >= 0 && (int)nargs > fn->max_args)) {
		arity_error(ps, fn, name_off, end - name_off, nargs);
		goto done;
	}
	if (check_height(ps, name_off, h, hmax, 0) < 0)
		goto done;
	e = node(ps, FX_X_CALL, name_off, nargs);
	if (!e)
		goto done;
	e->fn = fn;
	for (uint32_t i = 0; i < nargs; i++)
		e->args[i] = args.items[i];
	next(ps);
	fold(ps, e);
	if (e->kind == FX_X_CONST)
		*h = 1;
done:
	ps->depth--;
	fx_vec_dispose(&args);
	return ps->failed ? NULL : e;
}

/* primary := INTEGER | FLOAT | STRING | "?"NAME | NAME "(" [ expr ( "," expr )* ] ")"
 *          | "true" | "false" | NAME | "(" expr ")" */
static fx_expr *parse_primary(parser *ps, unsigned *h)
{
	fx_expr *e = NULL;
	*h = 1;
	switch (ps->t.kind) {
	case T_INT:
		e = int_constant(ps, 0, ps->t.off);
		break;
	case T_FLOAT:
		e = float_constant(ps);
		break;
	case T_STR:
		e = string_constant(ps);
		break;
	case T_VAR:
		e = variable(ps);
		break;
	case T_NAME: {
		size_t off = ps->t.off, len = ps->t.len;
		if (tok_is(ps, "and") || tok_is(ps, "or") || tok_is(ps, "not")) {
			expected_expr(ps);
			return NULL;
		}
		int is_true = tok_is(ps, "true"), is_false = tok_is(ps, "false");
		next(ps);
		if (ps->t.kind == T_LP)
			return call(ps, off, len, h);
		if (ps->t.kind == T_ERR)
			return NULL;
		if (is_true || is_false)
			return constant(ps, fx_val_bool(is_true), off);
		return text_constant(ps, FX_SYMBOL, ps->s + off, len, off);
	}
	case T_LP: {
		size_t open = ps->t.off;
		if (enter(ps) < 0)
			return NULL;
		next(ps);
		e = parse_or(ps, h);
		ps->depth--;
		if (!e)
			return NULL;
		if (ps->t.kind != T_RP) {
			if (ps->t.kind != T_ERR) {
				fx_buf b;
				fx_buf_init(&b);
				error_at(ps, ps->t.off, ps->t.len,
				         "expected ')' to close the '(' at column %u, found %s",
				         (unsigned)pos_at(ps, open).col, describe(ps, &ps->t, &b));
				fx_buf_dispose(&b);
			}
			return NULL;
		}
		break;
	}
	default:
		expected_expr(ps);
		return NULL;
	}
	if (!e)
		return NULL;
	next(ps);
	return ps->failed ? NULL : e;
}

/* unary := "-" unary | primary */
static fx_expr *parse_unary(parser *ps, unsigned *h)
{
	if (ps->t.kind != T_MINUS)
		return parse_primary(ps, h);
	size_t off = ps->t.off;
	next(ps);
	if (ps->t.kind == T_INT) {
		fx_expr *e = int_constant(ps, 1, off);
		*h = 1;
		if (e)
			next(ps);
		return ps->failed ? NULL : e;
	}
	if (enter(ps) < 0)
		return NULL;
	unsigned ha;
	fx_expr *a = parse_unary(ps, &ha);
	ps->depth--;
	if (!a)
		return NULL;
	return unary(ps, FX_X_CALL, &operators[OP_NEG], off, a, h, ha);
}

/* mul := unary ( ( "*" | "/" | "%" ) unary )* */
static fx_expr *parse_mul(parser *ps, unsigned *h)
{
	fx_expr *l = parse_unary(ps, h);
	while (l && (ps->t.kind == T_STAR || ps->t.kind == T_SLASH || ps->t.kind == T_PCT)) {
		int op = ps->t.kind == T_STAR ? OP_MUL : ps->t.kind == T_SLASH ? OP_DIV : OP_MOD;
		next(ps);
		unsigned hr;
		fx_expr *r = parse_unary(ps, &hr);
		if (!r)
			return NULL;
		l = binary(ps, FX_X_CALL, &operators[op], l, r, h, *h, hr);
	}
	return l;
}

/* add := mul ( ( "+" | "-" ) mul )* */
static fx_expr *parse_add(parser *ps, unsigned *h)
{
	fx_expr *l = parse_mul(ps, h);
	while (l && (ps->t.kind == T_PLUS || ps->t.kind == T_MINUS)) {
		int op = ps->t.kind == T_PLUS ? OP_ADD : OP_SUB;
		next(ps);
		unsigned hr;
		fx_expr *r = parse_mul(ps, &hr);
		if (!r)
			return NULL;
		l = binary(ps, FX_X_CALL, &operators[op], l, r, h, *h, hr);
	}
	return l;
}

static int cmp_op(tok_kind k)
{
	switch (k) {
	case T_EQ: return OP_EQ;
	case T_NE: return OP_NE;
	case T_LT: return OP_LT;
	case T_LE: return OP_LE;
	case T_GT: return OP_GT;
	case T_GE: return OP_GE;
	default: return -1;
	}
}

/* cmp := add ( ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) add )? */
static fx_expr *parse_cmp(parser *ps, unsigned *h)
{
	fx_expr *l = parse_add(ps, h);
	int op = l ? cmp_op(ps->t.kind) : -1;
	if (op < 0)
		return l;
	next(ps);
	unsigned hr;
	fx_expr *r = parse_add(ps, &hr);
	if (!r)
		return NULL;
	if (cmp_op(ps->t.kind) >= 0) {
		error_at(ps, ps->t.off, ps->t.len,
		         "comparisons cannot be chained: join them with 'and'");
		return NULL;
	}
	return binary(ps, FX_X_CALL, &operators[op], l, r, h, *h, hr);
}

/* not := "not" not | cmp */
static fx_expr *parse_not(parser *ps, unsigned *h)
{
	if (!tok_is(ps, "not"))
		return parse_cmp(ps, h);
	size_t off = ps->t.off;
	next(ps);
	if (enter(ps) < 0)
		return NULL;
	unsigned ha;
	fx_expr *a = parse_not(ps, &ha);
	ps->depth--;
	if (!a)
		return NULL;
	return unary(ps, FX_X_NOT, NULL, off, a, h, ha);
}

/* and := not ( "and" not )* */
static fx_expr *parse_and(parser *ps, unsigned *h)
{
	fx_expr *l = parse_not(ps, h);
	while (l && tok_is(ps, "and")) {
		next(ps);
		unsigned hr;
		fx_expr *r = parse_not(ps, &hr);
		if (!r)
			return NULL;
		l = binary(ps, FX_X_AND, NULL, l, r, h, *h, hr);
	}
	return l;
}

/* expr := or;  or := and ( "or" and )* */
static fx_expr *parse_or(parser *ps, unsigned *h)
{
	fx_expr *l = parse_and(ps, h);
	while (l && tok_is(ps, "or")) {
		next(ps);
		unsigned hr;
		fx_expr *r = parse_and(ps, &hr);
		if (!r)
			return NULL;
		l = binary(ps, FX_X_OR, NULL, l, r, h, *h, hr);
	}
	return l;
}

fx_expr *fx_expr_parse(fx_expr_parser *p, const char *text, size_t len, fx_pos pos)
{
	parser ps;
	memset(&ps, 0, sizeof ps);
	ps.p = p;
	ps.s = text ? text : "";
	ps.n = text ? len : 0;
	ps.pos = pos;
	ps.fold.atoms = p->atoms;
	fx_buf_init(&ps.fold.scratch);
	fx_buf_init(&ps.tmp);

	next(&ps);
	unsigned h;
	fx_expr *e = NULL;
	if (ps.t.kind == T_EOF)
		error_at(&ps, 0, 1, "empty expression");
	else if (ps.t.kind != T_ERR)
		e = parse_or(&ps, &h);
	if (e && ps.t.kind != T_EOF && ps.t.kind != T_ERR) {
		fx_buf b;
		fx_buf_init(&b);
		const char *what = describe(&ps, &ps.t, &b);
		if (ps.t.kind == T_RP)
			error_at(&ps, ps.t.off, ps.t.len, "unmatched ')'");
		else if (ps.t.kind == T_LP)
			error_at(&ps, ps.t.off, ps.t.len, "unexpected '(': only functions can be called");
		else
			error_at(&ps, ps.t.off, ps.t.len, "expected an operator or the end, found %s", what);
		fx_buf_dispose(&b);
	}
	fx_buf_dispose(&ps.fold.scratch);
	fx_buf_dispose(&ps.tmp);
	return ps.failed ? NULL : e;
}

/* ============================================================================================
 * Formatting back to text
 * ============================================================================================ */

/* Precedence levels, higher binds tighter. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

static int op_index(const fx_expr *e)
{
	if (e->kind != FX_X_CALL || e->fn < operators || e->fn >= operators + NELEM(operators))
		return -1;
	return (int)(e->fn - operators);
}

static int prec(const fx_expr *e)
{
	switch (e->kind) {
	case FX_X_OR: return P_OR;
	case FX_X_AND: return P_AND;
	case FX_X_NOT: return P_NOT;
	case FX_X_CONST:
		if ((e->val.type == FX_INTEGER && e->val.u.i < 0) ||
		    (e->val.type == FX_FLOAT && signbit(e->val.u.f)))
			return P_UNARY;
		return P_PRIMARY;
	case FX_X_VAR: return P_PRIMARY;
	case FX_X_CALL: break;
	}
	int op = op_index(e);
	if (op < 0)
		return P_PRIMARY;
	if (op == OP_NEG)
		return P_UNARY;
	if (op <= OP_SUB)
		return P_ADD;
	if (op <= OP_MOD)
		return P_MUL;
	return P_CMP;
}

/* Would this symbol read back as the same symbol when written bare? */
static int bare_symbol(const fx_atom *a)
{
	if (a->len == 0 || !is_alpha((unsigned char)a->text[0]))
		return 0;
	if (name_end(a->text, a->len, 0) != a->len)
		return 0;
	static const char *const words[] = { "and", "or", "not", "true", "false" };
	for (size_t i = 0; i < NELEM(words); i++)
		if (strcmp(a->text, words[i]) == 0)
			return 0;
	return 1;
}

static void format(fx_buf *b, const fx_expr *e, const fx_rule_def *rule, int min_prec);

static void format_const(fx_buf *b, fx_val v)
{
	if (v.type == FX_SYMBOL && !bare_symbol(v.u.a)) {
		fx_buf_puts(b, "symbol(");
		fx_val_format(b, fx_val_atom(FX_STRING, v.u.a), 1);
		fx_buf_putc(b, ')');
	} else {
		fx_val_format(b, v, 1);
	}
}

static void format(fx_buf *b, const fx_expr *e, const fx_rule_def *rule, int min_prec)
{
	int p = prec(e);
	int paren = p < min_prec;
	if (paren)
		fx_buf_putc(b, '(');
	switch (e->kind) {
	case FX_X_CONST:
		format_const(b, e->val);
		break;
	case FX_X_VAR:
		if (rule && e->var < rule->nvars && rule->vars[e->var].name)
			fx_buf_printf(b, "?%s", rule->vars[e->var].name);
		else
			fx_buf_printf(b, "?_%u", (unsigned)e->var);
		break;
	case FX_X_NOT:
		fx_buf_puts(b, "not ");
		format(b, e->args[0], rule, P_NOT);
		break;
	case FX_X_AND:
	case FX_X_OR:
		format(b, e->args[0], rule, p);
		fx_buf_puts(b, e->kind == FX_X_AND ? " and " : " or ");
		format(b, e->args[1], rule, p + 1);
		break;
	case FX_X_CALL:
		if (op_index(e) == OP_NEG) {
			/* "- -x" rather than "-(-x)": parentheses would cost the parser a level. */
			fx_buf_puts(b, prec(e->args[0]) == P_UNARY ? "- " : "-");
			format(b, e->args[0], rule, P_UNARY);
		} else if (op_index(e) >= 0) {
			/* Left-associative, except comparisons which do not associate at all. */
			format(b, e->args[0], rule, p == P_CMP ? p + 1 : p);
			fx_buf_printf(b, " %s ", e->fn->name);
			format(b, e->args[1], rule, p + 1);
		} else {
			fx_buf_printf(b, "%s(", e->fn->name);
			for (uint32_t i = 0; i < e->nargs; i++) {
				if (i)
					fx_buf_puts(b, ", ");
				format(b, e->args[i], rule, P_OR);
			}
			fx_buf_putc(b, ')');
		}
		break;
	}
	if (paren)
		fx_buf_putc(b, ')');
}

void fx_expr_format(fx_buf *b, const fx_expr *e, const fx_rule_def *rule)
{
	format(b, e, rule, P_OR);
}
