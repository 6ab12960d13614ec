/* cli_coverage.c: `fixit coverage`: runs a knowledge base over a corpus of real messages and
 * reports how much of it the kb explains (diagnosed, ambiguous, nothing), which patterns never
 * matched and which rules never fired, the unexplained messages grouped by their shape, and,
 * against a baseline kb, which cases a change gained, lost or ranks differently. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_kb.h"

#define SCHEMA "fixit-coverage/1"
/* A shape longer than this is cut: it names a kind of message, not the message. */
#define SHAPE_MAX 160

/* One kb run over the corpus. */
typedef struct runner {
	fx_kb *kb;
	fx_session *s;
	unsigned char *fired;   /* per rule: fired on some case */
	unsigned char *matched; /* per pattern: matched some case */
	size_t *porder;         /* pattern indexes sorted by name, to find a pattern's index */
	size_t npatterns;
	cli_outcome out;        /* the last case's diagnosis */
} runner;

/* A case the kb does not explain, or one whose verdict changed against the baseline. */
typedef struct note {
	char *where;            /* "input:line" */
	char *shape;            /* nothing cases: the masked text; changes: NULL */
	char *from, *to;        /* top remedies before and after (changes), or NULL */
	int kind;               /* NOTE_* */
	size_t seq;             /* order of the case in the corpus: qsort is not stable */
} note;

enum { NOTE_NOTHING, NOTE_GAINED, NOTE_LOST, NOTE_CHANGED };

typedef struct cov_ctx {
	runner cur, base;
	int has_base;
	const char *input;      /* the file being read */
	uint64_t ncases, diagnosed, ambiguous, nothing;
	note *notes;
	size_t nnotes;
	int error;
} cov_ctx;

/* --- Running a kb ---------------------------------------------------------------------------- */

static void on_trace(fx_session *s, const fx_trace *t, void *ud)
{
	runner *r = ud;

	(void)s;
	if (t->event == FX_EV_FIRE && t->rule >= 0 && (size_t)t->rule < fx_kb_rule_count(r->kb))
		r->fired[t->rule] = 1;
}

static const fx_kb *sort_kb; /* qsort has no user data; set around the one call below */

static int pattern_cmp(const void *a, const void *b)
{
	return strcmp(fx_kb_pattern_name(sort_kb, *(const size_t *)a),
	              fx_kb_pattern_name(sort_kb, *(const size_t *)b));
}

static int runner_init(runner *r)
{
	size_t i, nr = fx_kb_rule_count(r->kb);

	r->npatterns = fx_kb_pattern_count(r->kb);
	r->fired = calloc(nr + 1, 1);
	r->matched = calloc(r->npatterns + 1, 1);
	r->porder = calloc(r->npatterns + 1, sizeof *r->porder);
	if (!r->fired || !r->matched || !r->porder)
		return FX_ENOMEM;
	for (i = 0; i < r->npatterns; i++)
		r->porder[i] = i;
	sort_kb = r->kb;
	if (r->npatterns)
		qsort(r->porder, r->npatterns, sizeof *r->porder, pattern_cmp);
	sort_kb = NULL;
	return fx_session_new(&r->s, r->kb);
}

static void runner_dispose(runner *r)
{
	fx_session_free(r->s);
	fx_kb_free(r->kb);
	cli_outcome_dispose(&r->out);
	free(r->fired);
	free(r->matched);
	free(r->porder);
	memset(r, 0, sizeof *r);
}

static void mark_pattern(runner *r, const char *name)
{
	size_t lo = 0, hi = r->npatterns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fx_kb_pattern_name(r->kb, r->porder[mid]), name);
		if (c == 0) {
			r->matched[r->porder[mid]] = 1;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

/* One case through a fresh session: text to facts, the rules, the diagnosis. */
static int run_case(runner *r, const char *text, size_t len, const fx_origin *origin)
{
	uint64_t id = 0, fired;
	int rc;

	cli_outcome_dispose(&r->out);
	rc = fx_session_reset(r->s);
	if (rc == 0)
		rc = fx_text_assert(r->s, text, len, origin, NULL);
	while (rc == 0 && fx_session_fact_next(r->s, id, &id)) {
		fx_text_origin o;
		if (fx_text_origin_get(r->s, id, &o) == 1 && o.pattern)
			mark_pattern(r, o.pattern);
	}
	fx_session_set_trace(r->s, on_trace, r);
	if (rc == 0) {
		rc = fx_session_run(r->s, 0, &fired);
		if (rc == FX_EHALT)
			rc = 0;
	}
	fx_session_set_trace(r->s, NULL, NULL);
	if (rc == 0)
		rc = cli_outcome_get(&r->out, r->kb, r->s);
	return rc;
}

/* --- Shapes ---------------------------------------------------------------------------------- */

static int word_char(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Length of a date (2024-01-31, 2024/01/31) or time (12:34, 12:34:56.789) at p, or 0. */
static size_t date_len(const char *p)
{
	size_t i = 0, k;

	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
	    (p[4] == '-' || p[4] == '/') && isdigit((unsigned char)p[5]) &&
	    isdigit((unsigned char)p[6]) && p[7] == p[4] && isdigit((unsigned char)p[8]) &&
	    isdigit((unsigned char)p[9]))
		return 10;
	for (k = 0; k < 2 && isdigit((unsigned char)p[i]); k++)
		i++;
	if (k == 0 || p[i] != ':' || !isdigit((unsigned char)p[i + 1]) ||
	    !isdigit((unsigned char)p[i + 2]))
		return 0;
	i += 3;
	if (p[i] == ':' && isdigit((unsigned char)p[i + 1]) && isdigit((unsigned char)p[i + 2]))
		i += 3;
	if (p[i] == '.' && isdigit((unsigned char)p[i + 1]))
		for (i++; isdigit((unsigned char)p[i]); i++)
			;
	return i;
}

/* Length of a hexadecimal token at p: 0x..., or 8 or more hex digits and dashes holding a
 * digit (ids, UUIDs); 0 when there is none. */
static size_t hex_len(const char *p)
{
	size_t i = 0, digits = 0;
	int has_digit = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
		for (i = 2; isxdigit((unsigned char)p[i]); i++)
			;
		return word_char((unsigned char)p[i]) ? 0 : i;
	}
	for (; isxdigit((unsigned char)p[i]) || (p[i] == '-' && isxdigit((unsigned char)p[i + 1]));
	     i++) {
		if (p[i] != '-')
			digits++;
		if (isdigit((unsigned char)p[i]))
			has_digit = 1;
	}
	return digits >= 8 && has_digit && !word_char((unsigned char)p[i]) ? i : 0;
}

/* Length of a path at p: /a/b, ~/a, C:\a\b, with a second separator; 0 when none. */
static size_t path_len(const char *p)
{
	size_t i = 0, seps = 0;
	char sep = '/';

	if (p[0] == '~' && p[1] == '/')
		i = 1;
	else if (isalpha((unsigned char)p[0]) && p[1] == ':' && p[2] == '\\')
		i = 2, sep = '\\';
	if (p[i] != sep)
		return 0;
	for (; p[i] && !isspace((unsigned char)p[i]) && p[i] != '"' && p[i] != '\'' && p[i] != ',';
	     i++)
		seps += p[i] == sep;
	while (i > 0 && (p[i - 1] == '.' || p[i - 1] == ':' || p[i - 1] == ')'))
		i--;
	return seps >= 2 || (seps == 1 && i > 1 && p[0] == '~') ? i : 0;
}

/* Length of a quoted text at p ("...", '...', curly quotes) on one line, or 0. */
static size_t quote_len(const char *p, int after_word)
{
	const char *open[] = {"\"", "'", "\xe2\x80\x9c", "\xe2\x80\x98"};
	const char *close[] = {"\"", "'", "\xe2\x80\x9d", "\xe2\x80\x99"};
	size_t k;

	for (k = 0; k < 4; k++) {
		size_t lo = strlen(open[k]), lc = strlen(close[k]);
		const char *q;
		if (strncmp(p, open[k], lo) != 0)
			continue;
		/* An apostrophe inside a word (don't) opens nothing. */
		if (k == 1 && after_word)
			return 0;
		for (q = p + lo; *q && *q != '\n'; q++)
			if (strncmp(q, close[k], lc) == 0) {
				/* ...nor one a word goes on after (it's, iPhone's). */
				if (k == 1 && word_char((unsigned char)q[lc]))
					continue;
				return (size_t)(q - p) + lc;
			}
		return 0;
	}
	return 0;
}

/* The shape of a message: dates, times, quoted texts, paths, hex ids and numbers masked,
 * blank runs (line ends included) made one space, cut at SHAPE_MAX bytes. */
static char *shape_of(const char *t, size_t len)
{
	char *out = malloc(SHAPE_MAX + 8), *z = NULL;
	size_t o = 0, i = 0;

	if (!out)
		return NULL;
	/* The maskers look ahead: work on a NUL-terminated copy, NULs made spaces. */
	z = malloc(len + 4);
	if (!z) {
		free(out);
		return NULL;
	}
	for (i = 0; i < len; i++)
		z[i] = t[i] ? t[i] : ' ';
	memset(z + len, 0, 4);
	for (i = 0; i < len && o < SHAPE_MAX;) {
		unsigned char c = (unsigned char)z[i];
		int after = i > 0 && word_char((unsigned char)z[i - 1]);
		const char *mask = NULL;
		size_t n = 0;
		if (isspace(c)) {
			while (i < len && isspace((unsigned char)z[i]))
				i++;
			if (o > 0 && i < len)
				out[o++] = ' ';
			continue;
		}
		if (!after && (n = date_len(z + i)) != 0)
			mask = strchr(z + i, ':') == z + i + n || z[i + 2] == ':' || z[i + 1] == ':'
			           ? "<time>"
			           : "<date>";
		else if ((n = quote_len(z + i, after)) != 0)
			mask = "<str>";
		else if (!after && (n = path_len(z + i)) != 0)
			mask = "<path>";
		else if (!after && (n = hex_len(z + i)) != 0)
			mask = "<hex>";
		else if (isdigit(c)) {
			for (n = 0; isdigit((unsigned char)z[i + n]) ||
			            (z[i + n] == '.' && isdigit((unsigned char)z[i + n + 1]));
			     n++)
				;
			mask = "<n>";
		}
		if (mask) {
			size_t m = strlen(mask);
			if (o + m > SHAPE_MAX)
				break;
			memcpy(out + o, mask, m);
			o += m;
			i += n;
		} else {
			out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
			i++;
		}
	}
	if (i < len && o <= SHAPE_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	free(z);
	return out;
}

/* --- Cases ----------------------------------------------------------------------------------- */

static int add_note(cov_ctx *c, int kind, const char *where, char *shape, const char *from,
                    const char *to)
{
	note *q = realloc(c->notes, (c->nnotes + 1) * sizeof *q), *n;

	if (!q) {
		free(shape);
		return FX_ENOMEM;
	}
	c->notes = q;
	n = &c->notes[c->nnotes];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->seq = c->nnotes;
	n->shape = shape;
	n->where = cli_strdup(where);
	n->from = from ? cli_strdup(from) : NULL;
	n->to = to ? cli_strdup(to) : NULL;
	c->nnotes++;
	if (!n->where || (from && !n->from) || (to && !n->to))
		return FX_ENOMEM;
	return 0;
}

static int diagnosed(const cli_outcome *o)
{
	return o->nfindings > 0 || o->nremedies > 0;
}

static const char *top(const cli_outcome *o)
{
	return o->nremedies ? o->remedies[0].id : NULL;
}

static int cover_text(cov_ctx *c, const char *where, const char *text, size_t len,
                      const fx_origin *origin)
{
	int rc, now, before;

	c->ncases++;
	rc = run_case(&c->cur, text, len, origin);
	if (rc < 0) {
		cli_error("%s: %s", where, fx_strerror(rc));
		c->error = 1;
		return 0;
	}
	now = diagnosed(&c->cur.out);
	if (!now) {
		char *shape = shape_of(text, len);
		c->nothing++;
		if (!shape || add_note(c, NOTE_NOTHING, where, shape, NULL, NULL) < 0)
			return FX_ENOMEM;
	} else if (cli_outcome_ambiguous(&c->cur.out)) {
		c->ambiguous++;
	} else {
		c->diagnosed++;
	}
	if (!c->has_base)
		return 0;
	rc = run_case(&c->base, text, len, origin);
	if (rc < 0) {
		cli_error("%s: baseline: %s", where, fx_strerror(rc));
		c->error = 1;
		return 0;
	}
	before = diagnosed(&c->base.out);
	if (now && !before)
		rc = add_note(c, NOTE_GAINED, where, NULL, NULL, top(&c->cur.out));
	else if (!now && before)
		rc = add_note(c, NOTE_LOST, where, NULL, top(&c->base.out), NULL);
	else if (now && top(&c->cur.out) && top(&c->base.out) &&
	         strcmp(top(&c->cur.out), top(&c->base.out)) != 0)
		rc = add_note(c, NOTE_CHANGED, where, NULL, top(&c->base.out), top(&c->cur.out));
	return rc;
}

static int on_case(void *ud, const fx_case *cs)
{
	cov_ctx *c = ud;
	fx_origin origin;
	char where[64];
	char *w;
	size_t n = strlen(c->input);
	int rc;

	memset(&origin, 0, sizeof origin);
	origin.input = c->input;
	origin.case_index = cs->index;
	origin.line = cs->line;
	origin.offset = cs->offset;
	snprintf(where, sizeof where, ":%llu", (unsigned long long)cs->line);
	w = malloc(n + strlen(where) + 1);
	if (!w)
		return FX_ENOMEM;
	memcpy(w, c->input, n);
	strcpy(w + n, where);
	rc = cover_text(c, w, cs->text, cs->len, &origin);
	free(w);
	return rc;
}

/* --- Reports --------------------------------------------------------------------------------- */

static int note_shape_cmp(const void *a, const void *b)
{
	const note *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->kind == NOTE_NOTHING) {
		int r = strcmp(x->shape, y->shape);
		if (r)
			return r;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A group of nothing cases of one shape: notes[first .. first + n). */
typedef struct group {
	size_t first, n;
} group;

static const note *group_notes;

static int group_cmp(const void *a, const void *b)
{
	const group *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(group_notes[x->first].shape, group_notes[y->first].shape);
}

/* The nothing notes grouped by shape, biggest group first. Notes must be sorted by kind, shape
 * and corpus order, so the first of a group is its first case. */
static group *make_groups(const cov_ctx *c, size_t *ngroups)
{
	group *g = calloc(c->nnotes + 1, sizeof *g);
	size_t i, n = 0;

	*ngroups = 0;
	if (!g)
		return NULL;
	for (i = 0; i < c->nnotes && c->notes[i].kind == NOTE_NOTHING; i++) {
		if (n == 0 || strcmp(c->notes[g[n - 1].first].shape, c->notes[i].shape) != 0)
			g[n++].first = i;
		g[n - 1].n++;
	}
	group_notes = c->notes;
	if (n)
		qsort(g, n, sizeof *g, group_cmp);
	group_notes = NULL;
	*ngroups = n;
	return g;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static size_t count_zero(const unsigned char *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += !v[i];
	return k;
}

static void print_text(const cov_ctx *c, const group *g, size_t ngroups)
{
	const fx_kb *kb = c->cur.kb;
	size_t i, nr = fx_kb_rule_count(kb), np = c->cur.npatterns;
	size_t unmatched = count_zero(c->cur.matched, np), unfired = count_zero(c->cur.fired, nr);
	int k;

	printf("%llu case%s\n", (unsigned long long)c->ncases, c->ncases == 1 ? "" : "s");
	printf("  diagnosed  %6llu  %5.1f%%\n", (unsigned long long)c->diagnosed,
	       pct(c->diagnosed, c->ncases));
	printf("  ambiguous  %6llu  %5.1f%%  (top two remedies within %.0f%% of each other)\n",
	       (unsigned long long)c->ambiguous, pct(c->ambiguous, c->ncases),
	       100 * (1 - CLI_AMBIGUOUS_RATIO));
	printf("  nothing    %6llu  %5.1f%%\n", (unsigned long long)c->nothing,
	       pct(c->nothing, c->ncases));

	printf("\npatterns never matched: %zu of %zu\n", unmatched, np);
	for (i = 0; i < np; i++)
		if (!c->cur.matched[i])
			printf("  %s\n", fx_kb_pattern_name(kb, i));
	printf("\nrules never fired: %zu of %zu\n", unfired, nr);
	for (i = 0; i < nr; i++)
		if (!c->cur.fired[i]) {
			const char *file = NULL;
			unsigned line = 0, col = 0;
			fx_kb_rule_pos(kb, i, &file, &line, &col);
			if (file)
				printf("  %-40s %s:%u\n", fx_kb_rule_name(kb, i), file, line);
			else
				printf("  %s\n", fx_kb_rule_name(kb, i));
		}

	printf("\nundiagnosed cases by shape: %llu in %zu shape%s\n", (unsigned long long)c->nothing,
	       ngroups, ngroups == 1 ? "" : "s");
	for (i = 0; i < ngroups; i++) {
		const note *n = &c->notes[g[i].first];
		printf("  %5zu  %s\n         first: %s\n", g[i].n, n->shape, n->where);
	}

	if (!c->has_base)
		return;
	for (k = NOTE_GAINED; k <= NOTE_CHANGED; k++) {
		static const char *const title[] = {"", "newly diagnosed", "no longer diagnosed",
		                                    "top remedy changed"};
		size_t cnt = 0;
		for (i = 0; i < c->nnotes; i++)
			cnt += c->notes[i].kind == k;
		printf("\nagainst the baseline, %s: %zu\n", title[k], cnt);
		for (i = 0; i < c->nnotes; i++) {
			const note *n = &c->notes[i];
			if (n->kind != k)
				continue;
			if (k == NOTE_GAINED)
				printf("  %s  -> %s\n", n->where, n->to ? n->to : "(findings only)");
			else if (k == NOTE_LOST)
				printf("  %s  was %s\n", n->where, n->from ? n->from : "(findings only)");
			else
				printf("  %s  %s -> %s\n", n->where, n->from, n->to);
		}
	}
}

/* json_object_set_new etc. fail only on OOM; one flag collects that. */
static void jset(int *oom, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) != 0)
		*oom = 1;
}

static void jpush(int *oom, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) != 0)
		*oom = 1;
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int print_json(const cov_ctx *c, const group *g, size_t ngroups)
{
	const fx_kb *kb = c->cur.kb;
	size_t i, nr = fx_kb_rule_count(kb);
	json_t *o = json_object(), *a, *x;
	int oom = !o, k, rc;

	if (oom)
		return FX_ENOMEM;
	jset(&oom, o, "schema", json_string(SCHEMA));
	jset(&oom, o, "cases", json_integer((json_int_t)c->ncases));
	jset(&oom, o, "diagnosed", json_integer((json_int_t)c->diagnosed));
	jset(&oom, o, "ambiguous", json_integer((json_int_t)c->ambiguous));
	jset(&oom, o, "nothing", json_integer((json_int_t)c->nothing));
	jset(&oom, o, "patterns_never_matched", a = json_array());
	for (i = 0; a && i < c->cur.npatterns; i++)
		if (!c->cur.matched[i])
			jpush(&oom, a, json_string(fx_kb_pattern_name(kb, i)));
	jset(&oom, o, "rules_never_fired", a = json_array());
	for (i = 0; a && i < nr; i++)
		if (!c->cur.fired[i])
			jpush(&oom, a, json_string(fx_kb_rule_name(kb, i)));
	jset(&oom, o, "shapes", a = json_array());
	for (i = 0; a && i < ngroups; i++) {
		jpush(&oom, a, x = json_object());
		if (!x)
			break;
		jset(&oom, x, "count", json_integer((json_int_t)g[i].n));
		jset(&oom, x, "shape", json_string(c->notes[g[i].first].shape));
		jset(&oom, x, "first", json_string(c->notes[g[i].first].where));
	}
	if (c->has_base) {
		static const char *const key[] = {"", "gained", "lost", "changed"};
		json_t *b = json_object();
		jset(&oom, o, "baseline", b);
		for (k = NOTE_GAINED; b && k <= NOTE_CHANGED; k++) {
			jset(&oom, b, key[k], a = json_array());
			for (i = 0; a && i < c->nnotes; i++) {
				const note *n = &c->notes[i];
				if (n->kind != k)
					continue;
				jpush(&oom, a, x = json_object());
				if (!x)
					break;
				jset(&oom, x, "case", json_string(n->where));
				jset(&oom, x, "from", jstr(n->from));
				jset(&oom, x, "to", jstr(n->to));
			}
		}
	}
	rc = oom ? FX_ENOMEM : json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (rc == 0)
		putchar('\n');
	json_decref(o);
	return rc == 0 ? 0 : FX_ENOMEM;
}

/* --- The command ----------------------------------------------------------------------------- */

/* The inputs of the case files (YAML) of the corpus, loaded with the kb, run like pasted
 * messages; answers and expectations play no part here (fixit test checks those). */
static int cover_case_files(cov_ctx *c, const cli_files *yaml)
{
	size_t i, k, n = fx_kb_case_count(c->cur.kb);
	char where[64];

	for (i = 0; i < n; i++) {
		fx_case_info ci;
		fx_origin origin;
		char *w;
		int rc, mine = 0;
		if (fx_kb_case_get(c->cur.kb, i, &ci) != 0 || !ci.input)
			continue;
		for (k = 0; !mine && ci.file && k < yaml->n; k++)
			mine = strcmp(ci.file, yaml->paths[k]) == 0;
		if (!mine)
			continue;
		memset(&origin, 0, sizeof origin);
		origin.input = ci.file;
		origin.line = ci.line;
		snprintf(where, sizeof where, ":%u", ci.line);
		w = malloc(strlen(ci.file) + strlen(where) + strlen(ci.id) + 4);
		if (!w)
			return FX_ENOMEM;
		sprintf(w, "%s%s (%s)", ci.file, where, ci.id);
		c->input = ci.file;
		rc = cover_text(c, w, ci.input, ci.input_len, &origin);
		free(w);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int cli_coverage_main(const cli_command *cmd, int argc, char **argv)
{
	cov_ctx c;
	cli_args a;
	cli_kb_opts ko, bo;
	cli_files files = {0}, yaml = {0}, texts = {0};
	const char **rules = calloc((size_t)argc + 1, sizeof *rules);
	const char **base = calloc((size_t)argc + 1, sizeof *base);
	const char **corpus = calloc((size_t)argc + 1, sizeof *corpus);
	size_t nrules = 0, nbase = 0, ncorpus = 0, i, ngroups = 0;
	fx_read_mode mode = FX_READ_BLOCKS;
	group *g = NULL;
	int key, mode_opt = 0, json = 0, status = CLI_EXIT_OK, rc;

	memset(&c, 0, sizeof c);
	if (!rules || !base || !corpus) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			corpus[ncorpus++] = a.value;
			break;
		case 'r':
			rules[nrules++] = a.value;
			break;
		case 'b':
			base[nbase++] = a.value;
			break;
		case 'l':
		case 'w':
			if ((status = cli_read_mode_option(cmd, key, &mode_opt, &mode)) != 0)
				goto done;
			break;
		case 'j':
			json = 1;
			break;
		default:
			break;
		}
	}
	if (key == CLI_STOP)
		goto done;
	if (ncorpus == 0) {
		cli_usage_error(cmd->name, "no corpus given (files or directories of messages)");
		status = CLI_EXIT_USAGE;
		goto done;
	}
	for (i = 0; i < ncorpus; i++)
		if (cli_files_add(&files, corpus[i]) < 0) {
			status = CLI_EXIT_ERROR;
			goto done;
		}
	for (i = 0; i < files.n; i++)
		if (cli_files_add(cli_is_yaml(files.paths[i]) ? &yaml : &texts, files.paths[i]) < 0) {
			status = CLI_EXIT_ERROR;
			goto done;
		}

	memset(&ko, 0, sizeof ko);
	ko.rules = rules;
	ko.nrules = nrules;
	ko.extra = (const char *const *)yaml.paths;
	ko.nextra = yaml.n;
	status = cli_kb_load(&c.cur.kb, &ko, NULL);
	if (status != CLI_EXIT_OK)
		goto done;
	if (nbase) {
		memset(&bo, 0, sizeof bo);
		bo.rules = base;
		bo.nrules = nbase;
		bo.label = "the baseline";
		status = cli_kb_load(&c.base.kb, &bo, NULL);
		if (status != CLI_EXIT_OK)
			goto done;
		c.has_base = 1;
	}
	if (runner_init(&c.cur) < 0 || (c.has_base && runner_init(&c.base) < 0)) {
		cli_error("cannot start a session: %s", fx_strerror(FX_ENOMEM));
		status = CLI_EXIT_ERROR;
		goto done;
	}
	if (cover_case_files(&c, &yaml) < 0) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	for (i = 0; i < texts.n; i++) {
		c.input = strcmp(texts.paths[i], "-") == 0 ? "<stdin>" : texts.paths[i];
		rc = cli_read_cases(texts.paths[i], mode, on_case, &c);
		if (rc == FX_ENOMEM) {
			cli_error("out of memory");
			status = CLI_EXIT_ERROR;
			goto done;
		}
		if (rc != 0)
			c.error = 1;
	}
	if (c.nnotes)
		qsort(c.notes, c.nnotes, sizeof *c.notes, note_shape_cmp);
	g = make_groups(&c, &ngroups);
	if (!g) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
		goto done;
	}
	if (json) {
		if (print_json(&c, g, ngroups) < 0) {
			cli_error("out of memory");
			status = CLI_EXIT_ERROR;
			goto done;
		}
	} else {
		print_text(&c, g, ngroups);
	}
	status = c.error ? CLI_EXIT_ERROR : CLI_EXIT_OK;
done:
	for (i = 0; i < c.nnotes; i++) {
		free(c.notes[i].where);
		free(c.notes[i].shape);
		free(c.notes[i].from);
		free(c.notes[i].to);
	}
	free(c.notes);
	free(g);
	runner_dispose(&c.cur);
	runner_dispose(&c.base);
	cli_files_dispose(&files);
	cli_files_dispose(&yaml);
	cli_files_dispose(&texts);
	free(rules);
	free(base);
	free(corpus);
	return status;
}
