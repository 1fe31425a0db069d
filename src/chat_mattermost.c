/* chat_mattermost.c - Mattermost incoming webhooks: a message attachment
 * (see chat.h).
 *
 * Body: {"text", "attachments": [{"fallback", "color", "title",
 * "title_link", "text", "fields": [{"short", "title", "value"}]}]} as
 * documented at https://developers.mattermost.com/integrate/webhooks/incoming/
 * and https://developers.mattermost.com/integrate/reference/message-attachments/
 * (Slack-compatible attachments).  "text", the attachment's text and the
 * field values are Markdown: text from outside has Markdown's characters
 * backslash-escaped and "@" followed by a zero-width space, so "@here",
 * "@channel" and "@all" notify nobody.  The attachment title is plain
 * text; title_link is the message's one link.  A post holds at most 16383
 * characters: every text is capped well below.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chat.h"

static const char *markdown(uint32_t cp)
{
	static const char set[] = "\\`*_~[]#<>|!@";
	static const char *const map[] = {
		"\\\\", "\\`", "\\*", "\\_", "\\~", "\\[", "\\]",
		"\\#", "\\<", "\\>", "\\|", "\\!", "@\xe2\x80\x8b",
	};
	const char *p = cp < 0x80 && cp ? strchr(set, (int)cp) : NULL;

	return p ? map[p - set] : NULL;
}

static const char *const colors[] = {
	[CHAT_TONE_WARN] = "#E8A317", [CHAT_TONE_GOOD] = "#2EB886", [CHAT_TONE_BAD] = "#D00000",
};

static void add_escaped(struct buf *b, const char *s, size_t limit)
{
	char *t = chat_text(s, limit, markdown, 0);

	buf_adds(b, t);
	free(t);
}

static char *attachment_text(const struct chat_msg *m)
{
	struct buf b = BUF_INIT(64 * 1024);

	add_escaped(&b, m->summary, 1000);
	if (m->nitems) {
		buf_adds(&b, "\n\n**");
		add_escaped(&b, m->items_title, 200);
		buf_adds(&b, "**");
	}
	for (size_t i = 0; i < m->nitems; i++) {
		buf_adds(&b, "\n- ");
		add_escaped(&b, m->items[i], 1000);
	}
	buf_adds(&b, "\n\n");
	add_escaped(&b, m->note, 1000);
	return buf_detach(&b, NULL);
}

static cJSON *field(const struct chat_fact *f)
{
	cJSON *o = cJSON_CreateObject();
	struct buf b = BUF_INIT(8192);

	cJSON_AddBoolToObject(o, "short", 1);
	chat_add_text(o, "title", f->label, 100, NULL);
	if (*f->url)
		buf_adds(&b, "[");
	add_escaped(&b, f->value, 1000);
	if (*f->url)
		buf_addf(&b, "](%s)", f->url);
	cJSON_AddStringToObject(o, "value", b.data ? b.data : "");
	buf_release(&b);
	return o;
}

static cJSON *render(const struct chat_msg *m)
{
	cJSON *o = cJSON_CreateObject(), *atts, *a, *fields;
	struct buf t = BUF_INIT(64 * 1024);
	char *text;

	buf_adds(&t, "**");
	add_escaped(&t, m->title, 200);
	buf_adds(&t, "**: ");
	add_escaped(&t, m->summary, 1000);
	cJSON_AddStringToObject(o, "text", t.data ? t.data : "");
	buf_release(&t);
	atts = cJSON_AddArrayToObject(o, "attachments");
	a = cJSON_CreateObject();
	buf_addf(&t, "%s: %s", m->title, m->summary);
	chat_add_text(a, "fallback", t.data, 1000, NULL);
	buf_release(&t);
	cJSON_AddStringToObject(a, "color", colors[m->tone]);
	chat_add_text(a, "title", m->title, 200, NULL);
	if (*m->button_url)
		cJSON_AddStringToObject(a, "title_link", m->button_url);
	text = attachment_text(m);
	cJSON_AddStringToObject(a, "text", text);
	free(text);
	fields = cJSON_AddArrayToObject(a, "fields");
	for (size_t i = 0; i < m->nfacts; i++)
		cJSON_AddItemToArray(fields, field(&m->facts[i]));
	cJSON_AddItemToArray(atts, a);
	return o;
}

const struct chat_service chat_mattermost = {
	.name = "mattermost",
	.title = "Mattermost",
	.render = render,
};
