/* kb.c: knowledge-base lifetime and inspection: load (loader + Rete compiler + the patterns'
 * matcher), reference counting, and the read-only accessors of the public API. */
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "load.h"
#include "image.h"
#include "match.h"
#include "regex.h"
#include "expr.h"

static void kb_destroy(fx_kb *kb)
{
	fx_match_free(kb->matcher);
	for (size_t i = 0; i < kb->regexes.len; i++)
		fx_regex_free(kb->regexes.items[i]);
	fx_vec_dispose(&kb->regexes);
	fx_atoms_dispose(&kb->atoms);
	fx_arena_dispose(&kb->arena);
	pthread_mutex_destroy(&kb->views_lock);
	free(kb);
}

/* One matcher for all the patterns, built once here so that every session scans with it.
 * The loader has compiled each regex already, so a failure here would be a disagreement
 * between the two compilations: it is reported at the regex rather than trusted away. */
static int build_matcher(fx_kb *kb, fx_reporter *rep)
{
	const fx_program *prog = &kb->prog;
	if (prog->npatterns == 0)
		return 0;
	fx_match_pattern *pats = calloc(prog->npatterns, sizeof *pats);
	if (!pats)
		return FX_ENOMEM;
	for (uint32_t i = 0; i < prog->npatterns; i++) {
		pats[i].regex = prog->patterns[i].regex;
		pats[i].len = prog->patterns[i].regex_len;
		pats[i].flags = prog->patterns[i].flags;
		pats[i].re = prog->patterns[i].re;
	}
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 0, off = 0;
	int rc = fx_match_new(&kb->matcher, pats, prog->npatterns, NULL, &err, &bad, &off);
	if (rc == FX_EINVAL && bad < prog->npatterns) {
		const fx_pattern_def *p = &prog->patterns[bad];
		fx_report(rep, FX_SEV_ERROR, "bad-regex", p->regex_pos, 1, NULL,
		          "pattern '%s': the matcher refused its regex at offset %zu: %s", p->name, off,
		          fx_buf_cstr(&err));
		rc = FX_ELOAD;
	}
	fx_buf_dispose(&err);
	free(pats);
	return rc;
}

/* --- Public views, built on first use -----------------------------------------------------------
 * Everything goes to the kb's arena (kb_views): a failure is FX_ENOMEM for every accessor. */

static void *views_alloc(fx_kb *kb, size_t n, size_t esz, int *oom)
{
	if (n == 0)
		return NULL;
	void *p = n > SIZE_MAX / esz ? NULL : fx_arena_alloc(&kb->arena, n * esz);
	if (!p)
		*oom = 1;
	return p;
}

static void set_pos(fx_pos p, const char **file, unsigned *line, unsigned *col)
{
	*file = p.file;
	*line = p.line;
	*col = p.col;
}

static const fx_sample_info *sample_view(fx_kb *kb, const fx_sample *s, uint32_t n, int *oom)
{
	fx_sample_info *out = views_alloc(kb, n, sizeof *out, oom);
	for (uint32_t i = 0; out && i < n; i++) {
		out[i].text = s[i].text;
		out[i].len = s[i].len;
		set_pos(s[i].pos, &out[i].file, &out[i].line, &out[i].col);
	}
	return out;
}

static void pattern_view(fx_kb *kb, const fx_pattern_def *p, fx_pattern_info *o, int *oom)
{
	static const char *const flag_text[16] = {"",    "i",   "m",   "im",  "s",    "is",
	                                          "ms",  "ims", "x",   "ix",  "mx",   "imx",
	                                          "sx",  "isx", "msx", "imsx"};
	o->id = p->name;
	o->regex = p->regex;
	o->regex_len = p->regex_len;
	o->flags = flag_text[p->flags & 15u];
	o->source = p->source;
	o->doc = p->doc;
	o->examples = sample_view(kb, p->examples, p->nexamples, oom);
	o->nexamples = o->examples ? p->nexamples : 0;
	o->near_misses = sample_view(kb, p->near_misses, p->nnear, oom);
	o->nnear_misses = o->near_misses ? p->nnear : 0;
	const char **as = views_alloc(kb, p->nfacts, sizeof *as, oom);
	for (uint32_t i = 0; as && i < p->nfacts; i++)
		as[i] = kb->prog.templates[p->facts[i].tmpl].name;
	o->asserts = as;
	o->nasserts = as ? p->nfacts : 0;
	set_pos(p->pos, &o->file, &o->line, &o->col);
}

static void question_view(fx_kb *kb, const fx_question_def *q, fx_question_info *o, int *oom)
{
	o->id = q->name;
	o->text = q->text;
	o->doc = q->doc;
	o->source = q->source;
	const char **names = views_alloc(kb, q->nanswers, sizeof *names, oom);
	for (uint32_t i = 0; names && i < q->nanswers; i++)
		names[i] = q->answers[i].value;
	o->answers = names;
	o->nanswers = names ? q->nanswers : 0;
	set_pos(q->pos, &o->file, &o->line, &o->col);
}

static void case_view(fx_kb *kb, const fx_case_def *c, fx_case_info *o, int *oom)
{
	o->id = c->name;
	o->source = c->source;
	o->doc = c->doc;
	o->input = c->input;
	o->input_len = c->input ? c->input_len : 0;
	fx_answer_pair *ap = views_alloc(kb, c->nanswers, sizeof *ap, oom);
	for (uint32_t i = 0; ap && i < c->nanswers; i++) {
		const fx_question_def *q = &kb->prog.questions[c->answers[i].question];
		ap[i].question = q->name;
		ap[i].answer = c->answers[i].answer < q->nanswers
		                       ? q->answers[c->answers[i].answer].value
		                       : "unknown";
	}
	o->answers = ap;
	o->nanswers = ap ? c->nanswers : 0;
	o->tried = c->tried;
	o->ntried = c->ntried;
	o->findings = c->findings;
	o->nfindings = c->nfindings;
	o->remedies = c->remedies;
	o->nremedies = c->nremedies;
	o->absent = c->absent;
	o->nabsent = c->nabsent;
	o->top = c->top;
	o->nothing = c->nothing;
	set_pos(c->pos, &o->file, &o->line, &o->col);
}

/* Constant slot values of a link: the equality tests of a pattern, or the constant values of
 * an action's slots. */
typedef struct link_consts {
	const char *slots[64];
	fx_value values[64];
	size_t n;
} link_consts;

static void link_add(link_consts *lc, const fx_template_def *td, uint32_t slot, fx_val v)
{
	if (lc->n == 64 || slot >= td->nslots)
		return;
	lc->slots[lc->n] = td->slots[slot].name;
	lc->values[lc->n] = fx_val_public(v);
	lc->n++;
}

static void link_finish(fx_kb *kb, fx_rule_link *l, const link_consts *lc, int *oom)
{
	const char **slots = views_alloc(kb, lc->n, sizeof *slots, oom);
	fx_value *vals = views_alloc(kb, lc->n, sizeof *vals, oom);
	if (slots && vals) {
		memcpy(slots, lc->slots, lc->n * sizeof *slots);
		memcpy(vals, lc->values, lc->n * sizeof *vals);
		l->slots = slots;
		l->values = vals;
		l->nconst = lc->n;
	}
}

/* The patterns under ces (n of them), depth first in source order; kind for those at this
 * level. Returns the number of links written to out (NULL: only count). */
static size_t cond_links(fx_kb *kb, const fx_ce *ces, uint32_t n, fx_link_kind kind,
                         fx_rule_link *out, int *oom)
{
	size_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		const fx_ce *ce = &ces[i];
		if (ce->kind == FX_CE_NOT || ce->kind == FX_CE_EXISTS) {
			fx_link_kind inner = kind == FX_LINK_NOT || ce->kind == FX_CE_NOT
			                             ? FX_LINK_NOT
			                             : FX_LINK_EXISTS;
			k += cond_links(kb, ce->children, ce->nchildren, inner, out ? out + k : NULL,
			                oom);
			continue;
		}
		if (ce->kind != FX_CE_PATTERN)
			continue;
		if (out) {
			const fx_template_def *td = &kb->prog.templates[ce->tmpl];
			fx_rule_link *l = &out[k];
			l->kind = kind;
			l->tmpl = td->name;
			set_pos(ce->pos, &l->file, &l->line, &l->col);
			link_consts lc;
			lc.n = 0;
			for (uint32_t c = 0; c < ce->ncons; c++)
				if (ce->cons[c].op == FX_C_EQ && ce->cons[c].arg &&
				    ce->cons[c].arg->kind == FX_X_CONST)
					link_add(&lc, td, ce->cons[c].slot, ce->cons[c].arg->val);
			link_finish(kb, l, &lc, oom);
		}
		k++;
	}
	return k;
}

static void rule_view(fx_kb *kb, const fx_rule_def *r, fx_rule_summary *o, int *oom)
{
	size_t nc = cond_links(kb, r->ces, r->nces, FX_LINK_MATCH, NULL, oom);
	fx_rule_link *conds = views_alloc(kb, nc, sizeof *conds, oom);
	if (conds) {
		cond_links(kb, r->ces, r->nces, FX_LINK_MATCH, conds, oom);
		o->conds = conds;
		o->nconds = nc;
	}
	size_t na = 0;
	for (uint32_t i = 0; i < r->nactions; i++)
		if ((r->actions[i].kind == FX_A_ASSERT || r->actions[i].kind == FX_A_MODIFY) &&
		    r->actions[i].tmpl < kb->prog.ntemplates)
			na++;
	fx_rule_link *acts = views_alloc(kb, na, sizeof *acts, oom);
	if (!acts)
		return;
	size_t k = 0;
	for (uint32_t i = 0; i < r->nactions; i++) {
		const fx_action *a = &r->actions[i];
		if ((a->kind != FX_A_ASSERT && a->kind != FX_A_MODIFY) ||
		    a->tmpl >= kb->prog.ntemplates)
			continue;
		const fx_template_def *td = &kb->prog.templates[a->tmpl];
		fx_rule_link *l = &acts[k++];
		l->kind = a->kind == FX_A_ASSERT ? FX_LINK_ASSERT : FX_LINK_MODIFY;
		l->tmpl = td->name;
		set_pos(a->pos, &l->file, &l->line, &l->col);
		/* In slot order, whatever order they were written in. */
		link_consts lc;
		lc.n = 0;
		for (uint32_t s = 0; s < td->nslots; s++)
			for (uint32_t j = 0; j < a->nsets; j++)
				if (a->sets[j].slot == s && a->sets[j].value &&
				    a->sets[j].value->kind == FX_X_CONST)
					link_add(&lc, td, s, a->sets[j].value->val);
		link_finish(kb, l, &lc, oom);
	}
	o->acts = acts;
	o->nacts = k;
}

static int build_views(fx_kb *kb)
{
	int oom = 0;
	const fx_program *prog = &kb->prog;
	kb->pattern_infos = views_alloc(kb, prog->npatterns, sizeof(fx_pattern_info), &oom);
	for (uint32_t i = 0; kb->pattern_infos && i < prog->npatterns; i++)
		pattern_view(kb, &prog->patterns[i], &kb->pattern_infos[i], &oom);
	kb->question_infos = views_alloc(kb, prog->nquestions, sizeof(fx_question_info), &oom);
	for (uint32_t i = 0; kb->question_infos && i < prog->nquestions; i++)
		question_view(kb, &prog->questions[i], &kb->question_infos[i], &oom);
	kb->case_infos = views_alloc(kb, prog->ncases, sizeof(fx_case_info), &oom);
	for (uint32_t i = 0; kb->case_infos && i < prog->ncases; i++)
		case_view(kb, &prog->cases[i], &kb->case_infos[i], &oom);
	kb->rule_summaries = views_alloc(kb, prog->nrules, sizeof(fx_rule_summary), &oom);
	for (uint32_t i = 0; kb->rule_summaries && i < prog->nrules; i++)
		rule_view(kb, &prog->rules[i], &kb->rule_summaries[i], &oom);
	return oom ? FX_ENOMEM : 0;
}

/* The views, built by the first caller: kbs are shared between threads, and only the
 * inspecting commands (graph, check, coverage, the REPL) read them, so a load does not pay
 * for them. 0, or the FX_E* their building failed with (for good). */
static int kb_views(const fx_kb *ckb)
{
	fx_kb *kb = ckb->self; /* the views are a cache: the kb stays the same program */
	int st = __atomic_load_n(&kb->views_state, __ATOMIC_ACQUIRE);

	if (st != 0)
		return st < 0 ? st : 0;
	pthread_mutex_lock(&kb->views_lock);
	st = kb->views_state;
	if (st == 0) {
		st = build_views(kb);
		__atomic_store_n(&kb->views_state, st < 0 ? st : 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&kb->views_lock);
	return st < 0 ? st : 0;
}

static int keep_sources(fx_kb *kb, const fx_reporter *rep)
{
	if (!rep->nsources)
		return 0;
	kb->sources = fx_arena_memdup(&kb->arena, rep->sources, rep->nsources * sizeof *rep->sources);
	if (!kb->sources)
		return FX_ENOMEM;
	kb->nsources = rep->nsources;
	return 0;
}

static fx_kb *kb_new(void)
{
	fx_kb *kb = calloc(1, sizeof *kb);
	if (!kb)
		return NULL;
	kb->refs = 1;
	kb->self = kb;
	if (pthread_mutex_init(&kb->views_lock, NULL) != 0) {
		free(kb);
		return NULL;
	}
	fx_arena_init(&kb->arena);
	fx_atoms_init(&kb->atoms, NULL);
	fx_vec_init(&kb->regexes);
	return kb;
}

/* A new, empty kb and the reporter of its load (opened only when the kb is there); *out NULL
 * until kb_finish. NULL when out of memory. */
static fx_kb *kb_start(fx_kb **out, fx_reporter *rep, const fx_load_opts *opts)
{
	*out = NULL;
	fx_kb *kb = kb_new();
	if (kb)
		fx_reporter_init(rep, opts ? opts->diag : NULL, opts ? opts->diag_ud : NULL,
		                 opts ? opts->max_errors : 0);
	return kb;
}

/* The network and the matcher of a kb whose program is there; rc is the load's outcome. */
static int kb_finish(fx_kb **out, fx_kb *kb, fx_reporter *rep, int rc)
{
	if (rc == 0)
		rc = fx_rete_compile(&kb->net, &kb->prog, &kb->arena);
	if (rc == 0)
		rc = build_matcher(kb, rep);
	if (rc) {
		kb_destroy(kb);
		return rc;
	}
	*out = kb;
	return 0;
}

static int kb_load(fx_kb **out, const fx_load_input *in, const fx_load_opts *opts)
{
	if (!out)
		return FX_EINVAL;
	fx_reporter rep;
	fx_kb *kb = kb_start(out, &rep, opts);
	if (!kb)
		return FX_ENOMEM;
	int rc = fx_load_program(&kb->prog, &kb->arena, &kb->atoms, &kb->regexes, &rep, in);
	if (rc == 0 && rep.errors)
		rc = FX_ELOAD;
	if (rc == 0)
		rc = keep_sources(kb, &rep);
	rc = kb_finish(out, kb, &rep, rc);
	fx_reporter_dispose(&rep);
	return rc;
}

int fx_kb_load_image(fx_kb **out, const void *image, size_t len, const fx_load_opts *opts)
{
	if (!out || (!image && len))
		return FX_EINVAL;
	fx_reporter rep;
	fx_kb *kb = kb_start(out, &rep, opts);
	if (!kb)
		return FX_ENOMEM;
	const char *why = NULL;
	int rc = fx_image_read(&kb->prog, &kb->arena, &kb->atoms, &kb->regexes, &kb->sources,
	                       &kb->nsources, image ? image : "", len, &why);
	if (rc == FX_EINVAL) {
		fx_pos nowhere = {NULL, 0, 0};
		fx_report(&rep, FX_SEV_ERROR, "image", nowhere, 0, NULL, "cannot load the image: %s",
		          why ? why : "damaged");
		rc = FX_ELOAD;
	}
	rc = kb_finish(out, kb, &rep, rc);
	fx_reporter_dispose(&rep);
	return rc;
}

int fx_kb_save_image(const fx_kb *kb, char **out, size_t *len)
{
	if (!kb || !out || !len)
		return FX_EINVAL;
	*out = NULL;
	*len = 0;
	fx_buf b;
	fx_buf_init(&b);
	int rc = fx_image_write(&b, &kb->prog, &kb->atoms, kb->sources, kb->nsources);
	if (rc) {
		fx_buf_dispose(&b);
		return rc;
	}
	*out = b.data; /* the buffer's bytes, handed over */
	*len = b.len;
	return 0;
}

int fx_kb_load(fx_kb **out, const char *const *paths, size_t npaths, const fx_load_opts *opts)
{
	if (!paths && npaths)
		return FX_EINVAL;
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.paths = paths;
	in.npaths = npaths;
	return kb_load(out, &in, opts);
}

int fx_kb_load_file(fx_kb **out, const char *path, const fx_load_opts *opts)
{
	if (!path)
		return FX_EINVAL;
	return fx_kb_load(out, &path, 1, opts);
}

int fx_kb_load_buffer(fx_kb **out, const char *name, const char *buf, size_t len,
                      const fx_load_opts *opts)
{
	if (!buf && len)
		return FX_EINVAL;
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.buf = buf ? buf : "";
	in.len = len;
	in.name = name ? name : "<buffer>";
	return kb_load(out, &in, opts);
}

int fx_kb_load_buffers(fx_kb **out, const char *const *names, const char *const *bufs,
                       const size_t *lens, size_t n, const fx_load_opts *opts)
{
	if ((!bufs || !lens) && n)
		return FX_EINVAL;
	static const char *const none[1] = {""};
	static const size_t zero[1] = {0};
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.bufs = n ? bufs : none;
	in.lens = n ? lens : zero;
	in.names = names;
	in.nbufs = n;
	return kb_load(out, &in, opts);
}

fx_kb *fx_kb_ref(fx_kb *kb)
{
	if (kb)
		__atomic_add_fetch(&kb->refs, 1, __ATOMIC_RELAXED);
	return kb;
}

void fx_kb_free(fx_kb *kb)
{
	if (kb && __atomic_sub_fetch(&kb->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kb_destroy(kb);
}

size_t fx_kb_template_count(const fx_kb *kb)
{
	return kb ? kb->prog.ntemplates : 0;
}

const char *fx_kb_template_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.ntemplates ? kb->prog.templates[i].name : NULL;
}

size_t fx_kb_template_slot_count(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.ntemplates ? kb->prog.templates[i].nslots : 0;
}

const char *fx_kb_template_slot_name(const fx_kb *kb, size_t i, size_t slot)
{
	if (!kb || i >= kb->prog.ntemplates || slot >= kb->prog.templates[i].nslots)
		return NULL;
	return kb->prog.templates[i].slots[slot].name;
}

fx_type fx_kb_template_slot_type(const fx_kb *kb, size_t i, size_t slot)
{
	if (!kb || i >= kb->prog.ntemplates || slot >= kb->prog.templates[i].nslots)
		return FX_NIL;
	return kb->prog.templates[i].slots[slot].type;
}

long fx_kb_template_find(const fx_kb *kb, const char *name)
{
	if (!kb || !name)
		return -1;
	for (uint32_t i = 0; i < kb->prog.ntemplates; i++)
		if (strcmp(kb->prog.templates[i].name, name) == 0)
			return (long)i;
	return -1;
}

size_t fx_kb_rule_count(const fx_kb *kb)
{
	return kb ? kb->prog.nrules : 0;
}

const char *fx_kb_rule_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].name : NULL;
}

void fx_kb_rule_pos(const fx_kb *kb, size_t i, const char **file, unsigned *line, unsigned *col)
{
	fx_pos p = {NULL, 0, 0};
	if (kb && i < kb->prog.nrules)
		p = kb->prog.rules[i].pos;
	if (file)
		*file = p.file;
	if (line)
		*line = p.line;
	if (col)
		*col = p.col;
}

int fx_kb_rule_salience(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].salience : 0;
}

long fx_kb_rule_find(const fx_kb *kb, const char *name)
{
	if (!kb || !name)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nrules; i++)
		if (strcmp(kb->prog.rules[i].name, name) == 0)
			return (long)i;
	return -1;
}

size_t fx_kb_remedy_count(const fx_kb *kb)
{
	return kb ? kb->prog.nremedies : 0;
}

long fx_kb_remedy_find(const fx_kb *kb, const char *id)
{
	if (!kb || !id)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nremedies; i++)
		if (strcmp(kb->prog.remedies[i].name, id) == 0)
			return (long)i;
	return -1;
}

int fx_kb_remedy_get(const fx_kb *kb, size_t i, fx_remedy_info *out)
{
	if (!out)
		return FX_EINVAL;
	memset(out, 0, sizeof *out);
	if (!kb)
		return FX_EINVAL;
	if (i >= kb->prog.nremedies)
		return FX_ENOTFOUND;
	const fx_remedy_def *r = &kb->prog.remedies[i];
	out->id = r->name;
	out->title = r->title;
	out->steps = r->steps;
	out->nsteps = r->nsteps;
	out->cost = r->cost;
	out->warning = r->warning;
	out->source = r->source;
	out->doc = r->doc;
	set_pos(r->pos, &out->file, &out->line, &out->col);
	return 0;
}

size_t fx_kb_finding_count(const fx_kb *kb)
{
	return kb ? kb->prog.nfindings : 0;
}

long fx_kb_finding_find(const fx_kb *kb, const char *id)
{
	if (!kb || !id)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nfindings; i++)
		if (strcmp(kb->prog.findings[i].name, id) == 0)
			return (long)i;
	return -1;
}

int fx_kb_finding_get(const fx_kb *kb, size_t i, fx_finding_info *out)
{
	if (!out)
		return FX_EINVAL;
	memset(out, 0, sizeof *out);
	if (!kb)
		return FX_EINVAL;
	if (i >= kb->prog.nfindings)
		return FX_ENOTFOUND;
	const fx_finding_def *f = &kb->prog.findings[i];
	out->id = f->name;
	out->title = f->title;
	out->source = f->source;
	out->doc = f->doc;
	set_pos(f->pos, &out->file, &out->line, &out->col);
	return 0;
}

size_t fx_kb_pattern_count(const fx_kb *kb)
{
	return kb ? kb->prog.npatterns : 0;
}

const char *fx_kb_pattern_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.npatterns ? kb->prog.patterns[i].name : NULL;
}

long fx_kb_pattern_find(const fx_kb *kb, const char *id)
{
	if (!kb || !id)
		return -1;
	for (uint32_t i = 0; i < kb->prog.npatterns; i++)
		if (strcmp(kb->prog.patterns[i].name, id) == 0)
			return (long)i;
	return -1;
}

/* The accessors below hand out the views (kb_views): *out = view, or zeroed when i is out
 * of range or the views could not be built. */
#define VIEW_GET(kb, i, out, count, views)                                                     \
	do {                                                                                   \
		if (!(out))                                                                    \
			return FX_EINVAL;                                                      \
		memset((out), 0, sizeof *(out));                                               \
		if (!(kb))                                                                     \
			return FX_EINVAL;                                                      \
		if ((i) >= (kb)->prog.count)                                                   \
			return FX_ENOTFOUND;                                                   \
		int vrc = kb_views(kb);                                                        \
		if (vrc < 0)                                                                   \
			return vrc;                                                            \
		*(out) = (kb)->views[i];                                                       \
		return 0;                                                                      \
	} while (0)

int fx_kb_pattern_get(const fx_kb *kb, size_t i, fx_pattern_info *out)
{
	VIEW_GET(kb, i, out, npatterns, pattern_infos);
}

const char *fx_kb_rule_because(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].because : NULL;
}

const char *fx_kb_rule_source(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].source : NULL;
}

int fx_kb_rule_summary(const fx_kb *kb, size_t i, fx_rule_summary *out)
{
	VIEW_GET(kb, i, out, nrules, rule_summaries);
}

size_t fx_kb_question_count(const fx_kb *kb)
{
	return kb ? kb->prog.nquestions : 0;
}

long fx_kb_question_find(const fx_kb *kb, const char *id)
{
	if (!kb || !id)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nquestions; i++)
		if (strcmp(kb->prog.questions[i].name, id) == 0)
			return (long)i;
	return -1;
}

int fx_kb_question_get(const fx_kb *kb, size_t i, fx_question_info *out)
{
	VIEW_GET(kb, i, out, nquestions, question_infos);
}

size_t fx_kb_case_count(const fx_kb *kb)
{
	return kb ? kb->prog.ncases : 0;
}

int fx_kb_case_get(const fx_kb *kb, size_t i, fx_case_info *out)
{
	VIEW_GET(kb, i, out, ncases, case_infos);
}
