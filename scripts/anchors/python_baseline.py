#!/usr/bin/env python3
"""The Python baseline of issue 15: what a 25-line script does with a log — regex for JWTs, PyJWT to decode and
check expiry at the line's time, sqlite3 executemany into one table. The anchor for `scripts/bench baseline`.

Usage: python_baseline.py LOG DB   (needs PyJWT: pip install pyjwt)"""
import re, sqlite3, sys, calendar, time, hashlib
import jwt

TOKEN = re.compile(rb"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
STAMP = re.compile(rb"\[(\d\d)/(\w\w\w)/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
MONTHS = {m.encode(): i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE IF NOT EXISTS sightings (fingerprint TEXT, line INTEGER, log_time REAL, cause TEXT, iss TEXT, kid TEXT)")
rows, cache = [], {}
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        for m in TOKEN.finditer(line):
            s = STAMP.search(line)
            t = calendar.timegm((int(s[3]), MONTHS[s[2]], int(s[1]), int(s[4]), int(s[5]), int(s[6]))) if s else time.time()
            tok = m.group().decode()
            if tok not in cache:
                try:
                    h, c = jwt.get_unverified_header(tok), jwt.decode(tok, options={"verify_signature": False, "verify_exp": False})
                    cache[tok] = (hashlib.sha256(m.group()).hexdigest(), c.get("exp"), c.get("iss"), h.get("kid"))
                except jwt.PyJWTError:
                    cache[tok] = (hashlib.sha256(m.group()).hexdigest(), None, None, None)
            fp, exp, iss, kid = cache[tok]
            rows.append((fp, n, t, "expired" if exp is not None and exp < t else "unverified", iss, kid))
        if len(rows) >= 50000:
            db.executemany("INSERT INTO sightings VALUES (?,?,?,?,?,?)", rows); rows.clear()
db.executemany("INSERT INTO sightings VALUES (?,?,?,?,?,?)", rows)
db.commit()
