#!/bin/bash
# i0201-relay-auth.sh - the relay's bearer tokens: a wrong or missing token
# is 401 on every API route and changes nothing; several tokens are accepted
# at once and --tokens-file is re-read on SIGHUP (rotation); registering is
# idempotent on the key; no token ever reaches the log.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, signal, sqlite3, subprocess, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
OLD, NEW, THIRD = "old-token-aaaaaaaaaaaa", "new-token-bbbbbbbbbbbb", "third-token-ccccccccccc"
tokfile = f"{T}/tokens"
with open(tokfile, "w") as f:
    f.write(f"# CI tokens: two of one tenant, as while rotating\ntenant ci {OLD} *\ntenant ci {NEW} *\n")
os.chmod(tokfile, 0o600)

# no token source at all: a usage error, before anything is served
p = subprocess.run([GL, "relay", "--db", db, "--listen", "127.0.0.1:0"],
                   capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                        if not k.startswith("GREENLIGHT_RELAY")})
check("no tokens: exit 2", p.returncode == 2, p.returncode)
check("no tokens: says how to give them", "GREENLIGHT_RELAY_TOKENS" in p.stderr, p.stderr)

r = ru.Relay(GL, db, log, ["--tokens-file", tokfile], tokens=None).start()
P = r.port

def snapshot():
    con = sqlite3.connect(db)
    try:
        return [con.execute(q).fetchall() for q in (
            "SELECT id, state, notified, deadline FROM requests ORDER BY id",
            "SELECT request_id, email, token_hash FROM recipients ORDER BY 1, 2",
            "SELECT request_id, email FROM decisions ORDER BY 1")]
    finally:
        con.close()

body, tokens = ru.request_body()
st, req, _ = ru.call(P, "POST", "/v1/requests", body, token=OLD)
check("register with the first token: 201", st == 201, (st, req))
rid = req["id"]
st, again, _ = ru.call(P, "POST", "/v1/requests", dict(body, deadline=body["deadline"] + 999,
                                                      gate="other"), token=NEW)
check("same key with the second token: 200, the same request", st == 200 and again["id"] == rid, again)
check("the repeated body is ignored", again["deadline"] == body["deadline"] and again["gate"] == "model-release", again)

before = snapshot()
rekey = {"recipients": [{"email": "x@example.com", "team": "eng", "token_hash": "0" * 64}]}
wrong = [None, "wrong-token-0123456789", OLD + "x", OLD[:-1], "", f"Basic {OLD}"]
routes = [("POST", "/v1/requests", ru.request_body()[0]), ("GET", f"/v1/requests/{rid}", None),
          ("GET", f"/v1/requests/{rid}?wait=5", None), ("POST", f"/v1/requests/{rid}/rekey", rekey),
          ("POST", f"/v1/requests/{rid}/notified", None), ("GET", "/v1/requests/" + "0" * 32, None)]
for tok in wrong:
    for method, path, b in routes:
        headers = {}
        if tok is not None and tok.startswith("Basic "):
            headers["Authorization"], tok_arg = tok, None
        else:
            tok_arg = tok
        t0 = time.monotonic()
        st, out, resp = ru.call(P, method, path, b, token=tok_arg, headers=headers)
        check(f"{method} {path} with {tok!r}: 401", st == 401, (st, out))
        check(f"{method} {path} with {tok!r}: at once", time.monotonic() - t0 < 1)
        check("401 names the scheme", (resp.getheader("WWW-Authenticate") or "").startswith("Bearer"))
check("wrong tokens changed nothing in the database", snapshot() == before)
m = ru.metrics(P)
check("auth failures counted", m.get("greenlight_relay_auth_failures_total") == len(wrong) * len(routes), m)
check("the scheme is case-insensitive", ru.call(P, "GET", f"/v1/requests/{rid}", token=None,
      headers={"Authorization": f"bearer {NEW}"})[0] == 200)

# rotation: drop OLD, add THIRD, SIGHUP
with open(tokfile, "w") as f:
    f.write(f"tenant ci {NEW} *\ntenant ci {THIRD} *\n")
r.proc.send_signal(signal.SIGHUP)
for _ in range(200):
    if "2 bearer tokens accepted now" in open(log).read():
        break
    time.sleep(0.01)
check("SIGHUP re-read the tokens file", "2 bearer tokens accepted now" in open(log).read())
check("rotated out: 401", ru.call(P, "GET", f"/v1/requests/{rid}", token=OLD)[0] == 401)
check("kept: 200", ru.call(P, "GET", f"/v1/requests/{rid}", token=NEW)[0] == 200)
check("added: 200", ru.call(P, "GET", f"/v1/requests/{rid}", token=THIRD)[0] == 200)
# a broken file keeps the tokens in use
with open(tokfile, "w") as f:
    f.write("short\n")
r.proc.send_signal(signal.SIGHUP)
for _ in range(200):
    if "kept the bearer tokens in use" in open(log).read():
        break
    time.sleep(0.01)
check("a bad tokens file is refused on SIGHUP", "kept the bearer tokens in use" in open(log).read())
check("... and the old set still works", ru.call(P, "GET", f"/v1/requests/{rid}", token=THIRD)[0] == 200)

# unauthenticated operations
st, text, _ = ru.call(P, "GET", "/healthz", token=None)
check("/healthz needs no token", st == 200 and text == "ok\n", (st, text))
check("/metrics needs no token", ru.call(P, "GET", "/metrics", token=None)[0] == 200)

check("relay stops with 0 on SIGTERM", r.stop() == 0)
text = open(log).read()
for secret in (OLD, NEW, THIRD, "Authorization", "Bearer"):
    check(f"log does not contain {secret[:12]}...", secret not in text, text)
for _, _, tok in tokens:
    check("log holds no review token", tok not in text)

# without --listen it binds loopback (skipped if port 8080 is taken)
p = subprocess.Popen([GL, "relay", "--db", db], stderr=subprocess.PIPE, text=True,
                     env=dict(os.environ, GREENLIGHT_RELAY_TOKENS=NEW))
line = p.stderr.readline()
if "listening on" in line:
    check("binds 127.0.0.1:8080 by default", "listening on http://127.0.0.1:8080 " in line, line)
    p.send_signal(signal.SIGTERM)
else:
    print(f"note: default address not checked: {line.strip()}")
p.wait(10)

# a world-readable tokens file is accepted with a warning
os.chmod(tokfile, 0o644)
with open(tokfile, "w") as f:
    f.write(f"{NEW}\n")
r = ru.Relay(GL, db, log, ["--tokens-file", tokfile], tokens=None).start()
r.stop()
check("warns about a world-readable tokens file", "can be read by every user" in open(log).read())
check.finish()
PYEOF
