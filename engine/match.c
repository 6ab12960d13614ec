/* match.c: the text matcher. Runs a knowledge base's hundreds of `patterns:` regexes over a
 * pasted message or gigabytes of logs, reporting every PCRE2 match with its captures. The only
 * file that includes hs.h: Vectorscan serves as a prefilter; PCRE2 (regex.c) decides.
 *
 * Why two engines. PCRE2 alone costs one pass over the text per pattern: fine for a pasted
 * message, hopeless for 1,000 patterns over a big log where 0.3% of the lines match anything.
 * Vectorscan reads the text once for all patterns, but it has neither captures nor PCRE2's
 * leftmost-first semantics, and refuses some constructs. So each pattern is compiled by
 * Vectorscan in prefilter mode (HS_FLAG_PREFILTER: it accepts more constructs by matching a
 * superset of the pattern's language) and PCRE2 is asked to look only where Vectorscan saw a
 * possible match. Patterns Vectorscan cannot take even so, or that might match the empty
 * string, are simply searched by PCRE2 over the whole text, as without a prefilter.
 *
 * Where to look. Vectorscan reports the end offset of every possible match (we do not ask for
 * HS_FLAG_SINGLEMATCH: "pattern p may match somewhere in these 50 MB" would leave PCRE2 a full
 * pass; the ends say where). For each pattern the ends are gathered into sorted, disjoint
 * intervals [a, b] (ends closer than a gap are merged, and the gap grows when a pattern fires
 * often, which bounds the memory). Every real PCRE2 match ends inside some interval, since the
 * prefilter's language contains the pattern's. A match ending in [a, b] starts at or before b,
 * and at or after a - W when Vectorscan bounds the prefilter's match length by W, and after the
 * last newline before a when the pattern can never consume a newline ("line-local", decided
 * conservatively from the regex text). So to find a pattern's next match from offset pos,
 * PCRE2 searches the whole subject from max(pos, a - W, line start) with its start limited to
 * b (pcre2_set_offset_limit), for the first interval with b >= pos: no real match can start
 * earlier (it would end in an interval at or after this one, whose bounds are larger), so the
 * match PCRE2 finds is the one an unrestricted search from pos would find. PCRE2 always sees
 * the whole subject, so anchors, lookbehinds and \b behave exactly as without the prefilter.
 * When nothing is found, pos moves past b. Patterns with (*VERBS) or \G depend on where a
 * search starts, so they never take part in the prefilter.
 *
 * Order. Each pattern yields its matches in start order, one pending match per pattern; a
 * binary heap keyed by (start, pattern index) merges them, so memory does not grow with the
 * number of matches and the callback may stop the scan at any point.
 *
 * When. Building the database is the expensive part (see the figures), so by default it is
 * built once the matcher has scanned FX_MATCH_AUTO_BYTES: below that a PCRE2 pass per pattern
 * costs less. A pasted message is then matched by PCRE2 alone, instantly, and a log file pays
 * the build once. The build happens under a mutex inside a scan; other threads keep scanning
 * without the prefilter until it is ready.
 *
 * Costs: collection O(len + reports); confirmation per pattern O(sum of its windows), plus for
 * a pattern neither bounded nor line-local (say `error:\s+(.*)`, since \s matches a newline)
 * a start-position scan from each interval back to the previous one; merging O(matches log n).
 */
#include "match.h"

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

/* After this many limit hits in one text a pattern gives up on that text: each costs up to
 * PCRE2's match limit. */
#define MAX_LIMIT_HITS 16
/* Candidate ends this close to a pattern's open interval join it; the gap grows 4x each time
 * the pattern's interval count reaches a power of two from GAP_GROW_AT on. */
#define INITIAL_GAP 128
#define GAP_GROW_AT 1024
/* A failed whole-database compile names the pattern at fault; we drop it and retry this often. */
#define MAX_HS_RETRIES 8
#define NONE SIZE_MAX

enum { PF_NONE, PF_READY, PF_FAILED };

struct pat {
	fx_regex *re;              /* compiled with FX_RE_START_LIMIT */
	char *src;                 /* the regex, NUL-terminated (Vectorscan wants C strings) */
	size_t len;                /* its length in bytes; may hold NULs */
	unsigned flags;            /* FX_RE_* */
	uint32_t ngroups;          /* capture groups, not counting the whole match */
	const char **names;        /* ngroups + 1 names, [0] and unnamed ones NULL; point into re */
	size_t span_off;           /* where its pending match lives in a scratch's spans */
	unsigned char windowed;    /* no (*VERB) nor \G: a search may begin anywhere */
	unsigned char line_local;  /* a match can never contain a newline byte */
};

/* What the lazily built prefilter adds. Written once under lock, before state turns ready. */
struct prefilter {
	pthread_mutex_t lock;      /* held while building */
	atomic_int state;          /* PF_*; read with acquire, written with release */
	atomic_size_t scanned;     /* bytes scanned so far, for FX_MATCH_PREFILTER_AUTO */
	hs_database_t *db;         /* block mode; expression id = pattern index */
	unsigned char *in_db;      /* per pattern: 1 when in db (its matches end in candidates) */
	unsigned *width;           /* per pattern: max match length, UINT_MAX when unbounded */
	uint32_t *always;          /* the patterns not in db, searched by PCRE2 in every scan */
	size_t nalways;
	size_t prefiltered;        /* patterns in db */
	size_t bounded;            /* of which width < UINT_MAX */
	size_t som;                /* of which compiled exactly, with start offsets */
	double build_seconds;
};

struct fx_matcher {
	struct pat *pats;
	size_t n;
	size_t nspans;             /* sum over patterns of 2 * (ngroups + 1) */
	size_t max_groups;
	size_t line_local;         /* patterns with line_local set */
	fx_match_prefilter mode;
	size_t auto_bytes;
	struct prefilter *pf;      /* mutable state behind a const matcher */
};

/* Candidate ends a..b of one pattern; no match ending there starts before s (0 when unknown). */
struct cand {
	size_t a, b;
	size_t s;
	uint32_t pat;
};

struct pstate {
	size_t pos;                /* the next match starts here or later */
	size_t ci, cend;           /* its candidate intervals still ahead: sorted[ci, cend) */
	size_t open;               /* collecting: its interval in cands being extended, or NONE */
	size_t ncand;              /* collecting: its intervals so far */
	size_t gap;                /* collecting: the merge distance */
	size_t found;              /* matches reported */
	unsigned hits;             /* PCRE2 limit hits */
	unsigned gen;              /* collecting: the scan that last reported it (see touched) */
	unsigned char empty;       /* the last match was empty and ended at pos */
	unsigned char restricted;  /* search only candidate windows */
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
	struct cand *cands;        /* collected intervals in report order */
	size_t ncands, capcands;
	struct cand *sorted;       /* the same grouped by pattern, sorted and disjoint */
	size_t capsorted;
	uint32_t *touched;         /* patterns with candidates in this scan, ntouched of them; a
	                            * pattern's collecting fields are valid when its gen == gen,
	                            * so a scan costs nothing for the patterns it does not touch */
	size_t ntouched;
	unsigned gen;
	int oom;                   /* an allocation failed during collection */
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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ============================================================================================
 * Reading the regex text
 * ========================================================================================== */

/* Could a search starting elsewhere than at pos change what PCRE2 finds? (*COMMIT), (*SKIP),
 * (*PRUNE) make a failure at one start abort the whole search, \G anchors at the start offset,
 * and (*CR)-style settings change what a newline is. Conservative: any "(*" or "\G". */
static int start_sensitive(const char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] == '(' && p[i + 1] == '*')
			return 1;
		if (p[i] == '\\' && p[i + 1] == 'G')
			return 1;
	}
	return 0;
}

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

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
 * The prefilter
 * ========================================================================================== */

/* May Vectorscan see this pattern? Not when a search's start matters, not with a NUL (it takes
 * C strings), and not extended with bytes >= 0x80 (PCRE2 may skip 0x85 as white space). */
static int hs_eligible(const struct pat *pt)
{
	if (!pt->windowed || strlen(pt->src) != pt->len)
		return 0;
	if (pt->flags & FX_RE_EXTENDED)
		for (size_t i = 0; i < pt->len; i++)
			if ((unsigned char)pt->src[i] >= 0x80)
				return 0;
	return 1;
}

/* Builds the database of every pattern Vectorscan accepts in prefilter mode and that cannot
 * match the empty string, then publishes it (state PF_READY), or marks the prefilter PF_FAILED
 * when none can be built. FX_ENOMEM leaves the state as it was. Called with pf->lock held. */
static int build_prefilter(const fx_matcher *m)
{
	struct prefilter *pf = m->pf;
	double t0 = now();
	size_t k = 0;
	int rc = FX_ENOMEM;
	char **owned = calloc(m->n ? m->n : 1, sizeof *owned);
	const char **exprs = calloc(m->n ? m->n : 1, sizeof *exprs);
	unsigned *flags = calloc(m->n ? m->n : 1, sizeof *flags);
	unsigned *ids = calloc(m->n ? m->n : 1, sizeof *ids);
	unsigned *widths = calloc(m->n ? m->n : 1, sizeof *widths);
	unsigned *pfwidths = calloc(m->n ? m->n : 1, sizeof *pfwidths);
	hs_database_t *db = NULL;
	if (!owned || !exprs || !flags || !ids || !widths || !pfwidths)
		goto done;
	if (hs_valid_platform() != HS_SUCCESS) {
		rc = 0;
		goto done;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct pat *pt = &m->pats[i];
		if (!hs_eligible(pt))
			continue;
		const char *expr = pt->src;
		/* Vectorscan has no flag for PCRE2_EXTENDED, but knows the inline option. */
		if (pt->flags & FX_RE_EXTENDED) {
			owned[i] = malloc(pt->len + 5);
			if (!owned[i])
				goto done;
			memcpy(owned[i], "(?x)", 4);
			memcpy(owned[i] + 4, pt->src, pt->len + 1);
			expr = owned[i];
		}
		unsigned f = HS_FLAG_PREFILTER;
		if (pt->flags & FX_RE_CASELESS)
			f |= HS_FLAG_CASELESS;
		if (pt->flags & FX_RE_MULTILINE)
			f |= HS_FLAG_MULTILINE;
		if (pt->flags & FX_RE_DOTALL)
			f |= HS_FLAG_DOTALL;
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *cerr = NULL;
		if (hs_expression_info(expr, f, &info, &cerr) != HS_SUCCESS) {
			hs_free_compile_error(cerr);
			continue;
		}
		/* A pattern that may match empty would report at every offset: PCRE2 alone is
		 * cheaper. Vectorscan refuses those without HS_FLAG_ALLOWEMPTY anyway. */
		unsigned minw = info->min_width, maxw = info->max_width;
		free(info);
		if (minw == 0)
			continue;
		exprs[k] = expr;
		flags[k] = f;
		ids[k] = (unsigned)i;
		widths[k] = maxw;
		pfwidths[k] = maxw;
		/* Neither line-local nor bounded: where its matches start would be unknown, so
		 * ask Vectorscan for the leftmost start, which it gives only for the exact pattern
		 * (not in prefilter mode). */
		if (!pt->line_local && maxw == UINT_MAX) {
			unsigned fs = (f & ~(unsigned)HS_FLAG_PREFILTER) | HS_FLAG_SOM_LEFTMOST;
			if (hs_expression_info(expr, fs, &info, &cerr) == HS_SUCCESS) {
				if (info->min_width > 0) {
					flags[k] = fs;
					widths[k] = info->max_width;
				}
				free(info);
			} else {
				hs_free_compile_error(cerr);
			}
		}
		k++;
	}
	for (int tries = 0; k > 0 && tries <= MAX_HS_RETRIES; tries++) {
		hs_compile_error_t *cerr = NULL;
		if (hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_VECTORED, NULL, &db,
		                     &cerr) == HS_SUCCESS)
			break;
		db = NULL;
		int bad = cerr ? cerr->expression : -1;
		hs_free_compile_error(cerr);
		if (bad < 0 || (size_t)bad >= k)
			break;
		if (flags[bad] & HS_FLAG_SOM_LEFTMOST) {
			/* Without start offsets, then. */
			flags[bad] = (flags[bad] & ~(unsigned)HS_FLAG_SOM_LEFTMOST) | HS_FLAG_PREFILTER;
			widths[bad] = pfwidths[bad];
			continue;
		}
		/* Drop the pattern at fault; it will be searched by PCRE2 alone. */
		k--;
		exprs[bad] = exprs[k];
		flags[bad] = flags[k];
		ids[bad] = ids[k];
		widths[bad] = widths[k];
		pfwidths[bad] = pfwidths[k];
	}
	rc = 0;
	if (!db)
		goto done;
	for (size_t j = 0; j < k; j++) {
		pf->in_db[ids[j]] = 1;
		pf->width[ids[j]] = widths[j];
		pf->bounded += widths[j] != UINT_MAX;
		pf->som += (flags[j] & HS_FLAG_SOM_LEFTMOST) != 0;
	}
	pf->prefiltered = k;
	for (size_t i = 0; i < m->n; i++)
		if (!pf->in_db[i])
			pf->always[pf->nalways++] = (uint32_t)i;
	pf->db = db;
	pf->build_seconds = now() - t0;
	atomic_store_explicit(&pf->state, PF_READY, memory_order_release);
done:
	if (rc == 0 && !db)
		atomic_store_explicit(&pf->state, PF_FAILED, memory_order_release);
	for (size_t i = 0; owned && i < m->n; i++)
		free(owned[i]);
	free(owned);
	free(exprs);
	free(flags);
	free(ids);
	free(widths);
	free(pfwidths);
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
	int rc = FX_ENOMEM;
	m->mode = opts ? opts->prefilter : FX_MATCH_PREFILTER_AUTO;
	m->auto_bytes = opts && opts->auto_bytes ? opts->auto_bytes : FX_MATCH_AUTO_BYTES;
	m->pf = calloc(1, sizeof *m->pf);
	if (!m->pf) {
		free(m);
		return FX_ENOMEM;
	}
	if (pthread_mutex_init(&m->pf->lock, NULL) != 0) {
		free(m->pf);
		free(m);
		return FX_ENOMEM;
	}
	atomic_init(&m->pf->state, m->mode == FX_MATCH_PREFILTER_NEVER ? PF_FAILED : PF_NONE);
	atomic_init(&m->pf->scanned, 0);
	m->n = n;
	if (n) {
		m->pats = calloc(n, sizeof *m->pats);
		m->pf->in_db = calloc(n, 1);
		m->pf->width = calloc(n, sizeof *m->pf->width);
		m->pf->always = calloc(n, sizeof *m->pf->always);
		if (!m->pats || !m->pf->in_db || !m->pf->width || !m->pf->always)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct pat *pt = &m->pats[i];
		const char *src = pats[i].regex ? pats[i].regex : "";
		size_t len = pats[i].regex ? pats[i].len : 0;
		size_t off = 0;
		pt->re = fx_regex_new(src, len, pats[i].flags | FX_RE_START_LIMIT, err, &off);
		if (!pt->re) {
			/* fx_regex_new reports running out of memory as "out of memory" with offset 0;
			 * anything else is the pattern's fault. */
			rc = FX_EINVAL;
			if (bad_pattern)
				*bad_pattern = i;
			if (bad_offset)
				*bad_offset = off;
			goto fail;
		}
		pt->src = malloc(len + 1);
		if (!pt->src)
			goto fail;
		if (len)
			memcpy(pt->src, src, len);
		pt->src[len] = '\0';
		pt->len = len;
		pt->flags = pats[i].flags;
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
		pt->windowed = !start_sensitive(src, len);
		pt->line_local = pt->windowed && line_local(src, len, pt->flags);
		m->line_local += pt->line_local;
	}
	if (m->mode == FX_MATCH_PREFILTER_ALWAYS) {
		struct prefilter *pf = m->pf;
		pthread_mutex_lock(&pf->lock);
		int built = build_prefilter(m);
		pthread_mutex_unlock(&pf->lock);
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
		fx_regex_free(m->pats[i].re);
		free(m->pats[i].src);
		free(m->pats[i].names);
	}
	free(m->pats);
	if (m->pf) {
		hs_free_database(m->pf->db);
		free(m->pf->in_db);
		free(m->pf->width);
		free(m->pf->always);
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
	st->line_local = m->line_local;
	if (atomic_load_explicit(&m->pf->state, memory_order_acquire) != PF_READY)
		return;
	st->built = 1;
	st->prefiltered = m->pf->prefiltered;
	st->bounded = m->pf->bounded;
	st->with_start = m->pf->som;
	st->build_seconds = m->pf->build_seconds;
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
	if (!sc->rd || !sc->spans || !sc->out || !sc->ps || !sc->heap || !sc->touched) {
		fx_match_scratch_free(sc);
		return FX_ENOMEM;
	}
	*out = sc;
	return 0;
}

void fx_match_scratch_free(fx_match_scratch *sc)
{
	if (!sc)
		return;
	fx_regex_data_free(sc->rd);
	hs_free_scratch(sc->hs);
	free(sc->spans);
	free(sc->out);
	free(sc->ps);
	free(sc->heap);
	free(sc->touched);
	free(sc->cands);
	free(sc->sorted);
	free(sc);
}

/* ============================================================================================
 * Collecting candidates
 * ========================================================================================== */

static int on_candidate(unsigned int id, unsigned long long from, unsigned long long to,
                        unsigned int flags, void *ctx)
{
	(void)flags;
	fx_match_scratch *sc = ctx;
	struct pstate *ps = &sc->ps[id];
	size_t e = (size_t)to;
	if (ps->gen != sc->gen) {
		ps->gen = sc->gen;
		ps->open = NONE;
		ps->ncand = 0;
		ps->gap = INITIAL_GAP;
		sc->touched[sc->ntouched++] = id;
	} else {
		struct cand *c = &sc->cands[ps->open];
		if (e >= c->a && (e <= c->b || e - c->b <= ps->gap)) {
			if (e > c->b)
				c->b = e;
			if (from < c->s)
				c->s = (size_t)from;
			return 0;
		}
	}
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
	sc->cands[sc->ncands] = (struct cand){e, e, (size_t)from, id};
	ps->open = sc->ncands++;
	ps->ncand++;
	if (ps->ncand >= GAP_GROW_AT && (ps->ncand & (ps->ncand - 1)) == 0 &&
	    ps->gap < SIZE_MAX / 4)
		ps->gap *= 4;
	return 0;
}

static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return (a->a > b->a) - (a->a < b->a);
}

/* Sorts and merges one pattern's intervals in place; returns how many remain. */
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
			if (c[i].s < c[k].s)
				c[k].s = c[i].s;
		} else {
			c[++k] = c[i];
		}
	}
	return n ? k + 1 : 0;
}

/* Runs Vectorscan over the text and leaves each prefiltered pattern's candidate intervals in
 * sorted[ps.ci, ps.cend). 1 on success, 0 when the prefilter cannot serve this scan. */
static int collect(const struct scan *s)
{
	const fx_matcher *m = s->m;
	fx_match_scratch *sc = s->sc;
	if (!sc->hs && hs_alloc_scratch(m->pf->db, &sc->hs) != HS_SUCCESS) {
		sc->hs = NULL;
		return 0;
	}
	if (++sc->gen == 0) { /* wrapped: no stale gen may equal the new one */
		for (size_t p = 0; p < m->n; p++)
			sc->ps[p].gen = 0;
		sc->gen = 1;
	}
	sc->ntouched = 0;
	sc->ncands = 0;
	sc->oom = 0;
	if (s->len > 0) {
		/* Vectored mode reads a list of pieces as one text: pieces of at most 1 GiB lift
		 * the limit of its unsigned lengths. */
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
		hs_error_t e = hs_scan_vector(m->pf->db, data, lens, count, 0, sc->hs, on_candidate,
		                              sc);
		if (e != HS_SUCCESS || sc->oom)
			return 0;
	}
	if (sc->ncands > sc->capsorted) {
		struct cand *ns = realloc(sc->sorted, sc->ncands * sizeof *ns);
		if (!ns)
			return 0;
		sc->sorted = ns;
		sc->capsorted = sc->ncands;
	}
	/* Group by pattern, keeping report order (ascending, as Vectorscan usually reports). */
	size_t off = 0;
	for (size_t i = 0; i < sc->ntouched; i++) {
		struct pstate *ps = &sc->ps[sc->touched[i]];
		ps->ci = ps->cend = off;
		off += ps->ncand;
	}
	for (size_t i = 0; i < sc->ncands; i++)
		sc->sorted[sc->ps[sc->cands[i].pat].cend++] = sc->cands[i];
	for (size_t i = 0; i < sc->ntouched; i++) {
		struct pstate *ps = &sc->ps[sc->touched[i]];
		ps->cend = ps->ci + normalize(sc->sorted + ps->ci, ps->cend - ps->ci);
	}
	return 1;
}

/* ============================================================================================
 * Confirming and ordering
 * ========================================================================================== */

/* Where a search for a match ending in interval c may begin (see the top). */
static size_t window_start(const struct scan *s, size_t p, size_t pos, const struct cand *c)
{
	size_t lo = pos > c->s ? pos : c->s, a = c->a;
	unsigned w = s->m->pf->width[p];
	if (w != UINT_MAX && a > w && a - w > lo)
		lo = a - w;
	if (!s->m->pats[p].line_local)
		return lo;
	for (size_t i = a; i > lo; i--)
		if (s->text[i - 1] == '\n')
			return i;
	return lo;
}

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
			const struct cand *c = s->sc->sorted;
			while (ps->ci < ps->cend && c[ps->ci].b < ps->pos)
				ps->ci++;
			if (ps->ci == ps->cend)
				return 0;
			from = window_start(s, p, ps->pos, &c[ps->ci]);
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

int fx_match_scan(const fx_matcher *m, fx_match_scratch *sc, const char *text, size_t len,
                  size_t max_per_pattern, fx_match_fn fn, fx_match_warn_fn warn, void *ud)
{
	if (!m || !sc || sc->m != m || !fn || (!text && len))
		return FX_EINVAL;
	struct scan s = {m, sc, text ? text : "", len, max_per_pattern, warn, ud};
	sc->nheap = 0;
	if (m->n > 0 && prefilter_ready(m, len) && collect(&s)) {
		/* The prefiltered patterns without a candidate cannot match: skip them. */
		const struct prefilter *pf = m->pf;
		for (size_t i = 0; i < pf->nalways + sc->ntouched; i++) {
			uint32_t p = i < pf->nalways ? pf->always[i] : sc->touched[i - pf->nalways];
			int rc = start_pattern(&s, p, i >= pf->nalways);
			if (rc < 0)
				return rc;
		}
	} else {
		for (size_t p = 0; p < m->n; p++) {
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
