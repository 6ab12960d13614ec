/* cli_sbuf.h: a growable, always NUL-terminated byte buffer for the CLI's text building (the
 * diagnose report, the REPL's pastes and fact texts). Out of memory is sticky: appends after it
 * do nothing and `oom` stays set until the buffer is cleared, so callers check once at the end. */
#ifndef CLI_SBUF_H
#define CLI_SBUF_H

#include <stddef.h>

typedef struct cli_sbuf {
	char *p;        /* NULL until the first append; then p[len] is a NUL */
	size_t len, cap;
	int oom;
} cli_sbuf;

void cli_sb_add(cli_sbuf *b, const char *p, size_t n);
void cli_sb_addc(cli_sbuf *b, char ch);
void cli_sb_adds(cli_sbuf *b, const char *s);
/* Empties the buffer (keeping its memory) and forgets an earlier out-of-memory. */
void cli_sb_clear(cli_sbuf *b);

#endif
