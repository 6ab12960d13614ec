/* cli_sbuf.c: the CLI's growable text buffer (see cli_sbuf.h). Capacity doubles, so building a
 * report of any size costs amortised constant time a byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_sbuf.h"

void cli_sb_add(cli_sbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (!b->p || n + 1 > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		char *q;
		while (cap - b->len < n + 1) {
			if (cap > SIZE_MAX / 2) {
				b->oom = 1;
				return;
			}
			cap *= 2;
		}
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cli_sb_addc(cli_sbuf *b, char ch)
{
	cli_sb_add(b, &ch, 1);
}

void cli_sb_adds(cli_sbuf *b, const char *s)
{
	cli_sb_add(b, s, strlen(s));
}

void cli_sb_clear(cli_sbuf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p)
		b->p[0] = '\0';
}
