#!/usr/bin/python3
"""snippet.py - the copy-paste snippets of the docs, as the docs show them.

A snippet is marked in a Markdown file by a comment line
`<!-- snippet: NAME -->`; its text is the fenced code block that follows
(the next ``` line up to the closing ```).  Tests extract snippets from the
.md files instead of keeping copies, so a doc cannot drift from what is
tested.

  snippet.py FILE.md NAME          print the snippet's text
  snippet.py FILE.md --list        print the names of the snippets in FILE
  snippet.py --lint FILE.md...     every code block that a reader would paste
                                   is marked: exit 1 naming each one that is not
Exit 1 (with a message) when the marker or its block is missing.

--lint: every block must be fenced with a language (an indented code
block or a bare ``` fence is refused), and a block in a pasteable language
(sh, bash, shell, console with a `$ ` prompt, yaml, yml, groovy, json)
must follow either `<!-- snippet: NAME -->` (a test runs it) or
`<!-- not-a-snippet: REASON -->` (saying why no test runs it).
"""
import re
import sys

MARKER = re.compile(r"^<!-- snippet: ([A-Za-z0-9_.-]+) -->\s*$")
NOT_A_SNIPPET = re.compile(r"^<!-- not-a-snippet: \S.*\S -->\s*$")
PASTEABLE = {"sh", "bash", "shell", "yaml", "yml", "groovy", "json"}
LIST_ITEM = re.compile(r"^\s*([-*+]|[0-9]+[.)])\s")


def lint(path):
    """Problems with the code blocks of PATH, one message each."""
    lines = open(path, encoding="utf-8").read().split("\n")
    problems, i, in_list = [], 0, False
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(`{3,})(.*)$", line)
        if m:
            fence, lang = m.group(1), m.group(2).strip().split(" ")[0]
            start, i = i + 1, i + 1
            while i < len(lines) and lines[i].rstrip() != fence:
                i += 1
            body = lines[start:i]
            i += 1
            before = [l for l in lines[:start - 1] if l.strip()]
            prev = before[-1] if before else ""
            where = "%s:%d" % (path, start)
            if not lang:
                problems.append("%s: a fenced block without a language" % where)
                continue
            pasteable = lang in PASTEABLE or (lang == "console" and any(l.startswith("$ ") for l in body))
            if pasteable and not (MARKER.match(prev) or NOT_A_SNIPPET.match(prev)):
                problems.append("%s: a ```%s block with neither <!-- snippet: NAME --> "
                                "nor <!-- not-a-snippet: REASON --> before it" % (where, lang))
            in_list = False
            continue
        if not line.strip():
            i += 1
            continue
        if LIST_ITEM.match(line):
            in_list = True
        elif not line.startswith(" "):
            in_list = False
        if (re.match(r"^( {4}|\t)", line) and not in_list and i > 0 and not lines[i - 1].strip()):
            problems.append("%s:%d: an indented code block; fence it with a language" % (path, i + 1))
            while i < len(lines) and (not lines[i].strip() or re.match(r"^( {4}|\t)", lines[i])):
                i += 1
            continue
        i += 1
    return problems


def snippets(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = {}, 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        i += 1
        if not m:
            continue
        name = m.group(1)
        while i < len(lines) and not lines[i].startswith("```"):
            if lines[i].strip():
                raise SystemExit("%s: snippet %s: text between the marker and its block" % (path, name))
            i += 1
        if i == len(lines):
            raise SystemExit("%s: snippet %s: no fenced block after the marker" % (path, name))
        fence = re.match(r"^(`{3,})", lines[i]).group(1)
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit("%s: snippet %s: the block is not closed" % (path, name))
        if name in out:
            raise SystemExit("%s: snippet %s is marked twice" % (path, name))
        out[name] = "\n".join(body) + "\n"
    return out


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--lint":
        problems = [p for f in sys.argv[2:] for p in lint(f)]
        for p in problems:
            print(p)
        return 1 if problems else 0
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[2])
    found = snippets(sys.argv[1])
    if sys.argv[2] == "--list":
        print("\n".join(found))
        return 0
    if sys.argv[2] not in found:
        raise SystemExit("%s: no snippet named %s" % (sys.argv[1], sys.argv[2]))
    sys.stdout.write(found[sys.argv[2]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
