import IssuerConfig
import JWTVerify
import SiftCore

/// The keys and policy a run verifies with, from `--config` and the command line together: the global ones and
/// each configured issuer's.
public struct KeySets: Sendable {
    public var keys = KeyRing()
    public var policy = VerifyPolicy()
    /// Configured issuers, by `iss`.
    public var issuers: [String: IssuerScope] = [:]
    /// What could not be loaded (files, entries, fetches); errors make the run exit 2.
    public var problems: [KeyProblem] = []
    /// What became of each fetched document.
    public var fetches: [FetchRecord] = []

    public init() {}

    public var hadErrors: Bool { problems.contains { $0.severity == .error } }

    /// Verification options for `scan`.
    public func verifyOptions(workers: Int) -> VerifyOptions {
        VerifyOptions(keys: keys, policy: policy, workers: workers, issuers: issuers)
    }
}

/// Builds ``KeySets`` from a configuration and the command line's key options.
///
/// Rules (docs/config.md): the command line adds to `defaults` (its keys, secrets and audiences to the file's;
/// `--leeway` when given wins over `defaults.leeway`); an issuer takes its own keys when it names any, else the
/// global ones, and its own audiences, leeway and algorithms when it sets them, else the defaults'. `--issuer`
/// applies to the tokens judged with the global keys only (a configured issuer is accepted by being configured).
public enum KeySetBuilder {
    /// - Parameters:
    ///   - urls: the command line's `--jwks-url` and `--oidc-issuer`, added to the defaults'.
    ///   - fetcher: fetches URL key sources; nil: they are an error (nothing may be fetched).
    public static func build(
        config: IssuerConfiguration?, command: KeyPaths, policy: VerifyPolicy, leewayGiven: Double?,
        jwksURLs: [String] = [], oidcIssuers: [String] = [], fetcher: KeySetFetcher? = nil
    ) -> KeySets {
        var sets = KeySets()
        var defaults = config?.defaults ?? IssuerSettings()
        defaults.jwksURIs += jwksURLs
        defaults.discovery += oidcIssuers
        var globalPaths = paths(defaults)
        globalPaths.keys += command.keys
        globalPaths.retired += command.retired
        globalPaths.secrets += command.secrets
        globalPaths.secretKids.merge(command.secretKids) { a, _ in a }
        let (ring, problems) = KeyFiles.load(globalPaths)
        sets.keys = fetch(defaults, into: ring, fetcher: fetcher, problems: &sets.problems)
        sets.problems += problems
        sets.policy = policy
        sets.policy.audiences.formUnion(defaults.audiences)
        sets.policy.leeway = leewayGiven ?? defaults.leeway ?? policy.leeway
        sets.policy.algorithms = Set(defaults.algorithms)
        for issuer in config?.issuers ?? [] {
            guard let iss = issuer.iss else { continue }
            var keys = sets.keys
            if issuer.hasKeySources {
                let (ring, problems) = KeyFiles.load(paths(issuer))
                sets.problems += problems
                keys = fetch(issuer, into: ring, fetcher: fetcher, problems: &sets.problems)
            }
            var p = sets.policy
            p.issuers = []
            if !issuer.audiences.isEmpty { p.audiences = Set(issuer.audiences) }
            if let leeway = issuer.leeway { p.leeway = leeway }
            if !issuer.algorithms.isEmpty { p.algorithms = Set(issuer.algorithms) }
            sets.issuers[iss] = IssuerScope(keys: keys, policy: p, sharesGlobalKeys: !issuer.hasKeySources)
        }
        sets.fetches = fetcher?.records ?? []
        return sets
    }

    /// `ring` with the keys of the settings' URL sources added as current keys.
    static func fetch(
        _ s: IssuerSettings, into ring: KeyRing, fetcher: KeySetFetcher?, problems: inout [KeyProblem]
    ) -> KeyRing {
        guard !s.jwksURIs.isEmpty || !s.discovery.isEmpty else { return ring }
        guard let fetcher else {
            for url in s.jwksURIs + s.discovery {
                problems.append(KeyProblem(.error, origin: UntrustedText.display(url), "key sets are not fetched here"))
            }
            return ring
        }
        var fetched: [VerificationKey] = []
        for issuer in s.discovery {
            let (keys, p) = fetcher.keys(discovering: issuer)
            fetched += keys
            problems += p
        }
        for uri in s.jwksURIs {
            let (keys, p) = fetcher.keys(jwksURI: uri)
            fetched += keys
            problems += p
        }
        return KeyRing(current: ring.current + fetched, retired: ring.retired)
    }

    static func paths(_ s: IssuerSettings) -> KeyPaths {
        var kids: [String: String] = [:]
        for secret in s.secrets { if let kid = secret.kid { kids[secret.path] = kid } }
        return KeyPaths(keys: s.keys, retired: s.retiredKeys, secrets: s.secrets.map(\.path), secretKids: kids)
    }
}
