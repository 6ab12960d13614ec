/* regex.h: the one wrapper around PCRE2. Patterns are compiled (and JIT-compiled when the
 * platform allows) once at load; matching uses per-thread match data owned by the caller and
 * honours match and depth limits, so a pathological pattern stops with FX_ELIMIT. */
#ifndef FX_REGEX_H
#define FX_REGEX_H

#include <stddef.h>
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
/* 1 match, 0 no match, FX_ELIMIT when a match/depth/heap limit stopped it, FX_ENOMEM. */
int fx_regex_match(const fx_regex *re, const char *subject, size_t len);
const char *fx_regex_source(const fx_regex *re);

#endif
