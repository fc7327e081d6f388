#!/usr/bin/env python3
"""Exit 0 when every `name==version` line of a requirements file is installed at that version.

    python3 ops/check-requirements.py ops/requirements.txt

Prints what is missing or at another version (stderr) and exits 1, so that a script installs
only when something differs.
"""
import sys
from importlib import metadata


def main(path: str) -> int:
    wrong = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, version = line.partition("==")
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                wrong.append(f"{name}: not installed (want {version})")
                continue
            if installed != version:
                wrong.append(f"{name}: {installed} installed, want {version}")
    for w in wrong:
        print(w, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "ops/requirements.txt"))
