#!/bin/bash
# tests/image/deb.sh - build the Debian package (cpack -G DEB), check it
# with lintian, install it with apt into a clean Debian 12 root made by
# mmdebstrap (apt resolves its Depends from the archive), and run the seed
# scenario inside that root (chroot): nothing else of the build is there.
# Slow (a Debian root from the archive: about a minute), so not in the
# ctest suite; .ci/run runs it.
#
# Usage: tests/image/deb.sh            prints "N passed, N failed"
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
GREENLIGHT=/bin/true		# tests/lib.sh wants one; the root has its own
export SRCDIR GREENLIGHT
. "$SRCDIR/tests/lib.sh"

for tool in mmdebstrap lintian cpack chroot; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing; run scripts/setup-deps.sh --image"; exit 1; }
done

# the package, from a release build of its own
B=$TMP/build
cmake -S "$SRCDIR" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENLIGHT_TESTS=OFF >/dev/null &&
	cmake --build "$B" -j "$(nproc)" >"$TMP/build.log" 2>&1 &&
	(cd "$B" && cpack -G DEB >"$TMP/cpack.log" 2>&1)
eq "the package builds" "$?" 0
DEB=$(ls "$B"/greenlight_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { cat "$TMP/build.log" "$TMP/cpack.log" | tail -20; finish; exit 1; }
echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes, installed size $(dpkg-deb -f "$DEB" Installed-Size) KiB"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libcjson1 libgit2-1.5 libcurl4 libesmtp6 libmicrohttpd12 libsqlite3-0 libssl3; do
	case "$depends" in *"$lib "*) ok ;; *) ko "Depends lacks $lib: $depends" ;; esac
done

# lintian: clean but for the tags docs/decisions.md explains
lintian --tag-display-limit 0 "$DEB" 2>/dev/null | grep -v -e '^E: greenlight: no-copyright-file$' >"$TMP/lintian"
eq "lintian: no tags but no-copyright-file (docs/decisions.md)" "$(cat "$TMP/lintian")" ""

# a clean Debian 12 root with only the package (and what apt pulls in)
ROOT=$TMP/root
mmdebstrap --variant=apt \
	--customize-hook="upload $DEB /greenlight.deb" \
	--customize-hook='chroot "$1" apt-get install -y --no-install-recommends /greenlight.deb' \
	--customize-hook='rm "$1/greenlight.deb"' \
	bookworm "$ROOT" >"$TMP/mmdebstrap.log" 2>&1
eq "mmdebstrap installs the package in a clean root" "$?" 0
[ -x "$ROOT/usr/bin/greenlight" ] || { grep -v '^I:' "$TMP/mmdebstrap.log" | tail -30; finish; exit 1; }
cp -r "$SRCDIR/examples/seed" "$ROOT/seed"
in_root() { # in_root COMMAND: run it in the root's /seed; sets RC, output in $TMP/out
	chroot "$ROOT" /bin/sh -c "cd /seed && $1" >"$TMP/out" 2>&1
	RC=$?
}
in_root "greenlight --version"
eq "greenlight --version in the clean root" "$RC" 0
in_root "greenlight check -g greenlight.json -r slow.json"
eq "seed, slow model: review needed (5)" "$RC" 5
has "... engineering is notified" "$TMP/out" "notify engineering"
in_root "greenlight check -g greenlight.json -r good.json"
eq "seed, good model: pass (0)" "$RC" 0
in_root "greenlight check -g greenlight.json -r missing-accuracy.json"
eq "seed, a metric missing: bad input (2)" "$RC" 2
in_root "greenlight validate -g greenlight.json"
eq "validate the seed gate (0)" "$RC" 0
check "man greenlight-run is installed" test -f "$ROOT/usr/share/man/man1/greenlight-run.1.gz"
check "the relay's unit is installed" test -f "$ROOT/usr/lib/systemd/system/greenlight-relay.service"
in_root "getent passwd greenlight"
eq "postinst made the relay's system user" "$RC" 0
finish
