/* text.c: from text to facts (fx_text_*). A pasted message or one case of a log is scanned with
 * the kb's matcher (match.c); each match asserts its pattern's facts into the session, and each
 * new fact remembers where it came from. Sits between the reader (cases) and the rules.
 *
 * Values. A pattern's slot is a constant, already typed by the loader, or a capture group, whose
 * bytes are converted to the slot's type here, strictly and by the rules of rule files
 * (docs/rule-language.md, "Values"): any bytes for a symbol or string, a decimal 64-bit integer,
 * a decimal number, `true`/`false`. A capture that does not convert skips that one fact and
 * warns; the pattern's other facts still go in. A group that took no part gives the empty text.
 *
 * Provenance. Each fact this module asserts that was not already in working memory gets a
 * record (pattern, input name, case, line, match span) in a hash table keyed by fact id, open
 * addressing with linear probing and deletion by backward shift, so lookups and deletions stay
 * O(1) without tombstones however facts come and go. A duplicate keeps its first provenance, and
 * one first asserted by a rule or the API has none. session.c drops a record when its fact is
 * retracted and everything on reset (ids start again). A modify keeps the id and the record: the
 * fact still came from that text. Input names are copied once per call that records a fact, and
 * shared with the previous call when equal, the common case of many cases of one input.
 *
 * Bounds. At most FX_TEXT_MAX_MATCHES matches of a pattern are used per call (the matcher is
 * asked for one more, which only tells us the cap was hit). Warnings find their line by a cursor
 * that moves forward with the matches, so a text with many bad captures costs O(len) to place
 * them, not O(len) each. */
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "match.h"

/* Where one fact asserted from text came from. */
typedef struct origin_rec {
	uint64_t id;            /* the fact's id; 0 marks a free slot */
	const char *input;      /* one of fx_text_state.inputs, or NULL */
	uint64_t case_index;    /* as given in fx_origin */
	uint64_t line;          /* as given in fx_origin */
	size_t start, end;      /* the match, as byte offsets in the text given */
	uint32_t pattern;       /* index into prog->patterns */
} origin_rec;

struct fx_text_state {
	fx_match_scratch *scratch; /* for the kb's matcher; this session's thread only */
	origin_rec *tab;           /* provenance by fact id; cap a power of two, or 0 */
	size_t cap;
	size_t count;              /* records in tab, kept at most half of cap */
	fx_vec inputs;             /* char *: input names copied, freed on reset */
	size_t *nmatches;          /* per pattern: matches seen in the call numbered mcall[i] */
	uint32_t *mcall;           /* per pattern: the call its nmatches counts for */
	uint32_t call;             /* number of the current call (never 0 once scanning) */
	fx_val *vals;              /* room for the slots of the widest template */
	fx_buf tmp;                /* a warning's message */
	fx_buf line;               /* the source line quoted by a warning */
};

/* --- the provenance table -------------------------------------------------------------------- */

static size_t home(uint64_t id, size_t cap)
{
	/* Fibonacci hashing: ids are consecutive, and the high bits of the product spread them. */
	return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static origin_rec *rec_find(const fx_text_state *st, uint64_t id)
{
	if (!st || st->cap == 0 || id == 0)
		return NULL;
	for (size_t i = home(id, st->cap);; i = (i + 1) & (st->cap - 1)) {
		if (st->tab[i].id == id)
			return &st->tab[i];
		if (st->tab[i].id == 0)
			return NULL;
	}
}

static void rec_place(origin_rec *tab, size_t cap, const origin_rec *r)
{
	size_t i = home(r->id, cap);
	while (tab[i].id != 0)
		i = (i + 1) & (cap - 1);
	tab[i] = *r;
}

/* Add r unless its id has a record already (the first provenance wins). */
static int rec_put(fx_text_state *st, const origin_rec *r)
{
	if (rec_find(st, r->id))
		return 0;
	if ((st->count + 1) * 2 > st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		origin_rec *ntab = calloc(ncap, sizeof *ntab);
		if (!ntab)
			return FX_ENOMEM;
		for (size_t i = 0; i < st->cap; i++)
			if (st->tab[i].id != 0)
				rec_place(ntab, ncap, &st->tab[i]);
		free(st->tab);
		st->tab = ntab;
		st->cap = ncap;
	}
	rec_place(st->tab, st->cap, r);
	st->count++;
	return 0;
}

/* Backward-shift deletion: move later members of the probe run into the hole when their home
 * does not lie cyclically in (hole, their slot]. */
static void rec_del(fx_text_state *st, origin_rec *r)
{
	size_t mask = st->cap - 1;
	size_t hole = (size_t)(r - st->tab);
	size_t j = hole;
	for (;;) {
		j = (j + 1) & mask;
		if (st->tab[j].id == 0)
			break;
		size_t h = home(st->tab[j].id, st->cap);
		if (((j - h) & mask) >= ((j - hole) & mask)) {
			st->tab[hole] = st->tab[j];
			hole = j;
		}
	}
	memset(&st->tab[hole], 0, sizeof st->tab[hole]);
	st->count--;
}

void fx_text_forget(fx_session *s, uint64_t id)
{
	if (!s || !s->text)
		return;
	origin_rec *r = rec_find(s->text, id);
	if (r)
		rec_del(s->text, r);
}

static void free_inputs(fx_text_state *st)
{
	for (size_t i = 0; i < st->inputs.len; i++)
		free(st->inputs.items[i]);
	st->inputs.len = 0;
}

void fx_text_clear(fx_session *s)
{
	if (!s || !s->text)
		return;
	fx_text_state *st = s->text;
	/* A reset between cases of a log is frequent and most cases record nothing: the table
	 * is only wiped when it holds something. */
	if (st->tab && st->count)
		memset(st->tab, 0, st->cap * sizeof *st->tab);
	st->count = 0;
	free_inputs(st);
}

void fx_text_state_free(fx_text_state *st)
{
	if (!st)
		return;
	fx_match_scratch_free(st->scratch);
	free(st->tab);
	free_inputs(st);
	fx_vec_dispose(&st->inputs);
	free(st->nmatches);
	free(st->mcall);
	free(st->vals);
	fx_buf_dispose(&st->tmp);
	fx_buf_dispose(&st->line);
	free(st);
}

static int state_get(fx_session *s, fx_text_state **out)
{
	if (s->text) {
		*out = s->text;
		return 0;
	}
	const fx_program *prog = s->prog;
	fx_text_state *st = calloc(1, sizeof *st);
	if (!st)
		return FX_ENOMEM;
	fx_vec_init(&st->inputs);
	fx_buf_init(&st->tmp);
	fx_buf_init(&st->line);
	uint32_t width = 1;
	for (uint32_t i = 0; i < prog->ntemplates; i++)
		if (prog->templates[i].nslots > width)
			width = prog->templates[i].nslots;
	st->vals = calloc(width, sizeof *st->vals);
	st->nmatches = calloc(prog->npatterns ? prog->npatterns : 1, sizeof *st->nmatches);
	st->mcall = calloc(prog->npatterns ? prog->npatterns : 1, sizeof *st->mcall);
	int rc = st->vals && st->nmatches && st->mcall ? 0 : FX_ENOMEM;
	if (!rc && s->kb->matcher)
		rc = fx_match_scratch_new(&st->scratch, s->kb->matcher);
	if (rc) {
		fx_text_state_free(st);
		return rc;
	}
	s->text = st;
	*out = st;
	return 0;
}

/* --- converting captures ------------------------------------------------------------------- */

/* --- one call -------------------------------------------------------------------------------- */

/* What the match and warning callbacks share during one fx_text_assert. */
typedef struct scan_ctx {
	fx_session *s;
	fx_text_state *st;
	const char *text;
	size_t len;
	const fx_origin *origin;   /* never NULL (a zeroed one stands in) */
	const char *input;         /* the input name as copied into st->inputs, once needed */
	size_t nnew;               /* new facts so far */
	/* line cursor for warnings: line_start is the offset where line number cur_line (counted
	 * from the text's first line, 0-based) starts, and no \n lies in [line_start, cur) */
	size_t cur, line_start;
	uint64_t cur_line;
} scan_ctx;

/* Move the cursor to `off` (backwards means starting over: rare, only regex-limit warnings). */
static void seek(scan_ctx *c, size_t off)
{
	if (off > c->len)
		off = c->len;
	if (off < c->cur) {
		c->cur = c->line_start = 0;
		c->cur_line = 0;
	}
	while (c->cur < off) {
		const char *nl = memchr(c->text + c->cur, '\n', off - c->cur);
		if (!nl)
			break;
		c->cur_line++;
		c->cur = c->line_start = (size_t)(nl - c->text) + 1;
	}
	c->cur = off;
}

/* Quoted lines longer than this are left out: a warning is no place for a megabyte. */
#define QUOTE_MAX 4096

/* Deliver a warning about text[off, end) to the session's callback, message already in st->tmp.
 * The position is in the input when the origin gives a line; columns count from the text's
 * first byte on its first line (a case starts at the start of a line). */
static void warn(scan_ctx *c, const char *code, size_t off, size_t end)
{
	fx_session *s = c->s;
	fx_text_state *st = c->st;
	seek(c, off);
	const char *nl = memchr(c->text + c->line_start, '\n', c->len - c->line_start);
	size_t eol = nl ? (size_t)(nl - c->text) : c->len;
	fx_diag d;
	memset(&d, 0, sizeof d);
	d.severity = FX_SEV_WARNING;
	d.code = code;
	d.file = c->origin->input;
	if (c->origin->line) {
		uint64_t line = c->origin->line + c->cur_line;
		d.line = line > UINT32_MAX ? 0 : (unsigned)line;
		size_t col = off - c->line_start + 1;
		d.col = d.line && col <= UINT32_MAX ? (unsigned)col : 0;
	}
	size_t span = (end < eol ? end : eol) > off ? (end < eol ? end : eol) - off : 1;
	d.span = span > UINT32_MAX ? UINT32_MAX : (unsigned)span;
	d.message = fx_buf_cstr(&st->tmp);
	fx_buf_clear(&st->line);
	if (d.line && eol - c->line_start <= QUOTE_MAX) {
		fx_buf_append(&st->line, c->text + c->line_start, eol - c->line_start);
		if (!st->line.oom)
			d.source_line = fx_buf_cstr(&st->line);
	}
	s->warn(&d, s->warn_ud);
}

/* Append text for a message: printable ASCII as is, the rest escaped, at most `max` bytes. */
static void put_shown(fx_buf *b, const char *t, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch == '\\' || ch == '\'') {
			fx_buf_putc(b, '\\');
			fx_buf_putc(b, (char)ch);
		} else if (ch == '\n') {
			fx_buf_puts(b, "\\n");
		} else if (ch == '\t') {
			fx_buf_puts(b, "\\t");
		} else if (ch < 0x20 || ch >= 0x7f) {
			char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
			fx_buf_append(b, e, 4);
		} else {
			fx_buf_putc(b, (char)ch);
		}
	}
	if (len > max)
		fx_buf_puts(b, "...");
}

static const char *input_copy(scan_ctx *c)
{
	if (c->input || !c->origin->input)
		return c->input;
	fx_vec *v = &c->st->inputs;
	if (v->len && strcmp(v->items[v->len - 1], c->origin->input) == 0) {
		c->input = v->items[v->len - 1];
		return c->input;
	}
	size_t n = strlen(c->origin->input);
	char *copy = malloc(n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, c->origin->input, n + 1);
	if (fx_vec_push(v, copy) != 0) {
		free(copy);
		return NULL;
	}
	c->input = copy;
	return copy;
}

/* Assert fact k of pattern p for one match. 0 (asserted, or skipped with a warning) or a
 * negative code that stops the scan. */
static int assert_fact(scan_ctx *c, const fx_pattern_def *p, uint32_t k,
                       const fx_match_span *spans, size_t nspans)
{
	fx_session *s = c->s;
	fx_text_state *st = c->st;
	const fx_pattern_fact *pf = &p->facts[k];
	const fx_template_def *td = &s->prog->templates[pf->tmpl];
	for (uint32_t i = 0; i < td->nslots; i++) {
		const fx_pattern_value *pv = &pf->vals[i];
		if (pv->kind == FX_PV_CONST) {
			st->vals[i] = pv->val;
			continue;
		}
		const char *t = "";
		size_t len = 0;
		if (pv->group < nspans && spans[pv->group].start != FX_MATCH_UNSET) {
			t = c->text + spans[pv->group].start;
			len = spans[pv->group].end - spans[pv->group].start;
		}
		const char *why = NULL;
		int rc = fx_val_from_text(&s->atoms, td->slots[i].type, t, len, &st->vals[i], &why);
		if (rc == FX_ETYPE) {
			if (s->warn) {
				const char *gname = pv->group < p->ngroups ? p->groups[pv->group] : NULL;
				fx_buf_clear(&st->tmp);
				fx_buf_printf(&st->tmp, "pattern '%s': ?%s captured '", p->name,
				              gname ? gname : "?");
				put_shown(&st->tmp, t, len, 80);
				fx_buf_printf(&st->tmp,
				              "' for slot '%s' (%s) of template '%s', which takes %s; the "
				              "fact is skipped",
				              td->slots[i].name, fx_type_name(td->slots[i].type), td->name, why);
				size_t off = len ? spans[pv->group].start : spans[0].start;
				warn(c, "capture-type", off, off + len);
			}
			return 0;
		}
		if (rc < 0)
			return rc;
	}
	uint64_t id = 0;
	int rc = fx_session_assert_vals(s, pf->tmpl, st->vals, &id);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 0; /* a duplicate keeps its first provenance, or none */
	c->nnew++;
	origin_rec r;
	memset(&r, 0, sizeof r);
	r.id = id;
	r.input = input_copy(c);
	if (c->origin->input && !r.input)
		return FX_ENOMEM;
	r.case_index = c->origin->case_index;
	r.line = c->origin->line;
	r.start = spans[0].start;
	r.end = spans[0].end;
	r.pattern = p->index;
	return rec_put(st, &r);
}

static int on_match(void *ud, size_t pattern, const fx_match_span *spans, size_t nspans)
{
	scan_ctx *c = ud;
	fx_text_state *st = c->st;
	const fx_pattern_def *p = &c->s->prog->patterns[pattern];
	if (st->mcall[pattern] != st->call) {
		st->mcall[pattern] = st->call;
		st->nmatches[pattern] = 0;
	}
	if (++st->nmatches[pattern] > FX_TEXT_MAX_MATCHES) {
		/* the matcher was asked for one match more than we use: this is it */
		if (c->s->warn) {
			fx_buf_clear(&st->tmp);
			fx_buf_printf(&st->tmp,
			              "pattern '%s' matched more than %d times in this text; its matches "
			              "from byte offset %zu on are ignored",
			              p->name, FX_TEXT_MAX_MATCHES, spans[0].start);
			warn(c, "too-many-matches", spans[0].start, spans[0].end);
		}
		return 0;
	}
	for (uint32_t k = 0; k < p->nfacts; k++) {
		int rc = assert_fact(c, p, k, spans, nspans);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void on_limit(void *ud, size_t pattern, size_t offset, int code)
{
	scan_ctx *c = ud;
	if (!c->s->warn)
		return;
	fx_text_state *st = c->st;
	fx_buf_clear(&st->tmp);
	fx_buf_printf(&st->tmp,
	              "pattern '%s': %s in a search from byte offset %zu of the text; the search "
	              "goes on from the next line",
	              c->s->prog->patterns[pattern].name,
	              code == FX_ELIMIT ? "the regex hit its match limit" : fx_strerror(code), offset);
	warn(c, "regex-limit", offset, offset);
}

int fx_text_assert(fx_session *s, const char *text, size_t len, const fx_origin *origin,
                   size_t *nfacts)
{
	if (nfacts)
		*nfacts = 0;
	if (!s || (!text && len))
		return FX_EINVAL;
	if (!s->kb->matcher)
		return 0;
	fx_text_state *st;
	int rc = state_get(s, &st);
	if (rc)
		return rc;
	static const fx_origin none = {NULL, 0, 0, 0};
	scan_ctx c;
	memset(&c, 0, sizeof c);
	c.s = s;
	c.st = st;
	c.text = text ? text : "";
	c.len = len;
	c.origin = origin ? origin : &none;
	/* The counts are per call; numbering the calls spares clearing one count a pattern for
	 * each line of a log when only a few patterns match. On wrap-around, start over. */
	if (++st->call == 0) {
		memset(st->mcall, 0, s->prog->npatterns * sizeof *st->mcall);
		st->call = 1;
	}
	rc = fx_match_scan(s->kb->matcher, st->scratch, c.text, len, FX_TEXT_MAX_MATCHES + 1,
	                   on_match, on_limit, &c);
	if (nfacts)
		*nfacts = c.nnew;
	return rc < 0 ? rc : 0;
}

int fx_text_scan_lines(fx_session *s, const char *text, size_t len, fx_line_fn fn, void *ud)
{
	if (!s || !fn || (!text && len))
		return FX_EINVAL;
	if (!s->kb->matcher)
		return 0; /* no pattern: no line asserts anything */
	fx_text_state *st;
	int rc = state_get(s, &st);
	if (rc)
		return rc;
	return fx_match_lines(s->kb->matcher, st->scratch, text ? text : "", len, fn, ud);
}

int fx_text_origin_get(const fx_session *s, uint64_t id, fx_text_origin *out)
{
	const origin_rec *r = s ? rec_find(s->text, id) : NULL;
	if (out)
		memset(out, 0, sizeof *out);
	if (!r)
		return 0;
	if (out) {
		out->pattern = s->prog->patterns[r->pattern].name;
		out->input = r->input;
		out->case_index = r->case_index;
		out->line = r->line;
		out->start = r->start;
		out->end = r->end;
	}
	return 1;
}
