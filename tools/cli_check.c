/* cli_check.c: `fixit check`: loads a knowledge base and reports what is wrong with it: the
 * loader's errors and warnings, then the lint warnings of a kb that loaded (fx_kb_lint), as
 * compiler-style diagnostics on stderr or as JSON Lines on stdout, for editors and CI. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_kb.h"

#define SCHEMA "fixit-check/1"

typedef struct check_ctx {
	int json;
	unsigned errors, warnings, notes;
	int oom;                /* a JSON line could not be built */
} check_ctx;

static const char *severity_name(fx_severity s)
{
	return s == FX_SEV_WARNING ? "warning" : s == FX_SEV_NOTE ? "note" : "error";
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* One line of JSON: the object o, which this takes. */
static void put_json(check_ctx *c, json_t *o)
{
	if (!o || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
		c->oom = 1;
	else
		putchar('\n');
	json_decref(o);
}

static void on_diag(const fx_diag *d, void *ud)
{
	check_ctx *c = ud;
	json_t *o;

	if (d->severity == FX_SEV_ERROR)
		c->errors++;
	else if (d->severity == FX_SEV_WARNING)
		c->warnings++;
	else
		c->notes++;
	if (!c->json) {
		cli_diag_print(d, 0);
		return;
	}
	o = json_object();
	if (o && (json_object_set_new(o, "schema", json_string(SCHEMA)) ||
	          json_object_set_new(o, "severity", json_string(severity_name(d->severity))) ||
	          json_object_set_new(o, "code", jstr(d->code)) ||
	          json_object_set_new(o, "file", jstr(d->file)) ||
	          json_object_set_new(o, "line", json_integer(d->line)) ||
	          json_object_set_new(o, "col", json_integer(d->col)) ||
	          json_object_set_new(o, "span", json_integer(d->span)) ||
	          json_object_set_new(o, "message", jstr(d->message)) ||
	          json_object_set_new(o, "rule", jstr(d->rule)) ||
	          json_object_set_new(o, "source_line", jstr(d->source_line)))) {
		json_decref(o);
		o = NULL;
	}
	put_json(c, o);
}

static void summary(check_ctx *c, const fx_kb *kb, int status)
{
	json_t *o;

	if (!c->json) {
		if (kb) {
			size_t r = fx_kb_rule_count(kb), p = fx_kb_pattern_count(kb);
			size_t m = fx_kb_remedy_count(kb);
			printf("%zu rule%s, %zu pattern%s, %zu remed%s: ", r, r == 1 ? "" : "s", p,
			       p == 1 ? "" : "s", m, m == 1 ? "y" : "ies");
		}
		printf("%u error%s, %u warning%s\n", c->errors, c->errors == 1 ? "" : "s", c->warnings,
		       c->warnings == 1 ? "" : "s");
		return;
	}
	o = json_object();
	if (o && (json_object_set_new(o, "schema", json_string(SCHEMA)) ||
	          json_object_set_new(o, "summary", json_true()) ||
	          json_object_set_new(o, "errors", json_integer(c->errors)) ||
	          json_object_set_new(o, "warnings", json_integer(c->warnings)) ||
	          json_object_set_new(o, "rules", kb ? json_integer((json_int_t)fx_kb_rule_count(kb))
	                                             : json_null()) ||
	          json_object_set_new(o, "patterns",
	                              kb ? json_integer((json_int_t)fx_kb_pattern_count(kb))
	                                 : json_null()) ||
	          json_object_set_new(o, "remedies",
	                              kb ? json_integer((json_int_t)fx_kb_remedy_count(kb))
	                                 : json_null()) ||
	          json_object_set_new(o, "status", json_integer(status)))) {
		json_decref(o);
		o = NULL;
	}
	put_json(c, o);
}

int cli_check_main(const cli_command *cmd, int argc, char **argv)
{
	check_ctx c;
	cli_args a;
	cli_kb_opts ko;
	cli_kb_counts n;
	fx_kb *kb = NULL;
	const char **paths = calloc((size_t)argc + 1, sizeof *paths);
	size_t npaths = 0;
	int key, strict = 0, status = CLI_EXIT_OK, rc;

	memset(&c, 0, sizeof c);
	if (!paths) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	cli_args_init(&a, cmd->name, argc, argv);
	while ((key = cli_command_next(&a, cmd, &status)) >= CLI_POSITIONAL) {
		switch (key) {
		case CLI_POSITIONAL:
			paths[npaths++] = a.value;
			break;
		case 'f':
			if (strcmp(a.value, "json") == 0) {
				c.json = 1;
			} else if (strcmp(a.value, "text") == 0) {
				c.json = 0;
			} else {
				cli_usage_error(cmd->name, "unknown format '%s' (text or json)", a.value);
				status = CLI_EXIT_USAGE;
				goto done;
			}
			break;
		case 's':
			strict = 1;
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
	ko.diag = on_diag;
	ko.diag_ud = &c;
	ko.quiet = 1;
	status = cli_kb_load(&kb, &ko, &n);
	if (status != CLI_EXIT_OK && c.errors == 0 && c.warnings == 0) {
		/* Nothing reported through diagnostics (an unreadable path): said on stderr already. */
		c.errors++;
	}
	if (kb) {
		rc = fx_kb_lint(kb, on_diag, &c);
		if (rc < 0) {
			cli_error("lint: %s", fx_strerror(rc));
			c.errors++;
		}
	}
	status = c.errors ? CLI_EXIT_ERROR : c.warnings && strict ? CLI_EXIT_NO : CLI_EXIT_OK;
	summary(&c, kb, status);
	if (c.oom) {
		cli_error("out of memory");
		status = CLI_EXIT_ERROR;
	}
done:
	fx_kb_free(kb);
	free(paths);
	return status;
}
