/* cli_kb.h: helpers shared by the knowledge engineer's commands (check, test, coverage, graph):
 * loading a knowledge base from paths, FIXIT_RULES or the built-in one together with extra
 * rule files, walking a corpus of message files, and reducing a session to a diagnosis. */
#ifndef FIXIT_CLI_KB_H
#define FIXIT_CLI_KB_H

#include "cli.h"

/* Where a knowledge base comes from and how its diagnostics are shown. */
typedef struct cli_kb_opts {
	const char *const *rules; /* files or directories (--rules or PATH...); none: FIXIT_RULES
	                             (paths separated by ':'), else the built-in knowledge base */
	size_t nrules;
	const char *const *extra; /* more rule files or directories loaded with it (case files) */
	size_t nextra;
	fx_diag_fn diag;          /* receives each diagnostic; NULL: cli_diag_print */
	void *diag_ud;
	int quiet;                /* print nothing, not even the summary line */
	int lean;                 /* the built-in kb as the image of its lean form (what diagnosing
	                             reads: no docs, examples or cases), when there are no extra
	                             files and the build made one */
	const char *label;        /* named in the summary line ("the baseline"), or NULL */
} cli_kb_opts;

/* Load counts of the last cli_kb_load. */
typedef struct cli_kb_counts {
	unsigned errors, warnings;
} cli_kb_counts;

/* Loads a knowledge base as o says. Returns CLI_EXIT_OK with *out set, or CLI_EXIT_ERROR after
 * the diagnostics and a last line "fixit: N errors, N warnings" (unless quiet). counts may be
 * NULL. */
int cli_kb_load(fx_kb **out, const cli_kb_opts *o, cli_kb_counts *counts);

/* 1 when path names a rule file by its extension (.yaml or .yml). */
int cli_is_yaml(const char *path);

/* The files under a corpus: each path given, and for a directory every regular file under it
 * (recursively; names starting with '.' and Markdown files, *.md, skipped), sorted bytewise
 * within a directory. */
typedef struct cli_files {
	char **paths; /* malloc'd */
	size_t n, cap;
} cli_files;

/* Appends path (or the files under it; "-" as it is) to f. Returns 0, or -1 after printing
 * why (a path that cannot be read). */
int cli_files_add(cli_files *f, const char *path);
void cli_files_dispose(cli_files *f);
/* FIXIT_RULES split at ':' (empty parts skipped) and appended to f. 0, or -1 out of memory. */
int cli_env_rules(cli_files *f);

/* Reads one text file ("-": standard input) into cases; fn receives each. Returns 0, fn's
 * non-zero value, or -1 after printing why the file could not be read. */
int cli_read_cases(const char *path, fx_read_mode mode, fx_case_fn fn, void *ud);

/* --- A session's diagnosis ----------------------------------------------------------------- */

/* A finding, its certainties combined, or a remedy ranked by its certainty over its cost: a
 * copy of the engine's snapshot (fx_diagnosis) that outlives the session. Ids are malloc'd. */
typedef struct cli_item {
	char *id;
	double cf;    /* certainty, 0..1 */
	double score; /* remedies: cf / cost; findings: cf */
} cli_item;

typedef struct cli_outcome {
	cli_item *findings; /* best first */
	size_t nfindings;
	cli_item *remedies; /* best first */
	size_t nremedies;
} cli_outcome;

/* Fills out (emptied first) with the diagnosis in s: findings best first, remedies not tried
 * best first. 0 or FX_ENOMEM. */
int cli_outcome_get(cli_outcome *out, const fx_kb *kb, const fx_session *s);
void cli_outcome_dispose(cli_outcome *o);
/* 1 when o holds a finding or remedy named id. */
int cli_outcome_has(const cli_outcome *o, const char *id, int remedies);

/* Two remedies whose scores differ by less than this fraction of the first leave a case
 * ambiguous: the top one is no better supported than the runner-up. */
#define CLI_AMBIGUOUS_RATIO 0.9
/* 1 when o's first two remedies are within CLI_AMBIGUOUS_RATIO of each other. */
int cli_outcome_ambiguous(const cli_outcome *o);

/* malloc'd copy of s (NULL on OOM). */
char *cli_strdup(const char *s);

#endif
