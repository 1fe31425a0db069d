#!/bin/bash
# tests/image/run.sh - build the container image (Dockerfile) and run it
# for real: the seed scenario's documented exit codes, and
# `greenlight relay` inside it answering /healthz.
#
# No public registry is reachable here, so the base image is made from the
# Debian archive with mmdebstrap and imported into podman; podman runs as
# root with runc.  Slow (a Debian root, two apt installs, a build: a few
# minutes), so it is not in the ctest suite; .ci/run runs it.
#
# Usage: tests/image/run.sh            prints "N passed, N failed"
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
GREENLIGHT=/bin/true		# tests/lib.sh wants one; the image has its own
export SRCDIR GREENLIGHT
. "$SRCDIR/tests/lib.sh"
PODMAN="podman --runtime runc"
LIMITS="--ulimit nofile=10000:10000 --ulimit nproc=10000:10000"
BASE=localhost/greenlight-test-base:12
IMAGE=localhost/greenlight:test

for tool in mmdebstrap podman runc curl; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing; run scripts/setup-deps.sh --image"; exit 1; }
done

# the base: Debian 12 from the archive, once per machine
if ! $PODMAN image exists $BASE; then
	mmdebstrap --quiet --variant=apt bookworm "$TMP/base.tar" || { echo "FAIL: mmdebstrap"; exit 1; }
	$PODMAN import -q "$TMP/base.tar" $BASE >/dev/null || { echo "FAIL: podman import"; exit 1; }
fi
start=$(date +%s)
$PODMAN build -q $LIMITS --build-arg BASE=$BASE -t $IMAGE "$SRCDIR" >"$TMP/build.log" 2>&1
rc=$?
eq "the image builds" "$rc" 0
[ "$rc" -eq 0 ] || { tail -30 "$TMP/build.log"; finish; exit 1; }
echo "image built in $(($(date +%s) - start)) s; size $($PODMAN image inspect $IMAGE --format '{{.Size}}') bytes"

run() { # run ARGS...: greenlight in the image on the seed; sets RC, output in $TMP/out
	$PODMAN run --rm $LIMITS -v "$SRCDIR/examples/seed:/work:ro" $IMAGE "$@" >"$TMP/out" 2>&1
	RC=$?
}
run --version
eq "--version" "$RC" 0
has "--version names the version" "$TMP/out" "greenlight"
run check -g greenlight.json -r slow.json
eq "check on the slow model: review needed (5)" "$RC" 5
has "... routed to engineering" "$TMP/out" "notify engineering"
run check -g greenlight.json -r good.json
eq "check on the good model: pass (0)" "$RC" 0
run check -g greenlight.json -r missing-accuracy.json
eq "check with a metric missing: bad input (2)" "$RC" 2
run validate -g greenlight.json
eq "validate the seed gate (0)" "$RC" 0
eq "runs as a non-root user" "$($PODMAN run --rm $LIMITS --entrypoint id $IMAGE -u)" 10001

# the relay in the image, published on a loopback port
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cid=$($PODMAN run -d $LIMITS -p 127.0.0.1:$port:8080 -e GREENLIGHT_RELAY_TOKENS=image-test-token-0123456789 \
	--tmpfs /state:rw,mode=1777 $IMAGE relay --listen 0.0.0.0:8080 --db /state/relay.db)
ok_health=1
for _ in $(seq 100); do
	[ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] && { ok_health=0; break; }
	sleep 0.1
done
eq "the relay in the image answers /healthz" "$ok_health" 0
eq "... and /v1 needs a token (401)" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/requests")" 401
$PODMAN stop -t 10 "$cid" >/dev/null
eq "the relay stops with 0 on SIGTERM" "$($PODMAN inspect "$cid" --format '{{.State.ExitCode}}')" 0
$PODMAN rm "$cid" >/dev/null
finish
