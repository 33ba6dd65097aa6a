import COpenSSL
import SiftCore

/// What went wrong building or using a key. The reason never contains key or secret bytes.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The elliptic curves JOSE names (RFC 7518 §6.2.1.1, RFC 8812 §3.1).
public enum Curve: String, Sendable, Hashable, CaseIterable {
    case p256 = "P-256"
    case p384 = "P-384"
    case p521 = "P-521"
    case secp256k1

    /// The group name OpenSSL 3 knows the curve by.
    var groupName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        case .secp256k1: "secp256k1"
        }
    }

    /// Bytes in one coordinate (and in one half of a JOSE ECDSA signature).
    public var coordinateSize: Int {
        switch self {
        case .p256, .secp256k1: 32
        case .p384: 48
        case .p521: 66
        }
    }

    /// Maps OpenSSL's group names (as reported for keys read from PEM) back to JOSE's.
    init?(groupName: String) {
        switch groupName {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        case "secp256k1": self = .secp256k1
        default: return nil
        }
    }
}

/// The Edwards curves of RFC 8037.
public enum EdwardsCurve: String, Sendable, Hashable, CaseIterable {
    case ed25519 = "Ed25519"
    case ed448 = "Ed448"

    public var publicKeySize: Int { self == .ed25519 ? 32 : 57 }
    public var signatureSize: Int { self == .ed25519 ? 64 : 114 }
    var nid: Int32 { self == .ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448 }
}

/// What kind of public key this is.
public enum KeyShape: Sendable, Hashable, CustomStringConvertible {
    case rsa(bits: Int)
    case ec(Curve)
    case edwards(EdwardsCurve)

    public var description: String {
        switch self {
        case .rsa(let bits): "RSA \(bits)-bit"
        case .ec(let c): "EC \(c.rawValue)"
        case .edwards(let c): "OKP \(c.rawValue)"
        }
    }
}

/// The public members of a key in JWK terms: what RFC 7638 thumbprints are computed from.
public enum PublicComponents: Sendable, Equatable {
    case rsa(n: [UInt8], e: [UInt8])
    case ec(Curve, x: [UInt8], y: [UInt8])
    case okp(EdwardsCurve, x: [UInt8])
}

/// An immutable public key owned by one `EVP_PKEY`.
///
/// Built once and shared read-only across threads: openssl-threads(7) allows concurrent use of one `EVP_PKEY`
/// through distinct contexts, which is how ``SignatureChecker`` uses it (each thread owns its own contexts).
public final class PublicKey: @unchecked Sendable {
    let pkey: OpaquePointer
    public let shape: KeyShape

    init(taking pkey: OpaquePointer, shape: KeyShape) {
        self.pkey = pkey
        self.shape = shape
    }

    deinit { EVP_PKEY_free(pkey) }

    // MARK: - Building from JWK members

    /// An RSA public key from a JWK's big-endian `n` and `e`.
    public static func rsa(modulus n: [UInt8], exponent e: [UInt8]) throws(CryptoError) -> PublicKey {
        guard !n.isEmpty, !e.isEmpty else { throw CryptoError("RSA key without n or e") }
        guard n.count <= 2048 else { throw CryptoError("RSA modulus longer than 16384 bits") }
        guard e.count <= 8 else { throw CryptoError("RSA exponent longer than 64 bits") }
        let params = try ParamBuilder.build { bld throws(CryptoError) in
            try bld.pushBigNum("n", n)
            try bld.pushBigNum("e", e)
        }
        defer { OSSL_PARAM_free(params) }
        let pkey = try fromData(type: "RSA", params: params)
        let key = PublicKey(taking: pkey, shape: .rsa(bits: Int(EVP_PKEY_get_bits(pkey))))
        guard key.rsaIsUsable else { throw CryptoError("RSA key is not usable (modulus even or exponent below 3)") }
        return key
    }

    /// An EC public key from a JWK's `crv`, `x` and `y`; the point must lie on the curve.
    public static func ec(curve: Curve, x: [UInt8], y: [UInt8]) throws(CryptoError) -> PublicKey {
        let size = curve.coordinateSize
        guard x.count == size, y.count == size else {
            throw CryptoError("\(curve.rawValue) coordinates must be \(size) bytes each, got \(x.count) and \(y.count)")
        }
        let point = [0x04] + x + y
        let params = try ParamBuilder.build { bld throws(CryptoError) in
            try bld.pushString("group", curve.groupName)
            try bld.pushOctets("pub", point)
        }
        defer { OSSL_PARAM_free(params) }
        let pkey = try fromData(type: "EC", params: params)
        let key = PublicKey(taking: pkey, shape: .ec(curve))
        guard key.publicCheck() else { throw CryptoError("the point (x, y) is not on \(curve.rawValue)") }
        return key
    }

    /// An Ed25519 or Ed448 public key from a JWK's raw `x`.
    public static func edwards(_ curve: EdwardsCurve, x: [UInt8]) throws(CryptoError) -> PublicKey {
        guard x.count == curve.publicKeySize else {
            throw CryptoError("\(curve.rawValue) public key must be \(curve.publicKeySize) bytes, got \(x.count)")
        }
        guard
            let pkey = x.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(curve.nid, nil, $0.baseAddress, $0.count)
            })
        else { throw CryptoError(openSSLReason("\(curve.rawValue) public key rejected")) }
        return PublicKey(taking: pkey, shape: .edwards(curve))
    }

    // MARK: - Building from DER (PEM is unwrapped by the caller)

    /// A `PUBLIC KEY` (X.509 SubjectPublicKeyInfo) in DER.
    public static func subjectPublicKeyInfo(der: [UInt8]) throws(CryptoError) -> PublicKey {
        let pkey: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        guard let pkey else { throw CryptoError(openSSLReason("not a DER SubjectPublicKeyInfo")) }
        return try adopt(pkey)
    }

    /// An `RSA PUBLIC KEY` (PKCS#1 RSAPublicKey) in DER.
    public static func pkcs1(der: [UInt8]) throws(CryptoError) -> PublicKey {
        var pkey: OpaquePointer? = nil
        guard
            let dctx = OSSL_DECODER_CTX_new_for_pkey(
                &pkey, "DER", "type-specific", "RSA", COpenSSL_EVP_PKEY_PUBLIC_KEY(), nil, nil)
        else { throw CryptoError(openSSLReason("no PKCS#1 decoder")) }
        defer { OSSL_DECODER_CTX_free(dctx) }
        let ok = der.withUnsafeBufferPointer { buf -> Bool in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            var n = buf.count
            return OSSL_DECODER_from_data(dctx, &p, &n) == 1
        }
        guard ok, let pkey else { throw CryptoError(openSSLReason("not a DER PKCS#1 RSAPublicKey")) }
        return try adopt(pkey)
    }

    /// The public key of an X.509 certificate in DER. The certificate's validity and chain are not judged.
    public static func certificate(der: [UInt8]) throws(CryptoError) -> PublicKey {
        let cert: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
        guard let cert else { throw CryptoError(openSSLReason("not a DER X.509 certificate")) }
        defer { X509_free(cert) }
        guard let pkey = X509_get_pubkey(cert) else {
            throw CryptoError(openSSLReason("certificate has no usable public key"))
        }
        return try adopt(pkey)
    }

    /// Why `issuerDER` is not the certificate that issued `subjectDER` (names, key identifiers and the
    /// signature are checked, as X509_check_issued and X509_verify do), or nil when it is. Validity periods and
    /// trust are not judged: this only tells a chain from a bundle of unrelated certificates.
    public static func chainProblem(subject subjectDER: [UInt8], issuer issuerDER: [UInt8]) -> String? {
        func parse(_ der: [UInt8]) -> OpaquePointer? {
            der.withUnsafeBufferPointer { buf in
                var p: UnsafePointer<UInt8>? = buf.baseAddress
                return d2i_X509(nil, &p, buf.count)
            }
        }
        guard let subject = parse(subjectDER), let issuer = parse(issuerDER) else {
            ERR_clear_error()
            return "not a DER X.509 certificate"
        }
        defer {
            X509_free(subject)
            X509_free(issuer)
        }
        guard X509_check_issued(issuer, subject) == X509_V_OK else {
            return "its subject and key identifiers do not match the previous certificate's issuer"
        }
        guard let key = X509_get_pubkey(issuer) else {
            ERR_clear_error()
            return "it has no usable public key"
        }
        defer { EVP_PKEY_free(key) }
        guard X509_verify(subject, key) == 1 else {
            ERR_clear_error()
            return "its key does not verify the previous certificate's signature"
        }
        return nil
    }

    /// Takes ownership of a key OpenSSL decoded and works out its shape; frees it on failure.
    static func adopt(_ pkey: OpaquePointer) throws(CryptoError) -> PublicKey {
        let id = EVP_PKEY_get_base_id(pkey)
        let shape: KeyShape
        switch id {
        case EVP_PKEY_RSA:
            // The check a JWK's n and e get (`rsa(modulus:exponent:)`): an even modulus or e < 3 (e = 1 makes
            // every padded message its own signature) is no signing key, whatever encoding it came in.
            let key = PublicKey(taking: pkey, shape: .rsa(bits: Int(EVP_PKEY_get_bits(pkey))))
            guard key.rsaIsUsable else { throw CryptoError("RSA key is not usable (modulus even or exponent below 3)") }
            return key
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var len = 0
            guard EVP_PKEY_get_utf8_string_param(pkey, "group", &name, name.count, &len) == 1,
                let curve = Curve(
                    groupName: String(decoding: name.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            else {
                EVP_PKEY_free(pkey)
                ERR_clear_error()
                throw CryptoError("EC key on a curve JOSE does not use")
            }
            shape = .ec(curve)
        case EVP_PKEY_ED25519: shape = .edwards(.ed25519)
        case EVP_PKEY_ED448: shape = .edwards(.ed448)
        default:
            EVP_PKEY_free(pkey)
            throw CryptoError("key type \(id) is not used by JWS (RSA, EC, Ed25519, Ed448)")
        }
        return PublicKey(taking: pkey, shape: shape)
    }

    // MARK: - Reading back

    /// The JWK members of this key, for RFC 7638 thumbprints and for comparing a certificate with a JWK.
    public var components: PublicComponents {
        switch shape {
        case .rsa:
            return .rsa(n: bigNumParam("n"), e: bigNumParam("e"))
        case .ec(let curve):
            return .ec(
                curve, x: bigNumParam("qx", pad: curve.coordinateSize), y: bigNumParam("qy", pad: curve.coordinateSize))
        case .edwards(let curve):
            var out = [UInt8](repeating: 0, count: 64)
            var len = out.count
            _ = EVP_PKEY_get_raw_public_key(pkey, &out, &len)
            return .okp(curve, x: Array(out.prefix(len)))
        }
    }

    /// The DER SubjectPublicKeyInfo.
    public var subjectPublicKeyInfoDER: [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_PUBKEY(pkey, &out)
        guard n > 0, let out else { return [] }
        defer { COpenSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// Whether two keys hold the same public key.
    public func isSame(as other: PublicKey) -> Bool { EVP_PKEY_eq(pkey, other.pkey) == 1 }

    /// Maximum signature size in bytes (the modulus length for RSA).
    public var signatureSize: Int { Int(EVP_PKEY_get_size(pkey)) }

    private func bigNumParam(_ name: String, pad: Int = 0) -> [UInt8] {
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, let bn else {
            ERR_clear_error()
            return []
        }
        defer { BN_free(bn) }
        let n = max(Int((BN_num_bits(bn) + 7) / 8), pad)
        var out = [UInt8](repeating: 0, count: max(n, 1))
        _ = BN_bn2binpad(bn, &out, Int32(out.count))
        return out
    }

    private var rsaIsUsable: Bool {
        guard case .rsa(n: let n, e: let e) = components, let lastN = n.last, let lastE = e.last else { return false }
        let eIsSmall = e.dropLast().allSatisfy { $0 == 0 } && lastE < 3
        return lastN & 1 == 1 && !eIsSmall
    }

    private func publicCheck() -> Bool {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { return false }
        defer { EVP_PKEY_CTX_free(ctx) }
        let ok = EVP_PKEY_public_check(ctx) == 1
        if !ok { ERR_clear_error() }
        return ok
    }

    private static func fromData(type: String, params: UnsafeMutablePointer<OSSL_PARAM>) throws(CryptoError)
        -> OpaquePointer
    {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw CryptoError(openSSLReason("no \(type) support"))
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1,
            EVP_PKEY_fromdata(ctx, &pkey, COpenSSL_EVP_PKEY_PUBLIC_KEY(), params) == 1,
            let pkey
        else { throw CryptoError(openSSLReason("\(type) key rejected")) }
        return pkey
    }
}

/// Scoped use of `OSSL_PARAM_BLD`; the built parameters are returned for the caller to free with `OSSL_PARAM_free`.
struct ParamBuilder: ~Copyable {
    let bld: OpaquePointer
    private var bignums: [OpaquePointer] = []
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    private init(_ bld: OpaquePointer) { self.bld = bld }

    static func build(_ body: (inout ParamBuilder) throws(CryptoError) -> Void) throws(CryptoError)
        -> UnsafeMutablePointer<OSSL_PARAM>
    {
        guard let raw = OSSL_PARAM_BLD_new() else { throw CryptoError("out of memory") }
        var b = ParamBuilder(raw)
        try body(&b)
        guard let params = OSSL_PARAM_BLD_to_param(raw) else { throw CryptoError(openSSLReason("bad key parameters")) }
        return params
    }

    mutating func pushBigNum(_ name: StaticString, _ bytes: [UInt8]) throws(CryptoError) {
        guard let bn = bytes.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            throw CryptoError("out of memory")
        }
        bignums.append(bn)
        guard OSSL_PARAM_BLD_push_BN(bld, name.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }, bn) == 1
        else { throw CryptoError(openSSLReason("bad number")) }
    }

    mutating func pushString(_ name: StaticString, _ value: String) throws(CryptoError) {
        let copy = copyBytes(Array(value.utf8) + [0])
        guard
            OSSL_PARAM_BLD_push_utf8_string(
                bld, name.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 },
                copy.baseAddress!.assumingMemoryBound(to: CChar.self), value.utf8.count) == 1
        else { throw CryptoError(openSSLReason("bad string")) }
    }

    mutating func pushOctets(_ name: StaticString, _ bytes: [UInt8]) throws(CryptoError) {
        let copy = copyBytes(bytes)
        guard
            OSSL_PARAM_BLD_push_octet_string(
                bld, name.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }, copy.baseAddress, bytes.count
            ) == 1
        else { throw CryptoError(openSSLReason("bad octets")) }
    }

    /// The builder keeps pointers to pushed strings until `to_param`: keep a copy alive as long as the builder.
    private mutating func copyBytes(_ bytes: [UInt8]) -> UnsafeMutableRawBufferPointer {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        buf.copyBytes(from: bytes)
        buffers.append(buf)
        return buf
    }

    deinit {
        OSSL_PARAM_BLD_free(bld)
        for bn in bignums { BN_free(bn) }
        for b in buffers { b.deallocate() }
    }
}

/// The reason OpenSSL gave for the last failure on this thread (library and reason only), and clears the queue.
func openSSLReason(_ context: String) -> String {
    let code = ERR_get_error()
    ERR_clear_error()
    guard code != 0, let reason = ERR_reason_error_string(code) else { return context }
    return "\(context): \(String(cString: reason))"
}
