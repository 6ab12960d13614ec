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

/* Rules whose conditions hold no fact: exists over one pattern and over a conjunction, a not
 * over one pattern and over a conjunction, an exists nothing can satisfy. */
static const char *exists_kb =
	"templates:\n"
	"  - {id: symptom, slots: {code: symbol, text: string}}\n"
	"  - {id: device, slots: {code: symbol, model: symbol}}\n"
	"  - {id: blocker, slots: {code: symbol}}\n"
	"  - {id: report, slots: {code: symbol}}\n"
	"rules:\n"
	"  - id: one\n"
	"    when:\n"
	"      - device: {code: ?c}\n"
	"      - exists: {symptom: {code: ?c}}\n"
	"    then: [{conclude: {id: seen}}]\n"
	"  - id: conj\n"
	"    when:\n"
	"      - exists: [{symptom: {code: ?c}}, {device: {code: ?c, model: old}}]\n"
	"    then: [{conclude: {id: old-seen}}]\n"
	"  - id: guarded\n"
	"    when:\n"
	"      - device: {code: ?c}\n"
	"      - not: {blocker: {code: ?c}}\n"
	"    then: [{conclude: {id: unblocked}}]\n"
	"  - id: guarded2\n"
	"    when:\n"
	"      - device: {code: ?c}\n"
	"      - not: [{blocker: {code: ?c}}, {symptom: {code: ?c}}]\n"
	"      - test: \"true\"\n"
	"    then: [{conclude: {id: unblocked2}}]\n"
	"  - id: reported\n"
	"    when:\n"
	"      - device: {code: ?c}\n"
	"      - exists: {report: {code: ?c}}\n"
	"    then: [{conclude: {id: reported}}]\n";

static fx_session *start_exists(void)
{
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "x.yaml", exists_kb, strlen(exists_kb), NULL), 0);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	fx_kb_free(kb);
	return s;
}

static uint64_t add(fx_session *s, const char *text)
{
	uint64_t id = 0;
	assert_int_equal(fx_session_assert_text(s, text, &id), 0);
	assert_true(id != 0);
	return id;
}

/* The rule support of the only finding `what`, checked to be one. */
static void finding_support(fx_session *s, const char *what, fx_support *sp)
{
	uint64_t f = find(s, what);
	assert_true(f != 0);
	assert_int_equal(fx_explain_support_count(s, f), 1);
	assert_int_equal(fx_explain_support(s, f, 0, sp), 0);
	assert_int_equal(sp->kind, FX_SUPPORT_RULE);
}

static void test_witness_exists(void **state)
{
	(void)state;
	fx_session *s = start_exists();
	/* code b first, so that the first fact of the alpha memory is not a witness */
	add(s, "(symptom (code b) (text \"other\"))");
	uint64_t dev = add(s, "(device (code a) (model new))");
	uint64_t s1 = add(s, "(symptom (code a) (text \"one\"))");
	uint64_t s2 = add(s, "(symptom (code a) (text \"two\"))");
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_support sp;
	finding_support(s, "(finding (id seen)", &sp);
	assert_int_equal(sp.rule, 0);
	assert_int_equal(sp.nfacts, 2);
	assert_non_null(sp.witness);
	assert_int_equal(sp.facts[0], dev);
	assert_int_equal(sp.witness[0], 0);
	assert_int_equal(sp.witness[1], 1);
	assert_true(sp.facts[1] == s1 || sp.facts[1] == s2);
	uint64_t other = sp.facts[1] == s1 ? s2 : s1;
	/* the witness goes: the exists still holds, through the other symptom */
	assert_int_equal(fx_session_retract(s, sp.facts[1]), 0);
	finding_support(s, "(finding (id seen)", &sp);
	assert_int_equal(sp.nfacts, 2);
	assert_int_equal(sp.facts[1], other);
	assert_int_equal(sp.witness[1], 1);
	/* the last one goes: so does the support, and the finding with it */
	assert_int_equal(fx_session_retract(s, other), 0);
	assert_int_equal(find(s, "(finding (id seen)"), 0);
	fx_session_free(s);
}

static void test_witness_conjunction(void **state)
{
	(void)state;
	fx_session *s = start_exists();
	add(s, "(device (code b) (model new))");
	add(s, "(symptom (code b) (text \"b\"))");
	uint64_t s1 = add(s, "(symptom (code a) (text \"one\"))");
	uint64_t s2 = add(s, "(symptom (code a) (text \"two\"))");
	uint64_t old = add(s, "(device (code a) (model old))");
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_support sp;
	finding_support(s, "(finding (id old-seen)", &sp);
	assert_int_equal(sp.rule, 1);
	/* the facts of one match of the conjunction, in pattern order, both witnesses */
	assert_int_equal(sp.nfacts, 2);
	assert_non_null(sp.witness);
	assert_true(sp.facts[0] == s1 || sp.facts[0] == s2);
	assert_int_equal(sp.facts[1], old);
	assert_int_equal(sp.witness[0], 1);
	assert_int_equal(sp.witness[1], 1);
	uint64_t other = sp.facts[0] == s1 ? s2 : s1;
	assert_int_equal(fx_session_retract(s, sp.facts[0]), 0);
	finding_support(s, "(finding (id old-seen)", &sp);
	assert_int_equal(sp.nfacts, 2);
	assert_int_equal(sp.facts[0], other);
	assert_int_equal(sp.facts[1], old);
	assert_int_equal(fx_session_retract(s, old), 0);
	assert_int_equal(find(s, "(finding (id old-seen)"), 0);
	/* a rule without exists gives its own facts and no flags */
	finding_support(s, "(finding (id unblocked)", &sp);
	assert_int_equal(sp.nfacts, 1);
	assert_null(sp.witness);
	fx_session_free(s);
}

static void test_why_not_negations(void **state)
{
	(void)state;
	fx_session *s = start_exists();
	uint64_t dev = add(s, "(device (code a) (model new))");
	uint64_t blk = add(s, "(blocker (code a))");
	add(s, "(blocker (code b))");
	uint64_t sym = add(s, "(symptom (code a) (text \"x\"))");
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_whynot wn;
	/* a not over one pattern: the blocking fact is named */
	assert_int_equal(fx_explain_why_not(s, "unblocked", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_FAILED);
	assert_int_equal(wn.rule, 2);
	assert_int_equal(wn.cond, 1);
	assert_int_equal(wn.satisfied, 1);
	assert_int_equal(wn.cond_kind, FX_COND_NOT);
	assert_int_equal(wn.nblocking, 1);
	assert_int_equal(wn.blocking[0], blk);
	/* over a conjunction: the facts of the match that blocks it, in pattern order */
	assert_int_equal(fx_explain_why_not(s, "unblocked2", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_FAILED);
	assert_int_equal(wn.rule, 3);
	assert_int_equal(wn.cond, 1);
	assert_int_equal(wn.cond_kind, FX_COND_NOT);
	assert_int_equal(wn.nblocking, 2);
	assert_int_equal(wn.blocking[0], blk);
	assert_int_equal(wn.blocking[1], sym);
	/* an exists nothing satisfies: no facts to name */
	assert_int_equal(fx_explain_why_not(s, "reported", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_FAILED);
	assert_int_equal(wn.rule, 4);
	assert_int_equal(wn.cond, 1);
	assert_int_equal(wn.cond_kind, FX_COND_EXISTS);
	assert_int_equal(wn.nblocking, 0);
	assert_null(wn.blocking);
	/* a failing pattern is a pattern */
	assert_int_equal(fx_session_retract(s, dev), 0);
	assert_int_equal(fx_explain_why_not(s, "unblocked", &wn), 0);
	assert_int_equal(wn.cond, 0);
	assert_int_equal(wn.cond_kind, FX_COND_PATTERN);
	assert_int_equal(wn.nblocking, 0);
	/* the blocker goes: the rule concludes, and explaining left the last error alone */
	add(s, "(device (code a) (model new))");
	assert_int_equal(fx_session_retract(s, blk), 0);
	assert_int_equal(fx_explain_why_not(s, "unblocked", &wn), 0);
	assert_int_equal(wn.kind, FX_WHYNOT_PENDING);
	assert_string_equal(fx_session_last_error(s)->message, "");
	fx_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_support),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_why_not),
		cmocka_unit_test(test_witness_exists),
		cmocka_unit_test(test_witness_conjunction),
		cmocka_unit_test(test_why_not_negations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
