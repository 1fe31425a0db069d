#!/bin/bash
# i0242-relay-github.sh - the relay as a GitHub App answering custom
# deployment protection rules (docs/ci/github.md, "Without holding a
# runner"), against the GitHub API stand-in of ci_api_server.py (it cites
# the GitHub docs it follows, verifies the App's RS256 JWT with the App's
# public key and the installation token it issued).  A webhook with a
# wrong or missing X-Hub-Signature-256 is 401 and makes nothing due; a
# signed deployment_protection_rule event is matched to the registered
# request by repository, run, commit and environment; nothing is reviewed
# before both the event and the decision are in; a decision is reviewed
# exactly once with the right state; 503 is retried; an expired request is
# reviewed "rejected"; an event for another run matches nothing; a
# callback URL of another repository is refused; no secret is logged.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import hashlib, hmac, json, os, sqlite3, time
import relay_util as ru
from ci_api_server import CiApi
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/relay.db"
check = ru.Checks([log])
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode()
pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
HOOK_SECRET = "whsec-i0242-0123456789abcdef"
api = CiApi(github_app=("4242", pub))
with open(os.open(f"{T}/tokens", os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(f"tenant acme {ru.BEARER} *\n")
with open(f"{T}/ci", "w") as f:
    f.write(f"ci acme github {api.url('/github')} GH_APP acme/*\n")
env = dict(os.environ, GH_APP=f"4242:{pem}", GREENLIGHT_RELAY_GITHUB_WEBHOOK_SECRET=HOOK_SECRET)
relay = ru.Relay(GL, db, log, ["--tokens-file", f"{T}/tokens", "--ci-file", f"{T}/ci"],
                 env=env, tokens=None).start()
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"

def reg(run, env_name="production", deadline_in=600, repo="acme/app"):
    body, toks = ru.request_body(deadline_in=deadline_in)
    body["resume"] = {"ci": "github", "repository": repo, "run": str(run), "sha": SHA,
                      "environment": env_name}
    st, req, _ = ru.call(relay.port, "POST", "/v1/requests", body)
    return st, req, toks

def hook(run, env_name="production", secret=HOOK_SECRET, event="deployment_protection_rule",
         repo="acme/app", url_repo=None, sig=None):
    payload = json.dumps({
        "action": "requested", "environment": env_name, "event": "push", "sha": SHA,
        "ref": "refs/heads/main",
        "deployment_callback_url": f"https://api.github.com/repos/{url_repo or repo}/actions/runs/{run}/deployment_protection_rule",
        "deployment": {"id": 1, "sha": SHA, "environment": env_name},
        "repository": {"id": 7, "full_name": repo, "name": repo.split("/")[1]},
        "installation": {"id": 987654}, "sender": {"login": "github-actions[bot]"}}).encode()
    if sig is None:
        sig = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    h = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"}
    if sig:
        h["X-Hub-Signature-256"] = sig
    return ru.call(relay.port, "POST", "/v1/github/webhook", payload, token=None, headers=h)

def ready(run):
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT ready FROM resumes WHERE target LIKE ?", (f'%"run":"{run}"%',))]
    finally:
        con.close()

def wait_for(cond, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False

st, req, _ = reg(1, repo="other/app")
check("a repository outside the tenant's patterns: 403", st == 403, (st, req))
st, req, _ = ru.call(relay.port, "POST", "/v1/github/webhook", b"{}", token=None,
                     headers={"Content-Type": "application/json", "X-GitHub-Event": "ping"})
check("a webhook without a signature: 401", st == 401, (st, req))

# 1. approve; a forged event first, then the real one
st, req, toks = reg(555)
check("register with a GitHub target: 201", st == 201, (st, req))
check("not due before GitHub's event", ready(555) == [0], ready(555))
check("approve (200)", ru.decide(relay.port, toks[0][2], "approve") == 200)
for what, kw in (("wrong secret", {"secret": "not-the-secret"}), ("no signature", {"sig": ""}),
                 ("a signature of another length", {"sig": "sha256=abcd"}),
                 ("sha1 instead of sha256", {"sig": "sha1=" + "0" * 40})):
    st, body, _ = hook(555, **kw)
    check(f"webhook with {what}: 401", st == 401, (st, body))
time.sleep(2)
check("after forged events: still not due, nothing reviewed", ready(555) == [0] and api.reviews == [],
      (ready(555), api.reviews))
st, body, _ = hook(555, event="ping")
check("ping: 200", st == 200, (st, body))
st, body, _ = hook(555)
check("the signed event matches the request: 200", st == 200 and body.get("matched") is True, (st, body))
check("the rule is reviewed", wait_for(lambda: len(api.reviews) == 1), api.calls)
time.sleep(2)
check("exactly once, approved, for production of run 555",
      len(api.reviews) == 1 and api.reviews[0]["state"] == "approved" and
      api.reviews[0]["environment_name"] == "production" and api.reviews[0]["run"] == "555" and
      api.reviews[0]["repo"] == "acme/app", api.reviews)
check("the installation token came from a valid JWT",
      any(c["path"] == "/github/app/installations/987654/access_tokens" and c["status"] == 201
          for c in api.calls), api.calls)
st, body, _ = hook(555)
check("the event again matches nothing (already answered)", st == 202 and body.get("matched") is False, (st, body))

# 2. other runs, environments and repositories match nothing
st, body, _ = hook(556)
check("an event for an unregistered run: 202, no match", st == 202 and body.get("matched") is False, (st, body))
st, body, _ = hook(555, url_repo="evil/app")
check("a callback URL of another repository: 400", st == 400, (st, body))

# 3. the event first, then a 503, then the decision: retried, one review
api.fail = 1
st, req, toks = reg(600, env_name="staging")
st, body, _ = hook(600, env_name="staging")
check("event before the decision: 200", st == 200, (st, body))
time.sleep(1.5)
check("nothing reviewed while pending", len(api.reviews) == 1, api.reviews)
check("reject (200)", ru.decide(relay.port, toks[0][2], "reject", "no") == 200)
check("reviewed after a 503", wait_for(lambda: len(api.reviews) == 2, 20), api.calls)
check("rejected, staging", api.reviews[-1]["state"] == "rejected" and api.reviews[-1]["environment_name"] == "staging",
      api.reviews)
check("the 503 was logged as retried", "retrying in 1s" in open(log).read())

# 4. expiry is reviewed "rejected"
st, req, toks = reg(700, deadline_in=2)
hook(700)
check("the expired request is reviewed", wait_for(lambda: len(api.reviews) == 3, 20), api.calls)
check("expired: rejected", api.reviews[-1]["state"] == "rejected" and api.reviews[-1]["run"] == "700", api.reviews)
check("the log says expired", f"resumed request {req['id']} (github, expired)" in open(log).read())
relay.stop()
text = open(log).read()
check("no secret in the log", HOOK_SECRET not in text and "PRIVATE KEY" not in text and
      not any(t in text for t in api.gh_tokens))
api.stop()
check.finish()
PYEOF
