# a0106-github-package.sh - the composite action gets greenlight from the
# release .deb for the runner (adapters/github/package.sh), offline:
#   1. a version tag as the action's ref (and the version input) on an
#      ubuntu24 X64 runner: greenlight_<v>_ubuntu24.04_amd64.deb downloaded,
#      checked against SHA256SUMS, installed, and the gate runs with it;
#      also when github.action_repository/action_ref are empty and only the
#      action's checkout path (_actions/OWNER/REPO/REF) names them;
#   2. a package whose checksum does not match: refused with one ::error::
#      line, nothing installed, no fallback build;
#   3. no package: a release without the asset (HTTP 404), runner images
#      with none (ubuntu20; ubuntu22 names the ubuntu22.04 asset), another
#      architecture: one line says why, then the build from source; a
#      version the source is not then fails;
#   4. Windows and macOS runners: fail at once, nothing else runs.
#
# GitHub's release download service cannot run here.  Its stand-in is a
# Python http.server on loopback laid out as GitHub documents release asset
# URLs, https://github.com/OWNER/REPO/releases/download/TAG/ASSET: it
# answers those paths with a 302 to a storage path (as github.com redirects
# to its object storage) that serves the file, and 404 for a missing asset.
# The action reads the test-only GREENLIGHT_RELEASE_BASE_URL (default
# https://github.com) to reach it.  The package is real: cpack -G DEB from
# the build under test, renamed as the release workflow names it.
# Installing it with apt-get (the action's path) would change this
# machine's system packages and needs root, so the tests set the test-only
# GREENLIGHT_DEB_ROOT: the verified package is unpacked there with
# dpkg-deb -x and its usr/bin goes on PATH.
. "$(dirname "$0")/lib.sh"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
for t in cpack dpkg-deb curl sha256sum; do
	command -v "$t" >/dev/null || { echo "FAIL: $t is missing; run scripts/setup-deps.sh"; exit 1; }
done

VER=$(sed -n 's/^project(greenlight VERSION \([0-9][0-9.]*\).*/\1/p' "$SRCDIR/CMakeLists.txt")
ASSET=greenlight_${VER}_ubuntu24.04_amd64.deb

# ---- the package and the release stand-in ----------------------------------
cpack -G DEB -B "$TMP/cpack" --config "$GLDIR/CPackConfig.cmake" >"$TMP/cpack.log" 2>&1 ||
	{ echo "FAIL: cpack -G DEB"; cat "$TMP/cpack.log"; exit 1; }
SRV=$TMP/srv
good=$SRV/acme/greenlight/releases/download/v$VER
bad=$SRV/acme/tampered/releases/download/v$VER
empty=$SRV/acme/nodeb/releases/download/v$VER
mkdir -p "$good" "$bad" "$empty"
mv "$TMP/cpack/greenlight_${VER}_amd64.deb" "$good/$ASSET"
(cd "$good" && sha256sum "$ASSET" >SHA256SUMS)
# tampered: the same SHA256SUMS, a package with one more byte
cp "$good/SHA256SUMS" "$bad/"
{ cat "$good/$ASSET"; printf x; } >"$bad/$ASSET"
cp "$good/SHA256SUMS" "$empty/" # a release without the ubuntu24.04 package

$PY - "$SRV" "$TMP/port" <<'PYEOF' >"$TMP/server.log" 2>&1 &
import functools, http.server, os, sys
root = sys.argv[1]
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("/")
        # /OWNER/REPO/releases/download/TAG/ASSET -> 302 to /storage/...
        if len(parts) == 7 and parts[3:5] == ["releases", "download"]:
            if not os.path.isfile(os.path.join(root, *parts[1:])):
                self.send_error(404)
                return
            self.send_response(302)
            self.send_header("Location", "/storage" + self.path)
            self.end_headers()
            return
        if self.path.startswith("/storage/"):
            self.path = self.path[len("/storage"):]
            return super().do_GET()
        self.send_error(404)
srv = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(Handler, directory=root))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PYEOF
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
[ -s "$TMP/port" ] || { echo "FAIL: the release stand-in did not start"; cat "$TMP/server.log"; exit 1; }
BASE=http://127.0.0.1:$(cat "$TMP/port")
# the stand-in answers like GitHub: redirect, then the file; 404 when missing
check "stand-in: asset via redirect" curl -fsSL -o "$TMP/probe.deb" "$BASE/acme/greenlight/releases/download/v$VER/$ASSET"
check "stand-in: served the package" cmp -s "$TMP/probe.deb" "$good/$ASSET"
eq "stand-in: 404 for a missing asset" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$BASE/acme/nodeb/releases/download/v$VER/$ASSET")" 404

W=$TMP/ws
mkdir -p "$W"
cp "$SRCDIR/examples/seed/greenlight.json" "$SRCDIR/examples/seed/good.json" "$W/"
NOGL=/usr/bin:/bin
R=$TMP/report.json
# run_action ROOT [harness options]: the action with no greenlight on PATH
run_action() {
	local root=$1
	shift
	mkdir -p "$root"
	gha "$R" --workspace "$W" --path "$NOGL" --cache-store "$TMP/cache" \
		--env "HOME=$TMP/home" --env "GREENLIGHT_RELEASE_BASE_URL=$BASE" \
		--env "GREENLIGHT_DEB_ROOT=$root" --with command=check --with results=good.json "$@"
	jqr "$R" .log >"$TMP/log"
}
mkdir -p "$TMP/cache" "$TMP/home"

# ---- 1. the matching package is downloaded, verified and installed -------
run_action "$TMP/root1" --action-repository acme/greenlight --action-ref "v$VER"
eq "package: conclusion" "$(jqr "$R" .conclusion)" success
eq "package: found" "$(jqr "$R" '.steps[1].outputs.found')" true
eq "package: no build" "$(jqr "$R" '[.steps[2,3,4].outcome] | join(" ")')" "skipped skipped skipped"
eq "package: outcome" "$(jqr "$R" .outputs.outcome)" pass
has "package: verified" "$TMP/log" "greenlight: $ASSET matches SHA256SUMS ($(cut -d' ' -f1 "$good/SHA256SUMS"))"
has "package: installed" "$TMP/log" "greenlight $VER installed from $ASSET"
check "package: unpacked into the root" test -x "$TMP/root1/usr/bin/greenlight"
eq "package: no annotation but the gate's" "$(jqr "$R" '[.annotations[].command] | join(" ")')" notice
hasnt "package: not built" "$TMP/log" "building from source"

# the version input names the release when the ref is not a tag
run_action "$TMP/root2" --action-repository acme/greenlight --action-ref main --with "version=$VER"
eq "version input: conclusion" "$(jqr "$R" .conclusion)" success
has "version input: installed" "$TMP/log" "greenlight $VER installed from $ASSET"
check "version input: unpacked" test -x "$TMP/root2/usr/bin/greenlight"

# github.action_repository/action_ref empty (actions/runner#2473): the
# checkout path _actions/OWNER/REPO/REF names the release
A=$TMP/runner/_actions/acme/greenlight/v$VER
mkdir -p "$A"
cp -r "$SRCDIR/action.yml" "$SRCDIR/CMakeLists.txt" "$SRCDIR/adapters" "$A/"
mkdir -p "$TMP/root3"
$PY "$SRCDIR/tests/adapters/gha_harness.py" "$A" --workspace "$W" --path "$NOGL" --env "HOME=$TMP/home" \
	--env "GREENLIGHT_RELEASE_BASE_URL=$BASE" --env "GREENLIGHT_DEB_ROOT=$TMP/root3" \
	--with command=check --with results=good.json >"$R" 2>"$R.err" || { echo "harness:"; cat "$R.err"; }
jqr "$R" .log >"$TMP/log"
eq "action path: conclusion" "$(jqr "$R" .conclusion)" success
has "action path: installed" "$TMP/log" "greenlight $VER installed from $ASSET"
check "action path: unpacked" test -x "$TMP/root3/usr/bin/greenlight"

# ---- 2. a checksum mismatch is refused ------------------------------------
run_action "$TMP/root4" --action-repository acme/tampered --action-ref "v$VER"
eq "mismatch: conclusion" "$(jqr "$R" .conclusion)" failure
eq "mismatch: find failed" "$(jqr "$R" '.steps[1].outcome + " " + (.steps[1].exit_code|tostring)')" "failure 1"
eq "mismatch: nothing else ran" "$(jqr "$R" '[.steps[2:][].outcome] | unique | join(" ")')" skipped
eq "mismatch: one annotation" "$(jqr "$R" '[.annotations[].command] | join(" ")')" error
jqr "$R" '.annotations[0].message' >"$TMP/msg"
has "mismatch: says so" "$TMP/msg" "checksum mismatch for $ASSET: SHA256SUMS says $(cut -d' ' -f1 "$good/SHA256SUMS"), the download is $(sha256sum "$bad/$ASSET" | cut -d' ' -f1); not installing it"
check "mismatch: nothing installed" test -z "$(ls -A "$TMP/root4")"
hasnt "mismatch: no fallback build" "$TMP/log" "building from source"

# ---- 3. no package: build from source, saying why ------------------------
run_action "$TMP/root5" --action-repository acme/nodeb --action-ref "v$VER"
eq "404: conclusion" "$(jqr "$R" .conclusion)" success
eq "404: found" "$(jqr "$R" '.steps[1].outputs.found')" false
eq "404: built" "$(jqr "$R" '.steps[3].outcome')" success
has "404: says why" "$TMP/log" "greenlight: release v$VER of acme/nodeb has no $ASSET (HTTP 404); building from source"
has "404: built from source" "$TMP/log" "greenlight: built from source"
check "404: nothing unpacked" test -z "$(ls -A "$TMP/root5")"
eq "404: outcome" "$(jqr "$R" .outputs.outcome)" pass
# the same source on other runners: reuse that build under their cache keys
key=$(jqr "$R" '.steps[1].outputs["cache-key"]')
for image in ubuntu20 ubuntu22; do
	cp -r "$TMP/cache/$key" "$TMP/cache/${key/-ubuntu24-/-$image-}"
done
cp -r "$TMP/cache/$key" "$TMP/cache/${key/-X64-/-ARM64-}"

run_action "$TMP/root6" --action-repository acme/greenlight --action-ref "v$VER" --env ImageOS=ubuntu20
eq "ubuntu20: conclusion" "$(jqr "$R" .conclusion)" success
eq "ubuntu20: found" "$(jqr "$R" '.steps[1].outputs.found')" false
has "ubuntu20: says why" "$TMP/log" "greenlight: no release package for runner image 'ubuntu20' (packages: ubuntu22.04, ubuntu24.04); building from source"
has "ubuntu20: restored the build" "$TMP/log" "greenlight: restored from the cache"
check "ubuntu20: nothing unpacked" test -z "$(ls -A "$TMP/root6")"

run_action "$TMP/root7" --action-repository acme/greenlight --action-ref "v$VER" --env ImageOS=ubuntu22
eq "ubuntu22: conclusion" "$(jqr "$R" .conclusion)" success
has "ubuntu22: asks for the 22.04 package" "$TMP/log" \
	"greenlight: release v$VER of acme/greenlight has no greenlight_${VER}_ubuntu22.04_amd64.deb (HTTP 404); building from source"

run_action "$TMP/root8" --action-repository acme/greenlight --action-ref "v$VER" --env RUNNER_ARCH=ARM64
eq "ARM64: conclusion" "$(jqr "$R" .conclusion)" success
has "ARM64: says why" "$TMP/log" "greenlight: no release package for runner architecture 'ARM64' (packages: X64); building from source"

# a version with no package that the source is not either: fails
run_action "$TMP/root9" --action-repository acme/greenlight --action-ref "v$VER" --with version=9.9.9
eq "version 9.9.9: conclusion" "$(jqr "$R" .conclusion)" failure
eq "version 9.9.9: gate skipped" "$(jqr "$R" '.steps[-1].outcome')" skipped
has "version 9.9.9: looked for the package" "$TMP/log" \
	"greenlight: release v9.9.9 of acme/greenlight has no greenlight_9.9.9_ubuntu24.04_amd64.deb (HTTP 404); building from source"
jqr "$R" '.annotations[0].message' >"$TMP/msg"
has "version 9.9.9: says why" "$TMP/msg" "input version is 9.9.9, but this action's source is greenlight $VER"

# ---- 4. Windows and macOS runners fail at once ----------------------------
for os in Windows macOS; do
	run_action "$TMP/root-$os" --action-repository acme/greenlight --action-ref "v$VER" --env "RUNNER_OS=$os"
	eq "$os: conclusion" "$(jqr "$R" .conclusion)" failure
	eq "$os: first step failed" "$(jqr "$R" '.steps[0].outcome')" failure
	eq "$os: nothing else ran" "$(jqr "$R" '[.steps[1:][].outcome] | unique | join(" ")')" skipped
	eq "$os: one annotation" "$(jqr "$R" '[.annotations[].command] | join(" ")')" error
	eq "$os: message" "$(jqr "$R" '.annotations[0].message')" \
		"greenlight runs on Linux runners, not on $os; run this job on a Linux runner (runs-on: ubuntu-24.04, or a container job there) or a self-hosted Linux runner"
	check "$os: nothing installed" test -z "$(ls -A "$TMP/root-$os")"
done

finish
