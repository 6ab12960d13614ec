/* agenda.c: the conflict set. Activations (terminal tokens) wait in one list per salience
 * level, highest level first; within a level the session's strategy decides the order.
 * Depth and breadth insert at an end in O(1); LEX and MEA insert in order (O(n) in the level),
 * which is acceptable for the rule bases they are used with. */
#include <string.h>
#include <stdlib.h>

#include "session.h"

int fx_agenda_init(fx_agenda *a, uint32_t nlevels)
{
	memset(a, 0, sizeof *a);
	uint32_t n = nlevels ? nlevels : 1;
	a->head = calloc(n, sizeof *a->head);
	a->tail = calloc(n, sizeof *a->tail);
	a->nlevels = n;
	return a->head && a->tail ? 0 : FX_ENOMEM;
}

void fx_agenda_dispose(fx_agenda *a)
{
	free(a->head);
	free(a->tail);
	memset(a, 0, sizeof *a);
}

/* Recency tags of an activation's facts, newest first. */
static uint32_t times_desc(const fx_token *t, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->nfacts && n < max; i++) {
		if (!t->facts[i])
			continue;
		uint64_t v = t->facts[i]->time;
		uint32_t j = n++;
		while (j > 0 && out[j - 1] < v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = v;
	}
	return n;
}

/* LEX: > 0 when a should fire before b. */
static int lex_cmp(const fx_token *a, const fx_token *b)
{
	uint64_t ta[64], tb[64];
	uint32_t na = times_desc(a, ta, 64), nb = times_desc(b, tb, 64);
	for (uint32_t i = 0; i < na && i < nb; i++)
		if (ta[i] != tb[i])
			return ta[i] > tb[i] ? 1 : -1;
	if (na != nb)
		return na > nb ? 1 : -1;
	return a->seq > b->seq ? 1 : -1;
}

static int mea_cmp(const fx_token *a, const fx_token *b)
{
	uint32_t d = a->node->nrecent;
	if (d != ~0u && d < a->nfacts && d < b->nfacts && a->facts[d] && b->facts[d] &&
	    a->facts[d]->time != b->facts[d]->time)
		return a->facts[d]->time > b->facts[d]->time ? 1 : -1;
	return lex_cmp(a, b);
}

static void link_before(fx_agenda *a, uint32_t l, fx_token *at, fx_token *t)
{
	/* insert t before `at` (NULL: at the tail) */
	t->a_next = at;
	t->a_prev = at ? at->a_prev : a->tail[l];
	if (t->a_prev)
		t->a_prev->a_next = t;
	else
		a->head[l] = t;
	if (at)
		at->a_prev = t;
	else
		a->tail[l] = t;
}

void fx_agenda_add(fx_session *s, fx_token *t)
{
	fx_agenda *a = &s->agenda;
	uint32_t l = t->node->level;
	t->seq = ++a->seq;
	t->flags |= FX_TOK_AGENDA;
	switch (s->strategy) {
	case FX_STRATEGY_BREADTH:
		link_before(a, l, NULL, t);
		break;
	case FX_STRATEGY_LEX:
	case FX_STRATEGY_MEA: {
		fx_token *at = a->head[l];
		int (*cmp)(const fx_token *, const fx_token *) =
			s->strategy == FX_STRATEGY_LEX ? lex_cmp : mea_cmp;
		while (at && cmp(t, at) < 0)
			at = at->a_next;
		link_before(a, l, at, t);
		break;
	}
	case FX_STRATEGY_DEPTH:
	default:
		link_before(a, l, a->head[l], t);
		break;
	}
	a->count++;
	if (s->trace)
		fx_session_emit(s, FX_EV_ACTIVATE, NULL, t);
}

void fx_agenda_remove(fx_session *s, fx_token *t)
{
	fx_agenda *a = &s->agenda;
	uint32_t l = t->node->level;
	if (t->a_prev)
		t->a_prev->a_next = t->a_next;
	else
		a->head[l] = t->a_next;
	if (t->a_next)
		t->a_next->a_prev = t->a_prev;
	else
		a->tail[l] = t->a_prev;
	t->a_next = t->a_prev = NULL;
	t->flags &= (uint16_t)~FX_TOK_AGENDA;
	a->count--;
	if (s->trace)
		fx_session_emit(s, FX_EV_DEACTIVATE, NULL, t);
}

fx_token *fx_agenda_pop(fx_session *s)
{
	fx_agenda *a = &s->agenda;
	if (!a->count)
		return NULL;
	for (uint32_t l = 0; l < a->nlevels; l++) {
		fx_token *t = a->head[l];
		if (!t)
			continue;
		a->head[l] = t->a_next;
		if (t->a_next)
			t->a_next->a_prev = NULL;
		else
			a->tail[l] = NULL;
		t->a_next = t->a_prev = NULL;
		t->flags = (uint16_t)((t->flags & ~FX_TOK_AGENDA) | FX_TOK_FIRED);
		a->count--;
		return t;
	}
	return NULL;
}
