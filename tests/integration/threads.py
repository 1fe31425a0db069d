#!/usr/bin/python3
"""threads.py - check greenlight's threaded messages as a mail client would.

Usage: threads.py MAILDIR COMMAND [ARGS...]; exit 0 when the check holds,
1 with a reason on stderr otherwise.  Messages are parsed with Python's
`email` package.  Review requests are MAILDIR/NNNN.eml, threaded messages
(reminders, escalations never: those are requests) MAILDIR/thread/NNNN.eml.

  threaded                every threaded message replies to the request
                          email its recipient got: In-Reply-To and
                          References equal that email's Message-ID, and
                          the Subject is "Re: " + its Subject
  body ADDR N TEXT...     the Nth (1-based) threaded message to ADDR
                          contains every TEXT
  count ADDR KIND N       ADDR got exactly N threaded messages of KIND
                          ("reminder": body starts "Reminder:",
                          "followup": anything else)
  howmany ADDR KIND       print how many threaded messages of KIND ADDR got
  schedule ADDR EVERY LATE
                          reminder k to ADDR (at least two) arrived no
                          sooner than k*EVERY - 1.5 s and no later than
                          k*EVERY + LATE s after the request email to ADDR:
                          reminders are due at creation + k*EVERY, with
                          the creation time kept in whole seconds (up to
                          1 s before the request email) and a little more
                          for that email's own delivery.  Gaps between
                          consecutive arrivals are not checked: one slow
                          delivery would shorten the next gap although
                          nothing was sent early.
"""
import email
import glob
import json
import os
import sys
from email import policy


def load(path):
    with open(path, "rb") as f:
        m = email.message_from_binary_file(f, policy=policy.default)
    with open(path[:-4] + ".json") as f:
        meta = json.load(f)
    return m, meta


def requests(d, with_meta=False):
    out = {}
    for p in sorted(glob.glob(os.path.join(d, "*.eml"))):
        m, meta = load(p)
        for to in meta["rcpt_tos"]:
            out.setdefault(to.lower(), []).append((m, meta) if with_meta else m)
    return out


def threaded(d):
    out = []
    for p in sorted(glob.glob(os.path.join(d, "thread", "*.eml"))):
        m, meta = load(p)
        out.append((meta["rcpt_tos"][0].lower(), m, meta))
    return out


def text(m):
    return m.get_body(("plain",)).get_content()


def kind(m):
    return "reminder" if text(m).startswith("Reminder:") else "followup"


def fail(msg):
    print("threads.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    d, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    reqs, thr = requests(d), threaded(d)
    if cmd == "threaded":
        if not thr:
            fail("no threaded messages")
        for to, m, _ in thr:
            firsts = reqs.get(to)
            if not firsts:
                fail(f"{to} got a threaded message but no request email")
            ids = {r["Message-ID"] for r in firsts}
            if m["In-Reply-To"] not in ids:
                fail(f"{to}: In-Reply-To {m['In-Reply-To']} is not the request's Message-ID {ids}")
            if m["References"] not in ids:
                fail(f"{to}: References {m['References']} is not the request's Message-ID")
            if m["Message-ID"] in ids:
                fail(f"{to}: the threaded message reuses the request's Message-ID")
            want = "Re: " + str(firsts[0]["Subject"])
            if str(m["Subject"]) != want:
                fail(f"{to}: Subject {m['Subject']!r}, expected {want!r}")
    elif cmd == "body":
        to, n, wants = args[0].lower(), int(args[1]), args[2:]
        mine = [m for t, m, _ in thr if t == to]
        if len(mine) < n:
            fail(f"{to} has {len(mine)} threaded messages, wanted message {n}")
        body = text(mine[n - 1])
        for w in wants:
            if w not in body:
                fail(f"{to} message {n} lacks {w!r}:\n{body}")
    elif cmd == "count":
        to, k, n = args[0].lower(), args[1], int(args[2])
        got = sum(1 for t, m, _ in thr if t == to and kind(m) == k)
        if got != n:
            fail(f"{to} got {got} {k} message(s), expected {n}")
    elif cmd == "howmany":
        to, k = args[0].lower(), args[1]
        print(sum(1 for t, m, _ in thr if t == to and kind(m) == k))
    elif cmd == "schedule":
        to, every, late = args[0].lower(), float(args[1]), float(args[2])
        asked = requests(d, with_meta=True).get(to)
        if not asked:
            fail(f"{to} got no request email")
        t0 = asked[0][1]["received"]
        times = [meta["received"] for t, m, meta in thr if t == to and kind(m) == "reminder"]
        if len(times) < 2:
            fail(f"{to} got {len(times)} reminders, need two to measure")
        for k, t in enumerate(times, 1):
            lo, hi = k * every - 1.5, k * every + late
            if not lo <= t - t0 <= hi:
                fail(f"{to}: reminder {k} came {t - t0:.2f}s after the request, expected {lo}..{hi}s")
    else:
        fail("unknown command " + cmd)


main()
