#!/bin/bash
# i0211-relay-status-cache.sh - status reads are served from a cache of
# answers, and the cache never answers with something out of date: each
# read that follows a change shows it (a decision through the review page,
# the quorum, notified, new links, expiry at the deadline, pruning), on
# every worker thread, also on keep-alive connections that read in a loop;
# and a request read by its tenant is still 404 for another tenant.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import http.client, os, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
OTHER = "other-tenant-token-0123456789"
r = ru.Relay(GL, db, log, ["--threads", "4", "--retention", "3s"],
             tokens=f"{ru.BEARER},{OTHER}").start()
P = r.port
conns = [http.client.HTTPConnection("127.0.0.1", P, timeout=30) for _ in range(8)]

def reads(rid, token=ru.BEARER):
    """The request as read on each of 8 keep-alive connections (spread over
    the worker threads), twice each: every answer, to compare."""
    out = []
    for _ in range(2):
        for c in conns:
            out.append(ru.call(P, "GET", f"/v1/requests/{rid}", token=token, conn=c)[:2])
    return out

def all_say(what, rid, pred):
    got = reads(rid)
    bad = [g for g in got if not (g[0] == 200 and pred(g[1]))]
    check(what, not bad, bad[:2])

stale = 0
for i in range(30):
    req, toks = ru.register(P, teams=(("eng", 2, 2),))
    rid = req["id"]
    all_say(f"#{i} pending", rid, lambda b: b["state"] == "pending" and not b["decisions"])
    ru.decide(P, toks[0][2], "approve")
    for st, b in reads(rid):
        stale += not (st == 200 and b["state"] == "pending" and len(b["decisions"]) == 1)
    ru.decide(P, toks[1][2], "approve")
    for st, b in reads(rid):
        stale += not (st == 200 and b["state"] == "approved" and len(b["decisions"]) == 2)
check("after every decision every read shows it (30 requests, 32 reads each)", stale == 0, stale)

req, toks = ru.register(P, deadline_in=2)
rid = req["id"]
all_say("notified false", rid, lambda b: b["notified"] is False)
check("notified: 204", ru.call(P, "POST", f"/v1/requests/{rid}/notified")[0] == 204)
all_say("notified true right after", rid, lambda b: b["notified"] is True)
body, newtoks = ru.request_body()
st, b, _ = ru.call(P, "POST", f"/v1/requests/{rid}/rekey", {"recipients": body["recipients"]})
check("rekey: 200", st == 200, (st, b))
all_say("rekey clears notified, at once", rid, lambda b: b["notified"] is False)
st, b, _ = ru.call(P, "GET", f"/v1/requests/{rid}", token=OTHER)
check("another tenant gets 404 for a request its owner has read", st == 404, (st, b))
time.sleep(max(0, req["deadline"] - time.time()) + 0.05)
all_say("expired as soon as the deadline has come", rid,
        lambda b: b["state"] == "expired" and b["decided_at"] == req["deadline"])
check("pruned by retention", ru.wait_metric(P, "greenlight_relay_requests_pruned_total", 31, 20))
got = reads(rid)
check("a pruned request is 404 on every connection", all(g[0] == 404 for g in got), got[:2])
check("no errors", ru.metrics(P).get("greenlight_relay_errors_total") == 0)
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
