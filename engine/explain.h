/* explain.h: the internal side of explain.c (fx_explain_*): the scratch state a session keeps
 * for the arrays that explanations lend to the caller. */
#ifndef FX_EXPLAIN_H
#define FX_EXPLAIN_H

#include "session.h"

typedef struct fx_explain_state fx_explain_state;

/* Free the state; NULL is a no-op. */
void fx_explain_state_free(fx_explain_state *st);

#endif
