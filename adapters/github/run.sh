#!/bin/bash
# run.sh - last step of action.yml: run the gate with the action's inputs.
#
# Inputs arrive in the environment (GL_COMMAND, GL_GATE, GL_RESULTS,
# GL_ARGS, GL_DECISION_FILE), never spliced into this script, so nothing in
# them is interpreted by a shell.  GL_ARGS is split at whitespace with
# globbing off.  greenlight writes the step's outputs, summary and
# annotations itself; when it exits before writing a record (bad input,
# or mail that could not be sent), this script still sets outcome (error,
# infrastructure), exit-code and one annotation.  Exits with
# greenlight's exit code, so the step fails unless the gate passed.
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

argv=("$cmd" -g "${GL_GATE:-greenlight.json}")
[ -n "${GL_RESULTS:-}" ] && argv+=(-r "$GL_RESULTS")
argv+=(-o "$decision")
set -f
# shellcheck disable=SC2206
extra=(${GL_ARGS:-})
set +f
argv+=("${extra[@]}")

greenlight "${argv[@]}"
code=$?
if ! grep -q '^exit-code<<' "$GITHUB_OUTPUT" 2>/dev/null; then
	# no record: bad input (2), or mail/state failed before a decision (4)
	outcome=error
	[ "$code" -eq 4 ] && outcome=infrastructure
	echo "::error title=greenlight::greenlight exited with $code before writing a decision record; its message is in the log above"
	{
		echo "outcome=$outcome"
		echo "exit-code=$code"
	} >>"$GITHUB_OUTPUT"
fi
exit "$code"
