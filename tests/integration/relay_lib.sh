# relay_lib.sh - harness for tests of `greenlight relay` alone (no SMTP, no
# gate): each test is a Python program using relay_util.py, run by the
# Debian interpreter with $TMP as a scratch directory that is removed on
# exit.  Sourced by bash; expects GREENLIGHT (the binary) and SRCDIR.
set -u
: "${GREENLIGHT:?set GREENLIGHT to the binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TMP GREENLIGHT
export PYTHONPATH="$SRCDIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
unset GREENLIGHT_RELAY_TOKENS GREENLIGHT_RELAY_TOKENS_FILE GREENLIGHT_RELAY_DB \
	GREENLIGHT_RELAY_LISTEN GREENLIGHT_RELAY_PUBLIC_URL
