import JOSECrypto
import JWTScan
import SiftCore

/// One key considered for a token, and what came of it (for `inspect`).
public struct KeyAttempt: Sendable, Equatable {
    public var key: String
    public var origin: String
    public var retired: Bool
    /// "verified", "signature does not verify", or why the key was not a candidate.
    public var outcome: String
}

/// Why each static cause of a token applies: one or two entries, the first held inline and any others in a small
/// array rather than a dictionary (an analysis is made per distinct token, and most have one reason: no
/// allocation for it).
public struct CauseReasons: Sendable {
    private var first: (cause: Cause, reason: String)?
    private var rest: [(cause: Cause, reason: String)] = []

    public init() {}

    /// The same causes with the same reasons, in the same order.
    func isSame(as o: CauseReasons) -> Bool {
        switch (first, o.first) {
        case (nil, nil): return true
        case (let a?, let b?):
            guard a.cause == b.cause, a.reason == b.reason, rest.count == o.rest.count else { return false }
            return zip(rest, o.rest).allSatisfy { $0.cause == $1.cause && $0.reason == $1.reason }
        default: return false
        }
    }

    /// Every reason, in the order their causes were added.
    public var values: [String] {
        guard let first else { return [] }
        return [first.reason] + rest.map(\.reason)
    }

    public subscript(cause: Cause) -> String? {
        get {
            guard let first else { return nil }
            if first.cause == cause { return first.reason }
            return rest.isEmpty ? nil : rest.first { $0.cause == cause }?.reason
        }
        set {
            if let f = first, f.cause == cause {
                if let newValue {
                    first!.reason = newValue
                } else if rest.isEmpty {
                    first = nil
                } else {
                    first = rest.removeFirst()
                }
            } else if let i = rest.firstIndex(where: { $0.cause == cause }) {
                if let newValue { rest[i].reason = newValue } else { rest.remove(at: i) }
            } else if let newValue {
                if first == nil { first = (cause, newValue) } else { rest.append((cause, newValue)) }
            }
        }
    }
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
    public var reasons = CauseReasons()
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
    /// Which keys and policy judged it: the global ones, its configured issuer's, or the global ones as a fallback.
    public var scope: KeyScope = .global
    /// The leeway of its issuer's policy, when its issuer is configured (nil: the run's).
    public var leeway: Double?
    /// What a full weak-secret check found, for its group (see ``WeakSecretMemo``).
    var weakRecord: WeakSecretMemo.Record?
    /// The index in ``WeakSecrets/list`` of the secret that signed it, when the weak-secret check found one.
    var weakSecretFound: Int?

    /// What its weak-secret check found, to analyse it again alike.
    var weakOutcome: WeakReplay { weakSecretFound.map { .found($0) } ?? .none }

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
        Self.judge(causes: causes, exp: exp, nbf: nbf, iat: iat, signature: signature, at: t, leeway: leeway)
    }

    /// The same from the fields it reads (an analysis held in a class is judged through them, without a copy).
    @inline(__always)
    static func judge(
        causes: CauseSet, exp: Double?, nbf: Double?, iat: Double?, signature: SignatureStatus, at t: Double,
        leeway: Double
    ) -> Verdict {
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
        if isTimed(cause) {
            var out = ""
            timedReason(cause, at: t, leeway: leeway, moment: moment) { out += $0 }
            return out
        }
        switch cause {
        case .ok:
            return "signature valid with key \(key ?? "?") and every claim holds at \(moment)"
        case .unverified:
            return reasons[.unverified] ?? "no key was given that could verify it"
        default: break
        }
        return cause.rawValue
    }

    /// Whether `cause`'s reason is a sentence on the time (expired, not yet valid, issued in the future) made at
    /// each sighting: no reason recorded for it, and the claim it is about present.
    public func isTimed(_ cause: Cause) -> Bool {
        Self.isTimed(cause, recorded: reasons[cause] != nil, exp: exp, nbf: nbf, iat: iat)
    }

    /// The same from the fields it reads.
    static func isTimed(_ cause: Cause, recorded: Bool, exp: Double?, nbf: Double?, iat: Double?) -> Bool {
        guard !recorded else { return false }
        switch cause {
        case .expired: return exp != nil
        case .not_yet_valid: return nbf != nil
        case .issued_in_future: return iat != nil
        default: return false
        }
    }

    /// The sentence ``reason(for:at:leeway:moment:)`` gives for a timed cause (``isTimed(_:)``), handed to `part`
    /// piece by piece, so that a writer spells it without building it: fixed text and durations
    /// (``DurationText/words(_:tenths:)``), and `moment`. Nothing for another cause.
    public func timedReason(
        _ cause: Cause, at t: Double, leeway: Double, moment: String = "the log time", _ part: (String) -> Void
    ) {
        timedReason(cause, at: t, leeway: leeway, moment: moment, text: part) { part(DurationText.words($0)) }
    }

    /// The same, with each duration handed to `duration` as seconds (to be spelled with
    /// ``DurationText/write(_:tenths:_:)``), the rest to `text`.
    public func timedReason(
        _ cause: Cause, at t: Double, leeway: Double, moment: String = "the log time", text part: (String) -> Void,
        duration: (Double) -> Void
    ) {
        Self.timedReason(
            cause, exp: exp, nbf: nbf, iat: iat, at: t, leeway: leeway, moment: moment, text: part, duration: duration)
    }

    /// The same from the claim times it reads.
    static func timedReason(
        _ cause: Cause, exp: Double?, nbf: Double?, iat: Double?, at t: Double, leeway: Double, moment: String,
        text part: (String) -> Void, duration: (Double) -> Void
    ) {
        // "<lead><how long><link><moment>", then the leeway, or what an iat in the future says instead.
        func sentence(_ lead: String, _ amount: Double, _ link: String, then tail: String? = nil) {
            part(lead)
            duration(amount)
            part(link)
            part(moment)
            if let tail {
                part(tail)
                return
            }
            part(" (leeway ")
            duration(leeway)
            part(")")
        }
        switch cause {
        case .expired: if let exp { sentence("expired ", t - exp, " before ") }
        case .not_yet_valid: if let nbf { sentence("not valid until ", nbf - t, " after ") }
        case .issued_in_future:
            if let iat {
                sentence("issued ", iat - t, " after ", then: ": the issuer's clock is ahead or the log's is behind")
            }
        default: return
        }
    }
}
