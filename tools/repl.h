/* repl.h: what the three files of the REPL share: repl.c (commands, the log of inputs,
 * consultation), repl_engine.c (every call into the diagnosis API of libfixit: answers,
 * ranking, next question, explanations) and repl_tty.c (readline, history, completion). */
#ifndef FIXIT_REPL_H
#define FIXIT_REPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "cli_kb.h"
#include "cli_sbuf.h"

/* repl_line's result when the user asked to leave. */
#define REPL_QUIT 1

/* The first line of a transcript written by `save`. */
#define REPL_TRANSCRIPT_HEADER "# fixit transcript 1"

#define REPL_BOLD "\033[1m"
#define REPL_GREEN "\033[1;32m"
#define REPL_YELLOW "\033[1;33m"
#define REPL_RESET "\033[0m"

/* One input of the user that changed working memory (see "The log of inputs" in repl.c). */
typedef enum repl_event_kind {
	REPL_EV_PASTE,    /* a: the text */
	REPL_EV_ANSWER,   /* a: question id, b: answer */
	REPL_EV_UNANSWER, /* a: question id (a `change`) */
	REPL_EV_ASSERT,   /* a: the fact as written */
	REPL_EV_RETRACT,  /* a: the fact's text as fx_session_fact_format wrote it */
	REPL_EV_TRIED     /* a: remedy id */
} repl_event_kind;

typedef struct repl_event {
	repl_event_kind kind;
	char *a, *b;      /* malloc'd; b NULL unless an answer */
} repl_event;

/* One remedy of a ranking. */
typedef struct repl_rank_item {
	char *id;         /* malloc'd */
	char *finding;    /* the finding it was recommended for (malloc'd), or NULL */
	size_t rank;      /* 1-based place among the untried remedies; 0 when tried */
	double cf, score; /* certainty of its best finding; cf / cost */
	int cost;
	int tried;        /* the user said it did not help */
} repl_rank_item;

typedef struct repl_finding {
	char *id;         /* malloc'd */
	double cf;        /* combined certainty */
} repl_finding;

/* A copy of the diagnosis at one moment, so that two can be compared after a change. */
typedef struct repl_ranking {
	repl_rank_item *items;   /* best first, tried ones last */
	size_t nitems;
	repl_finding *findings;  /* most certain first */
	size_t nfindings;
} repl_ranking;

typedef struct repl {
	fx_kb *kb;
	fx_session *s;
	const char **paths;    /* rule files and directories (--rules or FIXIT_RULES); none: built-in */
	size_t npaths;
	cli_files env;         /* FIXIT_RULES split; paths point into it */
	repl_event *ev;        /* the log of inputs, oldest first */
	size_t nev, cev;
	unsigned npaste;       /* pastes so far: the N of "<paste N>" */
	long pending;          /* index of the question waiting for an answer, or -1 */
	int consulting;        /* a consultation is under way: say when questions run out */
	int collecting;        /* between `paste` and `.`: lines go into `paste` */
	cli_sbuf paste;       /* the lines of a paste being collected */
	cli_sbuf tmp;         /* scratch for fact texts */
	int tty;               /* a person at a terminal: readline, prompts */
	int color;             /* SGR sequences on stdout */
	int trace;             /* trace on */
	int loading;           /* running a transcript: results are shown once at its end */
	repl_ranking changed;  /* the ranking before `change` withdrew an answer: the new answer is
	                          compared with it, not with the state in between */
	long changed_q;        /* the question `change` reopened, or -1 */
	void *engine;          /* repl_engine.c's state */
} repl;

/* --- repl.c ---------------------------------------------------------------------------------- */

typedef struct repl_cmd repl_cmd;
struct repl_cmd {
	const char *name;
	const char *args;      /* for help ("QUESTION ANSWER"), or "" */
	const char *summary;   /* one line for `help` */
	const char *help;      /* `help NAME`, lines ended by \n */
	int (*fn)(repl *r, const char *args);
};

extern const repl_cmd repl_cmds[];
extern const size_t repl_ncmds;

/* Handle one line of input. Returns 0, REPL_QUIT, or a negative FX_E* code (out of memory). */
int repl_line(repl *r, const char *line);
/* 1 when line is a command (or the answer to the pending question), not text to diagnose. */
int repl_is_command(repl *r, const char *line);
/* Load the knowledge base from r->paths (none: the built-in one); problems are printed. */
int repl_load_kb(repl *r, fx_kb **out);

char *repl_strdup(const char *s);
const char *repl_sgr(const repl *r, const char *seq);
/* Fact id as `(template (slot value) ...)`, in b; valid until b's next use. */
const char *repl_fact_text(const fx_session *s, cli_sbuf *b, uint64_t id);

/* --- repl_engine.c: every call into libfixit's diagnosis API ---------------------------------- */

void repl_engine_init(repl *r);     /* after each new kb or session */
void repl_engine_dispose(repl *r);

size_t repl_engine_question_count(repl *r);
long repl_engine_question_find(repl *r, const char *id);
/* Any of the out pointers may be NULL. Strings are borrowed from the kb. */
void repl_engine_question(repl *r, size_t q, const char **id, const char **text,
                          const char *const **answers, size_t *nanswers);
/* 1 when a is an allowed answer of question q (unknown always is). */
int repl_engine_answer_ok(repl *r, size_t q, const char *a);
int repl_engine_answer(repl *r, const char *q, const char *a);
int repl_engine_unanswer(repl *r, const char *q);
int repl_engine_tried(repl *r, const char *remedy);
/* The question to ask next, or -1. */
long repl_engine_next_question(repl *r);
/* The diagnosis now, into k (zeroed by the caller; repl.c frees it). */
int repl_engine_ranking(repl *r, repl_ranking *k);
/* Explanations, printed on stdout. */
int repl_engine_how(repl *r, const char *what);
int repl_engine_why(repl *r, size_t q);
int repl_engine_whynot(repl *r, const char *what);
/* Ids for completion: findings and remedies known now (n-th, or NULL past the end). */
const char *repl_engine_finding_id(repl *r, size_t n);

/* --- repl_tty.c ------------------------------------------------------------------------------- */

/* The interactive loop on a terminal: readline, history, completion. Returns 0 or a negative
 * code. */
int repl_tty_loop(repl *r);

#endif
