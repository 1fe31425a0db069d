#!/bin/bash
# i0203-relay-restart.sh - the relay's state survives SIGKILL: a decision
# whose page said "recorded" is there after a restart on the same
# database, even when an online backup (sqlite3 .backup, another process)
# ran in between; pending requests are served again (their links still
# work and a long-poll is released by a decision made after the restart),
# and a request whose deadline passed while the relay was down is settled
# as expired at start-up.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, signal, sqlite3, subprocess, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
r = ru.Relay(GL, db, log).start()
P = r.port

PKEY = "5" * 64
pending, ptoks = ru.register(P, key=PKEY, teams=(("eng", 1, 2),))
due, _ = ru.register(P, deadline_in=3)
decided, dtoks = ru.register(P)
st = ru.call(P, "POST", f"/v1/requests/{pending['id']}/notified")[0]
check("notified: 204", st == 204, st)

# an online backup by another process, as docs/relay.md describes: its
# connection closing must not take the WAL away from the running relay
bk = subprocess.run(["sqlite3", db, f".backup '{T}/backup.db'"], capture_output=True, text=True)
check("online backup works", bk.returncode == 0, bk.stderr)
check("the WAL is still there after the backup closed", os.path.exists(db + "-wal"))
con = sqlite3.connect(f"{T}/backup.db")
check("the backup holds the requests", con.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 3)
con.close()

# a decision answered "recorded", then the relay dies at once
check("decision recorded (200)", ru.decide(P, dtoks[0][2], "reject", "too slow") == 200)
con = sqlite3.connect(db)
check("another process sees the decision at once",
      con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 1)
con.close()
# and dies again while a long-poll is held
def kill_when_held():
    check("long-poll held", ru.wait_metric(P, "greenlight_relay_waiters", 1, 10))
    r.proc.send_signal(signal.SIGKILL)
    r.proc.wait()
(st, body, _), = ru.hold_longpolls(P, [pending["id"]], 30, kill_when_held)
check("the held long-poll got no answer (connection lost), not a decision", st == 0, (st, body))
check("killed by SIGKILL", r.proc.returncode == -signal.SIGKILL, r.proc.returncode)
check("the WAL was not checkpointed by a clean close", os.path.exists(db + "-wal"))

time.sleep(max(0, due["deadline"] - time.time()) + 0.2)
r = ru.Relay(GL, db, log).start()
P = r.port
check("start-up settles what expired while down",
      "1 request expired while the relay was down" in open(log).read(), open(log).read())

st, b, _ = ru.call(P, "GET", f"/v1/requests/{decided['id']}")
check("the recorded decision survived", st == 200 and b["state"] == "rejected", (st, b))
d = b["decisions"][0] if b.get("decisions") else {}
check("with its reason and token", d.get("reason") == "too slow" and d.get("token") == dtoks[0][2], d)
st, b, _ = ru.call(P, "GET", f"/v1/requests/{due['id']}")
check("the overdue request is expired at its deadline",
      st == 200 and b["state"] == "expired" and b["decided_at"] == due["deadline"], b)
st, b, _ = ru.call(P, "GET", f"/v1/requests/{pending['id']}")
check("the pending request is still pending", st == 200 and b["state"] == "pending", b)
check("... and still marked notified", b.get("notified") is True, b)
check("its link still works", ru.call(P, "GET", f"/r/{ptoks[1][2]}", token=None)[0] == 200)

def decide_when_held():
    check("long-poll held after restart", ru.wait_metric(P, "greenlight_relay_waiters", 1, 10))
    check("approve after restart (200)", ru.decide(P, ptoks[1][2], "approve") == 200)
(st, body, secs), = ru.hold_longpolls(P, [pending["id"]], 30, decide_when_held)
check("the decision made after the restart releases the long-poll",
      st == 200 and body["state"] == "approved", (st, body))
check("idempotent re-registration after restart returns the same request",
      ru.call(P, "POST", "/v1/requests", dict(ru.request_body()[0], key=PKEY))[1]["id"] == pending["id"])
m = ru.metrics(P)
check("metrics see the states", m.get('greenlight_relay_requests{state="approved"}') == 1
      and m.get('greenlight_relay_requests{state="expired"}') == 1
      and m.get('greenlight_relay_requests{state="rejected"}') == 1, m)
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
