# a0107-doc-snippets-all.sh - every code block a reader would paste from
# README.md, docs/ci/*.md and docs/baselines.md is marked and run, as the docs show it (taken
# from its <!-- snippet: NAME --> marker by tests/adapters/snippet.py):
#   lint                 every block is fenced with a language; a pasteable one
#                        (sh, bash, console with `$ `, yaml, groovy, json) has a
#                        snippet marker or <!-- not-a-snippet: REASON -->, and
#                        every snippet name is used by a test in tests/adapters/
#   readme-check         run: exactly the output and exit code the README shows
#   readme-seed-gate     the same bytes as examples/seed/greenlight.json; valid
#   readme-quick-start, readme-development
#                        checked for existence, not run (they install packages
#                        and build): each script is executable, each preset named
#                        exists, ctest is on PATH
#   readme-gitlab, gitlab-include, gitlab-component
#                        gitlab-ci-local (shell mode, no Docker); substituted:
#                        the include of the greenlight project or component is
#                        rewritten to the local path of the same file in this
#                        repository, `image:` is not pulled (--force-shell-
#                        executor, greenlight on PATH instead), the results pass
#                        (no review: the listen/SMTP hosts are never contacted),
#                        and the pipeline gets the `build` job (writes
#                        results.json) and `./deploy` script the snippets assume
#   readme-github, github-relay, github-listen, github-pr-checkout,
#   github-baseline-notes
#                        @action-validator/cli on a workflow made around the
#                        snippet (the jobs or steps exactly as written, plus
#                        `on:` and, where the snippet needs one, a `build` job);
#                        a0105-doc-snippets.sh runs the first three through the
#                        runner harness with a review; actions/checkout is not
#                        emulated, so github-pr-checkout is validated only
#   readme-jenkins, jenkins-library
#                        run as pipeline code with the step and the groovy stubs
#                        of jenkins_step_test.groovy (Debian groovy 2.4, not a
#                        real Jenkins), greenlight on PATH, results that pass
# jenkins-pipeline, gitlab-review-warning and gitlab-relay run in a0105 and
# a0103; the baseline notes snippets (github-, gitlab-, jenkins-baseline-
# notes, baselines-push-merge) in a0108-a0110.
. "$(dirname "$0")/lib.sh"
need "$NODE_BIN/gitlab-ci-local" "npm gitlab-ci-local"
need "$NODE_BIN/action-validator" "npm @action-validator/cli"
$PY -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing; run scripts/setup-deps.sh"; exit 1; }
command -v groovy >/dev/null || { echo "FAIL: groovy is missing; run scripts/setup-deps.sh"; exit 1; }
command -v rsync >/dev/null || { echo "FAIL: rsync is missing; run scripts/setup-deps.sh"; exit 1; }

DOCS="README.md docs/ci/README.md docs/ci/github.md docs/ci/gitlab.md docs/ci/jenkins.md docs/baselines.md"
snippet() { $PY "$SRCDIR/tests/adapters/snippet.py" "$SRCDIR/$1" "$2"; }

# ---- lint: no unmarked pasteable block ----------------------------------------
(cd "$SRCDIR" && $PY tests/adapters/snippet.py --lint $DOCS) >"$TMP/lint.out" 2>&1
if [ -s "$TMP/lint.out" ]; then ko "unmarked blocks:"; cat "$TMP/lint.out"; else ok; fi
# the lint itself refuses an unmarked block, a bare fence and an indented block
printf 'text\n\n```yaml\na: 1\n```\n\n```\nx\n```\n\npara\n\n    $ greenlight check\n' >"$TMP/bad.md"
eq "lint refuses unmarked, bare and indented blocks" \
	"$($PY "$SRCDIR/tests/adapters/snippet.py" --lint "$TMP/bad.md" | wc -l)" 3
for f in $DOCS; do
	for name in $(snippet "$f" --list); do
		if grep -hv '^[[:space:]]*#' "$SRCDIR"/tests/adapters/a0*.sh | grep -qwF -- "$name"; then ok; else ko "$f: snippet $name is run by no test"; fi
	done
done

# ---- README: the check example, its output and exit code ---------------------
# Each `$ ` line runs in one shell in the source tree (so `echo $?` sees the
# command before it); its output, stdout and stderr as on a terminal, must be
# the lines the README shows under it.
snippet README.md readme-check >"$TMP/check.txt"
$PY - "$TMP/check.txt" "$TMP/check.sh" "$TMP/check.want" <<'PYEOF'
import sys
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
script, want = [], []
for l in lines:
    if l.startswith("$ "):
        want.append("--- " + l[2:])
        script += ["echo '--- %s'" % l[2:].replace("'", "'\\''"), "(exit $rc)", l[2:] + " 2>&1", "rc=$?"]
    else:
        want.append(l)
open(sys.argv[2], "w").write("rc=0\n" + "\n".join(script) + "\n")
open(sys.argv[3], "w").write("\n".join(want) + "\n")
PYEOF
(cd "$SRCDIR" && env -i PATH="$GLDIR:/usr/bin:/bin" HOME="$TMP" bash "$TMP/check.sh") >"$TMP/check.got"
if cmp -s "$TMP/check.want" "$TMP/check.got"; then ok; else
	ko "readme-check: output differs from the README"
	diff "$TMP/check.want" "$TMP/check.got"
fi
has "readme-check runs greenlight check" "$TMP/check.want" "--- greenlight check "

# ---- README: the seed gate file ---------------------------------------------
snippet README.md readme-seed-gate >"$TMP/seed.json"
check "readme-seed-gate is examples/seed/greenlight.json" cmp "$TMP/seed.json" "$SRCDIR/examples/seed/greenlight.json"
check "readme-seed-gate validates" "$GREENLIGHT" validate -g "$TMP/seed.json"

# ---- README: quick start and development commands, checked to exist --------
# (not run: they install packages, build and run the whole suite)
for name in readme-quick-start readme-development; do
	snippet README.md "$name" >"$TMP/$name.sh" || ko "$name: no snippet"
	while read -r cmd rest; do
		case $cmd in
		'' | '#'*) ;;
		scripts/*) check "$name: $cmd is executable" test -x "$SRCDIR/$cmd" ;;
		*) check "$name: $cmd is on PATH" command -v "$cmd" ;;
		esac
		# presets named: --preset NAME, or build.sh [a|b|c]
		for p in $(printf '%s\n' "$rest" | sed -n -e 's/.*--preset \([a-z]*\).*/\1/p' \
			-e 's/^\[\([a-z|]*\)\].*/\1/p' | tr '|' ' '); do
			check "$name: preset $p exists" jq -e --arg p "$p" \
				'[.configurePresets[].name] | index($p)' "$SRCDIR/CMakePresets.json"
		done
	done <"$TMP/$name.sh"
done

# ---- GitLab: the snippets through gitlab-ci-local ---------------------------
# gitlab_snippet FILE NAME: a repository holding the adapter at its own path,
# the seed gate and passing results; .gitlab-ci.yml is the snippet with only
# its include rewritten to that local path, plus what the snippet assumes
# exists (a build job that makes results.json when it says needs: [build])
gitlab_snippet() {
	local repo=$TMP/gl-$2
	mkdir -p "$repo/adapters/gitlab/templates" "$TMP/home"
	cp "$SRCDIR/adapters/gitlab/greenlight.gitlab-ci.yml" "$repo/adapters/gitlab/"
	cp "$SRCDIR/adapters/gitlab/templates/greenlight.yml" "$repo/adapters/gitlab/templates/"
	cp "$SRCDIR/examples/seed/greenlight.json" "$SRCDIR/examples/seed/good.json" "$repo/"
	printf '#!/bin/sh\necho deployed\n' >"$repo/deploy"
	chmod +x "$repo/deploy"
	snippet "$1" "$2" >"$TMP/$2.yml" || { ko "$2: no snippet"; return; }
	if ! $PY - "$TMP/$2.yml" >"$repo/.gitlab-ci.yml" <<'PYEOF'; then
import re, sys, yaml
text = open(sys.argv[1]).read()
# project include (flow or block style) -> the same file, local
text, n1 = re.subn(r"project: your-group/greenlight,\s*ref: v0\.1\.0,\s*file: ", "local: ", text)
text, n2 = re.subn(r"- project: your-group/greenlight\n\s+ref: v0\.1\.0\n(\s+)file: ", "- local: ", text)
# the component -> its template in this repository
text, n3 = re.subn(r"- component: \$CI_SERVER_FQDN/your-group/greenlight/greenlight@0\.1\.0\n",
                   "- local: adapters/gitlab/templates/greenlight.yml\n", text)
if n1 + n2 + n3 != 1:
    sys.exit("expected one include of the greenlight project or component")
doc = yaml.safe_load(text)
if any("build" in (j.get("needs") or []) for j in doc.values() if isinstance(j, dict)) and "build" not in doc:
    text += "\n# added by the test: the build job the snippet needs\nbuild:\n  stage: build\n" \
            "  script: [cp good.json results.json]\n  artifacts: { paths: [results.json] }\n"
sys.stdout.write(text)
PYEOF
		ko "$2: cannot rewrite the include"
		return
	fi
	grep -q '^build:' "$repo/.gitlab-ci.yml" || cp "$repo/good.json" "$repo/results.json"
	git -C "$repo" init -q -b main
	git -C "$repo" -c user.name=Ada -c user.email=ada@example.com add -A
	git -C "$repo" -c user.name=Ada -c user.email=ada@example.com commit -q -m pipeline
	(cd "$repo" && PATH="$GLDIR:$PATH" HOME=$TMP/home "$NODE_BIN/gitlab-ci-local" --shell-isolation \
		--force-shell-executor --no-artifacts-to-source --no-color --concurrency 1 \
		>"$TMP/$2.log" 2>&1)
	eq "$2: gitlab-ci-local exit" "$?" 0
	GLOG=$TMP/$2.log
}
status() { sed -n "s/^ \(PASS\|WARN\|FAIL\)  $1\( .*\)\{0,1\}\$/\1/p" "$GLOG"; }

gitlab_snippet README.md readme-gitlab
eq "readme-gitlab: gate" "$(status gate)" PASS
gitlab_snippet docs/ci/gitlab.md gitlab-include
eq "gitlab-include: build" "$(status build)" PASS
eq "gitlab-include: gate" "$(status gate)" PASS
eq "gitlab-include: deploy" "$(status deploy)" PASS
has "gitlab-include: deploy read the gate's dotenv" "$GLOG" "releasing after pass, approved by nobody"
has "gitlab-include: ./deploy ran" "$GLOG" "deployed"
gitlab_snippet docs/ci/gitlab.md gitlab-component
eq "gitlab-component: greenlight job" "$(status greenlight)" PASS
has "gitlab-component: the inputs reached greenlight" "$TMP/gl-gitlab-component/.gitlab-ci-local/builds/greenlight/greenlight.env" \
	"GREENLIGHT_OUTCOME=pass"
[ "$failed" -eq 0 ] || for f in "$TMP"/*gitlab*.log; do echo "--- $f"; cat "$f"; done

# ---- GitHub: the workflow snippets through action-validator ------------------
# workflow FILE: a workflow around the snippet: steps go into one job, jobs
# into `jobs:` (with a `build` job when they need one)
github_workflow() {
	$PY - "$1" <<'PYEOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
if isinstance(doc, list):
    jobs = {"gate": {"runs-on": "ubuntu-latest", "steps": doc}}
elif isinstance(doc, dict) and all(isinstance(j, dict) and "runs-on" in j for j in doc.values()):
    jobs = dict(doc)
    if any(j.get("needs") in ("build", ["build"]) for j in jobs.values()) and "build" not in jobs:
        jobs["build"] = {"runs-on": "ubuntu-latest", "steps": [{"run": "./build"}]}
elif isinstance(doc, dict):
    jobs = {"gate": {"runs-on": "ubuntu-latest", "steps": [doc]}}
else:
    sys.exit("not steps or jobs")
yaml.safe_dump({"name": "snippet", "on": {"push": None, "pull_request": None}, "jobs": jobs},
               sys.stdout, sort_keys=False)
PYEOF
}
for s in README.md:readme-github docs/ci/github.md:github-relay docs/ci/github.md:github-listen \
	docs/ci/github.md:github-pr-checkout docs/ci/github.md:github-baseline-notes; do
	name=${s#*:}
	mkdir -p "$TMP/gh"
	if snippet "${s%%:*}" "$name" >"$TMP/gh/$name.in" && github_workflow "$TMP/gh/$name.in" >"$TMP/gh/$name.yml"; then
		check "$name: action-validator accepts it" "$NODE_BIN/action-validator" "$TMP/gh/$name.yml"
	else
		ko "$name: cannot make a workflow of it"
	fi
done
# the validator is not a rubber stamp: a misspelt key is refused
sed 's/runs-on:/run-on:/' "$TMP/gh/github-listen.yml" >"$TMP/gh/broken.yml"
if "$NODE_BIN/action-validator" "$TMP/gh/broken.yml" >/dev/null 2>&1; then ko "action-validator accepted run-on:"; else ok; fi

# ---- Jenkins: the library call as pipeline code, with the stubs ---------------
find_java
FIX=$TMP/jfix
mkdir -p "$FIX"
cp "$SRCDIR/examples/seed/greenlight.json" "$FIX/"
cp "$SRCDIR/examples/seed/good.json" "$FIX/results.json"
for s in README.md:readme-jenkins docs/ci/jenkins.md:jenkins-library; do
	name=${s#*:}
	snippet "${s%%:*}" "$name" >"$TMP/$name.groovy" || { ko "$name: no snippet"; continue; }
	mkdir -p "$TMP/jw-$name"
	PATH="$GLDIR:$PATH" groovy "$SRCDIR/tests/adapters/jenkins_step_test.groovy" \
		"$SRCDIR/adapters/jenkins/vars/greenlight.groovy" "$FIX" "$TMP/jw-$name" "$GREENLIGHT" \
		"$TMP/$name.groovy" >"$TMP/$name.out" 2>&1
	eq "$name: groovy exit" "$?" 0
	has "$name: build SUCCESS" "$TMP/$name.out" "build SUCCESS"
	hasnt "$name: no error" "$TMP/$name.out" "error: "
	check "$name: decision record written" test -s "$TMP/jw-$name/snippet/greenlight-decision.json"
	[ "$failed" -eq 0 ] || cat "$TMP/$name.out"
done
has "jenkins-library: the echo shows the outputs" "$TMP/jenkins-library.out" "echo: outcome pass, approved by []"

finish
