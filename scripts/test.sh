#!/bin/sh
# test.sh - set up, build and run the whole test suite.
#
# Usage: scripts/test.sh [PRESET]   (default: "default"; "asan" runs the
# same suite built with AddressSanitizer + UBSan)
set -eu
cd "$(dirname "$0")/.."
preset=${1:-default}
scripts/setup-deps.sh
scripts/build.sh "$preset"
ctest --preset "$preset"
