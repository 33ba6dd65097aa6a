#!/usr/bin/env python3
"""Generates Sources/JWTScan/PhraseTable+Sourced.swift from the source-checked phrase rows in docs/phrases/*.tsv.

Usage: scripts/gen-phrase-sources.py > Sources/JWTScan/PhraseTable+Sourced.swift

Each TSV row (emitter, cause, alternative, text, source, status) is one message as its emitter's source writes
it, `{name}` marking a value the emitter inserts. Placeholders that carry a time or a duration become captures
(exp, nbf, now, iat, delta_s, delta_ms, skew_s, skew_ms, go_duration); the others become gaps. A row becomes a
rule when one literal part is at least 8 bytes long (the matcher anchors on 8 bytes); the rest are listed on
stderr. Texts too generic to classify alone are skipped (see SKIP).
"""
import glob
import os
import re
import sys

CAUSES = ["malformed", "truncated", "encrypted", "alg_none", "alg_unsupported", "key_unknown", "alg_mismatch",
          "signature_invalid", "key_retired", "issuer_rejected", "audience_rejected", "expired", "not_yet_valid",
          "issued_in_future", "claims_invalid", "missing_token", "key_fetch_failed", "other"]
# Whole texts that name no cause on their own (generic codes and words many programs print).
SKIP = {"unauthorized", "invalid token", "invalid_token", "token invalid", "invalid jwt", "jwt invalid",
        "access denied", "forbidden", "authentication failed", "invalid request", "bad request", "token error",
        "token validation failed"}
CODES = {".inner": "in", ".ignore": "-", ".exp": "exp", ".nbf": "nbf", ".now": "now", ".deltaMilliseconds": "dms",
         ".deltaSeconds": "ds", ".skewMilliseconds": "sms", ".skewSeconds": "ss", ".goDuration": "go"}
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}|…")
ANCHOR = 8


# Placeholders that hold another layer's message: a text ending in one is a wrapper (`failed to verify token: {err}`),
# and a message found inside it that names a cause outranks it.
INNER = {"err", "error", "errors", "detail", "details", "reason", "message", "msg", "e", "inner", "cause", "exception",
         "jose4j_message", "error_message", "inner_error"}


def capture(name, cause):
    if name in INNER:
        return ".inner"
    if name in ("exp",):
        return ".exp"
    if name in ("nbf",):
        return ".nbf"
    if name == "iat":
        return ".nbf" if cause in ("issued_in_future", "not_yet_valid") else ".ignore"
    if name == "now":
        return ".now"
    return {"delta_ms": ".deltaMilliseconds", "delta_s": ".deltaSeconds", "skew_ms": ".skewMilliseconds",
            "skew_s": ".skewSeconds", "go_duration": ".goDuration"}.get(name, ".ignore")


def rule(text, cause):
    # A C#-escaped or literal newline: a log line shows the part before it.
    text = text.split("\\n")[0].split("\n")[0]
    lits, caps = [], []
    pos = 0
    for m in PLACEHOLDER.finditer(text):
        lits.append(text[pos:m.start()])
        caps.append(capture(m.group(1), cause) if m.group(1) else ".ignore")
        pos = m.end()
    lits.append(text[pos:])
    caps.append(".ignore")
    # The capture after literal i is the placeholder that follows it. Empty literals (adjacent placeholders) and
    # short connectors between placeholders (" or ", "', '", optional in real messages) are dropped: keep words.
    # A short connector between two times stays (Cognito's `Token expired: {now} >= {exp}`): without it the second
    # time would be read as part of the first.
    times = (".exp", ".nbf", ".now")
    kept = []
    for l, c in zip(lits, caps):
        if l == "" or (kept and len(l.strip()) < 5 and not (c in times and kept[-1][1] in times)):
            continue
        kept.append((l, c))
    # A value at the end may be empty or cut (`token signed by untrusted key with ID:` with no ID): the space before
    # a trailing placeholder that carries no time is optional.
    if kept and pos < len(text) + 1 and lits[-1] == "" and kept[-1][1] in (".ignore", ".inner"):
        kept[-1] = (kept[-1][0].rstrip(), kept[-1][1])
    if not kept or max(len(l.encode()) for l, _ in kept) < ANCHOR:
        return None
    return kept


def main():
    root = os.path.join(os.path.dirname(__file__), "..", "docs", "phrases")
    out, seen, skipped = [], set(), []
    for path in sorted(glob.glob(os.path.join(root, "*.tsv"))):
        name = os.path.basename(path)
        for n, line in enumerate(open(path, encoding="utf-8"), start=1):
            cells = line.rstrip("\n").split("\t")
            if n == 1 or len(cells) != 6:
                continue
            emitter, cause, alternative, text, source, status = cells
            if cause not in CAUSES or status.strip() not in ("V", "C", "D"):
                skipped.append(f"{name}:{n}: cause or status")
                continue
            if text.strip().lower() in SKIP:
                skipped.append(f"{name}:{n}: too generic: {text}")
                continue
            kept = rule(text, cause)
            if kept is None:
                skipped.append(f"{name}:{n}: no literal of {ANCHOR} bytes: {text}")
                continue
            key = tuple(l.lower() for l, _ in kept)
            if key in seen:
                continue
            seen.add(key)
            alt = alternative.strip()
            alt = alt if alt in CAUSES and alt != cause else ""
            # A lone code or class name (`TokenExpired`, `SecurityTokenExpiredException`) ranks below messages.
            lone = len(kept) == 1 and " " not in kept[0][0].strip()
            prio = "-1" if lone else "0"
            caps = ",".join(CODES[c] for _, c in kept)
            row = f"{name.removesuffix('.tsv')}:{n}"
            # row, emitter, cause, alternative, priority, captures, fragments…, and a closing `|` so trailing
            # spaces of the last fragment survive editors.
            out.append("\t".join([row, emitter, cause, alt, prio, caps] + [l for l, _ in kept] + ["|"]))
    print("// Generated by scripts/gen-phrase-sources.py from docs/phrases/*.tsv (source-checked rows: each row's TSV")
    print("// line names where its text was read). Edit the TSV files, then regenerate; do not edit this file.")
    print()
    print("extension PhraseTable {")
    print("    /// Rules from docs/phrases, one per line: row (`file:line` of the TSV row that cites the text's source),")
    print("    /// emitter, cause, alternative, priority, capture codes, literal fragments, `|`; tab-separated. Parsed")
    print("    /// once by ``sourcedRules`` (a text table compiles in a blink; 1,500 initializer calls do not).")
    print('    static let sourcedTable = #"""')
    # Indented as `swift format` lays the literal out (the indentation is stripped by the compiler), so the
    # generated file passes the lint as written.
    print("\n".join("        " + line for line in out))
    print('        """#')
    print("}")
    print(f"{len(out)} rules, {len(skipped)} rows skipped", file=sys.stderr)
    for s in skipped:
        print("  " + s, file=sys.stderr)


if __name__ == "__main__":
    main()
