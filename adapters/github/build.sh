#!/bin/bash
# build.sh - step 2 of action.yml: build greenlight from the action's source
# unless the cache restored a binary, make sure its libraries are present,
# and put it on PATH for the following steps.
#
# In: GITHUB_ACTION_PATH, GL_CACHE_DIR, GL_CACHE_HIT ("true" after a hit),
#     RUNNER_TEMP.  Debian/Ubuntu runners; packages come from apt.
set -euo pipefail

BUILD_PKGS="build-essential cmake pkg-config libcjson-dev libgit2-dev libcurl4-openssl-dev
libesmtp-dev libmicrohttpd-dev libsqlite3-dev libssl-dev"
MODULES="libcjson libgit2 libcurl libesmtp-1.0 libmicrohttpd sqlite3 openssl"
bin=$GL_CACHE_DIR/bin/greenlight

apt_install() {
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
	echo "greenlight: installing $*"
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $*
}

if [ "${GL_CACHE_HIT:-}" = true ] && [ -x "$bin" ]; then
	echo "greenlight: restored from the cache"
else
	if ! command -v cmake >/dev/null || ! pkg-config --exists $MODULES 2>/dev/null; then
		# shellcheck disable=SC2086
		apt_install $BUILD_PKGS
	fi
	build=$RUNNER_TEMP/greenlight-build
	cmake -S "$GITHUB_ACTION_PATH" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGREENLIGHT_TESTS=OFF >/dev/null
	cmake --build "$build" --target greenlight -j "$(nproc)"
	mkdir -p "$(dirname "$bin")"
	cp "$build/greenlight" "$bin"
	echo "greenlight: built from source"
fi
# a cached binary on a fresh runner still needs its shared libraries
if ldd "$bin" | grep -q 'not found'; then
	# shellcheck disable=SC2086
	apt_install $BUILD_PKGS
fi
"$bin" --version
dirname "$bin" >>"$GITHUB_PATH"
