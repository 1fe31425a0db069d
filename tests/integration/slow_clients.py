"""slow_clients.py - slow HTTP clients and a timed reviewer, for tests.

  swarm PORT STATS ADDRS PER_ADDR SECONDS
      From each source address in ADDRS (e.g. 127.0.0.2-9; all of 127/8 is
      loopback on Linux) keep PER_ADDR connections that never finish their
      request: a request line, then one header line every 2 s.  A
      connection the server closes is reopened 2 s later.  Runs SECONDS,
      then writes STATS (JSON): connections opened, closed by the server,
      and how long those that had been served a while lived.  SIGUSR1
      writes STATS at once (the swarm goes on).
  probe PORT SRC INTERVAL MAX
      One connection from SRC sending a header line every INTERVAL seconds;
      prints the seconds until the server closed it, or "open" after MAX.
  review URL TIMEOUT [approve|reject]
      A reviewer: GET the page, POST the decision with its nonce; prints
      JSON {get, get_s, post, post_s} (status 0: no answer within TIMEOUT);
      with "none" only the GET.
Standard library only; run with the Debian /usr/bin/python3.
"""
import http.client
import json
import os
import re
import selectors
import signal
import socket
import sys
import time
import urllib.parse

LINE_EVERY = 2.0


def addr_range(spec):
    base, _, last = spec.rpartition(".")
    first, _, end = last.partition("-")
    return [f"{base}.{i}" for i in range(int(first), int(end or first) + 1)]


class Slow:
    """One slow connection from src; reopened after the server closes it."""

    def __init__(self, port, src, sel, stats):
        self.port, self.src, self.sel, self.stats = port, src, sel, stats
        self.sock, self.next_at, self.opened = None, 0.0, 0.0

    def open(self, now):
        s = socket.socket()
        s.bind((self.src, 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        self.sock, self.opened, self.next_at = s, now, now + 0.2
        self.sel.register(s, selectors.EVENT_READ, self)
        self.stats["opened"] += 1

    def send(self, now, first):
        line = b"GET /healthz HTTP/1.1\r\n" if first else b"X-Slow: 1\r\n"
        try:
            self.sock.send(line)
        except OSError:
            pass
        self.next_at = now + LINE_EVERY

    def closed_by_server(self, now):
        life = now - self.opened
        self.stats["closed"] += 1
        if life >= 3.0:     # not refused at once over a limit (that can
            # take a SYN retry, 1 s, when the listen queue overflowed)
            self.stats["lifetimes"].append(round(life, 2))
        self.drop()
        self.next_at = now + LINE_EVERY

    def drop(self):
        self.sel.unregister(self.sock)
        self.sock.close()
        self.sock = None


def write_stats(path, stats):
    out = dict(stats, lifetimes=sorted(stats["lifetimes"]))
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)


def swarm(port, stats_path, addrs, per_addr, seconds):
    sel = selectors.DefaultSelector()
    stats = {"opened": 0, "closed": 0, "lifetimes": []}
    asked = []
    signal.signal(signal.SIGUSR1, lambda *_: asked.append(1))
    conns = [Slow(int(port), a, sel, stats) for a in addr_range(addrs)
             for _ in range(int(per_addr))]
    end = time.monotonic() + float(seconds)
    for c in conns:
        c.open(time.monotonic())
    sent_first = set()
    while time.monotonic() < end:
        if asked:
            asked.clear()
            write_stats(stats_path, stats)
        for key, _ in sel.select(timeout=0.1):
            c = key.data
            try:
                data = c.sock.recv(4096)
            except (ConnectionResetError, BlockingIOError, OSError):
                data = b""
            if not data:
                c.closed_by_server(time.monotonic())
                sent_first.discard(id(c))
        now = time.monotonic()
        for c in conns:
            if now < c.next_at:
                continue
            if c.sock is None:
                c.open(now)
                continue
            c.send(now, id(c) not in sent_first)
            sent_first.add(id(c))
    for c in conns:
        if c.sock is not None:
            c.drop()
    write_stats(stats_path, stats)


def probe(port, src, interval, limit):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", int(port)))
    t0 = time.monotonic()
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    s.settimeout(float(interval))
    while time.monotonic() - t0 < float(limit):
        try:
            if not s.recv(4096):
                break
        except socket.timeout:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        except OSError:
            break
    else:
        print("open")
        return
    print(f"{time.monotonic() - t0:.2f}")


def fetch(url, timeout, body=None):
    """(status, text) of one request on a fresh connection; 0 on timeout."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        if body is None:
            c.request("GET", u.path)
        else:
            c.request("POST", u.path, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return 0, ""
    finally:
        c.close()


def review(url, timeout, decision="approve"):
    t0 = time.monotonic()
    get, page = fetch(url, float(timeout))
    t1 = time.monotonic()
    m = re.search(r'name="nonce" value="([^"]*)"', page)
    post = 0
    if m and decision != "none":
        form = urllib.parse.urlencode({"decision": decision, "nonce": m.group(1),
                                       "reason": "checked during the swarm"})
        post, _ = fetch(url, float(timeout), form)
    t2 = time.monotonic()
    print(json.dumps({"get": get, "get_s": round(t1 - t0, 3), "post": post,
                      "post_s": round(t2 - t1, 3)}))


if __name__ == "__main__":
    {"swarm": swarm, "probe": probe, "review": review}[sys.argv[1]](*sys.argv[2:])
