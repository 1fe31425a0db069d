#!/bin/bash
# i0204-relay-thousand.sh - 1,000 concurrent long-polls on 20 requests (50
# each): the 500 on requests decided on the review page are released at
# once with the right state, the other 500 when their wait ends, none is
# lost or answered twice, and one more long-poll beyond --max-waiters gets
# 429 while a plain read is still served.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import collections, os, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log = f"{T}/relay.log"
check = ru.Checks([log])
N, PER, WAIT = 1000, 50, 4
r = ru.Relay(GL, f"{T}/relay.db", log, ["--max-waiters", str(N), "--max-connections", "1100",
                                        "--per-ip-connections", "1100"]).start()
P = r.port
reqs = [ru.register(P) for _ in range(N // PER)]
ids = [q["id"] for q, _ in reqs for _ in range(PER)]
decided = {}          # id -> state
marks = {}

def decide_when_held():
    t0 = time.monotonic()
    check(f"all {N} long-polls held", ru.wait_metric(P, "greenlight_relay_waiters", N, 60),
          ru.metrics(P).get("greenlight_relay_waiters"))
    marks["held"] = time.monotonic() - t0
    st, body, resp = ru.call(P, "GET", f"/v1/requests/{reqs[0][0]['id']}?wait=5")
    check("one more long-poll: 429", st == 429, (st, body))
    check("429 says when to retry", resp.getheader("Retry-After") == "1")
    check("a plain read is still served", ru.call(P, "GET", f"/v1/requests/{reqs[0][0]['id']}")[0] == 200)
    marks["decide"] = time.monotonic()
    for i, (q, toks) in enumerate(reqs[:10]):
        want = "approve" if i % 2 == 0 else "reject"
        check(f"decision {i} recorded", ru.decide(P, toks[0][2], want) == 200)
        decided[q["id"]] = "approved" if want == "approve" else "rejected"
    marks["decided"] = time.monotonic()

t0 = time.monotonic()
ends = []
res = ru.hold_longpolls(P, ids, WAIT, decide_when_held, ends=ends)
counts = collections.Counter()
late = []
for rid, (st, body, secs), end in zip(ids, res, ends):
    ok = st == 200 and isinstance(body, dict) and body.get("id") == rid
    if rid in decided:
        ok = ok and body["state"] == decided[rid]
        if end - marks["decided"] > 1.0:
            late.append(end - marks["decided"])
        counts["decided-ok" if ok else "decided-bad"] += 1
    else:
        ok = ok and body["state"] == "pending" and secs >= WAIT - 0.1
        counts["waited-ok" if ok else "waited-bad"] += 1
check("500 released by decisions, right state", counts["decided-ok"] == N // 2, counts)
check("500 released by wait, still pending", counts["waited-ok"] == N // 2, counts)
check("decided ones released within 1 s of the last decision", not late, late[:5])
m = ru.metrics(P)
check("no waiter left", m.get("greenlight_relay_waiters") == 0, m)
check("one refusal counted", m.get("greenlight_relay_waiters_refused_total") == 1, m)
check("every long-poll answered 200 once", m.get('greenlight_relay_http_responses_total{code="200"}', 0) >= N, m)
print(f"held {N} in {marks['held']:.2f}s; whole run {time.monotonic() - t0:.2f}s")
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
