# t0012-baseline-history.sh - baselines in a long history made here with
# git fast-import: 1,100 first-parent commits, every one recorded (1,115
# notes with the merged branches' 15, so the notes tree has fanout
# directories as git writes them), merges every 100 commits.  Checks the
# exact aggregate of the nearest `window` records, that merged branches are
# not followed, the 1000-commit walk limit of docs/baselines.md (HEAD~1000
# is reached, HEAD~1001 is not), a note written by one run and read by the
# next in that tree, and twelve concurrent `greenlight record`s (8 on 8
# commits in 8 worktrees, 4 on one commit) losing nothing.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="Ada Dev" GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME="Ada Dev" GIT_COMMITTER_EMAIL=ada@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP"

R=$TMP/history
M=1100	# first-parent commits: HEAD is main commit M-1
git init -q -b main "$R"

# The history.  Main commit i's record has latency 10, 70, 20, 40 by its
# distance d = M-2-i from HEAD~1 (d % 4), so any 4k nearest records have
# min 10, max 70, median 30, mean 35, and the nearest (last) is 10.  HEAD
# itself and every commit of a merged branch record 9999: a walk that
# started at HEAD or followed a merge's second parent would see it.  HEAD~2
# merges a branch of 4 commits newer than the main line's; every 100th
# commit merges a branch of one.  Notes on other refs: refs/notes/edge has
# records 1, 2, 4, 8 on HEAD~999 .. HEAD~1002 only, refs/notes/far one on
# HEAD~1000, refs/notes/beyond one on HEAD~1001.
cat >"$TMP/build.py" <<'EOF'
import json, subprocess, sys
d, M = sys.argv[1], int(sys.argv[2])
CYCLE = [10, 70, 20, 40]
out, mark, main, side = [], 0, [], []
def commit(ref, t, msg, frm=None, merge=None):
    global mark
    mark += 1
    out.append("commit %s\nmark :%d\ncommitter Ada Dev <ada@example.com> %d +0000\ndata %d\n%s\n"
               % (ref, mark, t, len(msg), msg))
    if frm: out.append("from :%d\n" % frm)
    if merge: out.append("merge :%d\n" % merge)
    return mark
for i in range(M):
    t = 1700000000 + i * 600
    nside = 4 if i == M - 3 else 1 if i % 100 == 50 else 0
    tip = None
    for k in range(nside):
        tip = commit("refs/heads/side", t - 300 + k if i != M - 3 else t + 3000 + k,
                     "side %d.%d" % (i, k), frm=tip or main[-1])
        side.append(tip)
    main.append(commit("refs/heads/main", t, "main %d" % i, frm=main[-1] if main else None, merge=tip))
subprocess.run(["git", "-C", d, "fast-import", "--quiet", "--export-marks=" + d + "/.git/marks"],
               input="".join(out).encode(), check=True)
sha = {}
for line in open(d + "/.git/marks"):
    m, s = line.split()
    sha[int(m[1:])] = s
def note(m, v):
    e = {"version": 1, "gate": "model-release", "commit": sha[m], "recorded": "2026-12-07T10:00:00Z",
         "outcome": "pass", "run_url": None, "values": {"$.latencyMs": v}}
    n = json.dumps({"model-release": e}, separators=(",", ":"))
    return "N inline %s\ndata %d\n%s\n" % (sha[m], len(n), n)
notes = {"greenlight": [note(m, CYCLE[(M - 2 - i) % 4]) for i, m in enumerate(main[:-1])]
                       + [note(main[-1], 9999)] + [note(m, 9999) for m in side],
         "edge": [note(main[M - 1 - h], v) for h, v in ((999, 1), (1000, 2), (1001, 4), (1002, 8))],
         "far": [note(main[M - 1 - 1000], 2)],
         "beyond": [note(main[M - 1 - 1001], 4)]}
out = []
for ref, ns in notes.items():
    out.append("commit refs/notes/%s\ncommitter Ada Dev <ada@example.com> 1800000000 +0000\ndata 6\nnotes\n" % ref)
    out += ns
subprocess.run(["git", "-C", d, "fast-import", "--quiet"], input="".join(out).encode(), check=True)
print(len(notes["greenlight"]))
EOF
nnotes=$(python3 "$TMP/build.py" "$R" "$M")
git -C "$R" reset -q --hard main
eq "the history has $M first-parent commits" "$(git -C "$R" rev-list --first-parent --count HEAD)" "$M"
eq "1,115 recorded commits (1,100 on main, 15 on merged branches)" "$nnotes" 1115
eq "every note is on refs/notes/greenlight" "$(git -C "$R" notes --ref greenlight list | wc -l)" 1115
eq "the notes tree has fanout directories" "$(git -C "$R" ls-tree refs/notes/greenlight | awk '{print length($4)}' | sort -u)" 2
eq "HEAD~2 is a merge" "$(git -C "$R" rev-list --parents -n1 HEAD~2 | wc -w)" 3

printf '{"latencyMs": 280, "accuracypct": 100}\n' >"$R/results.json"
TEAM='"teams":{"engineering":{"email":["eng@example.com"]}}'
# mkgate NAME BASELINE-SECTION: a gate that shows $$.Baseline.latencyMs
# (its rule never fires) and never records
mkgate() {
	printf '{"version":1,"name":"model-release","default":"pass",%s,"choices":[{"And":[{"Variable":"$$.Baseline.latencyMs","IsPresent":true},{"Variable":"$$.Baseline.latencyMs","NumericLessThan":-1}],"Next":"engineering"}],"baseline":%s}\n' \
		"$TEAM" "$2" >"$R/$1.json"
}
gl() { (cd "$R" && "$GREENLIGHT" "$@"); }
# baseline NAME WANT SECTION: with this baseline section, the baseline
# the gate reads is WANT
baseline() {
	mkgate "$1" "$3"
	expect 0 "$1: the baseline is $2" -- gl check -g "$1.json"
	grep_out "Baseline.latencyMs=$2[, ]"
	empty_err
}

# --- the nearest `window` records, aggregated ------------------------------
baseline median-4 30 '{"record":"never","window":4}'
baseline mean-4 35 '{"record":"never","window":4,"aggregate":"mean"}'
baseline min-4 10 '{"record":"never","window":4,"aggregate":"min"}'
baseline max-4 70 '{"record":"never","window":4,"aggregate":"max"}'
baseline last-4 10 '{"record":"never","window":4,"aggregate":"last"}'
baseline mean-8 35 '{"record":"never","window":8,"aggregate":"mean"}'
baseline median-100 30 '{"record":"never","window":100}'
baseline max-100 70 '{"record":"never","window":100,"aggregate":"max"}'
baseline window-1 10 '{"record":"never","window":1}'
baseline window-2 40 '{"record":"never","window":2,"aggregate":"mean"}'
current="the rule compares with the baseline"
mkgate delta '{"record":"never","window":4}'
sed 's/\$\$.Baseline.latencyMs/$$.DeltaPct.latencyMs/g' "$R/delta.json" >"$R/delta-pct.json"
expect 0 "DeltaPct over the median of 4 (30): 280 is +833.3%" -- gl check -g delta-pct.json
grep_out '\$\$.DeltaPct.latencyMs=833.33'

# --- the walk limit: HEAD~1 .. HEAD~1000 --------------------------------
baseline far 2 '{"record":"never","ref":"refs/notes/far"}'
mkgate beyond '{"record":"never","ref":"refs/notes/beyond"}'
expect 0 "a record on HEAD~1001 is beyond the walk: no baseline" -- gl check -g beyond.json
grep_out 'missing'
no_out 'Baseline.latencyMs='
mkgate beyond-strict '{"record":"never","ref":"refs/notes/beyond","if_missing":"error"}'
expect 2 "a record on HEAD~1001 is beyond the walk: if_missing error stops the gate" -- gl check -g beyond-strict.json
grep_err 'no recorded commit for gate "model-release" in the first-parent history'
# edge: 1, 2, 4, 8 on HEAD~999 .. HEAD~1002; the walk reaches the first two
baseline edge-mean 1.5 '{"record":"never","ref":"refs/notes/edge","window":4,"aggregate":"mean"}'

# --- written by one run, read by the next, in the fanned-out tree -------
current="record then read"
printf '{"version":1,"name":"model-release","default":"pass","choices":[{"Variable":"$.latencyMs","NumericGreaterThan":100000,"Next":"fail"}]}\n' >"$R/rec.json"
git -C "$R" commit -q --allow-empty -m "after the import"
printf '{"latencyMs": 123, "accuracypct": 100}\n' >"$R/results.json"
expect 0 "record a new commit on top of 1,115 notes" -- gl record -g rec.json
grep_out "baseline: recorded 1 value(s) of gate model-release"
git -C "$R" commit -q --allow-empty -m "the next one"
baseline next-run 123 '{"record":"never","window":1}'
baseline next-run-2 5061 '{"record":"never","window":2,"aggregate":"mean"}'
current="record then read"
eq "recording kept every other note" "$(git -C "$R" notes --ref greenlight list | wc -l)" 1116

# --- twelve concurrent writers on one notes ref ---------------------------
# 8 worktrees on 8 main commits (each already recorded for model-release),
# each recording gate wt-gate; at the same time 4 gates on HEAD.
current="concurrent writers"
k=0
while [ $k -lt 8 ]; do
	git -C "$R" worktree add -q --detach "$TMP/wt$k" "HEAD~$((k * 7 + 10))"
	cp "$R/rec.json" "$TMP/wt$k/"
	sed -i 's/"model-release"/"wt-gate"/' "$TMP/wt$k/rec.json"
	printf '{"latencyMs": %d}\n' $((k + 500)) >"$TMP/wt$k/results.json"
	k=$((k + 1))
done
k=0
while [ $k -lt 4 ]; do
	sed "s/\"model-release\"/\"conc-$k\"/" "$R/rec.json" >"$R/conc-$k.json"
	k=$((k + 1))
done
k=0
while [ $k -lt 8 ]; do
	(cd "$TMP/wt$k" && "$GREENLIGHT" record -g rec.json >"$TMP/wt$k.out" 2>&1; echo $? >"$TMP/wt$k.rc") &
	if [ $k -lt 4 ]; then
		(cd "$R" && "$GREENLIGHT" record -g "conc-$k.json" >"$TMP/conc$k.out" 2>&1; echo $? >"$TMP/conc$k.rc") &
	fi
	k=$((k + 1))
done
wait
k=0
while [ $k -lt 8 ]; do
	eq "worktree $k: record exits 0 ($(cat "$TMP/wt$k.out"))" "$(cat "$TMP/wt$k.rc")" 0
	git -C "$R" notes --ref greenlight show "HEAD~$((k * 7 + 10))" >"$TMP/note" 2>&1
	has "worktree $k: its record is in the note" "$TMP/note" "\"wt-gate\":{\"version\":1"
	has "worktree $k: its value" "$TMP/note" "\"values\":{\"\$.latencyMs\":$((k + 500))}"
	has "worktree $k: the commit's earlier entry is kept" "$TMP/note" '"model-release":{"version":1'
	k=$((k + 1))
done
k=0
while [ $k -lt 4 ]; do
	eq "HEAD, gate conc-$k: record exits 0 ($(cat "$TMP/conc$k.out"))" "$(cat "$TMP/conc$k.rc")" 0
	k=$((k + 1))
done
git -C "$R" notes --ref greenlight show HEAD >"$TMP/note"
eq "four concurrent records on HEAD: none lost" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$TMP/note")" \
	"conc-0 conc-1 conc-2 conc-3"
eq "no other note lost: 1,116 + HEAD's" "$(git -C "$R" notes --ref greenlight list | wc -l)" 1117
# greenlight reads what the concurrent writers left: the 8 commits' model-release values
mkgate after '{"record":"never","window":100,"aggregate":"min"}'
expect 0 "the baseline after the concurrent writes" -- gl check -g after.json
grep_out 'Baseline.latencyMs=10[, ]'
empty_err

finish
