/* repl.c: `fixit repl` (and `fixit` alone on a terminal): the interactive consultation. Reads
 * commands and pasted error messages, keeps a log of the user's inputs (pastes, answers,
 * asserts, retracts, tried) that undo, reload, save and load replay, asks the next question and
 * shows the ranked diagnosis. The line editor (readline) and completion live in repl_tty.c;
 * this file is the part that does not care where lines come from. docs/repl.md is the manual. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl.h"

/* --- Small tools ---------------------------------------------------------------------------- */

char *repl_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static char *strndup_(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The next word of *p (up to a blank) copied into buf; *p moves past it and the blanks after.
 * Returns buf, "" at the end of the line. */
static const char *next_word(const char **p, char *buf, size_t size)
{
	const char *s = skip_space(*p), *e = s;
	size_t n;

	while (*e && *e != ' ' && *e != '\t')
		e++;
	n = (size_t)(e - s) < size - 1 ? (size_t)(e - s) : size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = skip_space(e);
	return buf;
}

/* "error: MESSAGE" on stderr, after what stdout holds, so that the two interleave as they
 * happened when both go to a terminal. */
static void say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The session's last error, or the code's words. */
static void say_session_error(const repl *r, int rc)
{
	const fx_diag *e = r->s ? fx_session_last_error(r->s) : NULL;

	say_error("%s", e && e->message && *e->message ? e->message : fx_strerror(rc));
}

const char *repl_sgr(const repl *r, const char *seq)
{
	return r->color ? seq : "";
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Room for n bytes in b (its text is then undefined). 0 or FX_ENOMEM. */
static int sb_reserve(cli_sbuf *b, size_t n)
{
	char *p;

	if (b->cap >= n)
		return 0;
	p = realloc(b->p, n);
	if (!p)
		return FX_ENOMEM;
	b->p = p;
	b->cap = n;
	return 0;
}

const char *repl_fact_text(const fx_session *s, cli_sbuf *b, uint64_t id)
{
	int n = sb_reserve(b, 256);

	if (n == 0)
		n = fx_session_fact_format(s, id, b->p, b->cap);
	if (n >= 0 && (size_t)n >= b->cap) {
		if (sb_reserve(b, (size_t)n + 1) < 0)
			return "(out of memory)";
		n = fx_session_fact_format(s, id, b->p, b->cap);
	}
	if (n < 0 || (size_t)n >= b->cap)
		return "(?)";
	return b->p;
}

static const char *fact_text(repl *r, uint64_t id)
{
	return repl_fact_text(r->s, &r->tmp, id);
}

/* --- The log of inputs ------------------------------------------------------------------------
 * Everything that changes working memory on the user's behalf is one event. The session can
 * always be rebuilt from the kb and the log (undo drops the last event and rebuilds, reload
 * rebuilds over a new kb, load appends a saved log), so the log, not the session, is the
 * record of the consultation. */

static int log_push(repl *r, repl_event_kind kind, const char *a, const char *b)
{
	repl_event *e;

	if (r->nev == r->cev) {
		size_t cap = r->cev ? r->cev * 2 : 16;
		repl_event *p = realloc(r->ev, cap * sizeof *p);
		if (!p)
			return FX_ENOMEM;
		r->ev = p;
		r->cev = cap;
	}
	e = &r->ev[r->nev];
	e->kind = kind;
	e->a = repl_strdup(a);
	e->b = b ? repl_strdup(b) : NULL;
	if (!e->a || (b && !e->b)) {
		free(e->a);
		free(e->b);
		return FX_ENOMEM;
	}
	r->nev++;
	return 0;
}

static void event_free(repl_event *e)
{
	free(e->a);
	free(e->b);
}

static void log_clear(repl *r)
{
	size_t i;

	for (i = 0; i < r->nev; i++)
		event_free(&r->ev[i]);
	r->nev = 0;
}

/* --- Ranking snapshots ---------------------------------------------------------------------- */

static void ranking_free(repl_ranking *k)
{
	size_t i;

	for (i = 0; i < k->nitems; i++) {
		free(k->items[i].id);
		free(k->items[i].finding);
	}
	free(k->items);
	for (i = 0; i < k->nfindings; i++)
		free(k->findings[i].id);
	free(k->findings);
	memset(k, 0, sizeof *k);
}

static const repl_rank_item *ranking_find(const repl_ranking *k, const char *id)
{
	size_t i;

	for (i = 0; i < k->nitems; i++)
		if (strcmp(k->items[i].id, id) == 0)
			return &k->items[i];
	return NULL;
}

/* What changed between two rankings, one line a remedy: new, gone, moved, or a score that
 * changed. Returns the number of lines printed. */
static size_t ranking_diff(repl *r, const repl_ranking *old, const repl_ranking *now)
{
	size_t i, n = 0;

	for (i = 0; i < now->nitems; i++) {
		const repl_rank_item *it = &now->items[i];
		const repl_rank_item *was = ranking_find(old, it->id);
		if (it->tried)
			continue;
		if (!was || was->tried) {
			printf("  + %s (now #%zu, score %.3f)\n", it->id, it->rank, it->score);
			n++;
		} else if (was->score != it->score) {
			printf("  ~ %s: #%zu -> #%zu, score %.3f -> %.3f\n", it->id, was->rank, it->rank,
			       was->score, it->score);
			n++;
		} else if (was->rank != it->rank) {
			printf("  ~ %s: #%zu -> #%zu\n", it->id, was->rank, it->rank);
			n++;
		}
	}
	for (i = 0; i < old->nitems; i++) {
		const repl_rank_item *was = &old->items[i];
		const repl_rank_item *it = ranking_find(now, was->id);
		if (was->tried)
			continue;
		if (!it || it->tried) {
			printf("  - %s (was #%zu)\n", was->id, was->rank);
			n++;
		}
	}
	(void)r;
	return n;
}

/* The diagnosis as a person reads it: findings with certainty, remedies best first, the first
 * one with its steps. */
static void show_diagnosis(repl *r, int steps)
{
	repl_ranking k;
	size_t i, j, shown = 0;
	int rc;

	memset(&k, 0, sizeof k);
	rc = repl_engine_ranking(r, &k);
	if (rc < 0) {
		say_error("no diagnosis: %s", fx_strerror(rc));
		ranking_free(&k);
		return;
	}
	if (k.nfindings == 0 && k.nitems == 0) {
		printf("No diagnosis yet.\n");
		ranking_free(&k);
		return;
	}
	if (k.nfindings) {
		printf("%sFindings:%s\n", repl_sgr(r, REPL_BOLD), repl_sgr(r, REPL_RESET));
		for (i = 0; i < k.nfindings; i++) {
			fx_finding_info fi;
			long ix = fx_kb_finding_find(r->kb, k.findings[i].id);
			if (ix >= 0 && fx_kb_finding_get(r->kb, (size_t)ix, &fi) == 0)
				printf("  %s: %s (certainty %.2f)\n", k.findings[i].id, fi.title,
				       k.findings[i].cf);
			else
				printf("  %-32s certainty %.2f\n", k.findings[i].id, k.findings[i].cf);
		}
	}
	for (i = 0; i < k.nitems; i++) {
		const repl_rank_item *it = &k.items[i];
		fx_remedy_info info;
		long ix;
		if (it->tried)
			continue;
		if (shown++ == 0)
			printf("%sRemedies, best first:%s\n", repl_sgr(r, REPL_BOLD),
			       repl_sgr(r, REPL_RESET));
		ix = fx_kb_remedy_find(r->kb, it->id);
		if (ix >= 0 && fx_kb_remedy_get(r->kb, (size_t)ix, &info) == 0) {
			printf("  %zu. %s%s%s: %s (certainty %.2f, cost %d)\n", it->rank,
			       repl_sgr(r, REPL_GREEN), it->id, repl_sgr(r, REPL_RESET), info.title,
			       it->cf, it->cost);
			if (steps && shown == 1) {
				for (j = 0; j < info.nsteps; j++)
					printf("       %zu) %s\n", j + 1, info.steps[j]);
				if (info.warning)
					printf("       Warning: %s\n", info.warning);
			}
		} else {
			printf("  %zu. %s (certainty %.2f, cost %d)\n", it->rank, it->id, it->cf,
			       it->cost);
		}
	}
	if (shown == 0)
		printf("No remedy left to try.\n");
	for (i = 0, j = 0; i < k.nitems; i++)
		if (k.items[i].tried)
			printf("%s%s%s", j++ ? ", " : "Tried without success: ", k.items[i].id,
			       i + 1 == k.nitems ? "\n" : "");
	if (j && !k.items[k.nitems - 1].tried)
		putchar('\n');
	ranking_free(&k);
}

/* The ranking now, to compare with after a change; NULL when it cannot be had (the change
 * is then shown without a comparison). */
static repl_ranking *snapshot(repl *r, repl_ranking *k)
{
	memset(k, 0, sizeof *k);
	if (repl_engine_ranking(r, k) == 0)
		return k;
	ranking_free(k);
	return NULL;
}

/* --- Consultation ------------------------------------------------------------------------------ */

/* Prints the pending question with its allowed answers. */
static void print_question(repl *r)
{
	const char *text = NULL, *const *answers = NULL;
	size_t n = 0, i;

	if (r->pending < 0)
		return;
	repl_engine_question(r, (size_t)r->pending, NULL, &text, &answers, &n);
	printf("%sQuestion:%s %s\n", repl_sgr(r, REPL_BOLD), repl_sgr(r, REPL_RESET),
	       text ? text : "?");
	printf("  answer ");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", answers[i]);
	printf("%sunknown (or ?), or why\n", n ? ", " : "");
}

/* Picks the next question (or none) and asks it. */
static void ask_next(repl *r)
{
	long q = repl_engine_next_question(r);

	r->pending = q;
	if (q >= 0)
		print_question(r);
	else if (r->consulting)
		printf("No more questions.\n");
	r->consulting = q >= 0;
}

/* After something changed the facts: run the rules, show the diagnosis, ask on. */
static void conclude(repl *r, const repl_ranking *before)
{
	uint64_t fired = 0;
	int rc = fx_session_run(r->s, 0, &fired);

	if (rc < 0 && rc != FX_EHALT)
		say_session_error(r, rc);
	if (r->loading)
		return;
	if (before) {
		repl_ranking now;
		memset(&now, 0, sizeof now);
		if (repl_engine_ranking(r, &now) == 0 && ranking_diff(r, before, &now) == 0)
			printf("  (the ranking did not change)\n");
		ranking_free(&now);
	}
	show_diagnosis(r, 1);
	ask_next(r);
}

/* --- Applying events ----------------------------------------------------------------------------- */

/* The text of a paste as the reader would cut it: one case. */
static int apply_paste(repl *r, const char *text, unsigned number, size_t *nnew)
{
	fx_origin o;
	char label[32];

	snprintf(label, sizeof label, "<paste %u>", number);
	memset(&o, 0, sizeof o);
	o.input = label;
	o.case_index = 1;
	o.line = 1;
	return fx_text_assert(r->s, text, strlen(text), &o, nnew);
}

/* The fact whose text is `text` (as fx_session_fact_format writes it), or 0. */
static uint64_t find_fact_by_text(repl *r, const char *text)
{
	uint64_t id = 0;

	while (fx_session_fact_next(r->s, id, &id))
		if (strcmp(fact_text(r, id), text) == 0)
			return id;
	return 0;
}

/* One event on the session, without output; used by replay. */
static int apply_event(repl *r, const repl_event *e, unsigned *npaste)
{
	uint64_t id;

	switch (e->kind) {
	case REPL_EV_PASTE:
		return apply_paste(r, e->a, ++*npaste, NULL);
	case REPL_EV_ANSWER:
		return repl_engine_answer(r, e->a, e->b);
	case REPL_EV_UNANSWER:
		return repl_engine_unanswer(r, e->a);
	case REPL_EV_ASSERT:
		return fx_session_assert_text(r->s, e->a, &id);
	case REPL_EV_RETRACT:
		id = find_fact_by_text(r, e->a);
		return id ? fx_session_retract(r->s, id) : FX_ENOTFOUND;
	case REPL_EV_TRIED:
		return repl_engine_tried(r, e->a);
	}
	return FX_EINVAL;
}

/* Rebuild the session from the kb and the log: what undo, reload and load do. Events that
 * no longer apply (an answer the new kb does not know) are reported and kept. */
static int replay(repl *r)
{
	size_t i;
	unsigned npaste = 0;
	uint64_t fired;
	int rc;

	rc = fx_session_reset(r->s);
	if (rc < 0)
		return rc;
	for (i = 0; i < r->nev; i++) {
		rc = apply_event(r, &r->ev[i], &npaste);
		if (rc < 0 && rc != FX_ENOTFOUND)
			return rc;
		if (rc == FX_ENOTFOUND)
			say_error("replaying '%s%s%s': %s", r->ev[i].a, r->ev[i].b ? " " : "",
			          r->ev[i].b ? r->ev[i].b : "", fx_strerror(rc));
		rc = fx_session_run(r->s, 0, &fired);
		if (rc < 0 && rc != FX_EHALT)
			say_session_error(r, rc);
	}
	r->npaste = npaste;
	return 0;
}

/* --- Commands ------------------------------------------------------------------------------------ */

static const repl_cmd *find_cmd(const char *name);

static int cmd_paste_text(repl *r, const char *text)
{
	size_t nnew = 0;
	int rc;

	rc = log_push(r, REPL_EV_PASTE, text, NULL);
	if (rc < 0)
		return rc;
	rc = apply_paste(r, text, ++r->npaste, &nnew);
	if (rc < 0) {
		say_session_error(r, rc);
		return 0;
	}
	if (!r->loading)
		printf("<paste %u>: %zu new fact%s from the text.\n", r->npaste, nnew, plural(nnew));
	if (nnew == 0 && !r->loading)
		printf("fixit recognises no error message in it; 'consult' asks questions instead\n"
		       "('help' lists the commands).\n");
	conclude(r, NULL);
	return 0;
}

static int cmd_paste(repl *r, const char *args)
{
	if (*args)
		return cmd_paste_text(r, args);
	r->collecting = 1;
	cli_sb_clear(&r->paste);
	if (r->tty)
		printf("Paste the text; end it with a line holding only '.'.\n");
	return 0;
}

static int cmd_help(repl *r, const char *args)
{
	size_t i;
	const repl_cmd *c;

	(void)r;
	if (*args) {
		c = find_cmd(args);
		if (!c) {
			say_error("no command '%s'", args);
			return 0;
		}
		printf("%s%s%s\n%s", c->name, *c->args ? " " : "", c->args, c->help);
		return 0;
	}
	printf("Paste an error message (or type 'paste', the text, then a line '.') to diagnose it;\n"
	       "fixit then asks questions: answer yes, no, unknown (?) or why.\n\nCommands:\n");
	for (i = 0; i < repl_ncmds; i++) {
		char head[40];
		snprintf(head, sizeof head, "%s%s%s", repl_cmds[i].name, *repl_cmds[i].args ? " " : "",
		         repl_cmds[i].args);
		printf("  %-22s %s\n", head, repl_cmds[i].summary);
	}
	printf("'help COMMAND' tells more.\n");
	return 0;
}

static int cmd_facts(repl *r, const char *args)
{
	uint64_t id = 0;
	long t = -1;
	size_t n = 0;

	if (*args && (t = fx_kb_template_find(r->kb, args)) < 0) {
		say_error("no template '%s'", args);
		return 0;
	}
	while (fx_session_fact_next(r->s, id, &id)) {
		if (t >= 0 && fx_session_fact_template(r->s, id) != t)
			continue;
		printf("f-%-5" PRIu64 " %s\n", id, fact_text(r, id));
		n++;
	}
	printf("%zu fact%s.\n", n, plural(n));
	return 0;
}

static int cmd_rules(repl *r, const char *args)
{
	size_t i, n = fx_kb_rule_count(r->kb);

	for (i = 0; i < n; i++) {
		const char *name = fx_kb_rule_name(r->kb, i), *file = NULL;
		unsigned line = 0, col = 0;
		if (*args && !strstr(name, args))
			continue;
		fx_kb_rule_pos(r->kb, i, &file, &line, &col);
		printf("%-36s %s:%u\n", name, file ? file : "<buffer>", line);
	}
	return 0;
}

static int cmd_agenda(repl *r, const char *args)
{
	size_t i, j, n = fx_session_agenda_count(r->s);

	(void)args;
	for (i = 0; i < n; i++) {
		long rule;
		const uint64_t *ids;
		size_t nids;
		if (fx_session_agenda_get(r->s, i, &rule, &ids, &nids) < 0)
			continue;
		printf("%-4d %s: ", fx_kb_rule_salience(r->kb, (size_t)rule),
		       fx_kb_rule_name(r->kb, (size_t)rule));
		if (nids == 0)
			putchar('*');
		for (j = 0; j < nids; j++)
			printf("%sf-%" PRIu64, j ? "," : "", ids[j]);
		putchar('\n');
	}
	printf("%zu activation%s.\n", n, plural(n));
	return 0;
}

static int cmd_assert(repl *r, const char *args)
{
	uint64_t id = 0;
	size_t before = fx_session_fact_count(r->s);
	int rc;

	if (!*args) {
		say_error("usage: assert (template (slot value) ...)");
		return 0;
	}
	rc = fx_session_assert_text(r->s, args, &id);
	if (rc < 0) {
		say_session_error(r, rc);
		return 0;
	}
	if (fx_session_fact_count(r->s) == before) {
		printf("f-%" PRIu64 " is already there.\n", id);
		return 0;
	}
	rc = log_push(r, REPL_EV_ASSERT, args, NULL);
	if (!r->loading)
		printf("f-%" PRIu64 " %s\n", id, fact_text(r, id));
	return rc;
}

static int cmd_retract(repl *r, const char *args)
{
	uint64_t id = 0;
	char *end;
	int rc;

	if (*args == '(') {
		id = find_fact_by_text(r, args);
	} else {
		const char *p = args[0] == 'f' && args[1] == '-' ? args + 2 : args;
		unsigned long long v;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (!*p || *end || errno || !isdigit((unsigned char)*p)) {
			say_error("usage: retract N (a fact id, as 'facts' shows) or retract (fact)");
			return 0;
		}
		id = v;
	}
	if (!id || fx_session_fact_template(r->s, id) < 0) {
		say_error("no fact %s", args);
		return 0;
	}
	rc = log_push(r, REPL_EV_RETRACT, fact_text(r, id), NULL);
	if (rc < 0)
		return rc;
	rc = fx_session_retract(r->s, id);
	if (rc < 0) {
		say_session_error(r, rc);
		event_free(&r->ev[--r->nev]);
		return 0;
	}
	if (!r->loading)
		printf("Retracted f-%" PRIu64 ".\n", id);
	return 0;
}

static int parse_count(const char *args, uint64_t *n)
{
	char *end;
	unsigned long long v;

	*n = 0;
	if (!*args)
		return 0;
	errno = 0;
	v = strtoull(args, &end, 10);
	if (*end || errno || !isdigit((unsigned char)*args))
		return -1;
	*n = v;
	return 0;
}

static int run_rules(repl *r, uint64_t limit)
{
	uint64_t fired = 0;
	int rc = fx_session_run(r->s, limit, &fired);

	if (rc < 0 && rc != FX_EHALT && !(rc == FX_ELIMIT && limit))
		say_session_error(r, rc);
	printf("%" PRIu64 " rule%s fired.\n", fired, plural(fired));
	return 0;
}

static int cmd_run(repl *r, const char *args)
{
	uint64_t n;

	if (parse_count(args, &n) < 0) {
		say_error("usage: run [N]");
		return 0;
	}
	return run_rules(r, n);
}

static int cmd_step(repl *r, const char *args)
{
	(void)args;
	return run_rules(r, 1);
}

static void on_trace(fx_session *s, const fx_trace *t, void *ud)
{
	repl *r = ud;
	size_t i;

	(void)s;
	switch (t->event) {
	case FX_EV_ASSERT:
	case FX_EV_RETRACT:
	case FX_EV_MODIFY:
		printf("%s f-%" PRIu64 " %s\n",
		       t->event == FX_EV_ASSERT ? "==>" : t->event == FX_EV_RETRACT ? "<==" : "<=>",
		       t->fact, fact_text(r, t->fact));
		break;
	case FX_EV_FIRE:
		printf("FIRE %" PRIu64 " %s: ", t->firing, fx_kb_rule_name(r->kb, (size_t)t->rule));
		for (i = 0; i < t->nfacts; i++)
			printf("%sf-%" PRIu64, i ? "," : "", t->facts[i]);
		if (t->nfacts == 0)
			putchar('*');
		putchar('\n');
		break;
	default:
		break;
	}
}

static void on_output(fx_session *s, const char *text, size_t len, void *ud)
{
	(void)s;
	(void)ud;
	fwrite(text, 1, len, stdout);
}

static void on_warn(const fx_diag *d, void *ud)
{
	(void)ud;
	fflush(stdout);
	fprintf(stderr, "warning: %s%s%s%s\n", d->file ? d->file : "", d->file ? ": " : "",
	        d->message ? d->message : "", d->code && *d->code ? "" : "");
}

/* Callbacks are set on each new session (start, reload). */
static void set_callbacks(repl *r)
{
	fx_session_set_trace(r->s, r->trace ? on_trace : NULL, r);
	fx_session_set_output(r->s, on_output, r);
	fx_session_set_warn(r->s, on_warn, r);
}

static int cmd_trace(repl *r, const char *args)
{
	if (strcmp(args, "on") == 0)
		r->trace = 1;
	else if (strcmp(args, "off") == 0)
		r->trace = 0;
	else if (!*args)
		printf("trace is %s\n", r->trace ? "on" : "off");
	else
		say_error("usage: trace on|off");
	fx_session_set_trace(r->s, r->trace ? on_trace : NULL, r);
	return 0;
}

/* yes, no, unknown and their short forms; anything else is taken as written (the question's
 * own answers, which the engine checks). */
static const char *answer_word(const char *w)
{
	static const char *const unknowns[] = {"?", "unknown", "u", "don't know", "dont know",
	                                       "do not know", "idk", "not sure"};
	size_t i;

	if (strcmp(w, "y") == 0 || strcmp(w, "yes") == 0)
		return "yes";
	if (strcmp(w, "n") == 0 || strcmp(w, "no") == 0)
		return "no";
	for (i = 0; i < sizeof unknowns / sizeof unknowns[0]; i++)
		if (strcmp(w, unknowns[i]) == 0)
			return "unknown";
	return w;
}

/* Whether w is yes, no or unknown in one of the forms answer_word knows. */
static int is_answer_word(const char *w)
{
	return strcmp(answer_word(w), w) != 0 || strcmp(w, "yes") == 0 || strcmp(w, "no") == 0 ||
	       strcmp(w, "unknown") == 0;
}

static int give_answer(repl *r, const char *q, const char *a)
{
	repl_ranking before, *had;
	int rc;

	had = snapshot(r, &before);
	rc = repl_engine_answer(r, q, a);
	if (rc < 0) {
		say_session_error(r, rc);
		ranking_free(&before);
		return 0;
	}
	rc = log_push(r, REPL_EV_ANSWER, q, a);
	r->consulting = 1;
	if (r->changed_q >= 0 && r->changed_q == repl_engine_question_find(r, q)) {
		ranking_free(&before);
		before = r->changed;
		memset(&r->changed, 0, sizeof r->changed);
		had = &before;
	}
	r->changed_q = -1;
	ranking_free(&r->changed);
	conclude(r, had);
	ranking_free(&before);
	return rc;
}

static int cmd_answer(repl *r, const char *args)
{
	char q[256];
	const char *p = args;

	next_word(&p, q, sizeof q);
	if (!*q || !*p) {
		say_error("usage: answer QUESTION ANSWER");
		return 0;
	}
	return give_answer(r, q, answer_word(p));
}

static int cmd_change(repl *r, const char *args)
{
	long q;
	int rc;

	if (!*args) {
		say_error("usage: change QUESTION");
		return 0;
	}
	q = repl_engine_question_find(r, args);
	if (q < 0) {
		say_error("no question '%s'", args);
		return 0;
	}
	ranking_free(&r->changed);
	r->changed_q = snapshot(r, &r->changed) ? q : -1;
	rc = repl_engine_unanswer(r, args);
	if (rc < 0 && rc != FX_ENOTFOUND) {
		say_session_error(r, rc);
		return 0;
	}
	if (rc == 0 && (rc = log_push(r, REPL_EV_UNANSWER, args, NULL)) < 0)
		return rc;
	r->pending = q;
	r->consulting = 1;
	print_question(r);
	return 0;
}

static int cmd_consult(repl *r, const char *args)
{
	int rc;

	(void)args;
	/* A consultation may start from nothing: the rules that ask the first questions (where does
	 * the backup go?) need a run before anything is pasted. */
	rc = fx_session_run(r->s, 0, NULL);
	if (rc < 0 && rc != FX_EHALT)
		say_session_error(r, rc);
	r->consulting = 1;
	ask_next(r);
	if (r->pending < 0)
		show_diagnosis(r, 1);
	return 0;
}

static int cmd_diagnosis(repl *r, const char *args)
{
	(void)args;
	show_diagnosis(r, 1);
	return 0;
}

static int cmd_tried(repl *r, const char *args)
{
	repl_ranking before, *had;
	int rc;

	if (!*args) {
		say_error("usage: tried REMEDY");
		return 0;
	}
	had = snapshot(r, &before);
	rc = repl_engine_tried(r, args);
	if (rc < 0) {
		say_session_error(r, rc);
		ranking_free(&before);
		return 0;
	}
	rc = log_push(r, REPL_EV_TRIED, args, NULL);
	conclude(r, had);
	ranking_free(&before);
	return rc;
}

static int cmd_how(repl *r, const char *args)
{
	if (!*args) {
		say_error("usage: how FINDING|REMEDY|f-N");
		return 0;
	}
	return repl_engine_how(r, args);
}

static int cmd_why(repl *r, const char *args)
{
	long q = r->pending;

	if (*args && (q = repl_engine_question_find(r, args)) < 0) {
		say_error("no question '%s'", args);
		return 0;
	}
	if (q < 0) {
		say_error("no question is pending; 'why QUESTION' explains one");
		return 0;
	}
	return repl_engine_why(r, (size_t)q);
}

static int cmd_whynot(repl *r, const char *args)
{
	if (!*args) {
		say_error("usage: whynot FINDING|REMEDY");
		return 0;
	}
	return repl_engine_whynot(r, args);
}

static const char *event_name(repl_event_kind k)
{
	switch (k) {
	case REPL_EV_PASTE:
		return "paste";
	case REPL_EV_ANSWER:
		return "answer";
	case REPL_EV_UNANSWER:
		return "change";
	case REPL_EV_ASSERT:
		return "assert";
	case REPL_EV_RETRACT:
		return "retract";
	case REPL_EV_TRIED:
		return "tried";
	}
	return "?";
}

static int cmd_undo(repl *r, const char *args)
{
	repl_ranking before, *had;
	repl_event e;
	int rc;

	(void)args;
	if (r->nev == 0) {
		printf("Nothing to undo.\n");
		return 0;
	}
	had = snapshot(r, &before);
	e = r->ev[--r->nev];
	printf("Undone: %s %s%s%s\n", event_name(e.kind),
	       e.kind == REPL_EV_PASTE ? "(the text)" : e.a, e.b ? " " : "", e.b ? e.b : "");
	event_free(&e);
	rc = replay(r);
	if (rc < 0)
		say_session_error(r, rc);
	conclude(r, had);
	ranking_free(&before);
	return 0;
}

static int cmd_reset(repl *r, const char *args)
{
	int rc;

	(void)args;
	log_clear(r);
	r->npaste = 0;
	r->pending = -1;
	r->consulting = 0;
	rc = fx_session_reset(r->s);
	if (rc < 0)
		say_session_error(r, rc);
	else
		printf("Working memory reset; the log of inputs is empty.\n");
	return 0;
}

static int cmd_reload(repl *r, const char *args)
{
	repl_ranking before, *had;
	fx_kb *kb = NULL;
	fx_session *s = NULL;
	int rc;

	(void)args;
	had = snapshot(r, &before);
	rc = repl_load_kb(r, &kb);
	if (rc == 0)
		rc = fx_session_new(&s, kb);
	if (rc < 0) {
		/* The old kb and session stay: a typo in a rule file must not end the consultation. */
		if (rc != FX_ELOAD)
			say_error("cannot reload: %s", fx_strerror(rc));
		else
			say_error("the rule files have errors; keeping the knowledge base loaded before");
		fx_session_free(s);
		fx_kb_free(kb);
		ranking_free(&before);
		return 0;
	}
	fx_session_free(r->s);
	fx_kb_free(r->kb);
	r->kb = kb;
	r->s = s;
	set_callbacks(r);
	repl_engine_init(r);
	printf("Reloaded: %zu rule%s; replaying %zu input%s.\n", fx_kb_rule_count(kb),
	       plural(fx_kb_rule_count(kb)), r->nev, plural(r->nev));
	rc = replay(r);
	if (rc < 0)
		say_session_error(r, rc);
	printf("Changes in the ranking:\n");
	conclude(r, had);
	ranking_free(&before);
	return 0;
}

/* The transcript format (docs/repl.md): a header line, then one command a line, as typed in
 * the REPL; a paste is `paste`, its lines (a line starting with '.' gets another '.'), and '.'. */
static int cmd_save(repl *r, const char *args)
{
	FILE *f;
	size_t i;

	if (!*args) {
		say_error("usage: save FILE");
		return 0;
	}
	f = fopen(args, "w");
	if (!f) {
		say_error("%s: %s", args, strerror(errno));
		return 0;
	}
	fputs(REPL_TRANSCRIPT_HEADER "\n", f);
	for (i = 0; i < r->nev; i++) {
		const repl_event *e = &r->ev[i];
		const char *p, *nl;
		switch (e->kind) {
		case REPL_EV_PASTE:
			fputs("paste\n", f);
			for (p = e->a; *p; p = nl + 1) {
				nl = strchr(p, '\n');
				if (*p == '.')
					fputc('.', f);
				fwrite(p, 1, nl ? (size_t)(nl - p) : strlen(p), f);
				fputc('\n', f);
				if (!nl)
					break;
			}
			fputs(".\n", f);
			break;
		case REPL_EV_ANSWER:
			fprintf(f, "answer %s %s\n", e->a, e->b);
			break;
		case REPL_EV_UNANSWER:
			fprintf(f, "unanswer %s\n", e->a);
			break;
		default:
			fprintf(f, "%s %s\n", event_name(e->kind), e->a);
			break;
		}
	}
	if (fclose(f) != 0) {
		say_error("%s: %s", args, strerror(errno));
		return 0;
	}
	printf("Saved %zu input%s to %s.\n", r->nev, plural(r->nev), args);
	return 0;
}

static int cmd_load(repl *r, const char *args)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, n = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if (!*args) {
		say_error("usage: load FILE");
		return 0;
	}
	if (r->loading) {
		say_error("load: a transcript cannot load another");
		return 0;
	}
	f = fopen(args, "r");
	if (!f) {
		say_error("%s: %s", args, strerror(errno));
		return 0;
	}
	/* The transcript's commands are run as if typed, quietly: only errors show, then the
	 * diagnosis they lead to. */
	r->loading = 1;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1 && strncmp(line, "# fixit", 7) != 0) {
			say_error("%s: not a fixit transcript (its first line is not '%s')", args,
			          REPL_TRANSCRIPT_HEADER);
			r->loading = 0;
			free(line);
			fclose(f);
			return 0;
		}
		rc = repl_line(r, line);
		if (rc < 0)
			break;
		n++;
	}
	free(line);
	fclose(f);
	r->loading = 0;
	if (r->collecting) {
		say_error("%s: the last paste has no closing '.'", args);
		r->collecting = 0;
	}
	printf("Loaded %s.\n", args);
	show_diagnosis(r, 1);
	ask_next(r);
	return rc == REPL_QUIT ? 0 : rc;
}

static int cmd_quit(repl *r, const char *args)
{
	(void)r;
	(void)args;
	return REPL_QUIT;
}

static int cmd_questions(repl *r, const char *args)
{
	size_t i, n = repl_engine_question_count(r);

	(void)args;
	for (i = 0; i < n; i++) {
		const char *id = NULL, *text = NULL, *const *answers = NULL;
		size_t na = 0;
		repl_engine_question(r, i, &id, &text, &answers, &na);
		printf("%-28s %s\n", id ? id : "?", text ? text : "");
	}
	printf("%zu question%s.\n", n, plural(n));
	return 0;
}

const repl_cmd repl_cmds[] = {
	{"help", "[COMMAND]", "list the commands, or explain one",
	 "Without COMMAND, list the commands; with one, show what it does.\n", cmd_help},
	{"paste", "[TEXT]", "diagnose TEXT, or the lines up to a line '.'",
	 "Diagnose an error message. 'paste TEXT' takes TEXT; 'paste' alone takes the lines\n"
	 "that follow, up to a line holding only '.', as one message (a line that should\n"
	 "start with '.' is written with one more '.'). On a terminal you can also just\n"
	 "paste the message: any line that is not a command is a message to diagnose.\n",
	 cmd_paste},
	{"diagnosis", "", "show the findings and the remedies, best first",
	 "Show the findings with their certainty and the remedies ranked by certainty over\n"
	 "cost, the best with its steps.\n",
	 cmd_diagnosis},
	{"consult", "", "ask the next question",
	 "Ask the question whose answer would most change the ranking of remedies.\n",
	 cmd_consult},
	{"answer", "QUESTION ANSWER", "answer a question (yes, no, unknown, ...)",
	 "Give ANSWER to QUESTION, replacing an earlier answer (what depended on the old\n"
	 "answer is withdrawn), run the rules and show what changed.\n",
	 cmd_answer},
	{"change", "QUESTION", "take back an answer and be asked again",
	 "Withdraw the answer to QUESTION (and everything that depended on it) and ask the\n"
	 "question again.\n",
	 cmd_change},
	{"questions", "", "list the questions of the knowledge base",
	 "List the questions the knowledge base can ask.\n", cmd_questions},
	{"why", "[QUESTION]", "why the question is asked",
	 "Explain which hypotheses and rules the answer to the pending question (or to\n"
	 "QUESTION) would decide.\n",
	 cmd_why},
	{"how", "X", "how a finding, remedy or fact was concluded",
	 "Show the derivation of a finding, a remedy or a fact (f-N) as a tree: the rules\n"
	 "with their file:line, the facts they matched, the answers given, and for facts\n"
	 "read from a paste the text that matched.\n",
	 cmd_how},
	{"whynot", "X", "why a finding or remedy was not concluded",
	 "Show the rule that came closest to concluding X, the first of its conditions that\n"
	 "failed (with file:line), and the question whose answer could change it.\n",
	 cmd_whynot},
	{"tried", "REMEDY", "say that a remedy did not help",
	 "Record that REMEDY was tried without success; the ranking is updated.\n", cmd_tried},
	{"facts", "[TEMPLATE]", "list the facts (of one template)",
	 "List the facts in working memory with their ids, or only those of TEMPLATE.\n",
	 cmd_facts},
	{"rules", "[TEXT]", "list the rules (whose name contains TEXT)",
	 "List the rules with the file and line where each is written.\n", cmd_rules},
	{"agenda", "", "list the activations waiting to fire",
	 "List the activations on the agenda in firing order: salience, rule, facts.\n",
	 cmd_agenda},
	{"assert", "(FACT)", "add a fact, written (template (slot value) ...)",
	 "Assert a fact written as in CLIPS: (template (slot value) (slot \"text\") ...).\n"
	 "The rules do not run until 'run' or 'step'.\n",
	 cmd_assert},
	{"retract", "N|(FACT)", "remove a fact by id or text",
	 "Retract fact f-N (or the fact written out); facts that depended on it go too.\n",
	 cmd_retract},
	{"run", "[N]", "fire the rules (at most N)",
	 "Fire activations until the agenda is empty, or N of them.\n", cmd_run},
	{"step", "", "fire one rule", "Fire the first activation of the agenda.\n", cmd_step},
	{"trace", "on|off", "show facts and firings as they happen",
	 "With trace on, every fact asserted or retracted and every rule fired is shown.\n",
	 cmd_trace},
	{"undo", "", "take back the last paste, answer, assert, retract or tried",
	 "Take back the last input and rebuild the session from the ones before it.\n",
	 cmd_undo},
	{"reset", "", "forget every input and start again",
	 "Empty working memory (back to the initial facts) and the log of inputs.\n", cmd_reset},
	{"reload", "", "re-read the rule files and replay the inputs",
	 "Load the knowledge base again (after editing a rule file), replay every input\n"
	 "given so far, and show what changed in the ranking. If the files have errors,\n"
	 "the knowledge base loaded before stays.\n",
	 cmd_reload},
	{"save", "FILE", "save the inputs as a transcript",
	 "Write the inputs of this session (pastes, answers, asserts, retracts, tried) to\n"
	 "FILE as a transcript that 'load' (or fixit repl < FILE) replays.\n",
	 cmd_save},
	{"load", "FILE", "replay a saved transcript",
	 "Run the commands of a transcript written by 'save', on top of this session.\n",
	 cmd_load},
	{"quit", "", "leave (also exit, or end of input)", "Leave fixit.\n", cmd_quit},
	{"exit", "", "leave", "Leave fixit.\n", cmd_quit},
};

const size_t repl_ncmds = sizeof repl_cmds / sizeof repl_cmds[0];

static const repl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < repl_ncmds; i++)
		if (strcmp(repl_cmds[i].name, name) == 0)
			return &repl_cmds[i];
	return NULL;
}

/* The command nearest to a mistyped word, or NULL when none is close. */
static const char *nearest_cmd(const char *w)
{
	size_t i, best = 3;
	const char *name = NULL;

	for (i = 0; i < repl_ncmds; i++) {
		size_t d = cli_edit_distance(w, repl_cmds[i].name);
		if (d < best && d < strlen(w)) {
			best = d;
			name = repl_cmds[i].name;
		}
	}
	return name;
}

/* A line that is not a command: a mistyped command when it is one or two short words (the
 * first close to a command name), else text to diagnose. */
static int not_a_command(repl *r, const char *line, const char *first)
{
	const char *near = nearest_cmd(first);
	size_t words = 0;
	const char *p;

	for (p = line; *p;) {
		char w[8];
		next_word(&p, w, sizeof w);
		words++;
	}
	if ((near && words <= 2) || words == 1) {
		if (near)
			say_error("unknown command '%s'; did you mean '%s'?", first, near);
		else
			say_error("unknown command '%s'; 'help' lists the commands (a message to "
			          "diagnose is longer than one word: 'paste TEXT')",
			          first);
		return 0;
	}
	return cmd_paste_text(r, line);
}

int repl_is_command(repl *r, const char *line)
{
	char word[64];
	const char *p = line;

	if (r->collecting)
		return 1;
	next_word(&p, word, sizeof word);
	return find_cmd(word) != NULL || strcmp(word, "unanswer") == 0 ||
	       (r->pending >= 0 && repl_engine_answer_ok(r, (size_t)r->pending,
	                                                 answer_word(skip_space(line))));
}

/* One line of input, typed, pasted, piped or from a transcript. A line holding newlines (a
 * bracketed paste) is one message. Returns 0, REPL_QUIT, or a negative code (out of memory). */
int repl_line(repl *r, const char *line)
{
	char word[64];
	const char *p = line;
	const repl_cmd *c;
	char *trimmed;
	size_t n;
	int rc;

	if (r->collecting) {
		if (strcmp(line, ".") == 0) {
			r->collecting = 0;
			if (r->paste.oom)
				return FX_ENOMEM;
			if (r->paste.len == 0) {
				say_error("empty paste");
				return 0;
			}
			r->paste.p[--r->paste.len] = '\0'; /* the last newline */
			trimmed = repl_strdup(r->paste.p);
			if (!trimmed)
				return FX_ENOMEM;
			rc = cmd_paste_text(r, trimmed);
			free(trimmed);
			return rc;
		}
		cli_sb_adds(&r->paste, line[0] == '.' ? line + 1 : line);
		cli_sb_add(&r->paste, "\n", 1);
		return 0;
	}
	if (strchr(line, '\n'))
		return cmd_paste_text(r, line);
	p = skip_space(line);
	if (!*p || *p == '#')
		return 0;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	trimmed = strndup_(p, n);
	if (!trimmed)
		return FX_ENOMEM;
	p = trimmed;
	next_word(&p, word, sizeof word);
	rc = 0;
	if (r->pending >= 0 && repl_engine_answer_ok(r, (size_t)r->pending,
	                                             answer_word(trimmed))) {
		const char *qid = NULL;
		repl_engine_question(r, (size_t)r->pending, &qid, NULL, NULL, NULL);
		rc = give_answer(r, qid, answer_word(trimmed));
	} else if ((c = find_cmd(word)) != NULL) {
		rc = c->fn(r, p);
	} else if (strcmp(word, "unanswer") == 0) {
		/* Written by save for a `change`; not listed in help. */
		long q = repl_engine_question_find(r, p);
		rc = q < 0 ? 0 : repl_engine_unanswer(r, p);
		if (q < 0)
			say_error("no question '%s'", p);
		else if (rc == 0)
			rc = log_push(r, REPL_EV_UNANSWER, p, NULL);
		else
			say_session_error(r, rc), rc = 0;
	} else if (r->pending < 0 && is_answer_word(trimmed)) {
		say_error("no question is waiting for an answer ('consult' asks the next one)");
	} else {
		rc = not_a_command(r, trimmed, word);
	}
	free(trimmed);
	/* Only running out of memory ends the REPL; any other failure was a bad request. */
	if (rc < 0 && rc != FX_ENOMEM) {
		say_error("%s", fx_strerror(rc));
		rc = 0;
	}
	return rc;
}

/* --- Start and end ----------------------------------------------------------------------------- */

static void on_load_diag(const fx_diag *d, void *ud)
{
	(void)ud;
	fflush(stdout);
	cli_diag_print(d, 0);
}

int repl_load_kb(repl *r, fx_kb **out)
{
	fx_load_opts lo;
	size_t i;

	memset(&lo, 0, sizeof lo);
	lo.diag = on_load_diag;
	*out = NULL;
	if (r->npaths == 0) {
		if (cli_builtin_kb_count == 0)
			return FX_ENOTFOUND;
		return fx_kb_load_buffers(out, cli_builtin_kb_names, cli_builtin_kb_texts,
		                          cli_builtin_kb_lens, cli_builtin_kb_count, &lo);
	}
	for (i = 0; i < r->npaths; i++) {
		struct stat st;
		if (stat(r->paths[i], &st) != 0) {
			say_error("%s: %s", r->paths[i], strerror(errno));
			return FX_EIO;
		}
	}
	return fx_kb_load(out, r->paths, r->npaths, &lo);
}

static void repl_dispose(repl *r)
{
	log_clear(r);
	free(r->ev);
	fx_session_free(r->s);
	fx_kb_free(r->kb);
	free(r->paths);
	cli_files_dispose(&r->env);
	free(r->tmp.p);
	free(r->paste.p);
	ranking_free(&r->changed);
	repl_engine_dispose(r);
}

/* Reads standard input line by line: no prompt, no line editor (scripts, transcripts, tests). */
static int script_loop(repl *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r' && !r->collecting)
			line[--len] = '\0';
		rc = repl_line(r, line);
		if (rc < 0 || rc == REPL_QUIT)
			break;
	}
	free(line);
	if (r->collecting && rc >= 0) {
		say_error("end of input inside a paste (end it with a line '.')");
		r->collecting = 0;
	}
	return rc < 0 ? rc : 0;
}

int cli_repl_main(const cli_command *cmd, int argc, char **argv)
{
	repl r;
	cli_args a;
	int key, rc, status = CLI_EXIT_OK;

	memset(&r, 0, sizeof r);
	r.pending = -1;
	r.changed_q = -1;
	r.paths = calloc((size_t)argc + 1, sizeof *r.paths);
	if (!r.paths) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			cli_usage_error(cmd->name, "unexpected argument '%s'", a.value);
			status = CLI_EXIT_USAGE;
			goto done;
		case 'r':
			r.paths[r.npaths++] = a.value;
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	if (r.npaths == 0) {
		if (cli_env_rules(&r.env) < 0) {
			cli_error("out of memory");
			status = CLI_EXIT_ERROR;
			goto done;
		}
		free(r.paths);
		r.paths = calloc(r.env.n + 1, sizeof *r.paths);
		if (!r.paths) {
			cli_error("out of memory");
			status = CLI_EXIT_ERROR;
			goto done;
		}
		for (; r.npaths < r.env.n; r.npaths++)
			r.paths[r.npaths] = r.env.paths[r.npaths];
	}
	rc = repl_load_kb(&r, &r.kb);
	if (rc == FX_ENOTFOUND && r.npaths == 0) {
		cli_error("no knowledge base: this fixit was built without one; use --rules PATH");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	if (rc < 0) {
		if (rc != FX_ELOAD && rc != FX_EIO)
			cli_error("cannot load the knowledge base: %s", fx_strerror(rc));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	rc = fx_session_new(&r.s, r.kb);
	if (rc < 0) {
		cli_error("cannot start a session: %s", fx_strerror(rc));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	set_callbacks(&r);
	repl_engine_init(&r);
	r.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (r.tty) {
		const char *term = getenv("TERM");
		r.color = getenv("NO_COLOR") == NULL && !(term && strcmp(term, "dumb") == 0);
		rc = repl_tty_loop(&r);
	} else {
		rc = script_loop(&r);
	}
	if (rc < 0) {
		cli_error("%s", fx_strerror(rc));
		status = CLI_EXIT_ERROR;
	}
done:
	repl_dispose(&r);
	return status;
}
