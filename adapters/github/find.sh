#!/bin/bash
# find.sh - step 1 of action.yml: use a greenlight on PATH, else install the
# release package for this runner (package.sh), else say where the action's
# own build is cached.
#
# In:  GL_VERSION (input "version"; empty = any), GITHUB_ACTION_PATH, and
#      what package.sh reads.
# Out: found=true (PATH has a usable greenlight, or the package installed
#      it), else cache-dir and
#      cache-key for actions/cache: the key covers the runner's OS image,
#      architecture and every file the build reads, so a changed source or
#      runner image never reuses an old binary.
set -euo pipefail

src=$GITHUB_ACTION_PATH
want=${GL_VERSION:-}
src_version=$(sed -n 's/^project(greenlight VERSION \([0-9][0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

if have=$(greenlight --version 2>/dev/null); then
	have=${have#greenlight }
	if [ -z "$want" ] || [ "$have" = "$want" ]; then
		echo "greenlight $have found at $(command -v greenlight)"
		echo "found=true" >>"$GITHUB_OUTPUT"
		exit 0
	fi
	echo "greenlight $have on PATH is not version $want"
fi
rc=0
"$src/adapters/github/package.sh" || rc=$?
case $rc in
0)
	echo "found=true" >>"$GITHUB_OUTPUT"
	exit 0
	;;
3) ;; # no package for this runner: build from source
*) exit "$rc" ;;
esac
if [ -n "$want" ] && [ "$want" != "$src_version" ]; then
	echo "::error title=greenlight::input version is $want, but this action's source is greenlight $src_version; use the action's tag for that version, or install it on the runner"
	exit 2
fi

hash=$(cd "$src" && find CMakeLists.txt src -type f \( -name '*.c' -o -name '*.h' -o -name CMakeLists.txt \) -print0 |
	LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)
{
	echo "found=false"
	echo "cache-dir=$HOME/.cache/greenlight-action"
	echo "cache-key=greenlight-$src_version-${ImageOS:-unknown}-${RUNNER_ARCH:-unknown}-$hash"
} >>"$GITHUB_OUTPUT"
