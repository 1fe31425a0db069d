#!/usr/bin/python3
"""schema_parity.py - schema/greenlight.schema.json and `greenlight validate`
agree (run by tests/cli/t0009-schema.sh; needs Debian's python3-jsonschema).

Checks, each a separate assertion ("FAIL: ..." on stderr, a count at the end,
exit 1 if anything failed):

  1. the schema is a valid draft 2020-12 schema, with a stable $id;
  2. it knows exactly the keys and values src/gate.c knows (the key and enum
     tables in src/gate.c, the operator table in src/choice.c), so a key added
     to greenlight without the schema, or the other way round, fails here;
  3. every example gate (examples/**/*.json with "version" and "choices") and
     every gate shown in README.md and docs/*.md validates with the schema and
     with greenlight;
  4. tests/cli/schema-valid/*.json: both accept (stderr as listed below);
  5. tests/cli/schema-invalid/*.json: both refuse - the schema with an error
     at the listed place, greenlight with exit 2 and the listed message;
  6. tests/cli/schema-greenlight-only/*.json: the schema accepts and
     greenlight refuses (exit 2, the listed message).  These are the checks
     docs/schema.md says only greenlight does; each kind there has a file here.

The tables below must list exactly the files in each directory.
Environment: GREENLIGHT (the binary), SRCDIR (the source tree).
"""
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema

SRC = os.environ["SRCDIR"]
GL = os.environ["GREENLIGHT"]
SCHEMA_ID = "https://your-org.github.io/greenlight/schema/v1/greenlight.schema.json"

# file (without .json) -> what greenlight prints on stderr ("" = nothing)
VALID = {
    "team-reminders-and-escalation": "",
    "baseline-store-relay": "",
    "every-baseline-key": "",
    "every-notify-and-decision-key": "",
    "decision-relay-list": "",
    "every-operator-and-top-level-key": "",
    "minimal": "",
    "nesting-64-levels": "",
    "unused-team-is-only-a-warning": 'warning: team "idle" is never named',
}

# file -> (JSON path of a schema error, greenlight's message)
INVALID = {
    'escalate-without-after': ('$.teams.engineering.escalate', 'teams.engineering.escalate needs "after": a duration'),
    'remind-every-not-a-duration': ('$.teams.engineering.remind_every', 'teams.engineering.remind_every must be a duration like'),
    'and-and-or-in-one-rule': ('$.choices[1]', 'choices[1].Or: And and Or in one rule; nest one inside the'),
    'and-empty-array': ('$.choices[1].And', 'choices[1].And: And needs a non-empty array of rules, got'),
    'and-with-operator': ('$.choices[1]', 'choices[1].IsNull: And and IsNull in one rule; a rule is'),
    'and-with-variable': ('$.choices[1]', 'choices[1].Variable: a rule with And has no Variable; put'),
    'approvals-as-string': ('$.teams.engineering.approvals', 'teams.engineering.approvals must be a whole number >= 1'),
    'approvals-fraction': ('$.teams.engineering.approvals', 'teams.engineering.approvals must be a whole number >= 1'),
    'approvals-zero': ('$.teams.engineering.approvals', 'teams.engineering.approvals must be a whole number >= 1'),
    'baseline-store-s3': ('$.baseline.store', 'baseline.store is "s3://bucket"; write "git-notes", "dir:PATH" or "relay"'),
    'baseline-window-zero': ('$.baseline.window', 'baseline.window must be a whole number from 1 to 100'),
    'boolean-operand-as-string': ('$.choices[1].BooleanEquals', 'choices[1].BooleanEquals: operator BooleanEquals needs true'),
    'comment-not-a-string': ('$.choices[1].Comment', 'choices[1].Comment: Comment needs a string, got number 5'),
    'decision-relay-list-too-long': ('$.decision.relay', 'decision.relay has 9 URLs; list 1 to 8 relays of one database'),
    'decision-allow-insecure-relay-as-string': ('$.decision.allow_insecure_relay', 'decision.allow_insecure_relay must be true or false'),
    'decision-allow-self-approval-as-string': ('$.decision.allow_self_approval', 'decision.allow_self_approval must be true or false'),
    'decision-on-timeout-pass': ('$.decision.on_timeout', 'decision.on_timeout is "pass"; valid values: fail'),
    'decision-plus-tags-strip': ('$.decision.plus_tags', 'decision.plus_tags is "strip"; valid values: ignore, keep'),
    'decision-progress-as-number': ('$.decision.progress', 'decision.progress must be a string, not a number'),
    'decision-relay-token-env-holds-a-token': ('$.decision.relay_token_env', 'decision.relay_token_env must name an environment variable'),
    'decision-secret-env-lowercase': ('$.decision.secret_env', 'decision.secret_env must name an environment variable (like'),
    'decision-timeout-not-a-duration': ('$.decision.timeout', 'decision.timeout is "1 day"; write a duration like "90s"'),
    'decision-timeout-zero': ('$.decision.timeout', 'decision.timeout is "0s"; write a duration like "90s"'),
    'decision-unknown-key': ('$.decision', 'unknown key "timeout_seconds" in decision; valid keys: via'),
    'decision-via-email': ('$.decision.via', 'decision.via is "email"; valid values: listen, relay'),
    'default-not-a-string': ('$.default', 'the gate.default must be a string, not a boolean'),
    'empty-choices': ('$.choices', 'choices must be a non-empty array of Choice rules'),
    'empty-name': ('$.name', 'the gate.name must not be empty'),
    'empty-rule': ('$.choices[1]', 'choices[1]: empty rule; a rule has "Variable" and one'),
    'is-present-operand-as-string': ('$.choices[1].IsPresent', 'choices[1].IsPresent: operator IsPresent needs true or'),
    'match-any': ('$.match', 'the gate.match is "any"; valid values: first, all'),
    'missing-choices': ('$', 'no "choices"; add an array of Choice rules, like'),
    'missing-name': ('$', 'the gate has no "name"; add it'),
    'name-with-control-character': ('$.name', 'name contains a control character; use printable text'),
    'nested-rule-with-next': ('$.choices[1].Not', 'choices[1].Not.Next: Next is only allowed on top-level'),
    'next-not-a-string': ('$.choices[1].Next', 'choices[1].Next: Next needs a string naming the outcome'),
    'next-with-a-space': ('$.choices[1].Next', 'choices[1].Next names unknown outcome "my team"; use pass'),
    'not-with-an-array': ('$.choices[1].Not', 'choices[1].Not: Not needs one rule object, got array; to'),
    'notify-from-not-an-address': ('$.notify.from', 'notify.from: not an address; write addr@domain or Name <addr@domain>'),
    'notify-not-an-object': ('$.notify', 'notify must be an object'),
    'notify-password-in-the-file': ('$.notify.password_env', 'notify.password_env must name an environment variable (like'),
    'notify-smtp-empty': ('$.notify.smtp', 'notify.smtp must not be empty'),
    'notify-tls-ssl': ('$.notify.tls', 'notify.tls is "ssl"; valid values: starttls, none'),
    'notify-unknown-key': ('$.notify', 'unknown key "smtp_host" in notify; valid keys: smtp, tls'),
    'numeric-operand-as-string': ('$.choices[1].NumericLessThan', 'choices[1].NumericLessThan: operator NumericLessThan needs'),
    'operator-in-lowercase': ('$.choices[1]', 'choices[1].numericLessThan: unknown operator'),
    'operator-without-variable': ('$.choices[1]', 'choices[1]: rule with NumericLessThan has no Variable; add'),
    'or-not-an-array': ('$.choices[1].Or', 'choices[1].Or: Or needs a non-empty array of rules, got'),
    'path-operand-not-a-path': ('$.choices[1].NumericLessThanPath', 'choices[1].NumericLessThanPath: invalid path "threshold" in'),
    'rule-not-an-object': ('$.choices[0]', 'choices[0]: a rule is a JSON object, got string "$.a < 1"'),
    'rule-without-next': ('$.choices[1]', 'choices[1]: rule has no "Next"; add one naming the outcome'),
    'schema-key-not-a-string': ('$.$schema', 'the gate.$schema must be a string, not a number'),
    'string-matches-path': ('$.choices[1]', 'choices[1].StringMatchesPath: StringMatches has no Path'),
    'string-operand-as-number': ('$.choices[1].StringEquals', 'choices[1].StringEquals: operator StringEquals needs a'),
    'team-address-listed-twice': ('$.teams.engineering.email', 'teams.engineering.email[1] repeats "eng@example.com"; list'),
    'team-email-not-an-array': ('$.teams.engineering.email', 'teams.engineering.email must be a non-empty array of'),
    'team-email-with-display-name': ('$.teams.engineering.email[0]', 'teams.engineering.email[0] is not a valid address; write a'),
    'team-email-without-at': ('$.teams.engineering.email[0]', 'teams.engineering.email[0] is not a valid address; write a'),
    'team-name-with-a-space': ('$.teams', 'invalid team name "ml team"; use 1-64 letters, digits, \'_\''),
    'team-named-pass': ('$.teams', 'invalid team name "pass"; use 1-64 letters, digits, \'_\''),
    'team-unknown-key': ('$.teams.engineering', 'unknown key "emails" in teams.engineering; did you mean'),
    'team-with-empty-email': ('$.teams.engineering.email', 'teams.engineering.email must be a non-empty array of'),
    'team-without-email': ('$.teams.engineering', 'teams.engineering.email must be a non-empty array of'),
    'teams-not-an-object': ('$.teams', 'teams must be an object mapping team names to {"email"'),
    'timestamp-date-only': ('$.choices[1].TimestampLessThan', '"2016-03-14": date only'),
    'timestamp-hour-24': ('$.choices[1].TimestampEquals', 'the hour is not 00-23'),
    'timestamp-ten-fraction-digits': ('$.choices[1].TimestampEquals', 'more than 9 fraction digits'),
    'timestamp-without-offset': ('$.choices[1].TimestampLessThan', 'no time zone offset'),
    'two-operators-in-one-rule': ('$.choices[1]', 'choices[1].NumericGreaterThan: two operators in one rule'),
    'unknown-operator': ('$.choices[1]', 'choices[1].NumericLessThen: unknown operator'),
    'unknown-top-level-key': ('$', 'unknown key "chioces" in the gate; did you mean "choices"?'),
    'variable-not-a-path': ('$.choices[1].Variable', 'choices[1].Variable: invalid path "accuracypct" in'),
    'variable-without-operator': ('$.choices[1]', 'choices[1]: rule has a Variable but no operator; add one'),
    'version-2': ('$.version', 'unsupported version; this greenlight reads "version": 1'),
    'version-as-string': ('$.version', 'unsupported version; this greenlight reads "version": 1'),
}

# file -> greenlight's message (the schema accepts these)
GREENLIGHT_ONLY = {
    'escalate-to-a-member': 'teams.engineering.escalate.to[0] "Eng@example.com" is already a member of the team',
    'remind-every-under-a-minute': 'teams.engineering.remind_every is shorter than 1m; remind at most once a minute',
    'approvals-more-than-addresses': 'teams.engineering.approvals is 2 but the team lists only 1',
    'default-names-an-undefined-team': 'default names unknown outcome "research"; use pass, fail or',
    'duplicate-key': 'duplicate key "name"; each member name may appear only once',
    'duration-too-large': 'decision.timeout is "99999999999s"; write a duration like',
    'env-name-ending-in-newline': 'decision.secret_env must name an environment variable (like',
    'name-over-128-bytes': 'name is longer than 128 bytes',
    'next-names-an-undefined-team': 'choices[1].Next names unknown outcome "research"; use pass',
    'notify-from-with-a-comma': 'notify.from: name one address: addr@domain or Name <addr@domain>',
    'number-nan': "unexpected 'N'; expected a JSON value (object, array",
    'number-overflows-a-double': 'number 1e999 is out of range for a double (non-finite',
    'path-operand-with-a-slice': 'choices[1].NumericLessThanPath: invalid path "$.b[1:2]" in',
    'path-with-a-backslash-in-a-name': 'choices[1].Variable: invalid path "$.a\\.b" in Variable: "\\"',
    'path-with-a-wildcard': 'choices[1].Variable: invalid path "$.a[*]" in Variable',
    'path-with-recursive-descent': 'choices[1].Variable: invalid path "$..a" in Variable: ".."',
    'rules-nested-65-levels': 'rules nested more than 64 levels deep',
    'string-matches-open-escape': 'choices[1].StringMatches: bad StringMatches pattern "a\\b"',
    'string-with-a-lone-surrogate': 'lone high surrogate \\uD800 in string; follow it with a low',
    'string-with-nul': '\\u0000 is not supported in strings; remove the NUL character',
    'team-address-listed-twice-in-another-case': 'teams.engineering.email[1] repeats "Eng@Example.com"; list',
    'team-email-domain-with-underscore': 'teams.engineering.email[0] is not a valid address; write a',
    'team-email-local-part-over-64': 'teams.engineering.email[0] is not a valid address; write a',
    'team-email-with-double-dot': 'teams.engineering.email[0] is not a valid address; write a',
    'timestamp-april-31': '"2024-04-31T00:00:00Z": the day does not exist in that month',
    'timestamp-february-29-not-a-leap-year': '"2023-02-29T00:00:00Z": the day does not exist in that month',
    'timestamp-february-30': '"2024-02-30T00:00:00Z": the day does not exist in that month',
}

passed = failed = 0


def ok():
    global passed
    passed += 1


def ko(msg):
    global failed
    failed += 1
    print("FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    ok() if cond else ko(msg)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def flat(errors):
    """Every error and every error inside it (oneOf/anyOf context)."""
    for e in errors:
        yield e
        yield from flat(e.context)


def greenlight_validate(path):
    p = subprocess.run([GL, "validate", "-g", path], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stderr


schema = json.loads(read(os.path.join(SRC, "schema/greenlight.schema.json")))
validator = jsonschema.Draft202012Validator(schema)


def schema_errors(instance):
    return list(validator.iter_errors(instance))


def describe(errors):
    return "; ".join(f"{e.json_path}: {e.message[:120]}" for e in errors[:3])


# 1. the schema itself
try:
    jsonschema.Draft202012Validator.check_schema(schema)
    ok()
except jsonschema.SchemaError as e:
    ko(f"schema is not a valid draft 2020-12 schema: {e.message}")
check(schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
      f"schema's $schema is {schema.get('$schema')!r}, not draft 2020-12")
check(schema.get("$id") == SCHEMA_ID, f"schema's $id is {schema.get('$id')!r}, not {SCHEMA_ID}")

# 2. the same keys, values and operators as src/gate.c and src/choice.c
gate_c = read(os.path.join(SRC, "src/gate.c"))
choice_c = read(os.path.join(SRC, "src/choice.c"))
tables = {}
for name, body in re.findall(r"static const char \*const (\w+)\[\] = \{([^}]*)\}", gate_c):
    tables.setdefault(name, []).append(re.findall(r'"([^"]*)"', body))
defs = schema["$defs"]


def c_table(name):
    found = tables.get(name, [])
    if len(found) != 1:
        ko(f"src/gate.c: expected one table {name}[], found {len(found)}")
        return set()
    return set(found[0])


def same(what, c_side, schema_side):
    check(c_side == schema_side and c_side,
          f"{what}: src has {sorted(c_side - schema_side)} that the schema lacks, "
          f"the schema has {sorted(schema_side - c_side)} that src lacks")


same("top-level keys", c_table("top_keys"), set(schema["properties"]))
same("team keys", c_table("team_keys"), set(defs["team"]["properties"]))
same("escalate keys", c_table("escalate_keys"), set(defs["escalate"]["properties"]))
same("notify keys", c_table("notify_keys"), set(defs["notify"]["properties"]))
same("decision keys", c_table("decision_keys"), set(defs["decision"]["properties"]))
same("baseline keys", c_table("baseline_keys"), set(defs["baseline"]["properties"]))


def enum(props, key):
    return set(props.get(key, {}).get("enum", []))


for key in ("record", "aggregate", "if_missing"):
    same(f"baseline.{key} values", c_table(key), enum(defs["baseline"]["properties"], key))
same("match values", c_table("match"), enum(schema["properties"], "match"))
same("notify.tls values", c_table("tls"), enum(defs["notify"]["properties"], "tls"))
for key in ("via", "on_timeout", "plus_tags"):
    same(f"decision.{key} values", c_table(key), enum(defs["decision"]["properties"], key))
for kind, ref in (("env", "envName"), ("duration", "duration")):
    c_side = set(re.findall(r'check_%s_key\(g, \w+, "(\w+)", "(\w+)"\)' % kind, gate_c))
    s_side = {(sec, k) for sec in ("notify", "decision")
              for k, v in defs[sec]["properties"].items() if v.get("$ref") == "#/$defs/" + ref}
    same(f"keys checked with check_{kind}_key", c_side, s_side)
ops = set()
for pre, suf in re.findall(r'CMP5\("(\w+)", \w+, \d, "(\w*)"\)', choice_c):
    ops |= {pre + c + suf for c in ("Equals", "LessThan", "GreaterThan",
                                    "LessThanEquals", "GreaterThanEquals")}
ops |= set(re.findall(r'^\tOP\("(\w+)"', choice_c, re.M))
check(len(ops) == 39, f"src/choice.c: found {len(ops)} operators, docs/rules.md lists 39")
test = defs["dataTest"]
same("operators", ops, set(test["properties"]) - {"Variable", "Next", "Comment"})
same("operators required one at a time", ops,
     {k for alt in test["oneOf"] for k in alt["required"]})

# 3. example gates and gates shown in the docs
gates = []
for path in sorted(glob.glob(os.path.join(SRC, "examples/**/*.json"), recursive=True)):
    doc = json.loads(read(path))
    if isinstance(doc, dict) and "version" in doc and "choices" in doc:
        gates.append((os.path.relpath(path, SRC), path))
check(len(gates) >= 2, f"found {len(gates)} example gates under examples/, expected at least 2")
docs = [os.path.join(SRC, "README.md")] + sorted(glob.glob(os.path.join(SRC, "docs/**/*.md"), recursive=True))
ndoc = 0
tmpdir = os.environ.get("TMP", "/tmp")
for path in docs:
    for i, block in enumerate(re.findall(r"^```json\n(.*?)^```", read(path), re.M | re.S)):
        try:
            doc = json.loads(block)
        except ValueError:
            continue        # a fragment, not a whole document
        if isinstance(doc, dict) and "version" in doc and "choices" in doc:
            out = os.path.join(tmpdir, f"doc-gate-{ndoc}.json")
            with open(out, "w", encoding="utf-8") as f:
                f.write(block)
            gates.append((f"{os.path.relpath(path, SRC)} (json block {i + 1})", out))
            ndoc += 1
check(ndoc >= 2, f"found {ndoc} gates in README.md and docs/, expected at least 2")
for name, path in gates:
    errs = schema_errors(json.loads(read(path)))
    check(not errs, f"{name}: the schema refuses an example gate: {describe(errs)}")
    rc, err = greenlight_validate(path)
    check(rc == 0 and err == "", f"{name}: greenlight validate exits {rc}: {err.strip()}")


# 4-6. the three directories
def cases(d, table):
    files = {os.path.basename(p)[:-5]: p
             for p in glob.glob(os.path.join(SRC, "tests/cli", d, "*.json"))}
    check(set(files) == set(table),
          f"tests/cli/{d}: files without an entry here: {sorted(set(files) - set(table))}; "
          f"entries without a file: {sorted(set(table) - set(files))}")
    return [(n, files[n], table[n]) for n in sorted(set(files) & set(table))]


for name, path, want in cases("schema-valid", VALID):
    errs = schema_errors(json.loads(read(path)))
    check(not errs, f"schema-valid/{name}: the schema refuses it: {describe(errs)}")
    rc, err = greenlight_validate(path)
    check(rc == 0, f"schema-valid/{name}: greenlight validate exits {rc}: {err.strip()}")
    check(want in err if want else err == "",
          f"schema-valid/{name}: stderr is {err.strip()!r}, expected {want!r}")

check(len(INVALID) >= 20, f"only {len(INVALID)} invalid gates")
for name, path, (where, want) in cases("schema-invalid", INVALID):
    errs = schema_errors(json.loads(read(path)))
    check(errs, f"schema-invalid/{name}: the schema accepts it")
    paths = sorted({e.json_path for e in flat(errs)})
    check(where in paths, f"schema-invalid/{name}: no schema error at {where}; errors at {paths}")
    rc, err = greenlight_validate(path)
    check(rc == 2, f"schema-invalid/{name}: greenlight validate exits {rc}, expected 2")
    check(want in err and err.count("\n") == 1,
          f"schema-invalid/{name}: stderr is {err.strip()!r}, expected one line with {want!r}")

for name, path, want in cases("schema-greenlight-only", GREENLIGHT_ONLY):
    # Python's json module, like most, reads NaN, 1e999, lone surrogates and
    # duplicate keys (the last wins): what a schema validator is shown
    errs = schema_errors(json.loads(read(path)))
    check(not errs, f"schema-greenlight-only/{name}: the schema refuses it "
          f"(move it to schema-invalid and docs/schema.md): {describe(errs)}")
    rc, err = greenlight_validate(path)
    check(rc == 2, f"schema-greenlight-only/{name}: greenlight validate exits {rc}, expected 2")
    check(want in err and err.count("\n") == 1,
          f"schema-greenlight-only/{name}: stderr is {err.strip()!r}, expected one line with {want!r}")

print(f"schema parity: {len(gates)} example gates, {len(VALID)} valid, {len(INVALID)} invalid, "
      f"{len(GREENLIGHT_ONLY)} greenlight-only; {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
