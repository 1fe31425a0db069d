#!/bin/bash
# i0223-relay-ha.sh - docs/relay.md's operations snippets, run as written
# (taken from their <!-- snippet: NAME --> markers; only host names, ports
# and file paths are substituted) with Debian's nginx and a real
# PostgreSQL (pg_lib.sh):
#   relay-nginx      one relay behind nginx: registration, a review page
#                    fetched with a 6 KB cookie, a decision posted with the
#                    public Origin, a long-poll released through the proxy,
#                    an access log without tokens;
#   relay-ha-nginx   two relays on one database behind one upstream: calls
#                    spread over both, a decision on one wakes a long-poll
#                    held through nginx; relay A SIGKILLed and every call
#                    (registration, read, page, decision, long-poll) still
#                    succeeds through relay B; /healthz through nginx;
#   relay-pg-backup, relay-pg-restore
#                    pg_dump while the relays serve, pg_restore after they
#                    stopped: a decision made before the dump is served
#                    again, a request registered after it is unknown (404);
# and a relay given a libpq multi-host URL whose first host is down
# connects to the second (the failover naming docs/relay.md describes).
. "$(dirname "$0")/relay_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
command -v nginx >/dev/null || { echo "SKIP: nginx not installed"; exit 77; }
pg_start
export SRCDIR
$PY - <<'PYEOF'
import http.client, os, re, signal, socket, ssl, subprocess, threading, time, urllib.parse
import relay_util as ru

T, GL, SRC = os.environ["TMP"], os.environ["GREENLIGHT"], os.environ["SRCDIR"]
PGBIN, PGPORT = os.environ["PGBIN"], os.environ["PGPORT"]
psql = [PGBIN + "/psql", "-h", "127.0.0.1", "-p", PGPORT, "-U", "gl", "-Atc"]
def sql(q, db="postgres"):
    return subprocess.run(psql + [q, db], capture_output=True, text=True).stdout.strip()
sql("CREATE DATABASE ha")
DB = f"postgresql://gl@127.0.0.1:{PGPORT}/ha"
NGX_ERR = f"{T}/nginx-error.log"
loga, logb = f"{T}/a.log", f"{T}/b.log"
check = ru.Checks([loga, logb, NGX_ERR])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def snippet(name):
    return subprocess.run(["python3", f"{SRC}/tests/adapters/snippet.py",
                           f"{SRC}/docs/relay.md", name],
                          capture_output=True, text=True, check=True).stdout

def substitute(text, pairs):
    """Replace each doc value by the rig's; a value the doc no longer has
    fails the test (the doc and this test must change together)."""
    for old, new in pairs:
        if old not in text:
            raise SystemExit(f"FAIL: the snippet no longer contains {old!r}")
        text = text.replace(old, new)
    return text

subprocess.run(["sh", f"{SRC}/tests/integration/make_ca.sh", f"{T}/ca"], check=True)
ctx = ssl.create_default_context(cafile=f"{T}/ca/ca.pem")
NP = free_port()
PUBLIC = f"https://127.0.0.1:{NP}"

def conn():
    return http.client.HTTPSConnection("127.0.0.1", NP, context=ctx, timeout=60)

def call(method, path, body=None, token=ru.BEARER, headers=None):
    c = conn()
    try:
        return ru.call(None, method, path, body, token=token, headers=headers, conn=c)
    finally:
        c.close()

def nonce_of(tok, cookie=None):
    st, html, _ = call("GET", f"/r/{tok}", token=None,
                       headers={"Cookie": cookie} if cookie else None)
    m = re.search(r'name="nonce" value="([^"]*)"', html if isinstance(html, str) else "")
    return st, (m.group(1) if m else None)

def decide(tok, decision="approve"):
    st, nonce = nonce_of(tok)
    form = urllib.parse.urlencode({"decision": decision, "nonce": nonce or "", "reason": ""})
    st, _, _ = call("POST", f"/r/{tok}", form, token=None,
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Origin": PUBLIC})
    return st

def register(**kw):
    body, toks = ru.request_body(**kw)
    st, req, _ = call("POST", "/v1/requests", body)
    return st, req, toks

nginx = None
def start_nginx(site):
    global nginx
    open(f"{T}/site.conf", "w").write(site)
    user = "user root;\n" if os.getuid() == 0 else ""
    temp = "".join(f"    {k}_temp_path {T}/ngx-{k};\n" for k in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    open(f"{T}/nginx.conf", "w").write(
        f"{user}worker_processes 1;\npid {T}/nginx.pid;\nerror_log {NGX_ERR};\n"
        f"events {{ worker_connections 512; }}\n"
        f"http {{\n{temp}    include {T}/site.conf;\n}}\n")
    nginx = subprocess.Popen(["nginx", "-e", NGX_ERR, "-p", T, "-c", f"{T}/nginx.conf",
                              "-g", "daemon off;"], stderr=open(NGX_ERR, "a"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", NP), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False

def stop_nginx():
    nginx.terminate()
    nginx.wait(10)

def longpoll(req_id, out):
    out["r"] = call("GET", f"/v1/requests/{req_id}?wait=20")

args = ["--public-url", PUBLIC]
a = ru.Relay(GL, DB, loga, args=args).start()
b = ru.Relay(GL, DB, logb, args=args).start()

# ---- one relay behind nginx (relay-nginx) ----
site = substitute(snippet("relay-nginx"), [
    ("server 127.0.0.1:8080;", f"server 127.0.0.1:{a.port};"),
    ("listen 443 ssl;", f"listen 127.0.0.1:{NP} ssl;"),
    ("/etc/ssl/relay.example.com.pem", f"{T}/ca/server.pem"),
    ("/etc/ssl/relay.example.com.key", f"{T}/ca/server.key"),
    ("/var/log/nginx/relay.log", f"{T}/access1.log")])
check("nginx starts with the relay-nginx snippet", start_nginx(site), open(NGX_ERR).read())
st, req, toks = register()
check("registration through nginx", st == 201, (st, req))
st, nonce = nonce_of(toks[0][2], cookie="c=" + "x" * 6000)
check("the review page through nginx, with a 6 KB cookie", st == 200 and nonce, st)
out = {}
t = threading.Thread(target=longpoll, args=(req["id"], out)); t.start()
time.sleep(0.5)
check("a decision posted through nginx with the public Origin", decide(toks[0][2]) == 200)
t.join(30)
r = out.get("r")
check("the long-poll held through nginx is released with the decision",
      r is not None and r[0] == 200 and r[1]["state"] == "approved", r)
stop_nginx()
access = open(f"{T}/access1.log").read()
check("the access log has the calls and no token",
      "POST" in access and toks[0][2] not in access and ru.BEARER not in access, access[-500:])
R1 = req["id"]

# ---- two relays behind one upstream (relay-ha-nginx) ----
site = substitute(snippet("relay-ha-nginx"), [
    ("relay-a.internal:8080", f"127.0.0.1:{a.port}"),
    ("relay-b.internal:8080", f"127.0.0.1:{b.port}"),
    ("listen 443 ssl;", f"listen 127.0.0.1:{NP} ssl;"),
    ("/etc/ssl/relay.example.com.pem", f"{T}/ca/server.pem"),
    ("/etc/ssl/relay.example.com.key", f"{T}/ca/server.key"),
    ("/var/log/nginx/relay.log", f"{T}/access2.log")])
check("nginx starts with the relay-ha-nginx snippet", start_nginx(site), open(NGX_ERR).read())
regs = [register() for _ in range(6)]
check("registrations through the pool", all(s == 201 for s, _, _ in regs), [s for s, _, _ in regs])
time.sleep(0.2)
used = set(re.findall(r"127\.0\.0\.1:(\d+)$", open(f"{T}/access2.log").read(), re.M))
check("nginx spreads the calls over both relays", used == {str(a.port), str(b.port)}, used)
_, req, toks = regs[0]
out = {}
t = threading.Thread(target=longpoll, args=(req["id"], out)); t.start()
time.sleep(0.5)
check("a decision made on relay B directly", ru.decide(b.port, toks[0][2]) == 200)
t.join(30)
r = out.get("r")
check("... releases the long-poll held through nginx, whichever relay holds it",
      r is not None and r[1]["state"] == "approved", r)

a.stop(signal.SIGKILL)
sts = []
for i in range(8):
    s, q, tk = register()
    sts.append(s)
    if s == 201:
        sts.append(call("GET", f"/v1/requests/{q['id']}")[0])
        sts.append(nonce_of(tk[0][2])[0])
        sts.append(decide(tk[0][2]))
check("relay A SIGKILLed: every registration, read, page and decision through nginx succeeds",
      all(s in (200, 201) for s in sts) and len(sts) == 32, sts)
_, req, toks = register()
out = {}
t = threading.Thread(target=longpoll, args=(req["id"], out)); t.start()
time.sleep(0.5)
check("... and a decision through nginx", decide(toks[0][2]) == 200)
t.join(30)
r = out.get("r")
check("... releases a long-poll held through nginx", r is not None and r[1]["state"] == "approved", r)
st, body, _ = call("GET", "/healthz", token=None)
check("/healthz through nginx answers ok", st == 200 and body.strip() == "ok", (st, body))
stop_nginx()

# ---- backup while serving, restore after stopping (relay-pg-backup/-restore) ----
env = dict(os.environ, GREENLIGHT_RELAY_DB=DB, PATH=PGBIN + ":" + os.environ["PATH"])
backup = substitute(snippet("relay-pg-backup"), [("/var/backups", T)])
restore = substitute(snippet("relay-pg-restore"), [("/var/backups", T)])
p = subprocess.run(["bash", "-euc", backup], env=env, capture_output=True, text=True)
check("relay-pg-backup runs while relay B serves", p.returncode == 0, p.stderr)
after, _ = ru.register(b.port)
check("relay B stops", b.stop() == 0)
p = subprocess.run(["bash", "-euc", restore], env=env, capture_output=True, text=True)
check("relay-pg-restore runs", p.returncode == 0, p.stderr)
c = ru.Relay(GL, DB, loga).start()
st, body, _ = ru.call(c.port, "GET", f"/v1/requests/{R1}")
check("after the restore the decision made before the backup is served",
      st == 200 and body["state"] == "approved", (st, body))
st, body, _ = ru.call(c.port, "GET", f"/v1/requests/{after['id']}")
check("... and a request registered after the backup is unknown (404)", st == 404, (st, body))
check("relay C stops", c.stop() == 0)

# ---- a multi-host URL whose first host is down ----
multi = (f"postgresql://gl@127.0.0.1:{free_port()},127.0.0.1:{PGPORT}/ha"
         "?target_session_attrs=read-write")
d = ru.Relay(GL, multi, loga).start()
st, body, _ = ru.call(d.port, "GET", f"/v1/requests/{R1}")
check("a relay given a multi-host URL connects to the host that answers",
      st == 200 and body["state"] == "approved", (st, body))
check("relay D stops", d.stop() == 0)
check.finish()
PYEOF
