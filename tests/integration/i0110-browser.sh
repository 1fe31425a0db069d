# i0110-browser.sh - the review page in a real browser: headless Debian
# Chromium driven by npm playwright-core (tests/integration/browser.mjs)
# opens the link from the received email, checks the page at 1280x800 and
# on a 390x844 phone (both buttons on the first screen, unscrolled; their
# positions are printed), saves screenshots, and clicks the real buttons.
#   case 1: Approve            -> `greenlight run` exits 0, the answer says
#                                 CI continues
#   case 2: Reject with reason, JavaScript disabled
#                              -> exits 1, the reason lands in decision.json
# The other states of the page are tested by i0111-page-states.sh.
# Screenshots are kept under the build tree (path printed at the end).
# Needs `chromium` and `npm ci` in the source root (scripts/setup-deps.sh
# does both); without them the test is skipped (77).
. "$(dirname "$0")/lib.sh"

# Debian's binary itself: /usr/bin/chromium is a wrapper that adds Google
# API keys and flags from /etc/chromium.d.  $CHROMIUM overrides.
CHROMIUM=${CHROMIUM:-}
for c in /usr/lib/chromium/chromium /usr/bin/chromium; do
	[ -z "$CHROMIUM" ] && [ -x "$c" ] && CHROMIUM=$c
done
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: no Chromium at ${CHROMIUM:-/usr/lib/chromium/chromium} (scripts/setup-deps.sh installs Debian chromium)"
	exit 77
fi
if ! command -v node >/dev/null 2>&1; then
	echo "SKIP: node is not installed (scripts/setup-deps.sh installs it)"
	exit 77
fi
if [ ! -f "$SRCDIR/node_modules/playwright-core/package.json" ]; then
	echo "SKIP: $SRCDIR/node_modules/playwright-core is missing (run npm ci in $SRCDIR, or scripts/setup-deps.sh)"
	exit 77
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
	echo "FAIL: node $(node --version) is too old: the pinned playwright-core needs Node >= 20"
	exit 1
fi
export CHROMIUM

ART=$(cd "$(dirname "$GREENLIGHT")" && pwd)/test-artifacts/i0110-browser
rm -rf "$ART"
mkdir -p "$ART"

# browse OUTDIR [browser.mjs options]: drive the page; on failure give the
# gate a moment to finish, then stop it so the test does not sit out the
# whole timeout.
browse() {
	local out=$1; shift
	node "$SRCDIR/tests/integration/browser.mjs" "$url" "$out" \
		--viewports 1280x800,390x844 --rule latencyMs:225:80 --sha "$sha" \
		--headline "latencyMs 225 > 80 (+181%)" --fold "$@" \
		>"$WORK/browser.log" 2>&1
	BROWSER_RC=$?
	cat "$WORK/browser.log"
	if [ "$BROWSER_RC" -ne 0 ]; then
		for _ in $(seq 50); do kill -0 "$GL_PID" 2>/dev/null || return; sleep 0.1; done
		kill "$GL_PID" 2>/dev/null
	fi
}

png_width() { # the width in the PNG header
	$PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print(struct.unpack(">I", d[16:20])[0])' "$1" 2>/dev/null
}

start_smtp

# ---- case 1: Approve -------------------------------------------------------
WORK=$TMP/approve
make_repo "$WORK"
sha=$(git -C "$WORK" rev-parse HEAD)
gl_run_bg --timeout 60s
wait_mail 1 || { finish; exit 1; }
url=$(mail_link 1)
check "link from the mail points at the gate's own server" grep -q "^http://127.0.0.1:[0-9]*/r/" <<<"$url"
browse "$ART/approve" --name review --action approve \
	--after "CI continues: greenlight exits 0"
check "browser: page checks and Approve click pass" test "$BROWSER_RC" -eq 0
wait_gl
check "gate exits 0 after Approve in the browser" test "$RC" -eq 0
check "decision.json says approved" test "$(json_get "$WORK/decision.json" 'd.get("outcome")' 2>/dev/null)" = approved
check "decision made by Chromium (user agent recorded)" grep -q '"user_agent":[[:space:]]*"[^"]*HeadlessChrome/' "$WORK/decision.json"
check "no reason when none typed" test -z "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0].get("reason") or ""' 2>/dev/null)"
check "1280 px screenshot is 1280 px wide" test "$(png_width "$ART/approve/review-1280.png")" = 1280
check "390 px screenshot is 390 px wide" test "$(png_width "$ART/approve/review-390.png")" = 390
# the email as a phone's mail client shows it (docs/mail.md has this picture)
$PY - "$MAILDIR/0001.eml" "$ART/mail.html" <<'PYEOF'
import email, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
open(sys.argv[2], "w").write(m.get_body(("html",)).get_content())
PYEOF
check "the email's HTML renders self-contained and fits 390 px" \
	node "$SRCDIR/tests/integration/mail_shot.mjs" "$ART/mail.html" "$ART/mail-390.png" 390
check "email screenshot is 390 px wide" test "$(png_width "$ART/mail-390.png")" = 390

# ---- case 2: Reject with a reason -------------------------------------------
# Characters that must survive the form encoding and the HTML escaping.
reason='p99 latency 225 ms > 80 ms budget & no rollback plan — not this release'
WORK=$TMP/reject
make_repo "$WORK"
sha=$(git -C "$WORK" rev-parse HEAD)
gl_run_bg --timeout 60s
wait_mail 2 || { finish; exit 1; }
url=$(mail_link 2)
browse "$ART/reject" --name review --action reject --reason "$reason" --no-js \
	--after "CI fails (greenlight exits 1)"
check "browser without JavaScript: page checks and Reject click pass" test "$BROWSER_RC" -eq 0
wait_gl
check "gate exits 1 after Reject in the browser" test "$RC" -eq 1
check "decision.json says rejected" test "$(json_get "$WORK/decision.json" 'd.get("outcome")' 2>/dev/null)" = rejected
check "typed reason in decision.json" test "$(json_get "$WORK/decision.json" 'd["request"]["decisions"][0]["reason"]' 2>/dev/null)" = "$reason"
check "decision made by Chromium (user agent recorded)" grep -q '"user_agent":[[:space:]]*"[^"]*HeadlessChrome/' "$WORK/decision.json"

echo "screenshots:"
for f in "$ART"/*/*.png; do [ -f "$f" ] && echo "  $f"; done
finish
