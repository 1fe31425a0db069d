# i0112-mail-content.sh - what the review email says, read as a mail client
# reads it (Python's email package), from a real `greenlight run` (listen
# mode) through the aiosmtpd rig: a subject of at most 60 characters that
# starts with the repository, metric first; a From with a display name
# while the envelope sender (MAIL FROM) is the address alone; the team's
# quorum and its other reviewers; why this team (the routing rule); the
# notice that the commit author cannot approve; and docs/mail.md's example
# message line for line.  Malformed From values stop the run with exit 2
# and one line, before anything is mailed.
. "$(dirname "$0")/lib.sh"
start_smtp
WORK=$TMP/repo
make_repo "$WORK"
git -C "$WORK" remote add origin https://github.com/acme/model.git
# engineering: two reviewers, both must approve; the first is the commit
# author (ada@example.com) under a plus-tag, which is the same mailbox
cat >"$WORK/greenlight.json" <<'EOF'
{
  "version": 1,
  "name": "model-release",
  "results": "results.json",
  "match": "first",
  "choices": [
    { "Variable": "$.accuracypct", "NumericLessThan": 96, "Next": "research" },
    { "Variable": "$.latencyMs", "NumericGreaterThan": 80, "Next": "engineering" }
  ],
  "default": "pass",
  "teams": {
    "research":    { "email": ["research@example.com"], "approvals": 1 },
    "engineering": { "email": ["ada+gate@example.com", "bob@example.com"], "approvals": 2 }
  }
}
EOF
git -C "$WORK" commit -q -am "Two engineers review latency"

# as in a GitHub Actions run: the repository, the commit link, the run link
# and who started it come from the CI's variables
export GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com
export GITHUB_REPOSITORY=acme/model GITHUB_RUN_ID=42 GITHUB_ACTOR=ada-dev
gl_run_bg --timeout 60s --from "Release Gate <gate@example.com>"
wait_mail 2 || { finish; exit 1; }

# one line per check: "ok NAME" or "ko NAME: why"
$PY - "$MAILDIR" "$SRCDIR/docs/mail.md" >"$TMP/checks" 2>&1 <<'PYEOF'
import email, glob, json, os, re, sys
from email import policy

maildir, doc = sys.argv[1], sys.argv[2]
msgs = {}
for eml in sorted(glob.glob(os.path.join(maildir, "*.eml"))):
    meta = json.load(open(eml[:-4] + ".json"))
    m = email.message_from_binary_file(open(eml, "rb"), policy=policy.default)
    msgs[meta["rcpt_tos"][0]] = (m, meta)

def check(name, cond, why=""):
    print(f"ok {name}" if cond else f"ko {name}: {why}")

check("two messages, to ada+gate and bob", sorted(msgs) == ["ada+gate@example.com", "bob@example.com"], sorted(msgs))
for rcpt, (m, meta) in sorted(msgs.items()):
    other = "bob@example.com" if rcpt.startswith("ada") else "ada+gate@example.com"
    subject = str(m["Subject"])
    check(f"{rcpt}: subject at most 60 characters", len(subject) <= 60, f"{len(subject)}: {subject!r}")
    check(f"{rcpt}: subject starts with the repository", subject.startswith("acme/model: "), repr(subject))
    check(f"{rcpt}: subject is metric first", subject == "acme/model: latencyMs 225 > 80 \u2014 review", repr(subject))
    addr = m["From"].addresses
    check(f"{rcpt}: one From address", len(addr) == 1, m["From"])
    check(f"{rcpt}: From display name", addr[0].display_name == "Release Gate", repr(addr[0].display_name))
    check(f"{rcpt}: From address", addr[0].addr_spec == "gate@example.com", repr(addr[0].addr_spec))
    check(f"{rcpt}: envelope sender is the address alone", meta["mail_from"] == "gate@example.com", repr(meta["mail_from"]))
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    lines = text.split("\n")
    check(f"{rcpt}: the headline leads", lines[0] == "latencyMs 225 > 80 (+181%)", repr(lines[0]))
    link = re.search(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{43}", text)
    check(f"{rcpt}: the personal link follows", link and text.index(link.group(0)) < text.index("Team asked:"), "link missing or after the team")
    team = f"Team asked:    engineering: 2 approvals needed; also asked: {other}"
    check(f"{rcpt}: quorum and the other reviewer", team in lines, [l for l in lines if l.startswith("Team")])
    check(f"{rcpt}: the recipient is not among the others", not re.search(r"also asked:.*" + re.escape(rcpt), text), "recipient listed")
    check(f"{rcpt}: why this team names the rule", "Why this team: $.latencyMs > 80" in lines, [l for l in lines if l.startswith("Why")])
    check(f"{rcpt}: the fired rule", "  - latencyMs: 225 > 80 (+181%)" in lines, "rule line missing")
    sha = re.search(r"^Commit:  ([0-9a-f]{40})$", text, re.M)
    check(f"{rcpt}: the commit and its link", sha and f"         https://github.com/acme/model/commit/{sha.group(1)}" in lines, "commit link missing")
    check(f"{rcpt}: the commit linked in HTML", sha and f'<a href="https://github.com/acme/model/commit/{sha.group(1)}">{sha.group(1)}</a>' in html, "no commit link in HTML")
    check(f"{rcpt}: the run link", "CI run: https://github.com/acme/model/actions/runs/42" in lines, "run link missing")
    order = [text.find(s) for s in ("Team asked:", "Why this team:", "These rules fired:", "Commit:", "CI run:", "Decide before:")]
    check(f"{rcpt}: facts in order", -1 not in order and order == sorted(order), order)
    check(f"{rcpt}: HTML has the quorum", f"engineering: 2 approvals needed; also asked: {other}" in html, "not in HTML")
    notice = "You wrote this commit, so you cannot approve it. You can still reject it."
    if rcpt.startswith("ada"):
        check("author (ada+gate = ada@example.com): told they cannot approve", notice in lines, "notice missing")
        check("author: the notice is in the HTML too", "You wrote this commit, so you cannot approve it." in html, "notice missing")
        # docs/mail.md's example is this message, with the link, the sha,
        # the port and the deadline masked
        ex = re.search(r"<!-- example: mail-text -->\n```text\n(.*?)```", open(doc).read(), re.S)
        def mask(s):
            s = re.sub(r"https?://\S+/r/\S+", "LINK", s)
            s = re.sub(r"\b[0-9a-f]{40}\b", "SHA", s)
            return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "DEADLINE", s)
        want = mask(ex.group(1)).rstrip("\n").split("\n") if ex else ["(no example in docs/mail.md)"]
        got = mask(text).rstrip("\n").split("\n")
        diff = [(i + 1, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
        check("docs/mail.md example matches a real message", not diff and len(want) == len(got),
              diff[:3] or f"{len(want)} lines in the doc, {len(got)} in the message")
    else:
        check("bob: no author notice", "cannot approve" not in text, "notice sent to a non-author")
PYEOF
[ -s "$TMP/checks" ] || ko "mail checks printed nothing"
while IFS= read -r line; do
	case $line in
	"ok "*) ok ;;
	"ko "*) ko "${line#ko }" ;;
	*) ko "mail checks: $line" ;;
	esac
done <"$TMP/checks"
stop_gl

# malformed From values: exit 2 with one line naming the problem, no mail
n=$(mail_count)
bad_from() { # bad_from WHAT VALUE TEXT
	(cd "$WORK" && "$GREENLIGHT" run --timeout 5s --from "$2" >"$TMP/bad.out" 2>"$TMP/bad.err")
	eq "$1: exit code" "$?" 2
	eq "$1: one line" "$(wc -l <"$TMP/bad.err")" 1
	has "$1: the reason" "$TMP/bad.err" "$3"
}
bad_from "two addresses" "a@example.com, b@example.com" 'name one address'
bad_from "two bracketed addresses" "Gate <a@example.com> <b@example.com>" 'name one address'
bad_from "unbalanced <" "Release Gate <gate@example.com" 'unbalanced < >'
bad_from "CR/LF" "$(printf 'Release Gate <gate@example.com>\r\nBcc: x@evil.example')" 'control characters'
eq "nothing mailed for a malformed From" "$(mail_count)" "$n"

# with self-approval allowed, the author is not told they cannot approve
WORK=$TMP/selfok
make_repo "$WORK"
cp "$TMP/repo/greenlight.json" "$WORK/"
git -C "$WORK" commit -q -am "Two engineers review latency"
gl_run_bg --timeout 60s --allow-self-approval true
wait_mail $((n + 2)) || { finish; exit 1; }
f=$(grep -l '"ada+gate@example.com"' "$MAILDIR"/*.json | tail -n 1)
$PY - "${f%.json}.eml" <<'PYEOF' && ok || ko "self-approval allowed: no author notice"
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
assert "cannot approve" not in m.get_body(("plain",)).get_content()
assert "Team asked:" in m.get_body(("plain",)).get_content()
PYEOF
stop_gl
finish
