#!/bin/sh
# setup-deps.sh - install every Debian package greenlight's build, demo and tests need.
#
# Usage: scripts/setup-deps.sh [--demo | --image]
#   (no option)  the build and every test of the suite
#   --demo       only what scripts/demo.sh needs: the build and the local
#                SMTP server (no browser, JVM, Node or benchmark tools)
#   --image      the suite's packages and what tests/image/ needs
#
# Idempotent and non-interactive: packages already present are skipped, and
# `apt-get update` runs at most once per invocation (only when something is
# missing).  Run as root, or with sudo available.
#
# groff-base, mandoc and systemd are for tests only: tests/man renders the
# man pages with groff and mandoc, tests/install runs systemd-analyze verify
# on the relay's unit (nothing is started).  dovecot-imapd is for tests
# only too: tests/integration/imap_lib.sh starts its own dovecot with a
# configuration in a temp dir on loopback ports (the packaged service is
# not used).
#
# The browser test also needs npm's playwright-core, and the CI adapter tests
# @action-validator/cli and gitlab-ci-local (pinned in package.json /
# package-lock.json at the repository root, test-only): `npm ci` runs there
# when one of them is missing from node_modules.  playwright-core downloads no
# browser; the test drives Debian's chromium.  Node itself is installed from
# Debian only when no `node` is on PATH.
set -eu

DEMO_PKGS="
build-essential cmake pkg-config git ca-certificates
libcjson-dev libgit2-dev libcurl4-openssl-dev libesmtp-dev libmicrohttpd-dev
libsqlite3-dev libpq-dev libssl-dev libcmocka-dev
python3 python3-aiosmtpd openssl curl
"
PKGS="$DEMO_PKGS
clang-14 libclang-rt-14-dev
jq time python3 python3-aiosmtpd openssl curl
chromium
python3-yaml python3-jsonschema rsync groovy openjdk-17-jre-headless
wrk sqlite3 postgresql
dovecot-imapd
groff-base mandoc systemd
"

# tests/image/run.sh (the container image, built and run with podman on a
# Debian base made by mmdebstrap) and tests/image/deb.sh (the Debian
# package, checked with lintian, installed in a clean root): only with --image
demo=""
case "${1:-}" in
--image) PKGS="$PKGS mmdebstrap podman runc lintian" ;;
--demo) PKGS=$DEMO_PKGS; demo=1 ;;
"") ;;
*) echo "usage: scripts/setup-deps.sh [--demo | --image]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
updated=""

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$updated" ]; then
		$SUDO apt-get update -qq
		updated=1
	fi
	$SUDO apt-get install -y -qq --no-install-recommends "$@"
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup-deps: all packages present"
else
	echo "setup-deps: installing:$missing"
	# shellcheck disable=SC2086
	apt_install $missing
fi

[ -z "$demo" ] || exit 0

# npm test dependencies (playwright-core for tests/integration/i0110-browser.sh;
# @action-validator/cli and gitlab-ci-local for tests/adapters/)
npm_missing=""
for p in playwright-core @action-validator/cli gitlab-ci-local; do
	[ -f "$ROOT/node_modules/$p/package.json" ] || npm_missing="$npm_missing $p"
done
if [ -n "$npm_missing" ]; then
	if ! command -v node >/dev/null 2>&1; then
		echo "setup-deps: installing: nodejs"
		apt_install nodejs
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "setup-deps: installing: npm"
		apt_install npm
	fi
	major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$major" -lt 20 ]; then
		echo "setup-deps: warning: node $(node --version) is older than 20, which the" \
			"pinned playwright-core needs; the browser test will fail until a newer" \
			"Node is on PATH" >&2
	fi
	echo "setup-deps: npm ci (playwright-core, test only)"
	(cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
