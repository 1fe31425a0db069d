#!/bin/bash
# i0224-relay-pg-once.sh - what relays do on their own happens once,
# whichever of two relays on one real PostgreSQL database (pg_lib.sh) does
# it: both sweep and both are given SMTP settings and the tenants' CI
# credentials, and
#   - a detached request's reminders (every 2 s) and follow-ups are mailed
#     once each (no Message-ID twice), with reviewers deciding on both
#     relays;
#   - ten requests decided half on each relay, and five that expire, resume
#     their pipelines once each (GitLab API stand-in, ci_api_server.py): ten
#     plays, and five for the expired ones;
#   - each expired request is settled (and counted) once by all the relays
#     sweeping the database together.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
export PYTHONPATH="$SRCDIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}" TMP GREENLIGHT
start_smtp
pg_start
export GREENLIGHT_RELAY_TOKEN=relay-secret-token-0001
export GREENLIGHT_GATE_SECRET=pg-once-test-secret-0123456789abcdefghijkl
export GREENLIGHT_TEST_SHORT_REMINDERS=1
relay_mail="--smtp $GREENLIGHT_SMTP --from Release-Gate<gate@example.com> --smtp-ca-file $GREENLIGHT_SMTP_CA_FILE"
PA=$(free_port)
PB=$(free_port)
start_relay() { # start_relay PORT LOG
	GREENLIGHT_RELAY_TOKENS=relay-secret-token-0001 "$GREENLIGHT" relay --listen 127.0.0.1:$1 \
		--db "$PGURL" $relay_mail >>"$2" 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.05; done
	ko "relay on $1 did not start"; cat "$2"
}
start_relay "$PA" "$TMP/a.log"
start_relay "$PB" "$TMP/b.log"

WORK=$TMP/detach
make_repo "$WORK"
$PY - "$WORK/greenlight.json" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["teams"]["engineering"] = {"email": ["eng1@example.com", "eng2@example.com"],
                             "approvals": 2, "remind_every": "2s"}
json.dump(g, open(sys.argv[1], "w"), indent=2)
PYEOF
(cd "$WORK" && "$GREENLIGHT" run --via relay --relay "http://127.0.0.1:$PA" --timeout 60s \
	--detach -o d1.json >"$WORK/gl.out" 2>"$WORK/gl.err"); RC=$?
check "--detach on relay A exits 5" test "$RC" -eq 5
wait_mail 2 || { finish; exit 1; }
wait_thread 6 20
check "both relays sweep: reminders keep coming" test "$(thread_count)" -ge 6
# decide one on each relay (the links name A; the same path on B)
l1=$(mail_link_to eng1@example.com)
l2=$(mail_link_to eng2@example.com)
check "eng1 approves on relay A (200)" test "$(decide "$l1" approve "ok 1")" = 200
check "eng2 approves on relay B (200)" test "$(decide "${l2/:$PA\//:$PB/}" approve "ok 2")" = 200
for _ in $(seq 100); do
	[ "$(threads howmany eng1@example.com followup)$(threads howmany eng2@example.com followup)" = 11 ] && break
	sleep 0.1
done
sleep 2.5	# both relays sweep at least twice more
check "one follow-up to each reviewer, from either relay" \
	test "$(threads howmany eng1@example.com followup)$(threads howmany eng2@example.com followup)" = 11
$PY - "$MAILDIR" <<'PYEOF' && ok || ko "every reminder and follow-up exactly once (no Message-ID twice, no reviewer twice per round)"
import email, glob, os, sys
from email import policy
ids, per = [], {}
for p in sorted(glob.glob(os.path.join(sys.argv[1], "thread", "*.eml"))):
    m = email.message_from_binary_file(open(p, "rb"), policy=policy.default)
    ids.append(m["Message-ID"])
assert len(ids) == len(set(ids)), "sent twice: %r" % ids
PYEOF

# resumes and expiry
$PY - "$PA" "$PB" <<'PYEOF' && ok || ko "resumes and expiry once across two relays"
import os, subprocess, sys, time
import relay_util as ru
from ci_api_server import CiApi

T, GL, URL = os.environ["TMP"], os.environ["GREENLIGHT"], os.environ["PGURL"]
check = ru.Checks([f"{T}/c.log", f"{T}/d.log"])
api = CiApi(pipeline=None)
with open(os.open(f"{T}/tokens", os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(f"tenant acme {ru.BEARER} *\n")
with open(f"{T}/ci", "w") as f:
    f.write(f"ci acme gitlab {api.url('/gitlab/api/v4')} GL_ACME_TOKEN 42 acme/*\n")
env = dict(os.environ, GL_ACME_TOKEN="glpat-test-0123456789abcdef")
args = ["--tokens-file", f"{T}/tokens", "--ci-file", f"{T}/ci"]
c = ru.Relay(GL, URL, f"{T}/c.log", args, env=env, tokens=None).start()
d = ru.Relay(GL, URL, f"{T}/d.log", args, env=env, tokens=None).start()

def reg(relay, pipeline, deadline_in=600):
    body, toks = ru.request_body(deadline_in=deadline_in)
    body["resume"] = {"ci": "gitlab", "project": "42", "pipeline": str(pipeline),
                      "job": "greenlight-collect"}
    st, req, _ = ru.call(relay.port, "POST", "/v1/requests", body)
    assert st == 201, (st, req)
    return req, toks

decided = []
for i in range(10):
    req, toks = reg(c, 2000 + i)
    decided.append(req["id"])
    ru.decide((c if i % 2 else d).port, toks[0][2], "approve" if i < 7 else "reject")
for i in range(5):
    reg(c if i % 2 else d, 3000 + i, deadline_in=2)
end = time.time() + 30
while time.time() < end and len(api.resumes()) < 15:
    time.sleep(0.2)
time.sleep(3)			# both relays sweep a few more times
plays = api.resumes()
paths = [p["path"] for p in plays]
check("fifteen plays, one per request, whichever relay swept",
      len(plays) == 15 and len(set(paths)) == 15, api.calls)
# relays A and B (above) sweep the same database too
counts = [ru.metrics(p).get("greenlight_relay_requests_expired_total", 0)
          for p in (c.port, d.port, int(sys.argv[1]), int(sys.argv[2]))]
check("each expired request was settled once by the four relays together",
      sum(counts) == 5, counts)
logs = open(f"{T}/c.log").read() + open(f"{T}/d.log").read()
check("the relays log one resume per request",
      sum(logs.count(f"resumed request {i} (gitlab,") for i in decided) == 10, logs[-800:])
check("relay C stops", c.stop() == 0)
check("relay D stops", d.stop() == 0)
api.stop()
check.finish()
PYEOF
finish
