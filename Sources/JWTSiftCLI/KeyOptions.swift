import ArgumentParser
import JWTVerify
import SiftCore
import SiftPipeline

/// Keys and policy, shared by `scan` and `inspect`.
struct KeyOptions: ParsableArguments {
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
            "Clock leeway for exp, nbf and iat, in seconds (0 to 31536000; default 60).", valueName: "seconds"),
        transform: Bounds.number("--leeway", Bounds.leeway, unit: "seconds"))
    var leeway: Double = 60

    @Flag(name: .customLong("no-weak-secrets"), help: "Do not try jwtsift's list of well-known weak HMAC secrets.")
    var noWeakSecrets = false

    var paths: KeyPaths { KeyPaths(keys: keys, retired: retiredKeys, secrets: secretFiles) }

    var policy: VerifyPolicy {
        VerifyPolicy(issuers: Set(issuers), audiences: Set(audiences), leeway: leeway, tryWeakSecrets: !noWeakSecrets)
    }

    /// Loads the keys, printing every problem (file, key index, what is wrong) to stderr.
    /// Returns the ring and whether any problem was an error.
    func load() -> (KeyRing, hadErrors: Bool) {
        let (ring, problems) = KeyFiles.load(paths)
        for p in problems { printError("jwtsift: \(p)") }
        return (ring, problems.contains { $0.severity == .error })
    }
}
