#!/bin/bash
# i0108-slow-clients.sh - slow clients cannot lock reviewers out.  A swarm
# from 127.0.0.2..9 keeps as many connections open as the servers let it,
# each sending one header line every 2 s and never finishing its request
# (reopened whenever the server closes it).  Meanwhile a reviewer on
# 127.0.0.1 loads the review page and decides in under 1 s: first on the
# gate's own server (`greenlight run`, listen mode), then on the relay
# (review page and /v1 API, default limits).  A connection trickling
# headers is closed at the request deadline (10 s by default, 1 s with
# --request-deadline 1s), and a held long-poll is not cut by it.
. "$(dirname "$0")/lib.sh"
SC="$SRCDIR/tests/integration/slow_clients.py"
export PYTHONPATH="$SRCDIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
export TMP GREENLIGHT SC PY

# ---- the gate's own review page ------------------------------------------
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
gl_run_bg --timeout 90s
wait_mail 1 || { finish; exit 1; }
url=$(mail_link 1)
port=${url#http://127.0.0.1:}
port=${port%%/*}

# 20 per address: more than both the old (16) and the new (8) limit
$PY "$SC" swarm "$port" "$TMP/gate-swarm.json" 127.0.0.2-9 20 30 &
SWARM=$!
PIDS="$PIDS $SWARM"
$PY "$SC" probe "$port" 127.0.0.10 1 14 >"$TMP/gate-probe.txt" &
PROBE=$!
PIDS="$PIDS $PROBE"
sleep 3
held=$(ss -Htn state established "( sport = :$port )" | grep -c ' 127\.0\.0\.[2-9]:')
early=$($PY "$SC" review "$url" 5 none)
echo "gate: $held swarm connections established; reviewer at 3 s: $early"
check "gate: the page loads during the swarm" test "$(json_get <(echo "$early") 'd["get"]')" = 200
check "gate: ... in under 1 s" $PY -c "import sys; sys.exit(not $(json_get <(echo "$early") 'd["get_s"]') < 1)"
wait "$PROBE"
probe=$(cat "$TMP/gate-probe.txt")
echo "gate: a connection trickling headers was closed after: $probe s"
check "gate: a trickling connection is closed at the 10 s deadline ($probe)" \
	$PY -c "import sys; sys.exit(not 9.5 <= float('${probe/open/99}') <= 11.5)"
sleep 1.5	# the swarm started a moment after the probe
kill -USR1 "$SWARM"
sleep 0.3
late=$($PY "$SC" review "$url" 5 approve)
echo "gate: reviewer after the swarm's first cut: $late"
check "gate: the page loads and the decision is recorded" \
	test "$(json_get <(echo "$late") '(d["get"], d["post"])')" = "(200, 200)"
check "gate: ... page and decision in under 1 s" \
	$PY -c "import sys; sys.exit(not $(json_get <(echo "$late") 'd["get_s"] + d["post_s"]') < 1)"
json_get "$TMP/gate-swarm.json" '"gate: swarm opened %d, closed by the gate %d; %d cut after %s..%s s" % (d["opened"], d["closed"], len(d["lifetimes"]), d["lifetimes"][:1], d["lifetimes"][-1:])'
check "gate: the swarm's connections were cut after 10 s, not before" $PY - "$TMP/gate-swarm.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))["lifetimes"]
sys.exit(not (s and 9.5 <= s[0] and s[-1] <= 11.5))
PYEOF
[ "$(json_get <(echo "$late") 'd["post"]')" = 200 ] || kill "$GL_PID" 2>/dev/null
wait_gl
eq "gate: the swarm does not flood the log (server messages capped at 20 a minute)" \
	"$(($(grep -c '^greenlight: warning: web: ' "$WORK/gl.err") <= 21))" 1
check "gate exits 0 on the approval" test "$RC" -eq 0
kill "$SWARM" 2>/dev/null
wait "$SWARM" 2>/dev/null

# ---- the relay -------------------------------------------------------------
$PY - <<'PYEOF' && ok || ko "relay under a slow-client swarm"
import atexit, json, os, signal, subprocess, sys, time
import relay_util as ru

T, GL, SC, PY = (os.environ[k] for k in ("TMP", "GREENLIGHT", "SC", "PY"))
log = f"{T}/relay.log"
check = ru.Checks([log])

def run(*args):
    return subprocess.Popen([PY, SC, *map(str, args)], stdout=subprocess.PIPE, text=True)

def review(url, decision):
    return json.loads(run("review", url, 5, decision).communicate()[0])

def api_read(port, rid):
    import http.client
    t0 = time.monotonic()
    try:
        st, body, _ = ru.call(port, "GET", f"/v1/requests/{rid}",
                              conn=http.client.HTTPConnection("127.0.0.1", port, timeout=5))
    except OSError:
        st, body = 0, None
    return st, body, time.monotonic() - t0

r = ru.Relay(GL, f"{T}/relay.db", log).start()     # default limits
P = r.port
req, toks = ru.register(P)
url = f"http://127.0.0.1:{P}/r/{toks[0][2]}"
# 130 per address: more than the old limit (128) and the new one (64)
swarm = run("swarm", P, f"{T}/relay-swarm.json", "127.0.0.2-9", 130, 30)
atexit.register(swarm.kill)
probe = run("probe", P, "127.0.0.10", 1, 14)
atexit.register(probe.kill)
time.sleep(3)
early = review(url, "none")
st, _, secs = api_read(P, req["id"])
print(f"relay: reviewer at 3 s: {early}; API read {st} in {secs:.3f} s", flush=True)
check("relay: the review page loads during the swarm in under 1 s",
      early["get"] == 200 and early["get_s"] < 1, early)
check("relay: the API answers during the swarm in under 1 s", st == 200 and secs < 1, (st, secs))
out = probe.communicate()[0].strip()
print(f"relay: a connection trickling headers was closed after: {out} s", flush=True)
check("relay: a trickling connection is closed at the 10 s deadline",
      out != "open" and 9.5 <= float(out) <= 11.5, out)
time.sleep(1.5)     # the swarm started a moment after the probe
swarm.send_signal(signal.SIGUSR1)
time.sleep(0.3)
late = review(url, "approve")
st, body, secs = api_read(P, req["id"])
print(f"relay: reviewer after the swarm's first cut: {late}; API read {st} in {secs:.3f} s",
      flush=True)
check("relay: page and decision in under 1 s during the swarm",
      late["get"] == 200 and late["post"] == 200 and late["get_s"] + late["post_s"] < 1, late)
check("relay: the decision is recorded", st == 200 and body["state"] == "approved", (st, body))
stats = json.load(open(f"{T}/relay-swarm.json"))
print(f"relay: swarm opened {stats['opened']}, closed by the relay {stats['closed']};"
      f" {len(stats['lifetimes'])} cut after {stats['lifetimes'][:1]}..{stats['lifetimes'][-1:]} s",
      flush=True)
lt = stats["lifetimes"]
check("relay: the swarm's connections were cut after 10 s, not before",
      lt and 9.5 <= lt[0] and lt[-1] <= 11.5, lt[:3] + lt[-3:])
swarm.kill()
swarm.wait()
check("relay stops with 0", r.stop() == 0)

r = ru.Relay(GL, f"{T}/relay.db", log, ["--request-deadline", "1s"]).start()
P = r.port
probe = run("probe", P, "127.0.0.10", 0.3, 5)
atexit.register(probe.kill)
req, _ = ru.register(P)
(st, body, secs), = ru.hold_longpolls(P, [req["id"]], 3)
check("relay: a held long-poll outlives a 1 s request deadline and ends at its wait",
      st == 200 and body["state"] == "pending" and 2.9 <= secs < 4.5, (st, secs))
out = probe.communicate()[0].strip()
check("relay: --request-deadline 1s closes a trickling connection after 1 s",
      out != "open" and 0.9 <= float(out) <= 2.0, out)
check("relay stops with 0", r.stop() == 0)
for bad in ("0s", "2h", "10"):
    rc = subprocess.run([GL, "relay", "--db", f"{T}/relay.db", "--request-deadline", bad],
                        stderr=subprocess.PIPE, env=dict(os.environ, GREENLIGHT_RELAY_TOKENS=ru.BEARER))
    check(f"--request-deadline {bad} is refused (2)", rc.returncode == 2
          and b"--request-deadline" in rc.stderr, rc)
check.finish()
PYEOF
finish
