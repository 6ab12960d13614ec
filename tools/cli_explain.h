/* cli_explain.h: how a fact came to be, rendered from the library's explanations
 * (fx_explain_support, fx_text_origin_get): as an indented tree (the REPL's `how`, `fixit
 * diagnose --explain`), as nested JSON objects (diagnose --explain --json) and as DOT (--dot). */
#ifndef FIXIT_CLI_EXPLAIN_H
#define FIXIT_CLI_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "fixit.h"

struct json_t; /* jansson's, for callers that do not build JSON */

/* The text a match points into: the bytes of the case or paste named by o (*len set), or NULL
 * when the caller no longer has it. */
typedef const char *(*cli_explain_text_fn)(void *ud, const fx_text_origin *o, size_t *len);

/* A renderer over one session. Fields up to text_ud are set by the caller after
 * cli_explain_init; the rest is the renderer's own. */
typedef struct cli_explain {
	const fx_session *s;
	const fx_kb *kb;
	FILE *out;                /* where the tree and DOT go */
	int color;                /* rule names in bold, matched spans in bold yellow, no carets */
	int lines;                /* name a match's input line ("<stdin>:3"), not only its bytes */
	cli_explain_text_fn text; /* or NULL: matches are named, not quoted */
	void *text_ud;

	uint64_t *seen;           /* facts explained in the current tree: shown once */
	size_t nseen, cseen;
	char *buf;                /* scratch: a fact's text, a quoted line */
	size_t cap;
} cli_explain;

void cli_explain_init(cli_explain *e, const fx_kb *kb, const fx_session *s, FILE *out);
void cli_explain_dispose(cli_explain *e);
/* Starts a new tree: facts shown before are shown again in full. */
void cli_explain_forget(cli_explain *e);

/* The tree of fact id at depth (two spaces a level): the fact, then each of its supports (a
 * rule with file:line and because:, and the facts it matched, recursively; a pattern's match
 * in the text, quoted with the span marked; an answer; the user; an initial fact). A fact
 * already shown in this tree is named with "(see above)". */
void cli_explain_fact(cli_explain *e, uint64_t id, int depth);

/* The same tree as a JSON object (docs/diagnose-json.md, "explanation"); NULL when out of
 * memory. */
struct json_t *cli_explain_fact_json(cli_explain *e, uint64_t id);

/* The derivation of a diagnosis as one DOT digraph named title: text spans -> facts -> rule
 * firings -> findings -> remedies. Deterministic for a given session. Returns 0, or
 * FX_ENOMEM (the graph written may be incomplete). */
int cli_explain_dot(cli_explain *e, const fx_diagnosis *d, const char *title);

#endif
