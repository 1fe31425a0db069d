#!/bin/bash
# i0206-relay-tls.sh - native HTTPS (libmicrohttpd + GnuTLS) with
# --tls-cert/--tls-key and a throw-away CA: curl --cacert reaches /healthz
# and the API, a client without the CA is refused, plain HTTP gets no
# answer, and the review page's form checks the https:// origin.
. "$(dirname "$0")/relay_lib.sh"
sh "$SRCDIR/tests/integration/make_ca.sh" "$TMP/certs"
$PY - <<'PYEOF'
import http.client, json, os, re, socket, ssl, subprocess, time, urllib.parse
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, certs = f"{T}/relay.log", f"{T}/certs"
check = ru.Checks([log])
r = ru.Relay(GL, f"{T}/relay.db", log, ["--tls-cert", f"{certs}/server.pem",
                                        "--tls-key", f"{certs}/server.key"]).start()
P = r.port
check("announces https", r.scheme == "https", r.scheme)
base = f"https://127.0.0.1:{P}"

def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", f"{certs}/ca.pem", *args],
                          capture_output=True, text=True)

p = curl(f"{base}/healthz")
check("curl --cacert: /healthz over TLS", p.returncode == 0 and p.stdout == "ok\n", (p.returncode, p.stderr))
p = subprocess.run(["curl", "-sS", "--max-time", "10", f"{base}/healthz"], capture_output=True, text=True)
check("curl without the CA is refused (60)", p.returncode == 60, (p.returncode, p.stderr))
p = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{P}/healthz"],
                   capture_output=True, text=True)
check("plain HTTP gets no HTTP answer", p.returncode != 0 or not p.stdout.startswith("ok"), p)

body, toks = ru.request_body()
p = curl("-X", "POST", "-H", f"Authorization: Bearer {ru.BEARER}", "-H", "Content-Type: application/json",
         "--data-binary", json.dumps(body), "-w", "\n%{http_code}", f"{base}/v1/requests")
out, _, code = p.stdout.rpartition("\n")
check("register over TLS: 201", code == "201", (code, p.stderr))
rid = json.loads(out)["id"] if code == "201" else ""
p = curl("-H", "Authorization: Bearer nope-nope-nope-nope", "-o", "/dev/null", "-w", "%{http_code}",
         f"{base}/v1/requests/{rid}")
check("wrong bearer over TLS: 401", p.stdout == "401", p.stdout)

ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
def https(method, path, body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", P, context=ctx, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    resp = c.getresponse()
    data = resp.read().decode()
    c.close()
    return resp.status, data

tok = toks[0][2]
st, html = https("GET", f"/r/{tok}")
check("review page over TLS: 200", st == 200, st)
nonce = re.search(r'name="nonce" value="([^"]*)"', html).group(1)
form = urllib.parse.urlencode({"decision": "approve", "nonce": nonce})
hdr = {"Content-Type": "application/x-www-form-urlencoded"}
st, _ = https("POST", f"/r/{tok}", form, dict(hdr, Origin=f"http://127.0.0.1:{P}"))
check("the http:// origin is not ours: 403", st == 403, st)
st, _ = https("POST", f"/r/{tok}", form, dict(hdr, Origin=f"https://127.0.0.1:{P}"))
check("the https:// origin is: 200", st == 200, st)
st, data = https("GET", f"/v1/requests/{rid}?wait=5", headers={"Authorization": f"Bearer {ru.BEARER}"})
check("long-poll over TLS sees the decision", st == 200 and json.loads(data)["state"] == "approved", data)
check("relay stops with 0", r.stop() == 0)

# a key that does not match: refused at start-up, exit 4
subprocess.run(["openssl", "genrsa", "-out", f"{T}/other.key", "2048"], capture_output=True)
p = subprocess.run([GL, "relay", "--db", f"{T}/relay.db", "--listen", "127.0.0.1:0",
                    "--tls-cert", f"{certs}/server.pem", "--tls-key", f"{T}/other.key"],
                   capture_output=True, text=True, env=dict(os.environ, GREENLIGHT_RELAY_TOKENS=ru.BEARER),
                   timeout=20)
check("mismatched key: exit 4", p.returncode == 4, (p.returncode, p.stderr))
p = subprocess.run([GL, "relay", "--db", f"{T}/relay.db", "--tls-cert", f"{certs}/server.pem"],
                   capture_output=True, text=True, env=dict(os.environ, GREENLIGHT_RELAY_TOKENS=ru.BEARER))
check("a certificate without a key: exit 2", p.returncode == 2, (p.returncode, p.stderr))
check.finish()
PYEOF
