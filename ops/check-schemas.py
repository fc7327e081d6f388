#!/usr/bin/env python3
"""Validates messages against the JSON Schemas in Schemas/messages.

Usage: check-schemas.py FILE — FILE holds a JSON array of {"schema": NAME, "message": {...}}.
Prints every violation and exits 1 if there is any, so a test can assert on it.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

root = pathlib.Path(__file__).resolve().parent.parent / "Schemas" / "messages"
schemas = {str(p.relative_to(root)): json.loads(p.read_text()) for p in root.rglob("*.schema.json")}
registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()])

cases = json.loads(pathlib.Path(sys.argv[1]).read_text())
failures = 0
for i, case in enumerate(cases):
    validator = Draft202012Validator(schemas[case["schema"]], registry=registry, format_checker=FormatChecker())
    for error in validator.iter_errors(case["message"]):
        failures += 1
        path = "/".join(str(p) for p in error.absolute_path)
        print(f"case {i} ({case['schema']}): {path}: {error.message}")
print(f"{len(cases)} messages checked, {failures} violations")
sys.exit(1 if failures else 0)
