# t0007-git-facts.sh - commit facts from repositories made here: the
# origin remote's URL as $$.Git.Repository (read from the configuration),
# and commit text that is not valid UTF-8, which reaches rules repaired
# (each bad byte becomes U+FFFD).  Under the asan preset a leak or
# undefined behaviour would change the exit codes checked here.
. "$(dirname "$0")/lib.sh"
R="$TMP/repo"
mkdir -p "$R"
git -C "$R" init -q -b main
git -C "$R" remote add origin https://git.example.com/team/model.git
git -C "$R" -c user.name="Ada Dev" -c user.email=ada@example.com commit -q --allow-empty -m "Ship it"
cp "$SEED/greenlight.json" "$SEED/slow.json" "$R/"
expect 5 "check in a checkout with an origin remote: review needed" -- \
	sh -c "cd '$R' && '$GREENLIGHT' check -r slow.json"
grep_out 'outcome: review'
g=$(gate repo.json '{"version":1,"name":"repo","default":"fail","choices":[
  {"Variable":"$$.Git.Repository","StringEquals":"https://git.example.com/team/model.git","Next":"pass"}]}')
expect 0 "the origin URL is the repository" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json"
git -C "$R" remote set-url origin https://gitlab-ci-token:glcbt-SECRET-123@git.example.com/team/model.git
expect 0 "credentials in the origin URL are not part of the repository" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json --json"
no_out "glcbt-SECRET-123"
git -C "$R" remote set-url origin https://ghp_TOKEN-AS-USER@git.example.com/team/model.git
expect 0 "a token as the user name is dropped too" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json"
git -C "$R" remote remove origin
expect 1 "without origin the repository is not that URL" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json"
g=$(gate wt.json '{"version":1,"name":"wt","default":"fail","choices":[
  {"Variable":"$$.Git.Repository","StringMatches":"*/repo/","Next":"pass"}]}')
expect 0 "without origin the work tree path is the repository" -- sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json"

# a subject and an author name in Latin-1, not UTF-8
printf 'Speed up \377\376 the model\n\nbody\n' >"$TMP/msg"
git -C "$R" -c user.name="$(printf 'Jos\351')" -c user.email=jose@example.com \
	-c i18n.commitEncoding=ISO-8859-1 commit -q --allow-empty -F "$TMP/msg"
g=$(gate utf8.json '{"version":1,"name":"utf8","default":"fail","choices":[
  {"And":[{"Variable":"$$.Git.Subject","StringEquals":"Speed up \ufffd\ufffd the model"},
          {"Variable":"$$.Git.Author","StringEquals":"Jos\ufffd"}],"Next":"pass"}]}')
expect 0 "invalid UTF-8 in commit text reaches rules as U+FFFD" -- \
	sh -c "cd '$R' && '$GREENLIGHT' check -g '$g' -r slow.json --json"
grep_out '"outcome":[[:space:]]*"pass"'
finish
