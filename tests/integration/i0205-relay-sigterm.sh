#!/bin/bash
# i0205-relay-sigterm.sh - SIGTERM answers every held long-poll with the
# request's current state before the relay stops (exit 0), promptly; a
# decision recorded just before is in that answer.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, signal, socket, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log = f"{T}/relay.log"
check = ru.Checks([log])
N = 50
r = ru.Relay(GL, f"{T}/relay.db", log).start()
P = r.port
a, atoks = ru.register(P)
b, _ = ru.register(P)
ids = [a["id"], b["id"]] * (N // 2)
marks = {}

def term_when_held():
    check(f"{N} long-polls held", ru.wait_metric(P, "greenlight_relay_waiters", N, 20))
    # decide a while the others wait; its waiters are released by it
    check("decision recorded", ru.decide(P, atoks[0][2], "approve") == 200)
    check("the rest still held", ru.wait_metric(P, "greenlight_relay_waiters", N // 2, 5))
    marks["term"] = time.monotonic()
    r.proc.send_signal(signal.SIGTERM)
    r.proc.wait(10)
    marks["exit"] = time.monotonic()

ends = []
res = ru.hold_longpolls(P, ids, 30, term_when_held, ends=ends)
answered = [x for x in res if x[0] == 200]
check("every held long-poll was answered 200", len(answered) == N, [x[0] for x in res])
check("with the current state", all(body["state"] == ("approved" if rid == a["id"] else "pending")
                                    for rid, (_, body, _) in zip(ids, res) if isinstance(body, dict)))
last = max(ends)
check(f"answered within 1 s of SIGTERM ({last - marks['term']:.3f}s)", last - marks["term"] < 1.0)
check(f"exited within 2.5 s of SIGTERM ({marks['exit'] - marks['term']:.3f}s)",
      marks["exit"] - marks["term"] < 2.5)
check("exit status 0", r.proc.returncode == 0, r.proc.returncode)
check("says what it did", f"answering {N // 2} waiting long-polls and stopping" in open(log).read(),
      open(log).read())
s = socket.socket()
check("nothing listens any more", s.connect_ex(("127.0.0.1", P)) != 0)
s.close()
r.err.close()
check.finish()
PYEOF
