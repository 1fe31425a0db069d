/* chat_slack.c - Slack incoming webhooks: Block Kit (see chat.h).
 *
 * Body: {"text": fallback, "blocks": [header, section, section, section
 * with fields, context, actions]} as documented at
 * https://api.slack.com/messaging/webhooks and
 * https://api.slack.com/reference/block-kit/blocks.  Text from outside goes
 * into plain_text objects (no mentions, links or formatting are parsed
 * there, and emoji is off); the few mrkdwn strings (the fallback text,
 * the fields, the commit link) escape &, < and > as Slack documents, which
 * is what keeps "<!channel>" from pinging anyone.  Limits: header 150
 * characters, section text 3000, a field 2000, button text 75.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chat.h"
#include "util.h"

static const char *mrkdwn(uint32_t cp)
{
	switch (cp) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	default: return NULL;
	}
}

static cJSON *text_obj(const char *type, const char *s, size_t limit)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "type", type);
	chat_add_text(t, "text", s, limit, strcmp(type, "mrkdwn") ? NULL : mrkdwn);
	if (!strcmp(type, "plain_text"))
		cJSON_AddBoolToObject(t, "emoji", 0);
	return t;
}

static void add_block(cJSON *blocks, const char *type, const char *key, cJSON *v)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "type", type);
	cJSON_AddItemToObject(b, key, v);
	cJSON_AddItemToArray(blocks, b);
}

/* "*Label*\nvalue" or "*Label*\n<url|value>", each part escaped. */
static cJSON *field(const struct chat_fact *f)
{
	char *v = chat_text(f->value, 1800, mrkdwn, 0);
	struct buf b = BUF_INIT(4096 + 2 * CHAT_URL_MAX);
	cJSON *t = cJSON_CreateObject();

	if (*f->url)
		buf_addf(&b, "*%s*\n<%s|%s>", f->label, f->url, v);
	else
		buf_addf(&b, "*%s*\n%s", f->label, v);
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", b.data ? b.data : "");
	buf_release(&b);
	free(v);
	return t;
}

static char *items_text(const struct chat_msg *m)
{
	struct buf b = BUF_INIT(64 * 1024);
	char *out;

	buf_adds(&b, m->items_title);
	for (size_t i = 0; i < m->nitems; i++)
		buf_addf(&b, "\n\xe2\x80\xa2 %s", m->items[i]);
	out = chat_text(b.data, 3000, NULL, 1);
	buf_release(&b);
	return out;
}

static cJSON *render(const struct chat_msg *m)
{
	cJSON *o = cJSON_CreateObject(), *blocks, *fields, *ctx, *btn, *acts;
	struct buf fb = BUF_INIT(64 * 1024);
	char *items = items_text(m);

	buf_addf(&fb, "%s: %s", m->title, m->summary);
	chat_add_text(o, "text", fb.data, 3000, mrkdwn);
	buf_release(&fb);
	blocks = cJSON_AddArrayToObject(o, "blocks");
	add_block(blocks, "header", "text", text_obj("plain_text", m->title, 150));
	if (*m->summary)
		add_block(blocks, "section", "text", text_obj("plain_text", m->summary, 3000));
	if (m->nitems)
		add_block(blocks, "section", "text", text_obj("plain_text", items, 3000));
	free(items);
	if (m->nfacts) {
		fields = cJSON_CreateArray();
		for (size_t i = 0; i < m->nfacts; i++)
			cJSON_AddItemToArray(fields, field(&m->facts[i]));
		add_block(blocks, "section", "fields", fields);
	}
	ctx = cJSON_CreateArray();
	cJSON_AddItemToArray(ctx, text_obj("plain_text", m->note, 2000));
	add_block(blocks, "context", "elements", ctx);
	if (*m->button_url) {
		btn = cJSON_CreateObject();
		cJSON_AddStringToObject(btn, "type", "button");
		cJSON_AddItemToObject(btn, "text", text_obj("plain_text", m->button_label, 75));
		cJSON_AddStringToObject(btn, "url", m->button_url);
		cJSON_AddStringToObject(btn, "action_id", "greenlight-open");
		acts = cJSON_CreateArray();
		cJSON_AddItemToArray(acts, btn);
		add_block(blocks, "actions", "elements", acts);
	}
	return o;
}

const struct chat_service chat_slack = {
	.name = "slack",
	.title = "Slack",
	.render = render,
};
