#!/usr/bin/python3
"""reply.py - write a reviewer's reply to a greenlight request email and
send it through the SMTP rig (STARTTLS + AUTH) to the gate's mailbox.

The reply is built as mail clients build them: Re: subject, In-Reply-To
and References naming the request's Message-ID, sent to the request's
Reply-To (gate+CODE@...), the new text on top and the request quoted
below ("On ... wrote:" and "> " lines, or Gmail's quote divs in HTML).
On top it carries the Authentication-Results header the receiving MX would
add (--auth; "none" for none).  Knobs make the forgeries and encodings the
tests need.  Prints the reply's Message-ID.
"""
import argparse
import base64
import email
import html
import quopri
import re
import smtplib
import ssl
import sys
import uuid
from email import policy
from email.header import Header
from email.utils import formatdate


def encode(text, charset, cte):
    data = text.replace("\n", "\r\n").encode(charset)
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if cte == "quoted-printable":
        return quopri.encodestring(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


def part(ctype, text, charset, cte):
    head = (f"Content-Type: {ctype}; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode()
    return head + encode(text, charset, cte)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--request", required=True)
    p.add_argument("--from", dest="sender")
    p.add_argument("--to")
    p.add_argument("--body", default="approve")
    p.add_argument("--code", help="use this reply code instead of the request's")
    p.add_argument("--no-code", action="store_true")
    p.add_argument("--html-only", action="store_true")
    p.add_argument("--both", action="store_true", help="multipart/alternative")
    p.add_argument("--cte", default="8bit")
    p.add_argument("--charset", default="utf-8")
    p.add_argument("--auth", help='Authentication-Results value; default: dmarc=pass from mx.example.com')
    p.add_argument("--in-reply-to")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--subject")
    p.add_argument("--smtp-port", type=int, required=True)
    p.add_argument("--ca", required=True)
    a = p.parse_args()

    req = email.message_from_binary_file(open(a.request, "rb"), policy=policy.default)
    reply_to = str(req["Reply-To"])
    code = re.search(r"\+([A-Za-z0-9_-]{43})@", reply_to).group(1)
    if a.code:
        code_new = a.code
    else:
        code_new = code
    sender = a.sender or str(req["To"])
    to = a.to or reply_to.replace(code, code_new)
    if a.no_code:
        to = re.sub(r"\+[A-Za-z0-9_-]{43}@", "@", to)
    quoted = req.get_body(("plain",)).get_content().replace(code, "" if a.no_code else code_new)
    domain = sender.split("@")[1]
    auth = a.auth if a.auth is not None else f"mx.example.com; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"
    irt = a.in_reply_to if a.in_reply_to is not None else str(req["Message-ID"])
    msgid = f"<{uuid.uuid4().hex}@client.example>"
    body = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)),
                  a.body.replace("\\n", "\n"))
    attribution = f"On {req['Date']}, greenlight <{req['From'].addresses[0].addr_spec}> wrote:"
    plain = body + "\n\n" + attribution + "\n" + "".join("> " + l + "\n" for l in quoted.splitlines())
    htm = ("<html><body><div dir=\"ltr\">" + "<br>".join(html.escape(l) for l in body.split("\n")) +
           "</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">" + html.escape(attribution) +
           "<br></div><blockquote class=\"gmail_quote\" style=\"margin:0\">" +
           "<br>".join(html.escape(l) for l in quoted.splitlines()) + "</blockquote></div></body></html>\n")
    subject = a.subject if a.subject is not None else "Re: " + str(req["Subject"])
    head = ""
    if auth != "none":
        head += f"Authentication-Results: {auth}\r\n"
    head += f"From: {sender}\r\nTo: {to}\r\n"
    head += "Subject: " + Header(subject, "utf-8").encode() + "\r\n"
    head += f"Date: {formatdate()}\r\nMessage-ID: {msgid}\r\n"
    if irt != "none":
        head += f"In-Reply-To: {irt}\r\nReferences: {irt}\r\n"
    for h in a.header:
        head += h + "\r\n"
    head += "MIME-Version: 1.0\r\n"
    if a.both:
        b = "=_reply_boundary_"
        raw = (head + f"Content-Type: multipart/alternative; boundary=\"{b}\"\r\n\r\n").encode()
        raw += f"--{b}\r\n".encode() + part("text/plain", plain, a.charset, a.cte) + b"\r\n"
        raw += f"--{b}\r\n".encode() + part("text/html", htm, a.charset, a.cte) + b"\r\n"
        raw += f"--{b}--\r\n".encode()
    elif a.html_only:
        raw = head.encode() + part("text/html", htm, a.charset, a.cte)
    else:
        raw = head.encode() + part("text/plain", plain, a.charset, a.cte)
    ctx = ssl.create_default_context(cafile=a.ca)
    with smtplib.SMTP("127.0.0.1", a.smtp_port) as s:
        s.starttls(context=ctx)
        s.login("greenlight", "secret")
        s.sendmail(sender, [to], raw)
    print(msgid)


if __name__ == "__main__":
    sys.exit(main())
