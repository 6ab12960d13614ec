/* load.h: the loader: YAML rule files -> a checked fx_program (ast.h). libyaml is used here and
 * nowhere else. Every problem found is reported through the reporter with file:line:col and
 * the loader goes on to find more; it never crashes and never leaks, whatever the input. */
#ifndef FX_LOAD_H
#define FX_LOAD_H

#include "ast.h"
#include "arena.h"
#include "buf.h"
#include "diag.h"

typedef struct fx_load_input {
	const char *const *paths;  /* files or directories, loaded in order; may be NULL */
	size_t npaths;
	const char *buf;           /* or one in-memory document (when paths is NULL) */
	size_t len;
	const char *name;          /* its name in diagnostics; includes resolve against "." */
	const char *const *bufs;   /* or several in-memory documents (when paths and buf are NULL), */
	const size_t *lens;        /* loaded in order as if they were files named names[i] */
	const char *const *names;
	size_t nbufs;
} fx_load_input;

/* Fill *prog (allocated in arena, texts interned in atoms, regexes registered in *regexes for
 * the kb to free). Returns 0, FX_ELOAD when any error was reported, FX_EIO when a file could
 * not be read (also reported), or FX_ENOMEM. Sources read are kept in the arena so the
 * reporter can quote lines until the arena dies. */
int fx_load_program(fx_program *prog, fx_arena *arena, fx_atoms *atoms, fx_vec *regexes,
                    fx_reporter *rep, const fx_load_input *in);

#endif
