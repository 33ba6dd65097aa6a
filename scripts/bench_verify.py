#!/usr/bin/env python3
"""scripts/bench verify: distinct-token verifications per second beside `openssl speed -elapsed`, same run.

Runs OpenSSL's own benchmark for each primitive (1 core, and -multi N for all cores), then jwtsift's
(.build/release/JWTSiftBench: "check" = the signature check through JOSECrypto's SignatureChecker; "token" = the whole
per-token analysis a scan runs for each distinct token, through the Dispatch BatchAnalyzer), and prints a
Markdown table with jwtsift as a percentage of OpenSSL. PS256 is compared with OpenSSL's rsa2048 verify (its
speed tool has no PSS); HS256 with hmac(sha256) on 256-byte blocks (the signing inputs are about 200 bytes),
and with 1-core x N for all cores (openssl speed -multi loses -hmac's digest).
"""
import os
import subprocess
import sys

SECONDS = os.environ.get("BENCH_SECONDS", "3")
cores = os.cpu_count() or 1


def speed(args, multi=1):
    cmd = ["openssl", "speed", "-mr", "-elapsed", "-seconds", SECONDS] + (["-multi", str(multi)] if multi > 1 else []) + args
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if l.startswith("+F")]


def openssl_figures(multi):
    figs = {}
    for line in speed(["rsa2048", "ecdsap256", "ed25519"], multi):
        f = line.split(":")
        if f[0] == "+F2":
            figs["RS256"] = figs["PS256"] = float(f[4])
        elif f[0] == "+F4":
            figs["ES256"] = float(f[4])
        elif f[0] == "+F6":
            figs["EdDSA"] = float(f[5])
    if multi == 1:
        for line in speed(["-hmac", "sha256"]):
            f = line.split(":")
            if f[0] == "+F" and "sha256" in f[2]:
                figs["HS256"] = float(f[5]) / 256  # bytes/s on 256-byte blocks -> ops/s
    return figs


def main():
    bench = sys.argv[1] if len(sys.argv) > 1 else ".build/release/JWTSiftBench"
    one = openssl_figures(1)
    allc = openssl_figures(cores) if cores > 1 else one
    if "HS256" in one:
        allc["HS256"] = one["HS256"] * cores
    out = subprocess.run([bench, SECONDS], capture_output=True, text=True, check=True).stdout
    ours = {}
    for line in out.split("\n"):
        if line.strip():
            alg, mode, workers, ops = line.split()
            ours[(alg, mode, int(workers))] = float(ops)
    print(f"verifications/s, {cores} cores, OpenSSL {subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.split()[1]}, best of 5 slices of {SECONDS} s")
    print()
    print("| alg | openssl 1 core | check 1 core | token 1 core | token/openssl | openssl all | token all | token/openssl all | token all/1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for alg in ["RS256", "PS256", "ES256", "EdDSA", "HS256"]:
        o1, oa = one.get(alg, 0), allc.get(alg, 0)
        c1 = ours.get((alg, "check", 1), 0)
        t1 = ours.get((alg, "token", 1), 0)
        ta = ours.get((alg, "token", cores), t1)
        pct = lambda a, b: f"{100 * a / b:.0f}%" if b else "n/a"
        print(f"| {alg} | {o1:,.0f} | {c1:,.0f} ({pct(c1, o1)}) | {t1:,.0f} | {pct(t1, o1)} | {oa:,.0f} | {ta:,.0f} | {pct(ta, oa)} | {ta / t1 if t1 else 0:.2f}x |")


if __name__ == "__main__":
    main()
