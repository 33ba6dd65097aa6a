"""Compares a merged findings database with a single scan of the same files, table by table, on everything that
must not depend on how the files were split into shards; exits 1 with the first differing rows when they differ.

    jwtsift-spark-check MERGED.sqlite SINGLE.sqlite [--jwtsift BIN]   (BIN: also compare `jwtsift report --format json`)

Left out on purpose (they describe how the work was done, not what was found): row ids, run ids and the runs
table, a source's size/mtime/inode/head hash (a streamed file has none), keys.origin (the executor's copy of the
key file), merged_shards, and the report's database path and run count.
"""
import argparse
import hashlib
import json
import sqlite3
import subprocess
import sys

QUERIES = {
    "per-cause counts": "SELECT cause, count(*) FROM sightings GROUP BY cause ORDER BY cause",
    "failures_by_cause": "SELECT cause, sightings, tokens, first_seen, last_seen FROM failures_by_cause ORDER BY cause",
    "log_errors by cause": "SELECT cause, count(*) FROM log_errors GROUP BY cause ORDER BY cause",
    "tokens": """SELECT fingerprint, kind, alg, enc, kid, typ, iss, aud, sub_hash, sub, iat, nbf, exp, signature, key,
                        flags, length, first_seen, last_seen, sightings, ok_rolled FROM tokens ORDER BY fingerprint""",
    "sightings": """SELECT src.path, s.line, s.byte_offset, t.fingerprint, s.log_time, s.status, s.cause, s.causes,
                           s.skew, s.time_source, s.truncation, s.line_error
                    FROM sightings s JOIN tokens t ON t.id = s.token_id JOIN sources src ON src.id = s.source_id
                    ORDER BY 1, 3, 4""",
    "log_errors": """SELECT src.path, e.line, e.byte_offset, e.log_time, e.status, e.cause, e.alternative_cause, e.rule,
                            e.emitter, e.message, e.details, t.fingerprint
                     FROM log_errors e JOIN sources src ON src.id = e.source_id LEFT JOIN tokens t ON t.id = e.token_id
                     ORDER BY 1, 3, 6""",
    "sighting_rollup": """SELECT t.fingerprint, src.path, r.cause, r.status_class, r.minute, r.n, r.first, r.last,
                                 r.refused, r.near, r.near_min, r.near_max
                          FROM sighting_rollup r JOIN tokens t ON t.id = r.token_id JOIN sources src ON src.id = r.source_id
                          ORDER BY 1, 2, 3, 4, 5""",
    "sighting_totals": """SELECT t.fingerprint, src.path, r.cause, r.status_class, r.n, r.first, r.last, r.refused,
                                 r.near, r.near_min, r.near_max
                          FROM sighting_totals r JOIN tokens t ON t.id = r.token_id JOIN sources src ON src.id = r.source_id
                          ORDER BY 1, 2, 3, 4""",
    "sighting_minutes": """SELECT m.minute, src.path, m.cause, m.no_iss, m.iss, m.n, m.first, m.last
                           FROM sighting_minutes m JOIN sources src ON src.id = m.source_id ORDER BY 1, 2, 3, 4, 5""",
    "sources": """SELECT path, bytes_scanned, lines_scanned, completed FROM sources WHERE replaced_by IS NULL
                  ORDER BY path""",
    "keys": "SELECT thumbprint, kid, kty, alg, retired FROM keys ORDER BY thumbprint",
}


def rows(db, sql):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def digest(rs):
    h = hashlib.sha256()
    for r in rs:
        h.update(repr(r).encode())
    return h.hexdigest()[:16]


def report(jwtsift, db):
    out = subprocess.run([jwtsift, "report", "--db", db, "--format", "json", "--generated-at",
                          "2024-01-01T00:00:00Z"], check=True, capture_output=True).stdout
    r = json.loads(out)
    r.pop("database", None)
    ov = r.get("overview")
    if isinstance(ov, dict):
        ov.pop("runs", None)
    return r


def compare(merged, single, jwtsift=None, out=sys.stdout):
    """The names of the parts that differ (empty: equal)."""
    bad = []
    for name, sql in QUERIES.items():
        a, b = rows(merged, sql), rows(single, sql)
        if a == b:
            print(f"  same  {name}: {len(a)} rows ({digest(a)})", file=out)
            continue
        bad.append(name)
        print(f"  DIFF  {name}: merged {len(a)} rows, single {len(b)} rows", file=out)
        only_a = [r for r in a if r not in set(b)][:5]
        only_b = [r for r in b if r not in set(a)][:5]
        for r in only_a:
            print(f"        only in merged: {r}", file=out)
        for r in only_b:
            print(f"        only in single: {r}", file=out)
    if jwtsift:
        ra, rb = report(jwtsift, merged), report(jwtsift, single)
        if ra == rb:
            print(f"  same  report --format json ({len(json.dumps(ra))} bytes, database path and run count aside)",
                  file=out)
        else:
            bad.append("report")
            print("  DIFF  report --format json", file=out)
            for key in sorted(set(ra) | set(rb)):
                if ra.get(key) == rb.get(key):
                    continue
                va, vb = ra.get(key), rb.get(key)
                if isinstance(va, list) and isinstance(vb, list):
                    for x, y in zip(va, vb):
                        if x != y:
                            print(f"        {key}: merged {json.dumps(x)[:600]}", file=out)
                            print(f"        {key}: single {json.dumps(y)[:600]}", file=out)
                            break
                else:
                    print(f"        {key}: merged {json.dumps(va)[:600]}", file=out)
                    print(f"        {key}: single {json.dumps(vb)[:600]}", file=out)
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("merged")
    ap.add_argument("single")
    ap.add_argument("--jwtsift", help="also compare the JSON reports")
    ap.add_argument("--min-sightings", type=int, default=1, help="fail when the single scan has fewer sightings")
    a = ap.parse_args(argv)
    print(f"comparing {a.merged} (merged shards) with {a.single} (one scan):")
    bad = compare(a.merged, a.single, a.jwtsift)
    n = rows(a.single, "SELECT count(*) FROM sightings")[0][0]
    if n < a.min_sightings:
        bad.append(f"only {n} sightings (expected at least {a.min_sightings})")
    if bad:
        print("=" * 72, file=sys.stderr)
        print(f"MISMATCH: the merged database differs from a single scan in: {', '.join(bad)}", file=sys.stderr)
        print("=" * 72, file=sys.stderr)
        return 1
    print(f"OK: the merged database equals a single scan ({n} sightings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
