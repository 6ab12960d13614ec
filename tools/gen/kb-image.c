/* kb-image: a build-time helper (not installed) that loads rule files and writes the kb's
 * image (fx_kb_save_image), which tools/embed-kb.sh embeds so that `fixit diagnose` starts
 * without parsing YAML. Usage: kb-image OUT NAME FILE [NAME FILE]...: each FILE is loaded as
 * if it were named NAME (the name diagnostics and explanations cite). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "fixit.h"

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;
	int bad = !f;

	while (!bad) {
		if (cap - n < 65536) {
			char *d = realloc(data, cap * 2 + 65536 + 1);
			if (!d) {
				bad = 1;
				break;
			}
			data = d;
			cap = cap * 2 + 65536;
		}
		size_t got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (f && ferror(f))
		bad = 1;
	if (f)
		fclose(f);
	if (bad) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

static void on_diag(const fx_diag *d, void *ud)
{
	(void)ud;
	if (d->severity != FX_SEV_ERROR)
		return;
	fprintf(stderr, "kb-image: %s:%u:%u: %s\n", d->file ? d->file : "?", d->line, d->col,
	        d->message);
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc % 2 != 0) {
		fprintf(stderr, "usage: kb-image OUT NAME FILE [NAME FILE]...\n");
		return 2;
	}
	size_t n = (size_t)(argc - 2) / 2;
	const char **names = calloc(n, sizeof *names);
	const char **texts = calloc(n, sizeof *texts);
	size_t *lens = calloc(n, sizeof *lens);
	fx_kb *kb = NULL;
	char *image = NULL;
	size_t len = 0;
	int status = 1;

	if (!names || !texts || !lens) {
		fprintf(stderr, "kb-image: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		names[i] = argv[2 + 2 * i];
		if (!(texts[i] = read_all(argv[3 + 2 * i], &lens[i]))) {
			perror(argv[3 + 2 * i]);
			goto done;
		}
	}
	fx_load_opts lo = {on_diag, NULL, 0};
	int rc = fx_kb_load_buffers(&kb, names, texts, lens, n, &lo);
	if (rc == 0)
		rc = fx_kb_save_image(kb, &image, &len);
	if (rc != 0) {
		fprintf(stderr, "kb-image: cannot make the image (%s); check the files with fixit check\n",
		        fx_strerror(rc));
		goto done;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f || fwrite(image, 1, len, f) != len) {
		perror(argv[1]);
		if (f)
			fclose(f);
		goto done;
	}
	if (fclose(f) != 0) {
		perror(argv[1]);
		goto done;
	}
	status = 0;
done:
	free(image);
	fx_kb_free(kb);
	for (size_t i = 0; texts && i < n; i++)
		free((void *)(uintptr_t)texts[i]);
	free(names);
	free(texts);
	free(lens);
	return status;
}
