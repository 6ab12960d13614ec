/* buf.h: a growable byte buffer and a growable pointer vector, used all over the engine. */
#ifndef FX_BUF_H
#define FX_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct fx_buf {
	char *data;    /* NUL-terminated when len > 0 or after fx_buf_cstr */
	size_t len, cap;
	int oom;       /* set when an allocation failed; further appends are ignored */
} fx_buf;

void fx_buf_init(fx_buf *b);
void fx_buf_dispose(fx_buf *b);
void fx_buf_clear(fx_buf *b);
void fx_buf_append(fx_buf *b, const char *s, size_t len);
void fx_buf_puts(fx_buf *b, const char *s);
void fx_buf_putc(fx_buf *b, char c);
void fx_buf_printf(fx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fx_buf_vprintf(fx_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Always a valid C string (empty if nothing was appended or memory ran out). */
const char *fx_buf_cstr(fx_buf *b);

typedef struct fx_vec {
	void **items;
	size_t len, cap;
} fx_vec;

void fx_vec_init(fx_vec *v);
void fx_vec_dispose(fx_vec *v);
/* 0 or FX_ENOMEM */
int fx_vec_push(fx_vec *v, void *item);

#endif
