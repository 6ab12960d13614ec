/* session.h: a session's state (working memory, run-time Rete memories, agenda) shared by
 * session.c, rete.c and agenda.c. Single-threaded; the kb it runs is shared and read-only. */
#ifndef FX_SESSION_H
#define FX_SESSION_H

#include "fixit.h"
#include "kb.h"
#include "rete.h"
#include "diag.h"
#include "buf.h"

/* One hashed view of a memory (alpha index or beta left memory). */
typedef struct fx_htab {
	void **buckets;            /* (head, tail) of each bucket list; nbuckets a power of two */
	uint32_t nbuckets;
	uint32_t count;
} fx_htab;

/* An alpha memory's run-time contents. */
typedef struct fx_amem_rt {
	fx_aentry *head, *tail;    /* every entry, oldest first */
	uint32_t count;
	fx_htab *index;            /* one per hashed view (amem->nindex) */
} fx_amem_rt;

/* Membership of one fact in one alpha memory, with its links in each hashed view. */
typedef struct fx_hlink {
	struct fx_aentry *next, *prev;
	uint32_t hash;
} fx_hlink;

struct fx_aentry {
	fx_fact *fact;
	const fx_amem *amem;
	fx_aentry *next, *prev;    /* all entries of the memory */
	fx_aentry *f_next;         /* the fact's other memberships */
	fx_hlink hl[];             /* one per hashed view */
};

/* A beta node's run-time left memory. */
typedef struct fx_bmem_rt {
	fx_htab tab;
} fx_bmem_rt;

/* Size-class free lists, so the churn of tokens and entries does not hit malloc. */
typedef struct fx_pool {
	void **free;               /* per class of 16 bytes */
	uint32_t nclasses;
	size_t live;               /* bytes handed out, for statistics */
	size_t peak;
} fx_pool;

typedef struct fx_agenda {
	fx_token **head, **tail;   /* per salience level */
	uint32_t nlevels;
	uint32_t count;
	uint64_t seq;              /* activation counter */
} fx_agenda;

#define FX_RECENT_RING 1024

/* One logical support of a fact (truth maintenance): the firing of a rule's activation, or an
 * answer fact. Kept on the fact's list and on its supporter's list (the session's jmap). */
typedef struct fx_just {
	fx_fact *fact;             /* the fact supported */
	const void *by;            /* the supporter: an fx_token (rule) or an fx_fact (answer) */
	uint32_t rule;             /* the rule that fired, or FX_JUST_ANSWER */
	uint32_t nids;
	struct fx_just *f_next;    /* the fact's other supports */
	struct fx_just *s_next;    /* the supporter's other supported facts; the withdrawal queue */
	uint64_t ids[];            /* rule: the fact ids matched, in pattern order; answer: its id */
} fx_just;

#define FX_JUST_ANSWER 0xffffffffu

/* Supporter -> its justifications: open addressing on the pointer, backward-shift deletion. */
typedef struct fx_jmap_entry {
	const void *key;
	fx_just *list;
} fx_jmap_entry;

struct fx_session {
	fx_kb *kb;
	const fx_program *prog;
	const fx_net *net;
	fx_atoms atoms;            /* texts made at run time (parent: the kb's) */
	fx_pool pool;
	/* working memory */
	uint64_t next_id;
	uint64_t clock;            /* recency tags */
	fx_fact **byid;            /* open addressing on id */
	uint32_t byid_cap, nfacts;
	fx_fact **dups;            /* content hash table, chained through dup_next */
	uint32_t dups_cap;
	fx_fact *first, *last;     /* live facts in id order */
	/* rete */
	fx_amem_rt *amems;
	fx_bmem_rt *bmems;
	fx_token **roots;          /* per rule */
	fx_agenda agenda;
	fx_strategy strategy;
	/* running */
	uint64_t firings;
	uint64_t default_limit;
	int halted;
	int firing;                /* inside an activation's actions */
	uint32_t recent[FX_RECENT_RING]; /* rule index of recent firings, for cycle reports */
	/* callbacks */
	fx_trace_fn trace;
	void *trace_ud;
	fx_output_fn output;
	void *output_ud;
	fx_diag_fn warn;           /* non-fatal problems of fx_text_assert (fx_session_set_warn) */
	void *warn_ud;
	struct fx_text_state *text; /* text.c's state: match scratch, provenance; NULL until used */
	/* errors and scratch */
	fx_error err;
	fx_buf msg;
	uint64_t *idbuf;           /* fact ids handed out by agenda_get and traces */
	size_t idcap;
	int oom;                   /* an allocation failed inside the network: state is suspect */
	uint64_t match_errors;     /* expression errors while matching (each fails its test) */
	/* truth maintenance (session.c) */
	uint32_t t_finding, t_recommend, t_ask, t_answer, t_tried; /* prelude templates, ~0u if none */
	uint8_t *rule_tms;         /* per rule: 1 when its firings support what they assert */
	fx_jmap_entry *jmap;       /* supporter -> justifications; cap a power of two, or 0 */
	uint32_t jmap_cap, jmap_count;
	fx_just *jqueue;           /* justifications withdrawn, waiting for fx_session_tms_drain */
	fx_token *fire_token;      /* the activation firing, when its rule's asserts are logical */
	int fire_dead;             /* that activation's partial match went during the firing */
	int draining;
	struct fx_explain_state *expl; /* explain.c's scratch; NULL until used */
};

#define FX_POOL_CLASSES 64 /* objects up to 1 KiB are recycled; larger go straight to malloc */

void *fx_pool_alloc_slow(fx_pool *p, size_t size);
void fx_pool_free_slow(fx_pool *p, void *ptr, size_t size);

/* Inline: tokens and entries are made and dropped millions of times a second. */
static inline void *fx_pool_alloc(fx_pool *p, size_t size)
{
	p->live += size;
	if (p->live > p->peak)
		p->peak = p->live;
#ifndef FX_ARENA_MALLOC
	size_t c = (size + 15) / 16;
	if (c < FX_POOL_CLASSES) {
		void *x = p->free[c];
		if (x) {
			p->free[c] = *(void **)x;
			return x;
		}
	}
#endif
	return fx_pool_alloc_slow(p, size);
}

static inline void fx_pool_free(fx_pool *p, void *ptr, size_t size)
{
	p->live -= size;
#ifndef FX_ARENA_MALLOC
	size_t c = (size + 15) / 16;
	if (c < FX_POOL_CLASSES) {
		*(void **)ptr = p->free[c];
		p->free[c] = ptr;
		return;
	}
#endif
	fx_pool_free_slow(p, ptr, size);
}

/* Agenda (agenda.c) */
int fx_agenda_init(fx_agenda *a, uint32_t nlevels);
void fx_agenda_dispose(fx_agenda *a);
void fx_agenda_add(fx_session *s, fx_token *t);
void fx_agenda_remove(fx_session *s, fx_token *t);
fx_token *fx_agenda_pop(fx_session *s);

/* Assert a fact from complete, already typed slot values (one per slot of tmpl), for text.c.
 * Returns 0 and *id for a new fact, 1 and the id of the identical fact already present, or a
 * negative code. */
int fx_session_assert_vals(fx_session *s, uint32_t tmpl, const fx_val *v, uint64_t *id);

/* Truth maintenance (session.c). A token flagged FX_TOK_SUPPORT or FX_TOK_FIRING stopped
 * being a match (deleted, or a direct token blocked): queue what it supported. */
void fx_session_tms_gone(fx_session *s, fx_token *t);
/* Retract the facts left without support by queued withdrawals (cascading). */
int fx_session_tms_drain(fx_session *s);
/* Fact by id, or NULL. */
fx_fact *fx_session_fact_get(const fx_session *s, uint64_t id);

/* Trace helpers (session.c) */
void fx_session_emit(fx_session *s, fx_event ev, const fx_fact *f, const fx_token *t);
const uint64_t *fx_session_token_ids(fx_session *s, const fx_token *t, size_t *n);

#endif
