#!/bin/bash
# run.sh - last step of action.yml: run the gate with the action's inputs.
#
# Inputs arrive in the environment (GL_COMMAND, GL_GATE, GL_RESULTS,
# GL_ARGS, GL_DECISION_FILE, GL_BASELINE_NOTES, GL_BASELINE_REF), never
# spliced into this script, so nothing in
# them is interpreted by a shell.  GL_ARGS is split at whitespace with
# globbing off.  greenlight writes the step's outputs, summary and
# annotations itself; when it exits before writing a record (bad input,
# or mail that could not be sent), this script still sets outcome (error,
# infrastructure), exit-code and one annotation that carries greenlight's
# own error message.  With baseline-notes, adapters/notes.sh fetches the
# notes ref before greenlight (a failure there is exit 2, outcome error,
# and the gate does not run) and pushes it after a pass or an approval (a
# failed push is a warning only).  With GL_RESUME_ENVIRONMENT (relay mode,
# docs/ci/github.md) the run registers and ends (GREENLIGHT_DETACH,
# GREENLIGHT_RESUME) and a pending review (5) is a success of the step with
# output waiting=true: the protected environment's job waits for the relay.
# Otherwise exits with greenlight's exit code, so the step fails unless the
# gate passed.
set -uo pipefail

cmd=${GL_COMMAND:-run}
case $cmd in
run | check) ;;
*)
	echo "::error title=greenlight::input command must be run or check"
	exit 2
	;;
esac
decision=${GL_DECISION_FILE:-${RUNNER_TEMP:-/tmp}/greenlight/decision.json}
mkdir -p "$(dirname "$decision")"
rm -f "$decision"

if [ -n "${GL_RESUME_ENVIRONMENT:-}" ]; then
	export GREENLIGHT_DETACH=1 GREENLIGHT_RESUME="$GL_RESUME_ENVIRONMENT"
fi
argv=("$cmd" -g "${GL_GATE:-greenlight.json}")
[ -n "${GL_RESULTS:-}" ] && argv+=(-r "$GL_RESULTS")
argv+=(-o "$decision")
set -f
# shellcheck disable=SC2206
extra=(${GL_ARGS:-})
set +f
argv+=("${extra[@]}")

# stderr goes to the log as it comes and to a file, so that a run that
# ends before writing a record can put greenlight's own message in the
# annotation.  tee ignores INT and TERM: a cancelled job's greenlight
# still gets its last lines out and exits by itself.
errlog=$(mktemp "${RUNNER_TEMP:-/tmp}/greenlight-stderr.XXXXXX")
notes=${GITHUB_ACTION_PATH:-$(dirname "$0")/../..}/adapters/notes.sh
code=0
pick="head -n 1"
"$notes" fetch "${GL_BASELINE_NOTES:-}" "${GL_BASELINE_REF:-}" 2>"$errlog" || code=$?
cat "$errlog" >&2
if [ "$code" -ne 0 ]; then
	pick="tail -n 1"	# notes.sh's own line comes after git's
else
	{
		greenlight "${argv[@]}" 2>&1 >&3 3>&- | (trap '' INT TERM; exec tee "$errlog" >&2)
		code=${PIPESTATUS[0]}
	} 3>&1
fi

# esc TEXT: workflow-command data escaping (% CR LF)
esc() {
	local s=${1//%/%25}
	s=${s//$'\r'/%0D}
	printf '%s' "${s//$'\n'/%0A}"
}

if ! grep -q '^exit-code<<' "$GITHUB_OUTPUT" 2>/dev/null; then
	# no record: bad input (2), or mail/state failed before a decision (4)
	outcome=error
	[ "$code" -eq 4 ] && outcome=infrastructure
	# greenlight's message: the first line that is neither a warning nor a
	# workflow command ("greenlight: ..." or "gate.json:3:5: ..."), without
	# the program's prefix
	msg=$(grep -v -e '^greenlight: warning: ' -e '^::' "$errlog" | $pick)
	msg=${msg#greenlight: }
	[ -n "$msg" ] || msg="greenlight exited with $code before writing a decision record; see the log"
	echo "::error title=greenlight (exit $code)::$(esc "$msg")"
	{
		echo "outcome=$outcome"
		echo "exit-code=$code"
	} >>"$GITHUB_OUTPUT"
fi
rm -f "$errlog"
# the outcome greenlight wrote (outcome<<DELIMITER, the value, DELIMITER)
outcome=$(sed -n '/^outcome<</{n;p;q}' "$GITHUB_OUTPUT" 2>/dev/null)
"$notes" push "${GL_BASELINE_NOTES:-}" "${GL_BASELINE_REF:-}" "$outcome" || :
if [ "$code" -eq 5 ] && [ -n "${GL_RESUME_ENVIRONMENT:-}" ]; then
	echo "waiting=true" >>"$GITHUB_OUTPUT"
	echo "::notice title=greenlight::review pending: the job for environment $(esc "$GL_RESUME_ENVIRONMENT") waits without a runner; the relay approves or rejects it when the team decides"
	exit 0
fi
echo "waiting=false" >>"$GITHUB_OUTPUT"
exit "$code"
