import JOSECrypto
import JWTScan
import SiftCore

/// Decodes a compact token and checks its signature against a ``KeyRing``: the time-independent half of the
/// verdict. Pure apart from the thread-confined ``SignatureChecker`` it is handed.
public struct TokenAnalyzer: Sendable {
    public let keys: KeyRing
    public let policy: VerifyPolicy
    /// Keep the decoded header and claims, and the list of keys tried (for `inspect`).
    public let details: Bool

    public init(keys: KeyRing, policy: VerifyPolicy = VerifyPolicy(), details: Bool = false) {
        self.keys = keys
        self.policy = policy
        self.details = details
    }

    /// Analyses `token` (its exact bytes). `truncation` is what the scanner suspected about the text around it.
    public func analyze(_ token: [UInt8], truncation: Truncation? = nil, verifier: SignatureChecker) -> TokenAnalysis {
        var a = TokenAnalysis()
        a.length = token.count
        let cut = truncation != nil
        func broken(_ reason: String) -> TokenAnalysis {
            a.signature = .malformed
            a.add(cut ? .truncated : .malformed, cut ? "cut short (\(truncation!.rawValue)): \(reason)" : reason)
            return a
        }

        // Segments.
        let (dots, badByte) = token.withUnsafeBytes { Base64URL.compactDots($0) }
        if let i = badByte { return broken("byte \(i + 1) is not base64url (\(Self.describe(token[i])))") }
        a.segments = dots.count + 1
        guard !token.isEmpty else { return broken("empty token") }
        guard a.segments == 3 || a.segments == 5 else {
            return broken("\(a.segments) segments; a JWS has 3 and a JWE 5")
        }
        let headerBytes = token[0..<dots[0]]
        guard let (hdrRaw, hq) = Base64URL.decodeWithQuality(headerBytes), hq == .canonical, !hdrRaw.isEmpty else {
            return broken("the header is not canonical base64url")
        }
        let header: JSONObject
        do {
            header = try JSONParser.parseObject(hdrRaw)
        } catch {
            return broken("the header is not a JSON object (\(error))")
        }
        if details { a.header = header }
        guard let algValue = header["alg"], let alg = algValue.stringValue else {
            return broken(header["alg"] == nil ? "the header has no \"alg\"" : "\"alg\" is not a string")
        }
        a.alg = alg
        a.typ = header["typ"]?.stringValue
        if let kidValue = header["kid"] {
            guard let kid = kidValue.stringValue else {
                return broken("\"kid\" is a \(kidValue.typeName), not a string")
            }
            a.kid = kid
            if Self.looksInjected(kid) { a.flags.insert(.kidInjection) }
        }
        if header["jku"] != nil { a.flags.insert(.jku) }
        if header["x5u"] != nil { a.flags.insert(.x5u) }
        if header["jwk"] != nil { a.flags.insert(.jwk) }
        if header["x5c"] != nil { a.flags.insert(.x5c) }
        if header["crit"] != nil { a.flags.insert(.crit) }

        // JWE: record, never decrypt.
        if a.segments == 5 {
            guard let enc = header["enc"]?.stringValue else {
                return broken("5 segments but the header has no \"enc\"")
            }
            a.kind = .jwe
            a.enc = enc
            a.signature = .unchecked
            if cut { a.add(.truncated, "cut short (\(truncation!.rawValue))") }
            a.add(
                .encrypted,
                "encrypted token (alg \(Redact.short(alg)), enc \(Redact.short(enc))): claims cannot be read without the key"
            )
            return a
        }

        // Payload and signature.
        let payloadBytes = token[(dots[0] + 1)..<dots[1]]
        let signatureBytes = token[(dots[1] + 1)...]
        guard let (payload, pq) = Base64URL.decodeWithQuality(payloadBytes), pq == .canonical else {
            return broken("the payload is not canonical base64url")
        }
        guard let (signature, sq) = Base64URL.decodeWithQuality(signatureBytes), sq == .canonical else {
            readClaims(payload, into: &a)
            if let algorithm = JWSAlgorithm(rawValue: alg),
                let hint = cutSignatureHint(algorithm, kid: a.kid, characters: signatureBytes.count)
            {
                a.hints.append(hint)
            }
            a.causes.remove(.claims_invalid)
            return broken(
                "the signature is not canonical base64url (\(signatureBytes.count) characters: \(signatureBytes.count % 4 == 1 ? "a length no encoder produces" : "stray trailing bits")), as when a token is cut short"
            )
        }
        a.signatureLength = signature.count
        readClaims(payload, into: &a)

        if alg.utf8.count == 4 && alg.lowercased() == "none" {
            a.kind = .unsecured
            a.signature = .unsupported
            a.add(
                .alg_none,
                signature.isEmpty
                    ? "alg \"\(Redact.short(alg))\": an unsecured token, which no verifier may accept"
                    : "alg \"\(Redact.short(alg))\" with a non-empty signature: an unsecured token, which no verifier may accept"
            )
            return a
        }
        guard let algorithm = JWSAlgorithm(rawValue: alg) else {
            a.signature = .unsupported
            a.add(.alg_unsupported, "alg \"\(Redact.short(alg))\" is not a JWS signature algorithm jwtsift knows")
            return a
        }
        if header["b64"]?.stringValue != nil || header["b64"] == .bool(false) {
            a.flags.insert(.b64False)
            a.signature = .unsupported
            a.add(.alg_unsupported, "unencoded payload (RFC 7797 \"b64\": false) is not supported")
            return a
        }

        let signingInput = Array(token[0..<dots[1]])
        checkSignature(
            algorithm, kid: a.kid, signingInput: signingInput, signature: signature, verifier: verifier, into: &a)
        if cut && a.signature != .valid {
            a.add(.truncated, "cut short (\(truncation!.rawValue)): the signature cannot verify")
        }
        checkPolicy(into: &a)
        return a
    }

    // MARK: - Claims

    func readClaims(_ payload: [UInt8], into a: inout TokenAnalysis) {
        guard let claims = try? JSONParser.parseObject(payload) else {
            a.add(.claims_invalid, "the payload is not a JSON claims object (still signature-checked)")
            return
        }
        if details { a.claims = claims }
        var problems: [String] = []
        func time(_ name: String) -> Double? {
            guard let v = claims[name] else { return nil }
            guard let n = v.numberValue, n.isFinite else {
                problems.append("\"\(name)\" is a \(v.typeName), not a NumericDate")
                return nil
            }
            if n >= 1e12 { a.flags.insert(.msTimestamp) }
            return n
        }
        a.exp = time("exp")
        a.nbf = time("nbf")
        a.iat = time("iat")
        if let v = claims["iss"] {
            if let s = v.stringValue { a.iss = s } else { problems.append("\"iss\" is a \(v.typeName), not a string") }
        }
        if let v = claims["sub"] {
            if let s = v.stringValue { a.sub = s } else { problems.append("\"sub\" is a \(v.typeName), not a string") }
        }
        if let v = claims["aud"] {
            if let s = v.stringValue {
                a.aud = [s]
            } else if let list = v.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                a.aud = list.compactMap(\.stringValue)
            } else {
                problems.append("\"aud\" is a \(v.typeName), not a string or an array of strings")
            }
        }
        if !problems.isEmpty { a.add(.claims_invalid, problems.joined(separator: "; ")) }
        if a.exp == nil { a.flags.insert(.noExp) }
        if let exp = a.exp, let iat = a.iat, exp - iat > policy.longLifetime { a.flags.insert(.longLifetime) }
        if let exp = a.exp, let nbf = a.nbf, nbf > exp { a.flags.insert(.nbfAfterExp) }
    }

    func checkPolicy(into a: inout TokenAnalysis) {
        if !policy.issuers.isEmpty {
            if let iss = a.iss {
                if !policy.issuers.contains(iss) {
                    a.add(.issuer_rejected, "iss \"\(Redact.short(iss))\" is not among --issuer")
                }
            } else {
                a.add(.issuer_rejected, "no iss claim, and --issuer was given")
            }
        }
        if !policy.audiences.isEmpty && !a.aud.contains(where: policy.audiences.contains) {
            a.add(
                .audience_rejected,
                a.aud.isEmpty
                    ? "no aud claim, and --audience was given"
                    : "aud \(a.aud.map { "\"\(Redact.short($0))\"" }.joined(separator: ", ")) has none of --audience")
        }
    }

    // MARK: - Signature

    func checkSignature(
        _ alg: JWSAlgorithm, kid: String?, signingInput: [UInt8], signature: [UInt8], verifier: SignatureChecker,
        into a: inout TokenAnalysis
    ) {
        let pool = keys.current + keys.retired
        let named = kid.map { k in pool.filter { $0.kid == k } } ?? []
        var candidates: [VerificationKey] = []
        var refused: [(VerificationKey, String)] = []
        for key in pool where kid == nil || key.kid == nil || key.kid == kid {
            if let why = key.refusal(for: alg) {
                refused.append((key, why))
                if details {
                    a.attempts.append(
                        KeyAttempt(
                            key: key.name, origin: key.origin, retired: key.retired, outcome: "not a candidate: \(why)")
                    )
                }
            } else {
                candidates.append(key)
            }
        }
        // Current keys first, then retired ones.
        candidates.sort { !$0.retired && $1.retired }

        if signature.isEmpty {
            a.signature = .invalid
            a.add(
                .signature_invalid,
                "the signature is empty (alg \(alg.rawValue)): a stripped-signature forgery or a truncated token")
            return
        }

        var verifiedBy: VerificationKey? = nil
        signingInput.withUnsafeBytes { message in
            signature.withUnsafeBytes { sig in
                for key in candidates {
                    let ok: Bool
                    switch key.material {
                    case .secret(let s): ok = verifier.verifyMAC(alg.hash!, secret: s, message: message, signature: sig)
                    case .publicKey(let k):
                        ok = verifier.verify(alg.scheme(for: k.shape)!, key: k, message: message, signature: sig)
                    }
                    if details {
                        a.attempts.append(
                            KeyAttempt(
                                key: key.name, origin: key.origin, retired: key.retired,
                                outcome: ok ? "verified" : "signature does not verify"))
                    }
                    if ok {
                        verifiedBy = key
                        break
                    }
                }
            }
        }

        if let key = verifiedBy {
            a.key = key.name
            if let declared = key.declaredAlg, declared != alg { a.flags.insert(.keyAlgDiffers) }
            if case .secret(let s) = key.material, s.count < alg.hash!.size { a.flags.insert(.weakSecret) }
            if key.retired {
                a.signature = .retired_key
                a.flags.insert(.retiredKey)
                a.add(.key_retired, "verified only by retired key \(Redact.short(key.name)) (\(key.origin))")
            } else {
                a.signature = .valid
            }
            return
        }

        addSignatureHints(alg, signature: signature, candidates: candidates, signingInput: signingInput, into: &a)
        if alg.isHMAC {
            checkHMACAttacks(alg, signingInput: signingInput, signature: signature, named: named, into: &a)
        }

        if !candidates.isEmpty {
            a.signature = .invalid
            if let kid, named.isEmpty {
                a.signature = .key_unknown
                a.add(
                    .key_unknown,
                    "no key has kid \"\(Redact.short(kid))\", and the \(candidates.count) key(s) without a kid do not verify it"
                )
            } else {
                a.add(
                    .signature_invalid,
                    "the signature does not verify with \(candidates.count == 1 ? "key \(Redact.short(candidates[0].name))" : "any of \(candidates.count) candidate keys")"
                )
            }
            return
        }
        if !named.isEmpty {
            let reasons = named.compactMap { $0.refusal(for: alg) }
            let unusable = named.allSatisfy { $0.fits(alg) && $0.notForSignaturesReason != nil }
            if unusable {
                a.signature = .key_unknown
                a.add(.key_unknown, "kid \"\(Redact.short(kid!))\" names no signing key: \(reasons.first ?? "")")
            } else {
                a.signature = .alg_mismatch
                let confusion =
                    alg.isHMAC && named.contains { if case .publicKey = $0.material { true } else { false } }
                a.add(
                    .alg_mismatch,
                    confusion
                        ? "\(alg.rawValue) token whose kid \"\(Redact.short(kid!))\" names an asymmetric key: the algorithm-confusion attack"
                        : "kid \"\(Redact.short(kid!))\": \(reasons.first ?? "the key does not fit \(alg.rawValue)")")
            }
            return
        }
        if !refused.isEmpty && refused.contains(where: { $0.0.fits(alg) }) {
            a.signature = .alg_mismatch
            a.add(.alg_mismatch, refused.first(where: { $0.0.fits(alg) })!.1)
            return
        }
        if let kid, keys.anyFits(alg) {
            a.signature = .key_unknown
            a.add(.key_unknown, "no key has kid \"\(Redact.short(kid))\" (keys given: \(keys.all.count))")
            return
        }
        a.signature = .unchecked
        a.reasons[.unverified] =
            keys.isEmpty
            ? "no keys were given (--keys, --hmac-secret-file): the signature was not checked"
            : "no key given can verify \(alg.rawValue)\(kid.map { " with kid \"\(Redact.short($0))\"" } ?? "")"
    }

    func addSignatureHints(
        _ alg: JWSAlgorithm, signature: [UInt8], candidates: [VerificationKey], signingInput: [UInt8],
        into a: inout TokenAnalysis
    ) {
        for key in candidates {
            guard case .publicKey(let k) = key.material, let need = alg.signatureLength(for: k.shape),
                signature.count != need
            else { continue }
            if alg.family == .ecdsa, let curve = alg.curve,
                ECDSASignature.raw(fromDER: signature, size: curve.coordinateSize) != nil
            {
                a.flags.insert(.derSignature)
                a.hints.append(
                    "the signature is DER-encoded ECDSA (\(signature.count) bytes) instead of JOSE's raw R‖S (\(need) bytes): a producer bug"
                )
            } else if signature.count < need {
                a.hints.append(
                    "the signature is \(need - signature.count) bytes shorter than \(alg.rawValue) with key \(Redact.short(key.name)) needs (\(need)): truncated by the logger?"
                )
            } else {
                a.hints.append(
                    "the signature is \(signature.count - need) bytes longer than \(alg.rawValue) with key \(Redact.short(key.name)) needs (\(need))"
                )
            }
            break
        }
        for key in candidates {
            guard case .secret(let s) = key.material, s.endsInWhitespace else { continue }
            a.hints.append(
                "secret \(s.opaqueID) (\(key.origin)) ends with whitespace or a newline: was the file written with echo?"
            )
        }
    }

    /// For a signature segment that does not decode: how many bytes the fitting key's signature would need.
    func cutSignatureHint(_ alg: JWSAlgorithm, kid: String?, characters: Int) -> String? {
        for key in keys.all where (kid == nil || key.kid == nil || key.kid == kid) && key.refusal(for: alg) == nil {
            guard case .publicKey(let k) = key.material, let need = alg.signatureLength(for: k.shape) else { continue }
            let needChars = (need * 8 + 5) / 6
            guard characters < needChars else { return nil }
            return
                "the signature segment is \(needChars - characters) characters shorter than \(alg.rawValue) with key \(Redact.short(key.name)) needs (\(needChars)): truncated by the logger?"
        }
        return nil
    }

    /// HS* tokens no given key verifies: forged with a public key as the HMAC secret? signed with a well-known secret?
    func checkHMACAttacks(
        _ alg: JWSAlgorithm, signingInput: [UInt8], signature: [UInt8], named: [VerificationKey],
        into a: inout TokenAnalysis
    ) {
        let hash = alg.hash!
        let publicKeys: [PublicKey] = (named.isEmpty ? keys.all : named).compactMap {
            if case .publicKey(let k) = $0.material { return k }
            return nil
        }
        signingInput.withUnsafeBytes { message in
            signature.withUnsafeBytes { sig in
                for k in publicKeys {
                    let der = k.subjectPublicKeyInfoDER
                    let pem = Array(PEM.encode(der, label: "PUBLIC KEY").utf8)
                    for secret in [pem, Array(pem.dropLast()), der]
                    where HMACSecret.matches(hash, key: secret, message: message, signature: sig) {
                        a.flags.insert(.publicKeyAsSecret)
                        a.hints.append(
                            "forged: the HMAC secret is a public key's own bytes (algorithm-confusion attack)")
                        return
                    }
                }
                guard policy.tryWeakSecrets else { return }
                for secret in WeakSecrets.list
                where HMACSecret.matches(hash, key: Array(secret.utf8), message: message, signature: sig) {
                    a.flags.insert(.weakSecret)
                    a.hints.append(
                        "signed with a well-known weak secret from jwtsift's built-in list: anyone can forge these tokens"
                    )
                    return
                }
            }
        }
    }

    // MARK: - Helpers

    static func describe(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? "'\(Character(UnicodeScalar(b)))'" : "0x" + String(b, radix: 16)
    }

    /// kid values that look like path traversal, SQL, shell or header injection (RFC 8725 §3.10): control
    /// bytes, / \\ ' " ; | ` < >, "..", "--", "$(" or a percent-encoded dot or slash. Bytes, no String searching.
    static func looksInjected(_ kid: String) -> Bool {
        var kid = kid
        kid.makeContiguousUTF8()
        if kid.utf8.count > 128 { return true }
        return kid.utf8.withContiguousStorageIfAvailable { b -> Bool in
            var previous: UInt8 = 0
            for (i, c) in b.enumerated() {
                switch c {
                case 0..<0x20, 0x7F, UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""),
                    UInt8(ascii: ";"), UInt8(ascii: "|"), UInt8(ascii: "`"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                    return true
                case UInt8(ascii: "."), UInt8(ascii: "-"):
                    if previous == c { return true }
                case UInt8(ascii: "("):
                    if previous == UInt8(ascii: "$") { return true }
                case UInt8(ascii: "%"):
                    if i + 2 < b.count, b[i + 1] == UInt8(ascii: "2") {
                        let d = b[i + 2] | 0x20
                        if d == UInt8(ascii: "e") || d == UInt8(ascii: "f") { return true }
                    }
                default: break
                }
                previous = c
            }
            return false
        } ?? true
    }
}

/// PEM text from DER.
public enum PEM {
    public static func encode(_ der: [UInt8], label: String) -> String {
        let b64 = Base64URL.encode(der).map { c -> Character in
            switch c {
            case "-": "+"
            case "_": "/"
            default: c
            }
        }
        var text = String(b64)
        while text.utf8.count % 4 != 0 { text += "=" }
        var out = "-----BEGIN \(label)-----\n"
        var line = ""
        for c in text {
            line.append(c)
            if line.count == 64 {
                out += line + "\n"
                line = ""
            }
        }
        if !line.isEmpty { out += line + "\n" }
        return out + "-----END \(label)-----\n"
    }
}
