import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore

/// `jwtsift inspect`: one token decoded, verified and judged at one moment, with everything a human needs to see
/// why — never its signature and never a secret.
public struct Inspection: Sendable {
    public var fingerprint: SHA256Digest
    public var analysis: TokenAnalysis
    public var verdict: Verdict
    /// The moment of judgement and where it came from ("--at" or "now").
    public var at: Double
    public var atSource: String
    public var leeway: Double
    /// Advice that needs more than one token ("same claims as token #1 but different bytes").
    public var crossHints: [String] = []

    /// A token as pasted, with what the scanner saw around it (a `...` after it, a round length): `inspect`
    /// gives the analysis the same evidence `scan` does, so both judge the same bytes alike.
    public struct Pasted: Sendable, Equatable {
        public var bytes: [UInt8]
        public var truncation: Truncation?

        public init(_ bytes: [UInt8], truncation: Truncation? = nil) {
            self.bytes = bytes
            self.truncation = truncation
        }
    }

    /// Inspects each token; `at` is the moment of judgement.
    public static func run(
        _ tokens: [[UInt8]], keys: KeyRing, policy: VerifyPolicy, at: Double, atSource: String
    ) -> [Inspection] {
        run(tokens.map { Pasted($0) }, keys: keys, policy: policy, at: at, atSource: atSource)
    }

    /// Inspects each pasted token; `at` is the moment of judgement.
    public static func run(
        _ tokens: [Pasted], keys: KeyRing, policy: VerifyPolicy, at: Double, atSource: String,
        issuers: [String: IssuerScope] = [:]
    ) -> [Inspection] {
        let analyzer = TokenAnalyzer(keys: keys, policy: policy, details: true, issuers: issuers)
        let verifier = SignatureChecker()
        var out: [Inspection] = []
        for pasted in tokens {
            let bytes = pasted.bytes
            let a = analyzer.analyze(bytes, truncation: pasted.truncation, verifier: verifier)
            let leeway = a.leeway ?? policy.leeway
            var i = Inspection(
                fingerprint: Digest.sha256(bytes), analysis: a, verdict: a.judge(at: at, leeway: leeway), at: at,
                atSource: atSource, leeway: leeway)
            // Same claims as an earlier token but other bytes: something re-encoded it on the way.
            if let claims = a.claims {
                for (n, earlier) in out.enumerated()
                where earlier.analysis.claims == claims && earlier.fingerprint != i.fingerprint {
                    let what = earlier.analysis.header == a.header ? "payload or signature" : "header"
                    i.crossHints.append(
                        "same claims as token #\(n + 1) (\(earlier.fingerprint.prefix(12))) but different bytes: the \(what) was re-encoded on the way"
                    )
                    break
                }
            }
            out.append(i)
        }
        return out
    }

    /// Pulls compact tokens out of pasted text with `scan`'s token scanner (every token on a line, with the
    /// truncation evidence it sees). A line on which the scanner finds none gives its first word, without
    /// `Bearer `, quotes or `Authorization:`, so that garbage is explained rather than ignored. Blank lines are
    /// skipped.
    public static func pasted(in text: [UInt8]) -> [Pasted] {
        var scanner = TokenScanner(fingerprint: SHA256Context().hash)
        var hits: [TokenHit] = []
        var result: [Pasted] = []
        for var line in text.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if line.last == 0x0D { line = line.dropLast() }
            hits.removeAll(keepingCapacity: true)
            line.withUnsafeBytes { scanner.scan(line: $0, cutAtEnd: false, into: &hits) }
            if hits.isEmpty {
                result += tokens(in: Array(line)).map { Pasted($0) }
            } else {
                let base = line.startIndex
                result += hits.map {
                    Pasted(Array(line[(base + $0.start)..<(base + $0.start + $0.length)]), truncation: $0.truncation)
                }
            }
        }
        return result
    }

    /// Pulls compact tokens out of pasted text: the first word of each line, with or without `Bearer `, quotes or
    /// `Authorization:`; blank lines are skipped.
    public static func tokens(in text: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for line in text.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var words = line.split { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            while let w = words.first, Self.isNoise(w) { words.removeFirst() }
            guard var w = words.first else { continue }
            while let f = w.first, f == UInt8(ascii: "\"") || f == UInt8(ascii: "'") { w = w.dropFirst() }
            while let l = w.last, l == UInt8(ascii: "\"") || l == UInt8(ascii: "'") || l == UInt8(ascii: ",") {
                w = w.dropLast()
            }
            if !w.isEmpty { result.append(Array(w)) }
        }
        return result
    }

    static func isNoise(_ w: ArraySlice<UInt8>) -> Bool {
        let s = String(decoding: w, as: UTF8.self).lowercased()
        return s == "bearer" || s == "authorization:" || s == "jwt"
    }

    // MARK: - Text

    /// The human report.
    public func text(index: Int? = nil) -> String {
        let a = analysis
        var out = ""
        // The one escape of the text form: every value shown with tokens redacted and nothing hidden.
        func row(_ label: String, _ value: String) {
            out += label.padding(12) + UntrustedText.display(value) + "\n"
        }
        if let index { out += "── token #\(index) " + String(repeating: "─", count: 50) + "\n" }
        row("token", "sha256:\(fingerprint)")
        row("", "\(a.length) bytes, \(a.kind.rawValue), \(a.segments) segments")
        if let h = a.header { row("header", JSONValue.object(h).jsonText) }
        if let c = a.claims { row("claims", JSONValue.object(c).jsonText) }
        if a.kind == .jws { row("signature", "\(a.signatureLength) bytes (not shown)") }
        if a.kind == .jwe { row("payload", "encrypted (alg \(a.alg ?? "?"), enc \(a.enc ?? "?")): not decrypted") }

        row("judged at", "\(CivilTime.iso8601(at)) (\(atSource)), leeway \(DurationText.words(leeway))")
        for (name, value) in [("iat", a.iat), ("nbf", a.nbf), ("exp", a.exp)] {
            guard let v = value else { continue }
            row(name, "\(CivilTime.iso8601(v))  \(Self.delta(name, v, at: at, leeway: leeway))")
        }
        if let exp = a.exp, let iat = a.iat { row("lifetime", DurationText.words(exp - iat)) }

        if a.attempts.isEmpty {
            row("keys", a.signature == .unchecked ? "none given that could apply" : "none tried")
        } else {
            var label = "keys"
            for k in a.attempts {
                row(label, "\(k.key) (\(k.origin)\(k.retired ? ", retired" : "")): \(k.outcome)")
                label = ""
            }
        }
        row("signature", a.signature.rawValue + (a.key.map { " (key \($0))" } ?? ""))
        row("verdict", verdict.cause.rawValue)
        var label = "causes"
        for c in verdict.causes {
            row(label, "\(c.rawValue): \(a.reason(for: c, at: at, leeway: leeway, moment: "the judged time"))")
            label = ""
        }
        if !a.flags.isEmpty { row("flags", a.flags.description) }
        label = "hints"
        for h in a.hints + crossHints {
            row(label, h)
            label = ""
        }
        return out
    }

    /// "expired 3 min 12 s before --at", "valid for another 4 min 48 s", "issued 2 s before --at".
    static func delta(_ claim: String, _ v: Double, at: Double, leeway: Double) -> String {
        let d = v - at
        switch claim {
        case "exp":
            return d <= -leeway
                ? "expired \(DurationText.words(-d)) before the judged time"
                : d <= 0
                    ? "expired \(DurationText.words(-d)) before, within the leeway"
                    : "expires \(DurationText.words(d)) after the judged time"
        case "nbf":
            return d > leeway
                ? "not valid for another \(DurationText.words(d))"
                : d > 0
                    ? "valid \(DurationText.words(d)) early, within the leeway"
                    : "valid since \(DurationText.words(-d))"
        default:
            return d > leeway
                ? "issued \(DurationText.words(d)) in the future: clock skew"
                : d >= 0
                    ? "issued \(DurationText.words(d)) after the judged time"
                    : "issued \(DurationText.words(-d)) before"
        }
    }

    // MARK: - JSON

    /// One JSON object; the fields `fingerprint`, `signature`, `cause`, `causes`, `header` and `claims` are a
    /// public contract.
    public func json() -> String {
        let a = analysis
        var w = ByteWriter()
        w.raw("{\"fingerprint\":\"")
        w.hex(fingerprint)
        w.raw("\",\"kind\":\"")
        w.raw(a.kind.rawValue)
        w.raw("\",\"length\":")
        w.int(a.length)
        w.raw(",\"segments\":")
        w.int(a.segments)
        VerdictJSON.signature(a.signature, into: &w)
        w.raw(",\"signature_length\":")
        w.int(a.signatureLength)
        VerdictJSON.key(a.key, into: &w)
        VerdictJSON.causes(verdict, into: &w)
        VerdictJSON.reasons(verdict, a, at: at, leeway: leeway, moment: "the judged time", into: &w)
        w.raw(",\"header\":")
        w.raw(a.header.map { UntrustedText.redactTokens(JSONValue.object($0).jsonText) } ?? "null")
        w.raw(",\"claims\":")
        w.raw(a.claims.map { UntrustedText.redactTokens(JSONValue.object($0).jsonText) } ?? "null")
        w.raw(",\"alg\":")
        w.optionalString(a.alg)
        w.raw(",\"enc\":")
        w.optionalString(a.enc)
        VerdictJSON.kid(a.kid, short: false, into: &w)
        VerdictJSON.iss(a.iss, short: false, into: &w)
        VerdictJSON.seconds("iat", a.iat, into: &w)
        VerdictJSON.seconds("nbf", a.nbf, into: &w)
        VerdictJSON.seconds("exp", a.exp, into: &w)
        VerdictJSON.seconds("skew", verdict.skew, into: &w)
        w.raw(",\"at\":")
        w.seconds(at)
        w.raw(",\"at_iso\":\"")
        w.iso8601(at)
        w.raw("\",\"at_source\":")
        w.string(atSource)
        w.raw(",\"leeway\":")
        w.seconds(leeway)
        w.raw(",\"keys\":[")
        for (i, k) in a.attempts.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"key\":")
            w.string(k.key)
            w.raw(",\"origin\":")
            w.string(k.origin)
            w.raw(k.retired ? ",\"retired\":true,\"outcome\":" : ",\"retired\":false,\"outcome\":")
            w.string(k.outcome)
            w.raw("}")
        }
        w.raw("]")
        VerdictJSON.flags(a.flags, into: &w)
        w.raw(",\"hints\":")
        w.strings(a.hints + crossHints)
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
