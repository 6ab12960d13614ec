/* cli_test.c: `fixit test`: runs the tests written in rule files: every pattern's examples
 * must match it and its near-misses must not; every case (the kb's own and those of case files
 * loaded with it) runs in a fresh session and its diagnosis is compared with what it expects.
 * Failures are shown as expected-versus-got with the engine's why-not explanation; the last
 * lines give the accuracy over the cases (top-1, top-3, false alarms). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_kb.h"

#define SCHEMA "fixit-test/1"
/* A failing sample is quoted up to this many bytes. */
#define QUOTE_MAX 100

/* The problems found with one test, one line each. */
typedef struct problems {
	char **lines;
	size_t n;
	int oom;
} problems;

typedef struct test_ctx {
	fx_kb *kb;
	fx_session *s;
	int json;
	json_t *failures;          /* --json: one object a failed test */
	int oom;
	size_t passed, failed;
	size_t samples;            /* examples and near-misses checked */
	size_t ncases;
	size_t top_of, top1, top3; /* cases expecting remedies; hits in the first 1 and 3 */
	size_t calm_of, alarms;    /* cases expecting nothing; of which got something */
	const char *const *paths;  /* the case files given on the command line */
	size_t npaths;
} test_ctx;

/* Accuracy measures a corpus: with case files given, only their cases count, not the kb's
 * own (which are written to pass and would flatter the figures). */
static int counts_for_accuracy(const test_ctx *c, const char *file)
{
	size_t i, n;

	if (c->npaths == 0)
		return 1;
	if (!file)
		return 0;
	for (i = 0; i < c->npaths; i++) {
		n = strlen(c->paths[i]);
		while (n > 1 && c->paths[i][n - 1] == '/')
			n--;
		if (strncmp(file, c->paths[i], n) == 0 && (file[n] == '\0' || file[n] == '/'))
			return 1;
	}
	return 0;
}

static void say(problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(problems *p, const char *fmt, ...)
{
	va_list ap;
	char **q;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(line = malloc((size_t)n + 1))) {
		p->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	q = realloc(p->lines, (p->n + 1) * sizeof *q);
	if (!q) {
		free(line);
		p->oom = 1;
		return;
	}
	p->lines = q;
	p->lines[p->n++] = line;
}

static void problems_dispose(problems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	memset(p, 0, sizeof *p);
}

/* A text for one line of output: control bytes and bytes past QUOTE_MAX shown as escapes and
 * "...". Writes into buf (size >= QUOTE_MAX * 4 + 8). */
static const char *quote(const char *t, size_t len, char *buf)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, 5, "\\x%02X", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Records the outcome of one test (kind "example", "near-miss" or "case"): counted, and on
 * failure printed (or kept for JSON). */
static void verdict(test_ctx *c, const char *kind, const char *id, const char *file,
                    unsigned line, problems *p)
{
	size_t i;

	if (p->n == 0 && !p->oom) {
		c->passed++;
		return;
	}
	c->failed++;
	if (c->json) {
		json_t *o = json_object(), *a = json_array();
		if (!o || !a || json_object_set_new(o, "kind", json_string(kind)) ||
		    json_object_set_new(o, "id", json_string(id)) ||
		    json_object_set_new(o, "file", file ? json_string(file) : json_null()) ||
		    json_object_set_new(o, "line", json_integer(line)) ||
		    json_object_set_new(o, "problems", a))
			c->oom = 1;
		for (i = 0; a && i < p->n; i++)
			if (json_array_append_new(a, json_string(p->lines[i])) != 0)
				c->oom = 1;
		if (!o || json_array_append_new(c->failures, o) != 0)
			c->oom = 1;
		return;
	}
	printf("FAIL %s%s %s", kind, strcmp(kind, "case") != 0 ? " of pattern" : "", id);
	if (file)
		printf(" (%s:%u)", file, line);
	putchar('\n');
	for (i = 0; i < p->n; i++)
		printf("    %s\n", p->lines[i]);
	if (p->oom)
		printf("    (out of memory while describing the failure)\n");
}

/* --- Patterns -------------------------------------------------------------------------------- */

/* 1 when the text, alone in a fresh session, makes pattern `id` assert a fact. A fact equal to
 * one already asserted by another pattern keeps that pattern's provenance, so a pattern whose
 * facts always duplicate another's is not seen (lint reports such twins: pattern-duplicate). */
static int matches(test_ctx *c, const char *id, const char *text, size_t len, int *err)
{
	uint64_t f = 0;
	int rc = fx_session_reset(c->s);

	if (rc == 0)
		rc = fx_text_assert(c->s, text, len, NULL, NULL);
	if (rc < 0) {
		*err = rc;
		return 0;
	}
	while (fx_session_fact_next(c->s, f, &f)) {
		fx_text_origin o;
		if (fx_text_origin_get(c->s, f, &o) == 1 && o.pattern && strcmp(o.pattern, id) == 0)
			return 1;
	}
	return 0;
}

static void test_pattern(test_ctx *c, size_t i)
{
	fx_pattern_info pi;
	char q[QUOTE_MAX * 4 + 8];
	size_t k;

	if (fx_kb_pattern_get(c->kb, i, &pi) != 0)
		return;
	for (k = 0; k < pi.nexamples + pi.nnear_misses; k++) {
		int near = k >= pi.nexamples, err = 0, hit;
		const fx_sample_info *s = near ? &pi.near_misses[k - pi.nexamples] : &pi.examples[k];
		problems p = {0};
		c->samples++;
		hit = matches(c, pi.id, s->text, s->len, &err);
		if (err)
			say(&p, "%s \"%s\": %s", near ? "near-miss" : "example",
			    quote(s->text, s->len, q), fx_strerror(err));
		else if (!near && !hit)
			say(&p, "example does not match: \"%s\"", quote(s->text, s->len, q));
		else if (near && hit)
			say(&p, "near-miss matches: \"%s\"", quote(s->text, s->len, q));
		verdict(c, near ? "near-miss" : "example", pi.id,
		        s->file ? s->file : pi.file, s->file ? s->line : pi.line, &p);
		problems_dispose(&p);
	}
}

/* --- Cases ----------------------------------------------------------------------------------- */

/* Why `id` (a finding, or a remedy when remedy) is not in the diagnosis, for a failure. */
static void why_not(test_ctx *c, problems *p, const char *id)
{
	fx_whynot w;
	const char *file = NULL;
	unsigned line = 0, col = 0;

	memset(&w, 0, sizeof w);
	if (fx_explain_why_not(c->s, id, &w) != 0)
		return;
	switch (w.kind) {
	case FX_WHYNOT_PRESENT:
		say(p, "  why not: it is in working memory (tried, or ranked out)");
		break;
	case FX_WHYNOT_NO_RULE:
		say(p, "  why not: no rule %s it", w.remedy ? "recommends" : "concludes");
		break;
	case FX_WHYNOT_PENDING:
		say(p, "  why not: rule '%s' would fire but has not run",
		    w.rule >= 0 ? fx_kb_rule_name(c->kb, (size_t)w.rule) : "?");
		break;
	case FX_WHYNOT_FAILED:
		if (w.rule >= 0)
			fx_kb_rule_pos(c->kb, (size_t)w.rule, &file, &line, &col);
		say(p, "  why not: rule '%s' (%s:%u) came closest: %u of %u conditions hold; "
		       "condition %u (%s:%u:%u) does not",
		    w.rule >= 0 ? fx_kb_rule_name(c->kb, (size_t)w.rule) : "?", file ? file : "?", line,
		    w.satisfied, w.total, w.cond + 1, w.file ? w.file : "?", w.line, w.col);
		if (w.question >= 0) {
			fx_question_info qi;
			if (fx_kb_question_get(c->kb, (size_t)w.question, &qi) == 0)
				say(p, "  it needs the answer %s to question '%s'",
				    w.answer ? w.answer : "(any)", qi.id);
		}
		break;
	}
}

static int in_list(const char *const *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], id) == 0)
			return 1;
	return 0;
}

/* "a 0.95, b 0.30" into p as one line headed by `what`. */
static void list_items(problems *p, const char *what, const cli_item *v, size_t n, int remedies)
{
	size_t i, len = 0;
	char *line;

	if (n == 0) {
		say(p, "  got %s: none", what);
		return;
	}
	for (i = 0; i < n; i++)
		len += strlen(v[i].id) + 32;
	line = malloc(len + 1);
	if (!line) {
		p->oom = 1;
		return;
	}
	len = 0;
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(line + len, "%s%s %.2f", i ? ", " : "", v[i].id,
		                       remedies ? v[i].score : v[i].cf);
	say(p, "  got %s: %s", what, line);
	free(line);
}

/* Text, run, answers and tried, run: the session then holds the case's diagnosis. */
static int run_case(test_ctx *c, const fx_case_info *ci, problems *p)
{
	uint64_t fired;
	size_t k;
	int rc = fx_session_reset(c->s);

	if (rc == 0 && ci->input)
		rc = fx_text_assert(c->s, ci->input, ci->input_len, NULL, NULL);
	if (rc == 0)
		rc = fx_session_run(c->s, 0, &fired);
	if (rc == FX_EHALT)
		rc = 0;
	for (k = 0; rc == 0 && k < ci->nanswers; k++) {
		rc = fx_session_answer(c->s, ci->answers[k].question, ci->answers[k].answer, NULL);
		if (rc < 0)
			say(p, "answer %s to question %s: %s", ci->answers[k].answer,
			    ci->answers[k].question, fx_session_last_error(c->s)->message);
	}
	for (k = 0; rc == 0 && k < ci->ntried; k++) {
		rc = fx_session_tried(c->s, ci->tried[k], NULL);
		if (rc < 0)
			say(p, "tried %s: %s", ci->tried[k], fx_strerror(rc));
	}
	if (rc == 0 && (ci->nanswers || ci->ntried)) {
		rc = fx_session_run(c->s, 0, &fired);
		if (rc == FX_EHALT)
			rc = 0;
	}
	if (rc < 0 && p->n == 0) {
		const fx_diag *e = fx_session_last_error(c->s);
		say(p, "the run failed: %s", e && e->message && *e->message ? e->message
		                                                            : fx_strerror(rc));
	}
	return rc;
}

static void test_case(test_ctx *c, size_t i)
{
	fx_case_info ci;
	cli_outcome o = {0};
	problems p = {0};
	size_t k;

	if (fx_kb_case_get(c->kb, i, &ci) != 0)
		return;
	c->ncases++;
	if (run_case(c, &ci, &p) == 0 && cli_outcome_get(&o, c->kb, c->s) < 0)
		say(&p, "%s", fx_strerror(FX_ENOMEM));

	/* Accuracy, over the cases that say what fixes them. */
	if (ci.nremedies && counts_for_accuracy(c, ci.file)) {
		c->top_of++;
		for (k = 0; k < o.nremedies && k < 3; k++)
			if (in_list(ci.remedies, ci.nremedies, o.remedies[k].id)) {
				c->top1 += k == 0;
				c->top3++;
				break;
			}
	}
	if (ci.nothing && counts_for_accuracy(c, ci.file)) {
		c->calm_of++;
		c->alarms += o.nfindings > 0 || o.nremedies > 0;
	}

	if (p.n == 0) {
		for (k = 0; k < ci.nfindings; k++)
			if (!cli_outcome_has(&o, ci.findings[k], 0)) {
				say(&p, "expected finding %s: not concluded", ci.findings[k]);
				why_not(c, &p, ci.findings[k]);
			}
		for (k = 0; k < ci.nremedies; k++)
			if (!cli_outcome_has(&o, ci.remedies[k], 1)) {
				say(&p, "expected remedy %s: not recommended", ci.remedies[k]);
				why_not(c, &p, ci.remedies[k]);
			}
		if (ci.top && (o.nremedies == 0 || strcmp(o.remedies[0].id, ci.top) != 0)) {
			say(&p, "expected top remedy %s, got %s", ci.top,
			    o.nremedies ? o.remedies[0].id : "none");
			if (!cli_outcome_has(&o, ci.top, 1))
				why_not(c, &p, ci.top);
		}
		for (k = 0; k < ci.nabsent; k++) {
			int f = cli_outcome_has(&o, ci.absent[k], 0), r = cli_outcome_has(&o, ci.absent[k], 1);
			if (f || r)
				say(&p, "expected no %s: %s", ci.absent[k],
				    f && r ? "concluded and recommended" : f ? "concluded" : "recommended");
		}
		if (ci.nothing && (o.nfindings || o.nremedies))
			say(&p, "expected nothing: got %zu finding%s and %zu remed%s", o.nfindings,
			    o.nfindings == 1 ? "" : "s", o.nremedies, o.nremedies == 1 ? "y" : "ies");
		if (p.n > 0) {
			list_items(&p, "findings", o.findings, o.nfindings, 0);
			list_items(&p, "remedies", o.remedies, o.nremedies, 1);
		}
	}
	verdict(c, "case", ci.id, ci.file, ci.line, &p);
	problems_dispose(&p);
	cli_outcome_dispose(&o);
}

/* --- Report ---------------------------------------------------------------------------------- */

static double pct(size_t a, size_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void report_text(const test_ctx *c)
{
	printf("patterns: %zu examples and near-misses checked\n", c->samples);
	if (c->top_of)
		printf("accuracy: top-1 %zu/%zu (%.1f%%), top-3 %zu/%zu (%.1f%%) over the cases "
		       "expecting remedies\n",
		       c->top1, c->top_of, pct(c->top1, c->top_of), c->top3, c->top_of,
		       pct(c->top3, c->top_of));
	else
		printf("accuracy: no case expects remedies\n");
	if (c->calm_of)
		printf("false alarms: %zu/%zu (%.1f%%) over the cases expecting nothing\n", c->alarms,
		       c->calm_of, pct(c->alarms, c->calm_of));
	else
		printf("false alarms: no case expects nothing\n");
	printf("%zu passed, %zu failed\n", c->passed, c->failed);
}

static int report_json(test_ctx *c)
{
	json_t *o = json_object();
	int rc;

	if (!o || json_object_set_new(o, "schema", json_string(SCHEMA)) ||
	    json_object_set_new(o, "passed", json_integer((json_int_t)c->passed)) ||
	    json_object_set_new(o, "failed", json_integer((json_int_t)c->failed)) ||
	    json_object_set_new(o, "samples", json_integer((json_int_t)c->samples)) ||
	    json_object_set_new(o, "cases", json_integer((json_int_t)c->ncases)) ||
	    json_object_set_new(o, "expecting_remedies", json_integer((json_int_t)c->top_of)) ||
	    json_object_set_new(o, "top1", json_integer((json_int_t)c->top1)) ||
	    json_object_set_new(o, "top3", json_integer((json_int_t)c->top3)) ||
	    json_object_set_new(o, "expecting_nothing", json_integer((json_int_t)c->calm_of)) ||
	    json_object_set_new(o, "false_alarms", json_integer((json_int_t)c->alarms)) ||
	    json_object_set_new(o, "failures", json_incref(c->failures))) {
		json_decref(o);
		return FX_ENOMEM;
	}
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return rc == 0 ? 0 : FX_ENOMEM;
}

/* --- The command ----------------------------------------------------------------------------- */

/* "95", "95.5" or "95%": a percentage from 0 to 100. */
static int parse_pct(const char *command, const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end);

	if (end != text && *end == '%')
		end++;
	if (end == text || *end || !(v >= 0 && v <= 100)) {
		cli_usage_error(command, "option '--min-top3' expects a percentage from 0 to 100, not '%s'",
		                text);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_test_main(const cli_command *cmd, int argc, char **argv)
{
	test_ctx c;
	cli_args a;
	cli_kb_opts ko;
	const char **rules = calloc((size_t)argc + 1, sizeof *rules);
	const char **paths = calloc((size_t)argc + 1, sizeof *paths);
	size_t nrules = 0, npaths = 0, i;
	double min_top3 = -1;
	int key, status = CLI_EXIT_OK, rc;

	memset(&c, 0, sizeof c);
	if (!rules || !paths) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			paths[npaths++] = a.value;
			break;
		case 'r':
			rules[nrules++] = a.value;
			break;
		case 'm':
			if (parse_pct(cmd->name, a.value, &min_top3) < 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		case 'j':
			c.json = 1;
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	memset(&ko, 0, sizeof ko);
	ko.rules = rules;
	ko.nrules = nrules;
	ko.extra = paths;
	ko.nextra = npaths;
	c.paths = paths;
	c.npaths = npaths;
	status = cli_kb_load(&c.kb, &ko, NULL);
	if (status != CLI_EXIT_OK)
		goto done;
	rc = fx_session_new(&c.s, c.kb);
	c.failures = json_array();
	if (rc < 0 || !c.failures) {
		cli_error("cannot start a session: %s", fx_strerror(rc < 0 ? rc : FX_ENOMEM));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	/* Captures that do not convert are the pattern's business, not a test failure here. */
	fx_session_set_warn(c.s, NULL, NULL);
	for (i = 0; i < fx_kb_pattern_count(c.kb); i++)
		test_pattern(&c, i);
	for (i = 0; i < fx_kb_case_count(c.kb); i++)
		test_case(&c, i);
	if (c.json ? report_json(&c) < 0 || c.oom : (report_text(&c), 0)) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	status = c.failed ? CLI_EXIT_NO : CLI_EXIT_OK;
	if (min_top3 >= 0 && c.top_of && pct(c.top3, c.top_of) < min_top3) {
		cli_error("top-3 accuracy %.1f%% is below the minimum %g%%", pct(c.top3, c.top_of),
		          min_top3);
		status = CLI_EXIT_NO;
	}
done:
	json_decref(c.failures);
	fx_session_free(c.s);
	fx_kb_free(c.kb);
	free(rules);
	free(paths);
	return status;
}
