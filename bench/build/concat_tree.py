#!/usr/bin/env python3
"""Concatenate a generated tree in natural order: db/schema, then db/seeds/common.

    concat_tree.py TREE OUT.sql [--list]

Natural order: paths compared component by component; inside a component, runs
of digits compare by numeric value and everything else byte-wise. This is the
reference order the benchmark tree is checked against (independent of either
confiture implementation). Python 3 standard library only.
"""

from __future__ import annotations

import os
import re
import sys

_RUN = re.compile(r"(\d+)")


def natural_key(relpath: str):
    key = []
    for comp in relpath.split("/"):
        parts = []
        for i, piece in enumerate(_RUN.split(comp)):
            if i % 2:  # digit run
                parts.append((1, int(piece), len(piece)))
            elif piece:
                parts.append((0, piece.encode(), 0))
        key.append(tuple(parts))
    return key


def natural_files(root: str) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.endswith(".sql"):
                out.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(out, key=natural_key)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tree, out = argv[0], argv[1]
    roots = [os.path.join(tree, "db", "schema"), os.path.join(tree, "db", "seeds", "common")]
    paths = []
    for root in roots:
        if os.path.isdir(root):
            paths += [os.path.join(root, p) for p in natural_files(root)]
    if "--list" in argv:
        for p in paths:
            print(os.path.relpath(p, tree))
    with open(out, "wb") as f:
        for p in paths:
            f.write(f"\n-- file: {os.path.relpath(p, tree)}\n".encode())
            with open(p, "rb") as g:
                data = g.read()
            f.write(data)
            if not data.endswith(b"\n"):
                f.write(b"\n")
    print(f"{len(paths)} files -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
