# t0006-context.sh - the context object: $$.Gate.Name, and $$.Git from a
# real repository made here (only consulted when a rule reads it).
. "$(dirname "$0")/lib.sh"
R="$TMP/repo"
mkdir -p "$R"
git -C "$R" init -q -b release
git -C "$R" -c user.name="Ada Dev" -c user.email=ada@example.com commit -q --allow-empty -m "Ship it"
g=$(gate ctx.json '{"version":1,"name":"ctx","default":"pass","choices":[
  {"And":[{"Variable":"$$.Git.Branch","StringEquals":"release"},
          {"Variable":"$$.Git.AuthorEmail","StringMatches":"*@example.com"},
          {"Variable":"$$.Gate.Name","StringEquals":"ctx"},
          {"Variable":"$.latencyMs","NumericGreaterThan":80}],"Next":"fail"}]}')
echo '{"latencyMs":225}' >"$TMP/r.json"
expect 1 "git facts drive a rule" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r '$TMP/r.json'"
grep_out 'outcome: fail'
git -C "$R" checkout -q -b feature
expect 0 "another branch does not match" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r '$TMP/r.json'"
mkdir -p "$TMP/norepo"
expect 2 "outside a repository \$\$.Git.Branch is missing" -- sh -c "cd '$TMP/norepo' && GIT_CEILING_DIRECTORIES='$TMP' '$GREENLIGHT' check -g '$g' -r '$TMP/r.json'"
grep_err '\$\$.Git.Branch'
# $$.Ci: the CI provider's facts
g=$(gate ci.json '{"version":1,"name":"ci","default":"pass","choices":[
  {"Variable":"$$.Ci.Provider","StringEquals":"github","Next":"fail"}]}')
expect 0 "outside CI the provider is local" -- "$GREENLIGHT" check -g "$g" -r "$TMP/r.json"
expect 1 "under GitHub Actions the provider is github" -- env GITHUB_ACTIONS=true GITHUB_OUTPUT="$TMP/gho" GITHUB_STEP_SUMMARY="$TMP/ghs" "$GREENLIGHT" check -g "$g" -r "$TMP/r.json"
finish
