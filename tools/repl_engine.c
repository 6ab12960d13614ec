/* repl_engine.c: the REPL's one door into libfixit's consultation API: questions of the kb,
 * answers and tried remedies, the diagnosis snapshot, the next question, and the explanations
 * (how, why, why not) rendered as text. Everything else in the REPL goes through these
 * functions, so a change of that API touches this file only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_explain.h"
#include "repl.h"

/* --- Questions ---------------------------------------------------------------------------------- */

size_t repl_engine_question_count(repl *r)
{
	return fx_kb_question_count(r->kb);
}

long repl_engine_question_find(repl *r, const char *id)
{
	return fx_kb_question_find(r->kb, id);
}

void repl_engine_question(repl *r, size_t q, const char **id, const char **text,
                          const char *const **answers, size_t *nanswers)
{
	fx_question_info info;

	memset(&info, 0, sizeof info);
	fx_kb_question_get(r->kb, q, &info);
	if (id)
		*id = info.id;
	if (text)
		*text = info.text;
	if (answers)
		*answers = info.answers;
	if (nanswers)
		*nanswers = info.nanswers;
}

int repl_engine_answer_ok(repl *r, size_t q, const char *a)
{
	const char *const *answers = NULL;
	size_t n = 0, i;

	if (strcmp(a, "unknown") == 0)
		return 1;
	repl_engine_question(r, q, NULL, NULL, &answers, &n);
	for (i = 0; i < n; i++)
		if (strcmp(answers[i], a) == 0)
			return 1;
	return 0;
}

int repl_engine_answer(repl *r, const char *q, const char *a)
{
	return fx_session_answer(r->s, q, a, NULL);
}

int repl_engine_unanswer(repl *r, const char *q)
{
	return fx_session_unanswer(r->s, q);
}

int repl_engine_tried(repl *r, const char *remedy)
{
	return fx_session_tried(r->s, remedy, NULL);
}

long repl_engine_next_question(repl *r)
{
	long q = -1;

	if (fx_session_next_question(r->s, &q, NULL) < 0)
		return -1;
	return q;
}

/* --- The diagnosis ------------------------------------------------------------------------------- */

static int copy_remedy(repl_rank_item *it, const fx_ranked_remedy *m, size_t rank)
{
	memset(it, 0, sizeof *it);
	it->id = repl_strdup(m->id ? m->id : "?");
	it->finding = m->finding ? repl_strdup(m->finding) : NULL;
	it->rank = rank;
	it->cf = m->certainty;
	it->score = m->score;
	it->cost = m->cost;
	it->tried = m->tried;
	return it->id && (!m->finding || it->finding) ? 0 : FX_ENOMEM;
}

int repl_engine_ranking(repl *r, repl_ranking *k)
{
	fx_diagnosis *d = NULL;
	size_t nf, nr, nt, i;
	int rc = fx_diagnosis_new(&d, r->s);

	if (rc < 0)
		return rc;
	nf = fx_diagnosis_finding_count(d);
	nr = fx_diagnosis_remedy_count(d);
	nt = fx_diagnosis_tried_count(d);
	k->findings = calloc(nf + 1, sizeof *k->findings);
	k->items = calloc(nr + nt + 1, sizeof *k->items);
	if (!k->findings || !k->items) {
		rc = FX_ENOMEM;
		goto done;
	}
	for (i = 0; i < nf; i++) {
		fx_finding f;
		if (fx_diagnosis_finding(d, i, &f) < 0)
			continue;
		k->findings[k->nfindings].id = repl_strdup(f.id ? f.id : "?");
		k->findings[k->nfindings].cf = f.certainty;
		if (!k->findings[k->nfindings++].id) {
			rc = FX_ENOMEM;
			goto done;
		}
	}
	for (i = 0; i < nr + nt; i++) {
		fx_ranked_remedy m;
		int got = i < nr ? fx_diagnosis_remedy(d, i, &m) : fx_diagnosis_tried(d, i - nr, &m);
		if (got < 0)
			continue;
		rc = copy_remedy(&k->items[k->nitems], &m, i < nr ? k->nitems + 1 : 0);
		k->nitems++;
		if (rc < 0)
			goto done;
	}
done:
	fx_diagnosis_free(d);
	return rc;
}

/* --- how ------------------------------------------------------------------------------------------
 * The tree is cli_explain's, shared with `fixit diagnose --explain`; the REPL gives it the
 * pasted texts that matches point into. */

/* The text of paste N from the log ("<paste N>" is the input label repl.c gives it), or NULL. */
static const char *paste_text(void *ud, const fx_text_origin *o, size_t *len)
{
	repl *r = ud;
	unsigned n = 0, want;
	size_t i;

	if (!o->input || sscanf(o->input, "<paste %u>", &want) != 1)
		return NULL;
	for (i = 0; i < r->nev; i++)
		if (r->ev[i].kind == REPL_EV_PASTE && ++n == want) {
			*len = strlen(r->ev[i].a);
			return r->ev[i].a;
		}
	return NULL;
}

int repl_engine_how(repl *r, const char *what)
{
	cli_explain h;
	fx_diagnosis *d = NULL;
	size_t i, found = 0;
	uint64_t id;
	char *end;
	int rc;

	cli_explain_init(&h, r->kb, r->s, stdout);
	h.color = r->color;
	h.text = paste_text;
	h.text_ud = r;
	if (what[0] == 'f' && what[1] == '-' && what[2]) {
		id = strtoull(what + 2, &end, 10);
		if (*end || fx_session_fact_template(r->s, id) < 0) {
			printf("There is no fact %s.\n", what);
			return 0;
		}
		cli_explain_fact(&h, id, 0);
		goto done;
	}
	rc = fx_diagnosis_new(&d, r->s);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "error: no diagnosis: %s\n", fx_strerror(rc));
		return rc == FX_ENOMEM ? rc : 0;
	}
	for (i = 0; i < fx_diagnosis_finding_count(d); i++) {
		fx_finding f;
		size_t j;
		if (fx_diagnosis_finding(d, i, &f) < 0 || strcmp(f.id, what) != 0)
			continue;
		printf("Finding %s%s%s%s%s%s, certainty %.2f:\n", repl_sgr(r, REPL_BOLD), f.id,
		       repl_sgr(r, REPL_RESET), f.title ? " (" : "", f.title ? f.title : "",
		       f.title ? ")" : "", f.certainty);
		for (j = 0; j < f.nfacts; j++)
			cli_explain_fact(&h, f.facts[j], 1);
		found++;
	}
	for (i = 0; i < fx_diagnosis_remedy_count(d) + fx_diagnosis_tried_count(d); i++) {
		fx_ranked_remedy m;
		size_t j, nr = fx_diagnosis_remedy_count(d);
		if ((i < nr ? fx_diagnosis_remedy(d, i, &m) : fx_diagnosis_tried(d, i - nr, &m)) < 0 ||
		    strcmp(m.id, what) != 0)
			continue;
		if (m.tried)
			printf("Remedy %s (tried without success):\n", m.id);
		else
			printf("Remedy %s%s%s, #%zu, certainty %.2f / cost %d = score %.3f:\n",
			       repl_sgr(r, REPL_BOLD), m.id, repl_sgr(r, REPL_RESET), i + 1, m.certainty,
			       m.cost, m.score);
		for (j = 0; j < m.nfacts; j++)
			cli_explain_fact(&h, m.facts[j], 1);
		found++;
	}
	if (!found)
		printf("%s is not concluded; 'whynot %s' tells why.\n", what, what);
done:
	fx_diagnosis_free(d);
	cli_explain_dispose(&h);
	return 0;
}

/* --- why, why not --------------------------------------------------------------------------------- */

static void rule_ref(repl *r, long rule)
{
	const char *file = NULL;
	unsigned line = 0, col = 0;

	if (rule < 0) {
		printf("?");
		return;
	}
	fx_kb_rule_pos(r->kb, (size_t)rule, &file, &line, &col);
	printf("%s (%s:%u)", fx_kb_rule_name(r->kb, (size_t)rule), file ? file : "<buffer>", line);
}

int repl_engine_why(repl *r, size_t q)
{
	const char *qid = NULL, *text = NULL;
	fx_why w;
	size_t i;
	int rc;

	repl_engine_question(r, q, &qid, &text, NULL, NULL);
	if (!qid)
		return 0;
	rc = fx_explain_why(r->s, qid, &w);
	if (rc < 0) {
		const fx_diag *e = fx_session_last_error(r->s);
		fflush(stdout);
		fprintf(stderr, "error: %s\n", e && e->message && *e->message ? e->message : fx_strerror(rc));
		return 0;
	}
	printf("fixit asks %s (\"%s\")\n", qid, text ? text : "");
	if (w.nask_rules == 0)
		printf("  no rule is asking it now.\n");
	for (i = 0; i < w.nask_rules; i++) {
		printf("  because rule ");
		rule_ref(r, w.ask_rules[i]);
		printf(" wants to know,\n");
	}
	if (w.nhyps)
		printf("and the answer decides:\n");
	for (i = 0; i < w.nhyps; i++) {
		const fx_hypothesis *y = &w.hyps[i];
		printf("  %s %s", y->remedy ? "remedy" : "finding", y->id);
		if (y->answer)
			printf(" if you answer %s", y->answer);
		printf(", by rule ");
		rule_ref(r, y->rule);
		putchar('\n');
	}
	return 0;
}

int repl_engine_whynot(repl *r, const char *what)
{
	fx_whynot w;
	size_t i;
	int rc = fx_explain_why_not(r->s, what, &w);

	if (rc < 0) {
		const fx_diag *e = fx_session_last_error(r->s);
		fflush(stdout);
		fprintf(stderr, "error: %s\n", e && e->message && *e->message ? e->message : fx_strerror(rc));
		return 0;
	}
	switch (w.kind) {
	case FX_WHYNOT_PRESENT:
		printf("%s is concluded; 'how %s' shows how.\n", what, what);
		break;
	case FX_WHYNOT_NO_RULE:
		printf("No rule concludes or recommends %s.\n", what);
		break;
	case FX_WHYNOT_PENDING:
		printf("Rule ");
		rule_ref(r, w.rule);
		printf(" would conclude %s: its conditions hold and it waits on the agenda ('run').\n",
		       what);
		break;
	case FX_WHYNOT_FAILED:
		printf("The closest rule to %s %s is ", w.remedy ? "recommending" : "concluding", what);
		rule_ref(r, w.rule);
		printf(":\n  %u of its %u conditions hold; condition %u fails, at %s:%u:%u.\n",
		       w.satisfied, w.total, w.cond + 1, w.file ? w.file : "<buffer>", w.line, w.col);
		if (w.cond_kind == FX_COND_NOT && w.nblocking) {
			printf("  It is a not, blocked by:\n");
			for (i = 0; i < w.nblocking; i++) {
				char buf[512];
				if (fx_session_fact_format(r->s, w.blocking[i], buf, sizeof buf) < 0)
					buf[0] = '\0';
				printf("    f-%" PRIu64 " %s\n", w.blocking[i], buf);
			}
		} else if (w.cond_kind == FX_COND_EXISTS) {
			printf("  It is an exists: no fact matches it.\n");
		}
		if (w.question >= 0) {
			const char *qid = NULL, *text = NULL;
			repl_engine_question(r, (size_t)w.question, &qid, &text, NULL, NULL);
			printf("  The answer to %s (\"%s\") decides it", qid ? qid : "?", text ? text : "");
			if (w.answer)
				printf(": answer %s", w.answer);
			printf(".\n");
		}
		break;
	}
	return 0;
}

/* --- Ids for completion ------------------------------------------------------------------------- */

typedef struct engine_state {
	char **ids;           /* finding ids of the last snapshot */
	size_t nids;
} engine_state;

void repl_engine_init(repl *r)
{
	(void)r;
}

void repl_engine_dispose(repl *r)
{
	engine_state *e = r->engine;
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nids; i++)
		free(e->ids[i]);
	free(e->ids);
	free(e);
	r->engine = NULL;
}

/* The n-th finding id of the diagnosis now; the list is taken afresh when n is 0. */
const char *repl_engine_finding_id(repl *r, size_t n)
{
	engine_state *e = r->engine;
	fx_diagnosis *d = NULL;
	size_t i, count;

	if (n == 0) {
		repl_engine_dispose(r);
		e = r->engine = calloc(1, sizeof *e);
		if (!e || fx_diagnosis_new(&d, r->s) < 0)
			return NULL;
		count = fx_diagnosis_finding_count(d);
		e->ids = calloc(count + 1, sizeof *e->ids);
		for (i = 0; e->ids && i < count; i++) {
			fx_finding f;
			if (fx_diagnosis_finding(d, i, &f) == 0 && (e->ids[e->nids] = repl_strdup(f.id)))
				e->nids++;
		}
		fx_diagnosis_free(d);
	}
	return e && n < e->nids ? e->ids[n] : NULL;
}
