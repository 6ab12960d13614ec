/* explain.c: explanations as data, for the CLI to render: the supports of a fact (how it came
 * to be: rules and the facts they matched, answers, text, the user), what a question's answer
 * decides (why), and the rule that came closest to a missing conclusion (why not).
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
#include "expr.h"

struct fx_explain_state {
	long *rules;               /* fx_why.ask_rules */
	size_t nrules, crules;
	fx_hypothesis *hyps;       /* fx_why.hyps */
	size_t nhyps, chyps;
};

void fx_explain_state_free(fx_explain_state *st)
{
	if (!st)
		return;
	free(st->rules);
	free(st->hyps);
	free(st);
}

static long slot_named(const fx_session *s, uint32_t tmpl, const char *name)
{
	if (tmpl == ~0u)
		return -1;
	const fx_template_def *td = &s->prog->templates[tmpl];
	for (uint32_t i = 0; i < td->nslots; i++)
		if (strcmp(td->slots[i].name, name) == 0)
			return i;
	return -1;
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

/* --- how: supports ------------------------------------------------------------------------ */

static size_t njust(const fx_fact *f)
{
	size_t n = 0;
	for (const fx_just *j = f->just; j; j = j->f_next)
		n++;
	return n;
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

/* How far rule r gets: *satisfied top-level conditions hold for some partial match; *failed is
 * the first that does not (== nces when all hold). */
static void rule_progress(const fx_session *s, const fx_rule_def *r, uint32_t *satisfied,
                          uint32_t *failed)
{
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
		rule_progress(s, r, &sat, &failed);
		if ((long)sat <= best_sat)
			continue;
		best_sat = sat;
		out->rule = ri;
		out->remedy = recommends && !concludes;
		out->satisfied = sat;
		out->total = r->nces;
		out->question = -1;
		out->answer = NULL;
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
