#!/usr/bin/env python3
"""Regenerates Sources/JWTScan/PhraseTable.swift from the researched phrase reference.

Usage: scripts/gen-phrase-table.py ../shared/reference/error-phrases.md > Sources/JWTScan/PhraseTable.swift

Every backquoted message in a verified row (status V, C or D) becomes one rule. `{name}` placeholders and `…`
become gaps; placeholders that carry a time or a duration become captures. OVERRIDES below fix the cause where
jwtsift's vocabulary is finer than the research's (key_fetch_failed) and drop texts too generic to classify.
"""
import re
import sys

CAUSES = ["malformed", "truncated", "encrypted", "alg_none", "alg_unsupported", "key_unknown", "alg_mismatch",
          "signature_invalid", "key_retired", "issuer_rejected", "audience_rejected", "expired", "not_yet_valid",
          "issued_in_future", "claims_invalid", "missing_token", "key_fetch_failed", "other"]
ALIASES = {"issuer_unknown": "issuer_rejected", "issuer_mismatch": "issuer_rejected",
           "audience_mismatch": "audience_rejected"}

# Texts that name a failure but not a JWT one on their own: matching them would misfile ordinary log lines.
SKIP = {"now − exp", "duration = now − exp", "String(reflecting:)", "InvalidTokenError(e.message)",
        "Mon, 01 Jan 2024 00:00:00 GMT", "pkg/middlewares", "requestPrincipals", "jwt_authn_access_denied",
        "2024-01-01 00:00:00 +0000 UTC", "2024-01-01T00:00:00Z", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "MM/dd/yyyy HH:mm:ss",
        "SHA256withRSA", "HmacSHA256", "enforce_minimum_key_length", "… is unspecified", "IDX12723", "IDX12729",
        '"\\(name) claim verification failed: \\(reason)"', "resource_metadata=\"…\"",
        "Unauthorized", "Invalid Token", "Insufficient Scope", "Malformed", "Token not found",
        "Bearer ", "invalid_token", "jwt_authn_access_denied{Jwt_is_expired}", "{message}",
        "Key not authorized", "RBAC: access denied", "KID_ALG_UNMATCH",
        # express-jwt's error code: `_` folds to a space, so alone it is also any server's "Credentials required"
        # (the general classifier has it as a cue, which needs a token word beside it).
        "credentials_required",
        # Words many programs print for any failure: the general classifier files them as `other`; the emitter's
        # own form (`JsonWebTokenError: invalid token`) is a row in docs/phrases.
        "invalid token", "Invalid JWT"}

# Messages that say the verifier could not fetch keys or holds none (they explain bursts of key_unknown).
KEY_FETCH = ["Jwks remote fetch is failed", "Jwks is an invalid JSON", "Jwks doesn't have any valid public key",
             "Fail to fetch data from the url", "Cannot obtain jwks from url", "No keys found in",
             "The JWKS endpoint did not contain any", "oidc: get keys failed", "oidc: failed to decode keys",
             "IDX10261", "request timed out", "Expected 200 OK from the JSON Web Key Set",
             "Failed to parse the JSON Web Key Set", "The JWKS key is not yet fetched", "Malformed Jwk set",
             "IDX10500"]

# Causes where the research lists several for one row and the text decides.
TEXT_CAUSE = {
    "Invalid JWT": "malformed", "Failed to base64url decode the payload": "truncated",
    "Failed to parse the decoded payload as JSON": "truncated", "Bad token; invalid JSON": "truncated",
    "Bad token; invalid alg": "alg_unsupported", "Bad token; invalid claims": "claims_invalid",
    "Bad token; invalid signature": "signature_invalid", "failed to verify jwt": "other",
    "unsupported algorithm: {alg}": "alg_unsupported", "JWT validation error": "other",
    "Attempted JWT access with non-existent key.": "key_unknown", "Failed to parse JWT (JWE)": "encrypted",
    "Failed to read access token from JWT": "malformed", "Jwt is missing": "missing_token",
    "invalid token": "malformed", "Invalid or unsupported algorithm: {alg}": "alg_unsupported",
    "Algorithm {alg} not supported.": "alg_unsupported", "Token is not active": "expired",
    "JWT token invalid: {reason}": "malformed", "… must be a json object": "malformed",
    "Invalid header padding": "truncated", "Invalid payload padding": "truncated", "Invalid crypto padding": "truncated",
    "Error decoding token headers.": "truncated", "Error decoding token claims.": "truncated",
    # The header or payload bytes are not UTF-8 JSON: nothing says the token was cut (malformed, not truncated).
    "Invalid header string: {json error}": "malformed", "Invalid payload string: {json error}": "malformed",
    # jose's JWEInvalid: the text is not a compact JWE (parts, header) where the caller expected one (next-auth's
    # session cookie): malformed. (Its JWEDecryptionFailed stays `encrypted`: the JWE could not be opened.)
    "Invalid Compact JWE": "malformed", "JWE Protected Header is invalid": "malformed",
}

# Placeholder name → what the captured text is. Names are the research's own.
TIME_NAMES = {"exp": "exp", "now": "now", "nbf": "nbf", "Expires": "exp", "NotBefore": "nbf"}
DELTA_MS = {"Δms", "Δ"}


def cause_words(text):
    words = []
    for w in re.findall(r"[a-z_]+", text):
        w = ALIASES.get(w, w)
        if w in CAUSES:
            words.append(w)
    return words


def split_cells(line):
    cells, cur, in_code = [], "", False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "`":
            in_code = not in_code
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if c == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    return cells[1:]


def swift_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def capture_for(name, cause, preceding):
    name = name.strip()
    # Another layer's message (`Unable to validate the token: {err}`): the rule is a wrapper.
    if name in ("err", "error", "message", "msg", "inner", "reason", "detail", "details", "exception"):
        return ".inner"
    p = preceding.lower()
    if p.endswith("current time (utc): '") or p.endswith("current time: '") or p.endswith("current time: ") or p.endswith("current time "):
        return ".now"
    if p.endswith("validto (utc): '") or p.endswith("validto: '") or p.endswith("expires (utc): '") or p.endswith("expires: '"):
        return ".exp"
    if p.endswith("validfrom (utc): '") or p.endswith("notbefore (utc): '") or p.endswith("notbefore: '"):
        return ".nbf"
    if name in ("0", "1", "2", "3", "4"):
        return ".ignore"
    if name in DELTA_MS:
        return ".deltaMilliseconds"
    if name == "skew":
        return ".skewMilliseconds"
    if name == "duration":
        return ".goDuration"
    if name in TIME_NAMES:
        return "." + TIME_NAMES[name]
    if name in ("Instant", "time.Time", "http_time", "ngx.http_time", "ngx.http_time(exp)", "0", "1"):
        if cause == "not_yet_valid" or cause == "issued_in_future":
            return ".nbf"
        return ".exp"
    return ".ignore"


def main(path):
    section = ""
    rows = []
    seen = set()
    for line in open(path, encoding="utf-8"):
        if line.startswith("## ") or line.startswith("### "):
            section = line.lstrip("#").strip().replace("`", "")
            section = re.sub(r"^[\d.]+\s*", "", section)
            section = re.split(r" \(|\. |:|,", section)[0].strip()
            continue
        if not re.match(r"^\| \d+[a-z]? \|", line):
            continue
        cells = split_cells(line.rstrip("\n"))
        if len(cells) < 4:
            continue
        number, text_cell = cells[0], cells[1]
        status = cells[-1].strip()
        if "unverified" in status:
            continue
        # The cause column is the first one after the text whose words name causes.
        cause_cell = next((c for c in cells[2:-2] if cause_words(c)), "")
        causes = cause_words(cause_cell.split("(")[0]) or cause_words(cause_cell) or ["other"]
        texts = re.findall(r"`([^`]+)`", text_cell)
        texts = [t for t in texts if t not in SKIP and not t.startswith("jwt_authn_access_denied") and not t.startswith(".") and len(t) >= 6]
        alternatives = [p.strip() for p in cause_cell.split("(")[0].split("/")]
        positional = len(alternatives) == len(texts) and len(texts) > 1
        for i, text in enumerate(texts):
            cause = causes[0]
            if positional:
                w = cause_words(alternatives[i])
                cause = w[0] if w else "other"
            if text in TEXT_CAUSE:
                cause = TEXT_CAUSE[text]
            if any(k in text for k in KEY_FETCH):
                cause = "key_fetch_failed"
            # C#-escaped newlines: keep the part before the first one (what a single log line shows).
            text = text.split("\\n")[0]
            # Strip the access-log form and the leading wrapper arrows.
            text = text.split(" → ")[0]
            parts = re.split(r"(\{[^}\"]*\}|…)", text)
            fragments, captures = [], []
            for p in parts:
                if not p:
                    continue
                if p == "…" or re.fullmatch(r"\{[^}\"]*\}", p):
                    if p.startswith("{"):
                        preceding = next((q for q in reversed(fragments) if q), "") if fragments else ""
                        captures.append(capture_for(p[1:-1], cause, preceding))
                    else:
                        captures.append(".ignore")
                    fragments.append(None)
                else:
                    fragments.append(p)
            # Collapse into literal fragments with the capture after each (caps[i] follows lits[i]).
            lits, caps = [], []
            cap_iter = iter(captures)
            for f in fragments:
                if f is None:
                    c = next(cap_iter)
                    if lits:
                        caps[-1] = c if caps[-1] == ".ignore" else caps[-1]
                else:
                    lits.append(f)
                    caps.append(".ignore")
            # Short connectors between placeholders (" or ", ".", "'") are optional in real messages
            # (one audience prints no " or "): keep only fragments that carry words.
            kept = [(l, c) for i, (l, c) in enumerate(zip(lits, caps)) if i == 0 or len(l.strip()) >= 5]
            lits = [l for l, _ in kept]
            caps = [c for _, c in kept]
            if not lits or max(len(l.strip()) for l in lits) < 6:
                continue
            key = (tuple(l.lower() for l in lits), cause)
            if key in seen:
                continue
            seen.add(key)
            rows.append((f"{number}", section, lits, caps, cause))

    print("import SiftCore")
    print()
    print("// Generated by scripts/gen-phrase-table.py from the researched phrase reference; edit the script's")
    print("// overrides or add rows to `PhraseTable.extraRules`, then regenerate. One test per row checks each rule.")
    print()
    print("extension PhraseTable {")
    print("    /// Rules read from verifiers' sources: (reference row, emitter, literal fragments, capture after each, cause).")
    print("    static let researchedRules: [PhraseRule] = [")
    for number, section, lits, caps, cause in rows:
        frag = ", ".join(swift_string(l) for l in lits)
        if all(c == ".ignore" for c in caps):
            cap = ""
        else:
            cap = ", captures: [" + ", ".join(caps) + "]"
        print(f"        PhraseRule(row: {swift_string(number)}, emitter: {swift_string(section)}, fragments: [{frag}], cause: .{cause}{cap}),")
    print("    ]")
    print("}")


if __name__ == "__main__":
    main(sys.argv[1])
