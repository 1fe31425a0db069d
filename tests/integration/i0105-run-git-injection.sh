# i0105-run-git-injection.sh - commit facts from real git repositories
# (author, branch, detached HEAD, no repository), self-approval, and data
# that tries to inject mail headers or HTML.
. "$(dirname "$0")/lib.sh"
start_smtp

# the text part of message I
mail_text() {
	$PY - "$(ls "$MAILDIR"/*.eml | sed -n "${1}p")" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(m.get_body(("plain",)).get_content())
PYEOF
}
approve_and_wait() { decide "$(mail_link "$1")" approve >/dev/null; wait_gl; }

# branch + author
WORK=$TMP/branch
make_repo "$WORK"
git -C "$WORK" checkout -q -b release/2.1
gl_run_bg --timeout 60s
wait_mail 1
mail_text 1 >"$TMP/m1"
check "author in mail" grep -q "Author: *Ada Dev <ada@example.com>" "$TMP/m1"
check "branch in mail" grep -q "Branch: *release/2.1" "$TMP/m1"
check "full sha in mail" grep -q "$(git -C "$WORK" rev-parse HEAD)" "$TMP/m1"
approve_and_wait 1

# detached HEAD: no branch line
WORK=$TMP/detached
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "second"
git -C "$WORK" checkout -q --detach HEAD~1
gl_run_bg --timeout 60s
wait_mail 2
mail_text 2 >"$TMP/m2"
check "detached: commit shown" grep -q "$(git -C "$WORK" rev-parse HEAD)" "$TMP/m2"
check "detached: no branch line" sh -c "! grep -q '^Branch:' '$TMP/m2'"
approve_and_wait 2

# no repository: commit lines left out
WORK=$TMP/norepo
mkdir -p "$WORK"
cp "$SRCDIR/examples/seed/greenlight.json" "$WORK/"
cp "$SRCDIR/examples/seed/slow.json" "$WORK/results.json"
GIT_CEILING_DIRECTORIES=$TMP gl_run_bg --timeout 60s
wait_mail 3
mail_text 3 >"$TMP/m3"
check "no repo: no commit lines" sh -c "! grep -qE '^(Commit|Author|Branch):' '$TMP/m3'"
approve_and_wait 3
check "no repo: gate still works" test "$RC" -eq 0

# self-approval: the commit author cannot approve their own release
WORK=$TMP/self
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "self",
  "choices": [{ "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "eng" }],
  "default": "pass",
  "teams": { "eng": { "email": ["ada@example.com"] } } }
JSON
gl_run_bg --timeout 60s
wait_mail 4
check "author's approval refused (403)" test "$(decide "$(mail_link 4)" approve)" = 403
check "refusal explains self-approval" grep -q "cannot approve your own commit" "$TMP/decide.html"
check "author may reject (200)" test "$(decide "$(mail_link 4)" reject "not ready")" = 200
wait_gl
check "author's reject ends with 1" test "$RC" -eq 1
WORK=$TMP/self2
make_repo "$WORK"
cp "$TMP/self/greenlight.json" "$WORK/"
gl_run_bg --timeout 60s --allow-self-approval true
wait_mail 5
check "allowed self-approval (200)" test "$(decide "$(mail_link 5)" approve)" = 200
wait_gl
check "allowed self-approval ends with 0" test "$RC" -eq 0

# the person who started the CI run cannot approve either, and is named
WORK=$TMP/starter
make_repo "$WORK"
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "starter",
  "choices": [{ "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "eng" }],
  "default": "pass",
  "teams": { "eng": { "email": ["boss@example.com", "other@example.com"] } } }
JSON
GITLAB_CI=true CI_PROJECT_DIR=$WORK GITLAB_USER_LOGIN=boss GITLAB_USER_EMAIL=boss@example.com \
	CI_PIPELINE_URL=https://gitlab.example.com/p/1 gl_run_bg --timeout 60s
wait_mail 7
for i in 6 7; do
	to=$(json_get "$(ls "$MAILDIR"/*.json | sed -n "${i}p")" 'd["rcpt_tos"][0]')
	[ "$to" = boss@example.com ] && boss=$i || other=$i
done
mail_text "$boss" >"$TMP/m6"
check "mail names who started the run" grep -q "^Started by: boss" "$TMP/m6"
check "mail links the CI run" grep -q "CI run: https://gitlab.example.com/p/1" "$TMP/m6"
check "review page names who started the run" sh -c "curl -s '$(mail_link "$boss")' | grep -q '<dt>Started by</dt><dd>boss</dd>'"
check "the run's starter cannot approve (403)" test "$(decide "$(mail_link "$boss")" approve)" = 403
check "another reviewer can (200)" test "$(decide "$(mail_link "$other")" approve)" = 200
wait_gl
check "starter excluded, quorum met: exit 0" test "$RC" -eq 0

# injection: a commit subject with CR/LF and a metric name with markup
WORK=$TMP/inject
make_repo "$WORK"
git -C "$WORK" commit -q --allow-empty -m "$(printf 'x\r\nBcc: x@evil.example\r\n\r\n<b>hi</b>')"
cat >"$WORK/greenlight.json" <<'JSON'
{ "version": 1, "name": "inject",
  "choices": [{ "Variable": "$['<script>alert(1)</script>']", "NumericGreaterThan": 80, "Next": "eng" }],
  "default": "pass",
  "teams": { "eng": { "email": ["eng@example.com"] } } }
JSON
echo '{"<script>alert(1)</script>": 225}' >"$WORK/results.json"
gl_run_bg --timeout 60s
wait_mail 8
f=$(ls "$MAILDIR"/*.eml | sed -n 8p)
$PY - "$f" "${f%.eml}.json" <<'PYEOF' && ok || ko "mail injection"
import email, json, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=policy.default)
assert m["Bcc"] is None, "Bcc header injected"
assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0], "Bcc line in headers"
assert json.load(open(sys.argv[2]))["rcpt_tos"] == ["eng@example.com"], "extra recipient"
html = m.get_body(("html",)).get_content()
assert "<script>" not in html and "&lt;script&gt;" in html, "HTML not escaped"
assert "<b>hi</b>" not in html
PYEOF
body=$(curl -s "$(mail_link 8)")
check "review page escapes the metric" sh -c "echo '$body' | grep -q '&lt;script&gt;' && ! echo '$body' | grep -q '<script>'"
approve_and_wait 8
finish
