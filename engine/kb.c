/* kb.c: knowledge-base lifetime and inspection: load (loader + Rete compiler + the patterns'
 * matcher), reference counting, and the read-only accessors of the public API. */
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "load.h"
#include "match.h"
#include "regex.h"

static void kb_destroy(fx_kb *kb)
{
	fx_match_free(kb->matcher);
	for (size_t i = 0; i < kb->regexes.len; i++)
		fx_regex_free(kb->regexes.items[i]);
	fx_vec_dispose(&kb->regexes);
	fx_atoms_dispose(&kb->atoms);
	fx_arena_dispose(&kb->arena);
	free(kb);
}

/* One matcher for all the patterns, built once here so that every session scans with it.
 * The loader has compiled each regex already, so a failure here would be a disagreement
 * between the two compilations: it is reported at the regex rather than trusted away. */
static int build_matcher(fx_kb *kb, fx_reporter *rep)
{
	const fx_program *prog = &kb->prog;
	if (prog->npatterns == 0)
		return 0;
	fx_match_pattern *pats = calloc(prog->npatterns, sizeof *pats);
	if (!pats)
		return FX_ENOMEM;
	for (uint32_t i = 0; i < prog->npatterns; i++) {
		pats[i].regex = prog->patterns[i].regex;
		pats[i].len = prog->patterns[i].regex_len;
		pats[i].flags = prog->patterns[i].flags;
	}
	fx_buf err;
	fx_buf_init(&err);
	size_t bad = 0, off = 0;
	int rc = fx_match_new(&kb->matcher, pats, prog->npatterns, NULL, &err, &bad, &off);
	if (rc == FX_EINVAL && bad < prog->npatterns) {
		const fx_pattern_def *p = &prog->patterns[bad];
		fx_report(rep, FX_SEV_ERROR, "bad-regex", p->regex_pos, 1, NULL,
		          "pattern '%s': the matcher refused its regex at offset %zu: %s", p->name, off,
		          fx_buf_cstr(&err));
		rc = FX_ELOAD;
	}
	fx_buf_dispose(&err);
	free(pats);
	return rc;
}

static int kb_load(fx_kb **out, const fx_load_input *in, const fx_load_opts *opts)
{
	if (!out)
		return FX_EINVAL;
	*out = NULL;
	fx_kb *kb = calloc(1, sizeof *kb);
	if (!kb)
		return FX_ENOMEM;
	kb->refs = 1;
	fx_arena_init(&kb->arena);
	fx_atoms_init(&kb->atoms, NULL);
	fx_vec_init(&kb->regexes);
	fx_reporter rep;
	fx_reporter_init(&rep, opts ? opts->diag : NULL, opts ? opts->diag_ud : NULL,
	                 opts ? opts->max_errors : 0);
	int rc = fx_load_program(&kb->prog, &kb->arena, &kb->atoms, &kb->regexes, &rep, in);
	if (rc == 0 && rep.errors)
		rc = FX_ELOAD;
	if (rc == 0)
		rc = fx_rete_compile(&kb->net, &kb->prog, &kb->arena);
	if (rc == 0)
		rc = build_matcher(kb, &rep);
	fx_reporter_dispose(&rep);
	if (rc) {
		kb_destroy(kb);
		return rc;
	}
	*out = kb;
	return 0;
}

int fx_kb_load(fx_kb **out, const char *const *paths, size_t npaths, const fx_load_opts *opts)
{
	if (!paths && npaths)
		return FX_EINVAL;
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.paths = paths;
	in.npaths = npaths;
	return kb_load(out, &in, opts);
}

int fx_kb_load_file(fx_kb **out, const char *path, const fx_load_opts *opts)
{
	if (!path)
		return FX_EINVAL;
	return fx_kb_load(out, &path, 1, opts);
}

int fx_kb_load_buffer(fx_kb **out, const char *name, const char *buf, size_t len,
                      const fx_load_opts *opts)
{
	if (!buf && len)
		return FX_EINVAL;
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.buf = buf ? buf : "";
	in.len = len;
	in.name = name ? name : "<buffer>";
	return kb_load(out, &in, opts);
}

int fx_kb_load_buffers(fx_kb **out, const char *const *names, const char *const *bufs,
                       const size_t *lens, size_t n, const fx_load_opts *opts)
{
	if ((!bufs || !lens) && n)
		return FX_EINVAL;
	static const char *const none[1] = {""};
	static const size_t zero[1] = {0};
	fx_load_input in;
	memset(&in, 0, sizeof in);
	in.bufs = n ? bufs : none;
	in.lens = n ? lens : zero;
	in.names = names;
	in.nbufs = n;
	return kb_load(out, &in, opts);
}

fx_kb *fx_kb_ref(fx_kb *kb)
{
	if (kb)
		__atomic_add_fetch(&kb->refs, 1, __ATOMIC_RELAXED);
	return kb;
}

void fx_kb_free(fx_kb *kb)
{
	if (kb && __atomic_sub_fetch(&kb->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kb_destroy(kb);
}

size_t fx_kb_template_count(const fx_kb *kb)
{
	return kb ? kb->prog.ntemplates : 0;
}

const char *fx_kb_template_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.ntemplates ? kb->prog.templates[i].name : NULL;
}

size_t fx_kb_template_slot_count(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.ntemplates ? kb->prog.templates[i].nslots : 0;
}

const char *fx_kb_template_slot_name(const fx_kb *kb, size_t i, size_t slot)
{
	if (!kb || i >= kb->prog.ntemplates || slot >= kb->prog.templates[i].nslots)
		return NULL;
	return kb->prog.templates[i].slots[slot].name;
}

fx_type fx_kb_template_slot_type(const fx_kb *kb, size_t i, size_t slot)
{
	if (!kb || i >= kb->prog.ntemplates || slot >= kb->prog.templates[i].nslots)
		return FX_NIL;
	return kb->prog.templates[i].slots[slot].type;
}

long fx_kb_template_find(const fx_kb *kb, const char *name)
{
	if (!kb || !name)
		return -1;
	for (uint32_t i = 0; i < kb->prog.ntemplates; i++)
		if (strcmp(kb->prog.templates[i].name, name) == 0)
			return (long)i;
	return -1;
}

size_t fx_kb_rule_count(const fx_kb *kb)
{
	return kb ? kb->prog.nrules : 0;
}

const char *fx_kb_rule_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].name : NULL;
}

void fx_kb_rule_pos(const fx_kb *kb, size_t i, const char **file, unsigned *line, unsigned *col)
{
	fx_pos p = {NULL, 0, 0};
	if (kb && i < kb->prog.nrules)
		p = kb->prog.rules[i].pos;
	if (file)
		*file = p.file;
	if (line)
		*line = p.line;
	if (col)
		*col = p.col;
}

int fx_kb_rule_salience(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.nrules ? kb->prog.rules[i].salience : 0;
}

long fx_kb_rule_find(const fx_kb *kb, const char *name)
{
	if (!kb || !name)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nrules; i++)
		if (strcmp(kb->prog.rules[i].name, name) == 0)
			return (long)i;
	return -1;
}

size_t fx_kb_remedy_count(const fx_kb *kb)
{
	return kb ? kb->prog.nremedies : 0;
}

long fx_kb_remedy_find(const fx_kb *kb, const char *id)
{
	if (!kb || !id)
		return -1;
	for (uint32_t i = 0; i < kb->prog.nremedies; i++)
		if (strcmp(kb->prog.remedies[i].name, id) == 0)
			return (long)i;
	return -1;
}

int fx_kb_remedy_get(const fx_kb *kb, size_t i, fx_remedy_info *out)
{
	if (!out)
		return FX_EINVAL;
	memset(out, 0, sizeof *out);
	if (!kb)
		return FX_EINVAL;
	if (i >= kb->prog.nremedies)
		return FX_ENOTFOUND;
	const fx_remedy_def *r = &kb->prog.remedies[i];
	out->id = r->name;
	out->title = r->title;
	out->steps = r->steps;
	out->nsteps = r->nsteps;
	out->cost = r->cost;
	out->warning = r->warning;
	out->source = r->source;
	return 0;
}

size_t fx_kb_pattern_count(const fx_kb *kb)
{
	return kb ? kb->prog.npatterns : 0;
}

const char *fx_kb_pattern_name(const fx_kb *kb, size_t i)
{
	return kb && i < kb->prog.npatterns ? kb->prog.patterns[i].name : NULL;
}
