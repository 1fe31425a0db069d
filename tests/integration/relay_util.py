"""relay_util.py - drive `greenlight relay` from tests and bench/relay.

Starts a relay on 127.0.0.1 port 0 (the port is read from its "listening
on" line), registers requests through the API with fresh review tokens
(only their SHA-256 goes to the relay, as the gate does), decides through
the review page exactly as a browser form would (GET the page for the
nonce, POST the form), and holds many long-polls at once with asyncio raw
sockets (one connection each, no client library limits).  Standard library
only; run with the Debian /usr/bin/python3.
"""
import asyncio
import atexit
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import time
import urllib.parse

BEARER = "test-bearer-token-0123456789"
_started = []


@atexit.register
def _kill_leftovers():
    """A test that stopped half-way leaves no relay running."""
    for p in _started:
        if p.poll() is None:
            p.kill()
            p.wait()


def new_token():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


class Relay:
    """A relay process; stderr goes to `log`.  GREENLIGHT_TEST_RELAY_DB (a
    PostgreSQL URL, set by i0221) replaces every database a test names."""

    def __init__(self, binary, db, log, args=(), env=None, tokens=BEARER):
        db = os.environ.get("GREENLIGHT_TEST_RELAY_DB") or db
        self.binary, self.db, self.log, self.args = binary, db, log, list(args)
        self.env = dict(os.environ if env is None else env)
        if tokens is not None:
            self.env["GREENLIGHT_RELAY_TOKENS"] = tokens
        self.proc = None
        self.port = None
        self.scheme = "http"

    def start(self, timeout=10):
        self.err = open(self.log, "ab")
        start_at = self.err.tell()
        self.proc = subprocess.Popen(
            [self.binary, "relay", "--db", self.db, "--listen", "127.0.0.1:0"] + self.args,
            stdout=subprocess.DEVNULL, stderr=self.err, env=self.env)
        _started.append(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log, "rb") as f:
                f.seek(start_at)
                m = re.search(rb"listening on (https?)://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.scheme, self.port = m.group(1).decode(), int(m.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"relay exited with {self.proc.returncode}")
            time.sleep(0.01)
        raise RuntimeError("relay did not start")

    def url(self, path=""):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        if self.proc:
            self.err.close()
        return self.proc.returncode if self.proc else None

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0


def call(port, method, path, body=None, token=BEARER, headers=None, conn=None):
    """One HTTP call; returns (status, parsed JSON or text, headers)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    if not conn:
        c.close()
    ctype = r.getheader("Content-Type", "")
    val = json.loads(raw) if raw and ctype.startswith("application/json") else raw.decode()
    return r.status, val, r


def request_body(key=None, teams=(("eng", 1, 1),), deadline_in=600, author=None,
                 facts=None):
    """A registration body and the plaintext tokens per recipient.
    teams: (name, approvals, recipients) triples."""
    tokens, recipients, team_list = [], [], []
    for name, approvals, n in teams:
        team_list.append({"name": name, "approvals": approvals})
        for i in range(n):
            tok = new_token()
            email = f"{name}{i}@example.com"
            tokens.append((email, name, tok))
            recipients.append({"email": email, "team": name, "token_hash": sha256_hex(tok)})
    body = {
        "key": key or secrets.token_hex(32),
        "gate": "model-release",
        "facts": facts if facts is not None else {
            "rules": [{"metric": "$.latencyMs", "value": 225, "op": ">",
                       "threshold": 80, "next": teams[0][0]}]},
        "deadline": int(time.time()) + deadline_in,
        "teams": team_list,
        "recipients": recipients,
    }
    if author:
        body["author_email"] = author
    return body, tokens


def register(port, **kw):
    body, tokens = request_body(**kw)
    status, req, _ = call(port, "POST", "/v1/requests", body)
    if status not in (200, 201):
        raise RuntimeError(f"register: {status} {req}")
    return req, tokens


def page_nonce(port, token):
    status, html, _ = call(port, "GET", f"/r/{token}", token=None)
    m = re.search(r'name="nonce" value="([^"]*)"', html if isinstance(html, str) else "")
    return status, (m.group(1) if m else None)


def decide(port, token, decision="approve", reason="", nonce=None, conn=None):
    """POST the review form; returns the HTTP status."""
    if nonce is None:
        _, nonce = page_nonce(port, token)
    form = urllib.parse.urlencode({"decision": decision, "nonce": nonce or "",
                                   "reason": reason})
    status, _, _ = call(port, "POST", f"/r/{token}", form, token=None, conn=conn,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    return status


def metrics(port):
    _, text, _ = call(port, "GET", "/metrics", token=None)
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_metric(port, name, want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metrics(port).get(name) == want:
            return True
        time.sleep(0.02)
    return False


async def _longpoll(port, req_id, wait, token, results, idx, connect_sem, ends):
    """GET /v1/requests/<id>?wait= on its own connection; stores
    (status, body, seconds) in results[idx] and, with ends, the monotonic
    time the answer was complete in ends[idx]."""
    async with connect_sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t0 = time.monotonic()
    writer.write((f"GET /v1/requests/{req_id}?wait={wait} HTTP/1.1\r\n"
                  f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  "Connection: close\r\n\r\n").encode())
    await writer.drain()
    try:
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = body
    end = time.monotonic()
    results[idx] = (status, parsed, end - t0)
    if ends is not None:
        ends[idx] = end


async def _hold(port, ids, wait, token, on_held, connect_burst, ends):
    results = [None] * len(ids)
    sem = asyncio.Semaphore(connect_burst)
    tasks = [asyncio.create_task(_longpoll(port, rid, wait, token, results, i, sem, ends))
             for i, rid in enumerate(ids)]
    if on_held:
        await asyncio.get_running_loop().run_in_executor(None, on_held)
    await asyncio.gather(*tasks, return_exceptions=False)
    return results


def hold_longpolls(port, ids, wait, on_held=None, token=BEARER, connect_burst=256, ends=None):
    """Open one long-poll per entry of ids at once; on_held() runs in a
    thread meanwhile (e.g. wait until held, then decide).  Returns a list of
    (status, body, seconds from sending the request); with a list `ends`,
    ends[i] is the time.monotonic() at which answer i was complete."""
    if ends is not None:
        ends[:] = [None] * len(ids)
    return asyncio.run(_hold(port, ids, wait, token, on_held, connect_burst, ends))


class Checks:
    """Assertions that count instead of stopping: check(what, cond)."""

    def __init__(self, logs=()):
        self.passed = self.failed = 0
        self.logs = list(logs)

    def __call__(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            return True
        self.failed += 1
        print(f"FAIL: {what}" + (f": {detail}" if detail else ""), flush=True)
        for path in self.logs:
            try:
                print(f"--- {path}\n" + open(path, errors="replace").read()[-2000:])
            except OSError:
                pass
        return False

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        raise SystemExit(1 if self.failed else 0)
