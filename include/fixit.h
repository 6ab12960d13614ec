/* fixit.h: the public API of libfixit, a forward-chaining expert-system engine.
 * A knowledge base (fx_kb) is compiled once from YAML rule files and is then immutable;
 * sessions (fx_session) hold working memory and the agenda and run the rules.
 * This is the only installed header. The library never prints and never exits. */
#ifndef FIXIT_H
#define FIXIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FX_VERSION_MAJOR 0
#define FX_VERSION_MINOR 1
#define FX_VERSION_PATCH 0
#define FX_VERSION_STRING "0.1.0"

/* Return codes. Every fallible function returns 0 or one of these (negative). */
typedef enum fx_status {
	FX_OK = 0,
	FX_ENOMEM = -1,   /* out of memory */
	FX_EINVAL = -2,   /* bad argument (NULL handle, unknown id, wrong arity...) */
	FX_EIO = -3,      /* a file or directory could not be read */
	FX_ELOAD = -4,    /* the rule files have errors (reported through diagnostics) */
	FX_ENOTFOUND = -5,/* no such template, slot, rule or fact */
	FX_ETYPE = -6,    /* a value of the wrong type */
	FX_ELIMIT = -7,   /* a limit was reached (firing limit, regex limit, sizes) */
	FX_ERUNTIME = -8, /* an action failed while a rule fired (division by zero...) */
	FX_EHALT = -9     /* not an error: a rule executed `halt` */
} fx_status;

/* The library's version string ("0.1.0"). */
const char *fx_version(void);

/* A short English description of a status code. Never NULL. */
const char *fx_strerror(int code);

/* --- Values -------------------------------------------------------------------------------- */

typedef enum fx_type {
	FX_NIL = 0,
	FX_SYMBOL,
	FX_STRING,
	FX_INTEGER,
	FX_FLOAT,
	FX_BOOLEAN
} fx_type;

/* A value as seen through the API. Text of symbols and strings is borrowed from the library
 * (valid while the session or knowledge base that produced it lives) and may contain NUL bytes:
 * use len. Values passed in are copied. */
typedef struct fx_value {
	fx_type type;
	size_t len;                 /* byte length of text for FX_SYMBOL and FX_STRING */
	union {
		const char *text;       /* FX_SYMBOL, FX_STRING */
		int64_t i;              /* FX_INTEGER */
		double f;               /* FX_FLOAT */
		int b;                  /* FX_BOOLEAN: 0 or 1 */
	} u;
} fx_value;

fx_value fx_value_symbol(const char *text);
fx_value fx_value_string(const char *text);
fx_value fx_value_integer(int64_t i);
fx_value fx_value_float(double f);
fx_value fx_value_boolean(int b);

/* --- Diagnostics ----------------------------------------------------------------------------- */

typedef enum fx_severity { FX_SEV_ERROR, FX_SEV_WARNING, FX_SEV_NOTE } fx_severity;

/* One problem found in a rule file or while running. Pointers are valid only during the
 * callback; copy what you keep. line and col are 1-based; 0 when unknown. col counts bytes. */
typedef struct fx_diag {
	fx_severity severity;
	const char *code;        /* stable short code ("yaml", "unknown-slot", ...); never NULL */
	const char *file;        /* file name as given, or "<buffer>"; NULL if not from a file */
	unsigned line, col;      /* position of the problem */
	unsigned span;           /* length in bytes of the offending token on that line (>= 1) */
	const char *message;     /* what is wrong and what was expected */
	const char *source_line; /* the text of that line without its newline, or NULL */
	const char *rule;        /* id of the rule concerned, or NULL */
} fx_diag;

typedef void (*fx_diag_fn)(const fx_diag *d, void *ud);

/* --- Knowledge bases --------------------------------------------------------------------------- */

typedef struct fx_kb fx_kb;

/* Options for loading. Zero-initialise, then set what you need. */
typedef struct fx_load_opts {
	fx_diag_fn diag;      /* receives every error and warning; may be NULL */
	void *diag_ud;
	unsigned max_errors;  /* stop reporting after this many errors (0: 100) */
} fx_load_opts;

/* Load a knowledge base from files and directories (a directory loads its *.yaml and *.yml
 * files in name order; `include:` entries are followed). On success *out owns a new kb with
 * refcount 1. On FX_ELOAD every problem has been passed to opts->diag. */
int fx_kb_load(fx_kb **out, const char *const *paths, size_t npaths, const fx_load_opts *opts);
/* Load one file. */
int fx_kb_load_file(fx_kb **out, const char *path, const fx_load_opts *opts);
/* Load from memory; name is used in diagnostics and to resolve includes relative to the
 * current directory. The buffer is copied. */
int fx_kb_load_buffer(fx_kb **out, const char *name, const char *buf, size_t len,
                      const fx_load_opts *opts);

/* Load several in-memory files at once (each like a file named names[i]; names may be NULL),
 * as for a knowledge base compiled into a program. The buffers are copied. */
int fx_kb_load_buffers(fx_kb **out, const char *const *names, const char *const *bufs,
                       const size_t *lens, size_t n, const fx_load_opts *opts);

/* A loaded kb in binary form (as CLIPS's bsave/bload, Lua's precompiled chunks), for a program
 * that embeds its knowledge base: loading an image skips parsing, checking and compiling
 * regexes (each compiles when first used), and gives a kb that behaves as the one saved,
 * diagnostics positions and source texts included. The bytes are the same on every machine,
 * but an image is only for the fixit version that wrote it.
 * fx_kb_save_image: *out receives a malloc'ed image of *len bytes (free() it); 0, FX_ENOMEM,
 * FX_EINVAL. fx_kb_load_image: the image is borrowed, not copied: it must stay unchanged
 * while the kb lives (an image compiled into the program is). An image from another version,
 * or one whose checksum or structure is wrong, is refused with FX_ELOAD and a diagnostic;
 * the reader checks every count and index, but does not re-prove what the loader proves of
 * rule files, so load only images you wrote. */
int fx_kb_save_image(const fx_kb *kb, char **out, size_t *len);
int fx_kb_load_image(fx_kb **out, const void *image, size_t len, const fx_load_opts *opts);

/* Knowledge bases are immutable and reference counted; they may be shared between threads. */
fx_kb *fx_kb_ref(fx_kb *kb);
void fx_kb_free(fx_kb *kb); /* drops one reference; NULL is a no-op */

size_t fx_kb_template_count(const fx_kb *kb);
const char *fx_kb_template_name(const fx_kb *kb, size_t i);
size_t fx_kb_template_slot_count(const fx_kb *kb, size_t i);
const char *fx_kb_template_slot_name(const fx_kb *kb, size_t i, size_t slot);
fx_type fx_kb_template_slot_type(const fx_kb *kb, size_t i, size_t slot);
/* Index of a template by name, or -1. */
long fx_kb_template_find(const fx_kb *kb, const char *name);

size_t fx_kb_rule_count(const fx_kb *kb);
const char *fx_kb_rule_name(const fx_kb *kb, size_t i);
/* Source position of a rule; *file may be set to NULL for buffers without a name. */
void fx_kb_rule_pos(const fx_kb *kb, size_t i, const char **file, unsigned *line, unsigned *col);
int fx_kb_rule_salience(const fx_kb *kb, size_t i);
/* Index of a rule by name, or -1. */
long fx_kb_rule_find(const fx_kb *kb, const char *name);

/* --- Sessions ---------------------------------------------------------------------------------- */

typedef struct fx_session fx_session;

/* Conflict-resolution strategies: which activation of equal salience fires first. */
typedef enum fx_strategy {
	FX_STRATEGY_DEPTH = 0, /* newest activation first (the default, as in CLIPS) */
	FX_STRATEGY_BREADTH,   /* oldest activation first */
	FX_STRATEGY_LEX,       /* most recent facts first, compared fact by fact (OPS5 LEX) */
	FX_STRATEGY_MEA        /* recency of the first pattern's fact first, then LEX (OPS5 MEA) */
} fx_strategy;

/* Trace events, delivered during assert/retract/modify/run when a trace callback is set. */
typedef enum fx_event {
	FX_EV_ASSERT,   /* fact asserted: fact set */
	FX_EV_RETRACT,  /* fact retracted: fact set (still readable during the callback) */
	FX_EV_MODIFY,   /* fact modified in place: fact set, with its new values */
	FX_EV_ACTIVATE, /* rule activated: rule set */
	FX_EV_DEACTIVATE,
	FX_EV_FIRE      /* rule about to fire: rule set, firing = ordinal (1-based) */
} fx_event;

typedef struct fx_trace {
	fx_event event;
	uint64_t fact;        /* fact id, or 0 */
	long rule;            /* rule index, or -1 */
	uint64_t firing;      /* number of this firing in the session, for FX_EV_FIRE */
	const uint64_t *facts;/* for activation and fire events: the fact ids matched, in pattern order */
	size_t nfacts;        /* (0 for a negated pattern's position is not listed) */
} fx_trace;

typedef void (*fx_trace_fn)(fx_session *s, const fx_trace *t, void *ud);
/* Text produced by the `print` action. */
typedef void (*fx_output_fn)(fx_session *s, const char *text, size_t len, void *ud);

/* Create a session over kb (takes its own reference) and assert the kb's initial facts. */
int fx_session_new(fx_session **out, fx_kb *kb);
void fx_session_free(fx_session *s); /* NULL is a no-op */

/* Retract every fact, clear the agenda, and assert the initial facts again. */
int fx_session_reset(fx_session *s);

void fx_session_set_trace(fx_session *s, fx_trace_fn fn, void *ud);
void fx_session_set_output(fx_session *s, fx_output_fn fn, void *ud);
void fx_session_set_strategy(fx_session *s, fx_strategy st);
/* Default firing limit for fx_session_run with limit 0 (initially 10,000,000; 0 = none). */
void fx_session_set_default_limit(fx_session *s, uint64_t limit);

/* The message, position and rule of the last error on this session ("" if none). */
const fx_diag *fx_session_last_error(const fx_session *s);

/* Assert a fact of `tmpl` with the given slot names and values (slots not named take their
 * defaults). *id receives the fact id (or the id of the identical fact already present, in
 * which case the return is 0 and nothing changes). */
int fx_session_assert(fx_session *s, const char *tmpl, const char *const *slots,
                      const fx_value *values, size_t n, uint64_t *id);
/* Assert a fact written as text in CLIPS syntax: `(template (slot value) (slot "text") ...)`.
 * Bare words are symbols, quoted texts strings, numbers numbers; each is converted to its slot's
 * type as in rule files. */
int fx_session_assert_text(fx_session *s, const char *text, uint64_t *id);
int fx_session_retract(fx_session *s, uint64_t id);
/* Change some slots of a fact; the fact keeps its id. */
int fx_session_modify(fx_session *s, uint64_t id, const char *const *slots,
                      const fx_value *values, size_t n);

/* Fire activations until the agenda is empty, halt, an error, or `limit` firings (0: the
 * session's default limit). *fired receives the number of firings. Returns 0 when the agenda
 * emptied, FX_EHALT after halt, FX_ELIMIT when the limit stopped it (the last error names the
 * rules that fired most in the last firings), FX_ERUNTIME on an action error. */
int fx_session_run(fx_session *s, uint64_t limit, uint64_t *fired);

/* Total firings since the session was created or reset. */
uint64_t fx_session_firings(const fx_session *s);

/* Facts: iterate in id order. Returns 1 and fills *id with the next live fact after `after`
 * (use 0 to start), or 0 at the end. */
int fx_session_fact_next(const fx_session *s, uint64_t after, uint64_t *id);
/* Template index of a fact, or -1 if it does not exist. */
long fx_session_fact_template(const fx_session *s, uint64_t id);
/* Value of one slot (by index) of a fact. */
int fx_session_fact_slot(const fx_session *s, uint64_t id, size_t slot, fx_value *out);
size_t fx_session_fact_count(const fx_session *s);
/* Render a fact as `(template (slot value) ...)` into buf (always NUL-terminated when
 * size > 0). Returns the length the full text needs, as snprintf does, or a negative code. */
int fx_session_fact_format(const fx_session *s, uint64_t id, char *buf, size_t size);

/* The agenda, in firing order. */
size_t fx_session_agenda_count(const fx_session *s);
/* The i-th activation: its rule index and matched fact ids (borrowed, valid until the next
 * call that changes working memory). */
int fx_session_agenda_get(const fx_session *s, size_t i, long *rule, const uint64_t **facts,
                          size_t *nfacts);

/* --- Remedies and patterns of a knowledge base ---------------------------------------------- */

/* A remedy of the kb's `remedies:` section. Strings are borrowed from the kb. */
typedef struct fx_remedy_info {
	const char *id;
	const char *title;
	const char *const *steps;  /* nsteps strings, in order */
	size_t nsteps;
	int cost;                  /* effort 1 (trivial) .. 10 (disruptive) */
	const char *warning;       /* or NULL */
	const char *source;        /* or NULL */
	const char *doc;           /* or NULL */
	const char *file;          /* where its id is written (NULL for an unnamed buffer) */
	unsigned line, col;
} fx_remedy_info;

size_t fx_kb_remedy_count(const fx_kb *kb);
/* Index of a remedy by id, or -1. */
long fx_kb_remedy_find(const fx_kb *kb, const char *id);
int fx_kb_remedy_get(const fx_kb *kb, size_t i, fx_remedy_info *out);

/* A finding of the kb's `findings:` section: what a finding the rules conclude means. Strings
 * are borrowed from the kb. */
typedef struct fx_finding_info {
	const char *id;
	const char *title;         /* one line naming the cause */
	const char *source;        /* or NULL */
	const char *doc;           /* or NULL */
	const char *file;          /* where its id is written (NULL for an unnamed buffer) */
	unsigned line, col;
} fx_finding_info;

size_t fx_kb_finding_count(const fx_kb *kb);
/* Index of a finding by id, or -1 (also for a finding concluded but not described). */
long fx_kb_finding_find(const fx_kb *kb, const char *id);
int fx_kb_finding_get(const fx_kb *kb, size_t i, fx_finding_info *out);

size_t fx_kb_pattern_count(const fx_kb *kb);
const char *fx_kb_pattern_name(const fx_kb *kb, size_t i);
/* Index of a pattern by id, or -1. */
long fx_kb_pattern_find(const fx_kb *kb, const char *id);

/* A text of a pattern's `examples:` or `near-misses:`, borrowed from the kb. */
typedef struct fx_sample_info {
	const char *text;          /* NUL-terminated; may hold NULs: use len */
	size_t len;
	const char *file;          /* where it is written */
	unsigned line, col;
} fx_sample_info;

/* A text pattern of the kb's `patterns:` sections. Everything is borrowed from the kb. */
typedef struct fx_pattern_info {
	const char *id;
	const char *regex;         /* as written, NUL-terminated; regex_len bytes (may hold NULs) */
	size_t regex_len;
	const char *flags;         /* its flag letters in the order imsx, "" when none */
	const char *source;        /* or NULL */
	const char *doc;           /* or NULL */
	const fx_sample_info *examples;    /* texts it must match */
	size_t nexamples;
	const fx_sample_info *near_misses; /* texts it must not match */
	size_t nnear_misses;
	const char *const *asserts; /* the template of each fact a match asserts, in order */
	size_t nasserts;
	const char *file;          /* where its id is written */
	unsigned line, col;
} fx_pattern_info;

/* 0, FX_EINVAL (kb or out NULL), FX_ENOTFOUND (i out of range; *out is zeroed) or FX_ENOMEM.
 * The pattern, rule, question and case views are built on the first call of any of their
 * getters (thread-safe), which is why they may run out of memory. */
int fx_kb_pattern_get(const fx_kb *kb, size_t i, fx_pattern_info *out);

/* A rule's `because:` and `source:` texts, or NULL when it has none (or i is out of range). */
const char *fx_kb_rule_because(const fx_kb *kb, size_t i);
const char *fx_kb_rule_source(const fx_kb *kb, size_t i);

/* What a rule tests and what it asserts, for drawing the knowledge base (`fixit graph`:
 * text patterns -> the facts they assert -> rules -> findings and remedies) without reading
 * the rule language. One link per pattern of the conditions and per action on a template. */
typedef enum fx_link_kind {
	FX_LINK_MATCH,   /* condition: a pattern that must match (top level) */
	FX_LINK_EXISTS,  /* condition: a pattern inside an `exists` */
	FX_LINK_NOT,     /* condition: a pattern inside a `not` (at any depth) */
	FX_LINK_ASSERT,  /* action: assert; conclude, recommend and ask are asserts of the
	                    templates finding, recommend and ask */
	FX_LINK_MODIFY   /* action: modify of a fact whose template the rule's pattern gives */
} fx_link_kind;

typedef struct fx_rule_link {
	fx_link_kind kind;
	const char *tmpl;          /* the template tested or asserted */
	const char *const *slots;  /* nconst slot names whose value is a constant: tested for */
	const fx_value *values;    /* equality (conditions) or set (actions), in slot order */
	size_t nconst;
	const char *file;          /* where the pattern or action is written */
	unsigned line, col;
} fx_rule_link;

typedef struct fx_rule_summary {
	const fx_rule_link *conds; /* the patterns of the conditions, in source order */
	size_t nconds;
	const fx_rule_link *acts;  /* the actions on templates, in source order */
	size_t nacts;
} fx_rule_summary;

/* Summary of rule i; arrays and strings are borrowed from the kb. 0, FX_EINVAL,
 * FX_ENOTFOUND (i out of range; *out is zeroed) or FX_ENOMEM. Example: a rule with
 * `when: [{symptom: {kind: disk-full}}]` and `then: [{recommend: {remedy: free-space}}]`
 * has one MATCH link (tmpl "symptom", slot "kind" = disk-full) and one ASSERT link (tmpl
 * "recommend", slots remedy = free-space and rule = its id). */
int fx_kb_rule_summary(const fx_kb *kb, size_t i, fx_rule_summary *out);

/* A question of the kb's `questions:` sections. Strings are borrowed from the kb. */
typedef struct fx_question_info {
	const char *id;
	const char *text;          /* the question as put to a person (`ask:`) */
	const char *doc;           /* or NULL */
	const char *source;        /* or NULL */
	const char *const *answers; /* the allowed answers in the order written (`unknown` is
	                              always allowed too, and listed only when written) */
	size_t nanswers;
	const char *file;          /* where its id is written */
	unsigned line, col;
} fx_question_info;

size_t fx_kb_question_count(const fx_kb *kb);
/* Index of a question by id, or -1. */
long fx_kb_question_find(const fx_kb *kb, const char *id);
/* 0, FX_EINVAL, FX_ENOTFOUND (i out of range; *out is zeroed) or FX_ENOMEM. */
int fx_kb_question_get(const fx_kb *kb, size_t i, fx_question_info *out);

/* A question and its answer, as a case gives them. */
typedef struct fx_answer_pair {
	const char *question;
	const char *answer;        /* one of the question's answers, or "unknown" */
} fx_answer_pair;

/* A test case of the kb's `cases:` sections (rule files or a corpus loaded with them): a
 * text and answers in, what must come out. Not to be confused with fx_case, a case the
 * reader cuts from an input. Everything is borrowed from the kb. */
typedef struct fx_case_info {
	const char *id;            /* its id, or "<file>:<line>" when it has none */
	const char *source;        /* or NULL */
	const char *doc;           /* or NULL */
	const char *input;         /* the text, or NULL; may hold NULs: use input_len */
	size_t input_len;
	const fx_answer_pair *answers; /* to give, in this order, after the input */
	size_t nanswers;
	const char *const *tried;  /* remedy ids the user already tried */
	size_t ntried;
	/* expectations */
	const char *const *findings; /* each must be concluded */
	size_t nfindings;
	const char *const *remedies; /* each must be recommended */
	size_t nremedies;
	const char *const *absent;   /* finding or remedy ids that must not appear */
	size_t nabsent;
	const char *top;             /* the remedy that must rank first, or NULL */
	int nothing;                 /* 1: no finding and no remedy at all */
	const char *file;          /* where the case starts */
	unsigned line, col;
} fx_case_info;

size_t fx_kb_case_count(const fx_kb *kb);
/* 0, FX_EINVAL, FX_ENOTFOUND (i out of range; *out is zeroed) or FX_ENOMEM. */
int fx_kb_case_get(const fx_kb *kb, size_t i, fx_case_info *out);

/* --- Lint ------------------------------------------------------------------------------------
 * Warnings about a knowledge base that loads but is probably not what its author meant. Each
 * goes to fn as an fx_diag of severity FX_SEV_WARNING with a stable code, the position (file,
 * line, col, the source line), the rule concerned when there is one, and a message that ends
 * with how to fix it. Codes (docs/rule-language.md, "Lint"):
 *   regex-empty       a pattern's regex matches the empty string
 *   regex-backtrack   a pattern's regex nests quantifiers so that some texts take exponential
 *                     time (found in the regex, confirmed by running it)
 *   rule-unreachable  a rule needs a fact of a template that nothing can assert
 *   remedy-unused     a remedy no rule recommends
 *   question-unused   a question no rule asks
 *   pattern-duplicate two patterns with the same regex, or that match each other's examples
 *   missing-because   a rule without `because:`
 *   missing-source    a remedy or pattern without `source:` */

/* Run every check on kb. Returns the number of warnings (0 for a clean kb), FX_EINVAL (kb
 * NULL) or FX_ENOMEM. fn may be NULL (only count). Warnings come in file order, then by line
 * and column. */
int fx_kb_lint(const fx_kb *kb, fx_diag_fn fn, void *ud);

/* --- Consultation: answers, truth maintenance, diagnosis, explanations -----------------------
 * Truth maintenance. A fact asserted by a firing of a rule with `logical: true`, and every fact
 * asserted by the diagnosis actions conclude, recommend and ask (templates finding, recommend,
 * ask), is supported by the partial match that fired it: when that match disappears (a fact it
 * matched is retracted or modified, or one of its `not`s becomes blocked) the support goes, and
 * a fact left without support is retracted, which may withdraw more (docs/architecture.md).
 * A fact asserted through the API, from text, as an initial fact or by a rule without
 * `logical` is unconditional: it stays until retracted. */

/* Answer question `question` (a `questions:` id of the kb) with `answer` (one of its answers,
 * or `unknown`, always allowed): asserts (answer (question Q) (value A)), unconditional, after
 * retracting any earlier answer fact to Q (which withdraws everything it supported), then the
 * answer's facts, each supported by the answer fact. Does not run the rules. *id (may be NULL)
 * receives the answer fact's id. Returns 0, FX_EINVAL (NULL argument), FX_ENOTFOUND (no such
 * question or answer: the last error's message lists the allowed answers) or FX_ENOMEM. */
int fx_session_answer(fx_session *s, const char *question, const char *answer, uint64_t *id);
/* Retract the answer to `question`, if any, with what it supported. 0 (also when it had no
 * answer), FX_EINVAL or FX_ENOTFOUND (no such question). */
int fx_session_unanswer(fx_session *s, const char *question);
/* The user tried `remedy` without success: asserts (tried (remedy R)), unconditional. Rules
 * that test `not: {tried: ...}` then withdraw what they concluded. Returns 0, FX_EINVAL or
 * FX_ENOTFOUND (the kb describes remedies and R is not one of them). */
int fx_session_tried(fx_session *s, const char *remedy, uint64_t *id);

/* A snapshot of the diagnosis in a session's working memory: findings with their certainties
 * combined, remedies ranked. Independent of the session once built (strings are copied). */
typedef struct fx_diagnosis fx_diagnosis;

/* One cause: the finding facts of one id, their certainties (each clamped to 0..1) combined as
 * MYCIN combines positive evidence, cf = a + b(1 - a) (docs/certainty.md). */
typedef struct fx_finding {
	const char *id;
	const char *title;      /* the kb's title for it (`findings:`), or NULL when undescribed */
	double certainty;
	const uint64_t *facts;  /* the finding facts' ids, in id order */
	size_t nfacts;
} fx_finding;

/* One remedy. A recommendation is as certain as the finding it names (1 when it names none, 0
 * when that finding is not concluded); a remedy takes its best recommendation. */
typedef struct fx_ranked_remedy {
	const char *id;
	long index;             /* in the kb's remedies (fx_kb_remedy_get), or -1 */
	double certainty;
	int cost;               /* the kb's cost 1..10, or 5 when it does not describe the remedy */
	double score;           /* certainty / cost */
	const char *finding;    /* the finding giving that certainty, or NULL when none is named */
	const uint64_t *facts;  /* the recommend facts' ids, in id order */
	size_t nfacts;
	int tried;              /* 1 when a tried fact names it */
} fx_ranked_remedy;

/* Build the snapshot of s. Returns 0, FX_EINVAL or FX_ENOMEM; *out is NULL on failure. */
int fx_diagnosis_new(fx_diagnosis **out, const fx_session *s);
void fx_diagnosis_free(fx_diagnosis *d); /* NULL is a no-op */
/* Findings, best first: higher certainty, then id. */
size_t fx_diagnosis_finding_count(const fx_diagnosis *d);
/* Pointers in *out are borrowed from d. 0 or FX_EINVAL (i out of range). */
int fx_diagnosis_finding(const fx_diagnosis *d, size_t i, fx_finding *out);
/* Remedies not tried, best first: higher score, then lower cost, then id. */
size_t fx_diagnosis_remedy_count(const fx_diagnosis *d);
int fx_diagnosis_remedy(const fx_diagnosis *d, size_t i, fx_ranked_remedy *out);
/* Remedies the user tried (recommended or not), in id order, with tried = 1. */
size_t fx_diagnosis_tried_count(const fx_diagnosis *d);
int fx_diagnosis_tried(const fx_diagnosis *d, size_t i, fx_ranked_remedy *out);

/* The question to ask next: among the questions the rules asked (ask facts) with no answer
 * fact and not already answered by the text (all the facts one of its answers would assert are
 * in working memory), the one whose answer would change the remedy ranking most, averaged over
 * its answers (docs/certainty.md). Runs the rules on a scratch session; s is not changed.
 * *question receives the question's index in the kb, or -1 when none is pending; *change (may
 * be NULL) the expected change of the ranking. Returns 0, FX_EINVAL, FX_ENOMEM, or the error of
 * a scratch run (FX_ELIMIT, FX_ERUNTIME). */
int fx_session_next_question(fx_session *s, long *question, double *change);

/* Why a fact is in working memory: each of its supports. */
typedef enum fx_support_kind {
	FX_SUPPORT_RULE,    /* a rule fired: rule; facts = the ids it matched, in pattern order,
	                       with a witness for each `exists` (see fx_support.witness); NULL
	                       for a rule without logical, which is not recorded */
	FX_SUPPORT_ANSWER,  /* the answer to question `question`: facts = the answer fact's id */
	FX_SUPPORT_USER,    /* asserted through the API */
	FX_SUPPORT_INITIAL, /* an initial fact of the kb */
	FX_SUPPORT_TEXT     /* matched in a text: see fx_text_origin_get */
} fx_support_kind;

typedef struct fx_support {
	fx_support_kind kind;
	int logical;            /* 1: the fact goes when this support goes; 0: unconditional */
	long rule;              /* FX_SUPPORT_RULE: rule index (fx_kb_rule_pos), or -1 */
	long question;          /* FX_SUPPORT_ANSWER: question index, else -1 */
	const uint64_t *facts;  /* borrowed; valid until working memory next changes or the next
	                           fx_explain_support call on the session */
	size_t nfacts;
	/* NULL, or nfacts flags: witness[i] is 1 when facts[i] is not held by the rule's partial
	 * match but is a witness of one of its `exists` conditions: a fact that satisfies it now
	 * for that partial match (for an exists over several patterns, the facts of one of their
	 * matches). An exists holds no fact, so that another fact may satisfy it later: the
	 * witness is looked up at each call, and when it is retracted another one is given. */
	const uint8_t *witness;
} fx_support;

/* Number of supports of fact `id` (0 when there is no such fact). The unconditional one, if
 * any, comes first, then the logical ones, oldest first. */
size_t fx_explain_support_count(const fx_session *s, uint64_t id);
/* The i-th. 0, FX_EINVAL, FX_ENOTFOUND (no such fact) or FX_ENOMEM (witnesses could not be
 * looked up; *out still holds the rule's own facts). */
int fx_explain_support(const fx_session *s, uint64_t id, size_t i, fx_support *out);

/* What the answer to a question decides. */
typedef struct fx_hypothesis {
	const char *id;         /* a finding or remedy id (borrowed from the kb) */
	int remedy;             /* 1 for a remedy (recommend), 0 for a finding (conclude) */
	long rule;              /* the rule that would conclude or recommend it */
	const char *answer;     /* the answer that rule tests for, or NULL (any, or an asking rule) */
} fx_hypothesis;

typedef struct fx_why {
	long question;          /* its index */
	uint64_t answer;        /* its answer fact, or 0 */
	const long *ask_rules;  /* rules whose ask facts for it are in working memory */
	size_t nask_rules;
	const fx_hypothesis *hyps; /* findings and remedies of the asking rules, and of rules that
	                              test its answer (or the facts its answers assert) */
	size_t nhyps;
} fx_why;

/* Explain why `question` matters. Arrays are borrowed from s until the next fx_explain_* call.
 * Returns 0, FX_EINVAL, FX_ENOTFOUND (no such question) or FX_ENOMEM. */
int fx_explain_why(fx_session *s, const char *question, fx_why *out);

typedef enum fx_whynot_kind {
	FX_WHYNOT_PRESENT,      /* the finding or remedy is in working memory */
	FX_WHYNOT_NO_RULE,      /* no rule concludes or recommends it (with a constant id) */
	FX_WHYNOT_FAILED,       /* `rule` came closest; condition `cond` is not satisfied */
	FX_WHYNOT_PENDING       /* `rule`'s conditions all hold: its activation waits for a run */
} fx_whynot_kind;

/* The kind of a rule's top-level condition. */
typedef enum fx_cond_kind {
	FX_COND_PATTERN,        /* a pattern: no fact matches it for any partial match */
	FX_COND_NOT,            /* a `not`: something matches it (fx_whynot.blocking) */
	FX_COND_EXISTS,         /* an `exists`: nothing matches it */
	FX_COND_TEST            /* a `test:` expression: false for every partial match */
} fx_cond_kind;

typedef struct fx_whynot {
	fx_whynot_kind kind;
	int remedy;             /* 1 when the id was taken as a remedy, 0 as a finding */
	long rule;              /* FAILED, PENDING: the closest rule, else -1 */
	unsigned satisfied;     /* FAILED: its top-level conditions satisfied by a partial match */
	unsigned total;         /* its number of top-level conditions */
	unsigned cond;          /* FAILED: index (0-based) of the first condition that fails */
	const char *file;       /* FAILED: that condition's position (file may be NULL) */
	unsigned line, col;
	long question;          /* FAILED: the question whose answer decides it, or -1 */
	const char *answer;     /* the answer that would satisfy it, or NULL */
	fx_cond_kind cond_kind; /* FAILED: the kind of condition `cond` */
	const uint64_t *blocking; /* FAILED on a `not`: the facts that match it for one of the
	                           partial matches reaching it (one fact for a single pattern,
	                           the facts of one match of a conjunction); else NULL */
	size_t nblocking;
} fx_whynot;

/* Explain why finding or remedy `id` is not concluded. Strings are borrowed from the kb,
 * `blocking` from s until the next fx_explain_* call or change of working memory.
 * Returns 0, FX_EINVAL or FX_ENOMEM. */
int fx_explain_why_not(fx_session *s, const char *id, fx_whynot *out);

/* --- Reading text into cases ------------------------------------------------------------------
 * A case is the unit of diagnosis. The reader splits any bytes (CRLF, NUL, invalid UTF-8, lines
 * of any length, endless streams), fed in chunks of any size, into cases with bounded memory; a
 * case larger than the cap is kept in part and flagged, never dropped.
 *
 * Lines: LF, CRLF and a lone CR each end a line; a last line without an end is still a line. A
 * line is blank when it holds only spaces and tabs (or nothing). In every mode a case starts and
 * ends with a non-blank line, and an input with no non-blank line gives no case. */

typedef enum fx_read_mode {
	FX_READ_BLOCKS, /* a case is a run of non-blank lines; blank lines separate cases */
	FX_READ_LINES,  /* each non-blank line is a case */
	FX_READ_WHOLE   /* the whole input is one case (blank lines inside it kept) */
} fx_read_mode;

/* One case, as handed to the callback. Every pointer in it is borrowed: valid only until the
 * callback returns. When the case is longer than the cap, text keeps its first part (cut at a
 * line end near the cap when there is one, never inside a UTF-8 sequence) and len + dropped is
 * the full length. */
typedef struct fx_case {
	uint64_t index;     /* 1-based number of the case in this input */
	uint64_t line;      /* line number (1-based) of its first line in the input */
	uint64_t last_line; /* line number of its last non-blank line, dropped part included */
	uint64_t offset;    /* byte offset (0-based) of its first byte in the input */
	const char *text;   /* its bytes, line ends normalised to \n, no final newline, text[len]
	                       is a NUL; may hold NUL and invalid UTF-8 of its own: use len */
	size_t len;         /* at least 1 */
	uint64_t dropped;   /* bytes not kept because of the cap (0 normally) */
	int truncated;      /* 1 when dropped > 0 */
} fx_case;

/* Receives each case in input order; a non-zero return stops the feeding and is passed on. */
typedef int (*fx_case_fn)(void *ud, const fx_case *c);
typedef struct fx_reader fx_reader;

/* A reader for one input at a time. case_cap: bytes kept of one case, 0 meaning 1 MiB; memory
 * stays within about twice the cap whatever the input. Returns 0, FX_EINVAL (out NULL, unknown
 * mode, cap above SIZE_MAX / 4) or FX_ENOMEM; *out is NULL on failure. */
int fx_reader_new(fx_reader **out, fx_read_mode mode, size_t case_cap);
void fx_reader_free(fx_reader *r); /* NULL is a no-op; a case being built is discarded */
/* Feed len bytes (buf may be NULL when len is 0); fn (may be NULL: cases are then discarded)
 * is called for each case these bytes complete: a block at the end of the blank line after
 * it, a line at its end, a whole input only at fx_reader_finish. Chunk boundaries make no
 * difference. Returns 0, fn's non-zero value (the reader stays usable, positioned just after
 * the line end that completed the case), FX_EINVAL (r NULL, buf NULL with len > 0, or after
 * FX_ENOMEM until the input is finished) or FX_ENOMEM. */
int fx_reader_feed(fx_reader *r, const char *buf, size_t len, fx_case_fn fn, void *ud);
/* End of input: delivers the case still open, if any (a second call does nothing). The reader
 * can then take a new input: the next fx_reader_feed starts numbering cases, lines and offsets
 * again from the beginning. Returns 0, fn's non-zero value, FX_EINVAL (r NULL) or FX_ENOMEM
 * (an earlier feed ran out of memory: the open case is lost). */
int fx_reader_finish(fx_reader *r, fx_case_fn fn, void *ud);

/* --- From text to facts -------------------------------------------------------------------------- */

/* Where a text came from; strings are copied. */
typedef struct fx_origin {
	const char *input;   /* file name, "<stdin>", or any label; NULL for none */
	uint64_t case_index; /* 1-based case number within the input, 0 if none */
	uint64_t line;       /* line of the text's first byte in the input (1-based), 0 if unknown */
	uint64_t offset;     /* byte offset of the text's first byte in the input */
} fx_origin;

/* Match every pattern of the kb against text (one case: arbitrary bytes) and assert the facts
 * their matches produce, each carrying its provenance. Does not run the rules. *nfacts (may be
 * NULL) receives the number of new facts; a fact already present is not new and keeps its
 * provenance. Problems that do not stop the matching (a regex stopped by its match limit, a
 * capture that does not convert to its slot's type, which skips that fact, more than 1000
 * matches of one pattern in the text, the rest being ignored) are passed to the session's
 * warning callback. Returns 0, FX_EINVAL (s NULL, text NULL with len > 0) or FX_ENOMEM (the
 * facts asserted before it stay). A kb without patterns asserts nothing. */
int fx_text_assert(fx_session *s, const char *text, size_t len, const fx_origin *origin,
                   size_t *nfacts);

/* Provenance of a fact asserted from text. */
typedef struct fx_text_origin {
	const char *pattern;       /* the pattern's id */
	const char *input;         /* as given in fx_origin, or NULL */
	uint64_t case_index, line; /* as given in fx_origin */
	size_t start, end;         /* byte span of the match within the text given */
} fx_text_origin;

/* --- Scanning a chunk of lines ------------------------------------------------------------------ */

/* Receives a line [start, end) of the text given to fx_text_scan_lines (end: its LF or CR, or
 * the end of the text). Return 0 to go on; anything else stops the scan and is returned. */
typedef int (*fx_line_fn)(void *ud, size_t start, size_t end);

/* For diagnosing a log line by line at speed: one pass of the kb's literal prefilter over
 * text[0, len), many lines at once, reporting in order each line (lines end at LF or CR) on
 * which some pattern may match. A line not reported asserts nothing when given alone to
 * fx_text_assert, which can then be skipped for it. Returns 0; 1 when the lines cannot be told
 * apart (a pattern with no literal to look for; the prefilter not built yet, which happens once
 * the kb has scanned 64 KiB, or unavailable): every line may match, reported or not;
 * FX_EINVAL (s or fn NULL, text NULL with len > 0), FX_ENOMEM, or fn's non-zero value. A kb
 * without patterns reports no line and returns 0. */
int fx_text_scan_lines(fx_session *s, const char *text, size_t len, fx_line_fn fn, void *ud);

/* 1 and *out filled when the fact came from text, 0 when not (or no such fact). Strings are
 * borrowed until the session is reset or freed. */
int fx_text_origin_get(const fx_session *s, uint64_t id, fx_text_origin *out);

/* Warnings that do not stop a call (regex limits, conversions), as diagnostics with code
 * ("regex-limit", "capture-type", "too-many-matches") and message; file/line refer to the
 * input (origin) when known, col to the byte in that line (counting from the text's first byte
 * on its first line), source_line quotes the line. fn NULL turns warnings off. */
void fx_session_set_warn(fx_session *s, fx_diag_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif /* FIXIT_H */
