/* chat_google_chat.c - Google Chat incoming webhooks: a card v2 (see
 * chat.h).
 *
 * Body: {"text", "cardsV2": [{"cardId", "card": {"header": {"title",
 * "subtitle"}, "sections": [{"header", "widgets": [textParagraph |
 * decoratedText | buttonList]}]}}]} as documented at
 * https://developers.google.com/workspace/chat/quickstart/webhooks and
 * https://developers.google.com/workspace/chat/api/reference/rest/v1/cards.
 * Widget texts and section headers take Google Chat's HTML subset, so text
 * from outside is HTML-escaped there; the header's title and subtitle are
 * plain.  The message "text" (what notifications show) would read
 * "<users/all>" as a mention and has no escape, so its angle brackets
 * become "‹" and "›".  The one link is a buttonList button with
 * onClick.openLink.  A message holds at most 32,000 bytes and its text
 * 4,096 characters: every text is capped well below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chat.h"

#define TEXT_MAX 1000

static const char *html(uint32_t cp)
{
	switch (cp) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

static const char *plain(uint32_t cp)
{
	switch (cp) {
	case '<': return "\xe2\x80\xb9";
	case '>': return "\xe2\x80\xba";
	default: return NULL;
	}
}

static cJSON *widget(cJSON *widgets, const char *kind)
{
	cJSON *w = cJSON_CreateObject(), *inner = cJSON_AddObjectToObject(w, kind);

	cJSON_AddItemToArray(widgets, w);
	return inner;
}

static cJSON *section(cJSON *sections, const char *header)
{
	cJSON *s = cJSON_CreateObject();

	if (header)
		chat_add_text(s, "header", header, 200, html);
	cJSON_AddItemToArray(sections, s);
	return cJSON_AddArrayToObject(s, "widgets");
}

static void fact(cJSON *widgets, const struct chat_fact *f)
{
	cJSON *d = widget(widgets, "decoratedText");
	char *v = chat_text(f->value, TEXT_MAX, html, 0);
	struct buf b = BUF_INIT(8192);

	chat_add_text(d, "topLabel", f->label, 100, html);
	if (*f->url)
		buf_addf(&b, "<a href=\"%s\">%s</a>", f->url, v);
	else
		buf_adds(&b, v);
	cJSON_AddStringToObject(d, "text", b.data ? b.data : "");
	cJSON_AddBoolToObject(d, "wrapText", 1);
	buf_release(&b);
	free(v);
}

static char *items_html(const struct chat_msg *m)
{
	struct buf b = BUF_INIT(64 * 1024);

	buf_adds(&b, "");
	for (size_t i = 0; i < m->nitems; i++) {
		char *t = chat_text(m->items[i], TEXT_MAX, html, 0);

		buf_addf(&b, "%s\xe2\x80\xa2 %s", i ? "<br>" : "", t);
		free(t);
	}
	return buf_detach(&b, NULL);
}

static void button(cJSON *widgets, const struct chat_msg *m)
{
	cJSON *list = widget(widgets, "buttonList"), *buttons, *btn, *click, *open;

	buttons = cJSON_AddArrayToObject(list, "buttons");
	btn = cJSON_CreateObject();
	chat_add_text(btn, "text", m->button_label, 40, NULL);
	click = cJSON_AddObjectToObject(btn, "onClick");
	open = cJSON_AddObjectToObject(click, "openLink");
	cJSON_AddStringToObject(open, "url", m->button_url);
	cJSON_AddItemToArray(buttons, btn);
}

static cJSON *render(const struct chat_msg *m)
{
	cJSON *o = cJSON_CreateObject(), *cards, *c, *card, *hdr, *sections, *w;
	char *items;

	chat_add_text(o, "text", m->title, 200, plain);
	cards = cJSON_AddArrayToObject(o, "cardsV2");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "cardId", m->tone == CHAT_TONE_WARN ?
				"greenlight-review" : "greenlight-decision");
	card = cJSON_AddObjectToObject(c, "card");
	hdr = cJSON_AddObjectToObject(card, "header");
	chat_add_text(hdr, "title", m->title, 200, NULL);
	if (*m->summary)
		chat_add_text(hdr, "subtitle", m->summary, 200, NULL);
	sections = cJSON_AddArrayToObject(card, "sections");
	if (m->nitems) {
		w = section(sections, m->items_title);
		items = items_html(m);
		cJSON_AddStringToObject(widget(w, "textParagraph"), "text", items);
		free(items);
	}
	if (m->nfacts) {
		w = section(sections, NULL);
		for (size_t i = 0; i < m->nfacts; i++)
			fact(w, &m->facts[i]);
	}
	w = section(sections, NULL);
	chat_add_text(widget(w, "textParagraph"), "text", m->note, TEXT_MAX, html);
	if (*m->button_url)
		button(w, m);
	cJSON_AddItemToArray(cards, c);
	return o;
}

const struct chat_service chat_google_chat = {
	.name = "google-chat",
	.title = "Google Chat",
	.render = render,
};
