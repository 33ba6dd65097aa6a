import JWTVerify
import SiftCore

/// What `--config FILE` says: global defaults and, per issuer, where its keys come from and how its tokens are
/// judged. Paths are resolved against the file's directory; nothing is read or fetched here.
public struct IssuerConfiguration: Sendable, Equatable {
    /// Keys and policy for tokens whose `iss` no entry of ``issuers`` names (`defaults` in the file).
    public var defaults = IssuerSettings()
    /// One entry per issuer, in file order; each `iss` once.
    public var issuers: [IssuerSettings] = []
    /// `allow_http`: plain `http://` key sources beyond loopback are allowed.
    public var allowHTTP = false
    /// The file it was read from (for messages).
    public var file = ""

    public init() {}
}

/// One HMAC secret file, with the kid it is published under when there is one.
public struct SecretFile: Sendable, Equatable {
    public var path: String
    public var kid: String?

    public init(path: String, kid: String? = nil) {
        self.path = path
        self.kid = kid
    }
}

/// Key sources and policy for one issuer, or for the defaults (``iss`` nil).
public struct IssuerSettings: Sendable, Equatable {
    public var iss: String?
    /// The line of the file where the entry starts (0: not from a file).
    public var line = 0
    /// `keys`: JWKS, JWK, PEM files or directories of them.
    public var keys: [String] = []
    /// `retired_keys`: the same formats, keys valid before a rotation.
    public var retiredKeys: [String] = []
    /// `hmac_secrets`: files whose exact bytes are one secret, each with an optional kid.
    public var secrets: [SecretFile] = []
    /// `jwks_uri`: JWKS documents fetched over HTTPS.
    public var jwksURIs: [String] = []
    /// `oidc_issuer` (and `discovery: true`, which names the issuer itself): OpenID Connect issuers whose
    /// discovery document (`/.well-known/openid-configuration`) names the JWKS to fetch.
    public var discovery: [String] = []
    /// `audiences`: when non-empty, a token with none of them is `audience_rejected`.
    public var audiences: [String] = []
    /// `leeway`: seconds (nil: the default's, else the command line's).
    public var leeway: Double?
    /// `algorithms`: when non-empty, a token signed with another algorithm is `alg_mismatch`.
    public var algorithms: [JWSAlgorithm] = []

    public init(iss: String? = nil) { self.iss = iss }

    /// Whether it names any key source at all.
    public var hasKeySources: Bool {
        !keys.isEmpty || !retiredKeys.isEmpty || !secrets.isEmpty || !jwksURIs.isEmpty || !discovery.isEmpty
    }
}

/// A configuration file that cannot be used: which file, line and key, and what is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the problem has no line (the file cannot be read).
    public var line: Int
    /// The key's path in the file (`issuers[2].leeway`), empty for the whole file.
    public var key: String
    public var message: String

    public init(file: String, line: Int, key: String, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let at = line > 0 ? "\(file):\(line)" : file
        return key.isEmpty ? "\(at): \(message)" : "\(at): \(key): \(message)"
    }
}
