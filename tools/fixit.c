/* fixit.c: entry point of the fixit command-line tool. The command table below is the one
 * place a command is declared: dispatch, `fixit --help`, `fixit help CMD` and `fixit CMD --help`
 * all read it. The commands themselves live in cli_*.c; all of them use the public API only. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int version_main(const cli_command *cmd, int argc, char **argv);
static int help_main(const cli_command *cmd, int argc, char **argv);

static const cli_opt run_opts[] = {
	{'f', 'f', "facts", CLI_ARG_REQUIRED, "FILE",
	 "assert the facts in FILE ('-': stdin); repeatable"},
	{'t', 0, "trace", CLI_ARG_OPTIONAL, "all",
	 "trace fact changes and firings; =all adds activations"},
	{'n', 'n', "limit", CLI_ARG_REQUIRED, "N", "stop after N firings (0: the default, 10000000)"},
	{'s', 's', "strategy", CLI_ARG_REQUIRED, "S",
	 "conflict resolution: depth (default), breadth, lex or mea"},
	{'q', 'q', "quiet", CLI_ARG_NONE, NULL, "do not list the final facts"},
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt diagnose_opts[] = {
	CLI_OPT_RULES,
	{'l', 0, "lines", CLI_ARG_NONE, NULL, "each line is a case"},
	{'w', 0, "whole", CLI_ARG_NONE, NULL, "each input is one case"},
	{'j', 0, "json", CLI_ARG_NONE, NULL, "one JSON object a case (JSON Lines, fixit-diagnose/1)"},
	{'n', 'n', "limit", CLI_ARG_REQUIRED, "N",
	 "stop a case's run after N firings (0: the default, 10000000)"},
	{'J', 'j', "jobs", CLI_ARG_REQUIRED, "N",
	 "diagnose on N threads, output unchanged (default 1; 0: one a core)"},
	{'e', 'e', "explain", CLI_ARG_NONE, NULL,
	 "show how each finding and remedy was derived, down to the matched text"},
	{'d', 0, "dot", CLI_ARG_NONE, NULL, "print each case's derivation as a Graphviz DOT digraph"},
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt test_opts[] = {
	CLI_OPT_RULES,
	{'m', 0, "min-top3", CLI_ARG_REQUIRED, "PCT",
	 "fail when fewer than PCT% of the cases have a right remedy in the top three"},
	{'j', 0, "json", CLI_ARG_NONE, NULL, "one JSON object (fixit-test/1)"},
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt coverage_opts[] = {
	CLI_OPT_RULES,
	{'b', 'b', "baseline", CLI_ARG_REQUIRED, "PATH",
	 "compare with the knowledge base at PATH; repeatable"},
	{'l', 0, "lines", CLI_ARG_NONE, NULL, "each line of a text file is a case"},
	{'w', 0, "whole", CLI_ARG_NONE, NULL, "each text file is one case"},
	{'j', 0, "json", CLI_ARG_NONE, NULL, "one JSON object (fixit-coverage/1)"},
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt repl_opts[] = {
	CLI_OPT_RULES,
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt check_opts[] = {
	{'f', 0, "format", CLI_ARG_REQUIRED, "FORMAT",
	 "text (default: diagnostics on stderr) or json (JSON Lines on stdout)"},
	{'s', 0, "strict", CLI_ARG_NONE, NULL, "exit with status 1 when there are warnings"},
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt graph_opts[] = {
	CLI_OPT_RULES,
	CLI_OPT_HELP,
	CLI_OPT_END
};

static const cli_opt plain_opts[] = {CLI_OPT_HELP, CLI_OPT_END};

/* To add a command: write its main function in a cli_*.c file, declare it in cli.h, and add a
 * row here. Rows are listed in --help in this order. */
static const cli_command commands[] = {
	{"run", "RULES...", "load rules, assert facts, run the rules and show the final facts",
	 "Load a knowledge base from RULES (YAML files, or directories whose *.yaml and\n"
	 "*.yml files load in name order), start a session with its initial facts,\n"
	 "assert the facts of each --facts FILE, and fire rules until the agenda is\n"
	 "empty, a rule halts, or the firing limit is reached. Prints what the rules\n"
	 "print, then the final facts as 'f-ID<TAB>(template (slot value) ...)', then\n"
	 "';; N firings, N facts'.\n"
	 "\n"
	 "A facts file holds one fact a line, written (template (slot value) ...); blank\n"
	 "lines and lines starting with ';' are skipped.\n"
	 "\n"
	 "Exit status: 0 when the run ended (empty agenda or halt), 2 on an error, 3 when\n"
	 "the firing limit stopped it, 64 on a bad command line.\n",
	 run_opts, cli_run_main},
	{"diagnose", "[FILE...]", "diagnose error messages or log files: findings and remedies",
	 "Read pasted error messages or log files (FILE, '-' or none: standard input),\n"
	 "cut them into cases (by default blocks of lines separated by blank lines), turn\n"
	 "each case into facts with the knowledge base's text patterns, run the rules, and\n"
	 "show per case the findings with their certainty, the remedies best first\n"
	 "(certainty / cost) with their steps, and the text that matched, or 'no\n"
	 "diagnosis'. --json prints one JSON object a case instead.\n"
	 "\n"
	 "--explain adds, after each case, the derivation of each finding and remedy: the\n"
	 "rules (with file:line and their because:), the facts they matched, and the text\n"
	 "each fact came from, quoted with the match marked (with --json: an\n"
	 "\"explanation\" in each finding and remedy object). --dot prints instead one\n"
	 "Graphviz digraph a case: text spans -> facts -> rules -> findings -> remedies\n"
	 "(fixit diagnose --dot FILE | dot -Tsvg > graph.svg).\n"
	 "\n"
	 "The knowledge base comes from --rules, else from FIXIT_RULES (paths separated\n"
	 "by ':'), else the built-in one.\n"
	 "\n"
	 "--jobs N spreads the cases over N threads; the output is the same as with one.\n"
	 "When standard error is a terminal and standard output is not, a file of 4 MiB\n"
	 "or more shows a progress bar there, cleared at the end.\n"
	 "\n"
	 "Exit status: 0 when some case was diagnosed, 1 when none was, 2 on an error (bad\n"
	 "knowledge base, unreadable input, a rule failing on a case), 64 on a bad command\n"
	 "line.\n",
	 diagnose_opts, cli_diagnose_main},
	{"check", "[PATH...]", "check a knowledge base: load errors and lint warnings",
	 "Load the knowledge base in PATH (YAML files, or directories of them; none:\n"
	 "FIXIT_RULES, else the built-in one) and report every problem: the loader's\n"
	 "errors and warnings, then, when it loads, the lint warnings (patterns no rule\n"
	 "uses, remedies nothing recommends, questions never asked, cases that name\n"
	 "unknown ids...). Each is shown as FILE:LINE:COL: SEVERITY: MESSAGE [CODE] with\n"
	 "the source line and a caret under the spot, on standard error; a last line on\n"
	 "standard output counts them. --format json prints instead one JSON object a\n"
	 "diagnostic and a summary object on standard output (fixit-check/1).\n"
	 "\n"
	 "Exit status: 0 when the knowledge base loads (warnings allowed), 1 when it has\n"
	 "warnings and --strict was given, 2 when it has errors, 64 on a bad command line.\n",
	 check_opts, cli_check_main},
	{"test", "[PATH...]", "run the tests written in the rule files: examples and cases",
	 "Run the tests of the knowledge base: every pattern's examples must match it and\n"
	 "its near-misses must not; every case (those of the knowledge base, and those of\n"
	 "the case files PATH, YAML files or directories loaded together with it) runs in\n"
	 "a fresh session: its input through the patterns, the rules, its answers and\n"
	 "tried remedies, the rules again; then the findings and remedies must be what it\n"
	 "expects. Each failure is shown as expected against got, with why a missing\n"
	 "finding or remedy was not concluded (the rule that came closest and the\n"
	 "condition that failed).\n"
	 "\n"
	 "The last lines give the accuracy over the cases that expect remedies (top-1:\n"
	 "the first ranked remedy is one of them; top-3: one of the first three is), the\n"
	 "false alarms over the cases that expect nothing (any finding or remedy), and\n"
	 "'N passed, N failed'. With PATHs given, accuracy counts only their cases (a\n"
	 "corpus), not the knowledge base's own.\n"
	 "\n"
	 "The knowledge base comes from --rules, else from FIXIT_RULES, else the\n"
	 "built-in one.\n"
	 "\n"
	 "Exit status: 0 when every test passed, 1 when one failed or the top-3 accuracy\n"
	 "is below --min-top3, 2 on an error (bad knowledge base or case file), 64 on a\n"
	 "bad command line.\n",
	 test_opts, cli_test_main},
	{"coverage", "CORPUS...", "measure how much of a corpus of real messages the rules explain",
	 "Run the knowledge base over CORPUS: text files of messages or logs (cut into\n"
	 "cases as diagnose does: blocks of lines by default), YAML case files (their\n"
	 "inputs), or directories holding either (read recursively). Reports how many\n"
	 "cases are diagnosed, ambiguous (the top two remedies' scores are within 10% of\n"
	 "each other) or get nothing; the patterns that never matched and the rules that\n"
	 "never fired; and the undiagnosed cases grouped by shape (numbers, hex ids,\n"
	 "quoted texts, paths, dates and times masked), biggest group first.\n"
	 "\n"
	 "With --baseline, the knowledge base at PATH runs over the same cases too, and\n"
	 "the cases newly diagnosed, no longer diagnosed, and whose top remedy changed\n"
	 "are listed: what a change to the rules gained and lost.\n"
	 "\n"
	 "The knowledge base comes from --rules, else from FIXIT_RULES, else the\n"
	 "built-in one.\n"
	 "\n"
	 "Exit status: 0 when the report was made, 2 on an error (bad knowledge base,\n"
	 "unreadable input), 64 on a bad command line.\n",
	 coverage_opts, cli_coverage_main},
	{"repl", "", "diagnose interactively: paste messages, answer questions, ask how and why",
	 "Start an interactive session: paste one or several error messages (a\n"
	 "multi-line paste is one message), answer the questions fixit asks (yes, no,\n"
	 "unknown, or why), and ask how a remedy was concluded or why another was not.\n"
	 "'help' inside lists the commands (facts, rules, agenda, assert, retract, run,\n"
	 "step, trace, how, why, whynot, tried, undo, reset, reload, save, load, quit).\n"
	 "'fixit' alone on a terminal starts it too.\n"
	 "\n"
	 "On a terminal: line editing, history in $XDG_STATE_HOME/fixit/history\n"
	 "(~/.local/state/fixit/history), tab completion. Otherwise commands are read\n"
	 "from standard input without prompts; a multi-line message is written as\n"
	 "'paste', its lines, and a line '.'. See docs/repl.md.\n"
	 "\n"
	 "The knowledge base comes from --rules, else from FIXIT_RULES, else the\n"
	 "built-in one.\n"
	 "\n"
	 "Exit status: 0 at quit or end of input, 2 on an error (bad knowledge base),\n"
	 "64 on a bad command line.\n",
	 repl_opts, cli_repl_main},
	{"graph", "[PATH...]", "draw the knowledge base as a Graphviz DOT graph",
	 "Print the knowledge base in PATH (or --rules PATH; none: FIXIT_RULES, else the\n"
	 "built-in one) as a Graphviz DOT graph: text patterns -> the facts they assert\n"
	 "-> findings -> remedies, with the id of the rule that draws each step on its\n"
	 "edge, and questions -> their answers -> the facts those assert. Which facts a\n"
	 "pattern asserts is found by running its examples; a pattern without examples\n"
	 "points (dashed) to the templates it asserts. Conditions under 'not' are left\n"
	 "out. The order of the output follows the knowledge base, so it can be diffed.\n"
	 "Render it with Graphviz: fixit graph | dot -Tsvg > kb.svg\n"
	 "\n"
	 "Exit status: 0 on success, 2 when the knowledge base has errors, 64 on a bad\n"
	 "command line.\n",
	 graph_opts, cli_graph_main},
	{"version", "", "print the version and exit", "Print the version of fixit.\n", plain_opts,
	 version_main},
	{"help", "[COMMAND]", "show the help of fixit or of one command",
	 "Show the list of commands, or the options of COMMAND.\n", plain_opts, help_main},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

size_t cli_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_command(const char *name)
{
	const cli_command *best = NULL;
	size_t i, bestd = 3;

	for (i = 0; i < NCOMMANDS; i++) {
		size_t d = cli_edit_distance(name, commands[i].name);
		if (d < bestd) {
			bestd = d;
			best = &commands[i];
		}
	}
	if (best)
		cli_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", name, best->name);
	else
		cli_usage_error(NULL, "unknown command '%s'", name);
}

/* Width of "  -x, --name=ARG" columns so the help texts line up. */
static size_t opt_label(char *buf, size_t size, const cli_opt *o)
{
	int n;

	if (o->arg == CLI_ARG_REQUIRED)
		n = snprintf(buf, size, "%c%c%c --%s %s", o->short_name ? '-' : ' ',
		             o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
		             o->argname);
	else if (o->arg == CLI_ARG_OPTIONAL)
		n = snprintf(buf, size, "%c%c%c --%s[=%s]", o->short_name ? '-' : ' ',
		             o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
		             o->argname);
	else
		n = snprintf(buf, size, "%c%c%c --%s", o->short_name ? '-' : ' ',
		             o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name);
	return n < 0 ? 0 : (size_t)n;
}

void cli_command_help(FILE *out, const cli_command *cmd)
{
	const cli_opt *o;
	size_t width = 0;
	char label[96];

	fprintf(out, "Usage: fixit %s [OPTIONS]%s%s\n\n", cmd->name, *cmd->args ? " " : "",
	        cmd->args);
	fputs(cmd->description, out);
	for (o = cmd->opts; o->key; o++) {
		size_t n = opt_label(label, sizeof label, o);
		if (n > width)
			width = n;
	}
	fputs("\nOptions:\n", out);
	for (o = cmd->opts; o->key; o++) {
		opt_label(label, sizeof label, o);
		fprintf(out, "  %-*s  %s\n", (int)width, label, o->help);
	}
}

static void main_help(FILE *out)
{
	size_t i, width = 0;

	fputs("Usage: fixit COMMAND [OPTIONS] [ARGUMENTS]\n"
	      "       fixit --help | --version\n"
	      "\n"
	      "fixit runs forward-chaining rules written in YAML over a working memory of facts.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) > width)
			width = strlen(commands[i].name);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-*s  %s\n", (int)width, commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  print the version and exit\n"
	      "\n"
	      "Run 'fixit help COMMAND' or 'fixit COMMAND --help' for the options of a command.\n",
	      out);
}

/* The loop every option-less command needs: --help, or a usage error. Returns -1 to go on,
 * else an exit status. Positionals are counted into *npos and the first kept in *first. */
static int plain_args(const cli_command *cmd, int argc, char **argv, int *npos,
                      const char **first)
{
	cli_args a;
	int key, status = CLI_EXIT_OK;

	*npos = 0;
	*first = NULL;
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL)
		if (key == CLI_POSITIONAL && (*npos)++ == 0)
			*first = a.value;
	return key == CLI_STOP ? status : -1;
}

static int version_main(const cli_command *cmd, int argc, char **argv)
{
	int npos, rc;
	const char *first;

	if ((rc = plain_args(cmd, argc, argv, &npos, &first)) >= 0)
		return rc;
	if (npos > 0) {
		cli_usage_error(cmd->name, "unexpected argument '%s'", first);
		return CLI_EXIT_USAGE;
	}
	printf("fixit %s\n", fx_version());
	return CLI_EXIT_OK;
}

static int help_main(const cli_command *cmd, int argc, char **argv)
{
	int npos, rc;
	const char *first;
	const cli_command *topic;

	if ((rc = plain_args(cmd, argc, argv, &npos, &first)) >= 0)
		return rc;
	if (npos > 1) {
		cli_usage_error(cmd->name, "give at most one command name");
		return CLI_EXIT_USAGE;
	}
	if (npos == 0) {
		main_help(stdout);
		return CLI_EXIT_OK;
	}
	topic = find_command(first);
	if (!topic) {
		unknown_command(first);
		return CLI_EXIT_USAGE;
	}
	cli_command_help(stdout, topic);
	return CLI_EXIT_OK;
}

/* Output that could not be written (a full disk, a closed pipe) must not look like success. */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("error writing to standard output");
		return status == CLI_EXIT_OK ? CLI_EXIT_ERROR : status;
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *word;
	const cli_command *cmd;

	cli_color_init();
	/* A person who types just `fixit` at a terminal gets the consultation. */
	if (argc < 2 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return finish(cli_repl_main(find_command("repl"), 0, argv + argc));
	if (argc < 2) {
		cli_usage_error(NULL, "no command given");
		return CLI_EXIT_USAGE;
	}
	word = argv[1];
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
		main_help(stdout);
		return finish(CLI_EXIT_OK);
	}
	if (strcmp(word, "--version") == 0 || strcmp(word, "-V") == 0) {
		printf("fixit %s\n", fx_version());
		return finish(CLI_EXIT_OK);
	}
	if (word[0] == '-') {
		cli_usage_error(NULL, "unknown option '%s'", word);
		return CLI_EXIT_USAGE;
	}
	cmd = find_command(word);
	if (!cmd) {
		unknown_command(word);
		return CLI_EXIT_USAGE;
	}
	return finish(cmd->main(cmd, argc - 2, argv + 2));
}
