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
} fx_remedy_info;

size_t fx_kb_remedy_count(const fx_kb *kb);
/* Index of a remedy by id, or -1. */
long fx_kb_remedy_find(const fx_kb *kb, const char *id);
int fx_kb_remedy_get(const fx_kb *kb, size_t i, fx_remedy_info *out);

size_t fx_kb_pattern_count(const fx_kb *kb);
const char *fx_kb_pattern_name(const fx_kb *kb, size_t i);

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
