/* value.c: the atom tables that intern symbol and string texts, the operations on engine values
 * (equality, hashing, ordering, truth, printing) and the conversions to and from the public
 * fx_value. Equality and hashing sit on the hottest path of matching: keep them branch-light. */
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* --- Hashing ----------------------------------------------------------------------------------
 * Texts are hashed a 64-bit word at a time (multiply, rotate, xor), then the state goes through
 * a strong finaliser so that every input bit affects every output bit, and is folded to 32 bits.
 * The hash is only used inside one process, so reading words in native byte order is fine. */

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full
#define K3 0xd6e8feb86659fd93ull

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t finish64(uint64_t x)
{
	x ^= x >> 32;
	x *= K3;
	x ^= x >> 29;
	x *= K3;
	x ^= x >> 32;
	return x;
}

static inline uint32_t fold32(uint64_t x)
{
	return (uint32_t)(x ^ (x >> 32));
}

uint32_t fx_hash_bytes(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = K1 ^ ((uint64_t)len * K2);
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = rotl64(h ^ (w * K1), 29) * K2;
		s += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		memcpy(&w, s, len);
		h = rotl64(h ^ (w * K1), 29) * K2;
	}
	return fold32(finish64(h));
}

/* --- Atom tables ------------------------------------------------------------------------------
 * Open addressing with linear probing over a power-of-two array of atom pointers, grown at 70%
 * load. Atoms are never removed, so there are no tombstones. Each atom is its own allocation,
 * owned by the table that created it; a lookup consults the parent chain first so that a text
 * known to the kb is never duplicated in a session's table, which keeps "same text" equal to
 * "same pointer" across the two. */

#define ATOMS_MIN_CAP 64

void fx_atoms_init(fx_atoms *t, const fx_atoms *parent)
{
	t->parent = parent;
	t->slots = NULL;
	t->cap = t->count = 0;
	t->bytes = 0;
}

void fx_atoms_dispose(fx_atoms *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->count = 0;
	t->bytes = 0;
}

/* The slot holding text, or the empty slot where it would go. Requires cap > 0. */
static size_t probe(const fx_atoms *t, const char *text, size_t len, uint32_t h)
{
	size_t mask = t->cap - 1;
	size_t i = h & mask;
	for (;;) {
		const fx_atom *a = t->slots[i];
		if (!a || (a->hash == h && a->len == len && memcmp(a->text, text, len) == 0))
			return i;
		i = (i + 1) & mask;
	}
}

static const fx_atom *find_local(const fx_atoms *t, const char *text, size_t len, uint32_t h)
{
	if (!t->cap)
		return NULL;
	return t->slots[probe(t, text, len, h)];
}

static const fx_atom *find_hashed(const fx_atoms *t, const char *text, size_t len, uint32_t h)
{
	for (; t; t = t->parent) {
		const fx_atom *a = find_local(t, text, len, h);
		if (a)
			return a;
	}
	return NULL;
}

const fx_atom *fx_atoms_find(const fx_atoms *t, const char *text, size_t len)
{
	if (len > UINT32_MAX)
		return NULL;
	return find_hashed(t, text, len, fx_hash_bytes(text, len));
}

static int grow(fx_atoms *t)
{
	size_t cap = t->cap ? t->cap * 2 : ATOMS_MIN_CAP;
	if (cap > SIZE_MAX / sizeof(fx_atom *))
		return -1;
	fx_atom **slots = calloc(cap, sizeof(fx_atom *));
	if (!slots)
		return -1;
	size_t mask = cap - 1;
	for (size_t i = 0; i < t->cap; i++) {
		fx_atom *a = t->slots[i];
		if (!a)
			continue;
		size_t j = a->hash & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = a;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

const fx_atom *fx_atoms_intern(fx_atoms *t, const char *text, size_t len)
{
	if (len >= UINT32_MAX)
		return NULL;
	uint32_t h = fx_hash_bytes(text, len);
	if (t->parent) {
		const fx_atom *a = find_hashed(t->parent, text, len, h);
		if (a)
			return a;
	}
	if ((t->count + 1) * 10 > t->cap * 7 && grow(t) < 0)
		return NULL;
	size_t i = probe(t, text, len, h);
	if (t->slots[i])
		return t->slots[i];
	fx_atom *a = malloc(sizeof(fx_atom) + len + 1);
	if (!a)
		return NULL;
	a->hash = h;
	a->len = (uint32_t)len;
	if (len)
		memcpy(a->text, text, len);
	a->text[len] = '\0';
	t->slots[i] = a;
	t->count++;
	t->bytes += len;
	return a;
}

/* --- Values ---------------------------------------------------------------------------------- */

static inline int is_text(uint32_t type)
{
	return type == FX_SYMBOL || type == FX_STRING;
}

static inline int is_num(uint32_t type)
{
	return type == FX_INTEGER || type == FX_FLOAT;
}

/* Floats: -0.0 equals 0.0 as IEEE says, but every NaN equals every NaN, so that equality stays
 * reflexive and a fact holding a NaN can still be found in a hashed memory. */
int fx_val_eq(fx_val a, fx_val b)
{
	if (a.type != b.type)
		return 0;
	switch (a.type) {
	case FX_SYMBOL:
	case FX_STRING:
		return a.u.a == b.u.a;
	case FX_INTEGER:
		return a.u.i == b.u.i;
	case FX_FLOAT:
		return a.u.f == b.u.f || (a.u.f != a.u.f && b.u.f != b.u.f);
	case FX_BOOLEAN:
		return a.u.b == b.u.b;
	default:
		return 1; /* nil */
	}
}

uint32_t fx_val_hash(fx_val v)
{
	uint64_t x;
	switch (v.type) {
	case FX_SYMBOL:
	case FX_STRING:
		return v.u.a->hash ^ v.type;
	case FX_INTEGER:
		x = (uint64_t)v.u.i;
		break;
	case FX_FLOAT:
		if (v.u.f == 0)
			x = 0; /* -0.0 and 0.0 */
		else if (v.u.f != v.u.f)
			x = 0x7ff8000000000000ull; /* every NaN */
		else
			memcpy(&x, &v.u.f, sizeof x);
		break;
	case FX_BOOLEAN:
		x = (uint64_t)v.u.b;
		break;
	default:
		x = 0;
		break;
	}
	return fold32(finish64(x ^ ((uint64_t)v.type << 56)));
}

static int cmp_int_float(int64_t i, double f)
{
	/* Compared exactly: converting i to double could round it. 2^63 as a double is exact. */
	if (f != f)
		return -1; /* NaN sorts after every number */
	if (f >= 9223372036854775808.0)
		return -1;
	if (f < -9223372036854775808.0)
		return 1;
	double t = trunc(f);
	int64_t ti = (int64_t)t;
	if (i != ti)
		return i < ti ? -1 : 1;
	double frac = f - t;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int cmp_float(double a, double b)
{
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	if (a == b)
		return 0;
	/* At least one NaN: NaN sorts after every number and equals itself. */
	int an = a != a, bn = b != b;
	return an == bn ? 0 : an ? 1 : -1;
}

int fx_val_cmp(fx_val a, fx_val b)
{
	if (a.type == FX_INTEGER && b.type == FX_INTEGER)
		return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
	if (is_num(a.type) && is_num(b.type)) {
		if (a.type == FX_FLOAT && b.type == FX_FLOAT)
			return cmp_float(a.u.f, b.u.f);
		if (a.type == FX_INTEGER)
			return cmp_int_float(a.u.i, b.u.f);
		return -cmp_int_float(b.u.i, a.u.f);
	}
	if (is_text(a.type) && is_text(b.type)) {
		if (a.u.a == b.u.a)
			return 0;
		uint32_t la = a.u.a->len, lb = b.u.a->len;
		int c = memcmp(a.u.a->text, b.u.a->text, la < lb ? la : lb);
		if (c)
			return c < 0 ? -1 : 1;
		return la < lb ? -1 : la > lb;
	}
	if (a.type == FX_BOOLEAN && b.type == FX_BOOLEAN)
		return a.u.b < b.u.b ? -1 : a.u.b > b.u.b;
	if (a.type == FX_NIL && b.type == FX_NIL)
		return 0;
	return 2;
}

/* A symbol and a string with the same text share one atom, so text equality across the two
 * kinds is still a pointer compare. */
int fx_val_equal_loose(fx_val a, fx_val b)
{
	if (a.type == b.type && a.type != FX_FLOAT)
		return fx_val_eq(a, b);
	if (is_num(a.type) && is_num(b.type))
		return fx_val_cmp(a, b) == 0;
	if (is_text(a.type) && is_text(b.type))
		return a.u.a == b.u.a;
	return 0;
}

int fx_val_truthy(fx_val v)
{
	switch (v.type) {
	case FX_NIL:
		return 0;
	case FX_BOOLEAN:
		return v.u.b != 0;
	case FX_SYMBOL:
		return !(v.u.a->len == 5 && memcmp(v.u.a->text, "false", 5) == 0);
	default:
		return 1;
	}
}

/* The shortest %g form that reads back as the same double, with ".0" added when it would
 * otherwise read back as an integer. */
static void format_float(fx_buf *b, double f)
{
	char s[40];
	if (isnan(f)) {
		fx_buf_puts(b, "nan");
		return;
	}
	if (isinf(f)) {
		fx_buf_puts(b, f < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, f);
		if (prec == 17 || strtod(s, NULL) == f)
			break;
	}
	fx_buf_puts(b, s);
	if (!strpbrk(s, ".e"))
		fx_buf_puts(b, ".0");
}

static void format_quoted(fx_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	fx_buf_putc(b, '"');
	size_t run = 0; /* start of the pending run of plain bytes */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4];
		size_t n = 2;
		esc[0] = '\\';
		if (c == '"' || c == '\\')
			esc[1] = (char)c;
		else if (c == '\n')
			esc[1] = 'n';
		else if (c == '\t')
			esc[1] = 't';
		else if (c < 0x20 || c == 0x7f) {
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		} else
			continue;
		fx_buf_append(b, s + run, i - run);
		fx_buf_append(b, esc, n);
		run = i + 1;
	}
	fx_buf_append(b, s + run, len - run);
	fx_buf_putc(b, '"');
}

void fx_val_format(fx_buf *b, fx_val v, int quote)
{
	switch (v.type) {
	case FX_SYMBOL:
		fx_buf_append(b, v.u.a->text, v.u.a->len);
		break;
	case FX_STRING:
		if (quote)
			format_quoted(b, v.u.a->text, v.u.a->len);
		else
			fx_buf_append(b, v.u.a->text, v.u.a->len);
		break;
	case FX_INTEGER:
		fx_buf_printf(b, "%lld", (long long)v.u.i);
		break;
	case FX_FLOAT:
		format_float(b, v.u.f);
		break;
	case FX_BOOLEAN:
		fx_buf_puts(b, v.u.b ? "true" : "false");
		break;
	default:
		fx_buf_puts(b, "nil");
		break;
	}
}

fx_value fx_val_public(fx_val v)
{
	fx_value out;
	memset(&out, 0, sizeof out);
	out.type = (fx_type)v.type;
	switch (v.type) {
	case FX_SYMBOL:
	case FX_STRING:
		out.u.text = v.u.a->text;
		out.len = v.u.a->len;
		break;
	case FX_INTEGER:
		out.u.i = v.u.i;
		break;
	case FX_FLOAT:
		out.u.f = v.u.f;
		break;
	case FX_BOOLEAN:
		out.u.b = v.u.b;
		break;
	default:
		out.type = FX_NIL;
		break;
	}
	return out;
}

int fx_val_from_public(fx_atoms *t, const fx_value *in, fx_val *out)
{
	if (!in || !out)
		return FX_EINVAL;
	switch (in->type) {
	case FX_NIL:
		*out = fx_val_nil();
		return 0;
	case FX_SYMBOL:
	case FX_STRING: {
		if (!in->u.text && in->len)
			return FX_EINVAL;
		const fx_atom *a = fx_atoms_intern(t, in->u.text ? in->u.text : "", in->len);
		if (!a)
			return in->len >= UINT32_MAX ? FX_ELIMIT : FX_ENOMEM;
		*out = fx_val_atom(in->type, a);
		return 0;
	}
	case FX_INTEGER:
		*out = fx_val_int(in->u.i);
		return 0;
	case FX_FLOAT:
		*out = fx_val_float(in->u.f);
		return 0;
	case FX_BOOLEAN:
		*out = fx_val_bool(in->u.b);
		return 0;
	default:
		return FX_EINVAL;
	}
}

const char *fx_type_name(fx_type t)
{
	switch (t) {
	case FX_NIL: return "nil";
	case FX_SYMBOL: return "symbol";
	case FX_STRING: return "string";
	case FX_INTEGER: return "integer";
	case FX_FLOAT: return "float";
	case FX_BOOLEAN: return "boolean";
	}
	return "unknown";
}

/* --- Public constructors and library facts (declared in fixit.h) ---------------------------- */

fx_value fx_value_symbol(const char *text)
{
	fx_value v;
	memset(&v, 0, sizeof v);
	v.type = FX_SYMBOL;
	v.u.text = text ? text : "";
	v.len = strlen(v.u.text);
	return v;
}

fx_value fx_value_string(const char *text)
{
	fx_value v = fx_value_symbol(text);
	v.type = FX_STRING;
	return v;
}

fx_value fx_value_integer(int64_t i)
{
	fx_value v;
	memset(&v, 0, sizeof v);
	v.type = FX_INTEGER;
	v.u.i = i;
	return v;
}

fx_value fx_value_float(double f)
{
	fx_value v;
	memset(&v, 0, sizeof v);
	v.type = FX_FLOAT;
	v.u.f = f;
	return v;
}

fx_value fx_value_boolean(int b)
{
	fx_value v;
	memset(&v, 0, sizeof v);
	v.type = FX_BOOLEAN;
	v.u.b = !!b;
	return v;
}

const char *fx_version(void)
{
	return FX_VERSION_STRING;
}

const char *fx_strerror(int code)
{
	switch (code) {
	case FX_OK: return "success";
	case FX_ENOMEM: return "out of memory";
	case FX_EINVAL: return "invalid argument";
	case FX_EIO: return "input/output error";
	case FX_ELOAD: return "the rule files have errors";
	case FX_ENOTFOUND: return "not found";
	case FX_ETYPE: return "wrong type";
	case FX_ELIMIT: return "limit reached";
	case FX_ERUNTIME: return "run-time error in a rule action";
	case FX_EHALT: return "halted";
	}
	return "unknown error";
}

/* --- strict number parsing ------------------------------------------------------------------ */

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

int fx_parse_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == len)
		return 0;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	int over = 0;
	for (; i < len; i++) {
		if (!digit(s[i]))
			return 0;
		unsigned d = (unsigned)(s[i] - '0');
		if (over || v > (lim - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (over)
		return 2;
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 1;
}

int fx_parse_float(const char *s, size_t len, double *out)
{
	size_t i = 0, digits = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && digit(s[i]))
		i++, digits++;
	if (!digits)
		return 0;
	if (i < len && s[i] == '.') {
		size_t f = ++i;
		while (i < len && digit(s[i]))
			i++;
		if (i == f)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t e = i;
		while (i < len && digit(s[i]))
			i++;
		if (i == e)
			return 0;
	}
	if (i != len)
		return 0;
	/* strtod wants a terminated string: copy, on the stack when short. */
	char stack[128];
	char *tmp = len < sizeof stack ? stack : malloc(len + 1);
	if (!tmp)
		return FX_ENOMEM;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	double d = strtod(tmp, NULL);
	if (tmp != stack)
		free(tmp);
	if (isinf(d))
		return 2;
	*out = d;
	return 1;
}

int fx_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fx_val_from_text(fx_atoms *atoms, fx_type type, const char *t, size_t len, fx_val *out,
                     const char **why)
{
	const char *unused;
	int r;

	if (!why)
		why = &unused;
	switch (type) {
	case FX_SYMBOL:
	case FX_STRING: {
		const fx_atom *a = fx_atoms_intern(atoms, t, len);
		if (!a)
			return FX_ENOMEM;
		*out = fx_val_atom(type, a);
		return 0;
	}
	case FX_INTEGER: {
		int64_t i;
		if ((r = fx_parse_int(t, len, &i)) == 1) {
			*out = fx_val_int(i);
			return 0;
		}
		if (r < 0)
			return r;
		*why = r ? "an integer within 64 bits" : "a decimal integer";
		return FX_ETYPE;
	}
	case FX_FLOAT: {
		double d;
		if ((r = fx_parse_float(t, len, &d)) == 1) {
			*out = fx_val_float(d);
			return 0;
		}
		if (r < 0)
			return r;
		*why = r == 2 ? "a number within the range of a double" : "a number";
		return FX_ETYPE;
	}
	case FX_BOOLEAN:
		if (len == 4 && memcmp(t, "true", 4) == 0) {
			*out = fx_val_bool(1);
			return 0;
		}
		if (len == 5 && memcmp(t, "false", 5) == 0) {
			*out = fx_val_bool(0);
			return 0;
		}
		*why = "true or false";
		return FX_ETYPE;
	default:
		*why = "a value of a known type";
		return FX_ETYPE;
	}
}
