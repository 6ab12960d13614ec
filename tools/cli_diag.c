/* cli_diag.c: how the fixit tool shows problems: "fixit:" messages and compiler-style
 * diagnostics (position, severity, message, the source line and a caret under the offending
 * token), coloured only for a human at a terminal. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int use_color;

void cli_color_init(void)
{
	const char *term = getenv("TERM");

	use_color = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL &&
	            !(term && strcmp(term, "dumb") == 0);
}

/* SGR sequences, or "" without colour. */
static const char *sgr(const char *seq)
{
	return use_color ? seq : "";
}

#define BOLD "\033[1m"
#define RED "\033[1;31m"
#define MAGENTA "\033[1;35m"
#define CYAN "\033[1;36m"
#define GREEN "\033[1;32m"
#define RESET "\033[0m"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("fixit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A UTF-8 continuation byte takes no column of its own on screen. */
static int continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* The quoted line and the caret line. col and span count bytes; the padding copies tabs so the
 * caret lines up under any tab width, and counts a multi-byte character as one column. */
static void print_source(const char *line, unsigned col, unsigned span)
{
	size_t len = strlen(line);
	size_t start, end, i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	fprintf(stderr, "  %.*s\n", (int)len, line);
	start = col - 1;
	if (start > len)
		start = len;
	end = start + (span ? span : 1);
	if (end > len)
		end = len;
	fputs("  ", stderr);
	for (i = 0; i < start; i++) {
		if (line[i] == '\t')
			fputc('\t', stderr);
		else if (!continuation((unsigned char)line[i]))
			fputc(' ', stderr);
	}
	fputs(sgr(GREEN), stderr);
	fputc('^', stderr);
	for (i = start + 1; i < end; i++)
		if (!continuation((unsigned char)line[i]))
			fputc('~', stderr);
	fputs(sgr(RESET), stderr);
	fputc('\n', stderr);
}

/* Line n (1-based) of a file, without its newline, in a malloc'd string; NULL if unreadable.
 * Run-time errors come without their source line; the file is read again to show it. */
static char *read_line(const char *path, unsigned n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = -1;
	unsigned i;

	if (!f)
		return NULL;
	for (i = 0; i < n; i++)
		if ((len = getline(&line, &cap, f)) < 0)
			break;
	fclose(f);
	if (len < 0 || strlen(line) != (size_t)len) {
		free(line);
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	return line;
}

void cli_diag_print(const fx_diag *d, int with_rule)
{
	const char *sev, *color;

	switch (d->severity) {
	case FX_SEV_WARNING:
		sev = "warning";
		color = MAGENTA;
		break;
	case FX_SEV_NOTE:
		sev = "note";
		color = CYAN;
		break;
	case FX_SEV_ERROR:
	default:
		sev = "error";
		color = RED;
		break;
	}
	fputs(sgr(BOLD), stderr);
	if (d->file && *d->file) {
		fputs(d->file, stderr);
		if (d->line) {
			fprintf(stderr, ":%u", d->line);
			if (d->col)
				fprintf(stderr, ":%u", d->col);
		}
	} else if (d->line) {
		fprintf(stderr, "%u", d->line);
		if (d->col)
			fprintf(stderr, ":%u", d->col);
	} else {
		fputs("fixit", stderr);
	}
	fprintf(stderr, ":%s %s%s:%s %s", sgr(RESET), sgr(color), sev, sgr(RESET), sgr(BOLD));
	if (with_rule && d->rule && *d->rule)
		fprintf(stderr, "in rule '%s': ", d->rule);
	fputs(d->message && *d->message ? d->message : "(no message)", stderr);
	fputs(sgr(RESET), stderr);
	if (d->code && *d->code)
		fprintf(stderr, " [%s]", d->code);
	fputc('\n', stderr);
	if (d->source_line && d->col) {
		print_source(d->source_line, d->col, d->span);
	} else if (d->file && *d->file && d->line && d->col) {
		char *line = read_line(d->file, d->line);
		if (line)
			print_source(line, d->col, d->span);
		free(line);
	}
}
