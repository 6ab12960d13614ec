/* fuzz_image.c: libFuzzer target for the kb image reader. The input is an image's body: the
 * harness writes the header (magic, length, checksum, version) in front of it, so that the
 * fuzzer's bytes reach the reader's checks of counts, indexes and structure rather than stop
 * at the checksum. Any body must load or be refused cleanly; a kb that loads is run on a
 * message. Built and run by `make fuzz`; the seed corpus/image/small-kb is the body of
 * the image kb-image writes of a small rule file (a template, a pattern, a rule with a join,
 * a test and a `not`, a finding): written again when the image format changes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixit.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore_diag(const fx_diag *d, void *ud)
{
	(void)d;
	(void)ud;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The magic of this build's images (its last byte is the format version), taken from the
 * image of an empty kb. */
static unsigned char magic[8];

static void find_magic(void)
{
	fx_kb *kb = NULL;
	char *img = NULL;
	size_t len = 0;
	if (fx_kb_load_buffer(&kb, "empty", "", 0, NULL) == 0 &&
	    fx_kb_save_image(kb, &img, &len) == 0 && len >= sizeof magic)
		memcpy(magic, img, sizeof magic);
	free(img);
	fx_kb_free(kb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t vlen = strlen(FX_VERSION_STRING) + 1, head = 8 + 4 + 4 + 4 + vlen;
	unsigned char *img = malloc(head + size + 1);
	fx_load_opts opts = {0};
	fx_kb *kb = NULL;
	fx_session *s = NULL;

	if (!magic[1])
		find_magic();
	if (!img || size > UINT32_MAX)
		goto done;
	memcpy(img, magic, 8);
	put32(img + 8, (uint32_t)size);
	put32(img + 12, fx_image_checksum(data, size));
	put32(img + 16, (uint32_t)vlen);
	memcpy(img + 20, FX_VERSION_STRING, vlen);
	if (size)
		memcpy(img + head, data, size);
	opts.diag = ignore_diag;
	if (fx_kb_load_image(&kb, img, head + size, &opts) == 0 && fx_session_new(&s, kb) == 0) {
		static const char msg[] = "disk full 3\niCloud Backup failed: not enough storage";
		(void)fx_text_assert(s, msg, sizeof msg - 1, NULL, NULL);
		(void)fx_session_run(s, 1000, NULL);
	}
	fx_session_free(s);
	fx_kb_free(kb);
done:
	free(img);
	return 0;
}
