/* value.h: the engine's values and the atom tables that intern symbols and strings.
 * Every symbol or string text lives once in an atom table, so equality is a pointer compare
 * and hashing is free. A kb's table is frozen after loading; each session adds its own table
 * on top for texts created at run time (lookups try the kb's first). */
#ifndef FX_VALUE_H
#define FX_VALUE_H

#include <stdint.h>
#include <stddef.h>
#include "fixit.h"

/* An interned text. */
typedef struct fx_atom {
	uint32_t hash;       /* hash of the bytes */
	uint32_t len;        /* byte length (texts are NUL-terminated too) */
	char text[];
} fx_atom;

/* A value inside the engine: 16 bytes. type is an fx_type. */
typedef struct fx_val {
	uint32_t type;
	union {
		int64_t i;
		double f;
		int b;
		const fx_atom *a; /* FX_SYMBOL and FX_STRING */
	} u;
} fx_val;

typedef struct fx_atoms {
	const struct fx_atoms *parent; /* consulted first, never modified through us */
	fx_atom **slots;               /* open addressing, power-of-two capacity */
	size_t cap, count;
	size_t bytes;                  /* text bytes held, for statistics and limits */
} fx_atoms;

void fx_atoms_init(fx_atoms *t, const fx_atoms *parent);
void fx_atoms_dispose(fx_atoms *t);
/* Intern text[0..len); NULL when out of memory. */
const fx_atom *fx_atoms_intern(fx_atoms *t, const char *text, size_t len);
/* Find without inserting; NULL when absent. */
const fx_atom *fx_atoms_find(const fx_atoms *t, const char *text, size_t len);

uint32_t fx_hash_bytes(const void *p, size_t len);

static inline fx_val fx_val_nil(void) { fx_val v; v.type = FX_NIL; v.u.i = 0; return v; }
static inline fx_val fx_val_int(int64_t i) { fx_val v; v.type = FX_INTEGER; v.u.i = i; return v; }
static inline fx_val fx_val_float(double f) { fx_val v; v.type = FX_FLOAT; v.u.f = f; return v; }
static inline fx_val fx_val_bool(int b) { fx_val v; v.type = FX_BOOLEAN; v.u.i = 0; v.u.b = !!b; return v; }
static inline fx_val fx_val_atom(fx_type t, const fx_atom *a) { fx_val v; v.type = t; v.u.a = a; return v; }

/* Exact equality, as used for joins and fact identity: same type and same value
 * (integers and floats are not equal to each other here; 1 and 1.0 differ). */
int fx_val_eq(fx_val a, fx_val b);
/* Hash consistent with fx_val_eq. */
uint32_t fx_val_hash(fx_val v);
/* Ordering for <, <= ...: numbers compare numerically across int and float; texts compare
 * bytewise. Returns -1, 0, 1, or 2 when the two cannot be ordered (different kinds). */
int fx_val_cmp(fx_val a, fx_val b);
/* Numeric equality across int and float, text equality otherwise (used by == and !=). */
int fx_val_equal_loose(fx_val a, fx_val b);
/* Truth of a value in a test: false for FX_NIL, boolean false, symbol `false`; true otherwise. */
int fx_val_truthy(fx_val v);

/* Append a printable form of v to a growing buffer: symbols and numbers bare, strings quoted
 * with escapes when quote is set. */
struct fx_buf;
void fx_val_format(struct fx_buf *b, fx_val v, int quote);

/* Conversions to and from the public fx_value. */
fx_value fx_val_public(fx_val v);
int fx_val_from_public(fx_atoms *t, const fx_value *in, fx_val *out);

const char *fx_type_name(fx_type t);

/* Strict decimal parsing, shared by rule files and text captures (no spaces, no hex, no inf):
 * fx_parse_int: [+-]digits; fx_parse_float: [+-]digits[.digits][(e|E)[+-]digits].
 * 1 parsed, 0 not that shape, 2 out of range (64 bits / a finite double); FX_ENOMEM. */
int fx_parse_int(const char *s, size_t len, int64_t *out);
int fx_parse_float(const char *s, size_t len, double *out);
/* Text t[0, len) as a value of type `type`, by the rules of rule files (numbers as fx_parse_*,
 * booleans true / false, symbols and strings interned in atoms): what text captures and facts
 * written as text share. 0; FX_ETYPE with *why (may be NULL) naming what was expected;
 * FX_ENOMEM. */
int fx_val_from_text(fx_atoms *atoms, fx_type type, const char *t, size_t len, fx_val *out,
                     const char **why);
/* The value of a hexadecimal digit (0-9, a-f, A-F), or -1: for the escapes of expression
 * strings and regexes. */
int fx_hex_digit(int c);

#endif
