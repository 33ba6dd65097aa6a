import JOSECrypto
import SiftCore

/// Every key of a run: an immutable snapshot, shared read-only by all verifying threads.
public struct KeyRing: Sendable {
    public let current: [VerificationKey]
    public let retired: [VerificationKey]

    /// For each public key (by RFC 7638 thumbprint), the byte strings an algorithm-confusion forger would use as
    /// its HMAC secret — its PEM, the PEM without the final newline, its DER — made once, so the per-thread MAC
    /// contexts of ``SignatureChecker`` serve every token instead of a one-shot HMAC per candidate.
    let confusionSecrets: [String: [HMACSecret]]

    public init(current: [VerificationKey] = [], retired: [VerificationKey] = []) {
        self.current = current
        self.retired = retired
        var secrets: [String: [HMACSecret]] = [:]
        for key in current + retired {
            guard case .publicKey(let k) = key.material, secrets[key.thumbprint] == nil else { continue }
            let der = k.subjectPublicKeyInfoDER
            let pem = Array(PEM.encode(der, label: "PUBLIC KEY").utf8)
            secrets[key.thumbprint] = [pem, Array(pem.dropLast()), der].map { HMACSecret($0) }
        }
        confusionSecrets = secrets
    }

    public var isEmpty: Bool { current.isEmpty && retired.isEmpty }
    public var all: [VerificationKey] { current + retired }

    /// Keys whose kid is `kid` (current and retired).
    func named(_ kid: String) -> [VerificationKey] { all.filter { $0.kid == kid } }

    /// Whether any key (current or retired) could verify `alg` by its type.
    func anyFits(_ alg: JWSAlgorithm) -> Bool { all.contains { $0.fits(alg) } }
}

/// What a verdict is judged against besides keys: accepted issuers and audiences, and leeway.
public struct VerifyPolicy: Sendable {
    /// `--issuer`: when non-empty, a token whose `iss` is not among them is `issuer_rejected`.
    public var issuers: Set<String>
    /// `--audience`: when non-empty, a token whose `aud` has none of them is `audience_rejected`.
    public var audiences: Set<String>
    /// `--leeway`, in seconds.
    public var leeway: Double
    /// Lifetimes (exp − iat) above this many seconds are flagged `long_lifetime`.
    public var longLifetime: Double
    /// Try the built-in list of well-known secrets against HS* tokens no given key verifies.
    public var tryWeakSecrets: Bool
    /// The algorithms a verifier accepts (`algorithms` in `--config`); when non-empty, a token signed with another
    /// one is `alg_mismatch`, whatever its signature.
    public var algorithms: Set<JWSAlgorithm>

    public init(
        issuers: Set<String> = [], audiences: Set<String> = [], leeway: Double = 60, longLifetime: Double = 86_400,
        tryWeakSecrets: Bool = true, algorithms: Set<JWSAlgorithm> = []
    ) {
        self.issuers = issuers
        self.audiences = audiences
        self.leeway = leeway
        self.longLifetime = longLifetime
        self.tryWeakSecrets = tryWeakSecrets
        self.algorithms = algorithms
    }
}

/// The keys and policy for the tokens of one issuer (`issuers` in `--config`): a token whose `iss` names it is
/// judged with these alone; other tokens with the global keys and policy.
public struct IssuerScope: Sendable {
    public var keys: KeyRing
    public var policy: VerifyPolicy
    /// The issuer names no key source of its own: ``keys`` are the global ones.
    public var sharesGlobalKeys: Bool

    public init(keys: KeyRing, policy: VerifyPolicy, sharesGlobalKeys: Bool = false) {
        self.keys = keys
        self.policy = policy
        self.sharesGlobalKeys = sharesGlobalKeys
    }
}

/// Which keys and policy judged a token.
public enum KeyScope: Sendable, Equatable {
    /// The global ones, with no issuer configured (no `--config`, or one that names no issuer).
    case global
    /// Those of the issuer its `iss` names in `--config`.
    case issuer
    /// The global ones, because `--config` names issuers but not this token's `iss` (or it has none).
    case fallback
}
