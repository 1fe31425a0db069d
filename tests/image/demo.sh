#!/bin/bash
# tests/image/demo.sh - the README's first command on a fresh Debian 12:
# a clean root made by mmdebstrap gets a copy of this checkout (git
# archive of HEAD) and runs `scripts/demo.sh` in it (chroot).  The root
# starts with nothing but Debian's apt variant: scripts/setup-deps.sh
# --demo must install everything the demo needs, and the demo must exit 0.
# Slow (a Debian root and the build dependencies from the archive), so not
# in the ctest suite; .ci/run runs it.
#
# Usage: tests/image/demo.sh            prints "N passed, N failed"
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
GREENLIGHT=/bin/true		# tests/lib.sh wants one; the root builds its own
export SRCDIR GREENLIGHT
. "$SRCDIR/tests/lib.sh"
command -v mmdebstrap >/dev/null || { echo "FAIL: mmdebstrap is missing; run scripts/setup-deps.sh --image"; exit 1; }

ROOT=$TMP/root
mmdebstrap --quiet --variant=apt bookworm "$ROOT" >"$TMP/mmdebstrap.log" 2>&1
eq "a clean Debian 12 root" "$?" 0
mkdir -p "$ROOT/src"
git -C "$SRCDIR" archive HEAD | tar -x -C "$ROOT/src"
mount -t proc proc "$ROOT/proc" 2>/dev/null && PROC=1 || PROC=""
start=$(date +%s)
chroot "$ROOT" /bin/sh -c 'cd /src && scripts/demo.sh' >"$TMP/demo.log" 2>&1
rc=$?
[ -n "$PROC" ] && umount "$ROOT/proc"
echo "demo in a clean root: $(($(date +%s) - start)) s"
eq "scripts/demo.sh exits 0 on a fresh Debian 12" "$rc" 0
has "the demo approved through the review page" "$TMP/demo.log" '"outcome": "approved"'
has "the gate exited 0" "$TMP/demo.log" "(greenlight run exited 0)"
hasnt "no browser was installed for the demo" "$TMP/demo.log" "chromium"
[ "$rc" -eq 0 ] || tail -30 "$TMP/demo.log"
finish
