/* header_check.c: proves include/fixit.h stands alone. Compiled (never run) by the test runner
 * as C11 with -Wpedantic and as C++, with nothing included before it and twice, to exercise
 * the include guard and the extern "C" block. */
#include "fixit.h"
#include "fixit.h"

/* Touch the types and a few declarations so a broken declaration cannot go unnoticed. */
int fx_header_check(void);

int fx_header_check(void)
{
	const fx_load_opts *opts = 0;
	fx_value v = fx_value_integer(1);
	fx_diag_fn diag = 0;
	fx_trace_fn trace = 0;
	fx_output_fn output = 0;
	const char *(*strerror_fn)(int) = fx_strerror;

	(void)opts;
	(void)diag;
	(void)trace;
	(void)output;
	(void)strerror_fn;
	return v.type == FX_INTEGER && FX_OK == 0 && FX_VERSION_MAJOR >= 0 &&
	       sizeof(fx_trace) > 0 && sizeof(fx_diag) > 0 && FX_STRATEGY_MEA != FX_STRATEGY_DEPTH;
}
