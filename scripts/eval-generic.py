#!/usr/bin/env python3
"""Scores the general classifier alone on the phrase table's own messages, as if no row knew them.

Usage: scripts/eval-generic.py [--bench PATH] [--misses] [--context PREFIX]

Every row of docs/phrases/*.tsv is a message a real program emits, read in its source. Here each row's text (its
{placeholders} filled with a plain word) is classified by the cue lexicon alone (`JWTSiftBench generic`: no table
row, no exception class), the way jwtsift meets a program it has never seen. The emitters are split in two halves
by a hash of their name, fixed before any cue was tuned against this script: `cue-tune` (first byte of
sha256(emitter) even), whose misses `--misses` lists, and `cue-check`, only ever scored. Each half is scored twice:
as written (the line must itself say it is about a token) and after a context prefix (default `jwt: `), which
isolates the cause lexicon from the context gate. A row is right when the answer is its cause or its alternative.
"""
import argparse
import collections
import glob
import hashlib
import os
import re
import subprocess

from cause_scores import print_cause_table

ROOT = os.path.join(os.path.dirname(__file__), "..")


def rows():
    for path in sorted(glob.glob(os.path.join(ROOT, "docs/phrases/*.tsv"))):
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            for line in f:
                cols = dict(zip(header, line.rstrip("\n").split("\t")))
                if cols.get("text"):
                    yield cols


def half(emitter):
    return "cue-tune" if hashlib.sha256(emitter.encode()).digest()[0] % 2 == 0 else "cue-check"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/JWTSiftBench"))
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--context", default="jwt: ")
    a = ap.parse_args()
    table = list(rows())
    texts = [re.sub(r"\{[^{}]*\}", "abc", r["text"]) for r in table]
    for label, prefix in (("as written", ""), (f"after {a.context!r}", a.context)):
        out = subprocess.run([a.bench, "generic"], input="".join(prefix + t.replace("\n", " ") + "\n" for t in texts),
                             capture_output=True, text=True, check=True).stdout.split("\n")
        for part in ("cue-tune", "cue-check"):
            n = right = found = 0
            tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
            misses = []
            for r, text, got in zip(table, texts, out):
                if half(r["emitter"]) != part:
                    continue
                n += 1
                found += got != "none"
                if got in (r["cause"], r.get("alternative")):
                    right += 1
                    tp[got] += 1
                else:
                    fn[r["cause"]] += 1
                    if got != "none":
                        fp[got] += 1
                    misses.append((r, text, got))
            emitters = len({r["emitter"] for r in table if half(r["emitter"]) == part})
            print(f"{part} {label}: {n} messages of {emitters} emitters; right cause {right / max(n, 1):.1%}, "
                  f"a cause found {found / max(n, 1):.1%}")
            if prefix:
                print_cause_table(tp, fp, fn)
            if a.misses and part == "cue-tune" and prefix:
                for r, text, got in misses:
                    print(f"- want {r['cause']} got {got} [{r['emitter']}] {text[:200]}")


main()
