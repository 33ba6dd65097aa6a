#!/usr/bin/env python3
"""Assembles the seed corpus of every fuzz target from samples/ and the test fixtures, at run time.

Usage: scripts/fuzz-seeds.py OUT_DIR  (writes OUT_DIR/<target>/<name>; called by scripts/fuzz)

Nothing here is committed: the seeds come from the repository's own sample logs, sample keys (public ones only:
samples/keys/private is skipped) and fixtures, plus the few hand-picked seeds in Fuzz/Seeds/<target>/ and the
inputs that once failed, in Fuzz/Reproducers/<target>/. Seeds
hold sample tokens, which are synthetic; they live in a gitignored folder.

Tokens are picked out of the logs without a regex: split at every byte outside the base64url alphabet and the
dot, keep the words that start like a JSON object (`ey`/`ew`) and hold a dot.
"""
import base64
import gzip
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def files_under(*dirs):
    for d in dirs:
        for base, subdirs, names in os.walk(os.path.join(ROOT, d)):
            subdirs[:] = sorted(s for s in subdirs if s != "private")
            for n in sorted(names):
                yield os.path.join(base, n)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError):
        return b""  # a deliberately cut archive (a LogInput fixture)


def log_files():
    return [p for p in files_under("samples", "Tests/SiftPipelineTests/Fixtures/logs") if "/keys/" not in p]


def tokens(data):
    out, word = [], bytearray()
    for b in data + b"\n":
        if b in ALPHABET:
            word.append(b)
            continue
        w = bytes(word).strip(b".")
        if w[:2] in (b"ey", b"ew") and b"." in w:
            out.append(w)
        word.clear()
    return out


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data, limit=400):
        if self.count.get(target, 0) >= limit or not data:
            return
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(d, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count[target] = self.count.get(target, 0) + 1


def main():
    out = sys.argv[1]
    s = Seeds(out)
    lines = []
    for p in log_files():
        lines += read(p).split(b"\n")
    for p in [os.path.join(ROOT, "Tests/JWTScanTests/Fixtures/real-lines.jsonl")]:
        for row in open(p, encoding="utf-8"):
            lines.append(json.loads(row)["line"].encode())
    for row in open(os.path.join(ROOT, "Tests/JWTScanTests/Fixtures/labelled-lines.tsv"), "rb"):
        lines.append(row.rstrip(b"\n").split(b"\t", 1)[-1])
    lines = [l for l in lines if l]

    # Line targets: chunks of a few lines (the scanner and timestamp seeds start with their option byte).
    for i in range(0, len(lines), 6):
        chunk = b"\n".join(lines[i : i + 6]) + b"\n"
        s.add("scanner", b"\x00" + chunk, limit=600)
        s.add("status", chunk, limit=300)
        s.add("timestamp", b"\x00" + chunk, limit=300)

    toks = []
    for p in log_files():
        toks += tokens(read(p))
    toks += tokens(read(os.path.join(ROOT, "Tests/JWTVerifyTests/Fixtures/rsa-openssl-cli.jwt")))
    toks = sorted(set(toks))
    for t in toks:
        s.add("token", t)
        parts = t.split(b".")
        for seg in parts:
            s.add("base64url", seg)
        for seg in parts[:2]:
            try:
                s.add("json", b64url_decode(seg))
            except ValueError:
                pass
    # Unsigned header.payload. seeds: the token target signs them (HS256, kid fuzz-hs).
    for claims in [
        {"iss": "https://issuer.example", "aud": "api", "exp": 1700000000, "iat": 1699996400, "sub": "u1"},
        {"iss": "x", "exp": 1.7e12, "nbf": 1700000000, "aud": ["a", "b"]},
        {"exp": "soon", "iat": None},
    ]:
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "fuzz-hs"}).encode())
        s.add("token", header + b"." + b64url(json.dumps(claims).encode()) + b".")

    for l in lines:
        if l[:1] == b"{":
            s.add("json", l, limit=600)

    key_files = list(files_under("samples/keys")) + [
        p for p in files_under("Tests/JWTVerifyTests/Fixtures") if p.endswith(".pem")
    ]
    for p in key_files:
        data = read(p)
        s.add("keys", data)
        s.add("json", data, limit=600)
        if data.startswith(b"{"):
            doc = json.loads(data)
            for k in doc.get("keys", [doc]):
                s.add("keys", json.dumps(k).encode())
        # The DER inside each PEM block (the keys target also reads DER directly).
        body, inside = b"", False
        for l in data.split(b"\n"):
            if l.startswith(b"-----BEGIN"):
                body, inside = b"", True
            elif l.startswith(b"-----END") and inside:
                s.add("keys", base64.b64decode(body))
                inside = False
            elif inside:
                body += l.strip()

    # Gzip reader: option byte, then the file (as is: 0x00–0x7F; wrapped in stored gzip members: 0x80–0xFF).
    for p in list(files_under("samples", "Tests/LogInputTests/Fixtures")):
        if "/keys/" in p:
            continue
        with open(p, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b" and len(raw) <= 65536:
            s.add("gzip", b"\x03" + raw)
        text = read(p)[:3000]
        s.add("gzip", b"\x01" + text)
        s.add("gzip", b"\x81" + text)
        s.add("gzip", b"\x03" + gzip.compress(text, mtime=0))

    # Hand-picked seeds committed beside the harness, and every input a run once failed on (Fuzz/Reproducers):
    # libFuzzer runs each seed first, so every fuzz run replays the old failures before it mutates anything.
    for committed in ("Seeds", "Reproducers"):
        seeds_dir = os.path.join(ROOT, "Fuzz", committed)
        if not os.path.isdir(seeds_dir):
            continue
        for target in sorted(os.listdir(seeds_dir)):
            for n in sorted(os.listdir(os.path.join(seeds_dir, target))):
                with open(os.path.join(seeds_dir, target, n), "rb") as f:
                    s.add(target, f.read(), limit=10**6)
    for t in sorted(s.count):
        print(f"seeds {t}: {s.count[t]}")


if __name__ == "__main__":
    main()
