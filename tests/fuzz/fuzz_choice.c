/* fuzz_choice.c - fuzz the Choice rule engine and its parsers directly.
 *
 * Input: a rules text, a NUL byte, then a document (no NUL: the whole input
 * is both).  The rules text goes to jpath_parse, ts_parse and
 * strpat_compile as a raw string (the pattern is then matched against the
 * document text), and through cJSON into choice_compile; compiled rules are
 * bound to the document (as input and as context), evaluated and described.
 * Unlike fuzz_gate this skips the strict JSON scanner, so the engine also
 * sees what cJSON alone lets through (invalid UTF-8, odd numbers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "choice.h"
#include "fuzz.h"
#include "jsonpath.h"
#include "strmatch.h"
#include "timestamp.h"

static void raw_parsers(const char *text, const char *doc)
{
	struct jpath p;
	struct timestamp t;
	struct strpat pat;
	char err[256];

	if (!jpath_parse(&p, text, err, sizeof(err)))
		jpath_release(&p);
	ts_parse(&t, text, NULL);
	if (!strpat_compile(&pat, text, err, sizeof(err))) {
		strpat_match(&pat, doc);
		strpat_release(&pat);
	}
	str_cmp16(text, doc);
}

static void engine(const char *rtext, const char *dtext)
{
	cJSON *rules = cJSON_Parse(rtext), *doc = cJSON_Parse(dtext);
	const cJSON **values = NULL;
	struct choice_error err;
	struct choice_set set;
	size_t i;

	if (!rules || choice_compile(&set, rules, "choices", &err))
		goto out;
	values = calloc(set.npaths + 1, sizeof(*values));
	if (values) {
		choice_bind_tree(&set, doc, doc, values);
		for (i = 0; i < set.nrules; i++) {
			free(choice_describe(&set, i));
			if (choice_eval(&set, i, values, NULL, NULL, &err) < 0)
				break;
		}
	}
	choice_release(&set);
out:
	free(values);
	cJSON_Delete(rules);
	cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2);
	const char *doc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	text[size + 1] = '\0';
	doc = strlen(text) < size ? text + strlen(text) + 1 : text;
	raw_parsers(text, doc);
	engine(text, doc);
	free(text);
	return 0;
}
