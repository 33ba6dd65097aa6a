import JOSECrypto
import SiftCore

/// The JWS `alg` values jwtsift verifies (RFC 7518 §3.1, RFC 8037 §3.1, RFC 8812 §3.2, RFC 9864 §2.2).
public enum JWSAlgorithm: String, Sendable, Hashable, CaseIterable {
    case HS256, HS384, HS512
    case RS256, RS384, RS512
    case PS256, PS384, PS512
    case ES256, ES384, ES512, ES256K
    case EdDSA, Ed25519, Ed448

    /// The primitive family: a JWK `alg` of one family never admits a token of another (Wycheproof WrongPrimitive).
    public enum Family: String, Sendable { case hmac, rsaPKCS1, rsaPSS, ecdsa, eddsa }

    public var family: Family {
        switch self {
        case .HS256, .HS384, .HS512: .hmac
        case .RS256, .RS384, .RS512: .rsaPKCS1
        case .PS256, .PS384, .PS512: .rsaPSS
        case .ES256, .ES384, .ES512, .ES256K: .ecdsa
        case .EdDSA, .Ed25519, .Ed448: .eddsa
        }
    }

    public var hash: HashAlgorithm? {
        switch self {
        case .HS256, .RS256, .PS256, .ES256, .ES256K: .sha256
        case .HS384, .RS384, .PS384, .ES384: .sha384
        case .HS512, .RS512, .PS512, .ES512: .sha512
        case .EdDSA, .Ed25519, .Ed448: nil
        }
    }

    /// The curve an ECDSA algorithm is bound to.
    public var curve: Curve? {
        switch self {
        case .ES256: .p256
        case .ES384: .p384
        case .ES512: .p521
        case .ES256K: .secp256k1
        default: nil
        }
    }

    public var isHMAC: Bool { family == .hmac }

    /// The OpenSSL scheme for a key of `shape` (nil when the key cannot verify this algorithm).
    public func scheme(for shape: KeyShape) -> SignatureScheme? {
        switch (self.family, shape) {
        case (.rsaPKCS1, .rsa): return .rsaPKCS1(hash!)
        case (.rsaPSS, .rsa): return .rsaPSS(hash!)
        case (.ecdsa, .ec(let c)) where c == curve: return .ecdsa(hash!, c)
        case (.eddsa, .edwards(let c)):
            switch self {
            case .Ed25519 where c != .ed25519, .Ed448 where c != .ed448: return nil
            default: return .eddsa
            }
        default: return nil
        }
    }

    /// Signature length in bytes a key of `shape` produces for this algorithm.
    public func signatureLength(for shape: KeyShape) -> Int? {
        switch (family, shape) {
        case (.rsaPKCS1, .rsa(let bits)), (.rsaPSS, .rsa(let bits)): (bits + 7) / 8
        case (.ecdsa, .ec(let c)): 2 * c.coordinateSize
        case (.eddsa, .edwards(let c)): c.signatureSize
        case (.hmac, _): hash?.size
        default: nil
        }
    }

    /// Hash strength in bits, for comparing a token's algorithm with a JWK's declared one.
    var strength: Int {
        switch hash {
        case .sha384: 384
        case .sha512: 512
        default: 256
        }
    }

    /// Whether a key whose JWK declares `declared` may verify a token using `self`.
    ///
    /// The family must match (an RS256 token never verifies with a key declared PS512: Wycheproof's
    /// WrongPrimitive cases), and the token's hash must be at least as strong as the declared one (no downgrade).
    /// A stronger hash in the same family is accepted and flagged, because published key sets get `alg` wrong:
    /// RFC 7520's cookbook key labelled PS256 signs its PS384 example (Wycheproof tcId 346, a `valid` case).
    public func isAdmitted(byDeclared declared: JWSAlgorithm) -> Bool {
        declared.family == family && strength >= declared.strength
            && !(family == .eddsa && declared != .EdDSA && self != .EdDSA && declared != self)
    }
}

/// JWE algorithms (RFC 7518 §4.1, §5.1): recorded, never decrypted.
public enum JWEAlgorithms {
    public static let keyManagement: Set<String> = [
        "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512", "A128KW", "A192KW", "A256KW", "dir",
        "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW",
        "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
    ]
    public static let contentEncryption: Set<String> = [
        "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM",
    ]
}
