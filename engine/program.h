/* program.h: small queries over a checked program (ast.h) that the diagnosis, explanation and
 * lint layers share: they read slots by name where the loader resolved them by index. */
#ifndef FX_PROGRAM_H
#define FX_PROGRAM_H

#include "ast.h"

/* Index of the slot called name in template tmpl, or -1 (no such slot, or tmpl out of range,
 * as ~0u is for a template a kb does not have). */
long fx_program_slot(const fx_program *prog, uint32_t tmpl, const char *name);

#endif
