/* rete.h: the compiled match network (built once per kb from the fx_program, immutable, shared
 * by all sessions) and the run-time structures a session keeps for it: facts, alpha memory
 * entries and tokens. See the essay at the top of rete.c. */
#ifndef FX_RETE_H
#define FX_RETE_H

#include <stdint.h>
#include "ast.h"
#include "expr.h"
#include "arena.h"

struct fx_session;

/* --- Facts --------------------------------------------------------------------------------- */
typedef struct fx_fact {
	uint64_t id;               /* stable across modify */
	uint64_t time;             /* recency tag: bumped on assert and modify (LEX/MEA) */
	uint32_t tmpl;
	uint32_t refs;             /* working memory holds one; each firing that uses it one more */
	uint32_t hash;             /* hash of template and slot values, for duplicate detection */
	uint8_t live;              /* 1 while in working memory */
	uint8_t origin;            /* FX_ORIGIN_*: why it stays unconditionally, or NONE when only
	                              its justifications keep it (truth maintenance, session.c) */
	uint16_t orule;            /* FX_ORIGIN_RULE: index + 1 of the rule (without logical) that
	                              asserted it, 0 when unknown or the index does not fit */
	struct fx_fact *dup_next;  /* chain in the session's content table */
	struct fx_fact *prev, *next; /* live facts in id order */
	struct fx_aentry *entries; /* the alpha memories holding it (via fx_aentry.f_next) */
	struct fx_token *tokens;   /* tokens made by joining this fact (via fx_token.f_next) */
	struct fx_token *blocked, *blocked_tail; /* NEG tokens this fact blocks (via b_next) */
	struct fx_just *just;      /* its logical supports, newest first (via fx_just.f_next) */
	fx_val slots[];
} fx_fact;

/* Unconditional origins of a fact (fx_fact.origin, low bits); a fact asserted again keeps the
 * first. FX_ORIGIN_SUPPORTS is a flag: the fact supports others (an answer's facts). */
enum {
	FX_ORIGIN_NONE = 0,
	FX_ORIGIN_USER,
	FX_ORIGIN_INITIAL,
	FX_ORIGIN_RULE,
	FX_ORIGIN_TEXT,
	FX_ORIGIN_ANSWER,
	FX_ORIGIN_MASK = 0x7f,
	FX_ORIGIN_SUPPORTS = 0x80
};

/* --- Tests ----------------------------------------------------------------------------------
 * One compiled test of a slot of the fact being matched (the "right" fact) against a constant,
 * another slot of the same fact, a variable bound by an earlier pattern, or an expression. */
typedef enum fx_test_kind {
	FX_T_CONST,      /* slot OP constant (or list / regex / text held by the constraint) */
	FX_T_SLOT,       /* slot OP another slot of the same fact (intra-pattern variable) */
	FX_T_VAR,        /* slot OP variable from an earlier pattern: token->facts[depth] slot vslot */
	FX_T_EXPR,       /* slot OP value of an expression */
	FX_T_BOOL        /* expression is true (test: and {test:}) */
} fx_test_kind;

typedef struct fx_test {
	uint8_t kind;              /* fx_test_kind */
	uint8_t op;                /* fx_cons_op */
	uint32_t slot;             /* slot of the right fact */
	uint32_t depth, vslot;     /* FX_T_VAR: where the variable lives; FX_T_SLOT: vslot only;
	                              vslot == FX_FACT_ID means the fact's id (an `as:` variable) */
	fx_val k;                  /* FX_T_CONST with a plain operand */
	const fx_constraint *c;    /* list, regex, texts */
	const fx_expr *expr;       /* FX_T_EXPR, FX_T_BOOL */
} fx_test;

#define FX_FACT_ID 0xffffffffu

/* --- Alpha network --------------------------------------------------------------------------- */
/* An alpha memory: the facts of one template that pass a set of constant and intra-fact tests.
 * Memories with identical tests are shared between patterns and rules. */
typedef struct fx_amem {
	uint32_t id;               /* index into the session's run-time alpha memories */
	uint32_t tmpl;
	fx_test *tests;
	uint32_t ntests;
	uint32_t depth;            /* depth used by FX_T_EXPR/FX_T_BOOL tests to find this fact */
	const fx_rule_def *rule;   /* for expression tests: the rule whose variables they use */
	struct fx_node **succ;     /* join/negative nodes fed by this memory, deepest first */
	uint32_t nsucc;
	uint32_t **index_slots;    /* hashed views over the memory: the right key slots of each */
	uint32_t *index_nslots;
	uint32_t nindex;
} fx_amem;

/* Per template: how an asserted fact finds its alpha memories without trying them all.
 * Memories with an equality test on a constant are reached through a hash table keyed on
 * (slot, value); the others are tried one by one. */
typedef struct fx_dispatch_entry {
	uint32_t slot;
	fx_val value;
	fx_amem **amems;
	uint32_t namems;
	struct fx_dispatch_entry *next;
} fx_dispatch_entry;

typedef struct fx_tdispatch {
	uint32_t *islots;          /* distinct slots that some memory indexes on */
	uint32_t nislots;
	fx_dispatch_entry **table; /* hash on (slot, value) */
	uint32_t tablecap;
	fx_amem **rest;            /* memories without a constant equality test */
	uint32_t nrest;
} fx_tdispatch;

/* --- Beta network ---------------------------------------------------------------------------- */
typedef enum fx_node_kind {
	FX_N_JOIN,       /* positive pattern */
	FX_N_NEG,        /* not over one pattern: passes tokens with no match */
	FX_N_EXISTS,     /* exists over one pattern: passes tokens with at least one match */
	FX_N_TEST,       /* test: over the token's variables */
	FX_N_NCC,        /* not/exists over a conjunction: a subnetwork ending in a partner */
	FX_N_PARTNER,    /* end of an NCC subnetwork: counts results per owner token */
	FX_N_TERMINAL    /* a rule's activations */
} fx_node_kind;

typedef struct fx_node {
	fx_node_kind kind;
	uint32_t id;               /* index into the session's run-time beta memories */
	struct fx_node *parent;
	struct fx_node *child;     /* next node of the chain (for a shared node: of its first rule) */
	struct fx_node **kids;     /* every node fed by this one's output (shared join prefixes
	                              feed several rules), in creation order */
	uint32_t nkids;
	const fx_rule_def *rule;
	const fx_ce *ce;           /* the condition this node tests (NULL for terminal) */
	uint32_t in_nfacts;        /* length of facts[] in the tokens this node's memory holds */
	uint32_t depth;            /* JOIN/NEG/EXISTS: depth of the pattern's fact */
	fx_amem *amem;             /* JOIN, NEG, EXISTS */
	uint32_t aindex;           /* which hashed view of amem serves the key */
	/* Equality key: left value facts[kdepth[i]]->slots[kslot[i]] == right slot rslot[i]. */
	uint32_t nkeys;
	uint32_t *kdepth, *kslot, *rslot;
	fx_test *tests;            /* other join tests */
	uint32_t ntests;
	/* NCC and PARTNER */
	int exists;                /* NCC: 1 for exists, 0 for not */
	struct fx_node *sub;       /* NCC: first node of the subnetwork */
	struct fx_node *ncc;       /* PARTNER: its NCC */
	/* TERMINAL, and the node before it when `direct` */
	int direct;                /* NEG/EXISTS/TEST/NCC before the terminal: its passing tokens
	                              are the activations themselves */
	uint32_t level;            /* salience level index (agenda) */
	uint32_t nrecent;          /* MEA: depth of the first pattern, or ~0u */
} fx_node;

typedef struct fx_net {
	fx_amem **amems;
	uint32_t namems;
	fx_node **nodes;
	uint32_t nnodes;
	fx_node **first;           /* per rule: the node that receives the rule's root token */
	fx_node **terminal;        /* per rule */
	fx_tdispatch *dispatch;    /* per template */
	int32_t *levels;           /* distinct saliences, highest first */
	uint32_t nlevels;
	uint32_t max_index;        /* largest nindex of any amem */
} fx_net;

/* Compile prog into a network allocated in arena. 0 or FX_ENOMEM. */
int fx_rete_compile(fx_net *net, const fx_program *prog, fx_arena *arena);

/* --- Run time -------------------------------------------------------------------------------- */
typedef struct fx_aentry fx_aentry;

typedef struct fx_token {
	struct fx_token *parent;
	const fx_node *node;       /* whose memory holds it */
	fx_fact *fact;             /* the fact joined to make it, or NULL */
	struct fx_token *child, *sib_next, *sib_prev;
	struct fx_token *f_next, *f_prev;   /* list of tokens of `fact` */
	struct fx_token *h_next, *h_prev;   /* bucket in the node's memory */
	struct fx_token *a_next, *a_prev;   /* agenda list (terminal tokens) */
	uint64_t seq;              /* activation order */
	uint32_t hash;             /* key hash in the node's memory */
	uint32_t count;            /* EXISTS/NCC: number of matches */
	fx_fact *blocker;          /* NEG: the fact that blocks it (the first match found), or NULL */
	struct fx_token *b_next, *b_prev;   /* list of tokens `blocker` blocks */
	uint16_t flags;
	uint16_t nfacts;
	fx_fact *facts[];          /* indexed by pattern depth; NULL for negated/absent ones */
} fx_token;

enum {
	FX_TOK_DYING = 1,          /* being deleted: its children must not re-propagate it */
	FX_TOK_BUSY = 2,           /* NCC owner still being left-activated */
	FX_TOK_AGENDA = 4,         /* terminal token waiting on the agenda */
	FX_TOK_FIRED = 8,          /* terminal token already fired (refraction) */
	FX_TOK_SUPPORT = 16,       /* activation whose firing supports facts (truth maintenance) */
	FX_TOK_FIRING = 32         /* activation firing now, for a rule whose asserts are logical */
};

int fx_rete_session_alloc(struct fx_session *s); /* run-time memories for s->net */
void fx_rete_session_free(struct fx_session *s);
void fx_rete_session_init(struct fx_session *s);  /* create root tokens */
void fx_rete_session_clear(struct fx_session *s); /* drop every token and alpha entry */
/* Working-memory changes: the fact is already in (or still in) the session's tables. */
int fx_rete_assert(struct fx_session *s, fx_fact *f);
int fx_rete_retract(struct fx_session *s, fx_fact *f);

/* The first fact of NEG or EXISTS node n's alpha memory that passes n's join tests against
 * t, a token of n's memory (what blocks a `not`, a witness of an `exists`), or NULL. For
 * explanations: the session's error record and counters are left as they were. */
fx_fact *fx_rete_first_match(struct fx_session *s, const fx_node *n, const fx_token *t);

/* Evaluate a variable for an activation's token during actions (see session.c). */
int fx_rete_token_var(const fx_rule_def *rule, fx_fact *const *facts, uint32_t nfacts,
                      uint32_t var, fx_val *out);

#endif
