import ArgumentParser
import IssuerConfig
import JWTVerify
import KeySources
import SiftCore
import SiftPipeline

/// Keys and policy, shared by `scan` and `inspect`.
struct KeyOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Issuers, their key sources and policy, and global defaults (YAML; docs/config.md). Key flags add to it.",
            valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("keys"),
        help: ArgumentHelp(
            "A JWKS, JWK, PEM public key, PEM RSA PUBLIC KEY, PEM certificate, or a directory of them (repeatable).",
            valueName: "path"))
    var keys: [String] = []

    @Option(
        name: .customLong("retired-keys"),
        help: ArgumentHelp(
            "Keys that were valid before a rotation, same formats (repeatable).", valueName: "path"))
    var retiredKeys: [String] = []

    @Option(
        name: .customLong("hmac-secret-file"),
        help: ArgumentHelp(
            "A file whose exact bytes are one HMAC secret (repeatable). Never printed.", valueName: "path"))
    var secretFiles: [String] = []

    @Option(
        name: .customLong("issuer"),
        help: ArgumentHelp(
            "Accepted iss (repeatable); other issuers are issuer_rejected.", valueName: "iss"))
    var issuers: [String] = []

    @Option(
        name: .customLong("audience"),
        help: ArgumentHelp(
            "Accepted aud (repeatable); tokens with none of them are audience_rejected.", valueName: "aud"))
    var audiences: [String] = []

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Clock leeway for exp, nbf and iat, in seconds (0 to 31536000; default 60, or the config's).",
            valueName: "seconds"),
        transform: Bounds.number("--leeway", Bounds.leeway, unit: "seconds"))
    var leeway: Double?

    @Option(
        name: .customLong("jwks-url"),
        help: ArgumentHelp("A JWKS to fetch for the global keys (repeatable; https://).", valueName: "url"))
    var jwksURLs: [String] = []

    @Option(
        name: .customLong("oidc-issuer"),
        help: ArgumentHelp(
            "An OpenID issuer whose discovery document names the JWKS to fetch for the global keys (repeatable).",
            valueName: "url"))
    var oidcIssuers: [String] = []

    @Flag(help: "Use cached key sets only; fetch nothing.")
    var offline = false

    @Option(
        name: .customLong("cache-dir"),
        help: ArgumentHelp(
            "Where fetched key sets are cached (default $XDG_CACHE_HOME/jwtsift or ~/.cache/jwtsift).",
            valueName: "dir"))
    var cacheDir: String?

    @Flag(name: .customLong("allow-http"), help: "Allow plain http:// key sources beyond loopback.")
    var allowHTTP = false

    @Option(
        name: .customLong("fetch-timeout"), parsing: .unconditional,
        help: ArgumentHelp("Seconds to wait for a key source (1 to 300; default 10).", valueName: "seconds"),
        transform: Bounds.number("--fetch-timeout", 1...300, unit: "seconds"))
    var fetchTimeout: Double = 10

    @Flag(name: .customLong("no-weak-secrets"), help: "Do not try jwtsift's list of well-known weak HMAC secrets.")
    var noWeakSecrets = false

    var paths: KeyPaths { KeyPaths(keys: keys, retired: retiredKeys, secrets: secretFiles) }

    /// Whether any key source or the configuration file is given.
    var givesKeys: Bool { !paths.isEmpty || config != nil || !jwksURLs.isEmpty || !oidcIssuers.isEmpty }

    var policy: VerifyPolicy {
        VerifyPolicy(
            issuers: Set(issuers), audiences: Set(audiences), leeway: leeway ?? 60, tryWeakSecrets: !noWeakSecrets)
    }

    /// Reads `--config`; a file that cannot be used is a message naming its file, line and key, and exit 2.
    func configuration() throws -> IssuerConfiguration? {
        guard let config else { return nil }
        do {
            return try ConfigReader.read(path: config)
        } catch {
            printError("jwtsift: \(UntrustedText.display(error.description))")
            throw ExitCode(2)
        }
    }

    /// Loads the configuration and the keys, fetching URL key sources through the cache, and prints every problem
    /// (file or URL, key index, what is wrong) to stderr.
    func load(now: Double) throws -> KeySets {
        let config = try configuration()
        let fetcher = KeySetFetcher(
            cache: KeyCache(directory: cacheDir ?? KeyCache.defaultDirectory()),
            options: FetchOptions(timeout: fetchTimeout, allowHTTP: allowHTTP || config?.allowHTTP == true),
            offline: offline, now: now)
        let sets = KeySetBuilder.build(
            config: config, command: paths, policy: policy, leewayGiven: leeway, jwksURLs: jwksURLs,
            oidcIssuers: oidcIssuers, fetcher: fetcher)
        for p in sets.problems { printError("jwtsift: \(p)") }
        return sets
    }
}
