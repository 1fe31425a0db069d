#!/bin/bash
# i0202-relay-longpoll.sh - a long-poll on the relay is released by a
# decision made on the review page (served by the relay exactly as in
# listen mode), by its `wait` elapsing, and by the request's deadline; the
# decision carries the token the reviewer presented, whose SHA-256 is the
# hash the gate registered.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, time, urllib.parse
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log = f"{T}/relay.log"
check = ru.Checks([log])
r = ru.Relay(GL, f"{T}/relay.db", log).start()
P = r.port

# the review page, as in listen mode
req, toks = ru.register(P, teams=(("eng", 1, 2),), author="eng0@example.com")
rid, tok = req["id"], toks[1][2]
st, html, h = ru.call(P, "GET", f"/r/{tok}", token=None)
check("page: 200", st == 200, st)
check("page: strict CSP", "frame-ancestors 'none'" in (h.getheader("Content-Security-Policy") or ""))
check("page: no-referrer, no-store", h.getheader("Referrer-Policy") == "no-referrer"
      and h.getheader("Cache-Control") == "no-store")
check("page: shows the rule", "latencyMs" in html and 'value="approve"' in html)
check("HEAD: 200", ru.call(P, "HEAD", f"/r/{tok}", token=None)[0] == 200)
_, nonce = ru.page_nonce(P, tok)
form = urllib.parse.urlencode({"decision": "approve", "nonce": nonce})
st, _, _ = ru.call(P, "POST", f"/r/{tok}", form, token=None, headers={
    "Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
check("POST from another origin: 403", st == 403, st)
check("GET, HEAD and a refused POST decided nothing",
      ru.call(P, "GET", f"/v1/requests/{rid}")[1]["decisions"] == [])
check("the commit's author may not approve", ru.decide(P, toks[0][2], "approve") == 403)

# released by a decision on the page
when = {}
def decide_when_held():
    check("long-poll is held", ru.wait_metric(P, "greenlight_relay_waiters", 1, 10))
    time.sleep(0.3)
    when["t"] = time.monotonic()
    check("approve recorded (200)", ru.decide(P, tok, "approve", "looks fine") == 200)
ends = []
(st, body, secs), = ru.hold_longpolls(P, [rid], 30, decide_when_held, ends=ends)
after = ends[0] - when["t"]
check("released: 200 approved", st == 200 and body["state"] == "approved", (st, body))
check(f"released at once ({after:.3f}s after the decision)", after < 1.0, after)
d = body["decisions"][0] if body and body.get("decisions") else {}
check("decision names the reviewer", d.get("email") == "eng1@example.com" and d.get("team") == "eng", d)
check("decision carries the reason", d.get("reason") == "looks fine", d)
check("decision carries the presented token", d.get("token") == tok, d)
check("whose hash the gate registered", ru.sha256_hex(d.get("token", "")) == ru.sha256_hex(tok))
check("decided_at is set", isinstance(body.get("decided_at"), int) and body["decided_at"] >= body["created"], body)
st, again, _ = ru.call(P, "GET", f"/v1/requests/{rid}?wait=30")
check("a decided request answers a long-poll at once", st == 200 and again["state"] == "approved")
check("page: 410 after the decision", ru.call(P, "GET", f"/r/{tok}", token=None)[0] == 410)

# released by `wait` elapsing
req2, _ = ru.register(P)
(st, body, secs), = ru.hold_longpolls(P, [req2["id"]], 2)
check("wait=2: 200 pending", st == 200 and body["state"] == "pending", (st, body))
check(f"wait=2 took {secs:.2f}s", 1.9 <= secs < 3.0, secs)

# released by the request's deadline
req3, _ = ru.register(P, deadline_in=2)
(st, body, secs), = ru.hold_longpolls(P, [req3["id"]], 30)
check("deadline: 200 expired", st == 200 and body["state"] == "expired", (st, body))
check(f"deadline: released after {secs:.2f}s", secs < 3.5, secs)
check("expired at its deadline", body["decided_at"] == body["deadline"], body)

m = ru.metrics(P)
check("no waiter left", m.get("greenlight_relay_waiters") == 0, m)
check("decisions counted", m.get("greenlight_relay_decisions_recorded_total") == 1, m)
check("page responses counted", m.get('greenlight_relay_http_responses_total{code="410"}') == 1, m)
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
