/* chat_teams.c - Microsoft Teams through a Workflows webhook ("When a
 * Teams webhook request is received"): an Adaptive Card (see chat.h).
 *
 * Body: {"type": "message", "attachments": [{"contentType":
 * "application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard
 * 1.4}}]} as documented at
 * https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
 * and https://adaptivecards.io/explorer/.  Text from outside goes into
 * TextRun elements of RichTextBlocks, which Adaptive Cards never read as
 * markdown; the title is a TextBlock (markdown subset) and has its
 * markdown characters backslash-escaped.  One Action.OpenUrl.  Teams
 * takes cards up to about 28 KB: every text is capped.
 */
#include <stdlib.h>
#include <string.h>

#include "chat.h"

#define TEXT_MAX 1000

static const char *markdown(uint32_t cp)
{
	static const char set[] = "\\`*_~[]#<>|!";
	static const char *const map[] = {
		"\\\\", "\\`", "\\*", "\\_", "\\~", "\\[", "\\]",
		"\\#", "\\<", "\\>", "\\|", "\\!",
	};
	const char *p = cp < 0x80 && cp ? strchr(set, (int)cp) : NULL;

	return p ? map[p - set] : NULL;
}

static cJSON *text_block(const char *s, const char *weight, const char *size,
			 const char *color)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "type", "TextBlock");
	chat_add_text(b, "text", s, 200, markdown);
	cJSON_AddBoolToObject(b, "wrap", 1);
	if (weight)
		cJSON_AddStringToObject(b, "weight", weight);
	if (size)
		cJSON_AddStringToObject(b, "size", size);
	if (color)
		cJSON_AddStringToObject(b, "color", color);
	return b;
}

static cJSON *run(const char *s, int bold, const char *url)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "type", "TextRun");
	chat_add_text(r, "text", s, TEXT_MAX, NULL);
	if (bold)
		cJSON_AddStringToObject(r, "weight", "Bolder");
	if (url && *url) {
		cJSON *a = cJSON_AddObjectToObject(r, "selectAction");

		cJSON_AddStringToObject(a, "type", "Action.OpenUrl");
		cJSON_AddStringToObject(a, "url", url);
	}
	return r;
}

/* A RichTextBlock of one or two runs. */
static cJSON *rich(cJSON *first, cJSON *second, int subtle)
{
	cJSON *b = cJSON_CreateObject(), *in;

	cJSON_AddStringToObject(b, "type", "RichTextBlock");
	in = cJSON_AddArrayToObject(b, "inlines");
	if (subtle)
		cJSON_AddBoolToObject(first, "isSubtle", 1);
	cJSON_AddItemToArray(in, first);
	if (second)
		cJSON_AddItemToArray(in, second);
	return b;
}

static const char *const colors[] = {
	[CHAT_TONE_WARN] = "Warning", [CHAT_TONE_GOOD] = "Good", [CHAT_TONE_BAD] = "Attention",
};

static cJSON *card(const struct chat_msg *m)
{
	cJSON *c = cJSON_CreateObject(), *body, *acts, *a;
	char label[80];

	cJSON_AddStringToObject(c, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
	cJSON_AddStringToObject(c, "type", "AdaptiveCard");
	cJSON_AddStringToObject(c, "version", "1.4");
	body = cJSON_AddArrayToObject(c, "body");
	cJSON_AddItemToArray(body, text_block(m->title, "Bolder", "Medium", colors[m->tone]));
	if (*m->summary)
		cJSON_AddItemToArray(body, rich(run(m->summary, 0, NULL), NULL, 0));
	if (m->nitems)
		cJSON_AddItemToArray(body, text_block(m->items_title, "Bolder", NULL, NULL));
	for (size_t i = 0; i < m->nitems; i++)
		cJSON_AddItemToArray(body, rich(run("\xe2\x80\xa2 ", 0, NULL),
						run(m->items[i], 0, NULL), 0));
	for (size_t i = 0; i < m->nfacts; i++) {
		snprintf(label, sizeof(label), "%s: ", m->facts[i].label);
		cJSON_AddItemToArray(body, rich(run(label, 1, NULL),
						run(m->facts[i].value, 0, m->facts[i].url), 0));
	}
	cJSON_AddItemToArray(body, rich(run(m->note, 0, NULL), NULL, 1));
	if (*m->button_url) {
		acts = cJSON_AddArrayToObject(c, "actions");
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "type", "Action.OpenUrl");
		chat_add_text(a, "title", m->button_label, 40, NULL);
		cJSON_AddStringToObject(a, "url", m->button_url);
		cJSON_AddItemToArray(acts, a);
	}
	return c;
}

static cJSON *render(const struct chat_msg *m)
{
	cJSON *o = cJSON_CreateObject(), *atts, *att;

	cJSON_AddStringToObject(o, "type", "message");
	atts = cJSON_AddArrayToObject(o, "attachments");
	att = cJSON_CreateObject();
	cJSON_AddStringToObject(att, "contentType", "application/vnd.microsoft.card.adaptive");
	cJSON_AddNullToObject(att, "contentUrl");
	cJSON_AddItemToObject(att, "content", card(m));
	cJSON_AddItemToArray(atts, att);
	return o;
}

const struct chat_service chat_teams = {
	.name = "teams",
	.title = "Microsoft Teams",
	.render = render,
};
