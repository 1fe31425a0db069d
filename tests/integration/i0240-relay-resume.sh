#!/bin/bash
# i0240-relay-resume.sh - the relay resumes waiting pipelines through their
# CI's API (docs/relay.md, "Resuming pipelines"), against local stand-ins
# for GitLab's and Jenkins' documented endpoints (ci_api_server.py, which
# cites the API docs it follows).  A registration's "resume" target is
# checked (400 bad shape, 403 outside the tenant's credential or no
# credential); a decision resumes exactly once with the right outcome
# (GitLab: list the pipeline's jobs, play the collect job with
# PRIVATE-TOKEN; Jenkins: crumb, then proceedEmpty or abort with Basic
# auth); 503s are retried with growing delays, then one success; the relay
# SIGKILLed between registration and decision still resumes once after its
# restart; an expired request resumes as expired (Jenkins: abort); a
# tenant whose CI does not answer is called once at a time and does not
# hold up another tenant's resume; a 401
# fails for good after one call; no secret is ever logged; a CI file naming
# an unset variable stops the relay (exit 2).
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, signal, subprocess, threading, time
import relay_util as ru
from ci_api_server import CiApi

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
GL_TOKEN, JK = "glpat-test-0123456789abcdef", "relay:11aa22bb33cc44dd55ee66ff77889900"
OTHER = "other-tenant-token-0123456789"
api = CiApi(pipeline=None)
hung = CiApi(pipeline=None)	# the other tenant's Jenkins, which stops answering (6)
with open(os.open(f"{T}/tokens", os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(f"tenant acme {ru.BEARER} *\ntenant other {OTHER} *\n")
with open(f"{T}/ci", "w") as f:
    f.write("# tenants' CI credentials\n"
            f"ci acme gitlab {api.url('/gitlab/api/v4')} GL_ACME_TOKEN 42 acme/*\n"
            f"ci acme jenkins {api.url('/jenkins')} JK_ACME team/*\n"
            f"ci other jenkins {hung.url('/jenkins')} JK_OTHER team/*\n")
env = dict(os.environ, GL_ACME_TOKEN=GL_TOKEN, JK_ACME=JK, JK_OTHER=JK)
args = ["--tokens-file", f"{T}/tokens", "--ci-file", f"{T}/ci"]
relay = ru.Relay(GL, db, log, args, env=env, tokens=None).start()

def reg(resume, token=ru.BEARER, deadline_in=600):
    body, toks = ru.request_body(deadline_in=deadline_in)
    body["resume"] = resume
    st, req, _ = ru.call(relay.port, "POST", "/v1/requests", body, token=token)
    return st, req, toks

def wait_for(cond, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False

GLT = {"ci": "gitlab", "project": "42", "pipeline": "1001", "job": "greenlight-collect"}
JKT = {"ci": "jenkins", "job": "team/app", "build": "17", "input": "greenlight"}

# 1. targets are checked before anything is written
for bad, why in (({"ci": "gitlab", "project": "42", "pipeline": "x", "job": "c"}, "pipeline"),
                 ({"ci": "travis"}, "ci"), ({"ci": "gitlab", "project": 42}, "string"),
                 ({"ci": "jenkins", "job": "../x", "build": "1", "input": "a"}, "job"),
                 ("gitlab", "object")):
    st, req, _ = reg(bad)
    check(f"bad resume target {bad!r}: 400", st == 400 and why in req.get("error", ""), (st, req))
st, req, _ = reg(dict(GLT, project="43"))
check("a project outside the tenant's patterns: 403", st == 403, (st, req))
st, req, _ = reg(dict(JKT, job="payments/app"))
check("a Jenkins job outside the tenant's patterns: 403", st == 403, (st, req))
st, req, _ = reg(GLT, token=OTHER)
check("a tenant without a GitLab credential: 403", st == 403 and "credential" in req["error"], (st, req))
check("nothing was called yet", api.calls == [], api.calls)

# 2. approve: exactly one play of the collect job, with the project token
st, req, toks = reg(GLT)
check("register with a resume target: 201", st == 201, (st, req))
time.sleep(1.5)
check("nothing is resumed while pending", api.calls == [], api.calls)
check("approve (200)", ru.decide(relay.port, toks[0][2], "approve") == 200)
check("the collect job is played", wait_for(lambda: len(api.resumes()) == 1), api.calls)
time.sleep(2.5)
plays = api.resumes()
check("exactly one play call", len(plays) == 1, api.calls)
check("it plays the collect job (100102) of project 42", plays and plays[0]["path"] == "/gitlab/api/v4/projects/42/jobs/100102/play", plays)
check("every call carried the right PRIVATE-TOKEN", all(c["auth_ok"] for c in api.calls), api.calls)
check("the relay logs the resume", f"resumed request {req['id']} (gitlab, approved)" in open(log).read())

# 3. the CI answers 503 twice: retried with growing delays, then one success
api.calls.clear()
api.fail = 2
st, req, toks = reg(dict(GLT, pipeline="1002"))
check("reject (200)", ru.decide(relay.port, toks[0][2], "reject", "no") == 200)
check("played after two 503s", wait_for(lambda: len(api.resumes()) == 1, 30), api.calls)
plays = [c for c in api.calls if c["method"] == "POST"]
check("three play calls: 503, 503, 200", [c["status"] for c in plays] == [503, 503, 200], plays)
if len(plays) == 3:
    d1, d2 = plays[1]["at"] - plays[0]["at"], plays[2]["at"] - plays[1]["at"]
    # next_at is in whole seconds and the sweep runs once a second: a wait
    # of N seconds is N-1..N+1 seconds long
    check("backoff: the second wait (2s) is at least a second", d1 > 0 and d2 >= 1.0, (d1, d2))
check("the log says it retries", "retrying in 1s" in open(log).read() and "retrying in 2s" in open(log).read())
time.sleep(1.5)
check("no call after the success", len([c for c in api.calls if c["method"] == "POST"]) == 3, api.calls)

# 4. relay SIGKILLed between registration and decision: resumed once after restart
api.calls.clear()
st, req, toks = reg(JKT)
check("register a Jenkins target: 201", st == 201, (st, req))
relay.stop(signal.SIGKILL)
relay = ru.Relay(GL, db, log, args, env=env, tokens=None).start()
check("approve after the restart (200)", ru.decide(relay.port, toks[0][2], "approve") == 200)
check("the input is submitted", wait_for(lambda: len(api.resumes()) == 1), api.calls)
time.sleep(2)
r = api.resumes()
check("exactly one submit, proceedEmpty on the input's capitalised id",
      len(r) == 1 and r[0]["path"] == "/jenkins/job/team/job/app/17/input/Greenlight/proceedEmpty", r)
check("a crumb was asked for first", api.calls[0]["path"] == "/jenkins/crumbIssuer/api/json", api.calls)
check("Basic auth on every Jenkins call", all(c["auth_ok"] for c in api.calls), api.calls)

# 5. a request that expires resumes as expired: Jenkins aborts the input
api.calls.clear()
st, req, toks = reg(dict(JKT, build="18"), deadline_in=2)
check("the input is aborted at expiry", wait_for(lambda: len(api.resumes()) == 1, 15), api.calls)
r = api.resumes()
check("abort, not proceed", r and r[0]["path"].endswith("/18/input/Greenlight/abort"), r)
check("the log says expired", f"resumed request {req['id']} (jenkins, expired)" in open(log).read())

# 6. the other tenant's Jenkins stops answering with three resumes due: it
# is called once at a time, and acme's resume does not wait for it
hung.hold = threading.Event()
for build in ("21", "22", "23"):
    st, req, toks = reg(dict(JKT, build=build), token=OTHER)
    check(f"the other tenant registers build {build}: 201", st == 201, (st, req))
    check("... and it is approved", ru.decide(relay.port, toks[0][2], "approve") == 200)
check("a call to the silent Jenkins is in flight", wait_for(lambda: hung.inflight == 1, 5),
      hung.inflight)
api.calls.clear()
st, req, toks = reg(dict(GLT, pipeline="1003"))
t0 = time.time()
check("acme approves while the other tenant's CI is silent (200)",
      ru.decide(relay.port, toks[0][2], "approve") == 200)
check("acme's collect job is played all the same", wait_for(lambda: len(api.resumes()) == 1, 5),
      api.calls)
print(f"acme resumed {time.time() - t0:.2f}s after its decision, with a CI call hanging")
time.sleep(1)
check("the silent Jenkins was called once at a time (one lane per tenant and CI)",
      hung.max_inflight == 1, hung.max_inflight)
hung.hold.set()
check("once it answers, the other tenant's three inputs are submitted",
      wait_for(lambda: len(hung.resumes()) == 3, 20), hung.calls)

# 7. a wrong credential (401) fails for good after one call; others go on
relay.stop()
with open(f"{T}/ci", "w") as f:
    f.write(f"ci acme gitlab {api.url('/gitlab/api/v4')} GL_ACME_TOKEN 42\n")
env["GL_ACME_TOKEN"] = "glpat-wrong-token-000000"
relay = ru.Relay(GL, db, log, args, env=env, tokens=None).start()
api.calls.clear()
st, req, toks = reg(GLT)
check("approve (200)", ru.decide(relay.port, toks[0][2], "approve") == 200)
check("the relay gives up on a 401", wait_for(lambda: "resume the pipeline by hand" in open(log).read()), api.calls)
time.sleep(2)
check("exactly one call with the wrong token", len(api.calls) == 1 and api.calls[0]["status"] == 401, api.calls)
relay.stop()
text = open(log).read()
check("no secret in the log", GL_TOKEN not in text and "glpat-wrong" not in text and
      "11aa22bb33cc44dd55ee66ff77889900" not in text and ru.BEARER not in text)

# 8. a CI file naming an unset variable, or holding a plain-http API elsewhere
with open(f"{T}/ci", "w") as f:
    f.write("ci acme gitlab https://gitlab.example.com/api/v4 GL_UNSET_TOKEN 42\n")
p = subprocess.run([GL, "relay", "--db", f"{T}/x.db"] + args, env=env, capture_output=True, text=True, timeout=30)
check("unset secret variable: exit 2, one line naming it", p.returncode == 2 and
      "GL_UNSET_TOKEN" in p.stderr and len(p.stderr.strip().splitlines()) == 1, (p.returncode, p.stderr))
with open(f"{T}/ci", "w") as f:
    f.write("ci acme gitlab http://gitlab.example.com/api/v4 GL_ACME_TOKEN 42\n")
p = subprocess.run([GL, "relay", "--db", f"{T}/x.db"] + args, env=env, capture_output=True, text=True, timeout=30)
check("plain http to another host: exit 2", p.returncode == 2 and "https://" in p.stderr, (p.returncode, p.stderr))
api.stop()
hung.stop()
check.finish()
PYEOF
