/* repl_engine.c: the REPL's one door into libfixit's consultation API: questions of the kb,
 * answers and tried remedies, the diagnosis snapshot, the next question, and the explanations
 * (how, why, why not) rendered as text. Everything else in the REPL goes through these
 * functions, so a change of that API touches this file only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "repl.h"

/* A derivation deeper than this is cut (rules feeding rules rarely go past 5). */
#define HOW_MAX_DEPTH 12
/* Bytes of a pasted line shown on either side of a match. */
#define HOW_CONTEXT 60

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

/* --- how ------------------------------------------------------------------------------------------ */

typedef struct how_ctx {
	repl *r;
	uint64_t *seen;       /* facts already explained above: shown once, then referred to */
	size_t nseen, cseen;
	repl_sbuf text;       /* fact texts */
} how_ctx;

static int seen(how_ctx *h, uint64_t id)
{
	size_t i;

	for (i = 0; i < h->nseen; i++)
		if (h->seen[i] == id)
			return 1;
	if (h->nseen == h->cseen) {
		size_t cap = h->cseen ? h->cseen * 2 : 32;
		uint64_t *p = realloc(h->seen, cap * sizeof *p);
		if (!p)
			return 0;
		h->seen = p;
		h->cseen = cap;
	}
	h->seen[h->nseen++] = id;
	return 0;
}

static const char *how_fact_text(how_ctx *h, uint64_t id)
{
	return repl_fact_text(h->r->s, &h->text, id);
}

static void indent(int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		fputs("  ", stdout);
}

/* The text of paste N from the log, or NULL. */
static const char *paste_text(repl *r, const char *label)
{
	unsigned n = 0, want;
	size_t i;

	if (!label || sscanf(label, "<paste %u>", &want) != 1)
		return NULL;
	for (i = 0; i < r->nev; i++)
		if (r->ev[i].kind == REPL_EV_PASTE && ++n == want)
			return r->ev[i].a;
	return NULL;
}

/* The line of the paste holding bytes [start, end), with the match highlighted (bold yellow on
 * a colour terminal, a caret line under it otherwise). */
static void show_span(repl *r, const char *text, size_t start, size_t end, int depth)
{
	size_t len = strlen(text), ls, le, from, to, i;

	if (start > len)
		start = len;
	if (end > len || end < start)
		end = len;
	for (ls = start; ls > 0 && text[ls - 1] != '\n'; ls--)
		;
	for (le = start; le < len && text[le] != '\n'; le++)
		;
	if (end > le)
		end = le;
	from = start - ls > HOW_CONTEXT ? start - HOW_CONTEXT : ls;
	to = le - end > HOW_CONTEXT ? end + HOW_CONTEXT : le;
	indent(depth);
	printf("| %s%.*s%s%.*s%s%.*s%s\n", from > ls ? "..." : "", (int)(start - from), text + from,
	       repl_sgr(r, REPL_YELLOW), (int)(end - start), text + start, repl_sgr(r, REPL_RESET),
	       (int)(to - end), text + end, to < le ? "..." : "");
	if (r->color)
		return;
	indent(depth);
	printf("| %s", from > ls ? "   " : "");
	for (i = from; i < start; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			putchar(text[i] == '\t' ? '\t' : ' ');
	putchar('^');
	for (i = start + 1; i < end; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			putchar('~');
	putchar('\n');
}

static void rule_line(repl *r, long rule, int depth)
{
	const char *file = NULL, *because;
	unsigned line = 0, col = 0;

	fx_kb_rule_pos(r->kb, (size_t)rule, &file, &line, &col);
	indent(depth);
	printf("<- rule %s%s%s (%s:%u)\n", repl_sgr(r, REPL_BOLD), fx_kb_rule_name(r->kb, (size_t)rule),
	       repl_sgr(r, REPL_RESET), file ? file : "<buffer>", line);
	because = fx_kb_rule_because(r->kb, (size_t)rule);
	if (because) {
		indent(depth + 1);
		printf("because: %s\n", because);
	}
}

static void how_fact(how_ctx *h, uint64_t id, int depth)
{
	repl *r = h->r;
	size_t i, j, n;
	fx_text_origin o;

	indent(depth);
	printf("f-%" PRIu64 " %s", id, how_fact_text(h, id));
	if (seen(h, id)) {
		printf(" (see above)\n");
		return;
	}
	putchar('\n');
	if (depth >= HOW_MAX_DEPTH) {
		indent(depth + 1);
		printf("...\n");
		return;
	}
	n = fx_explain_support_count(r->s, id);
	for (i = 0; i < n; i++) {
		fx_support sp;
		uint64_t *facts;
		unsigned char *witness;
		size_t nfacts;
		if (fx_explain_support(r->s, id, i, &sp) < 0)
			continue;
		switch (sp.kind) {
		case FX_SUPPORT_RULE:
			rule_line(r, sp.rule, depth + 1);
			/* The borrowed list lasts until working memory changes; recursion does not
			 * change it, but copy it anyway: the next support call may reuse it. */
			nfacts = sp.nfacts;
			facts = nfacts ? malloc(nfacts * (sizeof *facts + 1)) : NULL;
			if (nfacts && !facts)
				break;
			/* One block: the fact ids, then a witness flag per fact (both borrowed lists
			 * are reused by the next support call, which the recursion makes). */
			witness = nfacts ? (unsigned char *)(facts + nfacts) : NULL;
			for (j = 0; j < nfacts; j++) {
				facts[j] = sp.facts[j];
				witness[j] = sp.witness ? sp.witness[j] != 0 : 0;
			}
			for (j = 0; j < nfacts; j++) {
				if (witness[j]) {
					indent(depth + 2);
					printf("(a fact that satisfies an exists condition:)\n");
				}
				how_fact(h, facts[j], depth + 2);
			}
			free(facts);
			break;
		case FX_SUPPORT_ANSWER: {
			const char *qid = NULL;
			if (sp.question >= 0)
				repl_engine_question(r, (size_t)sp.question, &qid, NULL, NULL, NULL);
			indent(depth + 1);
			printf("<- your answer to %s\n", qid ? qid : "a question");
			break;
		}
		case FX_SUPPORT_USER:
			indent(depth + 1);
			printf("<- asserted by you\n");
			break;
		case FX_SUPPORT_INITIAL:
			indent(depth + 1);
			printf("<- an initial fact of the knowledge base\n");
			break;
		case FX_SUPPORT_TEXT:
			if (fx_text_origin_get(r->s, id, &o) == 1) {
				const char *text = paste_text(r, o.input);
				indent(depth + 1);
				printf("<- pattern %s matched %s, bytes %zu-%zu:\n", o.pattern ? o.pattern : "?",
				       o.input ? o.input : "the text", o.start, o.end);
				if (text)
					show_span(r, text, o.start, o.end, depth + 2);
			}
			break;
		}
	}
}

int repl_engine_how(repl *r, const char *what)
{
	how_ctx h;
	fx_diagnosis *d = NULL;
	size_t i, found = 0;
	uint64_t id;
	char *end;
	int rc;

	memset(&h, 0, sizeof h);
	h.r = r;
	if (what[0] == 'f' && what[1] == '-' && what[2]) {
		id = strtoull(what + 2, &end, 10);
		if (*end || fx_session_fact_template(r->s, id) < 0) {
			printf("There is no fact %s.\n", what);
			return 0;
		}
		how_fact(&h, id, 0);
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
		printf("Finding %s%s%s, certainty %.2f:\n", repl_sgr(r, REPL_BOLD), f.id,
		       repl_sgr(r, REPL_RESET), f.certainty);
		for (j = 0; j < f.nfacts; j++)
			how_fact(&h, f.facts[j], 1);
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
			how_fact(&h, m.facts[j], 1);
		found++;
	}
	if (!found)
		printf("%s is not concluded; 'whynot %s' tells why.\n", what, what);
done:
	fx_diagnosis_free(d);
	free(h.seen);
	free(h.text.p);
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
