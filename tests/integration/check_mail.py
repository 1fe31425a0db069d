#!/usr/bin/python3
"""check_mail.py EML [expectations] - check a received message as a mail client would.

Parses EML (bytes as the SMTP server received them) with Python's `email`
package and checks what greenlight promises: CRLF-only lines of at most 998
bytes, a 7-bit header block, one each of From/To/Subject/Date/Message-ID/
MIME-Version, a stable-looking Message-ID, multipart/alternative with one
UTF-8 text/plain and one UTF-8 text/html part, no parser defects, no
external assets in the HTML, the review link in both parts, and whatever the
options add.  Prints "ok" and exits 0, or prints what failed and exits 1.
"""
import argparse
import email
import email.policy
import email.utils
import re
import sys


def fail(msg):
    print(f"check_mail: {msg}")
    sys.exit(1)


def check_raw(raw):
    if re.search(rb"(?<!\r)\n", raw) or re.search(rb"\r(?!\n)", raw):
        fail("bare CR or LF in the message")
    for n, line in enumerate(raw.split(b"\r\n"), 1):
        if len(line) > 998:
            fail(f"line {n} is {len(line)} bytes long")
    head = raw.split(b"\r\n\r\n", 1)[0]
    if any(b > 126 for b in head):
        fail("8-bit bytes in the header block")


def check_headers(m, args):
    for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        if len(m.get_all(name, [])) != 1:
            fail(f"expected exactly one {name} header, got {m.get_all(name, [])}")
    for name in args.absent_header:
        if m.get_all(name):
            fail(f"unexpected header {name}: {m.get_all(name)}")
    if args.to and m["To"] != args.to:
        fail(f"To is {m['To']!r}, expected {args.to!r}")
    if args.sender and email.utils.parseaddr(str(m["From"]))[1] != args.sender:
        fail(f"From is {m['From']!r}, expected {args.sender!r}")
    if args.subject is not None and str(m["Subject"]) != args.subject:
        fail(f"Subject decodes to {str(m['Subject'])!r}, expected {args.subject!r}")
    if not re.fullmatch(r"<[0-9a-f]{32}@greenlight>", str(m["Message-ID"])):
        fail(f"Message-ID {m['Message-ID']!r} is not <32 hex@greenlight>")
    if args.message_id and str(m["Message-ID"]) != args.message_id:
        fail(f"Message-ID is {m['Message-ID']!r}, expected {args.message_id!r}")
    if email.utils.parsedate_to_datetime(str(m["Date"])) is None:
        fail("Date does not parse")


def check_parts(m, args):
    if m.get_content_type() != "multipart/alternative":
        fail(f"top level is {m.get_content_type()}")
    parts = list(m.iter_parts())
    types = [p.get_content_type() for p in parts]
    if types != ["text/plain", "text/html"]:
        fail(f"parts are {types}")
    for p in [m] + parts:
        if p.defects:
            fail(f"parser defects in {p.get_content_type()}: {p.defects}")
    for p in parts:
        if (p.get_content_charset() or "").lower() != "utf-8":
            fail(f"{p.get_content_type()} charset is {p.get_content_charset()}")
    return parts[0].get_content(), parts[1].get_content()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eml")
    ap.add_argument("--to")
    ap.add_argument("--from", dest="sender")
    ap.add_argument("--subject")
    ap.add_argument("--message-id")
    ap.add_argument("--link", help="review URL expected in both parts")
    ap.add_argument("--absent-header", action="append", default=[])
    ap.add_argument("--text-contains", action="append", default=[])
    ap.add_argument("--html-contains", action="append", default=[])
    ap.add_argument("--html-absent", action="append", default=[])
    args = ap.parse_args()

    raw = open(args.eml, "rb").read()
    check_raw(raw)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    check_headers(m, args)
    text, html = check_parts(m, args)
    if args.link:
        if args.link not in text:
            fail("review link missing from the text part")
        if f'href="{args.link}"' not in html:
            fail("review link missing from the HTML part")
    for s in args.text_contains:
        if s not in text:
            fail(f"text part lacks {s!r}")
    for s in args.html_contains:
        if s not in html:
            fail(f"HTML part lacks {s!r}")
    for s in args.html_absent + ["<img", "<link", "<script", "src=", "url("]:
        if s in html:
            fail(f"HTML part contains {s!r}")
    print("ok")


if __name__ == "__main__":
    main()
