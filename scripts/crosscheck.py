#!/usr/bin/env python3
"""Independent cross-check of jwtsift's verdicts against PyJWT + cryptography.

Signs tokens of every JWS algorithm with Python's `cryptography` (keys generated here, published as a JWKS
that PyJWT parses on its own), verifies each with PyJWT, and compares PyJWT's verdict with jwtsift's — through
`jwtsift inspect --format json` (all tokens on stdin) and through `jwtsift scan` over a log holding them.

Usage: scripts/crosscheck.py [--jwtsift .build/debug/jwtsift] [--per-alg 200] [--seed N]
Exit status: 0 when every verdict agrees, 1 otherwise (each disagreement is printed, never a token).

Variants per algorithm: valid, payload tampered, signature tampered, signed by another key under the same kid,
unknown kid, expired, not yet valid (nbf), issued in the future (iat), signature cut short on a 4-character
boundary, signature cut mid-character, alg "none", a payload that is not a JSON object, and (asymmetric
algorithms) an HS256 token forged with the key's own PEM as the HMAC secret, its kid naming that key.

Where jwtsift is more specific than PyJWT by design, the expected word is refined (see `refine`): a cut signature
PyJWT rejects (invalid signature or undecodable) is `truncated` for jwtsift.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import time

try:
    import jwt
    from jwt.exceptions import (DecodeError, ExpiredSignatureError, ImmatureSignatureError,
                                InvalidAlgorithmError, InvalidSignatureError)
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as e:  # pragma: no cover
    sys.exit(f"crosscheck: needs PyJWT and cryptography (pip install pyjwt cryptography): {e}")

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K", "EdDSA", "EdDSA-Ed448"]
VARIANTS = ["valid", "tampered_payload", "tampered_signature", "other_key", "unknown_kid", "expired",
            "not_yet_valid", "issued_in_future", "cut_signature", "cut_mid_character", "alg_none", "non_json_payload",
            "forged_hmac"]
# Every variant but "valid" appears once per round; valid tokens fill the rest.


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key(alg: str):
    if alg.startswith("HS"):
        return os.urandom({"HS256": 32, "HS384": 48, "HS512": 64}[alg])
    if alg[:2] in ("RS", "PS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "ES512":
        return ec.generate_private_key(ec.SECP521R1())
    if alg == "ES256K":
        return ec.generate_private_key(ec.SECP256K1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "EdDSA-Ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(alg)


def public_jwk(alg: str, key, kid: str) -> dict:
    jws_alg = "EdDSA" if alg.startswith("EdDSA") else alg
    if isinstance(key, bytes):
        d = {"kty": "oct", "k": b64(key)}
    else:
        algo = jwt.get_algorithm_by_name(jws_alg)
        d = json.loads(algo.to_jwk(key.public_key()))
    d["kid"] = kid
    if alg == "EdDSA-Ed448":
        d["alg"] = "EdDSA"  # PyJWK picks no algorithm for an Ed448 JWK without one
    return d


def sign(alg: str, key, claims: dict, kid: str | None) -> str:
    jws_alg = "EdDSA" if alg.startswith("EdDSA") else alg
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=jws_alg, headers=headers)


def pyjwt_verdict(token: str, jwks: "jwt.PyJWKSet", alg: str, now: int) -> str:
    """PyJWT's verdict, in jwtsift's cause words. Key chosen by kid, as PyJWKClient does."""
    jws_alg = "EdDSA" if alg.startswith("EdDSA") else alg
    try:
        header = jwt.get_unverified_header(token)
    except DecodeError:
        return "malformed"
    if str(header.get("alg", "")).lower() == "none":
        return "alg_none"
    try:
        key = jwks[header.get("kid", "")]
    except KeyError:
        return "key_unknown"
    try:
        # PyJWT reads the clock itself; the tokens' times are hours away from `now`, so the run time cannot matter.
        jwt.decode(token, key.key, algorithms=[jws_alg], leeway=60,
                   options={"verify_aud": False, "verify_iss": False, "require": []})
        return "ok"
    except InvalidSignatureError:
        return "signature_invalid"
    except ExpiredSignatureError:
        return "expired"
    except ImmatureSignatureError as e:
        return "issued_in_future" if "iat" in str(e) else "not_yet_valid"
    except InvalidAlgorithmError:
        return "alg_mismatch"
    except DecodeError:
        return "malformed"


def refine(word: str, variant: str) -> str:
    """PyJWT's word, made as specific as jwtsift's contract: a cut signature that PyJWT refuses is truncated."""
    if variant in ("cut_signature", "cut_mid_character") and word in ("signature_invalid", "malformed"):
        return "truncated"
    return word


def make_tokens(per_alg: int, now: int, rng: random.Random):
    keys, other = {}, {}
    jwks, secrets = {"keys": []}, {}
    for alg in ALGS:
        keys[alg] = new_key(alg)
        other[alg] = new_key(alg)
        jwks["keys"].append(public_jwk(alg, keys[alg], f"kid-{alg}"))
    tokens = []  # (alg, variant, token)
    for alg in ALGS:
        kid = f"kid-{alg}"
        for n in range(per_alg):
            variant = VARIANTS[n] if n < len(VARIANTS) else "valid"
            claims = {"iss": "https://crosscheck.example", "sub": f"user-{n}", "iat": now - 60, "exp": now + 3600,
                      "n": n, "r": rng.randrange(1 << 30)}
            if variant == "expired":
                claims["iat"], claims["exp"] = now - 7200, now - 3600
            elif variant == "not_yet_valid":
                claims["nbf"] = now + 3600
            elif variant == "issued_in_future":
                claims["iat"] = now + 3600
                claims["exp"] = now + 7200
            if variant == "forged_hmac" and alg.startswith("HS"):
                variant = "valid"
            signing_key = other[alg] if variant == "other_key" else keys[alg]
            token_kid = "kid-unknown-" + alg if variant == "unknown_kid" else kid
            token = sign(alg, signing_key, claims, token_kid)
            h, p, s = token.split(".")
            if variant == "non_json_payload":
                token = jwt.api_jws.encode(json.dumps([claims["sub"], n]).encode(), signing_key,
                                           algorithm="EdDSA" if alg.startswith("EdDSA") else alg,
                                           headers={"kid": token_kid})
                h, p, s = token.split(".")
            elif variant == "forged_hmac":
                pem = keys[alg].public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
                h = b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
                p = b64(json.dumps(claims, separators=(",", ":")).encode())
                s = b64(hmac.new(pem, f"{h}.{p}".encode(), hashlib.sha256).digest())
            if variant == "tampered_payload":
                claims["sub"] = "admin"
                p = b64(json.dumps(claims, separators=(",", ":")).encode())
            elif variant == "tampered_signature":
                raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
                raw[len(raw) // 2] ^= 0x01
                s = b64(bytes(raw))
            elif variant == "cut_signature":
                s = s[: len(s) - 8]  # cut on a 4-character boundary: still decodes, 6 bytes short
            elif variant == "cut_mid_character":
                s = s[: len(s) - 7 - (len(s) % 4 == 0)]  # ends mid-character: stray bits or a length ≡ 1 mod 4
            elif variant == "alg_none":
                h = b64(json.dumps({"alg": "none", "kid": kid}).encode())
                s = ""
            tokens.append((alg, variant, f"{h}.{p}.{s}"))
    return jwks, tokens


def run(cmd, stdin: bytes | None = None):
    return subprocess.run(cmd, input=stdin, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jwtsift", default=".build/debug/jwtsift")
    ap.add_argument("--per-alg", type=int, default=200, help="tokens per algorithm (at least 10)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    per_alg = max(len(VARIANTS), args.per_alg)
    now = int(time.time())
    rng = random.Random(args.seed)
    started = time.time()
    jwks, tokens = make_tokens(per_alg, now, rng)
    keyset = jwt.PyJWKSet.from_dict(jwks)
    expected = [refine(pyjwt_verdict(t, keyset, alg, now), variant) for alg, variant, t in tokens]

    with tempfile.TemporaryDirectory(prefix="jwtsift-crosscheck-") as d:
        jwks_path = os.path.join(d, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(jwks, f)
        # inspect: every token on stdin, one JSON object per token back.
        r = run([args.jwtsift, "inspect", "-", "--keys", jwks_path, "--at", str(now), "--format", "json",
                 "--no-weak-secrets"], "\n".join(t for _, _, t in tokens).encode())
        if r.returncode not in (0, 1):  # 1: some verdict is not ok, as expected here
            print(r.stderr.decode(), file=sys.stderr)
            return 1
        inspected = [json.loads(line) for line in r.stdout.decode().splitlines()]
        # scan: the same tokens in a log, one per line, stamped with `now`.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        log_path = os.path.join(d, "gateway.log")
        with open(log_path, "w") as f:
            for _, _, t in tokens:
                f.write(f'{stamp} 10.0.0.1 "GET /api HTTP/1.1" 401 "Authorization: Bearer {t}"\n')
        r = run([args.jwtsift, "scan", log_path, "--keys", jwks_path, "--no-weak-secrets", "--format", "ndjson"])
        if r.returncode != 0:
            print(r.stderr.decode(), file=sys.stderr)
            return 1
        scanned = {}
        for line in r.stdout.decode().splitlines():
            o = json.loads(line)
            if o["type"] == "token":
                scanned[o["line"]] = o["cause"]

    # Where the two tools differ by design (documented in docs/crosscheck.md): none here at the moment.
    disagreements = 0
    counts = {}
    for i, ((alg, variant, token), want) in enumerate(zip(tokens, expected)):
        got_inspect = inspected[i]["cause"] if i < len(inspected) else "(missing)"
        got_scan = scanned.get(i + 1, "(missing)")
        fp = hashlib.sha256(token.encode()).hexdigest()[:12]
        counts[(alg, variant)] = counts.get((alg, variant), 0) + 1
        for tool, got in (("inspect", got_inspect), ("scan", got_scan)):
            if got != want:
                disagreements += 1
                print(f"DISAGREE {alg:12} {variant:18} {fp}: PyJWT {want}, jwtsift {tool} {got}")
    total = len(tokens)
    print(f"crosscheck: {total} tokens, {len(ALGS)} algorithms ({per_alg} each), {len(VARIANTS)} variants; "
          f"PyJWT {jwt.__version__}; {disagreements} disagreements; {time.time() - started:.1f} s")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
