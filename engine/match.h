/* match.h: many regexes over one text at once, for turning pasted messages and log files into
 * facts. PCRE2 (through regex.h) decides every match and its captures; Vectorscan, when it pays,
 * only narrows where PCRE2 has to look. The results never depend on whether it was used. */
#ifndef FX_MATCH_H
#define FX_MATCH_H

#include <stddef.h>
#include "buf.h"
#include "regex.h"

typedef struct fx_matcher fx_matcher;
typedef struct fx_match_scratch fx_match_scratch;

/* One regex of the set. The text is copied; it may hold NUL bytes. */
typedef struct fx_match_pattern {
	const char *regex;  /* len bytes */
	size_t len;
	unsigned flags;     /* FX_RE_CASELESS, _MULTILINE, _DOTALL, _EXTENDED of regex.h */
	const fx_regex *re; /* NULL, or the same regex already compiled (a loader's): when it was
	                     * compiled from the same bytes and flags plus FX_RE_START_LIMIT, the
	                     * matcher uses it, borrowed (it must outlive the matcher), instead of
	                     * compiling it a second time; otherwise it is ignored */
} fx_match_pattern;

/* When to build the Vectorscan prefilter, a database of literals taken from the regexes. It
 * saves PCRE2 from reading the parts of a text where a pattern cannot match. */
typedef enum fx_match_prefilter {
	FX_MATCH_PREFILTER_AUTO = 0, /* on the first scan that brings the bytes scanned by this
	                              * matcher (all threads) to auto_bytes */
	FX_MATCH_PREFILTER_ALWAYS,   /* at fx_match_new */
	FX_MATCH_PREFILTER_NEVER     /* PCRE2 alone */
} fx_match_prefilter;

typedef struct fx_match_options {
	fx_match_prefilter prefilter;
	size_t auto_bytes;  /* FX_MATCH_PREFILTER_AUTO's threshold; 0 means FX_MATCH_AUTO_BYTES */
} fx_match_options;

/* The default threshold: below it one PCRE2 pass per pattern costs less than the build. */
#define FX_MATCH_AUTO_BYTES ((size_t)64 << 10)

/* Compiles n patterns (n may be 0; opts may be NULL for the defaults). On success *out owns
 * the matcher and 0 is returned. When a regex does not compile, returns FX_EINVAL with PCRE2's
 * message appended to err, the pattern's index in *bad_pattern and the byte offset in its regex
 * in *bad_offset (err, bad_pattern and bad_offset may be NULL). FX_ENOMEM, or FX_EINVAL for
 * NULL arguments or more than UINT32_MAX - 1 patterns. A Vectorscan failure is not an error:
 * PCRE2 then searches every pattern everywhere. The matcher is immutable (its lazily built
 * prefilter aside, which is thread-safe) and may be shared by threads. */
int fx_match_new(fx_matcher **out, const fx_match_pattern *pats, size_t n,
                 const fx_match_options *opts, fx_buf *err, size_t *bad_pattern,
                 size_t *bad_offset);
void fx_match_free(fx_matcher *m);

size_t fx_match_count(const fx_matcher *m);
/* Capture groups of a pattern, not counting the whole match; 0 for a bad index. */
size_t fx_match_capture_count(const fx_matcher *m, size_t pattern);
/* The name of group `group` (1 .. capture count) of a pattern, or NULL when unnamed or out of
 * range. Owned by m. */
const char *fx_match_capture_name(const fx_matcher *m, size_t pattern, size_t group);
/* The number of the first group of that name, or FX_ENOTFOUND. */
int fx_match_capture_index(const fx_matcher *m, size_t pattern, const char *name);

/* Per-thread working memory for fx_match_scan (PCRE2 match data, Vectorscan scratch, candidate
 * lists), reused from scan to scan. Belongs to one matcher and one thread at a time.
 * 0, FX_ENOMEM or FX_EINVAL. */
int fx_match_scratch_new(fx_match_scratch **out, const fx_matcher *m);
void fx_match_scratch_free(fx_match_scratch *sc);

/* A byte span of the text; both ends FX_MATCH_UNSET for a group that took no part. */
typedef struct fx_match_span {
	size_t start, end;
} fx_match_span;
#define FX_MATCH_UNSET ((size_t)-1)

/* One match: spans[0] is the whole match, spans[g] capture group g, nspans = groups + 1. The
 * spans are valid during the call only. Return 0 to go on; anything else stops the scan, and
 * fx_match_scan returns it (use a negative value). */
typedef int (*fx_match_fn)(void *ud, size_t pattern, const fx_match_span *spans, size_t nspans);
/* A pattern hit a PCRE2 limit (code FX_ELIMIT) in a search that began at `offset`. Its search
 * resumes at the next line; after 16 such hits in one text it gives up on that text. */
typedef void (*fx_match_warn_fn)(void *ud, size_t pattern, size_t offset, int code);

/* Reports every match of every pattern in text[0, len): a pattern's matches are PCRE2's
 * successive non-overlapping ones (after an empty match the next may not be empty at the same
 * offset), at most max_per_pattern of them (0: no limit); the whole is in order of start
 * offset, and in pattern order between matches that start at the same offset. Text is bytes:
 * any value, NULs included; no UTF mode. warn may be NULL. Returns 0, FX_ENOMEM, FX_EINVAL
 * (sc of another matcher), or what fn returned to stop. Thread-safe for distinct scratches. */
int fx_match_scan(const fx_matcher *m, fx_match_scratch *sc, const char *text, size_t len,
                  size_t max_per_pattern, fx_match_fn fn, fx_match_warn_fn warn, void *ud);

/* Receives a line [start, end) of fx_match_lines' text (end at its LF or CR, or the end of the
 * text). Return 0 to go on; anything else stops the scan and is returned (use a negative). */
typedef int (*fx_match_line_fn)(void *ud, size_t start, size_t end);

/* Reports, in order, each line of text[0, len) (lines end at LF or CR) on which some top-level
 * branch of some pattern has an atom of each of its covers and each of its other literal runs,
 * after one Vectorscan pass over the whole text: a line not reported has no match of any
 * pattern when scanned on its own (fx_match_scan of that line alone).
 * Returns 0, 1 when it cannot narrow the lines (a pattern without atoms, no prefilter yet in
 * AUTO mode or none at all): every line, reported or not, may match; FX_EINVAL, or what fn
 * returned to stop. Counts toward FX_MATCH_PREFILTER_AUTO's bytes like a scan. */
int fx_match_lines(const fx_matcher *m, fx_match_scratch *sc, const char *text, size_t len,
                   fx_match_line_fn fn, void *ud);

/* For tests and benchmarks: how the prefilter serves this matcher right now. */
typedef struct fx_match_stats {
	int built;              /* 1 once the Vectorscan database exists */
	size_t prefiltered;     /* patterns with atoms; the others are searched everywhere */
	size_t atoms;           /* literals in the database */
	size_t line_local;      /* patterns whose matches never hold a newline */
	double build_seconds;   /* time the database took to build */
} fx_match_stats;
void fx_match_get_stats(const fx_matcher *m, fx_match_stats *st);
/* An atom: a literal that every match of one top-level branch of a pattern contains (or one of
 * a few alternatives, see cover). */
typedef struct fx_match_atom_info {
	const char *text;       /* len bytes (may hold NUL), owned by the matcher */
	size_t len;
	size_t dmin, dmax;      /* it starts dmin to dmax bytes after the match; dmax SIZE_MAX:
	                         * no bound */
	size_t branch;          /* which top-level branch of the regex */
	size_t cover;           /* atoms of one branch with the same cover are alternatives (from
	                         * an alternation group): every match holds one of them */
	int caseless;           /* looked for regardless of ASCII case */
} fx_match_atom_info;
/* Atom k of a pattern (in branch order): 0, FX_ENOTFOUND past the last one, FX_EINVAL. */
int fx_match_atom(const fx_matcher *m, size_t pattern, size_t k, fx_match_atom_info *out);
/* What the last fx_match_scan with this scratch did. */
typedef struct fx_match_scan_stats {
	int prefiltered;        /* 1 if Vectorscan served it */
	size_t searched;        /* patterns PCRE2 searched (the others cannot have matched) */
	size_t classes;         /* window classes (literal, distances) seen */
	size_t second_pass;     /* frequent classes chosen all the same: a second pass recorded
	                         * their windows */
	size_t saturated;       /* classes with too many windows to be worth using */
	size_t everywhere;      /* patterns searched everywhere because of those */
} fx_match_scan_stats;
void fx_match_scan_stats_get(const fx_match_scratch *sc, fx_match_scan_stats *st);

#endif
