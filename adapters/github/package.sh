#!/bin/bash
# package.sh - called by find.sh: install the release .deb that matches this
# runner, checked against the release's SHA256SUMS.
#
# Version: the input "version", else the action's own ref when it is a
# version tag (uses: owner/greenlight@v0.2.0).  Package: the runner image
# (ImageOS ubuntu22 -> ubuntu22.04, ubuntu24 -> ubuntu24.04) and
# architecture (X64 -> amd64), as the release workflow names them:
#   greenlight_<version>_<distribution>_amd64.deb  and  SHA256SUMS
# from https://github.com/<action repository>/releases/download/v<version>/.
#
# In:  GL_VERSION, GL_ACTION_REPOSITORY, GL_ACTION_REF, GL_RUNNER_ARCH,
#      ImageOS, RUNNER_TEMP, GITHUB_PATH, GITHUB_ACTION_PATH.
#      Tests only: GREENLIGHT_RELEASE_BASE_URL (default https://github.com;
#      plain http is accepted for loopback only) and GREENLIGHT_DEB_ROOT
#      (unpack with dpkg-deb -x into this directory instead of apt-get).
# Exit: 0 installed and on PATH; 3 no package for this runner (one line
#       says why: find.sh then builds from source); else an ::error:: line.
#       A package whose checksum does not match is never installed.
set -euo pipefail

no_package() {
	echo "greenlight: $*; building from source"
	exit 3
}
fail() {
	echo "::error title=greenlight::$*"
	exit 1
}

repo=${GL_ACTION_REPOSITORY:-}
ref=${GL_ACTION_REF:-}
# github.action_repository and github.action_ref may be empty inside
# composite actions (actions/runner#2473); the runner checks an action out
# at .../_actions/OWNER/REPO/REF, which says the same.
if [ -z "$repo" ] && [[ ${GITHUB_ACTION_PATH:-} =~ /_actions/([^/]+)/([^/]+)/(.+[^/])/?$ ]]; then
	repo=${BASH_REMATCH[1]}/${BASH_REMATCH[2]}
	ref=${ref:-${BASH_REMATCH[3]}}
fi

version=${GL_VERSION:-}
version=${version#v}
if [ -z "$version" ]; then
	if [[ $ref =~ ^v([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
		version=${BASH_REMATCH[1]}
	else
		no_package "no release package: the version input is empty and the action's ref (${ref:-none}) is not a version tag"
	fi
fi
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	no_package "no release package: version '$version' is not MAJOR.MINOR.PATCH"
[ -n "$repo" ] || no_package "no release package: the action's repository is not known"

case ${ImageOS:-} in
ubuntu22) dist=ubuntu22.04 ;;
ubuntu24) dist=ubuntu24.04 ;;
*) no_package "no release package for runner image '${ImageOS:-unknown}' (packages: ubuntu22.04, ubuntu24.04)" ;;
esac
case ${GL_RUNNER_ARCH:-} in
X64) arch=amd64 ;;
*) no_package "no release package for runner architecture '${GL_RUNNER_ARCH:-unknown}' (packages: X64)" ;;
esac
asset=greenlight_${version}_${dist}_${arch}.deb

base=${GREENLIGHT_RELEASE_BASE_URL:-https://github.com}
base=${base%/}
case $base in
https://*) proto='=https' ;;
http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/*) proto='=http' ;;
*) fail "GREENLIGHT_RELEASE_BASE_URL must be an https URL (plain http only on loopback), not '$base'" ;;
esac
url=$base/$repo/releases/download/v$version
dir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/greenlight-package.XXXXXX")

# fetch NAME MAXBYTES: download $url/NAME into $dir; prints the HTTP status
fetch() {
	curl -fsSL --proto "$proto" --proto-redir "$proto,https" --connect-timeout 20 --max-time 300 \
		--retry 3 --max-filesize "$2" -o "$dir/$1" -w '%{http_code}' "$url/$1"
}

rc=0
code=$(fetch "$asset" $((64 * 1024 * 1024))) || rc=$?
if [ "$rc" -ne 0 ]; then
	[ "$code" != 404 ] || no_package "release v$version of $repo has no $asset (HTTP 404)"
	fail "cannot download $url/$asset (curl exit $rc, HTTP ${code:-none})"
fi
rc=0
code=$(fetch SHA256SUMS $((1024 * 1024))) || rc=$?
[ "$rc" -eq 0 ] ||
	fail "cannot download $url/SHA256SUMS (curl exit $rc, HTTP ${code:-none}); not installing an unverified package"

want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$dir/SHA256SUMS")
have=$(sha256sum "$dir/$asset" | cut -d' ' -f1)
if [ -z "$want" ]; then
	rm -f "$dir/$asset"
	fail "SHA256SUMS of release v$version does not list $asset; not installing an unverified package"
fi
if [ "$have" != "$want" ]; then
	rm -f "$dir/$asset"
	fail "checksum mismatch for $asset: SHA256SUMS says $want, the download is $have; not installing it"
fi
echo "greenlight: $asset matches SHA256SUMS ($have)"

if [ -n "${GREENLIGHT_DEB_ROOT:-}" ]; then
	dpkg-deb -x "$dir/$asset" "$GREENLIGHT_DEB_ROOT"
	bin=$GREENLIGHT_DEB_ROOT/usr/bin/greenlight
	echo "$GREENLIGHT_DEB_ROOT/usr/bin" >>"$GITHUB_PATH"
else
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
	# apt resolves the run-time libraries the package depends on
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	chmod 755 "$dir" # apt reads the file as user _apt
	(cd "$dir" && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$asset")
	bin=/usr/bin/greenlight
fi
rm -f "$dir/$asset"
got=$("$bin" --version)
[ "$got" = "greenlight $version" ] || fail "the installed package reports '$got', not greenlight $version"
echo "greenlight $version installed from $asset"
