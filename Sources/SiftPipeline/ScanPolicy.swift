import JOSECrypto
import JWTVerify
import LogInput
import SiftCore

/// Everything that decides which rows a scan stores for the same input bytes: the keys (current and retired),
/// the secrets, issuers, audiences, leeway, the weak-secret check, whether it verifies at all, and what it keeps
/// (`--keep-subjects`, `--ok-sightings`, `--since`/`--until`, `--timezone`, `--max-line`), plus the version of
/// jwtsift's verdict rules. Each run records its fingerprint (`runs.policy`) and each source the fingerprint it
/// was last read under (`sources.policy`); a source read under another one is read again and its rows replaced.
public struct ScanPolicy: Sendable {
    /// Raised when a release changes how a verdict is reached for the same token and keys, so that databases
    /// written by an earlier release are re-judged. 2: issue 12's exact rules (binding kid, truncation first,
    /// non-object payloads malformed).
    public static let rulesVersion = 2

    public var verify: VerifyOptions?
    public var since: Double?
    public var until: Double?
    public var zone: String
    public var maximumLineLength: Int
    public var keepSubjects: Bool
    public var okSightings: DatabaseOptions.OkSightings

    public init(scan: ScanOptions, database: DatabaseOptions) {
        verify = scan.verify
        since = scan.since
        until = scan.until
        zone = "\(scan.zone.name) \(scan.zone.offsetForLocal(0))"
        maximumLineLength = scan.reader.maximumLineLength
        keepSubjects = database.keepSubjects
        okSightings = database.okSightings
    }

    /// The canonical description, one fact per line, sorted where order does not matter. Secrets appear only
    /// as PBKDF2 of the secret under the database's random `salt`.
    func lines(salt: [UInt8]) -> [String] {
        var out = [
            "rules \(Self.rulesVersion)", "since \(since.map { "\($0)" } ?? "-")",
            "until \(until.map { "\($0)" } ?? "-")", "zone \(zone)", "max-line \(maximumLineLength)",
            "keep-subjects \(keepSubjects)", "ok-sightings \(okSightings.rawValue)",
        ]
        guard let verify else { return out + ["verify false"] }
        let p = verify.policy
        out += [
            "verify true", "leeway \(p.leeway)", "long-lifetime \(p.longLifetime)", "weak-secrets \(p.tryWeakSecrets)",
            "issuers " + p.issuers.sorted().joined(separator: "\u{1F}"),
            "audiences " + p.audiences.sorted().joined(separator: "\u{1F}"),
        ]
        // Lines only a configuration adds, so that a run without one keeps the fingerprint of earlier releases.
        if !p.algorithms.isEmpty {
            out.append("algorithms " + p.algorithms.map(\.rawValue).sorted().joined(separator: ","))
        }
        var keys = Self.keyFacts(verify.keys, prefix: "key ", salt: salt)
        for (iss, scope) in verify.issuers {
            let q = scope.policy
            let head = "issuer \(iss)\u{1F}"
            keys.append(
                head + "leeway \(q.leeway)\u{1F}audiences " + q.audiences.sorted().joined(separator: "\u{1F}")
                    + "\u{1F}algorithms " + q.algorithms.map(\.rawValue).sorted().joined(separator: ","))
            keys += Self.keyFacts(scope.keys, prefix: head + "key ", salt: salt)
        }
        return out + keys.sorted()
    }

    /// One line per key: state, type, kid, declared alg, use, and the thumbprint (a secret: PBKDF2 under `salt`).
    static func keyFacts(_ ring: KeyRing, prefix: String, salt: [UInt8]) -> [String] {
        var keys: [String] = []
        for k in ring.all {
            var fact = [
                k.retired ? "retired" : "current", k.kty, k.kid ?? "-", k.declaredAlg?.rawValue ?? "-",
                k.notForSignaturesReason ?? "signs",
            ]
            switch k.material {
            case .publicKey: fact.append(k.thumbprint)
            case .secret(let s): fact.append(Base64URL.encode(s.stretched(salt: salt)))
            }
            keys.append(prefix + fact.joined(separator: "\u{1F}"))
        }
        return keys
    }

    /// 16 hex digits of SHA-256 over ``lines(salt:)``: enough to tell policies apart, and short, so that even
    /// a fast guess of a secret could not be confirmed from it alone.
    public func fingerprint(salt: [UInt8]) -> String {
        String(Digest.sha256(Array(lines(salt: salt).joined(separator: "\n").utf8)).description.prefix(16))
    }
}
