/* lint.c: fx_kb_lint, warnings about a knowledge base that loads but is probably not what its
 * author meant (a regex that matches everything or can take exponential time, a rule that can
 * never fire, a remedy or question nothing uses, duplicate patterns, missing explanations).
 * It reads the checked program (ast.h) of a loaded kb and never changes it.
 *
 * How the checks work
 * -------------------
 * regex-empty: the pattern's compiled regex is run on "".
 *
 * regex-backtrack: a backtracking matcher takes exponential time when a repetition can split
 * one text into iterations in exponentially many ways and the match then fails. We read the
 * regex text into a small tree of our own (sets of bytes, sequences, alternatives, groups,
 * quantifiers; what we do not model, such as backreferences, matches "anything, maybe
 * nothing") and look for three shapes under an unbounded, non-possessive quantifier:
 *   - nested: its body can be taken whole by an inner unbounded quantifier, the rest of the
 *     body being optional: (a+)+, (\w+\s?)*;
 *   - overlapping alternatives: two alternatives can start with the same byte: (a|ab?)*;
 *   - adjacent: two unbounded quantifiers in a row (with only optional parts between) that
 *     can match the same byte: (a+a+)+.
 * Each suspect is then confirmed by running the real regex (PCRE2, with the matcher's match
 * limit) on a text built from the tree: a sample of what comes before the quantifier, a
 * repeated sample of its ambiguous part, one byte that makes the match fail, and a sample of
 * what follows (so that PCRE2's "required byte" shortcut does not reject the text before
 * trying). Only a suspect whose run stops at the match limit is reported: the static search
 * is cheap and over-eager, the run is exact but needs the right text.
 *
 * rule-unreachable: templates that some source can produce (text patterns, question
 * answers, initial facts, the user's answer/tried facts, asks) seed a fixpoint: a rule whose
 * positive patterns (top level and inside `exists`) all use produced templates can fire, and
 * then produces the templates it asserts. Rules left out at the end can never fire.
 *
 * The others compare names and examples. Warnings are collected, sorted by file (in load
 * order), line and column, and delivered with the source line quoted.
 */
#include "lint.h"
#include "program.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "expr.h"
#include "kb.h"
#include "regex.h"

/* ============================================================================================
 * A regex as a tree
 * ========================================================================================== */

#define RX_INF UINT32_MAX
#define RX_MAX_DEPTH 200   /* groups inside groups: deeper regexes are not analysed */
#define RX_MAX_NODES 20000 /* likewise for very long ones */

enum {
	RX_SET,   /* one byte of set */
	RX_SEQ,   /* kids in order */
	RX_ALT,   /* one of kids */
	RX_GROUP, /* kids[0]; safe: atomic */
	RX_QUANT, /* kids[0] repeated min..max times; safe: possessive */
	RX_ZERO,  /* matches the empty text (anchors, lookarounds, option settings) */
	RX_ANY    /* not modelled (a backreference): some text, maybe empty */
};

typedef struct rx {
	int kind;
	uint8_t set[32];   /* RX_SET: the bytes it matches, a bit per byte */
	struct rx **kids;  /* RX_SEQ, RX_ALT: the items; RX_GROUP, RX_QUANT: the body */
	size_t nkids;
	uint32_t min, max; /* RX_QUANT: repetitions, max RX_INF when unbounded */
	int safe;          /* no backtracking into it: possessive quantifier or atomic group */
	size_t off;        /* byte offset in the regex where it starts */
} rx;

typedef struct rxp {
	const char *s; /* the regex */
	size_t len, i; /* its length, the reading position */
	unsigned flags; /* FX_RE_* in force here ((?i) changes them) */
	fx_arena *a;    /* nodes */
	int bad;        /* a construct we do not read: give up on this regex */
	int oom;
	int depth;
	size_t nodes;
} rxp;

static void set_add(uint8_t *set, unsigned c)
{
	set[(c & 255u) >> 3] |= (uint8_t)(1u << (c & 7u));
}

static int set_has(const uint8_t *set, unsigned c)
{
	return (set[(c & 255u) >> 3] >> (c & 7u)) & 1u;
}

static void set_range(uint8_t *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi && c < 256; c++)
		set_add(set, c);
}

static void set_invert(uint8_t *set)
{
	for (int i = 0; i < 32; i++)
		set[i] = (uint8_t)~set[i];
}

static void set_union(uint8_t *set, const uint8_t *other)
{
	for (int i = 0; i < 32; i++)
		set[i] |= other[i];
}

static int set_meet(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
	int any = 0;
	for (int i = 0; i < 32; i++) {
		uint8_t m = (uint8_t)(a[i] & b[i]);
		if (out)
			out[i] = m;
		any |= m != 0;
	}
	return any;
}

static int is_upper(unsigned c)
{
	return c >= 'A' && c <= 'Z';
}

/* With (?i), ASCII letters match both cases (byte semantics: no UTF). */
static void set_fold(uint8_t *set)
{
	for (unsigned c = 'a'; c <= 'z'; c++)
		if (set_has(set, c) || set_has(set, c - 32))
			set_add(set, c), set_add(set, c - 32);
}

static rx *rx_new(rxp *p, int kind, size_t off)
{
	if (++p->nodes > RX_MAX_NODES) {
		p->bad = 1;
		return NULL;
	}
	rx *n = fx_arena_alloc(p->a, sizeof *n);
	if (!n) {
		p->oom = 1;
		return NULL;
	}
	n->kind = kind;
	n->off = off;
	return n;
}

static rx *rx_wrap(rxp *p, int kind, size_t off, rx *kid)
{
	rx *n = rx_new(p, kind, off);
	if (!n)
		return NULL;
	n->kids = fx_arena_alloc(p->a, sizeof *n->kids);
	if (!n->kids) {
		p->oom = 1;
		return NULL;
	}
	n->kids[0] = kid;
	n->nkids = 1;
	return n;
}

/* A list of nodes being read (a sequence or the alternatives of a group). */
typedef struct rxlist {
	rx **p;
	size_t n, cap;
} rxlist;

static int list_push(rxp *p, rxlist *l, rx *n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		rx **np = realloc(l->p, cap * sizeof *np);
		if (!np) {
			p->oom = 1;
			return -1;
		}
		l->p = np;
		l->cap = cap;
	}
	l->p[l->n++] = n;
	return 0;
}

/* The node for the list: its only item, or a node of `kind` holding them (moved to the arena).
 * The list is freed. */
static rx *list_node(rxp *p, rxlist *l, int kind, size_t off)
{
	rx *n = NULL;
	if (l->n == 1) {
		n = l->p[0];
	} else if (!p->bad && !p->oom) {
		n = rx_new(p, l->n ? kind : RX_ZERO, off);
		if (n && l->n) {
			n->kids = fx_arena_memdup(p->a, l->p, l->n * sizeof *l->p);
			if (!n->kids)
				p->oom = 1;
			n->nkids = l->n;
		}
	}
	free(l->p);
	l->p = NULL;
	l->n = l->cap = 0;
	return p->bad || p->oom ? NULL : n;
}

static int peek(const rxp *p, size_t k)
{
	return p->i + k < p->len ? (unsigned char)p->s[p->i + k] : -1;
}

/* In extended mode (x), blanks and #-comments between items mean nothing. */
static void skip_extended(rxp *p)
{
	if (!(p->flags & FX_RE_EXTENDED))
		return;
	while (p->i < p->len) {
		int c = peek(p, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			p->i++;
		} else if (c == '#') {
			while (p->i < p->len && p->s[p->i] != '\n')
				p->i++;
		} else {
			break;
		}
	}
}

/* What an escape stands for. */
enum {
	ESC_CHAR,  /* one byte: *c */
	ESC_SET,   /* a class: set */
	ESC_ZERO,  /* an assertion */
	ESC_ANY,   /* a backreference or the like */
	ESC_QUOTE, /* \Q: literal text up to \E follows */
	ESC_BAD
};

static void class_set(int c, uint8_t *set)
{
	memset(set, 0, 32);
	switch (c | 0x20) {
	case 'd':
		set_range(set, '0', '9');
		break;
	case 'w':
		set_range(set, '0', '9');
		set_range(set, 'a', 'z');
		set_range(set, 'A', 'Z');
		set_add(set, '_');
		break;
	case 's':
		set_range(set, '\t', '\r');
		set_add(set, ' ');
		break;
	case 'h':
		set_add(set, ' ');
		set_add(set, '\t');
		set_add(set, 0xa0);
		break;
	case 'v':
		set_range(set, '\n', '\r');
		set_add(set, 0x85);
		break;
	}
	if (is_upper((unsigned)c))
		set_invert(set);
}

/* Read the escape after a backslash (p->i is past it). */
static int read_escape(rxp *p, int in_class, unsigned *ch, uint8_t *set)
{
	if (p->i >= p->len)
		return ESC_BAD;
	int c = (unsigned char)p->s[p->i++];
	*ch = (unsigned)c;
	switch (c) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
	case 'h': case 'H': case 'v': case 'V':
		class_set(c, set);
		return ESC_SET;
	case 'N':
		memset(set, 0xff, 32);
		set[1] &= (uint8_t)~(1u << 2); /* not '\n' */
		return in_class ? ESC_BAD : ESC_SET;
	case 'R':
		memset(set, 0, 32);
		set_range(set, '\n', '\r');
		set_add(set, 0x85);
		return in_class ? ESC_BAD : ESC_SET;
	case 'X': case 'C': case 'p': case 'P':
		/* A Unicode property or cluster: some byte we do not narrow down. */
		if ((c == 'p' || c == 'P') && peek(p, 0) == '{') {
			while (p->i < p->len && p->s[p->i] != '}')
				p->i++;
			p->i++;
		} else if (c == 'p' || c == 'P') {
			p->i++;
		}
		memset(set, 0xff, 32);
		return ESC_SET;
	case 'b':
		if (in_class) {
			*ch = 8;
			return ESC_CHAR;
		}
		return ESC_ZERO;
	case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return in_class ? ESC_BAD : ESC_ZERO;
	case 'E':
		return ESC_ZERO;
	case 'Q':
		return ESC_QUOTE;
	case 'n': *ch = '\n'; return ESC_CHAR;
	case 't': *ch = '\t'; return ESC_CHAR;
	case 'r': *ch = '\r'; return ESC_CHAR;
	case 'f': *ch = '\f'; return ESC_CHAR;
	case 'e': *ch = 27; return ESC_CHAR;
	case 'a': *ch = 7; return ESC_CHAR;
	case 'c':
		if (p->i >= p->len)
			return ESC_BAD;
		*ch = ((unsigned char)p->s[p->i++] & 0xdfu) ^ 0x40u;
		return ESC_CHAR;
	case 'x': {
		unsigned v = 0;
		if (peek(p, 0) == '{') {
			p->i++;
			int n = 0;
			while (p->i < p->len && fx_hex_digit(peek(p, 0)) >= 0 && n < 8)
				v = v * 16 + (unsigned)fx_hex_digit(p->s[p->i++]), n++;
			if (peek(p, 0) != '}')
				return ESC_BAD;
			p->i++;
		} else {
			for (int n = 0; n < 2 && fx_hex_digit(peek(p, 0)) >= 0; n++)
				v = v * 16 + (unsigned)fx_hex_digit(p->s[p->i++]);
		}
		*ch = v & 255u;
		return ESC_CHAR;
	}
	case 'o':
		return ESC_BAD;
	case '0': {
		unsigned v = 0;
		for (int n = 0; n < 2 && peek(p, 0) >= '0' && peek(p, 0) <= '7'; n++)
			v = v * 8 + (unsigned)(p->s[p->i++] - '0');
		*ch = v;
		return ESC_CHAR;
	}
	case 'g': case 'k':
		if (in_class)
			return ESC_BAD;
		/* \g<name> and \g'name' call a group (recursion): not modelled at all. */
		if (c == 'g' && (peek(p, 0) == '<' || peek(p, 0) == '\''))
			return ESC_BAD;
		if (peek(p, 0) == '{' || peek(p, 0) == '<' || peek(p, 0) == '\'') {
			int close = peek(p, 0) == '{' ? '}' : peek(p, 0) == '<' ? '>' : '\'';
			while (p->i < p->len && peek(p, 0) != close)
				p->i++;
			p->i++;
		} else {
			if (peek(p, 0) == '-' || peek(p, 0) == '+')
				p->i++;
			while (peek(p, 0) >= '0' && peek(p, 0) <= '9')
				p->i++;
		}
		return ESC_ANY;
	default:
		if (c >= '1' && c <= '9') {
			if (in_class)
				return ESC_BAD;
			while (peek(p, 0) >= '0' && peek(p, 0) <= '9')
				p->i++;
			return ESC_ANY;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return ESC_BAD; /* an escape PCRE2 gives a meaning we do not know */
		return ESC_CHAR;    /* escaped punctuation stands for itself */
	}
}

static const struct {
	const char *name;
	const char *ranges; /* pairs of bytes */
} posix_classes[] = {
        {"alpha", "azAZ"},   {"digit", "09"},     {"alnum", "azAZ09"}, {"upper", "AZ"},
        {"lower", "az"},     {"space", "\t\r  "}, {"blank", "\t\t  "}, {"xdigit", "09afAF"},
        {"word", "azAZ09__"}, {"punct", "!/:@[`{~"}, {"print", " ~"}, {"graph", "!~"},
        {"cntrl", "\x01\x1f\x7f\x7f"},
};

/* [...], p->i on the '['. */
static rx *read_class(rxp *p)
{
	rx *n = rx_new(p, RX_SET, p->i);
	if (!n)
		return NULL;
	p->i++;
	int neg = 0;
	if (peek(p, 0) == '^') {
		neg = 1;
		p->i++;
	}
	int first = 1;
	while (p->i < p->len && (peek(p, 0) != ']' || first)) {
		first = 0;
		if (peek(p, 0) == '[' && peek(p, 1) == ':') {
			size_t start = p->i + 2, e = start;
			while (e + 1 < p->len && !(p->s[e] == ':' && p->s[e + 1] == ']'))
				e++;
			if (e + 1 >= p->len)
				break;
			int not = p->s[start] == '^';
			size_t nstart = start + (size_t)not;
			uint8_t cs[32];
			memset(cs, 0, sizeof cs);
			int known = 0;
			for (size_t k = 0; k < sizeof posix_classes / sizeof *posix_classes; k++) {
				const char *nm = posix_classes[k].name;
				if (strlen(nm) == e - nstart && memcmp(nm, p->s + nstart, e - nstart) == 0) {
					const char *r = posix_classes[k].ranges;
					for (size_t j = 0; r[j] && r[j + 1]; j += 2)
						set_range(cs, (unsigned char)r[j], (unsigned char)r[j + 1]);
					known = 1;
				}
			}
			if (!known)
				memset(cs, 0xff, sizeof cs);
			if (not)
				set_invert(cs);
			set_union(n->set, cs);
			p->i = e + 2;
			continue;
		}
		unsigned lo;
		uint8_t es[32];
		if (peek(p, 0) == '\\') {
			p->i++;
			int k = read_escape(p, 1, &lo, es);
			if (k == ESC_SET) {
				set_union(n->set, es);
				continue;
			}
			if (k == ESC_ZERO)
				continue;
			if (k != ESC_CHAR) {
				p->bad = 1;
				return NULL;
			}
		} else {
			lo = (unsigned char)p->s[p->i++];
		}
		unsigned hi = lo;
		if (peek(p, 0) == '-' && peek(p, 1) != ']' && peek(p, 1) >= 0) {
			p->i++;
			if (peek(p, 0) == '\\') {
				p->i++;
				if (read_escape(p, 1, &hi, es) != ESC_CHAR) {
					p->bad = 1; /* [a-\d]: PCRE2 reads it oddly; not worth modelling */
					return NULL;
				}
			} else {
				hi = (unsigned char)p->s[p->i++];
			}
		}
		if (hi < lo) {
			p->bad = 1;
			return NULL;
		}
		set_range(n->set, lo, hi);
	}
	if (p->i >= p->len) {
		p->bad = 1;
		return NULL;
	}
	p->i++; /* ']' */
	if (p->flags & FX_RE_CASELESS)
		set_fold(n->set);
	if (neg)
		set_invert(n->set);
	return n;
}

static rx *read_alt(rxp *p);

/* Option letters imsx (and n, ^, -) as in (?i) and (?x-i:...); applies them to p->flags.
 * Returns 0, or -1 when the text is not an option setting. */
static int read_options(rxp *p)
{
	int on = 1;
	while (p->i < p->len) {
		int c = peek(p, 0);
		unsigned f = c == 'i' ? FX_RE_CASELESS
		             : c == 'm' ? FX_RE_MULTILINE
		             : c == 's' ? FX_RE_DOTALL
		             : c == 'x' ? FX_RE_EXTENDED
		                        : 0;
		if (c == '-') {
			on = 0;
		} else if (c == '^') {
			p->flags &= ~(unsigned)(FX_RE_CASELESS | FX_RE_MULTILINE | FX_RE_DOTALL |
			                        FX_RE_EXTENDED);
		} else if (f) {
			if (on)
				p->flags |= f;
			else
				p->flags &= ~f;
		} else if (c == 'n' || c == 'J' || c == 'U') {
			/* no capture, duplicate names, ungreedy: no effect on what can match */
		} else {
			return c == ')' || c == ':' ? 0 : -1;
		}
		p->i++;
	}
	return -1;
}

/* (...), p->i on the '('. */
static rx *read_group(rxp *p)
{
	size_t off = p->i;
	unsigned saved = p->flags;
	int zero = 0, safe = 0;
	p->i++;
	if (peek(p, 0) == '*') {
		p->bad = 1; /* (*VERB) */
		return NULL;
	}
	if (peek(p, 0) == '?') {
		p->i++;
		int c = peek(p, 0);
		if (c == '#') {
			while (p->i < p->len && p->s[p->i] != ')')
				p->i++;
			if (p->i >= p->len) {
				p->bad = 1;
				return NULL;
			}
			p->i++;
			return rx_new(p, RX_ZERO, off);
		} else if (c == ':' || c == '|') {
			p->i++;
		} else if (c == '>') {
			p->i++;
			safe = 1;
		} else if (c == '=' || c == '!') {
			p->i++;
			zero = 1;
		} else if (c == '<' && (peek(p, 1) == '=' || peek(p, 1) == '!')) {
			p->i += 2;
			zero = 1;
		} else if (c == '<' || c == '\'' || (c == 'P' && peek(p, 1) == '<')) {
			int close = c == '\'' ? '\'' : '>';
			while (p->i < p->len && peek(p, 0) != close)
				p->i++;
			p->i++;
		} else if (c == 'P' && peek(p, 1) == '=') {
			while (p->i < p->len && peek(p, 0) != ')')
				p->i++;
			if (p->i >= p->len) {
				p->bad = 1;
				return NULL;
			}
			p->i++;
			return rx_new(p, RX_ANY, off);
		} else {
			if (read_options(p) != 0) {
				p->bad = 1; /* recursion, conditionals, callouts... */
				return NULL;
			}
			if (peek(p, 0) == ')') {
				/* (?i) alone: in force to the end of the enclosing group. */
				p->i++;
				return rx_new(p, RX_ZERO, off);
			}
			p->i++; /* ':' */
		}
	}
	if (++p->depth > RX_MAX_DEPTH) {
		p->bad = 1;
		return NULL;
	}
	rx *body = read_alt(p);
	p->depth--;
	p->flags = saved;
	if (!body)
		return NULL;
	if (peek(p, 0) != ')') {
		p->bad = 1;
		return NULL;
	}
	p->i++;
	if (zero)
		return rx_new(p, RX_ZERO, off);
	rx *g = rx_wrap(p, RX_GROUP, off, body);
	if (g)
		g->safe = safe;
	return g;
}

static rx *literal(rxp *p, unsigned c, size_t off)
{
	rx *n = rx_new(p, RX_SET, off);
	if (!n)
		return NULL;
	set_add(n->set, c);
	if (p->flags & FX_RE_CASELESS)
		set_fold(n->set);
	return n;
}

static rx *read_atom(rxp *p)
{
	size_t off = p->i;
	int c = peek(p, 0);
	switch (c) {
	case '(':
		return read_group(p);
	case '[':
		return read_class(p);
	case '.': {
		p->i++;
		rx *n = rx_new(p, RX_SET, off);
		if (n) {
			memset(n->set, 0xff, sizeof n->set);
			if (!(p->flags & FX_RE_DOTALL))
				n->set['\n' >> 3] &= (uint8_t)~(1u << ('\n' & 7));
		}
		return n;
	}
	case '^':
	case '$':
		p->i++;
		return rx_new(p, RX_ZERO, off);
	case '*': case '+': case '?':
		p->bad = 1; /* a quantifier with nothing to repeat: PCRE2 refused it already */
		return NULL;
	case '\\': {
		p->i++;
		unsigned ch = 0;
		uint8_t set[32];
		int k = read_escape(p, 0, &ch, set);
		if (k == ESC_CHAR)
			return literal(p, ch, off);
		if (k == ESC_SET) {
			rx *n = rx_new(p, RX_SET, off);
			if (n)
				memcpy(n->set, set, sizeof set);
			return n;
		}
		if (k == ESC_ZERO)
			return rx_new(p, RX_ZERO, off);
		if (k == ESC_ANY)
			return rx_new(p, RX_ANY, off);
		if (k == ESC_QUOTE) {
			rxlist l = {0};
			while (p->i < p->len && !(peek(p, 0) == '\\' && peek(p, 1) == 'E')) {
				rx *lit = literal(p, (unsigned char)p->s[p->i], p->i);
				p->i++;
				if (!lit || list_push(p, &l, lit) != 0)
					break;
			}
			if (p->i < p->len)
				p->i += 2;
			return list_node(p, &l, RX_SEQ, off);
		}
		p->bad = 1;
		return NULL;
	}
	default:
		p->i++;
		return literal(p, (unsigned)c, off);
	}
}

/* {n}, {n,}, {n,m} at p->i: 1 and the bounds, or 0 (then '{' is a literal). */
static int read_braces(rxp *p, uint32_t *min, uint32_t *max)
{
	size_t k = p->i + 1;
	uint64_t a = 0, b = 0;
	int da = 0, db = 0, comma = 0;
	while (k < p->len && p->s[k] >= '0' && p->s[k] <= '9' && da < 9)
		a = a * 10 + (uint64_t)(p->s[k++] - '0'), da++;
	if (k < p->len && p->s[k] == ',') {
		comma = 1;
		k++;
		while (k < p->len && p->s[k] >= '0' && p->s[k] <= '9' && db < 9)
			b = b * 10 + (uint64_t)(p->s[k++] - '0'), db++;
	}
	if (!da || k >= p->len || p->s[k] != '}')
		return 0;
	*min = (uint32_t)a;
	*max = !comma ? (uint32_t)a : db ? (uint32_t)b : RX_INF;
	p->i = k + 1;
	return 1;
}

static rx *read_quant(rxp *p, rx *atom)
{
	skip_extended(p);
	size_t off = atom->off;
	uint32_t min, max;
	int c = peek(p, 0);
	if (c == '*') {
		min = 0, max = RX_INF;
		p->i++;
	} else if (c == '+') {
		min = 1, max = RX_INF;
		p->i++;
	} else if (c == '?') {
		min = 0, max = 1;
		p->i++;
	} else if (c == '{' && read_braces(p, &min, &max)) {
		/* read */
	} else {
		return atom;
	}
	rx *q = rx_wrap(p, RX_QUANT, off, atom);
	if (!q)
		return NULL;
	q->min = min;
	q->max = max;
	if (peek(p, 0) == '+') {
		q->safe = 1;
		p->i++;
	} else if (peek(p, 0) == '?') {
		p->i++; /* lazy: tries the same splits, in another order */
	}
	return q;
}

static rx *read_seq(rxp *p)
{
	size_t off = p->i;
	rxlist l = {0};
	for (;;) {
		skip_extended(p);
		int c = peek(p, 0);
		if (c < 0 || c == '|' || c == ')')
			break;
		rx *a = read_atom(p);
		if (a)
			a = read_quant(p, a);
		if (!a || list_push(p, &l, a) != 0) {
			free(l.p);
			return NULL;
		}
	}
	return list_node(p, &l, RX_SEQ, off);
}

static rx *read_alt(rxp *p)
{
	size_t off = p->i;
	rxlist l = {0};
	for (;;) {
		rx *s = read_seq(p);
		if (!s || list_push(p, &l, s) != 0) {
			free(l.p);
			return NULL;
		}
		if (peek(p, 0) != '|')
			break;
		p->i++;
	}
	return list_node(p, &l, RX_ALT, off);
}

/* ============================================================================================
 * What a tree can match
 * ========================================================================================== */

/* Can n match the empty text? */
static int nullable(const rx *n)
{
	switch (n->kind) {
	case RX_SET:
		return 0;
	case RX_SEQ:
		for (size_t i = 0; i < n->nkids; i++)
			if (!nullable(n->kids[i]))
				return 0;
		return 1;
	case RX_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			if (nullable(n->kids[i]))
				return 1;
		return 0;
	case RX_GROUP:
		return nullable(n->kids[0]);
	case RX_QUANT:
		return n->min == 0 || nullable(n->kids[0]);
	default:
		return 1;
	}
}

/* The bytes a non-empty match of n can start with, added to set. */
static void first(const rx *n, uint8_t *set)
{
	switch (n->kind) {
	case RX_SET:
		set_union(set, n->set);
		break;
	case RX_SEQ:
		for (size_t i = 0; i < n->nkids; i++) {
			first(n->kids[i], set);
			if (!nullable(n->kids[i]))
				break;
		}
		break;
	case RX_ALT:
		for (size_t i = 0; i < n->nkids; i++)
			first(n->kids[i], set);
		break;
	case RX_GROUP:
	case RX_QUANT:
		first(n->kids[0], set);
		break;
	case RX_ANY:
		memset(set, 0xff, 32);
		break;
	}
}

/* A byte of set, preferring letters and digits (texts that look like messages). */
static unsigned pick(const uint8_t *set)
{
	static const char nice[] = "abcxyz019ABC_- .:/";
	for (const char *c = nice; *c; c++)
		if (set_has(set, (unsigned char)*c))
			return (unsigned char)*c;
	for (unsigned c = 32; c < 127; c++)
		if (set_has(set, c))
			return c;
	for (unsigned c = 0; c < 256; c++)
		if (set_has(set, c))
			return c;
	return 'a';
}

#define SAMPLE_MAX 256

/* Append a short text that n matches; its first byte from want when n can start with one of
 * want's bytes (want may be NULL). */
static void sample(const rx *n, const uint8_t *want, fx_buf *out)
{
	if (out->len > SAMPLE_MAX)
		return;
	switch (n->kind) {
	case RX_SET: {
		uint8_t m[32];
		fx_buf_putc(out, (char)pick(want && set_meet(n->set, want, m) ? m : n->set));
		break;
	}
	case RX_SEQ:
		for (size_t i = 0; i < n->nkids; i++) {
			size_t before = out->len;
			sample(n->kids[i], want, out);
			if (out->len > before)
				want = NULL;
		}
		break;
	case RX_ALT: {
		size_t k = 0;
		for (size_t i = 0; want && i < n->nkids; i++) {
			uint8_t f[32];
			memset(f, 0, sizeof f);
			first(n->kids[i], f);
			if (set_meet(f, want, NULL)) {
				k = i;
				break;
			}
		}
		sample(n->kids[k], want, out);
		break;
	}
	case RX_GROUP:
		sample(n->kids[0], want, out);
		break;
	case RX_QUANT:
		for (uint32_t i = 0; i < n->min && i < 64; i++)
			sample(n->kids[0], i ? NULL : want, out);
		break;
	}
}

/* Does n contain target? */
static int contains(const rx *n, const rx *target)
{
	if (n == target)
		return 1;
	for (size_t i = 0; i < n->nkids; i++)
		if (contains(n->kids[i], target))
			return 1;
	return 0;
}

/* Samples of what comes before (after = 0) or after (after = 1) target on its way from n. */
static void around(const rx *n, const rx *target, int after, fx_buf *out)
{
	if (n == target)
		return;
	switch (n->kind) {
	case RX_SEQ: {
		size_t at = 0;
		while (at < n->nkids && !contains(n->kids[at], target))
			at++;
		if (!after)
			for (size_t i = 0; i < at; i++)
				sample(n->kids[i], NULL, out);
		if (at < n->nkids)
			around(n->kids[at], target, after, out);
		if (after)
			for (size_t i = at + 1; i < n->nkids; i++)
				sample(n->kids[i], NULL, out);
		break;
	}
	case RX_ALT:
	case RX_GROUP:
	case RX_QUANT:
		for (size_t i = 0; i < n->nkids; i++)
			if (contains(n->kids[i], target))
				around(n->kids[i], target, after, out);
		break;
	}
}

/* ============================================================================================
 * Suspects
 * ========================================================================================== */

typedef struct suspect {
	const rx *outer;   /* the repetition */
	const rx *pump;    /* the part repeated in the adversarial text */
	uint8_t want[32];  /* the bytes its sample should start with (all: no preference) */
} suspect;

#define MAX_SUSPECTS 8

typedef struct search {
	suspect s[MAX_SUSPECTS];
	size_t n;
} search;

static int unbounded(const rx *n)
{
	return n->kind == RX_QUANT && n->max == RX_INF && !n->safe;
}

/* An unbounded quantifier that can take all of n by itself, every other part being optional
 * (through groups, alternatives and sequences); NULL when none. */
static const rx *solo(const rx *n)
{
	switch (n->kind) {
	case RX_QUANT:
		if (unbounded(n) && !nullable(n->kids[0]))
			return n;
		return n->max > 1 || n->min > 1 ? NULL : solo(n->kids[0]);
	case RX_GROUP:
		return n->safe ? NULL : solo(n->kids[0]);
	case RX_ALT:
		for (size_t i = 0; i < n->nkids; i++) {
			const rx *q = solo(n->kids[i]);
			if (q)
				return q;
		}
		return NULL;
	case RX_SEQ: {
		/* The one part that must match something, or any part when all are optional. */
		const rx *must = NULL;
		for (size_t i = 0; i < n->nkids; i++) {
			if (nullable(n->kids[i]))
				continue;
			if (must)
				return NULL;
			must = n->kids[i];
		}
		if (must)
			return solo(must);
		for (size_t i = 0; i < n->nkids; i++) {
			const rx *q = solo(n->kids[i]);
			if (q)
				return q;
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

static void add_suspect(search *sr, const rx *outer, const rx *pump, const uint8_t *want)
{
	if (sr->n == MAX_SUSPECTS)
		return;
	suspect *s = &sr->s[sr->n++];
	s->outer = outer;
	s->pump = pump;
	if (want)
		memcpy(s->want, want, sizeof s->want);
	else
		memset(s->want, 0xff, sizeof s->want);
}

/* Through groups, the body's alternatives or sequence items. */
static const rx *strip_groups(const rx *n)
{
	while (n->kind == RX_GROUP && !n->safe)
		n = n->kids[0];
	return n;
}

/* The three shapes under the repetition q (see the top of the file). */
static void inspect(search *sr, const rx *q)
{
	const rx *body = strip_groups(q->kids[0]);
	if (body->kind == RX_GROUP)
		return; /* atomic */
	const rx *inner = solo(body);
	if (inner && inner != q) {
		add_suspect(sr, q, inner->kids[0], NULL);
		return;
	}
	if (body->kind == RX_ALT) {
		for (size_t i = 0; i < body->nkids; i++)
			for (size_t j = i + 1; j < body->nkids; j++) {
				uint8_t fi[32], fj[32], m[32];
				memset(fi, 0, sizeof fi);
				memset(fj, 0, sizeof fj);
				first(body->kids[i], fi);
				first(body->kids[j], fj);
				if (set_meet(fi, fj, m)) {
					/* Either one repeated may be what splits both ways. */
					add_suspect(sr, q, body->kids[i], m);
					add_suspect(sr, q, body->kids[j], m);
					return;
				}
			}
	}
	if (body->kind == RX_SEQ) {
		/* An unbounded part followed (past optional parts) by one that can take the same
		 * byte: where one ends and the next begins is ambiguous in every iteration. */
		for (size_t i = 0; i < body->nkids; i++) {
			const rx *k = strip_groups(body->kids[i]);
			if (!unbounded(k))
				continue;
			uint8_t fa[32], m[32];
			memset(fa, 0, sizeof fa);
			first(k->kids[0], fa);
			for (size_t j = i + 1; j < body->nkids; j++) {
				uint8_t fb[32];
				memset(fb, 0, sizeof fb);
				first(body->kids[j], fb);
				if (set_meet(fa, fb, m)) {
					add_suspect(sr, q, k->kids[0], m);
					return;
				}
				if (!nullable(body->kids[j]))
					break;
			}
		}
	}
}

static void walk(search *sr, const rx *n)
{
	if (unbounded(n))
		inspect(sr, n);
	for (size_t i = 0; i < n->nkids; i++)
		walk(sr, n->kids[i]);
}

/* The adversarial text for suspect s: before, pump repeated, breaker, after. */
static void adversary(const rx *root, const suspect *s, int breaker, int with_after, fx_buf *out)
{
	fx_buf_clear(out);
	around(root, s->outer, 0, out);
	fx_buf pump;
	fx_buf_init(&pump);
	sample(s->pump, s->want, &pump);
	if (pump.len == 0)
		fx_buf_putc(&pump, 'a');
	size_t times = 48 / pump.len;
	if (times < 12)
		times = 12;
	for (size_t i = 0; i < times; i++)
		fx_buf_append(out, pump.data, pump.len);
	fx_buf_dispose(&pump);
	fx_buf_putc(out, (char)breaker);
	if (with_after)
		around(root, s->outer, 1, out);
}

int fx_lint_backtrack(const char *re, size_t len, unsigned flags, const fx_regex *compiled,
                      size_t *off, fx_buf *subject)
{
	if (!re || !off || !subject)
		return FX_EINVAL;
	*off = 0;
	fx_buf_clear(subject);
	fx_arena arena;
	fx_arena_init(&arena);
	rxp p;
	memset(&p, 0, sizeof p);
	p.s = re;
	p.len = len;
	p.flags = flags;
	p.a = &arena;
	rx *root = read_alt(&p);
	int result = 0;
	if (root && p.i < p.len)
		root = NULL; /* an unmatched ')': PCRE2 refused it already */
	search sr;
	sr.n = 0;
	if (root)
		walk(&sr, root);
	/* Bytes that end the repeated part without matching it, most likely first. */
	static const char breakers[] = "!\x01\n 0a_-~";
	for (size_t k = 0; k < sr.n && result < 2 && !subject->oom; k++) {
		const suspect *s = &sr.s[k];
		uint8_t f[32];
		memset(f, 0, sizeof f);
		first(s->pump, f);
		if (k == 0) {
			*off = s->outer->off;
			adversary(root, s, '!', 1, subject);
			result = 1;
		}
		if (!compiled)
			break;
		fx_buf text;
		fx_buf_init(&text);
		for (const char *b = breakers; *b && result < 2; b++) {
			if (set_has(f, (unsigned char)*b))
				continue;
			for (int with_after = 1; with_after >= 0 && result < 2; with_after--) {
				adversary(root, s, *b, with_after, &text);
				if (text.oom)
					break;
				if (fx_regex_match(compiled, text.data, text.len) == FX_ELIMIT) {
					*off = s->outer->off;
					fx_buf_clear(subject);
					fx_buf_append(subject, text.data, text.len);
					result = 2;
				}
			}
		}
		fx_buf_dispose(&text);
	}
	fx_arena_dispose(&arena);
	if (p.oom || subject->oom)
		return FX_ENOMEM;
	return result;
}

/* ============================================================================================
 * The linter
 * ========================================================================================== */

typedef struct lwarn {
	const char *code;  /* a string literal */
	fx_pos pos;
	unsigned span;
	const char *rule;  /* borrowed from the kb, or NULL */
	char *msg;         /* malloc'd */
	uint32_t file;     /* index of pos.file in the program's files, for sorting */
	size_t seq;        /* order found: sorting is stable */
} lwarn;

typedef struct linter {
	const fx_kb *kb;
	const fx_program *prog;
	lwarn *w;
	size_t n, cap;
	int oom;
	fx_buf msg; /* message being built */
} linter;

static uint32_t file_index(const fx_program *prog, const char *file)
{
	for (uint32_t i = 0; i < prog->nfiles; i++)
		if (prog->files[i] == file)
			return i;
	return UINT32_MAX;
}

static void warn(linter *l, const char *code, fx_pos pos, unsigned span, const char *rule,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void warn(linter *l, const char *code, fx_pos pos, unsigned span, const char *rule,
                 const char *fmt, ...)
{
	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		lwarn *nw = realloc(l->w, cap * sizeof *nw);
		if (!nw) {
			l->oom = 1;
			return;
		}
		l->w = nw;
		l->cap = cap;
	}
	fx_buf_clear(&l->msg);
	va_list ap;
	va_start(ap, fmt);
	fx_buf_vprintf(&l->msg, fmt, ap);
	va_end(ap);
	char *m = l->msg.oom ? NULL : malloc(l->msg.len + 1);
	if (!m) {
		l->oom = 1;
		return;
	}
	memcpy(m, fx_buf_cstr(&l->msg), l->msg.len + 1);
	lwarn *w = &l->w[l->n];
	w->code = code;
	w->pos = pos;
	w->span = span ? span : 1;
	w->rule = rule;
	w->msg = m;
	w->file = file_index(l->prog, pos.file);
	w->seq = l->n++;
}

static int cmp_warn(const void *a, const void *b)
{
	const lwarn *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static unsigned name_span(const char *name)
{
	size_t n = name ? strlen(name) : 1;
	return n > 4096 ? 4096 : (unsigned)n;
}

/* --- Positions inside a regex ------------------------------------------------------------- */

/* The text of line `line` of file, or NULL. */
static const char *line_of(const fx_kb *kb, const char *file, uint32_t line, size_t *len)
{
	const fx_source *src = NULL;
	for (size_t i = kb->nsources; i-- > 0 && !src;)
		if (kb->sources[i].name == file ||
		    (file && kb->sources[i].name && strcmp(kb->sources[i].name, file) == 0))
			src = &kb->sources[i];
	if (!src || line == 0)
		return NULL;
	const char *p = src->text, *end = src->text + src->len;
	for (uint32_t n = 1; n < line; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	return p;
}

/* Where byte off of pattern p's regex is written, when the regex sits on one line plain, in
 * single quotes, or in double quotes with simple escapes; else the regex's start. */
static fx_pos regex_pos_at(const fx_kb *kb, const fx_pattern_def *p, size_t off)
{
	fx_pos at = p->regex_pos;
	size_t len;
	const char *line = line_of(kb, at.file, at.line, &len);
	if (!line || at.col == 0 || at.col > len)
		return at;
	size_t c = at.col - 1, k = 0;
	char q = line[c];
	if (q == '\'' || q == '"') {
		c++;
		while (k < off && c < len) {
			if (q == '\'' && line[c] == '\'') {
				if (c + 1 >= len || line[c + 1] != '\'')
					return at;
				c += 2;
			} else if (q == '"' && line[c] == '\\') {
				if (c + 1 >= len || strchr("xuUN_LP0123456789", line[c + 1]))
					return at;
				c += 2;
			} else if (line[c] == q) {
				return at;
			} else {
				c++;
			}
			k++;
		}
	} else {
		c += off;
		k = off;
	}
	if (k != off || c >= len)
		return at;
	at.col = (uint32_t)c + 1;
	return at;
}

/* --- Patterns ------------------------------------------------------------------------------ */

/* Flags and the regex text without its leading option settings ((?i) at the very start means
 * flags: i). */
static const char *normal_regex(const fx_pattern_def *p, unsigned *flags, size_t *len)
{
	const char *s = p->regex;
	size_t n = p->regex_len;
	*flags = p->flags & 15u;
	for (;;) {
		if (n < 4 || s[0] != '(' || s[1] != '?')
			break;
		size_t k = 2;
		unsigned f = 0;
		while (k < n && strchr("imsx", s[k]) && s[k] != '\0') {
			f |= s[k] == 'i' ? FX_RE_CASELESS
			     : s[k] == 'm' ? FX_RE_MULTILINE
			     : s[k] == 's' ? FX_RE_DOTALL
			                   : FX_RE_EXTENDED;
			k++;
		}
		if (k == 2 || k >= n || s[k] != ')')
			break;
		*flags |= f;
		s += k + 1;
		n -= k + 1;
	}
	*len = n;
	return s;
}

static int all_match(const fx_regex *re, const fx_pattern_def *p)
{
	for (uint32_t i = 0; i < p->nexamples; i++)
		if (fx_regex_match(re, p->examples[i].text, p->examples[i].len) != 1)
			return 0;
	return p->nexamples > 0;
}

static void lint_patterns(linter *l)
{
	const fx_program *prog = l->prog;
	fx_buf subject;
	fx_buf_init(&subject);
	for (uint32_t i = 0; i < prog->npatterns && !l->oom; i++) {
		const fx_pattern_def *p = &prog->patterns[i];
		if (!p->source)
			warn(l, "missing-source", p->pos, name_span(p->name), NULL,
			     "pattern '%s' has no source; add `source:` saying where the message comes "
			     "from (a vendor's page, an article)",
			     p->name);
		if (p->re && fx_regex_match(p->re, "", 0) == 1)
			warn(l, "regex-empty", p->regex_pos, 1, NULL,
			     "pattern '%s': its regex matches the empty string, so it matches every "
			     "text; make some part of it required (+ rather than *, no ? on all of it)",
			     p->name);
		size_t off;
		int rc = p->re ? fx_lint_backtrack(p->regex, p->regex_len, p->flags, p->re, &off,
		                                   &subject)
		               : 0;
		if (rc == FX_ENOMEM)
			l->oom = 1;
		if (rc == 2) {
			size_t show = p->regex_len - off < 24 ? p->regex_len - off : 24;
			warn(l, "regex-backtrack", regex_pos_at(l->kb, p, off), 1, NULL,
			     "pattern '%s': the repetition at '%.*s%s' can split a text in "
			     "exponentially many ways (a %zu-byte text exhausts the match limit); make "
			     "the inner repetition possessive (a++) or atomic ((?>...)), or remove the "
			     "nesting",
			     p->name, (int)show, p->regex + off, show < p->regex_len - off ? "..." : "",
			     subject.len);
		}
		/* Duplicates: reported at the later pattern, naming the first one like it. */
		unsigned fi;
		size_t li;
		const char *ri = normal_regex(p, &fi, &li);
		for (uint32_t j = 0; j < i; j++) {
			const fx_pattern_def *q = &prog->patterns[j];
			unsigned fj;
			size_t lj;
			const char *rj = normal_regex(q, &fj, &lj);
			if (fi == fj && li == lj && memcmp(ri, rj, li) == 0) {
				warn(l, "pattern-duplicate", p->pos, name_span(p->name), NULL,
				     "pattern '%s' has the same regex as pattern '%s' (%s:%u:%u); keep "
				     "one and merge their asserts",
				     p->name, q->name, q->pos.file, (unsigned)q->pos.line,
				     (unsigned)q->pos.col);
				break;
			}
			if (p->re && q->re && all_match(q->re, p) && all_match(p->re, q)) {
				warn(l, "pattern-duplicate", p->pos, name_span(p->name), NULL,
				     "patterns '%s' and '%s' (%s:%u:%u) each match all the other's "
				     "examples, so they probably match the same messages; merge them, or "
				     "add a near-miss that tells them apart",
				     p->name, q->name, q->pos.file, (unsigned)q->pos.line,
				     (unsigned)q->pos.col);
				break;
			}
		}
	}
	fx_buf_dispose(&subject);
}

/* --- Names that rules use: remedies recommended, questions asked --------------------------- */

typedef struct names {
	const char **p;
	size_t n, cap;
	int any; /* some value is computed: any name may be used */
} names;

static void names_add(linter *l, names *ns, fx_val v)
{
	if (v.type != FX_SYMBOL && v.type != FX_STRING) {
		ns->any = 1;
		return;
	}
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		const char **np = realloc(ns->p, cap * sizeof *np);
		if (!np) {
			l->oom = 1;
			return;
		}
		ns->p = np;
		ns->cap = cap;
	}
	ns->p[ns->n++] = v.u.a->text;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int names_has(const names *ns, const char *name)
{
	return ns->n && bsearch(&name, ns->p, ns->n, sizeof *ns->p, cmp_str) != NULL;
}

static uint32_t template_index(const fx_program *prog, const char *name)
{
	for (uint32_t i = 0; i < prog->ntemplates; i++)
		if (strcmp(prog->templates[i].name, name) == 0)
			return i;
	return UINT32_MAX;
}

static uint32_t slot_index(const fx_program *prog, uint32_t tmpl, const char *name)
{
	long i = fx_program_slot(prog, tmpl, name);
	return i < 0 ? UINT32_MAX : (uint32_t)i;
}

/* Every value that slot (tmpl, slot) takes in rule actions and the kb's facts. */
static void collect(linter *l, uint32_t tmpl, uint32_t slot, names *ns)
{
	const fx_program *prog = l->prog;
	if (slot == UINT32_MAX)
		return;
	for (uint32_t r = 0; r < prog->nrules; r++)
		for (uint32_t a = 0; a < prog->rules[r].nactions; a++) {
			const fx_action *act = &prog->rules[r].actions[a];
			if ((act->kind != FX_A_ASSERT && act->kind != FX_A_MODIFY) || act->tmpl != tmpl)
				continue;
			for (uint32_t s = 0; s < act->nsets; s++)
				if (act->sets[s].slot == slot) {
					const fx_expr *e = act->sets[s].value;
					if (e && e->kind == FX_X_CONST)
						names_add(l, ns, e->val);
					else
						ns->any = 1;
				}
		}
	for (uint32_t f = 0; f < prog->nfacts; f++)
		if (prog->facts[f].tmpl == tmpl)
			names_add(l, ns, prog->facts[f].values[slot]);
	for (uint32_t p = 0; p < prog->npatterns; p++)
		for (uint32_t f = 0; f < prog->patterns[p].nfacts; f++) {
			const fx_pattern_fact *pf = &prog->patterns[p].facts[f];
			if (pf->tmpl != tmpl)
				continue;
			if (pf->vals[slot].kind == FX_PV_CONST)
				names_add(l, ns, pf->vals[slot].val);
			else
				ns->any = 1;
		}
	if (ns->n)
		qsort(ns->p, ns->n, sizeof *ns->p, cmp_str);
}

static void lint_unused(linter *l)
{
	const fx_program *prog = l->prog;
	names rec = {0}, ask = {0}, con = {0};
	uint32_t t = template_index(prog, "recommend");
	collect(l, t, slot_index(prog, t, "remedy"), &rec);
	t = template_index(prog, "ask");
	collect(l, t, slot_index(prog, t, "question"), &ask);
	t = template_index(prog, "finding");
	collect(l, t, slot_index(prog, t, "id"), &con);
	for (uint32_t i = 0; i < prog->nfindings && !con.any && !l->oom; i++) {
		const fx_finding_def *f = &prog->findings[i];
		if (!names_has(&con, f->name))
			warn(l, "finding-unused", f->pos, name_span(f->name), NULL,
			     "finding '%s' is described but never concluded; add a rule with "
			     "`conclude: {id: %s, certainty: ...}`, or remove it",
			     f->name, f->name);
	}
	for (uint32_t i = 0; i < prog->nremedies && !rec.any && !l->oom; i++) {
		const fx_remedy_def *m = &prog->remedies[i];
		if (!names_has(&rec, m->name))
			warn(l, "remedy-unused", m->pos, name_span(m->name), NULL,
			     "remedy '%s' is never recommended; add a rule with `recommend: {remedy: "
			     "%s}`, or remove it",
			     m->name, m->name);
	}
	for (uint32_t i = 0; i < prog->nquestions && !ask.any && !l->oom; i++) {
		const fx_question_def *q = &prog->questions[i];
		if (!names_has(&ask, q->name))
			warn(l, "question-unused", q->pos, name_span(q->name), NULL,
			     "question '%s' is never asked; add `ask: %s` to the rule that needs "
			     "the answer, or remove it",
			     q->name, q->name);
	}
	for (uint32_t i = 0; i < prog->nremedies && !l->oom; i++)
		if (!prog->remedies[i].source)
			warn(l, "missing-source", prog->remedies[i].pos,
			     name_span(prog->remedies[i].name), NULL,
			     "remedy '%s' has no source; add `source:` saying where it comes from "
			     "(an article's section, a URL)",
			     prog->remedies[i].name);
	free(rec.p);
	free(ask.p);
	free(con.p);
}

/* --- Rules --------------------------------------------------------------------------------- */

/* The first positive pattern under ces (top level and inside exists, not inside not) whose
 * template is not produced, or NULL. */
static const fx_ce *missing_input(const fx_ce *ces, uint32_t n, const unsigned char *produced)
{
	for (uint32_t i = 0; i < n; i++) {
		const fx_ce *ce = &ces[i];
		if (ce->kind == FX_CE_PATTERN && !produced[ce->tmpl])
			return ce;
		if (ce->kind == FX_CE_EXISTS) {
			const fx_ce *m = missing_input(ce->children, ce->nchildren, produced);
			if (m)
				return m;
		}
	}
	return NULL;
}

static void lint_rules(linter *l)
{
	const fx_program *prog = l->prog;
	for (uint32_t i = 0; i < prog->nrules && !l->oom; i++)
		if (!prog->rules[i].because)
			warn(l, "missing-because", prog->rules[i].pos, name_span(prog->rules[i].name),
			     prog->rules[i].name,
			     "rule '%s' has no because; add `because:`, one line saying why its "
			     "conditions lead to its conclusion (explanations show it)",
			     prog->rules[i].name);
	if (prog->nrules == 0 || prog->ntemplates == 0)
		return;
	unsigned char *produced = calloc(prog->ntemplates, 1);
	unsigned char *live = calloc(prog->nrules, 1);
	if (!produced || !live) {
		l->oom = 1;
		goto done;
	}
	/* What comes from outside the rules: users (answers, tried remedies), text, facts. */
	static const char *const given[] = {"answer", "tried", "ask"};
	for (size_t i = 0; i < sizeof given / sizeof *given; i++) {
		uint32_t t = template_index(prog, given[i]);
		if (t != UINT32_MAX)
			produced[t] = 1;
	}
	for (uint32_t p = 0; p < prog->npatterns; p++)
		for (uint32_t f = 0; f < prog->patterns[p].nfacts; f++)
			produced[prog->patterns[p].facts[f].tmpl] = 1;
	for (uint32_t f = 0; f < prog->nfacts; f++)
		produced[prog->facts[f].tmpl] = 1;
	for (uint32_t q = 0; q < prog->nquestions; q++)
		for (uint32_t a = 0; a < prog->questions[q].nanswers; a++)
			for (uint32_t f = 0; f < prog->questions[q].answers[a].nfacts; f++)
				produced[prog->questions[q].answers[a].facts[f].tmpl] = 1;
	/* Then what rules that can fire assert, until nothing changes. */
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t r = 0; r < prog->nrules; r++) {
			const fx_rule_def *rd = &prog->rules[r];
			if (live[r] || missing_input(rd->ces, rd->nces, produced))
				continue;
			live[r] = 1;
			changed = 1;
			for (uint32_t a = 0; a < rd->nactions; a++)
				if (rd->actions[a].kind == FX_A_ASSERT &&
				    rd->actions[a].tmpl < prog->ntemplates)
					produced[rd->actions[a].tmpl] = 1;
		}
	}
	for (uint32_t r = 0; r < prog->nrules && !l->oom; r++) {
		const fx_rule_def *rd = &prog->rules[r];
		if (live[r])
			continue;
		const fx_ce *ce = missing_input(rd->ces, rd->nces, produced);
		if (!ce)
			continue;
		const char *tname = prog->templates[ce->tmpl].name;
		int by_dead = 0;
		for (uint32_t o = 0; o < prog->nrules && !by_dead; o++)
			for (uint32_t a = 0; a < prog->rules[o].nactions; a++)
				if (prog->rules[o].actions[a].kind == FX_A_ASSERT &&
				    prog->rules[o].actions[a].tmpl == ce->tmpl)
					by_dead = 1;
		if (by_dead)
			warn(l, "rule-unreachable", ce->pos, name_span(tname), rd->name,
			     "rule '%s' can never fire: '%s' facts come only from rules that can "
			     "never fire either; give one of them an input that something asserts, "
			     "or remove them",
			     rd->name, tname);
		else
			warn(l, "rule-unreachable", ce->pos, name_span(tname), rd->name,
			     "rule '%s' can never fire: nothing asserts a '%s' fact (no pattern, "
			     "rule, question answer or initial fact); add a pattern or fact that "
			     "asserts one, or remove the rule",
			     rd->name, tname);
	}
done:
	free(produced);
	free(live);
}

int fx_kb_lint(const fx_kb *kb, fx_diag_fn fn, void *ud)
{
	if (!kb)
		return FX_EINVAL;
	linter l;
	memset(&l, 0, sizeof l);
	l.kb = kb;
	l.prog = &kb->prog;
	fx_buf_init(&l.msg);
	lint_patterns(&l);
	lint_unused(&l);
	lint_rules(&l);
	int rc = 0;
	if (!l.oom) {
		if (l.n)
			qsort(l.w, l.n, sizeof *l.w, cmp_warn);
		fx_reporter rep;
		fx_reporter_init(&rep, fn, ud, 0);
		for (size_t i = 0; i < kb->nsources && rc == 0; i++)
			rc = fx_reporter_add_source(&rep, kb->sources[i].name, kb->sources[i].text,
			                            kb->sources[i].len);
		for (size_t i = 0; i < l.n && rc == 0; i++)
			fx_report(&rep, FX_SEV_WARNING, l.w[i].code, l.w[i].pos, l.w[i].span,
			          l.w[i].rule, "%s", l.w[i].msg);
		fx_reporter_dispose(&rep);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.w[i].msg);
	free(l.w);
	fx_buf_dispose(&l.msg);
	if (l.oom)
		return FX_ENOMEM;
	if (rc)
		return rc;
	return l.n > (size_t)INT32_MAX ? INT32_MAX : (int)l.n;
}
