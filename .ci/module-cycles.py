#!/usr/bin/env python3
"""No module of a crate imports one that imports it back (README, "Layout").

For each crate given (default: every crates/*), reads the `crate::` and `super::` paths each
source file uses outside its unit tests, maps each to the file (module) that defines it, and
fails with the circles found. `--edges` prints every file's edges first. A file's own child
modules (`mod x;`) are not edges: the parent only declares them."""
import os
import re
import sys


def modules(src):
    """Module path (`a::b`) -> source text, for every file of a crate's src/ but its binaries."""
    found = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)[:-3]
            if rel == "main" or rel.startswith("bin" + os.sep):
                continue
            if rel.endswith(os.sep + "mod"):
                rel = rel[: -len(os.sep + "mod")]
            with open(os.path.join(root, name), encoding="utf-8") as f:
                found[rel.replace(os.sep, "::")] = f.read()
    return found


def use_paths(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    open_at = tree.find("{")
    if open_at < 0:
        return [tree]
    prefix, body = tree[:open_at], tree[open_at + 1 : tree.rfind("}")]
    parts, depth, current = [], 0, ""
    for ch in body:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [prefix + p for part in parts if part.strip() for p in use_paths(part)]


def edges(mods):
    graph = {m: set() for m in mods}

    def owner(path):
        parts, best = path.split("::"), None
        for i in range(1, len(parts) + 1):
            if "::".join(parts[:i]) in mods:
                best = "::".join(parts[:i])
        return best

    for module, text in mods.items():
        text = re.sub(r"//[^\n]*", "", text)
        text = re.split(r"#\[cfg\(test\)\]\s*mod \w+", text)[0]
        paths = []
        for use in re.finditer(r"\buse\s+crate::([^;]*);", text, re.S):
            paths += [p.split(" as ")[0].strip() for p in use_paths(use.group(1))]
        paths += re.findall(r"(?<!use )\bcrate::([\w:]+)", text)
        parent = module.rsplit("::", 1)[0] if "::" in module else ""
        paths += [(parent + "::" if parent else "") + p for p in re.findall(r"\bsuper::([\w:]+)", text)]
        for path in paths:
            target = owner(path)
            if target and target != module and not module.startswith(target + "::"):
                graph[module].add(target)
    return graph


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    args = [a for a in sys.argv[1:] if a != "--edges"]
    crates = args or sorted(
        os.path.join("crates", c) for c in os.listdir("crates") if os.path.isdir(os.path.join("crates", c, "src"))
    )
    failed = False
    for crate in crates:
        graph = edges(modules(os.path.join(crate, "src")))
        if "--edges" in sys.argv:
            for m in sorted(graph):
                print(f"{crate}: {m} -> {', '.join(sorted(graph[m])) or '-'}")
        for circle in circles(graph):
            print(f"{crate}: modules import each other: {' <-> '.join(circle)}", file=sys.stderr)
            failed = True
    if failed:
        sys.exit(1)
    print(f"no module imports one that imports it back ({len(crates)} crates)")


if __name__ == "__main__":
    main()
