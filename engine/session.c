/* session.c: working memory, the run loop and rule actions behind the public fx_session API.
 * Facts are owned here (a table by id, a table by content for duplicate detection, and a list
 * in id order); rete.c matches them and agenda.c orders the activations that result. */
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "session.h"
#include "expr.h"
#include "text.h"
#include "explain.h"

/* --- pool ---------------------------------------------------------------------------------- */

void *fx_pool_alloc_slow(fx_pool *p, size_t size)
{
	(void)p;
	return malloc((size + 15) / 16 * 16);
}

void fx_pool_free_slow(fx_pool *p, void *ptr, size_t size)
{
	(void)p;
	(void)size;
	free(ptr);
}

static void pool_dispose(fx_pool *p)
{
	if (!p->free)
		return;
	for (size_t c = 0; c < FX_POOL_CLASSES; c++) {
		void *x = p->free[c];
		while (x) {
			void *next = *(void **)x;
			free(x);
			x = next;
		}
	}
	free(p->free);
	p->free = NULL;
}

/* --- facts --------------------------------------------------------------------------------- */

static size_t fact_size(const fx_session *s, uint32_t tmpl)
{
	return sizeof(fx_fact) + s->prog->templates[tmpl].nslots * sizeof(fx_val);
}

static uint32_t fact_hash(uint32_t tmpl, const fx_val *v, uint32_t n)
{
	uint32_t h = 2166136261u ^ tmpl;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ fx_val_hash(v[i])) * 16777619u;
	return h;
}

static void fact_unref(fx_session *s, fx_fact *f)
{
	if (--f->refs == 0)
		fx_pool_free(&s->pool, f, fact_size(s, f->tmpl));
}

static uint32_t id_slot(uint64_t id, uint32_t cap)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (cap - 1);
}

/* The id table uses linear probing with backward-shift deletion (no tombstones). */
static int byid_grow(fx_session *s)
{
	uint32_t cap = s->byid_cap ? s->byid_cap * 2 : 64;
	fx_fact **t = calloc(cap, sizeof *t);
	if (!t)
		return FX_ENOMEM;
	for (uint32_t i = 0; i < s->byid_cap; i++) {
		fx_fact *f = s->byid[i];
		if (!f)
			continue;
		uint32_t j = id_slot(f->id, cap);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = f;
	}
	free(s->byid);
	s->byid = t;
	s->byid_cap = cap;
	return 0;
}

static fx_fact *byid_find(const fx_session *s, uint64_t id)
{
	if (!s->byid_cap)
		return NULL;
	uint32_t j = id_slot(id, s->byid_cap);
	while (s->byid[j]) {
		if (s->byid[j]->id == id)
			return s->byid[j];
		j = (j + 1) & (s->byid_cap - 1);
	}
	return NULL;
}

static void byid_put(fx_session *s, fx_fact *f)
{
	uint32_t j = id_slot(f->id, s->byid_cap);
	while (s->byid[j] && s->byid[j]->id != f->id)
		j = (j + 1) & (s->byid_cap - 1);
	s->byid[j] = f;
}

static void byid_del(fx_session *s, uint64_t id)
{
	uint32_t cap = s->byid_cap, j = id_slot(id, cap);
	while (s->byid[j] && s->byid[j]->id != id)
		j = (j + 1) & (cap - 1);
	if (!s->byid[j])
		return;
	s->byid[j] = NULL;
	uint32_t k = (j + 1) & (cap - 1);
	while (s->byid[k]) {
		uint32_t home = id_slot(s->byid[k]->id, cap);
		/* move k back to j if its home is not in (j, k] cyclically */
		if ((k > j && (home <= j || home > k)) || (k < j && (home <= j && home > k))) {
			s->byid[j] = s->byid[k];
			s->byid[k] = NULL;
			j = k;
		}
		k = (k + 1) & (cap - 1);
	}
}

static fx_fact *dup_find(const fx_session *s, uint32_t tmpl, const fx_val *v, uint32_t hash)
{
	if (!s->dups_cap)
		return NULL;
	uint32_t n = s->prog->templates[tmpl].nslots;
	for (fx_fact *f = s->dups[hash & (s->dups_cap - 1)]; f; f = f->dup_next) {
		if (f->hash != hash || f->tmpl != tmpl)
			continue;
		uint32_t i;
		for (i = 0; i < n; i++)
			if (!fx_val_eq(f->slots[i], v[i]))
				break;
		if (i == n)
			return f;
	}
	return NULL;
}

static int dup_grow(fx_session *s)
{
	uint32_t cap = s->dups_cap ? s->dups_cap * 2 : 64;
	fx_fact **t = calloc(cap, sizeof *t);
	if (!t)
		return FX_ENOMEM;
	for (uint32_t i = 0; i < s->dups_cap; i++) {
		fx_fact *f = s->dups[i];
		while (f) {
			fx_fact *next = f->dup_next;
			f->dup_next = t[f->hash & (cap - 1)];
			t[f->hash & (cap - 1)] = f;
			f = next;
		}
	}
	free(s->dups);
	s->dups = t;
	s->dups_cap = cap;
	return 0;
}

static void dup_del(fx_session *s, fx_fact *f)
{
	fx_fact **pp = &s->dups[f->hash & (s->dups_cap - 1)];
	while (*pp && *pp != f)
		pp = &(*pp)->dup_next;
	if (*pp)
		*pp = f->dup_next;
}

/* Put a new fact object into working memory; `replace` is the object it stands in for in the
 * id order (modify), or NULL to append. */
static int wm_insert(fx_session *s, fx_fact *f, fx_fact *replace)
{
	if ((s->nfacts + 1) * 2 > s->byid_cap && byid_grow(s) != 0)
		return FX_ENOMEM;
	if (s->nfacts + 1 > s->dups_cap && dup_grow(s) != 0)
		return FX_ENOMEM;
	byid_put(s, f);
	f->dup_next = s->dups[f->hash & (s->dups_cap - 1)];
	s->dups[f->hash & (s->dups_cap - 1)] = f;
	if (replace) {
		f->prev = replace->prev;
		f->next = replace->next;
	} else {
		f->prev = s->last;
		f->next = NULL;
	}
	if (f->prev)
		f->prev->next = f;
	else
		s->first = f;
	if (f->next)
		f->next->prev = f;
	else
		s->last = f;
	s->nfacts++;
	f->live = 1;
	f->refs++;
	return 0;
}

static void wm_remove(fx_session *s, fx_fact *f, int keep_id)
{
	if (!keep_id)
		byid_del(s, f->id);
	dup_del(s, f);
	if (f->prev)
		f->prev->next = f->next;
	else
		s->first = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		s->last = f->prev;
	f->prev = f->next = NULL;
	s->nfacts--;
	f->live = 0;
}

void fx_session_emit(fx_session *s, fx_event ev, const fx_fact *f, const fx_token *t)
{
	if (!s->trace)
		return;
	fx_trace tr;
	memset(&tr, 0, sizeof tr);
	tr.event = ev;
	tr.fact = f ? f->id : 0;
	tr.rule = t ? (long)t->node->rule->index : -1;
	tr.firing = s->firings;
	if (t)
		tr.facts = fx_session_token_ids(s, t, &tr.nfacts);
	s->trace(s, &tr, s->trace_ud);
}

const uint64_t *fx_session_token_ids(fx_session *s, const fx_token *t, size_t *n)
{
	if (s->idcap < t->nfacts + 1u) {
		uint64_t *p = realloc(s->idbuf, (t->nfacts + 1u) * sizeof *p);
		if (!p) {
			*n = 0;
			return NULL;
		}
		s->idbuf = p;
		s->idcap = t->nfacts + 1u;
	}
	size_t k = 0;
	/* Only the patterns of the rule's own level: nested ones live past the terminal's view. */
	for (uint32_t i = 0; i < t->nfacts; i++)
		if (t->facts[i])
			s->idbuf[k++] = t->facts[i]->id;
	*n = k;
	return s->idbuf;
}

/* --- truth maintenance ------------------------------------------------------------------------
 * Justification-based, as CLIPS's `logical`. A fact's logical supports (fx_just) hang off the
 * fact, and off their supporter through jmap: the activation token whose firing asserted the
 * fact, or the answer fact whose answer asserted it. Every fx_just is either attached (on its
 * supporter's list in jmap, `by` set) or queued for withdrawal (on jqueue, `by` NULL), and on
 * its fact's list until drained (fact NULL when the fact left first).
 *
 * rete.c calls fx_session_tms_gone when a flagged token stops being a match, in the middle of
 * its own work: the justifications are only queued there, and fx_session_tms_drain retracts
 * the facts left without support after the network operation (after each API call and each
 * action), so that no retraction runs inside a token deletion. A fact with an unconditional
 * origin stays whatever happens to its justifications.
 *
 * Cost for rules without logical: a flag test where tokens die and a test of fact->just and
 * fact->origin where facts are retracted; nothing is allocated. */

static uint32_t jmap_home(const void *key, uint32_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (cap - 1);
}

static fx_jmap_entry *jmap_find(const fx_session *s, const void *key)
{
	if (!s->jmap_cap)
		return NULL;
	for (uint32_t i = jmap_home(key, s->jmap_cap);; i = (i + 1) & (s->jmap_cap - 1)) {
		if (s->jmap[i].key == key)
			return &s->jmap[i];
		if (!s->jmap[i].key)
			return NULL;
	}
}

static void jmap_place(fx_jmap_entry *tab, uint32_t cap, const fx_jmap_entry *e)
{
	uint32_t i = jmap_home(e->key, cap);
	while (tab[i].key)
		i = (i + 1) & (cap - 1);
	tab[i] = *e;
}

/* The entry of key, added (with an empty list) if absent; NULL when out of memory. */
static fx_jmap_entry *jmap_get(fx_session *s, const void *key)
{
	fx_jmap_entry *e = jmap_find(s, key);
	if (e)
		return e;
	if ((s->jmap_count + 1) * 2 > s->jmap_cap) {
		uint32_t cap = s->jmap_cap ? s->jmap_cap * 2 : 64;
		fx_jmap_entry *tab = calloc(cap, sizeof *tab);
		if (!tab)
			return NULL;
		for (uint32_t i = 0; i < s->jmap_cap; i++)
			if (s->jmap[i].key)
				jmap_place(tab, cap, &s->jmap[i]);
		free(s->jmap);
		s->jmap = tab;
		s->jmap_cap = cap;
	}
	fx_jmap_entry ne = {key, NULL};
	jmap_place(s->jmap, s->jmap_cap, &ne);
	s->jmap_count++;
	return jmap_find(s, key);
}

static void jmap_del(fx_session *s, fx_jmap_entry *e)
{
	uint32_t mask = s->jmap_cap - 1, hole = (uint32_t)(e - s->jmap), j = hole;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->jmap[j].key)
			break;
		uint32_t h = jmap_home(s->jmap[j].key, s->jmap_cap);
		if (((j - h) & mask) >= ((j - hole) & mask)) {
			s->jmap[hole] = s->jmap[j];
			hole = j;
		}
	}
	s->jmap[hole].key = NULL;
	s->jmap[hole].list = NULL;
	s->jmap_count--;
}

/* The supporter `by` is gone: its justifications join the withdrawal queue. */
static void tms_withdraw(fx_session *s, const void *by)
{
	fx_jmap_entry *e = jmap_find(s, by);
	if (!e)
		return;
	fx_just *j = e->list;
	jmap_del(s, e);
	while (j) {
		fx_just *next = j->s_next;
		j->by = NULL;
		j->s_next = s->jqueue;
		s->jqueue = j;
		j = next;
	}
}

void fx_session_tms_gone(fx_session *s, fx_token *t)
{
	t->flags &= (uint16_t)~(FX_TOK_SUPPORT | FX_TOK_FIRING);
	if (t == s->fire_token)
		s->fire_token = NULL; /* the firing's later logical asserts are dropped */
	tms_withdraw(s, t);
}

/* Support f by `by` (a token for a rule's firing, the answer fact for an answer). A second
 * support from the same supporter adds nothing. */
static int tms_support(fx_session *s, fx_fact *f, const void *by, uint32_t rule,
                       const uint64_t *ids, uint32_t nids)
{
	for (fx_just *j = f->just; j; j = j->f_next)
		if (j->by == by)
			return 0;
	fx_jmap_entry *e = jmap_get(s, by);
	fx_just *j = e ? malloc(sizeof *j + nids * sizeof *ids) : NULL;
	if (!j)
		return FX_ENOMEM;
	j->fact = f;
	j->by = by;
	j->rule = rule;
	j->nids = nids;
	if (nids)
		memcpy(j->ids, ids, nids * sizeof *ids);
	j->f_next = f->just;
	f->just = j;
	j->s_next = e->list;
	e->list = j;
	return 0;
}

/* f leaves working memory (retract, or the old object of a modify): its justifications come
 * off their supporters, and what it supported is withdrawn. */
static void tms_fact_leaving(fx_session *s, fx_fact *f)
{
	fx_just *j = f->just;
	f->just = NULL;
	while (j) {
		fx_just *next = j->f_next;
		if (!j->by) {
			j->fact = NULL; /* queued: the drain frees it */
		} else {
			fx_jmap_entry *e = jmap_find(s, j->by);
			fx_just **pp = e ? &e->list : NULL;
			while (pp && *pp && *pp != j)
				pp = &(*pp)->s_next;
			if (pp && *pp)
				*pp = j->s_next;
			if (e && !e->list)
				jmap_del(s, e);
			free(j);
		}
		j = next;
	}
	if (f->origin & FX_ORIGIN_SUPPORTS) {
		f->origin &= (uint8_t)~FX_ORIGIN_SUPPORTS;
		tms_withdraw(s, f);
	}
}

static void set_origin(fx_fact *f, uint8_t origin, uint32_t rule)
{
	if ((f->origin & FX_ORIGIN_MASK) != FX_ORIGIN_NONE)
		return; /* the first unconditional origin stays */
	f->origin = (uint8_t)(f->origin | origin);
	if (origin == FX_ORIGIN_RULE && rule < 0xffffu)
		f->orule = (uint16_t)(rule + 1);
}

static int retract_fact(fx_session *s, fx_fact *f, int keep_id);

int fx_session_tms_drain(fx_session *s)
{
	if (s->draining)
		return 0;
	s->draining = 1;
	int rc = 0;
	while (s->jqueue) {
		fx_just *j = s->jqueue;
		s->jqueue = j->s_next;
		fx_fact *f = j->fact;
		if (f) {
			fx_just **pp = &f->just;
			while (*pp && *pp != j)
				pp = &(*pp)->f_next;
			if (*pp)
				*pp = j->f_next;
		}
		free(j);
		if (f && !f->just && (f->origin & FX_ORIGIN_MASK) == FX_ORIGIN_NONE && f->live) {
			int r = retract_fact(s, f, 0);
			if (r && !rc)
				rc = r;
		}
	}
	s->draining = 0;
	return rc;
}

/* Reset and free: every justification goes, attached or queued. */
static void tms_clear(fx_session *s)
{
	for (uint32_t i = 0; i < s->jmap_cap; i++) {
		fx_just *j = s->jmap[i].list;
		while (j) {
			fx_just *next = j->s_next;
			free(j);
			j = next;
		}
		s->jmap[i].key = NULL;
		s->jmap[i].list = NULL;
	}
	s->jmap_count = 0;
	while (s->jqueue) {
		fx_just *next = s->jqueue->s_next;
		free(s->jqueue);
		s->jqueue = next;
	}
	for (fx_fact *f = s->first; f; f = f->next) {
		f->just = NULL;
		f->origin &= (uint8_t)~FX_ORIGIN_SUPPORTS;
	}
	s->fire_token = NULL;
}

/* Assert a fact from complete slot values. *out receives the fact (or the duplicate). */
static int assert_values(fx_session *s, uint32_t tmpl, const fx_val *v, fx_fact **out,
                         uint64_t reuse_id, fx_fact *replace)
{
	uint32_t n = s->prog->templates[tmpl].nslots;
	uint32_t h = fact_hash(tmpl, v, n);
	fx_fact *d = dup_find(s, tmpl, v, h);
	if (d) {
		if (out)
			*out = d;
		return 1;
	}
	fx_fact *f = fx_pool_alloc(&s->pool, fact_size(s, tmpl));
	if (!f)
		return FX_ENOMEM;
	memset(f, 0, sizeof *f);
	f->id = reuse_id ? reuse_id : ++s->next_id;
	f->time = ++s->clock;
	f->tmpl = tmpl;
	f->hash = h;
	memcpy(f->slots, v, n * sizeof *v);
	if (wm_insert(s, f, replace) != 0) {
		fx_pool_free(&s->pool, f, fact_size(s, tmpl));
		return FX_ENOMEM;
	}
	/* modify's event goes out here too, so it precedes the activations it causes */
	if (s->trace)
		fx_session_emit(s, replace ? FX_EV_MODIFY : FX_EV_ASSERT, f, NULL);
	int rc = fx_rete_assert(s, f);
	if (out)
		*out = f;
	return rc;
}

static int retract_fact(fx_session *s, fx_fact *f, int keep_id)
{
	if (s->trace && !keep_id)
		fx_session_emit(s, FX_EV_RETRACT, f, NULL);
	/* text.c: a fact that leaves working memory loses its provenance */
	if (s->text && !keep_id)
		fx_text_forget(s, f->id);
	wm_remove(s, f, keep_id);
	if (f->just || (f->origin & FX_ORIGIN_SUPPORTS))
		tms_fact_leaving(s, f);
	int rc = fx_rete_retract(s, f);
	fact_unref(s, f);
	return rc;
}

/* Modify = retract the old object and assert a new one under the same id, in the same place of
 * the id order. A modify that changes nothing does nothing. If the new values duplicate another
 * fact, the fact is retracted and the duplicate stays. */
static int modify_fact(fx_session *s, fx_fact *f, const fx_val *v, fx_fact **out)
{
	*out = NULL;
	uint32_t n = s->prog->templates[f->tmpl].nslots;
	uint32_t i;
	for (i = 0; i < n; i++)
		if (!fx_val_eq(f->slots[i], v[i]))
			break;
	if (i == n)
		return 0;
	uint32_t h = fact_hash(f->tmpl, v, n);
	if (dup_find(s, f->tmpl, v, h))
		return retract_fact(s, f, 0);
	uint64_t id = f->id;
	uint32_t tmpl = f->tmpl;
	/* keep f's neighbours in the id list: remove f but remember where it was */
	fx_fact *prev = f->prev;
	wm_remove(s, f, 1);
	/* the new content needs support of its own: the old object's goes with it */
	if (f->just || (f->origin & FX_ORIGIN_SUPPORTS))
		tms_fact_leaving(s, f);
	int rc = fx_rete_retract(s, f);
	fx_fact holder;
	memset(&holder, 0, sizeof holder);
	holder.prev = prev;
	holder.next = prev ? prev->next : s->first;
	fx_fact *nf = NULL;
	int rc2 = assert_values(s, tmpl, v, &nf, id, &holder);
	if (rc2 == 0)
		*out = nf;
	fact_unref(s, f);
	return rc ? rc : rc2 < 0 ? rc2 : 0;
}

/* --- values and coercion ------------------------------------------------------------------- */

/* Convert v to a slot's declared type, as rule files do. */
static int coerce(fx_session *s, fx_type want, fx_val v, fx_val *out)
{
	if ((fx_type)v.type == want) {
		*out = v;
		return 0;
	}
	switch (want) {
	case FX_SYMBOL:
	case FX_STRING:
		if (v.type == FX_SYMBOL || v.type == FX_STRING) {
			*out = fx_val_atom(want, v.u.a);
			return 0;
		}
		if (v.type == FX_INTEGER || v.type == FX_FLOAT || v.type == FX_BOOLEAN) {
			fx_buf b;
			fx_buf_init(&b);
			fx_val_format(&b, v, 0);
			const fx_atom *a = fx_atoms_intern(&s->atoms, b.data ? b.data : "", b.len);
			fx_buf_dispose(&b);
			if (!a)
				return FX_ENOMEM;
			*out = fx_val_atom(want, a);
			return 0;
		}
		break;
	case FX_FLOAT:
		if (v.type == FX_INTEGER) {
			*out = fx_val_float((double)v.u.i);
			return 0;
		}
		break;
	case FX_INTEGER:
		if (v.type == FX_FLOAT && v.u.f == floor(v.u.f) && fabs(v.u.f) < 9.2e18) {
			*out = fx_val_int((int64_t)v.u.f);
			return 0;
		}
		break;
	default:
		break;
	}
	return FX_ETYPE;
}

/* --- firing -------------------------------------------------------------------------------- */

typedef struct fire_ctx {
	fx_session *s;
	const fx_rule_def *rule;
	fx_fact **facts;
	uint32_t nfacts;
	fx_val *locals;
	unsigned char *set;        /* which locals have been bound */
	int tms;                   /* the rule's rule_tms: some of its asserts are logical */
} fire_ctx;

/* A fact a rule's firing asserted or modified: supported by the activation when the assert is
 * logical (the rule has `logical`, or the template is one of the diagnosis vocabulary), else
 * unconditional. If the activation stopped matching during the firing, a logical fact has
 * nothing to stand on and goes at once (unless something else keeps it). */
static int fired_fact(fire_ctx *c, fx_fact *f, int logical)
{
	fx_session *s = c->s;
	if (!logical) {
		set_origin(f, FX_ORIGIN_RULE, c->rule->index);
		return 0;
	}
	if (!s->fire_token) {
		if (f->live && !f->just && (f->origin & FX_ORIGIN_MASK) == FX_ORIGIN_NONE)
			return retract_fact(s, f, 0);
		return 0;
	}
	uint64_t stackid[32] = {0};
	uint64_t *ids = c->nfacts <= 32 ? stackid : malloc(c->nfacts * sizeof *ids);
	if (!ids)
		return FX_ENOMEM;
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->nfacts; i++)
		if (c->facts[i])
			ids[n++] = c->facts[i]->id;
	int rc = tms_support(s, f, s->fire_token, c->rule->index, ids, n);
	if (!rc)
		s->fire_token->flags |= FX_TOK_SUPPORT;
	if (ids != stackid)
		free(ids);
	return rc;
}

static int is_logical(const fire_ctx *c, uint32_t tmpl)
{
	const fx_session *s = c->s;
	return c->tms && (c->rule->logical || tmpl == s->t_finding || tmpl == s->t_recommend ||
	                  tmpl == s->t_ask);
}

static int fire_get_var(fx_eval *ev, uint32_t var, fx_val *out)
{
	fire_ctx *c = ev->ud;
	const fx_var_def *v = &c->rule->vars[var];
	if (v->kind == FX_VAR_LOCAL) {
		if (!c->set[v->slot]) {
			fx_buf_printf(ev->err, "?%s is used before it is bound", v->name);
			return FX_ERUNTIME;
		}
		*out = c->locals[v->slot];
		return 0;
	}
	if (fx_rete_token_var(c->rule, c->facts, c->nfacts, var, out) != 0) {
		fx_buf_printf(ev->err, "?%s has no value here", v->name);
		return FX_ERUNTIME;
	}
	return 0;
}

static int action_error(fx_session *s, const fx_rule_def *rule, fx_pos pos, const char *msg)
{
	fx_error_set(&s->err, "runtime", pos, rule->name, "%s", msg);
	return FX_ERUNTIME;
}

static int eval_action(fire_ctx *c, fx_eval *ev, const fx_expr *e, fx_val *out)
{
	fx_buf_clear(ev->err);
	int rc = fx_expr_eval(ev, e, out);
	if (rc != 0)
		return action_error(c->s, c->rule, e->pos, fx_buf_cstr(ev->err));
	return 0;
}

static int target_fact(fire_ctx *c, fx_eval *ev, const fx_action *a, fx_fact **out)
{
	fx_val v;
	int rc = eval_action(c, ev, a->target, &v);
	if (rc)
		return rc;
	fx_fact *f = v.type == FX_INTEGER && v.u.i > 0 ? byid_find(c->s, (uint64_t)v.u.i) : NULL;
	if (!f) {
		fx_buf_clear(ev->err);
		if (v.type == FX_INTEGER)
			fx_buf_printf(ev->err, "fact f-%lld no longer exists", (long long)v.u.i);
		else
			fx_buf_puts(ev->err, "retract and modify need a fact bound with `as:`");
		return action_error(c->s, c->rule, a->pos, fx_buf_cstr(ev->err));
	}
	*out = f;
	return 0;
}

static int set_slots(fire_ctx *c, fx_eval *ev, uint32_t tmpl, const fx_slot_set *sets,
                     uint32_t nsets, fx_val *vals)
{
	const fx_template_def *td = &c->s->prog->templates[tmpl];
	for (uint32_t i = 0; i < nsets; i++) {
		fx_val v;
		int rc = eval_action(c, ev, sets[i].value, &v);
		if (rc)
			return rc;
		const fx_slot_def *sd = &td->slots[sets[i].slot];
		if (coerce(c->s, sd->type, v, &vals[sets[i].slot]) != 0) {
			fx_buf_clear(ev->err);
			fx_buf_printf(ev->err, "slot %s of %s is %s, but the value is %s", sd->name, td->name,
			              fx_type_name(sd->type), fx_type_name((fx_type)v.type));
			return action_error(c->s, c->rule, sets[i].pos, fx_buf_cstr(ev->err));
		}
	}
	return 0;
}

static int exec_action(fire_ctx *c, fx_eval *ev, const fx_action *a)
{
	fx_session *s = c->s;
	int rc = 0;
	switch (a->kind) {
	case FX_A_ASSERT: {
		const fx_template_def *td = &s->prog->templates[a->tmpl];
		fx_val stackv[32];
		fx_val *vals = td->nslots <= 32 ? stackv : malloc(td->nslots * sizeof *vals);
		if (!vals)
			return FX_ENOMEM;
		for (uint32_t i = 0; i < td->nslots; i++)
			vals[i] = td->slots[i].dflt;
		rc = set_slots(c, ev, a->tmpl, a->sets, a->nsets, vals);
		int logical = is_logical(c, a->tmpl);
		if (!rc && !(logical && !s->fire_token)) {
			fx_fact *f = NULL;
			rc = assert_values(s, a->tmpl, vals, &f, 0, NULL);
			if (rc >= 0 && f)
				rc = fired_fact(c, f, logical);
		}
		if (vals != stackv)
			free(vals);
		return rc;
	}
	case FX_A_RETRACT: {
		fx_fact *f;
		rc = target_fact(c, ev, a, &f);
		return rc ? rc : retract_fact(s, f, 0);
	}
	case FX_A_MODIFY: {
		fx_fact *f;
		rc = target_fact(c, ev, a, &f);
		if (rc)
			return rc;
		const fx_template_def *td = &s->prog->templates[f->tmpl];
		if (a->tmpl != ~0u && a->tmpl != f->tmpl)
			return action_error(s, c->rule, a->pos, "modify: the fact is of another template");
		fx_val stackv[32];
		fx_val *vals = td->nslots <= 32 ? stackv : malloc(td->nslots * sizeof *vals);
		if (!vals)
			return FX_ENOMEM;
		memcpy(vals, f->slots, td->nslots * sizeof *vals);
		rc = set_slots(c, ev, f->tmpl, a->sets, a->nsets, vals);
		fx_fact *nf = NULL;
		if (!rc)
			rc = modify_fact(s, f, vals, &nf);
		if (!rc && nf)
			rc = fired_fact(c, nf, is_logical(c, nf->tmpl));
		if (vals != stackv)
			free(vals);
		return rc;
	}
	case FX_A_BIND: {
		fx_val v;
		rc = eval_action(c, ev, a->value, &v);
		if (rc)
			return rc;
		uint32_t l = c->rule->vars[a->var].slot;
		c->locals[l] = v;
		c->set[l] = 1;
		return 0;
	}
	case FX_A_PRINT: {
		fx_buf out;
		fx_buf_init(&out);
		for (uint32_t i = 0; i < a->nitems && !rc; i++) {
			fx_val v;
			rc = eval_action(c, ev, a->items[i], &v);
			if (!rc)
				fx_val_format(&out, v, 0);
		}
		if (!rc && s->output)
			s->output(s, out.data ? out.data : "", out.len, s->output_ud);
		fx_buf_dispose(&out);
		return rc;
	}
	case FX_A_HALT:
		s->halted = 1;
		return 0;
	}
	return 0;
}

static int fire(fx_session *s, fx_token *t)
{
	const fx_rule_def *rule = t->node->rule;
	uint32_t n = t->nfacts;
	fx_fact *stackf[32];
	fx_val stackl[16];
	unsigned char stackset[16];
	fx_fact **facts = n <= 32 ? stackf : malloc(n * sizeof *facts);
	fx_val *locals = rule->nlocals <= 16 ? stackl : malloc(rule->nlocals * sizeof *locals);
	unsigned char *set = rule->nlocals <= 16 ? stackset : calloc(rule->nlocals, 1);
	int rc = 0;
	if (!facts || !locals || !set) {
		rc = FX_ENOMEM;
		goto done;
	}
	memset(set, 0, rule->nlocals <= 16 ? sizeof stackset : rule->nlocals);
	memcpy(facts, t->facts, n * sizeof *facts);
	/* The actions may retract what matched: hold the facts, so bound values stay readable. */
	for (uint32_t i = 0; i < n; i++)
		if (facts[i])
			facts[i]->refs++;
	s->firings++;
	s->recent[s->firings % FX_RECENT_RING] = rule->index;
	if (s->trace)
		fx_session_emit(s, FX_EV_FIRE, NULL, t);
	int tms = s->rule_tms[rule->index];
	if (tms) {
		t->flags |= FX_TOK_FIRING;
		s->fire_token = t;
	}
	t = NULL; /* may be deleted by the actions */

	fire_ctx c = {s, rule, facts, n, locals, set, tms};
	fx_buf err;
	fx_buf_init(&err);
	fx_eval ev;
	memset(&ev, 0, sizeof ev);
	ev.get_var = fire_get_var;
	ev.ud = &c;
	ev.atoms = &s->atoms;
	ev.err = &err;
	fx_buf_init(&ev.scratch);
	s->firing = 1;
	for (uint32_t i = 0; i < rule->nactions && !rc; i++) {
		rc = exec_action(&c, &ev, &rule->actions[i]);
		if (!rc && s->jqueue)
			rc = fx_session_tms_drain(s);
	}
	s->firing = 0;
	if (s->fire_token) {
		s->fire_token->flags &= (uint16_t)~FX_TOK_FIRING;
		s->fire_token = NULL;
	}
	fx_buf_dispose(&ev.scratch);
	fx_buf_dispose(&err);
	for (uint32_t i = 0; i < n; i++)
		if (facts[i])
			fact_unref(s, facts[i]);
done:
	if (facts && facts != stackf)
		free(facts);
	if (locals && locals != stackl)
		free(locals);
	if (set && set != stackset)
		free(set);
	return rc;
}

/* After the firing limit: which rules took most of the last firings (the ones that cycled). */
static void report_cycle(fx_session *s, uint64_t limit)
{
	uint32_t nr = s->prog->nrules;
	uint32_t *count = calloc(nr ? nr : 1, sizeof *count);
	fx_buf b;
	fx_buf_init(&b);
	fx_buf_printf(&b, "firing limit of %llu reached", (unsigned long long)limit);
	if (count) {
		uint64_t window = s->firings < FX_RECENT_RING ? s->firings : FX_RECENT_RING;
		for (uint64_t i = 0; i < window; i++)
			count[s->recent[(s->firings - i) % FX_RECENT_RING]]++;
		fx_buf_printf(&b, "; rules that fired in the last %llu firings:",
		              (unsigned long long)window);
		for (int k = 0; k < 5; k++) {
			uint32_t best = 0, bi = 0;
			for (uint32_t r = 0; r < nr; r++)
				if (count[r] > best) {
					best = count[r];
					bi = r;
				}
			if (!best)
				break;
			fx_buf_printf(&b, "%s %s (%u)", k ? "," : "", s->prog->rules[bi].name, best);
			count[bi] = 0;
		}
		free(count);
	}
	fx_pos pos = {0, 0, 0};
	uint32_t r0 = s->recent[s->firings % FX_RECENT_RING];
	if (r0 < nr)
		pos = s->prog->rules[r0].pos;
	fx_error_set(&s->err, "firing-limit", pos, r0 < nr ? s->prog->rules[r0].name : NULL, "%s",
	             fx_buf_cstr(&b));
	fx_buf_dispose(&b);
}

int fx_session_run(fx_session *s, uint64_t limit, uint64_t *fired)
{
	if (!s)
		return FX_EINVAL;
	uint64_t start = s->firings;
	if (limit == 0)
		limit = s->default_limit;
	int rc = 0;
	s->halted = 0;
	if (s->err.d.code && strcmp(s->err.d.code, "match-error") == 0)
		fx_error_clear(&s->err);
	uint64_t errs = s->match_errors;
	for (;;) {
		if (s->oom) {
			rc = FX_ENOMEM;
			break;
		}
		if (s->match_errors != errs) {
			rc = FX_ERUNTIME;
			break;
		}
		if (limit && s->firings - start >= limit) {
			if (s->agenda.count) {
				report_cycle(s, limit);
				rc = FX_ELIMIT;
			}
			break;
		}
		fx_token *t = fx_agenda_pop(s);
		if (!t)
			break;
		rc = fire(s, t);
		if (rc)
			break;
		if (s->halted) {
			rc = FX_EHALT;
			break;
		}
	}
	if (fired)
		*fired = s->firings - start;
	return rc;
}

/* --- lifecycle ----------------------------------------------------------------------------- */

static uint32_t template_index(const fx_program *prog, const char *name)
{
	for (uint32_t i = 0; i < prog->ntemplates; i++)
		if (strcmp(prog->templates[i].name, name) == 0)
			return i;
	return ~0u;
}

/* Which rules' firings support facts: those with `logical`, and those asserting a template of
 * the diagnosis vocabulary (conclude, recommend, ask). */
static int tms_init(fx_session *s)
{
	const fx_program *prog = s->prog;
	s->t_finding = template_index(prog, "finding");
	s->t_recommend = template_index(prog, "recommend");
	s->t_ask = template_index(prog, "ask");
	s->t_answer = template_index(prog, "answer");
	s->t_tried = template_index(prog, "tried");
	s->rule_tms = calloc(prog->nrules + 1, 1);
	if (!s->rule_tms)
		return FX_ENOMEM;
	for (uint32_t r = 0; r < prog->nrules; r++) {
		const fx_rule_def *rule = &prog->rules[r];
		int tms = rule->logical != 0;
		for (uint32_t i = 0; i < rule->nactions && !tms; i++) {
			const fx_action *a = &rule->actions[i];
			tms = (a->kind == FX_A_ASSERT || a->kind == FX_A_MODIFY) &&
			      (a->tmpl == s->t_finding || a->tmpl == s->t_recommend || a->tmpl == s->t_ask);
		}
		s->rule_tms[r] = (uint8_t)tms;
	}
	return 0;
}

static int assert_initial(fx_session *s)
{
	for (uint32_t i = 0; i < s->prog->nfacts; i++) {
		const fx_fact_def *fd = &s->prog->facts[i];
		fx_fact *f = NULL;
		int rc = assert_values(s, fd->tmpl, fd->values, &f, 0, NULL);
		if (rc < 0)
			return rc;
		if (f)
			set_origin(f, FX_ORIGIN_INITIAL, 0);
	}
	return 0;
}

int fx_session_new(fx_session **out, fx_kb *kb)
{
	if (!out || !kb)
		return FX_EINVAL;
	*out = NULL;
	fx_session *s = calloc(1, sizeof *s);
	if (!s)
		return FX_ENOMEM;
	s->kb = fx_kb_ref(kb);
	s->prog = &kb->prog;
	s->net = &kb->net;
	s->default_limit = 10000000;
	fx_atoms_init(&s->atoms, &kb->atoms);
	fx_error_init(&s->err);
	fx_buf_init(&s->msg);
	s->pool.free = calloc(FX_POOL_CLASSES, sizeof(void *));
	int rc = s->pool.free ? 0 : FX_ENOMEM;
	if (!rc)
		rc = fx_rete_session_alloc(s);
	if (!rc)
		rc = fx_agenda_init(&s->agenda, s->net->nlevels);
	if (!rc)
		rc = tms_init(s);
	if (!rc) {
		fx_rete_session_init(s);
		rc = s->oom ? FX_ENOMEM : assert_initial(s);
	}
	if (rc) {
		fx_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void drop_all(fx_session *s)
{
	tms_clear(s);
	fx_rete_session_clear(s);
	fx_fact *f = s->first;
	while (f) {
		fx_fact *next = f->next;
		f->live = 0;
		fact_unref(s, f);
		f = next;
	}
	s->first = s->last = NULL;
	s->nfacts = 0;
	if (s->byid)
		memset(s->byid, 0, s->byid_cap * sizeof *s->byid);
	if (s->dups)
		memset(s->dups, 0, s->dups_cap * sizeof *s->dups);
}

void fx_session_free(fx_session *s)
{
	if (!s)
		return;
	if (s->roots)
		drop_all(s);
	fx_rete_session_free(s);
	fx_text_state_free(s->text); /* text.c: scratch and provenance */
	fx_explain_state_free(s->expl);
	free(s->jmap);
	free(s->rule_tms);
	fx_agenda_dispose(&s->agenda);
	free(s->byid);
	free(s->dups);
	free(s->idbuf);
	pool_dispose(&s->pool);
	fx_atoms_dispose(&s->atoms);
	fx_error_dispose(&s->err);
	fx_buf_dispose(&s->msg);
	fx_kb_free(s->kb);
	free(s);
}

int fx_session_reset(fx_session *s)
{
	if (!s)
		return FX_EINVAL;
	drop_all(s);
	fx_text_clear(s); /* text.c: ids start again, so provenance must go */
	s->next_id = 0;
	s->firings = 0;
	s->halted = 0;
	s->oom = 0;
	s->agenda.seq = 0;
	fx_error_clear(&s->err);
	fx_rete_session_init(s);
	return s->oom ? FX_ENOMEM : assert_initial(s);
}

void fx_session_set_trace(fx_session *s, fx_trace_fn fn, void *ud)
{
	if (!s)
		return;
	s->trace = fn;
	s->trace_ud = ud;
}

void fx_session_set_output(fx_session *s, fx_output_fn fn, void *ud)
{
	if (!s)
		return;
	s->output = fn;
	s->output_ud = ud;
}

/* Used by text.c (fx_text_assert); kept here with the other callbacks. */
void fx_session_set_warn(fx_session *s, fx_diag_fn fn, void *ud)
{
	if (!s)
		return;
	s->warn = fn;
	s->warn_ud = ud;
}

void fx_session_set_strategy(fx_session *s, fx_strategy st)
{
	if (s && st >= FX_STRATEGY_DEPTH && st <= FX_STRATEGY_MEA)
		s->strategy = st;
}

void fx_session_set_default_limit(fx_session *s, uint64_t limit)
{
	if (s)
		s->default_limit = limit;
}

const fx_diag *fx_session_last_error(const fx_session *s)
{
	static const fx_diag none = {FX_SEV_ERROR, "", NULL, 0, 0, 0, "", NULL, NULL};
	if (!s || !s->err.d.code)
		return &none;
	return &s->err.d;
}

uint64_t fx_session_firings(const fx_session *s)
{
	return s ? s->firings : 0;
}

/* --- the public working-memory API ----------------------------------------------------------- */

static long find_template(const fx_session *s, const char *name, size_t len)
{
	for (uint32_t i = 0; i < s->prog->ntemplates; i++) {
		const char *n = s->prog->templates[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return i;
	}
	return -1;
}

static long find_slot(const fx_template_def *td, const char *name, size_t len)
{
	for (uint32_t i = 0; i < td->nslots; i++)
		if (strlen(td->slots[i].name) == len && memcmp(td->slots[i].name, name, len) == 0)
			return i;
	return -1;
}

static int api_error(fx_session *s, int code, const char *what, const char *arg)
{
	fx_error_set(&s->err, "api", (fx_pos){0, 0, 0}, NULL, "%s '%s'", what, arg);
	return code;
}

/* Public slot names and values into vals (the template's slot order), coerced to slot types. */
static int set_named(fx_session *s, const fx_template_def *td, const char *const *slots,
                     const fx_value *values, size_t n, fx_val *vals)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		long sl = slots[i] ? find_slot(td, slots[i], strlen(slots[i])) : -1;
		fx_val v;
		if (sl < 0)
			rc = api_error(s, FX_ENOTFOUND, "no slot named", slots[i] ? slots[i] : "(null)");
		else if (fx_val_from_public(&s->atoms, &values[i], &v) != 0)
			rc = FX_ENOMEM;
		else if (coerce(s, td->slots[sl].type, v, &vals[sl]) != 0)
			rc = api_error(s, FX_ETYPE, "value of the wrong type for slot", slots[i]);
	}
	return rc;
}

int fx_session_assert(fx_session *s, const char *tmpl, const char *const *slots,
                      const fx_value *values, size_t n, uint64_t *id)
{
	if (!s || !tmpl || (n && (!slots || !values)))
		return FX_EINVAL;
	long t = find_template(s, tmpl, strlen(tmpl));
	if (t < 0)
		return api_error(s, FX_ENOTFOUND, "no template named", tmpl);
	const fx_template_def *td = &s->prog->templates[t];
	fx_val stackv[32];
	fx_val *vals = td->nslots <= 32 ? stackv : malloc(td->nslots * sizeof *vals);
	if (!vals)
		return FX_ENOMEM;
	int rc = 0;
	for (uint32_t i = 0; i < td->nslots; i++)
		vals[i] = td->slots[i].dflt;
	rc = set_named(s, td, slots, values, n, vals);
	fx_fact *f = NULL;
	if (!rc) {
		rc = assert_values(s, (uint32_t)t, vals, &f, 0, NULL);
		if (rc > 0)
			rc = 0;
	}
	if (!rc && f)
		set_origin(f, FX_ORIGIN_USER, 0);
	if (!rc && id)
		*id = f ? f->id : 0;
	if (vals != stackv)
		free(vals);
	if (!rc && s->jqueue)
		rc = fx_session_tms_drain(s);
	if (!rc && s->oom)
		rc = FX_ENOMEM;
	return rc;
}

/* For text.c: values are complete and typed, so only the assertion itself remains. */
int fx_session_assert_vals(fx_session *s, uint32_t tmpl, const fx_val *v, uint64_t *id)
{
	fx_fact *f = NULL;
	int rc = assert_values(s, tmpl, v, &f, 0, NULL);
	if (rc >= 0 && f)
		set_origin(f, FX_ORIGIN_TEXT, 0);
	if (rc >= 0 && id)
		*id = f ? f->id : 0;
	if (rc >= 0 && s->jqueue) {
		int r = fx_session_tms_drain(s);
		if (r)
			rc = r;
	}
	if (rc >= 0 && s->oom)
		rc = FX_ENOMEM;
	return rc;
}

int fx_session_retract(fx_session *s, uint64_t id)
{
	if (!s)
		return FX_EINVAL;
	fx_fact *f = byid_find(s, id);
	if (!f)
		return FX_ENOTFOUND;
	int rc = retract_fact(s, f, 0);
	if (!rc && s->jqueue)
		rc = fx_session_tms_drain(s);
	return rc;
}

int fx_session_modify(fx_session *s, uint64_t id, const char *const *slots,
                      const fx_value *values, size_t n)
{
	if (!s || (n && (!slots || !values)))
		return FX_EINVAL;
	fx_fact *f = byid_find(s, id);
	if (!f)
		return FX_ENOTFOUND;
	const fx_template_def *td = &s->prog->templates[f->tmpl];
	fx_val stackv[32];
	fx_val *vals = td->nslots <= 32 ? stackv : malloc(td->nslots * sizeof *vals);
	if (!vals)
		return FX_ENOMEM;
	memcpy(vals, f->slots, td->nslots * sizeof *vals);
	int rc = 0;
	rc = set_named(s, td, slots, values, n, vals);
	fx_fact *nf = NULL;
	if (!rc)
		rc = modify_fact(s, f, vals, &nf);
	if (!rc && nf)
		set_origin(nf, FX_ORIGIN_USER, 0);
	if (vals != stackv)
		free(vals);
	if (!rc && s->jqueue)
		rc = fx_session_tms_drain(s);
	return rc;
}

/* --- facts as text: (template (slot value) ...) ------------------------------------------------ */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static int is_delim(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')' ||
	       c == '"';
}

/* One value token: a quoted string (escapes \" \\ \n \t) or a bare word. */
static const char *read_value(fx_session *s, const char *p, fx_buf *text, int *quoted)
{
	fx_buf_clear(text);
	*quoted = 0;
	if (*p == '"') {
		*quoted = 1;
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1]) {
				p++;
				fx_buf_putc(text, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
			} else
				fx_buf_putc(text, *p);
			p++;
		}
		if (*p != '"')
			return NULL;
		return p + 1;
	}
	const char *start = p;
	while (!is_delim(*p))
		p++;
	if (p == start)
		return NULL;
	(void)s;
	fx_buf_append(text, start, (size_t)(p - start));
	return p;
}

/* A value written in a fact's text: a quoted text is only ever a symbol or a string. */
static int text_to_val(fx_session *s, fx_type type, const char *t, size_t len, int quoted,
                       fx_val *out)
{
	if (quoted && type != FX_SYMBOL && type != FX_STRING)
		return FX_ETYPE;
	return fx_val_from_text(&s->atoms, type, t, len, out, NULL);
}

static int text_error(fx_session *s, const char *text, const char *p, const char *msg)
{
	fx_pos pos = {NULL, 1, (uint32_t)(p - text) + 1};
	fx_error_set(&s->err, "fact-syntax", pos, NULL, "%s", msg);
	return FX_EINVAL;
}

int fx_session_assert_text(fx_session *s, const char *text, uint64_t *id)
{
	if (!s || !text)
		return FX_EINVAL;
	fx_buf word, msg;
	fx_buf_init(&word);
	fx_buf_init(&msg);
	int rc = 0, quoted;
	fx_val stackv[32], *vals = stackv;
	const fx_template_def *td = NULL;
	const char *p = skip_ws(text);
	if (*p != '(') {
		rc = text_error(s, text, p, "expected '(' to start a fact");
		goto done;
	}
	p = skip_ws(p + 1);
	const char *name = p;
	while (!is_delim(*p))
		p++;
	long t = find_template(s, name, (size_t)(p - name));
	if (t < 0) {
		fx_buf_printf(&msg, "unknown template '%.*s'", (int)(p - name), name);
		rc = text_error(s, text, name, fx_buf_cstr(&msg));
		goto done;
	}
	td = &s->prog->templates[t];
	if (td->nslots > 32 && !(vals = malloc(td->nslots * sizeof *vals))) {
		rc = FX_ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < td->nslots; i++)
		vals[i] = td->slots[i].dflt;
	for (;;) {
		p = skip_ws(p);
		if (*p == ')')
			break;
		if (*p != '(') {
			rc = text_error(s, text, p, *p ? "expected '(' before a slot or ')' to end the fact"
			                                : "missing ')' at the end of the fact");
			goto done;
		}
		p = skip_ws(p + 1);
		const char *sname = p;
		while (!is_delim(*p))
			p++;
		long sl = find_slot(td, sname, (size_t)(p - sname));
		if (sl < 0) {
			fx_buf_printf(&msg, "template %s has no slot '%.*s'", td->name, (int)(p - sname), sname);
			rc = text_error(s, text, sname, fx_buf_cstr(&msg));
			goto done;
		}
		p = skip_ws(p);
		const char *vstart = p;
		p = read_value(s, p, &word, &quoted);
		if (!p) {
			rc = text_error(s, text, vstart, "expected a value");
			goto done;
		}
		int r = text_to_val(s, td->slots[sl].type, fx_buf_cstr(&word), word.len, quoted, &vals[sl]);
		if (r == FX_ENOMEM) {
			rc = r;
			goto done;
		}
		if (r) {
			fx_buf_printf(&msg, "slot %s of %s is %s, not '%s'", td->slots[sl].name, td->name,
			              fx_type_name(td->slots[sl].type), fx_buf_cstr(&word));
			rc = text_error(s, text, vstart, fx_buf_cstr(&msg));
			goto done;
		}
		p = skip_ws(p);
		if (*p != ')') {
			rc = text_error(s, text, p, "expected ')' after the slot's value");
			goto done;
		}
		p++;
	}
	p = skip_ws(p + 1);
	if (*p) {
		rc = text_error(s, text, p, "unexpected text after the fact");
		goto done;
	}
	fx_fact *f = NULL;
	rc = assert_values(s, (uint32_t)t, vals, &f, 0, NULL);
	if (rc > 0)
		rc = 0;
	if (!rc && f)
		set_origin(f, FX_ORIGIN_USER, 0);
	if (!rc && id)
		*id = f ? f->id : 0;
	if (!rc && s->jqueue)
		rc = fx_session_tms_drain(s);
done:
	if (vals != stackv)
		free(vals);
	fx_buf_dispose(&word);
	fx_buf_dispose(&msg);
	return rc;
}

/* --- inspection ---------------------------------------------------------------------------- */

int fx_session_fact_next(const fx_session *s, uint64_t after, uint64_t *id)
{
	if (!s || !id)
		return 0;
	const fx_fact *f;
	if (after == 0)
		f = s->first;
	else {
		f = byid_find(s, after);
		if (f)
			f = f->next;
		else
			for (f = s->first; f && f->id <= after; f = f->next)
				;
	}
	if (!f)
		return 0;
	*id = f->id;
	return 1;
}

long fx_session_fact_template(const fx_session *s, uint64_t id)
{
	const fx_fact *f = s ? byid_find(s, id) : NULL;
	return f ? (long)f->tmpl : -1;
}

int fx_session_fact_slot(const fx_session *s, uint64_t id, size_t slot, fx_value *out)
{
	const fx_fact *f = s ? byid_find(s, id) : NULL;
	if (!f || !out)
		return FX_ENOTFOUND;
	if (slot >= s->prog->templates[f->tmpl].nslots)
		return FX_EINVAL;
	*out = fx_val_public(f->slots[slot]);
	return 0;
}

size_t fx_session_fact_count(const fx_session *s)
{
	return s ? s->nfacts : 0;
}

int fx_session_fact_format(const fx_session *s, uint64_t id, char *buf, size_t size)
{
	const fx_fact *f = s ? byid_find(s, id) : NULL;
	if (!f)
		return FX_ENOTFOUND;
	const fx_template_def *td = &s->prog->templates[f->tmpl];
	fx_buf b;
	fx_buf_init(&b);
	fx_buf_printf(&b, "(%s", td->name);
	for (uint32_t i = 0; i < td->nslots; i++) {
		fx_buf_printf(&b, " (%s ", td->slots[i].name);
		fx_val_format(&b, f->slots[i], 1);
		fx_buf_putc(&b, ')');
	}
	fx_buf_putc(&b, ')');
	if (b.oom) {
		fx_buf_dispose(&b);
		return FX_ENOMEM;
	}
	if (size) {
		size_t n = b.len < size - 1 ? b.len : size - 1;
		memcpy(buf, b.data, n);
		buf[n] = '\0';
	}
	int len = (int)b.len;
	fx_buf_dispose(&b);
	return len;
}

size_t fx_session_agenda_count(const fx_session *s)
{
	return s ? s->agenda.count : 0;
}

int fx_session_agenda_get(const fx_session *s, size_t i, long *rule, const uint64_t **facts,
                          size_t *nfacts)
{
	if (!s || i >= s->agenda.count)
		return FX_EINVAL;
	const fx_token *t = NULL;
	size_t k = 0;
	for (uint32_t l = 0; l < s->agenda.nlevels && !t; l++)
		for (const fx_token *x = s->agenda.head[l]; x; x = x->a_next)
			if (k++ == i) {
				t = x;
				break;
			}
	if (!t)
		return FX_EINVAL;
	if (rule)
		*rule = (long)t->node->rule->index;
	size_t n;
	/* the id buffer is scratch space: casting away const is the price of a const inspector */
	const uint64_t *ids = fx_session_token_ids((fx_session *)(uintptr_t)s, t, &n);
	if (facts)
		*facts = ids;
	if (nfacts)
		*nfacts = n;
	return 0;
}

/* --- consultation ---------------------------------------------------------------------------- */

static long question_find(const fx_session *s, const char *name)
{
	for (uint32_t i = 0; i < s->prog->nquestions; i++)
		if (strcmp(s->prog->questions[i].name, name) == 0)
			return i;
	return -1;
}

/* Slot `name` of template tmpl, or -1. */
static long slot_of(const fx_session *s, uint32_t tmpl, const char *name)
{
	if (tmpl == ~0u)
		return -1;
	return find_slot(&s->prog->templates[tmpl], name, strlen(name));
}

/* Retract every answer fact to the question whose name is the atom q, except `keep`. */
static int retract_answers(fx_session *s, const fx_atom *q, const fx_fact *keep)
{
	long qs = slot_of(s, s->t_answer, "question");
	if (qs < 0)
		return 0;
	fx_val qv = fx_val_atom(FX_SYMBOL, q);
	int rc = 0;
	fx_fact *f = s->first;
	while (f && !rc) {
		fx_fact *next = f->next;
		if (f->tmpl == s->t_answer && f != keep && fx_val_eq(f->slots[qs], qv)) {
			/* the withdrawal may take any fact with it: start again (answers are few) */
			rc = retract_fact(s, f, 0);
			if (!rc && s->jqueue)
				rc = fx_session_tms_drain(s);
			f = s->first;
			continue;
		}
		f = next;
	}
	return rc;
}

static int unknown_question(fx_session *s, const char *question)
{
	fx_buf b;
	fx_buf_init(&b);
	fx_buf_printf(&b, "no question '%s'", question);
	if (s->prog->nquestions) {
		fx_buf_puts(&b, "; the questions are ");
		for (uint32_t i = 0; i < s->prog->nquestions; i++)
			fx_buf_printf(&b, "%s%s", i ? ", " : "", s->prog->questions[i].name);
	}
	fx_error_set(&s->err, "unknown-question", (fx_pos){0, 0, 0}, NULL, "%s", fx_buf_cstr(&b));
	fx_buf_dispose(&b);
	return FX_ENOTFOUND;
}

int fx_session_answer(fx_session *s, const char *question, const char *answer, uint64_t *id)
{
	if (!s || !question || !answer)
		return FX_EINVAL;
	long qi = question_find(s, question);
	long qs = slot_of(s, s->t_answer, "question"), vs = slot_of(s, s->t_answer, "value");
	if (qi < 0 || qs < 0 || vs < 0)
		return unknown_question(s, question);
	const fx_question_def *qd = &s->prog->questions[qi];
	const fx_answer_def *ad = NULL;
	for (uint32_t i = 0; i < qd->nanswers && !ad; i++)
		if (strcmp(qd->answers[i].value, answer) == 0)
			ad = &qd->answers[i];
	if (!ad && strcmp(answer, "unknown") != 0) {
		fx_buf b;
		fx_buf_init(&b);
		fx_buf_printf(&b, "question %s has no answer '%s'; the answers are ", question, answer);
		for (uint32_t i = 0; i < qd->nanswers; i++)
			fx_buf_printf(&b, "%s, ", qd->answers[i].value);
		fx_buf_puts(&b, "unknown");
		fx_error_set(&s->err, "unknown-answer", qd->pos, NULL, "%s", fx_buf_cstr(&b));
		fx_buf_dispose(&b);
		return FX_ENOTFOUND;
	}
	const fx_template_def *td = &s->prog->templates[s->t_answer];
	fx_val stackv[32];
	fx_val *vals = td->nslots <= 32 ? stackv : malloc(td->nslots * sizeof *vals);
	const fx_atom *qa = fx_atoms_intern(&s->atoms, question, strlen(question));
	const fx_atom *va = fx_atoms_intern(&s->atoms, answer, strlen(answer));
	if (!vals || !qa || !va) {
		if (vals && vals != stackv)
			free(vals);
		return FX_ENOMEM;
	}
	for (uint32_t i = 0; i < td->nslots; i++)
		vals[i] = td->slots[i].dflt;
	vals[qs] = fx_val_atom(FX_SYMBOL, qa);
	vals[vs] = fx_val_atom(FX_SYMBOL, va);
	fx_fact *af = NULL;
	int rc = assert_values(s, s->t_answer, vals, &af, 0, NULL);
	if (vals != stackv)
		free(vals);
	if (rc < 0)
		return rc;
	int fresh = rc == 0;
	/* Hold the answer while the earlier ones go: nothing it supports may go with them. */
	af->refs++;
	set_origin(af, FX_ORIGIN_ANSWER, 0);
	rc = retract_answers(s, qa, af);
	for (uint32_t i = 0; fresh && ad && i < ad->nfacts && !rc && af->live; i++) {
		const fx_fact_def *fd = &ad->facts[i];
		fx_fact *f = NULL;
		rc = assert_values(s, fd->tmpl, fd->values, &f, 0, NULL);
		if (rc >= 0 && f) {
			rc = tms_support(s, f, af, FX_JUST_ANSWER, &af->id, 1);
			if (!rc)
				af->origin |= FX_ORIGIN_SUPPORTS;
		}
	}
	if (!rc && id)
		*id = af->live ? af->id : 0;
	fact_unref(s, af);
	if (!rc && s->jqueue)
		rc = fx_session_tms_drain(s);
	if (!rc && s->oom)
		rc = FX_ENOMEM;
	return rc;
}

int fx_session_unanswer(fx_session *s, const char *question)
{
	if (!s || !question)
		return FX_EINVAL;
	if (question_find(s, question) < 0 || s->t_answer == ~0u)
		return unknown_question(s, question);
	const fx_atom *qa = fx_atoms_intern(&s->atoms, question, strlen(question));
	if (!qa)
		return FX_ENOMEM;
	return retract_answers(s, qa, NULL);
}

int fx_session_tried(fx_session *s, const char *remedy, uint64_t *id)
{
	if (!s || !remedy)
		return FX_EINVAL;
	long rs = slot_of(s, s->t_tried, "remedy");
	int known = s->prog->nremedies == 0;
	for (uint32_t i = 0; i < s->prog->nremedies && !known; i++)
		known = strcmp(s->prog->remedies[i].name, remedy) == 0;
	if (rs < 0 || !known)
		return api_error(s, FX_ENOTFOUND, "no remedy named", remedy);
	const char *slots[1] = {"remedy"};
	fx_value v = fx_value_symbol(remedy);
	return fx_session_assert(s, "tried", slots, &v, 1, id);
}

fx_fact *fx_session_fact_get(const fx_session *s, uint64_t id)
{
	return byid_find(s, id);
}
