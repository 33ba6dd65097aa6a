import JOSECrypto
import JWTScan

/// The outcome of the signature check, in the words of the database's `tokens.signature` and
/// `inspect --format json`'s `signature` (a public contract).
public enum SignatureStatus: String, Sendable, CaseIterable {
    case valid
    case invalid
    case key_unknown
    case retired_key
    case alg_mismatch
    case unsupported
    case unchecked
    case malformed
}

/// Facts about a token besides its cause, stored as a comma-separated list in `tokens.flags`.
public struct TokenFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// No `exp` claim: the token never expires.
    public static let noExp = TokenFlags(rawValue: 1 << 0)
    /// exp − iat above the policy's long-lifetime threshold (24 h by default).
    public static let longLifetime = TokenFlags(rawValue: 1 << 1)
    /// A time claim looks like milliseconds (13 digits): valid for millennia.
    public static let msTimestamp = TokenFlags(rawValue: 1 << 2)
    /// nbf later than exp: the token can never be valid.
    public static let nbfAfterExp = TokenFlags(rawValue: 1 << 3)
    /// Header members that tell a verifier where to get the key (key-injection attempts, RFC 8725 §3.10).
    public static let jku = TokenFlags(rawValue: 1 << 4)
    public static let x5u = TokenFlags(rawValue: 1 << 5)
    public static let jwk = TokenFlags(rawValue: 1 << 6)
    public static let x5c = TokenFlags(rawValue: 1 << 7)
    /// kid with path, SQL or shell metacharacters, control bytes, or longer than 128 bytes.
    public static let kidInjection = TokenFlags(rawValue: 1 << 8)
    /// A `crit` header.
    public static let crit = TokenFlags(rawValue: 1 << 9)
    /// RFC 7797 unencoded payload.
    public static let b64False = TokenFlags(rawValue: 1 << 10)
    /// Signed with a secret shorter than its hash or one from the built-in list of well-known secrets.
    public static let weakSecret = TokenFlags(rawValue: 1 << 11)
    /// HS* signed with an asymmetric key's public bytes as the secret: a forged token (algorithm confusion).
    public static let publicKeyAsSecret = TokenFlags(rawValue: 1 << 12)
    /// An ECDSA signature in DER instead of JOSE's raw R‖S (a producer bug).
    public static let derSignature = TokenFlags(rawValue: 1 << 13)
    /// Verified by a key whose JWK declares a different algorithm of the same family.
    public static let keyAlgDiffers = TokenFlags(rawValue: 1 << 14)
    /// The token verified only with a key from `--retired-keys`.
    public static let retiredKey = TokenFlags(rawValue: 1 << 15)

    public static let names: [(TokenFlags, String)] = [
        (.noExp, "no_exp"), (.longLifetime, "long_lifetime"), (.msTimestamp, "ms_timestamp"),
        (.nbfAfterExp, "nbf_after_exp"), (.jku, "jku"), (.x5u, "x5u"), (.jwk, "jwk"), (.x5c, "x5c"),
        (.kidInjection, "kid_injection"), (.crit, "crit"), (.b64False, "b64_false"), (.weakSecret, "weak_secret"),
        (.publicKeyAsSecret, "public_key_as_secret"), (.derSignature, "der_signature"),
        (.keyAlgDiffers, "key_alg_differs"), (.retiredKey, "retired_key"),
    ]

    public var list: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
    public var description: String { list.joined(separator: ",") }
}

/// A set of causes, iterated in precedence order.
public struct CauseSet: Sendable, Hashable, Sequence {
    public private(set) var bits: UInt32 = 0
    public init() {}
    public init(_ causes: some Sequence<Cause>) { for c in causes { insert(c) } }

    public mutating func insert(_ c: Cause) { bits |= 1 << UInt32(c.precedence) }
    public mutating func remove(_ c: Cause) { bits &= ~(1 << UInt32(c.precedence)) }
    public func contains(_ c: Cause) -> Bool { bits & (1 << UInt32(c.precedence)) != 0 }
    public var isEmpty: Bool { bits == 0 }
    public var count: Int { bits.nonzeroBitCount }
    public var first: Cause? { bits == 0 ? nil : Cause.ordered[bits.trailingZeroBitCount] }
    public func union(_ o: CauseSet) -> CauseSet {
        var s = self
        s.bits |= o.bits
        return s
    }

    public struct Iterator: IteratorProtocol {
        var rest: UInt32
        public mutating func next() -> Cause? {
            guard rest != 0 else { return nil }
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            return Cause.ordered[i]
        }
    }

    /// Causes in precedence order.
    public func makeIterator() -> Iterator { Iterator(rest: bits) }

    /// "expired,not_yet_valid"
    public var joined: String { map(\.rawValue).joined(separator: ",") }
}

/// One key considered for a token, and what came of it (for `inspect`).
public struct KeyAttempt: Sendable, Equatable {
    public var key: String
    public var origin: String
    public var retired: Bool
    /// "verified", "signature does not verify", or why the key was not a candidate.
    public var outcome: String
}

/// Everything about one distinct token that does not depend on when it was seen. Built once per fingerprint;
/// each sighting is then judged at its own log time with ``judge(at:leeway:)``.
public struct TokenAnalysis: Sendable {
    public var kind: TokenKind = .jws
    public var segments = 0
    public var length = 0
    public var alg: String?
    public var enc: String?
    public var kid: String?
    public var typ: String?
    public var iss: String?
    public var sub: String?
    public var aud: [String] = []
    public var iat: Double?
    public var nbf: Double?
    public var exp: Double?
    public var signature: SignatureStatus = .unchecked
    /// The key that verified it (kid, else RFC 7638 thumbprint, else an HMAC secret's opaque id).
    public var key: String?
    /// Causes that hold whatever the time (everything but expired, not_yet_valid and issued_in_future).
    public var causes = CauseSet()
    /// Why each static cause applies.
    public var reasons: [Cause: String] = [:]
    public var flags = TokenFlags()
    /// Keys considered and what came of each (filled when details are asked for).
    public var attempts: [KeyAttempt] = []
    /// Advice for a human ("signature is 171 bytes shorter than RS256 with this key needs: truncated?").
    public var hints: [String] = []
    /// The decoded header and claims (kept when details are asked for; never the signature).
    public var header: JSONObject?
    public var claims: JSONObject?
    /// Decoded signature length in bytes.
    public var signatureLength = 0

    public init() {}

    mutating func add(_ cause: Cause, _ reason: String) {
        if !causes.contains(cause) { reasons[cause] = reason }
        causes.insert(cause)
    }

    /// The verdict for a sighting at log time `t` (Unix seconds).
    ///
    /// - expired: exp ≤ t − leeway (RFC 7519 §4.1.4: the token must be used before exp);
    /// - not_yet_valid: nbf > t + leeway; issued_in_future: iat > t + leeway;
    /// - when no cause applies: ok if the signature is valid, otherwise unverified.
    public func judge(at t: Double, leeway: Double) -> Verdict {
        var all = causes
        if let exp, exp <= t - leeway { all.insert(.expired) }
        if let nbf, nbf > t + leeway { all.insert(.not_yet_valid) }
        if let iat, iat > t + leeway { all.insert(.issued_in_future) }
        if all.isEmpty { all.insert(signature == .valid ? .ok : .unverified) }
        if signature != .valid && !all.contains(.unverified) && signature == .unchecked { all.insert(.unverified) }
        return Verdict(cause: all.first ?? .unverified, causes: all, skew: iat.map { $0 - t })
    }

    /// A sentence on why `cause` applies at log time `t`.
    /// `moment` names `t` in the sentence ("the log time" in scans, "the judged time" in `inspect`).
    public func reason(for cause: Cause, at t: Double, leeway: Double, moment: String = "the log time") -> String {
        if let r = reasons[cause] { return r }
        switch cause {
        case .expired:
            guard let exp else { break }
            return "expired \(DurationText.words(t - exp)) before \(moment) (leeway \(DurationText.words(leeway)))"
        case .not_yet_valid:
            guard let nbf else { break }
            return "not valid until \(DurationText.words(nbf - t)) after \(moment) (leeway \(DurationText.words(leeway)))"
        case .issued_in_future:
            guard let iat else { break }
            return "issued \(DurationText.words(iat - t)) after \(moment): the issuer's clock is ahead or the log's is behind"
        case .ok:
            return "signature valid with key \(key ?? "?") and every claim holds at \(moment)"
        case .unverified:
            return reasons[.unverified] ?? "no key was given that could verify it"
        default: break
        }
        return cause.rawValue
    }
}

/// The verdict for one sighting.
public struct Verdict: Sendable, Equatable {
    /// The first cause in precedence order.
    public var cause: Cause
    /// Every cause that applies.
    public var causes: CauseSet
    /// iat − log time, in seconds, when the token has iat.
    public var skew: Double?
}
