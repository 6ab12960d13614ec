/* cli_sbuf.c: the CLI's growable text buffer (see cli_sbuf.h). Capacity doubles, so building a
 * report of any size costs amortised constant time a byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_sbuf.h"

int cli_sb_reserve(cli_sbuf *b, size_t n)
{
	size_t cap;
	char *q;

	if (b->oom)
		return -1;
	if (b->p && n + 1 <= b->cap - b->len)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	q = realloc(b->p, cap);
	if (!q) {
		b->oom = 1;
		return -1;
	}
	b->p = q;
	b->cap = cap;
	return 0;
}

void cli_sb_add(cli_sbuf *b, const char *p, size_t n)
{
	if (cli_sb_reserve(b, n) < 0)
		return;
	if (n)
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

size_t cli_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

void cli_sb_add_escaped(cli_sbuf *b, const char *p, size_t n, size_t *col)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, k;
	uint32_t cp;
	char hex[8];

	while (i < n) {
		k = cli_utf8_seq(u + i, n - i, &cp);
		if (k && cp == '\t') {
			do
				cli_sb_addc(b, ' ');
			while (++*col % 8);
		} else if (k && cp == '\n') {
			cli_sb_add(b, "\\n", 2);
			*col += 2;
		} else if (k && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)) {
			cli_sb_add(b, p + i, k);
			*col += 1;
		} else {
			/* a control (C1 controls are two bytes) or a byte of no sequence: each byte */
			if (!k)
				k = 1;
			for (; k > 0; k--, i++) {
				snprintf(hex, sizeof hex, "\\x%02X", u[i]);
				cli_sb_add(b, hex, 4);
				*col += 4;
			}
			continue;
		}
		i += k;
	}
}
