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
    /// Issuers with keys and policy of their own (`--config`), by `iss`: a token whose `iss` is among them is judged
    /// with those alone (a kid two issuers use is resolved by the token's `iss`); any other token with ``keys`` and
    /// ``policy``.
    public let issuers: [String: IssuerScope]

    public init(
        keys: KeyRing, policy: VerifyPolicy = VerifyPolicy(), details: Bool = false,
        issuers: [String: IssuerScope] = [:]
    ) {
        self.keys = keys
        self.policy = policy
        self.details = details
        self.issuers = issuers
    }

    /// Records which keys and policy judge `a` (by its `iss`, once its claims are read) and returns their analyzer.
    func scope(_ a: inout TokenAnalysis) -> TokenAnalyzer {
        let (judge, scope) = scoped(a.iss)
        a.scope = scope
        if scope == .issuer { a.leeway = judge.policy.leeway }
        return judge
    }

    /// The analyzer that judges a token whose `iss` is `iss`, and which scope that is.
    func scoped(_ iss: String?) -> (TokenAnalyzer, KeyScope) {
        guard !issuers.isEmpty else { return (self, .global) }
        guard let iss, let scope = issuers[iss] else { return (self, .fallback) }
        return (TokenAnalyzer(keys: scope.keys, policy: scope.policy, details: details), .issuer)
    }

    /// Analyses `token` (its exact bytes). `truncation` is what the scanner suspected about the text around it;
    /// `weakSecrets`, when given, decides how much of the weak-secret check runs (nil: all of it).
    ///
    /// The order of evidence is the contract in the README: a logger only cuts a token's end, so a segment that
    /// is not the last one and cannot be decoded is `malformed`; a last segment that ends the way only a cut
    /// explains, a missing tail, or a signature shorter than the algorithm and key need is `truncated`, before
    /// any failed signature. What a cut token still shows (header, and claims when the payload is whole) is kept.
    public func analyze(
        _ token: [UInt8], truncation: Truncation? = nil, verifier: SignatureChecker, weakSecrets: WeakSecretMemo? = nil
    ) -> TokenAnalysis {
        token.withUnsafeBytes {
            analyze($0, truncation: truncation, context: AnalysisContext(verifier: verifier), weakSecrets: weakSecrets)
        }
    }

    /// The same, over bytes borrowed for the call, with a thread's ``AnalysisContext`` (its checker and the headers
    /// it has read). With `replay`, the weak-secret check finds what it says instead of consulting `weakSecrets`.
    func analyze(
        _ token: UnsafeRawBufferPointer, truncation: Truncation? = nil, context: AnalysisContext,
        weakSecrets: WeakSecretMemo? = nil, replay: WeakReplay? = nil, fingerprint: SHA256Digest? = nil
    ) -> TokenAnalysis {
        var a = TokenAnalysis()
        a.length = token.count
        func malformed(_ reason: String) -> TokenAnalysis {
            a.signature = .malformed
            a.add(.malformed, reason)
            return a
        }
        func cut(_ reason: String) -> TokenAnalysis {
            a.signature = .malformed
            a.add(.truncated, truncation.map { "cut short (\($0.rawValue)): \(reason)" } ?? "cut short: \(reason)")
            return a
        }
        func part(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: token[range]) }

        // Segments.
        let dots = Base64URL.compactShape(token, maxDots: Self.maximumSegments)
        if let i = dots.badByte { return malformed("byte \(i + 1) is not base64url (\(Self.describe(token[i])))") }
        guard !token.isEmpty else { return malformed("empty token") }
        a.segments = dots.count + 1
        guard a.segments <= 5 else {
            // Count them all (the scan stopped early) so the reason names the real number.
            if a.segments > Self.maximumSegments { a.segments = token.reduce(1) { $0 + ($1 == 0x2E ? 1 : 0) } }
            return malformed("\(a.segments) segments; a JWS has 3 and a JWE 5")
        }
        guard a.segments > 1 else { return malformed("1 segment; a JWS has 3 and a JWE 5") }

        // The header is never the last segment here: it must decode whole. Its facts are read once per distinct
        // header (``HeaderMemo``), in the order below, up to the first refusal.
        let headerBytes = part(0..<dots.first)
        guard headerBytes.count <= TokenScanner.maximumHeaderLength else {
            return malformed(
                "the header is \(headerBytes.count) characters, over the \(TokenScanner.maximumHeaderLength / 1024) KiB limit"
            )
        }
        let facts = context.headers.facts(headerBytes)
        if details { a.header = facts.header }
        a.alg = facts.alg
        a.typ = facts.typ
        a.kid = facts.kid
        a.flags.formUnion(facts.flags)
        if let failure = facts.failure { return malformed(failure) }
        guard let alg = facts.alg else { return malformed("the header has no \"alg\"") }
        let enc = facts.enc

        // JWE (five segments, or four with "enc": one cut off): record, never decrypt.
        if a.segments >= 4 {
            guard let enc else {
                return malformed("\(a.segments) segments but the header has no \"enc\"")
            }
            a.kind = .jwe
            a.enc = enc
            a.signature = .unchecked
            let what =
                "encrypted token (alg \(Redact.short(alg)), enc \(Redact.short(enc))): claims cannot be read without the key"
            if a.segments == 4 {
                a.add(.encrypted, what)
                return cut("4 segments: a JWE has 5, its tail is missing")
            }
            if let truncation { a.add(.truncated, "cut short (\(truncation.rawValue))") }
            a.add(.encrypted, what)
            return a
        }

        // Two segments: the signature, or more, was cut off. Claims are kept when the payload is whole.
        if a.segments == 2 {
            let payloadBytes = part((dots.first + 1)..<token.count)
            if let (payload, pq) = Base64URL.decodeWithQuality(payloadBytes), pq == .canonical,
                (try? JSONParser.parseObject(payload)) != nil
            {
                readClaims(payload, into: &a)
                _ = scope(&a)
                return cut("2 segments: the signature is missing")
            }
            readPartialClaims(payloadBytes, into: &a)
            _ = scope(&a)
            return cut("2 segments: the payload ends mid-way and the signature is missing")
        }

        // Payload (not the last segment: it must decode whole) and signature (the last: a cut shows here).
        let payloadBytes = part((dots.first + 1)..<dots.second)
        let signatureBytes = part((dots.second + 1)..<token.count)
        // Decoded into the thread's buffers (no allocation per token).
        guard Base64URL.decodeWithQuality(payloadBytes, into: &context.payload) == .canonical else {
            return malformed("the payload is not canonical base64url")
        }
        readClaims(context, into: &a)
        // From here on the token is judged with its issuer's keys and policy when `--config` names its issuer.
        let judge = scope(&a)
        guard Base64URL.decodeWithQuality(signatureBytes, into: &context.signature) == .canonical else {
            if let algorithm = JWSAlgorithm(rawValue: alg),
                let hint = judge.cutSignatureHint(algorithm, kid: a.kid, characters: signatureBytes.count)
            {
                a.hints.append(hint)
            }
            let shape =
                signatureBytes.count % 4 == 1
                ? "a length no encoder produces" : "stray trailing bits no encoder produces"
            return cut("the signature segment (\(signatureBytes.count) characters) ends mid-character: \(shape)")
        }
        let signature = context.signature
        a.signatureLength = signature.count

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
        if facts.unencodedPayload {
            a.flags.insert(.b64False)
            a.signature = .unsupported
            a.add(.alg_unsupported, "unencoded payload (RFC 7797 \"b64\": false) is not supported")
            return a
        }

        judge.checkSignature(
            algorithm, kid: a.kid, signingInput: part(0..<dots.second), header: facts.encoded, signature: signature,
            truncation: truncation, verifier: context.verifier, weakSecrets: weakSecrets, replay: replay,
            fingerprint: fingerprint, into: &a)
        // The scanner saw a cut (line limit, marker, round size): it explains a signature that does not verify.
        if let truncation, a.signature != .valid, a.signature != .retired_key, !a.flags.contains(.publicKeyAsSecret),
            !a.causes.contains(.truncated)
        {
            a.causes.remove(.signature_invalid)
            a.add(.truncated, "cut short (\(truncation.rawValue)): the signature cannot verify")
        }
        judge.checkPolicy(algorithm, into: &a)
        return a
    }

    /// Keys tried for a token whose kid names none (or that has no kid); past it the token is `unverified`.
    public static let maximumUnboundCandidates = 64

    /// The signature length `key` produces for `alg`.
    static func signatureLength(_ alg: JWSAlgorithm, _ key: VerificationKey) -> Int? {
        switch key.material {
        case .publicKey(let k): alg.signatureLength(for: k.shape)
        case .secret: alg.hash?.size
        }
    }

    /// Dots counted before a candidate is called malformed without looking further.
    static let maximumSegments = 64

    // MARK: - Claims

    /// The claims of the thread's decoded payload: read in place (``ClaimsReader``) when they are in the plain
    /// form and no details are kept, their issuer and audience shared with earlier tokens of the same text; else
    /// through ``JSONParser``.
    func readClaims(_ context: AnalysisContext, into a: inout TokenAnalysis) {
        guard !details else { return readClaims(context.payload, into: &a) }
        let done = context.payload.withUnsafeBytes { p -> Bool in
            guard let c = ClaimsReader.read(p) else { return false }
            func text(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: p[r]) }
            a.exp = c.exp
            a.nbf = c.nbf
            a.iat = c.iat
            if let t = c.exp, t >= 1e12 { a.flags.insert(.msTimestamp) }
            if let t = c.nbf, t >= 1e12 { a.flags.insert(.msTimestamp) }
            if let t = c.iat, t >= 1e12 { a.flags.insert(.msTimestamp) }
            if let r = c.iss {
                a.iss = context.issuers.value(for: text(r)) { String(decoding: text(r), as: UTF8.self) }
            }
            if let r = c.sub { a.sub = String(decoding: text(r), as: UTF8.self) }
            if let r = c.aud {
                if c.audIsArray {
                    a.aud = context.audienceLists.value(for: text(r)) {
                        c.audItems.map { String(decoding: text($0), as: UTF8.self) }
                    }
                } else {
                    a.aud = context.audiences.value(for: text(r)) { [String(decoding: text(r), as: UTF8.self)] }
                }
            }
            claimFlags(&a)
            return true
        }
        if !done { readClaims(context.payload, into: &a) }
    }

    func readClaims(_ payload: [UInt8], into a: inout TokenAnalysis) {
        guard let claims = try? JSONParser.parseObject(payload) else {
            // RFC 7519 §7.2: the claims set is a JSON object. The signature is still checked and reported.
            a.add(.malformed, "the payload is not a JSON object (RFC 7519 §7.2); the signature is still checked")
            return
        }
        readClaims(claims, into: &a)
    }

    /// The claims a cut payload still shows: its decodable prefix, closed after the last whole member.
    func readPartialClaims(_ segment: UnsafeRawBufferPointer, into a: inout TokenAnalysis) {
        let whole = UnsafeRawBufferPointer(rebasing: segment.prefix(segment.count - segment.count % 4))
        guard let (bytes, _) = Base64URL.decodeWithQuality(whole),
            let claims = JSONParser.leadingMembers(bytes)
        else { return }
        readClaims(claims, into: &a)
    }

    func readClaims(_ claims: JSONObject, into a: inout TokenAnalysis) {
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
        claimFlags(&a)
    }

    /// The flags the claims read imply.
    func claimFlags(_ a: inout TokenAnalysis) {
        if a.exp == nil { a.flags.insert(.noExp) }
        if let exp = a.exp, let iat = a.iat, exp - iat > policy.longLifetime { a.flags.insert(.longLifetime) }
        if let exp = a.exp, let nbf = a.nbf, nbf > exp { a.flags.insert(.nbfAfterExp) }
    }

    func checkPolicy(_ alg: JWSAlgorithm, into a: inout TokenAnalysis) {
        if !policy.algorithms.isEmpty && !policy.algorithms.contains(alg) {
            let allowed = policy.algorithms.map(\.rawValue).sorted().joined(separator: ", ")
            a.add(
                .alg_mismatch,
                "alg \(alg.rawValue) is not among the algorithms allowed for \(a.scope == .issuer ? "its issuer" : "these tokens") (\(allowed))"
            )
        }
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

    /// The keys a token may be checked against. A `kid` that names a loaded key (current or retired) is binding:
    /// only the keys it names. Otherwise every key without a kid, and — for a token without a `kid` — every key.
    func considered(kid: String?) -> (keys: [VerificationKey], named: Bool) {
        let pool = keys.current + keys.retired
        if let kid {
            let named = pool.filter { $0.kid == kid }
            if !named.isEmpty { return (named, true) }
            return (pool.filter { $0.kid == nil }, false)
        }
        return (pool, false)
    }

    /// `signingInput` is the token up to its second dot, `header` its first segment.
    func checkSignature(
        _ alg: JWSAlgorithm, kid: String?, signingInput: UnsafeRawBufferPointer, header: [UInt8], signature: [UInt8],
        truncation: Truncation?,
        verifier: SignatureChecker, weakSecrets: WeakSecretMemo? = nil, replay: WeakReplay? = nil,
        fingerprint: SHA256Digest? = nil, into a: inout TokenAnalysis
    ) {
        let (pool, bound) = considered(kid: kid)
        var candidates: [VerificationKey] = []
        var refused: [(VerificationKey, String)] = []
        for key in pool {
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
        // Current keys first, then retired ones; without a binding kid, keys whose signature length matches come
        // first, and at most `maximumUnboundCandidates` are tried (10,000 keys would make each token cost seconds).
        candidates.sort { !$0.retired && $1.retired }
        var untried = 0
        if !bound && candidates.count > Self.maximumUnboundCandidates {
            let fitting = candidates.filter { Self.signatureLength(alg, $0) == signature.count }
            let others = candidates.filter { Self.signatureLength(alg, $0) != signature.count }
            candidates = fitting + others
            untried = candidates.count - Self.maximumUnboundCandidates
            candidates.removeLast(untried)
        }

        if signature.isEmpty {
            a.signature = .invalid
            a.add(
                .signature_invalid,
                "the signature is empty (alg \(alg.rawValue)): a stripped-signature forgery, not a cut (a logger's cut lands on the last dot rarely)"
            )
            return
        }

        var verifiedBy: VerificationKey? = nil
        signature.withUnsafeBytes { sig in
            for key in candidates {
                let ok: Bool
                switch key.material {
                case .secret(let s):
                    ok = verifier.verifyMAC(alg.hash!, secret: s, message: signingInput, signature: sig)
                case .publicKey(let k):
                    ok = verifier.verify(alg.scheme(for: k.shape)!, key: k, message: signingInput, signature: sig)
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

        if let key = verifiedBy {
            a.key = key.name
            if let declared = key.declaredAlg, declared != alg { a.flags.insert(.keyAlgDiffers) }
            if case .secret(let s) = key.material, s.count < alg.hash!.size { a.flags.insert(.weakSecret) }
            if key.retired {
                a.signature = .retired_key
                a.flags.insert(.retiredKey)
                if let history = key.history {
                    a.add(
                        .key_retired,
                        "verified only by key \(Redact.short(key.name)), gone from the current key set: it was \(history)"
                    )
                } else {
                    a.add(.key_retired, "verified only by retired key \(Redact.short(key.name)) (\(key.origin))")
                }
            } else {
                a.signature = .valid
            }
            return
        }

        addSignatureHints(alg, signature: signature, candidates: candidates, into: &a)
        // Forged with a public key's bytes as the HMAC secret: algorithm confusion, whatever else applies.
        if alg.isHMAC
            && checkHMACAttacks(
                alg, signingInput: signingInput, header: header, signature: signature, bound: bound ? pool : [],
                verifier: verifier,
                weakSecrets: weakSecrets, replay: replay, fingerprint: fingerprint, into: &a)
        {
            a.signature = .alg_mismatch
            a.add(
                .alg_mismatch,
                "\(alg.rawValue) token signed with a public key's own bytes as the HMAC secret: the algorithm-confusion attack"
            )
            return
        }
        // A cut explains a signature that does not verify before anything else does.
        if let short = shortSignature(alg, signature: signature, candidates: candidates) {
            a.signature = candidates.isEmpty ? .unchecked : .invalid
            a.add(.truncated, truncation.map { "cut short (\($0.rawValue)): \(short)" } ?? "cut short: \(short)")
            if candidates.isEmpty, let kid, !bound, keys.anyFits(alg) {
                a.add(.key_unknown, "no key has kid \"\(Redact.short(kid))\" (keys given: \(keys.all.count))")
            }
            return
        }
        if untried > 0 {
            a.signature = .unchecked
            a.reasons[.unverified] =
                "no key verifies it among the \(candidates.count) tried of \(candidates.count + untried) that fit \(alg.rawValue): without a kid naming a key, jwtsift tries at most \(Self.maximumUnboundCandidates)"
            return
        }
        if !candidates.isEmpty {
            a.signature = .invalid
            if let kid, !bound {
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
        if bound, let kid {
            let reasons = pool.compactMap { $0.refusal(for: alg) }
            let unusable = pool.allSatisfy { $0.fits(alg) && $0.notForSignaturesReason != nil }
            if unusable {
                a.signature = .key_unknown
                a.add(.key_unknown, "kid \"\(Redact.short(kid))\" names no signing key: \(reasons.first ?? "")")
            } else {
                a.signature = .alg_mismatch
                let confusion = alg.isHMAC && pool.contains { if case .publicKey = $0.material { true } else { false } }
                a.add(
                    .alg_mismatch,
                    confusion
                        ? "\(alg.rawValue) token whose kid \"\(Redact.short(kid))\" names an asymmetric key: the algorithm-confusion attack"
                        : "kid \"\(Redact.short(kid))\": \(reasons.first ?? "the key does not fit \(alg.rawValue)")")
            }
            return
        }
        if let refusal = refused.first(where: { $0.0.fits(alg) }) {
            a.signature = .alg_mismatch
            a.add(.alg_mismatch, refusal.1)
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

    /// Why `signature` is shorter than `alg` needs, or nil. With candidate keys, shorter than every one of them
    /// needs (RSA and PSS: the modulus length; EdDSA: the curve's); without, what the algorithm alone fixes:
    /// ECDSA twice the field size, HMAC the hash length, Ed25519 64 and Ed448 114 bytes, RSA the 2048-bit
    /// minimum of RFC 7518 §3.3 (a whole 1024- or 1536-bit signature, 128 or 192 bytes, is not called cut).
    func shortSignature(_ alg: JWSAlgorithm, signature: [UInt8], candidates: [VerificationKey]) -> String? {
        let have = signature.count
        let needs = candidates.compactMap { Self.signatureLength(alg, $0) }
        let need: Int
        let with: String
        if let least = needs.min() {
            need = least
            with = candidates.count == 1 ? " with key \(Redact.short(candidates[0].name))" : ""
        } else {
            switch alg.family {
            case .hmac: need = alg.hash!.size
            case .ecdsa: need = 2 * alg.curve!.coordinateSize
            case .eddsa: need = alg == .Ed448 || (alg == .EdDSA && have > 64) ? 114 : 64
            case .rsaPKCS1, .rsaPSS: need = have == 128 || have == 192 ? have : 256
            }
            with = ""
        }
        guard have < need else { return nil }
        return
            "the signature is \(have) bytes, \(need - have) fewer than \(alg.rawValue)\(with) needs (\(need)): truncated by the logger"
    }

    func addSignatureHints(
        _ alg: JWSAlgorithm, signature: [UInt8], candidates: [VerificationKey],
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
                "secret \(Redact.short(key.name)) (\(key.origin), \(s.count) bytes) ends with whitespace or a newline: was the file written with echo?"
            )
        }
    }

    /// For a signature segment that does not decode: how many bytes the fitting key's signature would need.
    func cutSignatureHint(_ alg: JWSAlgorithm, kid: String?, characters: Int) -> String? {
        for key in considered(kid: kid).keys where key.refusal(for: alg) == nil {
            guard case .publicKey(let k) = key.material, let need = alg.signatureLength(for: k.shape) else { continue }
            let needChars = (need * 8 + 5) / 6
            guard characters < needChars else { return nil }
            return
                "the signature segment is \(needChars - characters) characters shorter than \(alg.rawValue) with key \(Redact.short(key.name)) needs (\(needChars)): truncated by the logger?"
        }
        return nil
    }

    /// HS* tokens no given key verifies: forged with a public key as the HMAC secret (true)? signed with a
    /// well-known secret (a flag and a hint)? `bound` are the keys the token's kid names, when it names any.
    /// `fingerprint` (the token's) lets a full check of the list be answered by the memo's record of the same
    /// token's earlier full check.
    func checkHMACAttacks(
        _ alg: JWSAlgorithm, signingInput message: UnsafeRawBufferPointer, header: [UInt8], signature: [UInt8],
        bound: [VerificationKey],
        verifier: SignatureChecker, weakSecrets: WeakSecretMemo? = nil, replay: WeakReplay? = nil,
        fingerprint: SHA256Digest? = nil, into a: inout TokenAnalysis
    ) -> Bool {
        let hash = alg.hash!
        guard signature.count == hash.size else { return false }
        return signature.withUnsafeBytes { sig in
            // Without a kid naming one, the first keys only (as many as are tried as candidates).
            if !keys.confusionSecrets.isEmpty {
                for key in bound.isEmpty ? Array(keys.all.prefix(Self.maximumUnboundCandidates)) : bound {
                    for secret in keys.confusionSecrets[key.thumbprint] ?? []
                    where verifier.verifyMAC(hash, secret: secret, message: message, signature: sig) {
                        a.flags.insert(.publicKeyAsSecret)
                        a.hints.append(
                            "forged: the HMAC secret is a public key's own bytes (algorithm-confusion attack)")
                        return true
                    }
                }
            }
            guard policy.tryWeakSecrets else { return false }
            let weak = WeakSecrets.keys(for: hash)
            var candidates = weak.indices
            var key: WeakSecretMemo.Key? = nil
            if let replay {
                switch replay {
                case .none: return false
                case .found(let i): candidates = i..<(i + 1)
                }
            } else if let memo = weakSecrets {
                let (decision, k) = memo.decision(header: header, iss: a.iss, signatureFirstByte: signature[0])
                switch decision {
                case .all:
                    key = k
                    // The same token checked in full before (its analysis since let go): the list's answer is a
                    // function of its bytes, so the check finds what it found then.
                    switch fingerprint.flatMap({ memo.fullCheck($0) }) {
                    case .found(let i)?: candidates = i..<(i + 1)
                    case .none?:
                        a.weakRecord = .init(key: k, outcome: .none)
                        return false
                    case nil: break
                    }
                case .only(let i): candidates = i..<(i + 1)
                case .skip: return false
                }
            }
            for i in candidates where weak[i].matches(message, signature: sig) {
                a.flags.insert(.weakSecret)
                a.hints.append(
                    "signed with a well-known weak secret from jwtsift's built-in list: anyone can forge these tokens"
                )
                a.weakSecretFound = i
                if let key { a.weakRecord = .init(key: key, outcome: .found(i)) }
                return false
            }
            if let key { a.weakRecord = .init(key: key, outcome: .none) }
            return false
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
