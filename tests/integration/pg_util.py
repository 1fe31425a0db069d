"""pg_util.py - a real PostgreSQL server for benches (Python twin of pg_lib.sh).

Server() initialises a cluster with Debian's server binaries (the newest
/usr/lib/postgresql/*/bin) into a fresh directory, as the unprivileged user
"nobody" when run as root (initdb refuses root), starts it on 127.0.0.1 at
a free port with its socket in that directory, and gives its URL
(postgresql://gl@127.0.0.1:PORT/postgres, trust authentication).  stop()
stops it at once and removes the directory; a bench calls it in `finally`.
Unlike the tests (fsync=off), a bench keeps PostgreSQL durable by default:
its commits are then what the relay's and pgbench's figures are made of.
Standard library only.
"""
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile


def bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(re.search(r"/(\d+)/bin", d).group(1)))
    if not dirs or not os.access(f"{dirs[-1]}/initdb", os.X_OK):
        raise RuntimeError("PostgreSQL server binaries not found (install postgresql)")
    return dirs[-1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, durable=True, max_connections=300, base="/var/tmp"):
        self.bin = bindir()
        self.dir = tempfile.mkdtemp(prefix="glpg-", dir=base)
        os.chmod(self.dir, 0o755)
        self.run_as = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody")
            self.run_as = ["runuser", "-u", "nobody", "--"]
        self.port = free_port()
        self.durable = durable
        self.max_connections = max_connections
        self.url = f"postgresql://gl@127.0.0.1:{self.port}/postgres"

    def _run(self, args, log):
        with open(f"{self.dir}/{log}", "ab") as f:
            subprocess.run(self.run_as + args, cwd=self.dir, stdout=f, stderr=f, check=True)

    def start(self):
        self._run([f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U", "gl", "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"], "initdb.log")
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                f" -c max_connections={self.max_connections}"
                + ("" if self.durable else " -c fsync=off"))
        self._run([f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l",
                   f"{self.dir}/server.log", "-w", "-o", opts, "start"], "pg_ctl.log")
        return self

    def stop(self):
        if os.path.isdir(f"{self.dir}/data"):
            subprocess.run(self.run_as + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data",
                                          "-m", "immediate", "-w", "stop"],
                           cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, query):
        """Rows of a query (psql -At), each a list of text fields."""
        out = subprocess.run([f"{self.bin}/psql", "-X", "-At", "-F", "\t", "-h", "127.0.0.1",
                              "-p", str(self.port), "-U", "gl", "-d", "postgres", "-c", query],
                             capture_output=True, text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def pgbench_simple_update(self, clients, seconds, threads=2):
        """pgbench -N (simple update: 3 statements and a commit a transaction)
        with `clients` connections; returns transactions/s."""
        base = [f"{self.bin}/pgbench", "-h", "127.0.0.1", "-p", str(self.port), "-U", "gl"]
        subprocess.run(base + ["-i", "-q", "postgres"], capture_output=True, check=True)
        out = subprocess.run(base + ["-N", "-c", str(clients), "-j", str(threads),
                                     "-T", str(seconds), "postgres"],
                             capture_output=True, text=True, check=True).stdout
        return float(re.search(r"tps = ([\d.]+)", out).group(1))
