/* cli_args.c: the command-line option parser of the fixit tool, in the manner of getopt_long
 * but driven by each command's option table, and the usage-error helpers built on it.
 * Long options must be spelled in full: accepting prefixes would make adding an option break
 * scripts that used an abbreviation of another. */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

void cli_args_init(cli_args *a, const char *command, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->command = command;
	a->argc = argc;
	a->argv = argv;
}

void cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("fixit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (command)
		fprintf(stderr, "\nTry 'fixit %s --help' for more information.\n", command);
	else
		fputs("\nTry 'fixit --help' for more information.\n", stderr);
}

static const cli_opt *find_long(const cli_opt *opts, const char *name, size_t len)
{
	for (; opts->key; opts++)
		if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static const cli_opt *find_short(const cli_opt *opts, char c)
{
	for (; opts->key; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

/* "--name", "--name=value", "--name value". */
static int long_option(cli_args *a, const cli_opt *opts, const char *word)
{
	const char *name = word + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const cli_opt *o = find_long(opts, name, len);

	if (!o) {
		cli_usage_error(a->command, "unknown option '--%.*s'", (int)len, name);
		return CLI_BAD;
	}
	a->value = NULL;
	switch (o->arg) {
	case CLI_ARG_NONE:
		if (eq) {
			cli_usage_error(a->command, "option '--%s' takes no argument", o->name);
			return CLI_BAD;
		}
		break;
	case CLI_ARG_OPTIONAL:
		if (eq)
			a->value = eq + 1;
		break;
	case CLI_ARG_REQUIRED:
		if (eq) {
			a->value = eq + 1;
		} else if (a->next < a->argc) {
			a->value = a->argv[a->next++];
		} else {
			cli_usage_error(a->command, "option '--%s' needs an argument (%s)", o->name,
			                o->argname ? o->argname : "a value");
			return CLI_BAD;
		}
		break;
	}
	return o->key;
}

/* One letter from a bundle such as "-qf FILE" or "-fFILE". */
static int short_option(cli_args *a, const cli_opt *opts)
{
	char c = *a->bundle++;
	const cli_opt *o = find_short(opts, c);

	a->value = NULL;
	if (!o) {
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			cli_usage_error(a->command, "unknown option (byte 0x%02x after '-')",
			                (unsigned)(unsigned char)c);
		else
			cli_usage_error(a->command, "unknown option '-%c'", c);
		a->bundle = NULL;
		return CLI_BAD;
	}
	if (o->arg == CLI_ARG_REQUIRED) {
		if (*a->bundle) {
			a->value = a->bundle;
		} else if (a->next < a->argc) {
			a->value = a->argv[a->next++];
		} else {
			cli_usage_error(a->command, "option '-%c' needs an argument (%s)", c,
			                o->argname ? o->argname : "a value");
			a->bundle = NULL;
			return CLI_BAD;
		}
		a->bundle = NULL;
	}
	if (a->bundle && !*a->bundle)
		a->bundle = NULL;
	return o->key;
}

int cli_args_next(cli_args *a, const cli_opt *opts)
{
	const char *word;

	if (a->bundle)
		return short_option(a, opts);
	if (a->next >= a->argc)
		return CLI_END;
	word = a->argv[a->next++];
	if (a->no_more_options || word[0] != '-' || word[1] == '\0') {
		a->value = word;
		return CLI_POSITIONAL;
	}
	if (word[1] == '-') {
		if (word[2] == '\0') {
			a->no_more_options = 1;
			return cli_args_next(a, opts);
		}
		return long_option(a, opts, word);
	}
	a->bundle = word + 1;
	return short_option(a, opts);
}

int cli_parse_u64(const char *command, const char *option, const char *text, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (!*p)
		goto bad;
	for (; *p; p++) {
		unsigned d;
		if (*p < '0' || *p > '9')
			goto bad;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
bad:
	cli_usage_error(command, "option '--%s' expects a non-negative integer, not '%s'", option,
	                text);
	return -1;
}

int cli_command_next(cli_args *a, const cli_command *cmd, int *status)
{
	int key = cli_args_next(a, cmd->opts);

	if (key == CLI_BAD) {
		*status = CLI_EXIT_USAGE;
		return CLI_STOP;
	}
	if (key == CLI_KEY_HELP) {
		cli_command_help(stdout, cmd);
		*status = CLI_EXIT_OK;
		return CLI_STOP;
	}
	return key;
}

int cli_read_mode_option(const cli_command *cmd, int key, int *seen, fx_read_mode *mode)
{
	if (*seen && *seen != key) {
		cli_usage_error(cmd->name, "options '--lines' and '--whole' exclude each other");
		return CLI_EXIT_USAGE;
	}
	*seen = key;
	*mode = key == 'l' ? FX_READ_LINES : FX_READ_WHOLE;
	return 0;
}
