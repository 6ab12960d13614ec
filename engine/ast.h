/* ast.h: the checked form of a knowledge base, as the loader (load.c) produces it from YAML and
 * the Rete compiler (rete.c) consumes it. Names are resolved to indexes, variables to per-rule
 * ids with their binding site, constants to typed values; everything lives in the kb's arena
 * and carries its source position for diagnostics and explanations. */
#ifndef FX_AST_H
#define FX_AST_H

#include <stdint.h>
#include "value.h"

struct fx_regex;
struct fx_expr;

/* A place in a rule file. file points into the kb's list of file names. */
typedef struct fx_pos {
	const char *file;
	uint32_t line, col; /* 1-based; 0 when unknown */
} fx_pos;

typedef struct fx_slot_def {
	const char *name;
	fx_type type;        /* FX_SYMBOL, FX_STRING, FX_INTEGER, FX_FLOAT or FX_BOOLEAN */
	fx_val dflt;         /* default value: given, or the type's zero (nil symbol, "", 0, 0.0, false) */
	const char *doc;     /* may be NULL */
	fx_pos pos;
} fx_slot_def;

typedef struct fx_template_def {
	const char *name;
	uint32_t index;      /* position in kb->templates */
	uint32_t nslots;
	fx_slot_def *slots;
	const char *doc;
	fx_pos pos;
} fx_template_def;

/* An initial fact from a `facts:` section, asserted by fx_session_new and reset. */
typedef struct fx_fact_def {
	const char *id;      /* optional name, unique in the kb; may be NULL */
	uint32_t tmpl;
	fx_val *values;      /* nslots values, defaults filled in */
	fx_pos pos;
} fx_fact_def;

/* --- Rule variables ---------------------------------------------------------------------------
 * Each distinct ?name in a rule gets an id (index into fx_rule_def.vars). Where the value comes
 * from at run time is fixed by the loader:
 *  - FX_VAR_SLOT: slot `slot` of the fact matched by the positive pattern at token depth `depth`;
 *  - FX_VAR_FACT: the fact (its id, as an integer) matched at `depth` (`as: ?f`);
 *  - FX_VAR_LOCAL: set by a `bind` action; `slot` holds the local's index.
 * Depth numbers the positive patterns of a rule in order, 0-based, counting the positive
 * patterns nested inside `not`/`exists` too (their depths continue after the enclosing ones,
 * and a depth is never reused within one rule). A variable first bound inside a `not` or
 * `exists` is visible only there. */
typedef enum fx_var_kind { FX_VAR_SLOT, FX_VAR_FACT, FX_VAR_LOCAL } fx_var_kind;

typedef struct fx_var_def {
	const char *name;    /* without the '?' */
	fx_var_kind kind;
	uint32_t depth;
	uint32_t slot;
	fx_pos pos;          /* where it is bound */
} fx_var_def;

/* --- Expressions ------------------------------------------------------------------------------
 * See expr.h for the node type; the loader parses expression text with fx_expr_parse. */

/* --- Slot constraints in patterns ---------------------------------------------------------- */
typedef enum fx_cons_op {
	FX_C_BIND,       /* first occurrence of a variable: binds var, tests nothing */
	FX_C_EQ,         /* slot == arg (exact for symbols/strings, numeric across int/float) */
	FX_C_NE,
	FX_C_LT, FX_C_LE, FX_C_GT, FX_C_GE,
	FX_C_IN,         /* slot is one of list */
	FX_C_NOT_IN,
	FX_C_MATCH,      /* slot (a string or symbol) matches regex re */
	FX_C_NOT_MATCH,
	FX_C_CONTAINS,   /* substring tests against arg (a string or symbol) */
	FX_C_STARTS,
	FX_C_ENDS,
	FX_C_TEST        /* arg is a boolean expression that may use the slot's own variables */
} fx_cons_op;

typedef struct fx_constraint {
	fx_cons_op op;
	uint32_t slot;
	uint32_t var;            /* FX_C_BIND: the variable bound */
	struct fx_expr *arg;     /* the operand, for ops that take one */
	fx_val *list;            /* FX_C_IN, FX_C_NOT_IN: constant values */
	uint32_t nlist;
	struct fx_regex *re;     /* FX_C_MATCH, FX_C_NOT_MATCH (compiled at load) */
	fx_pos pos;
} fx_constraint;

/* --- Conditional elements ------------------------------------------------------------------ */
typedef enum fx_ce_kind {
	FX_CE_PATTERN,   /* a fact of template tmpl satisfying constraints */
	FX_CE_NOT,       /* none of the children's conjunction matches */
	FX_CE_EXISTS,    /* at least one match of the children's conjunction; fires once */
	FX_CE_TEST       /* a boolean expression over variables bound before it */
} fx_ce_kind;

typedef struct fx_ce {
	fx_ce_kind kind;
	fx_pos pos;
	/* FX_CE_PATTERN */
	uint32_t tmpl;
	uint32_t depth;           /* see fx_var_def */
	int32_t fact_var;         /* variable bound to the matched fact (`as: ?f`), or -1 */
	fx_constraint *cons;      /* in source order */
	uint32_t ncons;
	/* FX_CE_NOT, FX_CE_EXISTS */
	struct fx_ce *children;   /* patterns, tests and nested not/exists */
	uint32_t nchildren;
	/* FX_CE_TEST */
	struct fx_expr *test;
} fx_ce;

/* --- Actions ------------------------------------------------------------------------------- */
typedef enum fx_action_kind {
	FX_A_ASSERT,     /* assert a fact of tmpl with slot values (others default) */
	FX_A_RETRACT,    /* retract the fact in `target` (an expression giving a fact id) */
	FX_A_MODIFY,     /* change slots of the fact in `target` */
	FX_A_BIND,       /* local variable var = value */
	FX_A_PRINT,      /* send the concatenation of items to the session's output */
	FX_A_HALT        /* stop the run after this firing's actions */
} fx_action_kind;

typedef struct fx_slot_set {
	uint32_t slot;
	struct fx_expr *value;
	fx_pos pos;
} fx_slot_set;

typedef struct fx_action {
	fx_action_kind kind;
	fx_pos pos;
	uint32_t tmpl;            /* ASSERT; MODIFY when the target's pattern is known, else ~0u */
	fx_slot_set *sets;        /* ASSERT, MODIFY */
	uint32_t nsets;
	struct fx_expr *target;   /* RETRACT, MODIFY */
	uint32_t var;             /* BIND: the variable (kind FX_VAR_LOCAL) */
	struct fx_expr *value;    /* BIND */
	struct fx_expr **items;   /* PRINT */
	uint32_t nitems;
} fx_action;

typedef struct fx_rule_def {
	const char *name;
	uint32_t index;           /* position in kb->rules */
	int32_t salience;
	const char *because;      /* human explanation, may be NULL */
	const char *doc;
	const char *source;       /* where the knowledge comes from (article section, URL); may be NULL */
	int logical;              /* `logical: true`: every fact its actions assert keeps only as long
	                             as the partial match that fired it (the diagnosis actions conclude,
	                             recommend and ask always do) */
	fx_pos pos;
	fx_ce *ces;               /* the `when` list, top level */
	uint32_t nces;
	fx_action *actions;       /* the `then` list */
	uint32_t nactions;
	fx_var_def *vars;
	uint32_t nvars;
	uint32_t nlocals;         /* number of FX_VAR_LOCAL variables */
	uint32_t ndepth;          /* number of positive patterns, nested ones included */
} fx_rule_def;

/* --- Text patterns (`patterns:`) ----------------------------------------------------------
 * How pasted text becomes facts (the diagnosis layer runs them): when a pattern's regex
 * matches a text, each of its facts is asserted, every slot taking either a constant or the
 * text of a capture group, which is converted to the slot's type only then. */
typedef enum fx_pvalue_kind {
	FX_PV_CONST,     /* val, converted to the slot's type at load (the default when not written) */
	FX_PV_CAPTURE    /* the text of capture group `group` (0: the whole match) */
} fx_pvalue_kind;

typedef struct fx_pattern_value {
	fx_pvalue_kind kind;
	uint32_t group;           /* FX_PV_CAPTURE: index into the pattern's groups */
	fx_val val;               /* FX_PV_CONST */
	fx_pos pos;               /* the value as written; the fact's template key for a default */
} fx_pattern_value;

typedef struct fx_pattern_fact {
	uint32_t tmpl;
	fx_pos pos;               /* the template key */
	fx_pattern_value *vals;   /* one per slot of tmpl, in slot order */
} fx_pattern_fact;

/* A text of `examples:` or `near-misses:`. */
typedef struct fx_sample {
	const char *text;         /* NUL-terminated copy; may hold NULs, so use len */
	uint32_t len;
	fx_pos pos;
} fx_sample;

typedef struct fx_pattern_def {
	const char *name;
	uint32_t index;           /* position in prog->patterns */
	const char *regex;        /* as written, NUL-terminated; regex_len bytes (may hold NULs) */
	uint32_t regex_len;
	unsigned flags;           /* FX_RE_* of regex.h */
	struct fx_regex *re;      /* compiled at load; owned by the kb's list of regexes */
	fx_pos pos;               /* the id */
	fx_pos regex_pos;         /* the regex value */
	fx_pattern_fact *facts;   /* the `asserts`, in the order written */
	uint32_t nfacts;
	const char *source;       /* where the message comes from; may be NULL */
	const char *doc;          /* may be NULL */
	fx_sample *examples;      /* texts the regex must match (checked by `fixit test`) */
	uint32_t nexamples;
	fx_sample *near_misses;   /* texts the regex must not match */
	uint32_t nnear;
	const char **groups;      /* ngroups names: groups[0] is "_match" (the whole match),
	                           * groups[i] the name of capture group i, NULL when unnamed */
	uint32_t ngroups;         /* capture groups + 1 */
} fx_pattern_def;

/* --- Remedies (`remedies:`) ---------------------------------------------------------------
 * What a user can try; `recommend` facts name them, the diagnosis layer ranks and shows them. */
typedef struct fx_remedy_def {
	const char *name;
	uint32_t index;           /* position in prog->remedies */
	const char *title;        /* one line for lists */
	const char **steps;       /* nsteps >= 1 instructions, in order */
	uint32_t nsteps;
	int32_t cost;             /* effort, 1 (trivial) to 10 (disruptive) */
	const char *warning;      /* what it may cost the user; may be NULL */
	const char *source;       /* where it comes from; may be NULL */
	const char *doc;          /* may be NULL */
	fx_pos pos;               /* the id */
} fx_remedy_def;

/* --- Findings (`findings:`) ---------------------------------------------------------------
 * What a finding that rules conclude means, for people; a finding without one is shown by its
 * id. */
typedef struct fx_finding_def {
	const char *name;         /* the id rules conclude */
	uint32_t index;           /* position in prog->findings */
	const char *title;        /* one line naming the cause */
	const char *source;       /* may be NULL */
	const char *doc;          /* may be NULL */
	fx_pos pos;               /* the id */
} fx_finding_def;

/* --- Questions (`questions:`) -------------------------------------------------------------
 * What the consultation may ask. Answering question q with one of its answers asserts
 * (answer (question q) (value A)) and then the answer's facts, which the session keeps only
 * as long as the answer fact stands (truth maintenance: retracting the answer withdraws
 * them). `unknown` ("don't know") is always allowed and asserts only the answer fact. */
typedef struct fx_answer_def {
	const char *value;        /* the answer as a symbol: yes, no, icloud... */
	fx_fact_def *facts;       /* asserted when this answer is given (constant values) */
	uint32_t nfacts;
	fx_pos pos;               /* the answer's key */
} fx_answer_def;

typedef struct fx_question_def {
	const char *name;         /* its id */
	uint32_t index;           /* position in prog->questions */
	const char *text;         /* the question as shown to a person */
	const char *doc;          /* may be NULL */
	const char *source;       /* may be NULL */
	fx_answer_def *answers;   /* the allowed answers in the order written (unknown not listed
	                             unless written) */
	uint32_t nanswers;
	fx_pos pos;               /* the id */
} fx_question_def;

/* --- Cases (`cases:`) ---------------------------------------------------------------------
 * Tests written in the rule files, run by `fixit test`: a text and answers in, findings and
 * remedies expected out. The same form describes the corpus of real messages. */
typedef struct fx_case_answer {
	uint32_t question;        /* index into prog->questions */
	uint32_t answer;          /* index into that question's answers, or ~0u for unknown */
	fx_pos pos;
} fx_case_answer;

typedef struct fx_case_def {
	const char *name;         /* its id; cases without one get "<file>:<line>" */
	uint32_t index;           /* position in prog->cases */
	const char *input;        /* the pasted text, or NULL; may hold NULs: use input_len */
	uint32_t input_len;
	fx_case_answer *answers;  /* given in this order after the input */
	uint32_t nanswers;
	const char **tried;       /* remedy ids the user already tried */
	uint32_t ntried;
	const char *source;       /* where the message comes from (URL); may be NULL */
	const char *doc;          /* may be NULL */
	/* expectations; each may be absent (NULL / 0) */
	const char **findings;    /* each must be concluded */
	uint32_t nfindings;
	const char **remedies;    /* each must be recommended; for accuracy, the acceptable fixes */
	uint32_t nremedies;
	const char **absent;      /* finding or remedy ids that must not appear */
	uint32_t nabsent;
	const char *top;          /* the remedy that must rank first, or NULL */
	int nothing;              /* 1: no finding and no remedy at all (a non-failure message) */
	fx_pos pos;               /* the case's first key */
} fx_case_def;

/* The whole checked program, owned by the kb's arena. */
typedef struct fx_program {
	fx_template_def *templates;
	uint32_t ntemplates;
	fx_fact_def *facts;
	uint32_t nfacts;
	fx_rule_def *rules;
	uint32_t nrules;
	const char **files;       /* every file read, in load order */
	uint32_t nfiles;
	fx_pattern_def *patterns; /* in load order, like rules */
	uint32_t npatterns;
	fx_remedy_def *remedies;  /* in load order */
	uint32_t nremedies;
	fx_question_def *questions; /* in load order */
	uint32_t nquestions;
	fx_case_def *cases;       /* in load order */
	uint32_t ncases;
	fx_finding_def *findings; /* in load order */
	uint32_t nfindings;
} fx_program;

#endif
