#!/usr/bin/python3
"""chat_server.py - a stand-in for the chat services' incoming webhooks.

This is NOT Slack, Microsoft Teams, Mattermost or Google Chat: it is a
local HTTP server (loopback, port 0) that accepts webhook POSTs and checks
each body against the shape each service documents, so the tests can say
which rule of which format a message broke:

  slack        Slack incoming webhooks with Block Kit
               https://api.slack.com/messaging/webhooks
               https://api.slack.com/reference/block-kit/blocks
               https://api.slack.com/reference/block-kit/composition-objects#text
               https://api.slack.com/reference/messaging/payload
  teams        Microsoft Teams Workflows webhook with an Adaptive Card
               https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
               https://adaptivecards.io/explorer/AdaptiveCard.html (schema 1.4+)
  mattermost   Mattermost incoming webhooks, message attachments
               https://developers.mattermost.com/integrate/webhooks/incoming/
               https://developers.mattermost.com/integrate/reference/message-attachments/
  google-chat  Google Chat incoming webhooks with cards v2
               https://developers.google.com/workspace/chat/quickstart/webhooks
               https://developers.google.com/workspace/chat/api/reference/rest/v1/cards

The checks encode the documented required members, types, allowed values
and length limits that greenlight's messages use; they are a stand-in, not
the services' own validators.

The path picks the service and the behaviour: /<service>/<mode>/<anything>
  ok         answer as the service does (Slack "ok", Teams 202, ...)
  flaky      HTTP 500 for the first POST to the path, then ok
  ratelimit  HTTP 429 with Retry-After: 1 for the first POST, then ok
  hang       never answer (the connection stays open)
  invalid    HTTP 400 every time (a permanent failure)

Every POST is appended to --log as one JSON line: {"service", "mode",
"path", "valid", "errors", "body", "at"}.  Invalid bodies still get the
mode's answer (the test reads the log), but "valid" is false.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class Invalid(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Invalid(msg)


def is_str(v, what, max_len=None, nonempty=True):
    need(isinstance(v, str), f"{what} must be a string")
    if nonempty:
        need(v != "", f"{what} must not be empty")
    if max_len is not None:
        need(len(v) <= max_len, f"{what} is {len(v)} characters; at most {max_len}")


def only_keys(o, allowed, what):
    need(isinstance(o, dict), f"{what} must be an object")
    extra = set(o) - set(allowed)
    need(not extra, f"{what} has unknown members {sorted(extra)}")


# ---- Slack Block Kit ------------------------------------------------------

def slack_mrkdwn_safe(text, what):
    # Slack reads <...> as links, mentions (<@U..>) and broadcasts
    # (<!channel>, <!here>); text from outside must arrive escaped
    # (&lt; &gt; &amp;).  Our messages use <...> only for links to http(s).
    for m in re.finditer(r"<([^>]*)>", text):
        need(re.match(r"https?://", m.group(1)), f"{what} has control sequence <{m.group(1)[:40]}>")


def slack_text(o, what, max_len, types=("plain_text", "mrkdwn")):
    need(isinstance(o, dict), f"{what} must be a text object")
    need(o.get("type") in types, f"{what}.type must be one of {types}")
    allowed = ["type", "text", "emoji", "verbatim"]
    only_keys(o, allowed, what)
    is_str(o.get("text"), f"{what}.text", max_len)
    if o["type"] == "plain_text":
        need("verbatim" not in o, f"{what}: verbatim is for mrkdwn only")
        need(isinstance(o.get("emoji", True), bool), f"{what}.emoji must be a boolean")
    else:
        need("emoji" not in o, f"{what}: emoji is for plain_text only")
        slack_mrkdwn_safe(o["text"], what)


def slack_block(b, i):
    what = f"blocks[{i}]"
    need(isinstance(b, dict), f"{what} must be an object")
    t = b.get("type")
    if t == "header":
        only_keys(b, ["type", "text", "block_id"], what)
        slack_text(b.get("text"), f"{what}.text", 150, ("plain_text",))
    elif t == "section":
        only_keys(b, ["type", "text", "fields", "accessory", "block_id", "expand"], what)
        need("text" in b or "fields" in b, f"{what} needs text or fields")
        if "text" in b:
            slack_text(b["text"], f"{what}.text", 3000)
        if "fields" in b:
            f = b["fields"]
            need(isinstance(f, list) and 1 <= len(f) <= 10, f"{what}.fields must hold 1-10 text objects")
            for k, x in enumerate(f):
                slack_text(x, f"{what}.fields[{k}]", 2000)
    elif t == "context":
        only_keys(b, ["type", "elements", "block_id"], what)
        e = b.get("elements")
        need(isinstance(e, list) and 1 <= len(e) <= 10, f"{what}.elements must hold 1-10 elements")
        for k, x in enumerate(e):
            slack_text(x, f"{what}.elements[{k}]", 3000)
    elif t == "actions":
        only_keys(b, ["type", "elements", "block_id"], what)
        e = b.get("elements")
        need(isinstance(e, list) and 1 <= len(e) <= 25, f"{what}.elements must hold 1-25 elements")
        for k, x in enumerate(e):
            w = f"{what}.elements[{k}]"
            need(isinstance(x, dict) and x.get("type") == "button", f"{w} must be a button")
            only_keys(x, ["type", "text", "url", "action_id", "value", "style", "confirm", "accessibility_label"], w)
            slack_text(x.get("text"), f"{w}.text", 75, ("plain_text",))
            if "url" in x:
                is_str(x["url"], f"{w}.url", 3000)
            if "action_id" in x:
                is_str(x["action_id"], f"{w}.action_id", 255)
    elif t == "divider":
        only_keys(b, ["type", "block_id"], what)
    else:
        raise Invalid(f"{what}.type {t!r} is not a Block Kit block greenlight should send")


def check_slack(d):
    only_keys(d, ["text", "blocks", "attachments", "thread_ts", "mrkdwn"], "the payload")
    is_str(d.get("text"), "text (the notification fallback)", 40000)
    slack_mrkdwn_safe(d["text"], "text")
    blocks = d.get("blocks")
    need(isinstance(blocks, list) and 1 <= len(blocks) <= 50, "blocks must hold 1-50 blocks")
    for i, b in enumerate(blocks):
        slack_block(b, i)


# ---- Adaptive Card in a Teams Workflows message ---------------------------

AC_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def ac_version(v):
    need(isinstance(v, str) and re.fullmatch(r"\d+\.\d+", v), "content.version must be a string like \"1.4\"")
    major, minor = map(int, v.split("."))
    need((major, minor) >= (1, 4), f"content.version {v} is older than 1.4")
    need((major, minor) <= (1, 5), f"content.version {v}: Teams renders at most 1.5")


def ac_action(a, what):
    need(isinstance(a, dict), f"{what} must be an object")
    need(a.get("type") == "Action.OpenUrl", f"{what}.type must be Action.OpenUrl (no Action.Submit: deciding stays on the page)")
    only_keys(a, ["type", "title", "url", "iconUrl", "id", "style", "tooltip"], what)
    is_str(a.get("url"), f"{what}.url")
    need(re.match(r"https?://", a["url"]), f"{what}.url must be http(s)")


def ac_element(e, what):
    need(isinstance(e, dict), f"{what} must be an object")
    t = e.get("type")
    if t == "TextBlock":
        only_keys(e, ["type", "text", "wrap", "weight", "size", "color", "isSubtle", "spacing",
                      "separator", "maxLines", "horizontalAlignment", "fontType", "id"], what)
        is_str(e.get("text"), f"{what}.text")
        need(e.get("weight", "Default") in ("Default", "Lighter", "Bolder"), f"{what}.weight")
        need(e.get("size", "Default") in ("Default", "Small", "Medium", "Large", "ExtraLarge"), f"{what}.size")
        need(e.get("color", "Default") in ("Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"), f"{what}.color")
        need(isinstance(e.get("wrap", False), bool), f"{what}.wrap must be a boolean")
    elif t == "RichTextBlock":
        only_keys(e, ["type", "inlines", "spacing", "separator", "horizontalAlignment", "id"], what)
        inl = e.get("inlines")
        need(isinstance(inl, list) and inl, f"{what}.inlines must be a non-empty array")
        for k, r in enumerate(inl):
            w = f"{what}.inlines[{k}]"
            if isinstance(r, str):
                continue
            need(isinstance(r, dict) and r.get("type") == "TextRun", f"{w} must be a TextRun")
            only_keys(r, ["type", "text", "weight", "isSubtle", "color", "size", "italic",
                          "strikethrough", "highlight", "underline", "fontType", "selectAction"], w)
            is_str(r.get("text"), f"{w}.text")
            if "selectAction" in r:
                ac_action(r["selectAction"], f"{w}.selectAction")
    elif t == "FactSet":
        facts = e.get("facts")
        need(isinstance(facts, list) and facts, f"{what}.facts must be a non-empty array")
        for k, f in enumerate(facts):
            only_keys(f, ["title", "value"], f"{what}.facts[{k}]")
            is_str(f.get("title"), f"{what}.facts[{k}].title")
            is_str(f.get("value"), f"{what}.facts[{k}].value")
    else:
        raise Invalid(f"{what}.type {t!r} is not an Adaptive Card element greenlight should send")


def check_teams(d, raw):
    only_keys(d, ["type", "attachments"], "the payload")
    need(d.get("type") == "message", "type must be \"message\"")
    atts = d.get("attachments")
    need(isinstance(atts, list) and len(atts) == 1, "attachments must hold exactly one card")
    a = atts[0]
    only_keys(a, ["contentType", "contentUrl", "content"], "attachments[0]")
    need(a.get("contentType") == "application/vnd.microsoft.card.adaptive",
         "attachments[0].contentType must be application/vnd.microsoft.card.adaptive")
    need(a.get("contentUrl", None) is None, "attachments[0].contentUrl must be null or absent")
    c = a.get("content")
    only_keys(c, ["$schema", "type", "version", "body", "actions", "msteams", "fallbackText"], "content")
    need(c.get("type") == "AdaptiveCard", "content.type must be AdaptiveCard")
    need(c.get("$schema") == AC_SCHEMA, f"content.$schema must be {AC_SCHEMA}")
    ac_version(c.get("version"))
    body = c.get("body")
    need(isinstance(body, list) and body, "content.body must be a non-empty array")
    for i, e in enumerate(body):
        ac_element(e, f"content.body[{i}]")
    acts = c.get("actions", [])
    need(isinstance(acts, list), "content.actions must be an array")
    for i, x in enumerate(acts):
        ac_action(x, f"content.actions[{i}]")
    need(len(raw) <= 28 * 1024, f"the message is {len(raw)} bytes; Teams takes about 28 KB")


# ---- Mattermost attachments ----------------------------------------------

MM_ATTACHMENT = ["fallback", "color", "pretext", "text", "author_name", "author_link",
                 "author_icon", "title", "title_link", "fields", "image_url", "thumb_url",
                 "footer", "footer_icon", "actions"]


def check_mattermost(d):
    only_keys(d, ["text", "channel", "username", "icon_url", "icon_emoji", "attachments",
                  "type", "props", "priority"], "the payload")
    need("text" in d or "attachments" in d, "a webhook post needs text or attachments")
    if "text" in d:
        is_str(d["text"], "text", 16383)
    atts = d.get("attachments", [])
    need(isinstance(atts, list), "attachments must be an array")
    for i, a in enumerate(atts):
        w = f"attachments[{i}]"
        only_keys(a, MM_ATTACHMENT, w)
        is_str(a.get("fallback"), f"{w}.fallback (required plain-text summary)")
        if "color" in a:
            need(isinstance(a["color"], str) and re.fullmatch(r"#[0-9A-Fa-f]{6}|good|warning|danger", a["color"]),
                 f"{w}.color must be #RRGGBB, good, warning or danger")
        for k in ("pretext", "text", "title", "author_name", "footer"):
            if k in a:
                is_str(a[k], f"{w}.{k}", 16383)
        if "title_link" in a:
            need("title" in a, f"{w}.title_link needs a title")
            is_str(a["title_link"], f"{w}.title_link")
            need(re.match(r"https?://", a["title_link"]), f"{w}.title_link must be http(s)")
        for k, f in enumerate(a.get("fields", [])):
            fw = f"{w}.fields[{k}]"
            only_keys(f, ["title", "value", "short"], fw)
            is_str(f.get("title"), f"{fw}.title")
            is_str(f.get("value"), f"{fw}.value")
            need(isinstance(f.get("short", False), bool), f"{fw}.short must be a boolean")
    # mentions in markdown would notify the channel
    for text in [d.get("text", "")] + [a.get("text", "") for a in atts] + \
            [f.get("value", "") for a in atts for f in a.get("fields", [])]:
        need(not re.search(r"(?<![\w\u200b])@(here|channel|all)\b", text), "a text would mention @here/@channel/@all")


# ---- Google Chat cards v2 -------------------------------------------------

GC_WIDGETS = ["textParagraph", "image", "decoratedText", "buttonList", "textInput",
              "selectionInput", "dateTimePicker", "divider", "grid", "columns"]


def gc_html_safe(text, what):
    # Google Chat card text is an HTML subset: tags other than these are
    # not allowed, and text from outside must arrive escaped
    for m in re.finditer(r"<(/?)([a-zA-Z]+)([^>]*)>", text):
        need(m.group(2).lower() in ("b", "i", "u", "s", "a", "br", "font"), f"{what} has tag <{m.group(2)}>")
        if m.group(2).lower() == "a" and not m.group(1):
            need(re.fullmatch(r'\s+href="https?://[^"]*"', m.group(3)), f"{what} has a link that is not http(s)")


def gc_button(b, what):
    only_keys(b, ["text", "icon", "color", "onClick", "disabled", "altText"], what)
    is_str(b.get("text"), f"{what}.text")
    oc = b.get("onClick")
    only_keys(oc, ["action", "openLink", "openDynamicLinkAction", "card"], f"{what}.onClick")
    ol = oc.get("openLink")
    need(isinstance(ol, dict), f"{what}.onClick.openLink must be an object (greenlight only opens links)")
    only_keys(ol, ["url", "openAs", "onClose"], f"{what}.onClick.openLink")
    is_str(ol.get("url"), f"{what}.onClick.openLink.url")
    need(re.match(r"https?://", ol["url"]), f"{what}.onClick.openLink.url must be http(s)")


def check_google_chat(d, raw):
    only_keys(d, ["text", "cardsV2", "thread", "accessoryWidgets", "fallbackText"], "the payload")
    need("text" in d or "cardsV2" in d, "a message needs text or cardsV2")
    if "text" in d:
        is_str(d["text"], "text", 4096)
        need(not re.search(r"<users/", d["text"]), "text would mention users")
    cards = d.get("cardsV2", [])
    need(isinstance(cards, list) and cards, "cardsV2 must be a non-empty array")
    for i, c in enumerate(cards):
        w = f"cardsV2[{i}]"
        only_keys(c, ["cardId", "card"], w)
        is_str(c.get("cardId"), f"{w}.cardId")
        card = c.get("card")
        only_keys(card, ["header", "sections", "cardActions", "name", "fixedFooter",
                         "displayStyle", "peekCardHeader", "sectionDividerStyle"], f"{w}.card")
        h = card.get("header")
        if h is not None:
            only_keys(h, ["title", "subtitle", "imageType", "imageUrl", "imageAltText"], f"{w}.card.header")
            is_str(h.get("title"), f"{w}.card.header.title")
        secs = card.get("sections")
        need(isinstance(secs, list) and 1 <= len(secs) <= 100, f"{w}.card.sections must hold 1-100 sections")
        for k, s in enumerate(secs):
            sw = f"{w}.card.sections[{k}]"
            only_keys(s, ["header", "widgets", "collapsible", "uncollapsibleWidgetsCount", "collapseControl"], sw)
            if "header" in s:
                is_str(s["header"], f"{sw}.header")
                gc_html_safe(s["header"], f"{sw}.header")
            wid = s.get("widgets")
            need(isinstance(wid, list) and wid, f"{sw}.widgets must be a non-empty array")
            for j, x in enumerate(wid):
                ww = f"{sw}.widgets[{j}]"
                need(isinstance(x, dict), f"{ww} must be an object")
                kinds = [key for key in x if key in GC_WIDGETS]
                need(len(kinds) == 1, f"{ww} must hold exactly one widget of {GC_WIDGETS}")
                only_keys(x, kinds + ["horizontalAlignment"], ww)
                kind, v = kinds[0], x[kinds[0]]
                if kind == "textParagraph":
                    only_keys(v, ["text", "maxLines"], f"{ww}.textParagraph")
                    is_str(v.get("text"), f"{ww}.textParagraph.text")
                    gc_html_safe(v["text"], f"{ww}.textParagraph.text")
                elif kind == "decoratedText":
                    only_keys(v, ["icon", "startIcon", "topLabel", "text", "wrapText", "bottomLabel",
                                  "onClick", "button", "switchControl", "endIcon"], f"{ww}.decoratedText")
                    is_str(v.get("text"), f"{ww}.decoratedText.text")
                    for key in ("topLabel", "text", "bottomLabel"):
                        if key in v:
                            gc_html_safe(v[key], f"{ww}.decoratedText.{key}")
                    need(isinstance(v.get("wrapText", False), bool), f"{ww}.decoratedText.wrapText must be a boolean")
                elif kind == "buttonList":
                    only_keys(v, ["buttons"], f"{ww}.buttonList")
                    bs = v.get("buttons")
                    need(isinstance(bs, list) and bs, f"{ww}.buttonList.buttons must be a non-empty array")
                    for q, b in enumerate(bs):
                        gc_button(b, f"{ww}.buttonList.buttons[{q}]")
                else:
                    raise Invalid(f"{ww}: {kind} is not a widget greenlight should send")
    need(len(raw) <= 32000, f"the message is {len(raw)} bytes; Google Chat takes at most 32,000")


def check(service, d, raw):
    need(isinstance(d, dict), "the payload must be a JSON object")
    if service == "slack":
        check_slack(d)
    elif service == "teams":
        check_teams(d, raw)
    elif service == "mattermost":
        check_mattermost(d)
    elif service == "google-chat":
        check_google_chat(d, raw)
    else:
        raise Invalid(f"unknown service {service!r}")


# ---- the server -----------------------------------------------------------

ANSWERS = {
    "slack": (200, "text/plain", b"ok"),
    "teams": (202, "text/plain", b""),
    "mattermost": (200, "text/plain", b"ok"),
    "google-chat": (200, "application/json", b'{"name": "spaces/AAA/messages/BBB"}'),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = {}
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(405, "text/plain", b"POST only")

    def do_POST(self):
        parts = self.path.split("/")
        service = parts[1] if len(parts) > 1 else ""
        mode = parts[2] if len(parts) > 2 else "ok"
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, MAX_BODY))
        rec = {"service": service, "mode": mode, "path": self.path, "at": time.time(),
               "content_type": self.headers.get("Content-Type", ""), "valid": True, "errors": []}
        try:
            need(self.headers.get("Content-Type", "").startswith("application/json"),
                 "Content-Type must be application/json")
            d = json.loads(raw.decode("utf-8"))
            rec["body"] = d
            check(service, d, raw)
        except (Invalid, ValueError) as e:
            rec["valid"] = False
            rec["errors"].append(str(e))
        with Handler.lock:
            count = Handler.seen.get(self.path, 0) + 1
            Handler.seen[self.path] = count
            rec["attempt"] = count
            with open(self.server.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "flaky" and count == 1:
            return self.answer(500, "text/plain", b"internal_error")
        if mode == "ratelimit" and count == 1:
            return self.answer(429, "text/plain", b"rate_limited", [("Retry-After", "1")])
        if mode == "invalid":
            return self.answer(400, "text/plain", b"invalid_payload")
        self.answer(*ANSWERS.get(service, (404, "text/plain", b"no_service")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.log = a.log
    open(a.log, "a").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
