/* kb-image: a build-time helper (not installed) that writes the pre-parsed form of one rule
 * file (fx_load_tree_image), which tools/embed-kb.sh embeds for `fixit diagnose` so that the
 * built-in kb loads without parsing YAML. Usage: kb-image NAME IN OUT. */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "load.h"

static int read_all(const char *path, fx_buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fx_buf_append(b, chunk, n);
	int bad = ferror(f) || b->oom;
	fclose(f);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	fx_buf in, out;
	int status = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: kb-image NAME IN OUT\n");
		return 2;
	}
	fx_buf_init(&in);
	fx_buf_init(&out);
	if (read_all(argv[2], &in) != 0) {
		perror(argv[2]);
		goto done;
	}
	int rc = fx_load_tree_image(&out, argv[1], in.len ? in.data : "", in.len);
	if (rc != 0) {
		fprintf(stderr, "kb-image: %s: cannot pre-parse (error %d); check it with fixit check\n",
		        argv[2], rc);
		goto done;
	}
	FILE *f = fopen(argv[3], "wb");
	if (!f || fwrite(out.data, 1, out.len, f) != out.len) {
		perror(argv[3]);
		if (f)
			fclose(f);
		goto done;
	}
	if (fclose(f) != 0) {
		perror(argv[3]);
		goto done;
	}
	status = 0;
done:
	fx_buf_dispose(&in);
	fx_buf_dispose(&out);
	return status;
}
