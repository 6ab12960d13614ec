/* regex.c: the only file that talks to PCRE2. Patterns from `matches:` constraints are compiled
 * once at load (and JIT-compiled once they have searched enough text); the loaded kb then
 * matches them from any number of threads, each match bounded by limits so that a pathological
 * pattern fails with FX_ELIMIT.
 *
 * Byte semantics: patterns are compiled without PCRE2_UTF, and with PCRE2_NEVER_UTF so that a
 * pattern cannot turn UTF on with (*UTF). Fact texts may hold any bytes, including invalid UTF-8,
 * which a UTF-mode match would reject with an error; in byte mode a UTF-8 literal in a pattern
 * still matches the same UTF-8 bytes in a subject, `.` matches one byte, and `i` folds ASCII only.
 *
 * Match data: we only need "matched or not", so a match data block with one ovector pair serves
 * every pattern. Creating one per call would cost an allocation (plus PCRE2's backtracking frame
 * vector, which 10.41+ keeps inside the match data) on the hottest path, and one per regex would
 * not be thread-safe since a kb is shared, so each thread caches its own block under a pthread
 * key whose destructor frees it when the thread exits.
 *
 * Lazy JIT. JIT-compiling costs about as much as the interpreter searching some tens of
 * kilobytes (callgrind, built-in kb: 21 patterns JIT-compiled twice each were a fifth of the
 * instructions of diagnosing one pasted message), and most regexes of a kb never search that
 * much in a run. So a regex starts interpreted and counts the bytes it searches; the search that
 * takes the count past FX_REGEX_JIT_BYTES JIT-compiles a copy (pcre2_code_copy leaves the JIT
 * code behind) and publishes it with a release store. The interpreted code is never modified, so
 * other threads may go on matching with it meanwhile: the compiled pattern stays shareable
 * without a lock. Both run the same pattern with the same semantics; only limits differ in
 * detail (the JIT has no depth limit but a stack limit), and either gives FX_ELIMIT.
 *
 * Deferred compilation. A kb loaded from an image (image.c) holds regexes that compiled when
 * the image was written, and one pasted message needs only the few whose atoms it contains:
 * compiling all of them was a fifth of such a run. fx_regex_new_deferred keeps the text and
 * the group names the image recorded; the first match compiles it and publishes the code the
 * way the JIT copy is published (a thread that loses the race frees its own). */
#include "regex.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fixit.h"

/* Enough for any sane rule, small enough that a runaway pattern stops within milliseconds. */
#define MATCH_LIMIT 1000000u
#define DEPTH_LIMIT 10000u
#define HEAP_LIMIT_KIB (64u * 1024u)

enum { JIT_NONE, JIT_BUSY, JIT_DONE, JIT_FAILED };

/* The mutable part of a regex behind a const handle: its lazy JIT. */
struct lazy_jit {
	_Atomic(pcre2_code *) code; /* the JIT-compiled copy once ready (release store), or NULL */
	atomic_size_t work;         /* bytes searched by the interpreter so far (relaxed) */
	atomic_int state;           /* JIT_*: one thread moves NONE to BUSY and compiles */
};

struct fx_regex {
	_Atomic(pcre2_code *) code; /* the compiled pattern, interpreted; set once (deferred: on
	                               first use, release store), never changed after */
	struct lazy_jit *jit;       /* see "Lazy JIT" above */
	pcre2_match_context *mctx;  /* carries the limits; read-only while matching */
	unsigned flags;             /* FX_RE_* given to fx_regex_new */
	const char *const *names;   /* deferred: the group names given (names[0] NULL), or NULL */
	uint32_t ngroups;           /* with names: the capture groups */
	size_t len;                 /* pattern length in bytes */
	char src[];                 /* the pattern text, NUL-terminated */
};

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key;
static int md_key_ok;           /* 0 if the key could not be created: fall back to per call */

static void md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void md_init(void)
{
	md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

/* This thread's match data, or a fresh one the caller must free (*owned set). */
static pcre2_match_data *md_get(int *owned)
{
	pthread_once(&md_once, md_init);
	*owned = 0;
	if (md_key_ok) {
		pcre2_match_data *md = pthread_getspecific(md_key);
		if (md)
			return md;
		md = pcre2_match_data_create(1, NULL);
		if (md && pthread_setspecific(md_key, md) == 0)
			return md;
		if (md)
			*owned = 1;
		return md;
	}
	*owned = 1;
	return pcre2_match_data_create(1, NULL);
}

/* Drop this thread's cached block (after a limit hit it may hold a large frame vector). */
static void md_drop(pcre2_match_data *md, int owned)
{
	if (!owned && md_key_ok)
		pthread_setspecific(md_key, NULL);
	pcre2_match_data_free(md);
}

static uint32_t compile_options(unsigned flags)
{
	uint32_t opts = PCRE2_NEVER_UTF;
	if (flags & FX_RE_CASELESS)
		opts |= PCRE2_CASELESS;
	if (flags & FX_RE_MULTILINE)
		opts |= PCRE2_MULTILINE;
	if (flags & FX_RE_DOTALL)
		opts |= PCRE2_DOTALL;
	if (flags & FX_RE_EXTENDED)
		opts |= PCRE2_EXTENDED;
	if (flags & FX_RE_START_LIMIT)
		opts |= PCRE2_USE_OFFSET_LIMIT;
	return opts;
}

/* The handle around code (NULL: deferred), which it takes over; NULL when out of memory. */
static fx_regex *wrap(pcre2_code *code, const char *pat, size_t len, unsigned flags)
{
	fx_regex *r = NULL;
	pcre2_match_context *mctx = pcre2_match_context_create(NULL);
	struct lazy_jit *jit = malloc(sizeof *jit);
	if (mctx && jit && len < SIZE_MAX - sizeof *r)
		r = malloc(sizeof *r + len + 1);
	if (!r) {
		free(jit);
		pcre2_match_context_free(mctx);
		pcre2_code_free(code);
		return NULL;
	}
	pcre2_set_match_limit(mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(mctx, HEAP_LIMIT_KIB);
	atomic_init(&jit->code, NULL);
	atomic_init(&jit->work, 0);
	atomic_init(&jit->state, JIT_NONE);
	atomic_init(&r->code, code);
	r->jit = jit;
	r->mctx = mctx;
	r->flags = flags;
	r->names = NULL;
	r->ngroups = 0;
	r->len = len;
	if (len)
		memcpy(r->src, pat, len);
	r->src[len] = '\0';
	return r;
}

fx_regex *fx_regex_new(const char *pat, size_t len, unsigned flags, fx_buf *err,
                       size_t *erroffset)
{
	if (erroffset)
		*erroffset = 0;
	if (!pat)
		pat = "";

	int code;
	PCRE2_SIZE off = 0;
	pcre2_code *re =
	        pcre2_compile((PCRE2_SPTR)pat, len, compile_options(flags), &code, &off, NULL);
	if (!re) {
		if (err) {
			PCRE2_UCHAR msg[256];
			if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
				fx_buf_printf(err, "PCRE2 error %d", code);
			else
				fx_buf_puts(err, (const char *)msg);
		}
		if (erroffset)
			*erroffset = off;
		return NULL;
	}
	fx_regex *r = wrap(re, pat, len, flags);
	if (!r && err)
		fx_buf_puts(err, "out of memory");
	return r;
}

fx_regex *fx_regex_new_deferred(const char *pat, size_t len, unsigned flags,
                                const char *const *names, uint32_t ngroups)
{
	fx_regex *r = wrap(NULL, pat ? pat : "", len, flags);
	if (r && names) {
		r->names = names;
		r->ngroups = ngroups;
	}
	return r;
}

/* The interpreted code, compiled now if it was deferred; NULL when it does not compile (an
 * image from another PCRE2 that accepted more) or memory ran out. */
static pcre2_code *code_of(const fx_regex *re)
{
	pcre2_code *c = atomic_load_explicit(&re->code, memory_order_acquire);
	if (c)
		return c;
	int code;
	PCRE2_SIZE off;
	c = pcre2_compile((PCRE2_SPTR)re->src, re->len, compile_options(re->flags), &code, &off,
	                  NULL);
	if (!c)
		return NULL;
	/* The handle is const to its users but its code is set once, like the JIT's copy. */
	fx_regex *w = (fx_regex *)(uintptr_t)re;
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&w->code, &expected, c, memory_order_acq_rel,
	                                             memory_order_acquire)) {
		pcre2_code_free(c);
		return expected;
	}
	return c;
}

int fx_regex_compiled(const fx_regex *re)
{
	return re && atomic_load_explicit(&re->code, memory_order_acquire) != NULL;
}

void fx_regex_free(fx_regex *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(atomic_load_explicit(&re->code, memory_order_acquire));
	pcre2_code_free(atomic_load_explicit(&re->jit->code, memory_order_acquire));
	free(re->jit);
	free(re);
}

/* JIT-compiles a copy of re's code and publishes it, unless another thread is at it or it is
 * done. Without JIT (unsupported platform, W^X memory policy, out of memory) the interpreter
 * does the same job more slowly, so a failure only means staying interpreted. */
static void jit_compile(const fx_regex *re)
{
	int expected = JIT_NONE;
	if (!atomic_compare_exchange_strong_explicit(&re->jit->state, &expected, JIT_BUSY,
	                                             memory_order_acq_rel, memory_order_acquire))
		return;
	const pcre2_code *base = code_of(re);
	pcre2_code *copy = base ? pcre2_code_copy(base) : NULL;
	if (copy && pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) == 0) {
		atomic_store_explicit(&re->jit->code, copy, memory_order_release);
		atomic_store_explicit(&re->jit->state, JIT_DONE, memory_order_release);
		return;
	}
	pcre2_code_free(copy);
	atomic_store_explicit(&re->jit->state, JIT_FAILED, memory_order_release);
}

/* The code to search `bytes` bytes with: the JIT's once there, else the interpreter's, counting
 * the work towards the JIT. A call costs the interpreter some setup whatever its length, hence
 * the constant. */
static const pcre2_code *code_for(const fx_regex *re, size_t bytes)
{
	pcre2_code *j = atomic_load_explicit(&re->jit->code, memory_order_acquire);
	if (j)
		return j;
	if (atomic_load_explicit(&re->jit->state, memory_order_relaxed) != JIT_NONE)
		return code_of(re);
	size_t add = bytes < FX_REGEX_JIT_BYTES ? bytes + 64 : FX_REGEX_JIT_BYTES;
	size_t before = atomic_fetch_add_explicit(&re->jit->work, add, memory_order_relaxed);
	if (before < FX_REGEX_JIT_BYTES && before + add >= FX_REGEX_JIT_BYTES) {
		jit_compile(re);
		j = atomic_load_explicit(&re->jit->code, memory_order_acquire);
		if (j)
			return j;
	}
	return code_of(re);
}

int fx_regex_jit_now(const fx_regex *re)
{
	if (!re)
		return FX_EINVAL;
	jit_compile(re);
	return atomic_load_explicit(&re->jit->code, memory_order_acquire) ? 1 : 0;
}

int fx_regex_is_jit(const fx_regex *re)
{
	return re && atomic_load_explicit(&re->jit->code, memory_order_acquire) != NULL;
}

int fx_regex_match(const fx_regex *re, const char *subject, size_t len)
{
	int owned;
	pcre2_match_data *md = md_get(&owned);
	if (!md)
		return FX_ENOMEM;
	if (!subject)
		subject = "";
	const pcre2_code *code = code_for(re, len);
	if (!code) {
		if (owned)
			pcre2_match_data_free(md);
		return FX_EINVAL;
	}
	int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
	int result;
	/* rc 0 means "matched, but the ovector was too small for the groups": still a match. */
	if (rc >= 0)
		result = 1;
	else if (rc == PCRE2_ERROR_NOMATCH)
		result = 0;
	else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	         rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		result = FX_ELIMIT;
	else if (rc == PCRE2_ERROR_NOMEMORY)
		result = FX_ENOMEM;
	else
		result = FX_EINVAL;
	if (result < 0)
		md_drop(md, owned);
	else if (owned)
		pcre2_match_data_free(md);
	return result;
}

const char *fx_regex_source(const fx_regex *re)
{
	return re ? re->src : "";
}

size_t fx_regex_source_len(const fx_regex *re)
{
	return re ? re->len : 0;
}

unsigned fx_regex_flags(const fx_regex *re)
{
	return re ? re->flags : 0;
}

int fx_regex_group_names(const fx_regex *re, const char **names, size_t n)
{
	uint32_t groups = 0, count = 0, size = 0;
	PCRE2_SPTR table = NULL;
	if (re && re->names) {
		/* Deferred with the names recorded: answer without compiling. */
		for (size_t i = 0; i < n; i++)
			names[i] = i > 0 && i <= re->ngroups ? re->names[i] : NULL;
		return re->ngroups > INT32_MAX ? FX_EINVAL : (int)re->ngroups;
	}
	const pcre2_code *code = re ? code_of(re) : NULL;
	if (!code || pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table) != 0)
		return FX_EINVAL;
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	/* Each entry: the group number in two bytes, most significant first, then the name. */
	for (uint32_t e = 0; e < count && table; e++) {
		PCRE2_SPTR ent = table + (size_t)e * size;
		size_t g = ((size_t)ent[0] << 8) | ent[1];
		if (g < n)
			names[g] = (const char *)(ent + 2);
	}
	return groups > INT32_MAX ? FX_EINVAL : (int)groups;
}

/* Match data of fx_regex_exec. The limits live in a context of our own rather than the
 * regex's shared one, because the start limit changes from call to call. */
struct fx_regex_data {
	pcre2_match_data *md;       /* ovector of `pairs` pairs */
	pcre2_match_context *mctx;  /* the same limits as fx_regex_new's, plus the start limit */
	uint32_t pairs;             /* capture groups + 1 */
};

fx_regex_data *fx_regex_data_new(size_t ngroups)
{
	if (ngroups >= UINT16_MAX) /* PCRE2 allows at most 65535 groups */
		return NULL;
	fx_regex_data *d = malloc(sizeof *d);
	if (!d)
		return NULL;
	d->pairs = (uint32_t)ngroups + 1;
	d->md = pcre2_match_data_create(d->pairs, NULL);
	d->mctx = pcre2_match_context_create(NULL);
	if (!d->md || !d->mctx) {
		fx_regex_data_free(d);
		return NULL;
	}
	pcre2_set_match_limit(d->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(d->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(d->mctx, HEAP_LIMIT_KIB);
	return d;
}

void fx_regex_data_free(fx_regex_data *d)
{
	if (!d)
		return;
	pcre2_match_data_free(d->md);
	pcre2_match_context_free(d->mctx);
	free(d);
}

int fx_regex_exec(const fx_regex *re, fx_regex_data *d, const char *subject, size_t len,
                  size_t start, size_t start_limit, unsigned opts, size_t *spans,
                  size_t nspans)
{
	if (!re || !d || start > len || (nspans && !spans))
		return FX_EINVAL;
	if (!subject)
		subject = "";
	uint32_t popts = 0;
	if (opts & FX_REGEX_NOTEMPTY_ATSTART)
		popts |= PCRE2_NOTEMPTY_ATSTART;
	/* PCRE2_UNSET is "no limit", and a limit on a pattern compiled without
	 * PCRE2_USE_OFFSET_LIMIT is an error that pcre2_match reports (PCRE2_ERROR_BADOFFSETLIMIT). */
	if (pcre2_set_offset_limit(d->mctx, start_limit == FX_REGEX_UNSET ? PCRE2_UNSET
	                                                                 : start_limit) != 0)
		return FX_EINVAL;
	/* A bounded start limits the search, and so the work, to about the window. */
	size_t work = len - start;
	if (start_limit != FX_REGEX_UNSET && start_limit >= start && start_limit - start < work)
		work = start_limit - start + 1;
	const pcre2_code *code = code_for(re, work);
	if (!code)
		return FX_EINVAL;
	int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, start, popts, d->md, d->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		if (rc == PCRE2_ERROR_NOMEMORY)
			return FX_ENOMEM;
		if (rc != PCRE2_ERROR_MATCHLIMIT && rc != PCRE2_ERROR_DEPTHLIMIT &&
		    rc != PCRE2_ERROR_HEAPLIMIT && rc != PCRE2_ERROR_JIT_STACKLIMIT)
			return FX_EINVAL;
		/* After a limit the block may hold a frame vector of up to the heap limit: start
		 * again with a small one if we can. */
		pcre2_match_data *fresh = pcre2_match_data_create(d->pairs, NULL);
		if (fresh) {
			pcre2_match_data_free(d->md);
			d->md = fresh;
		}
		return FX_ELIMIT;
	}
	if (rc == 0) /* the ovector was too small for the pattern's groups */
		return FX_EINVAL;
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(d->md);
	/* Groups past rc did not take part; PCRE2 leaves their ovector entries stale. */
	size_t set = (size_t)rc;
	for (size_t i = 0; i < nspans; i++) {
		if (i < set && ov[2 * i] != PCRE2_UNSET) {
			spans[2 * i] = ov[2 * i];
			spans[2 * i + 1] = ov[2 * i + 1];
		} else {
			spans[2 * i] = spans[2 * i + 1] = FX_REGEX_UNSET;
		}
	}
	return 1;
}
