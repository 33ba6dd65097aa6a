import JOSECrypto
import JWTScan
import SiftCore

/// Something wrong with a key file or one of its entries. Never contains key material.
public struct KeyProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    /// The file.
    public var origin: String
    /// The entry's 0-based index in a JWKS or the PEM block's index, when the problem is about one entry.
    public var index: Int?
    public var message: String

    public init(_ severity: Severity, origin: String, index: Int? = nil, _ message: String) {
        self.severity = severity
        self.origin = origin
        self.index = index
        self.message = message
    }

    public var description: String {
        let place = index.map { "\(origin): key #\($0)" } ?? origin
        return "\(place): \(severity.rawValue): \(message)"
    }
}

/// Parses key files: a JWKS, a single JWK, PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`, several per
/// file), or the raw bytes of an HMAC secret. A bad entry is reported with its index; the others still load.
public enum KeyLoader {
    /// Largest key file read, in bytes.
    public static let maximumFileSize = 8 << 20

    /// Keys in a JWKS, JWK or PEM file's bytes.
    public static func parseKeyFile(_ bytes: [UInt8], origin: String, retired: Bool) -> (
        [VerificationKey], [KeyProblem]
    ) {
        let trimmed = bytes.drop {
            $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF
        }
        if trimmed.first == UInt8(ascii: "{") { return parseJSON(Array(trimmed), origin: origin, retired: retired) }
        if containsPEM(bytes) { return parsePEM(bytes, origin: origin, retired: retired) }
        if bytes.isEmpty { return ([], [KeyProblem(.error, origin: origin, "the file is empty")]) }
        return (
            [],
            [KeyProblem(.error, origin: origin, "not a JWKS, a JWK or PEM (for an HMAC secret use --hmac-secret-file)")]
        )
    }

    /// A key file's last path component: how a secret is named in findings.
    static func fileName(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    /// One HMAC secret: the file's exact bytes.
    public static func secret(_ bytes: [UInt8], origin: String, retired: Bool) -> (VerificationKey?, [KeyProblem]) {
        guard !bytes.isEmpty else { return (nil, [KeyProblem(.error, origin: origin, "the secret file is empty")]) }
        let secret = HMACSecret(bytes)
        var problems: [KeyProblem] = []
        if secret.endsInWhitespace {
            problems.append(
                KeyProblem(
                    .warning, origin: origin,
                    "the secret ends in whitespace or a newline; it is used byte for byte (printf '%s' avoids the newline)"
                ))
        }
        let start = bytes.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if start.first == UInt8(ascii: "{") || containsPEM(bytes) {
            problems.append(
                KeyProblem(
                    .warning, origin: origin,
                    "this looks like a key file (JWK, JWKS or PEM), not a raw secret: its bytes are used as the HMAC secret as they are; give key files with --keys"
                ))
        }
        if bytes.count < 32 {
            problems.append(
                KeyProblem(
                    .warning, origin: origin,
                    "the secret is \(bytes.count) bytes, shorter than HS256's 32 (RFC 7518 §3.2)"))
        }
        let key = VerificationKey(
            material: .secret(secret), kid: nil, thumbprint: "hmac:" + Self.fileName(origin), declaredAlg: nil,
            verifiesSignatures: true, notForSignaturesReason: nil, origin: origin, retired: retired)
        return (key, problems)
    }

    // MARK: - JSON

    static func parseJSON(_ bytes: [UInt8], origin: String, retired: Bool) -> ([VerificationKey], [KeyProblem]) {
        let document: JSONObject
        do {
            document = try JSONParser.parseObject(bytes)
        } catch {
            return ([], [KeyProblem(.error, origin: origin, "not valid JSON: \(error)")])
        }
        guard let keysValue = document["keys"] else {
            // A single JWK.
            switch jwk(document, origin: origin, index: nil, retired: retired) {
            case .key(let k, let warnings): return ([k], warnings)
            case .skipped(let p), .failed(let p): return ([], [p])
            }
        }
        guard let entries = keysValue.arrayValue else {
            return ([], [KeyProblem(.error, origin: origin, "\"keys\" is a \(keysValue.typeName), not an array")])
        }
        var keys: [VerificationKey] = []
        var problems: [KeyProblem] = []
        for (i, entry) in entries.enumerated() {
            guard let object = entry.objectValue else {
                problems.append(
                    KeyProblem(.error, origin: origin, index: i, "entry is a \(entry.typeName), not an object"))
                continue
            }
            switch jwk(object, origin: origin, index: i, retired: retired) {
            case .key(let k, let warnings):
                keys.append(k)
                problems += warnings
            case .skipped(let p), .failed(let p):
                problems.append(p)
            }
        }
        var kids: [String: Int] = [:]
        for k in keys { if let kid = k.kid { kids[kid, default: 0] += 1 } }
        for (kid, n) in kids.sorted(by: { $0.key < $1.key }) where n > 1 {
            problems.append(
                KeyProblem(
                    .warning, origin: origin,
                    "\(n) keys share kid \"\(Redact.short(kid))\"; each is tried (a key set should not repeat a kid)"))
        }
        return (keys, problems)
    }

    enum JWKOutcome {
        case key(VerificationKey, [KeyProblem])
        case skipped(KeyProblem)
        case failed(KeyProblem)
    }

    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth"]

    static func jwk(_ o: JSONObject, origin: String, index: Int?, retired: Bool) -> JWKOutcome {
        func fail(_ m: String) -> JWKOutcome { .failed(KeyProblem(.error, origin: origin, index: index, m)) }
        var warnings: [KeyProblem] = []
        func warn(_ m: String) { warnings.append(KeyProblem(.warning, origin: origin, index: index, m)) }
        func member(_ name: String) -> [UInt8]?? {
            guard let v = o[name] else { return .some(nil) }
            guard let s = v.stringValue, let bytes = Base64URL.decode(s) else { return nil }
            return .some(bytes)
        }

        guard let kty = o["kty"]?.stringValue else { return fail("no \"kty\"") }
        var kid: String? = nil
        if let v = o["kid"] {
            guard let s = v.stringValue else { return fail("\"kid\" is a \(v.typeName), not a string") }
            kid = s
        }
        var declared: JWSAlgorithm? = nil
        if let v = o["alg"] {
            if let s = v.stringValue, let a = JWSAlgorithm(rawValue: s) {
                declared = a
            } else {
                warn(
                    "\"alg\" \(v.stringValue.map { "\"\(Redact.short($0))\"" } ?? v.typeName) is not a JWS algorithm; ignored"
                )
            }
        }
        var unusable: String? = nil
        if let use = o["use"]?.stringValue, use != "sig" {
            unusable = "the key is for \"use\": \"\(Redact.short(use))\", not signatures"
        }
        if let ops = o["key_ops"] {
            // RFC 7517 §4.3: an array of strings. Anything else is a broken entry, not a key for other uses.
            guard let array = ops.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                return fail("\"key_ops\" is a \(ops.typeName), not an array of strings (RFC 7517 §4.3)")
            }
            let list = array.compactMap(\.stringValue)
            if !list.contains("verify") { unusable = "the key's \"key_ops\" do not include \"verify\"" }
        }
        if kty != "oct", privateMembers.contains(where: { o[$0] != nil }) {
            warn(
                "private key members are present in this JWK; only its public part is used (a published key set must not carry them)"
            )
        }

        let material: VerificationKey.Material
        let thumbprint: String
        switch kty {
        case "RSA":
            guard let n = member("n"), let e = member("e") else { return fail("\"n\" or \"e\" is not base64url") }
            if let n, let e {
                do {
                    let key = try PublicKey.rsa(modulus: n, exponent: e)
                    if case .rsa(let bits) = key.shape, bits < 2048 {
                        warn("RSA modulus is \(bits) bits; RFC 7518 §3.3 requires at least 2048")
                    }
                    material = .publicKey(key)
                } catch {
                    return fail("RSA key rejected: \(error)")
                }
            } else if let fromCert = certificateKey(o) {
                guard case .success(let key) = fromCert else { return fail(fromCert.failureReason) }
                material = .publicKey(key)
            } else {
                return fail("RSA key without \"n\" and \"e\"")
            }
        case "EC":
            guard let crvName = o["crv"]?.stringValue else { return fail("EC key without \"crv\"") }
            // Every curve registered for JOSE EC keys is one jwtsift verifies with: any other is a broken entry.
            guard let curve = Curve(rawValue: crvName) else {
                return fail(
                    "EC curve \"\(Redact.short(crvName))\" is not a registered JOSE curve (P-256, P-384, P-521, secp256k1)"
                )
            }
            guard let x = member("x"), let y = member("y"), let x, let y else {
                return fail("EC key without base64url \"x\" and \"y\"")
            }
            do {
                material = .publicKey(try PublicKey.ec(curve: curve, x: x, y: y))
            } catch {
                return fail("EC key rejected: \(error)")
            }
        case "OKP":
            guard let crvName = o["crv"]?.stringValue else { return fail("OKP key without \"crv\"") }
            guard let curve = EdwardsCurve(rawValue: crvName) else {
                // X25519 and X448 (RFC 8037) are for key agreement: a key set may hold them beside signing keys.
                guard crvName == "X25519" || crvName == "X448" else {
                    return fail(
                        "OKP curve \"\(Redact.short(crvName))\" is not a registered JOSE curve (Ed25519, Ed448, X25519, X448)"
                    )
                }
                return .skipped(
                    KeyProblem(
                        .warning, origin: origin, index: index,
                        "OKP curve \"\(Redact.short(crvName))\" is for key agreement, not signatures; skipped"))
            }
            guard let x = member("x"), let x else { return fail("OKP key without base64url \"x\"") }
            do {
                material = .publicKey(try PublicKey.edwards(curve, x: x))
            } catch {
                return fail("OKP key rejected: \(error)")
            }
        case "oct":
            guard let k = member("k"), let k, !k.isEmpty else { return fail("oct key without base64url \"k\"") }
            material = .secret(HMACSecret(k))
        default:
            return .skipped(
                KeyProblem(
                    .warning, origin: origin, index: index,
                    "unknown \"kty\" \"\(Redact.short(kty))\"; skipped (RFC 7517 §5)"))
        }

        switch material {
        case .publicKey(let key):
            thumbprint = Thumbprint.of(key.components)
            if let fromCert = certificateKey(o) {
                switch fromCert {
                case .success(let certKey):
                    if !certKey.isSame(as: key) {
                        return fail("the first \"x5c\" certificate holds a different key than the JWK members")
                    }
                case .failure(let e):
                    return fail(e.reason)
                }
            }
        case .secret:
            guard case .some(.some) = member("k") else { return fail("oct key without \"k\"") }
            // Named by where it was given, never by a digest of the secret (one would let whoever reads the
            // findings test guesses of it offline).
            thumbprint = "oct:" + KeyLoader.fileName(origin) + (index.map { "#\($0)" } ?? "")
        }
        let key = VerificationKey(
            material: material, kid: kid, thumbprint: thumbprint, declaredAlg: declared,
            verifiesSignatures: unusable == nil, notForSignaturesReason: unusable,
            origin: index.map { "\(origin)#\($0)" } ?? origin, retired: retired)
        if let declared, !key.fits(declared) {
            return fail("declared \"alg\" \(declared.rawValue) does not fit a \(key.summary) key")
        }
        return .key(key, warnings)
    }

    /// The public key of the first `x5c` certificate, when the JWK has one.
    static func certificateKey(_ o: JSONObject) -> Result<PublicKey, CryptoError>? {
        guard let chain = o["x5c"] else { return nil }
        guard let first = chain.arrayValue?.first?.stringValue, let der = Base64URL.decodeStandard(first) else {
            return .failure(CryptoError("\"x5c\" is not an array of base64 certificates"))
        }
        do {
            return .success(try PublicKey.certificate(der: der))
        } catch {
            return .failure(CryptoError("\"x5c\" certificate: \(error)"))
        }
    }

    // MARK: - PEM

    static func containsPEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        for i in 0...(bytes.count - marker.count)
        where bytes[i] == 0x2D && Array(bytes[i..<(i + marker.count)]) == marker {
            return true
        }
        return false
    }

    /// Every `-----BEGIN label-----` … `-----END label-----` block, in order.
    public static func pemBlocks(_ bytes: [UInt8]) -> [(label: String, body: [UInt8]?)] {
        let text = String(decoding: bytes, as: UTF8.self)
        var blocks: [(String, [UInt8]?)] = []
        var label: String? = nil
        var body = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if line.hasPrefix("-----END "), let l = label {
                blocks.append((l, Base64URL.decodeStandard(body)))
                label = nil
            } else if label != nil {
                if line.contains(":") { continue }  // RFC 1421 headers of encrypted PEM
                body += line
            }
        }
        return blocks
    }

    /// Keys in PEM text. Of several certificates in one file only the first (the leaf, as in a `fullchain.pem`)
    /// is a signing key: each later one must issue the one before it (checked, never trusted as a key itself), so
    /// a token signed by an intermediate's or the root CA's key does not verify.
    static func parsePEM(_ bytes: [UInt8], origin: String, retired: Bool) -> ([VerificationKey], [KeyProblem]) {
        var keys: [VerificationKey] = []
        var problems: [KeyProblem] = []
        var previousCertificate: (index: Int, der: [UInt8])? = nil
        for (i, block) in pemBlocks(bytes).enumerated() {
            guard let der = block.body else {
                problems.append(
                    KeyProblem(
                        .error, origin: origin, index: i,
                        "PEM block \"\(Redact.short(block.label))\" is not valid base64"))
                continue
            }
            if ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"].contains(block.label) {
                defer { previousCertificate = (i, der) }
                if let previous = previousCertificate {
                    if let why = PublicKey.chainProblem(subject: previous.der, issuer: der) {
                        problems.append(
                            KeyProblem(
                                .error, origin: origin, index: i,
                                "certificate after the leaf is not its chain (\(why)); only a file's first certificate is a signing key: give each signing certificate its own file"
                            ))
                    }
                    continue
                }
            }
            let key: PublicKey
            do {
                switch block.label {
                case "PUBLIC KEY": key = try PublicKey.subjectPublicKeyInfo(der: der)
                case "RSA PUBLIC KEY": key = try PublicKey.pkcs1(der: der)
                case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE": key = try PublicKey.certificate(der: der)
                case let l where l.contains("PRIVATE KEY"):
                    problems.append(
                        KeyProblem(
                            .error, origin: origin, index: i,
                            "this is a private key; give jwtsift the public half (openssl pkey -pubout)"))
                    continue
                default:
                    problems.append(
                        KeyProblem(
                            .warning, origin: origin, index: i,
                            "PEM block \"\(Redact.short(block.label))\" is not a key; skipped"))
                    continue
                }
            } catch {
                problems.append(KeyProblem(.error, origin: origin, index: i, "\(Redact.short(block.label)): \(error)"))
                continue
            }
            keys.append(
                VerificationKey(
                    material: .publicKey(key), kid: nil, thumbprint: Thumbprint.of(key.components), declaredAlg: nil,
                    verifiesSignatures: true, notForSignaturesReason: nil, origin: "\(origin)#\(i)", retired: retired))
        }
        if keys.isEmpty && problems.isEmpty {
            problems.append(KeyProblem(.error, origin: origin, "no complete PEM block"))
        }
        return (keys, problems)
    }
}

extension Result where Failure == CryptoError {
    var failureReason: String {
        if case .failure(let e) = self { return e.reason }
        return ""
    }
}

/// Shortens untrusted strings before they go into a message, and masks what must not reach an output raw.
public enum Redact {
    /// `s` with token-shaped runs redacted (``UntrustedText/redactTokens(_:)``, before cutting, so no cut token
    /// is left), hidden characters (``UntrustedText/isHidden(_:)``: C0 and C1 controls, DEL, bidi and other
    /// format characters, line separators) as `?`, cut to `limit` scalars (then "…").
    public static func short(_ s: String, limit: Int = 64) -> String {
        let s = UntrustedText.redactTokens(s)
        // Fast path: short printable ASCII (nearly every kid and iss) comes back as is.
        if s.utf8.count <= limit && s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        let cut = UntrustedText.masked(String(String.UnicodeScalarView(s.unicodeScalars.prefix(limit))))
        return s.unicodeScalars.count > limit ? cut + "…" : cut
    }
}
