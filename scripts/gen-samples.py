#!/usr/bin/env python3
"""Regenerates samples/: realistic logs in six formats (samples/logs) and the keys that sign their tokens.

Deterministic: RSA keys are created once and kept in samples/keys/private (sample keys, never used anywhere
else); EC and Ed25519 keys come from fixed seeds; signatures are deterministic (RS256 is, Ed25519 is, ES256 uses
RFC 6979); the story's clock is fixed. Run: python3 scripts/gen-samples.py
Needs: cryptography (pip install cryptography).
"""
import base64, gzip, hashlib, hmac, io, json, os, random

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
KEYS = os.path.join(ROOT, "keys")
LOGS = os.path.join(ROOT, "logs")
PRIVATE = os.path.join(KEYS, "private")
T0 = 1699999200  # 2023-11-14T22:00:00Z
rng = random.Random(20231114)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def rsa_key(name):
    path = os.path.join(PRIVATE, name + ".pem")
    if os.path.exists(path):
        return serialization.load_pem_private_key(open(path, "rb").read(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    open(path, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return key


def rsa_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64u(uint(pub.n)), "e": b64u(uint(pub.e))}


def sign(header, claims, key=None, secret=None):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":")).encode())
    msg = f"{h}.{p}".encode()
    alg = header["alg"]
    if alg == "none":
        return f"{h}.{p}."
    if alg.startswith("HS"):
        sig = hmac.new(secret, msg, hashlib.sha256).digest()
    elif alg == "RS256":
        sig = key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        der = key.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        r, s = decode_dss_signature(der)
        sig = uint(r, 32) + uint(s, 32)
    elif alg == "EdDSA":
        sig = key.sign(msg)
    return f"{h}.{p}.{b64u(sig)}"


def main():
    os.makedirs(PRIVATE, exist_ok=True)
    current = rsa_key("rsa-2023-11")
    retired = rsa_key("rsa-2023-10")
    ec_key = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"jwtsift-sample-ec").digest(), "big") % (2**255), ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"jwtsift-sample-ed25519").digest())
    secret = b"sample-hs256-secret-for-the-orders-service-32b!"

    ecn = ec_key.public_key().public_numbers()
    ed_raw = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwks = {"keys": [rsa_jwk(current, "2023-11"),
                     {"kty": "EC", "kid": "edge-ec-1", "alg": "ES256", "use": "sig", "crv": "P-256",
                      "x": b64u(uint(ecn.x, 32)), "y": b64u(uint(ecn.y, 32))},
                     {"kty": "OKP", "kid": "partner-ed-1", "alg": "EdDSA", "crv": "Ed25519", "x": b64u(ed_raw)}]}
    json.dump(jwks, open(os.path.join(KEYS, "jwks.json"), "w"), indent=2)
    json.dump({"keys": [rsa_jwk(retired, "2023-10")]}, open(os.path.join(KEYS, "retired.jwks.json"), "w"), indent=2)
    open(os.path.join(KEYS, "orders-hs256.secret"), "wb").write(secret)
    open(os.path.join(KEYS, "rsa-2023-11.pub.pem"), "wb").write(current.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    ISS = "https://login.example.com/"
    def claims(sub, iat, life=900, iss=ISS, aud="api://orders", **extra):
        c = {"iss": iss, "sub": sub, "aud": aud, "iat": iat, "exp": iat + life}
        c.update(extra)
        return c

    rs = lambda c, kid="2023-11", key=current: sign({"alg": "RS256", "kid": kid, "typ": "JWT"}, c, key)
    users = [f"user-{i:04d}" for i in range(40)]
    good = [rs(claims(u, T0 - 300 + i * 7)) for i, u in enumerate(users)]
    expired = [rs(claims(u, T0 - 3600 - i * 11)) for i, u in enumerate(users[:12])]
    old_kid = [rs(claims(u, T0 - 120), kid="2023-10", key=retired) for u in users[12:18]]
    future = [rs(claims(u, T0 + 95)) for u in users[18:22]]       # issuer clock 95 s ahead
    unknown_kid = [rs(claims(u, T0 - 60), kid="2023-12") for u in users[22:25]]  # kid not in any JWKS
    tampered = [t[:-6] + ("AAAAAA" if not t.endswith("AAAAAA") else "BBBBBB") for t in good[25:28]]
    wrong_aud = [rs(claims(u, T0 - 30, aud="api://billing")) for u in users[28:30]]
    es = [sign({"alg": "ES256", "kid": "edge-ec-1"}, claims(u, T0 - 200, iss="https://edge.example.com/"), ec_key) for u in users[30:34]]
    ed = [sign({"alg": "EdDSA", "kid": "partner-ed-1"}, claims(u, T0 - 100, iss="https://partner.example.net/"), ed_key) for u in users[34:37]]
    hs = [sign({"alg": "HS256", "typ": "JWT"}, claims(u, T0 - 50, iss="orders-service"), secret=secret) for u in users[37:40]]
    none_tok = sign({"alg": "none", "typ": "JWT"}, claims("attacker", T0 - 10))
    confusion = sign({"alg": "HS256", "kid": "2023-11"}, claims("attacker", T0 - 10),
                     secret=current.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    big = rs(claims("user-big", T0 - 40, groups=[f"group-{i:04d}-with-a-long-name" for i in range(160)]))

    def ts(t, fmt):
        import time
        g = time.gmtime(int(t))
        ms = int(round((t - int(t)) * 1000))
        if fmt == "nginx":
            return time.strftime("%d/%b/%Y:%H:%M:%S +0000", g)
        if fmt == "iso":
            return time.strftime("%Y-%m-%dT%H:%M:%S", g) + f".{ms:03d}Z"
        if fmt == "spring":
            g = time.gmtime(int(t) + 3600)
            return time.strftime("%Y-%m-%dT%H:%M:%S", g) + f".{ms:03d}+01:00"
        if fmt == "nginxerr":
            return time.strftime("%Y/%m/%d %H:%M:%S", g)
        if fmt == "syslog":
            return time.strftime("%b %d %H:%M:%S", g)
        if fmt == "haproxy":
            return time.strftime("%d/%b/%Y:%H:%M:%S", g) + f".{ms:03d}"

    # 1. nginx combined, with the Authorization header logged as the last field.
    lines = []
    t = T0
    def nginx(tok, status, path="/api/orders", scheme="Bearer "):
        auth = f'"{scheme}{tok}"' if tok else '"-"'
        ip = f"10.1.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
        return f'{ip} - - [{ts(t, "nginx")}] "GET {path} HTTP/1.1" {status} {rng.randint(80, 4000)} "-" "okhttp/4.12.0" {auth}'
    for i in range(60):
        t += rng.randint(1, 9)
        lines.append(nginx(good[i % len(good)], 200))
        if i % 5 == 0:
            t += 1
            lines.append(nginx(expired[i // 5 % len(expired)], 401))
        if i % 9 == 0:
            lines.append(nginx(old_kid[i // 9 % len(old_kid)], 401))
        if i == 30:
            lines.append(nginx(expired[0], 200, path="/api/legacy"))  # accepted though expired
            lines.append(nginx(none_tok, 401))
            lines.append(nginx(confusion, 401, path="/api/admin"))
        if i % 20 == 7:
            lines.append(nginx(None, 401))
    lines.append(nginx(good[3], 200, path="/api/orders?access_token=" + good[3]).replace('"Bearer ' + good[3] + '"', '"-"'))
    write("nginx/access.log", lines)

    # 2. Envoy JSON access log (jwt_authn), verifier with a stale JWKS after the 2023-12 kid appeared.
    lines = []
    t = T0 + 5.0
    for i in range(50):
        t += rng.random() * 6
        tok, code, details = good[(i * 3) % len(good)], 200, "via_upstream"
        if i % 7 == 3:
            tok, code, details = unknown_kid[i % 3], 401, "jwt_authn_access_denied{Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt}"
        elif i % 11 == 5:
            tok, code, details = expired[i % 12], 401, "jwt_authn_access_denied{Jwt_is_expired}"
        elif i % 13 == 6:
            tok, code, details = tampered[i % 3], 401, "jwt_authn_access_denied{Jwt_verification_fails}"
        elif i % 17 == 8:
            tok, code, details = es[i % 4], 200, "via_upstream"
        rec = {"start_time": ts(t, "iso"), "method": "GET", "path": "/v1/orders/" + str(1000 + i), "protocol": "HTTP/2",
               "response_code": code, "response_code_details": details, "bytes_sent": rng.randint(20, 900),
               "duration": rng.randint(1, 80), "upstream_host": "10.2.0.7:8080",
               "x_forwarded_for": f"203.0.113.{rng.randint(1, 250)}", "authorization": "Bearer " + tok}
        lines.append(json.dumps(rec, separators=(",", ":")))
    lines.append(json.dumps({"start_time": ts(t + 1, "iso"), "response_code": 500,
                             "response_code_details": "jwt_authn_access_denied{Jwks_remote_fetch_is_failed}",
                             "path": "/v1/orders"}, separators=(",", ":")))
    write("envoy/access.json.log", lines)

    # 3. Node.js pino app log with jsonwebtoken errors.
    lines = []
    t = T0 + 2.0
    for i in range(40):
        t += rng.random() * 8
        base = {"level": 30, "time": int(t * 1000), "pid": 4121, "hostname": "orders-api-7d9f", "reqId": f"req-{i:05d}"}
        if i % 6 == 1:
            tok = expired[i % 12]
            base.update(level=40, msg="TokenExpiredError: jwt expired", err={"type": "TokenExpiredError", "message": "jwt expired", "expiredAt": "2023-11-14T21:10:00.000Z"}, token=tok, statusCode=401)
        elif i % 6 == 3:
            base.update(level=40, msg="JsonWebTokenError: invalid signature", token=tampered[i % 3], statusCode=401)
        elif i % 10 == 5:
            base.update(level=40, msg="NotBeforeError: jwt not active", token=future[i % 4], statusCode=401)
        elif i % 10 == 7:
            base.update(level=40, msg="JsonWebTokenError: jwt audience invalid. expected: api://orders", token=wrong_aud[i % 2], statusCode=401)
        else:
            base.update(msg="request completed", statusCode=200, user=users[i % 40], token=hs[i % 3])
        lines.append(json.dumps(base, separators=(",", ":")))
    write("node/orders-api.log", lines)

    # 4. Spring Boot resource server.
    lines = []
    t = T0 + 3.0
    for i in range(30):
        t += rng.random() * 10
        stamp = ts(t, "spring")
        if i % 4 == 0:
            lines.append(f"{stamp}  WARN 1 --- [nio-8080-exec-{i % 9 + 1}] o.s.s.o.s.r.w.BearerTokenAuthenticationFilter : Bearer token authentication failed: An error occurred while attempting to decode the Jwt: Jwt expired at {ts(t - 95, 'iso')[:-5]}Z")
        elif i % 4 == 1:
            lines.append(f"{stamp}  WARN 1 --- [nio-8080-exec-{i % 9 + 1}] o.s.s.o.s.r.w.BearerTokenAuthenticationFilter : Bearer token authentication failed: An error occurred while attempting to decode the Jwt: Signed JWT rejected: Another algorithm expected, or no matching key(s) found")
        elif i % 4 == 2:
            lines.append(f"{stamp} DEBUG 1 --- [nio-8080-exec-{i % 9 + 1}] o.s.web.servlet.DispatcherServlet : GET \"/orders/{i}\", parameters={{}} Authorization=Bearer {good[i % 40]}")
        else:
            lines.append(f"{stamp}  INFO 1 --- [nio-8080-exec-{i % 9 + 1}] c.e.orders.OrderController : listed 12 orders for {users[i % 40]}")
    lines.append(f"{ts(t + 2, 'spring')} ERROR 1 --- [nio-8080-exec-3] io.jsonwebtoken.ExpiredJwtException : JWT expired 95012 milliseconds ago at 2023-11-14T22:03:00.000Z. Current time: 2023-11-14T22:04:35.012Z. Allowed clock skew: 0 milliseconds.")
    write("spring/orders-service.log", lines)

    # 5. Kong: nginx error log lines plus a syslog-forwarded gateway log.
    lines = []
    t = T0 + 4.0
    for i in range(25):
        t += rng.random() * 12
        cid = rng.randint(100, 999)
        if i % 3 == 0:
            lines.append(f"{ts(t, 'nginxerr')} [warn] 1290#0: *{cid} [kong] handler.lua:235 [jwt] Invalid signature, client: 10.3.0.{i}, server: kong, request: \"GET /billing HTTP/1.1\", host: \"api.example.com\", authorization: \"Bearer {tampered[i % 3]}\"")
        elif i % 3 == 1:
            lines.append(f"{ts(t, 'nginxerr')} [info] 1290#0: *{cid} [kong] jwt_parser.lua:409 {{\"exp\":\"token expired\"}}, client: 10.3.0.{i}, server: kong, authorization: \"Bearer {expired[i % 12]}\"")
        else:
            lines.append(f"{ts(t, 'syslog')} gw-2 kong[1290]: 10.3.0.{i} - - \"GET /partner/feed HTTP/1.1\" 200 311 token={ed[i % 3]}")
    lines.append(f"{ts(t + 1, 'syslog')} gw-2 kong[1290]: 10.3.0.99 - - \"GET /feed HTTP/1.1\" 401 0 Cookie: session={big[:4096]}")
    lines.append(f"{ts(t + 2, 'syslog')} gw-2 kong[1290]: upstream log truncated token={good[5][:120]}... [truncated]")
    write("kong/gateway.log", lines)

    # 6. HAProxy log rotated into a two-member gzip (what `cat a.gz b.gz` produces).
    def haproxy(tok, status):
        return f"{ts(t, 'syslog')} lb-1 haproxy[811]: 198.51.100.{rng.randint(1, 250)}:{rng.randint(30000, 60000)} [{ts(t, 'haproxy')}] fe_https~ be_api/api-2 0/0/1/12/13 {status} 512 - - ---- 3/3/0/0/0 0/0 {{Bearer {tok}}} \"GET /v1/stock HTTP/1.1\""
    members = []
    for part in range(2):
        lines = []
        for i in range(20):
            t += rng.random() * 5
            lines.append(haproxy(good[(i + part * 20) % 40] if i % 4 else old_kid[i % 6], 200 if i % 4 else 401))
        members.append(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    os.makedirs(os.path.join(LOGS, "haproxy"), exist_ok=True)
    open(os.path.join(ROOT, "haproxy", "haproxy.log.1.gz"), "wb").write(b"".join(members))


def write(rel, lines):
    path = os.path.join(LOGS, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
