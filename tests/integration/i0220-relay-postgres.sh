#!/bin/bash
# i0220-relay-postgres.sh - `greenlight relay --db postgresql://...` on a
# real PostgreSQL (pg_lib.sh): two relays started at once on a fresh
# database create the schema once; each serves registrations, status reads,
# review pages, decisions and long-polls; a gate long-polling relay A is
# answered when a reviewer decides on relay B (latency printed); both
# relays deciding one request (quorum 2) at once count exactly two
# approvals, many times over; one registration sent to both at once makes
# one request; a NOTIFY forged by any database role (without a tag, or
# with relay A's own tag learnt by LISTEN) makes relays answer only what
# the database holds, and A ignores its own tag; baselines and the counts
# /metrics shows are shared; a version 1 schema is migrated and a newer
# one refused; the password in the URL is never printed; reads and
# writes answer 503 + Retry-After while the database is down, and both
# relays serve and wake each other again once it is back.  (Retention on
# PostgreSQL: i0221.)
. "$(dirname "$0")/relay_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
pg_start
$PY - <<'PYEOF'
import os, re, signal, subprocess, threading, time, statistics
import relay_util as ru

T, GL, URL = os.environ["TMP"], os.environ["GREENLIGHT"], os.environ["PGURL"]
# a password in the URL (trust authentication ignores it): never printed
SECRET = "s3cret-pw-0123"
DBURL = URL.replace("gl@", f"gl:{SECRET}@")
loga, logb = f"{T}/a.log", f"{T}/b.log"
check = ru.Checks([loga, logb])

# two relays started at the same moment on an empty database
a, b = ru.Relay(GL, DBURL, loga), ru.Relay(GL, DBURL, logb)
ts = [threading.Thread(target=r.start) for r in (a, b)]
for t in ts: t.start()
for t in ts: t.join()
check("two relays start at once on one fresh PostgreSQL database",
      a.port is not None and b.port is not None)
psql = [os.environ["PGBIN"] + "/psql", "-h", "127.0.0.1", "-p", os.environ["PGPORT"],
        "-U", "gl", "-d", "postgres", "-Atc"]
def sql(q):
    return subprocess.run(psql + [q], capture_output=True, text=True).stdout.strip()
check("the schema was created once, at version 4",
      sql("SELECT version FROM greenlight_schema") == "4")
check("the announcement names the database without its password",
      "postgresql://gl:***@127.0.0.1" in open(loga).read(), open(loga).read())

# one relay: register, read, decide through the page, long-poll answered
req, toks = ru.register(a.port)
st, body, _ = ru.call(a.port, "GET", f"/v1/requests/{req['id']}")
check("relay A registers and reads back", st == 200 and body["state"] == "pending", (st, body))
st, body, _ = ru.call(b.port, "GET", f"/v1/requests/{req['id']}")
check("relay B reads the request A registered", st == 200 and body["id"] == req["id"], (st, body))
st, again, _ = ru.call(b.port, "POST", "/v1/requests", ru.request_body(key=None)[0] | {})
check("relay B registers too", st == 201, (st, again))

# the gate long-polls A; the reviewer decides on B
lat = []
hints_b = ru.metrics(b.port).get("greenlight_relay_decision_hints_total", 0)
for i in range(10):
    req, toks = ru.register(a.port)
    _, nonce = ru.page_nonce(b.port, toks[0][2])
    out = {}
    def poll():
        out["r"] = ru.call(a.port, "GET", f"/v1/requests/{req['id']}?wait=20")
        out["t"] = time.monotonic()
    t = threading.Thread(target=poll); t.start()
    time.sleep(0.3)			# the long-poll is held by now
    t0 = time.monotonic()
    st = ru.decide(b.port, toks[0][2], nonce=nonce)
    t.join(25)
    ok = st == 303 or st == 200
    r = out.get("r")
    check(f"cross-relay decision {i}: the review page took it", ok, st)
    check(f"cross-relay decision {i}: the gate's long-poll on A was answered approved",
          r is not None and r[0] == 200 and r[1]["state"] == "approved", r)
    if r is not None:
        lat.append((out["t"] - t0) * 1000)
lat.sort()
print(f"cross-relay wake-up (decision on B -> long-poll on A answered): "
      f"p50 {statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms over {len(lat)}")
# the goal is 250 ms at p99 (printed above); the check leaves room for a
# loaded machine but fails if the long-poll only ended with its wait
check("cross-relay wake-up: each of 10 answered within 1 s of the decision",
      len(lat) == 10 and lat[-1] < 1000, lat)
time.sleep(0.3)
check("relay B does not take its own 10 hints for other relays' changes",
      ru.metrics(b.port).get("greenlight_relay_decision_hints_total", 0) == hints_b,
      (hints_b, ru.metrics(b.port).get("greenlight_relay_decision_hints_total")))

# both relays decide the same quorum-2 request at once, many times
bad = []
for i in range(40):
    req, toks = ru.register(a.port, teams=(("eng", 2, 2),))
    n0 = ru.page_nonce(a.port, toks[0][2])[1]
    n1 = ru.page_nonce(b.port, toks[1][2])[1]
    res = {}
    def go(k, port, tok, n):
        res[k] = ru.decide(port, tok, nonce=n)
    th = [threading.Thread(target=go, args=(0, a.port, toks[0][2], n0)),
          threading.Thread(target=go, args=(1, b.port, toks[1][2], n1))]
    for t in th: t.start()
    for t in th: t.join()
    st, body, _ = ru.call(b.port, "GET", f"/v1/requests/{req['id']}")
    approvals = sql(f"SELECT count(*) FROM decisions WHERE request_id = '{req['id']}'")
    if not (body["state"] == "approved" and body["teams"][0]["approved"] == 2
            and approvals == "2" and len(body["decisions"]) == 2):
        bad.append((res, body, approvals))
check("40 times both relays decide one quorum-2 request at once: exactly two approvals, approved",
      not bad, bad[:2])
# the same reviewer on both relays at once: one decision
req, toks = ru.register(a.port, teams=(("eng", 2, 2),))
n0 = ru.page_nonce(a.port, toks[0][2])[1]
res = {}
th = [threading.Thread(target=lambda k=k, p=p: res.__setitem__(k, ru.decide(p, toks[0][2], nonce=n0)))
      for k, p in ((0, a.port), (1, b.port))]
for t in th: t.start()
for t in th: t.join()
check("one reviewer approving on both relays at once is counted once",
      sql(f"SELECT count(*) FROM decisions WHERE request_id = '{req['id']}'") == "1", res)

# the same registration sent to both relays at once: one request
bad = []
for i in range(20):
    body, _ = ru.request_body()
    res = {}
    th = [threading.Thread(target=lambda k=k, p=p: res.__setitem__(k, ru.call(p, "POST", "/v1/requests", body)))
          for k, p in ((0, a.port), (1, b.port))]
    for t in th: t.start()
    for t in th: t.join()
    codes = sorted(res[k][0] for k in res)
    ids = {res[k][1].get("id") for k in res}
    if codes != [200, 201] or len(ids) != 1:
        bad.append((codes, ids))
check("20 times one registration sent to both relays at once: one created (201), one found (200), same id",
      not bad, bad[:3])

# decisions racing expiry (both relays sweep every second, reads settle):
# every answer is a decision or "gone", never a server error
batch = [ru.register(a.port if i % 2 else b.port, deadline_in=3) for i in range(30)]
noncesd = [(r, t, ru.page_nonce(b.port if i % 2 else a.port, t[0][2])[1])
           for i, (r, t) in enumerate(batch)]
while time.time() < min(r["deadline"] for r, _ in batch) - 0.05:
    time.sleep(0.01)
res = []
def racer(i, r, t, n):
    res.append(ru.decide(b.port if i % 2 else a.port, t[0][2], nonce=n))
th = [threading.Thread(target=racer, args=(i, r, t, n)) for i, (r, t, n) in enumerate(noncesd)]
for t in th: t.start()
for t in th: t.join()
check("30 decisions racing their deadline on two sweeping relays: no server error",
      len(res) == 30 and all(s < 500 for s in res), res)
time.sleep(1.5)
states = [ru.call(a.port, "GET", f"/v1/requests/{r['id']}")[1]["state"] for r, _ in batch]
check("... each ends approved or expired", all(s in ("approved", "expired") for s in states), states)

# baselines are shared too
doc = {"version": 1, "gate": "model-release", "commit": "a" * 40,
       "recorded": "2026-12-07T10:00:00Z", "outcome": "pass", "run_url": None,
       "values": {"$.latencyMs": 80}}
st, _, _ = ru.call(a.port, "PUT", "/v1/baselines",
                   {"repository": "https://example.com/r.git", "document": doc})
st2, found, _ = ru.call(b.port, "POST", "/v1/baselines/lookup",
                        {"repository": "https://example.com/r.git", "gate": "model-release",
                         "commits": ["a" * 40]})
check("a baseline recorded on A is found on B", st == 204 and st2 == 200
      and [r["commit"] for r in found["records"]] == ["a" * 40], (st, st2, found))

# status answers cached by relay A are never served once relay B changed
# the request: each change is heard (NOTIFY) and ends A's cache generation
stale = []
for i in range(20):
    req, toks = ru.register(a.port)
    for _ in range(3):
        ru.call(a.port, "GET", f"/v1/requests/{req['id']}")	# warm A's cache
    ru.decide(b.port, toks[0][2])
    t0 = time.monotonic()
    while ru.call(a.port, "GET", f"/v1/requests/{req['id']}")[1]["state"] != "approved":
        if time.monotonic() - t0 > 2:
            break
    stale.append(time.monotonic() - t0)
check("a decision on B is seen by status reads on A within 250 ms (cached answers dropped)",
      max(stale) < 0.25, sorted(stale)[-3:])
req, toks = ru.register(a.port)
ru.call(a.port, "GET", f"/v1/requests/{req['id']}")
ru.call(b.port, "POST", f"/v1/requests/{req['id']}/notified")
t0 = time.monotonic()
while not ru.call(a.port, "GET", f"/v1/requests/{req['id']}")[1]["notified"]:
    if time.monotonic() - t0 > 2:
        break
check("... and so is the notified mark set on B", time.monotonic() - t0 < 0.25,
      time.monotonic() - t0)

# any database user may NOTIFY the channel: a forged notification only
# makes relays re-read, never gives an answer the database does not hold
req, toks = ru.register(a.port)
out = {}
def poll3():
    out["r"] = ru.call(a.port, "GET", f"/v1/requests/{req['id']}?wait=20")
t = threading.Thread(target=poll3); t.start()
time.sleep(0.3)
sql(f"NOTIFY greenlight_decided, '{req['id']}'")
t.join(25)
r = out.get("r")
check("a forged NOTIFY wakes the long-poll with what the database holds: pending",
      r is not None and r[1]["state"] == "pending" and not r[1]["decisions"], r)

# a relay's own tag can be learnt by anyone who LISTENs; a notification
# forged with relay A's tag is ignored by A (its long-poll answers when its
# wait ends) and re-read by B: both answer pending, never a decision
lis = subprocess.Popen(psql[:-1] + ["-q"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
lis.stdin.write("LISTEN greenlight_decided;\nSELECT pg_sleep(1.5);\n"); lis.stdin.flush()
time.sleep(0.3)
seen, stoks = ru.register(a.port)
ru.decide(a.port, stoks[0][2])
heard = lis.communicate(timeout=10)[0]
m = re.search(r'payload "([0-9a-f]{16}):' + seen["id"] + '"', heard)
check("a listener learns relay A's tag from its hint", m is not None, heard)
tag = m.group(1) if m else "0" * 16
req, toks = ru.register(a.port)
outs = {}
def poll4(name, port):
    t0 = time.monotonic()
    r = ru.call(port, "GET", f"/v1/requests/{req['id']}?wait=3")
    outs[name] = (time.monotonic() - t0, r)
ps = [threading.Thread(target=poll4, args=(n, p)) for n, p in (("a", a.port), ("b", b.port))]
for t in ps: t.start()
time.sleep(0.3)
sql(f"NOTIFY greenlight_decided, '{tag}:{req['id']}'")
for t in ps: t.join(10)
ta, ra = outs.get("a", (0, None))
tb, rb = outs.get("b", (0, None))
check(f"a NOTIFY forged with A's tag: A ignores it, its long-poll ends at its wait ({ta:.2f}s) pending",
      ra is not None and ta >= 2.5 and ra[1]["state"] == "pending" and not ra[1]["decisions"], ra)
check(f"... B re-reads ({tb:.2f}s) and answers pending",
      rb is not None and tb < 2.5 and rb[1]["state"] == "pending" and not rb[1]["decisions"], rb)

# O(1) counts kept in the same transactions
m = ru.metrics(a.port)
counts = {s: int(sql(f"SELECT count(*) FROM requests WHERE state = '{s}'")) for s in
          ("pending", "approved", "rejected", "expired")}
kept = {s: int(sql(f"SELECT coalesce(sum(n), 0) FROM request_counts WHERE state = '{s}'")) for s in counts}
check("request_counts matches the rows", counts == kept, (counts, kept))
check("/metrics reports those counts and the store", all(
      m.get(f'greenlight_relay_requests{{state="{s}"}}') == counts[s] for s in counts)
      and m.get('greenlight_relay_store{backend="postgresql"}') == 1, m)
check("relay A heard the decisions made on relay B",
      m.get("greenlight_relay_decision_hints_total", 0) >= 10, m)

# the database goes away: 503 + Retry-After, never a wrong answer
pgrun = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
subprocess.run(pgrun + [os.environ["PGBIN"] + "/pg_ctl", "-D", os.environ["PGDIR"] + "/data",
                        "-m", "fast", "-w", "stop"], capture_output=True)
st, body, h = ru.call(a.port, "GET", f"/v1/requests/{req['id']}")
check("with the database down a status read answers 503", st == 503, (st, body))
hz = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://127.0.0.1:{a.port}/healthz"], capture_output=True, text=True).stdout
check("... and /healthz answers 503 (a load balancer stops sending calls)", hz == "503", hz)
check("... with Retry-After", h.getheader("Retry-After") == "1", h.getheaders())
st, body, h = ru.call(b.port, "POST", "/v1/requests", ru.request_body()[0])
check("... and so does a registration: 503 + Retry-After, nothing recorded",
      st == 503 and h.getheader("Retry-After") == "1", (st, body))
st, page, _ = ru.call(b.port, "POST", f"/r/{toks[0][2]}", "decision=approve&nonce=x&reason=",
                      token=None, headers={"Content-Type": "application/x-www-form-urlencoded"})
check("... and a reviewer's decision: 503, the page says nothing was recorded",
      st == 503 and "Nothing was recorded" in page, (st, page[-300:]))
subprocess.run(pgrun + [os.environ["PGBIN"] + "/pg_ctl", "-D", os.environ["PGDIR"] + "/data",
                        "-l", os.environ["PGDIR"] + "/server.log", "-w", "-o",
                        f"-p {os.environ['PGPORT']} -k {os.environ['PGDIR']} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                        "start"], capture_output=True, cwd=os.environ["PGDIR"])
ok = False
for _ in range(50):
    st, body, _ = ru.call(a.port, "GET", f"/v1/requests/{req['id']}")
    if st == 200:
        ok = True
        break
    time.sleep(0.1)
check("once the database is back the relay answers again", ok, (st, body))
hz = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://127.0.0.1:{b.port}/healthz"], capture_output=True, text=True).stdout
check("... and /healthz answers 200 again", hz == "200", hz)
# every connection of both relays finds out its server went away: each
# call is tried once more on a new connection, none fails
sts = [ru.call(p, "GET", f"/v1/requests/{req['id']}")[0] for p in (a.port, b.port) for _ in range(8)]
sts += [ru.call(p, "POST", "/v1/requests", ru.request_body()[0])[0] for p in (a.port, b.port) for _ in range(4)]
check("after the restart every read and registration on both relays succeeds",
      all(s in (200, 201) for s in sts), sts)
# and the watcher reconnected: a decision on B wakes a long-poll on A again
req, toks = ru.register(a.port)
_, nonce = ru.page_nonce(b.port, toks[0][2])
out = {}
def poll2():
    out["r"] = ru.call(a.port, "GET", f"/v1/requests/{req['id']}?wait=20")
    out["t"] = time.monotonic()
time.sleep(6)			# the watcher's backoff is at most 5 s
t = threading.Thread(target=poll2); t.start()
time.sleep(0.3)
t0 = time.monotonic()
ru.decide(b.port, toks[0][2], nonce=nonce)
t.join(25)
r = out.get("r")
check("after the database came back a decision on B still wakes a long-poll on A at once",
      r is not None and r[1]["state"] == "approved" and out["t"] - t0 < 2.0,
      (r, out.get("t", 0) - t0))
m = ru.metrics(a.port)
check("/metrics counts the 503s and the interrupted hint connection",
      m.get("greenlight_relay_store_unavailable_total", 0) >= 1 and
      m.get("greenlight_relay_store_watch_interruptions_total", 0) >= 1, m)

check("relay A stops with 0", a.stop() == 0)
check("relay B stops with 0", b.stop() == 0)

# a database a relay of schema version 1 made (no notifications table) is
# migrated by the next relay to start, keeping its requests
n_before = sql("SELECT count(*) FROM requests")
sql("DROP TABLE resumes; DROP TABLE notifications; UPDATE greenlight_schema SET version = 1")
c = ru.Relay(GL, DBURL, loga)
c.start()
check("a version 1 database is migrated to version 4 on start",
      sql("SELECT version FROM greenlight_schema") == "4" and
      sql("SELECT count(*) FROM notifications") == "0" and
      sql("SELECT count(*) FROM resumes") == "0", sql("SELECT version FROM greenlight_schema"))
check("the migration keeps every request", sql("SELECT count(*) FROM requests") == n_before)
check("relay C stops with 0", c.stop() == 0)
sql("UPDATE greenlight_schema SET version = 99")
st = subprocess.run([GL, "relay", "--listen", "127.0.0.1:0", "--db", DBURL],
                    capture_output=True, text=True, timeout=20)
check("a database of a newer schema is refused with one line",
      st.returncode != 0 and "schema version 99" in st.stderr and SECRET not in st.stderr,
      (st.returncode, st.stderr))
sql("UPDATE greenlight_schema SET version = 4")
logs = open(loga).read() + open(logb).read()
check("the password never appears in the relays' output", SECRET not in logs, logs[-1500:])
check.finish()
PYEOF
