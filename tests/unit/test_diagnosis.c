/* test_diagnosis.c: the diagnosis snapshot (MYCIN combination of findings, remedies ranked by
 * certainty / cost, tried remedies apart) and the choice of the next question. */
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
	"remedies:\n"
	"  - {id: cheap, title: Cheap, steps: [do it], cost: 1}\n"
	"  - {id: dear, title: Dear, steps: [do it], cost: 8}\n"
	"  - {id: other, title: Other, steps: [do it], cost: 2}\n"
	"questions:\n"
	"  - id: wifi\n"
	"    ask: On wifi?\n"
	"  - id: idle\n"
	"    ask: Idle?\n"
	"rules:\n"
	"  - id: r1\n"
	"    when: [{symptom: {code: full}}]\n"
	"    then:\n"
	"      - conclude: {id: storage, certainty: 0.5}\n"
	"      - recommend: {remedy: dear, finding: storage}\n"
	"      - ask: wifi\n"
	"      - ask: idle\n"
	"  - id: r2\n"
	"    when: [{symptom: {code: full}}, {answer: {question: wifi, value: no}}]\n"
	"    then:\n"
	"      - conclude: {id: storage, certainty: 0.6}\n"
	"      - conclude: {id: network, certainty: 0.9}\n"
	"      - recommend: {remedy: cheap, finding: network}\n"
	"  - id: r3\n"
	"    when:\n"
	"      - symptom: {code: full}\n"
	"      - not: {tried: {remedy: cheap}}\n"
	"    then:\n"
	"      - recommend: {remedy: other}\n";

static fx_session *start(void)
{
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "d.yaml", kb_text, strlen(kb_text), NULL), 0);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	fx_kb_free(kb);
	assert_int_equal(fx_session_assert_text(s, "(symptom (code full))", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	return s;
}

static void test_combine_and_rank(void **state)
{
	(void)state;
	fx_session *s = start();
	assert_int_equal(fx_session_answer(s, "wifi", "no", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_diagnosis *d = NULL;
	assert_int_equal(fx_diagnosis_new(&d, s), 0);
	assert_int_equal(fx_diagnosis_finding_count(d), 2);
	fx_finding f;
	assert_int_equal(fx_diagnosis_finding(d, 0, &f), 0);
	assert_string_equal(f.id, "network");
	assert_true(f.certainty > 0.899 && f.certainty < 0.901);
	assert_int_equal(fx_diagnosis_finding(d, 1, &f), 0);
	/* 0.5 and 0.6 combined: 0.5 + 0.6 * 0.5 = 0.8 */
	assert_string_equal(f.id, "storage");
	assert_true(f.certainty > 0.799 && f.certainty < 0.801);
	assert_int_equal(f.nfacts, 2);
	/* other 1/2 = 0.5 (names no finding), cheap 0.9/1, dear 0.8/8 = 0.1 */
	assert_int_equal(fx_diagnosis_remedy_count(d), 3);
	fx_ranked_remedy r;
	assert_int_equal(fx_diagnosis_remedy(d, 0, &r), 0);
	assert_string_equal(r.id, "cheap");
	assert_string_equal(r.finding, "network");
	assert_int_equal(r.cost, 1);
	assert_int_equal(fx_diagnosis_remedy(d, 1, &r), 0);
	assert_string_equal(r.id, "other");
	assert_null(r.finding);
	assert_int_equal(fx_diagnosis_remedy(d, 2, &r), 0);
	assert_string_equal(r.id, "dear");
	assert_true(r.score > 0.0999 && r.score < 0.1001);
	assert_int_equal(fx_diagnosis_remedy(d, 3, &r), FX_EINVAL);
	assert_int_equal(fx_diagnosis_tried_count(d), 0);
	fx_diagnosis_free(d);

	/* Tried: cheap moves apart, and `other` (not: tried cheap) is withdrawn. */
	assert_int_equal(fx_session_tried(s, "cheap", NULL), 0);
	assert_int_equal(fx_session_tried(s, "nosuch", NULL), FX_ENOTFOUND);
	assert_int_equal(fx_diagnosis_new(&d, s), 0);
	assert_int_equal(fx_diagnosis_remedy_count(d), 1);
	assert_int_equal(fx_diagnosis_remedy(d, 0, &r), 0);
	assert_string_equal(r.id, "dear");
	assert_int_equal(fx_diagnosis_tried_count(d), 1);
	assert_int_equal(fx_diagnosis_tried(d, 0, &r), 0);
	assert_string_equal(r.id, "cheap");
	assert_int_equal(r.tried, 1);
	fx_diagnosis_free(d);
	fx_session_free(s);
	fx_diagnosis_free(NULL);
	assert_int_equal(fx_diagnosis_new(NULL, NULL), FX_EINVAL);
}

static void test_next_question(void **state)
{
	(void)state;
	fx_session *s = start();
	long q = -2;
	double change = -1;
	/* wifi's answer changes the ranking (r2), idle's does not. */
	assert_int_equal(fx_session_next_question(s, &q, &change), 0);
	assert_int_equal(q, 0);
	assert_true(change > 0);
	size_t before = fx_session_fact_count(s);
	assert_int_equal(fx_session_answer(s, "wifi", "yes", NULL), 0);
	assert_int_equal(fx_session_next_question(s, &q, NULL), 0);
	assert_int_equal(q, 1);
	assert_int_equal(fx_session_fact_count(s), before + 1); /* the answer only */
	assert_int_equal(fx_session_answer(s, "idle", "unknown", NULL), 0);
	assert_int_equal(fx_session_next_question(s, &q, NULL), 0);
	assert_int_equal(q, -1);
	fx_session_free(s);
}

/* Two guesses, each with a question whose yes confirms it and whose no withdraws it: the
 * question about the likelier guess comes first, though written second and though both change
 * the ranking as much when answered. */
static const char *guess_kb =
	"templates:\n"
	"  - {id: symptom, slots: {code: symbol}}\n"
	"  - {id: sign, slots: {of: symbol}}\n"
	"remedies:\n"
	"  - {id: fix-rare, title: Rare, steps: [do it], cost: 1}\n"
	"  - {id: fix-common, title: Common, steps: [do it], cost: 1}\n"
	"questions:\n"
	"  - id: rare\n"
	"    ask: Rare?\n"
	"    answers: {yes: [{sign: {of: rare}}], no: []}\n"
	"  - id: common\n"
	"    ask: Common?\n"
	"    answers: {yes: [{sign: {of: common}}], no: []}\n"
	"rules:\n"
	"  - id: guess-rare\n"
	"    when:\n"
	"      - symptom: {code: failed}\n"
	"      - not: {answer: {question: rare, value: no}}\n"
	"      - not: {sign: {}}\n"
	"    then:\n"
	"      - conclude: {id: rare, certainty: 0.1}\n"
	"      - recommend: {remedy: fix-rare, finding: rare}\n"
	"      - ask: rare\n"
	"  - id: guess-common\n"
	"    when:\n"
	"      - symptom: {code: failed}\n"
	"      - not: {answer: {question: common, value: no}}\n"
	"      - not: {sign: {}}\n"
	"    then:\n"
	"      - conclude: {id: common, certainty: 0.6}\n"
	"      - recommend: {remedy: fix-common, finding: common}\n"
	"      - ask: common\n"
	"  - id: confirmed\n"
	"    when: [{sign: {of: ?x}}]\n"
	"    then:\n"
	"      - conclude: {id: ?x, certainty: 0.95}\n";

static void test_next_question_weighs_likelihood(void **state)
{
	(void)state;
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "g.yaml", guess_kb, strlen(guess_kb), NULL), 0);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	assert_int_equal(fx_session_assert_text(s, "(symptom (code failed))", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	long q = -2;
	assert_int_equal(fx_session_next_question(s, &q, NULL), 0);
	assert_int_equal(q, fx_kb_question_find(kb, "common"));
	/* Once common is ruled out, rare is the only question left. */
	assert_int_equal(fx_session_answer(s, "common", "no", NULL), 0);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	assert_int_equal(fx_session_next_question(s, &q, NULL), 0);
	assert_int_equal(q, fx_kb_question_find(kb, "rare"));
	fx_session_free(s);
	fx_kb_free(kb);
}

/* A finding the kb describes (`findings:`) carries its title; one it does not, none. */
static void test_finding_titles(void **state)
{
	(void)state;
	static const char *text =
		"findings:\n"
		"  - {id: storage, title: The storage is full}\n"
		"  - {id: network, title: The network is down}\n"
		"rules:\n"
		"  - id: r\n"
		"    when: [{test: \"1 == 1\"}]\n"
		"    then:\n"
		"      - conclude: {id: storage, certainty: 0.5}\n";
	fx_kb *kb = NULL;
	assert_int_equal(fx_kb_load_buffer(&kb, "t.yaml", text, strlen(text), NULL), 0);
	assert_int_equal(fx_kb_finding_count(kb), 2);
	assert_int_equal(fx_kb_finding_find(kb, "network"), 1);
	assert_int_equal(fx_kb_finding_find(kb, "nope"), -1);
	fx_finding_info fi;
	assert_int_equal(fx_kb_finding_get(kb, 1, &fi), 0);
	assert_string_equal(fi.title, "The network is down");
	assert_int_equal(fi.line, 3);
	assert_int_equal(fx_kb_finding_get(kb, 2, &fi), FX_ENOTFOUND);
	fx_session *s = NULL;
	assert_int_equal(fx_session_new(&s, kb), 0);
	fx_kb_free(kb);
	assert_int_equal(fx_session_run(s, 0, NULL), 0);
	fx_diagnosis *d = NULL;
	assert_int_equal(fx_diagnosis_new(&d, s), 0);
	fx_session_free(s); /* the diagnosis keeps its own copies */
	assert_int_equal(fx_diagnosis_finding_count(d), 1);
	fx_finding f;
	assert_int_equal(fx_diagnosis_finding(d, 0, &f), 0);
	assert_string_equal(f.id, "storage");
	assert_string_equal(f.title, "The storage is full");
	fx_diagnosis_free(d);

	/* Undescribed: no title. */
	d = NULL;
	s = start();
	assert_int_equal(fx_diagnosis_new(&d, s), 0);
	assert_true(fx_diagnosis_finding_count(d) > 0);
	assert_int_equal(fx_diagnosis_finding(d, 0, &f), 0);
	assert_null(f.title);
	fx_diagnosis_free(d);
	fx_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combine_and_rank),
		cmocka_unit_test(test_finding_titles),
		cmocka_unit_test(test_next_question),
		cmocka_unit_test(test_next_question_weighs_likelihood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
