/* cli_explain.c: one walk of the library's explanations (fx_explain_support, fx_text_origin_get)
 * from a fact down to the text it came from, rendered three ways: the indented tree of the
 * REPL's `how` and of `fixit diagnose --explain`, nested JSON objects, and a DOT digraph.
 *
 * A support's fact list is borrowed from the session until the next fx_explain_support call,
 * which the recursion makes at once: every walk copies it first. Facts form a DAG (one fact may
 * feed several rules), so each renderer remembers what it showed and shows it once. Anything
 * from the text (matched spans, captured values in a fact's text) is escaped before it reaches
 * a terminal, and made valid UTF-8 before it reaches JSON or DOT. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_explain.h"
#include "cli_sbuf.h"

/* A derivation deeper than this is cut (rules feeding rules rarely go past 5). */
#define MAX_DEPTH 12
/* Bytes of the matched line shown on either side of a match; bytes of a match shown in DOT. */
#define CONTEXT 60
#define DOT_SPAN 60

#define BOLD "\033[1m"
#define YELLOW "\033[1;33m"
#define RESET "\033[0m"

/* --- Small tools ------------------------------------------------------------------------------- */

/* p[0, n) as valid UTF-8: each byte of no well-formed sequence becomes U+FFFD. */
static void utf8_add(cli_sbuf *b, const char *p, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = cli_utf8_seq((const unsigned char *)p + i, n - i, &cp);
		if (k) {
			cli_sb_add(b, p + i, k);
			i += k;
		} else {
			cli_sb_add(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

static const char *sgr(const cli_explain *e, const char *seq)
{
	return e->color ? seq : "";
}

/* The fact's text as fx_session_fact_format writes it (raw bytes), into b. 0 or -1. */
static int fact_raw(const cli_explain *e, uint64_t id, cli_sbuf *b)
{
	int n;

	b->len = 0;
	if (cli_sb_reserve(b, 255) < 0)
		return -1;
	n = fx_session_fact_format(e->s, id, b->p, b->cap);
	if (n >= 0 && (size_t)n >= b->cap) {
		if (cli_sb_reserve(b, (size_t)n) < 0)
			return -1;
		n = fx_session_fact_format(e->s, id, b->p, b->cap);
	}
	if (n < 0 || (size_t)n >= b->cap)
		return -1;
	b->len = (size_t)n;
	return 0;
}

/* One support with its fact list and witness flags copied out of the session's scratch. */
typedef struct support {
	fx_support sp;
	uint64_t *facts;
	unsigned char *witness;
} support;

static int support_get(const cli_explain *e, uint64_t id, size_t i, support *out)
{
	size_t j, n;

	int rc;

	memset(out, 0, sizeof *out);
	rc = fx_explain_support(e->s, id, i, &out->sp);
	/* Out of memory for the witnesses still gives the rule's own facts. */
	if (rc < 0 && rc != FX_ENOMEM)
		return -1;
	n = out->sp.facts ? out->sp.nfacts : 0;
	out->sp.nfacts = n;
	if (n == 0)
		return 0;
	/* One block: the ids, then a flag a fact. */
	out->facts = malloc(n * (sizeof *out->facts + 1));
	if (!out->facts)
		return -1;
	out->witness = (unsigned char *)(out->facts + n);
	for (j = 0; j < n; j++) {
		out->facts[j] = out->sp.facts[j];
		out->witness[j] = out->sp.witness ? out->sp.witness[j] != 0 : 0;
	}
	return 0;
}

/* Line (in the input) of byte `at` of the text o points into. */
static uint64_t match_line(const cli_explain *e, const fx_text_origin *o)
{
	size_t len = 0, i;
	const char *t = e->text ? e->text(e->text_ud, o, &len) : NULL;
	uint64_t line = o->line;

	if (!t || line == 0)
		return line;
	for (i = 0; i < o->start && i < len; i++)
		line += t[i] == '\n';
	return line;
}

static int seen(cli_explain *e, uint64_t id)
{
	size_t i;

	for (i = 0; i < e->nseen; i++)
		if (e->seen[i] == id)
			return 1;
	if (e->nseen == e->cseen) {
		size_t cap = e->cseen ? e->cseen * 2 : 32;
		uint64_t *p = realloc(e->seen, cap * sizeof *p);
		if (!p)
			return 0; /* shown again rather than lost */
		e->seen = p;
		e->cseen = cap;
	}
	e->seen[e->nseen++] = id;
	return 0;
}

void cli_explain_init(cli_explain *e, const fx_kb *kb, const fx_session *s, FILE *out)
{
	memset(e, 0, sizeof *e);
	e->s = s;
	e->kb = kb;
	e->out = out;
}

void cli_explain_dispose(cli_explain *e)
{
	free(e->seen);
	free(e->buf);
	e->seen = NULL;
	e->buf = NULL;
	e->nseen = e->cseen = e->cap = 0;
}

void cli_explain_forget(cli_explain *e)
{
	e->nseen = 0;
}

/* --- The tree ---------------------------------------------------------------------------------- */

static void indent(const cli_explain *e, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		fputs("  ", e->out);
}

/* The fact's text escaped for a terminal, in e->buf (valid until the next call). */
static const char *fact_text(cli_explain *e, uint64_t id)
{
	cli_sbuf raw = {0}, b = {e->buf, 0, e->cap, 0};
	size_t col = 0;

	if (fact_raw(e, id, &raw) < 0) {
		free(raw.p);
		return "(?)";
	}
	cli_sb_add_escaped(&b, raw.p, raw.len, &col);
	cli_sb_add(&b, "", 0);
	free(raw.p);
	e->buf = b.p;
	e->cap = b.cap;
	return b.oom ? "(out of memory)" : b.p;
}

/* Start of the character holding byte i, so that a cut never splits one. */
static size_t char_start(const char *t, size_t i)
{
	while (i > 0 && ((unsigned char)t[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The line of the text holding bytes [start, end), at most CONTEXT bytes each side, the match
 * in bold yellow on a colour terminal and marked by carets on the next line otherwise. */
static void show_span(cli_explain *e, const char *t, size_t len, size_t start, size_t end,
                      int depth)
{
	size_t ls, le, from, to, col = 0, span0, span1, i;
	cli_sbuf l = {0}, k = {0};

	if (start > len)
		start = len;
	if (end > len || end < start)
		end = len;
	for (ls = start; ls > 0 && t[ls - 1] != '\n'; ls--)
		;
	for (le = start; le < len && t[le] != '\n'; le++)
		;
	if (end > le)
		end = le;
	from = start - ls > CONTEXT ? char_start(t, start - CONTEXT) : ls;
	to = le - end > CONTEXT ? char_start(t, end + CONTEXT) : le;
	if (from < ls)
		from = ls;
	if (to < end)
		to = end;
	cli_sb_add(&l, "", 0);
	if (from > ls) {
		cli_sb_add(&l, "...", 3);
		cli_sb_add(&k, "   ", 3);
	}
	cli_sb_add_escaped(&l, t + from, start - from, &col);
	span0 = col;
	cli_sb_adds(&l, sgr(e, YELLOW));
	cli_sb_add_escaped(&l, t + start, end - start, &col);
	span1 = col;
	cli_sb_adds(&l, sgr(e, RESET));
	cli_sb_add_escaped(&l, t + end, to - end, &col);
	if (to < le)
		cli_sb_add(&l, "...", 3);
	indent(e, depth);
	fprintf(e->out, "| %s\n", l.oom ? "(out of memory)" : l.p);
	if (!e->color) {
		for (i = 0; i < span0; i++)
			cli_sb_add(&k, " ", 1);
		cli_sb_add(&k, "^", 1);
		for (i = span0 + 1; i < span1; i++)
			cli_sb_add(&k, "~", 1);
		indent(e, depth);
		fprintf(e->out, "| %s\n", k.oom ? "" : k.p);
	}
	free(l.p);
	free(k.p);
}

static void rule_line(cli_explain *e, long rule, int depth)
{
	const char *file = NULL, *because;
	unsigned line = 0, col = 0;

	indent(e, depth);
	if (rule < 0) {
		fputs("<- a rule without logical: (not recorded)\n", e->out);
		return;
	}
	fx_kb_rule_pos(e->kb, (size_t)rule, &file, &line, &col);
	fprintf(e->out, "<- rule %s%s%s (%s:%u)\n", sgr(e, BOLD), fx_kb_rule_name(e->kb, (size_t)rule),
	        sgr(e, RESET), file ? file : "<buffer>", line);
	because = fx_kb_rule_because(e->kb, (size_t)rule);
	if (because) {
		indent(e, depth + 1);
		fprintf(e->out, "because: %s\n", because);
	}
}

static void text_line(cli_explain *e, uint64_t id, int depth)
{
	fx_text_origin o;
	const char *t;
	size_t len = 0;

	if (fx_text_origin_get(e->s, id, &o) != 1)
		return;
	indent(e, depth);
	fprintf(e->out, "<- pattern %s matched %s", o.pattern ? o.pattern : "?",
	        o.input ? o.input : "the text");
	if (e->lines && o.line)
		fprintf(e->out, ":%" PRIu64, match_line(e, &o));
	fprintf(e->out, ", bytes %zu-%zu:\n", o.start, o.end);
	t = e->text ? e->text(e->text_ud, &o, &len) : NULL;
	if (t)
		show_span(e, t, len, o.start, o.end, depth + 1);
}

void cli_explain_fact(cli_explain *e, uint64_t id, int depth)
{
	size_t i, j, n;

	indent(e, depth);
	fprintf(e->out, "f-%" PRIu64 " %s", id, fact_text(e, id));
	if (seen(e, id)) {
		fputs(" (see above)\n", e->out);
		return;
	}
	fputc('\n', e->out);
	if (depth >= MAX_DEPTH) {
		indent(e, depth + 1);
		fputs("...\n", e->out);
		return;
	}
	n = fx_explain_support_count(e->s, id);
	for (i = 0; i < n; i++) {
		support sp;
		if (support_get(e, id, i, &sp) < 0)
			continue;
		switch (sp.sp.kind) {
		case FX_SUPPORT_RULE:
			rule_line(e, sp.sp.rule, depth + 1);
			for (j = 0; j < sp.sp.nfacts; j++) {
				if (sp.witness[j]) {
					indent(e, depth + 2);
					fputs("(found by its `exists` condition:)\n", e->out);
				}
				cli_explain_fact(e, sp.facts[j], depth + 2);
			}
			break;
		case FX_SUPPORT_ANSWER: {
			fx_question_info q;
			memset(&q, 0, sizeof q);
			if (sp.sp.question >= 0)
				fx_kb_question_get(e->kb, (size_t)sp.sp.question, &q);
			indent(e, depth + 1);
			fprintf(e->out, "<- your answer to %s\n", q.id ? q.id : "a question");
			break;
		}
		case FX_SUPPORT_USER:
			indent(e, depth + 1);
			fputs("<- asserted by you\n", e->out);
			break;
		case FX_SUPPORT_INITIAL:
			indent(e, depth + 1);
			fputs("<- an initial fact of the knowledge base\n", e->out);
			break;
		case FX_SUPPORT_TEXT:
			text_line(e, id, depth + 1);
			break;
		}
		free(sp.facts);
	}
}

/* --- JSON -------------------------------------------------------------------------------------- */

/* Builders that remember a failure in *oom instead of checking at each call. */
static void jset(int *oom, json_t *o, const char *key, json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v) != 0)
		*oom = 1;
}

static void jpush(int *oom, json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) != 0)
		*oom = 1;
}

static json_t *jbytes(const char *p, size_t n)
{
	cli_sbuf b = {0};
	json_t *j;

	cli_sb_add(&b, "", 0);
	utf8_add(&b, p, n);
	j = b.oom ? NULL : json_stringn(b.p, b.len);
	free(b.p);
	return j;
}

static json_t *jstr(const char *s)
{
	return s ? jbytes(s, strlen(s)) : json_null();
}

static json_t *fact_json(cli_explain *e, uint64_t id, int depth, int *oom);

static json_t *origin_json(cli_explain *e, uint64_t id, const support *sp, int depth, int *oom)
{
	json_t *o = json_object(), *a;
	size_t j;

	switch (sp->sp.kind) {
	case FX_SUPPORT_RULE: {
		const char *file = NULL;
		unsigned line = 0, col = 0;
		jset(oom, o, "kind", json_string("rule"));
		if (sp->sp.rule < 0) {
			jset(oom, o, "rule", json_null());
			break;
		}
		fx_kb_rule_pos(e->kb, (size_t)sp->sp.rule, &file, &line, &col);
		jset(oom, o, "rule", jstr(fx_kb_rule_name(e->kb, (size_t)sp->sp.rule)));
		jset(oom, o, "file", jstr(file));
		jset(oom, o, "line", json_integer(line));
		jset(oom, o, "because", jstr(fx_kb_rule_because(e->kb, (size_t)sp->sp.rule)));
		jset(oom, o, "facts", a = json_array());
		for (j = 0; a && j < sp->sp.nfacts; j++) {
			json_t *f = fact_json(e, sp->facts[j], depth + 1, oom);
			if (f && sp->witness[j])
				jset(oom, f, "witness", json_true());
			jpush(oom, a, f);
		}
		break;
	}
	case FX_SUPPORT_ANSWER: {
		fx_question_info q;
		memset(&q, 0, sizeof q);
		if (sp->sp.question >= 0)
			fx_kb_question_get(e->kb, (size_t)sp->sp.question, &q);
		jset(oom, o, "kind", json_string("answer"));
		jset(oom, o, "question", jstr(q.id));
		break;
	}
	case FX_SUPPORT_USER:
		jset(oom, o, "kind", json_string("user"));
		break;
	case FX_SUPPORT_INITIAL:
		jset(oom, o, "kind", json_string("initial"));
		break;
	case FX_SUPPORT_TEXT: {
		fx_text_origin to;
		const char *t;
		size_t len = 0;
		jset(oom, o, "kind", json_string("text"));
		if (fx_text_origin_get(e->s, id, &to) != 1)
			break;
		jset(oom, o, "pattern", jstr(to.pattern));
		jset(oom, o, "input", jstr(to.input));
		jset(oom, o, "line", json_integer((json_int_t)match_line(e, &to)));
		jset(oom, o, "start", json_integer((json_int_t)to.start));
		jset(oom, o, "end", json_integer((json_int_t)to.end));
		t = e->text ? e->text(e->text_ud, &to, &len) : NULL;
		if (t && to.start <= to.end && to.end <= len)
			jset(oom, o, "text", jbytes(t + to.start, to.end - to.start));
		break;
	}
	}
	return o;
}

static json_t *fact_json(cli_explain *e, uint64_t id, int depth, int *oom)
{
	json_t *o = json_object(), *a;
	cli_sbuf raw = {0};
	size_t i, n;

	if (!o) {
		*oom = 1;
		return NULL;
	}
	jset(oom, o, "id", json_integer((json_int_t)id));
	if (fact_raw(e, id, &raw) == 0)
		jset(oom, o, "fact", jbytes(raw.p, raw.len));
	else
		jset(oom, o, "fact", json_null());
	free(raw.p);
	if (seen(e, id)) {
		jset(oom, o, "shown_above", json_true());
		return o;
	}
	if (depth >= MAX_DEPTH) {
		jset(oom, o, "cut", json_true());
		return o;
	}
	jset(oom, o, "origins", a = json_array());
	n = fx_explain_support_count(e->s, id);
	for (i = 0; a && i < n; i++) {
		support sp;
		if (support_get(e, id, i, &sp) < 0) {
			*oom = 1;
			continue;
		}
		jpush(oom, a, origin_json(e, id, &sp, depth, oom));
		free(sp.facts);
	}
	return o;
}

struct json_t *cli_explain_fact_json(cli_explain *e, uint64_t id)
{
	int oom = 0;
	json_t *o = fact_json(e, id, 0, &oom);

	if (oom) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --- DOT --------------------------------------------------------------------------------------- *
 * Nodes: t<k> a matched span, f<id> a fact, r<k> a rule firing (one rule and the facts it
 * matched: the firing that concluded a finding and recommended a remedy is one node), F<i> the
 * i-th finding, R<i> the i-th remedy, q<k> an answer, and `user`, `initial`, `unrecorded`.
 * The facts of a finding or remedy are drawn as that finding or remedy. */

typedef struct span {
	const char *pattern;
	size_t start, end;
} span;

typedef struct firing {
	long rule;
	uint64_t *facts; /* copied */
	size_t n;
} firing;

typedef struct mapped {
	uint64_t id;
	char kind;       /* 'F' or 'R' */
	size_t i;
} mapped;

typedef struct dot {
	cli_explain *e;
	mapped *map;
	size_t nmap;
	firing *fi;
	size_t nfi, cfi;
	span *sp;
	size_t nsp, csp;
	long *qs;
	size_t nqs, cqs;
	int user, initial, unrecorded;
	int oom;
} dot;

static int grow(void *items, size_t *cap, size_t n, size_t size)
{
	void **p = items;
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* A DOT string's content: valid UTF-8, controls escaped, quotes and backslashes escaped. */
static void dot_text(dot *g, const char *p, size_t n)
{
	cli_sbuf b = {0};
	size_t col = 0, i;

	cli_sb_add(&b, "", 0);
	cli_sb_add_escaped(&b, p, n, &col);
	if (b.oom) {
		g->oom = 1;
		free(b.p);
		return;
	}
	for (i = 0; i < b.len; i++) {
		if (b.p[i] == '"' || b.p[i] == '\\')
			fputc('\\', g->e->out);
		fputc(b.p[i], g->e->out);
	}
	free(b.p);
}

static void dot_s(dot *g, const char *s)
{
	dot_text(g, s, strlen(s));
}

static void node_name(const dot *g, uint64_t id, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < g->nmap; i++)
		if (g->map[i].id == id) {
			snprintf(out, size, "%c%zu", g->map[i].kind, g->map[i].i + 1);
			return;
		}
	snprintf(out, size, "f%" PRIu64, id);
}

static int is_mapped(const dot *g, uint64_t id)
{
	size_t i;

	for (i = 0; i < g->nmap; i++)
		if (g->map[i].id == id)
			return 1;
	return 0;
}

static void dot_fact(dot *g, uint64_t id, int depth);

/* The firing node of sp (drawn with its inputs the first time); its name in out. */
static void dot_firing(dot *g, const support *sp, int depth, char *out, size_t size)
{
	cli_explain *e = g->e;
	size_t k, j;
	char child[32];
	const char *file = NULL;
	unsigned line = 0, col = 0;

	for (k = 0; k < g->nfi; k++)
		if (g->fi[k].rule == sp->sp.rule && g->fi[k].n == sp->sp.nfacts &&
		    (g->fi[k].n == 0 ||
		     memcmp(g->fi[k].facts, sp->facts, g->fi[k].n * sizeof *sp->facts) == 0)) {
			snprintf(out, size, "r%zu", k + 1);
			return;
		}
	if (grow(&g->fi, &g->cfi, g->nfi, sizeof *g->fi) < 0) {
		g->oom = 1;
		snprintf(out, size, "unrecorded");
		return;
	}
	g->fi[k].rule = sp->sp.rule;
	g->fi[k].n = sp->sp.nfacts;
	g->fi[k].facts = NULL;
	if (sp->sp.nfacts) {
		g->fi[k].facts = malloc(sp->sp.nfacts * sizeof *sp->facts);
		if (!g->fi[k].facts) {
			g->oom = 1;
			g->fi[k].n = 0;
		} else {
			memcpy(g->fi[k].facts, sp->facts, sp->sp.nfacts * sizeof *sp->facts);
		}
	}
	g->nfi++;
	snprintf(out, size, "r%zu", k + 1);
	fx_kb_rule_pos(e->kb, (size_t)sp->sp.rule, &file, &line, &col);
	fprintf(e->out, "  %s [shape=box, style=rounded, label=\"rule ", out);
	dot_s(g, fx_kb_rule_name(e->kb, (size_t)sp->sp.rule));
	fputs("\\n", e->out);
	dot_s(g, file ? file : "<buffer>");
	fprintf(e->out, ":%u\"];\n", line);
	for (j = 0; j < sp->sp.nfacts; j++) {
		dot_fact(g, sp->facts[j], depth + 1);
		node_name(g, sp->facts[j], child, sizeof child);
		fprintf(e->out, "  %s -> %s%s;\n", child, out, sp->witness[j] ? " [style=dashed]" : "");
	}
}

/* The node of a matched span, drawn the first time; its name in out. */
static void dot_span(dot *g, uint64_t id, char *out, size_t size)
{
	cli_explain *e = g->e;
	fx_text_origin o;
	const char *t;
	size_t k, len = 0, end;

	if (fx_text_origin_get(e->s, id, &o) != 1) {
		snprintf(out, size, "unrecorded");
		return;
	}
	for (k = 0; k < g->nsp; k++)
		if (g->sp[k].start == o.start && g->sp[k].end == o.end && o.pattern &&
		    g->sp[k].pattern && strcmp(g->sp[k].pattern, o.pattern) == 0) {
			snprintf(out, size, "t%zu", k + 1);
			return;
		}
	if (grow(&g->sp, &g->csp, g->nsp, sizeof *g->sp) < 0) {
		g->oom = 1;
		snprintf(out, size, "unrecorded");
		return;
	}
	g->sp[k].pattern = o.pattern;
	g->sp[k].start = o.start;
	g->sp[k].end = o.end;
	g->nsp++;
	snprintf(out, size, "t%zu", k + 1);
	fprintf(e->out, "  %s [shape=note, label=\"pattern ", out);
	dot_s(g, o.pattern ? o.pattern : "?");
	fputs(", ", e->out);
	dot_s(g, o.input ? o.input : "the text");
	fprintf(e->out, ":%" PRIu64 ", bytes %zu-%zu", match_line(e, &o), o.start, o.end);
	t = e->text ? e->text(e->text_ud, &o, &len) : NULL;
	if (t && o.start <= o.end && o.end <= len) {
		end = o.end - o.start > DOT_SPAN ? char_start(t, o.start + DOT_SPAN) : o.end;
		fputs("\\n\\\"", e->out);
		dot_text(g, t + o.start, end - o.start);
		fputs(end < o.end ? "...\\\"" : "\\\"", e->out);
	}
	fputs("\"];\n", e->out);
}

static void dot_fact(dot *g, uint64_t id, int depth)
{
	cli_explain *e = g->e;
	char me[32], from[32];
	size_t i, n;
	cli_sbuf raw = {0};

	if (seen(e, id))
		return;
	node_name(g, id, me, sizeof me);
	if (!is_mapped(g, id)) {
		fprintf(e->out, "  %s [label=\"f-%" PRIu64 " ", me, id);
		if (fact_raw(e, id, &raw) == 0)
			dot_text(g, raw.p, raw.len);
		free(raw.p);
		fputs("\"];\n", e->out);
	}
	if (depth >= MAX_DEPTH)
		return;
	n = fx_explain_support_count(e->s, id);
	for (i = 0; i < n; i++) {
		support sp;
		if (support_get(e, id, i, &sp) < 0) {
			g->oom = 1;
			continue;
		}
		switch (sp.sp.kind) {
		case FX_SUPPORT_RULE:
			if (sp.sp.rule < 0) {
				if (!g->unrecorded++)
					fputs("  unrecorded [shape=plaintext, label=\"a rule without logical\"];\n",
					      e->out);
				snprintf(from, sizeof from, "unrecorded");
			} else {
				dot_firing(g, &sp, depth, from, sizeof from);
			}
			break;
		case FX_SUPPORT_TEXT:
			dot_span(g, id, from, sizeof from);
			break;
		case FX_SUPPORT_ANSWER: {
			size_t k;
			fx_question_info q;
			for (k = 0; k < g->nqs && g->qs[k] != sp.sp.question; k++)
				;
			snprintf(from, sizeof from, "q%zu", k + 1);
			if (k < g->nqs)
				break;
			if (grow(&g->qs, &g->cqs, g->nqs, sizeof *g->qs) < 0) {
				g->oom = 1;
				break;
			}
			g->qs[g->nqs++] = sp.sp.question;
			memset(&q, 0, sizeof q);
			if (sp.sp.question >= 0)
				fx_kb_question_get(e->kb, (size_t)sp.sp.question, &q);
			fprintf(e->out, "  %s [shape=diamond, label=\"answer to ", from);
			dot_s(g, q.id ? q.id : "?");
			fputs("\"];\n", e->out);
			break;
		}
		case FX_SUPPORT_USER:
			if (!g->user++)
				fputs("  user [shape=plaintext, label=\"asserted through the API\"];\n", e->out);
			snprintf(from, sizeof from, "user");
			break;
		case FX_SUPPORT_INITIAL:
			if (!g->initial++)
				fputs("  initial [shape=plaintext, label=\"initial fact\"];\n", e->out);
			snprintf(from, sizeof from, "initial");
			break;
		default:
			snprintf(from, sizeof from, "unrecorded");
			break;
		}
		fprintf(e->out, "  %s -> %s;\n", from, me);
		free(sp.facts);
	}
}

int cli_explain_dot(cli_explain *e, const fx_diagnosis *d, const char *title)
{
	dot g;
	size_t nf = fx_diagnosis_finding_count(d), nr = fx_diagnosis_remedy_count(d), i, j, k;
	size_t nmap = 0;

	memset(&g, 0, sizeof g);
	g.e = e;
	cli_explain_forget(e);
	for (i = 0; i < nf; i++) {
		fx_finding f;
		if (fx_diagnosis_finding(d, i, &f) == 0)
			nmap += f.nfacts;
	}
	for (i = 0; i < nr; i++) {
		fx_ranked_remedy m;
		if (fx_diagnosis_remedy(d, i, &m) == 0)
			nmap += m.nfacts;
	}
	g.map = malloc((nmap + 1) * sizeof *g.map);
	if (!g.map)
		return FX_ENOMEM;

	fputs("digraph \"", e->out);
	dot_s(&g, title);
	fputs("\" {\n  graph [rankdir=LR, labelloc=t, label=\"", e->out);
	dot_s(&g, title);
	fputs("\"];\n  node [fontsize=10];\n", e->out);
	if (nf == 0 && nr == 0)
		fputs("  none [shape=plaintext, label=\"no diagnosis\"];\n", e->out);
	for (i = 0; i < nf; i++) {
		fx_finding f;
		if (fx_diagnosis_finding(d, i, &f) < 0)
			continue;
		for (j = 0; j < f.nfacts; j++)
			g.map[g.nmap++] = (mapped){f.facts[j], 'F', i};
		fprintf(e->out, "  F%zu [shape=ellipse, style=bold, label=\"finding ", i + 1);
		dot_s(&g, f.id);
		fprintf(e->out, "\\ncertainty %.2f\"];\n", f.certainty);
	}
	for (i = 0; i < nr; i++) {
		fx_ranked_remedy m;
		if (fx_diagnosis_remedy(d, i, &m) < 0)
			continue;
		for (j = 0; j < m.nfacts; j++)
			g.map[g.nmap++] = (mapped){m.facts[j], 'R', i};
		fprintf(e->out, "  R%zu [shape=octagon, label=\"remedy %zu: ", i + 1, i + 1);
		dot_s(&g, m.id);
		fprintf(e->out, "\\ncost %d, score %.3f\"];\n", m.cost, m.score);
	}
	for (i = 0; i < nf; i++) {
		fx_finding f;
		if (fx_diagnosis_finding(d, i, &f) == 0)
			for (j = 0; j < f.nfacts; j++)
				dot_fact(&g, f.facts[j], 0);
	}
	for (i = 0; i < nr; i++) {
		fx_ranked_remedy m;
		if (fx_diagnosis_remedy(d, i, &m) < 0)
			continue;
		for (j = 0; j < m.nfacts; j++)
			dot_fact(&g, m.facts[j], 0);
		/* The finding whose certainty the remedy takes. */
		for (k = 0; m.finding && k < nf; k++) {
			fx_finding f;
			if (fx_diagnosis_finding(d, k, &f) == 0 && strcmp(f.id, m.finding) == 0)
				fprintf(e->out, "  F%zu -> R%zu [style=dashed];\n", k + 1, i + 1);
		}
	}
	fputs("}\n", e->out);
	for (i = 0; i < g.nfi; i++)
		free(g.fi[i].facts);
	free(g.fi);
	free(g.sp);
	free(g.qs);
	free(g.map);
	return g.oom ? FX_ENOMEM : 0;
}
