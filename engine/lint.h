/* lint.h: the linter's internals that tests look at: the static search for catastrophic
 * backtracking in a regex and the adversarial text that confirms it. fx_kb_lint itself is
 * public (fixit.h); lint.c implements both. */
#ifndef FX_LINT_H
#define FX_LINT_H

#include <stddef.h>
#include "buf.h"

struct fx_regex;

/* Look in the regex text re[0..len) (flags: FX_RE_* of regex.h) for a repetition that can
 * match the same text in exponentially many ways: a quantified group whose body can be
 * taken whole by an inner unbounded quantifier ((a+)+, (\w+\s?)*), whose alternatives
 * overlap ((a|a)*), or which repeats two overlapping unbounded quantifiers ((a+a+)+).
 * Possessive quantifiers and atomic groups are safe. When compiled (re compiled, may be NULL)
 * is given, each suspect is run on texts built to make the regex try those ways one after
 * another. Returns 2 when such a run stopped at the match limit (confirmed), 1 when a suspect
 * was found but not confirmed (or compiled is NULL), 0 when none was found or the regex is
 * beyond this reader; FX_ENOMEM. For 1 and 2, *off receives the byte offset in re of the
 * repetition, and subject (cleared first) the text that confirmed it, or else the first one
 * built. */
int fx_lint_backtrack(const char *re, size_t len, unsigned flags, const struct fx_regex *compiled,
                      size_t *off, fx_buf *subject);

#endif
