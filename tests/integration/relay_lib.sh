# relay_lib.sh - harness for tests of `greenlight relay` alone (no SMTP, no
# gate): each test is a Python program using relay_util.py, run by the
# Debian interpreter with $TMP (from tests/lib.sh, exported here) as a
# scratch directory.  Sourced by bash; expects GREENLIGHT (the binary) and
# SRCDIR.  The Python program counts and prints "N passed, N failed" itself
# (relay_util.Checks).
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
PY=/usr/bin/python3
export TMP GREENLIGHT
export PYTHONPATH="$SRCDIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
