/* reader.c: the case splitter (fx_reader_*). Bytes arrive in chunks of any size; lines are found
 * with memchr, and each complete case is handed to a callback with its position in the input.
 * Sits between the CLI's file/stream reading and the diagnosis of each case.
 *
 * Design. The reader keeps one *candidate*: the case being built, as the normalised text from
 * the start of its first line (lines joined by \n). Three lengths describe it:
 *
 *   len        logical length of the candidate, everything appended so far;
 *   committed  logical length up to the end of its last non-blank line (0: no such line yet);
 *   stored     bytes actually kept in buf, which is min(len, cap + 1).
 *
 * Bytes after `committed` (the \n after a line, blank lines, the start of a line not yet known to
 * be blank) are tentative: in whole mode blank lines are kept only if a non-blank line follows,
 * and a line's leading spaces belong to the case only if the line turns out non-blank. Keeping
 * them in the same buffer and delivering only the first `committed` bytes makes trailing blank
 * lines vanish without ever copying. A candidate whose lines all ended blank (committed == 0)
 * is simply emptied at the end of its line, which is how leading blank lines are skipped.
 *
 * The cap is applied only when a case is delivered, because only then is its committed length
 * known: a whole-mode case that crosses the cap with trailing blank lines alone is not
 * truncated. Keeping cap + 1 bytes is enough to decide the cut (the byte at the cap tells
 * whether the cut falls on a line end or splits a UTF-8 sequence), and every byte past it is
 * only counted, so memory is O(cap) whatever the length of a line or case, and the stream is
 * read in O(n) time: each byte is looked at by memchr, at most once more by the blank-line test
 * (which stops at the first non-blank byte of a line) and copied at most once.
 *
 * Line ends: LF, CR and CRLF. A CR may be the last byte of a chunk, so `prev_cr` remembers it
 * and a LF at the start of the next chunk is swallowed as the second half of the CRLF. */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

#include "fixit.h"

struct fx_reader {
	fx_read_mode mode;
	size_t cap;              /* bytes of a case kept at most */
	char *buf;               /* the candidate's first `stored` bytes, room for a NUL after */
	size_t bufcap;           /* allocated bytes of buf, at most cap + 2 */
	size_t stored;           /* bytes in buf: min(len, cap + 1) */
	uint64_t len;            /* logical (normalised) length of the candidate */
	uint64_t committed;      /* logical length up to the end of its last non-blank line */
	uint64_t case_line;      /* line number of the candidate's first line */
	uint64_t case_offset;    /* input offset of the candidate's first byte */
	uint64_t case_last_line; /* line number of its last non-blank line */
	uint64_t offset;         /* bytes of the input consumed */
	uint64_t line;           /* number of the line being read (1-based) */
	int line_bytes;          /* the line being read has at least one byte */
	int line_nonblank;       /* ...and one of them is neither a space nor a tab */
	int prev_cr;             /* the last byte consumed was a CR: a LF next is part of it */
	int finished;            /* fx_reader_finish was called for this input */
	int failed;              /* an allocation failed: the candidate is unreliable */
	uint64_t cases;          /* cases delivered in this input */
	uint64_t truncated;      /* ...of which truncated */
	size_t held;             /* heap bytes held now (the struct and buf) */
	size_t peak;             /* high-water mark of held, counting both blocks during growth */
};

static int is_blank_byte(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static void note_peak(fx_reader *r, size_t bytes)
{
	if (bytes > r->peak)
		r->peak = bytes;
}

/* Make room for `need` stored bytes plus a NUL. Doubling keeps the copies O(n); the clamp keeps
 * buf within cap + 2 bytes, the whole memory bound. */
static int reserve(fx_reader *r, size_t need)
{
	if (need + 1 <= r->bufcap)
		return 0;
	size_t limit = r->cap + 2;
	size_t ncap = r->bufcap ? r->bufcap : 256;
	while (ncap < need + 1 && ncap < limit)
		ncap *= 2;
	if (ncap > limit)
		ncap = limit;
	/* realloc may hold the old and the new block at once: count both. */
	note_peak(r, r->held + ncap);
	char *nbuf = realloc(r->buf, ncap);
	if (!nbuf)
		return FX_ENOMEM;
	r->held += ncap - r->bufcap;
	r->buf = nbuf;
	r->bufcap = ncap;
	return 0;
}

/* Add n logical bytes to the candidate, keeping what fits under cap + 1. */
static int append(fx_reader *r, const char *s, size_t n)
{
	size_t room = r->cap + 1 - r->stored;
	size_t keep = n < room ? n : room;
	if (keep > 0) {
		if (reserve(r, r->stored + keep) != 0) {
			r->failed = 1;
			return FX_ENOMEM;
		}
		memcpy(r->buf + r->stored, s, keep);
		r->stored += keep;
	}
	r->len += n;
	return 0;
}

static void clear_candidate(fx_reader *r)
{
	r->len = 0;
	r->committed = 0;
	r->stored = 0;
}

/* Where to cut a case whose committed length is over the cap (see reader.h for the rule). */
static size_t cut_point(const fx_reader *r)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t cap = r->cap;
	size_t k = 0;
	/* b[0] is never a line end (a case starts with a non-empty line), so p stops at 1. */
	size_t lo = cap > FX_READER_CUT_WINDOW ? cap - FX_READER_CUT_WINDOW : 1;
	for (size_t p = cap; p >= lo; p--) {
		if (b[p] == '\n') {
			k = p;
			break;
		}
	}
	if (k == 0) {
		k = cap;
		/* Back up to the lead byte of a sequence that would run past the cap. */
		size_t j = cap;
		while (j > 0 && cap - j < 3 && (b[j] & 0xC0) == 0x80)
			j--;
		if (j > 0 && j < cap) {
			size_t seqlen = b[j] >= 0xF0 ? 4 : b[j] >= 0xE0 ? 3 : b[j] >= 0xC0 ? 2 : 1;
			if (b[j] >= 0xC0 && b[j] <= 0xF7 && j + seqlen > cap)
				k = j;
		}
	}
	/* The cut may leave blank lines (or a blank start of a line) at the end: drop them, so the
	 * kept text ends with a non-blank line like any case. */
	for (;;) {
		size_t i = k;
		while (i > 0 && is_blank_byte(b[i - 1]))
			i--;
		if (i == 0 || b[i - 1] != '\n')
			break;
		k = i - 1;
	}
	return k;
}

/* Deliver the candidate's committed part, then start a new candidate. */
static int emit(fx_reader *r, fx_case_fn fn, void *ud)
{
	fx_case c;
	size_t k = r->committed <= r->cap ? (size_t)r->committed : cut_point(r);
	r->buf[k] = '\0';
	c.index = ++r->cases;
	c.line = r->case_line;
	c.last_line = r->case_last_line;
	c.offset = r->case_offset;
	c.text = r->buf;
	c.len = k;
	c.dropped = r->committed - k;
	c.truncated = c.dropped > 0;
	if (c.truncated)
		r->truncated++;
	clear_candidate(r);
	return fn ? fn(ud, &c) : 0;
}

/* A piece of the current line, with no line end in it. */
static int add_segment(fx_reader *r, const char *s, size_t n)
{
	if (r->len == 0) {
		r->case_offset = r->offset;
		r->case_line = r->line;
	}
	if (!r->line_nonblank) {
		for (size_t i = 0; i < n; i++) {
			if (!is_blank_byte((unsigned char)s[i])) {
				r->line_nonblank = 1;
				break;
			}
		}
	}
	r->line_bytes = 1;
	return append(r, s, n);
}

/* The current line has just ended (its terminator is consumed). */
static int end_line(fx_reader *r, fx_case_fn fn, void *ud)
{
	int nonblank = r->line_nonblank;
	if (nonblank) {
		r->committed = r->len;
		r->case_last_line = r->line;
	}
	r->line++;
	r->line_bytes = 0;
	r->line_nonblank = 0;
	switch (r->mode) {
	case FX_READ_LINES:
		if (nonblank)
			return emit(r, fn, ud);
		clear_candidate(r);
		return 0;
	case FX_READ_BLOCKS:
		if (nonblank)
			return append(r, "\n", 1);
		if (r->committed > 0)
			return emit(r, fn, ud);
		clear_candidate(r);
		return 0;
	case FX_READ_WHOLE:
		if (r->committed > 0)
			return append(r, "\n", 1);
		clear_candidate(r);
		return 0;
	}
	return 0;
}

/* Lines mode, nearly every line of a log: a whole line of n bytes (its end, a CR when cr, in
 * the chunk), not blank, within the cap, and no case open. The same as add_segment, end_line
 * and emit would do for it, without the bookkeeping a case spread over chunks needs. */
static int whole_line(fx_reader *r, const char *s, size_t n, int cr, fx_case_fn fn, void *ud)
{
	if (reserve(r, n) != 0) {
		r->failed = 1;
		return FX_ENOMEM;
	}
	memcpy(r->buf, s, n);
	r->buf[n] = '\0';
	fx_case c = {++r->cases, r->line, r->line, r->offset, r->buf, n, 0, 0};
	r->case_line = r->case_last_line = r->line;
	r->case_offset = r->offset;
	r->offset += n + 1;
	r->line++;
	r->prev_cr = cr;
	return fn ? fn(ud, &c) : 0;
}

int fx_reader_new(fx_reader **out, fx_read_mode mode, size_t case_cap)
{
	if (!out)
		return FX_EINVAL;
	*out = NULL;
	if (mode != FX_READ_BLOCKS && mode != FX_READ_LINES && mode != FX_READ_WHOLE)
		return FX_EINVAL;
	if (case_cap > SIZE_MAX / 4)
		return FX_EINVAL;
	fx_reader *r = calloc(1, sizeof *r);
	if (!r)
		return FX_ENOMEM;
	r->mode = mode;
	r->cap = case_cap ? case_cap : FX_READER_DEFAULT_CAP;
	r->held = r->peak = sizeof *r;
	fx_reader_reset(r);
	*out = r;
	return 0;
}

void fx_reader_free(fx_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

void fx_reader_reset(fx_reader *r)
{
	if (!r)
		return;
	clear_candidate(r);
	r->case_line = r->case_offset = r->case_last_line = 0;
	r->offset = 0;
	r->line = 1;
	r->line_bytes = r->line_nonblank = r->prev_cr = 0;
	r->finished = r->failed = 0;
	r->cases = r->truncated = 0;
}

int fx_reader_feed(fx_reader *r, const char *buf, size_t len, fx_case_fn fn, void *ud)
{
	if (!r || (!buf && len > 0))
		return FX_EINVAL;
	/* fixit.h promises that a finished reader takes a new input: the public API has no reset. */
	if (r->finished)
		fx_reader_reset(r);
	if (r->failed)
		return FX_EINVAL;
	if (len == 0)
		return 0;
	const char *p = buf, *end = buf + len;
	/* The next CR at or after p (or end): found once and reused, so that looking for LF only up
	 * to it keeps the scan linear even when CRs are rare. */
	const char *cr = NULL;
	while (p < end) {
		if (r->prev_cr) {
			r->prev_cr = 0;
			if (*p == '\n') {
				p++;
				r->offset++;
				continue;
			}
		}
		if (!cr || cr < p) {
			cr = memchr(p, '\r', (size_t)(end - p));
			if (!cr)
				cr = end;
		}
		const char *t = memchr(p, '\n', (size_t)(cr - p));
		if (!t)
			t = cr;
		if (r->mode == FX_READ_LINES && r->len == 0 && t < end && t > p &&
		    (size_t)(t - p) <= r->cap && !is_blank_byte((unsigned char)*p)) {
			int rc = whole_line(r, p, (size_t)(t - p), *t == '\r', fn, ud);
			if (rc != 0)
				return rc;
			p = t + 1;
			continue;
		}
		if (t > p) {
			if (add_segment(r, p, (size_t)(t - p)) != 0)
				return FX_ENOMEM;
			r->offset += (uint64_t)(t - p);
			p = t;
		}
		if (p == end)
			break;
		r->prev_cr = *p == '\r';
		p++;
		r->offset++;
		int rc = end_line(r, fn, ud);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int fx_reader_finish(fx_reader *r, fx_case_fn fn, void *ud)
{
	if (!r)
		return FX_EINVAL;
	if (r->finished)
		return 0;
	r->finished = 1;
	r->prev_cr = 0;
	if (r->failed)
		return FX_ENOMEM;
	if (r->line_bytes && r->line_nonblank) {
		r->committed = r->len;
		r->case_last_line = r->line;
	}
	if (r->committed > 0)
		return emit(r, fn, ud);
	return 0;
}

void fx_reader_stats(const fx_reader *r, fx_read_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof *out);
	if (!r)
		return;
	out->bytes = r->offset;
	out->lines = r->line - 1 + (r->line_bytes ? 1 : 0);
	out->cases = r->cases;
	out->truncated = r->truncated;
	out->peak_bytes = r->peak;
	out->cap = r->cap;
}

static const char *const mode_names[] = {"blocks", "lines", "whole"};

int fx_reader_mode_parse(const char *name, fx_read_mode *out)
{
	if (!name || !out)
		return FX_EINVAL;
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*out = (fx_read_mode)i;
			return 0;
		}
	}
	return FX_EINVAL;
}

const char *fx_reader_mode_name(fx_read_mode mode)
{
	if ((unsigned)mode < sizeof mode_names / sizeof mode_names[0])
		return mode_names[mode];
	return "?";
}
