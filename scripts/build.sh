#!/bin/sh
# build.sh - configure and build one CMake preset (default: "default").
# Usage: scripts/build.sh [PRESET]
set -eu
cd "$(dirname "$0")/.."
preset=${1:-default}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc 2>/dev/null || echo 2)"
