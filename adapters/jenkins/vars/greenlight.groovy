// vars/greenlight.groovy - the `greenlight` step of a Jenkins shared library.
//
//   def gate = greenlight gate: 'greenlight.json', results: 'results.json'
//   echo "outcome ${gate.outcome}, approved by ${gate.approvers}"
//
// Runs the greenlight binary with sh(returnStatus: true), records its JUnit
// report (one test per rule), archives the decision record, sets the build
// result from the exit code by the table in EXIT (docs/ci/jenkins.md) and
// returns the outputs as a map.  Every value reaches the shell only as an
// environment variable (withEnv), never interpolated into the script.
//
// Without holding an executor (docs/ci/jenkins.md): resumeInput: 'ID' runs
// `greenlight run --detach --resume ID` in relay mode: the request is
// registered with where the build waits (JOB_NAME, BUILD_NUMBER, the input
// id) and exit 5 means "waiting" (out.waiting, result WAITING), never
// unstable or failed.  Then, outside any node, greenlight.waitForDecision(out)
// waits in an `input` step that the relay submits (approved) or aborts
// (rejected, expired: the step fails the build); then, in a node again,
// collect: true reads the decision and verifies it itself (exit 5, not
// decided yet, is a failure there).
//
// baselineNotes: true fetches the baseline notes ref (baselineRef) from
// origin before greenlight runs (deepening a shallow clone) and pushes it
// after a pass or an approval, merging notes another build pushed
// meanwhile ('fetch': only fetch, for pull requests); a failed fetch stops the step before the gate runs (exit 2),
// a failed push is a warning in the log and changes nothing.  The script is
// this library's resources/greenlight/notes.sh (adapters/notes.sh, the
// same bytes); docs/baselines.md.

import groovy.transform.Field

// exit code -> [build result, what happened]; anything else is FAILURE
@Field static final Map EXIT = [
    0: ['SUCCESS', 'passed'],
    1: ['FAILURE', 'failed: a fail rule fired or a reviewer rejected'],
    2: ['FAILURE', 'bad usage or input: fix the gate file, the results or the settings'],
    3: ['FAILURE', 'timed out waiting for a decision (the gate fails closed)'],
    4: ['FAILURE', 'infrastructure failure: mail, state database or output not writable'],
    5: ['UNSTABLE', 'review needed and not decided yet'],
]

@Field static final Map DEFAULTS = [
    gate: 'greenlight.json',   // gate file
    results: '',               // results JSON; '' = the gate's "results"
    command: 'run',            // run (notify and wait) or check (evaluate only)
    args: '',                  // more arguments, split at whitespace
    bin: 'greenlight',         // the executable
    decisionFile: 'greenlight-decision.json',
    junitFile: 'greenlight-junit.xml',
    dotenvFile: 'greenlight.env',
    propagate: true,           // false: never error()/unstable(), only return
    baselineNotes: false,      // true: fetch the notes ref before, push it after a pass; 'fetch': only fetch
    baselineRef: 'refs/notes/greenlight',  // the gate's baseline "ref"
    resumeInput: '',           // relay mode: register and end; the relay submits the input with this id
    collect: false,            // true: read the settled decision (after waitForDecision)
]

@Field static final List WAITING = ['WAITING', 'registered: the relay resumes the build when the team decides']
@Field static final List NOT_DECIDED = ['FAILURE', 'not decided yet: the input was submitted before the relay did']

def call(Map args = [:]) {
    for (String k : args.keySet()) {
        if (!DEFAULTS.containsKey(k)) {
            error("greenlight: unknown argument '${k}'; valid: ${DEFAULTS.keySet().join(', ')}")
        }
    }
    Map o = DEFAULTS + args
    if (!(o.command in ['run', 'check'])) {
        error("greenlight: command must be run or check, not '${o.command}'")
    }
    if (!(o.baselineNotes in [true, false, 'true', 'false', 'fetch'])) {
        error("greenlight: baselineNotes must be true, false or 'fetch', not '${o.baselineNotes}'")
    }
    if (!(o.resumeInput ==~ /[A-Za-z0-9_-]{0,64}/)) {
        error("greenlight: resumeInput must be an input id (letters, digits, '_', '-'), not '${o.resumeInput}'")
    }
    if (o.resumeInput && o.collect) {
        error('greenlight: resumeInput registers and collect reads the decision: use one per call')
    }
    boolean notes = o.baselineNotes.toString() != 'false'
    boolean push = o.baselineNotes.toString() == 'true'
    String notesScript = notes ? libraryResource('greenlight/notes.sh') : ''
    int code = 0
    withEnv(environment(o)) {
        if (notes) {
            code = sh(label: 'greenlight: fetch the baseline notes', returnStatus: true,
                      script: '''set +x
rm -f "$GREENLIGHT_OUTPUT" "$GREENLIGHT_JUNIT" "$GREENLIGHT_DOTENV"
set -- fetch true "$GREENLIGHT_BASELINE_REF"
''' + notesScript)
        }
        if (code == 0) {
            code = sh(label: 'greenlight', returnStatus: true, script: '''
                set -f
                rm -f "$GREENLIGHT_OUTPUT" "$GREENLIGHT_JUNIT" "$GREENLIGHT_DOTENV"
                "$GREENLIGHT_BIN" "$GREENLIGHT_COMMAND" $GREENLIGHT_ARGS
            ''')
        }
    }
    junit(testResults: o.junitFile, allowEmptyResults: true, skipMarkingBuildUnstable: true)
    archiveArtifacts(artifacts: o.decisionFile, allowEmptyArchive: true)
    String dotenv = fileExists(o.dotenvFile) ? readFile(o.dotenvFile) : ''
    Map out = outputs(dotenv, code)
    if (code == 5 && o.resumeInput) {
        out += [result: WAITING[0], message: WAITING[1], waiting: true, inputId: o.resumeInput]
    } else if (code == 5 && o.collect) {
        out += [result: NOT_DECIDED[0], message: NOT_DECIDED[1]]
    }
    if (push) {
        // a failed push is one warning line in the log; the result stands
        withEnv(environment(o) + ["GREENLIGHT_NOTES_OUTCOME=${out.outcome}"]) {
            sh(label: 'greenlight: push the baseline notes', returnStatus: true,
               script: '''set +x
set -- push true "$GREENLIGHT_BASELINE_REF" "$GREENLIGHT_NOTES_OUTCOME"
''' + notesScript)
        }
    }
    if (o.propagate) {
        propagate(out)
    }
    return out
}

// GREENLIGHT_* variables greenlight reads itself, and who started the build
List<String> environment(Map o) {
    List<String> env = [
        "GREENLIGHT_BIN=${o.bin}",
        "GREENLIGHT_COMMAND=${o.command}",
        "GREENLIGHT_GATE=${o.gate}",
        "GREENLIGHT_RESULTS=${o.results}",
        "GREENLIGHT_ARGS=${o.args}",
        "GREENLIGHT_OUTPUT=${o.decisionFile}",
        "GREENLIGHT_JUNIT=${o.junitFile}",
        "GREENLIGHT_DOTENV=${o.dotenvFile}",
        "GREENLIGHT_BASELINE_REF=${o.baselineRef}",
    ]
    if (o.resumeInput || o.collect) {
        env << 'GREENLIGHT_DETACH=1'
        env << "GREENLIGHT_RESUME=${o.resumeInput}"
    }
    String who = triggeredBy()
    if (who) {
        env << "GREENLIGHT_TRIGGERED_BY=${who}"
    }
    return env
}

// user ids of the people who started this build (Jenkins sets no variable)
String triggeredBy() {
    try {
        List ids = []
        for (def c : currentBuild.getBuildCauses('hudson.model.Cause$UserIdCause')) {
            if (c.userId) {
                ids << c.userId
            }
        }
        return ids.join(',')
    } catch (Exception e) {
        return ''
    }
}

// the dotenv report as the step's return value
@NonCPS
static Map outputs(String dotenv, int code) {
    Map v = [:]
    dotenv.eachLine { String line ->
        int eq = line.indexOf('=')
        if (eq > 0) {
            v[line.substring(0, eq)] = line.substring(eq + 1)
        }
    }
    List r = EXIT.containsKey(code) ? EXIT[code] : ['FAILURE', "exited with ${code}".toString()]
    return [
        exitCode: code,
        result: r[0],
        message: r[1],
        outcome: v.GREENLIGHT_OUTCOME ?: (code == 4 ? 'infrastructure' : 'error'),
        gate: v.GREENLIGHT_GATE_NAME ?: '',
        teams: split(v.GREENLIGHT_TEAMS),
        approvers: split(v.GREENLIGHT_APPROVERS),
        requestId: v.GREENLIGHT_REQUEST_ID ?: '',
        decisionFile: v.GREENLIGHT_DECISION_FILE ?: '',
    ]
}

@NonCPS
static List split(String s) {
    return s ? s.tokenize(',') : []
}

// Wait for the relay outside any node (no executor held): it submits the
// input when the request is approved and aborts it when it is rejected or
// expires, which fails the build here.  `out` is what the registering call
// returned; a call that is not waiting returns at once.
void waitForDecision(Map out) {
    if (!out?.waiting) {
        return
    }
    try {
        input(id: out.inputId, message: "greenlight: waiting for the review of request ${out.requestId}; the relay submits this when the team decides")
    } catch (Exception e) {
        error("greenlight: the relay aborted the input: request ${out.requestId} was rejected or expired (${e.getClass().getSimpleName()})")
    }
}

// set the build result by the table: error() stops the pipeline
void propagate(Map out) {
    String msg = "greenlight: ${out.message} (exit ${out.exitCode}" +
        (out.outcome ? ", outcome ${out.outcome}" : '') +
        (out.teams ? ", teams ${out.teams.join(',')}" : '') + ')'
    if (out.result == 'UNSTABLE') {
        unstable(msg)
    } else if (out.result == 'WAITING') {
        echo(msg)
    } else if (out.result != 'SUCCESS') {
        error(msg)
    }
}
