/* regex.c: the only file that talks to PCRE2. Patterns from `matches:` constraints are compiled
 * (and JIT-compiled when possible) once at load; the loaded kb then matches them from any number
 * of threads, each match bounded by limits so that a pathological pattern fails with FX_ELIMIT.
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
 * key whose destructor frees it when the thread exits. */
#include "regex.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fixit.h"

/* Enough for any sane rule, small enough that a runaway pattern stops within milliseconds. */
#define MATCH_LIMIT 1000000u
#define DEPTH_LIMIT 10000u
#define HEAP_LIMIT_KIB (64u * 1024u)

struct fx_regex {
	pcre2_code *code;           /* the compiled (and maybe JIT-compiled) pattern */
	pcre2_match_context *mctx;  /* carries the limits; read-only while matching */
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

fx_regex *fx_regex_new(const char *pat, size_t len, unsigned flags, fx_buf *err,
                       size_t *erroffset)
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
	if (erroffset)
		*erroffset = 0;
	if (!pat)
		pat = "";

	int code;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, opts, &code, &off, NULL);
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
	/* Without JIT (unsupported platform, or W^X memory policy) the interpreter does the same
	 * job more slowly, so a JIT failure is not an error. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);

	fx_regex *r = NULL;
	pcre2_match_context *mctx = pcre2_match_context_create(NULL);
	if (mctx && len < SIZE_MAX - sizeof *r)
		r = malloc(sizeof *r + len + 1);
	if (!r) {
		pcre2_match_context_free(mctx);
		pcre2_code_free(re);
		if (err)
			fx_buf_puts(err, "out of memory");
		return NULL;
	}
	pcre2_set_match_limit(mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(mctx, HEAP_LIMIT_KIB);
	r->code = re;
	r->mctx = mctx;
	r->len = len;
	if (len)
		memcpy(r->src, pat, len);
	r->src[len] = '\0';
	return r;
}

void fx_regex_free(fx_regex *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re);
}

int fx_regex_match(const fx_regex *re, const char *subject, size_t len)
{
	int owned;
	pcre2_match_data *md = md_get(&owned);
	if (!md)
		return FX_ENOMEM;
	if (!subject)
		subject = "";
	int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
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
