# m0001-render.sh - every man page renders without a warning, has the
# sections every page must have, and every command has its page.
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
MAN="$SRCDIR/man"

pages=$(ls "$MAN"/*.1 "$MAN"/*.5 2>/dev/null)
[ -n "$pages" ] || ko "no man pages in $MAN"

for page in $pages; do
	name=$(basename "$page")
	# -ww: every warning; -z: no output, only diagnostics
	groff -man -ww -z "$page" >"$TMP/groff" 2>&1
	if [ -s "$TMP/groff" ]; then ko "groff warns on $name:"; cat "$TMP/groff"; else ok; fi
	mandoc -T lint "$page" >"$TMP/lint" 2>&1
	if [ -s "$TMP/lint" ]; then ko "mandoc -T lint complains about $name:"; cat "$TMP/lint"; else ok; fi
	for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" ENVIRONMENT "SEE ALSO"; do
		if grep -q "^\.SH $section\$" "$page"; then ok; else ko "$name has no $section section"; fi
	done
	# the title line names the page as its file does: greenlight-run.1 is GREENLIGHT-RUN 1
	base=${name%.*}
	sec=${name##*.}
	title=$(printf '%s' "$base" | tr 'a-z' 'A-Z' | sed 's/-/\\\\-/g')
	if grep -q "^\.TH $title $sec " "$page"; then ok; else ko "$name: .TH does not say $title $sec"; fi
done

# one page per command that `greenlight help` lists, and the gate file's
"$GREENLIGHT" help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' >"$TMP/commands"
[ -s "$TMP/commands" ] || ko "greenlight help lists no commands"
for cmd in $(cat "$TMP/commands"); do
	if [ -f "$MAN/greenlight-$cmd.1" ]; then ok; else ko "no man page for 'greenlight $cmd' (man/greenlight-$cmd.1)"; fi
done
for page in greenlight.1 greenlight.json.5; do
	if [ -f "$MAN/$page" ]; then ok; else ko "man/$page is missing"; fi
done

finish
