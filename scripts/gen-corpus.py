#!/usr/bin/env python3
"""Writes a deterministic synthetic access log for benchmarks.

Usage: scripts/gen-corpus.py OUT MEGABYTES [--distinct 5000] [--token-share 0.2] [--seed 42] [--alg RS256|HS256]
About 20% of lines carry `Authorization: Bearer <JWT>` drawn from 5,000 distinct tokens (RS256-shaped, random
signature bytes: the scanner does not verify); some lines carry verification errors; the rest are ordinary.
--seed draws other lines (and an hour later per seed) from the same 5,000 tokens: files of one archive that share
tokens, as a fleet's logs do.
--alg HS256: the tokens are HS256, really signed (HMAC-SHA256) with one random 32-byte secret that is not in any
list, so a verifying scan without that secret runs its weak-secret check on them (the `weak` benchmark).
"""
import argparse, base64, hashlib, hmac, json, random, time


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("megabytes", type=int)
    ap.add_argument("--distinct", type=int, default=5000)
    ap.add_argument("--token-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--alg", default="RS256", choices=["RS256", "HS256"])
    a = ap.parse_args()
    rng = random.Random(42)
    tokens = []
    secret = rng.randbytes(32) if a.alg == "HS256" else b""
    for i in range(a.distinct):
        h = b64u(json.dumps({"alg": a.alg, "kid": f"k{i % 4}", "typ": "JWT"}, separators=(",", ":")).encode())
        p = b64u(json.dumps({"iss": "https://login.example.com/", "sub": f"user-{i}", "aud": "api://orders",
                             "iat": 1699990000 + i, "exp": 1699990900 + i}, separators=(",", ":")).encode())
        if a.alg == "HS256":
            s = b64u(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
        else:
            s = b64u(rng.randbytes(256))
        tokens.append(f"{h}.{p}.{s}")
    paths = ["/api/orders", "/api/orders/123", "/healthz", "/static/app.js", "/api/users/me", "/v1/stock?sku=A-1"]
    agents = ["okhttp/4.12.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0",
              "curl/8.4.0", "python-requests/2.31.0"]
    target = a.megabytes * 1024 * 1024
    written = 0
    t0 = 1699999200 + (a.seed - 42) * 3600
    if a.seed != 42:
        rng = random.Random(a.seed)
    with open(a.out, "w", buffering=1 << 22) as f:
        n = 0
        batch = []
        while written < target:
            n += 1
            t = time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(t0 + n // 50))
            ip = f"10.{n % 7}.{n % 251}.{n % 13 + 2}"
            r = rng.random()
            if r < a.token_share:
                tok = tokens[rng.randrange(a.distinct)]
                status = 200 if rng.random() < 0.9 else 401
                line = f'{ip} - - [{t} +0000] "GET {paths[n % len(paths)]} HTTP/1.1" {status} {n % 5000} "-" "{agents[n % 4]}" "Bearer {tok}"\n'
            elif r < a.token_share + 0.005:
                line = f'{t} [warn] 12#0: *{n} [kong] handler.lua:235 [jwt] Invalid signature, client: {ip}, server: kong\n'
            else:
                line = f'{ip} - - [{t} +0000] "GET {paths[n % len(paths)]} HTTP/1.1" 200 {n % 5000} "-" "{agents[n % 4]}" "-"\n'
            batch.append(line)
            written += len(line)
            if len(batch) >= 10000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))


if __name__ == "__main__":
    main()
