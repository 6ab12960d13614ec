/* fuzz_diagnose.c: libFuzzer target for the diagnose path, text from outside: bytes through the
 * public reader (the mode, a chunk split and a case cap chosen by the fuzzer), then each case
 * through fx_text_assert and a bounded run over a small kb whose patterns capture into integer,
 * float, boolean and symbol slots. No crash, no leak, no undefined behaviour. `make fuzz`. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fixit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Captures that may not convert (a code past 64 bits, "1e999" for a float), a group that may
 * take no part, empty matches, a multi-line anchor, and rules that retract and modify facts
 * that came from text, so their provenance goes with them. */
static const char kb_yaml[] =
	"templates:\n"
	"  - id: code\n"
	"    slots: {n: integer, text: string}\n"
	"  - id: ratio\n"
	"    slots: {x: float, ok: boolean}\n"
	"  - id: word\n"
	"    slots: {w: symbol, len: integer}\n"
	"patterns:\n"
	"  - id: error-code\n"
	"    regex: 'error (?<n>[-+]?[0-9a-z]*)'\n"
	"    flags: i\n"
	"    asserts: {code: {n: ?n, text: ?_match}}\n"
	"  - id: ratio\n"
	"    regex: 'r=(?<x>[-+0-9.eE]+)(?: ok=(?<ok>\\w+))?'\n"
	"    asserts:\n"
	"      - ratio: {x: ?x, ok: ?ok}\n"
	"      - code: {n: 7, text: ?x}\n"
	"  - id: line-start\n"
	"    regex: '^(?<w>\\w*)(?<len>\\d*)$'\n"
	"    flags: m\n"
	"    asserts: {word: {w: ?w, len: ?len}}\n"
	"  - id: empty\n"
	"    regex: 'x*'\n"
	"    asserts: {word: {w: empty, len: 0}}\n"
	"rules:\n"
	"  - id: big-code\n"
	"    when:\n"
	"      - code: {n: ?n}\n"
	"        as: ?f\n"
	"      - test: ?n > 100\n"
	"    then:\n"
	"      - retract: ?f\n"
	"      - conclude: {id: big, certainty: 0.5}\n"
	"  - id: grow-word\n"
	"    when:\n"
	"      - word: {len: ?l}\n"
	"        as: ?f\n"
	"      - test: ?l < 3\n"
	"    then:\n"
	"      - modify: ?f\n"
	"        set: {len: = ?l + 1}\n"
	"      - recommend: {remedy: grow}\n";

static fx_kb *kb;

static void ignore_diag(const fx_diag *d, void *ud)
{
	(void)d;
	(void)ud;
}

static int on_case(void *ud, const fx_case *c)
{
	fx_session *s = ud;
	fx_origin o = {"<fuzz>", c->index, c->line, c->offset};
	fx_text_origin to;
	uint64_t id = 0, fired = 0;
	size_t n = 0;

	if (fx_session_reset(s) < 0)
		return 0;
	(void)fx_text_assert(s, c->text, c->len, &o, &n);
	while (fx_session_fact_next(s, id, &id))
		(void)fx_text_origin_get(s, id, &to);
	(void)fx_session_run(s, 1000, &fired);
	id = 0;
	while (fx_session_fact_next(s, id, &id))
		(void)fx_text_origin_get(s, id, &to);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = {0, 1, 16, 200};
	fx_load_opts opts = {0};
	fx_session *s = NULL;
	fx_reader *r = NULL;
	size_t split;

	if (!kb) {
		opts.diag = ignore_diag;
		if (fx_kb_load_buffer(&kb, "<fuzz-kb>", kb_yaml, sizeof kb_yaml - 1, &opts) != 0)
			__builtin_trap(); /* the embedded kb must load */
	}
	if (size < 3)
		return 0;
	/* byte 0: mode and case cap; byte 1: where the bytes are split into two feeds */
	fx_read_mode mode = (fx_read_mode)(data[0] % 3);
	size_t cap = caps[(data[0] >> 2) & 3];
	split = data[1];
	data += 2;
	size -= 2;
	if (split > size)
		split = size;
	if (fx_session_new(&s, kb) != 0)
		return 0;
	fx_session_set_warn(s, ignore_diag, NULL);
	if (fx_reader_new(&r, mode, cap) == 0) {
		const char *t = (const char *)data;
		if (fx_reader_feed(r, t, split, on_case, s) == 0 &&
		    fx_reader_feed(r, t + split, size - split, on_case, s) == 0)
			(void)fx_reader_finish(r, on_case, s);
	}
	fx_reader_free(r);
	fx_session_free(s);
	return 0;
}
