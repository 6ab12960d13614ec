/* fuzz_load.c: libFuzzer target for the rule loader, the parser of outside input. Any bytes
 * must load or fail cleanly: no crash, no leak, no undefined behaviour. A knowledge base that
 * loads is also run for a bounded number of firings. Built and run by `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

#include "fixit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore_diag(const fx_diag *d, void *ud)
{
	(void)d;
	(void)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_load_opts opts = {0};
	fx_kb *kb = NULL;
	fx_session *s = NULL;
	uint64_t fired = 0;

	opts.diag = ignore_diag;
	if (fx_kb_load_buffer(&kb, "<fuzz>", (const char *)data, size, &opts) == 0) {
		/* 1000 firings exercise the agenda and stay bounded for rules that never stop. */
		if (fx_session_new(&s, kb) == 0)
			(void)fx_session_run(s, 1000, &fired);
		fx_session_free(s);
	}
	fx_kb_free(kb);
	return 0;
}
