/* match.c: the text matcher. Runs a knowledge base's hundreds of `patterns:` regexes over a
 * pasted message or gigabytes of logs and reports every PCRE2 match with its captures. The only
 * file that includes hs.h: Vectorscan finds where matches may start; PCRE2 (regex.c) decides.
 *
 * Why two engines. PCRE2 alone costs one pass over the text per pattern: fine for a pasted
 * message, hopeless for 1,000 patterns over a big log where 0.3% of the lines match anything.
 * Vectorscan reads the text once for all patterns but has neither captures nor PCRE2's
 * leftmost-first semantics. So Vectorscan only says where to look, and PCRE2 searches there.
 *
 * Atoms, not regexes. The obvious plan, each regex compiled by Vectorscan in prefilter mode,
 * failed on the Vectorscan we build against (Debian 12's 5.4.9): in databases of a few
 * hundred generated regexes it silently lost matches (reduced cases: nine prefilter-mode
 * regexes that hide `reset.*?\d{1,4} `'s match in "reset:Controller process:17973 s"; an
 * HS_FLAG_SOM_LEFTMOST `is\w+\W` that hides caseless `I/O.*is`'s), and its block mode aborts
 * the process (an unconditional snprintf into a 255-byte buffer, fixed upstream in PR #392) on
 * texts over 255 bytes for regexes given a reverse "double vermicelli" accelerator. A lost
 * candidate is a lost fact, so, as YARA does, we give Vectorscan literals only: "atoms", byte
 * strings that every match contains, at a known distance [dmin, dmax] from the match start.
 * Literal databases run Vectorscan's simplest, most used code, compile in milliseconds (full
 * regexes: 1-3 ms each), and pass our differential fuzzing (over a million generated regexes,
 * results equal to PCRE2's alone); we build them in vectored mode, which runs the streaming
 * engine and never that block-mode path, and, for texts too short to reach it (a log line,
 * BLOCK_MAX), in block mode too, whose calls cost half as much.
 *
 * Atoms and covers. A recursive-descent reader of the regex (below) measures the bytes every
 * path matches and collects runs of literal bytes. Each top-level branch offers "covers", sets
 * of atoms one of which every match of the branch holds: a run at branch level (its longest,
 * and for a regex that is not line-local its longest at a bounded distance), or one run from
 * each alternative of an alternation group. A branch without one leaves the regex to be
 * searched everywhere, as do constructs the reader does not know (conditionals, recursion,
 * extended mode, ...) and those that make a search depend on where it starts ((*VERBS), \G,
 * \K). A branch's other runs (up to CHECKS_PER_BRANCH) are not atoms but "checks": looking
 * for them costs nothing until fx_match_lines has a line that holds all the branch's covers.
 * Atoms equal in bytes are one Vectorscan literal; equal also in distances and
 * line-locality they are one "window class", computed once for all its patterns (logs repeat
 * a few subsystem names that many regexes start with).
 *
 * Where to look. An atom found at offset q means a match may start in [q - dmax, q - dmin];
 * when the regex can never match a newline ("line-local", decided conservatively from its
 * text), not before the line of q either. A class's windows are merged into sorted, disjoint
 * intervals (closer than a gap merge too). Every real match starts inside one of those of its
 * cover. To find a pattern's next match from offset pos, PCRE2 searches the whole subject from
 * max(pos, L) with its start limited to U (pcre2_set_offset_limit), [L, U] the first interval
 * with U >= pos: no match starts in [pos, L), so what PCRE2 finds is what an unrestricted
 * search from pos would find. PCRE2 always sees the whole subject, so anchors, lookbehinds and
 * \b behave exactly as without the prefilter. If nothing is found, pos moves past U.
 *
 * Choosing per text. A cover is only as good as its atoms are rare in this text, which the
 * build cannot know. The first Vectorscan pass counts every class's occurrences, recording the
 * windows of at most FIRST_PASS_CAP a class (all of a class that is some branch's only cover);
 * each branch then takes its cheapest cover by a rough cost (a PCRE2 call per window, a byte
 * per start tried), a branch with a cover never seen cannot match, and a pattern none of whose
 * branches can match is skipped. Chosen classes that overflowed the first pass are recorded by
 * a second pass; one with over a window every 512 bytes is not worth it and leaves its pattern
 * to be searched everywhere.
 *
 * Order. Each pattern yields its matches in start order, one pending match per pattern; a
 * binary heap keyed by (start, pattern index) merges them, so memory does not grow with the
 * number of matches and the callback may stop the scan at any point.
 *
 * When. By default the database is built once the matcher has scanned FX_MATCH_AUTO_BYTES
 * (all threads together): below that one PCRE2 pass per pattern costs less than the build, and
 * both grow with the number of patterns. The build happens under a mutex inside a scan; other
 * threads keep scanning without the prefilter until it is ready. Meanwhile a short text
 * (DIRECT_MAX) has its atoms looked for directly, which skips most patterns of a pasted
 * message without compiling them.
 *
 * Loading Vectorscan. libhs is not linked: it is dlopen'ed by the first build of a database.
 * libhs and the C++ runtime it pulls in cost a process about 1.2 ms of dynamic linking
 * (measured: an empty program linked with them starts in 2.5 ms, without them in 1.3 ms), which
 * was a third of diagnosing one pasted message; an input that small never builds a database.
 * When the library cannot be loaded the prefilter fails as on any other Vectorscan failure.
 *
 * Measured (bench/match-bench.c: generated device-log regexes, each with a matching sample; a
 * 50 MB log of which 0.3% of the lines are samples; one core of a shared machine, so +-30%
 * from run to run; MB/s):
 *   patterns  build: PCRE2 alone, with atoms   whole text: atoms, PCRE2   line by line:
 *                                                                         atoms, PCRE2
 *       50        1.1 ms, 2.2 ms                    430, 208                 349, 29
 *      200        3.2 ms, 8.4 ms                    280, 44                  288, 5.2
 *     1000       15.2 ms, 20.2 ms                    99, 8.3                 144, 0.5
 * One 60-byte message: 1.0/1.1/1.1 us with atoms, 2.6/12/166 us with PCRE2 alone. Vectorscan
 * regex databases, for comparison, took 0.2/0.45/1.9 s to build.
 *
 * Costs: Vectorscan O(len + atom occurrences), once or twice; PCRE2 over the chosen windows;
 * merging O(matches log n). The slow case left: a regex that is not line-local (\s matches a
 * newline) whose atoms are all either frequent or at an unbounded distance, such as
 * `md\s+(\S+) failed` in a log full of "failed": PCRE2 then searches each window from the
 * previous one on.
 */
#include "match.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs.h>

#include "fixit.h"
#include "regex.h"
#include "value.h"

/* Shorter atoms occur too often in logs to narrow anything. */
#define MIN_ATOM 3
/* Runs a top-level branch offers as covers by themselves, longest first (plus its longest at
 * a bounded distance); more would let a scan choose better but cost a count each. */
#define ATOMS_PER_BRANCH 1
/* A branch's other runs, up to this many (longest first), are checked on a line that
 * fx_match_lines would otherwise report for it; see "Lines that may match". */
#define CHECKS_PER_BRANCH 4
/* An alternation group with more alternatives offers no cover. */
#define MAX_ALTS 16
/* After this many limit hits in one text a pattern gives up on that text: each costs up to
 * PCRE2's match limit. */
#define MAX_LIMIT_HITS 16
/* A start interval this close to a class's open one joins it; the gap doubles each time the
 * class's interval count reaches a power of two from GAP_GROW_AT on (wider windows cost PCRE2
 * time, so not sooner). */
#define INITIAL_GAP 128
#define GAP_GROW_AT 65536
/* The first Vectorscan pass records this many intervals a class and then only counts: most
 * classes have fewer; a frequent one is recorded in full by a second pass if it is chosen. */
#define FIRST_PASS_CAP 256
/* Texts up to this long are scanned in Vectorscan's block mode, longer ones in vectored mode:
 * the block-mode abort described above needs a text over 255 bytes. */
#define BLOCK_MAX 255
#define UNBOUNDED SIZE_MAX
#define NONE SIZE_MAX

enum { PF_NONE, PF_READY, PF_FAILED };

/* A literal every match of a top-level branch of a pattern contains (or, with the other atoms
 * of its cover, one of which it contains), starting dmin to dmax bytes after the match start.
 * A branch may offer several covers, each enough: a scan uses the cheapest in that text. */
struct atom {
	char *text;                /* len bytes, may hold NUL */
	size_t len;
	size_t dmin, dmax;         /* dmax UNBOUNDED when unknown */
	uint32_t pat;
	uint32_t branch;           /* top-level branch of the regex */
	uint32_t cover;            /* atoms of one cover (same branch) are alternatives: every
	                            * match of the branch holds one of them */
	uint32_t var;              /* its window class */
	unsigned char caseless;    /* the regex may fold case: so must Vectorscan */
};

/* Atoms shared: a literal is looked for once (its index is its Vectorscan id), and the
 * windows of a class (literal, distances, line-locality) are computed once for all the
 * patterns that use it: logs repeat a few subsystem names that many regexes start with. */
struct lit {
	const char *text;          /* an atom's text */
	size_t len;
	uint32_t var0, var1;       /* its classes: vars[var0, var1) */
	unsigned char caseless;
};

struct var {
	size_t dmin, dmax, len;    /* as in struct atom; len of the literal */
	uint32_t user0, user1;     /* the patterns using it: users[user0, user1) */
	unsigned char line_local;
	unsigned char sole;        /* in the only cover of some branch: always used if seen, so
	                            * recorded in full by the first pass */
};

struct pat {
	const fx_regex *re;        /* compiled with FX_RE_START_LIMIT: owned or borrowed */
	fx_regex *owned;           /* re when the matcher compiled it, else NULL */
	uint32_t ngroups;          /* capture groups, not counting the whole match */
	const char **names;        /* ngroups + 1 names, [0] and unnamed ones NULL; point into re */
	size_t span_off;           /* where its pending match lives in a scratch's spans */
	unsigned char line_local;  /* a match can never contain a newline byte */
	size_t atom0, atom1;       /* its atoms: atoms[atom0, atom1), by branch; none: searched
	                            * everywhere */
};

/* What the lazily built database adds. Written once under lock, before state turns ready. */
struct prefilter {
	pthread_mutex_t lock;      /* held while building */
	atomic_int state;          /* PF_*; read with acquire, written with release */
	atomic_size_t scanned;     /* bytes scanned so far, for FX_MATCH_PREFILTER_AUTO */
	hs_database_t *db;         /* literal database, vectored mode; expression id: index in
	                            * m->lits */
	hs_database_t *block_db;   /* the same in block mode, for texts of at most BLOCK_MAX
	                            * bytes; NULL if it did not build */
	double build_seconds;
};

/* For fx_match_lines: an atom's literal seen on a line counts toward its cover of its branch. */
struct lref {
	uint32_t br;               /* the branch, an index into fx_matcher.lbr */
	uint32_t bit;              /* the cover's bit in that branch's mask */
};

/* A run of literal bytes every match of a top-level branch contains that is not one of its
 * atoms (not in the Vectorscan database): fx_match_lines looks for it in a line before
 * reporting the line for that branch. */
struct check {
	char *text;                /* len bytes, may hold NUL; ASCII lower case when caseless */
	size_t len;
	size_t pivot;              /* the byte of text looked for first: not a space if it can */
	uint32_t pat, branch;      /* whose */
	unsigned char caseless;    /* compared regardless of ASCII case */
};

/* A top-level branch with atoms, as fx_match_lines sees it. */
struct lbranch {
	uint64_t full;             /* the bits of its covers (at most the first 64) */
	uint32_t chk0, chk1;       /* its checks: fx_matcher.checks[chk0, chk1) */
};

struct fx_matcher {
	struct pat *pats;
	size_t n;
	struct atom *atoms;        /* the atoms of all patterns, natoms of them */
	size_t natoms;
	struct lit *lits;          /* distinct literals, nlits of them */
	size_t nlits;
	struct check *checks;      /* by pattern and branch, nchecks of them */
	size_t nchecks;
	struct lref *lrefs;        /* by literal: lrefs[lref0[i], lref0[i + 1]) are literal i's */
	uint32_t *lref0;           /* nlits + 1 offsets */
	struct lbranch *lbr;       /* the top-level branches with atoms of all patterns, nlbr */
	size_t nlbr;
	struct var *vars;          /* distinct window classes, nvars of them */
	size_t nvars;
	uint32_t *users;           /* patterns by class, see struct var */
	uint32_t *always;          /* the patterns without atoms, searched in every scan */
	size_t nalways;
	size_t nspans;             /* sum over patterns of 2 * (ngroups + 1) */
	size_t max_groups;
	size_t line_local;         /* patterns with line_local set */
	fx_match_prefilter mode;
	size_t auto_bytes;
	struct prefilter *pf;      /* mutable state behind a const matcher */
};

/* Offsets [a, b] where a match may start, by the occurrences of window class `var`. */
struct cand {
	size_t a, b;
	uint32_t var;
	uint32_t pass;             /* the Vectorscan pass that found it */
};

/* Per window class, while collecting; valid when gen is the scratch's gen. */
struct astate {
	size_t open;               /* its interval in cands being extended */
	size_t ncand;              /* its intervals so far (in the current pass) */
	size_t gap;                /* the merge distance */
	size_t hits;               /* occurrences of its literal (first pass) */
	size_t last;               /* the last interval's end (first pass) */
	size_t first, count;       /* at the end, its intervals: sorted[first, first + count) */
	double cost;               /* estimated PCRE2 work over its windows */
	unsigned gen;
	unsigned char overflow;    /* first pass: more than FIRST_PASS_CAP intervals, the rest
	                            * only counted */
	unsigned char want;        /* overflowed but chosen: recorded in full by a second pass */
	unsigned char saturated;   /* recorded in full but past the cap: unusable */
};

struct pstate {
	size_t pos;                /* the next match starts here or later */
	const struct cand *iv;     /* its intervals, iv[ci, cend) still ahead; NULL (a chosen
	                            * class saturated): searched everywhere */
	size_t ci, cend;
	size_t found;              /* matches reported */
	unsigned hits;             /* PCRE2 limit hits */
	unsigned gen;              /* collecting: the scan that last saw one of its atoms */
	size_t ch0, nch;           /* collecting: the classes chosen for it, sc->chosen[ch0,
	                            * ch0 + nch) */
	unsigned char empty;       /* the last match was empty and ended at pos */
	unsigned char restricted;  /* search only inside its intervals */
};

struct fx_match_scratch {
	const fx_matcher *m;
	fx_regex_data *rd;         /* PCRE2 match data for the largest group count */
	hs_scratch_t *hs;          /* for m's database, allocated on first use */
	size_t *spans;             /* each pattern's pending match, at pats[p].span_off */
	fx_match_span *out;        /* max_groups + 1 spans handed to the callback */
	struct pstate *ps;         /* one per pattern */
	uint32_t *heap;            /* patterns with a pending match, min-heap on (start, index) */
	size_t nheap;
	struct astate *as;         /* one per window class */
	struct cand *cands;        /* collected intervals in report order */
	size_t ncands, capcands;
	struct cand *sorted;       /* the same grouped by class, each sorted and disjoint */
	size_t capsorted;
	struct cand *merged;       /* patterns with several chosen classes: their intervals */
	size_t capmerged;
	uint32_t *tvars;           /* classes seen in this scan, ntvars of them */
	size_t ntvars;
	size_t cap;                /* collecting: intervals a wanted class may have */
	size_t budget;             /* collecting: intervals all classes may still add, which
	                            * bounds the memory (past it, classes with few still may) */
	uint32_t pass;             /* collecting: 1, or 2 for the wanted classes */
	uint32_t *chosen;          /* per touched pattern, the classes serving it: chosen[ch0,
	                            * ch0 + nch) of its pstate; capchosen of room */
	size_t nchosen, capchosen;
	uint32_t *touched;         /* patterns that may match in this scan, ntouched of them;
	                            * gen marks what a scan saw, so it costs nothing for the
	                            * patterns and classes it does not see */
	size_t ntouched;
	unsigned gen;
	fx_match_scan_stats last;  /* what the last scan did */
	const char *text;          /* collecting: the text scanned */
	size_t ls_q, ls_val;       /* collecting: the line of offset ls_q starts at ls_val */
	int oom;                   /* collecting: an allocation failed */
	struct lbstate *lb;        /* fx_match_lines: per branch (fx_matcher.lbr), the covers
	                            * seen on the line being read */
	unsigned lgen;             /* fx_match_lines: the number of that line; lb entries of
	                            * another number are stale (no cover seen) */
	char *fold;                /* fx_match_lines: the line in ASCII lower case, for checks */
	size_t capfold;
};

struct lbstate {
	uint64_t seen;             /* bits of its covers seen (fx_matcher.lbr) */
	unsigned gen;              /* the line they were seen on (fx_match_scratch.lgen) */
	unsigned char failed;      /* all were seen there, but not all its checks */
};

/* Everything one scan needs, passed around instead of a long argument list. */
struct scan {
	const fx_matcher *m;
	fx_match_scratch *sc;
	const char *text;
	size_t len;
	size_t max;
	fx_match_warn_fn warn;
	void *ud;
};

/* The Vectorscan functions we call, from the library loaded on first use (vs_load). */
struct vs_api {
	hs_error_t (*valid_platform)(void);
	hs_error_t (*compile_lit_multi)(const char *const *exprs, const unsigned *flags,
	                                const unsigned *ids, const size_t *lens, unsigned n,
	                                unsigned mode, const hs_platform_info_t *platform,
	                                hs_database_t **db, hs_compile_error_t **err);
	hs_error_t (*free_compile_error)(hs_compile_error_t *err);
	hs_error_t (*free_database)(hs_database_t *db);
	hs_error_t (*alloc_scratch)(const hs_database_t *db, hs_scratch_t **scratch);
	hs_error_t (*free_scratch)(hs_scratch_t *scratch);
	hs_error_t (*scan_vector)(const hs_database_t *db, const char *const *data,
	                          const unsigned int *length, unsigned int count,
	                          unsigned int flags, hs_scratch_t *scratch,
	                          match_event_handler onEvent, void *ctx);
	hs_error_t (*scan)(const hs_database_t *db, const char *data, unsigned int length,
	                   unsigned int flags, hs_scratch_t *scratch, match_event_handler onEvent,
	                   void *ctx);
};

/* Process-wide, written once under vs_once and read-only after: the library stays loaded for
 * the life of the process, as a linked one would. */
static pthread_once_t vs_once = PTHREAD_ONCE_INIT;
static struct vs_api vs;
static int vs_loaded;

#define VS_STR2(x) #x
#define VS_STR(x) VS_STR2(x)
/* The library's soname for the major version of hs.h we compiled against. */
#define VS_SONAME "libhs.so." VS_STR(HS_MAJOR)

/* dlsym's object pointer to a function pointer, without the cast ISO C leaves undefined. */
static int vs_sym(void *lib, const char *name, void *fn, size_t size)
{
	void *p = dlsym(lib, name);
	if (!p || size != sizeof p)
		return 0;
	memcpy(fn, &p, size);
	return 1;
}

static void vs_load_once(void)
{
	void *lib = dlopen(VS_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return;
	struct vs_api a;
	int ok = vs_sym(lib, "hs_valid_platform", &a.valid_platform, sizeof a.valid_platform) &&
	         vs_sym(lib, "hs_compile_lit_multi", &a.compile_lit_multi,
	                sizeof a.compile_lit_multi) &&
	         vs_sym(lib, "hs_free_compile_error", &a.free_compile_error,
	                sizeof a.free_compile_error) &&
	         vs_sym(lib, "hs_free_database", &a.free_database, sizeof a.free_database) &&
	         vs_sym(lib, "hs_alloc_scratch", &a.alloc_scratch, sizeof a.alloc_scratch) &&
	         vs_sym(lib, "hs_free_scratch", &a.free_scratch, sizeof a.free_scratch) &&
	         vs_sym(lib, "hs_scan_vector", &a.scan_vector, sizeof a.scan_vector) &&
	         vs_sym(lib, "hs_scan", &a.scan, sizeof a.scan);
	if (!ok) {
		dlclose(lib);
		return;
	}
	vs = a;
	vs_loaded = 1;
}

/* 1 when Vectorscan is loaded (loading it the first time), 0 when it cannot be. */
static int vs_load(void)
{
	pthread_once(&vs_once, vs_load_once);
	return vs_loaded;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t add_sat(size_t a, size_t b)
{
	return a > UNBOUNDED - b ? UNBOUNDED : a + b;
}

static size_t mul_sat(size_t a, size_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > UNBOUNDED / b ? UNBOUNDED : a * b;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ============================================================================================
 * Reading the regex text: line-locality
 * ========================================================================================== */

/* Skips \Q...\E from i (at the Q); returns the index after it. */
static size_t skip_quote(const char *p, size_t len, size_t i)
{
	for (i++; i + 1 < len; i++)
		if (p[i] == '\\' && p[i + 1] == 'E')
			return i + 2;
	return len;
}

/* A bracket class from i (at '['). Returns the index after it, or NONE if it might match a
 * newline: negated, an escape or POSIX class that could, or no closing bracket. */
static size_t class_safe(const char *p, size_t len, size_t i)
{
	static const char *const posix_ok[] = {"alpha", "digit", "alnum", "upper", "lower",
	                                       "punct", "xdigit", "word", "graph", "print",
	                                       "blank"};
	i++;
	if (i < len && p[i] == '^')
		return NONE;
	if (i < len && p[i] == ']')
		i++;
	while (i < len && p[i] != ']') {
		if (p[i] == '[' && i + 1 < len && p[i + 1] == ':') {
			size_t j = i + 2, k = j;
			while (k + 1 < len && !(p[k] == ':' && p[k + 1] == ']'))
				k++;
			if (k + 1 >= len)
				return NONE;
			int ok = 0;
			for (size_t x = 0; x < sizeof posix_ok / sizeof posix_ok[0]; x++)
				if (strlen(posix_ok[x]) == k - j && memcmp(posix_ok[x], p + j, k - j) == 0)
					ok = 1;
			if (!ok)
				return NONE;
			i = k + 2;
		} else if (p[i] == '\\' && i + 1 < len) {
			unsigned char c = (unsigned char)p[i + 1];
			if (c == 'Q') {
				i = skip_quote(p, len, i + 1);
				continue;
			}
			/* Inside a class an escape may be a range's low end: \t-~ holds a newline. */
			if (is_alnum(c) && c != 'E' && !strchr("dwShV", c))
				return NONE;
			i += 2;
		} else {
			i++;
		}
	}
	return i < len ? i + 1 : NONE;
}

/* 1 when no match of the pattern can contain a newline byte, judged from the text alone and
 * conservatively: any construct that might match one (\s, \n, \x.., octal, [^..], DOTALL, a
 * raw control byte, which could also start a range, ...) says no. */
static int line_local(const char *p, size_t len, unsigned flags)
{
	if (flags & FX_RE_DOTALL)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] <= '\n')
			return 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\\' && i + 1 < len) {
			unsigned char e = (unsigned char)p[i + 1];
			if (e == 'Q') {
				i = skip_quote(p, len, i + 1);
				continue;
			}
			/* Outside a class these are single characters other than a newline, or
			 * assertions, or references to groups that are themselves line-local. Digits
			 * are out: \12 may be octal. */
			if (is_alnum(e) && !strchr("dwSbBAzZGKhVNrfetagkE", e))
				return 0;
			i += 2;
		} else if (c == '[') {
			i = class_safe(p, len, i);
			if (i == NONE)
				return 0;
		} else if (c == '(' && i + 1 < len && p[i + 1] == '?') {
			/* Inline options: (?s) would let '.' match a newline. */
			size_t j = i + 2;
			while (j < len && (is_alnum((unsigned char)p[j]) || p[j] == '^' || p[j] == '-')) {
				if (p[j] == 's')
					return 0;
				j++;
			}
			i += 2;
		} else if (c == '(' && i + 1 < len && p[i + 1] == '*') {
			return 0;
		} else {
			i++;
		}
	}
	return 1;
}

/* ============================================================================================
 * Reading the regex text: atoms
 *
 * A recursive-descent reader of PCRE2 syntax that tracks, through each top-level branch, the
 * minimum and maximum number of bytes matched so far, and collects the runs of literal bytes
 * that every match of the branch must contain: those at branch level and inside groups that
 * are matched exactly once with a single alternative, and, one level deep, those of each
 * alternative of a group matched exactly once, one of which must be there (the group records
 * how many alternatives it had in nalt, its runs which one they are in). It knows just enough
 * syntax to measure
 * widths; on anything it does not know (conditionals, recursion, \K, (*VERBS), extended mode,
 * odd quantifiers) it gives up and the pattern gets no atom, which costs speed, never matches.
 * ========================================================================================== */

struct run {
	size_t dmin, dmax;         /* width matched before the run */
	size_t off, len;           /* its bytes in reader.lit */
	size_t branch;             /* top-level branch */
	uint32_t disj, alt;        /* disj 0: required in its branch; otherwise alternative alt
	                            * of alternation group disj, one of which is required */
};

struct reader {
	const char *p;
	size_t len, i;
	int caseless;              /* some part of the regex may fold case */
	int bail;                  /* a construct we do not understand */
	size_t branch;             /* current top-level branch */
	/* the literal run being read: open when open_run is set */
	int open_run;
	struct run cur;
	/* the alternation group being read (0: none) and which alternative */
	uint32_t cur_disj, cur_alt;
	/* collected runs and their bytes */
	struct run *runs;
	size_t nruns, capruns;
	char *lit;
	size_t nlit, caplit;
	/* alternatives of each alternation group whose runs were kept, by group number */
	uint32_t *nalt;
	size_t ndisj, capdisj;
};

static void lit_byte(struct reader *r, unsigned char c, size_t dmin, size_t dmax)
{
	if (!r->open_run) {
		r->open_run = 1;
		r->cur = (struct run){dmin, dmax, r->nlit, 0, r->branch, r->cur_disj, r->cur_alt};
	}
	if (r->nlit == r->caplit) {
		size_t cap = r->caplit ? 2 * r->caplit : 64;
		char *nl = realloc(r->lit, cap);
		if (!nl) {
			r->bail = 1;
			return;
		}
		r->lit = nl;
		r->caplit = cap;
	}
	r->lit[r->nlit++] = (char)c;
	r->cur.len++;
}

static void close_run(struct reader *r)
{
	if (!r->open_run)
		return;
	r->open_run = 0;
	if (r->nruns == r->capruns) {
		size_t cap = r->capruns ? 2 * r->capruns : 16;
		struct run *nr = realloc(r->runs, cap * sizeof *nr);
		if (!nr) {
			r->bail = 1;
			return;
		}
		r->runs = nr;
		r->capruns = cap;
	}
	r->runs[r->nruns++] = r->cur;
}

/* A quantifier at r->i, if any: 1 with its bounds (hi UNBOUNDED for none), consumed with
 * its lazy/possessive suffix; 0 when there is none; bail when unsure. */
static int quantifier(struct reader *r, size_t *lo, size_t *hi)
{
	const char *p = r->p;
	size_t i = r->i;
	if (i >= r->len)
		return 0;
	if (p[i] == '*' || p[i] == '+' || p[i] == '?') {
		*lo = p[i] == '+';
		*hi = p[i] == '?' ? 1 : UNBOUNDED;
		i++;
	} else if (p[i] == '{') {
		/* {n}, {n,}, {n,m}; "{,m}" changed meaning across PCRE2 versions: give up. A '{'
		 * not followed by a digit or comma is a literal. */
		if (i + 1 < r->len && p[i + 1] == ',') {
			r->bail = 1;
			return 0;
		}
		if (i + 1 >= r->len || !is_digit((unsigned char)p[i + 1]))
			return 0;
		size_t j = i + 1, a = 0, b;
		while (j < r->len && is_digit((unsigned char)p[j]) && a < 100000)
			a = a * 10 + (size_t)(p[j++] - '0');
		b = a;
		if (j < r->len && p[j] == ',') {
			j++;
			if (j < r->len && is_digit((unsigned char)p[j])) {
				b = 0;
				while (j < r->len && is_digit((unsigned char)p[j]) && b < 100000)
					b = b * 10 + (size_t)(p[j++] - '0');
			} else {
				b = UNBOUNDED;
			}
		}
		if (j >= r->len || p[j] != '}') {
			r->bail = 1;
			return 0;
		}
		*lo = a;
		*hi = b;
		i = j + 1;
	} else {
		return 0;
	}
	if (i < r->len && (p[i] == '?' || p[i] == '+'))
		i++;
	r->i = i;
	return 1;
}

static void read_alt(struct reader *r, int top, size_t dmin, size_t dmax, size_t *wmin,
                     size_t *wmax, size_t *nbranches);

/* One character class from r->i (at '['); always one byte wide. */
static void read_class(struct reader *r)
{
	size_t i = r->i + 1;
	const char *p = r->p;
	if (i < r->len && p[i] == '^')
		i++;
	if (i < r->len && p[i] == ']')
		i++;
	while (i < r->len && p[i] != ']') {
		if (p[i] == '[' && i + 1 < r->len && (p[i + 1] == ':' || p[i + 1] == '.' ||
		                                      p[i + 1] == '=')) {
			char end = p[i + 1];
			size_t k = i + 2;
			while (k + 1 < r->len && !(p[k] == end && p[k + 1] == ']'))
				k++;
			if (k + 1 >= r->len) {
				r->bail = 1;
				return;
			}
			i = k + 2;
		} else if (p[i] == '\\' && i + 1 < r->len) {
			i = p[i + 1] == 'Q' ? skip_quote(p, r->len, i + 1) : i + 2;
		} else {
			i++;
		}
	}
	if (i >= r->len)
		r->bail = 1;
	r->i = i + 1;
}

/* An escape from r->i (at '\'). Sets *lit to the byte for a literal escape (returning 1), or
 * the width for the others (returning 0); \Q...\E runs are read here too (returning 2). */
static int read_escape(struct reader *r, int *lit, size_t *wmin, size_t *wmax, size_t dmin,
                       size_t dmax)
{
	const char *p = r->p;
	size_t i = r->i + 1;
	if (i >= r->len) {
		r->bail = 1;
		return 0;
	}
	unsigned char e = (unsigned char)p[i];
	r->i = i + 1;
	*wmin = *wmax = 1;
	if (!is_alnum(e)) {
		*lit = e;
		return 1;
	}
	switch (e) {
	case 'a': *lit = 7; return 1;
	case 'e': *lit = 27; return 1;
	case 'f': *lit = 12; return 1;
	case 'n': *lit = 10; return 1;
	case 'r': *lit = 13; return 1;
	case 't': *lit = 9; return 1;
	case 'x': {
		int v = 0, n = 0;
		if (r->i < r->len && p[r->i] == '{') {
			size_t j = r->i + 1;
			while (j < r->len && fx_hex_digit((unsigned char)p[j]) >= 0 && v < 256)
				v = v * 16 + fx_hex_digit((unsigned char)p[j++]), n++;
			if (j >= r->len || p[j] != '}' || n == 0 || v > 255) {
				r->bail = 1;
				return 0;
			}
			r->i = j + 1;
		} else {
			while (n < 2 && r->i < r->len && fx_hex_digit((unsigned char)p[r->i]) >= 0)
				v = v * 16 + fx_hex_digit((unsigned char)p[r->i++]), n++;
			if (n == 0) { /* "\x" alone: not worth knowing what it means */
				r->bail = 1;
				return 0;
			}
		}
		*lit = v;
		return 1;
	}
	case 'Q': {
		/* A quantifier after \E would take only the last quoted byte: give up then. */
		size_t j = r->i;
		while (j < r->len && !(p[j] == '\\' && j + 1 < r->len && p[j + 1] == 'E')) {
			lit_byte(r, (unsigned char)p[j], dmin, dmax);
			dmin = add_sat(dmin, 1);
			dmax = add_sat(dmax, 1);
			j++;
		}
		r->i = j < r->len ? j + 2 : r->len;
		if (r->i < r->len && strchr("*+?{", p[r->i]))
			r->bail = 1;
		*wmin = *wmax = j - i - 1;
		return 2;
	}
	case 'E':
		*wmin = *wmax = 0;
		return 0;
	case 'b': case 'B': case 'A': case 'z': case 'Z':
		*wmin = *wmax = 0;
		return 0;
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
	case 'h': case 'H': case 'v': case 'V': case 'C':
		return 0;
	case 'N':
		if (r->i < r->len && p[r->i] == '{')
			r->bail = 1;
		return 0;
	case 'R':
		*wmax = 2;
		return 0;
	case 'X':
		*wmax = UNBOUNDED;
		return 0;
	case 'p': case 'P':
		if (r->i < r->len && p[r->i] == '{') {
			while (r->i < r->len && p[r->i] != '}')
				r->i++;
			if (r->i >= r->len)
				r->bail = 1;
			r->i++;
		} else if (r->i < r->len) {
			r->i++;
		} else {
			r->bail = 1;
		}
		return 0;
	case 'g': case 'k': {
		/* Back references: anything from nothing up. \g<..> and \g'..' are subroutine
		 * calls, which we do not follow. */
		*wmin = 0;
		*wmax = UNBOUNDED;
		if (r->i >= r->len) {
			r->bail = 1;
			return 0;
		}
		char o = p[r->i];
		if (e == 'g' && (o == '<' || o == '\'')) {
			r->bail = 1;
			return 0;
		}
		if (o == '{' || o == '<' || o == '\'') {
			char c = o == '{' ? '}' : o == '<' ? '>' : '\'';
			while (r->i < r->len && p[r->i] != c)
				r->i++;
			if (r->i >= r->len)
				r->bail = 1;
			r->i++;
		} else if (e == 'g') {
			if (p[r->i] == '+' || p[r->i] == '-')
				r->i++;
			while (r->i < r->len && is_digit((unsigned char)p[r->i]))
				r->i++;
		} else {
			r->bail = 1;
		}
		return 0;
	}
	default:
		if (is_digit(e) && e != '0') {
			/* A back reference, or an octal byte: in any case within [0, inf). */
			while (r->i < r->len && is_digit((unsigned char)p[r->i]))
				r->i++;
			*wmin = 0;
			*wmax = UNBOUNDED;
			return 0;
		}
		/* \0 octal, \c, \o, \K, \G, \u, ...: not worth it. */
		r->bail = 1;
		return 0;
	}
}

/* A group from r->i (at '('), its quantifier included. */
static void read_group(struct reader *r, size_t dmin, size_t dmax, size_t *wmin, size_t *wmax)
{
	const char *p = r->p;
	size_t i = r->i + 1;
	int look = 0;
	*wmin = *wmax = 0;
	if (i < r->len && p[i] == '*') {
		r->bail = 1;
		return;
	}
	if (i < r->len && p[i] == '?') {
		i++;
		if (i >= r->len) {
			r->bail = 1;
			return;
		}
		char c = p[i];
		if (c == '#') {
			while (i < r->len && p[i] != ')')
				i++;
			r->i = i + 1;
			if (i >= r->len)
				r->bail = 1;
			return;
		}
		if (c == ':' || c == '|' || c == '>') {
			i++;
		} else if (c == '=' || c == '!') {
			look = 1;
			i++;
		} else if (c == '<' && i + 1 < r->len && (p[i + 1] == '=' || p[i + 1] == '!')) {
			look = 1;
			i += 2;
		} else if (c == '<' || c == '\'' || (c == 'P' && i + 1 < r->len && p[i + 1] == '<')) {
			char end = c == '\'' ? '\'' : '>';
			while (i < r->len && p[i] != end)
				i++;
			i++;
		} else {
			/* Option letters, then ')' (for the rest of the enclosing group) or ':'. */
			size_t j = i;
			while (j < r->len && (is_alnum((unsigned char)p[j]) || p[j] == '-' ||
			                      p[j] == '^')) {
				if (!strchr("imnsJU-^", p[j])) {
					r->bail = 1; /* (?R), (?1), (?C..), extended mode, ... */
					return;
				}
				if (p[j] == 'i')
					r->caseless = 1;
				j++;
			}
			if (j == i || j >= r->len || (p[j] != ')' && p[j] != ':')) {
				r->bail = 1;
				return;
			}
			if (p[j] == ')') {
				r->i = j + 1;
				return;
			}
			i = j + 1;
		}
	}
	r->i = i;
	/* Number the group, for its runs to say which alternative they are in. */
	if (r->ndisj + 1 >= r->capdisj) {
		size_t cap = r->capdisj ? 2 * r->capdisj : 16;
		uint32_t *na = realloc(r->nalt, cap * sizeof *na);
		if (!na) {
			r->bail = 1;
			return;
		}
		r->nalt = na;
		r->capdisj = cap;
	}
	uint32_t d = (uint32_t)++r->ndisj, outer_disj = r->cur_disj, outer_alt = r->cur_alt;
	r->nalt[d] = 0;
	r->cur_disj = d;
	r->cur_alt = 0;
	size_t keep = r->nruns, gmin, gmax, nb;
	read_alt(r, 0, dmin, dmax, &gmin, &gmax, &nb);
	r->cur_disj = outer_disj;
	r->cur_alt = outer_alt;
	if (r->bail)
		return;
	if (r->i >= r->len || p[r->i] != ')') {
		r->bail = 1;
		return;
	}
	r->i++;
	size_t lo = 1, hi = 1;
	int q = quantifier(r, &lo, &hi);
	/* The literals inside count only if the group is matched exactly once. With one
	 * alternative they belong to the enclosing context; with several they form an
	 * alternation (one of them is required), unless that context is itself an alternative:
	 * we go one level deep only. Deeper alternations inside were dropped when they closed,
	 * or are dropped here. */
	if (look || (q && (lo != 1 || hi != 1)) || (nb > 1 && outer_disj != 0)) {
		r->nruns = keep;
	} else {
		size_t k = keep;
		for (size_t j = keep; j < r->nruns; j++) {
			struct run u = r->runs[j];
			if (u.disj == d && nb == 1) {
				u.disj = outer_disj;
				u.alt = outer_alt;
			} else if (u.disj != d && outer_disj != 0) {
				continue;
			}
			r->runs[k++] = u;
		}
		r->nruns = k;
		if (nb > 1)
			r->nalt[d] = (uint32_t)nb;
	}
	if (look)
		return;
	*wmin = mul_sat(gmin, lo);
	*wmax = hi == UNBOUNDED ? (gmax ? UNBOUNDED : 0) : mul_sat(gmax, hi);
}

/* One alternative: items up to '|', ')' or the end. */
static void read_branch(struct reader *r, size_t dmin, size_t dmax, size_t *wmin, size_t *wmax)
{
	const char *p = r->p;
	size_t smin = 0, smax = 0; /* width of the branch so far */
	while (!r->bail && r->i < r->len && p[r->i] != '|' && p[r->i] != ')') {
		size_t at_min = add_sat(dmin, smin), at_max = add_sat(dmax, smax);
		size_t imin = 1, imax = 1;
		int lit = -1;
		unsigned char c = (unsigned char)p[r->i];
		if (c == '\\') {
			int k = read_escape(r, &lit, &imin, &imax, at_min, at_max);
			if (k == 2) { /* \Q...\E: already added as literal bytes */
				smin = add_sat(smin, imin);
				smax = add_sat(smax, imax);
				continue;
			}
			if (k == 0)
				lit = -1;
		} else if (c == '[') {
			read_class(r);
		} else if (c == '(') {
			close_run(r);
			read_group(r, at_min, at_max, &imin, &imax);
			smin = add_sat(smin, imin);
			smax = add_sat(smax, imax);
			continue;
		} else if (c == '^' || c == '$') {
			imin = imax = 0;
			r->i++;
		} else if (c == '.') {
			r->i++;
		} else if (c == '*' || c == '+' || c == '?') {
			r->bail = 1; /* a quantifier with nothing before it: PCRE2 would not compile */
			return;
		} else {
			lit = c;
			r->i++;
		}
		if (r->bail)
			return;
		size_t lo, hi;
		if (quantifier(r, &lo, &hi)) {
			close_run(r);
			imin = mul_sat(imin, lo);
			imax = hi == UNBOUNDED ? (imax ? UNBOUNDED : 0) : mul_sat(imax, hi);
		} else if (r->bail) {
			return;
		} else if (lit >= 0) {
			lit_byte(r, (unsigned char)lit, at_min, at_max);
		} else {
			close_run(r);
		}
		smin = add_sat(smin, imin);
		smax = add_sat(smax, imax);
	}
	close_run(r);
	*wmin = smin;
	*wmax = smax;
}

static void read_alt(struct reader *r, int top, size_t dmin, size_t dmax, size_t *wmin,
                     size_t *wmax, size_t *nbranches)
{
	size_t mn = UNBOUNDED, mx = 0, nb = 0;
	for (;;) {
		size_t bmin, bmax;
		read_branch(r, dmin, dmax, &bmin, &bmax);
		nb++;
		if (bmin < mn)
			mn = bmin;
		if (bmax > mx)
			mx = bmax;
		if (r->bail || r->i >= r->len || r->p[r->i] != '|')
			break;
		r->i++;
		if (top)
			r->branch++;
		else
			r->cur_alt++;
	}
	*wmin = mn;
	*wmax = mx;
	*nbranches = nb;
}

/* Appends an atom made of run u. 0 or FX_ENOMEM. */
static int add_atom(const struct reader *r, const struct run *u, uint32_t pat, uint32_t cover,
                    struct atom **atoms, size_t *natoms, size_t *cap)
{
	if (*natoms == *cap) {
		size_t nc = *cap ? 2 * *cap : 64;
		struct atom *na = realloc(*atoms, nc * sizeof *na);
		if (!na)
			return FX_ENOMEM;
		*atoms = na;
		*cap = nc;
	}
	struct atom *a = &(*atoms)[*natoms];
	a->text = malloc(u->len);
	if (!a->text)
		return FX_ENOMEM;
	memcpy(a->text, r->lit + u->off, u->len);
	a->len = u->len;
	a->dmin = u->dmin;
	a->dmax = u->dmax;
	a->pat = pat;
	a->branch = (uint32_t)u->branch;
	a->cover = cover;
	a->caseless = (unsigned char)r->caseless;
	(*natoms)++;
	return 0;
}

/* Room for the matcher's atoms and checks while they are collected. */
struct caps {
	size_t atoms, checks;
};

/* Appends a check made of run u. 0 or FX_ENOMEM. */
static int add_check(fx_matcher *m, struct caps *caps, const struct reader *r,
                     const struct run *u, uint32_t pat)
{
	if (m->nchecks == caps->checks) {
		size_t nc = caps->checks ? 2 * caps->checks : 64;
		struct check *n = realloc(m->checks, nc * sizeof *n);
		if (!n)
			return FX_ENOMEM;
		m->checks = n;
		caps->checks = nc;
	}
	struct check *c = &m->checks[m->nchecks];
	c->text = malloc(u->len);
	if (!c->text)
		return FX_ENOMEM;
	memcpy(c->text, r->lit + u->off, u->len);
	for (size_t i = 0; r->caseless && i < u->len; i++)
		if (c->text[i] >= 'A' && c->text[i] <= 'Z')
			c->text[i] = (char)(c->text[i] - 'A' + 'a');
	c->len = u->len;
	c->pivot = 0;
	while (c->pivot + 1 < c->len && c->text[c->pivot] == ' ')
		c->pivot++;
	c->pat = pat;
	c->branch = (uint32_t)u->branch;
	c->caseless = (unsigned char)r->caseless;
	m->nchecks++;
	return 0;
}

/* The longest required run of branch b (outside alternation groups, at least MIN_ATOM
 * bytes, at a bounded distance if asked) that is in neither a[0, na) nor c[0, nc); NULL. */
static const struct run *longest_run(const struct reader *r, size_t b,
                                     const struct run *const *a, size_t na,
                                     const struct run *const *c, size_t nc, int bounded)
{
	const struct run *best = NULL;
	for (size_t k = 0; k < r->nruns; k++) {
		const struct run *u = &r->runs[k];
		int taken = 0;
		for (size_t j = 0; j < na; j++)
			taken |= a[j] == u;
		for (size_t j = 0; j < nc; j++)
			taken |= c[j] == u;
		if (taken || u->branch != b || u->disj != 0 || u->len < MIN_ATOM ||
		    (bounded && u->dmax == UNBOUNDED))
			continue;
		if (!best || u->len > best->len)
			best = u;
	}
	return best;
}

/* The atoms of a regex, by branch and cover, appended to m->atoms, and its checks to
 * m->checks. 0 (maybe with no atom: then the pattern is searched everywhere) or FX_ENOMEM. */
static int find_atoms(fx_matcher *m, struct caps *caps, const char *src, size_t len,
                      unsigned flags, uint32_t pat, int line_local_pat)
{
	struct atom **atoms = &m->atoms;
	size_t *natoms = &m->natoms, *cap = &caps->atoms;
	size_t first_check = m->nchecks;
	struct reader r = {.p = src, .len = len};
	r.caseless = (flags & FX_RE_CASELESS) != 0;
	if (flags & FX_RE_EXTENDED)
		return 0;
	/* Where a search starts may change what it finds: no windows for these. */
	for (size_t i = 0; i + 1 < len; i++)
		if ((src[i] == '(' && src[i + 1] == '*') ||
		    (src[i] == '\\' && (src[i + 1] == 'G' || src[i + 1] == 'K')))
			return 0;
	size_t wmin, wmax, nb;
	read_alt(&r, 1, 0, 0, &wmin, &wmax, &nb);
	int rc = 0;
	size_t first = *natoms;
	if (r.bail || r.i != len)
		goto done;
	/* Each branch offers covers: sets of atoms such that every match of the branch holds
	 * one of them. A required run is a cover by itself: the branch offers its
	 * ATOMS_PER_BRANCH longest and, if the pattern is not line-local, its longest at a
	 * bounded distance (the only kind that bounds such a pattern's windows). An alternation
	 * group whose every alternative has a run offers the longest run of each. Which cover
	 * serves is decided per scan, by what its windows cost there. */
	uint32_t cover = 0;
	for (size_t b = 0; b <= r.branch; b++) {
		const struct run *pick[ATOMS_PER_BRANCH + 1];
		size_t npick = 0, before = *natoms;
		for (int want_bounded = 0; want_bounded <= !line_local_pat; want_bounded++) {
			size_t limit = want_bounded ? npick + 1 : ATOMS_PER_BRANCH;
			for (size_t j = 0; want_bounded && j < npick; j++)
				if (pick[j]->dmax != UNBOUNDED)
					limit = npick;
			while (npick < limit) {
				const struct run *best =
				        longest_run(&r, b, pick, npick, NULL, 0, want_bounded);
				if (!best)
					break;
				pick[npick++] = best;
			}
		}
		for (size_t j = 0; j < npick; j++)
			if ((rc = add_atom(&r, pick[j], pat, cover++, atoms, natoms, cap)) != 0)
				goto done;
		/* The branch's other required runs, longest first, as checks. */
		const struct run *chk[CHECKS_PER_BRANCH];
		size_t nchk = 0;
		while (npick > 0 && nchk < CHECKS_PER_BRANCH) {
			const struct run *best = longest_run(&r, b, pick, npick, chk, nchk, 0);
			if (!best)
				break;
			chk[nchk++] = best;
		}
		for (size_t j = 0; j < nchk; j++)
			if ((rc = add_check(m, caps, &r, chk[j], pat)) != 0)
				goto done;
		for (uint32_t d = 1; d <= r.ndisj; d++) {
			if (r.nalt[d] < 2)
				continue;
			const struct run *alt[MAX_ALTS];
			uint32_t na = r.nalt[d], a;
			if (na > MAX_ALTS)
				continue;
			for (a = 0; a < na; a++) {
				alt[a] = NULL;
				for (size_t k = 0; k < r.nruns; k++) {
					const struct run *u = &r.runs[k];
					if (u->branch == b && u->disj == d && u->alt == a &&
					    u->len >= MIN_ATOM && (!alt[a] || u->len > alt[a]->len))
						alt[a] = u;
				}
				if (!alt[a])
					break;
			}
			if (a < na)
				continue; /* an alternative without a run: no cover */
			for (a = 0; a < na; a++)
				if ((rc = add_atom(&r, alt[a], pat, cover, atoms, natoms, cap)) != 0)
					goto done;
			cover++;
		}
		if (*natoms == before) { /* a branch without atoms: search the pattern everywhere */
			rc = 1;
			goto done;
		}
	}
done:
	if (rc != 0) { /* leave no half-made pattern behind */
		for (size_t k = first; k < *natoms; k++)
			free((*atoms)[k].text);
		*natoms = first;
		for (size_t k = first_check; k < m->nchecks; k++)
			free(m->checks[k].text);
		m->nchecks = first_check;
		if (rc > 0)
			rc = 0;
	}
	free(r.runs);
	free(r.lit);
	free(r.nalt);
	return rc;
}

/* ============================================================================================
 * The prefilter
 * ========================================================================================== */

/* Builds the literal database of all atoms and publishes it (state PF_READY), or marks the
 * prefilter PF_FAILED when it cannot be built. FX_ENOMEM leaves the state as it was. Called
 * with pf->lock held. */
static int build_prefilter(const fx_matcher *m)
{
	struct prefilter *pf = m->pf;
	double t0 = now();
	size_t k = m->nlits ? m->nlits : 1;
	int rc = FX_ENOMEM;
	const char **exprs = calloc(k, sizeof *exprs);
	unsigned *flags = calloc(k, sizeof *flags);
	unsigned *ids = calloc(k, sizeof *ids);
	size_t *lens = calloc(k, sizeof *lens);
	hs_database_t *db = NULL;
	if (!exprs || !flags || !ids || !lens)
		goto done;
	rc = 0;
	if (m->nlits == 0 || m->nlits > UINT_MAX || !vs_load() ||
	    vs.valid_platform() != HS_SUCCESS)
		goto done;
	for (size_t i = 0; i < m->nlits; i++) {
		exprs[i] = m->lits[i].text;
		lens[i] = m->lits[i].len;
		flags[i] = m->lits[i].caseless ? HS_FLAG_CASELESS : 0;
		ids[i] = (unsigned)i;
	}
	hs_compile_error_t *cerr = NULL;
	if (vs.compile_lit_multi(exprs, flags, ids, lens, (unsigned)m->nlits, HS_MODE_VECTORED,
	                         NULL, &db, &cerr) != HS_SUCCESS) {
		vs.free_compile_error(cerr);
		db = NULL;
		goto done;
	}
	/* Block mode costs less than half as much a call (70 against 160 ns for a log line, 200
	 * literals), which matters when each line of a log is a text. */
	cerr = NULL;
	if (vs.compile_lit_multi(exprs, flags, ids, lens, (unsigned)m->nlits, HS_MODE_BLOCK, NULL,
	                         &pf->block_db, &cerr) != HS_SUCCESS) {
		vs.free_compile_error(cerr);
		pf->block_db = NULL;
	}
	pf->db = db;
	pf->build_seconds = now() - t0;
	atomic_store_explicit(&pf->state, PF_READY, memory_order_release);
done:
	if (rc == 0 && !db)
		atomic_store_explicit(&pf->state, PF_FAILED, memory_order_release);
	free(exprs);
	free(flags);
	free(ids);
	free(lens);
	return rc;
}

/* Is the prefilter ready for a scan of len bytes? In AUTO mode, builds it when the bytes
 * scanned so far reach the threshold, unless another thread is building it right now. */
static int prefilter_ready(const fx_matcher *m, size_t len)
{
	struct prefilter *pf = m->pf;
	int st = atomic_load_explicit(&pf->state, memory_order_acquire);
	if (st != PF_NONE || m->mode != FX_MATCH_PREFILTER_AUTO)
		return st == PF_READY;
	size_t before = atomic_fetch_add_explicit(&pf->scanned, len, memory_order_relaxed);
	if (before < m->auto_bytes && len < m->auto_bytes - before)
		return 0;
	if (pthread_mutex_trylock(&pf->lock) != 0)
		return 0;
	if (atomic_load_explicit(&pf->state, memory_order_acquire) == PF_NONE)
		(void)build_prefilter(m); /* out of memory: try again on a later scan */
	pthread_mutex_unlock(&pf->lock);
	return atomic_load_explicit(&pf->state, memory_order_acquire) == PF_READY;
}

/* ============================================================================================
 * Matcher
 * ========================================================================================== */

/* Sort keys of atoms, to find the shared literals and classes. */
struct akey {
	const struct atom *a;
	unsigned char line_local;
};

static int cmp_lit(const struct atom *x, const struct atom *y)
{
	if (x->caseless != y->caseless)
		return x->caseless < y->caseless ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->text, y->text, x->len);
}

static int cmp_akey(const void *xp, const void *yp)
{
	const struct akey *x = xp, *y = yp;
	int c = cmp_lit(x->a, y->a);
	if (c)
		return c;
	if (x->a->dmin != y->a->dmin)
		return x->a->dmin < y->a->dmin ? -1 : 1;
	if (x->a->dmax != y->a->dmax)
		return x->a->dmax < y->a->dmax ? -1 : 1;
	if (x->line_local != y->line_local)
		return x->line_local < y->line_local ? -1 : 1;
	return (x->a->pat > y->a->pat) - (x->a->pat < y->a->pat);
}

/* Groups the atoms into distinct literals and window classes, with each class's users. */
static int share_atoms(fx_matcher *m)
{
	size_t n = m->natoms ? m->natoms : 1;
	struct akey *k = malloc(n * sizeof *k);
	m->lits = malloc(n * sizeof *m->lits);
	m->vars = malloc(n * sizeof *m->vars);
	m->users = malloc(n * sizeof *m->users);
	if (!k || !m->lits || !m->vars || !m->users) {
		free(k);
		return FX_ENOMEM;
	}
	for (size_t i = 0; i < m->natoms; i++)
		k[i] = (struct akey){&m->atoms[i], m->pats[m->atoms[i].pat].line_local};
	qsort(k, m->natoms, sizeof *k, cmp_akey);
	size_t nusers = 0;
	for (size_t i = 0; i < m->natoms; i++) {
		const struct atom *a = k[i].a;
		int new_lit = i == 0 || cmp_lit(k[i - 1].a, a) != 0;
		int new_var = new_lit || k[i - 1].a->dmin != a->dmin ||
		              k[i - 1].a->dmax != a->dmax || k[i - 1].line_local != k[i].line_local;
		if (new_lit)
			m->lits[m->nlits++] = (struct lit){a->text, a->len, (uint32_t)m->nvars,
			                                   (uint32_t)m->nvars, a->caseless};
		if (new_var) {
			m->vars[m->nvars++] = (struct var){a->dmin, a->dmax, a->len, (uint32_t)nusers,
			                                   (uint32_t)nusers, k[i].line_local, 0};
			m->lits[m->nlits - 1].var1++;
		}
		struct var *v = &m->vars[m->nvars - 1];
		if (v->user1 == v->user0 || m->users[v->user1 - 1] != a->pat) {
			m->users[nusers++] = a->pat;
			v->user1++;
		}
		m->atoms[a - m->atoms].var = (uint32_t)(m->nvars - 1);
	}
	free(k);
	/* Mark the classes of the branches that offer a single cover. */
	for (size_t p = 0; p < m->n; p++) {
		const struct pat *pt = &m->pats[p];
		for (size_t i = pt->atom0; i < pt->atom1;) {
			size_t j = i;
			int covers = 1;
			while (j < pt->atom1 && m->atoms[j].branch == m->atoms[i].branch) {
				covers += j > i && m->atoms[j].cover != m->atoms[j - 1].cover;
				j++;
			}
			for (size_t x = i; covers == 1 && x < j; x++)
				m->vars[m->atoms[x].var].sole = 1;
			i = j;
		}
	}
	return 0;
}

/* What fx_match_lines needs: each literal's (branch, cover) uses, and each branch's covers
 * and checks. A branch's covers past the 64th are left out, which only makes its test weaker. */
static int share_lines(fx_matcher *m)
{
	size_t nlv = m->nvars ? m->nvars : 1, na = m->natoms ? m->natoms : 1;
	uint32_t *lit_of = malloc(nlv * sizeof *lit_of);
	uint32_t *at_br = malloc(na * sizeof *at_br), *at_bit = malloc(na * sizeof *at_bit);
	m->lref0 = calloc(m->nlits + 2, sizeof *m->lref0);
	m->lrefs = malloc(na * sizeof *m->lrefs);
	m->lbr = malloc(na * sizeof *m->lbr);
	int rc = FX_ENOMEM;
	if (!lit_of || !at_br || !at_bit || !m->lref0 || !m->lrefs || !m->lbr)
		goto done;
	for (size_t l = 0; l < m->nlits; l++)
		for (uint32_t v = m->lits[l].var0; v < m->lits[l].var1; v++)
			lit_of[v] = (uint32_t)l;
	/* Number the branches and their covers (atoms are in branch, then cover order); the
	 * checks are in pattern, then branch order. */
	size_t chk = 0;
	for (size_t p = 0; p < m->n; p++) {
		const struct pat *pt = &m->pats[p];
		uint32_t bit = 0;
		struct lbranch *lb = NULL;
		for (size_t i = pt->atom0; i < pt->atom1; i++) {
			const struct atom *a = &m->atoms[i];
			if (i == pt->atom0 || a->branch != m->atoms[i - 1].branch) {
				lb = &m->lbr[m->nlbr++];
				lb->full = 0;
				while (chk < m->nchecks && (m->checks[chk].pat < p ||
				                            (m->checks[chk].pat == p &&
				                             m->checks[chk].branch < a->branch)))
					chk++;
				lb->chk0 = (uint32_t)chk;
				while (chk < m->nchecks && m->checks[chk].pat == p &&
				       m->checks[chk].branch == a->branch)
					chk++;
				lb->chk1 = (uint32_t)chk;
				bit = 0;
			} else if (a->cover != m->atoms[i - 1].cover) {
				bit++;
			}
			at_br[i] = (uint32_t)(m->nlbr - 1);
			at_bit[i] = bit;
			if (bit < 64)
				lb->full |= (uint64_t)1 << bit;
		}
	}
	/* Bucket the uses by literal: count, offsets, fill. */
	for (size_t i = 0; i < m->natoms; i++)
		if (at_bit[i] < 64)
			m->lref0[lit_of[m->atoms[i].var] + 2]++;
	for (size_t l = 0; l < m->nlits; l++)
		m->lref0[l + 2] += m->lref0[l + 1];
	for (size_t i = 0; i < m->natoms; i++)
		if (at_bit[i] < 64)
			m->lrefs[m->lref0[lit_of[m->atoms[i].var] + 1]++] =
			        (struct lref){at_br[i], at_bit[i]};
	rc = 0;
done:
	free(lit_of);
	free(at_br);
	free(at_bit);
	return rc;
}

int fx_match_new(fx_matcher **out, const fx_match_pattern *pats, size_t n,
                 const fx_match_options *opts, fx_buf *err, size_t *bad_pattern,
                 size_t *bad_offset)
{
	if (!out)
		return FX_EINVAL;
	*out = NULL;
	if ((n && !pats) || n >= UINT32_MAX)
		return FX_EINVAL;
	fx_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return FX_ENOMEM;
	m->pf = calloc(1, sizeof *m->pf);
	if (!m->pf || pthread_mutex_init(&m->pf->lock, NULL) != 0) {
		free(m->pf);
		free(m);
		return FX_ENOMEM;
	}
	int rc = FX_ENOMEM;
	m->mode = opts ? opts->prefilter : FX_MATCH_PREFILTER_AUTO;
	m->auto_bytes = opts && opts->auto_bytes ? opts->auto_bytes : FX_MATCH_AUTO_BYTES;
	atomic_init(&m->pf->state, m->mode == FX_MATCH_PREFILTER_NEVER ? PF_FAILED : PF_NONE);
	atomic_init(&m->pf->scanned, 0);
	struct caps caps = {0, 0};
	if (n) {
		m->pats = calloc(n, sizeof *m->pats);
		m->always = calloc(n, sizeof *m->always);
		if (!m->pats || !m->always)
			goto fail;
	}
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		struct pat *pt = &m->pats[i];
		const char *src = pats[i].regex ? pats[i].regex : "";
		size_t len = pats[i].regex ? pats[i].len : 0;
		size_t off = 0;
		unsigned want = pats[i].flags | FX_RE_START_LIMIT;
		const fx_regex *given = pats[i].re;
		if (given && fx_regex_flags(given) == want && fx_regex_source_len(given) == len &&
		    (len == 0 || memcmp(fx_regex_source(given), src, len) == 0))
			pt->re = given;
		else
			pt->re = pt->owned = fx_regex_new(src, len, want, err, &off);
		if (!pt->re) {
			rc = FX_EINVAL;
			if (bad_pattern)
				*bad_pattern = i;
			if (bad_offset)
				*bad_offset = off;
			goto fail;
		}
		int ng = fx_regex_group_names(pt->re, NULL, 0);
		if (ng < 0) {
			rc = ng;
			goto fail;
		}
		pt->ngroups = (uint32_t)ng;
		pt->names = malloc(((size_t)ng + 1) * sizeof *pt->names);
		if (!pt->names)
			goto fail;
		fx_regex_group_names(pt->re, pt->names, (size_t)ng + 1);
		pt->span_off = m->nspans;
		m->nspans += 2 * ((size_t)ng + 1);
		if ((size_t)ng > m->max_groups)
			m->max_groups = (size_t)ng;
		pt->line_local = (unsigned char)line_local(src, len, pats[i].flags);
		m->line_local += pt->line_local;
		pt->atom0 = m->natoms;
		if (find_atoms(m, &caps, src, len, pats[i].flags, (uint32_t)i, pt->line_local) != 0)
			goto fail;
		pt->atom1 = m->natoms;
		if (pt->atom0 == pt->atom1)
			m->always[m->nalways++] = (uint32_t)i;
	}
	if (share_atoms(m) != 0 || share_lines(m) != 0)
		goto fail;
	if (m->mode == FX_MATCH_PREFILTER_ALWAYS) {
		pthread_mutex_lock(&m->pf->lock);
		int built = build_prefilter(m);
		pthread_mutex_unlock(&m->pf->lock);
		if (built == FX_ENOMEM)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	fx_match_free(m);
	return rc;
}

void fx_match_free(fx_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n && m->pats; i++) {
		fx_regex_free(m->pats[i].owned);
		free(m->pats[i].names);
	}
	for (size_t i = 0; i < m->natoms; i++)
		free(m->atoms[i].text);
	free(m->atoms);
	for (size_t i = 0; i < m->nchecks; i++)
		free(m->checks[i].text);
	free(m->checks);
	free(m->lits);
	free(m->vars);
	free(m->users);
	free(m->lrefs);
	free(m->lref0);
	free(m->lbr);
	free(m->pats);
	free(m->always);
	if (m->pf) {
		if (m->pf->db) /* a database implies the library */
			vs.free_database(m->pf->db);
		if (m->pf->block_db)
			vs.free_database(m->pf->block_db);
		pthread_mutex_destroy(&m->pf->lock);
		free(m->pf);
	}
	free(m);
}

size_t fx_match_count(const fx_matcher *m)
{
	return m ? m->n : 0;
}

size_t fx_match_capture_count(const fx_matcher *m, size_t pattern)
{
	return m && pattern < m->n ? m->pats[pattern].ngroups : 0;
}

const char *fx_match_capture_name(const fx_matcher *m, size_t pattern, size_t group)
{
	if (!m || pattern >= m->n || group > m->pats[pattern].ngroups)
		return NULL;
	return m->pats[pattern].names[group];
}

int fx_match_capture_index(const fx_matcher *m, size_t pattern, const char *name)
{
	if (!m || pattern >= m->n || !name)
		return FX_ENOTFOUND;
	const struct pat *pt = &m->pats[pattern];
	for (uint32_t g = 1; g <= pt->ngroups; g++)
		if (pt->names[g] && strcmp(pt->names[g], name) == 0)
			return (int)g;
	return FX_ENOTFOUND;
}

void fx_match_get_stats(const fx_matcher *m, fx_match_stats *st)
{
	memset(st, 0, sizeof *st);
	if (!m)
		return;
	st->prefiltered = m->n - m->nalways;
	st->line_local = m->line_local;
	st->atoms = m->nlits;
	if (atomic_load_explicit(&m->pf->state, memory_order_acquire) != PF_READY)
		return;
	st->built = 1;
	st->build_seconds = m->pf->build_seconds;
}

int fx_match_atom(const fx_matcher *m, size_t pattern, size_t k, fx_match_atom_info *out)
{
	if (!m || pattern >= m->n || !out)
		return FX_EINVAL;
	const struct pat *pt = &m->pats[pattern];
	if (k >= pt->atom1 - pt->atom0)
		return FX_ENOTFOUND;
	const struct atom *a = &m->atoms[pt->atom0 + k];
	out->text = a->text;
	out->len = a->len;
	out->dmin = a->dmin;
	out->dmax = a->dmax;
	out->branch = a->branch;
	out->cover = a->cover;
	out->caseless = a->caseless;
	return 0;
}

/* ============================================================================================
 * Scratch
 * ========================================================================================== */

int fx_match_scratch_new(fx_match_scratch **out, const fx_matcher *m)
{
	if (!out)
		return FX_EINVAL;
	*out = NULL;
	if (!m)
		return FX_EINVAL;
	fx_match_scratch *sc = calloc(1, sizeof *sc);
	if (!sc)
		return FX_ENOMEM;
	sc->m = m;
	size_t n = m->n ? m->n : 1;
	sc->rd = fx_regex_data_new(m->max_groups);
	sc->spans = calloc(m->nspans ? m->nspans : 1, sizeof *sc->spans);
	sc->out = calloc(m->max_groups + 1, sizeof *sc->out);
	sc->ps = calloc(n, sizeof *sc->ps);
	sc->heap = calloc(n, sizeof *sc->heap);
	sc->touched = calloc(n, sizeof *sc->touched);
	sc->as = calloc(m->nvars ? m->nvars : 1, sizeof *sc->as);
	sc->tvars = calloc(m->nvars ? m->nvars : 1, sizeof *sc->tvars);
	sc->lb = calloc(m->nlbr ? m->nlbr : 1, sizeof *sc->lb);
	if (!sc->rd || !sc->spans || !sc->out || !sc->ps || !sc->heap || !sc->touched ||
	    !sc->as || !sc->tvars || !sc->lb) {
		fx_match_scratch_free(sc);
		return FX_ENOMEM;
	}
	*out = sc;
	return 0;
}

void fx_match_scan_stats_get(const fx_match_scratch *sc, fx_match_scan_stats *st)
{
	if (sc)
		*st = sc->last;
	else
		memset(st, 0, sizeof *st);
}

void fx_match_scratch_free(fx_match_scratch *sc)
{
	if (!sc)
		return;
	fx_regex_data_free(sc->rd);
	if (sc->hs)
		vs.free_scratch(sc->hs);
	free(sc->spans);
	free(sc->out);
	free(sc->ps);
	free(sc->heap);
	free(sc->touched);
	free(sc->as);
	free(sc->tvars);
	free(sc->cands);
	free(sc->sorted);
	free(sc->merged);
	free(sc->chosen);
	free(sc->lb);
	free(sc->fold);
	free(sc);
}

/* ============================================================================================
 * Collecting candidate intervals
 * ========================================================================================== */

/* Where the line holding offset q starts. Atoms are reported roughly in text order, so a
 * cursor shared by all patterns makes this linear in the text overall. */
static size_t line_start(fx_match_scratch *sc, size_t q)
{
	size_t lo = 0, res = 0;
	if (q >= sc->ls_q) {
		lo = sc->ls_q;
		res = sc->ls_val; /* if no newline in [ls_q, q) */
	} else if (q >= sc->ls_val) {
		return sc->ls_val; /* no newline in [ls_val, ls_q) */
	}
	for (size_t i = q; i > lo; i--)
		if (sc->text[i - 1] == '\n') {
			res = i;
			break;
		}
	if (q >= sc->ls_q) {
		sc->ls_q = q;
		sc->ls_val = res;
	}
	return res;
}

/* Records the windows that one occurrence of a literal, starting at q, opens for class v. */
static int add_window(fx_match_scratch *sc, uint32_t v, size_t q)
{
	const struct var *cl = &sc->m->vars[v];
	struct astate *as = &sc->as[v];
	if (sc->pass == 2 && (as->gen != sc->gen || !as->want))
		return 0;
	if (q < cl->dmin)
		return 0; /* a match would start before the text */
	size_t b = q - cl->dmin;
	if (as->gen == sc->gen && as->overflow) { /* only counted now: the hot path */
		as->hits++;
		as->last = b;
		return 0;
	}
	size_t a = cl->dmax == UNBOUNDED || cl->dmax > q ? 0 : q - cl->dmax;
	/* A line-local match holds the atom and no newline: it starts on the atom's line. */
	if (cl->line_local) {
		size_t ls = line_start(sc, q);
		if (ls > a)
			a = ls;
		if (a > b)
			return 0;
	}
	if (as->gen != sc->gen) {
		as->gen = sc->gen;
		as->open = NONE;
		as->ncand = as->hits = 0;
		as->gap = INITIAL_GAP;
		as->overflow = as->want = as->saturated = 0;
		sc->tvars[sc->ntvars++] = v;
	}
	if (sc->pass == 1) {
		as->hits++;
		as->last = b;
	}
	if (as->overflow || as->saturated)
		return 0;
	struct cand *c = as->open != NONE ? &sc->cands[as->open] : NULL;
	if (c && b >= c->a && (a <= c->b || a - c->b <= as->gap)) {
		if (a < c->a)
			c->a = a;
		if (b > c->b)
			c->b = b;
		return 0;
	}
	int full = sc->budget == 0 && as->ncand >= 64;
	if (sc->pass == 1 && !cl->sole && (as->ncand >= FIRST_PASS_CAP || full)) {
		as->overflow = 1;
		return 0;
	}
	if (as->ncand >= sc->cap || full) {
		as->saturated = 1;
		return 0;
	}
	if (sc->budget > 0)
		sc->budget--;
	if (sc->ncands == sc->capcands) {
		size_t cap = sc->capcands ? 2 * sc->capcands : 256;
		struct cand *nc = cap < SIZE_MAX / sizeof *nc ? realloc(sc->cands, cap * sizeof *nc)
		                                              : NULL;
		if (!nc) {
			sc->oom = 1;
			return 1; /* stops the scan */
		}
		sc->cands = nc;
		sc->capcands = cap;
	}
	sc->cands[sc->ncands] = (struct cand){a, b, v, sc->pass};
	as->open = sc->ncands++;
	as->ncand++;
	if (as->ncand >= GAP_GROW_AT && (as->ncand & (as->ncand - 1)) == 0 &&
	    as->gap < SIZE_MAX / 2)
		as->gap *= 2;
	return 0;
}

static int on_atom(unsigned int id, unsigned long long from, unsigned long long to,
                   unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	fx_match_scratch *sc = ctx;
	const struct lit *l = &sc->m->lits[id];
	size_t q = (size_t)to - l->len; /* where the literal starts */
	for (uint32_t v = l->var0; v < l->var1; v++)
		if (add_window(sc, v, q))
			return 1;
	return 0;
}

static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return (a->a > b->a) - (a->a < b->a);
}

/* Sorts and merges intervals in place; returns how many remain. */
static size_t normalize(struct cand *c, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (c[i].a < c[i - 1].a) {
			qsort(c, n, sizeof *c, cmp_cand);
			break;
		}
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		if (c[i].a <= c[k].b) {
			if (c[i].b > c[k].b)
				c[k].b = c[i].b;
		} else {
			c[++k] = c[i];
		}
	}
	return n ? k + 1 : 0;
}

/* What PCRE2 would spend on a class's windows, in rough nanoseconds: a call per window plus
 * a byte per start position tried. Windows at an unbounded distance in a pattern that is not
 * line-local open at the previous window's end, so they cover the text up to the last one.
 * From the first pass's counts, so an estimate for a class that overflowed. */
static double window_cost(const struct var *cl, const struct astate *as)
{
	double n = (double)as->hits, width;
	if (cl->dmax == UNBOUNDED && !cl->line_local)
		return 200.0 * n + (double)as->last;
	if (cl->dmax == UNBOUNDED)
		width = 80; /* a line-local window: about a line */
	else
		width = (double)(cl->dmax - cl->dmin) + 1;
	return n * (200.0 + width);
}

/* Picks, for pattern p, the cheapest cover of each branch that may match, and appends their
 * classes to sc->chosen. 1 if some branch may match, 0 if none can, or FX_ENOMEM. */
static int choose(fx_match_scratch *sc, uint32_t p)
{
	const fx_matcher *m = sc->m;
	const struct pat *pt = &m->pats[p];
	struct pstate *ps = &sc->ps[p];
	int any = 0;
	ps->ch0 = sc->nchosen;
	for (size_t i = pt->atom0; i < pt->atom1;) {
		/* Branch [i, j), covers [c0, c1). A cover none of whose atoms was seen means the
		 * branch cannot match. */
		size_t j = i;
		while (j < pt->atom1 && m->atoms[j].branch == m->atoms[i].branch)
			j++;
		size_t best0 = NONE, best1 = NONE;
		double best_cost = 0;
		int dead = 0;
		for (size_t c0 = i; c0 < j;) {
			size_t c1 = c0;
			while (c1 < j && m->atoms[c1].cover == m->atoms[c0].cover)
				c1++;
			double cost = 0;
			int seen = 0;
			for (size_t x = c0; x < c1; x++) {
				const struct astate *as = &sc->as[m->atoms[x].var];
				if (as->gen == sc->gen) {
					seen = 1;
					cost += as->cost;
				}
			}
			if (!seen)
				dead = 1;
			else if (best0 == NONE || cost < best_cost) {
				best0 = c0;
				best1 = c1;
				best_cost = cost;
			}
			c0 = c1;
		}
		i = j;
		if (dead)
			continue;
		any = 1;
		for (size_t x = best0; x < best1; x++) {
			uint32_t v = m->atoms[x].var;
			if (sc->as[v].gen != sc->gen)
				continue;
			if (sc->nchosen == sc->capchosen) {
				size_t cap = sc->capchosen ? 2 * sc->capchosen : 256;
				uint32_t *nc = realloc(sc->chosen, cap * sizeof *nc);
				if (!nc)
					return FX_ENOMEM;
				sc->chosen = nc;
				sc->capchosen = cap;
			}
			sc->chosen[sc->nchosen++] = v;
		}
	}
	ps->nch = sc->nchosen - ps->ch0;
	return any;
}

/* One Vectorscan pass over the text. 1 on success, 0 when it cannot serve this scan. */
static int hs_pass(const struct scan *s, uint32_t pass)
{
	fx_match_scratch *sc = s->sc;
	sc->pass = pass;
	sc->ls_q = sc->ls_val = 0;
	if (s->len == 0)
		return 1;
	/* Vectored mode reads a list of pieces as one text: pieces of at most 1 GiB lift the
	 * limit of its unsigned lengths. */
	enum { PIECE = 1u << 30, MAXPIECES = 64 };
	const char *data[MAXPIECES];
	unsigned int lens[MAXPIECES];
	unsigned int count = 0;
	for (size_t off = 0; off < s->len && count < MAXPIECES; off += PIECE, count++) {
		data[count] = s->text + off;
		lens[count] = (unsigned int)(s->len - off < PIECE ? s->len - off : PIECE);
	}
	if ((size_t)count * PIECE < s->len) /* beyond 64 GiB: PCRE2 alone */
		return 0;
	hs_error_t e;
	if (s->len <= BLOCK_MAX && s->m->pf->block_db)
		e = vs.scan(s->m->pf->block_db, s->text, (unsigned int)s->len, 0, sc->hs, on_atom, sc);
	else
		e = vs.scan_vector(s->m->pf->db, data, lens, count, 0, sc->hs, on_atom, sc);
	return e == HS_SUCCESS && !sc->oom;
}

/* Vectorscan's scratch for the ready prefilter of m, allocated on first use. 1, or 0 when it
 * cannot be had. One scratch serves both databases: the second call grows it to fit both. */
static int hs_scratch_ready(const fx_matcher *m, fx_match_scratch *sc)
{
	if (!sc->hs && (vs.alloc_scratch(m->pf->db, &sc->hs) != HS_SUCCESS ||
	                (m->pf->block_db &&
	                 vs.alloc_scratch(m->pf->block_db, &sc->hs) != HS_SUCCESS))) {
		if (sc->hs)
			vs.free_scratch(sc->hs);
		sc->hs = NULL;
		return 0;
	}
	return 1;
}

/* Runs Vectorscan over the text, then gives each pattern that may match (touched) the windows
 * of the cheapest cover of each of its branches. The first pass counts occurrences and records
 * the windows of the classes that have few; if a chosen class has many, a second pass records
 * its windows in full. 1 on success, 0 when the prefilter cannot serve this scan. */
static int collect(const struct scan *s)
{
	const fx_matcher *m = s->m;
	fx_match_scratch *sc = s->sc;
	if (!hs_scratch_ready(m, sc))
		return 0;
	if (++sc->gen == 0) { /* wrapped: no stale gen may equal the new one */
		for (size_t i = 0; i < m->nvars; i++)
			sc->as[i].gen = 0;
		for (size_t p = 0; p < m->n; p++)
			sc->ps[p].gen = 0;
		sc->gen = 1;
	}
	sc->ntvars = sc->ntouched = sc->ncands = sc->nchosen = 0;
	sc->oom = 0;
	sc->text = s->text;
	/* A wanted class past this (a window every 512 bytes) costs PCRE2 about what searching
	 * everywhere does: it stops recording and its patterns are searched everywhere. */
	sc->cap = 16384 + s->len / 512;
	sc->budget = 262144 + s->len / 64;
	if (!hs_pass(s, 1))
		return 0;
	/* Price the classes seen, list the patterns they may serve, choose their covers. */
	for (size_t i = 0; i < sc->ntvars; i++) {
		uint32_t v = sc->tvars[i];
		const struct var *cl = &m->vars[v];
		sc->as[v].cost = window_cost(cl, &sc->as[v]);
		for (uint32_t u = cl->user0; u < cl->user1; u++) {
			struct pstate *ps = &sc->ps[m->users[u]];
			if (ps->gen != sc->gen) {
				ps->gen = sc->gen;
				sc->touched[sc->ntouched++] = m->users[u];
			}
		}
	}
	size_t k = 0, want = 0;
	sc->last.classes = sc->ntvars;
	for (size_t t = 0; t < sc->ntouched; t++) {
		uint32_t p = sc->touched[t];
		int rc = choose(sc, p);
		if (rc < 0)
			return 0;
		if (rc == 0)
			continue; /* no branch can match: skip the pattern */
		sc->touched[k++] = p;
		for (size_t c = 0; c < sc->ps[p].nch; c++) {
			struct astate *as = &sc->as[sc->chosen[sc->ps[p].ch0 + c]];
			if (as->overflow && !as->want) {
				as->want = 1;
				as->overflow = 0;
				as->open = NONE;
				as->ncand = 0;
				as->gap = INITIAL_GAP;
				want++;
			}
		}
	}
	sc->ntouched = k;
	sc->last.second_pass = want;
	if (want && !hs_pass(s, 2))
		return 0;
	/* Group the intervals by class (report order is ascending for one class), dropping the
	 * first pass's partial ones of the classes recorded again. */
	if (sc->ncands > sc->capsorted) {
		struct cand *ns = realloc(sc->sorted, sc->ncands * sizeof *ns);
		if (!ns)
			return 0;
		sc->sorted = ns;
		sc->capsorted = sc->ncands;
	}
	size_t off = 0;
	for (size_t i = 0; i < sc->ntvars; i++) {
		struct astate *as = &sc->as[sc->tvars[i]];
		as->first = as->count = off;
		off += as->ncand;
	}
	for (size_t i = 0; i < sc->ncands; i++) {
		const struct cand *c = &sc->cands[i];
		struct astate *as = &sc->as[c->var];
		if (as->want == (c->pass == 2))
			sc->sorted[as->count++] = *c;
	}
	for (size_t i = 0; i < sc->ntvars; i++) {
		struct astate *as = &sc->as[sc->tvars[i]];
		as->count = normalize(sc->sorted + as->first, as->count - as->first);
		sc->last.saturated += as->saturated;
	}
	/* Each pattern's windows: its chosen classes' merged, or searched everywhere when one
	 * of them saturated. */
	size_t need = 0;
	for (size_t t = 0; t < sc->ntouched; t++) {
		const struct pstate *ps = &sc->ps[sc->touched[t]];
		if (ps->nch > 1)
			for (size_t c = 0; c < ps->nch; c++)
				need += sc->as[sc->chosen[ps->ch0 + c]].count;
	}
	if (need > sc->capmerged) {
		struct cand *nm = realloc(sc->merged, need * sizeof *nm);
		if (!nm)
			return 0;
		sc->merged = nm;
		sc->capmerged = need;
	}
	size_t moff = 0;
	for (size_t t = 0; t < sc->ntouched; t++) {
		struct pstate *ps = &sc->ps[sc->touched[t]];
		int sat = 0;
		for (size_t c = 0; c < ps->nch; c++)
			sat |= sc->as[sc->chosen[ps->ch0 + c]].saturated;
		ps->ci = 0;
		if (sat) {
			ps->iv = NULL;
			sc->last.everywhere++;
		} else if (ps->nch == 1) {
			const struct astate *as = &sc->as[sc->chosen[ps->ch0]];
			ps->iv = sc->sorted + as->first;
			ps->cend = as->count;
		} else {
			struct cand *dst = sc->merged + moff;
			size_t n = 0;
			for (size_t c = 0; c < ps->nch; c++) {
				const struct astate *as = &sc->as[sc->chosen[ps->ch0 + c]];
				memcpy(dst + n, sc->sorted + as->first, as->count * sizeof *dst);
				n += as->count;
			}
			moff += n;
			ps->iv = dst;
			ps->cend = normalize(dst, n);
		}
	}
	return 1;
}

/* ============================================================================================
 * Confirming and ordering
 * ========================================================================================== */

/* The index after the first newline at or after i, or len + 1. */
static size_t next_line(const char *t, size_t len, size_t i)
{
	const char *nl = i < len ? memchr(t + i, '\n', len - i) : NULL;
	return nl ? (size_t)(nl - t) + 1 : len + 1;
}

/* Finds pattern p's next match into its pending spans. 1 found, 0 none left, < 0 error. */
static int fetch(const struct scan *s, size_t p)
{
	const struct pat *pt = &s->m->pats[p];
	struct pstate *ps = &s->sc->ps[p];
	size_t *spans = s->sc->spans + pt->span_off;
	if (s->max && ps->found >= s->max)
		return 0;
	for (;;) {
		if (ps->pos > s->len)
			return 0;
		size_t from = ps->pos, limit = FX_REGEX_UNSET;
		if (ps->restricted) {
			const struct cand *c = ps->iv;
			while (ps->ci < ps->cend && c[ps->ci].b < ps->pos)
				ps->ci++;
			if (ps->ci == ps->cend)
				return 0;
			if (c[ps->ci].a > from)
				from = c[ps->ci].a;
			limit = c[ps->ci].b;
		}
		unsigned opts = ps->empty && from == ps->pos ? FX_REGEX_NOTEMPTY_ATSTART : 0;
		int rc = fx_regex_exec(pt->re, s->sc->rd, s->text, s->len, from, limit, opts, spans,
		                       (size_t)pt->ngroups + 1);
		if (rc == 1) {
			ps->pos = spans[1];
			ps->empty = spans[0] == spans[1];
			ps->found++;
			return 1;
		}
		if (rc == 0) {
			if (!ps->restricted)
				return 0;
			/* No match starts in [pos, limit]. */
			ps->pos = limit + 1;
			ps->empty = 0;
			ps->ci++;
			continue;
		}
		if (rc != FX_ELIMIT)
			return rc;
		if (s->warn)
			s->warn(s->ud, p, from, rc);
		if (++ps->hits >= MAX_LIMIT_HITS)
			return 0;
		ps->pos = next_line(s->text, s->len, from);
		ps->empty = 0;
	}
}

/* Heap order: earlier start first, then lower pattern index. */
static int before(const struct scan *s, uint32_t x, uint32_t y)
{
	size_t sx = s->sc->spans[s->m->pats[x].span_off];
	size_t sy = s->sc->spans[s->m->pats[y].span_off];
	return sx < sy || (sx == sy && x < y);
}

static void sift_down(const struct scan *s, size_t i)
{
	uint32_t *h = s->sc->heap;
	size_t n = s->sc->nheap;
	for (;;) {
		size_t l = 2 * i + 1, best = i;
		if (l < n && before(s, h[l], h[best]))
			best = l;
		if (l + 1 < n && before(s, h[l + 1], h[best]))
			best = l + 1;
		if (best == i)
			return;
		uint32_t t = h[i];
		h[i] = h[best];
		h[best] = t;
		i = best;
	}
}

static void push(const struct scan *s, uint32_t p)
{
	uint32_t *h = s->sc->heap;
	size_t i = s->sc->nheap++;
	h[i] = p;
	while (i > 0 && before(s, h[i], h[(i - 1) / 2])) {
		uint32_t t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Resets a pattern's search and queues its first match. */
static int start_pattern(const struct scan *s, uint32_t p, int restricted)
{
	struct pstate *ps = &s->sc->ps[p];
	ps->pos = 0;
	ps->empty = 0;
	ps->found = 0;
	ps->hits = 0;
	ps->restricted = (unsigned char)restricted;
	int rc = fetch(s, p);
	if (rc > 0)
		push(s, p);
	return rc < 0 ? rc : 0;
}

/* A text this short is scanned without Vectorscan by looking for each pattern's atoms in it
 * directly (a pasted message): a pattern none of whose branches has an atom of each of its
 * covers in the text cannot match, and is neither searched nor, for a kb loaded from an
 * image, compiled (regex.h). Cheaper than a PCRE2 search per pattern up to a few KiB. */
#define DIRECT_MAX 4096

static const char *fold_text(fx_match_scratch *sc, const char *t, size_t n);

/* Whether atom a occurs in t[0, n) (folded: t in ASCII lower case, for a caseless atom). */
static int atom_in(const char *t, const char *folded, size_t n, const struct atom *a)
{
	if (a->len > n)
		return 0;
	const char *x = a->caseless ? folded : t;
	unsigned char c0 = (unsigned char)a->text[0];
	if (a->caseless && c0 >= 'A' && c0 <= 'Z')
		c0 = (unsigned char)(c0 + 32);
	const char *p = x, *last = x + (n - a->len);
	while (p <= last) {
		const char *f = memchr(p, c0, (size_t)(last - p) + 1);
		if (!f)
			return 0;
		size_t i = 1;
		for (; i < a->len; i++) {
			unsigned char c = (unsigned char)a->text[i];
			if (a->caseless && c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			if ((unsigned char)f[i] != c)
				break;
		}
		if (i == a->len)
			return 1;
		p = f + 1;
	}
	return 0;
}

/* Whether pattern p may match t[0, n): it has no atoms, or some branch of it has an atom of
 * each of its covers in t. Its atoms come by branch, and a cover's atoms one after another. */
static int may_match(const fx_matcher *m, uint32_t p, const char *t, const char *folded,
                     size_t n)
{
	const struct pat *pt = &m->pats[p];
	size_t i = pt->atom0;
	if (i == pt->atom1)
		return 1;
	while (i < pt->atom1) {
		uint32_t br = m->atoms[i].branch;
		int all = 1;
		while (i < pt->atom1 && m->atoms[i].branch == br) {
			uint32_t cv = m->atoms[i].cover;
			int seen = 0;
			for (; i < pt->atom1 && m->atoms[i].branch == br && m->atoms[i].cover == cv; i++)
				if (all && !seen)
					seen = atom_in(t, folded, n, &m->atoms[i]);
			all = all && seen;
		}
		if (all)
			return 1;
	}
	return 0;
}

int fx_match_scan(const fx_matcher *m, fx_match_scratch *sc, const char *text, size_t len,
                  size_t max_per_pattern, fx_match_fn fn, fx_match_warn_fn warn, void *ud)
{
	if (!m || !sc || sc->m != m || !fn || (!text && len))
		return FX_EINVAL;
	struct scan s = {m, sc, text ? text : "", len, max_per_pattern, warn, ud};
	sc->nheap = 0;
	memset(&sc->last, 0, sizeof sc->last);
	if (m->n > 0 && prefilter_ready(m, len) && collect(&s)) {
		sc->last.prefiltered = 1;
		sc->last.searched = m->nalways + sc->ntouched;
		/* Patterns with atoms but no windows cannot match: they are skipped. */
		for (size_t i = 0; i < m->nalways + sc->ntouched; i++) {
			uint32_t p = i < m->nalways ? m->always[i] : sc->touched[i - m->nalways];
			int restricted = i >= m->nalways && sc->ps[p].iv != NULL;
			int rc = start_pattern(&s, p, restricted);
			if (rc < 0)
				return rc;
		}
	} else {
		const char *folded = NULL;
		int direct = m->natoms > 0 && len <= DIRECT_MAX && m->mode != FX_MATCH_PREFILTER_NEVER;
		if (direct && !(folded = fold_text(sc, s.text, len)))
			direct = 0;
		for (size_t p = 0; p < m->n; p++) {
			if (direct && !may_match(m, (uint32_t)p, s.text, folded, len))
				continue;
			int rc = start_pattern(&s, (uint32_t)p, 0);
			if (rc < 0)
				return rc;
		}
	}
	while (sc->nheap > 0) {
		uint32_t p = sc->heap[0];
		const struct pat *pt = &m->pats[p];
		const size_t *spans = sc->spans + pt->span_off;
		for (size_t g = 0; g <= pt->ngroups; g++) {
			sc->out[g].start = spans[2 * g];
			sc->out[g].end = spans[2 * g + 1];
		}
		int rc = fn(ud, p, sc->out, (size_t)pt->ngroups + 1);
		if (rc)
			return rc;
		rc = fetch(&s, p);
		if (rc < 0)
			return rc;
		if (!rc)
			sc->heap[0] = sc->heap[--sc->nheap];
		if (sc->nheap > 0)
			sift_down(&s, 0);
	}
	return 0;
}

/* ============================================================================================
 * Lines that may match
 *
 * A log read line by line costs a scan per line, and most of a scan's cost is fixed (a
 * Vectorscan call, setting up the candidates): at 0.3% of lines matching, nearly all of it
 * is spent on lines that cannot match. fx_match_lines runs one Vectorscan pass over a chunk of
 * many lines and names the lines on which some branch of some pattern has an occurrence of an
 * atom of each of its covers: every match of a branch holds one atom of each of its covers, so
 * a line without that cannot match any pattern scanned on its own, and its caller can skip
 * it. (A single atom would do for a branch with one cover; asking for all of them matters when
 * a branch's longest run is a common phrase, " copy manifest", and its next one is not.)
 *
 * Vectorscan reports occurrences by end offset, so they arrive line by line: the line being
 * read is known by its end (the first line end after an occurrence in it) and by the earliest
 * occurrence in it, and each branch keeps the covers seen on it, stamped with the line's
 * number so that a new line clears them all at no cost. An occurrence that crosses a line end
 * belongs to no line. Should one arrive for an earlier line than the one being read, its line
 * is reported as it is, covers or not: more lines than needed, never fewer. A pattern without
 * atoms could match anywhere: then nothing is narrowed.
 * ========================================================================================== */

struct lines_scan {
	const fx_matcher *m;
	fx_match_scratch *sc;
	const char *text;
	size_t len;
	size_t done;               /* lines ending before here are reported or skipped */
	size_t lo, end;            /* the line being read: end is its line end (or len), and
	                            * [lo, end) holds no line end; end 0 before the first */
	size_t start;              /* its start, once known (lo otherwise) */
	const char *folded;        /* NULL, or its bytes in ASCII lower case (in sc->fold) */
	int have_start;            /* start is known */
	fx_match_line_fn fn;
	void *ud;
	int rc;                    /* what fn returned to stop */
};

static int is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/* The first line end at or after i (< len), or len. */
static size_t eol_from(const char *t, size_t len, size_t i)
{
	const char *nl = memchr(t + i, '\n', len - i);
	size_t e = nl ? (size_t)(nl - t) : len;
	const char *cr = memchr(t + i, '\r', e - i);
	return cr ? (size_t)(cr - t) : e;
}

/* Eight bytes at a time in a uint64_t, for the few lines fx_match_lines looks at closely. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t load8(const char *p)
{
	uint64_t x;
	memcpy(&x, p, sizeof x);
	return x;
}

/* Whether one of x's bytes is a LF or a CR: (v - ONES) & ~v has a byte's high bit set below
 * the first zero byte of v, and nowhere when v has none. */
static int has_eol8(uint64_t x)
{
	uint64_t lf = x ^ (ONES * '\n'), cr = x ^ (ONES * '\r');
	return (((lf - ONES) & ~lf) | ((cr - ONES) & ~cr)) & HIGHS ? 1 : 0;
}

/* x with its ASCII capitals made small letters. */
static uint64_t fold8(uint64_t x)
{
	uint64_t low7 = x & ~HIGHS;
	uint64_t ge_a = low7 + ONES * (0x80 - 'A');     /* high bit: byte >= 'A' */
	uint64_t gt_z = low7 + ONES * (0x80 - 'Z' - 1); /* high bit: byte > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & HIGHS;
	return x | (upper >> 2);
}

/* The start of the line holding offset q (q >= done). */
static size_t line_from(const struct lines_scan *ls, size_t q)
{
	size_t a = q;
	while (a >= ls->done + 8 && !has_eol8(load8(ls->text + a - 8)))
		a -= 8;
	while (a > ls->done && !is_eol(ls->text[a - 1]))
		a--;
	return a;
}

/* 1 when x[0, n) holds c[0, len): the pivot byte found by memchr, then compared in full. */
/* t[0, n) in ASCII lower case, in sc->fold; NULL when out of memory. */
static const char *fold_text(fx_match_scratch *sc, const char *t, size_t n)
{
	if (n > sc->capfold) {
		char *nf = realloc(sc->fold, n);
		if (!nf)
			return NULL;
		sc->fold = nf;
		sc->capfold = n;
	}
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x = fold8(load8(t + i));
		memcpy(sc->fold + i, &x, sizeof x);
	}
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		sc->fold[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	return sc->fold;
}

static int holds(const char *x, size_t n, const struct check *c)
{
	if (c->len > n)
		return 0;
	const char *p = x + c->pivot, *last = x + (n - c->len) + c->pivot;
	while (p <= last) {
		const char *f = memchr(p, (unsigned char)c->text[c->pivot], (size_t)(last - p) + 1);
		if (!f)
			return 0;
		if (memcmp(f - c->pivot, c->text, c->len) == 0)
			return 1;
		p = f + 1;
	}
	return 0;
}

/* 1 when the line being read holds the text of each check of branch br (or when a folded
 * copy of the line cannot be had: the line is then reported, which is always safe). */
static int checks_hold(struct lines_scan *ls, const struct lbranch *br)
{
	const fx_matcher *m = ls->m;
	if (br->chk0 == br->chk1)
		return 1;
	if (!ls->have_start) {
		ls->start = line_from(ls, ls->lo);
		ls->have_start = 1;
	}
	const char *t = ls->text + ls->start;
	size_t n = ls->end - ls->start;
	for (uint32_t k = br->chk0; k < br->chk1; k++) {
		const struct check *c = &m->checks[k];
		if (c->caseless && !ls->folded && !(ls->folded = fold_text(ls->sc, t, n)))
			return 1;
		if (!holds(c->caseless ? ls->folded : t, n, c))
			return 0;
	}
	return 1;
}

/* Reports the line [a, end) (a >= done). 1 when fn stops. */
static int report_line(struct lines_scan *ls, size_t a, size_t end)
{
	ls->done = end;
	int rc = ls->fn(ls->ud, a, end);
	if (rc) {
		ls->rc = rc;
		return 1;
	}
	return 0;
}

static int on_line_atom(unsigned int id, unsigned long long from, unsigned long long to,
                        unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	struct lines_scan *ls = ctx;
	const fx_matcher *m = ls->m;
	fx_match_scratch *sc = ls->sc;
	size_t e = (size_t)to, q = e - m->lits[id].len;
	if (q < ls->done)
		return 0; /* on a line already reported, or crossing a line end */
	if (e > ls->end) {
		if (q < ls->end)
			return 0; /* crosses the end of the line being read */
		size_t end = eol_from(ls->text, ls->len, q);
		if (end < e)
			return 0;
		ls->lo = q;
		ls->end = end;
		ls->have_start = 0;
		ls->folded = NULL;
		if (++sc->lgen == 0) { /* wrapped: no stale stamp may equal the new one */
			for (size_t b = 0; b < m->nlbr; b++)
				sc->lb[b].gen = 0;
			sc->lgen = 1;
		}
	} else if (q < ls->lo) {
		size_t x = ls->lo;
		while (x > q && !is_eol(ls->text[x - 1]))
			x--;
		if (x > q) { /* a line end at x - 1 */
			if (e >= x)
				return 0;
			return report_line(ls, line_from(ls, q), eol_from(ls->text, ls->len, q));
		}
		ls->lo = q;
		ls->have_start = 0;
	}
	for (uint32_t r = m->lref0[id]; r < m->lref0[id + 1]; r++) {
		const struct lref *lr = &m->lrefs[r];
		const struct lbranch *br = &m->lbr[lr->br];
		struct lbstate *b = &sc->lb[lr->br];
		if (b->gen != sc->lgen) {
			b->gen = sc->lgen;
			b->seen = 0;
			b->failed = 0;
		}
		if (b->failed || (b->seen |= (uint64_t)1 << lr->bit) != br->full)
			continue;
		if (checks_hold(ls, br))
			return report_line(ls, line_from(ls, ls->lo), ls->end);
		b->failed = 1;
	}
	return 0;
}

int fx_match_lines(const fx_matcher *m, fx_match_scratch *sc, const char *text, size_t len,
                   fx_match_line_fn fn, void *ud)
{
	if (!m || !sc || sc->m != m || !fn || (!text && len))
		return FX_EINVAL;
	if (m->n == 0 || len == 0)
		return 0;
	enum { PIECE = 1u << 30, MAXPIECES = 64 };
	if (m->nalways > 0 || len / PIECE >= MAXPIECES || !prefilter_ready(m, len) ||
	    !hs_scratch_ready(m, sc))
		return 1;
	const char *data[MAXPIECES];
	unsigned int lens[MAXPIECES];
	unsigned int count = 0;
	for (size_t off = 0; off < len; off += PIECE, count++) {
		data[count] = text + off;
		lens[count] = (unsigned int)(len - off < PIECE ? len - off : PIECE);
	}
	struct lines_scan ls = {m, sc, text, len, 0, 0, 0, 0, NULL, 0, fn, ud, 0};
	hs_error_t e;
	if (len <= BLOCK_MAX && m->pf->block_db)
		e = vs.scan(m->pf->block_db, text, (unsigned int)len, 0, sc->hs, on_line_atom, &ls);
	else
		e = vs.scan_vector(m->pf->db, data, lens, count, 0, sc->hs, on_line_atom, &ls);
	if (ls.rc)
		return ls.rc;
	return e == HS_SUCCESS ? 0 : 1;
}
