import Foundation
import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// Tokens the tests sign through OpenSSL for every algorithm, and every way they can fail.
@Suite struct VerdictTests {
    static let t0 = 1_700_000_000.0
    static let claims = #"{"iss":"https://issuer.example","sub":"alice","aud":"api","iat":1700000000,"exp":1700000600}"#

    static let algorithms: [JWSAlgorithm] = JWSAlgorithm.allCases.filter { alg in
        // Ed448 only where this OpenSSL has it; every other algorithm always.
        alg != .Ed448 || (try? PrivateKey.generate(.edwards(.ed448))) != nil
    }

    @Test("a token signed with the key verifies, and is judged at the log time", arguments: algorithms)
    func valid(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let a = analyze(s.sign(Self.claims), ring(s.jwks))
        #expect(a.signature == .valid, "\(a.reasons)")
        #expect(a.key == s.kid)
        #expect(a.judge(at: Self.t0 + 10, leeway: 60) == Verdict(cause: .ok, causes: CauseSet([.ok]), skew: -10))
        #expect(a.judge(at: Self.t0 + 660, leeway: 60).cause == .expired)
        #expect(a.judge(at: Self.t0 + 659, leeway: 60).cause == .ok)
    }

    @Test("one changed claim byte fails the signature", arguments: algorithms)
    func tamperedPayload(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let parts = s.sign(Self.claims).split(separator: ".").map(String.init)
        let forged = parts[0] + "." + b64(Self.claims.replacingOccurrences(of: "alice", with: "admin")) + "." + parts[2]
        let a = analyze(forged, ring(s.jwks))
        #expect(a.signature == .invalid)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .signature_invalid)
    }

    @Test("a signature cut by the logger is truncated, with a length hint for asymmetric keys", arguments: algorithms)
    func truncatedSignature(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let token = s.sign(Self.claims)
        let cut = String(token.dropLast(token.count - token.lastIndex(of: ".")!.utf16Offset(in: token) - 9))
        let a = analyze(cut, ring(s.jwks), truncation: .lineLimit)
        #expect(a.causes.contains(.truncated))
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .truncated)
        if !alg.isHMAC {
            #expect(
                a.hints.contains {
                    $0.contains("shorter than \(alg.rawValue)") && $0.contains("truncated by the logger")
                })
        }
    }

    @Test("a kid no key has is key_unknown", arguments: [JWSAlgorithm.RS256, .ES256, .HS256, .EdDSA])
    func wrongKid(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let token = s.sign(Self.claims, header: #"{"alg":"\#(alg.rawValue)","kid":"rotated-2024"}"#)
        let a = analyze(token, ring(s.jwks))
        #expect(a.signature == .key_unknown)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .key_unknown)
        #expect(a.reasons[.key_unknown]?.contains("rotated-2024") == true)
    }

    @Test func keyDeclaringAnotherAlgorithmIsAlgMismatch() {
        let s = TestSigner(.RS256, kid: "rsa1")
        let jwks = #"{"keys":[\#(s.jwk.dropLast()),"alg":"PS256"}]}"#
        let a = analyze(s.sign(Self.claims), ring(jwks))
        #expect(a.signature == .alg_mismatch)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .alg_mismatch)
    }

    @Test func es256TokenForAnRSAKidIsAlgMismatch() {
        let rsa = TestSigner(.RS256, kid: "main")
        let ec = TestSigner(.ES256, kid: "main")
        let a = analyze(ec.sign(Self.claims), ring(rsa.jwks))
        #expect(a.signature == .alg_mismatch)
    }

    @Test("HS256 whose kid names an RSA key, signed with that key's PEM: algorithm confusion, flagged as forged")
    func algorithmConfusion() throws {
        let rsa = TestSigner(.RS256, kid: "rsa1")
        let keys = ring(rsa.jwks)
        guard case .publicKey(let pub) = keys.current[0].material else {
            Issue.record("no key")
            return
        }
        let pem = Array(PEM.encode(pub.subjectPublicKeyInfoDER, label: "PUBLIC KEY").utf8)
        let input = b64(#"{"alg":"HS256","kid":"rsa1"}"#) + "." + b64(Self.claims)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(pem).mac(.sha256, $0) }
        let a = analyze(input + "." + Base64URL.encode(mac), keys)
        #expect(a.signature == .alg_mismatch)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .alg_mismatch)
        #expect(a.reasons[.alg_mismatch]?.contains("algorithm-confusion") == true)
        #expect(a.flags.contains(.publicKeyAsSecret))
    }

    @Test func retiredKeyVerifiesButIsReported() {
        let old = TestSigner(.ES256, kid: "2023")
        let new = TestSigner(.ES256, kid: "2024")
        let a = analyze(old.sign(Self.claims), ring(new.jwks, retired: old.jwks))
        #expect(a.signature == .retired_key)
        #expect(a.flags.contains(.retiredKey))
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .key_retired)
        // The same token once the retired key is current again is ok.
        #expect(analyze(old.sign(Self.claims), ring(old.jwks)).judge(at: Self.t0, leeway: 60).cause == .ok)
    }

    @Test func kidlessTokenTriesEveryFittingKey() {
        let a1 = TestSigner(.RS256, kid: "a")
        let a2 = TestSigner(.RS256, kid: "b")
        let token = a2.sign(Self.claims, header: #"{"alg":"RS256"}"#)
        let keys = ring(#"{"keys":[\#(a1.jwk),\#(a2.jwk)]}"#)
        let a = TokenAnalyzer(keys: keys, details: true).analyze(Array(token.utf8), verifier: SignatureChecker())
        #expect(a.signature == .valid)
        #expect(a.key == "b")
        #expect(a.attempts.map(\.outcome) == ["signature does not verify", "verified"])
    }

    @Test func noKeysIsUnverifiedButTimesStillJudged() {
        let s = TestSigner(.RS256)
        let a = analyze(s.sign(Self.claims), KeyRing())
        #expect(a.signature == .unchecked)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .unverified)
        #expect(Array(a.judge(at: Self.t0 + 3600, leeway: 60).causes) == [.expired, .unverified])
    }

    @Test func weakAndWellKnownSecrets() {
        let input = b64(#"{"alg":"HS256"}"#) + "." + b64(Self.claims)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(Array("secret".utf8)).mac(.sha256, $0) }
        let token = input + "." + Base64URL.encode(mac)
        let other = TestSigner(.HS256, kid: "x")
        let a = analyze(token, ring(other.jwks))
        #expect(a.signature == .invalid)
        #expect(a.flags.contains(.weakSecret))
        // Given as the secret, it verifies, and is still flagged: shorter than the hash.
        let (key, problems) = KeyLoader.secret(Array("secret".utf8), origin: "s.txt", retired: false)
        #expect(problems.contains { $0.severity == .warning && $0.message.contains("shorter") })
        let b = analyze(token, KeyRing(current: [key!]))
        #expect(b.signature == .valid)
        #expect(b.flags.contains(.weakSecret))
    }

    @Test func secretWithTrailingNewlineIsHinted() {
        let secret = Array("0123456789abcdef0123456789abcdef".utf8)
        let input = b64(#"{"alg":"HS256"}"#) + "." + b64(Self.claims)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) }
        let (key, problems) = KeyLoader.secret(secret + [0x0A], origin: "s.txt", retired: false)
        #expect(problems.contains { $0.message.contains("newline") || $0.message.contains("whitespace") })
        #expect(!problems.contains { $0.message.contains("0123456789") })
        let a = analyze(input + "." + Base64URL.encode(mac), KeyRing(current: [key!]))
        #expect(a.signature == .invalid)
        #expect(a.hints.contains { $0.contains("ends with whitespace or a newline") })
    }

    struct TimeCase: Sendable, CustomTestStringConvertible {
        var claims: String
        var at: Double
        var expected: Cause
        var testDescription: String { "\(claims) at \(at) → \(expected)" }
    }

    static let timeCases: [TimeCase] = [
        .init(claims: #"{"exp":1000}"#, at: 1060, expected: .expired),  // exp ≤ t − leeway
        .init(claims: #"{"exp":1000}"#, at: 1059, expected: .ok),
        .init(claims: #"{"nbf":1000}"#, at: 939, expected: .not_yet_valid),  // nbf > t + leeway
        .init(claims: #"{"nbf":1000}"#, at: 940, expected: .ok),
        .init(claims: #"{"iat":1000}"#, at: 939, expected: .issued_in_future),
        .init(claims: #"{"iat":1000}"#, at: 940, expected: .ok),
        .init(claims: #"{"exp":"1000"}"#, at: 0, expected: .claims_invalid),
        .init(claims: #"{"aud":7}"#, at: 0, expected: .claims_invalid),
        .init(claims: #"{"iat":1000,"exp":900}"#, at: 2000, expected: .expired),
        .init(claims: #"[1,2]"#, at: 0, expected: .malformed),  // not an object: RFC 7519 §7.2
        .init(claims: #""text""#, at: 0, expected: .malformed),
        .init(claims: #"{"exp":1000,"sub":["a"]}"#, at: 0, expected: .claims_invalid),
    ]

    @Test("exp, nbf and iat exactly at t ± leeway", arguments: timeCases)
    func timeBoundaries(_ c: TimeCase) {
        let s = TestSigner(.HS256)
        let a = analyze(s.sign(c.claims), ring(s.jwks))
        #expect(a.judge(at: c.at, leeway: 60).cause == c.expected)
    }

    @Test func everyCauseIsKept() {
        let s = TestSigner(.ES256)
        let token = s.sign(#"{"iss":"evil","aud":"other","iat":5000,"exp":100}"#)
        let policy = VerifyPolicy(issuers: ["good"], audiences: ["api"])
        let a = analyze(token, ring(s.jwks), policy: policy)
        let v = a.judge(at: 1000, leeway: 60)
        #expect(v.cause == .issuer_rejected)
        #expect(Array(v.causes) == [.issuer_rejected, .audience_rejected, .expired, .issued_in_future])
        #expect(v.skew == 4000)
    }

    struct HeaderCase: Sendable, CustomTestStringConvertible {
        var header: String
        var cause: Cause?
        var signature: SignatureStatus?
        var flags: TokenFlags
        var testDescription: String { header }
    }

    static let headerCases: [HeaderCase] = [
        .init(header: #"{"alg":"none"}"#, cause: .alg_none, signature: .unsupported, flags: []),
        .init(header: #"{"alg":"NoNe"}"#, cause: .alg_none, signature: .unsupported, flags: []),
        .init(header: #"{"alg":"HS1"}"#, cause: .alg_unsupported, signature: .unsupported, flags: []),
        .init(header: #"{"typ":"JWT"}"#, cause: .malformed, signature: .malformed, flags: []),
        .init(header: #"{"alg":256}"#, cause: .malformed, signature: .malformed, flags: []),
        .init(header: #"{"alg":"ES256","kid":"../../dev/null"}"#, cause: nil, signature: nil, flags: [.kidInjection]),
        .init(
            header: #"{"alg":"ES256","kid":"x' UNION SELECT 1--"}"#, cause: nil, signature: nil, flags: [.kidInjection]),
        .init(header: #"{"alg":"ES256","jku":"https://evil.example/jwks"}"#, cause: nil, signature: nil, flags: [.jku]),
        .init(
            header: #"{"alg":"ES256","x5u":"https://e/x","jwk":{},"x5c":[]}"#, cause: nil, signature: nil,
            flags: [.x5u, .jwk, .x5c]),
        .init(header: #"{"alg":"ES256","crit":["exp"]}"#, cause: nil, signature: nil, flags: [.crit]),
        .init(
            header: #"{"alg":"HS256","b64":false,"crit":["b64"]}"#, cause: .alg_unsupported, signature: .unsupported,
            flags: [.b64False, .crit]),
    ]

    @Test("headers: alg none, unknown alg, missing alg, injection flags", arguments: headerCases)
    func headers(_ c: HeaderCase) {
        let token =
            b64(c.header) + "." + b64(Self.claims) + "." + (c.header.contains("none") ? "" : b64("signature-bytes-x"))
        let a = analyze(token, ring(TestSigner(.ES256).jwks))
        #expect(a.flags.isSuperset(of: c.flags), "\(a.flags)")
        if let cause = c.cause { #expect(a.judge(at: Self.t0, leeway: 60).cause == cause) }
        if let sig = c.signature { #expect(a.signature == sig) }
    }

    @Test func jweIsRecordedNotDecrypted() {
        let token = b64(#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#) + ".a2V5.aXY.Y2lwaGVy.dGFn"
        let a = analyze(token, KeyRing())
        #expect(a.kind == .jwe)
        #expect(a.alg == "RSA-OAEP" && a.enc == "A256GCM")
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .encrypted)
    }

    @Test(
        "garbage is malformed, never a crash",
        arguments: [
            "", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "eyJhbGciOiJIUzI1NiJ9.e30.@@@", "eyJ.e30.e30",
            "eyJhbGciOiJIUzI1NiJ9.e30.e30.e30", "eyJhbGciOiJIUzI1NiJ9.e30.e30=", "e30.e30.e30",
        ])
    func garbage(_ token: String) {
        let a = analyze(token, ring(TestSigner(.HS256).jwks))
        let cause = a.judge(at: Self.t0, leeway: 60).cause
        #expect([.malformed, .signature_invalid, .claims_invalid].contains(cause), "\(cause)")
    }

    @Test func derEncodedECDSAIsHinted() {
        let s = TestSigner(.ES256)
        let token = s.sign(Self.claims)
        let parts = token.split(separator: ".")
        let raw = Base64URL.decode(String(parts[2]))!
        let der = raw.withUnsafeBytes { ECDSASignature.der(fromRaw: $0) }
        let a = analyze(parts[0] + "." + parts[1] + "." + Base64URL.encode(der), ring(s.jwks))
        #expect(a.signature == .invalid)
        #expect(a.flags.contains(.derSignature))
    }

    @Test(
        "wrong-length ECDSA and EdDSA signatures fail cleanly",
        arguments: [JWSAlgorithm.ES256, .ES384, .ES512, .ES256K, .EdDSA])
    func wrongLength(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let parts = s.sign(Self.claims).split(separator: ".")
        for sig in [[UInt8](), [0], [UInt8](repeating: 0, count: 63), [UInt8](repeating: 0xFF, count: 200)] {
            let a = analyze(parts[0] + "." + parts[1] + "." + Base64URL.encode(sig), ring(s.jwks))
            #expect(a.signature == .invalid)
        }
    }

    @Test func batchMatchesSerial() {
        let signers = [JWSAlgorithm.RS256, .PS256, .ES256, .EdDSA, .HS256].map { TestSigner($0) }
        let keys = ring(#"{"keys":[\#(signers.map(\.jwk).joined(separator: ","))]}"#)
        var tokens: [PendingToken] = []
        for i in 0..<200 {
            let s = signers[i % signers.count]
            var t = s.sign(#"{"n":\#(i),"exp":\#(1_700_000_000 + i)}"#)
            if i % 7 == 0 { t = String(t.dropLast(3)) }
            tokens.append(
                PendingToken(fingerprint: Digest.sha256(Array(t.utf8)), bytes: Array(t.utf8), truncation: nil))
        }
        let analyzer = TokenAnalyzer(keys: keys)
        let serial = BatchAnalyzer(analyzer: analyzer, workers: 1).analyze(tokens)
        let parallel = BatchAnalyzer(analyzer: analyzer, workers: 4).analyze(tokens)
        #expect(serial.map(\.signature) == parallel.map(\.signature))
        #expect(serial.map(\.exp) == parallel.map(\.exp))
        #expect(serial.filter { $0.signature == .valid }.count == 200 - 29)
    }
}

@Suite struct KeyLoadingTests {
    @Test(
        "PEM forms: SPKI, PKCS#1, certificate, EC, Ed25519",
        arguments: [
            "rsa-spki.pem", "rsa-pkcs1.pem", "rsa-cert.pem", "ec-p384.pem", "ed25519.pem",
        ])
    func pem(_ name: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: fixturePath(name)))
        let (keys, problems) = KeyLoader.parseKeyFile(Array(bytes), origin: name, retired: false)
        #expect(problems.isEmpty, "\(problems)")
        #expect(keys.count == 1)
        #expect(keys.first?.kid == nil)
        #expect(keys.first?.thumbprint.utf8.count == 43)
        #expect(keys.first?.name == keys.first?.thumbprint)
    }

    @Test func rsaPEMFormsAgree() throws {
        let prints = try ["rsa-spki.pem", "rsa-pkcs1.pem", "rsa-cert.pem"].map { name in
            let bytes = try #require(FileManager.default.contents(atPath: fixturePath(name)))
            return KeyLoader.parseKeyFile(Array(bytes), origin: name, retired: false).0.first?.thumbprint
        }
        #expect(Set(prints).count == 1)
    }

    @Test func opensslCLISignedTokenVerifiesWithEveryForm() throws {
        let token = try String(contentsOfFile: fixturePath("rsa-openssl-cli.jwt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for name in ["rsa-spki.pem", "rsa-pkcs1.pem", "rsa-cert.pem"] {
            let bytes = try #require(FileManager.default.contents(atPath: fixturePath(name)))
            let keys = KeyLoader.parseKeyFile(Array(bytes), origin: name, retired: false).0
            #expect(analyze(token, KeyRing(current: keys)).signature == .valid, "\(name)")
        }
    }

    @Test func badEntryIsNamedByIndexAndOthersLoad() {
        let good = TestSigner(.ES256, kid: "good")
        let jwks =
            #"{"keys":[{"kty":"RSA","kid":"bad","n":"AQAB"},\#(good.jwk),{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"},{"kty":"XYZ"}]}"#
        let (keys, problems) = KeyLoader.parseKeyFile(Array(jwks.utf8), origin: "jwks.json", retired: false)
        #expect(keys.map(\.kid) == ["good"])
        let errors = problems.filter { $0.severity == .error }
        #expect(errors.map(\.index) == [0, 2])
        #expect(errors.allSatisfy { $0.description.contains("jwks.json") })
        #expect(problems.contains { $0.index == 3 && $0.severity == .warning })
    }

    @Test(
        "files that are not keys say so",
        arguments: [
            "", "not a key", "{", #"{"keys":"x"}"#, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ])
    func notKeys(_ text: String) {
        let (keys, problems) = KeyLoader.parseKeyFile(Array(text.utf8), origin: "k", retired: false)
        #expect(keys.isEmpty)
        #expect(problems.contains { $0.severity == .error && $0.origin == "k" })
    }

    @Test func privateJWKMembersWarnAndArePublicOnly() {
        let s = TestSigner(.ES256, kid: "p")
        let jwk = s.jwk.dropLast() + #","d":"c2VjcmV0"}"#
        let (keys, problems) = KeyLoader.parseKeyFile(Array(jwk.utf8), origin: "k", retired: false)
        #expect(keys.count == 1)
        #expect(problems.contains { $0.message.contains("private") })
        #expect(!problems.contains { $0.message.contains("c2VjcmV0") })
    }

    @Test func encryptionKeysAreNotUsedForSignatures() {
        let s = TestSigner(.RS256, kid: "enc")
        let jwks = #"{"keys":[\#(s.jwk.dropLast()),"use":"enc"}]}"#
        let a = analyze(s.sign(VerdictTests.claims), ring(jwks))
        #expect(a.signature != .valid)
        #expect(a.judge(at: VerdictTests.t0, leeway: 60).cause == .key_unknown)
    }

    @Test("x5c: a certificate for the JWK's own key loads; one for another key is an error")
    func x5c() throws {
        let pem = try #require(FileManager.default.contents(atPath: fixturePath("rsa-cert.pem")))
        let text = String(decoding: pem, as: UTF8.self)
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let certKey = KeyLoader.parseKeyFile(Array(pem), origin: "c", retired: false).0[0]
        guard case .publicKey(let k) = certKey.material, case .rsa(let n, let e) = k.components else {
            Issue.record("no RSA key in the certificate")
            return
        }
        let same =
            #"{"kty":"RSA","kid":"c","n":"\#(Base64URL.encode(n))","e":"\#(Base64URL.encode(e))","x5c":["\#(body)"]}"#
        let (keys, problems) = KeyLoader.parseKeyFile(Array(same.utf8), origin: "x.json", retired: false)
        #expect(keys.count == 1 && problems.isEmpty, "\(problems)")
        let other = TestSigner(.RS256, kid: "o")
        let mismatched = other.jwk.dropLast() + #","x5c":["\#(body)"]}"#
        let (none, errors) = KeyLoader.parseKeyFile(Array(mismatched.utf8), origin: "x.json", retired: false)
        #expect(none.isEmpty)
        #expect(errors.contains { $0.severity == .error && $0.message.contains("different key") })
    }

    /// A digest of a secret alone would let whoever reads the findings test guesses offline (issue 13): secrets
    /// are named by their file, oct JWKs without a kid by file and index.
    @Test func secretsAreNamedByWhereTheyCameFromNeverByTheirBytes() {
        let bytes = Array("a-long-enough-secret-for-hs256-ok".utf8)
        let (key, _) = KeyLoader.secret(bytes, origin: "/etc/jwt/orders.secret", retired: false)
        #expect(key?.name == "hmac:orders.secret")
        let (same, _) = KeyLoader.secret(bytes, origin: "/etc/jwt/other.secret", retired: false)
        #expect(same?.name == "hmac:other.secret")
        let jwks = #"{"keys":[{"kty":"oct","k":"\#(Base64URL.encode(bytes))"}]}"#
        let (oct, _) = KeyLoader.parseKeyFile(Array(jwks.utf8), origin: "/k/shared.json", retired: false)
        #expect(oct.first?.name == "oct:shared.json#0")
        let names = [key?.name, oct.first?.name].compactMap { $0 }
        let digest = Base64URL.encode(Digest.sha256(bytes).bytes)
        #expect(!names.contains { $0.contains(digest) })
    }

    @Test func secretsWithTheSameFileNameInTwoDirectoriesGetDistinctNames() throws {
        let dir = "/tmp/jwtsift-names-\(getpid())"
        mkdir(dir, 0o700)
        mkdir(dir + "/a", 0o700)
        mkdir(dir + "/b", 0o700)
        defer { _ = system("rm -rf '\(dir)'") }
        for (sub, text) in [("a", "first-secret-32-bytes-long-ok!!!"), ("b", "second-secret-32-bytes-long-ok!!")] {
            let f = fopen(dir + "/" + sub + "/hs.secret", "w")!
            fputs(text, f)
            fclose(f)
        }
        let (ring, problems) = KeyFiles.load(KeyPaths(secrets: [dir + "/a/hs.secret", dir + "/b/hs.secret"]))
        #expect(problems.allSatisfy { $0.severity == .warning })
        #expect(ring.current.map(\.name) == ["hmac:\(dir)/a/hs.secret", "hmac:\(dir)/b/hs.secret"])
    }
}

/// Regression: an EdDSA check left the shared digest context in verify mode, and every RSA or ECDSA check
/// on the same thread after it failed.
@Suite struct VerifierReuseTests {
    @Test func mixedAlgorithmsOnOneVerifier() {
        let signers = [JWSAlgorithm.EdDSA, .RS256, .ES256, .Ed448, .PS384, .HS256, .ES512].map { TestSigner($0) }
        let keys = ring(#"{"keys":[\#(signers.map(\.jwk).joined(separator: ","))]}"#)
        let verifier = SignatureChecker()
        let analyzer = TokenAnalyzer(keys: keys)
        for round in 0..<3 {
            for s in signers {
                let t = s.sign(#"{"round":\#(round)}"#)
                #expect(
                    analyzer.analyze(Array(t.utf8), verifier: verifier).signature == .valid, "\(s.alg) round \(round)")
            }
        }
    }
}
