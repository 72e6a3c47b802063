#!/usr/bin/env python3
"""Finds blocks of N or more identical lines shared by two files.

    python3 tools/dupcheck.py [--lines N] [PATH ...]

Lines are compared trimmed; blank lines, lines of closing brackets alone
and import lines (`use`, `import`, `from … import`) are skipped: they
repeat everywhere and carry no logic. Exits 1
when a shared block is found, listing each once with both places. Used
by the test command so that copied code does not creep back in.
"""
import re
import subprocess
import sys
from collections import defaultdict

TRIVIAL = re.compile(r"^([\s\}\)\];,]*|(pub )?use .*|import .*|from \S+ import .*)$")


def files(paths):
    out = subprocess.run(["git", "ls-files", *paths], capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split() if f.endswith((".rs", ".ts", ".svelte", ".mjs", ".py", ".sh"))]


def significant(path):
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            t = line.strip()
            if not t or TRIVIAL.match(t):
                continue
            lines.append((n, t))
    return lines


def main():
    args = sys.argv[1:]
    size = 6
    if args[:1] == ["--lines"]:
        size, args = int(args[1]), args[2:]
    seen = defaultdict(list)
    for path in files(args or ["."]):
        lines = significant(path)
        for i in range(len(lines) - size + 1):
            window = tuple(t for _, t in lines[i : i + size])
            seen[window].append((path, lines[i][0], lines[i + size - 1][0]))
    found = []
    for window, places in seen.items():
        paths = {p for p, _, _ in places}
        if len(paths) > 1:
            found.append(places)
    # Report each run once: merge overlapping windows per file pair.
    reported = set()
    count = 0
    for places in sorted(found):
        (a, a0, a1), (b, b0, b1) = places[0], next(p for p in places if p[0] != places[0][0])
        key = (a, b, a0 // 50, b0 // 50)
        if key in reported:
            continue
        reported.add(key)
        count += 1
        print(f"{a}:{a0}-{a1}  ==  {b}:{b0}-{b1}")
    if count:
        print(f"{count} shared blocks of {size}+ lines", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
