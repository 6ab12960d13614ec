/* prelude.c: the text of the prelude (see prelude.h): the built-in templates of the diagnosis
 * vocabulary, written in the rule language itself so that they are checked, positioned and
 * documented like any user template. docs/rule-language.md, "The diagnosis vocabulary", is the
 * reference; the loader's conclude, recommend and ask actions assert these templates. */
#include "prelude.h"

/* Slot order is part of the vocabulary: facts print in this order, and later layers (remedy
 * ranking, explanations) read these slots by name. Keep the docs in step with the manual. */
static const char prelude[] =
        "templates:\n"
        "  - id: finding\n"
        "    doc: A cause the rules concluded. Several findings with one id are independent\n"
        "      pieces of evidence, which the diagnosis layer combines.\n"
        "    slots:\n"
        "      id: {type: symbol, doc: what was found}\n"
        "      certainty: {type: float, default: 1.0, doc: 'how sure the rule is, from 0 to 1'}\n"
        "      rule: {type: symbol, doc: the rule that concluded it}\n"
        "  - id: recommend\n"
        "    doc: A remedy that a rule recommends, for a finding.\n"
        "    slots:\n"
        "      remedy: {type: symbol, doc: the remedy to try}\n"
        "      finding: {type: symbol, doc: 'the finding it addresses, or nil'}\n"
        "      rule: {type: symbol, doc: the rule that recommended it}\n"
        "  - id: ask\n"
        "    doc: The rules want the answer to this question.\n"
        "    slots:\n"
        "      question: {type: symbol, doc: the question's id}\n"
        "  - id: answer\n"
        "    doc: A user's answer to a question.\n"
        "    slots:\n"
        "      question: {type: symbol, doc: the question's id}\n"
        "      value: {type: symbol, doc: 'yes, no, unknown or a value'}\n"
        "  - id: tried\n"
        "    doc: A remedy the user tried without success.\n"
        "    slots:\n"
        "      remedy: {type: symbol, doc: the remedy tried}\n";

const char *fx_prelude_text(size_t *len)
{
	if (len)
		*len = sizeof prelude - 1;
	return prelude;
}
