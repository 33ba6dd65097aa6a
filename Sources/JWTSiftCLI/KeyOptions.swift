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

    @Flag(name: .customLong("no-weak-secrets"), help: "Do not try jwtsift's list of well-known weak HMAC secrets.")
    var noWeakSecrets = false

    var paths: KeyPaths { KeyPaths(keys: keys, retired: retiredKeys, secrets: secretFiles) }

    /// Whether any key source or the configuration file is given.
    var givesKeys: Bool { !paths.isEmpty || config != nil }

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

    /// Loads the configuration and the keys, printing every problem (file, key index, what is wrong) to stderr.
    func load() throws -> KeySets {
        let sets = KeySetBuilder.build(
            config: try configuration(), command: paths, policy: policy, leewayGiven: leeway)
        for p in sets.problems { printError("jwtsift: \(p)") }
        return sets
    }
}
