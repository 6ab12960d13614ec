/* image.c: a loaded program saved as bytes and read back without the loader (CLIPS's bsave and
 * bload, Lua's precompiled chunks), so that a program embedding its knowledge base starts
 * without parsing YAML, checking rules or compiling regexes it will not run.
 *
 * What is saved is the checked program of ast.h, every atom of the kb's table and the source
 * texts (so that lint and explanations can still quote lines). Reading rebuilds the program
 * in the kb's arena; texts (names, steps, regexes, sources) are borrowed from the image, which
 * must outlive the kb. Regexes are made deferred (regex.h): one message compiles only those
 * its text can reach. The Rete network and the matcher are built from the program as after a
 * load.
 *
 * Format (all integers little-endian, so an image is the same on every machine):
 *   magic "\0fxprog" + format version byte, u32 body length, u32 hash of the body,
 *   u32 length of the writer's FX_VERSION_STRING and those bytes, then the body:
 *   atoms, files, sources, templates, facts, remedies, questions, patterns, rules, cases,
 *   findings.
 * A text is u32 (length + 1, 0 for NULL), the bytes, a NUL. A value is u32 type and its
 * payload: atom index, 8-byte integer or IEEE double, u32 boolean.
 *
 * Trust. Like Lua's chunks, an image is for the program that wrote it: the reader refuses
 * another format or fixit version and a body whose hash differs (damage), and checks every
 * count and index against what it has read, so a damaged image is an error rather than a
 * crash; it does not re-prove what the loader proves of rule files (that a variable is bound
 * before it is used, that a test is boolean...). Never load images from untrusted sources. */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "expr.h"
#include "regex.h"

static const unsigned char image_magic[8] = {0, 'f', 'x', 'p', 'r', 'o', 'g', 2};

/* Deep enough for any expression or nesting a loader accepts (it stops far earlier). */
#define MAX_DEPTH 200

/* The checksum: 64-bit words read little-endian, so that it is the same on every machine, and
 * a word at a time, so that checking a whole image costs little next to reading it. */
uint32_t fx_image_checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;
	while (len) {
		uint64_t w = 0;
		size_t n = len < 8 ? len : 8;
		memcpy(&w, p, n);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w) >> (8 * (8 - n));
#endif
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 29;
		p += n;
		len -= n;
	}
	return (uint32_t)(h ^ h >> 32);
}

/* ============================================================================================
 * Writing
 * ============================================================================================ */

typedef struct wr {
	fx_buf *b;
	const fx_program *prog;
	const fx_atom **atoms;   /* open addressing by pointer: the atom table's order */
	uint32_t *index;         /* index[i]: number of atoms[i] in the image */
	size_t cap;
	int err;                 /* FX_EINVAL (something not expressible) or FX_ENOMEM */
} wr;

static void w_u32(wr *w, uint32_t v)
{
	char c[4] = {(char)(v & 0xff), (char)(v >> 8 & 0xff), (char)(v >> 16 & 0xff),
	             (char)(v >> 24 & 0xff)};
	fx_buf_append(w->b, c, 4);
}

static void w_u64(wr *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v & 0xffffffffu));
	w_u32(w, (uint32_t)(v >> 32));
}

static void w_count(wr *w, size_t n)
{
	if (n >= UINT32_MAX)
		w->err = FX_EINVAL;
	w_u32(w, (uint32_t)n);
}

static void w_text(wr *w, const char *s, size_t len)
{
	if (!s) {
		w_u32(w, 0);
		return;
	}
	w_count(w, len + 1);
	fx_buf_append(w->b, s, len);
	fx_buf_putc(w->b, '\0');
}

static void w_str(wr *w, const char *s)
{
	w_text(w, s, s ? strlen(s) : 0);
}

static size_t atom_slot(const wr *w, const fx_atom *a)
{
	size_t i = ((uintptr_t)a >> 4) * 2654435761u & (w->cap - 1);
	while (w->atoms[i] && w->atoms[i] != a)
		i = (i + 1) & (w->cap - 1);
	return i;
}

static void w_val(wr *w, fx_val v)
{
	w_u32(w, v.type);
	switch (v.type) {
	case FX_NIL:
		break;
	case FX_SYMBOL:
	case FX_STRING: {
		size_t i = w->cap ? atom_slot(w, v.u.a) : 0;
		if (!w->cap || w->atoms[i] != v.u.a) {
			w->err = FX_EINVAL; /* a text outside the kb's table */
			return;
		}
		w_u32(w, w->index[i]);
		break;
	}
	case FX_INTEGER:
		w_u64(w, (uint64_t)v.u.i);
		break;
	case FX_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v.u.f, sizeof bits);
		w_u64(w, bits);
		break;
	}
	case FX_BOOLEAN:
		w_u32(w, v.u.b ? 1u : 0u);
		break;
	default:
		w->err = FX_EINVAL;
	}
}

static void w_pos(wr *w, fx_pos p)
{
	uint32_t f = 0; /* 0: no file; i + 1: prog->files[i] */
	for (uint32_t i = 0; p.file && i < w->prog->nfiles && !f; i++)
		if (w->prog->files[i] == p.file)
			f = i + 1;
	for (uint32_t i = 0; p.file && i < w->prog->nfiles && !f; i++)
		if (strcmp(w->prog->files[i], p.file) == 0)
			f = i + 1;
	if (p.file && !f)
		w->err = FX_EINVAL;
	w_u32(w, f);
	w_u32(w, p.line);
	w_u32(w, p.col);
}

static void w_expr(wr *w, const fx_expr *e, int depth)
{
	if (!e) {
		w_u32(w, UINT32_MAX);
		return;
	}
	if (depth > MAX_DEPTH) {
		w->err = FX_EINVAL;
		return;
	}
	w_u32(w, (uint32_t)e->kind);
	w_pos(w, e->pos);
	switch (e->kind) {
	case FX_X_CONST:
		w_val(w, e->val);
		return;
	case FX_X_VAR:
		w_u32(w, e->var);
		return;
	case FX_X_CALL:
		/* By name: a function is the same entry of the same table when read back. */
		if (!e->fn || fx_expr_func(e->fn->name, strlen(e->fn->name)) != e->fn)
			w->err = FX_EINVAL;
		w_str(w, e->fn ? e->fn->name : "");
		break;
	default:
		break;
	}
	w_count(w, e->nargs);
	for (uint32_t i = 0; i < e->nargs; i++)
		w_expr(w, e->args[i], depth + 1);
}

static void w_regex(wr *w, const fx_regex *re, const char *const *names, uint32_t ngroups)
{
	if (!re) {
		w_u32(w, 0);
		return;
	}
	w_u32(w, 1);
	w_text(w, fx_regex_source(re), fx_regex_source_len(re));
	w_u32(w, fx_regex_flags(re));
	w_count(w, names ? ngroups : 0);
	for (uint32_t i = 1; names && i < ngroups; i++)
		w_str(w, names[i]);
}

static void w_fact(wr *w, const fx_fact_def *f)
{
	w_str(w, f->id);
	w_u32(w, f->tmpl);
	const fx_template_def *td = &w->prog->templates[f->tmpl];
	for (uint32_t i = 0; i < td->nslots; i++)
		w_val(w, f->values[i]);
	w_pos(w, f->pos);
}

static void w_ces(wr *w, const fx_ce *ces, uint32_t n, int depth)
{
	if (depth > MAX_DEPTH)
		w->err = FX_EINVAL;
	w_count(w, n);
	for (uint32_t i = 0; i < n && !w->err; i++) {
		const fx_ce *ce = &ces[i];
		w_u32(w, (uint32_t)ce->kind);
		w_pos(w, ce->pos);
		switch (ce->kind) {
		case FX_CE_PATTERN:
			w_u32(w, ce->tmpl);
			w_u32(w, ce->depth);
			w_u32(w, (uint32_t)ce->fact_var);
			w_count(w, ce->ncons);
			for (uint32_t k = 0; k < ce->ncons; k++) {
				const fx_constraint *c = &ce->cons[k];
				w_u32(w, (uint32_t)c->op);
				w_u32(w, c->slot);
				w_u32(w, c->var);
				w_expr(w, c->arg, 0);
				w_count(w, c->list ? c->nlist : 0);
				for (uint32_t j = 0; c->list && j < c->nlist; j++)
					w_val(w, c->list[j]);
				w_regex(w, c->re, NULL, 0);
				w_pos(w, c->pos);
			}
			break;
		case FX_CE_NOT:
		case FX_CE_EXISTS:
			w_ces(w, ce->children, ce->nchildren, depth + 1);
			break;
		case FX_CE_TEST:
			w_expr(w, ce->test, 0);
			break;
		default:
			w->err = FX_EINVAL;
		}
	}
}

static void w_rule(wr *w, const fx_rule_def *r)
{
	w_str(w, r->name);
	w_u32(w, (uint32_t)r->salience);
	w_str(w, r->because);
	w_str(w, r->doc);
	w_str(w, r->source);
	w_u32(w, r->logical ? 1u : 0u);
	w_pos(w, r->pos);
	w_count(w, r->nvars);
	for (uint32_t i = 0; i < r->nvars; i++) {
		const fx_var_def *v = &r->vars[i];
		w_str(w, v->name);
		w_u32(w, (uint32_t)v->kind);
		w_u32(w, v->depth);
		w_u32(w, v->slot);
		w_pos(w, v->pos);
	}
	w_u32(w, r->nlocals);
	w_u32(w, r->ndepth);
	w_ces(w, r->ces, r->nces, 0);
	w_count(w, r->nactions);
	for (uint32_t i = 0; i < r->nactions; i++) {
		const fx_action *a = &r->actions[i];
		w_u32(w, (uint32_t)a->kind);
		w_pos(w, a->pos);
		w_u32(w, a->tmpl);
		w_count(w, a->sets ? a->nsets : 0);
		for (uint32_t k = 0; a->sets && k < a->nsets; k++) {
			w_u32(w, a->sets[k].slot);
			w_expr(w, a->sets[k].value, 0);
			w_pos(w, a->sets[k].pos);
		}
		w_expr(w, a->target, 0);
		w_u32(w, a->var);
		w_expr(w, a->value, 0);
		w_count(w, a->items ? a->nitems : 0);
		for (uint32_t k = 0; a->items && k < a->nitems; k++)
			w_expr(w, a->items[k], 0);
	}
}

static void w_samples(wr *w, const fx_sample *s, uint32_t n)
{
	w_count(w, s ? n : 0);
	for (uint32_t i = 0; s && i < n; i++) {
		w_text(w, s[i].text, s[i].len);
		w_pos(w, s[i].pos);
	}
}

static void w_pattern(wr *w, const fx_pattern_def *p)
{
	w_str(w, p->name);
	w_text(w, p->regex, p->regex_len);
	w_u32(w, p->flags);
	w_regex(w, p->re, p->groups, p->ngroups);
	w_pos(w, p->pos);
	w_pos(w, p->regex_pos);
	w_count(w, p->nfacts);
	for (uint32_t i = 0; i < p->nfacts; i++) {
		const fx_pattern_fact *f = &p->facts[i];
		w_u32(w, f->tmpl);
		w_pos(w, f->pos);
		const fx_template_def *td = &w->prog->templates[f->tmpl];
		for (uint32_t k = 0; k < td->nslots; k++) {
			w_u32(w, (uint32_t)f->vals[k].kind);
			w_u32(w, f->vals[k].group);
			w_val(w, f->vals[k].val);
			w_pos(w, f->vals[k].pos);
		}
	}
	w_str(w, p->source);
	w_str(w, p->doc);
	w_samples(w, p->examples, p->nexamples);
	w_samples(w, p->near_misses, p->nnear);
	w_count(w, p->ngroups);
	for (uint32_t i = 0; i < p->ngroups; i++)
		w_str(w, p->groups[i]);
}

static void w_strs(wr *w, const char *const *s, uint32_t n)
{
	w_count(w, s ? n : 0);
	for (uint32_t i = 0; s && i < n; i++)
		w_str(w, s[i]);
}

static void w_case(wr *w, const fx_case_def *c)
{
	w_str(w, c->name);
	w_text(w, c->input, c->input_len);
	w_count(w, c->answers ? c->nanswers : 0);
	for (uint32_t i = 0; c->answers && i < c->nanswers; i++) {
		w_u32(w, c->answers[i].question);
		w_u32(w, c->answers[i].answer);
		w_pos(w, c->answers[i].pos);
	}
	w_strs(w, c->tried, c->ntried);
	w_str(w, c->source);
	w_str(w, c->doc);
	w_strs(w, c->findings, c->nfindings);
	w_strs(w, c->remedies, c->nremedies);
	w_strs(w, c->absent, c->nabsent);
	w_str(w, c->top);
	w_u32(w, c->nothing ? 1u : 0u);
	w_pos(w, c->pos);
}

static void w_body(wr *w, const fx_atoms *atoms, const fx_source *src, size_t nsrc)
{
	const fx_program *p = w->prog;

	/* Every atom of the table, used or not: a session looks texts up in it, and must find
	 * the same ones as after a load. */
	w_count(w, atoms->count);
	uint32_t n = 0;
	for (size_t i = 0; i < atoms->cap; i++) {
		const fx_atom *a = atoms->slots[i];
		if (!a)
			continue;
		size_t s = atom_slot(w, a);
		w->atoms[s] = a;
		w->index[s] = n++;
		w_text(w, a->text, a->len);
	}
	w_count(w, p->nfiles);
	for (uint32_t i = 0; i < p->nfiles; i++)
		w_str(w, p->files[i]);
	w_count(w, nsrc);
	for (size_t i = 0; i < nsrc; i++) {
		w_pos(w, (fx_pos){src[i].name, 0, 0});
		w_text(w, src[i].text, src[i].len);
	}
	w_count(w, p->ntemplates);
	for (uint32_t i = 0; i < p->ntemplates; i++) {
		const fx_template_def *t = &p->templates[i];
		w_str(w, t->name);
		w_count(w, t->nslots);
		for (uint32_t k = 0; k < t->nslots; k++) {
			const fx_slot_def *s = &t->slots[k];
			w_str(w, s->name);
			w_u32(w, (uint32_t)s->type);
			w_val(w, s->dflt);
			w_str(w, s->doc);
			w_pos(w, s->pos);
		}
		w_str(w, t->doc);
		w_pos(w, t->pos);
	}
	w_count(w, p->nfacts);
	for (uint32_t i = 0; i < p->nfacts; i++)
		w_fact(w, &p->facts[i]);
	w_count(w, p->nremedies);
	for (uint32_t i = 0; i < p->nremedies; i++) {
		const fx_remedy_def *r = &p->remedies[i];
		w_str(w, r->name);
		w_str(w, r->title);
		w_strs(w, r->steps, r->nsteps);
		w_u32(w, (uint32_t)r->cost);
		w_str(w, r->warning);
		w_str(w, r->source);
		w_str(w, r->doc);
		w_pos(w, r->pos);
	}
	w_count(w, p->nquestions);
	for (uint32_t i = 0; i < p->nquestions; i++) {
		const fx_question_def *q = &p->questions[i];
		w_str(w, q->name);
		w_str(w, q->text);
		w_str(w, q->doc);
		w_str(w, q->source);
		w_count(w, q->nanswers);
		for (uint32_t k = 0; k < q->nanswers; k++) {
			const fx_answer_def *a = &q->answers[k];
			w_str(w, a->value);
			w_count(w, a->nfacts);
			for (uint32_t j = 0; j < a->nfacts; j++)
				w_fact(w, &a->facts[j]);
			w_pos(w, a->pos);
		}
		w_pos(w, q->pos);
	}
	w_count(w, p->npatterns);
	for (uint32_t i = 0; i < p->npatterns; i++)
		w_pattern(w, &p->patterns[i]);
	w_count(w, p->nrules);
	for (uint32_t i = 0; i < p->nrules && !w->err; i++)
		w_rule(w, &p->rules[i]);
	w_count(w, p->ncases);
	for (uint32_t i = 0; i < p->ncases; i++)
		w_case(w, &p->cases[i]);
	w_count(w, p->nfindings);
	for (uint32_t i = 0; i < p->nfindings; i++) {
		const fx_finding_def *f = &p->findings[i];
		w_str(w, f->name);
		w_str(w, f->title);
		w_str(w, f->source);
		w_str(w, f->doc);
		w_pos(w, f->pos);
	}
}

int fx_image_write(fx_buf *out, const fx_program *prog, const fx_atoms *atoms,
                   const fx_source *sources, size_t nsources)
{
	fx_buf body;
	fx_buf_init(&body);
	wr w = {&body, prog, NULL, NULL, 0, 0};
	size_t cap = 16;
	while (cap < atoms->count * 2 + 2)
		cap *= 2;
	w.atoms = calloc(cap, sizeof *w.atoms);
	w.index = calloc(cap, sizeof *w.index);
	w.cap = cap;
	if (!w.atoms || !w.index)
		w.err = FX_ENOMEM;
	else
		w_body(&w, atoms, sources, nsources);
	free(w.atoms);
	free(w.index);
	if (!w.err && body.oom)
		w.err = FX_ENOMEM;
	if (!w.err && body.len >= UINT32_MAX)
		w.err = FX_ELIMIT;
	if (w.err) {
		fx_buf_dispose(&body);
		return w.err;
	}
	wr h = {out, prog, NULL, NULL, 0, 0};
	fx_buf_append(out, (const char *)image_magic, sizeof image_magic);
	w_u32(&h, (uint32_t)body.len);
	w_u32(&h, fx_image_checksum(body.data ? body.data : "", body.len));
	w_str(&h, FX_VERSION_STRING);
	fx_buf_append(out, body.data ? body.data : "", body.len);
	fx_buf_dispose(&body);
	return out->oom ? FX_ENOMEM : h.err;
}

/* ============================================================================================
 * Reading
 * ============================================================================================ */

typedef struct rd {
	const unsigned char *p, *end;
	fx_arena *arena;
	fx_program *prog;           /* filled as the sections are read; counts checked against */
	const fx_atom **atoms;
	uint32_t natoms;
	const char *bad;            /* the first thing found wrong, or NULL */
	int oom;
} rd;

static int fail(rd *r, const char *what)
{
	if (!r->bad)
		r->bad = what;
	r->p = r->end;
	return -1;
}

static uint32_t r_u32(rd *r)
{
	if (r->end - r->p < 4) {
		fail(r, "it ends early");
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
	             (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

static uint64_t r_u64(rd *r)
{
	uint64_t lo = r_u32(r);
	return lo | (uint64_t)r_u32(r) << 32;
}

/* A count of things each taking at least min bytes of what is left: min is the smallest
 * record the writer makes of one (all its texts NULL, its lists empty), never more, or a
 * valid image would be refused. */
static uint32_t r_count(rd *r, size_t min)
{
	uint32_t n = r_u32(r);
	if ((size_t)(r->end - r->p) / (min ? min : 1) < n) {
		fail(r, "a count larger than the image");
		return 0;
	}
	return n;
}

/* An index below n. */
static uint32_t r_index(rd *r, uint32_t n, const char *what)
{
	uint32_t i = r_u32(r);
	if (i >= n && !r->bad) {
		fail(r, what);
		return 0;
	}
	return i;
}

static const char *r_text(rd *r, uint32_t *len)
{
	uint32_t n = r_u32(r);
	*len = 0;
	if (n == 0 || r->bad)
		return NULL;
	if ((size_t)(r->end - r->p) < n || r->p[n - 1] != 0) {
		fail(r, "a text runs past the image");
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->p += n;
	*len = n - 1;
	return s;
}

static const char *r_str(rd *r)
{
	uint32_t len;
	return r_text(r, &len);
}

static void *r_alloc(rd *r, size_t n, size_t esz)
{
	if (n == 0 || r->bad)
		return NULL;
	void *p = fx_arena_alloc(r->arena, n * esz); /* n is bounded by the image's size */
	if (!p) {
		r->oom = 1;
		fail(r, "out of memory");
	}
	return p;
}

static fx_val r_val(rd *r)
{
	fx_val v = fx_val_nil();
	uint32_t t = r_u32(r);
	switch (t) {
	case FX_NIL:
		break;
	case FX_SYMBOL:
	case FX_STRING: {
		uint32_t i = r_index(r, r->natoms, "an atom out of range");
		if (!r->bad)
			v = fx_val_atom((fx_type)t, r->atoms[i]);
		break;
	}
	case FX_INTEGER:
		v = fx_val_int((int64_t)r_u64(r));
		break;
	case FX_FLOAT: {
		uint64_t bits = r_u64(r);
		double d;
		memcpy(&d, &bits, sizeof d);
		v = fx_val_float(d);
		break;
	}
	case FX_BOOLEAN:
		v = fx_val_bool(r_u32(r) != 0);
		break;
	default:
		fail(r, "an unknown value type");
	}
	return v;
}

static fx_pos r_pos(rd *r)
{
	fx_pos p;
	uint32_t f = r_index(r, r->prog->nfiles + 1, "a file out of range");
	p.file = f ? r->prog->files[f - 1] : NULL;
	p.line = r_u32(r);
	p.col = r_u32(r);
	return p;
}

static fx_expr *r_expr(rd *r, uint32_t nvars, int depth)
{
	uint32_t kind = r_u32(r);
	if (kind == UINT32_MAX || r->bad)
		return NULL;
	if (kind > FX_X_CALL || depth > MAX_DEPTH) {
		fail(r, "a damaged expression");
		return NULL;
	}
	fx_expr *e = r_alloc(r, 1, sizeof *e);
	if (!e)
		return NULL;
	e->kind = (fx_expr_kind)kind;
	e->pos = r_pos(r);
	e->val = fx_val_nil();
	if (kind == FX_X_CONST) {
		e->val = r_val(r);
		return e;
	}
	if (kind == FX_X_VAR) {
		e->var = r_index(r, nvars, "a variable out of range");
		return e;
	}
	if (kind == FX_X_CALL) {
		uint32_t len;
		const char *name = r_text(r, &len);
		e->fn = name ? fx_expr_func(name, len) : NULL;
		if (!e->fn)
			fail(r, "an unknown function");
	}
	e->nargs = r_count(r, 4);
	e->args = r_alloc(r, e->nargs, sizeof *e->args);
	for (uint32_t i = 0; i < e->nargs && !r->bad; i++)
		if (!(e->args[i] = r_expr(r, nvars, depth + 1)))
			fail(r, "a missing operand");
	if (kind == FX_X_CALL && e->fn && !r->bad &&
	    ((int)e->nargs < e->fn->min_args || (e->fn->max_args >= 0 && (int)e->nargs > e->fn->max_args)))
		fail(r, "a call with the wrong number of arguments");
	if ((kind == FX_X_AND || kind == FX_X_OR) && e->nargs != 2)
		fail(r, "a damaged expression");
	if (kind == FX_X_NOT && e->nargs != 1)
		fail(r, "a damaged expression");
	return e;
}

static fx_regex *r_regex(rd *r, fx_vec *regexes)
{
	if (r_u32(r) == 0)
		return NULL;
	uint32_t len;
	const char *src = r_text(r, &len);
	unsigned flags = r_u32(r);
	uint32_t ng = r_count(r, 4);
	const char **names = NULL;
	if (ng) {
		names = r_alloc(r, ng, sizeof *names);
		for (uint32_t i = 1; names && i < ng; i++)
			names[i] = r_str(r);
	}
	if (r->bad)
		return NULL;
	fx_regex *re = fx_regex_new_deferred(src ? src : "", len, flags, names, ng ? ng - 1 : 0);
	if (!re || fx_vec_push(regexes, re) != 0) {
		fx_regex_free(re);
		r->oom = 1;
		fail(r, "out of memory");
		return NULL;
	}
	return re;
}

static void r_fact(rd *r, fx_fact_def *f)
{
	f->id = r_str(r);
	f->tmpl = r_index(r, r->prog->ntemplates, "a template out of range");
	if (r->bad)
		return;
	const fx_template_def *td = &r->prog->templates[f->tmpl];
	f->values = r_alloc(r, td->nslots, sizeof *f->values);
	for (uint32_t i = 0; f->values && i < td->nslots; i++)
		f->values[i] = r_val(r);
	f->pos = r_pos(r);
}

static uint32_t r_slot(rd *r, uint32_t tmpl)
{
	if (r->bad)
		return 0;
	return r_index(r, r->prog->templates[tmpl].nslots, "a slot out of range");
}

static fx_ce *r_ces(rd *r, const fx_rule_def *rule, uint32_t *count, fx_vec *regexes,
                    int depth)
{
	uint32_t n = r_count(r, 16);
	*count = n;
	if (depth > MAX_DEPTH) {
		fail(r, "conditions nested too deep");
		return NULL;
	}
	fx_ce *ces = r_alloc(r, n, sizeof *ces);
	for (uint32_t i = 0; ces && i < n && !r->bad; i++) {
		fx_ce *ce = &ces[i];
		uint32_t kind = r_u32(r);
		ce->pos = r_pos(r);
		ce->fact_var = -1;
		if (kind == FX_CE_PATTERN) {
			ce->kind = FX_CE_PATTERN;
			ce->tmpl = r_index(r, r->prog->ntemplates, "a template out of range");
			ce->depth = r_index(r, rule->ndepth, "a pattern depth out of range");
			uint32_t fv = r_u32(r);
			if (fv != UINT32_MAX && fv >= rule->nvars)
				fail(r, "a variable out of range");
			ce->fact_var = fv == UINT32_MAX ? -1 : (int32_t)fv;
			ce->ncons = r_count(r, 24);
			ce->cons = r_alloc(r, ce->ncons, sizeof *ce->cons);
			for (uint32_t k = 0; ce->cons && k < ce->ncons && !r->bad; k++) {
				fx_constraint *c = &ce->cons[k];
				uint32_t op = r_u32(r);
				if (op > FX_C_TEST)
					fail(r, "an unknown constraint");
				c->op = (fx_cons_op)op;
				c->slot = r_slot(r, ce->tmpl);
				c->var = r_u32(r);
				if (op == FX_C_BIND && c->var >= rule->nvars)
					fail(r, "a variable out of range");
				c->arg = r_expr(r, rule->nvars, 0);
				c->nlist = r_count(r, 4);
				c->list = r_alloc(r, c->nlist, sizeof *c->list);
				for (uint32_t j = 0; c->list && j < c->nlist; j++)
					c->list[j] = r_val(r);
				c->re = r_regex(r, regexes);
				c->pos = r_pos(r);
				if ((op == FX_C_MATCH || op == FX_C_NOT_MATCH) && !c->re)
					fail(r, "a regex test without its regex");
				if ((op == FX_C_IN || op == FX_C_NOT_IN) && !c->list && c->nlist)
					fail(r, "a list test without its list");
				if (op != FX_C_BIND && op != FX_C_MATCH && op != FX_C_NOT_MATCH &&
				    op != FX_C_IN && op != FX_C_NOT_IN && !c->arg)
					fail(r, "a test without its operand");
			}
		} else if (kind == FX_CE_NOT || kind == FX_CE_EXISTS) {
			ce->kind = (fx_ce_kind)kind;
			ce->children = r_ces(r, rule, &ce->nchildren, regexes, depth + 1);
		} else if (kind == FX_CE_TEST) {
			ce->kind = FX_CE_TEST;
			if (!(ce->test = r_expr(r, rule->nvars, 0)))
				fail(r, "a test without its expression");
		} else {
			fail(r, "an unknown condition");
		}
	}
	return ces;
}

/* Record the pattern at each depth; 0 when a depth is taken twice. */
static int fill_depths(const fx_ce *ces, uint32_t n, const fx_ce **by, uint32_t ndepth)
{
	for (uint32_t i = 0; i < n; i++) {
		const fx_ce *ce = &ces[i];
		if (ce->kind == FX_CE_PATTERN) {
			if (ce->depth >= ndepth || by[ce->depth])
				return 0;
			by[ce->depth] = ce;
		} else if ((ce->kind == FX_CE_NOT || ce->kind == FX_CE_EXISTS) &&
		           !fill_depths(ce->children, ce->nchildren, by, ndepth)) {
			return 0;
		}
	}
	return 1;
}

/* What the Rete compiler takes for granted: one pattern at each depth, and every variable
 * bound to a slot that the pattern at its depth has. */
static void check_depths(rd *r, const fx_rule_def *rule)
{
	if (r->bad || rule->ndepth == 0)
		return;
	const fx_ce **by = calloc(rule->ndepth, sizeof *by);
	if (!by) {
		r->oom = 1;
		fail(r, "out of memory");
		return;
	}
	int ok = fill_depths(rule->ces, rule->nces, by, rule->ndepth);
	for (uint32_t d = 0; ok && d < rule->ndepth; d++)
		ok = by[d] != NULL;
	for (uint32_t i = 0; ok && i < rule->nvars; i++) {
		const fx_var_def *v = &rule->vars[i];
		if (v->kind == FX_VAR_SLOT)
			ok = v->slot < r->prog->templates[by[v->depth]->tmpl].nslots;
	}
	free(by);
	if (!ok)
		fail(r, "a rule whose patterns and variables do not agree");
}

static void r_rule(rd *r, fx_rule_def *rule, uint32_t index, fx_vec *regexes)
{
	rule->name = r_str(r);
	rule->index = index;
	rule->salience = (int32_t)r_u32(r);
	rule->because = r_str(r);
	rule->doc = r_str(r);
	rule->source = r_str(r);
	rule->logical = r_u32(r) != 0;
	rule->pos = r_pos(r);
	rule->nvars = r_count(r, 24);
	rule->vars = r_alloc(r, rule->nvars, sizeof *rule->vars);
	for (uint32_t i = 0; rule->vars && i < rule->nvars; i++) {
		fx_var_def *v = &rule->vars[i];
		v->name = r_str(r);
		uint32_t kind = r_u32(r);
		if (kind > FX_VAR_LOCAL)
			fail(r, "an unknown variable kind");
		v->kind = (fx_var_kind)kind;
		v->depth = r_u32(r);
		v->slot = r_u32(r);
		v->pos = r_pos(r);
	}
	rule->nlocals = r_u32(r);
	rule->ndepth = r_u32(r);
	if (!rule->name || rule->nlocals > rule->nvars || rule->ndepth > (uint32_t)(r->end - r->p))
		fail(r, "a damaged rule");
	for (uint32_t i = 0; rule->vars && i < rule->nvars && !r->bad; i++) {
		const fx_var_def *v = &rule->vars[i];
		if (v->kind == FX_VAR_LOCAL ? v->slot >= rule->nlocals : v->depth >= rule->ndepth)
			fail(r, "a variable out of range");
	}
	rule->ces = r_ces(r, rule, &rule->nces, regexes, 0);
	check_depths(r, rule);
	rule->nactions = r_count(r, 40);
	rule->actions = r_alloc(r, rule->nactions, sizeof *rule->actions);
	for (uint32_t i = 0; rule->actions && i < rule->nactions && !r->bad; i++) {
		fx_action *a = &rule->actions[i];
		uint32_t kind = r_u32(r);
		if (kind > FX_A_HALT)
			fail(r, "an unknown action");
		a->kind = (fx_action_kind)kind;
		a->pos = r_pos(r);
		a->tmpl = r_u32(r);
		if (a->tmpl != UINT32_MAX && a->tmpl >= r->prog->ntemplates)
			fail(r, "a template out of range");
		/* The session checks a modified fact against the template, then its slots. */
		if ((kind == FX_A_ASSERT || kind == FX_A_MODIFY) && a->tmpl == UINT32_MAX)
			fail(r, "an assert or modify without its template");
		a->nsets = r_count(r, 20);
		a->sets = r_alloc(r, a->nsets, sizeof *a->sets);
		for (uint32_t k = 0; a->sets && k < a->nsets && !r->bad; k++) {
			a->sets[k].slot = a->tmpl != UINT32_MAX ? r_slot(r, a->tmpl) : r_u32(r);
			a->sets[k].value = r_expr(r, rule->nvars, 0);
			a->sets[k].pos = r_pos(r);
		}
		a->target = r_expr(r, rule->nvars, 0);
		a->var = r_u32(r);
		if (kind == FX_A_BIND &&
		    (a->var >= rule->nvars || rule->vars[a->var].kind != FX_VAR_LOCAL))
			fail(r, "a bind of something other than a local variable");
		a->value = r_expr(r, rule->nvars, 0);
		a->nitems = r_count(r, 4);
		a->items = r_alloc(r, a->nitems, sizeof *a->items);
		for (uint32_t k = 0; a->items && k < a->nitems && !r->bad; k++)
			if (!(a->items[k] = r_expr(r, rule->nvars, 0)))
				fail(r, "a missing print item");
		if ((kind == FX_A_RETRACT || kind == FX_A_MODIFY) && !a->target)
			fail(r, "an action without its target");
		if (kind == FX_A_BIND && !a->value)
			fail(r, "a bind without its value");
	}
}

static fx_sample *r_samples(rd *r, uint32_t *n)
{
	*n = r_count(r, 16);
	fx_sample *s = r_alloc(r, *n, sizeof *s);
	for (uint32_t i = 0; s && i < *n; i++) {
		s[i].text = r_text(r, &s[i].len);
		s[i].pos = r_pos(r);
	}
	return s;
}

static const char **r_strs(rd *r, uint32_t *n)
{
	*n = r_count(r, 4);
	const char **s = r_alloc(r, *n, sizeof *s);
	for (uint32_t i = 0; s && i < *n; i++)
		s[i] = r_str(r);
	return s;
}

static void r_pattern(rd *r, fx_pattern_def *p, uint32_t index, fx_vec *regexes)
{
	p->name = r_str(r);
	p->index = index;
	p->regex = r_text(r, &p->regex_len);
	p->flags = r_u32(r);
	p->re = r_regex(r, regexes);
	p->pos = r_pos(r);
	p->regex_pos = r_pos(r);
	if (!p->name || !p->regex || !p->re)
		fail(r, "a damaged pattern");
	p->nfacts = r_count(r, 16);
	p->facts = r_alloc(r, p->nfacts, sizeof *p->facts);
	for (uint32_t i = 0; p->facts && i < p->nfacts && !r->bad; i++) {
		fx_pattern_fact *f = &p->facts[i];
		f->tmpl = r_index(r, r->prog->ntemplates, "a template out of range");
		f->pos = r_pos(r);
		uint32_t ns = r->bad ? 0 : r->prog->templates[f->tmpl].nslots;
		f->vals = r_alloc(r, ns, sizeof *f->vals);
		for (uint32_t k = 0; f->vals && k < ns; k++) {
			uint32_t kind = r_u32(r);
			if (kind > FX_PV_CAPTURE)
				fail(r, "an unknown pattern value");
			f->vals[k].kind = (fx_pvalue_kind)kind;
			f->vals[k].group = r_u32(r);
			f->vals[k].val = r_val(r);
			f->vals[k].pos = r_pos(r);
		}
	}
	p->source = r_str(r);
	p->doc = r_str(r);
	p->examples = r_samples(r, &p->nexamples);
	p->near_misses = r_samples(r, &p->nnear);
	p->groups = r_strs(r, &p->ngroups);
	for (uint32_t i = 0; p->facts && i < p->nfacts && !r->bad; i++) {
		uint32_t ns = r->prog->templates[p->facts[i].tmpl].nslots;
		for (uint32_t k = 0; k < ns; k++)
			if (p->facts[i].vals[k].kind == FX_PV_CAPTURE &&
			    p->facts[i].vals[k].group >= p->ngroups)
				fail(r, "a capture group out of range");
	}
}

static void r_case(rd *r, fx_case_def *c, uint32_t index)
{
	c->name = r_str(r);
	c->index = index;
	c->input = r_text(r, &c->input_len);
	c->nanswers = r_count(r, 20);
	c->answers = r_alloc(r, c->nanswers, sizeof *c->answers);
	for (uint32_t i = 0; c->answers && i < c->nanswers && !r->bad; i++) {
		fx_case_answer *a = &c->answers[i];
		a->question = r_index(r, r->prog->nquestions, "a question out of range");
		a->answer = r_u32(r);
		if (!r->bad && a->answer != UINT32_MAX &&
		    a->answer >= r->prog->questions[a->question].nanswers)
			fail(r, "an answer out of range");
		a->pos = r_pos(r);
	}
	c->tried = r_strs(r, &c->ntried);
	c->source = r_str(r);
	c->doc = r_str(r);
	c->findings = r_strs(r, &c->nfindings);
	c->remedies = r_strs(r, &c->nremedies);
	c->absent = r_strs(r, &c->nabsent);
	c->top = r_str(r);
	c->nothing = r_u32(r) != 0;
	c->pos = r_pos(r);
}

static void r_body(rd *r, fx_atoms *atoms, fx_vec *regexes, fx_source **sources,
                   size_t *nsources)
{
	fx_program *p = r->prog;

	r->natoms = r_count(r, 5);
	r->atoms = r->natoms ? calloc(r->natoms, sizeof *r->atoms) : NULL;
	if (r->natoms && !r->atoms) {
		r->oom = 1;
		fail(r, "out of memory");
	}
	for (uint32_t i = 0; i < r->natoms && !r->bad; i++) {
		uint32_t len;
		const char *t = r_text(r, &len);
		if (!t)
			fail(r, "a missing atom");
		else if (!(r->atoms[i] = fx_atoms_intern(atoms, t, len))) {
			r->oom = 1;
			fail(r, "out of memory");
		}
	}
	p->nfiles = r_count(r, 5);
	p->files = r_alloc(r, p->nfiles, sizeof *p->files);
	for (uint32_t i = 0; p->files && i < p->nfiles; i++)
		if (!(p->files[i] = r_str(r)))
			fail(r, "a file without a name");
	uint32_t ns = r_count(r, 16);
	fx_source *src = r_alloc(r, ns, sizeof *src);
	for (uint32_t i = 0; src && i < ns; i++) {
		uint32_t tl;
		src[i].name = r_pos(r).file;
		src[i].text = r_text(r, &tl);
		src[i].len = tl;
	}
	if (!r->bad) {
		*sources = src;
		*nsources = src ? ns : 0;
	}

	p->ntemplates = r_count(r, 16);
	p->templates = r_alloc(r, p->ntemplates, sizeof *p->templates);
	for (uint32_t i = 0; p->templates && i < p->ntemplates && !r->bad; i++) {
		fx_template_def *t = &p->templates[i];
		t->name = r_str(r);
		t->index = i;
		t->nslots = r_count(r, 24);
		t->slots = r_alloc(r, t->nslots, sizeof *t->slots);
		for (uint32_t k = 0; t->slots && k < t->nslots; k++) {
			fx_slot_def *s = &t->slots[k];
			s->name = r_str(r);
			uint32_t type = r_u32(r);
			if (type > FX_BOOLEAN || !s->name)
				fail(r, "a damaged slot");
			s->type = (fx_type)type;
			s->dflt = r_val(r);
			s->doc = r_str(r);
			s->pos = r_pos(r);
		}
		t->doc = r_str(r);
		t->pos = r_pos(r);
		if (!t->name)
			fail(r, "a template without a name");
	}
	p->nfacts = r_count(r, 16);
	p->facts = r_alloc(r, p->nfacts, sizeof *p->facts);
	for (uint32_t i = 0; p->facts && i < p->nfacts && !r->bad; i++)
		r_fact(r, &p->facts[i]);
	p->nremedies = r_count(r, 40);
	p->remedies = r_alloc(r, p->nremedies, sizeof *p->remedies);
	for (uint32_t i = 0; p->remedies && i < p->nremedies && !r->bad; i++) {
		fx_remedy_def *m = &p->remedies[i];
		m->name = r_str(r);
		m->index = i;
		m->title = r_str(r);
		m->steps = r_strs(r, &m->nsteps);
		m->cost = (int32_t)r_u32(r);
		m->warning = r_str(r);
		m->source = r_str(r);
		m->doc = r_str(r);
		m->pos = r_pos(r);
		if (!m->name)
			fail(r, "a remedy without a name");
	}
	p->nquestions = r_count(r, 32);
	p->questions = r_alloc(r, p->nquestions, sizeof *p->questions);
	for (uint32_t i = 0; p->questions && i < p->nquestions && !r->bad; i++) {
		fx_question_def *q = &p->questions[i];
		q->name = r_str(r);
		q->index = i;
		q->text = r_str(r);
		q->doc = r_str(r);
		q->source = r_str(r);
		q->nanswers = r_count(r, 20);
		q->answers = r_alloc(r, q->nanswers, sizeof *q->answers);
		for (uint32_t k = 0; q->answers && k < q->nanswers && !r->bad; k++) {
			fx_answer_def *a = &q->answers[k];
			a->value = r_str(r);
			a->nfacts = r_count(r, 16);
			a->facts = r_alloc(r, a->nfacts, sizeof *a->facts);
			for (uint32_t j = 0; a->facts && j < a->nfacts && !r->bad; j++)
				r_fact(r, &a->facts[j]);
			a->pos = r_pos(r);
			if (!a->value)
				fail(r, "an answer without a value");
		}
		q->pos = r_pos(r);
		if (!q->name)
			fail(r, "a question without a name");
	}
	p->npatterns = r_count(r, 64);
	p->patterns = r_alloc(r, p->npatterns, sizeof *p->patterns);
	for (uint32_t i = 0; p->patterns && i < p->npatterns && !r->bad; i++)
		r_pattern(r, &p->patterns[i], i, regexes);
	p->nrules = r_count(r, 56);
	p->rules = r_alloc(r, p->nrules, sizeof *p->rules);
	for (uint32_t i = 0; p->rules && i < p->nrules && !r->bad; i++)
		r_rule(r, &p->rules[i], i, regexes);
	p->ncases = r_count(r, 56);
	p->cases = r_alloc(r, p->ncases, sizeof *p->cases);
	for (uint32_t i = 0; p->cases && i < p->ncases && !r->bad; i++)
		r_case(r, &p->cases[i], i);
	p->nfindings = r_count(r, 28);
	p->findings = r_alloc(r, p->nfindings, sizeof *p->findings);
	for (uint32_t i = 0; p->findings && i < p->nfindings && !r->bad; i++) {
		fx_finding_def *f = &p->findings[i];
		f->name = r_str(r);
		f->index = i;
		f->title = r_str(r);
		f->source = r_str(r);
		f->doc = r_str(r);
		f->pos = r_pos(r);
		if (!f->name)
			fail(r, "a finding without an id");
	}
	if (r->p != r->end)
		fail(r, "bytes after its end");
}

int fx_image_read(fx_program *prog, fx_arena *arena, fx_atoms *atoms, fx_vec *regexes,
                  fx_source **sources, size_t *nsources, const void *image, size_t len,
                  const char **why)
{
	rd r;
	memset(&r, 0, sizeof r);
	memset(prog, 0, sizeof *prog);
	*sources = NULL;
	*nsources = 0;
	*why = NULL;
	r.p = image;
	r.end = r.p + len;
	r.arena = arena;
	r.prog = prog;
	if (len < sizeof image_magic || memcmp(image, image_magic, sizeof image_magic - 1) != 0) {
		*why = "not a fixit image";
		return FX_EINVAL;
	}
	if (r.p[sizeof image_magic - 1] != image_magic[sizeof image_magic - 1]) {
		*why = "an image of another format version: write it again with this fixit";
		return FX_EINVAL;
	}
	r.p += sizeof image_magic;
	uint32_t body = r_u32(&r), hash = r_u32(&r);
	uint32_t vlen;
	const char *version = r_text(&r, &vlen);
	if (r.bad || !version || strcmp(version, FX_VERSION_STRING) != 0) {
		*why = r.bad ? "a damaged header"
		             : "an image written by another fixit version: write it again";
		return FX_EINVAL;
	}
	if ((size_t)(r.end - r.p) != body || fx_image_checksum(r.p, body) != hash) {
		*why = "a damaged image (its length or checksum does not match)";
		return FX_EINVAL;
	}
	r_body(&r, atoms, regexes, sources, nsources);
	free(r.atoms);
	if (r.bad) {
		*why = r.bad;
		return r.oom ? FX_ENOMEM : FX_EINVAL;
	}
	return 0;
}
