import JOSECrypto
import JWTScan
import SiftCore

/// One key jwtsift may verify with: a public key or an HMAC secret, with what its JWK said about it.
public struct VerificationKey: Sendable {
    public enum Material: Sendable {
        case publicKey(PublicKey)
        case secret(HMACSecret)
    }

    public var material: Material
    /// The JWK `kid`, when there was one.
    public var kid: String?
    /// RFC 7638 thumbprint (base64url SHA-256 of the required members) of a public key. A secret is named by
    /// where it came from instead — `hmac:<file name>` for `--hmac-secret-file`, `oct:<file name>#<index>` for a
    /// JWK — because any digest of a secret alone lets whoever reads the findings test guesses of it offline.
    public var thumbprint: String
    /// The JWK's declared `alg`, when it names a JWS algorithm.
    public var declaredAlg: JWSAlgorithm?
    /// False when `use` or `key_ops` say the key is not for verifying signatures.
    public var verifiesSignatures: Bool
    /// Why the key cannot verify signatures, when it cannot.
    public var notForSignaturesReason: String?
    /// Where it came from: "path" or "path#index".
    public var origin: String
    /// Loaded through `--retired-keys`, or from the key history (``history``).
    public var retired: Bool
    /// For a key an earlier run recorded and the current set no longer holds: where and when it was published
    /// ("published by URL from … until …").
    public var history: String?

    /// The public key as a JWK (RFC 7638 members, and its kid and declared alg), for the key history; nil for a
    /// secret (never stored), a key not for signatures, or a kid the database would store redacted.
    public var publicJWK: String? {
        guard case .publicKey(let k) = material, notForSignaturesReason == nil else { return nil }
        var jwk = String(Thumbprint.canonicalJWK(k.components).dropLast())
        if let kid { jwk += ",\"kid\":" + JSONValue.quote(kid) }
        if let declaredAlg { jwk += ",\"alg\":\"\(declaredAlg.rawValue)\"" }
        return jwk + "}"
    }

    /// How the key is named in findings: its kid, or its thumbprint when it has none.
    public var name: String { kid ?? thumbprint }

    /// `RSA`, `EC`, `OKP` or `oct`.
    public var kty: String {
        switch material {
        case .secret: "oct"
        case .publicKey(let k):
            switch k.shape {
            case .rsa: "RSA"
            case .ec: "EC"
            case .edwards: "OKP"
            }
        }
    }

    /// A readable description without key material: "RSA 2048-bit", "oct (32 bytes)".
    public var summary: String {
        switch material {
        case .secret(let s): "oct (\(s.count) bytes)"
        case .publicKey(let k): k.shape.description
        }
    }

    /// Whether the key's type can verify `alg` at all (before `alg`/`use` policy).
    public func fits(_ alg: JWSAlgorithm) -> Bool {
        switch material {
        case .secret: alg.isHMAC
        case .publicKey(let k): alg.scheme(for: k.shape) != nil
        }
    }

    /// Why this key is not a candidate for a token using `alg`, or nil when it is.
    public func refusal(for alg: JWSAlgorithm) -> String? {
        guard fits(alg) else { return "a \(summary) key cannot verify \(alg.rawValue)" }
        if let reason = notForSignaturesReason { return reason }
        if let declared = declaredAlg, !alg.isAdmitted(byDeclared: declared) {
            return "the key is declared for \(declared.rawValue), not \(alg.rawValue)"
        }
        return nil
    }
}

/// RFC 7638 JWK thumbprints.
public enum Thumbprint {
    /// The base64url SHA-256 thumbprint of a public key.
    public static func of(_ components: PublicComponents) -> String {
        Base64URL.encode(Digest.sha256(canonicalJWK(components)).bytes)
    }

    /// The key's required JWK members in RFC 7638's canonical form: what the thumbprint hashes, and a JWK that
    /// loads back as the same key.
    public static func canonicalJWK(_ components: PublicComponents) -> String {
        let json: String
        switch components {
        case .rsa(let n, let e):
            json = #"{"e":"\#(Base64URL.encode(e))","kty":"RSA","n":"\#(Base64URL.encode(n))"}"#
        case .ec(let crv, let x, let y):
            json = #"{"crv":"\#(crv.rawValue)","kty":"EC","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .okp(let crv, let x):
            json = #"{"crv":"\#(crv.rawValue)","kty":"OKP","x":"\#(Base64URL.encode(x))"}"#
        }
        return json
    }
}
