/* reader.h: the case splitter. Cuts an input (a file, a pasted text, an endless stream) fed in
 * chunks of any size into *cases*, the units the diagnosis layer works on, with bounded memory.
 * Used by the CLI and the REPL alike; depends on nothing but the C library. */
#ifndef FX_READER_H
#define FX_READER_H

#include <stddef.h>
#include <stdint.h>

/* How an input is cut into cases.
 *
 * Lines: LF, CRLF and a lone CR each end a line (CRLF counts once); a last line without an end
 * is still a line. A line is *blank* when it holds only spaces and tabs (or nothing); any other
 * byte, NUL and invalid UTF-8 included, makes it non-blank.
 *
 * In every mode a case starts with a non-blank line and ends with a non-blank line: leading and
 * trailing blank lines never belong to a case, and an input with no non-blank line yields no
 * case at all (in whole mode too: an empty input gives no case; fx_reader_stats tells the
 * caller how many bytes it saw if it wants to say "empty input"). */
typedef enum fx_read_mode {
	FX_READ_BLOCKS, /* a case is a run of non-blank lines; one or more blank lines separate two */
	FX_READ_LINES, /* each non-blank line is a case; blank lines are skipped (but counted) */
	FX_READ_WHOLE  /* the whole input is one case; blank lines inside it are kept */
} fx_read_mode;

/* Default cap on the bytes kept of one case, when fx_reader_new is given 0. */
#define FX_READER_DEFAULT_CAP ((size_t)1 << 20)
/* A case over the cap is cut at the last line end within this many bytes before the cap. */
#define FX_READER_CUT_WINDOW ((size_t)4096)

/* One case, as handed to the callback. Every pointer in it is borrowed: valid only until the
 * callback returns.
 *
 * text is the case with each line end normalised to a single \n, no \n at the end and every
 * other byte as it came (tabs, NUL, invalid UTF-8; a CR never appears). text[len] is a NUL for
 * convenience, but text may hold NULs of its own: always use len.
 *
 * Truncation: when the normalised case is longer than the reader's cap, text keeps its first
 * part and `dropped` counts the normalised bytes left out, so len + dropped is always the full
 * normalised length. The cut is made at the last line end in the FX_READER_CUT_WINDOW bytes
 * before the cap when there is one, else at the cap itself (moved back to the start of a UTF-8
 * sequence that the cap would split); blank lines left at the end of the kept part by the cut
 * are dropped too. The rest of the case is still consumed, in constant memory, up to its end. */
typedef struct fx_case {
	uint64_t index;     /* 1-based number of the case in this input */
	uint64_t line;      /* line number (1-based) of its first line in the input */
	uint64_t last_line; /* line number of its last (non-blank) line, dropped part included */
	uint64_t offset;    /* byte offset (0-based) of its first byte in the input */
	const char *text;   /* the kept bytes, see above */
	size_t len;         /* bytes in text, at least 1 */
	uint64_t dropped;   /* normalised bytes not kept because of the cap; 0 normally */
	int truncated;      /* 1 when dropped > 0, else 0 */
} fx_case;

/* Receives each case in input order. A non-zero return stops the feeding: fx_reader_feed and
 * fx_reader_finish return that value unchanged. */
typedef int (*fx_case_fn)(void *ud, const fx_case *c);

/* What the reader has seen of the current input. */
typedef struct fx_read_stats {
	uint64_t bytes; /* bytes of the input consumed so far */
	uint64_t lines; /* lines seen so far, a last unterminated one included once it has a byte */
	uint64_t cases; /* cases delivered so far */
	uint64_t truncated; /* of which truncated */
	size_t peak_bytes; /* high-water mark of heap memory held by the reader since fx_reader_new,
	                       counting both blocks while a buffer grows; never above
	                       2 * (cap + 2) + sizeof the reader */
	size_t cap;        /* the cap in force (the default once resolved) */
} fx_read_stats;

typedef struct fx_reader fx_reader;

/* Create a reader for one input at a time. case_cap: bytes kept of one case, 0 for
 * FX_READER_DEFAULT_CAP; must be at most SIZE_MAX / 4. Memory grows with the largest case seen,
 * up to the cap, and no further however long the input or its lines.
 * Returns 0, FX_EINVAL (out NULL, unknown mode, cap too large) or FX_ENOMEM; *out is NULL on
 * failure. */
int fx_reader_new(fx_reader **out, fx_read_mode mode, size_t case_cap);

/* Free the reader; NULL is a no-op. A case still being built is discarded: call
 * fx_reader_finish first to have it delivered. */
void fx_reader_free(fx_reader *r);

/* Consume len bytes of the input (buf may be NULL when len is 0) and call fn(ud, case) for each
 * case that these bytes complete. Chunk boundaries make no difference to the cases: feeding an
 * input in one call or byte by byte gives the same cases. A case is complete when the reader
 * sees the end of the line that ends it: for blocks, the end of the first blank line after it
 * (so a REPL user ends a paste with an empty line); for lines, the end of its line; whole mode
 * delivers only at fx_reader_finish. fn may be NULL: cases are then counted and discarded.
 *
 * Returns 0, the callback's non-zero value, FX_EINVAL (r NULL, buf NULL with len > 0, or the
 * input already finished) or FX_ENOMEM. When fn stops the feeding, the reader stays valid and
 * positioned just after the line end that completed the case: fx_reader_stats' `bytes` tells how
 * much of the input was consumed, and the caller may go on by feeding the rest of buf. After
 * FX_ENOMEM the reader may only be finished, reset or freed (further feeds give FX_EINVAL). */
int fx_reader_feed(fx_reader *r, const char *buf, size_t len, fx_case_fn fn, void *ud);

/* End of input: deliver the case still open, if any (the last line needs no line end). The
 * input is then finished: fx_reader_feed returns FX_EINVAL until fx_reader_reset, and a second
 * fx_reader_finish does nothing and returns 0. Returns 0, the callback's non-zero value,
 * FX_EINVAL (r NULL) or FX_ENOMEM (an earlier feed ran out of memory: the open case is lost). */
int fx_reader_finish(fx_reader *r, fx_case_fn fn, void *ud);

/* Start a new input: numbering, lines and offsets start again from the beginning and any case
 * being built is discarded. Mode, cap, the buffer and the peak memory figure are kept. */
void fx_reader_reset(fx_reader *r);

/* Fill *out with what the reader has seen of the current input (still valid after
 * fx_reader_finish, until fx_reader_reset). */
void fx_reader_stats(const fx_reader *r, fx_read_stats *out);

/* Mode names for command lines: "blocks", "lines", "whole". Returns 0 or FX_EINVAL. */
int fx_reader_mode_parse(const char *name, fx_read_mode *out);
/* The name of a mode, or "?" for a value outside the enum. */
const char *fx_reader_mode_name(fx_read_mode mode);

#endif
