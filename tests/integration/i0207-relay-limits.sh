#!/bin/bash
# i0207-relay-limits.sh - the relay's limits: a connection over the limit
# per client address is closed at once; over the total limit it waits,
# unaccepted, until one closes; request header (--header-buffer) and body
# caps; the idle timeout; a held long-poll outlives the idle timeout (the
# relay ends it at its wait, not libmicrohttpd).
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import json, os, socket, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log = f"{T}/relay.log"
check = ru.Checks([log])

def closed_without_answer(s, timeout=3):
    """The server closed s (EOF or reset) without a byte of answer."""
    s.settimeout(timeout)
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return data == b""

def no_answer_yet(s, timeout=0.5):
    """Nothing came back on s (not even a close) within timeout."""
    s.settimeout(timeout)
    try:
        s.recv(4096)
    except socket.timeout:
        return True
    return False

def open_partial(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")    # headers not finished
    return s

r = ru.Relay(GL, f"{T}/relay.db", log, ["--per-ip-connections", "3", "--max-connections", "50",
                                        "--idle-timeout", "1s"]).start()
P = r.port
held = [open_partial(P) for _ in range(3)]
time.sleep(0.2)
extra = open_partial(P)
t0 = time.monotonic()
check("a 4th connection from the same address is closed", closed_without_answer(extra))
check("... at once", time.monotonic() - t0 < 1)
for s in held:
    s.close()
time.sleep(0.3)
check("after they close, a new one is served", ru.call(P, "GET", "/healthz", token=None)[0] == 200)

idle = socket.create_connection(("127.0.0.1", P))
t0 = time.monotonic()
check("an idle connection is closed", closed_without_answer(idle, 5))
check(f"... after about the idle timeout ({time.monotonic() - t0:.1f}s)", time.monotonic() - t0 < 3.5)

req, _ = ru.register(P)
(st, body, secs), = ru.hold_longpolls(P, [req["id"]], 3)
check("a held long-poll outlives the 1 s idle timeout and ends at its wait (3 s)",
      st == 200 and body["state"] == "pending" and 2.9 <= secs < 4.5, (st, secs))

st, _, _ = ru.call(P, "GET", f"/v1/requests/{req['id']}", headers={"Cookie": "x" * 3000})
check("3,000 bytes of headers fit the default header buffer", st == 200, st)
st, _, _ = ru.call(P, "GET", f"/v1/requests/{req['id']}", headers={"Cookie": "x" * 6000})
check("6,000 bytes do not: 431", st == 431, st)
s = socket.create_connection(("127.0.0.1", P))
s.sendall((f"POST /v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ru.BEARER}\r\n"
           "Content-Type: application/json\r\nContent-Length: 300000\r\n\r\n").encode())
s.settimeout(5)
head = s.recv(4096).decode(errors="replace")
check("a 300,000-byte body is refused before it is sent: 413", head.startswith("HTTP/1.1 413"), head[:80])
s.close()
st, out, _ = ru.call(P, "POST", "/v1/requests", b"{" + b" " * (260 * 1024) + b"}")
check("a 260 KiB body is refused: 413", st == 413, st)
check("relay stops with 0", r.stop() == 0)

r = ru.Relay(GL, f"{T}/relay.db", log, ["--max-connections", "4", "--per-ip-connections", "10",
                                        "--header-buffer", "16K"]).start()
st, _, _ = ru.call(r.port, "GET", "/healthz", token=None, headers={"Cookie": "x" * 6000})
check("--header-buffer 16K takes 6,000 bytes of headers", st == 200, st)
held = [open_partial(r.port) for _ in range(4)]
time.sleep(0.2)
extra = open_partial(r.port)
check("a connection beyond --max-connections is not served", no_answer_yet(extra))
held.pop().close()
extra.sendall(b"\r\n")
extra.settimeout(5)
check("... until another one closes", extra.recv(4096).startswith(b"HTTP/1.1 200"))
for s in held + [extra]:
    s.close()
check("relay stops with 0", r.stop() == 0)
check.finish()
PYEOF
