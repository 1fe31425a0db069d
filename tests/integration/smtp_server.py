#!/usr/bin/python3
"""smtp_server.py - a real SMTP server (aiosmtpd) for greenlight's mail tests.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd).  By default it demands
STARTTLS and then AUTH (PLAIN or LOGIN) before it accepts mail, like a
submission server on port 587.  It binds 127.0.0.1 (or --host) on an
ephemeral port (or --port) and writes the real port to --port-file once it
is listening.  Each accepted
message is saved as DIR/NNNN.eml (the bytes received) with DIR/NNNN.json
beside it (envelope sender and recipients, whether TLS was up, the login,
when it arrived).  Messages that reply in a thread (an In-Reply-To header:
greenlight's reminders and follow-ups) are saved apart, as
DIR/thread/NNNN.eml and .json with their own numbering, so tests that count
and index review requests see only those.

Fault modes: --no-starttls (offer no STARTTLS, and offer AUTH in clear so a
careless client *would* send credentials), --code C (answer DATA with C;
with --fail-first N only the first N transactions), --reject-rcpt ADDR (550
for that recipient; repeatable), --password (the only accepted password).
--log-auth FILE appends one JSON line per AUTH command: the mechanism and
whether TLS was up.  Secrets are never logged.  SIGTERM stops the server.

Local delivery: with --maildir DIR --maildir-local NAME, a message for
NAME@... or NAME+anything@... (the gate's reply mailbox) is delivered into
the Maildir DIR (DIR/new/, as an MTA's local delivery agent would, with
Return-Path and Delivered-To on top) instead of being saved in --dir; the
IMAP server (dovecot) serves that Maildir.

TLS 1.3 session tickets are off (num_tickets = 0): libESMTP 1.1.0 can lose
the post-STARTTLS EHLO reply when tickets arrive first on a slow client.
"""
import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult

REPLIES = {
    421: "421 4.3.2 Service shutting down, try again later",
    450: "450 4.2.0 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary failure, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.7.1 Message rejected by policy",
    552: "552 5.3.4 Message too big",
    554: "554 5.6.0 Transaction failed",
}


class Handler:
    def __init__(self, args):
        self.args = args
        self.transactions = 0
        self.saved = 0
        self.threaded = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.args.reject_rcpt:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def local(self, address):
        name = self.args.maildir_local
        if not name or not self.args.maildir:
            return False
        local = address.split("@", 1)[0].lower()
        return local == name or local.startswith(name + "+")

    def deliver(self, envelope, rcpt):
        self.saved += 1
        new = os.path.join(self.args.maildir, "new")
        tmp = os.path.join(self.args.maildir, "tmp")
        name = f"{int(time.time())}.rig{os.getpid()}_{self.saved}.localhost"
        top = (f"Return-Path: <{envelope.mail_from}>\r\n"
               f"Delivered-To: {rcpt}\r\n").encode()
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(top + envelope.original_content)
        os.rename(os.path.join(tmp, name), os.path.join(new, name))

    async def handle_DATA(self, server, session, envelope):
        self.transactions += 1
        a = self.args
        if a.code and (a.fail_first == 0 or self.transactions <= a.fail_first):
            return REPLIES.get(a.code, f"{a.code} Rejected by test rig")
        mine = [r for r in envelope.rcpt_tos if self.local(r)]
        if mine:
            for r in mine:
                self.deliver(envelope, r)
            return "250 2.0.0 OK delivered"
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        threaded = re.search(rb"(?im)^in-reply-to:", head) is not None
        if threaded:
            self.threaded += 1
            os.makedirs(os.path.join(a.dir, "thread"), exist_ok=True)
            base = os.path.join(a.dir, "thread", f"{self.threaded:04d}")
        else:
            self.saved += 1
            base = os.path.join(a.dir, f"{self.saved:04d}")
        login = getattr(session.auth_data, "login", None)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server._tls_protocol is not None,
            "auth_login": login.decode("utf-8", "replace") if login else None,
            "received": time.time(),
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return f"250 2.0.0 OK queued as {self.threaded if threaded else self.saved:04d}"


class RigSMTP(SMTP):
    """aiosmtpd's SMTP, recording every AUTH attempt (never its payload)."""

    auth_log = None

    async def smtp_AUTH(self, arg):
        if self.auth_log:
            mech = arg.split()[0].upper() if arg else ""
            with open(self.auth_log, "a") as f:
                f.write(json.dumps({"mechanism": mech,
                                    "tls": self._tls_protocol is not None}) + "\n")
        return await super().smtp_AUTH(arg)


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login == user.encode() and
              auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data if ok else None)
    return authenticate


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(args.certdir, "server.pem"),
                        os.path.join(args.certdir, "server.key"))
    ctx.num_tickets = args.tickets
    return ctx


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Handler(args)
    RigSMTP.auth_log = args.log_auth
    tls = None if args.no_starttls else tls_context(args)
    kwargs = dict(
        hostname="rig.localhost", loop=loop, tls_context=tls,
        require_starttls=tls is not None, auth_required=True,
        auth_require_tls=tls is not None,
        authenticator=make_authenticator(args.user, args.password))
    server = await loop.create_server(lambda: RigSMTP(handler, **kwargs),
                                      host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(args.port_file + ".tmp", args.port_file)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True, help="where received mail is saved")
    p.add_argument("--host", default="127.0.0.1", help="address to bind")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--certdir", help="holds server.pem and server.key (make_ca.sh)")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--user", default="greenlight")
    p.add_argument("--password", default=os.environ.get("SMTP_RIG_PASSWORD", "secret"))
    p.add_argument("--code", type=int, default=0)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--reject-rcpt", action="append", default=[])
    p.add_argument("--log-auth")
    p.add_argument("--maildir", help="Maildir for local delivery")
    p.add_argument("--maildir-local", help="local part delivered there")
    p.add_argument("--tickets", type=int, default=0,
                   help="TLS 1.3 session tickets to send (default 0)")
    args = p.parse_args()
    args.reject_rcpt = [a.lower() for a in args.reject_rcpt]
    # aiosmtpd logs every client TLS failure with a traceback; the tests
    # provoke those on purpose and read outcomes from files instead
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    if not args.no_starttls and not args.certdir:
        p.error("--certdir is required unless --no-starttls")
    os.makedirs(args.dir, exist_ok=True)
    if args.maildir:
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)
    if args.log_auth:
        open(args.log_auth, "a").close()
    asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
