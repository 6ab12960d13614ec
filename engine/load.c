/* load.c: the loader. Reads YAML rule files (following `include:`) into small trees of nodes
 * that remember where each one was written, checks them against the rule language
 * (docs/rule-language.md) and builds the fx_program of ast.h that the Rete compiler (rete.c)
 * consumes. libyaml is used here and nowhere else.
 *
 * How it works
 * ------------
 * 0. The prelude (prelude.c), the built-in templates of the diagnosis vocabulary, is read first
 *    as a unit named <builtin>, exactly like a user file: its templates come first in the
 *    program and a user template of the same name is a duplicate. The actions conclude,
 *    recommend and ask are sugar the loader turns into asserts of those templates.
 * 1. Reading. Each file (or the caller's buffer) is copied into the kb's arena, registered with
 *    the reporter so diagnostics can quote its lines, and turned into a tree of `node`s with
 *    libyaml's event API. We build our own tree rather than use libyaml's document API because
 *    we need three things it does not give: refusing aliases where they are written (no
 *    billion-laughs expansion can happen), a nesting limit enforced while building (no deep
 *    recursion later), and exact byte positions. A file's `include:` entries are loaded right
 *    after the file is read, depth first; every file is loaded once (by realpath), so include
 *    cycles are harmless. A file's definitions come after those of the files it includes.
 * 2. Templates of every file are checked first, so facts and rules may use templates defined
 *    in any file, in any order.
 * 3. Remedies of every file, so that every constant naming a remedy (recommend, tried) can be
 *    checked wherever the remedy is defined.
 * 4. Text patterns, facts and rules, file by file. Variables are resolved to ids as the rule is
 *    read, in source order: the first occurrence in a positive pattern binds, later ones
 *    compare. A text pattern's variables name the capture groups of its regex instead.
 *
 * Positions. libyaml marks count characters, not bytes, and count a byte-order mark as a
 * column (which also breaks its indentation rules), so we strip a UTF-8 BOM ourselves and
 * translate each mark's character index into a byte offset. Lines and columns are then
 * computed from the byte offset with '\n' as the only line break, exactly as the reporter
 * counts when it quotes the line: columns are 1-based byte columns. Inside a scalar, an offset
 * in the value is mapped back to the source through the quoting style (escapes in double
 * quotes, '' in single quotes) when the scalar sits on one line; otherwise the scalar's start
 * is used.
 *
 * libyaml is a YAML 1.1 parser and reads `?x` inside `{...}` or `[...]` as a complex-key
 * indicator; the rule language writes variables there unquoted, so libyaml reads a copy of the
 * text with those '?'s masked (see pick_placeholder).
 *
 * Errors. Everything is reported and loading goes on, but without cascades: a pattern whose
 * template or slot is unknown still binds its variables (with no type checks), a variable
 * reported unbound is then treated as bound, and whatever depends on a part that failed is
 * skipped silently. The program built after errors may hold such holes (a pattern's tmpl of
 * NONE); it is only used when no error was reported. Nothing here recurses deeper than the
 * YAML nesting limit, and names are found through hash tables, so time stays near linear in
 * the input whatever its shape.
 *
 * Memory. What the program references (names, values, expressions, the source texts) goes to
 * the kb's arena and atoms; the trees, lookup tables and work lists live in a scratch arena and
 * malloc'd vectors that are freed before fx_load_program returns, on every path.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif
#include "load.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "expr.h"
#include "prelude.h"
#include "regex.h"

#define MAX_NESTING 64       /* YAML collections inside one another */
#define MAX_INCLUDE_DEPTH 32 /* files including files */
#define MAX_FILE_SIZE ((size_t)64 << 20)
#define NONE UINT32_MAX

/* ============================================================================================
 * Growable arrays and a string table
 * ========================================================================================== */

typedef struct gvec {
	void *p;       /* malloc'd items */
	size_t n, cap; /* items used, items allocated */
} gvec;

typedef struct hent {
	const char *s; /* key text (borrowed: outlives the table), NULL for an empty entry */
	size_t len;
	uint32_t ns; /* namespace: which kind of name, or whose */
	uint32_t hash;
	uint32_t val;
} hent;

typedef struct htab {
	hent *e; /* open addressing, power-of-two capacity */
	size_t cap, n;
} htab;

/* Namespaces of the `names` table. Slots and variables have tables of their own, keyed by
 * template index and rule ordinal. */
enum {
	NS_TEMPLATE = 1,
	NS_RULE,
	NS_FACT,
	NS_FILE,
	NS_PATTERN,
	NS_REMEDY,
	NS_QUESTION,
	NS_CASE,
	NS_FINDING
};

/* ============================================================================================
 * YAML trees
 * ========================================================================================== */

enum {
	N_SCALAR,
	N_SEQ,
	N_MAP,
	N_BAD
}; /* N_BAD: an alias or a refused tag, already reported */
enum {
	S_PLAIN,
	S_SINGLE,
	S_DOUBLE,
	S_BLOCK
};

typedef struct srcfile srcfile;

typedef struct node {
	int kind;
	int style;        /* scalars: how it was quoted */
	const char *text; /* scalars: the value, NUL-terminated; may hold NULs, so use len */
	size_t len;
	size_t off, end;    /* byte offsets in the source of the start and end marks */
	struct node **kids; /* N_SEQ: the items; N_MAP: key, value, key, value... */
	size_t nkids;
	const srcfile *src;
} node;

enum {
	SEC_TEMPLATES,
	SEC_FACTS,
	SEC_RULES,
	SEC_PATTERNS,
	SEC_REMEDIES,
	SEC_QUESTIONS,
	SEC_CASES,
	SEC_FINDINGS,
	NSEC
};

struct srcfile {
	const char *name; /* as in prog->files; every fx_pos.file of this file points here */
	const char *dir;  /* directory of name, "" or ending in '/': where includes resolve */
	const char *text; /* the whole file (arena), NUL-terminated */
	size_t len;
	size_t *lines; /* byte offset of the start of each line */
	size_t nlines;
	size_t *last;  /* the index in lines pos_at found last, where it looks first (arena) */
	const node *sect[NSEC];   /* the sections' values, NULL when absent */
	const node *remedies_key; /* the key `remedies`, NULL when absent */
	const node *questions_key; /* the key `questions`, NULL when absent */
	const node *findings_key; /* the key `findings`, NULL when absent */
};

/* ============================================================================================
 * Loader state
 * ========================================================================================== */

typedef struct varx {
	fx_var_def d;
	int used;     /* referenced after being bound */
	int visible;  /* in scope at the current point of the rule */
	int poisoned; /* made up after an error, to avoid follow-on errors */
} varx;

typedef struct rulectx {
	uint32_t ord; /* ordinal of the rule in the load, namespace of its variables */
	gvec vars;    /* varx, by id */
	gvec depths;  /* uint32_t: template of the pattern at each depth, NONE if unknown */
	uint32_t nlocals;
} rulectx;

typedef struct loader {
	fx_arena *arena; /* the kb's: everything the program references */
	fx_atoms *atoms;
	fx_vec *regexes;
	fx_reporter *rep;
	fx_arena scratch;      /* trees and temporary texts, freed when loading ends */
	int oom, io;           /* out of memory seen; a file could not be read */
	gvec files;            /* srcfile*, in read order */
	gvec units;            /* srcfile*, in definition order (includes before includer) */
	htab names;            /* templates, rules, facts, files by namespace -> index */
	htab slots;            /* (template, slot name) -> slot index */
	htab vars;             /* (rule ordinal, variable name) -> var id */
	htab seen;             /* (mapping number, key) for finding repeated keys */
	uint32_t nseen;        /* mappings numbered so far */
	gvec tmpls;            /* fx_template_def */
	gvec facts;            /* fx_fact_def */
	gvec rules;            /* fx_rule_def */
	gvec patterns;         /* fx_pattern_def */
	gvec remedies;         /* fx_remedy_def */
	gvec questions;        /* fx_question_def */
	gvec cases;            /* fx_case_def */
	gvec findings;         /* fx_finding_def */
	/* The first `remedies` key, NULL when no file has one: names of remedies are checked. */
	const node *remedies_sec;
	/* The slots whose constants name remedies: recommend.remedy and tried.remedy. */
	const fx_slot_def *remedy_slots[2];
	/* The first `questions` key, NULL when no file has one: names of questions are checked. */
	const node *questions_sec;
	/* The slots whose constants name questions: ask.question and answer.question. */
	const fx_slot_def *question_slots[2];
	/* The first `findings` key, NULL when no file has one: names of findings are checked. */
	const node *findings_sec;
	/* The slots whose constants name findings: finding.id and recommend.finding. */
	const fx_slot_def *finding_slots[2];
	uint64_t suggest_work; /* edit-distance work done for suggestions, bounded */
	uint32_t nrule_ord;    /* rules seen, valid or not */
	fx_buf msg;            /* message being built */
	const char *prelude;   /* unit name of the prelude: the file of built-in definitions */
	const char *rule_name; /* the rule being read, for diagnostics */
	rulectx *rc;           /* the rule being read (&rule), or NULL */
	rulectx rule;
} loader;

/* ============================================================================================
 * Small helpers
 * ========================================================================================== */

static void *gv_push(loader *ld, gvec *v, size_t esz)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		if (cap > SIZE_MAX / esz) {
			ld->oom = 1;
			return NULL;
		}
		void *p = realloc(v->p, cap * esz);
		if (!p) {
			ld->oom = 1;
			return NULL;
		}
		v->p = p;
		v->cap = cap;
	}
	void *e = (char *)v->p + v->n++ * esz;
	memset(e, 0, esz);
	return e;
}

static void gv_free(gvec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* Move v's items into arena a (NULL when empty) and free v. */
static void *gv_finish(loader *ld, fx_arena *a, gvec *v, size_t esz, uint32_t *count)
{
	void *out = NULL;
	size_t n = v->n > UINT32_MAX ? UINT32_MAX : v->n;
	if (n) {
		out = fx_arena_memdup(a, v->p, n * esz);
		if (!out) {
			ld->oom = 1;
			n = 0;
		}
	}
	if (count)
		*count = (uint32_t)n;
	gv_free(v);
	return out;
}

static void *anew(loader *ld, size_t n, size_t esz)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / esz) {
		ld->oom = 1;
		return NULL;
	}
	void *p = fx_arena_alloc(ld->arena, n * esz);
	if (!p)
		ld->oom = 1;
	return p;
}

static const char *astr(loader *ld, fx_arena *a, const char *s, size_t len)
{
	const char *p = fx_arena_strndup(a, s, len);
	if (!p)
		ld->oom = 1;
	return p;
}

static uint32_t ht_hash(uint32_t ns, const char *s, size_t len)
{
	return fx_hash_bytes(s, len) ^ (ns * 0x9E3779B1u);
}

static hent *ht_probe(const htab *t, uint32_t ns, const char *s, size_t len, uint32_t h)
{
	size_t mask = t->cap - 1, i = h & mask;
	for (;;) {
		hent *e = &t->e[i];
		if (!e->s ||
		    (e->hash == h && e->ns == ns && e->len == len && memcmp(e->s, s, len) == 0))
			return e;
		i = (i + 1) & mask;
	}
}

static int ht_get(const htab *t, uint32_t ns, const char *s, size_t len, uint32_t *val)
{
	if (!t->cap)
		return 0;
	hent *e = ht_probe(t, ns, s, len, ht_hash(ns, s, len));
	if (!e->s)
		return 0;
	*val = e->val;
	return 1;
}

/* Insert or overwrite. s must outlive the table. 0, or -1 when out of memory. */
static int ht_set(loader *ld, htab *t, uint32_t ns, const char *s, size_t len, uint32_t val)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(hent)) {
			ld->oom = 1;
			return -1;
		}
		hent *ne = calloc(cap, sizeof *ne);
		if (!ne) {
			ld->oom = 1;
			return -1;
		}
		htab nt = {ne, cap, t->n};
		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].s)
				*ht_probe(&nt, t->e[i].ns, t->e[i].s, t->e[i].len, t->e[i].hash) =
				        t->e[i];
		free(t->e);
		*t = nt;
	}
	uint32_t h = ht_hash(ns, s, len);
	hent *e = ht_probe(t, ns, s, len, h);
	if (!e->s) {
		e->s = s;
		e->len = len;
		e->ns = ns;
		e->hash = h;
		t->n++;
	}
	e->val = val;
	return 0;
}

static void ht_free(htab *t)
{
	free(t->e);
	t->e = NULL;
	t->cap = t->n = 0;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}
static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int text_is(const node *n, const char *s)
{
	size_t l = strlen(s);
	return n->kind == N_SCALAR && n->len == l && memcmp(n->text, s, l) == 0;
}

/* Ids of templates, rules, facts and slot names: a letter or '_', then letters, digits, '-',
 * '_', '.'. */
static int valid_id(const char *s, size_t len)
{
	if (len == 0 || !(is_alpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

/* Length of the variable name at s (after its '?'), read as the expression language reads
 * it: a letter or '_', then letters, digits and '_', with '-' joining when a letter or '_'
 * follows and '.' when a letter, digit or '_' follows (so ?x-1 is ?x minus 1). */
static size_t name_len(const char *s, size_t len)
{
	if (len == 0 || !(is_alpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	size_t i = 1;
	while (i < len) {
		int c = (unsigned char)s[i];
		int next = i + 1 < len ? (unsigned char)s[i + 1] : 0;
		int word = is_alpha(next) || next == '_';
		if (is_alpha(c) || is_digit(c) || c == '_' || (c == '-' && word) ||
		    (c == '.' && (word || is_digit(next))))
			i++;
		else
			break;
	}
	return i;
}

/* Is s[0..len) exactly one variable, `?name`? */
static int is_var(const char *s, size_t len)
{
	return len >= 2 && s[0] == '?' && name_len(s + 1, len - 1) == len - 1;
}

static int is_null(const node *n)
{
	if (n->kind != N_SCALAR || n->style != S_PLAIN)
		return 0;
	return n->len == 0 || text_is(n, "~") || text_is(n, "null") || text_is(n, "Null") ||
	       text_is(n, "NULL");
}

static const char *kind_name(const node *n)
{
	switch (n->kind) {
	case N_SCALAR:
		return "a scalar";
	case N_SEQ:
		return "a list";
	case N_MAP:
		return "a mapping";
	}
	return "an unusable node";
}

/* A printable excerpt of a text for messages: control bytes escaped, long texts cut. */
static const char *show(loader *ld, const char *s, size_t len)
{
	enum {
		MAXSHOW = 80
	};
	char *out = fx_arena_alloc(&ld->scratch, MAXSHOW * 4 + 8);
	if (!out)
		return "...";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (i == MAXSHOW) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static const char *shown(loader *ld, const node *n)
{
	return n->kind == N_SCALAR ? show(ld, n->text, n->len) : kind_name(n);
}

static const char *errno_text(int e)
{
	switch (e) {
	case ENOENT:
		return "no such file or directory";
	case EACCES:
		return "permission denied";
	case ENOTDIR:
		return "a component of the path is not a directory";
	case EISDIR:
		return "is a directory";
	case ELOOP:
		return "too many symbolic links";
	case ENAMETOOLONG:
		return "name too long";
	case EMFILE:
	case ENFILE:
		return "too many open files";
	case ENOMEM:
		return "out of memory";
	case EIO:
		return "input/output error";
	case EFBIG:
		return "file too large";
	}
	return "cannot be read";
}

/* ============================================================================================
 * Positions and diagnostics
 * ========================================================================================== */

static fx_pos pos_at(const srcfile *sf, size_t off)
{
	fx_pos p = {sf->name, 0, 0};
	if (!sf->nlines)
		return p;
	size_t lo = 0, hi = sf->nlines;
	/* The loader asks in about source order: the line of the last answer, or the next one. */
	size_t h = sf->last ? *sf->last : 0;
	if (h < hi && sf->lines[h] <= off) {
		if (h + 1 == hi || off < sf->lines[h + 1])
			lo = hi = h;
		else if (h + 2 == hi || off < sf->lines[h + 2])
			lo = hi = h + 1;
		else
			lo = h + 1;
	}
	if (lo == hi)
		hi = lo + 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (sf->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (sf->last)
		*sf->last = lo;
	size_t col = off - sf->lines[lo] + 1;
	p.line = lo + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(lo + 1);
	p.col = col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
	return p;
}

/* Where a node starts: worked out when asked (mostly for the few nodes the program keeps a
 * position of) rather than kept in every node, which would make the tree a fifth larger. */
static fx_pos npos(const node *n)
{
	return pos_at(n->src, n->off);
}

static int one_line(const node *n)
{
	return n->end >= n->off && !memchr(n->src->text + n->off, '\n', n->end - n->off);
}

/* Bytes from off to the end of its line (at least 1). */
static unsigned rest_of_line(const srcfile *sf, size_t off)
{
	size_t e = off;
	while (e < sf->len && sf->text[e] != '\n' && sf->text[e] != '\r')
		e++;
	size_t s = e > off ? e - off : 1;
	return s > UINT_MAX ? UINT_MAX : (unsigned)s;
}

static unsigned node_span(const node *n)
{
	if (n->kind != N_SCALAR)
		return 1;
	if (!one_line(n))
		return rest_of_line(n->src, n->off);
	size_t s = n->end > n->off ? n->end - n->off : 1;
	return s > UINT_MAX ? UINT_MAX : (unsigned)s;
}

static unsigned utf8_width(unsigned long cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static unsigned long hex_value(const char *s, size_t n, size_t avail)
{
	unsigned long v = 0;
	for (size_t i = 0; i < n && i < avail; i++) {
		int c = (unsigned char)s[i];
		int d = is_digit(c)                          ? c - '0'
		        : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
		                                             : 0;
		v = v * 16 + (unsigned long)d;
	}
	return v;
}

/* Byte offset in the source of byte voff of scalar n's value. Exact for one-line scalars in
 * plain or quoted style; the scalar's start otherwise. */
static size_t src_offset(const node *n, size_t voff)
{
	const char *t = n->src->text;
	if (n->kind != N_SCALAR || !one_line(n) || n->end <= n->off)
		return n->off;
	size_t s, v = 0, lim = n->end;
	switch (n->style) {
	case S_PLAIN:
		return n->off + (voff < n->end - n->off ? voff : n->end - n->off);
	case S_SINGLE:
		s = n->off + 1;
		lim = n->end - 1;
		while (v < voff && s < lim) {
			s += t[s] == '\'' && s + 1 < lim && t[s + 1] == '\'' ? 2 : 1;
			v++;
		}
		return s;
	case S_DOUBLE:
		s = n->off + 1;
		lim = n->end - 1;
		while (v < voff && s < lim) {
			size_t sw = 1, vw = 1;
			if (t[s] == '\\' && s + 1 < lim) {
				switch (t[s + 1]) {
				case 'x':
					sw = 4;
					vw = utf8_width(hex_value(t + s + 2, 2, lim - s - 2));
					break;
				case 'u':
					sw = 6;
					vw = utf8_width(hex_value(t + s + 2, 4, lim - s - 2));
					break;
				case 'U':
					sw = 10;
					vw = utf8_width(hex_value(t + s + 2, 8, lim - s - 2));
					break;
				case 'N':
				case '_':
					sw = 2;
					vw = 2;
					break;
				case 'L':
				case 'P':
					sw = 2;
					vw = 3;
					break;
				default:
					sw = 2;
					vw = 1;
					break;
				}
			}
			if (v + vw > voff)
				break;
			v += vw;
			s += sw;
		}
		return s < lim ? s : lim;
	default:
		return n->off;
	}
}

static fx_pos value_pos(const node *n, size_t voff)
{
	return pos_at(n->src, src_offset(n, voff));
}

/* Span of len value bytes starting at voff, as written in the source. */
static unsigned value_span(const node *n, size_t voff, size_t len)
{
	size_t a = src_offset(n, voff), b = src_offset(n, voff + len);
	if (b <= a || !one_line(n))
		return 1;
	return b - a > UINT_MAX ? UINT_MAX : (unsigned)(b - a);
}

static void vreport(loader *ld, fx_severity sev, const char *code, fx_pos pos, unsigned span,
                    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static void vreport(loader *ld, fx_severity sev, const char *code, fx_pos pos, unsigned span,
                    const char *fmt, va_list ap)
{
	fx_buf_clear(&ld->msg);
	fx_buf_vprintf(&ld->msg, fmt, ap);
	if (ld->msg.oom)
		ld->oom = 1;
	fx_report(ld->rep, sev, code, pos, span, ld->rule_name, "%s", fx_buf_cstr(&ld->msg));
}

static void err_at(loader *ld, const char *code, fx_pos pos, unsigned span, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void err_at(loader *ld, const char *code, fx_pos pos, unsigned span, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, FX_SEV_ERROR, code, pos, span, fmt, ap);
	va_end(ap);
}

/* An error about node n (a key or a value), underlining it. */
static void err(loader *ld, const char *code, const node *n, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void err(loader *ld, const char *code, const node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, FX_SEV_ERROR, code, npos(n), node_span(n), fmt, ap);
	va_end(ap);
}

static void warn_at(loader *ld, const char *code, fx_pos pos, unsigned span, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void warn_at(loader *ld, const char *code, fx_pos pos, unsigned span, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ld, FX_SEV_WARNING, code, pos, span, fmt, ap);
	va_end(ap);
}

/* Expected a `what` (e.g. "a mapping") at n. */
static void err_shape(loader *ld, const node *n, const char *what, const char *where)
{
	if (n->kind == N_BAD)
		return; /* already reported where it was written */
	err(ld, "shape", n, "%s must be %s, not %s", where, what, kind_name(n));
}

/* ============================================================================================
 * Reading YAML into trees
 * ========================================================================================== */

typedef struct frame {
	node *n;   /* the open collection */
	gvec kids; /* node*, its items so far */
} frame;

typedef struct markmap {
	const char *text; /* the source */
	size_t len;
	size_t base;  /* bytes skipped before libyaml's input (a BOM) */
	size_t chars; /* a character index ... */
	size_t bytes; /* ... and the byte offset it starts at */
} markmap;

/* Byte offset of the character at libyaml's mark index. Marks mostly move forward, and never
 * far back, so we walk from the last one; the text before a mark has been validated as UTF-8
 * by libyaml, so stepping back over continuation bytes is exact. */
static size_t mark_offset(markmap *m, size_t index)
{
	while (m->chars > index && m->bytes > m->base) {
		m->bytes--;
		while (m->bytes > m->base && ((unsigned char)m->text[m->bytes] & 0xc0) == 0x80)
			m->bytes--;
		m->chars--;
	}
	if (index < m->chars) { /* only if the text was not what libyaml read */
		m->chars = 0;
		m->bytes = m->base;
	}
	while (m->chars < index && m->bytes < m->len) {
		/* Rule files are mostly ASCII, where a character is a byte: 8 at a time. */
		if (index - m->chars >= 8 && m->len - m->bytes >= 8) {
			uint64_t w;
			memcpy(&w, m->text + m->bytes, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				m->bytes += 8;
				m->chars += 8;
				continue;
			}
		}
		unsigned char c = (unsigned char)m->text[m->bytes];
		m->bytes += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		m->chars++;
	}
	if (m->bytes > m->len)
		m->bytes = m->len;
	return m->bytes;
}

static int attach(loader *ld, gvec *stack, node **root, node *n)
{
	if (stack->n == 0) {
		if (!*root)
			*root = n;
		return 0;
	}
	frame *top = (frame *)stack->p + stack->n - 1;
	node **slot = gv_push(ld, &top->kids, sizeof(node *));
	if (!slot)
		return -1;
	*slot = n;
	return 0;
}

/* Tags other than YAML's own are refused. The usual way to meet one by accident is an unquoted
 * constraint such as `!= ?x`, which YAML reads as the tag `!=`. */
static int check_tag(loader *ld, const node *n, const yaml_char_t *tag)
{
	if (!tag)
		return 0;
	const char *t = (const char *)tag;
	if (strncmp(t, "tag:yaml.org,2002:", 18) == 0 || strcmp(t, "!") == 0)
		return 0;
	if (t[0] == '!' && t[1] == '=')
		err_at(ld, "yaml", npos(n), 2,
		       "'!=' starts a YAML tag here: write the constraint in quotes, "
		       "as in \"!= ...\"");
	else
		err_at(ld, "yaml", npos(n), rest_of_line(n->src, n->off),
		       "YAML tags such as '%s' are not supported", show(ld, t, strlen(t)));
	return -1;
}

static void yaml_failure(loader *ld, const srcfile *sf, yaml_parser_t *p, markmap *mm)
{
	if (p->error == YAML_MEMORY_ERROR) {
		ld->oom = 1;
		return;
	}
	size_t off;
	if (p->error == YAML_READER_ERROR)
		off = mm->base + p->problem_offset; /* the reader counts bytes */
	else
		off = mark_offset(mm, p->problem_mark.index);
	if (off > sf->len)
		off = sf->len;
	const char *problem = p->problem ? p->problem : "syntax error";
	if (p->error == YAML_READER_ERROR && p->problem_value != -1)
		err_at(ld, "yaml", pos_at(sf, off), 1,
		       "YAML: %s (byte 0x%02x); rule files are UTF-8 text", problem,
		       (unsigned)p->problem_value & 0xffu);
	else if (p->context) {
		fx_pos cp = pos_at(sf, mark_offset(mm, p->context_mark.index));
		err_at(ld, "yaml", pos_at(sf, off), 1, "YAML: %s (%s at line %u, column %u)",
		       problem, p->context, (unsigned)cp.line, (unsigned)cp.col);
	} else {
		err_at(ld, "yaml", pos_at(sf, off), 1, "YAML: %s", problem);
	}
	if (p->error == YAML_READER_ERROR)
		return;
	size_t coff = p->context ? mark_offset(mm, p->context_mark.index) : off;
	if (off < sf->len && sf->text[off] == '?')
		fx_report(ld->rep, FX_SEV_NOTE, "yaml", pos_at(sf, off), 1, ld->rule_name,
		          "write variables inside [...] and {...} in quotes: \"?x\"");
	else if ((off < sf->len && sf->text[off] == '>') ||
	         (coff < sf->len && sf->text[coff] == '>'))
		fx_report(ld->rep, FX_SEV_NOTE, "yaml",
		          pos_at(sf, sf->text[off] == '>' ? off : coff), 1, ld->rule_name,
		          "a constraint that starts with '>' is written in quotes: \"> 5\"");
}

/* Variables inside flow collections. The rule language writes `{name: ?n}` and `[?f, ?g]`, where
 * YAML 1.2 reads `?n` as a plain scalar, but libyaml follows YAML 1.1 and takes a '?' in a flow
 * collection as the complex-key indicator: `{a: ?b}` is a syntax error and `[?f]` silently
 * becomes `[{f: null}]`. So libyaml gets a copy of the text in which every '?' directly followed
 * by a letter or '_' is replaced by a placeholder byte, one that can only be an ordinary
 * character of a plain scalar and that the text never contains (nor produces through an escape
 * such as \x5e in double quotes); every scalar then gets its '?'s back. The byte is ASCII like
 * '?', so marks and offsets do not move. If every candidate occurs, nothing is replaced and
 * such files get libyaml's error, with a hint to quote. */
static char pick_placeholder(const char *t, size_t len)
{
	static const char cand[] = "^~$;QXZJKVWYqxzjkvwy";
	unsigned char present[256];
	memset(present, 0, sizeof present);
	int needed = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		present[c] = 1;
		if (c == '?' && i + 1 < len &&
		    (is_alpha((unsigned char)t[i + 1]) || t[i + 1] == '_'))
			needed = 1;
		if (c == '\\' && i + 1 < len &&
		    (t[i + 1] == 'x' || t[i + 1] == 'u' || t[i + 1] == 'U')) {
			size_t n = t[i + 1] == 'x' ? 2 : t[i + 1] == 'u' ? 4 : 8;
			unsigned long v = hex_value(t + i + 2, n, len - i - 2);
			if (v < 256)
				present[v] = 1;
		}
	}
	if (!needed)
		return 0;
	for (const char *c = cand; *c; c++)
		if (!present[(unsigned char)*c])
			return *c;
	return 0;
}

/* Parse sf's text into a tree. *root is NULL for an empty file. Returns 0, or -1 when the
 * file could not be parsed (reported). */
static int parse_yaml(loader *ld, const srcfile *sf, node **root)
{
	*root = NULL;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		ld->oom = 1;
		return -1;
	}
	markmap mm = {sf->text, sf->len, 0, 0, 0};
	if (sf->len >= 3 && memcmp(sf->text, "\xef\xbb\xbf", 3) == 0)
		mm.base = mm.bytes = 3;
	const char *input = sf->text;
	char ph = pick_placeholder(sf->text, sf->len);
	if (ph) {
		char *copy = fx_arena_memdup(&ld->scratch, sf->text, sf->len ? sf->len : 1);
		if (!copy) {
			ld->oom = 1;
			yaml_parser_delete(&p);
			return -1;
		}
		for (size_t i = 0; i + 1 < sf->len; i++)
			if (copy[i] == '?' &&
			    (is_alpha((unsigned char)copy[i + 1]) || copy[i + 1] == '_'))
				copy[i] = ph;
		input = copy;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)input + mm.base, sf->len - mm.base);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

	gvec stack = {0};
	size_t skip = 0; /* > 0: inside a collection nested too deeply, being skipped */
	int ndocs = 0, done = 0, rc = 0, toodeep = 0;
	while (!done && !ld->oom) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_failure(ld, sf, &p, &mm);
			rc = -1;
			break;
		}
		int opens =
		        ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
		int closes =
		        ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT;
		if (ev.type == YAML_STREAM_END_EVENT) {
			done = 1;
		} else if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (++ndocs > 1) {
				err_at(ld, "yaml",
				       pos_at(sf, mark_offset(&mm, ev.start_mark.index)), 3,
				       "a rule file holds one YAML document; this one and what "
				       "follows are "
				       "ignored");
				done = 1;
			}
		} else if (skip) {
			skip += opens;
			skip -= closes;
		} else if (closes) {
			frame *top = (frame *)stack.p + stack.n - 1;
			node *n = top->n;
			gvec kids = top->kids;
			stack.n--;
			n->nkids = kids.n;
			if (kids.n) {
				n->kids = fx_arena_memdup(&ld->scratch, kids.p,
				                          kids.n * sizeof(node *));
				if (!n->kids)
					ld->oom = 1;
			}
			gv_free(&kids);
			attach(ld, &stack, root, n);
		} else if (opens || ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT) {
			node *n = fx_arena_alloc(&ld->scratch, sizeof *n);
			if (!n) {
				ld->oom = 1;
				yaml_event_delete(&ev);
				break;
			}
			n->src = sf;
			n->off = mark_offset(&mm, ev.start_mark.index);
			n->end = n->off;
			const yaml_char_t *tag = NULL;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = N_SCALAR;
				n->end = mark_offset(&mm, ev.end_mark.index);
				switch (ev.data.scalar.style) {
				case YAML_SINGLE_QUOTED_SCALAR_STYLE:
					n->style = S_SINGLE;
					break;
				case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
					n->style = S_DOUBLE;
					break;
				case YAML_LITERAL_SCALAR_STYLE:
				case YAML_FOLDED_SCALAR_STYLE:
					n->style = S_BLOCK;
					break;
				default:
					n->style = S_PLAIN;
					break;
				}
				n->len = ev.data.scalar.length;
				char *text = fx_arena_strndup(
				        &ld->scratch, (const char *)ev.data.scalar.value, n->len);
				if (!text)
					ld->oom = 1;
				for (size_t i = 0; ph && text && i < n->len; i++)
					if (text[i] == ph)
						text[i] = '?';
				n->text = text;
				tag = ev.data.scalar.tag;
				/* A tagged scalar is dropped; a tagged collection is kept (only the tag is wrong). */
				if (check_tag(ld, n, tag) != 0)
					n->kind = N_BAD;
				tag = NULL;
			} else if (ev.type == YAML_ALIAS_EVENT) {
				n->kind = N_BAD;
				err_at(ld, "alias", npos(n), rest_of_line(sf, n->off),
				       "YAML aliases (*name) are not supported in rule files");
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP;
				tag = ev.type == YAML_SEQUENCE_START_EVENT
				              ? ev.data.sequence_start.tag
				              : ev.data.mapping_start.tag;
			}
			if (tag)
				check_tag(ld, n, tag);
			if (opens && stack.n >= MAX_NESTING) {
				if (!toodeep)
					err_at(ld, "too-deep", npos(n), 1,
					       "lists and mappings are nested more than %d deep",
					       MAX_NESTING);
				toodeep = 1;
				n->kind = N_BAD;
				skip = 1;
				attach(ld, &stack, root, n);
			} else if (opens) {
				frame *f = gv_push(ld, &stack, sizeof(frame));
				if (f)
					f->n = n;
			} else {
				attach(ld, &stack, root, n);
			}
		}
		yaml_event_delete(&ev);
	}
	for (size_t i = 0; i < stack.n; i++)
		gv_free(&((frame *)stack.p)[i].kids);
	gv_free(&stack);
	yaml_parser_delete(&p);
	if (ld->oom)
		rc = -1;
	if (rc)
		*root = NULL;
	return rc;
}

/* ============================================================================================
 * Mappings with a fixed set of keys
 * ========================================================================================== */

/* Walk mapping m whose keys must be among keys[0..nkeys): vals[i] and knodes[i] receive the
 * value and key of keys[i] (NULL when absent). Unknown, repeated and non-scalar keys are
 * reported; `what` names the mapping in messages ("a rule"), which list keys[0..nlisted) as
 * the allowed ones (the rest are taken only to be refused with a better message). Returns
 * the number of keys reported. */
static int take_keys_listing(loader *ld, const node *m, const char *const *keys, size_t nkeys,
                             size_t nlisted, const node **vals, const node **knodes,
                             const char *what)
{
	int bad = 0;
	for (size_t i = 0; i < nkeys; i++) {
		vals[i] = NULL;
		if (knodes)
			knodes[i] = NULL;
	}
	for (size_t k = 0; k + 1 < m->nkids; k += 2) {
		const node *key = m->kids[k], *val = m->kids[k + 1];
		if (key->kind != N_SCALAR) {
			err_shape(ld, key, "a scalar", "a key");
			bad++;
			continue;
		}
		size_t i = 0;
		while (i < nkeys && !text_is(key, keys[i]))
			i++;
		if (i == nkeys) {
			bad++;
			fx_buf list;
			fx_buf_init(&list);
			for (size_t j = 0; j < nlisted && j < nkeys; j++)
				fx_buf_printf(&list, "%s%s", j ? ", " : "", keys[j]);
			err(ld, "unknown-key", key, "unknown key '%s' in %s; expected one of: %s",
			    shown(ld, key), what, fx_buf_cstr(&list));
			if (list.oom)
				ld->oom = 1;
			fx_buf_dispose(&list);
		} else if (vals[i]) {
			err(ld, "duplicate-key", key, "key '%s' appears twice in %s", keys[i],
			    what);
			bad++;
		} else {
			vals[i] = val;
			if (knodes)
				knodes[i] = key;
		}
	}
	return bad;
}

static int take_keys(loader *ld, const node *m, const char *const *keys, size_t nkeys,
                     const node **vals, const node **knodes, const char *what)
{
	return take_keys_listing(ld, m, keys, nkeys, nkeys, vals, knodes, what);
}

/* For mappings whose keys are names (slots, templates): report key if it repeats one met
 * before in the same mapping, identified by ns (a fresh number per mapping). Returns 1 then. */
static int repeated_key(loader *ld, uint32_t ns, const node *key, const char *what)
{
	uint32_t v;
	if (ht_get(&ld->seen, ns, key->text, key->len, &v)) {
		err(ld, "duplicate-key", key, "%s '%s' appears twice", what, shown(ld, key));
		return 1;
	}
	ht_set(ld, &ld->seen, ns, key->text, key->len, 0);
	return 0;
}

/* ============================================================================================
 * Files, directories and includes
 * ========================================================================================== */

static void load_path(loader *ld, const char *path, const node *from, int depth);

/* A file or directory that cannot be read: at the include entry that named it, or with the
 * path alone for a path given by the caller. */
static void io_error(loader *ld, const char *path, const node *from, const char *what)
{
	ld->io = 1;
	if (from) {
		err(ld, "include", from, "cannot read '%s': %s", show(ld, path, strlen(path)),
		    what);
		return;
	}
	fx_pos p = {astr(ld, ld->arena, path, strlen(path)), 0, 0};
	err_at(ld, "io", p, 1, "cannot read '%s': %s", show(ld, path, strlen(path)), what);
}

static const char *join_path(loader *ld, const char *dir, size_t dlen, const char *name,
                             size_t nlen)
{
	int slash = dlen > 0 && dir[dlen - 1] != '/';
	if (dlen > SIZE_MAX / 2 || nlen > SIZE_MAX / 2) {
		ld->oom = 1;
		return NULL;
	}
	char *p = fx_arena_alloc(ld->arena, dlen + (size_t)slash + nlen + 1);
	if (!p) {
		ld->oom = 1;
		return NULL;
	}
	memcpy(p, dir, dlen);
	if (slash)
		p[dlen] = '/';
	memcpy(p + dlen + slash, name, nlen);
	p[dlen + (size_t)slash + nlen] = '\0';
	return p;
}

static void load_includes(loader *ld, const srcfile *sf, const node *v, int depth);

/* Read the text of a file or buffer named `name` (both in the arena) and what it includes. */
/* A new source file in ld->files, its lines indexed and the reporter told of it. NULL when out
 * of memory (ld->oom set). */
static srcfile *new_srcfile(loader *ld, const char *name, const char *dir, const char *text,
                            size_t len)
{
	srcfile *sf = fx_arena_alloc(&ld->scratch, sizeof *sf);
	if (!sf) {
		ld->oom = 1;
		return NULL;
	}
	srcfile **fs = gv_push(ld, &ld->files, sizeof(srcfile *));
	if (!fs)
		return NULL;
	*fs = sf;
	sf->name = name;
	sf->dir = dir;
	sf->text = text;
	sf->len = len;
	gvec lines = {0};
	size_t *l0 = gv_push(ld, &lines, sizeof(size_t));
	if (l0)
		*l0 = 0;
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++) {
		size_t *l = gv_push(ld, &lines, sizeof(size_t));
		if (!l)
			break;
		*l = (size_t)(p - text) + 1;
	}
	if (!ld->oom) {
		sf->lines = fx_arena_memdup(&ld->scratch, lines.p, lines.n * sizeof(size_t));
		sf->nlines = sf->lines ? lines.n : 0;
		sf->last = fx_arena_alloc(&ld->scratch, sizeof *sf->last); /* NULL: no cache */
	}
	gv_free(&lines);
	if (fx_reporter_add_source(ld->rep, name, text, len) != 0 || ld->oom) {
		ld->oom = 1;
		return NULL;
	}
	return sf;
}

/* Load one rule file from its YAML text. */
static void load_text(loader *ld, const char *name, const char *dir, const char *text, size_t len,
                      int depth)
{
	srcfile *sf = new_srcfile(ld, name, dir, text, len);
	if (!sf)
		return;
	node *root;
	if (parse_yaml(ld, sf, &root) != 0)
		return;
	if (root && !is_null(root)) {
		if (root->kind != N_MAP) {
			err_shape(ld, root,
			          "a mapping of sections (include, templates, facts, rules, "
			          "patterns, remedies, questions, cases, findings)",
			          "a rule file");
			return;
		}
		static const char *const keys[] = {"include",   "templates", "facts",
		                                   "rules",     "patterns",  "remedies",
		                                   "questions", "cases",     "findings"};
		const node *vals[9], *knodes[9];
		take_keys(ld, root, keys, 9, vals, knodes, "a rule file");
		if (vals[0])
			load_includes(ld, sf, vals[0], depth);
		sf->sect[SEC_TEMPLATES] = vals[1];
		sf->sect[SEC_FACTS] = vals[2];
		sf->sect[SEC_RULES] = vals[3];
		sf->sect[SEC_PATTERNS] = vals[4];
		sf->sect[SEC_REMEDIES] = vals[5];
		sf->remedies_key = knodes[5];
		sf->sect[SEC_QUESTIONS] = vals[6];
		sf->questions_key = knodes[6];
		sf->sect[SEC_CASES] = vals[7];
		sf->sect[SEC_FINDINGS] = vals[8];
		sf->findings_key = knodes[8];
	}
	srcfile **u = gv_push(ld, &ld->units, sizeof(srcfile *));
	if (u)
		*u = sf;
}


/* path is in the arena. */
static void load_file(loader *ld, const char *path, const node *from, int depth)
{
	char *real = realpath(path, NULL);
	if (!real) {
		io_error(ld, path, from, errno_text(errno));
		return;
	}
	uint32_t seen;
	size_t rlen = strlen(real);
	if (ht_get(&ld->names, NS_FILE, real, rlen, &seen)) {
		free(real);
		return; /* loaded already */
	}
	const char *key = astr(ld, &ld->scratch, real, rlen);
	free(real);
	if (!key || ht_set(ld, &ld->names, NS_FILE, key, rlen, 0) != 0)
		return;

	FILE *f = fopen(path, "rb");
	if (!f) {
		io_error(ld, path, from, errno_text(errno));
		return;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *problem = NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_SIZE) {
				problem = "larger than 64 MiB";
				break;
			}
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				ld->oom = 1;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				problem = errno_text(errno ? errno : EIO);
			break;
		}
	}
	fclose(f);
	const char *text = NULL;
	if (!problem && !ld->oom)
		text = astr(ld, ld->arena, buf ? buf : "", len);
	free(buf);
	if (problem)
		io_error(ld, path, from, problem);
	if (!text)
		return;
	const char *slash = strrchr(path, '/');
	const char *dir = slash ? astr(ld, &ld->scratch, path, (size_t)(slash - path) + 1) : "";
	if (dir)
		load_text(ld, path, dir, text, len, depth);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int yaml_name(const char *s)
{
	size_t l = strlen(s);
	if (s[0] == '.')
		return 0; /* hidden files, editors' lock files */
	return (l > 5 && strcmp(s + l - 5, ".yaml") == 0) ||
	       (l > 4 && strcmp(s + l - 4, ".yml") == 0);
}

/* A directory: its *.yaml and *.yml regular files, in strcmp order, not recursively. */
static void load_dir(loader *ld, const char *path, const node *from, int depth)
{
	DIR *d = opendir(path);
	if (!d) {
		io_error(ld, path, from, errno_text(errno));
		return;
	}
	gvec names = {0};
	struct dirent *de;
	while ((de = readdir(d)) != NULL && !ld->oom) {
		if (!yaml_name(de->d_name))
			continue;
		const char *copy = astr(ld, &ld->scratch, de->d_name, strlen(de->d_name));
		const char **slot = gv_push(ld, &names, sizeof(char *));
		if (copy && slot)
			*slot = copy;
	}
	closedir(d);
	if (names.n > 1)
		qsort(names.p, names.n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < names.n && !ld->oom; i++) {
		const char *nm = ((const char **)names.p)[i];
		const char *full = join_path(ld, path, strlen(path), nm, strlen(nm));
		struct stat st;
		if (!full)
			break;
		if (stat(full, &st) != 0)
			io_error(ld, full, from, errno_text(errno));
		else if (S_ISREG(st.st_mode))
			load_file(ld, full, from, depth);
	}
	gv_free(&names);
}

static void load_path(loader *ld, const char *path, const node *from, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0)
		io_error(ld, path, from, errno_text(errno));
	else if (S_ISDIR(st.st_mode))
		load_dir(ld, path, from, depth);
	else if (S_ISREG(st.st_mode))
		load_file(ld, path, from, depth);
	else
		io_error(ld, path, from, "not a regular file or directory");
}

static void include_one(loader *ld, const srcfile *sf, const node *e, int depth)
{
	if (e->kind != N_SCALAR) {
		err_shape(ld, e, "a file or directory path", "an include entry");
		return;
	}
	if (e->len == 0 || memchr(e->text, '\0', e->len)) {
		err(ld, "include", e, "an include entry must be a file or directory path");
		return;
	}
	if (depth >= MAX_INCLUDE_DEPTH) {
		err(ld, "include", e, "includes are nested more than %d deep", MAX_INCLUDE_DEPTH);
		return;
	}
	const char *path = e->text[0] == '/'
	                           ? astr(ld, ld->arena, e->text, e->len)
	                           : join_path(ld, sf->dir, strlen(sf->dir), e->text, e->len);
	if (path)
		load_path(ld, path, e, depth + 1);
}

static void load_includes(loader *ld, const srcfile *sf, const node *v, int depth)
{
	if (is_null(v))
		return;
	if (v->kind == N_SCALAR) {
		include_one(ld, sf, v, depth);
	} else if (v->kind == N_SEQ) {
		for (size_t i = 0; i < v->nkids && !ld->oom; i++)
			include_one(ld, sf, v->kids[i], depth);
	} else {
		err_shape(ld, v, "a list of paths", "include");
	}
}

/* ============================================================================================
 * Values and types
 * ========================================================================================== */

static fx_type type_by_name(const node *n)
{
	static const char *const names[] = {"symbol", "string", "integer", "float", "boolean"};
	static const fx_type types[] = {FX_SYMBOL, FX_STRING, FX_INTEGER, FX_FLOAT, FX_BOOLEAN};
	for (size_t i = 0; i < 5; i++)
		if (text_is(n, names[i]))
			return types[i];
	return FX_NIL;
}

static const char *a_type(fx_type t)
{
	switch (t) {
	case FX_SYMBOL:
		return "a symbol";
	case FX_STRING:
		return "a string";
	case FX_INTEGER:
		return "an integer";
	case FX_FLOAT:
		return "a float";
	case FX_BOOLEAN:
		return "a boolean";
	default:
		return "of unknown type";
	}
}

/* Decimal integer, optionally signed. 1 ok, 0 not an integer, -1 out of range. */
static int parse_int(const char *s, size_t len, int64_t *out)
{
	int r = fx_parse_int(s, len, out);
	return r == 2 ? -1 : r;
}

/* A decimal number: [+-] digits [. digits] [e [+-] digits]. 1 ok, 0 not a number, -1 out of
 * range. */
static int parse_float(loader *ld, const char *s, size_t len, double *out)
{
	int r = fx_parse_float(s, len, out);
	if (r == FX_ENOMEM) {
		ld->oom = 1;
		return 0;
	}
	return r == 2 ? -1 : r;
}

static void type_error(loader *ld, fx_pos pos, unsigned span, const char *tname, const char *sname,
                       fx_type type, const char *expected, const char *s, size_t len)
{
	err_at(ld, "type", pos, span, "slot '%s' of template '%s' is %s: expected %s, found '%s'",
	       sname, tname, a_type(type), expected, show(ld, s, len));
}

/* Convert text to a value of `type` for slot sname of template tname. 0, or -1 after
 * reporting. A slot of unknown type (its declaration was wrong) takes anything. */
static int conv(loader *ld, const char *s, size_t len, fx_type type, fx_pos pos, unsigned span,
                const char *tname, const char *sname, fx_val *out)
{
	const char *expected;
	int r;
	switch (type) {
	case FX_SYMBOL:
	case FX_STRING: {
		const fx_atom *a = fx_atoms_intern(ld->atoms, s, len);
		if (!a) {
			ld->oom = 1;
			return -1;
		}
		*out = fx_val_atom(type, a);
		return 0;
	}
	case FX_INTEGER: {
		int64_t i;
		if ((r = parse_int(s, len, &i)) == 1) {
			*out = fx_val_int(i);
			return 0;
		}
		expected = r ? "an integer within 64 bits" : "a decimal integer";
		break;
	}
	case FX_FLOAT: {
		double d;
		if ((r = parse_float(ld, s, len, &d)) == 1) {
			*out = fx_val_float(d);
			return 0;
		}
		expected = r ? "a number within the range of a double" : "a number";
		break;
	}
	case FX_BOOLEAN:
		if (len == 4 && memcmp(s, "true", 4) == 0) {
			*out = fx_val_bool(1);
			return 0;
		}
		if (len == 5 && memcmp(s, "false", 5) == 0) {
			*out = fx_val_bool(0);
			return 0;
		}
		expected = "true or false";
		break;
	default:
		*out = fx_val_nil();
		return 0;
	}
	type_error(ld, pos, span, tname, sname, type, expected, s, len);
	return -1;
}

/* A constant with no slot to give it a type (bind and print values): quoted text is a string;
 * plain text is an integer, a float or a boolean when it reads as one, else a symbol. */
static int conv_untyped(loader *ld, const node *n, fx_val *out)
{
	int64_t i;
	double d;
	if (n->style == S_PLAIN) {
		if (parse_int(n->text, n->len, &i) == 1) {
			*out = fx_val_int(i);
			return 0;
		}
		if (parse_float(ld, n->text, n->len, &d) == 1) {
			*out = fx_val_float(d);
			return 0;
		}
		if (text_is(n, "true") || text_is(n, "false")) {
			*out = fx_val_bool(text_is(n, "true"));
			return 0;
		}
	}
	const fx_atom *a = fx_atoms_intern(ld->atoms, n->text, n->len);
	if (!a) {
		ld->oom = 1;
		return -1;
	}
	*out = fx_val_atom(n->style == S_PLAIN ? FX_SYMBOL : FX_STRING, a);
	return 0;
}

static fx_val zero_value(loader *ld, fx_type t)
{
	const fx_atom *a;
	switch (t) {
	case FX_SYMBOL:
	case FX_STRING:
		a = fx_atoms_intern(ld->atoms, t == FX_SYMBOL ? "nil" : "", t == FX_SYMBOL ? 3 : 0);
		if (!a) {
			ld->oom = 1;
			return fx_val_nil();
		}
		return fx_val_atom(t, a);
	case FX_INTEGER:
		return fx_val_int(0);
	case FX_FLOAT:
		return fx_val_float(0.0);
	case FX_BOOLEAN:
		return fx_val_bool(0);
	default:
		return fx_val_nil();
	}
}

/* ============================================================================================
 * Templates
 * ========================================================================================== */

static fx_template_def *tmpl_at(loader *ld, uint32_t i)
{
	return &((fx_template_def *)ld->tmpls.p)[i];
}

static uint32_t find_template(loader *ld, const node *key)
{
	uint32_t i;
	return ht_get(&ld->names, NS_TEMPLATE, key->text, key->len, &i) ? i : NONE;
}

static uint32_t find_slot(loader *ld, uint32_t tmpl, const node *key)
{
	uint32_t i;
	return ht_get(&ld->slots, tmpl, key->text, key->len, &i) ? i : NONE;
}

static int reserved_name(const node *n)
{
	static const char *const names[] = {"as", "id", "not", "exists", "test", "and", "or"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (text_is(n, names[i]))
			return 1;
	return 0;
}

/* The id value v of a definition (parent is its mapping). Reports a missing, non-scalar or
 * malformed id; returns the name (even when malformed, so that its uses do not cascade), or
 * NULL. */
static const char *take_id(loader *ld, const node *v, const node *parent, const char *what)
{
	if (!v) {
		err(ld, "missing-key", parent, "%s needs an id", what);
		return NULL;
	}
	if (v->kind != N_SCALAR) {
		err_shape(ld, v, "a name", "an id");
		return NULL;
	}
	if (!valid_id(v->text, v->len))
		err(ld, "bad-id", v,
		    "'%s' is not a valid id: an id starts with a letter or '_' and holds "
		    "letters, digits, '-', '_' and '.'",
		    shown(ld, v));
	return astr(ld, ld->arena, v->text, v->len);
}

static void unknown_slot(loader *ld, uint32_t tmpl, const node *key)
{
	const fx_template_def *td = tmpl_at(ld, tmpl);
	fx_buf list;
	fx_buf_init(&list);
	for (uint32_t i = 0; i < td->nslots && i < 24; i++)
		fx_buf_printf(&list, "%s%s", i ? ", " : "", td->slots[i].name);
	if (td->nslots > 24)
		fx_buf_puts(&list, ", ...");
	if (td->nslots)
		err(ld, "unknown-slot", key, "template '%s' has no slot '%s'; its slots are: %s",
		    td->name, shown(ld, key), fx_buf_cstr(&list));
	else
		err(ld, "unknown-slot", key, "template '%s' has no slot '%s'; it has no slots",
		    td->name, shown(ld, key));
	fx_buf_dispose(&list);
}

#define KEY_BAD (NONE - 1)

/* A key of a mapping of slots (to values or constraints): the slot's index, after checking that
 * the key is a name seen once in mapping ns. KEY_BAD when the key itself is wrong; NONE when the
 * template is unknown or has no such slot. Problems are reported here. */
static uint32_t slot_key(loader *ld, uint32_t ns, uint32_t tmpl, const node *key)
{
	if (key->kind != N_SCALAR) {
		err_shape(ld, key, "a slot name", "a key");
		return KEY_BAD;
	}
	if (repeated_key(ld, ns, key, "slot"))
		return KEY_BAD;
	if (tmpl == NONE)
		return NONE;
	uint32_t si = find_slot(ld, tmpl, key);
	if (si == NONE)
		unknown_slot(ld, tmpl, key);
	return si;
}

/* One slot declaration: `name: type` or `name: {type: t, default: v, doc: text}`. */
static void load_slot(loader *ld, const char *tname, const node *key, const node *val,
                      fx_slot_def *sd)
{
	const node *tnode = val, *dflt = NULL;
	sd->type = FX_NIL;
	if (val->kind == N_MAP) {
		static const char *const keys[] = {"type", "default", "doc"};
		const node *v[3];
		take_keys(ld, val, keys, 3, v, NULL, "a slot declaration");
		tnode = v[0];
		dflt = v[1];
		if (v[2]) {
			if (v[2]->kind == N_SCALAR)
				sd->doc = astr(ld, ld->arena, v[2]->text, v[2]->len);
			else
				err_shape(ld, v[2], "text", "doc");
		}
		if (!tnode) {
			err(ld, "missing-key", key,
			    "slot '%s' needs a type (symbol, string, integer, float or "
			    "boolean)",
			    sd->name);
			return;
		}
	}
	if (tnode->kind == N_BAD)
		return;
	if (tnode->kind != N_SCALAR || is_null(tnode)) {
		err(ld, tnode->kind == N_SCALAR ? "missing-key" : "shape",
		    tnode->kind == N_SCALAR ? key : tnode,
		    "slot '%s' needs a type: symbol, string, integer, float or boolean, or a "
		    "mapping with "
		    "type, default and doc",
		    sd->name);
		return;
	}
	sd->type = type_by_name(tnode);
	if (sd->type == FX_NIL) {
		err(ld, "unknown-type", tnode,
		    "unknown type '%s' for slot '%s'; expected symbol, string, "
		    "integer, float or boolean",
		    shown(ld, tnode), sd->name);
		return;
	}
	sd->dflt = zero_value(ld, sd->type);
	if (dflt) {
		if (dflt->kind != N_SCALAR)
			err_shape(ld, dflt, "a value", "a default");
		else if (conv(ld, dflt->text, dflt->len, sd->type, npos(dflt), node_span(dflt),
		              tname, sd->name, &sd->dflt) != 0)
			sd->dflt = zero_value(ld, sd->type);
	}
}

static void load_template(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id, doc and slots", "a template");
		return;
	}
	static const char *const keys[] = {"id", "doc", "slots"};
	const node *v[3];
	take_keys(ld, item, keys, 3, v, NULL, "a template");
	const char *name = take_id(ld, v[0], item, "a template");
	if (!name)
		return;
	if (reserved_name(v[0])) {
		err(ld, "reserved-name", v[0],
		    "'%s' cannot name a template: as, id, not, exists, test, and, "
		    "or are keys of the rule language",
		    name);
		return;
	}
	uint32_t prev = find_template(ld, v[0]);
	if (prev != NONE) {
		fx_pos p = tmpl_at(ld, prev)->pos;
		if (p.file == ld->prelude)
			err(ld, "duplicate-id", v[0],
			    "template '%s' is built in (defined in %s): use it as it is, or "
			    "choose another name",
			    name, p.file);
		else
			err(ld, "duplicate-id", v[0],
			    "template '%s' is already defined at %s:%u:%u", name, p.file,
			    (unsigned)p.line, (unsigned)p.col);
		return;
	}
	if (ld->tmpls.n >= NONE - 1)
		return;
	uint32_t idx = (uint32_t)ld->tmpls.n;
	fx_template_def td;
	memset(&td, 0, sizeof td);
	td.name = name;
	td.index = idx;
	td.pos = npos(v[0]);
	if (v[1]) {
		if (v[1]->kind == N_SCALAR)
			td.doc = astr(ld, ld->arena, v[1]->text, v[1]->len);
		else
			err_shape(ld, v[1], "text", "doc");
	}
	gvec slots = {0};
	const node *sl = v[2];
	if (sl && !is_null(sl)) {
		if (sl->kind != N_MAP) {
			err_shape(ld, sl, "a mapping of slot names to types", "slots");
		} else {
			uint32_t ns = ++ld->nseen;
			for (size_t i = 0; i + 1 < sl->nkids && !ld->oom; i += 2) {
				const node *key = sl->kids[i], *val = sl->kids[i + 1];
				if (key->kind != N_SCALAR) {
					err_shape(ld, key, "a name", "a slot name");
					continue;
				}
				if (repeated_key(ld, ns, key, "slot"))
					continue;
				if (!valid_id(key->text, key->len))
					err(ld, "bad-id", key,
					    "'%s' is not a valid slot name: it starts with a "
					    "letter or "
					    "'_' and holds letters, digits, '-', '_' and '.'",
					    shown(ld, key));
				fx_slot_def sd;
				memset(&sd, 0, sizeof sd);
				sd.name = astr(ld, ld->arena, key->text, key->len);
				sd.pos = npos(key);
				if (!sd.name)
					break;
				load_slot(ld, name, key, val, &sd);
				uint32_t si = (uint32_t)slots.n;
				fx_slot_def *p = gv_push(ld, &slots, sizeof sd);
				if (!p || ht_set(ld, &ld->slots, idx, key->text, key->len, si) != 0)
					break;
				*p = sd;
			}
		}
	}
	td.slots = gv_finish(ld, ld->arena, &slots, sizeof(fx_slot_def), &td.nslots);
	fx_template_def *p = gv_push(ld, &ld->tmpls, sizeof td);
	if (!p)
		return;
	*p = td;
	ht_set(ld, &ld->names, NS_TEMPLATE, v[0]->text, v[0]->len, idx);
}

/* ============================================================================================
 * Names of remedies
 * ========================================================================================== */

#define SUGGEST_BUDGET ((uint64_t)1 << 26)

/* Edit distance between a and b when it is at most 2, else 3. Names longer than 64 bytes are
 * not compared (3). ld->suggest_work counts the work done for suggestions, so that many
 * misspelt names against many remedies stay cheap: past SUGGEST_BUDGET, suggestions stop. */
static unsigned edit_distance(loader *ld, const char *a, size_t la, const char *b, size_t lb)
{
	enum {
		MAXN = 64
	};
	ld->suggest_work++;
	if (la > MAXN || lb > MAXN || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	ld->suggest_work += (uint64_t)(la + 1) * (lb + 1);
	unsigned row[MAXN + 1], prev[MAXN + 1];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, row, (lb + 1) * sizeof *row);
	}
	return prev[lb] < 3 ? prev[lb] : 3;
}

/* Report text[0..len) at pos as naming no `kind` ("remedy", "question"): suggest the
 * definition whose id is within two edits, or else say where such ids are defined (sec, the
 * first section key). defs holds n definitions, stride bytes apart, with their name and pos at
 * the given offsets. */
static void unknown_name(loader *ld, const char *code, const char *kind, const node *sec,
                         const void *defs, size_t n, size_t stride, size_t name_off,
                         size_t pos_off, const char *text, size_t len, fx_pos pos,
                         unsigned span)
{
	const char *best = NULL;
	fx_pos bpos = {NULL, 0, 0};
	unsigned bestd = 3;
	for (size_t k = 0; k < n && bestd > 1 && ld->suggest_work < SUGGEST_BUDGET; k++) {
		const char *d = (const char *)defs + k * stride;
		const char *name;
		memcpy(&name, d + name_off, sizeof name);
		unsigned dist = edit_distance(ld, text, len, name, strlen(name));
		if (dist < bestd) {
			bestd = dist;
			best = name;
			memcpy(&bpos, d + pos_off, sizeof bpos);
		}
	}
	if (best) {
		err_at(ld, code, pos, span, "no %s named '%s'; did you mean '%s' (defined at %s:%u:%u)?",
		       kind, show(ld, text, len), best, bpos.file, (unsigned)bpos.line,
		       (unsigned)bpos.col);
		return;
	}
	fx_pos sp = npos(sec);
	err_at(ld, code, pos, span,
	       "no %s named '%s'; %s are defined in the %s: sections (one is at %s:%u:%u)", kind,
	       show(ld, text, len), sec->text, sec->text, sp.file, (unsigned)sp.line,
	       (unsigned)sp.col);
}

/* A name of a remedy must be defined in a `remedies:` section, when the knowledge base has
 * one: a typo would otherwise make a recommendation nobody can follow, or a `tried` test (or
 * a case's expectation) that never holds. */
static void check_remedy_name(loader *ld, const char *text, size_t len, fx_pos pos,
                              unsigned span)
{
	uint32_t i;
	if (!ld->remedies_sec || ht_get(&ld->names, NS_REMEDY, text, len, &i))
		return;
	unknown_name(ld, "unknown-remedy", "remedy", ld->remedies_sec, ld->remedies.p,
	             ld->remedies.n, sizeof(fx_remedy_def), offsetof(fx_remedy_def, name),
	             offsetof(fx_remedy_def, pos), text, len, pos, span);
}

/* Likewise a question's id, when the knowledge base has a `questions:` section: an `ask` of
 * an undeclared question could never be put to the user. */
static void check_question_name(loader *ld, const char *text, size_t len, fx_pos pos,
                                unsigned span)
{
	uint32_t i;
	if (!ld->questions_sec || ht_get(&ld->names, NS_QUESTION, text, len, &i))
		return;
	unknown_name(ld, "unknown-question", "question", ld->questions_sec, ld->questions.p,
	             ld->questions.n, sizeof(fx_question_def), offsetof(fx_question_def, name),
	             offsetof(fx_question_def, pos), text, len, pos, span);
}

/* Likewise a finding's id, when the knowledge base has a `findings:` section: a finding
 * concluded or named without a description would be shown by its bare id. */
static void check_finding_name(loader *ld, const char *text, size_t len, fx_pos pos,
                               unsigned span)
{
	uint32_t i;
	if (!ld->findings_sec || ht_get(&ld->names, NS_FINDING, text, len, &i))
		return;
	unknown_name(ld, "unknown-finding", "finding", ld->findings_sec, ld->findings.p,
	             ld->findings.n, sizeof(fx_finding_def), offsetof(fx_finding_def, name),
	             offsetof(fx_finding_def, pos), text, len, pos, span);
}

/* A constant v written for slot sd: when sd is one whose values name remedies
 * (recommend.remedy, tried.remedy), questions (ask.question, answer.question) or findings
 * (finding.id, recommend.finding), the name must be defined. */
static void check_name(loader *ld, const fx_slot_def *sd, fx_val v, fx_pos pos, unsigned span)
{
	if (!sd || (v.type != FX_SYMBOL && v.type != FX_STRING))
		return;
	const fx_atom *a = v.u.a;
	if (sd == ld->remedy_slots[0] || sd == ld->remedy_slots[1])
		check_remedy_name(ld, a->text, a->len, pos, span);
	else if (sd == ld->question_slots[0] || sd == ld->question_slots[1])
		check_question_name(ld, a->text, a->len, pos, span);
	else if (sd == ld->finding_slots[0] || sd == ld->finding_slots[1])
		check_finding_name(ld, a->text, a->len, pos, span);
}

/* ============================================================================================
 * Facts
 * ========================================================================================== */

/* One fact written as in `facts:` (constant values, defaults filled in) into *fd. with_id: an
 * `id:` key may name it (initial facts); elsewhere (a question's answers) `id` is no key of a
 * fact. *idv receives the id's node, if any. Returns 0, or -1 after reporting. */
static int read_fact(loader *ld, const node *item, int with_id, fx_fact_def *fd, const node **idvp)
{
	memset(fd, 0, sizeof *fd);
	*idvp = NULL;
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping such as {person: {name: x}}", "a fact");
		return -1;
	}
	const node *idv = NULL, *tkey = NULL, *tval = NULL;
	for (size_t i = 0; i + 1 < item->nkids; i += 2) {
		const node *key = item->kids[i];
		if (key->kind != N_SCALAR) {
			err_shape(ld, key, "a template name or id", "a key of a fact");
		} else if (text_is(key, "id") && !with_id) {
			err(ld, "unknown-key", key,
			    "a fact here has no id: only initial facts (facts:) are named");
		} else if (text_is(key, "id")) {
			if (idv)
				err(ld, "duplicate-key", key, "key 'id' appears twice in a fact");
			else
				idv = item->kids[i + 1];
		} else if (tkey) {
			err(ld, "shape", key, "a fact has one template key; '%s' follows '%s'",
			    shown(ld, key), shown(ld, tkey));
		} else {
			tkey = key;
			tval = item->kids[i + 1];
		}
	}
	const char *id = NULL;
	if (idv) {
		id = take_id(ld, idv, item, "a fact");
		uint32_t prev;
		if (id && ht_get(&ld->names, NS_FACT, idv->text, idv->len, &prev)) {
			fx_pos p = ((fx_fact_def *)ld->facts.p)[prev].pos;
			err(ld, "duplicate-id", idv, "fact '%s' is already defined at %s:%u:%u", id,
			    p.file, (unsigned)p.line, (unsigned)p.col);
			id = NULL;
		}
	}
	if (!tkey) {
		err(ld, "missing-key", item,
		    "a fact needs a template key, as in `- person: {name: x}`");
		return -1;
	}
	uint32_t ti = find_template(ld, tkey);
	if (ti == NONE) {
		err(ld, "unknown-template", tkey, "no template named '%s'", shown(ld, tkey));
		return -1;
	}
	const fx_template_def *td = tmpl_at(ld, ti);
	fd->id = id;
	fd->tmpl = ti;
	fd->pos = npos(tkey);
	fd->values = anew(ld, td->nslots, sizeof(fx_val));
	if (!fd->values)
		return -1;
	for (uint32_t i = 0; i < td->nslots; i++)
		fd->values[i] = td->slots[i].dflt;
	int ok = 1;
	if (tval && !is_null(tval)) {
		if (tval->kind != N_MAP) {
			err_shape(ld, tval, "a mapping of slots to values", "a fact's slots");
			ok = 0;
		} else {
			uint32_t ns = ++ld->nseen;
			for (size_t i = 0; i + 1 < tval->nkids; i += 2) {
				const node *key = tval->kids[i], *val = tval->kids[i + 1];
				uint32_t si = slot_key(ld, ns, ti, key);
				if (si == KEY_BAD || si == NONE) {
					ok = 0;
				} else if (val->kind != N_SCALAR) {
					err_shape(ld, val, "a value", "a slot value in a fact");
					ok = 0;
				} else if (conv(ld, val->text, val->len, td->slots[si].type,
				                npos(val), node_span(val), td->name,
				                td->slots[si].name, &fd->values[si]) != 0) {
					ok = 0;
				} else {
					check_name(ld, &td->slots[si], fd->values[si], npos(val),
					           node_span(val));
				}
			}
		}
	}
	*idvp = id ? idv : NULL;
	return ok ? 0 : -1;
}

static void load_fact(loader *ld, const node *item)
{
	fx_fact_def fd;
	const node *idv;
	if (read_fact(ld, item, 1, &fd, &idv) != 0)
		return;
	const char *id = fd.id;
	uint32_t fi = (uint32_t)ld->facts.n;
	fx_fact_def *p = gv_push(ld, &ld->facts, sizeof fd);
	if (!p)
		return;
	*p = fd;
	if (id)
		ht_set(ld, &ld->names, NS_FACT, idv->text, idv->len, fi);
}

/* ============================================================================================
 * Rules: variables and expressions
 * ========================================================================================== */

static varx *var_at(loader *ld, uint32_t id)
{
	return &((varx *)ld->rc->vars.p)[id];
}

/* The id of a variable in scope, or NONE. */
static uint32_t var_find(loader *ld, const char *name, size_t len)
{
	uint32_t id;
	if (!ht_get(&ld->vars, ld->rc->ord, name, len, &id) || id == NONE ||
	    !var_at(ld, id)->visible)
		return NONE;
	return id;
}

static uint32_t var_new(loader *ld, const char *name, size_t len, fx_var_kind kind, uint32_t depth,
                        uint32_t slot, fx_pos pos)
{
	rulectx *rc = ld->rc;
	if (rc->vars.n >= NONE - 1)
		return NONE;
	const char *nm = astr(ld, ld->arena, name, len);
	uint32_t id = (uint32_t)rc->vars.n;
	varx *v = nm ? gv_push(ld, &rc->vars, sizeof *v) : NULL;
	if (!v)
		return NONE;
	v->d.name = nm;
	v->d.kind = kind;
	v->d.depth = depth;
	v->d.slot = slot;
	v->d.pos = pos;
	v->visible = 1;
	if (ht_set(ld, &ld->vars, rc->ord, nm, len, id) != 0)
		return NONE;
	return id;
}

/* Leaving a not/exists: the variables it bound go out of scope. */
static void scope_end(loader *ld, size_t first)
{
	for (size_t i = first; i < ld->rc->vars.n; i++)
		var_at(ld, (uint32_t)i)->visible = 0;
}

/* A use of ?name at pos: its id, or NONE after reporting it unbound. An unbound variable is
 * then made up, so that its further uses are not reported again. */
static uint32_t var_use(loader *ld, const char *name, size_t len, fx_pos pos, unsigned span)
{
	uint32_t id = var_find(ld, name, len);
	if (id != NONE) {
		var_at(ld, id)->used = 1;
		return id;
	}
	uint32_t old;
	if (ht_get(&ld->vars, ld->rc->ord, name, len, &old) && old != NONE) {
		fx_pos b = var_at(ld, old)->d.pos;
		err_at(ld, "unbound-variable", pos, span,
		       "variable ?%s is not bound here: the one bound at "
		       "line %u, column %u is inside a not/exists and visible only there",
		       show(ld, name, len), (unsigned)b.line, (unsigned)b.col);
	} else {
		err_at(ld, "unbound-variable", pos, span,
		       "variable ?%s is not bound here: bind it in a "
		       "pattern before this use",
		       show(ld, name, len));
	}
	id = var_new(ld, name, len, FX_VAR_SLOT, 0, 0, pos);
	if (id != NONE) {
		var_at(ld, id)->poisoned = 1;
		var_at(ld, id)->used = 1;
	}
	return NONE;
}

static fx_expr *x_new(loader *ld, fx_expr_kind kind, fx_pos pos)
{
	fx_expr *e = anew(ld, 1, sizeof *e);
	if (e) {
		e->kind = kind;
		e->pos = pos;
	}
	return e;
}

static fx_expr *x_const(loader *ld, fx_val v, fx_pos pos)
{
	fx_expr *e = x_new(ld, FX_X_CONST, pos);
	if (e)
		e->val = v;
	return e;
}

static fx_expr *x_var(loader *ld, uint32_t var, fx_pos pos)
{
	fx_expr *e = x_new(ld, FX_X_VAR, pos);
	if (e)
		e->var = var;
	return e;
}

/* Where the text handed to the expression parser came from, to map its positions back. */
typedef struct xctx {
	loader *ld;
	const node *n; /* the scalar holding the expression */
	size_t off;    /* offset of the expression's first byte in n's value */
	fx_pos base;   /* the position given to the parser for that byte */
	int reported;  /* the parser reported something through us */
} xctx;

static fx_pos x_map(const xctx *x, fx_pos p, size_t *voff)
{
	*voff = x->off;
	if (p.line != x->base.line || p.col < x->base.col)
		return x->base;
	*voff = x->off + (p.col - x->base.col);
	if (*voff > x->n->len)
		*voff = x->n->len;
	return value_pos(x->n, *voff);
}

static int32_t x_resolve(void *ud, const char *name, size_t len, fx_pos pos)
{
	xctx *x = ud;
	size_t voff;
	fx_pos p = x_map(x, pos, &voff);
	/* The parser points at the '?' or at the name; underline both. */
	if (voff > x->off && x->n->text[voff - 1] == '?')
		p = value_pos(x->n, --voff);
	x->reported = 1;
	uint32_t id = var_use(x->ld, name, len, p, value_span(x->n, voff, len + 1));
	return id == NONE ? -1 : (int32_t)id;
}

static void x_error(void *ud, fx_pos pos, unsigned span, const char *msg)
{
	xctx *x = ud;
	x->reported = 1;
	if (strcmp(msg, "out of memory") == 0) {
		x->ld->oom = 1;
		return;
	}
	size_t voff;
	fx_pos p = x_map(x, pos, &voff);
	if (span > 1)
		span = value_span(x->n, voff, span);
	err_at(x->ld, "bad-expression", p, span, "bad expression: %s", msg);
}

/* Parse n's value [off, off+len) as an expression. NULL after reporting. */
static fx_expr *parse_expr(loader *ld, const node *n, size_t off, size_t len)
{
	xctx x = {ld, n, off, value_pos(n, off), 0};
	fx_expr_parser p = {ld->arena, ld->atoms, x_resolve, x_error, &x};
	fx_expr *e = fx_expr_parse(&p, n->text + off, len, x.base);
	if (!e && !x.reported && !ld->oom)
		err_at(ld, "bad-expression", x.base, value_span(n, off, len), "bad expression");
	return e;
}

/* A constant expression used against slot type t: texts take the slot's kind, integers
 * become floats for float slots; anything else is a type error. `assign`: the value is stored
 * in the slot (so a float does not fit an integer slot; in a comparison it does). */
static int fit_const(loader *ld, fx_expr *e, fx_type t, const char *tname, const char *sname,
                     fx_pos pos, unsigned span, int assign)
{
	fx_val *v = &e->val;
	switch (t) {
	case FX_SYMBOL:
	case FX_STRING:
		if (v->type == FX_SYMBOL || v->type == FX_STRING) {
			v->type = t;
			return 0;
		}
		break;
	case FX_INTEGER:
		if (v->type == FX_INTEGER || (!assign && v->type == FX_FLOAT))
			return 0;
		break;
	case FX_FLOAT:
		if (v->type == FX_INTEGER) {
			*v = fx_val_float((double)v->u.i);
			return 0;
		}
		if (v->type == FX_FLOAT)
			return 0;
		break;
	case FX_BOOLEAN:
		if (v->type == FX_BOOLEAN)
			return 0;
		break;
	default:
		return 0;
	}
	err_at(ld, "type", pos, span, "slot '%s' of template '%s' is %s, but this value is %s",
	       sname, tname, a_type(t), a_type((fx_type)v->type));
	return -1;
}

/* ============================================================================================
 * Rules: slot constraints
 * ========================================================================================== */

typedef struct patctx {
	uint32_t tmpl; /* NONE when unknown: constraints are then read for their variables */
	const char *tname;
	uint32_t depth;
	gvec cons; /* fx_constraint */
} patctx;

/* The slot a constraint is about; sd is NULL when the slot or its template is unknown. */
typedef struct slotref {
	uint32_t slot;
	const fx_slot_def *sd;
} slotref;

static fx_constraint *add_cons(loader *ld, patctx *pc, fx_cons_op op, const slotref *sr, fx_pos pos)
{
	if (!sr->sd)
		return NULL;
	fx_constraint *c = gv_push(ld, &pc->cons, sizeof *c);
	if (c) {
		c->op = op;
		c->slot = sr->slot;
		c->pos = pos;
	}
	return c;
}

static fx_type slot_type(const slotref *sr)
{
	return sr->sd ? sr->sd->type : FX_NIL;
}

static const char *slot_name(const slotref *sr)
{
	return sr->sd ? sr->sd->name : "?";
}

/* ?name in a pattern: binds at its first occurrence, compares after. */
static void cons_var(loader *ld, patctx *pc, const slotref *sr, const char *name, size_t len,
                     fx_pos pos)
{
	uint32_t id = var_find(ld, name, len);
	if (id != NONE) {
		var_at(ld, id)->used = 1;
		fx_expr *a = x_var(ld, id, pos);
		fx_constraint *c = a ? add_cons(ld, pc, FX_C_EQ, sr, pos) : NULL;
		if (c)
			c->arg = a;
		return;
	}
	id = var_new(ld, name, len, FX_VAR_SLOT, pc->depth, sr->sd ? sr->slot : 0, pos);
	if (id == NONE)
		return;
	if (!sr->sd)
		var_at(ld, id)->poisoned = 1;
	fx_constraint *c = add_cons(ld, pc, FX_C_BIND, sr, pos);
	if (c)
		c->var = id;
}

static size_t op_len(const char *t, size_t len)
{
	if (len >= 2 && (t[1] == '=') && (t[0] == '!' || t[0] == '=' || t[0] == '<' || t[0] == '>'))
		return 2;
	if (len >= 1 && (t[0] == '=' || t[0] == '<' || t[0] == '>'))
		return 1;
	return 0;
}

static fx_cons_op op_of(const char *t, size_t ol)
{
	if (ol == 2)
		return t[0] == '!'   ? FX_C_NE
		       : t[0] == '=' ? FX_C_EQ
		       : t[0] == '<' ? FX_C_LE
		                     : FX_C_GE;
	return t[0] == '=' ? FX_C_EQ : t[0] == '<' ? FX_C_LT : FX_C_GT;
}

/* A single word or number: an operand taken as a constant of the slot's type. */
static int is_word(loader *ld, const char *t, size_t len)
{
	int64_t i;
	double d;
	if (parse_int(t, len, &i) == 1 || parse_float(ld, t, len, &d) != 0)
		return 1;
	unsigned char c = (unsigned char)t[0];
	if (len == 0 || !(is_alpha(c) || c == '_' || c >= 0x80))
		return 0;
	for (size_t k = 1; k < len; k++) {
		c = (unsigned char)t[k];
		if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.' && c < 0x80)
			return 0;
	}
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The operand of an operator term: a word or number is a constant of the slot's type,
 * anything else an expression. */
static void cons_operand(loader *ld, patctx *pc, const slotref *sr, const node *n, size_t off,
                         size_t len, fx_cons_op op, fx_pos tpos)
{
	const char *t = n->text + off;
	fx_pos pos = value_pos(n, off);
	unsigned span = value_span(n, off, len);
	fx_expr *arg;
	if (is_word(ld, t, len)) {
		fx_val v = fx_val_nil();
		double d;
		int64_t i;
		/* Comparing an integer slot with a float is fine (1 < 1.5); storing one is not. */
		if (slot_type(sr) == FX_INTEGER && parse_int(t, len, &i) != 1 &&
		    parse_float(ld, t, len, &d) == 1)
			v = fx_val_float(d);
		else if (conv(ld, t, len, slot_type(sr), pos, span, pc->tname, slot_name(sr), &v) !=
		         0)
			return;
		if (op == FX_C_EQ || op == FX_C_NE)
			check_name(ld, sr->sd, v, pos, span);
		arg = x_const(ld, v, pos);
	} else {
		arg = parse_expr(ld, n, off, len);
		if (arg && arg->kind == FX_X_CONST &&
		    fit_const(ld, arg, slot_type(sr), pc->tname, slot_name(sr), pos, span, 0) != 0)
			return;
	}
	if (!arg)
		return;
	fx_constraint *c = add_cons(ld, pc, op, sr, tpos);
	if (c)
		c->arg = arg;
}

/* One term of a constraint scalar: ?x, or an operator and its operand. */
static void cons_term(loader *ld, patctx *pc, const slotref *sr, const node *n, size_t off,
                      size_t len)
{
	const char *t = n->text + off;
	fx_pos pos = value_pos(n, off);
	unsigned span = value_span(n, off, len);
	if (len == 0) {
		err_at(ld, "bad-constraint", pos, 1,
		       "empty term: '&' joins terms such as ?x, != ?y or > 0");
		return;
	}
	if (t[0] == '?') {
		if (is_var(t, len))
			cons_var(ld, pc, sr, t + 1, len - 1, pos);
		else if (name_len(t + 1, len - 1) == 0)
			err_at(ld, "bad-variable", pos, span,
			       "'%s' is not a variable: a variable is '?' "
			       "followed by a name (a letter or '_', then letters, digits, '_' and "
			       "'-')",
			       show(ld, t, len));
		else
			err_at(ld, "bad-constraint", pos, span,
			       "'%s': a term that starts with a variable is "
			       "the variable alone; to compare with an expression write '== %s'",
			       show(ld, t, len), show(ld, t, len));
		return;
	}
	size_t ol = op_len(t, len);
	if (!ol) {
		err_at(ld, "bad-constraint", pos, span,
		       "'%s' is not a constraint term: after '&' each "
		       "term is ?var or starts with !=, ==, =, <, <=, > or >=; for a constant "
		       "write '== %s'",
		       show(ld, t, len), show(ld, t, len));
		return;
	}
	size_t o = ol;
	while (o < len && is_blank(t[o]))
		o++;
	if (o == len) {
		err_at(ld, "bad-constraint", pos, (unsigned)ol,
		       "'%s' needs an operand, as in '%s 0'", show(ld, t, ol), show(ld, t, ol));
		return;
	}
	cons_operand(ld, pc, sr, n, off + o, len - o, op_of(t, ol), pos);
}

/* A constraint scalar: a constant, or terms joined by '&' (outside quotes and parentheses)
 * when it starts with '?' or an operator. */
static void cons_scalar(loader *ld, patctx *pc, const slotref *sr, const node *n)
{
	const char *t = n->text;
	size_t len = n->len;
	if (len == 0 || (t[0] != '?' && !op_len(t, len))) {
		fx_val v = fx_val_nil();
		if (conv(ld, t, len, slot_type(sr), npos(n), node_span(n), pc->tname, slot_name(sr),
		         &v) != 0)
			return;
		check_name(ld, sr->sd, v, npos(n), node_span(n));
		fx_expr *a = x_const(ld, v, npos(n));
		fx_constraint *c = a ? add_cons(ld, pc, FX_C_EQ, sr, npos(n)) : NULL;
		if (c)
			c->arg = a;
		return;
	}
	size_t i = 0;
	for (;;) {
		size_t j = i;
		char q = 0;
		int depth = 0;
		for (; j < len; j++) {
			char c = t[j];
			if (q) {
				if (c == '\\' && q == '"' && j + 1 < len)
					j++;
				else if (c == q)
					q = 0;
			} else if (c == '"' || c == '\'') {
				q = c;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth -= depth > 0;
			} else if (c == '&' && depth == 0) {
				break;
			}
		}
		size_t a = i, b = j;
		while (a < b && is_blank(t[a]))
			a++;
		while (b > a && is_blank(t[b - 1]))
			b--;
		cons_term(ld, pc, sr, n, a, b - a);
		if (j >= len || ld->oom)
			break;
		i = j + 1;
	}
}

static int text_slot(loader *ld, const slotref *sr, const node *key, const char *tname)
{
	fx_type t = slot_type(sr);
	if (t == FX_NIL || t == FX_SYMBOL || t == FX_STRING)
		return 1;
	err(ld, "type", key, "'%s' needs a symbol or string slot; slot '%s' of template '%s' is %s",
	    shown(ld, key), slot_name(sr), tname, a_type(t));
	return 0;
}

/* `{in: [a, b]}` or `[a, b]`: a list of constants. */
static void cons_list(loader *ld, patctx *pc, const slotref *sr, const node *seq, fx_cons_op op,
                      fx_pos pos)
{
	if (seq->kind != N_SEQ && !is_null(seq)) {
		err_shape(ld, seq, "a list of constants", "a membership test");
		return;
	}
	size_t n = seq->kind == N_SEQ ? seq->nkids : 0;
	fx_val *vals = anew(ld, n, sizeof(fx_val));
	if (!vals)
		return;
	int ok = 1;
	for (size_t i = 0; i < n; i++) {
		const node *it = seq->kids[i];
		if (it->kind != N_SCALAR) {
			err_shape(ld, it, "a constant", "an item of a membership list");
			ok = 0;
		} else if (is_var(it->text, it->len)) {
			err(ld, "bad-constraint", it,
			    "a membership list holds constants; '%s' is a variable "
			    "(compare with it in a test instead)",
			    shown(ld, it));
			ok = 0;
		} else if (conv(ld, it->text, it->len, slot_type(sr), npos(it), node_span(it),
		                pc->tname, slot_name(sr), &vals[i]) != 0) {
			ok = 0;
		} else {
			check_name(ld, sr->sd, vals[i], npos(it), node_span(it));
		}
	}
	fx_constraint *c = ok ? add_cons(ld, pc, op, sr, pos) : NULL;
	if (c) {
		c->list = vals;
		c->nlist = (uint32_t)n;
	}
}

/* `{matches: "/re/flags"}` or `{matches: "re"}`. */
static void cons_regex(loader *ld, patctx *pc, const slotref *sr, const node *v, fx_cons_op op,
                       fx_pos pos)
{
	const char *t = v->text;
	size_t len = v->len, po = 0, pl = len;
	unsigned flags = 0;
	if (len >= 2 && t[0] == '/') {
		size_t k = len;
		while (k > 1 && t[k - 1] && strchr("imsx", t[k - 1]))
			k--;
		if (k >= 2 && t[k - 1] == '/') {
			po = 1;
			pl = k - 2;
			for (size_t f = k; f < len; f++)
				flags |= t[f] == 'i'   ? FX_RE_CASELESS
				         : t[f] == 'm' ? FX_RE_MULTILINE
				         : t[f] == 's' ? FX_RE_DOTALL
				                       : FX_RE_EXTENDED;
		}
	}
	fx_buf eb;
	fx_buf_init(&eb);
	size_t eo = 0;
	fx_regex *re = fx_regex_new(t + po, pl, flags, &eb, &eo);
	if (!re) {
		if (eo > pl)
			eo = pl;
		err_at(ld, "bad-regex", value_pos(v, po + eo), 1, "bad regular expression: %s",
		       eb.len ? fx_buf_cstr(&eb) : "cannot compile");
		fx_buf_dispose(&eb);
		return;
	}
	fx_buf_dispose(&eb);
	if (fx_vec_push(ld->regexes, re) != 0) {
		fx_regex_free(re);
		ld->oom = 1;
		return;
	}
	fx_constraint *c = add_cons(ld, pc, op, sr, pos);
	if (c)
		c->re = re;
}

enum {
	K_BIND,
	K_CMP,
	K_TEXT,
	K_LIST,
	K_RE,
	K_TEST
};

static const struct {
	const char *key;
	fx_cons_op op;
	int kind;
} map_ops[] = {
        {"bind", FX_C_BIND, K_BIND},
        {"eq", FX_C_EQ, K_CMP},
        {"ne", FX_C_NE, K_CMP},
        {"lt", FX_C_LT, K_CMP},
        {"le", FX_C_LE, K_CMP},
        {"gt", FX_C_GT, K_CMP},
        {"ge", FX_C_GE, K_CMP},
        {"in", FX_C_IN, K_LIST},
        {"not-in", FX_C_NOT_IN, K_LIST},
        {"matches", FX_C_MATCH, K_RE},
        {"not-matches", FX_C_NOT_MATCH, K_RE},
        {"contains", FX_C_CONTAINS, K_TEXT},
        {"starts-with", FX_C_STARTS, K_TEXT},
        {"ends-with", FX_C_ENDS, K_TEXT},
        {"test", FX_C_TEST, K_TEST},
};

/* `{bind: ?x, gt: 0, ...}`: every key a test, in the order written. */
static void cons_map(loader *ld, patctx *pc, const slotref *sr, const node *m)
{
	uint32_t ns = ++ld->nseen;
	const size_t nops = sizeof map_ops / sizeof *map_ops;
	for (size_t k = 0; k + 1 < m->nkids && !ld->oom; k += 2) {
		const node *key = m->kids[k], *v = m->kids[k + 1];
		if (key->kind != N_SCALAR) {
			err_shape(ld, key, "a constraint name", "a key");
			continue;
		}
		if (repeated_key(ld, ns, key, "constraint"))
			continue;
		size_t i = 0;
		while (i < nops && !text_is(key, map_ops[i].key))
			i++;
		if (i == nops) {
			err(ld, "unknown-key", key,
			    "unknown constraint '%s'; expected one of: bind, eq, ne, lt, "
			    "le, gt, ge, in, not-in, matches, not-matches, contains, starts-with, "
			    "ends-with, "
			    "test",
			    shown(ld, key));
			continue;
		}
		fx_cons_op op = map_ops[i].op;
		int kind = map_ops[i].kind;
		if (kind == K_LIST) {
			cons_list(ld, pc, sr, v, op, npos(key));
			continue;
		}
		if (v->kind != N_SCALAR) {
			err_shape(ld, v, "a scalar", map_ops[i].key);
			continue;
		}
		if (kind == K_BIND) {
			if (is_var(v->text, v->len))
				cons_var(ld, pc, sr, v->text + 1, v->len - 1, npos(v));
			else
				err(ld, "bad-variable", v,
				    "bind takes a variable such as ?x, not '%s'", shown(ld, v));
		} else if (kind == K_TEST) {
			fx_expr *e = parse_expr(ld, v, 0, v->len);
			fx_constraint *c = e ? add_cons(ld, pc, op, sr, npos(key)) : NULL;
			if (c)
				c->arg = e;
		} else if (kind == K_RE) {
			if (text_slot(ld, sr, key, pc->tname))
				cons_regex(ld, pc, sr, v, op, npos(key));
		} else {
			if (kind == K_TEXT && !text_slot(ld, sr, key, pc->tname))
				continue;
			fx_expr *a = NULL;
			if (v->len && v->text[0] == '?') {
				if (!is_var(v->text, v->len)) {
					err(ld, "bad-variable", v,
					    "'%s' is not a variable: a variable is '?' followed "
					    "by a name",
					    shown(ld, v));
					continue;
				}
				uint32_t id =
				        var_use(ld, v->text + 1, v->len - 1, npos(v), node_span(v));
				if (id == NONE)
					continue;
				a = x_var(ld, id, npos(v));
			} else {
				fx_val val = fx_val_nil();
				if (conv(ld, v->text, v->len, slot_type(sr), npos(v), node_span(v),
				         pc->tname, slot_name(sr), &val) != 0)
					continue;
				if (op == FX_C_EQ || op == FX_C_NE)
					check_name(ld, sr->sd, val, npos(v), node_span(v));
				a = x_const(ld, val, npos(v));
			}
			fx_constraint *c = a ? add_cons(ld, pc, op, sr, npos(key)) : NULL;
			if (c)
				c->arg = a;
		}
	}
}

static void cons_node(loader *ld, patctx *pc, const slotref *sr, const node *v)
{
	switch (v->kind) {
	case N_SCALAR:
		cons_scalar(ld, pc, sr, v);
		break;
	case N_SEQ:
		cons_list(ld, pc, sr, v, FX_C_IN, npos(v));
		break;
	case N_MAP:
		cons_map(ld, pc, sr, v);
		break;
	default:
		break;
	}
}

/* ============================================================================================
 * Rules: conditions
 * ========================================================================================== */

static int parse_ce(loader *ld, const node *item, fx_ce *out);

/* A pattern: `tmpl: {slot: constraint, ...}` with an optional `as: ?f` beside it. */
static void parse_pattern(loader *ld, const node *asval, const node *tkey, const node *tval,
                          fx_ce *out)
{
	patctx pc;
	memset(&pc, 0, sizeof pc);
	pc.tmpl = find_template(ld, tkey);
	if (pc.tmpl == NONE) {
		if (text_is(tkey, "and") || text_is(tkey, "or"))
			err(ld, "unknown-template", tkey,
			    "'%s' is reserved and not supported: the conditions "
			    "of a rule are all required; for alternatives write separate rules",
			    shown(ld, tkey));
		else
			err(ld, "unknown-template", tkey, "no template named '%s'",
			    shown(ld, tkey));
	} else {
		pc.tname = tmpl_at(ld, pc.tmpl)->name;
	}
	if (!pc.tname)
		pc.tname = "?";
	pc.depth = (uint32_t)ld->rc->depths.n;
	uint32_t *dt = gv_push(ld, &ld->rc->depths, sizeof(uint32_t));
	if (dt)
		*dt = pc.tmpl;
	out->kind = FX_CE_PATTERN;
	out->pos = npos(tkey);
	out->tmpl = pc.tmpl;
	out->depth = pc.depth;
	out->fact_var = -1;

	if (tval && !is_null(tval)) {
		if (tval->kind != N_MAP) {
			err_shape(ld, tval, "a mapping of slots to constraints", "a pattern");
		} else {
			uint32_t ns = ++ld->nseen;
			for (size_t i = 0; i + 1 < tval->nkids && !ld->oom; i += 2) {
				const node *key = tval->kids[i], *val = tval->kids[i + 1];
				uint32_t si = slot_key(ld, ns, pc.tmpl, key);
				if (si == KEY_BAD)
					continue;
				slotref sr = {si, si != NONE ? &tmpl_at(ld, pc.tmpl)->slots[si] : NULL};
				cons_node(ld, &pc, &sr, val);
			}
		}
	}
	/* `as` binds after the slots: the fact variable is for later conditions and actions. */
	if (asval) {
		uint32_t old;
		if (asval->kind != N_SCALAR || !is_var(asval->text, asval->len)) {
			if (asval->kind != N_BAD)
				err(ld, "bad-variable", asval,
				    "as takes a variable such as ?f, not '%s'", shown(ld, asval));
		} else if ((old = var_find(ld, asval->text + 1, asval->len - 1)) != NONE) {
			fx_pos b = var_at(ld, old)->d.pos;
			err(ld, "rebound-variable", asval,
			    "%s is already bound (line %u, column %u); as needs "
			    "a new variable",
			    shown(ld, asval), (unsigned)b.line, (unsigned)b.col);
		} else {
			uint32_t id = var_new(ld, asval->text + 1, asval->len - 1, FX_VAR_FACT,
			                      pc.depth, 0, npos(asval));
			if (id != NONE)
				out->fact_var = (int32_t)id;
		}
	}
	out->cons = gv_finish(ld, ld->arena, &pc.cons, sizeof(fx_constraint), &out->ncons);
}

/* `not:`/`exists:`: one condition (a mapping) or a list of them, with their own scope. */
static void parse_group(loader *ld, const node *key, const node *v, fx_ce *out)
{
	const char *what = text_is(key, "not") ? "not" : "exists";
	out->kind = text_is(key, "not") ? FX_CE_NOT : FX_CE_EXISTS;
	out->pos = npos(key);
	out->fact_var = -1;
	size_t scope = ld->rc->vars.n;
	gvec kids = {0};
	if (v->kind == N_MAP) {
		fx_ce ce;
		if (parse_ce(ld, v, &ce) == 0) {
			fx_ce *p = gv_push(ld, &kids, sizeof ce);
			if (p)
				*p = ce;
		}
	} else if (v->kind == N_SEQ && v->nkids) {
		for (size_t i = 0; i < v->nkids && !ld->oom; i++) {
			fx_ce ce;
			if (parse_ce(ld, v->kids[i], &ce) == 0) {
				fx_ce *p = gv_push(ld, &kids, sizeof ce);
				if (p)
					*p = ce;
			}
		}
	} else if (v->kind == N_SEQ || is_null(v)) {
		err(ld, "empty-rule", key, "'%s' needs at least one condition", what);
	} else {
		err_shape(ld, v, "a pattern or a list of conditions", what);
	}
	scope_end(ld, scope);
	out->children = gv_finish(ld, ld->arena, &kids, sizeof(fx_ce), &out->nchildren);
}

/* One item of `when` (or of a not/exists). 0, or -1 when nothing usable came of it. */
static int parse_ce(loader *ld, const node *item, fx_ce *out)
{
	memset(out, 0, sizeof *out);
	out->fact_var = -1;
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping (a pattern, not, exists or test)", "a condition");
		return -1;
	}
	const node *ask = NULL, *asval = NULL, *tkey = NULL, *tval = NULL;
	for (size_t i = 0; i + 1 < item->nkids; i += 2) {
		const node *key = item->kids[i];
		if (key->kind != N_SCALAR) {
			err_shape(ld, key, "a template name, as, not, exists or test",
			          "a key of a condition");
		} else if (text_is(key, "as")) {
			if (ask)
				err(ld, "duplicate-key", key,
				    "key 'as' appears twice in a condition");
			ask = key;
			asval = item->kids[i + 1];
		} else if (tkey) {
			err(ld, "shape", key,
			    "one condition per item: '%s' follows '%s'; put it in an item of "
			    "its own",
			    shown(ld, key), shown(ld, tkey));
		} else {
			tkey = key;
			tval = item->kids[i + 1];
		}
	}
	if (!tkey) {
		err(ld, "missing-key", ask ? ask : item,
		    "a condition needs a template key (a pattern), not, "
		    "exists or test");
		return -1;
	}
	int special = text_is(tkey, "not") || text_is(tkey, "exists") || text_is(tkey, "test");
	if (special && ask)
		err(ld, "shape", ask, "'as' belongs to a pattern, not to '%s'", shown(ld, tkey));
	if (text_is(tkey, "test")) {
		out->kind = FX_CE_TEST;
		out->pos = npos(tkey);
		if (tval->kind != N_SCALAR) {
			err_shape(ld, tval, "an expression", "test");
			return -1;
		}
		out->test = parse_expr(ld, tval, 0, tval->len);
		return out->test ? 0 : -1;
	}
	if (special) {
		parse_group(ld, tkey, tval, out);
		return 0;
	}
	parse_pattern(ld, asval, tkey, tval, out);
	return 0;
}

/* ============================================================================================
 * Rules: actions
 * ========================================================================================== */

/* A value in an action: ?var, "= expression", or a constant (of the slot's type when sd is
 * given, else read as conv_untyped does). NULL after reporting. */
static fx_expr *action_value(loader *ld, const node *v, const fx_slot_def *sd, const char *tname)
{
	if (v->kind != N_SCALAR) {
		err_shape(ld, v, "a value, ?var or \"= expression\"", "a value in an action");
		return NULL;
	}
	const char *t = v->text;
	size_t len = v->len;
	if (len && t[0] == '?') {
		if (!is_var(t, len)) {
			err(ld, "bad-variable", v,
			    "'%s' is not a variable: a variable is '?' followed by a name; "
			    "for text that starts with '?' write '= \"...\"'",
			    shown(ld, v));
			return NULL;
		}
		uint32_t id = var_use(ld, t + 1, len - 1, npos(v), node_span(v));
		return id == NONE ? NULL : x_var(ld, id, npos(v));
	}
	if (len && t[0] == '=') {
		size_t o = 1;
		while (o < len && is_blank(t[o]))
			o++;
		if (o == len) {
			err(ld, "bad-expression", v, "'=' must be followed by an expression");
			return NULL;
		}
		fx_expr *e = parse_expr(ld, v, o, len - o);
		if (e && e->kind == FX_X_CONST && sd &&
		    fit_const(ld, e, sd->type, tname, sd->name, value_pos(v, o),
		              value_span(v, o, len - o), 1))
			return NULL;
		return e;
	}
	fx_val val;
	if (sd) {
		if (conv(ld, t, len, sd->type, npos(v), node_span(v), tname, sd->name, &val) != 0)
			return NULL;
		check_name(ld, sd, val, npos(v), node_span(v));
	} else if (conv_untyped(ld, v, &val) != 0) {
		return NULL;
	}
	return x_const(ld, val, npos(v));
}

/* `{slot: value, ...}` for assert and modify. tmpl NONE: unknown, values are still read. */
static void slot_sets(loader *ld, uint32_t tmpl, const node *m, fx_action *a)
{
	if (!m || is_null(m))
		return;
	if (m->kind != N_MAP) {
		err_shape(ld, m, "a mapping of slots to values", "the slots of an action");
		return;
	}
	gvec sets = {0};
	uint32_t ns = ++ld->nseen;
	const char *tname = tmpl != NONE ? tmpl_at(ld, tmpl)->name : "?";
	for (size_t i = 0; i + 1 < m->nkids && !ld->oom; i += 2) {
		const node *key = m->kids[i], *val = m->kids[i + 1];
		uint32_t si = slot_key(ld, ns, tmpl, key);
		if (si == KEY_BAD)
			continue;
		const fx_slot_def *sd = si != NONE ? &tmpl_at(ld, tmpl)->slots[si] : NULL;
		fx_expr *e = action_value(ld, val, sd, tname);
		if (e && sd) {
			fx_slot_set *s = gv_push(ld, &sets, sizeof *s);
			if (s) {
				s->slot = si;
				s->value = e;
				s->pos = npos(key);
			}
		}
	}
	a->sets = gv_finish(ld, ld->arena, &sets, sizeof(fx_slot_set), &a->nsets);
}

static fx_action *new_action(loader *ld, gvec *acts, fx_action_kind kind, fx_pos pos)
{
	fx_action *a = gv_push(ld, acts, sizeof *a);
	if (a) {
		a->kind = kind;
		a->pos = pos;
		a->tmpl = NONE;
	}
	return a;
}

/* A fact variable for retract or modify: its id, or NONE after reporting. */
static uint32_t fact_target(loader *ld, const node *v, const char *action)
{
	if (v->kind != N_SCALAR || !is_var(v->text, v->len)) {
		if (v->kind != N_BAD)
			err(ld, "bad-target", v,
			    "%s takes a fact variable bound with as:, such as ?f, not '%s'", action,
			    shown(ld, v));
		return NONE;
	}
	uint32_t id = var_use(ld, v->text + 1, v->len - 1, npos(v), node_span(v));
	if (id == NONE)
		return NONE;
	const varx *x = var_at(ld, id);
	if (x->d.kind != FX_VAR_FACT && !x->poisoned) {
		err(ld, "bad-target", v,
		    "%s needs a fact: %s holds %s; bind the fact with as: in its "
		    "pattern",
		    action, shown(ld, v),
		    x->d.kind == FX_VAR_LOCAL ? "a value set by bind" : "a slot's value");
		return NONE;
	}
	return id;
}

enum {
	A_ASSERT,
	A_RETRACT,
	A_MODIFY,
	A_BIND,
	A_PRINT,
	A_HALT,
	A_CONCLUDE,
	A_RECOMMEND,
	A_ASK,
	A_SET, /* not an action: goes with modify; keys before it are actions */
	NAKEYS
};

static void act_assert(loader *ld, gvec *acts, const node *key, const node *m)
{
	if (m->kind != N_MAP || m->nkids < 2) {
		err_shape(ld, m, "a mapping {template: {slot: value, ...}}", "assert");
		return;
	}
	if (m->nkids > 2)
		err(ld, "shape", m->kids[2],
		    "assert makes one fact: write one assert per template");
	const node *tkey = m->kids[0], *tval = m->kids[1];
	if (tkey->kind != N_SCALAR) {
		err_shape(ld, tkey, "a template name", "the key of assert");
		return;
	}
	uint32_t ti = find_template(ld, tkey);
	if (ti == NONE)
		err(ld, "unknown-template", tkey, "no template named '%s'", shown(ld, tkey));
	fx_action a;
	memset(&a, 0, sizeof a);
	a.kind = FX_A_ASSERT;
	a.pos = npos(key);
	a.tmpl = ti;
	slot_sets(ld, ti, tval, &a);
	if (ti == NONE)
		return;
	fx_action *p = gv_push(ld, acts, sizeof a);
	if (p)
		*p = a;
}

static void act_retract(loader *ld, gvec *acts, const node *key, const node *v)
{
	size_t n = v->kind == N_SEQ ? v->nkids : 1;
	if (v->kind == N_SEQ && n == 0)
		err(ld, "bad-target", key, "retract needs at least one fact variable");
	for (size_t i = 0; i < n; i++) {
		const node *t = v->kind == N_SEQ ? v->kids[i] : v;
		uint32_t id = fact_target(ld, t, "retract");
		fx_expr *e = id != NONE ? x_var(ld, id, npos(t)) : NULL;
		fx_action *a = e ? new_action(ld, acts, FX_A_RETRACT, npos(key)) : NULL;
		if (a)
			a->target = e;
	}
}

static void act_modify(loader *ld, gvec *acts, const node *key, const node *v, const node *set)
{
	uint32_t id = fact_target(ld, v, "modify");
	uint32_t tmpl = NONE;
	if (id != NONE && !var_at(ld, id)->poisoned) {
		uint32_t d = var_at(ld, id)->d.depth;
		if (d < ld->rc->depths.n)
			tmpl = ((uint32_t *)ld->rc->depths.p)[d];
	}
	if (!set) {
		err(ld, "missing-key", key, "modify needs set: {slot: value, ...}");
		return;
	}
	fx_action a;
	memset(&a, 0, sizeof a);
	a.kind = FX_A_MODIFY;
	a.pos = npos(key);
	a.tmpl = tmpl;
	slot_sets(ld, tmpl, set, &a);
	if (id == NONE)
		return;
	a.target = x_var(ld, id, npos(v));
	fx_action *p = a.target ? gv_push(ld, acts, sizeof a) : NULL;
	if (p)
		*p = a;
}

static void act_bind(loader *ld, gvec *acts, const node *key, const node *m)
{
	if (m->kind != N_MAP || m->nkids == 0) {
		err_shape(ld, m, "a mapping {?var: value}", "bind");
		return;
	}
	for (size_t i = 0; i + 1 < m->nkids && !ld->oom; i += 2) {
		const node *k = m->kids[i], *val = m->kids[i + 1];
		if (k->kind != N_SCALAR || !is_var(k->text, k->len)) {
			if (k->kind != N_BAD)
				err(ld, "bad-variable", k,
				    "bind sets variables such as ?x, not '%s'", shown(ld, k));
			continue;
		}
		/* The value is read first: `?n: "= ?n + 1"` uses the previous ?n. */
		fx_expr *e = action_value(ld, val, NULL, NULL);
		uint32_t id = var_find(ld, k->text + 1, k->len - 1);
		if (id != NONE && var_at(ld, id)->d.kind != FX_VAR_LOCAL) {
			fx_pos b = var_at(ld, id)->d.pos;
			err(ld, "rebound-variable", k,
			    "%s is bound by a condition (line %u, column %u); bind "
			    "cannot change it: use a new name",
			    shown(ld, k), (unsigned)b.line, (unsigned)b.col);
			continue;
		}
		if (id == NONE) {
			id = var_new(ld, k->text + 1, k->len - 1, FX_VAR_LOCAL, 0, ld->rc->nlocals,
			             npos(k));
			if (id == NONE)
				continue;
			ld->rc->nlocals++;
		}
		fx_action *a = e ? new_action(ld, acts, FX_A_BIND, npos(key)) : NULL;
		if (a) {
			a->var = id;
			a->value = e;
		}
	}
}

static void act_print(loader *ld, gvec *acts, const node *key, const node *v)
{
	if (v->kind == N_MAP) {
		err_shape(ld, v, "a value or a list of values", "print");
		return;
	}
	size_t n = v->kind == N_SEQ ? v->nkids : 1;
	fx_expr **items = anew(ld, n, sizeof *items);
	if (!items)
		return;
	int ok = 1;
	for (size_t i = 0; i < n; i++) {
		items[i] = action_value(ld, v->kind == N_SEQ ? v->kids[i] : v, NULL, NULL);
		ok &= items[i] != NULL;
	}
	fx_action *a = ok ? new_action(ld, acts, FX_A_PRINT, npos(key)) : NULL;
	if (a) {
		a->items = items;
		a->nitems = (uint32_t)n;
	}
}

/* --- The diagnosis vocabulary: conclude, recommend, ask ---------------------------------------
 * Sugar for asserts of the prelude's templates, so that the Rete network and sessions know
 * nothing of them: `conclude: {id: X, certainty: C}` asserts finding(id X, certainty C,
 * rule R) where R is this rule's id; `recommend: {remedy: M, finding: F}` asserts
 * recommend(remedy M, finding F, rule R); `ask: Q` asserts ask(question Q). Users never write
 * the `rule` slot here: it is what makes a conclusion traceable to the rule that drew it. */

static uint32_t template_named(loader *ld, const char *name)
{
	uint32_t i;
	return ht_get(&ld->names, NS_TEMPLATE, name, strlen(name), &i) ? i : NONE;
}

/* Slot `name` of template tmpl, or NULL (also when tmpl is NONE); *si receives its index. */
static const fx_slot_def *slot_named(loader *ld, uint32_t tmpl, const char *name, uint32_t *si)
{
	uint32_t i;
	if (tmpl == NONE || !ht_get(&ld->slots, tmpl, name, strlen(name), &i))
		return NULL;
	*si = i;
	return &tmpl_at(ld, tmpl)->slots[i];
}

typedef struct vocab_act {
	loader *ld;
	const char *tname; /* the built-in template asserted */
	uint32_t tmpl;     /* its index; NONE if the prelude lacks it (values are still read) */
	gvec sets;         /* fx_slot_set */
	int ok;            /* every value was usable */
} vocab_act;

static void vocab_begin(loader *ld, vocab_act *va, const char *tname)
{
	memset(va, 0, sizeof *va);
	va->ld = ld;
	va->tname = tname;
	va->tmpl = template_named(ld, tname);
	va->ok = va->tmpl != NONE;
}

/* Set slot `slot` to the action value v (as action_value reads it); the expression, or NULL
 * after reporting. */
static fx_expr *vocab_value(vocab_act *va, const char *slot, const node *v, fx_pos pos)
{
	uint32_t si = NONE;
	const fx_slot_def *sd = slot_named(va->ld, va->tmpl, slot, &si);
	fx_expr *e = action_value(va->ld, v, sd, va->tname);
	if (!e || !sd) {
		va->ok = 0;
		return e;
	}
	fx_slot_set *s = gv_push(va->ld, &va->sets, sizeof *s);
	if (s) {
		s->slot = si;
		s->value = e;
		s->pos = pos;
	}
	return e;
}

/* Set the `rule` slot to this rule's id and append the assert, unless something failed. */
static void vocab_end(vocab_act *va, gvec *acts, const node *key)
{
	loader *ld = va->ld;
	uint32_t si = NONE;
	const fx_slot_def *sd = slot_named(ld, va->tmpl, "rule", &si);
	if (va->ok && sd && ld->rule_name) {
		const fx_atom *a = fx_atoms_intern(ld->atoms, ld->rule_name, strlen(ld->rule_name));
		fx_expr *e = a ? x_const(ld, fx_val_atom(FX_SYMBOL, a), npos(key)) : NULL;
		fx_slot_set *s = e ? gv_push(ld, &va->sets, sizeof *s) : NULL;
		if (a == NULL)
			ld->oom = 1;
		if (s) {
			s->slot = si;
			s->value = e;
			s->pos = npos(key);
		}
	}
	fx_action a;
	memset(&a, 0, sizeof a);
	a.kind = FX_A_ASSERT;
	a.pos = npos(key);
	a.tmpl = va->tmpl;
	a.sets = gv_finish(ld, ld->arena, &va->sets, sizeof(fx_slot_set), &a.nsets);
	if (!va->ok)
		return;
	fx_action *p = gv_push(ld, acts, sizeof a);
	if (p)
		*p = a;
}

/* The keys of conclude and recommend: keys[0] is required, keys[1] optional, keys[2] is
 * `rule`, refused with a message of its own. */
static int vocab_keys(loader *ld, const node *key, const node *m, const char *const keys[3],
                      const node *v[3], const node *k[3])
{
	const char *action = key->text;
	if (m->kind != N_MAP) {
		fx_buf shape;
		fx_buf_init(&shape);
		fx_buf_printf(&shape, "a mapping {%s: ..., %s: ...}", keys[0], keys[1]);
		err_shape(ld, m, shape.oom ? "a mapping" : fx_buf_cstr(&shape), action);
		fx_buf_dispose(&shape);
		return -1;
	}
	take_keys_listing(ld, m, keys, 3, 2, v, k, action);
	if (v[2])
		err(ld, "unknown-key", k[2],
		    "'rule' is not written in %s: it is set to the id of the rule; "
		    "expected one of: %s, %s",
		    action, keys[0], keys[1]);
	if (!v[0]) {
		err(ld, "missing-key", key, "%s needs %s", action, keys[0]);
		return -1;
	}
	return 0;
}

static void act_conclude(loader *ld, gvec *acts, const node *key, const node *m)
{
	static const char *const keys[3] = {"id", "certainty", "rule"};
	const node *v[3], *k[3];
	if (vocab_keys(ld, key, m, keys, v, k) != 0)
		return;
	vocab_act va;
	vocab_begin(ld, &va, "finding");
	vocab_value(&va, "id", v[0], npos(k[0]));
	if (v[1]) {
		fx_expr *c = vocab_value(&va, "certainty", v[1], npos(k[1]));
		/* A constant is checked now; a computed certainty is the rule writer's care. */
		if (c && c->kind == FX_X_CONST && c->val.type == FX_FLOAT &&
		    !(c->val.u.f >= 0.0 && c->val.u.f <= 1.0)) {
			err(ld, "type", v[1], "a certainty is a number from 0 to 1, not '%s'",
			    shown(ld, v[1]));
			va.ok = 0;
		}
	}
	vocab_end(&va, acts, key);
}

static void act_recommend(loader *ld, gvec *acts, const node *key, const node *m)
{
	static const char *const keys[3] = {"remedy", "finding", "rule"};
	const node *v[3], *k[3];
	if (vocab_keys(ld, key, m, keys, v, k) != 0)
		return;
	vocab_act va;
	vocab_begin(ld, &va, "recommend");
	vocab_value(&va, "remedy", v[0], npos(k[0]));
	if (v[1])
		vocab_value(&va, "finding", v[1], npos(k[1]));
	vocab_end(&va, acts, key);
}

static void act_ask(loader *ld, gvec *acts, const node *key, const node *v)
{
	if (v->kind != N_SCALAR) {
		err_shape(ld, v, "a question (a symbol, ?var or \"= expression\")", "ask");
		return;
	}
	if (is_null(v) && v->len == 0) {
		err(ld, "missing-key", key, "ask needs a question, as in `ask: question-id`");
		return;
	}
	vocab_act va;
	vocab_begin(ld, &va, "ask");
	vocab_value(&va, "question", v, npos(key));
	vocab_end(&va, acts, key);
}

static void parse_action(loader *ld, gvec *acts, const node *item)
{
	if (item->kind == N_SCALAR && text_is(item, "halt")) {
		new_action(ld, acts, FX_A_HALT, npos(item));
		return;
	}
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping such as {assert: ...} (or the word halt)",
		          "an action");
		return;
	}
	static const char *const keys[NAKEYS] = {"assert", "retract",  "modify",    "bind", "print",
	                                         "halt",   "conclude", "recommend", "ask",  "set"};
	const node *v[NAKEYS], *k[NAKEYS];
	int bad = take_keys(ld, item, keys, NAKEYS, v, k, "an action");
	int which = -1;
	for (int i = 0; i < A_SET; i++) {
		if (!v[i])
			continue;
		if (which < 0) {
			which = i;
		} else {
			/* Report the one written second. */
			int second = k[i]->off > k[which]->off ? i : which;
			int first = second == i ? which : i;
			err(ld, "shape", k[second],
			    "one action per item: '%s' follows '%s'; put it in an item of "
			    "its own",
			    keys[second], keys[first]);
			which = first;
		}
	}
	if (v[A_SET] && which != A_MODIFY)
		err(ld, "unknown-key", k[A_SET], "set goes with modify");
	if (which < 0) {
		if (!v[A_SET] && !bad)
			err(ld, "missing-key", item,
			    "an action needs one of: assert, retract, modify, bind, "
			    "print, halt, conclude, recommend, ask");
		return;
	}
	const node *key = k[which], *val = v[which];
	if (val->kind == N_BAD)
		return;
	switch (which) {
	case A_ASSERT:
		act_assert(ld, acts, key, val);
		break;
	case A_RETRACT:
		act_retract(ld, acts, key, val);
		break;
	case A_MODIFY:
		act_modify(ld, acts, key, val, v[A_SET]);
		break;
	case A_BIND:
		act_bind(ld, acts, key, val);
		break;
	case A_PRINT:
		act_print(ld, acts, key, val);
		break;
	case A_CONCLUDE:
		act_conclude(ld, acts, key, val);
		break;
	case A_RECOMMEND:
		act_recommend(ld, acts, key, val);
		break;
	case A_ASK:
		act_ask(ld, acts, key, val);
		break;
	case A_HALT:
		if (text_is(val, "true"))
			new_action(ld, acts, FX_A_HALT, npos(key));
		else
			err(ld, "type", val,
			    "halt takes true (or write the item as the word halt), not '%s'",
			    shown(ld, val));
		break;
	}
}

/* ============================================================================================
 * Rules
 * ========================================================================================== */

/* Optional text (doc, source, warning...): the arena copy, or NULL when absent or not text. */
static const char *opt_text(loader *ld, const node *v, const char *what)
{
	if (!v)
		return NULL;
	if (v->kind != N_SCALAR) {
		err_shape(ld, v, "text", what);
		return NULL;
	}
	return astr(ld, ld->arena, v->text, v->len);
}

static void load_rule(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id, when and then", "a rule");
		return;
	}
	enum {
		R_ID,
		R_SALIENCE,
		R_BECAUSE,
		R_DOC,
		R_SOURCE,
		R_WHEN,
		R_THEN,
		R_LOGICAL,
		NRKEYS
	};
	static const char *const keys[NRKEYS] = {"id",   "salience", "because", "doc",
	                                         "source", "when",   "then",    "logical"};
	const node *v[NRKEYS], *k[NRKEYS];
	take_keys(ld, item, keys, NRKEYS, v, k, "a rule");
	unsigned errors0 = ld->rep->errors;
	const char *name = take_id(ld, v[R_ID], item, "a rule");
	int keep = name != NULL;
	uint32_t prev;
	if (name && ht_get(&ld->names, NS_RULE, v[R_ID]->text, v[R_ID]->len, &prev)) {
		fx_pos p = ((fx_rule_def *)ld->rules.p)[prev].pos;
		err(ld, "duplicate-id", v[R_ID], "rule '%s' is already defined at %s:%u:%u", name,
		    p.file, (unsigned)p.line, (unsigned)p.col);
		keep = 0;
	}
	rulectx *rc = &ld->rule;
	memset(rc, 0, sizeof *rc);
	rc->ord = ld->nrule_ord++;
	ld->rc = rc;
	ld->rule_name = name;

	fx_rule_def r;
	memset(&r, 0, sizeof r);
	r.name = name;
	r.index = (uint32_t)ld->rules.n;
	r.pos = v[R_ID] ? npos(v[R_ID]) : npos(item);
	if (v[R_SALIENCE]) {
		const node *s = v[R_SALIENCE];
		int64_t i = 0;
		if (s->kind != N_SCALAR || parse_int(s->text, s->len, &i) != 1 || i < INT32_MIN ||
		    i > INT32_MAX)
			err(ld, "type", s,
			    "salience is an integer from -2147483648 to 2147483647, not '%s'",
			    shown(ld, s));
		else
			r.salience = (int32_t)i;
	}
	r.because = opt_text(ld, v[R_BECAUSE], "because");
	r.doc = opt_text(ld, v[R_DOC], "doc");
	r.source = opt_text(ld, v[R_SOURCE], "source");
	if (v[R_LOGICAL]) {
		const node *l = v[R_LOGICAL];
		if (text_is(l, "true"))
			r.logical = 1;
		else if (!text_is(l, "false"))
			err(ld, "type", l, "logical takes true or false, not '%s'", shown(ld, l));
	}

	gvec ces = {0}, acts = {0};
	const node *w = v[R_WHEN];
	if (!w) {
		err(ld, "missing-key", item, "a rule needs when: a list of conditions");
	} else if (is_null(w) || (w->kind == N_SEQ && w->nkids == 0)) {
		err(ld, "empty-rule", k[R_WHEN], "when needs at least one condition");
	} else if (w->kind != N_SEQ) {
		err_shape(ld, w, "a list of conditions", "when");
	} else {
		for (size_t i = 0; i < w->nkids && !ld->oom; i++) {
			fx_ce ce;
			if (parse_ce(ld, w->kids[i], &ce) == 0) {
				fx_ce *p = gv_push(ld, &ces, sizeof ce);
				if (p)
					*p = ce;
			}
		}
	}
	const node *t = v[R_THEN];
	if (t && !is_null(t)) {
		if (t->kind != N_SEQ)
			err_shape(ld, t, "a list of actions", "then");
		else
			for (size_t i = 0; i < t->nkids && !ld->oom; i++)
				parse_action(ld, &acts, t->kids[i]);
	}

	/* Unused variables, only in a rule without errors (an error explains itself better). */
	if (ld->rep->errors == errors0) {
		for (size_t i = 0; i < rc->vars.n; i++) {
			const varx *x = var_at(ld, (uint32_t)i);
			if (!x->used && x->d.name[0] != '_')
				warn_at(ld, "unused-variable", x->d.pos,
				        (unsigned)strlen(x->d.name) + 1,
				        "variable ?%s is bound but never used (name it ?_%s to "
				        "keep it quiet)",
				        x->d.name, x->d.name);
		}
	}

	r.ces = gv_finish(ld, ld->arena, &ces, sizeof(fx_ce), &r.nces);
	r.actions = gv_finish(ld, ld->arena, &acts, sizeof(fx_action), &r.nactions);
	r.ndepth = (uint32_t)rc->depths.n;
	r.nlocals = rc->nlocals;
	if (rc->vars.n) {
		r.vars = anew(ld, rc->vars.n, sizeof(fx_var_def));
		if (r.vars) {
			for (size_t i = 0; i < rc->vars.n; i++)
				r.vars[i] = var_at(ld, (uint32_t)i)->d;
			r.nvars = (uint32_t)rc->vars.n;
		}
	}
	gv_free(&rc->vars);
	gv_free(&rc->depths);
	ld->rc = NULL;
	ld->rule_name = NULL;
	if (!keep)
		return;
	fx_rule_def *p = gv_push(ld, &ld->rules, sizeof r);
	if (p) {
		*p = r;
		ht_set(ld, &ld->names, NS_RULE, v[R_ID]->text, v[R_ID]->len, r.index);
	}
}

/* ============================================================================================
 * Remedies
 * ========================================================================================== */

static void load_remedy(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id, title, steps and cost", "a remedy");
		return;
	}
	enum {
		M_ID,
		M_TITLE,
		M_STEPS,
		M_COST,
		M_WARNING,
		M_SOURCE,
		M_DOC,
		NMKEYS
	};
	static const char *const keys[NMKEYS] = {"id",      "title",  "steps", "cost",
	                                         "warning", "source", "doc"};
	const node *v[NMKEYS], *k[NMKEYS];
	take_keys(ld, item, keys, NMKEYS, v, k, "a remedy");
	const char *name = take_id(ld, v[M_ID], item, "a remedy");
	uint32_t prev;
	if (name && ht_get(&ld->names, NS_REMEDY, v[M_ID]->text, v[M_ID]->len, &prev)) {
		fx_pos p = ((fx_remedy_def *)ld->remedies.p)[prev].pos;
		err(ld, "duplicate-id", v[M_ID], "remedy '%s' is already defined at %s:%u:%u", name,
		    p.file, (unsigned)p.line, (unsigned)p.col);
		name = NULL;
	}
	fx_remedy_def md;
	memset(&md, 0, sizeof md);
	md.name = name;
	md.index = (uint32_t)ld->remedies.n;
	md.pos = v[M_ID] ? npos(v[M_ID]) : npos(item);

	const node *t = v[M_TITLE];
	if (!t || is_null(t) || (t->kind == N_SCALAR && t->len == 0))
		err(ld, "missing-key", t ? k[M_TITLE] : item,
		    "a remedy needs a title: one line saying what to do");
	else
		md.title = opt_text(ld, t, "title");

	const node *st = v[M_STEPS];
	gvec steps = {0};
	if (!st) {
		err(ld, "missing-key", item, "a remedy needs steps: a list of instructions");
	} else if (st->kind != N_SEQ || st->nkids == 0) {
		if (st->kind != N_BAD)
			err(ld, "shape", is_null(st) ? k[M_STEPS] : st,
			    "steps must be a non-empty list of instructions (texts), not %s",
			    st->kind == N_SEQ ? "an empty list" : kind_name(st));
	} else {
		for (size_t i = 0; i < st->nkids && !ld->oom; i++) {
			const node *s = st->kids[i];
			if (s->kind != N_SCALAR || s->len == 0) {
				if (s->kind != N_BAD)
					err(ld, "shape", s,
					    "a step must be a non-empty text, not %s",
					    s->kind == N_SCALAR ? "empty text" : kind_name(s));
				continue;
			}
			const char **p = gv_push(ld, &steps, sizeof *p);
			if (p)
				*p = astr(ld, ld->arena, s->text, s->len);
		}
	}
	md.steps = gv_finish(ld, ld->arena, &steps, sizeof(char *), &md.nsteps);

	const node *c = v[M_COST];
	int64_t cost = 0;
	if (!c)
		err(ld, "missing-key", item,
		    "a remedy needs a cost: its effort from 1 (trivial) to 10 (disruptive)");
	else if (c->kind != N_SCALAR || parse_int(c->text, c->len, &cost) != 1 || cost < 1 ||
	         cost > 10)
		err(ld, "type", c,
		    "cost is an integer from 1 (trivial) to 10 (disruptive), not '%s'",
		    shown(ld, c));
	else
		md.cost = (int32_t)cost;

	md.warning = opt_text(ld, v[M_WARNING], "warning");
	md.source = opt_text(ld, v[M_SOURCE], "source");
	md.doc = opt_text(ld, v[M_DOC], "doc");
	/* Kept even when a part is wrong, so that its uses are not reported as unknown too. */
	if (!name || ld->remedies.n >= NONE - 1)
		return;
	fx_remedy_def *p = gv_push(ld, &ld->remedies, sizeof md);
	if (p) {
		*p = md;
		ht_set(ld, &ld->names, NS_REMEDY, v[M_ID]->text, v[M_ID]->len, md.index);
	}
}

/* One entry of `findings:`: what a concluded finding means, for people. */
static void load_finding(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id and title", "a finding");
		return;
	}
	enum { F_ID, F_TITLE, F_SOURCE, F_DOC, NFKEYS };
	static const char *const keys[NFKEYS] = {"id", "title", "source", "doc"};
	const node *v[NFKEYS], *k[NFKEYS];
	take_keys(ld, item, keys, NFKEYS, v, k, "a finding");
	const char *name = take_id(ld, v[F_ID], item, "a finding");
	uint32_t prev;
	if (name && ht_get(&ld->names, NS_FINDING, v[F_ID]->text, v[F_ID]->len, &prev)) {
		fx_pos p = ((fx_finding_def *)ld->findings.p)[prev].pos;
		err(ld, "duplicate-id", v[F_ID], "finding '%s' is already described at %s:%u:%u", name,
		    p.file, (unsigned)p.line, (unsigned)p.col);
		name = NULL;
	}
	fx_finding_def fd;
	memset(&fd, 0, sizeof fd);
	fd.name = name;
	fd.index = (uint32_t)ld->findings.n;
	fd.pos = v[F_ID] ? npos(v[F_ID]) : npos(item);
	const node *t = v[F_TITLE];
	if (!t || is_null(t) || (t->kind == N_SCALAR && t->len == 0))
		err(ld, "missing-key", t ? k[F_TITLE] : item,
		    "a finding needs a title: one line naming the cause in the user's words");
	else
		fd.title = opt_text(ld, t, "title");
	fd.source = opt_text(ld, v[F_SOURCE], "source");
	fd.doc = opt_text(ld, v[F_DOC], "doc");
	/* Kept even when a part is wrong, so that its uses are not reported as unknown too. */
	if (!name || ld->findings.n >= NONE - 1)
		return;
	fx_finding_def *p = gv_push(ld, &ld->findings, sizeof fd);
	if (p) {
		*p = fd;
		ht_set(ld, &ld->names, NS_FINDING, v[F_ID]->text, v[F_ID]->len, fd.index);
	}
}

/* ============================================================================================
 * Patterns
 * ========================================================================================== */

/* What the facts of a pattern may refer to. */
typedef struct grpctx {
	const fx_pattern_def *pd;
	uint32_t ns; /* namespace of the regex's group names in ld->seen; 0: the regex failed */
} grpctx;

/* "code, text" (the named groups), for messages; NULL when there are none. */
static const char *group_list(loader *ld, const fx_pattern_def *pd)
{
	fx_buf list;
	fx_buf_init(&list);
	uint32_t shown_n = 0;
	for (uint32_t i = 1; i < pd->ngroups; i++) {
		if (!pd->groups[i])
			continue;
		if (shown_n++ == 24) {
			fx_buf_puts(&list, ", ...");
			break;
		}
		fx_buf_printf(&list, "%s?%s", shown_n > 1 ? ", " : "", pd->groups[i]);
	}
	const char *out = NULL;
	if (list.oom)
		ld->oom = 1;
	else if (list.len)
		out = astr(ld, &ld->scratch, fx_buf_cstr(&list), list.len);
	fx_buf_dispose(&list);
	return out;
}

/* One value of a pattern's fact: ?group, ?_match, or a constant of the slot's type. */
static int pattern_value(loader *ld, const grpctx *g, const fx_template_def *td,
                         const fx_slot_def *sd, const node *val, fx_pattern_value *out)
{
	if (val->kind != N_SCALAR) {
		err_shape(ld, val, "a constant or ?group", "a slot value in a pattern");
		return -1;
	}
	out->pos = npos(val);
	if (val->len && val->text[0] == '?') {
		if (!is_var(val->text, val->len)) {
			err(ld, "bad-variable", val,
			    "'%s' is not a variable: a variable is '?' followed by the name of a "
			    "group of the regex, or ?_match",
			    shown(ld, val));
			return -1;
		}
		const char *nm = val->text + 1;
		size_t nl = val->len - 1;
		uint32_t gi = 0;
		out->kind = FX_PV_CAPTURE;
		out->val = fx_val_nil();
		if (nl == 6 && memcmp(nm, "_match", 6) == 0)
			return 0;
		if (!g->ns)
			return -1; /* the regex did not compile: its groups are unknown */
		if (ht_get(&ld->seen, g->ns, nm, nl, &gi)) {
			out->group = gi;
			return 0;
		}
		const char *list = group_list(ld, g->pd);
		if (list)
			err(ld, "unbound-variable", val,
			    "?%s names no group of this pattern's regex; its groups are %s (and "
			    "?_match, the whole match)",
			    show(ld, nm, nl), list);
		else
			err(ld, "unbound-variable", val,
			    "?%s names no group of this pattern's regex, which has no named "
			    "groups: capture with (?<%s>...), or use ?_match for the whole match",
			    show(ld, nm, nl), show(ld, nm, nl));
		return -1;
	}
	out->kind = FX_PV_CONST;
	if (conv(ld, val->text, val->len, sd->type, npos(val), node_span(val), td->name, sd->name,
	         &out->val) != 0)
		return -1;
	check_name(ld, sd, out->val, npos(val), node_span(val));
	return 0;
}

/* One fact of `asserts`: {template: {slot: value, ...}}. */
static void pattern_fact(loader *ld, const grpctx *g, const node *m, gvec *facts)
{
	if (m->kind != N_MAP || m->nkids < 2) {
		err_shape(ld, m, "a fact {template: {slot: value, ...}}", "an item of asserts");
		return;
	}
	if (m->nkids > 2)
		err(ld, "shape", m->kids[2],
		    "one fact per mapping: write asserts as a list, one template in each item");
	const node *tkey = m->kids[0], *tval = m->kids[1];
	if (tkey->kind != N_SCALAR) {
		err_shape(ld, tkey, "a template name", "the key of a fact");
		return;
	}
	uint32_t ti = find_template(ld, tkey);
	if (ti == NONE) {
		err(ld, "unknown-template", tkey, "no template named '%s'", shown(ld, tkey));
		return;
	}
	const fx_template_def *td = tmpl_at(ld, ti);
	fx_pattern_fact pf;
	memset(&pf, 0, sizeof pf);
	pf.tmpl = ti;
	pf.pos = npos(tkey);
	pf.vals = anew(ld, td->nslots, sizeof *pf.vals);
	if (!pf.vals)
		return;
	for (uint32_t i = 0; i < td->nslots; i++) {
		pf.vals[i].kind = FX_PV_CONST;
		pf.vals[i].val = td->slots[i].dflt;
		pf.vals[i].pos = npos(tkey);
	}
	int ok = 1;
	if (tval && !is_null(tval)) {
		if (tval->kind != N_MAP) {
			err_shape(ld, tval, "a mapping of slots to values", "a fact's slots");
			return;
		}
		uint32_t ns = ++ld->nseen;
		for (size_t i = 0; i + 1 < tval->nkids && !ld->oom; i += 2) {
			const node *key = tval->kids[i], *val = tval->kids[i + 1];
			uint32_t si = slot_key(ld, ns, ti, key);
			if (si == KEY_BAD || si == NONE) {
				ok = 0;
				continue;
			}
			if (pattern_value(ld, g, td, &td->slots[si], val, &pf.vals[si]) != 0)
				ok = 0;
		}
	}
	fx_pattern_fact *p = ok ? gv_push(ld, facts, sizeof pf) : NULL;
	if (p)
		*p = pf;
}

/* `flags: ims`: FX_RE_* bits; an unknown letter is reported where it stands. */
static unsigned pattern_flags(loader *ld, const node *f)
{
	unsigned flags = 0;
	if (!f || is_null(f))
		return 0;
	if (f->kind != N_SCALAR) {
		err_shape(ld, f, "letters among i, m, s and x", "flags");
		return 0;
	}
	for (size_t i = 0; i < f->len; i++) {
		switch (f->text[i]) {
		case 'i':
			flags |= FX_RE_CASELESS;
			break;
		case 'm':
			flags |= FX_RE_MULTILINE;
			break;
		case 's':
			flags |= FX_RE_DOTALL;
			break;
		case 'x':
			flags |= FX_RE_EXTENDED;
			break;
		default:
			err_at(ld, "bad-regex", value_pos(f, i), value_span(f, i, 1),
			       "unknown regex flag '%s': flags are i (caseless), m (multiline), s "
			       "(dotall) and x (extended)",
			       show(ld, f->text + i, 1));
			return flags;
		}
	}
	return flags;
}

/* Compile the regex, record its groups and their names (in ld->seen under a fresh namespace,
 * returned; 0 when the regex is unusable). */
static uint32_t pattern_regex(loader *ld, const node *rx, fx_pattern_def *pd)
{
	fx_buf eb;
	fx_buf_init(&eb);
	size_t eo = 0;
	/* Compiled as the matcher wants it (the start limit changes nothing when no limit is set),
	 * so that the kb's matcher borrows this regex rather than compiling every pattern twice. */
	fx_regex *re = fx_regex_new(rx->text, rx->len, pd->flags | FX_RE_START_LIMIT, &eb, &eo);
	if (!re) {
		if (eo > rx->len)
			eo = rx->len;
		if (eb.oom)
			ld->oom = 1;
		err_at(ld, "bad-regex", value_pos(rx, eo), 1, "bad regular expression: %s",
		       eb.len ? fx_buf_cstr(&eb) : "cannot compile");
		fx_buf_dispose(&eb);
		return 0;
	}
	fx_buf_dispose(&eb);
	if (fx_vec_push(ld->regexes, re) != 0) {
		fx_regex_free(re);
		ld->oom = 1;
		return 0;
	}
	pd->re = re;
	pd->regex = astr(ld, ld->arena, rx->text, rx->len);
	pd->regex_len = rx->len > UINT32_MAX ? UINT32_MAX : (uint32_t)rx->len;
	pd->regex_pos = npos(rx);
	int n = fx_regex_group_names(re, NULL, 0);
	if (n < 0 || (size_t)n >= NONE - 1)
		return 0;
	size_t ng = (size_t)n + 1;
	const char **names = fx_arena_alloc(&ld->scratch, ng * sizeof *names);
	const char **groups = anew(ld, ng, sizeof *groups);
	if (!names || !groups) {
		ld->oom = 1;
		return 0;
	}
	fx_regex_group_names(re, names, ng);
	groups[0] = "_match";
	uint32_t ns = ++ld->nseen, ok = 1;
	for (size_t i = 1; i < ng && !ld->oom; i++) {
		if (!names[i])
			continue;
		size_t len = strlen(names[i]);
		uint32_t other;
		groups[i] = astr(ld, ld->arena, names[i], len);
		if (!groups[i])
			return 0;
		if (len == 6 && memcmp(names[i], "_match", 6) == 0) {
			const char *at = strstr(rx->text, "_match");
			size_t o = at ? (size_t)(at - rx->text) : 0;
			err_at(ld, "bad-regex", value_pos(rx, o), at ? value_span(rx, o, 6) : 1,
			       "a group cannot be named _match: ?_match is the whole match");
			ok = 0;
		} else if (ht_get(&ld->seen, ns, groups[i], len, &other)) {
			err(ld, "bad-regex", rx,
			    "the group name '%s' is used by groups %u and %u: a pattern's groups "
			    "need names of their own",
			    show(ld, groups[i], len), (unsigned)other, (unsigned)i);
			ok = 0;
		} else {
			ht_set(ld, &ld->seen, ns, groups[i], len, (uint32_t)i);
		}
	}
	pd->groups = groups;
	pd->ngroups = (uint32_t)ng;
	return ok ? ns : 0;
}

/* `examples:` and `near-misses:`: a text or a list of texts. */
static fx_sample *samples(loader *ld, const node *v, const char *what, const char *item,
                          uint32_t *count)
{
	*count = 0;
	if (!v || is_null(v))
		return NULL;
	if (v->kind != N_SCALAR && v->kind != N_SEQ) {
		err_shape(ld, v, "a list of texts", what);
		return NULL;
	}
	size_t n = v->kind == N_SEQ ? v->nkids : 1;
	gvec out = {0};
	for (size_t i = 0; i < n && !ld->oom; i++) {
		const node *s = v->kind == N_SEQ ? v->kids[i] : v;
		if (s->kind != N_SCALAR) {
			err_shape(ld, s, "a text", item);
			continue;
		}
		fx_sample *p = gv_push(ld, &out, sizeof *p);
		if (!p)
			break;
		p->text = astr(ld, ld->arena, s->text, s->len);
		p->len = s->len > UINT32_MAX ? UINT32_MAX : (uint32_t)s->len;
		p->pos = npos(s);
	}
	return gv_finish(ld, ld->arena, &out, sizeof(fx_sample), count);
}

static void load_pattern(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id, regex and asserts", "a pattern");
		return;
	}
	enum {
		P_ID,
		P_REGEX,
		P_FLAGS,
		P_ASSERTS,
		P_SOURCE,
		P_DOC,
		P_EXAMPLES,
		P_NEAR,
		NPKEYS
	};
	static const char *const keys[NPKEYS] = {"id",     "regex", "flags",    "asserts",
	                                         "source", "doc",   "examples", "near-misses"};
	const node *v[NPKEYS], *k[NPKEYS];
	take_keys(ld, item, keys, NPKEYS, v, k, "a pattern");
	const char *name = take_id(ld, v[P_ID], item, "a pattern");
	uint32_t prev;
	if (name && ht_get(&ld->names, NS_PATTERN, v[P_ID]->text, v[P_ID]->len, &prev)) {
		fx_pos p = ((fx_pattern_def *)ld->patterns.p)[prev].pos;
		err(ld, "duplicate-id", v[P_ID], "pattern '%s' is already defined at %s:%u:%u",
		    name, p.file, (unsigned)p.line, (unsigned)p.col);
		name = NULL;
	}
	fx_pattern_def pd;
	memset(&pd, 0, sizeof pd);
	pd.name = name;
	pd.index = (uint32_t)ld->patterns.n;
	pd.pos = v[P_ID] ? npos(v[P_ID]) : npos(item);
	pd.flags = pattern_flags(ld, v[P_FLAGS]);

	grpctx g = {&pd, 0};
	const node *rx = v[P_REGEX];
	if (!rx)
		err(ld, "missing-key", item, "a pattern needs regex: a PCRE2 regular expression");
	else if (rx->kind != N_SCALAR)
		err_shape(ld, rx, "a regular expression (text)", "regex");
	else
		g.ns = pattern_regex(ld, rx, &pd);

	const node *as = v[P_ASSERTS];
	gvec facts = {0};
	if (!as) {
		err(ld, "missing-key", item,
		    "a pattern needs asserts: the fact, or list of facts, its matches assert");
	} else if (as->kind == N_MAP) {
		pattern_fact(ld, &g, as, &facts);
	} else if (as->kind == N_SEQ && as->nkids) {
		for (size_t i = 0; i < as->nkids && !ld->oom; i++)
			pattern_fact(ld, &g, as->kids[i], &facts);
	} else if (as->kind != N_BAD) {
		err(ld, "shape", is_null(as) ? k[P_ASSERTS] : as,
		    "asserts must be a fact {template: {slot: value}} or a non-empty list of "
		    "facts, not %s",
		    as->kind == N_SEQ ? "an empty list" : kind_name(as));
	}
	pd.facts = gv_finish(ld, ld->arena, &facts, sizeof(fx_pattern_fact), &pd.nfacts);

	pd.source = opt_text(ld, v[P_SOURCE], "source");
	pd.doc = opt_text(ld, v[P_DOC], "doc");
	pd.examples = samples(ld, v[P_EXAMPLES], "examples", "an example", &pd.nexamples);
	pd.near_misses = samples(ld, v[P_NEAR], "near-misses", "a near-miss", &pd.nnear);
	if (!name || ld->patterns.n >= NONE - 1)
		return;
	fx_pattern_def *p = gv_push(ld, &ld->patterns, sizeof pd);
	if (p) {
		*p = pd;
		ht_set(ld, &ld->names, NS_PATTERN, v[P_ID]->text, v[P_ID]->len, pd.index);
	}
}

/* ============================================================================================
 * Questions
 * ========================================================================================== */

/* One answer of a question: `value: [facts]` (or a single fact, or nothing). */
static void load_answer(loader *ld, uint32_t ns, const node *key, const node *val, gvec *answers)
{
	if (key->kind != N_SCALAR) {
		err_shape(ld, key, "an answer (a symbol)", "a key of answers");
		return;
	}
	if (repeated_key(ld, ns, key, "answer"))
		return;
	if (!valid_id(key->text, key->len)) {
		err(ld, "bad-id", key,
		    "'%s' is not a valid answer: an answer is a symbol that starts with a letter "
		    "or '_' and holds letters, digits, '-', '_' and '.'",
		    shown(ld, key));
		return;
	}
	fx_answer_def ad;
	memset(&ad, 0, sizeof ad);
	ad.value = astr(ld, ld->arena, key->text, key->len);
	ad.pos = npos(key);
	gvec facts = {0};
	if (val->kind == N_MAP || val->kind == N_SEQ) {
		size_t n = val->kind == N_SEQ ? val->nkids : 1;
		for (size_t i = 0; i < n && !ld->oom; i++) {
			fx_fact_def fd;
			const node *idv;
			if (read_fact(ld, val->kind == N_SEQ ? val->kids[i] : val, 0, &fd, &idv) != 0)
				continue;
			fx_fact_def *p = gv_push(ld, &facts, sizeof fd);
			if (p)
				*p = fd;
		}
	} else if (val->kind != N_BAD && !is_null(val)) {
		err_shape(ld, val, "a list of facts (or nothing)", "an answer");
	}
	ad.facts = gv_finish(ld, ld->arena, &facts, sizeof(fx_fact_def), &ad.nfacts);
	fx_answer_def *p = gv_push(ld, answers, sizeof ad);
	if (p)
		*p = ad;
}

static void load_question(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with id, ask and answers", "a question");
		return;
	}
	enum {
		Q_ID,
		Q_ASK,
		Q_DOC,
		Q_SOURCE,
		Q_ANSWERS,
		NQKEYS
	};
	static const char *const keys[NQKEYS] = {"id", "ask", "doc", "source", "answers"};
	const node *v[NQKEYS], *k[NQKEYS];
	take_keys(ld, item, keys, NQKEYS, v, k, "a question");
	const char *name = take_id(ld, v[Q_ID], item, "a question");
	uint32_t prev;
	if (name && ht_get(&ld->names, NS_QUESTION, v[Q_ID]->text, v[Q_ID]->len, &prev)) {
		fx_pos p = ((fx_question_def *)ld->questions.p)[prev].pos;
		err(ld, "duplicate-id", v[Q_ID], "question '%s' is already defined at %s:%u:%u",
		    name, p.file, (unsigned)p.line, (unsigned)p.col);
		name = NULL;
	}
	fx_question_def qd;
	memset(&qd, 0, sizeof qd);
	qd.name = name;
	qd.index = (uint32_t)ld->questions.n;
	qd.pos = v[Q_ID] ? npos(v[Q_ID]) : npos(item);

	const node *t = v[Q_ASK];
	if (!t || is_null(t) || (t->kind == N_SCALAR && t->len == 0))
		err(ld, "missing-key", t ? k[Q_ASK] : item,
		    "a question needs ask: the question as put to a person");
	else
		qd.text = opt_text(ld, t, "ask");
	qd.doc = opt_text(ld, v[Q_DOC], "doc");
	qd.source = opt_text(ld, v[Q_SOURCE], "source");

	gvec answers = {0};
	const node *a = v[Q_ANSWERS];
	if (!a) {
		/* The common case, a yes/no question whose answers the rules test directly. */
		static const char *const yn[2] = {"yes", "no"};
		for (int i = 0; i < 2; i++) {
			fx_answer_def *p = gv_push(ld, &answers, sizeof *p);
			if (!p)
				break;
			memset(p, 0, sizeof *p);
			p->value = astr(ld, ld->arena, yn[i], strlen(yn[i]));
			p->pos = qd.pos;
		}
	} else if (a->kind == N_MAP && a->nkids) {
		uint32_t ns = ++ld->nseen;
		for (size_t i = 0; i + 1 < a->nkids && !ld->oom; i += 2)
			load_answer(ld, ns, a->kids[i], a->kids[i + 1], &answers);
	} else if (a->kind != N_BAD) {
		err(ld, "shape", is_null(a) ? k[Q_ANSWERS] : a,
		    "answers must be a non-empty mapping of each answer to the facts it asserts "
		    "(as {yes: [], no: []}), not %s",
		    a->kind == N_MAP ? "an empty mapping" : kind_name(a));
	}
	qd.answers = gv_finish(ld, ld->arena, &answers, sizeof(fx_answer_def), &qd.nanswers);
	if (!name || ld->questions.n >= NONE - 1)
		return;
	fx_question_def *p = gv_push(ld, &ld->questions, sizeof qd);
	if (p) {
		*p = qd;
		ht_set(ld, &ld->names, NS_QUESTION, v[Q_ID]->text, v[Q_ID]->len, qd.index);
	}
}

/* ============================================================================================
 * Cases
 * ========================================================================================== */

/* A list of ids (or one id) in a case; kind ID_REMEDIES: each must name a remedy (see
 * check_remedy_name), ID_FINDINGS a finding. */
enum { ID_ANY, ID_REMEDIES, ID_FINDINGS };
static const char **id_list(loader *ld, const node *v, const char *what, int kind,
                            uint32_t *count)
{
	*count = 0;
	if (!v || is_null(v) || v->kind == N_BAD)
		return NULL;
	if (v->kind != N_SCALAR && v->kind != N_SEQ) {
		err_shape(ld, v, "a list of ids", what);
		return NULL;
	}
	size_t n = v->kind == N_SEQ ? v->nkids : 1;
	gvec out = {0};
	for (size_t i = 0; i < n && !ld->oom; i++) {
		const node *s = v->kind == N_SEQ ? v->kids[i] : v;
		if (s->kind != N_SCALAR || s->len == 0) {
			if (s->kind != N_BAD)
				err_shape(ld, s, "an id", what);
			continue;
		}
		if (kind == ID_REMEDIES)
			check_remedy_name(ld, s->text, s->len, npos(s), node_span(s));
		else if (kind == ID_FINDINGS)
			check_finding_name(ld, s->text, s->len, npos(s), node_span(s));
		const char **p = gv_push(ld, &out, sizeof *p);
		if (p)
			*p = astr(ld, ld->arena, s->text, s->len);
	}
	return gv_finish(ld, ld->arena, &out, sizeof(char *), count);
}

/* `answers: {question: answer, ...}`: each question declared, each answer one of its own or
 * `unknown`. */
static void case_answers(loader *ld, const node *m, fx_case_def *cd)
{
	if (!m || is_null(m) || m->kind == N_BAD)
		return;
	if (m->kind != N_MAP) {
		err_shape(ld, m, "a mapping of question ids to answers", "a case's answers");
		return;
	}
	gvec out = {0};
	uint32_t ns = ++ld->nseen;
	for (size_t i = 0; i + 1 < m->nkids && !ld->oom; i += 2) {
		const node *key = m->kids[i], *val = m->kids[i + 1];
		if (key->kind != N_SCALAR) {
			err_shape(ld, key, "a question id", "a key of answers");
			continue;
		}
		if (repeated_key(ld, ns, key, "question"))
			continue;
		uint32_t qi;
		if (!ht_get(&ld->names, NS_QUESTION, key->text, key->len, &qi)) {
			if (ld->questions_sec)
				check_question_name(ld, key->text, key->len, npos(key), node_span(key));
			else
				err(ld, "unknown-question", key,
				    "no question named '%s'; the knowledge base declares no questions",
				    shown(ld, key));
			continue;
		}
		if (val->kind != N_SCALAR || val->len == 0) {
			if (val->kind != N_BAD)
				err_shape(ld, val, "an answer (a symbol) or unknown", "an answer");
			continue;
		}
		const fx_question_def *q = &((fx_question_def *)ld->questions.p)[qi];
		uint32_t ai = NONE;
		for (uint32_t j = 0; j < q->nanswers && ai == NONE; j++)
			if (strlen(q->answers[j].value) == val->len &&
			    memcmp(q->answers[j].value, val->text, val->len) == 0)
				ai = j;
		if (ai == NONE && !text_is(val, "unknown")) {
			fx_buf list;
			fx_buf_init(&list);
			for (uint32_t j = 0; j < q->nanswers; j++)
				fx_buf_printf(&list, "%s, ", q->answers[j].value);
			fx_buf_puts(&list, "unknown");
			err(ld, "unknown-answer", val,
			    "question '%s' has no answer '%s'; its answers are: %s", q->name,
			    shown(ld, val), list.oom ? "..." : fx_buf_cstr(&list));
			fx_buf_dispose(&list);
			continue;
		}
		fx_case_answer *p = gv_push(ld, &out, sizeof *p);
		if (p) {
			p->question = qi;
			p->answer = ai;
			p->pos = npos(key);
		}
	}
	cd->answers = gv_finish(ld, ld->arena, &out, sizeof(fx_case_answer), &cd->nanswers);
}

/* `expect:` of a case: what must come out. It must expect something, or the case could never
 * fail. */
static void case_expect(loader *ld, const node *item, const node *key, const node *m,
                        fx_case_def *cd)
{
	if (!m) {
		err(ld, "missing-key", item,
		    "a case needs expect: findings, remedies, top, absent or nothing: true");
		return;
	}
	if (m->kind != N_MAP || m->nkids == 0) {
		if (m->kind != N_BAD)
			err(ld, "shape", is_null(m) ? key : m,
			    "expect must be a mapping with findings, remedies, top, absent or "
			    "nothing, not %s",
			    m->kind == N_MAP ? "an empty mapping" : kind_name(m));
		return;
	}
	enum {
		E_FINDINGS,
		E_REMEDIES,
		E_TOP,
		E_ABSENT,
		E_NOTHING,
		NEKEYS
	};
	static const char *const keys[NEKEYS] = {"findings", "remedies", "top", "absent",
	                                         "nothing"};
	const node *v[NEKEYS], *k[NEKEYS];
	int bad = take_keys(ld, m, keys, NEKEYS, v, k, "expect");
	cd->findings = id_list(ld, v[E_FINDINGS], "findings", ID_FINDINGS, &cd->nfindings);
	cd->remedies = id_list(ld, v[E_REMEDIES], "remedies", ID_REMEDIES, &cd->nremedies);
	cd->absent = id_list(ld, v[E_ABSENT], "absent", ID_ANY, &cd->nabsent);
	const node *t = v[E_TOP];
	if (t && t->kind != N_BAD) {
		if (t->kind != N_SCALAR || t->len == 0) {
			err_shape(ld, t, "a remedy id", "top");
		} else {
			check_remedy_name(ld, t->text, t->len, npos(t), node_span(t));
			cd->top = astr(ld, ld->arena, t->text, t->len);
		}
	}
	const node *no = v[E_NOTHING];
	if (no && no->kind != N_BAD) {
		if (text_is(no, "true"))
			cd->nothing = 1;
		else if (!text_is(no, "false"))
			err(ld, "type", no, "nothing takes true or false, not '%s'", shown(ld, no));
	}
	if (cd->nothing && (v[E_FINDINGS] || v[E_REMEDIES] || v[E_TOP]))
		err(ld, "shape", k[E_NOTHING],
		    "nothing: true expects no finding and no remedy at all; it cannot go with "
		    "findings, remedies or top");
	else if (!bad && !cd->nothing && !v[E_FINDINGS] && !v[E_REMEDIES] && !v[E_TOP] && !v[E_ABSENT] &&
	         (!no || text_is(no, "false")))
		err(ld, "shape", key,
		    "expect must expect something: findings, remedies, top, absent or nothing: "
		    "true");
}

static void load_case(loader *ld, const node *item)
{
	if (item->kind != N_MAP) {
		err_shape(ld, item, "a mapping with input, answers and expect", "a case");
		return;
	}
	enum {
		C_ID,
		C_SOURCE,
		C_DOC,
		C_INPUT,
		C_ANSWERS,
		C_TRIED,
		C_EXPECT,
		NCKEYS
	};
	static const char *const keys[NCKEYS] = {"id",      "source", "doc",   "input",
	                                         "answers", "tried",  "expect"};
	const node *v[NCKEYS], *k[NCKEYS];
	take_keys(ld, item, keys, NCKEYS, v, k, "a case");
	fx_case_def cd;
	memset(&cd, 0, sizeof cd);
	cd.index = (uint32_t)ld->cases.n;
	cd.pos = item->nkids ? npos(item->kids[0]) : npos(item);
	int keep = 1;
	if (v[C_ID]) {
		cd.name = take_id(ld, v[C_ID], item, "a case");
		uint32_t prev;
		if (cd.name && ht_get(&ld->names, NS_CASE, v[C_ID]->text, v[C_ID]->len, &prev)) {
			fx_pos p = ((fx_case_def *)ld->cases.p)[prev].pos;
			err(ld, "duplicate-id", v[C_ID], "case '%s' is already defined at %s:%u:%u",
			    cd.name, p.file, (unsigned)p.line, (unsigned)p.col);
			keep = 0;
		}
		keep = keep && cd.name;
	} else {
		/* Unnamed cases are named after where they are written, which is what a failing
		 * case's report needs anyway. */
		fx_buf_clear(&ld->msg);
		fx_buf_printf(&ld->msg, "%s:%u", cd.pos.file ? cd.pos.file : "",
		              (unsigned)cd.pos.line);
		if (ld->msg.oom)
			ld->oom = 1;
		else
			cd.name = astr(ld, ld->arena, fx_buf_cstr(&ld->msg), ld->msg.len);
	}
	cd.source = opt_text(ld, v[C_SOURCE], "source");
	cd.doc = opt_text(ld, v[C_DOC], "doc");
	const node *in = v[C_INPUT];
	if (in && in->kind != N_BAD) {
		if (in->kind != N_SCALAR) {
			err_shape(ld, in, "text", "input");
		} else {
			cd.input = astr(ld, ld->arena, in->text, in->len);
			cd.input_len = in->len > UINT32_MAX ? UINT32_MAX : (uint32_t)in->len;
		}
	}
	case_answers(ld, v[C_ANSWERS], &cd);
	cd.tried = id_list(ld, v[C_TRIED], "tried", ID_REMEDIES, &cd.ntried);
	case_expect(ld, item, k[C_EXPECT], v[C_EXPECT], &cd);
	if (!keep || !cd.name || ld->cases.n >= NONE - 1)
		return;
	fx_case_def *p = gv_push(ld, &ld->cases, sizeof cd);
	if (p) {
		*p = cd;
		if (v[C_ID])
			ht_set(ld, &ld->names, NS_CASE, v[C_ID]->text, v[C_ID]->len, cd.index);
	}
}

/* ============================================================================================
 * Entry point
 * ========================================================================================== */

static void each_item(loader *ld, const node *sec, const char *what, const char *shape,
                      void (*fn)(loader *, const node *))
{
	if (!sec || is_null(sec))
		return;
	if (sec->kind != N_SEQ) {
		err_shape(ld, sec, shape, what);
		return;
	}
	for (size_t i = 0; i < sec->nkids && !ld->oom; i++)
		fn(ld, sec->kids[i]);
}

/* An in-memory rule file. Its text is copied to the kb's arena, for the reporter and
 * explanations to quote. */
static void load_buffer(loader *ld, const char *name, const char *buf, size_t len)
{
	const char *text = astr(ld, ld->arena, buf, len);
	if (text)
		load_text(ld, name, "", text, len, 0);
}

int fx_load_program(fx_program *prog, fx_arena *arena, fx_atoms *atoms, fx_vec *regexes,
                    fx_reporter *rep, const fx_load_input *in)
{
	if (!prog || !arena || !atoms || !regexes || !rep || !in ||
	    (!in->paths && !in->buf && !in->bufs && in->len) || (in->bufs && in->nbufs && !in->lens))
		return FX_EINVAL;
	memset(prog, 0, sizeof *prog);
	loader ld;
	memset(&ld, 0, sizeof ld);
	ld.arena = arena;
	ld.atoms = atoms;
	ld.regexes = regexes;
	ld.rep = rep;
	fx_arena_init(&ld.scratch);
	fx_buf_init(&ld.msg);
	unsigned errors0 = rep->errors;

	/* The prelude is static text: the reporter may quote it for as long as it likes. */
	size_t plen;
	const char *ptext = fx_prelude_text(&plen);
	ld.prelude = astr(&ld, arena, FX_PRELUDE_NAME, strlen(FX_PRELUDE_NAME));
	if (ld.prelude)
		load_text(&ld, ld.prelude, "", ptext, plen, 0);

	if (in->paths) {
		for (size_t i = 0; i < in->npaths && !ld.oom; i++) {
			const char *p =
			        in->paths[i] ? astr(&ld, arena, in->paths[i], strlen(in->paths[i]))
			                     : NULL;
			if (p)
				load_path(&ld, p, NULL, 0);
		}
	} else if (in->bufs) {
		for (size_t i = 0; i < in->nbufs && !ld.oom; i++) {
			const char *nm = in->names && in->names[i] ? in->names[i] : "<buffer>";
			const char *name = astr(&ld, arena, nm, strlen(nm));
			if (name)
				load_buffer(&ld, name, in->bufs[i] ? in->bufs[i] : "", in->lens[i]);
		}
	} else {
		const char *name = in->name ? in->name : "<buffer>";
		name = astr(&ld, arena, name, strlen(name));
		if (name)
			load_buffer(&ld, name, in->buf ? in->buf : "", in->len);
	}

	srcfile **units = ld.units.p;
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++)
		each_item(&ld, units[u]->sect[SEC_TEMPLATES], "templates", "a list of templates",
		          load_template);
	/* Findings, remedies and questions before anything that names them, from whichever file. */
	uint32_t si;
	ld.finding_slots[0] = slot_named(&ld, template_named(&ld, "finding"), "id", &si);
	ld.finding_slots[1] = slot_named(&ld, template_named(&ld, "recommend"), "finding", &si);
	for (size_t u = 0; u < ld.units.n && !ld.findings_sec; u++)
		ld.findings_sec = units[u]->findings_key;
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++)
		each_item(&ld, units[u]->sect[SEC_FINDINGS], "findings", "a list of findings",
		          load_finding);
	ld.remedy_slots[0] = slot_named(&ld, template_named(&ld, "recommend"), "remedy", &si);
	ld.remedy_slots[1] = slot_named(&ld, template_named(&ld, "tried"), "remedy", &si);
	for (size_t u = 0; u < ld.units.n && !ld.remedies_sec; u++)
		ld.remedies_sec = units[u]->remedies_key;
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++)
		each_item(&ld, units[u]->sect[SEC_REMEDIES], "remedies", "a list of remedies",
		          load_remedy);
	/* Questions likewise, before the rules that ask them and the cases that answer them. */
	ld.question_slots[0] = slot_named(&ld, template_named(&ld, "ask"), "question", &si);
	ld.question_slots[1] = slot_named(&ld, template_named(&ld, "answer"), "question", &si);
	for (size_t u = 0; u < ld.units.n && !ld.questions_sec; u++)
		ld.questions_sec = units[u]->questions_key;
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++)
		each_item(&ld, units[u]->sect[SEC_QUESTIONS], "questions", "a list of questions",
		          load_question);
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++) {
		each_item(&ld, units[u]->sect[SEC_PATTERNS], "patterns", "a list of patterns",
		          load_pattern);
		each_item(&ld, units[u]->sect[SEC_FACTS], "facts", "a list of facts", load_fact);
		each_item(&ld, units[u]->sect[SEC_RULES], "rules", "a list of rules", load_rule);
	}
	/* Cases last: a corpus of cases is a file of its own, loaded with the kb it tests. */
	for (size_t u = 0; u < ld.units.n && !ld.oom; u++)
		each_item(&ld, units[u]->sect[SEC_CASES], "cases", "a list of cases", load_case);

	prog->templates =
	        gv_finish(&ld, arena, &ld.tmpls, sizeof(fx_template_def), &prog->ntemplates);
	prog->facts = gv_finish(&ld, arena, &ld.facts, sizeof(fx_fact_def), &prog->nfacts);
	prog->rules = gv_finish(&ld, arena, &ld.rules, sizeof(fx_rule_def), &prog->nrules);
	prog->patterns =
	        gv_finish(&ld, arena, &ld.patterns, sizeof(fx_pattern_def), &prog->npatterns);
	prog->remedies =
	        gv_finish(&ld, arena, &ld.remedies, sizeof(fx_remedy_def), &prog->nremedies);
	prog->questions =
	        gv_finish(&ld, arena, &ld.questions, sizeof(fx_question_def), &prog->nquestions);
	prog->cases = gv_finish(&ld, arena, &ld.cases, sizeof(fx_case_def), &prog->ncases);
	prog->findings =
	        gv_finish(&ld, arena, &ld.findings, sizeof(fx_finding_def), &prog->nfindings);
	if (ld.files.n) {
		const char **names = anew(&ld, ld.files.n, sizeof(char *));
		if (names) {
			for (size_t i = 0; i < ld.files.n; i++)
				names[i] = ((srcfile **)ld.files.p)[i]->name;
			prog->files = names;
			prog->nfiles = (uint32_t)ld.files.n;
		}
	}

	gv_free(&ld.files);
	gv_free(&ld.units);
	gv_free(&ld.tmpls);
	gv_free(&ld.facts);
	gv_free(&ld.rules);
	gv_free(&ld.patterns);
	gv_free(&ld.remedies);
	gv_free(&ld.questions);
	gv_free(&ld.cases);
	gv_free(&ld.findings);
	ht_free(&ld.names);
	ht_free(&ld.slots);
	ht_free(&ld.vars);
	ht_free(&ld.seen);
	fx_buf_dispose(&ld.msg);
	fx_arena_dispose(&ld.scratch);
	if (ld.oom)
		return FX_ENOMEM;
	if (ld.io)
		return FX_EIO;
	return rep->errors > errors0 ? FX_ELOAD : 0;
}
