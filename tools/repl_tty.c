/* repl_tty.c: the REPL at a terminal: GNU readline through its callback interface (so that
 * Ctrl-C can drop a line and the loop stays ours), history kept in the XDG state directory,
 * and context-sensitive tab completion. Readline is linked into the CLI only. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "repl.h"

#define HISTORY_MAX 1000

/* Readline's callbacks carry no user data: the one REPL of the process. */
static repl *cur;
static int done, loop_rc;
static volatile sig_atomic_t got_sigint, got_winch;

/* --- History ------------------------------------------------------------------------------------ */

/* $XDG_STATE_HOME/fixit/history, else ~/.local/state/fixit/history, its directories made as
 * needed; NULL when neither variable is usable or the directories cannot be made. */
static char *history_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	cli_sbuf b = {0};
	size_t i;

	/* The XDG spec says a relative path in the variable is to be ignored. */
	if (xdg && xdg[0] == '/') {
		cli_sb_adds(&b, xdg);
	} else if (home && *home) {
		cli_sb_adds(&b, home);
		cli_sb_adds(&b, "/.local/state");
	} else {
		return NULL;
	}
	cli_sb_adds(&b, "/fixit");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	for (i = 1; i <= b.len; i++) {
		if (b.p[i] == '/' || b.p[i] == '\0') {
			char c = b.p[i];
			b.p[i] = '\0';
			if (mkdir(b.p, 0700) != 0 && errno != EEXIST) {
				free(b.p);
				return NULL;
			}
			b.p[i] = c;
		}
	}
	cli_sb_adds(&b, "/history");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* --- Completion --------------------------------------------------------------------------------- */

/* The words offered for the word being completed, chosen once per completion. */
static const char **cands;
static size_t ncands, ccands;

static void cand_add(const char *w)
{
	if (!w)
		return;
	if (ncands == ccands) {
		size_t cap = ccands ? ccands * 2 : 64;
		const char **p = realloc(cands, cap * sizeof *p);
		if (!p)
			return;
		cands = p;
		ccands = cap;
	}
	cands[ncands++] = w;
}

static char *cand_generator(const char *text, int state)
{
	static size_t i;
	size_t len = strlen(text);

	if (state == 0)
		i = 0;
	while (i < ncands) {
		const char *w = cands[i++];
		if (strncmp(w, text, len) == 0)
			return repl_strdup(w);
	}
	return NULL;
}

static void add_commands(void)
{
	size_t i;

	for (i = 0; i < repl_ncmds; i++)
		cand_add(repl_cmds[i].name);
}

static void add_questions(repl *r)
{
	size_t i, n = repl_engine_question_count(r);

	for (i = 0; i < n; i++) {
		const char *id = NULL;
		repl_engine_question(r, i, &id, NULL, NULL, NULL);
		cand_add(id);
	}
}

static void add_answers(repl *r, long q)
{
	const char *const *answers = NULL;
	size_t i, n = 0;

	if (q < 0)
		return;
	repl_engine_question(r, (size_t)q, NULL, NULL, &answers, &n);
	for (i = 0; i < n; i++)
		cand_add(answers[i]);
	cand_add("unknown");
}

static void add_remedies(repl *r)
{
	size_t i, n = fx_kb_remedy_count(r->kb);

	for (i = 0; i < n; i++) {
		fx_remedy_info info;
		if (fx_kb_remedy_get(r->kb, i, &info) == 0)
			cand_add(info.id);
	}
}

static int have_cand(const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < ncands; i++)
		if (strlen(cands[i]) == len && memcmp(cands[i], w, len) == 0)
			return 1;
	return 0;
}

/* Finding ids: those concluded now, and every constant id a rule's `conclude` names (so that
 * `whynot` completes what is not concluded). */
static void add_findings(repl *r)
{
	const char *id;
	size_t i, j, k, n = fx_kb_rule_count(r->kb);

	for (i = 0; (id = repl_engine_finding_id(r, i)) != NULL; i++)
		cand_add(id);
	for (i = 0; i < n; i++) {
		fx_rule_summary sum;
		if (fx_kb_rule_summary(r->kb, i, &sum) < 0)
			continue;
		for (j = 0; j < sum.nacts; j++) {
			const fx_rule_link *l = &sum.acts[j];
			if (l->kind != FX_LINK_ASSERT || !l->tmpl || strcmp(l->tmpl, "finding") != 0)
				continue;
			for (k = 0; k < l->nconst; k++)
				if (strcmp(l->slots[k], "id") == 0 && l->values[k].type == FX_SYMBOL &&
				    !have_cand(l->values[k].u.text, l->values[k].len))
					cand_add(l->values[k].u.text);
		}
	}
}

static void add_templates(repl *r)
{
	size_t i, n = fx_kb_template_count(r->kb);

	for (i = 0; i < n; i++)
		cand_add(fx_kb_template_name(r->kb, i));
}

/* Inside `assert (` or `retract (`: templates right after the first '(', slot names of that
 * template after a '(' one level down. */
static void add_fact_words(repl *r, const char *from, const char *to)
{
	int depth = 0;
	const char *p, *tmpl = NULL;
	size_t tlen = 0, i, n;
	char name[128];
	long t;

	for (p = from; p < to; p++) {
		if (*p == '(') {
			depth++;
			if (depth == 1) {
				tmpl = p + 1;
				for (tlen = 0; tmpl + tlen < to && tmpl[tlen] != ' ' && tmpl[tlen] != '(' &&
				               tmpl[tlen] != ')';
				     tlen++)
					;
			}
		} else if (*p == ')') {
			depth--;
		} else if (*p == '"') {
			for (p++; p < to && *p != '"'; p++)
				if (*p == '\\' && p + 1 < to)
					p++;
		}
	}
	if (to == from || to[-1] != '(')
		return;
	if (depth == 1) {
		add_templates(r);
		return;
	}
	if (depth != 2 || !tmpl || tlen == 0 || tlen >= sizeof name)
		return;
	memcpy(name, tmpl, tlen);
	name[tlen] = '\0';
	t = fx_kb_template_find(r->kb, name);
	n = t >= 0 ? fx_kb_template_slot_count(r->kb, (size_t)t) : 0;
	for (i = 0; i < n; i++)
		cand_add(fx_kb_template_slot_name(r->kb, (size_t)t, i));
}

static void add_rules(repl *r)
{
	size_t i, n = fx_kb_rule_count(r->kb);

	for (i = 0; i < n; i++)
		cand_add(fx_kb_rule_name(r->kb, i));
}

/* The n-th blank-separated word of line[0, end), copied into buf; "" when there is none. */
static const char *word_at(const char *line, size_t end, size_t n, char *buf, size_t size)
{
	size_t i = 0, k = 0, len;

	for (;;) {
		while (i < end && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= end)
			break;
		len = 0;
		while (i + len < end && line[i + len] != ' ' && line[i + len] != '\t')
			len++;
		if (k++ == n) {
			if (len >= size)
				len = size - 1;
			memcpy(buf, line + i, len);
			buf[len] = '\0';
			return buf;
		}
		i += len;
	}
	buf[0] = '\0';
	return buf;
}

/* How many blank-separated words line[0, end) holds, the last one counted only when it is
 * followed by a blank. */
static size_t words_before(const char *line, size_t end)
{
	size_t i = 0, n = 0;

	for (;;) {
		while (i < end && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= end)
			return n;
		while (i < end && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i >= end)
			return n;
		n++;
	}
}

static char **complete(const char *text, int start, int end)
{
	repl *r = cur;
	const char *line = rl_line_buffer;
	char cmd[64], arg0[128];
	size_t nw = words_before(line, (size_t)start);

	(void)end;
	ncands = 0;
	rl_attempted_completion_over = 1;
	word_at(line, (size_t)start, 0, cmd, sizeof cmd);
	if (nw == 0 && strchr(line, '(') == NULL) {
		add_commands();
		if (r->pending >= 0) {
			add_answers(r, r->pending);
			cand_add("why");
		}
	} else if (strcmp(cmd, "assert") == 0 || strcmp(cmd, "retract") == 0) {
		add_fact_words(r, line, line + start);
	} else if (nw > 1 && strcmp(cmd, "answer") != 0) {
		return NULL;
	} else if (strcmp(cmd, "help") == 0) {
		add_commands();
	} else if (strcmp(cmd, "how") == 0 || strcmp(cmd, "whynot") == 0) {
		add_findings(r);
		add_remedies(r);
	} else if (strcmp(cmd, "tried") == 0) {
		add_remedies(r);
	} else if (strcmp(cmd, "answer") == 0) {
		if (nw == 1)
			add_questions(r);
		else if (nw == 2)
			add_answers(r, repl_engine_question_find(r, word_at(line, (size_t)start, 1, arg0,
			                                                        sizeof arg0)));
	} else if (strcmp(cmd, "change") == 0 || strcmp(cmd, "why") == 0) {
		add_questions(r);
	} else if (strcmp(cmd, "facts") == 0) {
		add_templates(r);
	} else if (strcmp(cmd, "rules") == 0) {
		add_rules(r);
	} else if (strcmp(cmd, "trace") == 0) {
		cand_add("on");
		cand_add("off");
	} else if (strcmp(cmd, "save") == 0 || strcmp(cmd, "load") == 0) {
		rl_attempted_completion_over = 0; /* readline's file names */
		return NULL;
	}
	return rl_completion_matches(text, cand_generator);
}

/* --- The loop ------------------------------------------------------------------------------------- */

static const char *prompt(const repl *r)
{
	if (r->collecting)
		return "... ";
	if (r->pending >= 0)
		return "answer> ";
	return "fixit> ";
}

/* Lines of a paste that arrived without bracketed paste (a terminal without it, TERM=dumb):
 * lines that are not commands, each followed at once by more input, are gathered into one
 * message. */
static cli_sbuf gathered;

/* Whether more input arrives within a few milliseconds: the rest of a paste. A person does not
 * type the next line that fast. */
static int more_input(void)
{
	struct pollfd pf = {STDIN_FILENO, POLLIN, 0};

	return poll(&pf, 1, 15) > 0;
}

static void on_line(char *line)
{
	size_t n;
	HIST_ENTRY *last;
	int rc;

	if (!line) {
		/* Ctrl-D on an empty line: leave as `quit` does, on a fresh line. */
		putchar('\n');
		done = 1;
		rl_callback_handler_remove();
		return;
	}
	/* A bracketed paste keeps its newlines; the ones at its end are only how it was copied. */
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (gathered.len || (!strchr(line, '\n') && !repl_is_command(cur, line) && more_input())) {
		cli_sb_adds(&gathered, line);
		free(line);
		if (more_input()) {
			cli_sb_add(&gathered, "\n", 1);
			rl_set_prompt("");
			return;
		}
		line = gathered.oom ? NULL : repl_strdup(gathered.p);
		cli_sb_clear(&gathered);
		if (!line) {
			loop_rc = FX_ENOMEM;
			done = 1;
			rl_callback_handler_remove();
			return;
		}
	}
	if (*line && !strchr(line, '\n') && !cur->collecting) {
		last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
		if (!last || strcmp(last->line, line) != 0)
			add_history(line);
	}
	rc = repl_line(cur, line);
	free(line);
	fflush(stdout);
	if (rc == REPL_QUIT || rc < 0) {
		loop_rc = rc < 0 ? rc : 0;
		done = 1;
		rl_callback_handler_remove();
		return;
	}
	rl_set_prompt(prompt(cur));
}

static void on_signal(int sig)
{
	if (sig == SIGINT)
		got_sigint = 1;
	else
		got_winch = 1;
}

int repl_tty_loop(repl *r)
{
	struct sigaction sa, old_int, old_winch;
	sigset_t block, orig;
	char *hist = history_path();
	fd_set fds;

	cur = r;
	done = 0;
	loop_rc = 0;
	rl_readline_name = "fixit";
	rl_attempted_completion_function = complete;
	/* Our handlers, not readline's: a Ctrl-C drops the line being typed, not the program. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGWINCH, &sa, &old_winch);
	stifle_history(HISTORY_MAX);
	if (hist)
		read_history(hist);

	printf("fixit %s: paste an error message to diagnose it, type 'consult' to be asked\n"
	       "questions, or 'help'.\n", fx_version());
	fflush(stdout);
	rl_callback_handler_install(prompt(r), on_line);
	/* The signals stay blocked except inside pselect, so that one arriving while a line is
	 * being handled is seen at the next wait rather than lost until a key is pressed. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!done) {
		if (got_winch) {
			got_winch = 0;
			rl_resize_terminal();
		}
		if (got_sigint) {
			/* Ctrl-C: the line being typed (or a paste being collected) is dropped. */
			got_sigint = 0;
			r->collecting = 0;
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			rl_crlf();
			rl_set_prompt(prompt(r));
			rl_on_new_line();
			rl_redisplay();
		}
		FD_ZERO(&fds);
		FD_SET(STDIN_FILENO, &fds);
		if (pselect(STDIN_FILENO + 1, &fds, NULL, NULL, NULL, &orig) < 0) {
			if (errno != EINTR)
				break;
			continue;
		}
		rl_callback_read_char();
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (!done)
		rl_callback_handler_remove();
	/* History is a convenience: a read-only home must not spoil the session's end. */
	if (hist) {
		write_history(hist);
		history_truncate_file(hist, HISTORY_MAX);
	}
	free(hist);
	clear_history();
	free(cands);
	cands = NULL;
	free(gathered.p);
	memset(&gathered, 0, sizeof gathered);
	ncands = ccands = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	cur = NULL;
	return loop_rc;
}
