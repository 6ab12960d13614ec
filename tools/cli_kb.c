/* cli_kb.c: what fixit check, test, coverage and graph share: the knowledge base (from paths,
 * FIXIT_RULES or the built-in one, plus case files loaded with it), the files of a corpus and
 * their cases, and a session's findings and remedies reduced to the ranking diagnose shows. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_kb.h"

#define READ_CHUNK ((size_t)1 << 16)
/* A rule file the loader would refuse anyway (its limit is 64 MiB). */
#define MAX_RULE_FILE ((size_t)64 << 20)

char *cli_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

int cli_is_yaml(const char *path)
{
	size_t n = strlen(path);

	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* --- Lists of files -------------------------------------------------------------------------- */

static int push(cli_files *f, const char *path)
{
	char *p;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		char **q = realloc(f->paths, cap * sizeof *q);
		if (!q)
			return -1;
		f->paths = q;
		f->cap = cap;
	}
	p = cli_strdup(path);
	if (!p)
		return -1;
	f->paths[f->n++] = p;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory not starting with '.', sorted; NULL-free array in *names. */
static int list_dir(const char *dir, cli_files *names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && push(names, e->d_name) < 0) {
			rc = -1;
			break;
		}
	closedir(d);
	if (names->n)
		qsort(names->paths, names->n, sizeof *names->paths, name_cmp);
	return rc;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (a && dir[a - 1] != '/')
		p[a++] = '/';
	memcpy(p + a, name, b + 1);
	return p;
}

/* yaml_only, depth 1: as the loader reads a directory (its own rule files, no subdirectory). */
static int add_tree(cli_files *f, const char *path, int yaml_only, int recurse, int depth)
{
	struct stat st;
	cli_files names = {0};
	size_t i;
	int rc = 0;

	if (stat(path, &st) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		size_t n = strlen(path);
		/* In a corpus directory, a README.md documents the corpus: it is no message. */
		if (depth > 0 && (!S_ISREG(st.st_mode) || (yaml_only && !cli_is_yaml(path)) ||
		                  (n > 3 && strcmp(path + n - 3, ".md") == 0)))
			return 0;
		if (push(f, path) < 0) {
			cli_error("out of memory");
			return -1;
		}
		return 0;
	}
	if (depth > 0 && !recurse)
		return 0;
	if (depth > 32) {
		cli_error("%s: directories nested too deeply", path);
		return -1;
	}
	if (list_dir(path, &names) < 0) {
		cli_error("%s: %s", path, errno ? strerror(errno) : "out of memory");
		cli_files_dispose(&names);
		return -1;
	}
	for (i = 0; i < names.n && rc == 0; i++) {
		char *p = join(path, names.paths[i]);
		if (!p) {
			cli_error("out of memory");
			rc = -1;
			break;
		}
		rc = add_tree(f, p, yaml_only, recurse, depth + 1);
		free(p);
	}
	cli_files_dispose(&names);
	return rc;
}

int cli_files_add(cli_files *f, const char *path)
{
	if (strcmp(path, "-") == 0) {
		if (push(f, path) < 0) {
			cli_error("out of memory");
			return -1;
		}
		return 0;
	}
	return add_tree(f, path, 0, 1, 0);
}

void cli_files_dispose(cli_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	memset(f, 0, sizeof *f);
}

/* A whole file in memory (malloc'd, NUL-terminated). 0, or -1 with errno set. */
static int slurp(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0, cap = 0;
	char *p = NULL;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t k;
		if (cap - n < READ_CHUNK + 1) {
			char *q;
			if (cap > MAX_RULE_FILE) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : READ_CHUNK * 2;
			q = realloc(p, cap);
			if (!q) {
				errno = ENOMEM;
				goto fail;
			}
			p = q;
		}
		k = read(fd, p + n, READ_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto fail;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
fail:
	close(fd);
	free(p);
	return -1;
}

/* --- Loading --------------------------------------------------------------------------------- */

typedef struct load_ctx {
	const cli_kb_opts *o;
	cli_kb_counts n;
} load_ctx;

static void on_diag(const fx_diag *d, void *ud)
{
	load_ctx *c = ud;

	if (d->severity == FX_SEV_ERROR)
		c->n.errors++;
	else if (d->severity == FX_SEV_WARNING)
		c->n.warnings++;
	if (c->o->diag)
		c->o->diag(d, c->o->diag_ud);
	else if (!c->o->quiet)
		cli_diag_print(d, 0);
}

int cli_env_rules(cli_files *f)
{
	const char *env = getenv("FIXIT_RULES");
	char *copy, *p;
	int rc = 0;

	if (!env || !*env)
		return 0;
	copy = cli_strdup(env);
	if (!copy)
		return -1;
	for (p = copy; rc == 0;) {
		char *colon = strchr(p, ':');
		if (colon)
			*colon = '\0';
		if (*p)
			rc = push(f, p);
		if (!colon)
			break;
		p = colon + 1;
	}
	free(copy);
	return rc;
}

/* The built-in files, then the extra ones read into memory: a kb compiled into the binary has
 * no path the loader could be given together with the case files. */
static int load_builtin(fx_kb **out, const cli_kb_opts *o, const fx_load_opts *lo)
{
	cli_files extra = {0};
	const char **names = NULL, **texts = NULL;
	char **owned = NULL; /* the extra files' texts */
	size_t *lens = NULL, n = cli_builtin_kb_count, i, k;
	int rc = FX_ENOMEM;

	*out = NULL;
	if (cli_builtin_kb_count == 0) {
		cli_error("no knowledge base: this fixit was built without one; use --rules PATH");
		return FX_ENOTFOUND;
	}
	if (o->lean && o->nextra == 0 && cli_builtin_kb_image)
		return fx_kb_load_image(out, cli_builtin_kb_image, cli_builtin_kb_image_len, lo);
	for (i = 0; i < o->nextra; i++)
		if (add_tree(&extra, o->extra[i], 1, 0, 0) < 0) {
			rc = FX_EIO;
			goto done;
		}
	names = calloc(n + extra.n + 1, sizeof *names);
	texts = calloc(n + extra.n + 1, sizeof *texts);
	lens = calloc(n + extra.n + 1, sizeof *lens);
	owned = calloc(extra.n + 1, sizeof *owned);
	if (!names || !texts || !lens || !owned) {
		cli_error("out of memory");
		goto done;
	}
	for (i = n = 0; i < cli_builtin_kb_count; i++) {
		names[n] = cli_builtin_kb_names[i];
		texts[n] = cli_builtin_kb_texts[i];
		lens[n++] = cli_builtin_kb_lens[i];
	}
	for (k = 0; k < extra.n; k++) {
		if (slurp(extra.paths[k], &owned[k], &lens[n + k]) < 0) {
			cli_error("%s: %s", extra.paths[k], strerror(errno));
			rc = FX_EIO;
			goto done;
		}
		names[n + k] = extra.paths[k];
		texts[n + k] = owned[k];
	}
	rc = fx_kb_load_buffers(out, names, texts, lens, n + extra.n, lo);
done:
	if (owned)
		for (k = 0; k < extra.n; k++)
			free(owned[k]);
	free(owned);
	free(names);
	free(texts);
	free(lens);
	cli_files_dispose(&extra);
	return rc;
}

int cli_kb_load(fx_kb **out, const cli_kb_opts *o, cli_kb_counts *counts)
{
	load_ctx c;
	fx_load_opts lo;
	cli_files env = {0};
	const char **paths = NULL;
	const char *const *rules = o->rules;
	size_t nrules = o->nrules, i, np = 0;
	int rc, reported = 0;

	*out = NULL;
	memset(&c, 0, sizeof c);
	c.o = o;
	memset(&lo, 0, sizeof lo);
	lo.diag = on_diag;
	lo.diag_ud = &c;
	if (nrules == 0) {
		if (cli_env_rules(&env) < 0) {
			cli_error("out of memory");
			return CLI_EXIT_ERROR;
		}
		rules = (const char *const *)env.paths;
		nrules = env.n;
	}
	if (nrules == 0) {
		rc = load_builtin(out, o, &lo);
		reported = rc == FX_EIO || rc == FX_ENOTFOUND;
	} else {
		paths = calloc(nrules + o->nextra + 1, sizeof *paths);
		if (!paths) {
			cli_error("out of memory");
			cli_files_dispose(&env);
			return CLI_EXIT_ERROR;
		}
		/* The loader would report a missing path too, but without errno's words. */
		for (i = 0; i < nrules + o->nextra; i++) {
			struct stat st;
			paths[np] = i < nrules ? rules[i] : o->extra[i - nrules];
			if (stat(paths[np], &st) != 0) {
				cli_error("%s: %s", paths[np], strerror(errno));
				reported = 1;
			}
			np++;
		}
		rc = reported ? FX_EIO : fx_kb_load(out, paths, np, &lo);
	}
	if (counts)
		*counts = c.n;
	free(paths);
	cli_files_dispose(&env);
	if (rc < 0) {
		fx_kb_free(*out);
		*out = NULL;
		if (reported || o->quiet)
			return CLI_EXIT_ERROR;
		if (c.n.errors || c.n.warnings)
			cli_error("%s%s%u error%s, %u warning%s", o->label ? o->label : "",
			          o->label ? ": " : "", c.n.errors, c.n.errors == 1 ? "" : "s",
			          c.n.warnings, c.n.warnings == 1 ? "" : "s");
		else
			cli_error("cannot load %s: %s", o->label ? o->label : "the knowledge base",
			          fx_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

/* --- Reading cases --------------------------------------------------------------------------- */

int cli_read_cases(const char *path, fx_read_mode mode, fx_case_fn fn, void *ud)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
	fx_reader *r = NULL;
	char *buf = NULL;
	int rc = 0;

	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(READ_CHUNK);
	rc = buf ? fx_reader_new(&r, mode, 0) : FX_ENOMEM;
	while (rc == 0) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("%s: %s", path, strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0) {
			rc = fx_reader_finish(r, fn, ud);
			break;
		}
		rc = fx_reader_feed(r, buf, (size_t)n, fn, ud);
	}
	if (rc < 0 && rc != -1) {
		cli_error("%s: %s", path, fx_strerror(rc));
		rc = -1;
	}
	fx_reader_free(r);
	free(buf);
	if (!is_stdin)
		close(fd);
	return rc;
}

/* --- A session's diagnosis ------------------------------------------------------------------- */

void cli_outcome_dispose(cli_outcome *o)
{
	size_t i;

	for (i = 0; i < o->nfindings; i++)
		free(o->findings[i].id);
	for (i = 0; i < o->nremedies; i++)
		free(o->remedies[i].id);
	free(o->findings);
	free(o->remedies);
	memset(o, 0, sizeof *o);
}

/* One item of out from a ranked entry of the engine's snapshot. */
static int copy_item(cli_item *it, const char *id, double cf, double score)
{
	it->id = cli_strdup(id ? id : "");
	it->cf = cf;
	it->score = score;
	return it->id ? 0 : FX_ENOMEM;
}

int cli_outcome_get(cli_outcome *out, const fx_kb *kb, const fx_session *s)
{
	fx_diagnosis *d = NULL;
	size_t i, nf, nr;
	int rc;

	(void)kb;
	cli_outcome_dispose(out);
	rc = fx_diagnosis_new(&d, s);
	if (rc < 0)
		return rc;
	nf = fx_diagnosis_finding_count(d);
	nr = fx_diagnosis_remedy_count(d);
	out->findings = calloc(nf + 1, sizeof *out->findings);
	out->remedies = calloc(nr + 1, sizeof *out->remedies);
	if (!out->findings || !out->remedies)
		rc = FX_ENOMEM;
	for (i = 0; rc == 0 && i < nf; i++) {
		fx_finding f;
		rc = fx_diagnosis_finding(d, i, &f);
		if (rc == 0)
			rc = copy_item(&out->findings[out->nfindings++], f.id, f.certainty, f.certainty);
	}
	for (i = 0; rc == 0 && i < nr; i++) {
		fx_ranked_remedy r;
		rc = fx_diagnosis_remedy(d, i, &r);
		if (rc == 0)
			rc = copy_item(&out->remedies[out->nremedies++], r.id, r.certainty, r.score);
	}
	fx_diagnosis_free(d);
	if (rc < 0)
		cli_outcome_dispose(out);
	return rc;
}

static const cli_item *find_item(const cli_item *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

int cli_outcome_has(const cli_outcome *o, const char *id, int remedies)
{
	return remedies ? find_item(o->remedies, o->nremedies, id) != NULL
	                : find_item(o->findings, o->nfindings, id) != NULL;
}

int cli_outcome_ambiguous(const cli_outcome *o)
{
	return o->nremedies >= 2 && o->remedies[0].score > 0 &&
	       o->remedies[1].score >= CLI_AMBIGUOUS_RATIO * o->remedies[0].score;
}
