/* diagnosis.c: the diagnosis snapshot (findings combined, remedies ranked) and the choice of
 * the next question. Reads a session's working memory (finding, recommend, tried and ask facts
 * of the prelude); the arithmetic is explained in docs/certainty.md.
 *
 * The next question is chosen by trying its answers on a scratch session that is given the
 * same inputs (the facts asserted through the API, from text, and the answers) and run: this
 * measures what each answer would do without touching the caller's session, whose rules may
 * have done things (non-logical asserts, retracts, prints) that truth maintenance cannot undo. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diagnosis.h"
#include "program.h"
#include "arena.h"

/* The cost of a remedy the knowledge base does not describe: the middle of the 1..10 scale. */
#define DEFAULT_COST 5
/* How many remedies at the top of the ranking the next question tries to change. */
#define TOP_N 3

struct fx_diagnosis {
	fx_arena arena;            /* every string and array below */
	fx_finding *findings;
	size_t nfindings;
	fx_ranked_remedy *remedies;
	size_t nremedies;
	fx_ranked_remedy *tried;
	size_t ntried;
};

/* One fact read from working memory. */
typedef struct item {
	const char *key;           /* finding id, or remedy id */
	const char *finding;       /* recommend: the finding it names, or NULL */
	double cf;                 /* finding: its certainty */
	uint64_t id;
} item;

static int item_cmp(const void *a, const void *b)
{
	const item *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	if (r)
		return r;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const char *sym_text(const fx_fact *f, long slot)
{
	if (slot < 0)
		return NULL;
	fx_val v = f->slots[slot];
	if (v.type != FX_SYMBOL && v.type != FX_STRING)
		return NULL;
	if (strcmp(v.u.a->text, "nil") == 0)
		return NULL;
	return v.u.a->text;
}

static long slot_named(const fx_session *s, uint32_t tmpl, const char *name)
{
	return fx_program_slot(s->prog, tmpl, name);
}

/* MYCIN's combination is for certainties in 0..1; a computed one may stray (or be NaN). */
static double certainty(const fx_fact *f, long slot)
{
	double d = 0;
	if (slot >= 0) {
		fx_val v = f->slots[slot];
		if (v.type == FX_FLOAT)
			d = v.u.f;
		else if (v.type == FX_INTEGER)
			d = (double)v.u.i;
	}
	if (!(d > 0))
		return 0;
	return d > 1 ? 1 : d;
}

static int finding_rank(const void *a, const void *b)
{
	const fx_finding *x = a, *y = b;
	if (x->certainty != y->certainty)
		return x->certainty > y->certainty ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int remedy_rank(const void *a, const void *b)
{
	const fx_ranked_remedy *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int remedy_by_id(const void *a, const void *b)
{
	return strcmp(((const fx_ranked_remedy *)a)->id, ((const fx_ranked_remedy *)b)->id);
}

static const fx_finding *finding_get(const fx_diagnosis *d, const char *id)
{
	/* findings are still in id order when remedies are built */
	size_t lo = 0, hi = d->nfindings;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(d->findings[mid].id, id);
		if (r == 0)
			return &d->findings[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int contains(const item *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return 1;
	return 0;
}

static void remedy_fill(fx_diagnosis *d, const fx_session *s, fx_ranked_remedy *r,
                        const char *id)
{
	r->id = fx_arena_strdup(&d->arena, id);
	r->index = fx_kb_remedy_find(s->kb, id);
	r->cost = DEFAULT_COST;
	if (r->index >= 0 && s->prog->remedies[r->index].cost > 0)
		r->cost = s->prog->remedies[r->index].cost;
}

static int build(fx_diagnosis *d, const fx_session *s, item *ff, item *rf, item *tf)
{
	size_t nff = 0, nrf = 0, ntf = 0;
	long f_id = slot_named(s, s->t_finding, "id"), f_cf = slot_named(s, s->t_finding, "certainty");
	long r_rem = slot_named(s, s->t_recommend, "remedy");
	long r_fi = slot_named(s, s->t_recommend, "finding");
	long t_rem = slot_named(s, s->t_tried, "remedy");
	for (const fx_fact *f = s->first; f; f = f->next) {
		const char *k;
		if (f->tmpl == s->t_finding && (k = sym_text(f, f_id)))
			ff[nff++] = (item){k, NULL, certainty(f, f_cf), f->id};
		else if (f->tmpl == s->t_recommend && (k = sym_text(f, r_rem)))
			rf[nrf++] = (item){k, sym_text(f, r_fi), 0, f->id};
		else if (f->tmpl == s->t_tried && (k = sym_text(f, t_rem)) && !contains(tf, ntf, k))
			tf[ntf++] = (item){k, NULL, 0, f->id};
	}
	qsort(ff, nff, sizeof *ff, item_cmp);
	qsort(rf, nrf, sizeof *rf, item_cmp);

	/* Findings: facts of one id are independent evidence: cf = a + b(1 - a), any order. */
	d->findings = fx_arena_alloc(&d->arena, (nff + 1) * sizeof *d->findings);
	if (!d->findings)
		return FX_ENOMEM;
	for (size_t i = 0, j; i < nff; i = j) {
		fx_finding *x = &d->findings[d->nfindings++];
		double cf = 0;
		for (j = i; j < nff && strcmp(ff[j].key, ff[i].key) == 0; j++)
			cf = cf + ff[j].cf * (1 - cf);
		uint64_t *ids = fx_arena_alloc(&d->arena, (j - i) * sizeof *ids);
		x->id = fx_arena_strdup(&d->arena, ff[i].key);
		long fi = fx_kb_finding_find(s->kb, ff[i].key);
		if (fi >= 0 && s->prog->findings[fi].title &&
		    !(x->title = fx_arena_strdup(&d->arena, s->prog->findings[fi].title)))
			return FX_ENOMEM;
		if (!ids || !x->id)
			return FX_ENOMEM;
		for (size_t k = i; k < j; k++)
			ids[k - i] = ff[k].id;
		x->certainty = cf;
		x->facts = ids;
		x->nfacts = j - i;
	}

	/* Remedies: a recommendation is as sure as its finding (1 when it names none); a remedy
	 * takes its best recommendation. */
	size_t cap = nrf + ntf + 1;
	fx_ranked_remedy *all = fx_arena_alloc(&d->arena, cap * sizeof *all);
	if (!all)
		return FX_ENOMEM;
	size_t nall = 0;
	for (size_t i = 0, j; i < nrf; i = j) {
		fx_ranked_remedy *r = &all[nall++];
		remedy_fill(d, s, r, rf[i].key);
		r->certainty = -1;
		for (j = i; j < nrf && strcmp(rf[j].key, rf[i].key) == 0; j++) {
			const fx_finding *fi = rf[j].finding ? finding_get(d, rf[j].finding) : NULL;
			double cf = rf[j].finding ? (fi ? fi->certainty : 0) : 1;
			if (cf > r->certainty) {
				r->certainty = cf;
				r->finding = rf[j].finding ? fx_arena_strdup(&d->arena, rf[j].finding) : NULL;
			}
		}
		uint64_t *ids = fx_arena_alloc(&d->arena, (j - i) * sizeof *ids);
		if (!ids || !r->id)
			return FX_ENOMEM;
		for (size_t k = i; k < j; k++)
			ids[k - i] = rf[k].id;
		r->facts = ids;
		r->nfacts = j - i;
		r->score = r->certainty / r->cost;
		r->tried = contains(tf, ntf, r->id);
	}
	for (size_t i = 0; i < ntf; i++) {
		size_t k;
		for (k = 0; k < nall && strcmp(all[k].id, tf[i].key) != 0; k++)
			;
		if (k < nall)
			continue;
		fx_ranked_remedy *r = &all[nall++];
		remedy_fill(d, s, r, tf[i].key);
		if (!r->id)
			return FX_ENOMEM;
		r->tried = 1;
	}
	/* Tried ones apart: they are not to be proposed again. */
	d->remedies = all;
	d->tried = fx_arena_alloc(&d->arena, cap * sizeof *d->tried);
	if (!d->tried)
		return FX_ENOMEM;
	for (size_t i = 0; i < nall; i++) {
		if (all[i].tried)
			d->tried[d->ntried++] = all[i];
		else
			d->remedies[d->nremedies++] = all[i];
	}
	qsort(d->findings, d->nfindings, sizeof *d->findings, finding_rank);
	qsort(d->remedies, d->nremedies, sizeof *d->remedies, remedy_rank);
	qsort(d->tried, d->ntried, sizeof *d->tried, remedy_by_id);
	return 0;
}

int fx_diagnosis_new(fx_diagnosis **out, const fx_session *s)
{
	if (!out)
		return FX_EINVAL;
	*out = NULL;
	if (!s)
		return FX_EINVAL;
	fx_diagnosis *d = calloc(1, sizeof *d);
	size_t n = s->nfacts + 1;
	item *ff = malloc(n * sizeof *ff), *rf = malloc(n * sizeof *rf), *tf = malloc(n * sizeof *tf);
	int rc = d && ff && rf && tf ? 0 : FX_ENOMEM;
	if (d)
		fx_arena_init(&d->arena);
	if (!rc)
		rc = build(d, s, ff, rf, tf);
	free(ff);
	free(rf);
	free(tf);
	if (rc) {
		fx_diagnosis_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void fx_diagnosis_free(fx_diagnosis *d)
{
	if (!d)
		return;
	fx_arena_dispose(&d->arena);
	free(d);
}

size_t fx_diagnosis_finding_count(const fx_diagnosis *d)
{
	return d ? d->nfindings : 0;
}

int fx_diagnosis_finding(const fx_diagnosis *d, size_t i, fx_finding *out)
{
	if (!d || !out || i >= d->nfindings)
		return FX_EINVAL;
	*out = d->findings[i];
	return 0;
}

size_t fx_diagnosis_remedy_count(const fx_diagnosis *d)
{
	return d ? d->nremedies : 0;
}

int fx_diagnosis_remedy(const fx_diagnosis *d, size_t i, fx_ranked_remedy *out)
{
	if (!d || !out || i >= d->nremedies)
		return FX_EINVAL;
	*out = d->remedies[i];
	return 0;
}

size_t fx_diagnosis_tried_count(const fx_diagnosis *d)
{
	return d ? d->ntried : 0;
}

int fx_diagnosis_tried(const fx_diagnosis *d, size_t i, fx_ranked_remedy *out)
{
	if (!d || !out || i >= d->ntried)
		return FX_EINVAL;
	*out = d->tried[i];
	return 0;
}

/* --- the next question ------------------------------------------------------------------------ */

/* Copy fact f of s into the scratch session t (texts interned again in t's own table). */
static int copy_fact(fx_session *t, const fx_session *s, const fx_fact *f)
{
	uint32_t n = s->prog->templates[f->tmpl].nslots;
	fx_val stackv[32];
	fx_val *v = n <= 32 ? stackv : malloc(n * sizeof *v);
	if (!v)
		return FX_ENOMEM;
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++) {
		v[i] = f->slots[i];
		if (v[i].type == FX_SYMBOL || v[i].type == FX_STRING) {
			const fx_atom *a = fx_atoms_intern(&t->atoms, v[i].u.a->text, v[i].u.a->len);
			if (!a)
				rc = FX_ENOMEM;
			else
				v[i].u.a = a;
		}
	}
	if (!rc)
		rc = fx_session_assert_vals(t, f->tmpl, v, NULL);
	if (v != stackv)
		free(v);
	return rc < 0 ? rc : 0;
}

/* The scratch session t gets s's inputs (answers again as answers), then q = a if q >= 0, and
 * runs. */
static int replay(fx_session *t, const fx_session *s, long q, const char *a)
{
	int rc = fx_session_reset(t);
	long qs = slot_named(s, s->t_answer, "question"), vs = slot_named(s, s->t_answer, "value");
	for (const fx_fact *f = s->first; f && !rc; f = f->next) {
		int o = f->origin & FX_ORIGIN_MASK;
		if (o == FX_ORIGIN_ANSWER && f->tmpl == s->t_answer && sym_text(f, qs) && sym_text(f, vs))
			rc = fx_session_answer(t, sym_text(f, qs), sym_text(f, vs), NULL);
		else if (o == FX_ORIGIN_USER || o == FX_ORIGIN_TEXT || o == FX_ORIGIN_ANSWER)
			rc = copy_fact(t, s, f);
	}
	if (!rc && q >= 0)
		rc = fx_session_answer(t, s->prog->questions[q].name, a, NULL);
	if (!rc)
		rc = fx_session_run(t, 0, NULL);
	return rc == FX_EHALT ? 0 : rc;
}

typedef struct top {
	const char *id[TOP_N];
	double score[TOP_N];
	size_t n;
	const char **fid;          /* every finding, in id order, with its certainty (names arena) */
	double *fcf;
	size_t nf;
} top;

static int top_of(const fx_session *t, top *out, fx_arena *names)
{
	fx_diagnosis *d;
	int rc = fx_diagnosis_new(&d, t);
	if (rc)
		return rc;
	out->n = 0;
	out->nf = 0;
	for (size_t i = 0; i < d->nremedies && i < TOP_N; i++) {
		out->id[i] = fx_arena_strdup(names, d->remedies[i].id);
		out->score[i] = d->remedies[i].score;
		if (!out->id[i])
			rc = FX_ENOMEM;
		out->n++;
	}
	out->fid = fx_arena_alloc(names, (d->nfindings + 1) * sizeof *out->fid);
	out->fcf = fx_arena_alloc(names, (d->nfindings + 1) * sizeof *out->fcf);
	if (!out->fid || !out->fcf)
		rc = FX_ENOMEM;
	for (size_t i = 0; !rc && i < d->nfindings; i++) {
		out->fid[out->nf] = fx_arena_strdup(names, d->findings[i].id);
		out->fcf[out->nf] = d->findings[i].certainty;
		if (!out->fid[out->nf])
			rc = FX_ENOMEM;
		out->nf++;
	}
	fx_diagnosis_free(d);
	return rc;
}

static double cf_in(const top *t, const char *id)
{
	for (size_t i = 0; i < t->nf; i++)
		if (strcmp(t->fid[i], id) == 0)
			return t->fcf[i];
	return 0;
}

/* How likely an answer is, as far as the kb knows: an answer that raises the certainty of some
 * finding is as likely as that finding was before it (the highest such); 0 when it raises none
 * (it only denies). */
static double support_of(const top *base, const top *alt)
{
	double p = 0;
	for (size_t i = 0; i < alt->nf; i++) {
		double before = cf_in(base, alt->fid[i]);
		if (alt->fcf[i] > before && before > p)
			p = before;
	}
	return p;
}

static double score_in(const top *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->id[i], id) == 0)
			return t->score[i];
	return 0;
}

/* How much ranking b differs from a: 1 when the first remedy changes, plus the change of score
 * of every remedy in either top TOP_N. */
static double distance(const top *a, const top *b)
{
	double d = 0;
	if (a->n != b->n || (a->n && strcmp(a->id[0], b->id[0]) != 0))
		d += 1;
	for (size_t i = 0; i < a->n; i++)
		d += fabs(a->score[i] - score_in(b, a->id[i]));
	for (size_t i = 0; i < b->n; i++)
		if (!score_in(a, b->id[i]) && b->score[i] != 0)
			d += fabs(b->score[i]);
	return d;
}

/* Is question q settled already: an answer fact for it, or all the facts of one of its answers
 * (that asserts some) present? */
static int settled(const fx_session *s, const fx_question_def *qd)
{
	long qs = slot_named(s, s->t_answer, "question");
	for (const fx_fact *f = s->first; f; f = f->next) {
		const char *q = f->tmpl == s->t_answer ? sym_text(f, qs) : NULL;
		if (q && strcmp(q, qd->name) == 0)
			return 1;
	}
	for (uint32_t i = 0; i < qd->nanswers; i++) {
		const fx_answer_def *ad = &qd->answers[i];
		uint32_t k;
		for (k = 0; k < ad->nfacts; k++) {
			const fx_fact_def *fd = &ad->facts[k];
			uint32_t n = s->prog->templates[fd->tmpl].nslots;
			const fx_fact *f;
			for (f = s->first; f; f = f->next) {
				uint32_t j;
				if (f->tmpl != fd->tmpl)
					continue;
				for (j = 0; j < n && fx_val_eq(f->slots[j], fd->values[j]); j++)
					;
				if (j == n)
					break;
			}
			if (!f)
				break;
		}
		if (ad->nfacts && k == ad->nfacts)
			return 1;
	}
	return 0;
}

/* Answers weighed beyond this many count as not given (a question rarely has more). */
#define FX_NEXT_MAX_ANSWERS 16

/* The expected change: each answer that supports a finding weighs as that finding's certainty
 * before the question; the answers that support none share what is left equally. Without any
 * such knowledge (or when the supports add up to more than 1) the weights are normalised, which
 * with no support at all means every answer equally likely. */
static double expected_change(const double *dist, const double *prob, uint32_t n, double psum,
                              uint32_t nrest)
{
	double v = 0, rest = 0, total = 0;
	if (n == 0)
		return 0;
	if (psum < 1 && nrest > 0)
		rest = (1 - psum) / nrest;
	for (uint32_t k = 0; k < n; k++) {
		double w = prob[k] > 0 ? prob[k] : rest;
		v += w * dist[k];
		total += w;
	}
	if (total <= 0) {
		for (uint32_t k = 0; k < n; k++)
			v += dist[k];
		return v / n;
	}
	return v / total;
}

int fx_session_next_question(fx_session *s, long *question, double *change)
{
	if (question)
		*question = -1;
	if (change)
		*change = 0;
	if (!s || !question)
		return FX_EINVAL;
	const fx_program *prog = s->prog;
	unsigned char *cand = calloc(prog->nquestions + 1, 1);
	if (!cand)
		return FX_ENOMEM;
	long qslot = slot_named(s, s->t_ask, "question");
	size_t ncand = 0;
	for (const fx_fact *f = s->first; f; f = f->next) {
		const char *q = f->tmpl == s->t_ask ? sym_text(f, qslot) : NULL;
		for (uint32_t i = 0; q && i < prog->nquestions; i++)
			if (!cand[i] && strcmp(prog->questions[i].name, q) == 0 &&
			    !settled(s, &prog->questions[i])) {
				cand[i] = 1;
				ncand++;
			}
	}
	int rc = 0;
	fx_session *t = NULL;
	fx_arena names;
	fx_arena_init(&names);
	if (ncand == 1) {
		for (uint32_t i = 0; i < prog->nquestions; i++)
			if (cand[i])
				*question = i;
	} else if (ncand > 1) {
		/* A question's value is the change of ranking its answer is expected to make. */
		top base;
		double best = -1;
		rc = fx_session_new(&t, s->kb);
		if (!rc)
			fx_session_set_default_limit(t, s->default_limit);
		if (!rc)
			rc = replay(t, s, -1, NULL);
		if (!rc)
			rc = top_of(t, &base, &names);
		for (uint32_t i = 0; i < prog->nquestions && !rc; i++) {
			const fx_question_def *qd = &prog->questions[i];
			if (!cand[i])
				continue;
			double dist[FX_NEXT_MAX_ANSWERS], prob[FX_NEXT_MAX_ANSWERS], psum = 0;
			uint32_t na = qd->nanswers < FX_NEXT_MAX_ANSWERS ? qd->nanswers
			                                                  : FX_NEXT_MAX_ANSWERS;
			uint32_t nrest = 0;
			for (uint32_t k = 0; k < na && !rc; k++) {
				top alt;
				rc = replay(t, s, i, qd->answers[k].value);
				if (!rc)
					rc = top_of(t, &alt, &names);
				if (!rc) {
					dist[k] = distance(&base, &alt);
					prob[k] = support_of(&base, &alt);
					psum += prob[k];
					nrest += prob[k] == 0;
				}
			}
			if (rc)
				break;
			double v = expected_change(dist, prob, na, psum, nrest);
			if (!rc && v > best) {
				best = v;
				*question = i;
				if (change)
					*change = v;
			}
		}
		if (rc) {
			/* the scratch session's error is the caller's to read */
			fx_error_set(&s->err, "next-question", (fx_pos){0, 0, 0}, NULL,
			             "trying the answers: %s", t ? fx_session_last_error(t)->message : "");
			*question = -1;
		}
	}
	fx_session_free(t);
	fx_arena_dispose(&names);
	free(cand);
	return rc;
}
