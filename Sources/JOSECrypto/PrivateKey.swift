import COpenSSL
import SiftCore

/// A freshly generated signing key, for tests, benchmarks and sample generation. jwtsift itself never signs
/// anything it finds in a log, and never loads private keys from users.
public final class PrivateKey: @unchecked Sendable {
    let pkey: OpaquePointer
    public let shape: KeyShape

    private init(_ pkey: OpaquePointer, shape: KeyShape) {
        self.pkey = pkey
        self.shape = shape
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Generates a key of `shape` (RSA bits, EC curve or Edwards curve).
    public static func generate(_ shape: KeyShape) throws(CryptoError) -> PrivateKey {
        let name: String
        switch shape {
        case .rsa: name = "RSA"
        case .ec: name = "EC"
        case .edwards(let c): name = c == .ed25519 ? "ED25519" : "ED448"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw CryptoError(openSSLReason("no \(name)"))
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var ok = EVP_PKEY_keygen_init(ctx) == 1
        switch shape {
        case .rsa(let bits): ok = ok && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1
        case .ec(let curve): ok = ok && EVP_PKEY_CTX_set_group_name(ctx, curve.groupName) == 1
        case .edwards: break
        }
        var pkey: OpaquePointer? = nil
        guard ok, EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            throw CryptoError(openSSLReason("keygen failed"))
        }
        return PrivateKey(pkey, shape: shape)
    }

    /// The public half.
    public var publicKey: PublicKey {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_PUBKEY(pkey, &out)
        precondition(n > 0 && out != nil, "i2d_PUBKEY failed on a generated key")
        defer { COpenSSL_free(out) }
        return try! PublicKey.subjectPublicKeyInfo(der: Array(UnsafeBufferPointer(start: out, count: Int(n))))
    }

    /// Signs `message`; ECDSA signatures come back in JOSE's raw R‖S form.
    public func sign(_ scheme: SignatureScheme, _ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let md = EVP_MD_CTX_new() else { throw CryptoError("out of memory") }
        defer { EVP_MD_CTX_free(md) }
        var pctx: OpaquePointer? = nil
        let digest: OpaquePointer?
        switch scheme {
        case .rsaPKCS1(let h), .rsaPSS(let h), .ecdsa(let h, _): digest = h.evp
        case .eddsa: digest = nil
        case .hmac: throw CryptoError("HMAC is signed with HMACSecret.mac")
        }
        guard EVP_DigestSignInit(md, &pctx, digest, nil, pkey) == 1 else {
            throw CryptoError(openSSLReason("sign init"))
        }
        if case .rsaPSS = scheme {
            guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
            else { throw CryptoError(openSSLReason("PSS setup")) }
        }
        var len = 0
        guard EVP_DigestSign(md, nil, &len, message, message.count) == 1 else {
            throw CryptoError(openSSLReason("sign"))
        }
        var sig = [UInt8](repeating: 0, count: len)
        guard EVP_DigestSign(md, &sig, &len, message, message.count) == 1 else {
            throw CryptoError(openSSLReason("sign"))
        }
        sig.removeLast(sig.count - len)
        if case .ecdsa(_, let curve) = scheme {
            guard let raw = ECDSASignature.raw(fromDER: sig, size: curve.coordinateSize) else {
                throw CryptoError("OpenSSL returned an ECDSA signature that is not DER")
            }
            return raw
        }
        return sig
    }
}
