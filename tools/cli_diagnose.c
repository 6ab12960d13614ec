/* cli_diagnose.c: `fixit diagnose`: reads pasted error messages or log files, cuts them into
 * cases with the library's reader, turns each case into facts with the knowledge base's text
 * patterns, runs the rules, and reports per case the findings, the remedies best first and the
 * text that matched, for a human or as JSON Lines (docs/diagnose-json.md); on several threads
 * with --jobs, with a progress bar on a terminal's stderr for a large file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_kb.h"
#include "cli_sbuf.h"
#include "cli_explain.h"

#define READ_CHUNK ((size_t)1 << 16)
/* A quoted match shows this many bytes of its line on either side, and a longer match only its
 * first and last MATCH_SHOWN / 2 bytes: a case may be one 1 MiB line. */
#define CONTEXT_BYTES 40
#define MATCH_SHOWN 160
/* A case's errors are few: the text, the run; anything more is dropped. */
#define MAX_CASE_ERRORS 4
/* Size of the buffer of "no diagnosis" records (see pend_flush), and the most one takes. */
#define PEND_SIZE ((size_t)1 << 16)
#define PEND_RECORD 640

#define SCHEMA "fixit-diagnose/1"

/* --jobs: a batch of cases handed to a thread ends once it holds this many bytes or cases;
 * at most JOBS_INFLIGHT batches a thread are read ahead of the output. */
#define BATCH_BYTES ((size_t)256 << 10)
#define BATCH_CASES 4096
#define JOBS_INFLIGHT 2
#define MAX_JOBS 256
/* The progress bar: shown for regular files from this size on, redrawn at most this often. */
#define PROGRESS_MIN_BYTES ((uint64_t)4 << 20)
#define PROGRESS_PERIOD 0.1

/* Bytes borrowed from the session or the case, not NUL-terminated. */
typedef struct text {
	const char *p;
	size_t len;
} text;

/* One `finding` fact. */
typedef struct finding_fact {
	text id, rule;
	uint64_t fact;      /* its id in the session */
} finding_fact;

/* One cause of the library's diagnosis (fx_diagnosis: the only ranking, docs/certainty.md). */
typedef struct finding {
	text id;            /* the bytes of the facts' id slot */
	const char *title;  /* the kb's title for it (borrowed from the kb), or NULL */
	double cf;          /* MYCIN's combination of the facts' certainties */
	size_t first, n;    /* its facts: ff[first .. first + n), sorted by rule */
} finding;

/* One `recommend` fact. */
typedef struct recommend_fact {
	text remedy, finding; /* finding.len == 0 when the fact names none (nil) */
	uint64_t fact;        /* its id in the session */
} recommend_fact;

/* One remedy of the library's ranking, not tried. */
typedef struct remedy {
	text id;
	long index;           /* in the knowledge base, or -1 when it does not describe it */
	fx_remedy_info info;  /* valid when index >= 0 */
	int cost;
	double cf, score;     /* best certainty of the findings recommending it; cf / cost */
	size_t first, n;      /* its facts: rf[first .. first + n), sorted by finding */
} remedy;

/* A fact the text asserted, reduced to what matched where. */
typedef struct match {
	const char *pattern;  /* borrowed from the session until its next reset */
	size_t start, end;    /* byte span in the case's text */
} match;

typedef struct case_error {
	const char *code;     /* static */
	char *message;        /* malloc'd */
	char *rule;           /* malloc'd, or NULL */
} case_error;

/* A growing byte string. */
typedef cli_sbuf sbuf;

typedef struct progress progress;
typedef struct pool pool;

/* --lines: the lines of a chunk on which a pattern may match, found by one prefilter pass over
 * the chunk (fx_text_scan_lines). A case that is one of the chunk's whole lines and not among
 * them matches nothing, and is reported without being scanned (with --jobs, the main thread
 * filters and marks the cases it queues). */
typedef struct line_filter {
	int on;                  /* the chunk was scanned: the rest is valid */
	uint64_t lo, hi;         /* input offsets of the chunk's whole lines, [lo, hi) */
	uint64_t *spans;         /* the lines that may match: input offsets of start, end, start... */
	size_t n, cap, next;     /* n lines (2n offsets); lines next.. are ahead of the cases */
	uint64_t base;           /* input offset of the chunk's first byte */
	int oom;                 /* a start could not be kept: the chunk is not filtered */
} line_filter;

/* Consecutive cases of one input with nothing to report, shown as one record ("cases 3-9
 * (log:3-9)"): a log read line by line is mostly such lines, and a record a line made the
 * report of 200 MB of log 130 MB long. Every case is still accounted for, in order. */
typedef struct nothing_run {
	int open;                /* cases are being added to it */
	int sep;                 /* a blank line goes before it (it is not the first case of all) */
	uint64_t first, last;    /* the indexes of its first and last cases */
	uint64_t line, last_line; /* the first line of the first, the last line of the last */
} nothing_run;

typedef struct diag_ctx {
	FILE *out;               /* where cases are printed: stdout, or a batch's buffer */
	FILE *err;               /* where warnings go: stderr, or a batch's buffer */
	progress *pg;            /* the progress bar to clear before writing (main thread), or NULL */
	pool *pool;              /* --jobs above 1: the threads (main thread), else NULL */
	char *mem_out, *mem_err; /* a worker's: the buffers of its out and err streams */
	size_t mem_outlen, mem_errlen;
	fx_kb *kb;
	fx_session *s;
	int json;
	int explain;             /* --explain: each finding's and remedy's derivation */
	int dot;                 /* --dot: a DOT digraph a case instead of the report */
	int color;               /* bold and colour on stdout */
	uint64_t limit;          /* firing limit per case (0: the session's default) */
	long t_finding, t_recommend;
	size_t f_id, f_cf, f_rule, r_remedy, r_finding; /* slot indexes in those templates */
	const char *input;       /* name of the input being read: a path or "<stdin>" */
	const fx_case *cur;      /* the case being diagnosed, for warnings */
	uint64_t ncases;         /* cases reported so far, all inputs */
	uint64_t diagnosed;      /* of which diagnosed */
	int error;               /* something went wrong: the exit status is 2 */
	int tty;                 /* stdout is a terminal: each case is flushed when printed */
	int dirty;               /* working memory may differ from the initial facts: reset first */
	int quiet;               /* running the rules on the initial facts alone concludes nothing */
	int json_oom;            /* building the current case's object ran out of memory */
	line_filter lf;          /* --lines: which lines of the chunk being read may match (the
	                            * main thread's, with --jobs too) */
	int skip;                /* a worker: the case being run was filtered out (lf) */
	/* "No diagnosis" records waiting to go to out in one write (NULL: each written at once).
	 * They are written before anything else reaches out or err (pend_flush), so the order of
	 * everything printed is the order without this buffer. */
	char *pend;
	size_t plen;
	nothing_run run;         /* the cases with nothing to report not yet written */
	/* A worker: the batch's first run is handed to the main thread (held) rather than
	 * written, since it may continue the previous batch's last; hold is set until the batch
	 * prints a case in full. */
	int hold;
	nothing_run held;

	/* Per-case lists, emptied for each case; their memory is kept for the next. */
	finding_fact *ff;
	size_t nff, cff;
	finding *fi;
	size_t nfi, cfi;
	recommend_fact *rf;
	size_t nrf, crf;
	remedy *re;
	size_t nre, cre;
	match *ma;
	size_t nma, cma;
	case_error errs[MAX_CASE_ERRORS];
	size_t nerrs;
	sbuf tmp;                /* scratch: escaped texts, NUL-terminated copies */
	sbuf line, marks;        /* a quoted match and the caret line under it */
	sbuf in_esc;             /* the input's name escaped for the human header */
	sbuf in_json;            /* the JSON line's start up to "case": for this input */
} diag_ctx;

/* --- Small tools ----------------------------------------------------------------------------- */

/* Decimal digits without printf: a log of millions of cases prints two numbers each. */
static void sb_u64(sbuf *b, uint64_t v)
{
	char d[20];
	size_t n = sizeof d;

	do
		d[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	cli_sb_add(b, d + n, sizeof d - n);
}

/* Room for n + 1 items of size `size` in *items (capacity *cap). 0 or -1. */
static int grow(void *items, size_t *cap, size_t n, size_t size)
{
	void **p = items;
	size_t want = *cap ? *cap : 16;
	void *q;

	if (n < *cap)
		return 0;
	while (want <= n) {
		if (want > SIZE_MAX / 2 / size)
			return -1;
		want *= 2;
	}
	q = realloc(*p, want * size);
	if (!q)
		return -1;
	*p = q;
	*cap = want;
	return 0;
}

static int text_cmp(text a, text b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int r = n ? memcmp(a.p, b.p, n) : 0;

	if (r)
		return r;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int text_eq(text a, text b)
{
	return text_cmp(a, b) == 0;
}

static text cstr(const char *s)
{
	text t = {s ? s : "", s ? strlen(s) : 0};
	return t;
}

/* Prints bytes escaped as cli_sb_add_escaped does. */
static void put_text_to(diag_ctx *c, FILE *f, text t)
{
	size_t col = 0;

	cli_sb_clear(&c->tmp);
	cli_sb_add_escaped(&c->tmp, t.p, t.len, &col);
	if (c->tmp.oom)
		fputs("(out of memory)", f);
	else if (c->tmp.len)
		fwrite(c->tmp.p, 1, c->tmp.len, f);
}

static void put_text(diag_ctx *c, text t)
{
	put_text_to(c, c->out, t);
}

static const char *sgr(const diag_ctx *c, const char *seq)
{
	return c->color ? seq : "";
}

#define BOLD "\033[1m"
#define GREEN "\033[1;32m"
#define RED "\033[1;31m"
#define RESET "\033[0m"

/* --- Per-case errors -------------------------------------------------------------------------- */

static char *dup_text(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static void add_error(diag_ctx *c, const char *code, const char *message, const char *rule)
{
	case_error *e;

	c->error = 1;
	if (c->nerrs >= MAX_CASE_ERRORS)
		return;
	e = &c->errs[c->nerrs++];
	e->code = code;
	e->message = dup_text(message);
	e->rule = rule && *rule ? dup_text(rule) : NULL;
}

/* The session's last error as one line: "FILE:LINE:COL: in rule 'R': MESSAGE". The firing
 * limit's message names the rules that cycled; the rule and place where it happened to stop
 * would mislead, so they are left out. */
static void add_session_error(diag_ctx *c, const char *code, int rc)
{
	const fx_diag *e = fx_session_last_error(c->s);
	const char *msg = e && e->message && *e->message ? e->message : fx_strerror(rc);
	const char *rule = e && e->rule && *e->rule && rc != FX_ELIMIT ? e->rule : NULL;
	sbuf b = {0};
	char pos[64];

	if (e && e->file && *e->file && rc != FX_ELIMIT) {
		cli_sb_add(&b, e->file, strlen(e->file));
		if (e->line) {
			snprintf(pos, sizeof pos, e->col ? ":%u:%u" : ":%u", e->line, e->col);
			cli_sb_add(&b, pos, strlen(pos));
		}
		cli_sb_add(&b, ": ", 2);
	}
	if (rule) {
		cli_sb_add(&b, "in rule '", 9);
		cli_sb_add(&b, rule, strlen(rule));
		cli_sb_add(&b, "': ", 3);
	}
	cli_sb_add(&b, msg, strlen(msg));
	add_error(c, code, b.oom ? fx_strerror(FX_ENOMEM) : b.p, rule);
	free(b.p);
}

static void clear_errors(diag_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nerrs; i++) {
		free(c->errs[i].message);
		free(c->errs[i].rule);
	}
	c->nerrs = 0;
}

/* --- Collecting the results of a case ------------------------------------------------------------- */

static int match_cmp(const void *a, const void *b)
{
	const match *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->pattern, y->pattern);
}

/* Every fact the text asserted, before the rules can retract any: one entry per pattern and
 * span (a pattern asserting several facts matched once). */
static int collect_matches(diag_ctx *c)
{
	uint64_t id = 0;
	size_t i, n = 0;

	c->nma = 0;
	while (fx_session_fact_next(c->s, id, &id)) {
		fx_text_origin o;
		if (fx_text_origin_get(c->s, id, &o) != 1 || !o.pattern)
			continue;
		if (grow(&c->ma, &c->cma, c->nma, sizeof *c->ma) < 0)
			return FX_ENOMEM;
		c->ma[c->nma].pattern = o.pattern;
		c->ma[c->nma].start = o.start;
		c->ma[c->nma].end = o.end < o.start ? o.start : o.end;
		c->nma++;
	}
	if (c->nma == 0)
		return 0;
	qsort(c->ma, c->nma, sizeof *c->ma, match_cmp);
	for (i = 0; i < c->nma; i++)
		if (n == 0 || match_cmp(&c->ma[n - 1], &c->ma[i]) != 0)
			c->ma[n++] = c->ma[i];
	c->nma = n;
	return 0;
}

static text slot_text(const fx_session *s, uint64_t id, size_t slot)
{
	fx_value v;
	text t = {"", 0};

	if (fx_session_fact_slot(s, id, slot, &v) == 0 &&
	    (v.type == FX_SYMBOL || v.type == FX_STRING) && v.u.text) {
		t.p = v.u.text;
		t.len = v.len;
	}
	return t;
}

static int ff_cmp(const void *a, const void *b)
{
	const finding_fact *x = a, *y = b;
	int r = text_cmp(x->rule, y->rule);

	return r ? r : x->fact < y->fact ? -1 : x->fact > y->fact;
}

static int rf_cmp(const void *a, const void *b)
{
	const recommend_fact *x = a, *y = b;
	int r = text_cmp(x->finding, y->finding);

	return r ? r : x->fact < y->fact ? -1 : x->fact > y->fact;
}

/* The findings and the remedies not tried, as the library ranks them (fx_diagnosis, shared
 * with the REPL and `fixit test`), with each one's facts for the rules it names and for
 * --explain. Ids are read from the facts' slots, so captured bytes come out as they are. */
/* The kb's title of finding id (borrowed from the kb: the diagnosis's copy dies with it). */
static const char *finding_title(const fx_kb *kb, const char *id)
{
	fx_finding_info fi;
	long k = fx_kb_finding_find(kb, id);
	return k >= 0 && fx_kb_finding_get(kb, (size_t)k, &fi) == 0 ? fi.title : NULL;
}

static int collect_results(diag_ctx *c)
{
	fx_diagnosis *d = NULL;
	size_t i, j, n;
	int rc;

	c->nff = c->nfi = c->nrf = c->nre = 0;
	rc = fx_diagnosis_new(&d, c->s);
	if (rc < 0)
		return rc;
	n = fx_diagnosis_finding_count(d);
	for (i = 0; i < n; i++) {
		fx_finding f;
		finding *x;
		if (fx_diagnosis_finding(d, i, &f) < 0 || f.nfacts == 0)
			continue;
		if (grow(&c->fi, &c->cfi, c->nfi, sizeof *c->fi) < 0)
			goto nomem;
		x = &c->fi[c->nfi++];
		x->cf = f.certainty;
		x->title = f.title ? finding_title(c->kb, f.id) : NULL;
		x->first = c->nff;
		x->n = f.nfacts;
		for (j = 0; j < f.nfacts; j++) {
			finding_fact *ff;
			if (grow(&c->ff, &c->cff, c->nff, sizeof *c->ff) < 0)
				goto nomem;
			ff = &c->ff[c->nff++];
			ff->fact = f.facts[j];
			ff->id = slot_text(c->s, f.facts[j], c->f_id);
			ff->rule = slot_text(c->s, f.facts[j], c->f_rule);
		}
		x->id = c->ff[x->first].id;
		qsort(c->ff + x->first, x->n, sizeof *c->ff, ff_cmp);
	}
	n = fx_diagnosis_remedy_count(d);
	for (i = 0; i < n; i++) {
		fx_ranked_remedy m;
		remedy *r;
		if (fx_diagnosis_remedy(d, i, &m) < 0 || m.nfacts == 0)
			continue;
		if (grow(&c->re, &c->cre, c->nre, sizeof *c->re) < 0)
			goto nomem;
		r = &c->re[c->nre++];
		memset(r, 0, sizeof *r);
		r->index = m.index;
		if (r->index >= 0 && fx_kb_remedy_get(c->kb, (size_t)r->index, &r->info) != 0)
			r->index = -1;
		r->cost = m.cost;
		r->cf = m.certainty;
		r->score = m.score;
		r->first = c->nrf;
		r->n = m.nfacts;
		for (j = 0; j < m.nfacts; j++) {
			recommend_fact *rf;
			if (grow(&c->rf, &c->crf, c->nrf, sizeof *c->rf) < 0)
				goto nomem;
			rf = &c->rf[c->nrf++];
			rf->fact = m.facts[j];
			rf->remedy = slot_text(c->s, m.facts[j], c->r_remedy);
			rf->finding = slot_text(c->s, m.facts[j], c->r_finding);
			if (text_eq(rf->finding, cstr("nil")))
				rf->finding.len = 0;
		}
		r->id = c->rf[r->first].remedy;
		qsort(c->rf + r->first, r->n, sizeof *c->rf, rf_cmp);
	}
	fx_diagnosis_free(d);
	return 0;
nomem:
	fx_diagnosis_free(d);
	return FX_ENOMEM;
}

/* --- Human output ------------------------------------------------------------------------------- */

/* Start of the UTF-8 character holding byte i (so a cut never splits one). */
static size_t char_start(const char *t, size_t len, size_t i)
{
	size_t k = 0;

	while (i > 0 && i < len && k < 3 && ((unsigned char)t[i] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	return i;
}

/* The line of the case holding the match, the match in bold (on a terminal) and carets under
 * it; long lines and long matches are cut, with "..." where bytes are left out. */
static void quote_match(diag_ctx *c, const char *t, size_t len, const match *m)
{
	size_t ls, le, col = 0, span0, span1, i;
	sbuf *l = &c->line, *k = &c->marks;

	cli_sb_clear(l);
	cli_sb_clear(k);
	ls = m->start;
	while (ls > 0 && t[ls - 1] != '\n' && m->start - ls < CONTEXT_BYTES)
		ls--;
	if (ls > 0 && t[ls - 1] != '\n') {
		ls = char_start(t, len, ls);
		cli_sb_add(l, "...", 3);
		col = 3;
	}
	/* A match that ends with a line end shows nothing of the next line. */
	le = m->end;
	if (!(m->end > m->start && t[m->end - 1] == '\n'))
		while (le < len && t[le] != '\n' && le - m->end < CONTEXT_BYTES)
			le++;
	if (le < len && t[le] != '\n' && le > m->end)
		le = char_start(t, len, le);
	cli_sb_add_escaped(l, t + ls, m->start - ls, &col);
	span0 = col;
	cli_sb_add(l, sgr(c, BOLD), strlen(sgr(c, BOLD)));
	if (m->end - m->start <= MATCH_SHOWN) {
		cli_sb_add_escaped(l, t + m->start, m->end - m->start, &col);
	} else {
		size_t a = char_start(t, len, m->start + MATCH_SHOWN / 2);
		size_t b = char_start(t, len, m->end - MATCH_SHOWN / 2);
		cli_sb_add_escaped(l, t + m->start, a - m->start, &col);
		cli_sb_add(l, "...", 3);
		col += 3;
		cli_sb_add_escaped(l, t + b, m->end - b, &col);
	}
	span1 = col;
	cli_sb_add(l, sgr(c, RESET), strlen(sgr(c, RESET)));
	cli_sb_add_escaped(l, t + m->end, le - m->end, &col);
	if (le < len && t[le] != '\n')
		cli_sb_add(l, "...", 3);

	/* An empty match still gets its caret, at the place it matched. */
	for (i = 0; i < span0; i++)
		cli_sb_addc(k, ' ');
	cli_sb_add(k, sgr(c, GREEN), strlen(sgr(c, GREEN)));
	cli_sb_addc(k, '^');
	for (i = span0 + 1; i < span1; i++)
		cli_sb_addc(k, '~');
	cli_sb_add(k, sgr(c, RESET), strlen(sgr(c, RESET)));
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* --- Explanations (--explain, --dot) ------------------------------------------------------------ */

/* The session holds the facts of the case being diagnosed only: every match points into it. */
static const char *case_text(void *ud, const fx_text_origin *o, size_t *len)
{
	const diag_ctx *c = ud;

	(void)o;
	if (!c->cur)
		return NULL;
	*len = c->cur->len;
	return c->cur->text;
}

static void explainer(diag_ctx *c, cli_explain *e)
{
	cli_explain_init(e, c->kb, c->s, c->out);
	e->color = c->color;
	e->lines = 1;
	e->text = case_text;
	e->text_ud = c;
}

/* Each finding's and remedy's facts with their derivations; a fact met twice in the case is
 * shown once. */
static void print_explain_human(diag_ctx *c)
{
	cli_explain e;
	size_t i, j;

	explainer(c, &e);
	fputs("  explanation:\n", c->out);
	for (i = 0; i < c->nfi; i++) {
		const finding *f = &c->fi[i];
		fputs("    finding ", c->out);
		put_text(c, f->id);
		fputs(":\n", c->out);
		for (j = 0; j < f->n; j++)
			cli_explain_fact(&e, c->ff[f->first + j].fact, 3);
	}
	for (i = 0; i < c->nre; i++) {
		const remedy *r = &c->re[i];
		fprintf(c->out, "    remedy %zu, ", i + 1);
		put_text(c, r->id);
		fputs(":\n", c->out);
		for (j = 0; j < r->n; j++)
			cli_explain_fact(&e, c->rf[r->first + j].fact, 3);
	}
	cli_explain_dispose(&e);
}

/* --dot: the case as one digraph; its errors, if any, as comments before it. */
static void print_case_dot(diag_ctx *c, const fx_case *cs)
{
	cli_explain e;
	fx_diagnosis *d = NULL;
	size_t i;
	char *title;
	int rc;

	if (cs->truncated)
		fprintf(c->out, "// note: the case is truncated: %" PRIu64 " bytes after the first %zu were "
		        "left out\n", cs->dropped, cs->len);
	for (i = 0; i < c->nerrs; i++) {
		fputs("// error: ", c->out);
		put_text(c, cstr(c->errs[i].message ? c->errs[i].message : "out of memory"));
		fputc('\n', c->out);
	}
	cli_sb_clear(&c->tmp);
	cli_sb_add(&c->tmp, "case ", 5);
	sb_u64(&c->tmp, cs->index);
	cli_sb_add(&c->tmp, " (", 2);
	cli_sb_adds(&c->tmp, c->input ? c->input : "");
	cli_sb_addc(&c->tmp, ':');
	sb_u64(&c->tmp, cs->line);
	cli_sb_add(&c->tmp, ")", 2); /* with the NUL */
	title = c->tmp.oom ? NULL : dup_text(c->tmp.p);
	rc = title ? fx_diagnosis_new(&d, c->s) : FX_ENOMEM;
	explainer(c, &e);
	if (rc == 0)
		rc = cli_explain_dot(&e, d, title);
	if (rc < 0) {
		fprintf(c->out, "// error: %s\n", fx_strerror(rc));
		c->error = 1;
	}
	cli_explain_dispose(&e);
	fx_diagnosis_free(d);
	free(title);
}

/* Appends v's decimal digits at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char d[20];
	size_t n = sizeof d;

	do
		d[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	memcpy(p, d + n, sizeof d - n);
	return p + (sizeof d - n);
}

/* Writes the waiting "no diagnosis" records to out: called before anything else is written to
 * out or err, and before out is flushed or taken. */
static void pend_flush(diag_ctx *c)
{
	if (c->plen) {
		fwrite(c->pend, 1, c->plen, c->out);
		c->plen = 0;
	}
}

/* Writes the open run of cases with nothing to report, as print_case_human would write a
 * case with nothing, "case N (IN:L)", or for several "cases N-M (IN:L-K)". */
static void close_run(diag_ctx *c)
{
	nothing_run *r = &c->run;
	char rec[PEND_RECORD], *p = rec;

	if (!r->open)
		return;
	r->open = 0;
	if (c->hold) {
		c->held = *r;
		c->held.open = 1;
		c->hold = 0;
		return;
	}
	if (r->sep)
		*p++ = '\n';
	p = put_str(p, sgr(c, BOLD));
	p = put_str(p, r->first == r->last ? "case " : "cases ");
	p = put_u64(p, r->first);
	if (r->first != r->last) {
		*p++ = '-';
		p = put_u64(p, r->last);
	}
	p = put_str(p, " (");
	memcpy(p, c->in_esc.p, c->in_esc.len); /* at most 512 bytes: print_nothing_human */
	p += c->in_esc.len;
	*p++ = ':';
	p = put_u64(p, r->line);
	if (r->first != r->last) {
		*p++ = '-';
		p = put_u64(p, r->last_line);
	}
	*p++ = ')';
	p = put_str(p, sgr(c, RESET));
	p = put_str(p, "\n  no diagnosis\n");
	if (!c->pend) {
		fwrite(rec, 1, (size_t)(p - rec), c->out);
		return;
	}
	if (c->plen > PEND_SIZE - PEND_RECORD)
		pend_flush(c);
	memcpy(c->pend + c->plen, rec, (size_t)(p - rec));
	c->plen += (size_t)(p - rec);
}

/* A case with nothing in it, by far the commonest in a log, joins the open run (or starts
 * one). 0 when the case has more to show (or the input's name is long): print it in full. */
static int print_nothing_human(diag_ctx *c, const fx_case *cs)
{
	nothing_run *r = &c->run;

	if (c->nerrs || c->nfi || c->nre || c->nma || cs->truncated || c->in_esc.oom ||
	    c->in_esc.len > 512 || c->dot)
		return 0;
	if (r->open && cs->index == r->last + 1) {
		r->last = cs->index;
		r->last_line = cs->last_line > cs->line ? cs->last_line : cs->line;
		return 1;
	}
	close_run(c);
	r->open = 1;
	/* The first case of all is not separated from anything. */
	r->sep = c->ncases > 1;
	r->first = r->last = cs->index;
	r->line = cs->line;
	r->last_line = cs->last_line > cs->line ? cs->last_line : cs->line;
	return 1;
}

static void print_case_human(diag_ctx *c, const fx_case *cs)
{
	size_t i, j;

	if (c->dot) {
		print_case_dot(c, cs);
		return;
	}
	/* The header in one write: it is all a case with no diagnosis prints but one line. */
	cli_sb_clear(&c->tmp);
	if (c->ncases > 1)
		cli_sb_addc(&c->tmp, '\n');
	cli_sb_adds(&c->tmp, sgr(c, BOLD));
	cli_sb_add(&c->tmp, "case ", 5);
	sb_u64(&c->tmp, cs->index);
	cli_sb_add(&c->tmp, " (", 2);
	if (c->in_esc.oom)
		cli_sb_adds(&c->tmp, "(out of memory)");
	else
		cli_sb_add(&c->tmp, c->in_esc.p ? c->in_esc.p : "", c->in_esc.len);
	cli_sb_addc(&c->tmp, ':');
	sb_u64(&c->tmp, cs->line);
	cli_sb_addc(&c->tmp, ')');
	cli_sb_adds(&c->tmp, sgr(c, RESET));
	cli_sb_addc(&c->tmp, '\n');
	if (c->tmp.oom)
		fprintf(c->out, "case %" PRIu64 " (out of memory)\n", cs->index);
	else
		fwrite(c->tmp.p, 1, c->tmp.len, c->out);
	if (cs->truncated)
		fprintf(c->out, "  note: the case is truncated: %" PRIu64 " bytes after the first %zu were left "
		       "out\n",
		       cs->dropped, cs->len);
	for (i = 0; i < c->nerrs; i++) {
		fprintf(c->out, "  %serror:%s ", sgr(c, RED), sgr(c, RESET));
		put_text(c, cstr(c->errs[i].message ? c->errs[i].message : "out of memory"));
		fputc('\n', c->out);
	}
	for (i = 0; i < c->nfi; i++) {
		const finding *f = &c->fi[i];
		size_t nrules = 0;
		fputs("  finding ", c->out);
		fputs(sgr(c, BOLD), c->out);
		put_text(c, f->title ? cstr(f->title) : f->id);
		fputs(sgr(c, RESET), c->out);
		if (f->title) {
			fputs(" (", c->out);
			put_text(c, f->id);
			fputc(')', c->out);
		}
		for (j = 0; j < f->n; j++)
			if (j == 0 || !text_eq(c->ff[f->first + j].rule, c->ff[f->first + j - 1].rule))
				nrules++;
		fprintf(c->out, ", certainty %.2f (rule%s ", f->cf, nrules == 1 ? "" : "s");
		for (j = 0; j < f->n; j++) {
			const finding_fact *x = &c->ff[f->first + j];
			if (j > 0 && text_eq(x->rule, c->ff[f->first + j - 1].rule))
				continue;
			if (j > 0)
				fputs(", ", c->out);
			put_text(c, x->rule);
		}
		fputs(")\n", c->out);
	}
	for (i = 0; i < c->nre; i++) {
		const remedy *r = &c->re[i];
		fprintf(c->out, "  remedy %zu: %s", i + 1, sgr(c, BOLD));
		put_text(c, r->index >= 0 ? cstr(r->info.title) : r->id);
		fprintf(c->out, "%s (", sgr(c, RESET));
		if (r->index >= 0) {
			put_text(c, r->id);
			fputs(", ", c->out);
		} else {
			fputs("not described in the knowledge base; ", c->out);
		}
		fprintf(c->out, "cost %d, score %.3f)\n", r->cost, r->score);
		if (r->index < 0)
			continue;
		for (j = 0; j < r->info.nsteps; j++) {
			fprintf(c->out, "    %zu. ", j + 1);
			put_text(c, cstr(r->info.steps[j]));
			fputc('\n', c->out);
		}
		if (r->info.warning) {
			fputs("    warning: ", c->out);
			put_text(c, cstr(r->info.warning));
			fputc('\n', c->out);
		}
	}
	if (c->nfi == 0 && c->nre == 0)
		fputs("  no diagnosis\n", c->out);
	{
		uint64_t line = cs->line;
		size_t pos = 0;
		for (i = 0; i < c->nma; i++) {
			const match *m = &c->ma[i];
			size_t start = m->start <= cs->len ? m->start : cs->len;
			match mm = *m;
			for (; pos < start; pos++)
				line += cs->text[pos] == '\n';
			mm.start = start;
			mm.end = m->end <= cs->len ? m->end : cs->len;
			fputs("  matched ", c->out);
			put_text(c, cstr(m->pattern));
			fprintf(c->out, " at line %" PRIu64 ":\n", line);
			quote_match(c, cs->text, cs->len, &mm);
			fprintf(c->out, "    %s\n    %s\n", c->line.oom ? "(out of memory)" : c->line.p,
			       c->marks.oom ? "" : c->marks.p);
		}
	}
	if (c->explain && (c->nfi || c->nre))
		print_explain_human(c);
}

/* --- JSON output ---------------------------------------------------------------------------------- */

/* A JSON string of any bytes: each byte that belongs to no well-formed UTF-8 sequence becomes
 * U+FFFD, so the output is always valid JSON; NUL stays (jansson writes \u0000). */
static json_t *jtext(diag_ctx *c, text t)
{
	const unsigned char *u = (const unsigned char *)t.p;
	size_t i = 0, k;
	uint32_t cp;
	json_t *j;

	cli_sb_clear(&c->tmp);
	cli_sb_add(&c->tmp, "", 0);
	while (i < t.len) {
		k = cli_utf8_seq(u + i, t.len - i, &cp);
		if (k) {
			cli_sb_add(&c->tmp, t.p + i, k);
			i += k;
		} else {
			cli_sb_add(&c->tmp, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	if (c->tmp.oom)
		return NULL;
	j = json_stringn(c->tmp.p, c->tmp.len);
	return j;
}

static json_t *jstr(diag_ctx *c, const char *s)
{
	return s ? jtext(c, cstr(s)) : json_null();
}

/* Setters that remember a failure (out of memory) instead of stopping at each call; a NULL
 * value is a failure too. */
static void jset(diag_ctx *c, json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		c->json_oom = 1;
}

static void jpush(diag_ctx *c, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) != 0)
		c->json_oom = 1;
}

static json_t *jarray(diag_ctx *c)
{
	json_t *a = json_array();

	if (!a)
		c->json_oom = 1;
	return a;
}

static json_t *jobject(diag_ctx *c)
{
	json_t *o = json_object();

	if (!o)
		c->json_oom = 1;
	return o;
}

static void print_case_json(diag_ctx *c, const fx_case *cs, int diagnosed)
{
	json_t *o, *a, *x, *y;
	size_t i, j;
	uint64_t line = cs->line;
	size_t pos = 0;
	cli_explain ex;

	if (!diagnosed && c->nerrs == 0 && c->nma == 0 && c->in_json.len && !c->in_json.oom) {
		/* Nothing to say but the case's numbers: the line jansson would write, without
		 * building it object by object. */
		sbuf *b = &c->tmp;
		cli_sb_clear(b);
		cli_sb_add(b, c->in_json.p, c->in_json.len);
		sb_u64(b, cs->index);
		cli_sb_adds(b, ",\"line\":");
		sb_u64(b, cs->line);
		cli_sb_adds(b, cs->truncated ? ",\"truncated\":true" : ",\"truncated\":false");
		cli_sb_adds(b, ",\"dropped\":");
		sb_u64(b, cs->dropped);
		cli_sb_adds(b, ",\"diagnosed\":false,\"findings\":[],\"remedies\":[],\"matches\":[],"
		           "\"errors\":[]}\n");
		if (!b->oom && cs->index <= INT64_MAX && cs->line <= INT64_MAX &&
		    cs->dropped <= INT64_MAX) {
			fwrite(b->p, 1, b->len, c->out);
			return;
		}
	}
	explainer(c, &ex);
	o = jobject(c);
	if (!o)
		goto done;
	jset(c, o, "schema", json_string(SCHEMA));
	jset(c, o, "input", jstr(c, c->input));
	jset(c, o, "case", json_integer((json_int_t)cs->index));
	jset(c, o, "line", json_integer((json_int_t)cs->line));
	jset(c, o, "truncated", json_boolean(cs->truncated));
	jset(c, o, "dropped", json_integer((json_int_t)cs->dropped));
	jset(c, o, "diagnosed", json_boolean(diagnosed));

	jset(c, o, "findings", a = jarray(c));
	for (i = 0; a && i < c->nfi; i++) {
		const finding *f = &c->fi[i];
		jpush(c, a, x = jobject(c));
		if (!x)
			break;
		jset(c, x, "id", jtext(c, f->id));
		jset(c, x, "title", f->title ? jstr(c, f->title) : json_null());
		jset(c, x, "certainty", json_real(f->cf));
		jset(c, x, "rules", y = jarray(c));
		for (j = 0; y && j < f->n; j++) {
			const finding_fact *ff = &c->ff[f->first + j];
			if (j == 0 || !text_eq(ff->rule, c->ff[f->first + j - 1].rule))
				jpush(c, y, jtext(c, ff->rule));
		}
		if (c->explain) {
			jset(c, x, "explanation", y = jarray(c));
			cli_explain_forget(&ex);
			for (j = 0; y && j < f->n; j++)
				jpush(c, y, (json_t *)cli_explain_fact_json(&ex, c->ff[f->first + j].fact));
		}
	}

	jset(c, o, "remedies", a = jarray(c));
	for (i = 0; a && i < c->nre; i++) {
		const remedy *r = &c->re[i];
		int known = r->index >= 0;
		jpush(c, a, x = jobject(c));
		if (!x)
			break;
		jset(c, x, "id", jtext(c, r->id));
		jset(c, x, "title", known ? jstr(c, r->info.title) : json_null());
		jset(c, x, "steps", y = jarray(c));
		for (j = 0; y && known && j < r->info.nsteps; j++)
			jpush(c, y, jstr(c, r->info.steps[j]));
		jset(c, x, "warning", known ? jstr(c, r->info.warning) : json_null());
		jset(c, x, "cost", json_integer(r->cost));
		jset(c, x, "certainty", json_real(r->cf));
		jset(c, x, "score", json_real(r->score));
		jset(c, x, "findings", y = jarray(c));
		for (j = 0; y && j < r->n; j++) {
			const recommend_fact *rf = &c->rf[r->first + j];
			if (rf->finding.len &&
			    (j == 0 || !text_eq(rf->finding, c->rf[r->first + j - 1].finding)))
				jpush(c, y, jtext(c, rf->finding));
		}
		if (c->explain) {
			jset(c, x, "explanation", y = jarray(c));
			cli_explain_forget(&ex);
			for (j = 0; y && j < r->n; j++)
				jpush(c, y, (json_t *)cli_explain_fact_json(&ex, c->rf[r->first + j].fact));
		}
	}

	jset(c, o, "matches", a = jarray(c));
	for (i = 0; a && i < c->nma; i++) {
		const match *m = &c->ma[i];
		size_t start = m->start <= cs->len ? m->start : cs->len;
		size_t end = m->end <= cs->len ? m->end : cs->len;
		text t = {cs->text + start, end - start};
		for (; pos < start; pos++)
			line += cs->text[pos] == '\n';
		jpush(c, a, x = jobject(c));
		if (!x)
			break;
		jset(c, x, "pattern", jstr(c, m->pattern));
		jset(c, x, "start", json_integer((json_int_t)start));
		jset(c, x, "end", json_integer((json_int_t)end));
		jset(c, x, "line", json_integer((json_int_t)line));
		jset(c, x, "text", jtext(c, t));
	}

	jset(c, o, "errors", a = jarray(c));
	for (i = 0; a && i < c->nerrs; i++) {
		const case_error *e = &c->errs[i];
		jpush(c, a, x = jobject(c));
		if (!x)
			break;
		jset(c, x, "code", json_string(e->code));
		jset(c, x, "message", jstr(c, e->message ? e->message : "out of memory"));
		jset(c, x, "rule", jstr(c, e->rule));
	}
done:
	if (c->json_oom || !o || json_dumpf(o, c->out, JSON_COMPACT | JSON_REAL_PRECISION(6)) != 0) {
		/* Every case must appear: a line that says it could not be written in full. */
		fprintf(c->out, "{\"schema\":\"" SCHEMA "\",\"case\":%" PRIu64 ",\"errors\":[{\"code\":\"nomem\","
		       "\"message\":\"out of memory\",\"rule\":null}]}",
		       cs->index);
		c->error = 1;
	}
	fputc('\n', c->out);
	json_decref(o);
	cli_explain_dispose(&ex);
}

/* --- The progress bar ------------------------------------------------------------------------------ */

/* On standard error, for a person waiting on a large file: bytes read of the file's size, and
 * the rate. Only when stderr is a terminal and stdout is not (cases printed on the same terminal
 * would tear it), only for a regular file of at least PROGRESS_MIN_BYTES, and only \r and
 * spaces: no colour or other escape sequence, so NO_COLOR and TERM=dumb need nothing more. It is
 * cleared before anything else goes to stderr and when the file is done. */
struct progress {
	int allowed;       /* stderr is a terminal and stdout is not */
	int on;            /* the current input has a bar */
	int shown;         /* the bar is on the screen now */
	uint64_t size;     /* the file's size */
	uint64_t done;     /* bytes read so far */
	double start;      /* when the input was opened (monotonic seconds) */
	double last;       /* when the bar was last drawn */
	size_t width;      /* columns of the bar last drawn */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_clear(progress *pg)
{
	if (!pg || !pg->shown)
		return;
	fprintf(stderr, "\r%*s\r", (int)pg->width, "");
	fflush(stderr);
	pg->shown = 0;
}

static void progress_start(progress *pg, int fd)
{
	struct stat st;

	if (!pg)
		return;
	pg->on = pg->shown = 0;
	if (!pg->allowed || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < PROGRESS_MIN_BYTES)
		return;
	pg->on = 1;
	pg->size = (uint64_t)st.st_size;
	pg->done = 0;
	pg->start = pg->last = mono_now();
}

static void progress_add(progress *pg, size_t n)
{
	char bar[21], line[96];
	double t, mb, rate, frac;
	size_t i, fill;
	int len;

	if (!pg || !pg->on)
		return;
	pg->done += n;
	t = mono_now();
	if (pg->shown && t - pg->last < PROGRESS_PERIOD)
		return;
	pg->last = t;
	frac = pg->done >= pg->size ? 1.0 : (double)pg->done / (double)pg->size;
	fill = (size_t)(frac * 20);
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	mb = 1024.0 * 1024.0;
	rate = t > pg->start ? (double)pg->done / mb / (t - pg->start) : 0;
	len = snprintf(line, sizeof line, "fixit: [%s] %3.0f%% %.1f of %.1f MB, %.1f MB/s", bar,
	               frac * 100, (double)pg->done / mb, (double)pg->size / mb, rate);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof line)
		len = (int)sizeof line - 1;
	/* Spaces over what a longer previous bar left. */
	fprintf(stderr, "\r%s%*s", line, pg->width > (size_t)len ? (int)(pg->width - (size_t)len) : 0,
	        "");
	fflush(stderr);
	pg->width = (size_t)len;
	pg->shown = 1;
}

static void progress_end(progress *pg)
{
	progress_clear(pg);
	if (pg)
		pg->on = 0;
}

/* --- Diagnosing a case ------------------------------------------------------------------------------ */

static void on_warn(const fx_diag *d, void *ud)
{
	diag_ctx *c = ud;
	const char *file = d->file && *d->file ? d->file : c->input;
	uint64_t line = d->line ? d->line : c->cur ? c->cur->line : 0;

	FILE *e = c->err;

	/* Captured text may be any bytes: escape the whole line before it reaches the terminal. */
	progress_clear(c->pg);
	pend_flush(c);
	fflush(c->out);
	fputs("fixit: ", e);
	put_text_to(c, e, cstr(file));
	if (line)
		fprintf(e, ":%" PRIu64, line);
	fputs(": warning: ", e);
	put_text_to(c, e, cstr(d->message && *d->message ? d->message : "(no message)"));
	if (d->code && *d->code)
		fprintf(e, " [%s]", d->code);
	fputc('\n', e);
}

/* 1 when the chunk's line filter shows that case cs, one of its whole lines, holds nothing a
 * pattern may match (and the rules conclude nothing from the initial facts alone). */
static int filtered_out(diag_ctx *c, const fx_case *cs)
{
	line_filter *lf = &c->lf;
	if (!lf->on || !c->quiet || cs->truncated || cs->offset < lf->lo || cs->offset >= lf->hi)
		return 0;
	while (lf->next < lf->n && lf->spans[2 * lf->next + 1] < cs->offset)
		lf->next++;
	return lf->next == lf->n || lf->spans[2 * lf->next] > cs->offset;
}

/* Most lines of a log match no pattern. A case whose text asserts no new fact into a session
 * holding only the initial facts would have the rules run on those alone, which concludes
 * nothing when c->quiet (tested once, probe_quiet): such a case costs the scan and its
 * "no diagnosis", and leaves the session clean for the next. Only a case that asserted
 * something is run, and the session reset before the case after it. */
static int on_case(void *ud, const fx_case *cs)
{
	diag_ctx *c = ud;
	fx_origin origin;
	uint64_t fired = 0;
	size_t nnew = 0;
	int rc, diagnosed;

	c->cur = cs;
	c->ncases++;
	c->nma = c->nff = c->nfi = c->nrf = c->nre = 0;
	c->json_oom = 0;
	if (c->dirty) {
		rc = fx_session_reset(c->s);
		if (rc < 0) {
			add_session_error(c, "reset", rc);
			goto report;
		}
		c->dirty = 0;
	}
	if (c->skip || filtered_out(c, cs))
		goto report; /* as fx_text_assert asserting nothing, without the scan */
	memset(&origin, 0, sizeof origin);
	origin.input = c->input;
	origin.case_index = cs->index;
	origin.line = cs->line;
	origin.offset = cs->offset;
	rc = fx_text_assert(c->s, cs->text, cs->len, &origin, &nnew);
	if (rc == 0 && nnew == 0 && c->quiet)
		goto report;
	c->dirty = 1;
	if (rc < 0)
		add_session_error(c, "text", rc);
	if (collect_matches(c) < 0)
		add_error(c, "nomem", fx_strerror(FX_ENOMEM), NULL);
	rc = fx_session_run(c->s, c->limit, &fired);
	if (rc == FX_ELIMIT)
		add_session_error(c, "firing-limit", rc);
	else if (rc == FX_ERUNTIME)
		add_session_error(c, "runtime", rc);
	else if (rc < 0 && rc != FX_EHALT)
		add_session_error(c, "run", rc);
	if (collect_results(c) < 0)
		add_error(c, "nomem", fx_strerror(FX_ENOMEM), NULL);
report:
	diagnosed = c->nfi > 0 || c->nre > 0;
	if (diagnosed)
		c->diagnosed++;
	if (c->json) {
		pend_flush(c);
		print_case_json(c, cs, diagnosed);
	} else if (!print_nothing_human(c, cs)) {
		close_run(c);
		c->hold = 0;
		pend_flush(c);
		print_case_human(c, cs);
	}
	/* On a terminal, each answer as soon as it is ready; into a pipe or file, stdout is
	 * flushed before each read that may wait instead (diagnose_input). */
	if (c->tty)
		fflush(c->out);
	clear_errors(c);
	c->cur = NULL;
	return 0;
}

/* Whether a session holding only the initial facts concludes nothing when run (see on_case).
 * Leaves the session to be reset. */
static void probe_quiet(diag_ctx *c)
{
	uint64_t fired = 0;
	int rc = fx_session_run(c->s, c->limit, &fired);

	c->quiet = (rc == 0 || rc == FX_EHALT) && collect_results(c) == 0 && c->nfi == 0 &&
	           c->nre == 0;
	c->nff = c->nfi = c->nrf = c->nre = 0;
	c->dirty = 1;
}

/* --- Inputs --------------------------------------------------------------------------------------- */

/* The name cases of this input are reported under, and what its output repeats for each case:
 * the name escaped for a terminal, and the start of a JSON line. */
static void set_input(diag_ctx *c, const char *name)
{
	size_t col = 0, n;
	json_t *o;
	char *d = NULL;

	c->input = name;
	cli_sb_clear(&c->in_esc);
	cli_sb_add(&c->in_esc, "", 0);
	cli_sb_add_escaped(&c->in_esc, name, strlen(name), &col);
	cli_sb_clear(&c->in_json);
	if (!c->json)
		return;
	o = json_object();
	if (o && json_object_set_new(o, "schema", json_string(SCHEMA)) == 0 &&
	    json_object_set_new(o, "input", jstr(c, name)) == 0)
		d = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	n = d ? strlen(d) : 0;
	/* Without it, each case's object is built in full (print_case_json). */
	if (n > 1 && d[n - 1] == '}') {
		cli_sb_add(&c->in_json, d, n - 1);
		cli_sb_adds(&c->in_json, ",\"case\":");
	} else {
		c->in_json.oom = 1;
	}
	free(d);
}

/* --- Several threads (--jobs) ---------------------------------------------------------------------
 * The main thread reads and splits the input (the reader is fast and sequential) and packs the
 * cases, copied, into batches of about BATCH_BYTES. Worker threads, each with its own session
 * over the shared, immutable knowledge base (the matcher's lazily built parts are thread-safe;
 * each session has its own match scratch), diagnose whole batches and print them into memory
 * buffers, warnings into a second one. The main thread writes the buffers in the order the
 * batches were read, so the output is byte for byte that of one thread: a case's report depends
 * only on the case, since each case starts from the initial facts. At most JOBS_INFLIGHT batches
 * a thread are in flight, which bounds memory. Warnings come out after their batch's cases
 * rather than between them. When a pipe or terminal has nothing more to read right now (poll),
 * the batch so far is diagnosed and written at once, as `tail -f | fixit diagnose` expects. */

typedef struct bcase {
	fx_case c;               /* text set from off when the batch is run */
	size_t off;              /* where its text starts in the batch's text */
	int skip;                /* the main thread's line filter showed it matches nothing */
} bcase;

typedef struct batch {
	struct batch *next;      /* the work queue, or the free list */
	struct batch *onext;     /* the output order */
	const char *input;       /* the name its cases are reported under (lives as long as argv) */
	char *text;              /* the cases' texts, each followed by a NUL */
	size_t len, cap;
	bcase *cases;
	size_t n, ccap;
	char *out, *err;         /* what the cases printed, and their warnings */
	size_t outlen, errlen;
	size_t outcap, errcap;   /* kept when the batch is reused */
	nothing_run head, tail;  /* its first and last runs of cases with nothing to report,
	                            * when they start or end it (open set): the main thread joins
	                            * them to its neighbours' (write_batch) */
	uint64_t before;         /* cases of all inputs read before its first */
	uint64_t ncases, diagnosed;
	int error;               /* a case of it had an error */
	int oom;                 /* its output could not be kept */
	int done;                /* diagnosed (under the pool's lock) */
} batch;

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;     /* a batch was queued, or stop was set */
	pthread_cond_t done;     /* a batch was diagnosed */
	batch *qhead, *qtail;    /* waiting for a thread */
	batch *ohead, *otail;    /* submitted and not yet written, in input order */
	size_t inflight;         /* batches between submission and writing */
	int stop;
	uint64_t queued;         /* main thread only: cases submitted so far */
	/* main thread only: */
	batch *fill;             /* the batch being filled */
	batch *spare;            /* written batches kept for reuse */
	pthread_t *threads;
	diag_ctx *workers;       /* one context, with its session, per thread */
	size_t nthreads, started;
};

static void batch_free(batch *b)
{
	if (!b)
		return;
	free(b->text);
	free(b->cases);
	free(b->out);
	free(b->err);
	free(b);
}

/* Copies what a worker's stream holds since its start into *dst (capacity *cap, kept), then
 * rewinds the stream. 0 or -1. */
static int take_stream(FILE *f, char **dst, size_t *len, size_t *cap, const char *const *buf)
{
	long n;

	*len = 0;
	if (fflush(f) != 0 || (n = ftell(f)) < 0)
		return -1;
	if ((size_t)n > *cap) {
		char *p = realloc(*dst, (size_t)n);
		if (!p)
			return -1;
		*dst = p;
		*cap = (size_t)n;
	}
	if (n > 0)
		memcpy(*dst, *buf, (size_t)n);
	*len = (size_t)n;
	return fseek(f, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* A worker prints into streams of its own (open_memstream, opened once: their buffers stay
 * and are overwritten batch after batch), whose bytes are then copied into the batch. Opening
 * one a batch instead costs a storm of page faults that, taking the address space's lock,
 * serialized the threads. */
static void run_batch(diag_ctx *w, batch *b)
{
	size_t i;

	if (!w->out || !w->err) {
		b->oom = 1;
		return;
	}
	if (w->input != b->input)
		set_input(w, b->input);
	/* The count goes on from the cases before: a human report separates a case from the one
	 * before it. */
	w->ncases = b->before;
	w->diagnosed = 0;
	w->error = 0;
	w->hold = 1;
	w->held.open = 0;
	for (i = 0; i < b->n; i++) {
		b->cases[i].c.text = b->text + b->cases[i].off;
		w->skip = b->cases[i].skip;
		on_case(w, &b->cases[i].c);
	}
	w->skip = 0;
	b->tail.open = 0;
	if (w->run.open && !w->hold) {
		b->tail = w->run; /* after a case printed in full */
		w->run.open = 0;
	}
	close_run(w); /* a run over the whole batch: held */
	b->head = w->held;
	w->hold = 0;
	b->ncases = w->ncases - b->before;
	b->diagnosed = w->diagnosed;
	b->error = w->error;
	pend_flush(w);
	if (take_stream(w->out, &b->out, &b->outlen, &b->outcap, (const char *const *)&w->mem_out) < 0 ||
	    take_stream(w->err, &b->err, &b->errlen, &b->errcap, (const char *const *)&w->mem_err) < 0)
		b->oom = 1;
}

static void *worker_main(void *arg)
{
	diag_ctx *w = arg;
	pool *p = w->pool;
	batch *b;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->qhead && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->qhead)
			break;
		b = p->qhead;
		p->qhead = b->next;
		if (!p->qhead)
			p->qtail = NULL;
		pthread_mutex_unlock(&p->lock);
		run_batch(w, b);
		pthread_mutex_lock(&p->lock);
		b->done = 1;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The main thread's side: a finished batch's output, then its warnings, and its counts. */
static void write_batch(diag_ctx *c, batch *b)
{
	progress_clear(c->pg);
	if (b->head.open && !b->oom) {
		if (c->run.open && b->head.first == c->run.last + 1) {
			c->run.last = b->head.last;
			c->run.last_line = b->head.last_line;
		} else {
			close_run(c);
			c->run = b->head;
		}
	}
	if (b->outlen || b->oom) {
		close_run(c);
		pend_flush(c);
	}
	if (b->oom) {
		fflush(stdout);
		cli_error("%s: out of memory: the reports of %zu cases are lost", b->input, b->n);
		c->error = 1;
	} else {
		if (b->outlen)
			fwrite(b->out, 1, b->outlen, stdout);
		if (b->errlen) {
			fflush(stdout);
			fwrite(b->err, 1, b->errlen, stderr);
		}
	}
	if (b->tail.open && !b->oom)
		c->run = b->tail;
	c->ncases += b->ncases;
	c->diagnosed += b->diagnosed;
	c->error |= b->error;
}

/* Writes the batches diagnosed so far in input order, waiting for more until at most `keep`
 * remain in flight. */
static void drain(diag_ctx *c, size_t keep)
{
	pool *p = c->pool;
	batch *b;

	pthread_mutex_lock(&p->lock);
	while ((b = p->ohead) != NULL) {
		if (!b->done) {
			if (p->inflight <= keep)
				break;
			pthread_cond_wait(&p->done, &p->lock);
			continue;
		}
		p->ohead = b->onext;
		if (!p->ohead)
			p->otail = NULL;
		p->inflight--;
		pthread_mutex_unlock(&p->lock);
		write_batch(c, b);
		b->next = p->spare;
		p->spare = b;
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Hands the batch being filled to the threads. */
static void submit(diag_ctx *c)
{
	pool *p = c->pool;
	batch *b = p->fill;

	if (!b || b->n == 0)
		return;
	p->fill = NULL;
	b->next = b->onext = NULL;
	b->done = b->oom = b->error = 0;
	b->ncases = b->diagnosed = 0;
	b->outlen = b->errlen = 0;
	b->before = p->queued;
	p->queued += b->n;
	pthread_mutex_lock(&p->lock);
	if (p->qtail)
		p->qtail->next = b;
	else
		p->qhead = b;
	p->qtail = b;
	if (p->otail)
		p->otail->onext = b;
	else
		p->ohead = b;
	p->otail = b;
	p->inflight++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	drain(c, JOBS_INFLIGHT * p->nthreads);
}

/* Room for n more bytes of text and one more case in the batch being filled. 0 or -1. */
static int batch_room(pool *p, const char *input, size_t n)
{
	batch *b = p->fill;

	if (!b) {
		b = p->spare;
		if (b)
			p->spare = b->next;
		else if (!(b = calloc(1, sizeof *b)))
			return -1;
		b->input = input;
		b->len = b->n = 0;
		p->fill = b;
	}
	if (grow(&b->cases, &b->ccap, b->n, sizeof *b->cases) < 0)
		return -1;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : BATCH_BYTES + BATCH_BYTES / 4;
		char *t;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		t = realloc(b->text, cap);
		if (!t)
			return -1;
		b->text = t;
		b->cap = cap;
	}
	return 0;
}

/* The reader's callback with --jobs: the case goes into the current batch. */
static int on_case_queue(void *ud, const fx_case *cs)
{
	diag_ctx *c = ud;
	pool *p = c->pool;
	batch *b;

	if (p->fill && p->fill->input != c->input)
		submit(c);
	if (cs->len == SIZE_MAX || batch_room(p, c->input, cs->len + 1) < 0)
		return FX_ENOMEM;
	b = p->fill;
	b->cases[b->n].c = *cs;
	b->cases[b->n].c.text = NULL;
	b->cases[b->n].off = b->len;
	b->cases[b->n].skip = filtered_out(c, cs);
	memcpy(b->text + b->len, cs->text, cs->len);
	b->text[b->len + cs->len] = '\0';
	b->len += cs->len + 1;
	b->n++;
	if (b->len >= BATCH_BYTES || b->n >= BATCH_CASES)
		submit(c);
	return 0;
}

/* Stops and joins the threads once everything is written, and frees the pool. */
static void pool_free(diag_ctx *c)
{
	pool *p = c->pool;
	size_t i;

	if (!p)
		return;
	submit(c);
	drain(c, 0);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->started; i++)
		pthread_join(p->threads[i], NULL);
	for (i = 0; i < p->nthreads; i++) {
		diag_ctx *w = &p->workers[i];
		if (w->out)
			fclose(w->out);
		if (w->err)
			fclose(w->err);
		free(w->mem_out);
		free(w->mem_err);
		clear_errors(w);
		fx_session_free(w->s);
		free(w->ff);
		free(w->fi);
		free(w->rf);
		free(w->re);
		free(w->ma);
		free(w->tmp.p);
		free(w->line.p);
		free(w->marks.p);
		free(w->in_esc.p);
		free(w->in_json.p);
		free(w->pend);
	}
	batch_free(p->fill);
	while (p->spare) {
		batch *b = p->spare;
		p->spare = b->next;
		batch_free(b);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->threads);
	free(p->workers);
	free(p);
	c->pool = NULL;
}

/* Starts n threads, each with a session over c's kb and c's settings. 0, or -1 with nothing
 * started (the caller then goes on with one thread). */
static int pool_new(diag_ctx *c, size_t n)
{
	pool *p = calloc(1, sizeof *p);
	size_t i;

	if (!p)
		return -1;
	p->threads = calloc(n, sizeof *p->threads);
	p->workers = calloc(n, sizeof *p->workers);
	if (!p->threads || !p->workers || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->threads);
		free(p->workers);
		free(p);
		return -1;
	}
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->nthreads = n;
	c->pool = p;
	for (i = 0; i < n; i++) {
		diag_ctx *w = &p->workers[i];
		w->kb = c->kb;
		w->json = c->json;
		w->explain = c->explain;
		w->dot = c->dot;
		w->color = c->color;
		w->limit = c->limit;
		w->t_finding = c->t_finding;
		w->t_recommend = c->t_recommend;
		w->f_id = c->f_id;
		w->f_cf = c->f_cf;
		w->f_rule = c->f_rule;
		w->r_remedy = c->r_remedy;
		w->r_finding = c->r_finding;
		w->quiet = c->quiet;
		w->pool = p;
		w->pend = malloc(PEND_SIZE); /* NULL: records written one by one */
		w->out = open_memstream(&w->mem_out, &w->mem_outlen);
		w->err = open_memstream(&w->mem_err, &w->mem_errlen);
		if (!w->out || !w->err || fx_session_new(&w->s, c->kb) < 0) {
			pool_free(c);
			return -1;
		}
		fx_session_set_warn(w->s, on_warn, w);
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0)
			break;
		p->started++;
	}
	if (p->started == 0) {
		pool_free(c);
		return -1;
	}
	return 0;
}

/* 1 when fd has bytes to read right now (or is at its end): always so for a regular file. */
static int input_ready(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};

	return poll(&pfd, 1, 0) != 0;
}

/* One input ("-": standard input) through a fresh reader. read(2) rather than stdio, so that
 * a paste on a terminal is answered at its blank line, not when a buffer fills. */
static int on_line(void *ud, size_t start, size_t end)
{
	line_filter *lf = ud;

	if (2 * lf->n + 1 >= lf->cap &&
	    grow(&lf->spans, &lf->cap, 2 * lf->n + 1, sizeof *lf->spans) < 0) {
		lf->oom = 1;
		return 1;
	}
	lf->spans[2 * lf->n] = lf->base + start;
	lf->spans[2 * lf->n + 1] = lf->base + end;
	lf->n++;
	return 0;
}

/* --lines: finds the lines of buf[0, n) (at input offset `at`) on which a pattern may match.
 * Only the chunk's whole lines are judged: the first line may have begun in the previous
 * chunk and the last may go on in the next, so those two are always scanned. */
static void filter_lines(diag_ctx *c, const char *buf, size_t n, uint64_t at)
{
	line_filter *lf = &c->lf;
	size_t lo = 0, hi = n;

	lf->on = 0;
	while (lo < n && buf[lo] != '\n' && buf[lo] != '\r')
		lo++;
	while (hi > lo && buf[hi - 1] != '\n' && buf[hi - 1] != '\r')
		hi--;
	if (lo == n || hi <= lo + 1)
		return;
	lo++;
	lf->n = lf->next = 0;
	lf->base = at + lo;
	lf->oom = 0;
	if (fx_text_scan_lines(c->s, buf + lo, hi - lo, on_line, lf) != 0 || lf->oom)
		return;
	lf->lo = at + lo;
	lf->hi = at + hi;
	lf->on = 1;
}

static void diagnose_input(diag_ctx *c, const char *path, fx_read_mode mode, char *buf)
{
	int fd, rc = 0, typing, is_stdin = strcmp(path, "-") == 0;
	fx_reader *r = NULL;
	ssize_t n;
	uint64_t offset = 0;

	fx_case_fn fn = c->pool ? on_case_queue : on_case;

	set_input(c, is_stdin ? "<stdin>" : path);
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
	if (fd < 0) {
		if (c->pool)
			drain(c, 0); /* the messages in the order of the inputs */
		cli_error("%s: %s", path, strerror(errno));
		c->error = 1;
		return;
	}
	rc = fx_reader_new(&r, mode, 0);
	if (rc < 0) {
		cli_error("%s: %s", c->input, fx_strerror(rc));
		c->error = 1;
		goto done;
	}
	progress_start(c->pg, fd);
	typing = isatty(fd);
	for (;;) {
		/* A log read as it grows (tail -f | fixit diagnose) gets its answers before the
		 * reader waits for more, one flush a chunk rather than one a case. */
		if ((c->pool || typing) && !input_ready(fd)) {
			if (c->pool) {
				submit(c);
				drain(c, 0);
			}
			/* Someone typing or pasting sees "no diagnosis" at once. Elsewhere a
			 * run goes on (to the next case shown in full, or the input's end), so
			 * that a report does not depend on how the input arrived. */
			if (typing)
				close_run(c);
		}
		pend_flush(c);
		fflush(stdout);
		n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* What was read is still diagnosed. */
			progress_clear(c->pg);
			cli_error("%s: %s", c->input, strerror(errno));
			c->error = 1;
			break;
		}
		if (n == 0)
			break;
		if (mode == FX_READ_LINES && c->quiet)
			filter_lines(c, buf, (size_t)n, offset);
		offset += (uint64_t)n;
		rc = fx_reader_feed(r, buf, (size_t)n, fn, c);
		if (rc < 0)
			break;
		progress_add(c->pg, (size_t)n);
	}
	if (rc >= 0)
		rc = fx_reader_finish(r, fn, c);
	if (c->pool) {
		submit(c);
		drain(c, 0);
	}
	close_run(c);
	pend_flush(c);
	progress_end(c->pg);
	if (rc < 0) {
		cli_error("%s: %s", c->input, fx_strerror(rc));
		c->error = 1;
	}
done:
	fx_reader_free(r);
	free(c->lf.spans);
	memset(&c->lf, 0, sizeof c->lf);
	if (!is_stdin)
		close(fd);
}

/* --- The knowledge base ----------------------------------------------------------------------------- */

static size_t slot_index(const fx_kb *kb, long t, const char *name)
{
	size_t i, n = t >= 0 ? fx_kb_template_slot_count(kb, (size_t)t) : 0;

	for (i = 0; i < n; i++) {
		const char *s = fx_kb_template_slot_name(kb, (size_t)t, i);
		if (s && strcmp(s, name) == 0)
			return i;
	}
	return 0;
}

/* The built-in templates are in every knowledge base (the prelude); look them up once. */
static void find_templates(diag_ctx *c)
{
	c->t_finding = fx_kb_template_find(c->kb, "finding");
	c->t_recommend = fx_kb_template_find(c->kb, "recommend");
	c->f_id = slot_index(c->kb, c->t_finding, "id");
	c->f_cf = slot_index(c->kb, c->t_finding, "certainty");
	c->f_rule = slot_index(c->kb, c->t_finding, "rule");
	c->r_remedy = slot_index(c->kb, c->t_recommend, "remedy");
	c->r_finding = slot_index(c->kb, c->t_recommend, "finding");
}

/* --- The command ------------------------------------------------------------------------------------- */

static int stdout_color(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	       !(term && strcmp(term, "dumb") == 0);
}

/* stdout's buffer when it is not a terminal; static, so it outlives the command. */
static char out_buf[1 << 18];

int cli_diagnose_main(const cli_command *cmd, int argc, char **argv)
{
	diag_ctx c;
	cli_args a;
	const char **rules = calloc((size_t)argc + 1, sizeof *rules);
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	cli_kb_opts ko;
	char *buf = NULL;
	size_t nrules = 0, ninputs = 0, i;
	fx_read_mode mode = FX_READ_BLOCKS;
	int key, mode_opt = 0, status = CLI_EXIT_OK, rc;
	uint64_t jobs = 1;
	progress pg;

	memset(&c, 0, sizeof c);
	memset(&pg, 0, sizeof pg);
	c.out = stdout;
	c.err = stderr;
	/* Output of a log is one small write a case: through a large buffer unless a person is
	 * watching (the first output on stdout comes after this). */
	c.tty = isatty(STDOUT_FILENO);
	if (!c.tty) {
		setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
		c.pend = malloc(PEND_SIZE); /* NULL: records written one by one */
	}
	if (!rules || !inputs) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			inputs[ninputs++] = a.value;
			break;
		case 'r':
			rules[nrules++] = a.value;
			break;
		case 'l':
		case 'w':
			if ((status = cli_read_mode_option(cmd, key, &mode_opt, &mode)) != 0)
				goto done;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'e':
			c.explain = 1;
			break;
		case 'd':
			c.dot = 1;
			break;
		case 'n':
			if (cli_parse_u64(cmd->name, "limit", a.value, &c.limit) < 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		case 'J':
			if (cli_parse_u64(cmd->name, "jobs", a.value, &jobs) < 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	if (c.dot && c.json) {
		cli_usage_error(cmd->name, "options '--dot' and '--json' exclude each other");
		status = CLI_EXIT_USAGE;
		goto done;
	}
	/* The built-in kb in its lean form: tools/embed-kb.sh blanks the comments, docs, examples
	 * and near-misses diagnosing never reads (every other line stays where it was, so
	 * explanations cite the real file:line) and leaves the test cases out. */
	memset(&ko, 0, sizeof ko);
	ko.rules = rules;
	ko.nrules = nrules;
	ko.lean = 1;
	status = cli_kb_load(&c.kb, &ko, NULL);
	if (status != CLI_EXIT_OK)
		goto done;
	find_templates(&c);
	rc = fx_session_new(&c.s, c.kb);
	buf = malloc(READ_CHUNK);
	if (rc < 0 || !buf) {
		cli_error("cannot start a session: %s", fx_strerror(rc < 0 ? rc : FX_ENOMEM));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	fx_session_set_warn(c.s, on_warn, &c);
	probe_quiet(&c);
	c.color = !c.json && !c.dot && stdout_color();
	pg.allowed = isatty(STDERR_FILENO) && !c.tty;
	c.pg = &pg;
	if (jobs == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = cores > 0 ? (uint64_t)cores : 1;
	}
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	/* Without threads (none could start) one thread does the same work. */
	if (jobs > 1)
		(void)pool_new(&c, (size_t)jobs);
	if (ninputs == 0)
		inputs[ninputs++] = "-";
	for (i = 0; i < ninputs; i++)
		diagnose_input(&c, inputs[i], mode, buf);
	pool_free(&c);
	status = c.error ? CLI_EXIT_ERROR : c.diagnosed ? CLI_EXIT_OK : CLI_EXIT_NO;
done:
	clear_errors(&c);
	fx_session_free(c.s);
	fx_kb_free(c.kb);
	free(c.ff);
	free(c.fi);
	free(c.rf);
	free(c.re);
	free(c.ma);
	free(c.tmp.p);
	free(c.line.p);
	free(c.marks.p);
	free(c.in_esc.p);
	free(c.in_json.p);
	free(c.pend);
	free(buf);
	free(rules);
	free(inputs);
	return status;
}
