# i0305-baseline-relay.sh - the "relay" baseline store against a real
# `greenlight relay` with two tenants.  A gate records through the relay
# and a later run compares with that baseline (review at +25%, pass at
# +5%); check records on pass.  Another tenant, even one allowed the same
# repository, neither sees the first tenant's baselines nor overwrites
# them; a token outside the repository is refused in one line.  A relay
# that answers with a forged record (a commit not asked for, another gate)
# is not believed, and an unreachable relay or missing settings stop the
# gate with one line and exit 2, never a silent pass.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="Ada Dev" GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME="Ada Dev" GIT_COMMITTER_EMAIL=ada@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP"

TOKA=alpha-token-0123456789abcdef
TOKS=alpha-other-0123456789abcdef
TOKB=beta-token-0123456789abcdefgh
cat >"$TMP/tokens" <<TOK
tenant alpha $TOKA https://git.example.com/acme/*
tenant alpha $TOKS https://git.example.com/acme/other*
tenant beta $TOKB https://git.example.com/acme/*
TOK
chmod 600 "$TMP/tokens"
RPORT=$(free_port)
RELAY=http://127.0.0.1:$RPORT
"$GREENLIGHT" relay --listen 127.0.0.1:$RPORT --db "${GREENLIGHT_TEST_RELAY_DB:-$TMP/relay.db}" --tokens-file "$TMP/tokens" \
	>"$TMP/relay.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -s -o /dev/null "$RELAY/healthz" && break; sleep 0.05; done
export GREENLIGHT_RELAY=$RELAY

# the gate: review when latency grew by more than 10% over the baseline
SLOWER='{"And":[{"Variable":"$$.DeltaPct.latencyMs","IsPresent":true},
  {"Variable":"$$.DeltaPct.latencyMs","NumericGreaterThan":10}],"Next":"engineering"}'
mkgate() {	# mkgate FILE BASELINE-SECTION
	printf '{"version":1,"name":"model-release","default":"pass","teams":{"engineering":{"email":["eng@example.com"]}},"choices":[%s],"baseline":%s}\n' \
		"$SLOWER" "$2" >"$1"
}
R=$TMP/repo
mkdir -p "$R"
git -C "$R" init -q -b main
git -C "$R" remote add origin https://git.example.com/acme/model.git
mkgate "$R/gate.json" '{"store":"relay","record":"never","window":1}'
mkgate "$R/strict.json" '{"store":"relay","record":"never","if_missing":"error"}'
mkgate "$R/auto.json" '{"store":"relay"}'
# records without reading baselines (a gate that does not compare)
printf '{"version":1,"name":"model-release","default":"pass","choices":[%s],"baseline":{"store":"relay"}}\n' \
	'{"Variable":"$.latencyMs","NumericGreaterThan":100000,"Next":"fail"}' >"$R/rec.json"
commit_at() {	# commit_at LATENCY: an empty commit; results.json gets the latency
	git -C "$R" commit -q --allow-empty -m "latency $1"
	printf '{"latencyMs": %s}\n' "$1" >"$R/results.json"
}
gl() {	# gl TOKEN ARGS...: greenlight in the repository; sets RC, $TMP/out, $TMP/err
	local tok=$1
	shift
	(cd "$R" && GREENLIGHT_RELAY_TOKEN=$tok "$GREENLIGHT" "$@") >"$TMP/out" 2>"$TMP/err"
	RC=$?
}
ko_hook() { echo "--- stdout"; cat "$TMP/out"; echo "--- stderr"; cat "$TMP/err"; }
lines() { wc -l <"$TMP/err" | tr -d ' '; }

# --- record through the relay, read it back --------------------------------
commit_at 200
gl $TOKA record -g gate.json
eq "record via the relay" "$RC" 0
has "record says where" "$TMP/out" "baseline: recorded 1 value(s) of gate model-release for"
has "... the relay" "$TMP/out" "(relay)"
first=$(git -C "$R" rev-parse HEAD)
commit_at 250
gl $TOKA check -g gate.json
eq "+25% over the relay's baseline: review (exit 5)" "$RC" 5
has "the rule read the delta" "$TMP/out" '$$.DeltaPct.latencyMs=25'
printf '{"latencyMs": 210}\n' >"$R/results.json"
gl $TOKA check -g gate.json
eq "+5%: pass (exit 0)" "$RC" 0
eq "no diagnostics" "$(lines)" 0

# --- check records on pass; the next commit compares with it ---------------
gl $TOKA check -g auto.json
eq "check with record on_pass" "$RC" 0
has "check recorded through the relay" "$TMP/out" "(relay)"
commit_at 260
gl $TOKA check -g gate.json
eq "the nearest record (210, recorded by check) is the baseline: +23.8%" "$RC" 5
check "metrics count the records" sh -c "curl -s '$RELAY/metrics' | grep -q '^greenlight_relay_baselines_recorded_total 2'"

# --- another tenant: nothing visible, nothing overwritten ------------------
gl $TOKB check -g strict.json
eq "beta sees no baseline of alpha's (if_missing error: exit 2)" "$RC" 2
has "... says none was recorded" "$TMP/err" 'no recorded commit for gate "model-release"'
gl $TOKB check -g gate.json
eq "beta's guarded rule finds no baseline: pass" "$RC" 0
doc=$(printf '{"version":1,"gate":"model-release","commit":"%s","recorded":"2026-12-07T10:00:00Z","outcome":"pass","run_url":null,"values":{"$.latencyMs":100000}}' "$first")
st=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKB" \
	-H 'Content-Type: application/json' \
	--data "{\"repository\":\"https://git.example.com/acme/model.git\",\"document\":$doc}" "$RELAY/v1/baselines")
eq "beta's PUT for alpha's commit lands in beta's own store" "$st" 204
git -C "$R" reset -q --hard HEAD~2
git -C "$R" commit -q --allow-empty -m "again"
printf '{"latencyMs": 250}\n' >"$R/results.json"
gl $TOKA check -g gate.json
eq "alpha still compares with its own 200: exit 5" "$RC" 5
has "... +25%" "$TMP/out" '$$.DeltaPct.latencyMs=25'

# --- a repository outside the token's patterns -----------------------------
gl $TOKS check -g gate.json
eq "a token for other repositories: exit 2" "$RC" 2
has "one clear line" "$TMP/err" "the relay refused repository https://git.example.com/acme/model.git for this token (HTTP 403)"
eq "... only one" "$(lines)" 1
gl $TOKS record -g rec.json
eq "recording with it: exit 4" "$RC" 4
has "... the same line" "$TMP/err" "refused repository https://git.example.com/acme/model.git"
eq "... only one" "$(lines)" 1

# --- a shallow clone: the walk is local, so the history is needed -----------
git clone -q --depth 1 "file://$R" "$TMP/shallow"
git -C "$TMP/shallow" remote set-url origin https://git.example.com/acme/model.git
cp "$R/gate.json" "$R/results.json" "$TMP/shallow/"
(cd "$TMP/shallow" && GREENLIGHT_RELAY_TOKEN=$TOKA "$GREENLIGHT" check -g gate.json) >"$TMP/out" 2>"$TMP/err"
eq "shallow clone: exit 2, not a pass without a baseline" "$?" 2
has "... says to fetch the history" "$TMP/err" "this is a shallow clone and no recorded commit is in the fetched history; fetch the history: git fetch --unshallow"

# --- settings ----------------------------------------------------------------
gl "" check -g gate.json
eq "no token: exit 2" "$RC" 2
has "names the variable to set" "$TMP/err" "needs the relay's bearer token: set GREENLIGHT_RELAY_TOKEN"
(cd "$R" && env -u GREENLIGHT_RELAY GREENLIGHT_RELAY_TOKEN=$TOKA "$GREENLIGHT" check -g gate.json) >"$TMP/out" 2>"$TMP/err"
eq "no relay URL: exit 2" "$?" 2
has "names what to set" "$TMP/err" "needs the relay's URL: set GREENLIGHT_RELAY or decision.relay"
GREENLIGHT_RELAY=http://relay.example.com gl $TOKA check -g gate.json
eq "plain http off this host: exit 2" "$RC" 2
has "... says use https" "$TMP/err" "use https://"

# --- a relay that lies -------------------------------------------------------
FDIR=$TMP/fake
mkdir -p "$FDIR"
$PY "$SRCDIR/tests/integration/fake_relay.py" --port-file "$TMP/fake.port" --dir "$FDIR" --token "$TOKA" \
	>"$TMP/fake.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$TMP/fake.port" ] && break; sleep 0.05; done
FAKE=http://127.0.0.1:$(cat "$TMP/fake.port")
parent=$(git -C "$R" rev-parse HEAD~1)
forged() {	# forged COMMIT GATE: a record of latency 1
	printf '{"version":1,"gate":"%s","commit":"%s","recorded":"2026-12-07T10:00:00Z","outcome":"pass","run_url":null,"values":{"$.latencyMs":1}}' "$2" "$1"
}
printf '{"records":[%s,%s]}' "$(forged "$(printf 'f%.0s' $(seq 40))" model-release)" \
	"$(forged "$parent" other-gate)" >"$FDIR/baselines.json"
GREENLIGHT_RELAY=$FAKE gl $TOKA check -g gate.json
eq "forged records are not believed: no baseline, pass" "$RC" 0
has "one warning says so" "$TMP/err" "2 record(s) from the relay ignored (a record for commit ffffffffffff that was not asked for)"
eq "... one line" "$(lines)" 1
has "the lookup named the walked commits" "$FDIR/lookup.json" "\"$parent\""
printf '{"records":[%s]}' "$(forged "$parent" model-release)" >"$FDIR/baselines.json"
GREENLIGHT_RELAY=$FAKE gl $TOKA check -g gate.json
eq "a well-formed record for a commit asked for is used (+24900%)" "$RC" 5
printf '{"records":"none"}' >"$FDIR/baselines.json"
GREENLIGHT_RELAY=$FAKE gl $TOKA check -g gate.json
eq "a malformed answer: exit 2" "$RC" 2
has "... says so" "$TMP/err" 'the relay'"'"'s lookup answer has no "records" array'

# --- the relay is down -------------------------------------------------------
GREENLIGHT_RELAY=http://127.0.0.1:$(free_port) gl $TOKA check -g gate.json
eq "relay down: exit 2, not a pass" "$RC" 2
eq "one error line (after the retries' warnings)" "$(grep -vc 'warning:' "$TMP/err")" 1
has "... naming the lookup" "$TMP/err" "relay: baseline lookup:"
finish
