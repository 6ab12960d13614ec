/* cli_graph.c: `fixit graph`: draws a knowledge base as a Graphviz DOT graph: text patterns ->
 * the facts they assert -> (rules, named on the edges) -> findings -> remedies, and questions
 * -> their answers -> the facts those assert. Built from the public summaries of rules
 * (fx_kb_rule_summary); which facts a pattern or an answer asserts is found by running its
 * examples, or the answer, in a scratch session. Output order follows the kb: deterministic. */
#include <stdlib.h>
#include <string.h>

#include "cli_kb.h"

enum node_kind { N_PATTERN, N_QUESTION, N_FACT, N_FINDING, N_REMEDY };

typedef struct node {
	enum node_kind kind;
	char *key;               /* unique: "finding:ID", "fact:TMPL(slot=value,...)"... */
	char *label;             /* as shown, lines separated by \n */
	/* N_FACT of a rule condition: what a fact needs to reach it (its constants); tmpl is NULL
	 * for other fact nodes, which nothing links to by matching */
	const char *tmpl;        /* borrowed from the kb */
	const char *const *slots;
	const fx_value *values;
	size_t nconst;
} node;

typedef struct edge {
	size_t from, to;
	char *label;             /* a rule id, an answer, or NULL */
	int dashed;              /* modify, or a pattern without examples */
} edge;

typedef struct graph {
	fx_kb *kb;
	fx_session *s;
	node *nodes;
	size_t nnodes;
	edge *edges;
	size_t nedges;
	int oom;
} graph;

/* --- Building ---------------------------------------------------------------------------- */

/* A value as text for keys and labels, into buf. */
static const char *value_text(const fx_value *v, char *buf, size_t size)
{
	switch (v->type) {
	case FX_SYMBOL:
	case FX_STRING:
		snprintf(buf, size, v->type == FX_STRING ? "\"%.*s\"" : "%.*s",
		         (int)(v->len > 200 ? 200 : v->len), v->u.text ? v->u.text : "");
		break;
	case FX_INTEGER:
		snprintf(buf, size, "%lld", (long long)v->u.i);
		break;
	case FX_FLOAT:
		snprintf(buf, size, "%g", v->u.f);
		break;
	case FX_BOOLEAN:
		snprintf(buf, size, "%s", v->u.b ? "true" : "false");
		break;
	default:
		snprintf(buf, size, "nil");
		break;
	}
	return buf;
}

static int value_eq(const fx_value *a, const fx_value *b)
{
	if ((a->type == FX_SYMBOL || a->type == FX_STRING) &&
	    (b->type == FX_SYMBOL || b->type == FX_STRING))
		return a->len == b->len && (a->len == 0 || memcmp(a->u.text, b->u.text, a->len) == 0);
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case FX_INTEGER:
		return a->u.i == b->u.i;
	case FX_FLOAT:
		return a->u.f == b->u.f;
	case FX_BOOLEAN:
		return a->u.b == b->u.b;
	default:
		return 1;
	}
}

static const fx_value *const_of(const char *const *slots, const fx_value *values, size_t n,
                                const char *slot)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(slots[i], slot) == 0)
			return &values[i];
	return NULL;
}

static size_t add_node(graph *g, enum node_kind kind, const char *key, const char *label)
{
	size_t i;
	node *q;

	for (i = 0; i < g->nnodes; i++)
		if (strcmp(g->nodes[i].key, key) == 0)
			return i;
	q = realloc(g->nodes, (g->nnodes + 1) * sizeof *q);
	if (!q) {
		g->oom = 1;
		return (size_t)-1;
	}
	g->nodes = q;
	q = &g->nodes[g->nnodes];
	memset(q, 0, sizeof *q);
	q->kind = kind;
	q->key = cli_strdup(key);
	q->label = cli_strdup(label);
	if (!q->key || !q->label) {
		free(q->key);
		free(q->label);
		g->oom = 1;
		return (size_t)-1;
	}
	return g->nnodes++;
}

static void add_edge(graph *g, size_t from, size_t to, const char *label, int dashed)
{
	size_t i;
	edge *q;

	if (from == (size_t)-1 || to == (size_t)-1)
		return;
	for (i = 0; i < g->nedges; i++)
		if (g->edges[i].from == from && g->edges[i].to == to &&
		    ((!label && !g->edges[i].label) ||
		     (label && g->edges[i].label && strcmp(label, g->edges[i].label) == 0)))
			return;
	q = realloc(g->edges, (g->nedges + 1) * sizeof *q);
	if (!q) {
		g->oom = 1;
		return;
	}
	g->edges = q;
	q = &g->edges[g->nedges];
	q->from = from;
	q->to = to;
	q->dashed = dashed;
	q->label = label ? cli_strdup(label) : NULL;
	if (label && !q->label) {
		g->oom = 1;
		return;
	}
	g->nedges++;
}

/* The node of a rule link: a finding, remedy or question by its id, else a fact node keyed by
 * the template and its constant slots (a finding or recommend without a constant id is a fact
 * node of that template too). */
static size_t link_node(graph *g, const char *tmpl, const char *const *slots,
                        const fx_value *values, size_t n)
{
	static const struct {
		const char *tmpl, *slot, *prefix;
		enum node_kind kind;
	} named[] = {{"finding", "id", "finding:", N_FINDING},
	             {"recommend", "remedy", "remedy:", N_REMEDY},
	             {"ask", "question", "question:", N_QUESTION}};
	char key[1024], label[1024], v[256];
	size_t i, k, kl = 0, ll = 0;

	for (k = 0; k < sizeof named / sizeof named[0]; k++) {
		const fx_value *id;
		if (strcmp(tmpl, named[k].tmpl) != 0 ||
		    !(id = const_of(slots, values, n, named[k].slot)) ||
		    (id->type != FX_SYMBOL && id->type != FX_STRING))
			continue;
		value_text(id, v, sizeof v);
		snprintf(key, sizeof key, "%s%s", named[k].prefix, v);
		return add_node(g, named[k].kind, key, v);
	}
	kl += (size_t)snprintf(key, sizeof key, "fact:%s(", tmpl);
	ll += (size_t)snprintf(label, sizeof label, "%s", tmpl);
	for (i = 0; i < n && kl < sizeof key && ll < sizeof label; i++) {
		value_text(&values[i], v, sizeof v);
		kl += (size_t)snprintf(key + kl, sizeof key - kl, "%s%s=%s", i ? "," : "", slots[i], v);
		ll += (size_t)snprintf(label + ll, sizeof label - ll, "\n%s: %s", slots[i], v);
	}
	if (kl < sizeof key)
		snprintf(key + kl, sizeof key - kl, ")");
	return add_node(g, N_FACT, key, label);
}

/* First pass: a node for every pattern of every rule condition, so that facts from patterns,
 * answers and actions can be linked to the conditions they satisfy. */
static void add_condition_nodes(graph *g)
{
	size_t i, k, n = fx_kb_rule_count(g->kb);

	for (i = 0; i < n; i++) {
		fx_rule_summary rs;
		if (fx_kb_rule_summary(g->kb, i, &rs) != 0)
			continue;
		for (k = 0; k < rs.nconds; k++) {
			const fx_rule_link *l = &rs.conds[k];
			size_t d;
			if (l->kind == FX_LINK_NOT)
				continue;
			d = link_node(g, l->tmpl, l->slots, l->values, l->nconst);
			if (d != (size_t)-1 && g->nodes[d].kind == N_FACT && !g->nodes[d].tmpl) {
				g->nodes[d].tmpl = l->tmpl;
				g->nodes[d].slots = l->slots;
				g->nodes[d].values = l->values;
				g->nodes[d].nconst = l->nconst;
			}
		}
	}
}

/* Links `from` to every condition node a fact of template tmpl satisfies; value(slot) gives the
 * fact's slot values (NULL: not known, taken as satisfied). Returns how many it linked. */
typedef const fx_value *(*value_fn)(void *ud, const char *slot, fx_value *tmp);

static size_t link_to_conditions(graph *g, size_t from, const char *tmpl, value_fn value,
                                 void *ud, const char *label, int dashed)
{
	size_t i, k, linked = 0, nn = g->nnodes;

	for (i = 0; i < nn; i++) {
		const node *d = &g->nodes[i];
		int ok = d->kind == N_FACT && d->tmpl && strcmp(d->tmpl, tmpl) == 0;
		for (k = 0; ok && k < d->nconst; k++) {
			fx_value tmp;
			const fx_value *v = value(ud, d->slots[k], &tmp);
			ok = !v || value_eq(v, &d->values[k]);
		}
		if (ok && i != from) {
			add_edge(g, from, i, label, dashed);
			linked++;
		}
	}
	return linked;
}

/* A fact of the scratch session as a value source. */
typedef struct fact_ref {
	graph *g;
	uint64_t id;
	long tmpl;
} fact_ref;

static const fx_value *fact_value(void *ud, const char *slot, fx_value *tmp)
{
	fact_ref *f = ud;
	size_t i, n = fx_kb_template_slot_count(f->g->kb, (size_t)f->tmpl);

	for (i = 0; i < n; i++)
		if (strcmp(fx_kb_template_slot_name(f->g->kb, (size_t)f->tmpl, i), slot) == 0)
			return fx_session_fact_slot(f->g->s, f->id, i, tmp) == 0 ? tmp : NULL;
	return NULL;
}

/* Every fact in the scratch session newer than `after` that matches `want`: linked from node
 * `from` to the conditions it satisfies, or to a node of its own template. want: a pattern id
 * (facts from that pattern) or NULL (any fact). */
static void link_new_facts(graph *g, size_t from, uint64_t after, const char *want)
{
	uint64_t id = after;

	while (fx_session_fact_next(g->s, id, &id)) {
		fact_ref f = {g, id, fx_session_fact_template(g->s, id)};
		const char *tmpl;
		if (f.tmpl < 0)
			continue;
		if (want) {
			fx_text_origin o;
			if (fx_text_origin_get(g->s, id, &o) != 1 || !o.pattern ||
			    strcmp(o.pattern, want) != 0)
				continue;
		}
		tmpl = fx_kb_template_name(g->kb, (size_t)f.tmpl);
		if (link_to_conditions(g, from, tmpl, fact_value, &f, NULL, 0) == 0)
			add_edge(g, from, link_node(g, tmpl, NULL, NULL, 0), NULL, 0);
	}
}

/* The last fact id of the scratch session after a reset (its initial facts). */
static uint64_t last_fact(const graph *g)
{
	uint64_t id = 0, last = 0;

	while (fx_session_fact_next(g->s, id, &id))
		last = id;
	return last;
}

static void add_patterns(graph *g)
{
	size_t i, k, n = fx_kb_pattern_count(g->kb);
	char key[512];

	for (i = 0; i < n; i++) {
		fx_pattern_info pi;
		size_t p;
		if (fx_kb_pattern_get(g->kb, i, &pi) != 0)
			continue;
		snprintf(key, sizeof key, "pattern:%s", pi.id);
		p = add_node(g, N_PATTERN, key, pi.id);
		for (k = 0; k < pi.nexamples; k++) {
			uint64_t base;
			if (fx_session_reset(g->s) != 0)
				continue;
			base = last_fact(g);
			if (fx_text_assert(g->s, pi.examples[k].text, pi.examples[k].len, NULL, NULL) == 0)
				link_new_facts(g, p, base, pi.id);
		}
		/* Without examples, only the templates it asserts are known. */
		if (pi.nexamples == 0)
			for (k = 0; k < pi.nasserts; k++)
				add_edge(g, p, link_node(g, pi.asserts[k], NULL, NULL, 0), NULL, 1);
	}
}

static void add_questions(graph *g)
{
	size_t i, k, n = fx_kb_question_count(g->kb);
	char key[512];

	for (i = 0; i < n; i++) {
		fx_question_info qi;
		size_t q;
		if (fx_kb_question_get(g->kb, i, &qi) != 0)
			continue;
		snprintf(key, sizeof key, "question:%s", qi.id);
		q = add_node(g, N_QUESTION, key, qi.id);
		for (k = 0; k < qi.nanswers; k++) {
			uint64_t base, aid = 0;
			fx_value v[2];
			const char *slots[2] = {"question", "value"};
			size_t a;
			if (fx_session_reset(g->s) != 0)
				continue;
			base = last_fact(g);
			if (fx_session_answer(g->s, qi.id, qi.answers[k], &aid) != 0)
				continue;
			v[0] = fx_value_symbol(qi.id);
			v[1] = fx_value_symbol(qi.answers[k]);
			a = link_node(g, "answer", slots, v, 2);
			add_edge(g, q, a, qi.answers[k], 0);
			link_new_facts(g, a, base > aid ? base : aid, NULL);
		}
	}
}

/* A rule action's constants as a value source. */
typedef struct act_ref {
	const fx_rule_link *act;
} act_ref;

static const fx_value *act_value(void *ud, const char *slot, fx_value *tmp)
{
	act_ref *r = ud;

	(void)tmp;
	return const_of(r->act->slots, r->act->values, r->act->nconst, slot);
}

static void add_rules(graph *g)
{
	size_t i, k, j, n = fx_kb_rule_count(g->kb);

	for (i = 0; i < n; i++) {
		fx_rule_summary rs;
		const char *rule = fx_kb_rule_name(g->kb, i);
		if (fx_kb_rule_summary(g->kb, i, &rs) != 0)
			continue;
		for (k = 0; k < rs.nacts; k++) {
			const fx_rule_link *act = &rs.acts[k];
			const fx_value *fin = strcmp(act->tmpl, "recommend") == 0
			                          ? const_of(act->slots, act->values, act->nconst, "finding")
			                          : NULL;
			size_t to;
			int dashed = act->kind == FX_LINK_MODIFY;
			if (fin && (fin->type == FX_SYMBOL || fin->type == FX_STRING) &&
			    !(fin->len == 3 && memcmp(fin->u.text, "nil", 3) == 0)) {
				/* A remedy for a finding: from the finding, which the rule concludes or
				 * tests. */
				const char *slot = "id";
				size_t f = link_node(g, "finding", &slot, fin, 1);
				add_edge(g, f, link_node(g, act->tmpl, act->slots, act->values, act->nconst),
				         rule, 0);
				continue;
			}
			if (strcmp(act->tmpl, "finding") == 0 || strcmp(act->tmpl, "recommend") == 0 ||
			    strcmp(act->tmpl, "ask") == 0) {
				to = link_node(g, act->tmpl, act->slots, act->values, act->nconst);
				for (j = 0; j < rs.nconds; j++)
					if (rs.conds[j].kind != FX_LINK_NOT)
						add_edge(g,
						         link_node(g, rs.conds[j].tmpl, rs.conds[j].slots,
						                   rs.conds[j].values, rs.conds[j].nconst),
						         to, rule, dashed);
				continue;
			}
			/* Any other fact: to the conditions it can satisfy (or its own node). */
			for (j = 0; j < rs.nconds; j++) {
				act_ref r = {act};
				size_t from;
				if (rs.conds[j].kind == FX_LINK_NOT)
					continue;
				from = link_node(g, rs.conds[j].tmpl, rs.conds[j].slots, rs.conds[j].values,
				                 rs.conds[j].nconst);
				if (link_to_conditions(g, from, act->tmpl, act_value, &r, rule, dashed) == 0)
					add_edge(g, from,
					         link_node(g, act->tmpl, act->slots, act->values, act->nconst),
					         rule, dashed);
			}
		}
	}
}

/* --- Output ------------------------------------------------------------------------------ */

/* A DOT quoted string: quotes and backslashes escaped, line breaks as \n (centered lines). */
static void put_quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if (*s == '\n') {
			fputs("\\n", stdout);
			continue;
		}
		putchar(*s);
	}
	putchar('"');
}

static int node_order(const void *a, const void *b)
{
	const node *x = *(const node *const *)a, *y = *(const node *const *)b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return strcmp(x->key, y->key);
}

static void print_dot(const graph *g)
{
	static const char *const style[] = {
		"shape=note, style=filled, fillcolor=\"#e8f0fe\"",
		"shape=diamond, style=filled, fillcolor=\"#fff4e0\"",
		"shape=ellipse",
		"shape=box, style=\"rounded,filled\", fillcolor=\"#fde8e8\"",
		"shape=box, style=filled, fillcolor=\"#e6f4ea\""};
	static const char *const title[] = {"text patterns", "questions", "facts", "findings",
	                                    "remedies"};
	const node **order = calloc(g->nnodes + 1, sizeof *order);
	size_t i;
	int kind = -1;

	if (!order)
		return;
	for (i = 0; i < g->nnodes; i++)
		order[i] = &g->nodes[i];
	if (g->nnodes)
		qsort(order, g->nnodes, sizeof *order, node_order);
	puts("digraph fixit {");
	puts("\trankdir=LR;");
	puts("\tnode [fontname=\"Helvetica\", fontsize=10];");
	puts("\tedge [fontname=\"Helvetica\", fontsize=8];");
	for (i = 0; i < g->nnodes; i++) {
		const node *n = order[i];
		if ((int)n->kind != kind) {
			kind = (int)n->kind;
			printf("\t/* %s */\n", title[kind]);
		}
		putchar('\t');
		put_quoted(n->key);
		printf(" [%s, label=", style[n->kind]);
		put_quoted(n->label);
		puts("];");
	}
	puts("\t/* edges: rule ids on the edges they draw */");
	for (i = 0; i < g->nedges; i++) {
		const edge *e = &g->edges[i];
		putchar('\t');
		put_quoted(g->nodes[e->from].key);
		fputs(" -> ", stdout);
		put_quoted(g->nodes[e->to].key);
		if (e->label || e->dashed) {
			fputs(" [", stdout);
			if (e->label) {
				fputs("label=", stdout);
				put_quoted(e->label);
			}
			if (e->dashed)
				fputs(e->label ? ", style=dashed" : "style=dashed", stdout);
			putchar(']');
		}
		puts(";");
	}
	puts("}");
	free(order);
}

/* --- The command ------------------------------------------------------------------------- */

int cli_graph_main(const cli_command *cmd, int argc, char **argv)
{
	graph g;
	cli_args a;
	cli_kb_opts ko;
	const char **paths = calloc((size_t)argc + 1, sizeof *paths);
	size_t npaths = 0, i;
	int key, status = CLI_EXIT_OK;

	memset(&g, 0, sizeof g);
	if (!paths) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
		case 'r':
			paths[npaths++] = a.value;
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	memset(&ko, 0, sizeof ko);
	ko.rules = paths;
	ko.nrules = npaths;
	status = cli_kb_load(&g.kb, &ko, NULL);
	if (status != CLI_EXIT_OK)
		goto done;
	if (fx_session_new(&g.s, g.kb) < 0) {
		cli_error("cannot start a session: %s", fx_strerror(FX_ENOMEM));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	fx_session_set_warn(g.s, NULL, NULL);
	add_condition_nodes(&g);
	add_patterns(&g);
	add_questions(&g);
	add_rules(&g);
	if (g.oom) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	print_dot(&g);
done:
	for (i = 0; i < g.nnodes; i++) {
		free(g.nodes[i].key);
		free(g.nodes[i].label);
	}
	for (i = 0; i < g.nedges; i++)
		free(g.edges[i].label);
	free(g.nodes);
	free(g.edges);
	fx_session_free(g.s);
	fx_kb_free(g.kb);
	free(paths);
	return status;
}
