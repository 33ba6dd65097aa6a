#!/usr/bin/env python3
"""Scores the message classifier on the real-lines corpus (Tests/JWTScanTests/Fixtures/real-lines.jsonl).

Usage: scripts/eval-real-lines.py [--jwtsift PATH] [--part tune|holdout|all] [--rows FIRST:LAST] [--misses]

Each corpus line is scanned by `jwtsift scan - --no-verify --format ndjson`; a line's answer is the cause of its
error record (none when it has none). A positive is right when the answer is its labelled cause, or its labelled
alternative when the text names two. Prints, per part: right-cause rate, error-found rate, negatives flagged, and
per-cause precision and recall. --misses lists the tune part's wrong answers (never the holdout's: the holdout
third was fixed by a hash of each line before any rule was tuned, and is only scored). --rows scores only corpus
lines FIRST..LAST (1-based, either end may be left out), e.g. --rows 608: for the lines added in the second round.
--frontier prints, for both parts and as totals only (no holdout line is shown), what silencing rules would buy: the
scores with every rule that flags a tune look-alike dropped (and with all of them but the general classifier), and
how many missed positives name no token at all (no JWT, token, bearer, claim, signature, issuer or audience word):
the evidence of how far right causes and quiet look-alikes trade against each other when a line is read alone.
"""
import argparse
import collections
import json
import os
import re
import subprocess

from cause_scores import print_cause_table
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jwtsift", default=None)
    ap.add_argument("--part", default="all")
    ap.add_argument("--rows", default=":")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--frontier", action="store_true")
    a = ap.parse_args()
    binary = a.jwtsift or os.path.join(subprocess.check_output(["swift", "build", "--show-bin-path"], cwd=ROOT, text=True).strip(), "jwtsift")
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "Tests/JWTScanTests/Fixtures/real-lines.jsonl"), encoding="utf-8")]
    text = "".join(r["line"].replace("\n", " ") + "\n" for r in rows)
    out = subprocess.run([binary, "scan", "-", "--no-verify", "--format", "ndjson", "-q"], input=text.encode(), capture_output=True)
    answer = {}
    for l in out.stdout.decode().splitlines():
        o = json.loads(l)
        if o.get("type") == "error":
            answer[o["line"]] = (o["cause"], o.get("alternative_cause"), o.get("rule"))
    if a.frontier:
        return frontier(rows, answer)
    first, _, last = a.rows.partition(":")
    first, last = int(first or 1), int(last or len(rows))
    parts = ["tune", "holdout"] if a.part == "all" else [a.part]
    for part in parts:
        pos = neg = right = found = flagged = 0
        tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
        misses = []
        for i, r in enumerate(rows, start=1):
            if r["part"] != part or not first <= i <= last:
                continue
            got = answer.get(i)
            cause = got[0] if got else "none"
            if r["cause"] == "none":
                neg += 1
                if got:
                    flagged += 1
                    fp[cause] += 1
                    misses.append((r, got))
                continue
            pos += 1
            found += got is not None
            ok = cause == r["cause"] or (r.get("alt") and cause == r["alt"])
            if ok:
                right += 1
                tp[r["cause"] if cause == r["cause"] else r["alt"]] += 1
            else:
                fn[r["cause"]] += 1
                if got:
                    fp[cause] += 1
                misses.append((r, got))
        print(f"{part}: {pos} positives, {neg} negatives; right cause {right}/{pos} = {right / max(pos, 1):.1%}; "
              f"error found {found / max(pos, 1):.1%}; negatives flagged {flagged}/{neg} = {flagged / max(neg, 1):.1%}")
        print_cause_table(tp, fp, fn)
        if a.misses and part == "tune":
            for r, got in misses:
                print(f"- want {r['cause']}{'/' + r['alt'] if r.get('alt') else ''} got {got} [{r['emitter']}] {r['line'][:300]}")


# A word that makes a line about a token at all (a missed positive without one cannot be told from any other
# program's failure by its words).
TOKEN_WORD = re.compile(r"jwt|jws|jwe|jwk|token|bearer|claim|oidc|openid|idx\d|assertion|\bkid\b|\baud\b|\biss\b|"
                        r"\bexp\b|\bnbf\b|\biat\b|signature|audience|issuer", re.I)


def frontier(rows, answer):
    flagging = {answer[i][2] for i, r in enumerate(rows, start=1)
                if r["part"] == "tune" and r["cause"] == "none" and i in answer}

    def score(part, dropped):
        pos = neg = right = flagged = wordless = 0
        for i, r in enumerate(rows, start=1):
            if r["part"] != part:
                continue
            got = answer.get(i)
            if got and got[2] in dropped:
                got = None
            if r["cause"] == "none":
                neg += 1
                flagged += got is not None
                continue
            pos += 1
            answered = got[0] if got else "none"
            ok = answered == r["cause"] or (r.get("alt") and answered == r["alt"])
            right += bool(ok)
            wordless += not ok and got is None and not TOKEN_WORD.search(r["line"])
        return (f"{part}: right {right / max(pos, 1):.1%}, look-alikes flagged {flagged / max(neg, 1):.1%}, "
                f"missed with no token word {wordless}/{pos}")

    for name, dropped in (("as is", set()),
                          (f"without the {len(flagging)} rules that flag a tune look-alike", flagging),
                          ("the same, keeping the general classifier", flagging - {"generic"})):
        print(f"{name}\n  {score('tune', dropped)}\n  {score('holdout', dropped)}")


if __name__ == "__main__":
    sys.exit(main())
