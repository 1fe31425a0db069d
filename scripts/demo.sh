#!/bin/sh
# demo.sh - set up, build, and run greenlight on the seed scenario.
#
# The seed gate routes accuracypct < 96 to research and latencyMs > 80 to
# engineering.  This runs `greenlight check` on each of the four seed inputs
# and shows the verdict and exit code of each.
set -eu
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh default
GL=build/default/greenlight
SEED=examples/seed

run() {
	title=$1; shift
	printf '\n== %s\n$ greenlight %s\n' "$title" "$*"
	set +e
	"$GL" "$@"
	code=$?
	set -e
	printf '(exit %d)\n' "$code"
}

run "slow model: latencyMs 225 > 80 -> engineering reviews" \
	check -g $SEED/greenlight.json -r $SEED/slow.json
run "inaccurate and slow, match first -> research reviews" \
	check -g $SEED/greenlight.json -r $SEED/inaccurate-and-slow.json
run "inaccurate and slow, match all -> research and engineering review" \
	check -g $SEED/greenlight-all.json -r $SEED/inaccurate-and-slow.json
run "good model -> pass" \
	check -g $SEED/greenlight.json -r $SEED/good.json
run "accuracy never reported -> bad input, never a silent pass" \
	check -g $SEED/greenlight.json -r $SEED/missing-accuracy.json
