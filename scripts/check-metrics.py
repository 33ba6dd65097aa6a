#!/usr/bin/env python3
"""Checks a `jwtsift scan --metrics-file` file with a real Prometheus text parser.

Usage: scripts/check-metrics.py FILE

Parses FILE with prometheus_client's text parser (`text_string_to_metric_families`, from PyPI), then checks
what the parser lets pass: every family has HELP text and a TYPE of gauge or counter, every sample line of the
file became one parsed sample, and every value is a finite number. If `promtool` is on PATH, its
`check metrics` runs too. Prints the parsed families as JSON on stdout (for the tests to compare); exits 1 with
the reason on stderr when the file is not valid, 2 when prometheus_client is missing.
"""
import json
import math
import shutil
import subprocess
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        print("check-metrics: prometheus_client is not installed (pip install prometheus_client)", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others on a malformed line
        print(f"check-metrics: not valid Prometheus text: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    problems = []
    out = {}
    samples = 0
    for fam in families:
        if fam.type not in ("gauge", "counter"):
            problems.append(f"{fam.name}: TYPE is {fam.type!r} (missing or unexpected)")
        if not fam.documentation:
            problems.append(f"{fam.name}: no HELP text")
        if fam.name in out:
            problems.append(f"{fam.name}: family appears twice")
        rows = []
        for s in fam.samples:
            if not math.isfinite(s.value):
                problems.append(f"{s.name}{s.labels}: value {s.value} is not finite")
            rows.append({"name": s.name, "labels": s.labels, "value": s.value})
        samples += len(rows)
        out[fam.name] = {"type": fam.type, "help": fam.documentation, "samples": rows}
    lines = [l for l in text.split("\n") if l and not l.startswith("#")]
    if len(lines) != samples:
        problems.append(f"{len(lines)} sample lines but {samples} parsed samples")
    if not text.endswith("\n"):
        problems.append("the file does not end with a line feed")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, text=True, capture_output=True)
        if r.returncode != 0:
            problems.append("promtool check metrics: " + (r.stdout + r.stderr).strip())
    if problems:
        for p in problems:
            print("check-metrics: " + p, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
