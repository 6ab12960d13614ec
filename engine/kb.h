/* kb.h: a loaded knowledge base: the arena that owns the checked program and the compiled
 * network, its atom table, regexes and the text matcher of its patterns. Immutable once built;
 * reference counted. */
#ifndef FX_KB_H
#define FX_KB_H

#include <pthread.h>

#include "fixit.h"
#include "arena.h"
#include "value.h"
#include "ast.h"
#include "rete.h"
#include "buf.h"
#include "diag.h"

struct fx_kb {
	int refs;                  /* atomic: kbs are shared between threads */
	fx_arena arena;            /* program, network, source texts */
	fx_atoms atoms;            /* frozen after load */
	fx_vec regexes;            /* fx_regex*, freed with the kb */
	fx_program prog;
	fx_net net;
	struct fx_matcher *matcher; /* prog.patterns' regexes, same order (match.h); NULL when none */
	/* The public views of the program (arena), so that the accessors hand out borrowed arrays
	 * without allocating: one per pattern, question, case and rule, in program order. Built
	 * by the first accessor that needs them (diagnosing never does), under views_lock. */
	fx_pattern_info *pattern_infos;
	fx_question_info *question_infos;
	fx_case_info *case_infos;
	fx_rule_summary *rule_summaries;
	int views_state;           /* atomic: 0 not built yet, 1 built, or the FX_E* that stopped it */
	pthread_mutex_t views_lock; /* held while building the views (the arena grows) */
	struct fx_kb *self;        /* this kb: how the accessors, given it const, fill the views */
	/* The texts read (arena; the prelude's is static), so that lint can quote lines. */
	fx_source *sources;
	size_t nsources;
};

#endif
