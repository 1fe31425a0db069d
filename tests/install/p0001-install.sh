# p0001-install.sh - `cmake --install` puts every file where a GNU layout
# and systemd expect it, the installed binary runs, the relay's unit is
# valid (systemd-analyze verify) and docs/relay.md shows it as installed.
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
: "${BUILDDIR:?set BUILDDIR to the build tree}"
CMAKE=${CMAKE:-cmake}		# the cmake that configured BUILDDIR, from ctest

P="$TMP/prefix"
if "$CMAKE" --install "$BUILDDIR" --prefix "$P" >"$TMP/install.log" 2>&1; then ok; else
	ko "cmake --install --prefix failed:"; cat "$TMP/install.log"; fi

# what is installed, and nothing else
expected="bin/greenlight
lib/systemd/system/greenlight-relay.service
share/doc/greenlight/examples/greenlight-relay.env
share/man/man1/greenlight-check.1
share/man/man1/greenlight-import-sfn.1
share/man/man1/greenlight-record.1
share/man/man1/greenlight-relay.1
share/man/man1/greenlight-run.1
share/man/man1/greenlight-validate.1
share/man/man1/greenlight.1
share/man/man5/greenlight.json.5"
got=$(cd "$P" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
eq "installed files" "$got" "$(printf '%s\n' "$expected" | LC_ALL=C sort)"
for page in "$SRCDIR"/man/*.[15]; do
	n=$(basename "$page")
	check "man/$n installed unchanged" cmp -s "$page" "$P/share/man/man${n##*.}/$n"
done

if [ -x "$P/bin/greenlight" ]; then ok; else ko "bin/greenlight is not executable"; fi
v=$("$P/bin/greenlight" --version 2>&1)
case $v in "greenlight "[0-9]*) ok ;; *) ko "installed greenlight --version printed '$v'" ;; esac
if "$P/bin/greenlight" help relay >/dev/null; then ok; else ko "installed greenlight help relay failed"; fi

# the unit names the binary of the prefix given at install time
U="$P/lib/systemd/system/greenlight-relay.service"
has "unit runs the installed binary" "$U" "ExecStart=$P/bin/greenlight relay"
for line in "User=greenlight" "StateDirectory=greenlight" "ProtectSystem=strict" \
	"NoNewPrivileges=yes" "PrivateTmp=yes" "ProtectHome=yes" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
	"EnvironmentFile=-/etc/default/greenlight-relay" \
	'ExecReload=/bin/kill -HUP $MAINPID' "LimitNOFILE=" \
	"Environment=GREENLIGHT_RELAY_DB=/var/lib/greenlight/relay.db"; do
	if grep -qxF -- "$line" "$U" || { [ "$line" = "LimitNOFILE=" ] && grep -q '^LimitNOFILE=[0-9]' "$U"; }; then
		ok; else ko "unit lacks '$line'"; fi
done
hasnt "unit has every @VARIABLE@ substituted" "$U" "@"

# systemd-analyze verify: syntax, values, that ExecStart is executable and
# that Documentation=man:greenlight-relay(1) resolves (to the installed page)
if command -v systemd-analyze >/dev/null 2>&1; then
	if (cd "$TMP" && MANPATH="$P/share/man" systemd-analyze verify "$U") >"$TMP/verify" 2>&1 &&
		[ ! -s "$TMP/verify" ]; then ok; else
		ko "systemd-analyze verify:"; cat "$TMP/verify"; fi
else
	ko "systemd-analyze not found (Debian package systemd; scripts/setup-deps.sh installs it)"
fi

# every variable the example settings file sets (or shows) is one the relay reads
E="$P/share/doc/greenlight/examples/greenlight-relay.env"
vars=$(sed -n 's/^#\{0,1\}\(GREENLIGHT_[A-Z_]*\)=.*/\1/p' "$E")
[ -n "$vars" ] || ko "no GREENLIGHT_RELAY_* variable in $E"
for v in $vars; do
	if grep -q "$v" "$SRCDIR/src/cmd_relay.c"; then ok; else ko "$E sets $v, which greenlight relay does not read"; fi
done

# DESTDIR: files go under it, but the unit names the final path
D="$TMP/destdir"
if DESTDIR="$D" "$CMAKE" --install "$BUILDDIR" --prefix /usr >"$TMP/install.log" 2>&1; then ok; else
	ko "DESTDIR install failed:"; cat "$TMP/install.log"; fi
check "DESTDIR: binary under DESTDIR" test -x "$D/usr/bin/greenlight"
has "DESTDIR: unit names /usr/bin/greenlight" "$D/usr/lib/systemd/system/greenlight-relay.service" \
	"ExecStart=/usr/bin/greenlight relay"

# docs/relay.md's systemd section shows the unit installed with the default prefix
awk '/^## systemd$/ { s = 1 } s && /^```ini$/ { p = 1; next } p && /^```$/ { exit } p' \
	"$SRCDIR/docs/relay.md" >"$TMP/doc.unit"
sed 's|@GREENLIGHT_BINDIR@|/usr/local/bin|' "$SRCDIR/dist/greenlight-relay.service.in" >"$TMP/want.unit"
if cmp -s "$TMP/doc.unit" "$TMP/want.unit"; then ok; else
	ko "docs/relay.md's systemd unit differs from dist/greenlight-relay.service.in:"
	diff -u "$TMP/want.unit" "$TMP/doc.unit"; fi

finish
