#!/bin/sh
# notes.sh - fetch the baseline notes before greenlight runs, push them after.
#
#   notes.sh fetch OPT-IN REF
#   notes.sh push  OPT-IN REF OUTCOME
#
# OPT-IN is the adapter's opt-in as the user wrote it: "true" fetches and
# pushes, "fetch" only fetches (pull requests: judged against the
# baselines, never recording them), "false" or empty does nothing,
# anything else is refused (exit 2).  REF is the
# notes ref (empty: refs/notes/greenlight); it must be the gate's
# baseline "ref".  OUTCOME is greenlight's outcome (pass, approved, fail,
# review, ...).  docs/baselines.md, "In CI: fetch before, push after".
#
# fetch: deepens a shallow clone (baselines walk the first-parent history)
# and fetches +REF:REF from origin.  No REF on origin is the first run (one
# line, exit 0); any other failure exits 2, so the gate does not run
# without the baselines it was asked to use.
#
# push: only for pass and approved (what greenlight records), only when REF
# exists here.  Pushes to $GREENLIGHT_NOTES_PUSH_URL, else origin.  When
# another job pushed in between (non-fast-forward), fetches the remote REF
# into a temporary ref, merges it with `git notes merge -s ours` (notes on
# different commits merge cleanly; on the same commit ours, the newest
# record, wins) and pushes again, up to 5 attempts.  A push that still
# fails is one warning and exit 0: the gate's result stands.
#
# The GitLab templates (adapters/gitlab/) carry the function below
# verbatim and the Jenkins step reads this file as a library resource
# (adapters/jenkins/resources/greenlight/notes.sh, the same bytes);
# tests/adapters/a0108-a0110 run all three and check the copies.  POSIX sh, safe
# under `set -eu`; every value comes in as an argument, never as script text.

# --- greenlight_notes: begin
greenlight_notes() {
	gln_cmd=${1:-}
	gln_ref=${3:-}
	gln_outcome=${4:-}
	case ${2:-} in
	true) ;;
	fetch) [ "$gln_cmd" != push ] || return 0 ;;
	false | '') return 0 ;;
	*)
		gln_say error "baseline notes: the opt-in must be true, fetch or false, not '${2:-}'"
		return 2
		;;
	esac
	if ! command -v git >/dev/null 2>&1; then
		gln_say error "baseline notes: git is not on PATH; the job's image needs git for the baseline notes opt-in"
		return 2
	fi
	[ -n "$gln_ref" ] || gln_ref=refs/notes/greenlight
	case $gln_ref in
	refs/notes/?*) ;;
	*)
		gln_say error "baseline notes: the ref must be under refs/notes/ (the gate's baseline \"ref\"), not '$gln_ref'"
		return 2
		;;
	esac
	if ! git check-ref-format "$gln_ref"; then
		gln_say error "baseline notes: '$gln_ref' is not a valid ref name"
		return 2
	fi
	gln_push=${GREENLIGHT_NOTES_PUSH_URL:-origin}
	case $gln_cmd in
	fetch)
		if [ "$(git rev-parse --is-shallow-repository 2>/dev/null || :)" = true ]; then
			echo "greenlight: baseline notes: deepening the shallow clone (baselines walk the first-parent history)"
			if ! git fetch --quiet --unshallow origin; then
				gln_say error "baseline notes: git fetch --unshallow origin failed; check out the full history (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0)"
				return 2
			fi
		fi
		gln_rc=0
		git ls-remote --exit-code origin "$gln_ref" >/dev/null || gln_rc=$?
		case $gln_rc in
		0)
			if ! git fetch --quiet origin "+$gln_ref:$gln_ref"; then
				gln_say error "baseline notes: git fetch origin $gln_ref failed"
				return 2
			fi
			echo "greenlight: baseline notes: fetched $gln_ref from origin"
			;;
		2) echo "greenlight: baseline notes: origin has no $gln_ref yet (first run: no baseline until a passing run is pushed)" ;;
		*)
			gln_say error "baseline notes: cannot read origin's refs (git ls-remote exit $gln_rc); the gate does not run without its baselines"
			return 2
			;;
		esac
		;;
	push)
		case $gln_outcome in
		pass | approved) ;;
		*)
			echo "greenlight: baseline notes: not pushed: the outcome is ${gln_outcome:-unknown} (only pass and approved are recorded)"
			return 0
			;;
		esac
		if ! git rev-parse --quiet --verify "$gln_ref" >/dev/null; then
			echo "greenlight: baseline notes: nothing to push ($gln_ref does not exist here)"
			return 0
		fi
		gln_tmp=refs/greenlight-incoming/notes
		gln_try=1
		while :; do
			if git push --quiet "$gln_push" "$gln_ref:$gln_ref"; then
				echo "greenlight: baseline notes: pushed $gln_ref"
				return 0
			fi
			[ "$gln_try" -lt 5 ] || break
			# refused, most likely because another job pushed first: take
			# theirs in and keep ours where both recorded the same commit
			if git fetch --quiet "$gln_push" "+$gln_ref:$gln_tmp"; then
				if git var GIT_COMMITTER_IDENT >/dev/null 2>&1; then
					git notes --ref="$gln_ref" merge --quiet -s ours "$gln_tmp" || :
				else
					git -c user.name=greenlight -c user.email=greenlight@localhost \
						notes --ref="$gln_ref" merge --quiet -s ours "$gln_tmp" || :
				fi
				git update-ref -d "$gln_tmp" || :
			fi
			sleep "$gln_try"
			gln_try=$((gln_try + 1))
		done
		gln_say warning "baseline notes: $gln_ref could not be pushed after 5 attempts; the gate's result stands, but this commit's baseline is lost (check the push rights: docs/baselines.md)"
		return 0
		;;
	*)
		gln_say error "baseline notes: usage: notes.sh fetch OPT-IN REF | push OPT-IN REF OUTCOME"
		return 2
		;;
	esac
}

# gln_say error|warning MESSAGE: one line on stderr, "greenlight: MESSAGE"
# for an error (the way greenlight states its own), a warning annotation on
# GitHub Actions
gln_say() {
	gln_msg=$(printf '%s' "$2" | tr '\r\n' '  ' | sed 's/%/%25/g')
	if [ "$1" = error ]; then
		echo "greenlight: $gln_msg" >&2
	elif [ "${GITHUB_ACTIONS:-}" = true ]; then
		echo "::warning title=greenlight::$gln_msg" >&2
	else
		echo "greenlight: warning: $gln_msg" >&2
	fi
}
# --- greenlight_notes: end

greenlight_notes "$@"
