/* reader.h: the internal side of the case splitter (reader.c), whose API (fx_reader_new, _feed,
 * _finish, _free, fx_case, fx_read_mode) is public and documented in fixit.h. Here: its limits,
 * its statistics, an explicit reset and the names of the modes, for the CLI and the tests. */
#ifndef FX_READER_H
#define FX_READER_H

#include <stddef.h>
#include <stdint.h>

#include "fixit.h"

/* Default cap on the bytes kept of one case, when fx_reader_new is given 0. */
#define FX_READER_DEFAULT_CAP ((size_t)1 << 20)
/* A case over the cap is cut at the last line end within this many bytes before the cap. */
#define FX_READER_CUT_WINDOW ((size_t)4096)

/* The cut, exactly: when the normalised case is longer than the cap, it is cut at the last line
 * end in the FX_READER_CUT_WINDOW bytes before the cap when there is one, else at the cap itself
 * (moved back to the start of a UTF-8 sequence that the cap would split); blank lines left at
 * the end of the kept part by the cut are dropped too. The rest of the case is still consumed,
 * in constant memory, up to its end. Memory grows with the largest case seen, up to the cap. */

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

/* Start a new input now: numbering, lines and offsets start again from the beginning and any
 * case being built is discarded. Mode, cap, the buffer and the peak memory figure are kept.
 * (fx_reader_feed after fx_reader_finish does this by itself.) */
void fx_reader_reset(fx_reader *r);

/* Fill *out with what the reader has seen of the current input (still valid after
 * fx_reader_finish, until the next input starts). */
void fx_reader_stats(const fx_reader *r, fx_read_stats *out);

/* Mode names for command lines: "blocks", "lines", "whole". Returns 0 or FX_EINVAL. */
int fx_reader_mode_parse(const char *name, fx_read_mode *out);
/* The name of a mode, or "?" for a value outside the enum. */
const char *fx_reader_mode_name(fx_read_mode mode);

#endif
