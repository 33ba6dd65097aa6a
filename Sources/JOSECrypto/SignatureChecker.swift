import COpenSSL
import SiftCore

/// The signature primitives JWS uses (RFC 7518 §3, RFC 8037, RFC 8812).
public enum SignatureScheme: Sendable, Hashable {
    case hmac(HashAlgorithm)
    case rsaPKCS1(HashAlgorithm)
    /// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash (RFC 7518 §3.5).
    case rsaPSS(HashAlgorithm)
    /// ECDSA with JOSE's fixed-length R‖S signature (RFC 7518 §3.4).
    case ecdsa(HashAlgorithm, Curve)
    case eddsa
}

/// A shared HMAC secret. Its bytes are never printed, nor anything derived from them alone.
public final class HMACSecret: @unchecked Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }
    /// Never the secret, nor anything computed from it alone (a digest would let whoever reads it test guesses).
    public var description: String { "HMAC secret (\(bytes.count) bytes)" }

    /// PBKDF2-HMAC-SHA256 of the secret with `salt` (RFC 8018 §5.2), for recording that a secret changed
    /// without recording anything a guess can be checked against cheaply: the salt is random per findings
    /// database and each guess costs `iterations` HMACs.
    public func stretched(salt: [UInt8], iterations: Int = 100_000) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBufferPointer { secret in
            salt.withUnsafeBufferPointer { s in
                secret.withMemoryRebound(to: CChar.self) { password in
                    PKCS5_PBKDF2_HMAC(
                        password.baseAddress, Int32(password.count), s.baseAddress, Int32(s.count), Int32(iterations),
                        EVP_sha256(), Int32(out.count), &out)
                }
            }
        }
        precondition(ok == 1, "PBKDF2 failed")
        return out
    }

    /// Whether the secret's last byte is whitespace (a newline left by `echo` or an editor).
    public var endsInWhitespace: Bool {
        guard let last = bytes.last else { return false }
        return last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09
    }

    /// Whether the secret equals `candidate` (constant time in the secret's length).
    public func equals(_ candidate: [UInt8]) -> Bool {
        guard candidate.count == bytes.count else { return false }
        return bytes.withUnsafeBytes { a in
            candidate.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// One-shot HMAC of `message` (tests, signing, weak-secret checks; the hot path uses ``SignatureChecker``).
    public func mac(_ hash: HashAlgorithm, _ message: UnsafeRawBufferPointer) -> [UInt8] {
        HMACSecret.mac(hash, key: bytes, message)
    }

    static func mac(_ hash: HashAlgorithm, key: [UInt8], _ message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        key.withUnsafeBytes { k in
            _ = HMAC(
                hash.evp, k.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(k.count),
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &out, &len)
        }
        return Array(out.prefix(Int(len)))
    }

    /// Whether HMAC-`hash` keyed with arbitrary `key` bytes gives `signature`: used to test candidate secrets
    /// (well-known weak secrets, a public key's PEM in an algorithm-confusion attack) without building a secret.
    public static func matches(
        _ hash: HashAlgorithm, key: [UInt8], message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.count == hash.size else { return false }
        let mac = mac(hash, key: key, message)
        return mac.withUnsafeBytes { CRYPTO_memcmp($0.baseAddress, signature.baseAddress, hash.size) == 0 }
    }
}

/// Checks signatures. Owns per-thread OpenSSL contexts (a verify context per key and scheme) and HMAC key states
/// (per secret and hash, see ``HMACKey``), so each thread must have its own `SignatureChecker`; the keys
/// themselves are shared.
public final class SignatureChecker {
    private struct ContextKey: Hashable {
        var key: ObjectIdentifier
        var scheme: SignatureScheme
    }

    private var pkeyContexts: [ContextKey: OpaquePointer] = [:]
    /// HMAC key states made for the secrets this thread has checked.
    private var macKeys: [ContextKey: HMACKey] = [:]
    /// Digest context for RSA and ECDSA (hash, then EVP_PKEY_verify on the digest).
    private let mdContext: OpaquePointer
    /// One-shot EdDSA context. Kept apart from `mdContext`: after EVP_DigestVerifyInit a context carries the
    /// signature operation, and a later EVP_DigestInit_ex on it would feed that operation, not a plain digest.
    private let edContext: OpaquePointer
    private let digests: [HashAlgorithm: OpaquePointer]
    /// Keys whose contexts are cached here stay alive as long as the cache.
    private var retained: [ObjectIdentifier: AnyObject] = [:]
    /// Bound on cached contexts (each holds a little OpenSSL memory); beyond it the cache starts over.
    public static let contextLimit = 4096

    public init() {
        mdContext = EVP_MD_CTX_new()!
        edContext = EVP_MD_CTX_new()!
        var d: [HashAlgorithm: OpaquePointer] = [:]
        for h in [HashAlgorithm.sha256, .sha384, .sha512] { d[h] = EVP_MD_fetch(nil, h.name, nil)! }
        digests = d
    }

    deinit {
        dropContexts()
        EVP_MD_CTX_free(mdContext)
        EVP_MD_CTX_free(edContext)
        for (_, md) in digests { EVP_MD_free(md) }
    }

    private func dropContexts() {
        for (_, c) in pkeyContexts { EVP_PKEY_CTX_free(c) }
        pkeyContexts.removeAll()
        macKeys.removeAll()
        retained.removeAll()
    }

    /// Whether `signature` (JOSE form) is valid for `message` under `key`. Never traps: a signature of the wrong
    /// length, a key that does not fit the scheme or an OpenSSL error is simply `false`.
    public func verify(
        _ scheme: SignatureScheme, key: PublicKey, message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        let ok = check(scheme, key: key, message: message, signature: signature)
        // OpenSSL queues errors only when something failed; leave none behind for the next call.
        if !ok { ERR_clear_error() }
        return ok
    }

    private func check(
        _ scheme: SignatureScheme, key: PublicKey, message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        switch (scheme, key.shape) {
        case (.hmac, _):
            return false
        case (.eddsa, .edwards(let curve)):
            guard signature.count == curve.signatureSize else { return false }
            guard EVP_MD_CTX_reset(edContext) == 1,
                EVP_DigestVerifyInit(edContext, nil, nil, nil, key.pkey) == 1
            else { return false }
            return EVP_DigestVerify(
                edContext, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1
        case (.rsaPKCS1(let h), .rsa), (.rsaPSS(let h), .rsa):
            guard signature.count == key.signatureSize, let ctx = context(scheme, key) else { return false }
            return verifyDigest(ctx, hash: h, message: message) { d, n in
                EVP_PKEY_verify(ctx, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count, d, n)
            }
        case (.ecdsa(let h, let curve), .ec(let keyCurve)):
            guard curve == keyCurve, signature.count == 2 * curve.coordinateSize, let ctx = context(scheme, key)
            else { return false }
            let der = ECDSASignature.der(fromRaw: signature)
            return verifyDigest(ctx, hash: h, message: message) { d, n in
                der.withUnsafeBufferPointer { EVP_PKEY_verify(ctx, $0.baseAddress, $0.count, d, n) }
            }
        default:
            return false
        }
    }

    /// Whether `signature` is HMAC-`hash` of `message` under `secret`, compared in constant time.
    public func verifyMAC(
        _ hash: HashAlgorithm, secret: HMACSecret, message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.count == hash.size, let key = macKey(hash, secret) else { return false }
        return key.matches(message, signature: signature)
    }

    private func verifyDigest(
        _ ctx: OpaquePointer, hash: HashAlgorithm, message: UnsafeRawBufferPointer,
        _ check: (UnsafePointer<UInt8>, Int) -> Int32
    ) -> Bool {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &out) { raw -> Bool in
            let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var len: UInt32 = 0
            guard EVP_DigestInit_ex(mdContext, digests[hash], nil) == 1,
                EVP_DigestUpdate(mdContext, message.baseAddress, message.count) == 1,
                EVP_DigestFinal_ex(mdContext, dst, &len) == 1
            else { return false }
            return check(dst, Int(len)) == 1
        }
    }

    /// A verify context for (key, scheme), made once per thread: padding, salt length and digest are set up front.
    private func context(_ scheme: SignatureScheme, _ key: PublicKey) -> OpaquePointer? {
        let k = ContextKey(key: ObjectIdentifier(key), scheme: scheme)
        if let c = pkeyContexts[k] { return c }
        if pkeyContexts.count + macKeys.count >= Self.contextLimit { dropContexts() }
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, key.pkey, nil) else { return nil }
        var ok = EVP_PKEY_verify_init(ctx) == 1
        switch scheme {
        case .rsaPKCS1(let h):
            ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1
            ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, digests[h]) == 1
        case .rsaPSS(let h):
            ok = ok && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
            ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, digests[h]) == 1
            ok = ok && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, digests[h]) == 1
            ok = ok && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1
        case .ecdsa(let h, _):
            ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, digests[h]) == 1
        default:
            ok = false
        }
        guard ok else {
            EVP_PKEY_CTX_free(ctx)
            return nil
        }
        pkeyContexts[k] = ctx
        retained[k.key] = key
        return ctx
    }

    private func macKey(_ hash: HashAlgorithm, _ secret: HMACSecret) -> HMACKey? {
        let k = ContextKey(key: ObjectIdentifier(secret), scheme: .hmac(hash))
        if let key = macKeys[k] { return key }
        if pkeyContexts.count + macKeys.count >= Self.contextLimit { dropContexts() }
        guard let key = secret.key(for: hash) else { return nil }
        macKeys[k] = key
        retained[k.key] = secret
        return key
    }
}

/// JOSE's raw R‖S ECDSA signatures and OpenSSL's DER form.
public enum ECDSASignature {
    /// DER `SEQUENCE { INTEGER r, INTEGER s }` from raw R‖S (even length). Leading zeros are stripped and a zero
    /// byte added where the high bit is set, as DER wants; r or s equal to zero encodes as `INTEGER 0`, which
    /// OpenSSL then rejects.
    public static func der(fromRaw raw: UnsafeRawBufferPointer) -> [UInt8] {
        let half = raw.count / 2
        func integer(_ bytes: UnsafeRawBufferPointer.SubSequence) -> [UInt8] {
            var body = Array(bytes.drop { $0 == 0 })
            if body.isEmpty { body = [0] } else if body[0] & 0x80 != 0 { body.insert(0, at: 0) }
            return [0x02] + length(body.count) + body
        }
        let content = integer(raw[0..<half]) + integer(raw[half..<(2 * half)])
        return [0x30] + length(content.count) + content
    }

    /// Raw R‖S with each half `size` bytes from a DER signature, or nil when it is not one.
    public static func raw(fromDER der: [UInt8], size: Int) -> [UInt8]? {
        var p = 0
        func readLength() -> Int? {
            guard p < der.count else { return nil }
            let b = der[p]
            p += 1
            if b < 0x80 { return Int(b) }
            guard b == 0x81, p < der.count else { return nil }
            p += 1
            return Int(der[p - 1])
        }
        func readInteger() -> [UInt8]? {
            guard p < der.count, der[p] == 0x02 else { return nil }
            p += 1
            guard let n = readLength(), n > 0, p + n <= der.count else { return nil }
            let v = Array(der[p..<(p + n)].drop { $0 == 0 })
            p += n
            guard v.count <= size else { return nil }
            return [UInt8](repeating: 0, count: size - v.count) + v
        }
        guard der.first == 0x30 else { return nil }
        p = 1
        guard let total = readLength(), p + total == der.count, let r = readInteger(), let s = readInteger(),
            p == der.count
        else { return nil }
        return r + s
    }

    static func length(_ n: Int) -> [UInt8] { n < 0x80 ? [UInt8(n)] : [0x81, UInt8(n)] }
}

extension HashAlgorithm {
    /// The OpenSSL fetch name.
    var name: String {
        switch self {
        case .sha1: "SHA1"
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }
}
