// jenkins_step_test.groovy - runs adapters/jenkins/vars/greenlight.groovy
// under Debian's groovy (2.4, like Jenkins core) with stubs for the steps it
// calls: sh (really runs the script as `sh -xe` with the withEnv overlay),
// withEnv, junit, archiveArtifacts, fileExists, readFile, error, unstable,
// libraryResource (the library's resources/ next to vars/)
// and currentBuild.getBuildCauses().  Jenkins' semantics that matter are
// kept: error() throws and fails the build, unstable() and failed tests
// lower the result, a missing report fails unless allowed.
// usage: groovy jenkins_step_test.groovy STEP FIXTURES WORKDIR GREENLIGHT [SNIPPET]
// Prints "N passed, N failed"; exits 1 if anything failed.

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

class StepError extends RuntimeException {
    StepError(String m) { super(m) }
}

// what Jenkins throws when an input is aborted (FlowInterruptedException)
class InputAborted extends RuntimeException {
    InputAborted(String m) { super(m) }
}

class FakeBuild {
    String result = 'SUCCESS'
    List causes = []
    boolean causesThrow = false

    List getBuildCauses(String cls) {
        if (causesThrow) {
            throw new SecurityException('not whitelisted')
        }
        return cls == 'hudson.model.Cause$UserIdCause' ? causes : []
    }

    void lower(String r) {
        List order = ['SUCCESS', 'UNSTABLE', 'FAILURE']
        if (order.indexOf(r) > order.indexOf(result)) {
            result = r
        }
    }
}

class Fake {
    File ws
    Map<String, String> baseEnv = [:]
    List<Map<String, String>> overlays = []
    List<List> calls = []
    StringBuilder log = new StringBuilder()
    FakeBuild build = new FakeBuild()
    Map junitCounts = null

    File file(String p) { p.startsWith('/') ? new File(p) : new File(ws, p) }

    int sh(Map m) {
        Map<String, String> env = [:]
        overlays.each { env.putAll(it) }
        calls << ['sh', m, env]
        ProcessBuilder pb = new ProcessBuilder(['sh', '-xe', '-c', m.script.toString()])
        pb.directory(ws).redirectErrorStream(true)
        pb.environment().putAll(baseEnv)
        pb.environment().putAll(env)
        Process p = pb.start()
        log << p.inputStream.text
        int code = p.waitFor()
        if (!m.returnStatus && code != 0) {
            throw new StepError("script returned exit code ${code}")
        }
        return code
    }

    def withEnv(List vars, Closure body) {
        Map<String, String> o = [:]
        vars.each { String kv = it.toString(); int i = kv.indexOf('='); o[kv.substring(0, i)] = kv.substring(i + 1) }
        calls << ['withEnv', o]
        overlays << o
        try {
            return body()
        } finally {
            overlays.remove(overlays.size() - 1)
        }
    }

    void junit(Map m) {
        calls << ['junit', m]
        File f = file(m.testResults)
        if (!f.exists()) {
            if (!m.allowEmptyResults) {
                throw new StepError("No test report files were found: ${m.testResults}")
            }
            return
        }
        def suites = new XmlSlurper().parse(f)
        junitCounts = [tests: suites.@tests.toInteger(), failures: suites.@failures.toInteger(),
                       skipped: suites.@skipped.toInteger()]
        if (junitCounts.failures > 0 && !m.skipMarkingBuildUnstable) {
            build.lower('UNSTABLE')
        }
    }

    void archiveArtifacts(Map m) {
        calls << ['archiveArtifacts', m, file(m.artifacts).exists()]
        if (!file(m.artifacts).exists() && !m.allowEmptyArchive) {
            throw new StepError("No artifacts found that match the file pattern \"${m.artifacts}\"")
        }
    }

    boolean fileExists(String p) { file(p).exists() }

    // the library's resources/ directory, next to vars/
    File resources
    String libraryResource(String p) {
        calls << ['libraryResource', p]
        return new File(resources, p).text
    }

    String readFile(String p) { file(p).text }

    void error(String msg) {
        calls << ['error', msg]
        throw new StepError(msg)
    }

    void unstable(String msg) {
        calls << ['unstable', msg]
        build.lower('UNSTABLE')
    }

    void echo(String msg) {
        calls << ['echo', msg]
        println('echo: ' + msg)
    }

    // node { }: runs the body "on an executor" (counted, for input's check)
    int nodeDepth = 0
    def node(Closure body) { node('', body) }
    def node(String label, Closure body) {
        calls << ['node', label]
        nodeDepth++
        try {
            return body()
        } finally {
            nodeDepth--
        }
    }

    // input: waits until the CI API stand-in's log (GL_INPUT_LOG, JSON lines
    // of tests/integration/ci_api_server.py) shows the relay's proceedEmpty
    // (returns) or abort (throws, as Jenkins does) for this input's id in
    // build $BUILD_NUMBER
    def input(Map m) {
        calls << ['input', m, nodeDepth]
        println("echo: input ${m.id} outside any node: ${nodeDepth == 0}")
        String path = System.getenv('GL_INPUT_LOG')
        String id = System.getenv('BUILD_NUMBER') + '/input/' + m.id.toString().capitalize()
        long end = System.currentTimeMillis() + 60000
        while (path && System.currentTimeMillis() < end) {
            File f = new File(path)
            List lines = f.exists() ? f.readLines() : []
            for (String l : lines) {
                def c = new groovy.json.JsonSlurper().parseText(l)
                if (c.method == 'POST' && c.status == 200 && c.path.endsWith("/${id}/proceedEmpty")) {
                    return null
                }
                if (c.method == 'POST' && c.status == 200 && c.path.endsWith("/${id}/abort")) {
                    throw new InputAborted('Aborted by relay')
                }
            }
            Thread.sleep(100)
        }
        throw new StepError("input ${id}: nobody answered")
    }

    List named(String step) { calls.findAll { it[0] == step } }
}

// Jenkins compiles vars/ scripts with com.cloudbees.groovy.cps.NonCPS imported
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''
package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @Target(ElementType.METHOD) @interface NonCPS {}
''')
CompilerConfiguration config = new CompilerConfiguration()
config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))

String stepPath = args[0]
File fixtures = new File(args[1])
File workdir = new File(args[2])
String gl = args[3]
File resources = new File(new File(stepPath).absoluteFile.parentFile.parentFile, 'resources')
int passed = 0, failed = 0

// check DESCRIPTION { condition }: an exception counts as a failure
def check = { String what, Closure cond ->
    boolean good = false
    try {
        good = cond() as boolean
    } catch (Throwable t) {
        what += " (${t})"
    }
    if (good) {
        passed++
    } else {
        failed++
        println "FAIL: ${what}"
    }
}

// run the step in workspace `name` (made from the fixtures unless it
// exists: a re-run re-attaches to the same request); returns [out, err, fake]
def runStep = { String name, Map stepArgs, Closure setup = null ->
    File ws = new File(workdir, name)
    if (!ws.exists()) {
        ws.mkdirs()
        fixtures.eachFile { File f -> new File(ws, f.name).bytes = f.bytes }
    }
    Fake f = new Fake(ws: ws, resources: resources)
    if (setup) {
        setup(f)
    }
    Binding b = new Binding()
    ['sh', 'withEnv', 'junit', 'archiveArtifacts', 'fileExists', 'readFile', 'error', 'unstable', 'libraryResource', 'echo', 'input'].each { String s ->
        b.setVariable(s, f.&"$s")
    }
    b.setVariable('currentBuild', f.build)
    Script step = new GroovyShell(loader, b, config).parse(new File(stepPath))
    Map out = null
    String err = null
    try {
        out = step.call(stepArgs)
    } catch (StepError e) {
        err = e.message
        f.build.lower('FAILURE')
    }
    return [out: out, err: err, fake: f]
}

// Snippet mode (5th argument: a file of pipeline code from the docs): run it
// as a script in a workspace made from the fixtures, with `greenlight` bound
// to the step and `echo` to stdout, the way a Jenkinsfile calls a library
// step; print each echo as "echo: TEXT", an error as "error: MESSAGE", then
// "build RESULT".
if (args.length == 5) {
    // GL_SNIPPET_WS: run in that directory (a clone made by the test)
    File ws = System.getenv('GL_SNIPPET_WS') ? new File(System.getenv('GL_SNIPPET_WS')) : new File(workdir, 'snippet')
    ws.mkdirs()
    fixtures.eachFile { File f -> new File(ws, f.name).bytes = f.bytes }
    Fake f = new Fake(ws: ws, resources: resources)
    Binding b = new Binding()
    ['sh', 'withEnv', 'junit', 'archiveArtifacts', 'fileExists', 'readFile', 'error', 'unstable', 'libraryResource', 'echo', 'input'].each { String s ->
        b.setVariable(s, f.&"$s")
    }
    b.setVariable('currentBuild', f.build)
    Script step = new GroovyShell(loader, b, config).parse(new File(stepPath))
    Binding sb = new Binding()
    sb.setVariable('greenlight', step)      // greenlight(...) and greenlight.waitForDecision(...)
    sb.setVariable('node', { Object... a -> a.length == 1 ? f.node(a[0] as Closure) : f.node(a[0] as String, a[1] as Closure) })
    // checkout and (un)stash: the workspace is already the checkout
    sb.setVariable('scm', [type: 'git'])
    sb.setVariable('checkout', { s -> println('checkout: ' + s) })
    sb.setVariable('stash', { Map m -> println('stash: ' + m.name) })
    sb.setVariable('unstash', { String n -> println('unstash: ' + n) })
    sb.setVariable('echo', { s -> println('echo: ' + s) })
    sb.setVariable('currentBuild', f.build)
    // credentials bindings: recorded, the body runs (no secret here)
    sb.setVariable('gitUsernamePassword', { Map m -> [binding: 'gitUsernamePassword'] + m })
    sb.setVariable('withCredentials', { List c, Closure body -> println("withCredentials: ${c}"); body() })
    try {
        new GroovyShell(loader, sb, config).evaluate(new File(args[4]))
    } catch (StepError e) {
        println "error: ${e.message}"
        f.build.lower('FAILURE')
    }
    if (System.getenv('GL_SNIPPET_LOG')) {
        print f.log      // what the sh steps printed
    }
    println "build ${f.build.result}"
    return
}

// ---- the real binary ---------------------------------------------------------

def r = runStep('pass', [bin: gl, command: 'check', results: 'good.json'])
check('pass: no error') { r.err == null }
check('pass: SUCCESS') { r.fake.build.result == 'SUCCESS' }
check('pass: outputs') { r.out.outcome == 'pass' && r.out.exitCode == 0 && r.out.result == 'SUCCESS' &&
      r.out.gate == 'model-release' && r.out.decisionFile == 'greenlight-decision.json' }
check('pass: sh returnStatus') { r.fake.named('sh')[0][1].returnStatus == true }
check('pass: junit recorded') { r.fake.named('junit')[0][1].testResults == 'greenlight-junit.xml' &&
      r.fake.junitCounts == [tests: 3, failures: 0, skipped: 0] }
check('pass: record archived') { r.fake.named('archiveArtifacts')[0][1].artifacts == 'greenlight-decision.json' &&
      r.fake.named('archiveArtifacts')[0][2] == true }
check('pass: no unstable') { r.fake.named('unstable').isEmpty() }
String script = r.fake.named('sh')[0][1].script
check('script carries no values') { !script.contains('good.json') && !script.contains(gl) }

r = runStep('fail', [bin: gl, gate: 'fail-gate.json', results: 'bad.json'])
check('fail: error') { r.err != null && r.err.contains('failed: a fail rule fired') && r.err.contains('exit 1') &&
      r.err.contains('outcome fail') }
check('fail: FAILURE') { r.fake.build.result == 'FAILURE' }
check('fail: junit before error') { r.fake.junitCounts?.failures == 1 }

r = runStep('review', [bin: gl, command: 'check', results: 'slow.json'])
check('review: no error') { r.err == null }
check('review: unstable') { r.fake.named('unstable').size() == 1 &&
      r.fake.named('unstable')[0][1].contains('review needed') && r.fake.build.result == 'UNSTABLE' }
check('review: outputs') { r.out.outcome == 'review' && r.out.exitCode == 5 && r.out.teams == ['engineering'] &&
      r.out.result == 'UNSTABLE' }

r = runStep('bad-input', [bin: gl, gate: 'missing.json'])
check('bad input: error') { r.err?.contains('bad usage or input') && r.err.contains('exit 2') }
check('bad input: nothing to record') { r.fake.junitCounts == null && r.fake.named('archiveArtifacts')[0][2] == false }

String infra = '--smtp smtp://127.0.0.1:1 --smtp-tls none --send-timeout 2s --timeout 3s --state state.db'
long t0 = System.currentTimeMillis()
r = runStep('infra', [bin: gl, results: 'slow.json', args: infra])
check('infrastructure: error') { r.err?.contains('infrastructure failure') && r.err.contains('exit 4') }
check('infrastructure: FAILURE') { r.fake.build.result == 'FAILURE' }
long left = 3500 - (System.currentTimeMillis() - t0)
if (left > 0) {
    Thread.sleep(left)
}
r = runStep('infra', [bin: gl, results: 'slow.json', args: infra])
check('timed out: error') { r.err?.contains('timed out waiting for a decision') && r.err.contains('exit 3') &&
      r.err.contains('outcome timed_out') }
check('timed out: junit failure') { r.fake.junitCounts?.failures == 1 }

r = runStep('no-propagate', [bin: gl, gate: 'fail-gate.json', results: 'bad.json', propagate: false])
check('propagate false: returns') { r.err == null && r.out.result == 'FAILURE' && r.out.exitCode == 1 &&
      r.fake.build.result == 'SUCCESS' }

r = runStep('unknown-arg', [bin: gl, gates: 'x.json'])
check('unknown argument') { r.err?.contains("unknown argument 'gates'") && r.fake.named('sh').isEmpty() }
r = runStep('bad-command', [bin: gl, command: 'deploy'])
check('bad command') { r.err?.contains('command must be run or check') && r.fake.named('sh').isEmpty() }

r = runStep('hostile', [bin: gl, command: 'check', results: 'x"; touch pwned1; echo "$(touch pwned2)',
                        args: '$(touch pwned3) *'])
File hws = new File(workdir, 'hostile')
check('hostile: nothing executed') { !new File(hws, 'pwned1').exists() && !new File(hws, 'pwned2').exists() &&
      !new File(hws, 'pwned3').exists() }
check('hostile: bad input') { r.out == null && r.err?.contains('exit 2') }

r = runStep('triggered', [bin: gl, command: 'check', results: 'good.json'], { Fake f -> f.build.causes = [[userId: 'ada', userName: 'Ada'], [userId: 'bob']] })
check('triggered by: passed to greenlight') { r.fake.named('sh')[0][2].GREENLIGHT_TRIGGERED_BY == 'ada,bob' }
r = runStep('triggered-denied', [bin: gl, command: 'check', results: 'good.json'], { Fake f -> f.build.causesThrow = true })
check('triggered by: sandbox refusal tolerated') { r.err == null && !r.fake.named('sh')[0][2].containsKey('GREENLIGHT_TRIGGERED_BY') }

// ---- the mapping, every exit code (a stand-in binary) -------------------------

Map want = [0: ['SUCCESS', null], 1: ['FAILURE', 'failed'], 2: ['FAILURE', 'bad usage or input'],
            3: ['FAILURE', 'timed out'], 4: ['FAILURE', 'infrastructure'], 5: ['UNSTABLE', 'review needed'],
            127: ['FAILURE', 'exited with 127']]
want.each { int code, List w ->
    r = runStep("code-${code}", [bin: new File(fixtures, 'fake-greenlight').path],
                { Fake f -> f.baseEnv.FAKE_CODE = code.toString() })
    String said = r.err ?: (r.fake.named('unstable') ? r.fake.named('unstable')[0][1] : null)
    check("exit ${code}: build ${w[0]} (got ${r.fake.build.result})") { r.fake.build.result == w[0] }
    check("exit ${code}: message (got ${said})") { w[1] == null ? said == null : said?.contains(w[1]) }
    if (r.out) {
        check("exit ${code}: result output") { r.out.result == w[0] && r.out.exitCode == code }
    }
}

// ---- without holding an executor: resumeInput, waitForDecision, collect ------

String fake = new File(fixtures, 'fake-greenlight').path
r = runStep('resume-wait', [bin: fake, resumeInput: 'greenlight'], { Fake f -> f.baseEnv.FAKE_CODE = '5' })
check('resumeInput, exit 5: WAITING, never unstable or failed') { r.err == null && r.out.result == 'WAITING' &&
      r.out.waiting == true && r.out.inputId == 'greenlight' && r.fake.build.result == 'SUCCESS' &&
      r.fake.named('unstable').isEmpty() && r.fake.named('echo')[0][1].contains('registered') }
check('resumeInput: run --detach --resume ID') { r.fake.named('sh')[0][2].GREENLIGHT_DETACH == '1' &&
      r.fake.named('sh')[0][2].GREENLIGHT_RESUME == 'greenlight' }
r = runStep('resume-pass', [bin: fake, resumeInput: 'greenlight'], { Fake f -> f.baseEnv.FAKE_CODE = '0' })
check('resumeInput, exit 0: SUCCESS, not waiting') { r.err == null && r.out.result == 'SUCCESS' && !r.out.waiting }
r = runStep('collect-pending', [bin: fake, collect: true], { Fake f -> f.baseEnv.FAKE_CODE = '5' })
check('collect, exit 5: FAILURE (not decided)') { r.err?.contains('not decided yet') && r.fake.build.result == 'FAILURE' &&
      r.fake.named('sh')[0][2].GREENLIGHT_RESUME == '' }
r = runStep('resume-bad', [bin: fake, resumeInput: 'a b; rm'])
check('resumeInput: an id, or an error before anything runs') { r.err?.contains('resumeInput must be an input id') &&
      r.fake.named('sh').isEmpty() }
r = runStep('resume-both', [bin: fake, resumeInput: 'g', collect: true])
check('resumeInput and collect: one per call') { r.err?.contains('one per call') }

println "${passed} passed, ${failed} failed"
System.exit(failed ? 1 : 0)
