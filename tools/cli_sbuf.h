/* cli_sbuf.h: a growable, always NUL-terminated byte buffer for the CLI's text building (the
 * diagnose report, the REPL's pastes and fact texts). Out of memory is sticky: appends after it
 * do nothing and `oom` stays set until the buffer is cleared, so callers check once at the end. */
#ifndef CLI_SBUF_H
#define CLI_SBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_sbuf {
	char *p;        /* NULL until the first append; then p[len] is a NUL */
	size_t len, cap;
	int oom;
} cli_sbuf;

/* Room for n more bytes and the NUL; 0, or -1 when out of memory (then oom is set). */
int cli_sb_reserve(cli_sbuf *b, size_t n);
void cli_sb_add(cli_sbuf *b, const char *p, size_t n);
void cli_sb_addc(cli_sbuf *b, char ch);
void cli_sb_adds(cli_sbuf *b, const char *s);
/* Empties the buffer (keeping its memory) and forgets an earlier out-of-memory. */
void cli_sb_clear(cli_sbuf *b);

/* Length of the well-formed UTF-8 sequence at p (n bytes available), 0 when the bytes there are
 * not one; *cp receives its code point. Overlong forms, surrogates and code points past
 * U+10FFFF are not well formed. */
size_t cli_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp);
/* Appends p[0, n) as text fit for a terminal or a text file: printable UTF-8 as it is, a
 * newline as the two characters \n, a tab as spaces to the next multiple of 8 columns, every
 * other byte (controls, C1 controls, bytes of no well-formed sequence) as \xNN. *col counts
 * the columns written (a character taken as one column wide). */
void cli_sb_add_escaped(cli_sbuf *b, const char *p, size_t n, size_t *col);

#endif
