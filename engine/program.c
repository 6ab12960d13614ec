/* program.c: small queries over a checked program, shared by the layers above the loader (see
 * program.h). A template has a handful of slots, so a linear search is the fast one. */
#include <string.h>

#include "program.h"

long fx_program_slot(const fx_program *prog, uint32_t tmpl, const char *name)
{
	if (!prog || tmpl >= prog->ntemplates)
		return -1;
	const fx_template_def *td = &prog->templates[tmpl];
	for (uint32_t i = 0; i < td->nslots; i++)
		if (strcmp(td->slots[i].name, name) == 0)
			return (long)i;
	return -1;
}
