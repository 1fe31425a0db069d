#!/bin/bash
# i0209-relay-retention.sh - retention and the counts /metrics shows.
# With --retention 3s the relay deletes approved, rejected and expired
# requests (and their decisions, recipients and teams) a few seconds
# after they were settled and logs how many; pending requests and
# baselines stay, a pruned request is 404, and the database gives the
# freed pages back (it was created with incremental auto-vacuum).  The
# request counts in /metrics equal the rows in the database after
# registrations, decisions, expiry, pruning and a restart; --retention 0
# keeps everything.  Also: a decision that does not settle a request
# answers its held long-polls at once with "pending" and the new decision.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, re, sqlite3, subprocess, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
STATES = ("pending", "approved", "rejected", "expired")

def rows(sql, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()

def counts_right(port, what, want=None):
    m = ru.metrics(port)
    got = {s: m.get(f'greenlight_relay_requests{{state="{s}"}}') for s in STATES}
    real = {s: rows("SELECT COUNT(*) FROM requests WHERE state = ?", s)[0][0] for s in STATES}
    check(f"{what}: /metrics counts equal the rows", got == real, (got, real))
    if want is not None:
        check(f"{what}: counts are {want}", [got[s] for s in STATES] == list(want), got)

env = dict(os.environ, GREENLIGHT_RELAY_TOKENS=ru.BEARER)
for bad in ("x", "-1", "5", "1w", ""):
    p = subprocess.run([GL, "relay", "--db", db, "--retention", bad], capture_output=True,
                       text=True, env=env, timeout=30)
    check(f"--retention {bad!r}: exit 2 with a clear line",
          p.returncode == 2 and "--retention" in p.stderr, (p.returncode, p.stderr))
check("a refused start made no database", not os.path.exists(db))

r = ru.Relay(GL, db, log, ["--retention", "3s"]).start()
P = r.port
m = ru.metrics(P)
check("metrics show the retention", m.get("greenlight_relay_retention_seconds") == 3, m)
check("the new database uses incremental auto-vacuum",
      rows("PRAGMA auto_vacuum")[0][0] == 2)

app, atoks = ru.register(P)
rej, rtoks = ru.register(P)
exp, _ = ru.register(P, deadline_in=1)
pend, ptoks = ru.register(P, teams=(("eng", 2, 3),), deadline_in=3600)
counts_right(P, "after four registrations", (4, 0, 0, 0))

# a decision that does not settle the request answers held long-polls at once
def decide_one():
    check("long-poll held", ru.wait_metric(P, "greenlight_relay_waiters", 1, 10))
    check("first of two approvals recorded", ru.decide(P, ptoks[0][2], "approve") == 200)
t0 = time.monotonic()
(st, body, _), = ru.hold_longpolls(P, [pend["id"]], 30, decide_one)
check("... answers the long-poll at once with pending and the decision",
      st == 200 and body["state"] == "pending" and len(body["decisions"]) == 1
      and time.monotonic() - t0 < 10, (st, body))

check("approve (200)", ru.decide(P, atoks[0][2], "approve") == 200)
check("reject (200)", ru.decide(P, rtoks[0][2], "reject") == 200)
settled_at = time.time()
counts_right(P, "after approve and reject", (2, 1, 1, 0))
time.sleep(max(0, exp["deadline"] - time.time()) + 1.3)    # the sweep settles it
counts_right(P, "after expiry", (1, 1, 1, 1))
con = sqlite3.connect(db)
con.execute("INSERT INTO baselines VALUES ('t', 'https://git.example.com/x.git', 'g', ?, '{}', 1)",
            ("a" * 40,))
con.commit()
con.close()

check("pruned within retention + a few seconds",
      ru.wait_metric(P, "greenlight_relay_requests_pruned_total", 3, 15), ru.metrics(P))
check("not before the retention had passed", time.time() - settled_at >= 3)
for name, req in (("approved", app), ("rejected", rej), ("expired", exp)):
    st, b, _ = ru.call(P, "GET", f"/v1/requests/{req['id']}")
    check(f"the {name} request is gone (404)", st == 404, (st, b))
    for table, col in (("decisions", "request_id"), ("recipients", "request_id"),
                       ("teams", "request_id"), ("requests", "id")):
        n = rows(f"SELECT COUNT(*) FROM {table} WHERE {col} = ?", req["id"])[0][0]
        check(f"... with no row left in {table}", n == 0, n)
st, b, _ = ru.call(P, "GET", f"/v1/requests/{pend['id']}")
check("the pending request stays, with its decision", st == 200 and b["state"] == "pending"
      and len(b["decisions"]) == 1, (st, b))
check("baselines are never pruned", rows("SELECT COUNT(*) FROM baselines")[0][0] == 1)
deleted = re.findall(r"retention 3s: deleted (\d+) requests? settled before \d{4}-\d\d-\d\dT", open(log).read())
check("the relay logged what it deleted", sum(map(int, deleted)) == 3, open(log).read())
counts_right(P, "after pruning", (1, 0, 0, 0))
check("no free pages left behind", rows("PRAGMA freelist_count")[0][0] == 0,
      rows("PRAGMA freelist_count"))
check("no errors", ru.metrics(P).get("greenlight_relay_errors_total") == 0)
check("relay stops with 0", r.stop() == 0)

# restart, keeping everything: counts carry over, nothing is deleted
r = ru.Relay(GL, db, log, ["--retention", "0"]).start()
P = r.port
counts_right(P, "after a restart", (1, 0, 0, 0))
check("--retention 0: metrics say for ever", ru.metrics(P).get("greenlight_relay_retention_seconds") == 0)
check("second approval (200)", ru.decide(P, ptoks[1][2], "approve") == 200)
counts_right(P, "after the quorum", (0, 1, 0, 0))
time.sleep(2.5)
st, b, _ = ru.call(P, "GET", f"/v1/requests/{pend['id']}")
check("--retention 0 keeps a settled request", st == 200 and b["state"] == "approved", (st, b))
check("nothing pruned", ru.metrics(P).get("greenlight_relay_requests_pruned_total") == 0)
check("relay stops with 0", r.stop() == 0)

# the default is 90 days: a restart with it prunes nothing recent
env90 = dict(os.environ)
env90.pop("GREENLIGHT_RELAY_RETENTION", None)
r = ru.Relay(GL, db, log, env=env90).start()
check("default retention is 90 days",
      ru.metrics(r.port).get("greenlight_relay_retention_seconds") == 90 * 86400)
counts_right(r.port, "after a restart with the default", (0, 1, 0, 0))
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
