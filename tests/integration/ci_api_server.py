#!/usr/bin/python3
"""ci_api_server.py - stand-ins for the CI APIs the relay resumes pipelines with.

This is NOT GitLab or Jenkins: it is a local HTTP server (loopback) that
implements the few documented endpoints the relay calls, with the
documented request shapes, authentication headers and answers, and records
every call so a test can count them:

  GitLab REST API v4, under /gitlab/api/v4
    GET  /projects/:id/pipelines/:pipeline_id/jobs   "List pipeline jobs"
         https://docs.gitlab.com/ee/api/jobs.html#list-pipeline-jobs
    POST /projects/:id/jobs/:job_id/play              "Run a job"
         https://docs.gitlab.com/ee/api/jobs.html#run-a-job
    :id is the numeric id or the URL-encoded path ("group%2Fproject");
    authentication: the PRIVATE-TOKEN header (a project access token),
         https://docs.gitlab.com/ee/api/rest/authentication.html
    401 {"message": "401 Unauthorized"} for a missing or wrong token, 404
    for an unknown project, pipeline or job.
  GitHub REST API, under /github (a GitHub App)
    POST /app/installations/{installation_id}/access_tokens
         "Create an installation access token for an app"
         https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
         authentication: the App's JWT (Authorization: Bearer), RS256, checked
         with the App's public key: iss = the App id, iat in the past, exp in
         the future and at most 10 minutes after iat
         https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
         answers 201 {"token", "expires_at"}
    POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule
         "Review custom deployment protection rules for a workflow run"
         https://docs.github.com/en/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run
         authentication: an installation token this stand-in issued; body
         {"environment_name", "state": "approved" | "rejected", "comment"};
         answers 204
  Jenkins, under /jenkins
    GET  /crumbIssuer/api/json  {"_class", "crumb", "crumbRequestField"}
         https://www.jenkins.io/doc/book/security/csrf-protection/
    POST /job/A/job/B/<build>/input/<Id>/proceedEmpty | /abort
         (Pipeline Input Step plugin, InputStepExecution.doProceedEmpty /
         doAbort; https://plugins.jenkins.io/pipeline-input-step/)
    authentication: HTTP Basic user:API-token
         https://www.jenkins.io/doc/book/using/remote-access-api/
    A POST without the crumb header is 403 "No valid crumb was included in
    the request", as Jenkins answers when CSRF protection is on.

Configuration (constructor or command line): the tokens it accepts, the
jobs of each pipeline, and `fail`: how many of the first resume calls
(play, proceedEmpty, abort) answer 503 (a flaky CI).  Calls are appended
to `calls` (and to --log as JSON lines): {"ci", "method", "path", "status",
"auth_ok", "at"}.  Standard library only.
"""
import argparse
import base64
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRUMB = "c0ffee-crumb-4242"


class CiApi:
    def __init__(self, gitlab_token="glpat-test-0123456789abcdef", jenkins_user="relay",
                 jenkins_token="11aa22bb33cc44dd55ee66ff77889900", project="42",
                 pipeline="1001", jobs=None, fail=0, log=None, github_app=None):
        self.gitlab_token, self.project, self.pipeline = gitlab_token, project, pipeline
        self.basic = "Basic " + base64.b64encode(f"{jenkins_user}:{jenkins_token}".encode()).decode()
        # each pipeline P has these jobs, with ids P*100+1, P*100+2, ...
        # (job ids are unique across pipelines, as in GitLab)
        self.jobs = jobs or [{"name": "gate", "status": "success"},
                             {"name": "greenlight-collect", "status": "manual"}]
        self.played = set()
        # github_app: (app id, public key PEM bytes) of the App whose JWTs count
        self.github_app, self.gh_tokens, self.reviews = github_app, set(), []
        self.fail, self.log, self.calls = fail, log, []
        self.lock = threading.Lock()
        # hold: a threading.Event every call waits for (up to 60 s) before it
        # is answered, a CI that does not answer; inflight counts such calls
        self.hold, self.inflight, self.max_inflight = None, 0, 0
        api = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                api.handle(self, "GET")

            def do_POST(self):
                api.handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()

    def resumes(self):
        """The resume calls answered 2xx (play, proceedEmpty, abort)."""
        with self.lock:
            return [c for c in self.calls if c["method"] == "POST" and 200 <= c["status"] < 300]

    def record(self, h, ci, method, status, auth_ok):
        c = {"ci": ci, "method": method, "path": h.path, "status": status,
             "auth_ok": auth_ok, "at": time.time()}
        with self.lock:
            self.calls.append(c)
        if self.log:
            with open(self.log, "a") as f:
                f.write(json.dumps(c) + "\n")

    def answer(self, h, status, body):
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def flaky(self):
        with self.lock:
            if self.fail > 0:
                self.fail -= 1
                return True
        return False

    def handle(self, h, method):
        if self.hold is None:
            return self.serve(h, method)
        with self.lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            self.hold.wait(60)
            return self.serve(h, method)
        finally:
            with self.lock:
                self.inflight -= 1

    def serve(self, h, method):
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(min(n, 1 << 20)) if n else b""
        path = urllib.parse.urlsplit(h.path).path
        if path == "/_test/new-pipelines" and method == "POST":
            # test control, not an API: forget which jobs were played (the
            # test's next pipeline reuses the ids gitlab-ci-local gives)
            with self.lock:
                self.played.clear()
            return self.answer(h, 200, {})
        if path.startswith("/gitlab/api/v4/"):
            return self.gitlab(h, method, path[len("/gitlab/api/v4"):])
        if path.startswith("/jenkins/"):
            return self.jenkins(h, method, path[len("/jenkins"):])
        if path.startswith("/github/"):
            return self.github(h, method, path[len("/github"):], body)
        self.record(h, "?", method, 404, False)
        self.answer(h, 404, {"message": "404 Not Found"})

    def pipeline_jobs(self, pipeline):
        """The jobs of a pipeline as "List pipeline jobs" returns them."""
        jobs = []
        for i, j in enumerate(self.jobs):
            jid = pipeline * 100 + i + 1
            status = "pending" if jid in self.played else j["status"]
            jobs.append({"id": jid, "name": j["name"], "status": status, "stage": "test",
                         "pipeline": {"id": pipeline, "project_id": int(self.project)
                                      if self.project.isdigit() else 0}})
        return jobs

    def gitlab(self, h, method, path):
        ok = h.headers.get("PRIVATE-TOKEN") == self.gitlab_token
        if not ok:
            self.record(h, "gitlab", method, 401, False)
            return self.answer(h, 401, {"message": "401 Unauthorized"})
        m = re.fullmatch(r"/projects/([^/]+)/pipelines/(\d+)/jobs", path)
        if method == "GET" and m:
            if urllib.parse.unquote(m.group(1)) != self.project or (
                    self.pipeline is not None and m.group(2) != self.pipeline):
                self.record(h, "gitlab", method, 404, True)
                return self.answer(h, 404, {"message": "404 Not found"})
            self.record(h, "gitlab", method, 200, True)
            return self.answer(h, 200, self.pipeline_jobs(int(m.group(2))))
        m = re.fullmatch(r"/projects/([^/]+)/jobs/(\d+)/play", path)
        if method == "POST" and m:
            job = [j for j in self.pipeline_jobs(int(m.group(2)) // 100) if str(j["id"]) == m.group(2)]
            if urllib.parse.unquote(m.group(1)) != self.project or not job:
                self.record(h, "gitlab", method, 404, True)
                return self.answer(h, 404, {"message": "404 Job Not Found"})
            if self.flaky():
                self.record(h, "gitlab", method, 503, True)
                return self.answer(h, 503, {"message": "503 Service Unavailable"})
            if job[0]["status"] != "manual":
                self.record(h, "gitlab", method, 400, True)
                return self.answer(h, 400, {"message": "400 Unplayable Job"})
            self.played.add(job[0]["id"])
            job[0]["status"] = "pending"
            self.record(h, "gitlab", method, 200, True)
            return self.answer(h, 200, dict(job[0]))
        self.record(h, "gitlab", method, 404, True)
        return self.answer(h, 404, {"error": "404 Not Found"})

    def jwt_ok(self, auth):
        """An RS256 JWT of the App, signed with its key, valid now."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        if not self.github_app or not auth or not auth.startswith("Bearer "):
            return False
        parts = auth[7:].split(".")
        if len(parts) != 3:
            return False
        dec = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        try:
            head, claims = json.loads(dec(parts[0])), json.loads(dec(parts[1]))
            key = serialization.load_pem_public_key(self.github_app[1])
            key.verify(dec(parts[2]), (parts[0] + "." + parts[1]).encode(),
                       padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return False
        now = time.time()
        return (head.get("alg") == "RS256" and str(claims.get("iss")) == str(self.github_app[0])
                and claims["iat"] <= now and claims["exp"] > now
                and claims["exp"] - claims["iat"] <= 600)

    def github(self, h, method, path, body):
        auth = h.headers.get("Authorization")
        m = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
        if method == "POST" and m:
            if not self.jwt_ok(auth) or h.headers.get("Accept") != "application/vnd.github+json":
                self.record(h, "github", method, 401, False)
                return self.answer(h, 401, {"message": "A JSON web token could not be decoded"})
            tok = "ghs_" + base64.b32encode(os.urandom(20)).decode().lower()
            with self.lock:
                self.gh_tokens.add(tok)
            self.record(h, "github", method, 201, True)
            return self.answer(h, 201, {"token": tok, "expires_at": "2099-01-01T00:00:00Z"})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/deployment_protection_rule", path)
        if method == "POST" and m:
            tok = auth[7:] if auth and auth.startswith("Bearer ") else ""
            if tok not in self.gh_tokens:
                self.record(h, "github", method, 401, False)
                return self.answer(h, 401, {"message": "Bad credentials"})
            try:
                b = json.loads(body)
                ok = (isinstance(b.get("environment_name"), str) and b.get("state") in ("approved", "rejected")
                      and isinstance(b.get("comment", ""), str))
            except ValueError:
                ok = False
            if not ok:
                self.record(h, "github", method, 422, True)
                return self.answer(h, 422, {"message": "Validation Failed"})
            if self.flaky():
                self.record(h, "github", method, 503, True)
                return self.answer(h, 503, {"message": "Service Unavailable"})
            with self.lock:
                self.reviews.append({"repo": m.group(1), "run": m.group(2), **b})
            if self.log:
                with open(self.log, "a") as f:
                    f.write(json.dumps({"review": self.reviews[-1]}) + "\n")
            self.record(h, "github", method, 204, True)
            h.send_response(204)
            h.end_headers()
            return None
        self.record(h, "github", method, 404, True)
        return self.answer(h, 404, {"message": "Not Found"})

    def jenkins(self, h, method, path):
        ok = h.headers.get("Authorization") == self.basic
        if not ok:
            self.record(h, "jenkins", method, 401, False)
            return self.answer(h, 401, {"message": "Unauthorized"})
        if method == "GET" and path == "/crumbIssuer/api/json":
            self.record(h, "jenkins", method, 200, True)
            return self.answer(h, 200, {"_class": "hudson.security.csrf.DefaultCrumbIssuer",
                                        "crumb": CRUMB, "crumbRequestField": "Jenkins-Crumb"})
        m = re.fullmatch(r"((?:/job/[^/]+)+)/(\d+)/input/([^/]+)/(proceedEmpty|abort)", path)
        if method == "POST" and m:
            if h.headers.get("Jenkins-Crumb") != CRUMB:
                self.record(h, "jenkins", method, 403, True)
                return self.answer(h, 403, {"message": "No valid crumb was included in the request"})
            if self.flaky():
                self.record(h, "jenkins", method, 503, True)
                return self.answer(h, 503, {"message": "Service Unavailable"})
            self.record(h, "jenkins", method, 200, True)
            return self.answer(h, 200, {})
        self.record(h, "jenkins", method, 404, True)
        return self.answer(h, 404, {"message": "Not Found"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--gitlab-token-env", default="CI_API_GITLAB_TOKEN",
                    help="the variable holding the project access token accepted")
    ap.add_argument("--project", default="42")
    ap.add_argument("--github-app-id", default=None)
    ap.add_argument("--github-app-public-key", default=None, help="PEM file")
    ap.add_argument("--pipeline", default=None, help="the only pipeline id known (default: any)")
    a = ap.parse_args()
    api = CiApi(fail=a.fail, log=a.log, project=a.project, pipeline=a.pipeline,
                gitlab_token=os.environ.get(a.gitlab_token_env, "glpat-test-0123456789abcdef"),
                github_app=(a.github_app_id, open(a.github_app_public_key, "rb").read())
                if a.github_app_public_key else None)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(api.port))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
