/* regex.h: the one wrapper around PCRE2. Patterns are compiled once at load, and JIT-compiled
 * (when the platform allows) once they have searched enough text to repay it; matching uses
 * per-thread match data owned by the caller and honours match and depth limits, so a
 * pathological pattern stops with FX_ELIMIT. */
#ifndef FX_REGEX_H
#define FX_REGEX_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

typedef struct fx_regex fx_regex;

enum {
	FX_RE_CASELESS = 1 << 0,  /* i */
	FX_RE_MULTILINE = 1 << 1, /* m */
	FX_RE_DOTALL = 1 << 2,    /* s */
	FX_RE_EXTENDED = 1 << 3   /* x */
};

/* Compile. On failure returns NULL, writes PCRE2's message to err and the byte offset in the
 * pattern where it stopped to *erroffset. */
fx_regex *fx_regex_new(const char *pat, size_t len, unsigned flags, fx_buf *err,
                       size_t *erroffset);
void fx_regex_free(fx_regex *re);
/* A regex known to compile (it did when a kb image was written), compiled on first use
 * instead of now: any use works as with fx_regex_new, and a pattern that no longer compiles
 * (another PCRE2) makes its matches fail with FX_EINVAL. names (names[0] NULL, then ngroups
 * capture group names or NULLs; borrowed, must outlive re), when given, answer
 * fx_regex_group_names without compiling. NULL when out of memory. */
fx_regex *fx_regex_new_deferred(const char *pat, size_t len, unsigned flags,
                                const char *const *names, uint32_t ngroups);
/* 1 when re's code exists (not deferred, or used since): for tests. */
int fx_regex_compiled(const fx_regex *re);
/* 1 match, 0 no match, FX_ELIMIT when a match/depth/heap limit stopped it, FX_ENOMEM. */
int fx_regex_match(const fx_regex *re, const char *subject, size_t len);
const char *fx_regex_source(const fx_regex *re);
/* The pattern's length in bytes (it may hold NULs), and the FX_RE_* flags it was compiled
 * with; 0 for NULL. */
size_t fx_regex_source_len(const fx_regex *re);
unsigned fx_regex_flags(const fx_regex *re);

/* A regex is interpreted until its searches have covered about this many bytes (a call counts
 * its length plus a small constant), then JIT-compiled: JIT-compiling costs about what the
 * interpreter spends on some tens of kilobytes, which one pasted message never reaches. */
#define FX_REGEX_JIT_BYTES ((size_t)4 << 10)
/* JIT-compile now rather than later (thread-safe). 1 when the JIT code is ready, 0 when the
 * platform has no JIT or it failed (the interpreter goes on serving), FX_EINVAL. */
int fx_regex_jit_now(const fx_regex *re);
/* 1 when re runs JIT-compiled code, else 0. For tests and benchmarks. */
int fx_regex_is_jit(const fx_regex *re);
/* The capture groups: returns how many the pattern has (not counting the whole match), or
 * FX_EINVAL. names[i] (for i < n) receives the name of group i, or NULL when it has none;
 * names[0], the whole match, is NULL. Names point into re and live as long as it does. A name
 * that several groups share ((?J)) is given to each of them. */
int fx_regex_group_names(const fx_regex *re, const char **names, size_t n);

/* --- Captures and bounded searches, for the text matcher (match.c) ------------------------- */

/* An extra fx_regex_new flag, not one a rule writes: compile so that fx_regex_exec may bound
 * where a match starts (PCRE2_USE_OFFSET_LIMIT). */
enum { FX_RE_START_LIMIT = 1 << 8 };
/* fx_regex_exec option: no empty match at `start` (to iterate past an empty match). */
enum { FX_REGEX_NOTEMPTY_ATSTART = 1 << 0 };
/* An unset capture group in fx_regex_exec's spans, and "no start limit". */
#define FX_REGEX_UNSET ((size_t)-1)

/* Match data for fx_regex_exec: room for ngroups capture groups plus the whole match, and the
 * match limits. Belongs to one thread at a time. NULL when out of memory. */
typedef struct fx_regex_data fx_regex_data;
fx_regex_data *fx_regex_data_new(size_t ngroups);
void fx_regex_data_free(fx_regex_data *d);
/* The leftmost match starting at or after `start` and, unless start_limit is FX_REGEX_UNSET, at
 * or before start_limit (re compiled with FX_RE_START_LIMIT). The whole subject stays visible:
 * `^`, lookbehinds and \b see the bytes before start. On a match returns 1 and writes nspans
 * pairs to spans: spans[0..1] the match, spans[2g..2g+1] group g, as byte offsets,
 * FX_REGEX_UNSET for a group that took no part (or that re does not have). 0 no match,
 * FX_ELIMIT (match/depth/heap limit), FX_ENOMEM, FX_EINVAL (start > len, a start limit
 * without FX_RE_START_LIMIT, d too small for re's groups). */
int fx_regex_exec(const fx_regex *re, fx_regex_data *d, const char *subject, size_t len,
                  size_t start, size_t start_limit, unsigned opts, size_t *spans,
                  size_t nspans);

#endif
