/* kb.h: a loaded knowledge base: the arena that owns the checked program and the compiled
 * network, its atom table, regexes and the text matcher of its patterns. Immutable once built;
 * reference counted. */
#ifndef FX_KB_H
#define FX_KB_H

#include "fixit.h"
#include "arena.h"
#include "value.h"
#include "ast.h"
#include "rete.h"
#include "buf.h"

struct fx_kb {
	int refs;                  /* atomic: kbs are shared between threads */
	fx_arena arena;            /* program, network, source texts */
	fx_atoms atoms;            /* frozen after load */
	fx_vec regexes;            /* fx_regex*, freed with the kb */
	fx_program prog;
	fx_net net;
	struct fx_matcher *matcher; /* prog.patterns' regexes, same order (match.h); NULL when none */
};

#endif
