#!/usr/bin/python3
"""snippet.py - the copy-paste snippets of the docs, as the docs show them.

A snippet is marked in a Markdown file by a comment line
`<!-- snippet: NAME -->`; its text is the fenced code block that follows
(the next ``` line up to the closing ```).  Tests extract snippets from the
.md files instead of keeping copies, so a doc cannot drift from what is
tested.

  snippet.py FILE.md NAME          print the snippet's text
  snippet.py FILE.md --list        print the names of the snippets in FILE
Exit 1 (with a message) when the marker or its block is missing.
"""
import re
import sys

MARKER = re.compile(r"^<!-- snippet: ([A-Za-z0-9_.-]+) -->\s*$")


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
