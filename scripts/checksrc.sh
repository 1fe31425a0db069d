#!/bin/sh
# checksrc.sh - refuse calls that have no place in greenlight's C sources.
#
# Unbounded string functions (sprintf, strcpy, strcat, gets), strtok's
# hidden state, and atoi/atol's silent failures.  Use snprintf, strlcpy_gl,
# struct buf, strtol with checks.  Exits 1 and lists every hit.
set -eu
cd "$(dirname "$0")/.."
hits=$(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|strncat|strtok|atoi|atol|atoll|gets)[[:space:]]*\(' \
	src/*.c src/*.h | grep -vE '(snprintf|vsnprintf)[[:space:]]*\(' || true)
if [ -n "$hits" ]; then
	echo "checksrc: banned calls:"
	echo "$hits"
	exit 1
fi
echo "checksrc: $(ls src/*.c src/*.h | wc -l) files clean"
