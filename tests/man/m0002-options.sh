# m0002-options.sh - each man page documents exactly the long options its
# command's help prints: every --option in `greenlight help COMMAND` is in
# man/greenlight-COMMAND.1 and every --option in the page is in the help
# (`greenlight help` and greenlight.1 for the command itself).
. "${SRCDIR:?set SRCDIR to the source tree}/tests/lib.sh"
MAN="$SRCDIR/man"

options() { grep -o -- '--[a-z][a-z0-9-]*' | sed 's/-$//' | sort -u; }

# render as plain ASCII (\- is '-'), on one long line per paragraph and
# without hyphenation, so that no option is split at a line end
render() { groff -man -Tascii -P-cbu -rLL=2000n -rHY=0 "$1" 2>/dev/null; }

compare() {	# compare NAME HELP-FILE PAGE
	options <"$2" >"$TMP/help.opts"
	render "$3" | options >"$TMP/man.opts"
	if [ -s "$TMP/help.opts" ]; then ok; else ko "$1: the help prints no long option"; fi
	missing=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	extra=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	eq "$1: options in the help but not in $(basename "$3")" "$missing" ""
	eq "$1: options in $(basename "$3") but not in the help" "$extra" ""
}

"$GREENLIGHT" help >"$TMP/help" || ko "greenlight help failed"
compare "greenlight" "$TMP/help" "$MAN/greenlight.1"
for cmd in check run relay record validate import-sfn; do
	"$GREENLIGHT" help "$cmd" >"$TMP/help" || ko "greenlight help $cmd failed"
	compare "greenlight $cmd" "$TMP/help" "$MAN/greenlight-$cmd.1"
done

finish
