"""Runs every block of docs/at-scale.md marked `runnable`, in order, and fails loudly on the first that fails.

    python3 -m jwtsift_spark.doc_recipes --jwtsift BIN --samples samples/ [--doc docs/at-scale.md]

The blocks run in a new folder holding shards/a.sqlite and shards/b.sqlite (the samples scanned in two halves,
with the samples' keys) and merged.sqlite (their merge), with $JWTSIFT and $SAMPLES set:
- ```python runnable: run in one namespace shared by every Python block (as a notebook would);
- ```sql runnable: each statement run on the DuckDB connection `con` a Python block before it made;
- ```sh runnable: bash -euo pipefail.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(python|sql|sh) runnable\n(.*?)^```", re.S | re.M)
HALVES = (["nginx", "envoy", "haproxy"], ["kong", "node", "spring"])


def blocks(doc):
    with open(doc, encoding="utf-8") as f:
        return [(m.group(1), m.group(2)) for m in FENCE.finditer(f.read())]


def statements(sql):
    """SQL split at semicolons that end a line (the document's statements end so)."""
    return [s.strip() for s in re.split(r";\s*\n", sql + "\n") if s.strip()]


def prepare(folder, jwtsift, samples):
    keys = ["--keys", f"{samples}/keys/jwks.json", "--retired-keys", f"{samples}/keys/retired.jwks.json",
            "--hmac-secret-file", f"{samples}/keys/orders-hs256.secret"]
    os.makedirs(os.path.join(folder, "shards"))
    for name, half in zip("ab", HALVES):
        subprocess.run([jwtsift, "scan", "-q", "--db", f"{folder}/shards/{name}.sqlite"]
                       + [f"{samples}/logs/{d}" for d in half] + keys, check=True)
    subprocess.run([jwtsift, "merge", "-q", "--db", f"{folder}/merged.sqlite",
                    f"{folder}/shards/a.sqlite", f"{folder}/shards/b.sqlite"], check=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jwtsift", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--doc", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "at-scale.md"))
    a = ap.parse_args(argv)
    jwtsift, samples, doc = (os.path.abspath(p) for p in (a.jwtsift, a.samples, a.doc))
    found = blocks(doc)
    if len(found) < 5:
        print(f"FAIL: only {len(found)} runnable blocks found in {doc}", file=sys.stderr)
        return 1
    folder = tempfile.mkdtemp(prefix="jwtsift-at-scale-")
    prepare(folder, jwtsift, samples)
    os.environ["JWTSIFT"], os.environ["SAMPLES"] = jwtsift, samples
    os.chdir(folder)
    namespace = {"__name__": "__doc_recipes__"}
    for i, (kind, text) in enumerate(found, 1):
        head = text.strip().splitlines()[0][:70]
        print(f"--- block {i}/{len(found)} ({kind}): {head}", flush=True)
        try:
            if kind == "python":
                exec(compile(text, f"{doc}:block{i}", "exec"), namespace)
            elif kind == "sql":
                con = namespace.get("con")
                if con is None:
                    raise RuntimeError("no DuckDB connection `con` from an earlier Python block")
                for statement in statements(text):
                    rows = con.execute(statement).fetchall()
                    print(f"    {len(rows)} rows" + (f", first {rows[0]}" if rows else ""))
                    if statement.lstrip().upper().startswith("SELECT") and not rows:
                        raise RuntimeError(f"no rows from: {statement[:200]}")
            else:
                subprocess.run(["bash", "-euo", "pipefail", "-c", text], check=True)
        except Exception as e:  # noqa: BLE001 - any failure of a documented recipe fails the test
            print("=" * 72, file=sys.stderr)
            print(f"FAIL: docs/at-scale.md runnable block {i} ({kind}) failed: {e!r}\n{text}", file=sys.stderr)
            print("=" * 72, file=sys.stderr)
            return 1
    print(f"OK: {len(found)} runnable blocks of {doc} ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
