import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore

/// `TokenAnalyzer` on the bytes as a token, against a fixed key set: the public keys of `samples/keys` (RSA, EC
/// P-256 and Ed25519 current, one retired RSA key) and an HMAC secret known only to this harness (kid `fuzz-hs`).
/// Bytes that end in `.` are signed here first (HS256 with that secret over everything before the final dot), so
/// the fuzzer also reaches what follows a valid signature: claims, times and policy.
///
/// Checks: the same token analysed twice (contexts cached by then) gives the same verdict; a valid signature
/// names its key; a malformed one has status `malformed`; no reason, hint or key
/// attempt holds the token, its signature segment, the secret or a hidden character (a control, bidi or other
/// format character: ``UntrustedText/isHidden(_:)``); an analysis without a cause has a valid
/// signature.
enum TokenTarget {
    static let currentJWKS = """
        {"keys":[{"kty":"RSA","kid":"2023-11","alg":"RS256","use":"sig","n":"y5TdikdbAY553RrTkQbaSkU-ygHESP3\
        DsddFYA_RD514_Jwa9Xu0PIYr5NZHmrJyB11izIDS9u3NzUQ6vvmBTUP2Fts2WH_ooJluw7IMF2VxHhdZdObVUpwXCpovJKvZmwR\
        4nr-FYQsfNaKHp7sc_NvVONsXiZrwf4wZ5uU0Ru_tQq1t7L8z9TIStuNNaSifkt23z0CbOaCuPOe_u3XY51KXFCmzEX-jcQR4J9U\
        vSWZU-pW5su1z-D1bfhbd43JjDNvGHxrBr5boWKXgAyQDjTujeu6STaeLsWvonSKC_80eWHtXXJioPK6DHz9tUkni18AVtJrrgYT\
        gx94r9ce09Q","e":"AQAB"},{"kty":"EC","kid":"edge-ec-1","alg":"ES256","use":"sig","crv":"P-256","x":"\
        -_xAcPbxSsZGdmo8LuQNOL2RuKRFBo1SJk_DFn2GKwM","y":"0g-CcnaB644AgcRazhxtt1TBKS839iBiyt0KdPSVSko"},{"kt\
        y":"OKP","kid":"partner-ed-1","alg":"EdDSA","crv":"Ed25519","x":"xMnmVrW-wM5PIsE8p9y0fLBInAmnNyYzKMS\
        FC_9bkdI"}]}
        """
    static let retiredJWKS = """
        {"keys":[{"kty":"RSA","kid":"2023-10","alg":"RS256","use":"sig","n":"kdh4Vl-ORFPUhawgvE1pEAmydh1JSd6\
        cL-JS8ZrvC5fjTO3hw35RDjXrKuH5m-yuD7idkGurfg2_syvnp76-RjYDsepPBPRKcBMSafft4V1qhOiFE5divqqPdsUcMieWAzN\
        y8F8ZhUTYnu_ZZavY1liZXTAy--GSTGR-jBbwaf7PN6BtW5-_znlHAPmFKKnB4Er1zaFrmU61jd6HMKqOyweEZS9bJOgfPs2nw9V\
        XbUOuWfuYZYZT5LjdvjtQtOCpATOTM7CfkUahiR0orb4HBhfEaFBIh-xJT2-slI8op5HqdsuRI3nrFDiEVR6GUhu6wa4q70F7G9l\
        dGNnJdozbLQ","e":"AQAB"}]}
        """
    /// 32 bytes used only by this harness: not a secret of anything.
    static let secret = Array("jwtsift-fuzz-hs256-secret-000001".utf8)

    static let analyzer: TokenAnalyzer = {
        let (current, p1) = KeyLoader.parseKeyFile(Array(currentJWKS.utf8), origin: "samples", retired: false)
        let (retired, p2) = KeyLoader.parseKeyFile(Array(retiredJWKS.utf8), origin: "retired", retired: true)
        let (hmac, _) = KeyLoader.parseKeyFile(
            Array(#"{"kty":"oct","kid":"fuzz-hs","alg":"HS256","k":"\#(Base64URL.encode(secret))"}"#.utf8),
            origin: "fuzz",
            retired: false)
        precondition(current.count == 3 && retired.count == 1 && hmac.count == 1, "fuzz key set: \(p1 + p2)")
        // Swift keeps the key objects inside enum payloads whose pointers carry tag bits, which LeakSanitizer
        // cannot follow: plain references keep them visibly alive.
        keepAlive = (current + hmac + retired).map {
            switch $0.material {
            case .publicKey(let k): k as AnyObject
            case .secret(let s): s as AnyObject
            }
        }
        return TokenAnalyzer(keys: KeyRing(current: current + hmac, retired: retired), details: true)
    }()
    nonisolated(unsafe) static var keepAlive: [AnyObject] = []
    nonisolated(unsafe) static let checker = SignatureChecker()

    static func run(_ data: UnsafeRawBufferPointer) {
        var token = Array(data)
        if token.last == UInt8(ascii: ".") {
            let mac = HMACSecret(secret).mac(
                .sha256, token.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0.dropLast()) })
            token += Array(Base64URL.encode(mac).utf8)
        }
        let truncation: Truncation? = token.first == UInt8(ascii: "e") ? nil : .marker
        let a = analyzer.analyze(token, truncation: truncation, verifier: checker)
        let b = analyzer.analyze(token, truncation: truncation, verifier: checker)
        FuzzCheck.expect(
            a.signature == b.signature && a.causes == b.causes && a.key == b.key && a.flags == b.flags, .token,
            "the same token analysed twice gives two verdicts")
        // No cause yet means nothing is wrong before the times are judged: only a verified token gets there.
        FuzzCheck.expect(!a.causes.isEmpty || a.signature == .valid, .token, "no cause, yet the signature is not valid")
        if a.signature == .valid {
            FuzzCheck.expect(a.key != nil, .token, "a valid signature without a key")
            FuzzCheck.expect(!a.causes.contains(.signature_invalid), .token, "valid and signature_invalid at once")
        }
        if a.causes.contains(.malformed) {
            // A payload that is not a JSON object is malformed while its signature is still checked (issue 12).
            let payloadOnly = a.reasons[.malformed]?.contains("payload is not a JSON object") == true
            FuzzCheck.expect(
                a.signature == .malformed || payloadOnly, .token, "malformed without signature status malformed")
        }
        var texts: [String] = Array(a.reasons.values) + a.hints
        for attempt in a.attempts { texts += [attempt.key, attempt.origin, attempt.outcome] }
        var forbidden: [[UInt8]] = [secret]
        if token.count >= 16 { forbidden.append(token) }
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.count == 3, parts[2].count >= 16 { forbidden.append(Array(parts[2])) }
        for text in texts {
            FuzzCheck.expect(
                !text.unicodeScalars.contains(where: UntrustedText.isHidden), .token,
                "a reason, hint or attempt holds a control or format character")
            for f in forbidden {
                FuzzCheck.expect(
                    !FuzzCheck.contains(text.utf8, f), .token,
                    "a reason, hint or attempt holds the token, its signature or the secret")
            }
        }
    }
}
