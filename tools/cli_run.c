/* cli_run.c: `fixit run`: load a knowledge base, assert facts from files, run the rules and
 * print what they print, an optional CLIPS-style trace, and the final facts. Everything on
 * stdout goes through one FILE in event order, so print output and trace lines interleave as
 * they happened. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Bad lines reported across all facts files before giving up (a binary file given by mistake
 * should not flood the terminal). */
#define MAX_FACT_ERRORS 20

#define SPACES " \t\f\v"

enum trace_level { TRACE_NONE, TRACE_FACTS, TRACE_ALL };

typedef struct run_ctx {
	fx_kb *kb;               /* our own reference, for rule names in the trace */
	enum trace_level trace;
	int at_line_start;       /* the last byte written to stdout was '\n' (or none yet) */
	char *text;              /* scratch buffer for fact texts, grown as needed */
	size_t textcap;
	unsigned errors;         /* diagnostics seen while loading, and bad fact lines */
	unsigned warnings;
} run_ctx;

static const char *plural(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

/* A `print` without a final newline must not glue our next line onto it. */
static void start_line(run_ctx *c)
{
	if (!c->at_line_start) {
		putchar('\n');
		c->at_line_start = 1;
	}
}

/* The fact as `(template (slot value) ...)`; valid until the next call. */
static const char *fact_text(run_ctx *c, const fx_session *s, uint64_t id)
{
	int n = fx_session_fact_format(s, id, c->text, c->textcap);

	if (n >= 0 && (size_t)n >= c->textcap) {
		char *p = realloc(c->text, (size_t)n + 1);
		if (!p)
			return "(out of memory)";
		c->text = p;
		c->textcap = (size_t)n + 1;
		n = fx_session_fact_format(s, id, c->text, c->textcap);
	}
	if (n < 0 || (size_t)n >= c->textcap)
		return "(?)";
	return c->text;
}

static const char *rule_name(const run_ctx *c, long rule)
{
	const char *name = rule >= 0 ? fx_kb_rule_name(c->kb, (size_t)rule) : NULL;

	return name ? name : "?";
}

/* "f-1,f-3"; "*" when the rule matched no fact (it has only negated conditions). */
static void print_fact_ids(const uint64_t *ids, size_t n)
{
	size_t i;

	if (n == 0 || !ids) {
		putchar('*');
		return;
	}
	for (i = 0; i < n; i++)
		printf("%sf-%" PRIu64, i ? "," : "", ids[i]);
}

static void print_activation(run_ctx *c, const char *arrow, long rule, const uint64_t *ids,
                             size_t n)
{
	start_line(c);
	printf("%s Activation %s: ", arrow, rule_name(c, rule));
	print_fact_ids(ids, n);
	putchar('\n');
}

static void print_fact_event(run_ctx *c, const fx_session *s, const char *arrow, uint64_t id)
{
	start_line(c);
	printf("%s f-%" PRIu64 " %s\n", arrow, id, fact_text(c, s, id));
}

static void on_trace(fx_session *s, const fx_trace *t, void *ud)
{
	run_ctx *c = ud;

	switch (t->event) {
	case FX_EV_ASSERT:
		print_fact_event(c, s, "==>", t->fact);
		break;
	case FX_EV_RETRACT:
		print_fact_event(c, s, "<==", t->fact);
		break;
	case FX_EV_MODIFY:
		print_fact_event(c, s, "<=>", t->fact);
		break;
	case FX_EV_ACTIVATE:
	case FX_EV_DEACTIVATE:
		if (c->trace == TRACE_ALL)
			print_activation(c, t->event == FX_EV_ACTIVATE ? "==>" : "<==", t->rule,
			                 t->facts, t->nfacts);
		break;
	case FX_EV_FIRE:
		start_line(c);
		printf("FIRE %" PRIu64 " %s: ", t->firing, rule_name(c, t->rule));
		print_fact_ids(t->facts, t->nfacts);
		putchar('\n');
		break;
	}
}

static void on_output(fx_session *s, const char *text, size_t len, void *ud)
{
	run_ctx *c = ud;

	(void)s;
	if (len == 0)
		return;
	fwrite(text, 1, len, stdout);
	c->at_line_start = text[len - 1] == '\n';
}

static void on_diag(const fx_diag *d, void *ud)
{
	run_ctx *c = ud;

	if (d->severity == FX_SEV_ERROR)
		c->errors++;
	else if (d->severity == FX_SEV_WARNING)
		c->warnings++;
	cli_diag_print(d, 0);
}

/* The initial facts (and their activations) were asserted by fx_session_new, before a trace
 * callback could be set: show them as if traced, as CLIPS shows them on (reset). */
static void trace_initial(run_ctx *c, fx_session *s)
{
	uint64_t id = 0;
	size_t i, n;

	while (fx_session_fact_next(s, id, &id))
		print_fact_event(c, s, "==>", id);
	if (c->trace != TRACE_ALL)
		return;
	n = fx_session_agenda_count(s);
	for (i = 0; i < n; i++) {
		long rule;
		const uint64_t *ids;
		size_t nids;
		if (fx_session_agenda_get(s, i, &rule, &ids, &nids) == 0)
			print_activation(c, "==>", rule, ids, nids);
	}
}

static void report_fact_error(const fx_session *s, int rc, const char *file, unsigned lineno,
                              const char *line, size_t indent)
{
	const fx_diag *e = fx_session_last_error(s);
	fx_diag d;

	memset(&d, 0, sizeof d);
	d.severity = FX_SEV_ERROR;
	d.code = e && e->code ? e->code : "";
	d.file = file;
	d.line = lineno;
	d.col = e && e->col ? e->col + (unsigned)indent : 0;
	d.span = e ? e->span : 1;
	d.message = e && e->message && *e->message ? e->message : fx_strerror(rc);
	d.source_line = line;
	cli_diag_print(&d, 0);
}

/* Assert every fact of one file ("-": stdin). Bad lines are reported and skipped so one run
 * shows them all; the caller refuses to run if any was found. */
static int assert_file(run_ctx *c, fx_session *s, const char *path)
{
	FILE *f;
	const char *name;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int status = CLI_EXIT_OK;

	if (strcmp(path, "-") == 0) {
		f = stdin;
		name = "<stdin>";
	} else {
		f = fopen(path, "r");
		if (!f) {
			cli_error("%s: %s", path, strerror(errno));
			return CLI_EXIT_ERROR;
		}
		name = path;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		uint64_t id;
		int rc;

		lineno++;
		if ((size_t)len != strlen(line)) {
			fx_diag d;
			memset(&d, 0, sizeof d);
			d.severity = FX_SEV_ERROR;
			d.file = name;
			d.line = lineno;
			d.message = "a NUL byte in the line";
			cli_diag_print(&d, 0);
			status = CLI_EXIT_ERROR;
		} else {
			/* Surrounding blanks are not part of the fact (and a CR of a CRLF file). */
			size_t indent = strspn(line, SPACES);
			while (len > 0 && strchr(SPACES "\r\n", line[len - 1]))
				line[--len] = '\0';
			if ((size_t)len <= indent || line[indent] == ';')
				continue;
			rc = fx_session_assert_text(s, line + indent, &id);
			if (rc >= 0)
				continue;
			report_fact_error(s, rc, name, lineno, line, indent);
			status = CLI_EXIT_ERROR;
		}
		if (++c->errors >= MAX_FACT_ERRORS) {
			cli_error("too many errors, giving up on %s", name);
			break;
		}
	}
	if (ferror(f)) {
		cli_error("%s: %s", name, strerror(errno));
		status = CLI_EXIT_ERROR;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return status;
}

static void print_facts(run_ctx *c, const fx_session *s)
{
	uint64_t id = 0;

	start_line(c);
	while (fx_session_fact_next(s, id, &id))
		printf("f-%" PRIu64 "\t%s\n", id, fact_text(c, s, id));
}

/* The run's outcome on stderr, mapped to an exit status. */
static int run_status(const fx_session *s, int rc)
{
	const fx_diag *e;

	if (rc == 0 || rc == FX_EHALT)
		return CLI_EXIT_OK;
	e = fx_session_last_error(s);
	if (rc == FX_ELIMIT) {
		cli_error("%s", e && e->message && *e->message ? e->message
		                                               : "the firing limit was reached");
		return CLI_EXIT_LIMIT;
	}
	if (e && e->message && *e->message) {
		cli_diag_print(e, 1);
	} else {
		cli_error("run failed: %s", fx_strerror(rc));
	}
	return CLI_EXIT_ERROR;
}

static int parse_strategy(const char *text, fx_strategy *out)
{
	static const struct {
		const char *name;
		fx_strategy st;
	} names[] = {{"depth", FX_STRATEGY_DEPTH},
	             {"breadth", FX_STRATEGY_BREADTH},
	             {"lex", FX_STRATEGY_LEX},
	             {"mea", FX_STRATEGY_MEA}};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(text, names[i].name) == 0) {
			*out = names[i].st;
			return 0;
		}
	cli_usage_error("run", "unknown strategy '%s' (expected depth, breadth, lex or mea)", text);
	return -1;
}

/* Everything after the command line is parsed: load, assert, run, print. */
static int run(run_ctx *c, const char **rules, size_t nrules, const char **facts,
               size_t nfacts, uint64_t limit, const fx_strategy *strategy, int quiet)
{
	fx_load_opts lo;
	fx_session *s = NULL;
	uint64_t fired = 0;
	size_t i;
	int rc, status = CLI_EXIT_OK;

	/* The loader would report a missing path too, but without errno's words. */
	for (i = 0; i < nrules; i++) {
		struct stat st;
		if (stat(rules[i], &st) != 0) {
			cli_error("%s: %s", rules[i], strerror(errno));
			status = CLI_EXIT_ERROR;
		}
	}
	if (status != CLI_EXIT_OK)
		return status;

	memset(&lo, 0, sizeof lo);
	lo.diag = on_diag;
	lo.diag_ud = c;
	rc = fx_kb_load(&c->kb, rules, nrules, &lo);
	if (rc < 0) {
		c->kb = NULL;
		if (c->errors || c->warnings)
			cli_error("%u error%s, %u warning%s", c->errors, plural(c->errors), c->warnings,
			          plural(c->warnings));
		else
			cli_error("cannot load the rules: %s", fx_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	c->errors = 0;

	rc = fx_session_new(&s, c->kb);
	if (rc < 0) {
		cli_error("cannot start a session: %s", fx_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	fx_session_set_output(s, on_output, c);
	if (strategy)
		fx_session_set_strategy(s, *strategy);
	if (c->trace != TRACE_NONE) {
		fx_session_set_trace(s, on_trace, c);
		trace_initial(c, s);
	}
	for (i = 0; i < nfacts && c->errors < MAX_FACT_ERRORS; i++)
		if (assert_file(c, s, facts[i]) != CLI_EXIT_OK)
			status = CLI_EXIT_ERROR;
	if (status != CLI_EXIT_OK)
		goto done;

	rc = fx_session_run(s, limit, &fired);
	if (!quiet)
		print_facts(c, s);
	start_line(c);
	printf(";; %" PRIu64 " firing%s, %zu fact%s\n", fired, plural(fired), fx_session_fact_count(s),
	       plural(fx_session_fact_count(s)));
	status = run_status(s, rc);
done:
	/* Freeing the session drops the activations left: that is not part of the run. */
	if (s)
		fx_session_set_trace(s, NULL, NULL);
	fx_session_free(s);
	return status;
}

int cli_run_main(const cli_command *cmd, int argc, char **argv)
{
	run_ctx c;
	cli_args a;
	const char **rules = calloc((size_t)argc + 1, sizeof *rules);
	const char **facts = calloc((size_t)argc + 1, sizeof *facts);
	size_t nrules = 0, nfacts = 0;
	uint64_t limit = 0;
	fx_strategy strategy = FX_STRATEGY_DEPTH;
	int have_strategy = 0, quiet = 0, key, status = CLI_EXIT_OK;

	memset(&c, 0, sizeof c);
	c.at_line_start = 1;
	if (!rules || !facts) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			rules[nrules++] = a.value;
			break;
		case 'f':
			facts[nfacts++] = a.value;
			break;
		case 't':
			if (!a.value) {
				c.trace = TRACE_FACTS;
			} else if (strcmp(a.value, "all") == 0) {
				c.trace = TRACE_ALL;
			} else {
				cli_usage_error(cmd->name, "option '--trace' takes only '=all', not '=%s'",
				                a.value);
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		case 'n':
			if (cli_parse_u64(cmd->name, "limit", a.value, &limit) < 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		case 's':
			if (parse_strategy(a.value, &strategy) < 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
			have_strategy = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	if (nrules == 0) {
		cli_usage_error(cmd->name, "no rule files given (RULES)");
		status = CLI_EXIT_USAGE;
		goto done;
	}
	c.text = malloc(256);
	c.textcap = c.text ? 256 : 0;
	status = run(&c, rules, nrules, facts, nfacts, limit, have_strategy ? &strategy : NULL, quiet);
done:
	fx_kb_free(c.kb);
	free(c.text);
	free(rules);
	free(facts);
	return status;
}
