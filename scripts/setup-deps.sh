#!/bin/sh
# setup-deps.sh - install every Debian package greenlight's build, demo and tests need.
#
# Idempotent and non-interactive: packages already present are skipped, and
# `apt-get update` runs at most once per invocation (only when something is
# missing).  Run as root, or with sudo available.
set -eu

PKGS="
build-essential cmake pkg-config git ca-certificates
libcjson-dev libgit2-dev libcurl4-openssl-dev libesmtp-dev libmicrohttpd-dev
libsqlite3-dev libssl-dev libcmocka-dev
clang-14 libclang-rt-14-dev
jq time python3 python3-aiosmtpd openssl curl
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "setup-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
