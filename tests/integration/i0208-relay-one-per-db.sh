#!/bin/bash
# i0208-relay-one-per-db.sh - no silent split: a second relay on the same
# SQLite database (named the same way, through a symbolic link, or through
# GREENLIGHT_RELAY_DB) refuses to start with one clear line and exit 4,
# while the first keeps serving; after the first is SIGKILLed (the lock
# dies with the process) a new relay starts on the database at once.  A
# --db that is a URL of another scheme (mysql://, sqlite://, POSTGRESQL://,
# any scheme://) is a usage error (exit 2) naming the supported forms, and
# nothing is created in the working directory.  PostgreSQL URLs are opened instead (one relay per
# database applies only to SQLite; i0220 runs them on a real server): one
# that cannot be reached is exit 4, its password never printed.
. "$(dirname "$0")/relay_lib.sh"
$PY - <<'PYEOF'
import os, signal, subprocess, time
import relay_util as ru

T, GL = os.environ["TMP"], os.environ["GREENLIGHT"]
log, db = f"{T}/relay.log", f"{T}/state/relay.db"
check = ru.Checks([log])
env = dict(os.environ, GREENLIGHT_RELAY_TOKENS=ru.BEARER)

def second(dbarg, extra_env=None):
    e = dict(env, **(extra_env or {}))
    args = [GL, "relay", "--listen", "127.0.0.1:0"] + (["--db", dbarg] if dbarg else [])
    p = subprocess.run(args, capture_output=True, text=True, env=e, timeout=30)
    return p.returncode, p.stderr

a = ru.Relay(GL, db, log).start()
req, toks = ru.register(a.port)
check("the lock file sits next to the database", os.path.exists(db + ".lock"))
check("... and names the relay holding it",
      open(db + ".lock").read().strip() == str(a.proc.pid), open(db + ".lock").read())

rc, err = second(db)
lines = [l for l in err.splitlines() if l.strip()]
check("a second relay on the same database exits 4", rc == 4, (rc, err))
check("with one line", len(lines) == 1, err)
check("that says another relay serves the database, with its pid",
      "another greenlight relay" in err and f"pid {a.proc.pid}" in err and "one relay per database" in err, err)
check("and never started listening", "listening on" not in err, err)

os.symlink(db, f"{T}/link.db")
rc, err = second(f"{T}/link.db")
check("through a symbolic link too: exit 4", rc == 4 and "another greenlight relay" in err, (rc, err))
rc, err = second(None, {"GREENLIGHT_RELAY_DB": os.path.relpath(db)})
check("named by GREENLIGHT_RELAY_DB with a relative path: exit 4",
      rc == 4 and "another greenlight relay" in err, (rc, err))

st, b, _ = ru.call(a.port, "GET", f"/v1/requests/{req['id']}")
check("the first relay still serves", st == 200 and b["state"] == "pending", (st, b))

a.proc.send_signal(signal.SIGKILL)
a.proc.wait()
b2 = ru.Relay(GL, db, log).start()
check("after SIGKILL a new relay starts on the database", b2.port is not None)
st, b, _ = ru.call(b2.port, "GET", f"/v1/requests/{req['id']}")
check("and serves the same request", st == 200 and b["id"] == req["id"], (st, b))
check("the new relay stops with 0", b2.stop() == 0)
b3 = ru.Relay(GL, db, log).start()
check("after a clean stop a relay starts again (the lock file stays, unlocked)", b3.port is not None)
check("stops with 0", b3.stop() == 0)

os.chdir(T)
os.mkdir("cwd")
os.chdir("cwd")
for url in ("POSTGRESQL://x/y", "postgresql:relay", "mysql://h/relay", "file:///var/lib/relay.db",
            "sqlite://relay.db"):
    rc, err = second(url)
    lines = [l for l in err.splitlines() if l.strip()]
    check(f"--db {url}: exit 2", rc == 2, (rc, err))
    check(f"--db {url}: one line naming the supported forms",
          len(lines) == 1 and "--db PATH" in err and "SQLite file" in err
          and "postgresql://" in err, err)
    rc, err = second(None, {"GREENLIGHT_RELAY_DB": url})
    check(f"GREENLIGHT_RELAY_DB={url}: exit 2", rc == 2, (rc, err))
rc, err = second("mysql://gl:hunter2@h/relay")
check("an unsupported URL's password is not printed", rc == 2 and "hunter2" not in err
      and "gl:***@h" in err, err)
# PostgreSQL URLs are opened (i0220 runs a real server); nothing listens here
for url in ("postgres://gl:hunter2@127.0.0.1:1/relay", "postgresql://gl@127.0.0.1:1/relay"):
    rc, err = second(url)
    check(f"--db {url}: a database that cannot be reached: exit 4", rc == 4, (rc, err))
    check(f"--db {url}: says so without the password",
          "cannot open database postgres" in err and "hunter2" not in err, err)
check("nothing was created in the working directory", os.listdir(".") == [], os.listdir("."))
# without tokens the relay stops right after opening its database
rc, err = second("postgresql-dump/relay.db", {"GREENLIGHT_RELAY_TOKENS": ""})
check("a path that merely starts like a scheme is a file name",
      "URL" not in err and os.path.exists("postgresql-dump/relay.db"), (rc, err))
check.finish()
PYEOF
