#!/usr/bin/env python3
"""fake_relay.py - a relay that answers what the test tells it to.

A stand-in for a malicious (or compromised) `greenlight relay`: the real
relay settles requests from the decisions it records and cannot be made to
lie, so the gate's own checks of a relay's answers are exercised against
this one.  It implements just enough of docs/relay-protocol.md:

  POST /v1/requests               201 with a new pending request object;
                                  the body is saved as DIR/register-N.json
  POST /v1/requests/<id>/notified 204
  GET  /v1/requests/<id>?wait=N   the request object, with "state" and
                                  "decisions" taken from DIR/answer.json when
                                  that file exists (read at every poll), else
                                  pending after a short pause
  PUT  /v1/baselines              204; the body is saved as DIR/baseline-N.json
  POST /v1/baselines/lookup       the body is saved as DIR/lookup.json; the
                                  answer is DIR/baselines.json when that file
                                  exists (whatever it holds), else
                                  {"records": []}

Every API call needs "Authorization: Bearer TOKEN" (else 401).  Loopback
only: --host must be an address of this machine (127.0.0.0/8).

Usage: fake_relay.py --host 127.0.0.1 --port-file F --dir DIR --token TOKEN
"""
import argparse
import json
import os
import re
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ARGS = None
REQUESTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-relay: " + fmt % args + "\n")

    def reply(self, status, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + ARGS.token:
            return True
        self.reply(401, {"error": "unauthorized"})
        return False

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_PUT(self):
        data = self.body()
        if not self.authorized():
            return
        if urlsplit(self.path).path != "/v1/baselines":
            return self.reply(404, {"error": "not found"})
        n = len([f for f in os.listdir(ARGS.dir)
                 if f.startswith("baseline-")]) + 1
        with open(os.path.join(ARGS.dir, "baseline-%d.json" % n), "wb") as f:
            f.write(data)
        self.reply(204)

    def lookup(self, data):
        with open(os.path.join(ARGS.dir, "lookup.json"), "wb") as f:
            f.write(data)
        answer = os.path.join(ARGS.dir, "baselines.json")
        if not os.path.exists(answer):
            return self.reply(200, {"records": []})
        with open(answer, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = self.body()
        if not self.authorized():
            return
        path = urlsplit(self.path).path
        if path == "/v1/baselines/lookup":
            return self.lookup(data)
        if path == "/v1/requests":
            reg = json.loads(data)
            n = len([f for f in os.listdir(ARGS.dir)
                     if f.startswith("register-")]) + 1
            with open(os.path.join(ARGS.dir, "register-%d.json" % n), "w") as f:
                json.dump(reg, f)
            rid = secrets.token_hex(16)
            REQUESTS[rid] = {
                "id": rid, "gate": reg.get("gate", ""), "state": "pending",
                "created": int(time.time()), "deadline": reg["deadline"],
                "decided_at": None, "notified": False,
                "teams": [{"name": t["name"],
                           "approvals": t.get("approvals", 1), "approved": 0}
                          for t in reg.get("teams", [])],
                "decisions": []}
            with open(os.path.join(ARGS.dir, "id-%d" % n), "w") as f:
                f.write(rid)
            return self.reply(201, REQUESTS[rid])
        m = re.fullmatch(r"/v1/requests/([0-9a-f]{32})/notified", path)
        if m and m.group(1) in REQUESTS:
            REQUESTS[m.group(1)]["notified"] = True
            return self.reply(204)
        self.reply(404, {"error": "not found"})

    def do_GET(self):
        if not self.authorized():
            return
        u = urlsplit(self.path)
        m = re.fullmatch(r"/v1/requests/([0-9a-f]{32})", u.path)
        if not m or m.group(1) not in REQUESTS:
            return self.reply(404, {"error": "not found"})
        obj = dict(REQUESTS[m.group(1)])
        answer = os.path.join(ARGS.dir, "answer.json")
        if os.path.exists(answer):
            with open(answer) as f:
                obj.update(json.load(f))
            obj["decided_at"] = int(time.time())
        else:
            wait = int(parse_qs(u.query).get("wait", ["0"])[0])
            time.sleep(min(wait, 0.5))
        self.reply(200, obj)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--token", required=True)
    ARGS = p.parse_args()
    if not ARGS.host.startswith("127."):
        sys.exit("fake-relay: loopback addresses only")
    os.makedirs(ARGS.dir, exist_ok=True)
    srv = ThreadingHTTPServer((ARGS.host, 0), Handler)
    srv.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
