#!/usr/bin/env python3
"""Finds import cycles between the top-level modules of each crate.

    python3 tools/modcycles.py

A module's files (src/NAME.rs, src/NAME/**) import another module through
`crate::OTHER` (or `super::` from a top-level file), directly or through a
name the crate root re-exports (`crate::Library` is `library`). Exits 1
and prints each cycle when the module graph of a crate is not a DAG
(docs/architecture.md, "Invariants").
"""
import re
import sys
from pathlib import Path

ROOTS = [p for p in sorted(Path("crates").glob("*/src"))] + [Path("src-tauri/src")]


def module_of(src: Path, f: Path):
    rel = f.relative_to(src)
    if rel.parts[0] in ("lib.rs", "main.rs"):
        return None
    return rel.parts[0].removesuffix(".rs")


def strip_comments(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def reexports(src: Path) -> dict:
    """Names the crate root re-exports, by the module they come from."""
    names = {}
    for root in ("lib.rs", "main.rs"):
        p = src / root
        if not p.exists():
            continue
        for m in re.finditer(r"pub use (\w+)::([^;]+);", strip_comments(p.read_text())):
            module, rest = m.group(1), m.group(2)
            for name in re.findall(r"\b([A-Za-z_]\w*)\b", rest.split("::")[-1]):
                names[name] = module
    return names


def graph(src: Path):
    mods = {module_of(src, f) for f in src.rglob("*.rs")} - {None}
    names = reexports(src)
    edges = {m: set() for m in mods}
    for f in src.rglob("*.rs"):
        me = module_of(src, f)
        if me is None:
            continue
        text = strip_comments(f.read_text())
        refs = re.findall(r"\bcrate::(\w+)", text)
        if f.parent == src:  # a top-level file: `super::` is the root
            refs += re.findall(r"\bsuper::(\w+)", text)
        for r in refs:
            target = r if r in mods else names.get(r)
            if target and target != me and target in mods:
                edges[me].add(target)
    return edges


def cycles(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    bad = 0
    for src in ROOTS:
        edges = graph(src)
        for comp in cycles(edges):
            bad += 1
            links = [f"{a} -> {b}" for a in comp for b in sorted(edges[a]) if b in comp]
            print(f"{src.parent}: modules in a cycle: {', '.join(comp)} ({'; '.join(links)})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
