/* prelude.h: the prelude, a YAML rule text compiled into the library that defines the
 * templates every knowledge base has (the diagnosis vocabulary). The loader (load.c) reads it
 * first, as a unit named FX_PRELUDE_NAME, before any file or buffer of the user. */
#ifndef FX_PRELUDE_H
#define FX_PRELUDE_H

#include <stddef.h>

/* The unit name of the prelude in diagnostics and in fx_program.files. */
#define FX_PRELUDE_NAME "<builtin>"

/* The prelude's text (static, NUL-terminated, never freed); *len receives its length in bytes
 * when len is not NULL. */
const char *fx_prelude_text(size_t *len);

#endif
