/* test_explain.c: explanations as data: the supports of a fact (how), what a question's answer
 * decides (why), and the closest rule to a missing conclusion (why not). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixit.h"

static const char *kb_text =
	"templates:\n"
	"  - {id: symptom, slots: {code: symbol}}\n"
	"  - {id: network, slots: {kind: symbol}}\n"
	"remedies:\n"
	"  - {id: reboot, title: Reboot, steps: [do it], cost: 2}\n"
	"questions:\n"
	"  - id: wifi\n"
	"    ask: On wifi?\n"
	"    answers:\n"
	"      yes: [{network: {kind: wifi}}]\n"
	"      no: [{network: {kind: cellular}}]\n"
	"rules:\n"
	"  - id: asker\n"
	"    when: [{symptom: {code: slow}}]\n"
	"    then:\n"
	"      - ask: wifi\n"
	"      - conclude: {id: slow-backup, certainty: 0.4}\n"
	"  - id: cell\n"
	"    when:\n"
	"      - symptom: {code: slow}\n"
	"      - network: {kind: cellular}\n"
	"    then:\n"
	"      - conclude: {id: on-cellular}\n"
	"      - recommend: {remedy: reboot, finding: on-cellular}\n";

static fx_session *start(void)
{
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "e.yaml", kb_text, strlen(kb_text), NULL), 0);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	fx_kb_free(kb);
	return s;
}

/* Id of the first fact whose text contains needle, or 0. */
static uint64_t find(fx_session *s, const char *needle)
{
	uint64_t id = 0;
	char buf[256];
	while (fx_session_fact_next(s, id, &id)) {
		fx_session_fact_format(s, id, buf, sizeof buf);
		if (strstr(buf, needle))
			return id;
	}
	return 0;
}

static void test_support(void **state)
{
	(void)state;
	fx_session *s = start();
	uint64_t sym = 0;
	assert_int_equal(fx_session_assert_text(s, "(symptom (code slow))", &sym), 0);
	assert_int_equal(fx_session_answer(s, "wifi", "no", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_support sp;
	/* the user's fact */
	assert_int_equal(fx_explain_support_count(s, sym), 1);
	assert_int_equal(fx_explain_support(s, sym, 0, &sp), 0);
	assert_int_equal(sp.kind, FX_SUPPORT_USER);
	assert_int_equal(sp.logical, 0);
	/* the answer's fact */
	uint64_t net = find(s, "(network (kind cellular))");
	assert_true(net != 0);
	assert_int_equal(fx_explain_support_count(s, net), 1);
	assert_int_equal(fx_explain_support(s, net, 0, &sp), 0);
	assert_int_equal(sp.kind, FX_SUPPORT_ANSWER);
	assert_int_equal(sp.question, 0);
	assert_int_equal(sp.nfacts, 1);
	assert_int_equal(sp.facts[0], find(s, "(answer (question wifi)"));
	/* a finding: rule cell, matched the symptom and the network fact in pattern order */
	uint64_t fnd = find(s, "(finding (id on-cellular)");
	assert_true(fnd != 0);
	assert_int_equal(fx_explain_support_count(s, fnd), 1);
	assert_int_equal(fx_explain_support(s, fnd, 0, &sp), 0);
	assert_int_equal(sp.kind, FX_SUPPORT_RULE);
	assert_int_equal(sp.logical, 1);
	assert_int_equal(sp.rule, 1);
	assert_int_equal(sp.nfacts, 2);
	assert_int_equal(sp.facts[0], sym);
	assert_int_equal(sp.facts[1], net);
	assert_int_equal(fx_explain_support(s, fnd, 1, &sp), FX_EINVAL);
	assert_int_equal(fx_explain_support(s, 9999, 0, &sp), FX_ENOTFOUND);
	assert_int_equal(fx_explain_support_count(s, 9999), 0);
	fx_session_free(s);
}

static void test_why(void **state)
{
	(void)state;
	fx_session *s = start();
	assert_int_equal(fx_session_assert_text(s, "(symptom (code slow))", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_why w;
	assert_int_equal(fx_explain_why(s, "wifi", &w), 0);
	assert_int_equal(w.question, 0);
	assert_int_equal(w.answer, 0);
	assert_int_equal(w.nask_rules, 1);
	assert_int_equal(w.ask_rules[0], 0);
	/* asker's own finding, then cell's finding and remedy, decided by the answer no */
	assert_int_equal(w.nhyps, 3);
	assert_string_equal(w.hyps[0].id, "slow-backup");
	assert_null(w.hyps[0].answer);
	assert_string_equal(w.hyps[1].id, "on-cellular");
	assert_int_equal(w.hyps[1].remedy, 0);
	assert_string_equal(w.hyps[1].answer, "no");
	assert_string_equal(w.hyps[2].id, "reboot");
	assert_int_equal(w.hyps[2].remedy, 1);
	assert_int_equal(w.hyps[2].rule, 1);
	assert_int_equal(fx_explain_why(s, "nosuch", &w), FX_ENOTFOUND);
	fx_session_free(s);
}

static void test_why_not(void **state)
{
	(void)state;
	fx_session *s = start();
	fx_whynot wn;
	assert_int_equal(fx_explain_why_not(s, "nothing-concludes-this", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_NO_RULE);
	/* no symptom: cell fails at its first condition */
	assert_int_equal(fx_explain_why_not(s, "reboot", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_FAILED);
	assert_int_equal(wn.remedy, 1);
	assert_int_equal(wn.rule, 1);
	assert_int_equal(wn.satisfied, 0);
	assert_int_equal(wn.cond, 0);
	assert_int_equal(wn.total, 2);
	assert_string_equal(wn.file, "e.yaml");
	assert_int_equal(wn.line, 20);
	/* the symptom: now the network condition fails, which the answer no would satisfy */
	assert_int_equal(fx_session_assert_text(s, "(symptom (code slow))", NULL), 0);
	assert_int_equal(fx_explain_why_not(s, "on-cellular", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_FAILED);
	assert_int_equal(wn.remedy, 0);
	assert_int_equal(wn.satisfied, 1);
	assert_int_equal(wn.cond, 1);
	assert_int_equal(wn.line, 21);
	assert_int_equal(wn.question, 0);
	assert_string_equal(wn.answer, "no");
	/* answered: all conditions hold, the activation waits for a run */
	assert_int_equal(fx_session_answer(s, "wifi", "no", NULL), 0);
	assert_int_equal(fx_explain_why_not(s, "on-cellular", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_PENDING);
	assert_int_equal(wn.satisfied, 2);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	assert_int_equal(fx_explain_why_not(s, "on-cellular", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_PRESENT);
	fx_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_support),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_why_not),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
