/* text.h: the internal side of text.c (fx_text_assert and fx_text_origin_get, declared in
 * fixit.h): what session.c calls to keep a session's text state in step with working memory.
 * The state is created by the first fx_text_assert; a session that never sees text has none. */
#ifndef FX_TEXT_H
#define FX_TEXT_H

#include <stdint.h>

#include "session.h"

/* Matches of one pattern in one fx_text_assert call beyond this are ignored, with a warning:
 * a log line repeated a million times says nothing a thousand copies did not, and each match
 * costs an assertion. */
#define FX_TEXT_MAX_MATCHES 1000

typedef struct fx_text_state fx_text_state;

/* Fact `id` has left working memory: drop its provenance. Cheap when it has none. */
void fx_text_forget(fx_session *s, uint64_t id);
/* The session is being reset (fact ids start again): drop all provenance and the input names
 * it refers to. The match scratch is kept. */
void fx_text_clear(fx_session *s);
/* Free the state; NULL is a no-op. */
void fx_text_state_free(fx_text_state *st);

#endif
