#!/usr/bin/env python3
"""Counts repeated blocks of Swift code: the measure behind "less repeated code" (issue 20).

A block is a run of at least WINDOW significant lines (comments, blank lines and lone braces
left out, whitespace normalised) that appears in two places or more. Prints the number of such
places and the lines they cover; --list shows them, largest first.

    ops/repeated-code.py                 # Sources/ of this checkout
    ops/repeated-code.py --root DIR      # another checkout (e.g. `git worktree add /tmp/old REV`)
    ops/repeated-code.py --list --tests  # Tests/ too, with the blocks named
"""
import argparse
import collections
import hashlib
import os
import re
import sys

TRIVIAL = re.compile(r"^[\s{}()\[\],;]*$")
KEYWORDS = set("""actor as async await break case catch class continue default defer do else enum extension
false fileprivate for func guard if in init inout internal is let nil private public return self Self
static struct switch throw throws true try var where while""".split())
SHAPE = None  # set by --shape


def shape(line):
    """The line with names, strings and numbers made alike: code of the same shape matches."""
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '"S"', line)
    line = re.sub(r"\b\d+(?:\.\d+)?\b", "0", line)
    return re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", lambda m: m.group(0) if m.group(0) in KEYWORDS else "x", line)


def significant_lines(path):
    """(line number, normalised text) of the lines that carry code."""
    out = []
    in_block_comment = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if in_block_comment:
                if "*/" in line:
                    in_block_comment = False
                continue
            if line.startswith("/*"):
                in_block_comment = "*/" not in line
                continue
            if not line or line.startswith("//") or TRIVIAL.match(line) or line.startswith("import "):
                continue
            line = re.sub(r"\s+", " ", line)
            out.append((number, shape(line) if SHAPE else line))
    return out


def blocks(files, window):
    """Places (file, first line, last line) whose windows of `window` lines occur elsewhere too."""
    occurrences = collections.defaultdict(list)
    lines = {}
    for path in files:
        lines[path] = significant_lines(path)
        texts = [t for _, t in lines[path]]
        for i in range(len(texts) - window + 1):
            chunk = texts[i:i + window]
            # A window of short lines (`}`-heavy, `return nil`) is not worth a name.
            if sum(len(t) >= 20 for t in chunk) < window - 1:
                continue
            key = hashlib.sha1("\n".join(chunk).encode()).hexdigest()
            occurrences[key].append((path, i))
    repeated = collections.defaultdict(set)
    for places in occurrences.values():
        distinct = {(p, i) for p, i in places}
        if len(distinct) < 2:
            continue
        for p, i in distinct:
            repeated[p].update(range(i, i + window))
    found = []
    for path, indices in repeated.items():
        run = []
        for i in sorted(indices) + [None]:
            if run and (i is None or i != run[-1] + 1):
                found.append((path, lines[path][run[0]][0], lines[path][run[-1]][0], len(run)))
                run = []
            if i is not None:
                run.append(i)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--window", type=int, default=6, help="significant lines a repeat must span (default 6)")
    parser.add_argument("--tests", action="store_true", help="count Tests/ as well as Sources/")
    parser.add_argument("--list", action="store_true", help="name every repeated block")
    parser.add_argument("--shape", action="store_true",
                        help="match code of the same shape (names, strings, numbers made alike), not only exact copies")
    args = parser.parse_args()
    global SHAPE
    SHAPE = args.shape
    dirs = ["Sources"] + (["Tests"] if args.tests else [])
    files = []
    for d in dirs:
        for base, _, names in os.walk(os.path.join(args.root, d)):
            files += [os.path.join(base, n) for n in sorted(names) if n.endswith(".swift")]
    found = blocks(sorted(files), args.window)
    total = sum(n for *_, n in found)
    code = sum(len(significant_lines(f)) for f in files)
    if args.list:
        for path, first, last, n in sorted(found, key=lambda b: -b[3]):
            print(f"{n:4d} lines  {os.path.relpath(path, args.root)}:{first}-{last}")
    print(f"repeated blocks: {len(found)} places, {total} of {code} significant lines "
          f"({100.0 * total / max(code, 1):.1f}%) in {', '.join(dirs)}, window {args.window}"
          f"{', by shape' if args.shape else ''}")


if __name__ == "__main__":
    sys.exit(main())
