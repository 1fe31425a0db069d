# i0101-run-approve.sh - the seed flow end to end: the slow model goes to
# engineering by mail; approving on the review page ends the gate with 0;
# a re-run returns the recorded decision at once without mailing again.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
git -C "$WORK" remote add origin https://github.com/acme/model.git

gl_run_bg --timeout 60s
wait_mail 1 || { finish; exit 1; }
url=$(mail_link 1)
check "link points at the gate's own server" grep -q "^http://127.0.0.1:[0-9]*/r/" <<<"$url"
check "mail went to engineering only" grep -q '"engineering@example.com"' "$MAILDIR"/0001.json
check "mail sent over TLS after AUTH" $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["tls"] and d["auth_login"]=="greenlight"))' "$MAILDIR"/0001.json

# the message itself
$PY - "$MAILDIR/0001.eml" "$WORK" <<'PYEOF' && ok || ko "message structure"
import email, re, subprocess, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
assert all(len(l) <= 998 for l in raw.split(b"\r\n")), "line over 998"
m = email.message_from_bytes(raw, policy=policy.default)
sha = subprocess.run(["git", "-C", sys.argv[2], "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
# metric first, with the repository (from the origin remote)
assert m["Subject"] == "acme/model: latencyMs 225 > 80 \u2014 review", m["Subject"]
assert len(str(m["Subject"])) <= 60, m["Subject"]
assert m.get_content_type() == "multipart/alternative"
types = [p.get_content_type() for p in m.iter_parts()]
assert types == ["text/plain", "text/html"], types
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
for want in ("latencyMs", "225", "> 80", "engineering", sha, "Ada Dev", "Speed up the model", "main"):
    assert want in text, want
link = re.search(r"http://\S+/r/[A-Za-z0-9_-]{43}", text).group(0)
assert link in html, "HTML part lacks the link"
assert m["Message-ID"].endswith("@greenlight>")
PYEOF

check "GET does not decide" test "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200
check "HEAD does not decide" test "$(curl -s -I -o /dev/null -w '%{http_code}' "$url")" = 200
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "POST without the page's nonce is refused (403)" test "$(code --data decision=approve "$url")" = 403
check "POST with a forged nonce is refused (403)" test "$(code --data "decision=approve&nonce=$(printf '0%.0s' $(seq 64))" "$url")" = 403
check "oversized POST body is refused (413)" test "$(code --data "decision=approve&reason=$(head -c 20000 /dev/zero | tr '\0' x)" "$url")" = 413
check "JSON POST is refused (415)" test "$(code -H 'Content-Type: application/json' --data '{"decision":"approve"}' "$url")" = 415
check "PUT is not allowed (405)" test "$(code -X PUT "$url")" = 405
check "unknown token (404)" test "$(code "${url%/r/*}/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")" = 404
check "security headers on the page" sh -c "curl -s -D - -o /dev/null '$url' | tr -d '\r' | grep -qi '^referrer-policy: no-referrer' && curl -s -D - -o /dev/null '$url' | grep -qi 'frame-ancestors .none.' && curl -s -D - -o /dev/null '$url' | grep -qi '^cache-control: no-store'"
sleep 1.5
check "still waiting after GET, HEAD and refused POSTs" kill -0 "$GL_PID"
code=$(decide "$url" approve "latency is fine for this release")
check "approve recorded (200)" test "$code" = 200
wait_gl
check "gate exits 0 on approval" test "$RC" -eq 0
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd["outcome"]')" = approved
check "approver recorded" test "$(json_get "$WORK/decision.json" 'd["request"]["approvers"][0]')" = engineering@example.com
check "reason recorded" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]')" = "latency is fine for this release"
check "remote address recorded" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["remote_addr"]')" = 127.0.0.1
check "user agent recorded" grep -q '"user_agent":[[:space:]]*"curl/' "$WORK/decision.json"
check "progress lines while waiting" grep -q "engineering 0/1 approvals (asked engineering@example.com)" "$WORK/gl.err"

# re-run: decided request returns at once, no second mail
(cd "$WORK" && "$GREENLIGHT" run -o decision2.json >"$WORK/gl2.out" 2>"$WORK/gl2.err")
check "re-run exits 0 at once" test $? -eq 0
check "re-run sent no mail" test "$(mail_count)" -eq 1
check "re-run reports the decision" grep -q "decision: approved" "$WORK/gl2.out"
finish
