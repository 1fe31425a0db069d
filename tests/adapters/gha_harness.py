#!/usr/bin/python3
"""gha_harness.py - run a composite GitHub Action the way the runner does.

Inputs only from `with:` (no INPUT_* variables); `${{ }}` substituted in
if/env/with/run/outputs (contexts inputs, github, runner, env, steps; runner.os
and runner.arch follow --env RUNNER_OS=/RUNNER_ARCH=; status
functions; anything else is an error).  Each `run:` step gets fresh
GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY files parsed by the runner's rules and
runs as `bash --noprofile --norc -eo pipefail`; workflow commands are read
from both streams; actions/cache/restore|save@v4 use a directory.  Prints a
JSON report: conclusion, outputs, steps, annotations, summary, log.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml


class HarnessError(Exception):
    pass


# ---- expressions ---------------------------------------------------------

TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*') |
    (?P<num>-?\d+(?:\.\d+)?) |
    (?P<op>==|!=|&&|\|\||!|\(|\)|,|\.|\[|\]) |
    (?P<id>[A-Za-z_][A-Za-z0-9_-]*)
)""", re.X)


def tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise HarnessError("cannot parse expression %r at %d" % (text, pos))
        pos = m.end()
        for kind in ("str", "num", "op", "id"):
            if m.group(kind) is not None:
                out.append((kind, m.group(kind)))
                break
    return out


def to_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def truthy(v):
    return v not in (None, False, 0, "")


def loose_eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return to_str(a).lower() == to_str(b).lower()


class Expr:
    def __init__(self, text, ctx, status):
        self.toks = tokenize(text)
        self.i = 0
        self.ctx = ctx
        self.status = status  # "success" or "failure"
        self.text = text

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise HarnessError("expected %r in %r" % (value, self.text))
        self.i += 1
        return tok

    def parse(self):
        v = self.or_()
        if self.i != len(self.toks):
            raise HarnessError("trailing tokens in %r" % self.text)
        return v

    def or_(self):
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            r = self.and_()
            v = v if truthy(v) else r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        if self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            r = self.unary()
            return loose_eq(v, r) if op == "==" else not loose_eq(v, r)
        return v

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val)
        if (kind, val) == ("op", "("):
            v = self.or_()
            self.take(")")
            return v
        if kind != "id":
            raise HarnessError("unexpected %r in %r" % (val, self.text))
        if val in ("true", "false"):
            return val == "true"
        if val == "null":
            return None
        if self.peek() == ("op", "("):
            return self.call(val)
        return self.path(val)

    def call(self, name):
        self.take("(")
        self.take(")")
        if name == "always":
            return True
        if name == "success":
            return self.status == "success"
        if name == "failure":
            return self.status == "failure"
        if name == "cancelled":
            return False
        raise HarnessError("function %s() is not supported by the harness" % name)

    def path(self, name):
        if name not in self.ctx:
            raise HarnessError("unknown context %r in %r" % (name, self.text))
        v = self.ctx[name]
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.primary()
                self.take("]")
            v = v.get(key) if isinstance(v, dict) else None
        return v


def evaluate(text, ctx, status="success"):
    return Expr(text, ctx, status).parse()


def interpolate(text, ctx, status="success"):
    if not isinstance(text, str):
        return to_str(text)
    out, pos = [], 0
    while True:
        start = text.find("${{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("}}", start)
        if end < 0:
            raise HarnessError("unterminated ${{ in %r" % text)
        out.append(text[pos:start])
        out.append(to_str(evaluate(text[start + 3:end], ctx, status)))
        pos = end + 2


def condition(text, ctx, status):
    if text is None:
        return status == "success"
    text = str(text).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    expr = Expr(text, ctx, status)
    uses_status = any(t[1] in ("always", "success", "failure", "cancelled") for t in expr.toks)
    v = truthy(expr.parse())
    return v if uses_status else (v and status == "success")


# ---- file commands -------------------------------------------------------

def parse_file_command(path):
    """key=value and key<<DELIM lines; raises on a missing delimiter."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out, i = {}, 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            out[line[:eq]] = line[eq + 1:]
            continue
        if hd < 0:
            raise HarnessError("invalid file-command line %r in %s" % (line, path))
        key, delim, body = line[:hd], line[hd + 2:], []
        while i < len(lines) and lines[i] != delim:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise HarnessError("matching delimiter %r not found in %s" % (delim, path))
        i += 1
        out[key] = "\n".join(body)
    return out


def unescape(s, prop):
    s = s.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        s = s.replace("%3A", ":").replace("%2C", ",")
    return s.replace("%25", "%")


def workflow_commands(text):
    cmds = []
    for line in text.split("\n"):
        line = line.strip()
        if not line.startswith("::"):
            continue
        end = line.find("::", 2)
        if end < 0:
            continue
        head, message = line[2:end], line[end + 2:]
        name, _, props = head.partition(" ")
        pd = {}
        for p in props.split(",") if props else []:
            k, _, v = p.partition("=")
            pd[k] = unescape(v, True)
        cmds.append({"command": name, "properties": pd, "message": unescape(message, False)})
    return cmds


# ---- steps ---------------------------------------------------------------

class Job:
    def __init__(self, args):
        self.action_dir = os.path.abspath(args.action)
        with open(os.path.join(self.action_dir, "action.yml"), encoding="utf-8") as f:
            self.action = yaml.safe_load(f)
        self.workspace = os.path.abspath(args.workspace)
        self.temp = tempfile.mkdtemp(prefix="runner-temp.")
        self.cache_store = args.cache_store
        self.action_repository = args.action_repository
        self.action_ref = args.action_ref
        self.with_ = dict(kv.split("=", 1) for kv in args.with_)
        self.base_env = self.make_env(args.env, args.path)
        self.env_acc = {}      # from GITHUB_ENV
        self.path_acc = []     # from GITHUB_PATH
        self.steps = {}
        self.report = {"steps": [], "annotations": [], "summary": "", "log": ""}

    def make_env(self, extra, path):
        env = {
            "PATH": path or os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": self.workspace,
            "GITHUB_ACTION_PATH": self.action_dir,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": "acme/model",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_SHA": "0" * 40,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_ACTOR": "ada",
            "GITHUB_TRIGGERING_ACTOR": "ada",
            "GITHUB_EVENT_NAME": "push",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": self.temp,
            "ImageOS": "ubuntu24",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:  # sanitizer builds under test keep their settings
                env[k] = os.environ[k]
        for kv in extra:
            k, _, v = kv.partition("=")
            env[k] = v
        for k in list(env):
            if k.startswith("INPUT_"):
                raise HarnessError("composite actions get no INPUT_* variables: %s" % k)
        return env

    def context(self, env):
        inputs = {}
        for name, spec in (self.action.get("inputs") or {}).items():
            spec = spec or {}
            if name in self.with_:
                inputs[name] = self.with_[name]
            elif "default" in spec:
                inputs[name] = to_str(spec["default"])
            elif spec.get("required"):
                raise HarnessError("input %s is required" % name)
            else:
                inputs[name] = ""
        unknown = set(self.with_) - set(inputs)
        if unknown:
            raise HarnessError("unexpected inputs: %s" % ", ".join(sorted(unknown)))
        return {
            "inputs": inputs,
            "github": {"action_path": self.action_dir, "workspace": self.workspace,
                       "action_repository": self.action_repository, "action_ref": self.action_ref,
                       "repository": env["GITHUB_REPOSITORY"], "sha": env["GITHUB_SHA"],
                       "run_id": env["GITHUB_RUN_ID"], "server_url": env["GITHUB_SERVER_URL"],
                       "event_name": env["GITHUB_EVENT_NAME"], "ref": env["GITHUB_REF"],
                       "actor": env["GITHUB_ACTOR"]},
            "runner": {"temp": self.temp, "os": env["RUNNER_OS"], "arch": env["RUNNER_ARCH"]},
            "env": env,
            "steps": self.steps,
        }

    def step_env(self):
        env = dict(self.base_env)
        env.update(self.env_acc)
        if self.path_acc:
            env["PATH"] = ":".join(reversed(self.path_acc)) + ":" + env["PATH"]
        return env

    def run_script(self, step, ctx, env):
        shell = step.get("shell")
        if shell != "bash":
            raise HarnessError("composite run steps need shell: bash here (got %r)" % shell)
        script = interpolate(step["run"], ctx)
        fc = tempfile.mkdtemp(prefix="_runner_file_commands.", dir=self.temp)
        files = {k: os.path.join(fc, k.lower()) for k in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")}
        for k, p in files.items():
            open(p, "w").close()
            env[k] = p
        path = os.path.join(fc, "script.sh")
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        cwd = interpolate(step.get("working-directory", self.workspace), ctx)
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", path],
                           cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.report["log"] += out + err
        for c in workflow_commands(out) + workflow_commands(err):
            if c["command"] in ("error", "warning", "notice"):
                self.report["annotations"].append(c)
            elif c["command"] in ("set-output", "set-env", "add-path", "save-state"):
                raise HarnessError("deprecated workflow command ::%s:: used" % c["command"])
        outputs = parse_file_command(files["GITHUB_OUTPUT"])
        self.env_acc.update(parse_file_command(files["GITHUB_ENV"]))
        with open(files["GITHUB_PATH"], encoding="utf-8") as f:
            self.path_acc += [l for l in f.read().split("\n") if l]
        with open(files["GITHUB_STEP_SUMMARY"], encoding="utf-8") as f:
            self.report["summary"] += f.read()
        return p.returncode, outputs

    def run_uses(self, step, ctx):
        uses = step["uses"]
        with_ = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
        m = re.fullmatch(r"actions/cache/(restore|save)@v4", uses)
        if not m or not self.cache_store:
            raise HarnessError("the harness cannot run uses: %s" % uses)
        key, path = with_["key"], os.path.expanduser(with_["path"])
        stored = os.path.join(self.cache_store, key.replace("/", "_"))
        self.report["log"] += "[cache %s] key=%s\n" % (m.group(1), key)
        if m.group(1) == "restore":
            if os.path.isdir(stored):
                shutil.rmtree(path, ignore_errors=True)
                shutil.copytree(stored, path)
                return 0, {"cache-hit": "true", "cache-matched-key": key, "cache-primary-key": key}
            return 0, {"cache-hit": "false", "cache-primary-key": key}
        if not os.path.isdir(path):
            raise HarnessError("cache save: %s does not exist" % path)
        if not os.path.isdir(stored):
            shutil.copytree(path, stored)
        return 0, {}

    def run(self):
        status = "success"
        for n, step in enumerate(self.action["runs"]["steps"]):
            sid = step.get("id", "__%d" % n)
            env = self.step_env()
            ctx = self.context(env)
            rec = {"id": sid, "name": step.get("name", "")}
            if not condition(step.get("if"), ctx, status):
                rec["outcome"] = "skipped"
                self.steps[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                self.report["steps"].append(rec)
                continue
            for k, v in (step.get("env") or {}).items():
                env[k] = interpolate(v, ctx)
            if "run" in step:
                code, outputs = self.run_script(step, ctx, env)
            elif "uses" in step:
                code, outputs = self.run_uses(step, ctx)
            else:
                raise HarnessError("step %s has neither run nor uses" % sid)
            outcome = "success" if code == 0 else "failure"
            if outcome == "failure" and not step.get("continue-on-error"):
                status = "failure"
            rec.update({"outcome": outcome, "exit_code": code, "outputs": outputs})
            self.steps[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            self.report["steps"].append(rec)
        ctx = self.context(self.step_env())
        self.report["outputs"] = {name: interpolate((spec or {}).get("value", ""), ctx)
                                  for name, spec in (self.action.get("outputs") or {}).items()}
        self.report["conclusion"] = status
        shutil.rmtree(self.temp, ignore_errors=True)
        return self.report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", help="directory holding action.yml")
    ap.add_argument("--with", dest="with_", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--path", help="PATH for the job (default: ours)")
    ap.add_argument("--workspace", default=".")
    ap.add_argument("--cache-store", help="directory emulating the Actions cache")
    ap.add_argument("--action-repository", default="",
                    help="github.action_repository (default empty, as for uses: ./)")
    ap.add_argument("--action-ref", default="", help="github.action_ref, e.g. v0.2.0")
    args = ap.parse_args()
    try:
        report = Job(args).run()
    except HarnessError as e:
        print("harness: %s" % e, file=sys.stderr)
        return 2
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
