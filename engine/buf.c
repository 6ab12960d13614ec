/* buf.c: the growable byte buffer (fx_buf) and pointer vector (fx_vec) used across the engine.
 * A buffer that fails to grow sets its oom flag and ignores later appends, so callers can build
 * a whole text and check once at the end. */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"

void fx_buf_init(fx_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void fx_buf_dispose(fx_buf *b)
{
	free(b->data);
	fx_buf_init(b);
}

void fx_buf_clear(fx_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static int reserve(fx_buf *b, size_t extra)
{
	if (b->oom)
		return -1;
	if (extra >= SIZE_MAX - b->len) {
		b->oom = 1;
		return -1;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void fx_buf_append(fx_buf *b, const char *s, size_t len)
{
	if (reserve(b, len) < 0)
		return;
	if (len)
		memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void fx_buf_puts(fx_buf *b, const char *s)
{
	fx_buf_append(b, s, strlen(s));
}

void fx_buf_putc(fx_buf *b, char c)
{
	if (reserve(b, 1) < 0)
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Repeated with the format attribute so the compiler checks our use of fmt as a format. */
void fx_buf_vprintf(fx_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

void fx_buf_vprintf(fx_buf *b, const char *fmt, va_list ap)
{
	if (b->oom)
		return;
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		fx_buf_append(b, small, (size_t)n);
		return;
	}
	if (reserve(b, (size_t)n) < 0)
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void fx_buf_printf(fx_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fx_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *fx_buf_cstr(fx_buf *b)
{
	if (!b->data || b->oom)
		return "";
	return b->data;
}

void fx_vec_init(fx_vec *v)
{
	v->items = NULL;
	v->len = v->cap = 0;
}

void fx_vec_dispose(fx_vec *v)
{
	free(v->items);
	fx_vec_init(v);
}

int fx_vec_push(fx_vec *v, void *item)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		if (cap > SIZE_MAX / sizeof(void *))
			return FX_ENOMEM;
		void **p = realloc(v->items, cap * sizeof(void *));
		if (!p)
			return FX_ENOMEM;
		v->items = p;
		v->cap = cap;
	}
	v->items[v->len++] = item;
	return 0;
}
