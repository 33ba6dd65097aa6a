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
