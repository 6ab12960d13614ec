/* diag.c: the reporter through which the loader (and later the runtime) delivers diagnostics,
 * quoting the offending source line, and the error record that handles keep for their last
 * error. The library never prints: everything goes to the caller's callback. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ERRORS 100

void fx_reporter_init(fx_reporter *r, fx_diag_fn fn, void *ud, unsigned max_errors)
{
	r->fn = fn;
	r->ud = ud;
	r->errors = r->warnings = 0;
	r->max_errors = max_errors ? max_errors : DEFAULT_MAX_ERRORS;
	r->sources = NULL;
	r->nsources = r->capsources = 0;
}

void fx_reporter_dispose(fx_reporter *r)
{
	free(r->sources);
	r->sources = NULL;
	r->nsources = r->capsources = 0;
}

int fx_reporter_add_source(fx_reporter *r, const char *name, const char *text, size_t len)
{
	if (r->nsources == r->capsources) {
		size_t cap = r->capsources ? r->capsources * 2 : 8;
		fx_source *s = realloc(r->sources, cap * sizeof *s);
		if (!s)
			return FX_ENOMEM;
		r->sources = s;
		r->capsources = cap;
	}
	fx_source *s = &r->sources[r->nsources++];
	s->name = name;
	s->text = text;
	s->len = len;
	return 0;
}

/* The newest registration wins, so a file read again after a change is quoted as it is now. */
static const fx_source *find_source(const fx_reporter *r, const char *file)
{
	for (size_t i = r->nsources; i-- > 0;)
		if (r->sources[i].name == file)
			return &r->sources[i];
	for (size_t i = r->nsources; i-- > 0;)
		if (r->sources[i].name && strcmp(r->sources[i].name, file) == 0)
			return &r->sources[i];
	return NULL;
}

/* Copy line `line` (1-based) of src into out, without its "\n" or "\r\n". 0 if it has none. */
static int quote_line(const fx_source *src, unsigned line, fx_buf *out)
{
	const char *p = src->text, *end = src->text + src->len;
	for (unsigned n = 1; n < line; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return 0;
		p = nl + 1;
	}
	if (p == end && line > 1)
		return 0; /* past the final newline */
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *stop = nl ? nl : end;
	if (stop > p && stop[-1] == '\r')
		stop--;
	fx_buf_append(out, p, (size_t)(stop - p));
	return !out->oom;
}

void fx_report(fx_reporter *r, fx_severity sev, const char *code, fx_pos pos, unsigned span,
               const char *rule, const char *fmt, ...)
{
	if (sev == FX_SEV_ERROR)
		r->errors++;
	else if (sev == FX_SEV_WARNING)
		r->warnings++;
	/* Past the limit we only count. Notes and warnings that follow the last delivered error
	 * still go out, since they usually explain it. */
	if (!r->fn || r->errors > r->max_errors)
		return;

	fx_buf msg, line;
	fx_buf_init(&msg);
	fx_buf_init(&line);
	va_list ap;
	va_start(ap, fmt);
	fx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	fx_diag d;
	d.severity = sev;
	d.code = code ? code : "error";
	d.file = pos.file;
	d.line = pos.line;
	d.col = pos.col;
	d.span = span ? span : 1;
	d.message = fx_buf_cstr(&msg);
	d.source_line = NULL;
	d.rule = rule;
	if (pos.file && pos.line) {
		const fx_source *src = find_source(r, pos.file);
		if (src && quote_line(src, pos.line, &line))
			d.source_line = fx_buf_cstr(&line);
	}
	r->fn(&d, r->ud);
	fx_buf_dispose(&msg);
	fx_buf_dispose(&line);
}

/* --- Error records --------------------------------------------------------------------------- */

static void error_blank(fx_error *e)
{
	memset(&e->d, 0, sizeof e->d);
	e->d.severity = FX_SEV_ERROR;
	e->d.code = "";
	e->d.message = "";
}

void fx_error_init(fx_error *e)
{
	fx_buf_init(&e->msg);
	fx_buf_init(&e->file);
	fx_buf_init(&e->rule);
	error_blank(e);
}

void fx_error_dispose(fx_error *e)
{
	fx_buf_dispose(&e->msg);
	fx_buf_dispose(&e->file);
	fx_buf_dispose(&e->rule);
	error_blank(e);
}

void fx_error_clear(fx_error *e)
{
	fx_buf_clear(&e->msg);
	fx_buf_clear(&e->file);
	fx_buf_clear(&e->rule);
	error_blank(e);
}

static void swap_buf(fx_buf *a, fx_buf *b)
{
	fx_buf t = *a;
	*a = *b;
	*b = t;
}

void fx_error_set(fx_error *e, const char *code, fx_pos pos, const char *rule, const char *fmt,
                  ...)
{
	/* Built in fresh buffers first: the arguments may point into e's own buffers (a message
	 * that wraps the previous one, a rule name taken from the last error). */
	fx_buf msg, file, rl;
	fx_buf_init(&msg);
	fx_buf_init(&file);
	fx_buf_init(&rl);
	va_list ap;
	va_start(ap, fmt);
	fx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (pos.file)
		fx_buf_puts(&file, pos.file);
	if (rule)
		fx_buf_puts(&rl, rule);
	swap_buf(&e->msg, &msg);
	swap_buf(&e->file, &file);
	swap_buf(&e->rule, &rl);
	fx_buf_dispose(&msg);
	fx_buf_dispose(&file);
	fx_buf_dispose(&rl);

	/* A code is always a string literal, so it is kept by pointer. */
	error_blank(e);
	e->d.code = code ? code : "error";
	e->d.message = fx_buf_cstr(&e->msg);
	e->d.file = pos.file ? fx_buf_cstr(&e->file) : NULL;
	e->d.line = pos.line;
	e->d.col = pos.col;
	e->d.span = 1;
	e->d.rule = rule ? fx_buf_cstr(&e->rule) : NULL;
}
