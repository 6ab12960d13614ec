/* cli.h: what the pieces of the fixit command-line tool share: the command table's types, the
 * option parser, exit statuses and diagnostic rendering. The CLI sees the engine only through
 * the public header fixit.h. */
#ifndef FIXIT_CLI_H
#define FIXIT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "fixit.h"

/* Exit statuses. 1 is kept for "ran fine, but the answer is no" (later: failing tests). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_NO = 1,     /* diagnose: no case was diagnosed (as grep finding nothing) */
	CLI_EXIT_ERROR = 2,  /* bad rules, bad facts, run-time error, I/O error */
	CLI_EXIT_LIMIT = 3,  /* the firing limit stopped the run */
	CLI_EXIT_USAGE = 64  /* bad command line (as EX_USAGE in sysexits.h) */
};

/* --- Options --------------------------------------------------------------------------------- */

enum cli_arg {
	CLI_ARG_NONE,     /* a flag */
	CLI_ARG_REQUIRED, /* --opt VALUE, --opt=VALUE, -o VALUE, -oVALUE */
	CLI_ARG_OPTIONAL  /* --opt or --opt=VALUE only (a following word is never taken) */
};

/* One option of a command. A command's options are an array ended by an entry with key 0. */
typedef struct cli_opt {
	int key;             /* > 0, returned by cli_args_next; unique within the command */
	char short_name;     /* 0 if the option has no one-letter form */
	const char *name;    /* long name without the leading dashes */
	enum cli_arg arg;
	const char *argname; /* placeholder shown in help ("FILE", "N"), or NULL */
	const char *help;    /* one line for --help */
} cli_opt;

/* Every command accepts --help/-h; its key is reserved. */
#define CLI_KEY_HELP 1
#define CLI_OPT_HELP {CLI_KEY_HELP, 'h', "help", CLI_ARG_NONE, NULL, "show this help and exit"}
#define CLI_OPT_END {0, 0, NULL, CLI_ARG_NONE, NULL, NULL}
/* --rules PATH, the same for every command that loads a knowledge base. */
#define CLI_OPT_RULES                                                                              \
	{'r', 'r', "rules", CLI_ARG_REQUIRED, "PATH",                                                 \
	 "load the knowledge base from PATH (file or directory); repeatable"}

/* Results of cli_args_next besides an option's key. */
#define CLI_POSITIONAL 0
#define CLI_END (-1)
#define CLI_BAD (-2)
#define CLI_STOP (-3) /* cli_command_next: help shown or a bad option; see *status */

/* An iterator over a command's arguments. Options may come before, between or after
 * positionals; "--" makes every later word positional; "-" alone is a positional. */
typedef struct cli_args {
	int argc;
	char **argv;          /* the words after the command name */
	int next;             /* index of the next word to look at */
	const char *bundle;   /* rest of a group of one-letter options ("-qh"), or NULL */
	int no_more_options;  /* set once "--" was seen */
	const char *value;    /* the option's argument (NULL if none) or the positional word */
	const char *command;  /* command name, for messages */
} cli_args;

void cli_args_init(cli_args *a, const char *command, int argc, char **argv);
/* The next option (its key, argument in a->value), positional word (CLI_POSITIONAL, word in
 * a->value), CLI_END, or CLI_BAD after printing what is wrong and a hint on stderr. */
int cli_args_next(cli_args *a, const cli_opt *opts);

/* Parse a decimal unsigned number as an option's argument; prints a usage error on failure
 * and returns -1. */
int cli_parse_u64(const char *command, const char *option, const char *text, uint64_t *out);

/* Report a usage problem: "fixit: MESSAGE" and a hint naming --help for this command (or for
 * fixit itself when command is NULL). The caller then exits with CLI_EXIT_USAGE. */
void cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- Commands -------------------------------------------------------------------------------- */

typedef struct cli_command cli_command;

/* A command's body: argc/argv are the words after the command name. Returns an exit status. */
typedef int (*cli_main_fn)(const cli_command *cmd, int argc, char **argv);

/* One row of the command table (fixit.c): dispatch, `fixit --help`, `fixit help CMD` and
 * `fixit CMD --help` are all driven from it. */
struct cli_command {
	const char *name;
	const char *args;        /* positional arguments for the synopsis ("RULES..."), or "" */
	const char *summary;     /* one line for the command list */
	const char *description; /* paragraph(s) for `fixit help CMD`, lines ended by \n */
	const cli_opt *opts;     /* ended by CLI_OPT_END; always includes CLI_OPT_HELP */
	cli_main_fn main;
};

/* Print the help of one command (synopsis, description, options) to out. */
void cli_command_help(FILE *out, const cli_command *cmd);

/* cli_args_next for a command's main, which every command handles alike: --help prints the
 * command's help and a bad option its message; both end the options with CLI_STOP and *status
 * set (CLI_EXIT_OK after the help, CLI_EXIT_USAGE after a bad option). Otherwise as
 * cli_args_next, so a main loops `while ((key = cli_command_next(...)) >= CLI_POSITIONAL)`. */
int cli_command_next(cli_args *a, const cli_command *cmd, int *status);

/* --lines ('l') or --whole ('w') given as key: sets *mode, remembering in *seen which one was
 * given first. 0; CLI_EXIT_USAGE (reported) when the other one was given before. */
int cli_read_mode_option(const cli_command *cmd, int key, int *seen, fx_read_mode *mode);

int cli_run_main(const cli_command *cmd, int argc, char **argv);
int cli_diagnose_main(const cli_command *cmd, int argc, char **argv);
int cli_repl_main(const cli_command *cmd, int argc, char **argv);
int cli_check_main(const cli_command *cmd, int argc, char **argv);
int cli_test_main(const cli_command *cmd, int argc, char **argv);
int cli_coverage_main(const cli_command *cmd, int argc, char **argv);
int cli_graph_main(const cli_command *cmd, int argc, char **argv);

/* Levenshtein distance of two short words (99 when either is 32 bytes or longer): used to
 * suggest a command after a typo. */
size_t cli_edit_distance(const char *a, const char *b);

/* --- Messages -------------------------------------------------------------------------------- */

/* "fixit: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Decide once whether stderr gets colour: only a terminal, NO_COLOR unset, TERM not "dumb". */
void cli_color_init(void);

/* Render a diagnostic on stderr, compiler style:
 *     FILE:LINE:COL: error: MESSAGE [code]
 *       SOURCE LINE
 *       ^~~~
 * Parts of the position that are unknown are left out ("fixit:" when there is none at all).
 * With with_rule, a run-time error's rule is named first: "error: in rule 'R': MESSAGE". */
void cli_diag_print(const fx_diag *d, int with_rule);

/* The built-in knowledge base (generated by tools/embed-kb.sh into build/builtin-kb.c). */
extern const char *const cli_builtin_kb_names[];
extern const char *const cli_builtin_kb_texts[];
extern const size_t cli_builtin_kb_lens[];
extern const size_t cli_builtin_kb_count;
/* The image of its lean form (fx_kb_load_image) for `fixit diagnose`: comments, docs,
 * examples, near-misses and cases left out, line numbers kept. NULL when the build could not
 * make one (diagnose then loads the texts). */
extern const unsigned char *const cli_builtin_kb_image;
extern const size_t cli_builtin_kb_image_len;

#endif
