/* explain.c: explanations as data, for the CLI to render: the supports of a fact (how it came
 * to be: rules and the facts they matched, answers, text, the user), what a question's answer
 * decides (why), and the rule that came closest to a missing conclusion (why not). A support
 * through a rule with `exists` also gives a witness per exists, looked up when asked.
 *
 * Why not looks at the run-time Rete memories rather than re-matching: the tokens in the left
 * memory of each node of a rule's chain are its partial matches, so the first node of the chain
 * that passes nothing on is the first condition that fails for every partial match. A node may
 * be shared with other rules whose conditions start alike (its ce names the first rule only),
 * so conditions are mapped to nodes by walking the rule's own `when` list the way the compiler
 * consumed it (a pattern takes the tests folded into its join, consecutive tests make one
 * node). */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "program.h"
#include "expr.h"

struct fx_explain_state {
	long *rules;               /* fx_why.ask_rules */
	size_t nrules, crules;
	fx_hypothesis *hyps;       /* fx_why.hyps */
	size_t nhyps, chyps;
	uint64_t *ids;             /* fx_support.facts when a rule's exists add witnesses */
	uint8_t *wflags;           /* fx_support.witness, beside ids */
	const fx_fact **bydepth;   /* scratch: the witness found for each pattern depth */
	size_t cdepth;             /* capacity of the three arrays above */
	uint64_t *blocking;        /* fx_whynot.blocking */
	size_t cblocking;
};

void fx_explain_state_free(fx_explain_state *st)
{
	if (!st)
		return;
	free(st->rules);
	free(st->hyps);
	free(st->ids);
	free(st->wflags);
	free(st->bydepth);
	free(st->blocking);
	free(st);
}

static long slot_named(const fx_session *s, uint32_t tmpl, const char *name)
{
	return fx_program_slot(s->prog, tmpl, name);
}

static const char *sym_text(fx_val v)
{
	return v.type == FX_SYMBOL || v.type == FX_STRING ? v.u.a->text : NULL;
}

static long question_find(const fx_session *s, const char *name)
{
	for (uint32_t i = 0; name && i < s->prog->nquestions; i++)
		if (strcmp(s->prog->questions[i].name, name) == 0)
			return i;
	return -1;
}

static fx_explain_state *state(fx_session *s)
{
	if (!s->expl)
		s->expl = calloc(1, sizeof *s->expl);
	return s->expl;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *q = realloc(*p, c * size);
	if (!q)
		return FX_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* --- how: supports ------------------------------------------------------------------------ */

static size_t njust(const fx_fact *f)
{
	size_t n = 0;
	for (const fx_just *j = f->just; j; j = j->f_next)
		n++;
	return n;
}

/* --- how: witnesses of exists ----------------------------------------------------------------
 * A justification keeps the facts its partial match held, and an `exists` holds none: its
 * token only counts matches. So that an explanation can still go down to the fact behind an
 * exists (a symptom, and from it the pasted text), explain time looks for a witness: a fact
 * that satisfies the exists now, for that partial match. Nothing is kept on the match path.
 * The supporting token is alive while its justification is attached (its deletion detaches
 * it), and its ancestors are the partial matches it grew from, one per node of the chain. */

/* A result of the subnetwork of NCC node ncc under token t (a partner token), or NULL. */
static const fx_token *ncc_result(const fx_token *t, const fx_node *ncc)
{
	if (t->node->kind == FX_N_PARTNER && t->node->ncc == ncc)
		return t;
	for (const fx_token *c = t->child; c; c = c->sib_next) {
		const fx_token *r = ncc_result(c, ncc);
		if (r)
			return r;
	}
	return NULL;
}

/* The partner token of one match of NCC owner token t's conjunction, or NULL. Only the
 * children in the subnetwork are searched: the others carry the rule's chain on. */
static const fx_token *ncc_match(const fx_token *t)
{
	for (const fx_token *c = t->child; c; c = c->sib_next)
		if (c->node == t->node->sub) {
			const fx_token *r = ncc_result(c, t->node);
			if (r)
				return r;
		}
	return NULL;
}

/* Facts of partner token p that its owner t does not hold: the conjunction's own. */
static void ncc_facts(const fx_token *p, const fx_token *t, const fx_fact **bydepth,
                      uint32_t ndepth)
{
	for (uint32_t d = 0; d < p->nfacts && d < ndepth; d++)
		if (p->facts[d] && (d >= t->nfacts || !t->facts[d]) && !bydepth[d])
			bydepth[d] = p->facts[d];
}

/* Witnesses of the exists conditions among t and its ancestors up to (not including) stop,
 * by pattern depth; a conjunction's witnesses are the facts of one of its matches, and
 * exists nested in it are followed. */
static void witnesses(fx_session *s, const fx_token *t, const fx_token *stop,
                      const fx_fact **bydepth, uint32_t ndepth)
{
	for (; t && t != stop; t = t->parent) {
		const fx_node *n = t->node;
		if (n->kind == FX_N_EXISTS && n->depth < ndepth && !bydepth[n->depth]) {
			bydepth[n->depth] = fx_rete_first_match(s, n, t);
		} else if (n->kind == FX_N_NCC && n->exists && t->count > 0) {
			const fx_token *p = ncc_match(t);
			if (p) {
				ncc_facts(p, t, bydepth, ndepth);
				witnesses(s, p, t, bydepth, ndepth);
			}
		}
	}
}

static int reserve_depths(fx_explain_state *st, size_t n)
{
	if (n <= st->cdepth)
		return 0;
	uint64_t *ids = realloc(st->ids, n * sizeof *ids);
	if (ids)
		st->ids = ids;
	uint8_t *fl = realloc(st->wflags, n);
	if (fl)
		st->wflags = fl;
	const fx_fact **bd = realloc(st->bydepth, n * sizeof *bd);
	if (bd)
		st->bydepth = bd;
	if (!ids || !fl || !bd)
		return FX_ENOMEM;
	st->cdepth = n;
	return 0;
}

/* Rule justification j as a support with the witnesses of its rule's exists conditions, in
 * pattern (depth) order; out is left with j's own facts when the rule has no exists or no
 * witness is found. */
static int add_witnesses(fx_session *s, const fx_just *j, fx_support *out)
{
	const fx_token *t = j->by;
	const fx_rule_def *r = &s->prog->rules[j->rule];
	int has = 0;
	for (uint32_t i = 0; i < r->nces && !has; i++)
		has = r->ces[i].kind == FX_CE_EXISTS;
	if (!has || !t || !r->ndepth)
		return 0;
	fx_explain_state *st = state(s);
	if (!st || reserve_depths(st, r->ndepth))
		return FX_ENOMEM;
	memset(st->bydepth, 0, r->ndepth * sizeof *st->bydepth);
	witnesses(s, t, NULL, st->bydepth, r->ndepth);
	size_t k = 0, nw = 0;
	for (uint32_t d = 0; d < r->ndepth; d++) {
		const fx_fact *f = d < t->nfacts ? t->facts[d] : NULL;
		int w = !f && st->bydepth[d];
		if (w)
			f = st->bydepth[d];
		if (!f)
			continue;
		st->ids[k] = f->id;
		st->wflags[k++] = (uint8_t)w;
		nw += w;
	}
	if (nw) {
		out->facts = st->ids;
		out->nfacts = k;
		out->witness = st->wflags;
	}
	return 0;
}

size_t fx_explain_support_count(const fx_session *s, uint64_t id)
{
	const fx_fact *f = s ? fx_session_fact_get(s, id) : NULL;
	if (!f)
		return 0;
	return ((f->origin & FX_ORIGIN_MASK) != FX_ORIGIN_NONE) + njust(f);
}

int fx_explain_support(const fx_session *s, uint64_t id, size_t i, fx_support *out)
{
	if (!s || !out)
		return FX_EINVAL;
	const fx_fact *f = fx_session_fact_get(s, id);
	if (!f)
		return FX_ENOTFOUND;
	memset(out, 0, sizeof *out);
	out->rule = -1;
	out->question = -1;
	int origin = f->origin & FX_ORIGIN_MASK;
	if (origin != FX_ORIGIN_NONE) {
		if (i == 0) {
			switch (origin) {
			case FX_ORIGIN_INITIAL: out->kind = FX_SUPPORT_INITIAL; break;
			case FX_ORIGIN_TEXT: out->kind = FX_SUPPORT_TEXT; break;
			case FX_ORIGIN_RULE:
				out->kind = FX_SUPPORT_RULE;
				out->rule = f->orule ? (long)f->orule - 1 : -1;
				break;
			default: out->kind = FX_SUPPORT_USER; break; /* the API, or an answer given */
			}
			return 0;
		}
		i--;
	}
	size_t n = njust(f);
	if (i >= n)
		return FX_EINVAL;
	const fx_just *j = f->just;
	for (size_t k = n - 1; k > i; k--) /* the list is newest first */
		j = j->f_next;
	out->logical = 1;
	out->facts = j->ids;
	out->nfacts = j->nids;
	if (j->rule == FX_JUST_ANSWER) {
		const fx_fact *a = j->by;
		long qs = slot_named(s, a->tmpl, "question");
		out->kind = FX_SUPPORT_ANSWER;
		out->question = qs >= 0 ? question_find(s, sym_text(a->slots[qs])) : -1;
	} else {
		out->kind = FX_SUPPORT_RULE;
		out->rule = j->rule;
		/* the scratch arrays are the session's: a const query fills them, as agenda_get does */
		if (j->by)
			return add_witnesses((fx_session *)(uintptr_t)s, j, out);
	}
	return 0;
}

/* --- the rules' conclusions -------------------------------------------------------------- */

/* The constant that action a (an assert of tmpl) puts in slot `slot`, or NULL. */
static const char *action_const(const fx_action *a, uint32_t tmpl, long slot)
{
	if (a->kind != FX_A_ASSERT || a->tmpl != tmpl || slot < 0)
		return NULL;
	for (uint32_t i = 0; i < a->nsets; i++)
		if (a->sets[i].slot == (uint32_t)slot && a->sets[i].value->kind == FX_X_CONST)
			return sym_text(a->sets[i].value->val);
	return NULL;
}

/* The constant a pattern requires slot `slot` to equal, or NULL. */
static const fx_val *pattern_const(const fx_ce *p, long slot)
{
	for (uint32_t i = 0; slot >= 0 && i < p->ncons; i++) {
		const fx_constraint *c = &p->cons[i];
		if (c->op == FX_C_EQ && c->slot == (uint32_t)slot && c->arg && c->arg->kind == FX_X_CONST)
			return &c->arg->val;
	}
	return NULL;
}

/* Does pattern p accept fact fd, as far as its constant equalities tell? */
static int pattern_takes(const fx_ce *p, const fx_fact_def *fd)
{
	if (p->tmpl != fd->tmpl)
		return 0;
	for (uint32_t i = 0; i < p->ncons; i++) {
		const fx_constraint *c = &p->cons[i];
		if (c->op == FX_C_EQ && c->arg && c->arg->kind == FX_X_CONST &&
		    !fx_val_equal_loose(fd->values[c->slot], c->arg->val))
			return 0;
	}
	return 1;
}

/* Which question (and answer, when one) a pattern depends on: a pattern on `answer` with the
 * question as a constant, or a pattern taking a fact some answer asserts. -1 when none. */
static long pattern_question(const fx_session *s, const fx_ce *p, const char **answer)
{
	*answer = NULL;
	if (p->kind != FX_CE_PATTERN)
		return -1;
	if (p->tmpl == s->t_answer) {
		const fx_val *q = pattern_const(p, slot_named(s, s->t_answer, "question"));
		const fx_val *v = pattern_const(p, slot_named(s, s->t_answer, "value"));
		long qi = q ? question_find(s, sym_text(*q)) : -1;
		if (qi >= 0 && v)
			*answer = sym_text(*v);
		return qi;
	}
	for (uint32_t qi = 0; qi < s->prog->nquestions; qi++) {
		const fx_question_def *qd = &s->prog->questions[qi];
		for (uint32_t a = 0; a < qd->nanswers; a++)
			for (uint32_t k = 0; k < qd->answers[a].nfacts; k++)
				if (pattern_takes(p, &qd->answers[a].facts[k])) {
					*answer = qd->answers[a].value;
					return qi;
				}
	}
	return -1;
}

/* Does any condition of the list (nested ones too) depend on question q? */
static int ces_test(const fx_session *s, const fx_ce *ces, uint32_t n, long q,
                    const char **answer)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *a;
		if (ces[i].kind == FX_CE_PATTERN && pattern_question(s, &ces[i], &a) == q) {
			*answer = a;
			return 1;
		}
		if ((ces[i].kind == FX_CE_NOT || ces[i].kind == FX_CE_EXISTS) &&
		    ces_test(s, ces[i].children, ces[i].nchildren, q, answer)) {
			if (ces[i].kind == FX_CE_NOT)
				*answer = NULL;
			return 1;
		}
	}
	return 0;
}

/* --- why --------------------------------------------------------------------------------- */

static int add_hyps(fx_session *s, fx_explain_state *st, const fx_rule_def *r, const char *ans)
{
	long fid = slot_named(s, s->t_finding, "id"), rem = slot_named(s, s->t_recommend, "remedy");
	for (uint32_t i = 0; i < r->nactions; i++) {
		const char *f = action_const(&r->actions[i], s->t_finding, fid);
		const char *m = action_const(&r->actions[i], s->t_recommend, rem);
		if (!f && !m)
			continue;
		if (grow((void **)&st->hyps, &st->chyps, st->nhyps, sizeof *st->hyps))
			return FX_ENOMEM;
		fx_hypothesis *h = &st->hyps[st->nhyps++];
		h->id = f ? f : m;
		h->remedy = !f;
		h->rule = r->index;
		h->answer = ans;
	}
	return 0;
}

int fx_explain_why(fx_session *s, const char *question, fx_why *out)
{
	if (!s || !question || !out)
		return FX_EINVAL;
	memset(out, 0, sizeof *out);
	long q = question_find(s, question);
	if (q < 0)
		return FX_ENOTFOUND;
	fx_explain_state *st = state(s);
	if (!st)
		return FX_ENOMEM;
	st->nrules = st->nhyps = 0;
	out->question = q;
	long aq = slot_named(s, s->t_answer, "question"), kq = slot_named(s, s->t_ask, "question");
	for (const fx_fact *f = s->first; f; f = f->next) {
		if (f->tmpl == s->t_answer && aq >= 0 && sym_text(f->slots[aq]) &&
		    strcmp(sym_text(f->slots[aq]), question) == 0)
			out->answer = f->id;
		if (f->tmpl != s->t_ask || kq < 0 || !sym_text(f->slots[kq]) ||
		    strcmp(sym_text(f->slots[kq]), question) != 0)
			continue;
		for (const fx_just *j = f->just; j; j = j->f_next) {
			size_t k;
			if (j->rule == FX_JUST_ANSWER)
				continue;
			for (k = 0; k < st->nrules && st->rules[k] != (long)j->rule; k++)
				;
			if (k < st->nrules)
				continue;
			if (grow((void **)&st->rules, &st->crules, st->nrules, sizeof *st->rules))
				return FX_ENOMEM;
			st->rules[st->nrules++] = j->rule;
			if (add_hyps(s, st, &s->prog->rules[j->rule], NULL))
				return FX_ENOMEM;
		}
	}
	for (uint32_t r = 0; r < s->prog->nrules; r++) {
		const fx_rule_def *rule = &s->prog->rules[r];
		const char *ans = NULL;
		if (ces_test(s, rule->ces, rule->nces, q, &ans) && add_hyps(s, st, rule, ans))
			return FX_ENOMEM;
	}
	out->ask_rules = st->rules;
	out->nask_rules = st->nrules;
	out->hyps = st->hyps;
	out->nhyps = st->nhyps;
	return 0;
}

/* --- why not ----------------------------------------------------------------------------- */

static size_t memory_count(const fx_session *s, const fx_node *n)
{
	return s->bmems[n->id].tab.count;
}

/* Does some token in n's memory pass n (a NEG, EXISTS, NCC or TEST node)? */
static int some_pass(const fx_session *s, const fx_node *n)
{
	const fx_htab *t = &s->bmems[n->id].tab;
	for (uint32_t b = 0; b < t->nbuckets; b++)
		for (const fx_token *k = t->buckets[2 * b]; k; k = k->h_next) {
			switch (n->kind) {
			case FX_N_NEG:
				if (!k->blocker)
					return 1;
				break;
			case FX_N_EXISTS:
				if (k->count > 0)
					return 1;
				break;
			case FX_N_NCC:
				if ((k->count == 0) != (n->exists != 0))
					return 1;
				break;
			default:
				if (k->parent || (k->flags & (FX_TOK_AGENDA | FX_TOK_FIRED)))
					return 1;
				break;
			}
		}
	return 0;
}

/* What matches the `not` of node n (NEG or NCC) for the first partial match in its memory
 * that it blocks: into st->blocking. */
static int blocking(fx_session *s, const fx_node *n, fx_whynot *out)
{
	const fx_htab *t = &s->bmems[n->id].tab;
	for (uint32_t b = 0; b < t->nbuckets; b++)
		for (const fx_token *k = t->buckets[2 * b]; k; k = k->h_next) {
			const fx_fact *one = n->kind == FX_N_NEG ? k->blocker : NULL;
			const fx_token *p = n->kind == FX_N_NCC && k->count > 0 ? ncc_match(k) : NULL;
			if (!one && !p)
				continue;
			uint32_t nd = s->prog->rules[n->rule->index].ndepth;
			fx_explain_state *st = state(s);
			if (!st || reserve_depths(st, nd + 1) ||
			    grow((void **)&st->blocking, &st->cblocking, nd, sizeof *st->blocking))
				return FX_ENOMEM;
			size_t m = 0;
			if (one) {
				st->blocking[m++] = one->id;
			} else {
				memset(st->bydepth, 0, nd * sizeof *st->bydepth);
				ncc_facts(p, k, st->bydepth, nd);
				for (uint32_t d = 0; d < nd; d++)
					if (st->bydepth[d])
						st->blocking[m++] = st->bydepth[d]->id;
			}
			out->blocking = m ? st->blocking : NULL;
			out->nblocking = m;
			return 0;
		}
	return 0;
}

/* How far rule r gets: *satisfied top-level conditions hold for some partial match; *failed is
 * the first that does not (== nces when all hold). */
static void rule_progress(const fx_session *s, const fx_rule_def *r, uint32_t *satisfied,
                          uint32_t *failed, const fx_node **at)
{
	*at = NULL;
	const fx_node *chain[256];
	uint32_t m = 0;
	for (const fx_node *n = s->net->terminal[r->index]; n && m < 256; n = n->parent)
		chain[m++] = n;
	/* chain[m-1] is the first node; chain[0] the terminal */
	uint32_t ci = 0;
	*satisfied = 0;
	*failed = r->nces;
	for (uint32_t i = m; i-- > 1;) {
		const fx_node *n = chain[i], *next = chain[i - 1];
		uint32_t used = 1;
		if (n->kind == FX_N_JOIN) {
			uint32_t t = 0;
			while (ci + 1 + t < r->nces && r->ces[ci + 1 + t].kind == FX_CE_TEST)
				t++;
			if (ci + 1 + t < r->nces)
				used += t;
		} else if (n->kind == FX_N_TEST) {
			while (ci + used < r->nces && r->ces[ci + used].kind == FX_CE_TEST)
				used++;
		}
		int passed = n->direct && next->kind == FX_N_TERMINAL ? some_pass(s, n)
		                                                      : memory_count(s, next) > 0;
		if (!memory_count(s, n) || !passed) {
			*failed = ci < r->nces ? ci : r->nces;
			*at = n;
			return;
		}
		ci += used;
		*satisfied = ci < r->nces ? ci : r->nces;
	}
	*satisfied = r->nces;
}

int fx_explain_why_not(fx_session *s, const char *id, fx_whynot *out)
{
	if (!s || !id || !out)
		return FX_EINVAL;
	memset(out, 0, sizeof *out);
	out->rule = -1;
	out->question = -1;
	long fid = slot_named(s, s->t_finding, "id"), rem = slot_named(s, s->t_recommend, "remedy");
	out->remedy = fx_kb_remedy_find(s->kb, id) >= 0;
	for (const fx_fact *f = s->first; f; f = f->next) {
		const char *x = f->tmpl == s->t_finding && fid >= 0     ? sym_text(f->slots[fid])
		                : f->tmpl == s->t_recommend && rem >= 0 ? sym_text(f->slots[rem])
		                                                        : NULL;
		if (x && strcmp(x, id) == 0) {
			out->kind = FX_WHYNOT_PRESENT;
			out->remedy = f->tmpl == s->t_recommend;
			return 0;
		}
	}
	out->kind = FX_WHYNOT_NO_RULE;
	long best_sat = -1;
	for (uint32_t ri = 0; ri < s->prog->nrules; ri++) {
		const fx_rule_def *r = &s->prog->rules[ri];
		int concludes = 0, recommends = 0;
		for (uint32_t i = 0; i < r->nactions; i++) {
			const char *f = action_const(&r->actions[i], s->t_finding, fid);
			const char *m = action_const(&r->actions[i], s->t_recommend, rem);
			concludes |= f && strcmp(f, id) == 0;
			recommends |= m && strcmp(m, id) == 0;
		}
		if (!concludes && !recommends)
			continue;
		uint32_t sat, failed;
		const fx_node *at;
		rule_progress(s, r, &sat, &failed, &at);
		if ((long)sat <= best_sat)
			continue;
		best_sat = sat;
		out->rule = ri;
		out->remedy = recommends && !concludes;
		out->satisfied = sat;
		out->total = r->nces;
		out->question = -1;
		out->answer = NULL;
		out->cond_kind = FX_COND_PATTERN;
		out->blocking = NULL;
		out->nblocking = 0;
		if (failed >= r->nces) {
			out->kind = FX_WHYNOT_PENDING;
			continue;
		}
		const fx_ce *ce = &r->ces[failed];
		out->kind = FX_WHYNOT_FAILED;
		out->cond = failed;
		out->file = ce->pos.file;
		out->line = ce->pos.line;
		out->col = ce->pos.col;
		out->cond_kind = ce->kind == FX_CE_NOT      ? FX_COND_NOT
		                 : ce->kind == FX_CE_EXISTS ? FX_COND_EXISTS
		                 : ce->kind == FX_CE_TEST   ? FX_COND_TEST
		                                            : FX_COND_PATTERN;
		if (ce->kind == FX_CE_NOT && at && (at->kind == FX_N_NEG || at->kind == FX_N_NCC)) {
			int rc = blocking(s, at, out);
			if (rc)
				return rc;
		}
		if (ce->kind == FX_CE_PATTERN)
			out->question = pattern_question(s, ce, &out->answer);
		else if (ce->kind == FX_CE_NOT || ce->kind == FX_CE_EXISTS) {
			for (uint32_t q = 0; q < s->prog->nquestions; q++)
				if (ces_test(s, ce->children, ce->nchildren, q, &out->answer)) {
					out->question = q;
					break;
				}
		}
	}
	return 0;
}
