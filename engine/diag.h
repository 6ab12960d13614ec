/* diag.h: building and delivering diagnostics (fx_diag) with a source position and the text of
 * the offending line, and the per-handle error record. */
#ifndef FX_DIAG_H
#define FX_DIAG_H

#include "fixit.h"
#include "ast.h"
#include "buf.h"

/* A source text registered with the reporter, so diagnostics can quote the offending line. */
typedef struct fx_source {
	const char *name;
	const char *text;
	size_t len;
} fx_source;

typedef struct fx_reporter {
	fx_diag_fn fn;
	void *ud;
	unsigned errors, warnings;
	unsigned max_errors;        /* further errors are counted but not delivered */
	fx_source *sources;         /* sources known so far (for quoting lines) */
	size_t nsources, capsources;
} fx_reporter;

void fx_reporter_init(fx_reporter *r, fx_diag_fn fn, void *ud, unsigned max_errors);
void fx_reporter_dispose(fx_reporter *r);
/* Remember a file's text (borrowed: must outlive the reporter's use). */
int fx_reporter_add_source(fx_reporter *r, const char *name, const char *text, size_t len);
/* Report at pos with a printf-style message. span: length of the offending token (0 -> 1). */
void fx_report(fx_reporter *r, fx_severity sev, const char *code, fx_pos pos, unsigned span,
               const char *rule, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A kept error (sessions keep the last one). Owns its strings. */
typedef struct fx_error {
	fx_diag d;                  /* d's strings point into the buffers below */
	fx_buf msg, file, rule;
} fx_error;

void fx_error_init(fx_error *e);
void fx_error_dispose(fx_error *e);
void fx_error_clear(fx_error *e);
void fx_error_set(fx_error *e, const char *code, fx_pos pos, const char *rule, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

#endif
