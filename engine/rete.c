/* rete.c: compiles rules into a Rete network and runs it: the alpha network filters facts by
 * constant tests, the beta network joins them into tokens, terminal tokens are activations.
 *
 * Design
 * ------
 * The network (fx_net) is built once per knowledge base and never changes; every session keeps
 * its own run-time memories, indexed by the ids of the network's alpha memories and nodes, so
 * one kb serves many sessions and threads.
 *
 * Alpha. A pattern's tests that need only the fact itself (constants, a variable used twice in
 * one pattern, expressions over the pattern's own variables) form an alpha memory; identical
 * test sets share one memory across patterns and rules. To keep a literal test as cheap with
 * 1,000 rules as with one, each template has a dispatch table: a memory with an equality test
 * on a constant is filed under (slot, value), so an asserted fact consults one hash bucket per
 * indexed slot, not every memory. Memories without such a test are tried in turn.
 *
 * Beta. Each rule is a chain of nodes; rules whose conditions start alike share the join
 * nodes of that common prefix (same input, memory, key and tests), so they share its partial
 * matches too. A node's left memory holds the tokens (partial matches) that reached it; a token
 * records the facts matched so far in an array indexed by pattern depth (ast.h), so variable
 * lookup is one load. Equality tests between a slot and an earlier variable form the node's
 * key: left memories are hashed on the key of the tokens, and the alpha memory keeps a hashed
 * view on the matching right slots, so a join visits only candidates with equal keys.
 *
 * Tokens form a tree: a token's children are the tokens made from it, in any node. Removing a
 * fact deletes the tokens made by joining it (found through the fact's own list) with their
 * subtrees: work proportional to the partial matches touched, never a rescan. A token is owned
 * by exactly one node's memory; a node with several successors (a shared join, an NCC and its
 * subnetwork) makes a separate token for each.
 *
 * Negation. A single negated pattern (`not`) is a node whose tokens remember one matching
 * fact, their blocker; a token passes while it has none. `exists` counts its matches. A negated
 * conjunction uses Doorenbos's NCC: the NCC node forwards each token into a subnetwork whose
 * results reach a partner node; the partner counts results per owner token (the ancestor held by
 * the NCC node), and the owner passes while it has none (or, for exists, some).
 *
 * Ordering. An alpha memory activates its successors deepest first, and a fact enters one
 * memory and activates it before entering the next; together these keep a fact that matches
 * two patterns of one rule from producing the same token twice.
 */
#include <stdlib.h>
#include <string.h>

#include "rete.h"
#include "session.h"
#include "regex.h"

/* ============================================================================================
 * Compilation
 * ========================================================================================== */

typedef struct cctx {
	fx_arena *arena;
	const fx_program *prog;
	fx_net *net;
	fx_vec amems;              /* fx_amem* */
	fx_vec nodes;              /* fx_node* */
	const fx_ce **bydepth;     /* the rule being compiled: its patterns by depth */
	fx_vec firsts;             /* distinct first nodes, for sharing */
	int oom;
} cctx;

static void *cx_alloc(cctx *cx, size_t size)
{
	void *p = fx_arena_alloc(cx->arena, size ? size : 1);
	if (!p)
		cx->oom = 1;
	return p;
}

/* Grow an arena array by one element (arena memory is not reclaimed; compile is one-off). */
static void *cx_append(cctx *cx, void *arr, uint32_t n, size_t elem)
{
	void *p = cx_alloc(cx, (n + 1) * elem);
	if (p && n)
		memcpy(p, arr, n * elem);
	return p;
}

/* Variables a constraint's expression uses, and the deepest depth among slot/fact variables. */
typedef struct varscan {
	const fx_rule_def *rule;
	uint32_t depth;            /* the pattern being compiled */
	int only_here;             /* every variable lives in this pattern's fact */
	int any;
} varscan;

static void scan_var(void *ud, uint32_t var)
{
	varscan *v = ud;
	const fx_var_def *d = &v->rule->vars[var];
	v->any = 1;
	if (d->kind == FX_VAR_LOCAL || d->depth != v->depth)
		v->only_here = 0;
}

static int expr_only_here(const fx_rule_def *rule, const fx_expr *e, uint32_t depth)
{
	varscan v = {rule, depth, 1, 0};
	fx_expr_vars(e, scan_var, &v);
	return v.only_here;
}

static int val_list_eq(const fx_val *a, uint32_t na, const fx_val *b, uint32_t nb)
{
	if (na != nb)
		return 0;
	for (uint32_t i = 0; i < na; i++)
		if (!fx_val_eq(a[i], b[i]))
			return 0;
	return 1;
}

/* Tests that compare equal can share an alpha memory. Expression tests only share with
 * themselves (by pointer): comparing expression trees is not worth it. */
static int test_same(const fx_test *a, const fx_test *b)
{
	if (a->kind != b->kind || a->op != b->op || a->slot != b->slot)
		return 0;
	switch (a->kind) {
	case FX_T_SLOT:
		return a->vslot == b->vslot;
	case FX_T_CONST:
		switch (a->op) {
		case FX_C_IN:
		case FX_C_NOT_IN:
			return val_list_eq(a->c->list, a->c->nlist, b->c->list, b->c->nlist);
		case FX_C_MATCH:
		case FX_C_NOT_MATCH:
			return a->c->re == b->c->re ||
			       strcmp(fx_regex_source(a->c->re), fx_regex_source(b->c->re)) == 0;
		default:
			return fx_val_eq(a->k, b->k);
		}
	default:
		return a->expr == b->expr;
	}
}

static int test_order(const void *pa, const void *pb)
{
	const fx_test *a = pa, *b = pb;
	/* Constant equality first: it is what the dispatch table files the memory under. */
	int ea = a->kind == FX_T_CONST && a->op == FX_C_EQ;
	int eb = b->kind == FX_T_CONST && b->op == FX_C_EQ;
	if (ea != eb)
		return eb - ea;
	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	return 0;
}

static fx_amem *find_amem(cctx *cx, uint32_t tmpl, fx_test *tests, uint32_t n,
                          const fx_rule_def *rule, uint32_t depth)
{
	for (size_t i = 0; i < cx->amems.len; i++) {
		fx_amem *a = cx->amems.items[i];
		if (a->tmpl != tmpl || a->ntests != n)
			continue;
		uint32_t j;
		for (j = 0; j < n; j++)
			if (!test_same(&a->tests[j], &tests[j]))
				break;
		if (j == n)
			return a;
	}
	fx_amem *a = cx_alloc(cx, sizeof *a);
	if (!a)
		return NULL;
	a->id = (uint32_t)cx->amems.len;
	a->tmpl = tmpl;
	a->tests = n ? fx_arena_memdup(cx->arena, tests, n * sizeof *tests) : NULL;
	if (n && !a->tests) {
		cx->oom = 1;
		return NULL;
	}
	a->ntests = n;
	a->rule = rule;
	a->depth = depth;
	if (fx_vec_push(&cx->amems, a) != 0) {
		cx->oom = 1;
		return NULL;
	}
	return a;
}

/* The hashed view of amem on these right slots, added if new. */
static uint32_t amem_index(cctx *cx, fx_amem *a, const uint32_t *rslot, uint32_t nk)
{
	for (uint32_t i = 0; i < a->nindex; i++)
		if (a->index_nslots[i] == nk && memcmp(a->index_slots[i], rslot, nk * sizeof *rslot) == 0)
			return i;
	uint32_t **slots = cx_append(cx, a->index_slots, a->nindex, sizeof *slots);
	uint32_t *ns = cx_append(cx, a->index_nslots, a->nindex, sizeof *ns);
	uint32_t *copy = fx_arena_memdup(cx->arena, rslot, nk * sizeof *rslot);
	if (!slots || !ns || !copy) {
		cx->oom = 1;
		return 0;
	}
	slots[a->nindex] = copy;
	ns[a->nindex] = nk;
	a->index_slots = slots;
	a->index_nslots = ns;
	if (a->nindex + 1 > cx->net->max_index)
		cx->net->max_index = a->nindex + 1;
	return a->nindex++;
}

static void amem_add_succ(cctx *cx, fx_amem *a, fx_node *n)
{
	/* Deepest first: nodes are created parents before children, so new ones go in front. */
	fx_node **succ = cx_alloc(cx, (a->nsucc + 1) * sizeof *succ);
	if (!succ)
		return;
	succ[0] = n;
	if (a->nsucc)
		memcpy(succ + 1, a->succ, a->nsucc * sizeof *succ);
	a->succ = succ;
	a->nsucc++;
}

static fx_node *new_node(cctx *cx, fx_node_kind kind, const fx_rule_def *rule, fx_node *parent,
                         uint32_t in_nfacts)
{
	fx_node *n = cx_alloc(cx, sizeof *n);
	if (!n)
		return NULL;
	n->kind = kind;
	n->id = (uint32_t)cx->nodes.len;
	n->rule = rule;
	n->parent = parent;
	n->in_nfacts = in_nfacts;
	n->nrecent = ~0u;
	if (fx_vec_push(&cx->nodes, n) != 0) {
		cx->oom = 1;
		return NULL;
	}
	return n;
}

/* Where the chain being built continues: the next node becomes prev's child, or its
 * subnetwork when prev is an NCC that has none yet. */
typedef struct chain {
	fx_node *prev;             /* NULL before the rule's first node */
	int into_sub;              /* attach the next node as prev->sub */
	uint32_t nfacts;           /* facts[] length of the tokens flowing here */
	int top;                   /* the rule's own chain (not a not/exists subnetwork) */
} chain;

static void add_kid(cctx *cx, fx_node *p, fx_node *n)
{
	fx_node **k = cx_append(cx, p->kids, p->nkids, sizeof *k);
	if (!k)
		return;
	k[p->nkids++] = n;
	p->kids = k;
}

static void chain_link(cctx *cx, chain *ch, fx_node *n, const fx_rule_def *rule)
{
	if (!ch->prev) {
		cx->net->first[rule->index] = n;
		if (fx_vec_push(&cx->firsts, n) != 0)
			cx->oom = 1;
	} else if (ch->into_sub)
		ch->prev->sub = n;
	else {
		if (!ch->prev->child)
			ch->prev->child = n;
		add_kid(cx, ch->prev, n);
	}
	ch->prev = n;
	ch->into_sub = 0;
}

static int tests_same(const fx_test *a, uint32_t na, const fx_test *b, uint32_t nb)
{
	if (na != nb)
		return 0;
	for (uint32_t i = 0; i < na; i++) {
		if (!test_same(&a[i], &b[i]))
			return 0;
		if (a[i].kind == FX_T_VAR && (a[i].depth != b[i].depth || a[i].vslot != b[i].vslot))
			return 0;
	}
	return 1;
}

/* A join node identical to n (same input, pattern position, memory, key and tests) already
 * made for an earlier rule: share it, and so the partial matches it makes. */
static fx_node *find_shared_join(cctx *cx, const chain *ch, const fx_node *n)
{
	fx_node *const *cand;
	size_t ncand;
	if (ch->into_sub)
		return NULL;
	if (ch->prev) {
		cand = ch->prev->kids;
		ncand = ch->prev->nkids;
	} else {
		cand = (fx_node *const *)cx->firsts.items;
		ncand = cx->firsts.len;
	}
	for (size_t i = 0; i < ncand; i++) {
		const fx_node *o = cand[i];
		if (o->kind != FX_N_JOIN || o->amem != n->amem || o->depth != n->depth ||
		    o->in_nfacts != n->in_nfacts || o->nkeys != n->nkeys ||
		    !tests_same(o->tests, o->ntests, n->tests, n->ntests))
			continue;
		uint32_t k;
		for (k = 0; k < n->nkeys; k++)
			if (o->kdepth[k] != n->kdepth[k] || o->kslot[k] != n->kslot[k] ||
			    o->rslot[k] != n->rslot[k])
				break;
		if (k == n->nkeys)
			return (fx_node *)(uintptr_t)o;
	}
	return NULL;
}

typedef struct testlist {
	fx_test *t;
	uint32_t n, cap;
} testlist;

static void tl_push(cctx *cx, testlist *tl, const fx_test *t)
{
	if (tl->n == tl->cap) {
		uint32_t cap = tl->cap ? tl->cap * 2 : 8;
		fx_test *nt = realloc(tl->t, cap * sizeof *nt);
		if (!nt) {
			cx->oom = 1;
			return;
		}
		tl->t = nt;
		tl->cap = cap;
	}
	tl->t[tl->n++] = *t;
}

/* The declared type of a slot variable: hashed keys need both sides of one type, since the
 * hash is exact while == compares 1 and 1.0 equal. */
static fx_type var_type(cctx *cx, const fx_var_def *v)
{
	const fx_ce *ce = cx->bydepth[v->depth];
	return cx->prog->templates[ce->tmpl].slots[v->slot].type;
}

/* Split a pattern's constraints into alpha tests, join key and join tests. */
typedef struct pattern_parts {
	testlist alpha, join;
	uint32_t kdepth[16], kslot[16], rslot[16];
	uint32_t nkeys;
} pattern_parts;

static void classify(cctx *cx, const fx_rule_def *rule, const fx_ce *ce, pattern_parts *pp)
{
	const fx_template_def *td = &cx->prog->templates[ce->tmpl];
	for (uint32_t i = 0; i < ce->ncons; i++) {
		const fx_constraint *c = &ce->cons[i];
		fx_test t;
		memset(&t, 0, sizeof t);
		t.op = (uint8_t)c->op;
		t.slot = c->slot;
		t.c = c;
		switch (c->op) {
		case FX_C_BIND:
			continue;
		case FX_C_TEST:
			t.kind = FX_T_BOOL;
			t.expr = c->arg;
			tl_push(cx, expr_only_here(rule, c->arg, ce->depth) ? &pp->alpha : &pp->join, &t);
			continue;
		case FX_C_IN:
		case FX_C_NOT_IN:
		case FX_C_MATCH:
		case FX_C_NOT_MATCH:
			t.kind = FX_T_CONST;
			tl_push(cx, &pp->alpha, &t);
			continue;
		default:
			break;
		}
		const fx_expr *arg = c->arg;
		if (arg && arg->kind == FX_X_CONST) {
			t.kind = FX_T_CONST;
			t.k = arg->val;
			tl_push(cx, &pp->alpha, &t);
		} else if (arg && arg->kind == FX_X_VAR) {
			const fx_var_def *v = &rule->vars[arg->var];
			uint32_t vslot = v->kind == FX_VAR_FACT ? FX_FACT_ID : v->slot;
			if (v->depth == ce->depth && v->kind != FX_VAR_LOCAL) {
				t.kind = FX_T_SLOT;
				t.vslot = vslot;
				tl_push(cx, &pp->alpha, &t);
			} else if (c->op == FX_C_EQ && v->kind == FX_VAR_SLOT && pp->nkeys < 16 &&
			           td->slots[c->slot].type == var_type(cx, v)) {
				pp->kdepth[pp->nkeys] = v->depth;
				pp->kslot[pp->nkeys] = v->slot;
				pp->rslot[pp->nkeys] = c->slot;
				pp->nkeys++;
			} else {
				t.kind = FX_T_VAR;
				t.depth = v->depth;
				t.vslot = vslot;
				tl_push(cx, &pp->join, &t);
			}
		} else if (arg) {
			t.kind = FX_T_EXPR;
			t.expr = arg;
			tl_push(cx, expr_only_here(rule, arg, ce->depth) ? &pp->alpha : &pp->join, &t);
		}
	}
}

/* Fill node n (JOIN, NEG or EXISTS) from pattern ce, plus extra join tests (a `not`'s tests). */
static void build_pattern_node(cctx *cx, const fx_rule_def *rule, fx_node *n, const fx_ce *ce,
                               const fx_ce *extra, uint32_t nextra)
{
	pattern_parts pp;
	memset(&pp, 0, sizeof pp);
	classify(cx, rule, ce, &pp);
	for (uint32_t i = 0; i < nextra; i++) {
		fx_test t;
		memset(&t, 0, sizeof t);
		t.kind = FX_T_BOOL;
		t.op = FX_C_TEST;
		t.expr = extra[i].test;
		tl_push(cx, &pp.join, &t);
	}
	if (pp.alpha.n > 1)
		qsort(pp.alpha.t, pp.alpha.n, sizeof *pp.alpha.t, test_order);
	n->ce = ce;
	n->depth = ce->depth;
	n->amem = find_amem(cx, ce->tmpl, pp.alpha.t, pp.alpha.n, rule, ce->depth);
	if (n->amem) {
		if (pp.nkeys) {
			n->nkeys = pp.nkeys;
			n->kdepth = fx_arena_memdup(cx->arena, pp.kdepth, pp.nkeys * sizeof(uint32_t));
			n->kslot = fx_arena_memdup(cx->arena, pp.kslot, pp.nkeys * sizeof(uint32_t));
			n->rslot = fx_arena_memdup(cx->arena, pp.rslot, pp.nkeys * sizeof(uint32_t));
			if (!n->kdepth || !n->kslot || !n->rslot)
				cx->oom = 1;
			else
				n->aindex = amem_index(cx, n->amem, n->rslot, n->nkeys);
		}
	}
	if (pp.join.n) {
		n->tests = fx_arena_memdup(cx->arena, pp.join.t, pp.join.n * sizeof *pp.join.t);
		if (!n->tests)
			cx->oom = 1;
		n->ntests = pp.join.n;
	}
	free(pp.alpha.t);
	free(pp.join.t);
}

static void compile_ces(cctx *cx, const fx_rule_def *rule, const fx_ce *ces, uint32_t nces,
                        chain *ch);

static void compile_ce(cctx *cx, const fx_rule_def *rule, const fx_ce *ce, const fx_ce *rest,
                       uint32_t nrest, uint32_t *consumed, chain *ch)
{
	*consumed = 1;
	switch (ce->kind) {
	case FX_CE_PATTERN: {
		/* Tests right after a pattern filter at its join, with no node of their own; but when
		 * they end the rule they get a TEST node, so that the join stays shareable between
		 * rules that differ only in their final test. */
		uint32_t ntests = 0;
		while (ntests < nrest && rest[ntests].kind == FX_CE_TEST)
			ntests++;
		if (ntests > 0 && ntests == nrest && ch->top)
			ntests = 0;
		fx_node probe;
		memset(&probe, 0, sizeof probe);
		probe.kind = FX_N_JOIN;
		probe.in_nfacts = ch->nfacts;
		build_pattern_node(cx, rule, &probe, ce, rest, ntests);
		*consumed += ntests;
		fx_node *n = find_shared_join(cx, ch, &probe);
		if (n) {
			ch->prev = n; /* already linked under the same parent */
		} else {
			n = new_node(cx, FX_N_JOIN, rule, ch->prev, ch->nfacts);
			if (!n)
				return;
			uint32_t id = n->id;
			*n = probe;
			n->id = id;
			n->rule = rule;
			n->parent = ch->prev;
			n->nrecent = ~0u;
			if (n->amem)
				amem_add_succ(cx, n->amem, n);
			chain_link(cx, ch, n, rule);
		}
		if (ce->depth + 1 > ch->nfacts)
			ch->nfacts = ce->depth + 1;
		return;
	}
	case FX_CE_TEST: {
		/* Consecutive tests make one node. */
		uint32_t more = 0;
		while (more < nrest && rest[more].kind == FX_CE_TEST)
			more++;
		fx_node *n = new_node(cx, FX_N_TEST, rule, ch->prev, ch->nfacts);
		if (!n)
			return;
		n->ce = ce;
		n->tests = cx_alloc(cx, (more + 1) * sizeof *n->tests);
		if (!n->tests)
			return;
		for (uint32_t i = 0; i <= more; i++) {
			fx_test *t = &n->tests[i];
			t->kind = FX_T_BOOL;
			t->op = FX_C_TEST;
			t->expr = i == 0 ? ce->test : rest[i - 1].test;
		}
		n->ntests = more + 1;
		*consumed += more;
		chain_link(cx, ch, n, rule);
		return;
	}
	case FX_CE_NOT:
	case FX_CE_EXISTS: {
		int exists = ce->kind == FX_CE_EXISTS;
		uint32_t k = 1;
		while (k < ce->nchildren && ce->children[k].kind == FX_CE_TEST)
			k++;
		if (ce->nchildren >= 1 && ce->children[0].kind == FX_CE_PATTERN && k == ce->nchildren) {
			fx_node *n = new_node(cx, exists ? FX_N_EXISTS : FX_N_NEG, rule, ch->prev, ch->nfacts);
			if (!n)
				return;
			/* The negated pattern's own fact is visible to its tests through the right fact. */
			build_pattern_node(cx, rule, n, &ce->children[0], ce->children + 1, k - 1);
			n->ce = ce;
			if (n->amem)
				amem_add_succ(cx, n->amem, n);
			chain_link(cx, ch, n, rule);
			return;
		}
		fx_node *ncc = new_node(cx, FX_N_NCC, rule, ch->prev, ch->nfacts);
		if (!ncc)
			return;
		ncc->ce = ce;
		ncc->exists = exists;
		chain_link(cx, ch, ncc, rule);
		chain sub = {ncc, 1, ch->nfacts, 0};
		compile_ces(cx, rule, ce->children, ce->nchildren, &sub);
		fx_node *partner = new_node(cx, FX_N_PARTNER, rule, sub.prev, sub.nfacts);
		if (!partner)
			return;
		partner->ce = ce;
		partner->ncc = ncc;
		if (sub.into_sub)
			ncc->sub = partner;  /* an empty conjunction: always one result */
		else {
			sub.prev->child = partner;
			add_kid(cx, sub.prev, partner);
		}
		/* The chain goes on from the NCC, with the tokens it had. */
		ch->prev = ncc;
		ch->into_sub = 0;
		return;
	}
	}
}

static void compile_ces(cctx *cx, const fx_rule_def *rule, const fx_ce *ces, uint32_t nces,
                        chain *ch)
{
	uint32_t i = 0;
	while (i < nces && !cx->oom) {
		uint32_t used = 1;
		compile_ce(cx, rule, &ces[i], ces + i + 1, nces - i - 1, &used, ch);
		i += used;
	}
}

static void index_depths(const fx_ce *ces, uint32_t n, const fx_ce **bydepth, uint32_t ndepth)
{
	for (uint32_t i = 0; i < n; i++) {
		if (ces[i].kind == FX_CE_PATTERN && ces[i].depth < ndepth)
			bydepth[ces[i].depth] = &ces[i];
		else if (ces[i].kind == FX_CE_NOT || ces[i].kind == FX_CE_EXISTS)
			index_depths(ces[i].children, ces[i].nchildren, bydepth, ndepth);
	}
}

static int cmp_int_desc(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x > y ? -1 : x < y;
}

static uint32_t dispatch_hash(uint32_t slot, fx_val v)
{
	return fx_val_hash(v) * 2654435761u ^ (slot * 40503u);
}

static void build_dispatch(cctx *cx)
{
	const fx_program *prog = cx->prog;
	fx_net *net = cx->net;
	net->dispatch = cx_alloc(cx, (prog->ntemplates + 1) * sizeof *net->dispatch);
	if (!net->dispatch)
		return;
	for (size_t i = 0; i < cx->amems.len; i++) {
		fx_amem *a = cx->amems.items[i];
		fx_tdispatch *d = &net->dispatch[a->tmpl];
		const fx_test *t0 = a->ntests ? &a->tests[0] : NULL;
		int indexed = t0 && t0->kind == FX_T_CONST && t0->op == FX_C_EQ &&
		              t0->k.type == prog->templates[a->tmpl].slots[t0->slot].type;
		if (!indexed) {
			fx_amem **rest = cx_append(cx, d->rest, d->nrest, sizeof *rest);
			if (!rest)
				return;
			rest[d->nrest++] = a;
			d->rest = rest;
			continue;
		}
		if (!d->table) {
			d->tablecap = 64;
			d->table = cx_alloc(cx, d->tablecap * sizeof *d->table);
			if (!d->table)
				return;
		}
		uint32_t h = dispatch_hash(t0->slot, t0->k) & (d->tablecap - 1);
		fx_dispatch_entry *e = d->table[h];
		while (e && !(e->slot == t0->slot && fx_val_eq(e->value, t0->k)))
			e = e->next;
		if (!e) {
			e = cx_alloc(cx, sizeof *e);
			if (!e)
				return;
			e->slot = t0->slot;
			e->value = t0->k;
			e->next = d->table[h];
			d->table[h] = e;
			uint32_t k;
			for (k = 0; k < d->nislots; k++)
				if (d->islots[k] == t0->slot)
					break;
			if (k == d->nislots) {
				uint32_t *is = cx_append(cx, d->islots, d->nislots, sizeof *is);
				if (!is)
					return;
				is[d->nislots++] = t0->slot;
				d->islots = is;
			}
		}
		fx_amem **am = cx_append(cx, e->amems, e->namems, sizeof *am);
		if (!am)
			return;
		am[e->namems++] = a;
		e->amems = am;
	}
	/* Grow tables that got crowded: rebuilding is simplest as a second pass. */
	for (uint32_t t = 0; t < prog->ntemplates; t++) {
		fx_tdispatch *d = &net->dispatch[t];
		if (!d->table)
			continue;
		uint32_t n = 0;
		for (uint32_t h = 0; h < d->tablecap; h++)
			for (fx_dispatch_entry *e = d->table[h]; e; e = e->next)
				n++;
		if (n <= d->tablecap)
			continue;
		uint32_t cap = d->tablecap;
		while (cap < n * 2)
			cap *= 2;
		fx_dispatch_entry **nt = cx_alloc(cx, cap * sizeof *nt);
		if (!nt)
			return;
		for (uint32_t h = 0; h < d->tablecap; h++) {
			fx_dispatch_entry *e = d->table[h];
			while (e) {
				fx_dispatch_entry *next = e->next;
				uint32_t nh = dispatch_hash(e->slot, e->value) & (cap - 1);
				e->next = nt[nh];
				nt[nh] = e;
				e = next;
			}
		}
		d->table = nt;
		d->tablecap = cap;
	}
}

int fx_rete_compile(fx_net *net, const fx_program *prog, fx_arena *arena)
{
	cctx cx;
	memset(&cx, 0, sizeof cx);
	memset(net, 0, sizeof *net);
	cx.arena = arena;
	cx.prog = prog;
	cx.net = net;
	fx_vec_init(&cx.amems);
	fx_vec_init(&cx.nodes);
	fx_vec_init(&cx.firsts);

	uint32_t nr = prog->nrules;
	net->first = cx_alloc(&cx, (nr + 1) * sizeof *net->first);
	net->terminal = cx_alloc(&cx, (nr + 1) * sizeof *net->terminal);
	net->levels = cx_alloc(&cx, (nr + 1) * sizeof *net->levels);
	if (cx.oom)
		goto done;
	/* Salience levels, highest first. */
	for (uint32_t i = 0; i < nr; i++)
		net->levels[i] = prog->rules[i].salience;
	qsort(net->levels, nr, sizeof *net->levels, cmp_int_desc);
	for (uint32_t i = 0; i < nr; i++)
		if (net->nlevels == 0 || net->levels[net->nlevels - 1] != net->levels[i])
			net->levels[net->nlevels++] = net->levels[i];

	for (uint32_t r = 0; r < nr && !cx.oom; r++) {
		const fx_rule_def *rule = &prog->rules[r];
		const fx_ce *bydepth_local[64];
		const fx_ce **bydepth = rule->ndepth <= 64 ? bydepth_local
		                                            : malloc(rule->ndepth * sizeof *bydepth);
		if (!bydepth) {
			cx.oom = 1;
			break;
		}
		memset(bydepth, 0, (rule->ndepth ? rule->ndepth : 1) * sizeof *bydepth);
		index_depths(rule->ces, rule->nces, bydepth, rule->ndepth);
		cx.bydepth = bydepth;
		chain ch = {NULL, 0, 0, 1};
		compile_ces(&cx, rule, rule->ces, rule->nces, &ch);
		fx_node *term = new_node(&cx, FX_N_TERMINAL, rule, ch.prev, ch.nfacts);
		if (term) {
			chain_link(&cx, &ch, term, rule);
			for (uint32_t l = 0; l < net->nlevels; l++)
				if (net->levels[l] == rule->salience)
					term->level = l;
			if (rule->nces && rule->ces[0].kind == FX_CE_PATTERN)
				term->nrecent = rule->ces[0].depth;
			net->terminal[r] = term;
			fx_node *p = term->parent;
			if (p && p->kind != FX_N_JOIN) {
				p->direct = 1;
				p->level = term->level;
				p->nrecent = term->nrecent;
			}
		}
		if (bydepth != bydepth_local)
			free(bydepth);
		cx.bydepth = NULL;
	}
	if (cx.oom)
		goto done;
	build_dispatch(&cx);
	net->namems = (uint32_t)cx.amems.len;
	net->nnodes = (uint32_t)cx.nodes.len;
	net->amems = cx.amems.len ? fx_arena_memdup(arena, cx.amems.items, cx.amems.len * sizeof(void *))
	                          : NULL;
	net->nodes = cx.nodes.len ? fx_arena_memdup(arena, cx.nodes.items, cx.nodes.len * sizeof(void *))
	                          : NULL;
	if ((cx.amems.len && !net->amems) || (cx.nodes.len && !net->nodes))
		cx.oom = 1;
done:
	fx_vec_dispose(&cx.amems);
	fx_vec_dispose(&cx.nodes);
	fx_vec_dispose(&cx.firsts);
	return cx.oom ? FX_ENOMEM : 0;
}

/* ============================================================================================
 * Run time
 * ========================================================================================== */

/* Evaluation context of a test: the token's facts, and the fact being matched at rdepth. */
typedef struct mctx {
	const fx_rule_def *rule;
	fx_fact *const *facts;
	uint32_t nfacts;
	fx_fact *right;
	uint32_t rdepth;
} mctx;

static int var_from(const fx_rule_def *rule, fx_fact *const *facts, uint32_t nfacts,
                    fx_fact *right, uint32_t rdepth, uint32_t var, fx_val *out)
{
	const fx_var_def *v = &rule->vars[var];
	if (v->kind == FX_VAR_LOCAL)
		return FX_EINVAL;
	fx_fact *f = v->depth == rdepth && right ? right : v->depth < nfacts ? facts[v->depth] : NULL;
	if (!f)
		return FX_EINVAL;
	*out = v->kind == FX_VAR_FACT ? fx_val_int((int64_t)f->id) : f->slots[v->slot];
	return 0;
}

static int match_get_var(fx_eval *ev, uint32_t var, fx_val *out)
{
	const mctx *m = ev->ud;
	int rc = var_from(m->rule, m->facts, m->nfacts, m->right, m->rdepth, var, out);
	if (rc != 0 && ev->err)
		fx_buf_printf(ev->err, "variable ?%s has no value here", m->rule->vars[var].name);
	return rc;
}

int fx_rete_token_var(const fx_rule_def *rule, fx_fact *const *facts, uint32_t nfacts,
                      uint32_t var, fx_val *out)
{
	return var_from(rule, facts, nfacts, NULL, ~0u, var, out);
}

static int text_of(fx_val v, const char **p, size_t *len)
{
	if (v.type != FX_SYMBOL && v.type != FX_STRING)
		return 0;
	*p = v.u.a->text;
	*len = v.u.a->len;
	return 1;
}

static int has_sub(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl == 0)
		return 1;
	if (nl > hl)
		return 0;
	const char *end = h + hl - nl;
	for (const char *p = h; p <= end; p++) {
		p = memchr(p, n[0], (size_t)(end - p) + 1);
		if (!p)
			return 0;
		if (memcmp(p, n, nl) == 0)
			return 1;
	}
	return 0;
}

/* A regex that hits its match limit counts as no match; the session notes it. */
static void note_limit(fx_session *s, const fx_constraint *c)
{
	if (s->err.d.code && strcmp(s->err.d.code, "regex-limit") == 0)
		return;
	fx_error_set(&s->err, "regex-limit", c ? c->pos : (fx_pos){0, 0, 0}, NULL,
	             "regex /%s/ stopped at its match limit; treated as no match",
	             c && c->re ? fx_regex_source(c->re) : "?");
}

/* Key hashing and equality, inlined for the join paths. Any hash works as long as both
 * sides of a join use this one and equal values (fx_val_eq) hash alike. */
static inline uint32_t key_hash(fx_val v)
{
	if (v.type == FX_SYMBOL || v.type == FX_STRING)
		return v.u.a->hash;
	if (v.type == FX_INTEGER)
		return (uint32_t)(((uint64_t)v.u.i * 0x9e3779b97f4a7c15ull) >> 32);
	return fx_val_hash(v);
}

static inline int key_eq(fx_val a, fx_val b)
{
	if (a.type != b.type)
		return 0;
	if (a.type == FX_SYMBOL || a.type == FX_STRING)
		return a.u.a == b.u.a;
	if (a.type == FX_INTEGER)
		return a.u.i == b.u.i;
	return fx_val_eq(a, b);
}

static int apply_op(fx_session *s, const fx_test *t, fx_val a, fx_val b)
{
	const char *x, *y;
	size_t xl, yl;
	int r;
	switch ((fx_cons_op)t->op) {
	case FX_C_EQ:
		return a.type == b.type && a.type != FX_FLOAT ? key_eq(a, b) : fx_val_equal_loose(a, b);
	case FX_C_NE:
		return !(a.type == b.type && a.type != FX_FLOAT ? key_eq(a, b) : fx_val_equal_loose(a, b));
	case FX_C_LT:
		r = fx_val_cmp(a, b);
		return r == -1;
	case FX_C_LE:
		r = fx_val_cmp(a, b);
		return r == -1 || r == 0;
	case FX_C_GT:
		r = fx_val_cmp(a, b);
		return r == 1;
	case FX_C_GE:
		r = fx_val_cmp(a, b);
		return r == 1 || r == 0;
	case FX_C_IN:
	case FX_C_NOT_IN: {
		int found = 0;
		for (uint32_t i = 0; i < t->c->nlist && !found; i++)
			found = fx_val_equal_loose(a, t->c->list[i]);
		return t->op == FX_C_IN ? found : !found;
	}
	case FX_C_MATCH:
	case FX_C_NOT_MATCH:
		if (!text_of(a, &x, &xl))
			return t->op == FX_C_NOT_MATCH;
		r = fx_regex_match(t->c->re, x, xl);
		if (r < 0) {
			note_limit(s, t->c);
			return 0;
		}
		return t->op == FX_C_MATCH ? r : !r;
	case FX_C_CONTAINS:
	case FX_C_STARTS:
	case FX_C_ENDS:
		if (!text_of(a, &x, &xl) || !text_of(b, &y, &yl))
			return 0;
		if (t->op == FX_C_CONTAINS)
			return has_sub(x, xl, y, yl);
		if (yl > xl)
			return 0;
		return memcmp(t->op == FX_C_STARTS ? x : x + xl - yl, y, yl) == 0;
	case FX_C_BIND:
	case FX_C_TEST:
		break;
	}
	return 0;
}

/* An expression failed at match time: the match fails and the session records why, so run
 * can stop with the error (as CLIPS does) instead of hiding it. */
static void match_error(fx_session *s, const fx_rule_def *rule, const fx_expr *e, fx_buf *msg)
{
	if (!s->err.d.code || strcmp(s->err.d.code, "match-error") != 0)
		fx_error_set(&s->err, "match-error", e->pos, rule ? rule->name : NULL, "%s",
		             fx_buf_cstr(msg));
	s->match_errors++;
}

static int eval_in(fx_session *s, mctx *m, const fx_expr *e, fx_val *out)
{
	fx_buf msg;
	fx_buf_init(&msg);
	fx_eval ev;
	memset(&ev, 0, sizeof ev);
	ev.get_var = match_get_var;
	ev.ud = m;
	ev.atoms = &s->atoms;
	ev.err = &msg;
	fx_buf_init(&ev.scratch);
	int rc = fx_expr_eval(&ev, e, out);
	if (rc != 0)
		match_error(s, m->rule, e, &msg);
	fx_buf_dispose(&ev.scratch);
	fx_buf_dispose(&msg);
	return rc;
}

/* Expression tests live apart from the simple ones so that the common path stays small. */
static __attribute__((noinline)) int expr_test(fx_session *s, const fx_test *t,
                                               const fx_rule_def *rule, fx_fact *const *facts,
                                               uint32_t nfacts, fx_fact *right, uint32_t rdepth,
                                               fx_val *b)
{
	mctx m = {rule, facts, nfacts, right, rdepth};
	if (eval_in(s, &m, t->expr, b) != 0)
		return 0;
	return t->kind == FX_T_EXPR || fx_val_truthy(*b);
}

/* Orderings of two integers, the usual case of <, <= ... between slots. */
static inline int int_order(uint8_t op, int64_t x, int64_t y)
{
	switch (op) {
	case FX_C_LT: return x < y;
	case FX_C_LE: return x <= y;
	case FX_C_GT: return x > y;
	case FX_C_GE: return x >= y;
	case FX_C_EQ: return x == y;
	case FX_C_NE: return x != y;
	default: return -1;
	}
}

static int run_tests_slow(fx_session *s, const fx_test *tests, uint32_t n, const fx_rule_def *rule,
                          fx_fact *const *facts, uint32_t nfacts, fx_fact *right, uint32_t rdepth)
{
	for (uint32_t i = 0; i < n; i++) {
		const fx_test *t = &tests[i];
		fx_val a = right ? right->slots[t->slot] : fx_val_nil(), b;
		switch ((fx_test_kind)t->kind) {
		case FX_T_CONST:
			b = t->k;
			break;
		case FX_T_SLOT:
			b = t->vslot == FX_FACT_ID ? fx_val_int((int64_t)right->id) : right->slots[t->vslot];
			break;
		case FX_T_VAR: {
			fx_fact *f = t->depth < nfacts ? facts[t->depth] : NULL;
			if (!f)
				return 0;
			b = t->vslot == FX_FACT_ID ? fx_val_int((int64_t)f->id) : f->slots[t->vslot];
			break;
		}
		case FX_T_EXPR:
			if (!expr_test(s, t, rule, facts, nfacts, right, rdepth, &b))
				return 0;
			break;
		case FX_T_BOOL:
			if (!expr_test(s, t, rule, facts, nfacts, right, rdepth, &b))
				return 0;
			continue;
		default:
			return 0;
		}
		if (a.type == FX_INTEGER && b.type == FX_INTEGER) {
			int r = int_order(t->op, a.u.i, b.u.i);
			if (r == 0)
				return 0;
			if (r == 1)
				continue;
		}
		if (!apply_op(s, t, a, b))
			return 0;
	}
	return 1;
}

static inline int run_tests(fx_session *s, const fx_test *tests, uint32_t n,
                            const fx_rule_def *rule, fx_fact *const *facts, uint32_t nfacts,
                            fx_fact *right, uint32_t rdepth)
{
	return n == 0 || run_tests_slow(s, tests, n, rule, facts, nfacts, right, rdepth);
}

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

static uint32_t left_hash(const fx_node *n, fx_fact *const *facts)
{
	uint32_t h = 0x811c9dc5u;
	for (uint32_t i = 0; i < n->nkeys; i++)
		h = mix(h, key_hash(facts[n->kdepth[i]]->slots[n->kslot[i]]));
	return h;
}

static uint32_t right_hash(const uint32_t *rslot, uint32_t nk, const fx_fact *f)
{
	uint32_t h = 0x811c9dc5u;
	for (uint32_t i = 0; i < nk; i++)
		h = mix(h, key_hash(f->slots[rslot[i]]));
	return h;
}

static inline int keys_equal(const fx_node *n, fx_fact *const *facts, const fx_fact *f)
{
	for (uint32_t i = 0; i < n->nkeys; i++)
		if (!key_eq(facts[n->kdepth[i]]->slots[n->kslot[i]], f->slots[n->rslot[i]]))
			return 0;
	return 1;
}

/* --- hashed memories ---------------------------------------------------------------------- */

/* Buckets are (head, tail) pairs and chains keep insertion order: joins visit the oldest
 * partial matches first, so under the depth strategy the activations made from the newest
 * ones end up on top, as in CLIPS. */
#define B_HEAD(t, b) ((t)->buckets[2 * (b)])
#define B_TAIL(t, b) ((t)->buckets[2 * (b) + 1])

static int htab_init(fx_htab *t, uint32_t n)
{
	t->buckets = calloc(2 * (size_t)n, sizeof *t->buckets);
	t->nbuckets = t->buckets ? n : 0;
	t->count = 0;
	return t->buckets ? 0 : FX_ENOMEM;
}

static inline void tok_append(fx_htab *t, uint32_t b, fx_token *k)
{
	fx_token *tail = B_TAIL(t, b);
	k->h_next = NULL;
	k->h_prev = tail;
	if (tail)
		tail->h_next = k;
	else
		B_HEAD(t, b) = k;
	B_TAIL(t, b) = k;
}

static void tok_htab_grow(fx_htab *t)
{
	fx_htab n;
	if (htab_init(&n, t->nbuckets * 4) != 0)
		return; /* stay slower, still correct */
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		fx_token *k = B_HEAD(t, i);
		while (k) {
			fx_token *next = k->h_next;
			tok_append(&n, k->hash & (n.nbuckets - 1), k);
			k = next;
		}
	}
	free(t->buckets);
	t->buckets = n.buckets;
	t->nbuckets = n.nbuckets;
}

static inline void tok_insert(fx_session *s, fx_token *k)
{
	fx_htab *t = &s->bmems[k->node->id].tab;
	if (k->node->nkeys && t->count >= t->nbuckets)
		tok_htab_grow(t);
	tok_append(t, k->node->nkeys ? k->hash & (t->nbuckets - 1) : 0, k);
	t->count++;
}

static inline void tok_unlink(fx_session *s, fx_token *k)
{
	fx_htab *t = &s->bmems[k->node->id].tab;
	uint32_t b = k->node->nkeys ? k->hash & (t->nbuckets - 1) : 0;
	if (k->h_prev)
		k->h_prev->h_next = k->h_next;
	else
		B_HEAD(t, b) = k->h_next;
	if (k->h_next)
		k->h_next->h_prev = k->h_prev;
	else
		B_TAIL(t, b) = k->h_prev;
	t->count--;
}

static fx_token *tok_bucket(fx_session *s, const fx_node *n, uint32_t hash)
{
	fx_htab *t = &s->bmems[n->id].tab;
	return B_HEAD(t, n->nkeys ? hash & (t->nbuckets - 1) : 0);
}

static void ent_append(fx_htab *t, uint32_t ix, uint32_t b, fx_aentry *e)
{
	fx_aentry *tail = B_TAIL(t, b);
	e->hl[ix].next = NULL;
	e->hl[ix].prev = tail;
	if (tail)
		tail->hl[ix].next = e;
	else
		B_HEAD(t, b) = e;
	B_TAIL(t, b) = e;
}

static void ent_grow(fx_htab *t, uint32_t ix)
{
	fx_htab n;
	if (htab_init(&n, t->nbuckets * 4) != 0)
		return;
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		fx_aentry *e = B_HEAD(t, i);
		while (e) {
			fx_aentry *next = e->hl[ix].next;
			ent_append(&n, ix, e->hl[ix].hash & (n.nbuckets - 1), e);
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = n.buckets;
	t->nbuckets = n.nbuckets;
}

static size_t entry_size(const fx_amem *a)
{
	return sizeof(fx_aentry) + a->nindex * sizeof(fx_hlink);
}

static size_t token_size(uint32_t nfacts)
{
	return sizeof(fx_token) + nfacts * sizeof(fx_fact *);
}

/* --- tokens ----------------------------------------------------------------------------- */

static void left_activate(fx_session *s, fx_token *t);
static void delete_token(fx_session *s, fx_token *t);

/* GCC would turn the short copy loops of emit into calls of memcpy and memset, which cost more
 * than the few pointers they move. */
#if defined(__GNUC__) && !defined(__clang__)
#define FX_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define FX_NO_LIBCALLS
#endif

/* Make the token for node c from parent (and fact f matched at depth), then activate c. */
static FX_NO_LIBCALLS void emit(fx_session *s, const fx_node *c, fx_token *parent, fx_fact *f, uint32_t depth)
{
	uint32_t n = c->in_nfacts;
	fx_token *t = fx_pool_alloc(&s->pool, token_size(n));
	if (!t) {
		s->oom = 1;
		return;
	}
	t->node = c;
	t->parent = parent;
	t->fact = f;
	t->child = NULL;
	t->sib_prev = NULL;
	t->f_prev = NULL;
	t->a_next = t->a_prev = NULL;
	t->hash = 0;
	t->count = 0;
	t->blocker = NULL;
	t->flags = 0;
	t->nfacts = (uint16_t)n;
	uint32_t pn = parent->nfacts < n ? parent->nfacts : n, i = 0;
	fx_fact **d = t->facts;
	fx_fact *const *p = parent->facts;
	for (; i + 4 <= pn; i += 4) {
		d[i] = p[i];
		d[i + 1] = p[i + 1];
		d[i + 2] = p[i + 2];
		d[i + 3] = p[i + 3];
	}
	for (; i < pn; i++)
		d[i] = p[i];
	/* Usually the joined fact simply extends the array by one. */
	if (f && depth == pn && n == pn + 1) {
		d[pn] = f;
	} else {
		for (; i < n; i++)
			d[i] = NULL;
		if (f && depth < n)
			d[depth] = f;
	}
	/* A TEST node keeps only the tokens that pass: a failing one would never do anything. */
	if (c->kind == FX_N_TEST &&
	    !run_tests(s, c->tests, c->ntests, c->rule, t->facts, n, NULL, ~0u)) {
		fx_pool_free(&s->pool, t, token_size(n));
		return;
	}
	t->sib_next = parent->child;
	if (parent->child)
		parent->child->sib_prev = t;
	parent->child = t;
	if (f) {
		t->f_next = f->tokens;
		if (f->tokens)
			f->tokens->f_prev = t;
		f->tokens = t;
	}
	if (c->nkeys)
		t->hash = left_hash(c, t->facts);
	tok_insert(s, t);
	left_activate(s, t);
}

/* n's output goes to each of its kids (several when rules share n). */
static inline void emit_kids(fx_session *s, const fx_node *n, fx_token *parent, fx_fact *f,
                             uint32_t depth)
{
	if (n->nkids == 1) {
		emit(s, n->kids[0], parent, f, depth);
		return;
	}
	for (uint32_t i = 0; i < n->nkids; i++)
		emit(s, n->kids[i], parent, f, depth);
}

/* Count (or, for JOIN, extend through) the right facts that match token t at node n. */
static uint32_t join_right(fx_session *s, const fx_node *n, fx_token *t, int do_emit)
{
	fx_amem_rt *am = &s->amems[n->amem->id];
	uint32_t count = 0;
	if (n->nkeys) {
		fx_htab *ix = &am->index[n->aindex];
		fx_aentry *e = B_HEAD(ix, t->hash & (ix->nbuckets - 1));
		uint32_t a = n->aindex;
		while (e) {
			fx_aentry *next = e->hl[a].next;
			if (e->hl[a].hash == t->hash && keys_equal(n, t->facts, e->fact) &&
			    run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, e->fact, n->depth)) {
				count++;
				if (do_emit)
					emit_kids(s, n, t, e->fact, n->depth);
			}
			e = next;
		}
	} else {
		fx_aentry *e = am->head;
		while (e) {
			fx_aentry *next = e->next;
			if (run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, e->fact, n->depth)) {
				count++;
				if (do_emit)
					emit_kids(s, n, t, e->fact, n->depth);
			}
			e = next;
		}
	}
	return count;
}

/* NEG nodes keep, instead of a count, the first matching fact found: its blocker (as CLIPS
 * does). A blocked token needs no further tests when more matching facts arrive, and a left
 * activation stops at the first match: a `not` over many facts costs one hit, not a scan. */
static fx_fact *find_blocker(fx_session *s, const fx_node *n, const fx_token *t)
{
	fx_amem_rt *am = &s->amems[n->amem->id];
	if (n->nkeys) {
		fx_htab *ix = &am->index[n->aindex];
		uint32_t a = n->aindex;
		for (fx_aentry *e = B_HEAD(ix, t->hash & (ix->nbuckets - 1)); e; e = e->hl[a].next)
			if (e->hl[a].hash == t->hash && keys_equal(n, t->facts, e->fact) &&
			    run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, e->fact, n->depth))
				return e->fact;
	} else {
		for (fx_aentry *e = am->head; e; e = e->next)
			if (run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, e->fact, n->depth))
				return e->fact;
	}
	return NULL;
}

/* For explanations, not the match path: a blocker search made from outside must leave no
 * trace, so the error record and the error count that a failing test would touch are kept. */
fx_fact *fx_rete_first_match(fx_session *s, const fx_node *n, const fx_token *t)
{
	if (!s || !n || !t || !n->amem || (n->kind != FX_N_NEG && n->kind != FX_N_EXISTS))
		return NULL;
	fx_error saved = s->err;
	uint64_t errors = s->match_errors;
	fx_error_init(&s->err);
	fx_fact *f = find_blocker(s, n, t);
	fx_error_dispose(&s->err);
	s->err = saved;
	s->match_errors = errors;
	return f;
}

static void block(fx_token *t, fx_fact *f)
{
	t->blocker = f;
	t->b_next = NULL;
	t->b_prev = f->blocked_tail;
	if (f->blocked_tail)
		f->blocked_tail->b_next = t;
	else
		f->blocked = t;
	f->blocked_tail = t;
}

static void unblock(fx_token *t)
{
	fx_fact *f = t->blocker;
	if (t->b_prev)
		t->b_prev->b_next = t->b_next;
	else
		f->blocked = t->b_next;
	if (t->b_next)
		t->b_next->b_prev = t->b_prev;
	else
		f->blocked_tail = t->b_prev;
	t->blocker = NULL;
}

static fx_token *ncc_owner(fx_token *t, const fx_node *ncc)
{
	while (t && t->node != ncc)
		t = t->parent;
	return t;
}

/* Delete the children of t that live in node n (or all children when n is NULL). */
static void delete_children(fx_session *s, fx_token *t, const fx_node *n)
{
	fx_token *c = t->child;
	while (c) {
		fx_token *next = c->sib_next;
		if (!n || c->node == n) {
			delete_token(s, c);
			/* deleting may have removed other children: restart from the head */
			c = t->child;
			continue;
		}
		c = next;
	}
}

/* A NEG, EXISTS, TEST or NCC node lets token t through. When its successor is the rule's
 * terminal, t itself becomes the activation (no copy): `direct` nodes. */
static inline void pass(fx_session *s, const fx_node *n, fx_token *t)
{
	if (n->direct) {
		if (!(t->flags & FX_TOK_AGENDA)) {
			t->flags &= (uint16_t)~FX_TOK_FIRED;
			fx_agenda_add(s, t);
		}
	} else
		emit_kids(s, n, t, NULL, 0);
}

/* ... and takes it back: its activation, or the tokens it made downstream. */
static void unpass(fx_session *s, const fx_node *n, fx_token *t)
{
	if (n->direct) {
		if (t->flags & FX_TOK_AGENDA)
			fx_agenda_remove(s, t);
		/* a direct token stays in memory when blocked: what its firing supported goes now */
		if (t->flags & (FX_TOK_SUPPORT | FX_TOK_FIRING))
			fx_session_tms_gone(s, t);
	} else
		delete_children(s, t, n->kind == FX_N_NCC ? n->child : NULL);
}

static void left_activate(fx_session *s, fx_token *t)
{
	const fx_node *n = t->node;
	switch (n->kind) {
	case FX_N_JOIN:
		join_right(s, n, t, 1);
		break;
	case FX_N_NEG: {
		fx_fact *b = find_blocker(s, n, t);
		if (b)
			block(t, b);
		else
			pass(s, n, t);
		break;
	}
	case FX_N_EXISTS:
		t->count = join_right(s, n, t, 0);
		if (t->count > 0)
			pass(s, n, t);
		break;
	case FX_N_TEST:
		/* emit tested it already; only a root token (a rule starting with a test) is new */
		if (t->parent || run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, NULL, ~0u))
			pass(s, n, t);
		break;
	case FX_N_NCC:
		t->count = 0;
		t->flags |= FX_TOK_BUSY;
		emit(s, n->sub, t, NULL, 0);
		t->flags &= (uint16_t)~FX_TOK_BUSY;
		if ((t->count == 0) != (n->exists != 0))
			pass(s, n, t);
		break;
	case FX_N_PARTNER: {
		fx_token *owner = ncc_owner(t->parent, n->ncc);
		if (!owner)
			break;
		owner->count++;
		if (owner->count == 1 && !(owner->flags & FX_TOK_BUSY)) {
			if (n->ncc->exists)
				pass(s, n->ncc, owner);
			else
				unpass(s, n->ncc, owner);
		}
		break;
	}
	case FX_N_TERMINAL:
		fx_agenda_add(s, t);
		break;
	}
}

/* Delete t and its subtree. A child of a token being deleted skips unlinking itself from its
 * siblings: the whole list goes. */
static void delete_tree(fx_session *s, fx_token *t, int parent_dying)
{
	t->flags |= FX_TOK_DYING;
	fx_token *c = t->child;
	while (c) {
		fx_token *next = c->sib_next;
		delete_tree(s, c, 1);
		c = next;
	}
	const fx_node *n = t->node;
	if (t->flags & (FX_TOK_SUPPORT | FX_TOK_FIRING))
		fx_session_tms_gone(s, t);
	if (t->flags & FX_TOK_AGENDA) {
		fx_agenda_remove(s, t);
	} else if (n->kind == FX_N_PARTNER) {
		fx_token *owner = ncc_owner(t->parent, n->ncc);
		if (owner && !(owner->flags & FX_TOK_DYING) && owner->count > 0) {
			owner->count--;
			if (owner->count == 0) {
				if (n->ncc->exists)
					unpass(s, n->ncc, owner);
				else
					pass(s, n->ncc, owner);
			}
		}
	}
	if (t->blocker)
		unblock(t);
	tok_unlink(s, t);
	if (t->parent && !parent_dying) {
		if (t->sib_prev)
			t->sib_prev->sib_next = t->sib_next;
		else
			t->parent->child = t->sib_next;
		if (t->sib_next)
			t->sib_next->sib_prev = t->sib_prev;
	}
	if (t->fact) {
		if (t->f_prev)
			t->f_prev->f_next = t->f_next;
		else
			t->fact->tokens = t->f_next;
		if (t->f_next)
			t->f_next->f_prev = t->f_prev;
	}
	fx_pool_free(&s->pool, t, token_size(t->nfacts));
}

static void delete_token(fx_session *s, fx_token *t)
{
	delete_tree(s, t, 0);
}

/* --- alpha ------------------------------------------------------------------------------- */

static int alpha_pass(fx_session *s, const fx_amem *a, fx_fact *f)
{
	return run_tests(s, a->tests, a->ntests, a->rule, NULL, 0, f, a->depth);
}

/* f enters memory a; then a's successors see it, deepest first. */
static void amem_add(fx_session *s, const fx_amem *a, fx_fact *f)
{
	fx_amem_rt *am = &s->amems[a->id];
	fx_aentry *e = fx_pool_alloc(&s->pool, entry_size(a));
	if (!e) {
		s->oom = 1;
		return;
	}
	e->fact = f;
	e->amem = a;
	e->next = NULL;
	e->prev = am->tail;
	if (am->tail)
		am->tail->next = e;
	else
		am->head = e;
	am->tail = e;
	am->count++;
	e->f_next = f->entries;
	f->entries = e;
	for (uint32_t i = 0; i < a->nindex; i++) {
		fx_htab *ix = &am->index[i];
		if (ix->count >= ix->nbuckets)
			ent_grow(ix, i);
		uint32_t h = right_hash(a->index_slots[i], a->index_nslots[i], f);
		e->hl[i].hash = h;
		ent_append(ix, i, h & (ix->nbuckets - 1), e);
		ix->count++;
	}
	for (uint32_t i = 0; i < a->nsucc; i++) {
		const fx_node *n = a->succ[i];
		uint32_t nk = n->nkeys;
		uint32_t h = nk ? e->hl[n->aindex].hash : 0;
		fx_token *t = tok_bucket(s, n, h);
		int neg = n->kind == FX_N_NEG;
		while (t) {
			fx_token *next = t->h_next;
			if (neg && t->blocker) {
				t = next; /* blocked already: one blocker is enough */
				continue;
			}
			if ((!nk || (t->hash == h && keys_equal(n, t->facts, f))) &&
			    run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, f, n->depth)) {
				if (n->kind == FX_N_JOIN)
					emit_kids(s, n, t, f, n->depth);
				else if (neg) {
					block(t, f);
					unpass(s, n, t);
				} else if (++t->count == 1)
					pass(s, n, t);
			}
			t = next;
		}
	}
}

static void amem_unlink(fx_session *s, fx_aentry *e)
{
	const fx_amem *a = e->amem;
	fx_amem_rt *am = &s->amems[a->id];
	if (e->prev)
		e->prev->next = e->next;
	else
		am->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		am->tail = e->prev;
	am->count--;
	for (uint32_t i = 0; i < a->nindex; i++) {
		fx_htab *ix = &am->index[i];
		uint32_t b = e->hl[i].hash & (ix->nbuckets - 1);
		if (e->hl[i].prev)
			e->hl[i].prev->hl[i].next = e->hl[i].next;
		else
			B_HEAD(ix, b) = e->hl[i].next;
		if (e->hl[i].next)
			e->hl[i].next->hl[i].prev = e->hl[i].prev;
		else
			B_TAIL(ix, b) = e->hl[i].prev;
		ix->count--;
	}
}

int fx_rete_assert(fx_session *s, fx_fact *f)
{
	const fx_tdispatch *d = &s->net->dispatch[f->tmpl];
	for (uint32_t i = 0; i < d->nislots; i++) {
		uint32_t slot = d->islots[i];
		fx_val v = f->slots[slot];
		uint32_t h = dispatch_hash(slot, v) & (d->tablecap - 1);
		for (const fx_dispatch_entry *e = d->table[h]; e; e = e->next) {
			if (e->slot != slot || !fx_val_eq(e->value, v))
				continue;
			for (uint32_t k = 0; k < e->namems; k++)
				if (alpha_pass(s, e->amems[k], f))
					amem_add(s, e->amems[k], f);
			break;
		}
	}
	for (uint32_t i = 0; i < d->nrest; i++)
		if (alpha_pass(s, d->rest[i], f))
			amem_add(s, d->rest[i], f);
	return s->oom ? FX_ENOMEM : 0;
}

int fx_rete_retract(fx_session *s, fx_fact *f)
{
	/* 1: out of the alpha memories, so nothing new joins it; 2: the tokens made from it go;
	 * 3: negations that it blocked look for another blocker, or pass; exists nodes it
	 * supported re-count. */
	for (fx_aentry *e = f->entries; e; e = e->f_next)
		amem_unlink(s, e);
	while (f->tokens)
		delete_token(s, f->tokens);
	while (f->blocked) {
		fx_token *t = f->blocked;
		unblock(t);
		fx_fact *b = find_blocker(s, t->node, t);
		if (b)
			block(t, b);
		else
			pass(s, t->node, t);
	}
	fx_aentry *e = f->entries;
	f->entries = NULL;
	while (e) {
		fx_aentry *next = e->f_next;
		const fx_amem *a = e->amem;
		for (uint32_t i = 0; i < a->nsucc; i++) {
			const fx_node *n = a->succ[i];
			if (n->kind != FX_N_EXISTS)
				continue;
			uint32_t nk = n->nkeys;
			uint32_t h = nk ? e->hl[n->aindex].hash : 0;
			fx_token *t = tok_bucket(s, n, h);
			while (t) {
				fx_token *tn = t->h_next;
				if ((!nk || (t->hash == h && keys_equal(n, t->facts, f))) && t->count > 0 &&
				    run_tests(s, n->tests, n->ntests, n->rule, t->facts, t->nfacts, f, n->depth)) {
					if (--t->count == 0)
						unpass(s, n, t);
				}
				t = tn;
			}
		}
		fx_pool_free(&s->pool, e, entry_size(a));
		e = next;
	}
	return s->oom ? FX_ENOMEM : 0;
}

/* --- session setup ------------------------------------------------------------------------- */

void fx_rete_session_init(fx_session *s)
{
	const fx_net *net = s->net;
	for (uint32_t r = 0; r < s->prog->nrules; r++) {
		const fx_node *first = net->first[r];
		if (!first || s->bmems[first->id].tab.count)
			continue; /* shared with an earlier rule, which made its root token */
		fx_token *t = fx_pool_alloc(&s->pool, token_size(0));
		if (!t) {
			s->oom = 1;
			return;
		}
		memset(t, 0, sizeof *t);
		t->node = first;
		s->roots[r] = t;
		tok_insert(s, t);
		left_activate(s, t);
	}
}

void fx_rete_session_clear(fx_session *s)
{
	for (uint32_t r = 0; r < s->prog->nrules; r++) {
		if (s->roots[r]) {
			delete_token(s, s->roots[r]);
			s->roots[r] = NULL;
		}
	}
	for (fx_fact *f = s->first; f; f = f->next) {
		fx_aentry *e = f->entries;
		while (e) {
			fx_aentry *next = e->f_next;
			amem_unlink(s, e);
			fx_pool_free(&s->pool, e, entry_size(e->amem));
			e = next;
		}
		f->entries = NULL;
	}
}

int fx_rete_session_alloc(fx_session *s)
{
	const fx_net *net = s->net;
	s->amems = calloc(net->namems + 1, sizeof *s->amems);
	s->bmems = calloc(net->nnodes + 1, sizeof *s->bmems);
	s->roots = calloc(s->prog->nrules + 1, sizeof *s->roots);
	if (!s->amems || !s->bmems || !s->roots)
		return FX_ENOMEM;
	for (uint32_t i = 0; i < net->namems; i++) {
		const fx_amem *a = net->amems[i];
		if (!a->nindex)
			continue;
		s->amems[i].index = calloc(a->nindex, sizeof(fx_htab));
		if (!s->amems[i].index)
			return FX_ENOMEM;
		for (uint32_t k = 0; k < a->nindex; k++)
			if (htab_init(&s->amems[i].index[k], 16) != 0)
				return FX_ENOMEM;
	}
	for (uint32_t i = 0; i < net->nnodes; i++)
		if (htab_init(&s->bmems[i].tab, net->nodes[i]->nkeys ? 16 : 1) != 0)
			return FX_ENOMEM;
	return 0;
}

void fx_rete_session_free(fx_session *s)
{
	const fx_net *net = s->net;
	if (s->amems) {
		for (uint32_t i = 0; i < net->namems; i++) {
			if (!s->amems[i].index)
				continue;
			for (uint32_t k = 0; k < net->amems[i]->nindex; k++)
				free(s->amems[i].index[k].buckets);
			free(s->amems[i].index);
		}
	}
	if (s->bmems)
		for (uint32_t i = 0; i < net->nnodes; i++)
			free(s->bmems[i].tab.buckets);
	free(s->amems);
	free(s->bmems);
	free(s->roots);
	s->amems = NULL;
	s->bmems = NULL;
	s->roots = NULL;
}
