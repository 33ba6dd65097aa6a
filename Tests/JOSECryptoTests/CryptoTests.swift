import JOSECrypto
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Known-answer tests for the OpenSSL wrapper: digests (FIPS 180-2 examples), HMAC (RFC 4231 §4.3), and every
/// signature scheme signing and verifying through freshly generated keys.
@Suite("JOSECrypto")
struct CryptoTests {
    static func hex(_ b: [UInt8]) -> String {
        b.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }

    @Test(
        "SHA-256 known answers, one-shot and through a reused context",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func sha256(_ text: String, _ expected: String) {
        #expect(Digest.sha256(text).hex == expected)
        let context = SHA256Context()
        // The context is reused: the second answer must not depend on the first.
        for _ in 0..<2 { #expect(Array(text.utf8).withUnsafeBytes { context.hash($0) }.hex == expected) }
    }

    /// RFC 7914 §11's PBKDF2-HMAC-SHA256 vector (P = "passwd", S = "salt", c = 1; its first 32 of 64 bytes).
    @Test("PBKDF2-HMAC-SHA256 (RFC 7914 §11) for the salted secret fingerprint")
    func pbkdf2() {
        let out = HMACSecret(Array("passwd".utf8)).stretched(salt: Array("salt".utf8), iterations: 1)
        #expect(
            out.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        let other = HMACSecret(Array("passwd".utf8)).stretched(salt: Array("pepper".utf8), iterations: 1)
        #expect(other != out)
    }

    @Test("HMAC-SHA-256 (RFC 4231 test case 2) and constant-time comparison")
    func hmac() {
        let secret = HMACSecret(Array("Jefe".utf8))
        let mac = Array("what do ya want for nothing?".utf8).withUnsafeBytes { secret.mac(.sha256, $0) }
        #expect(Self.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let checker = SignatureChecker()
        let message = Array("what do ya want for nothing?".utf8)
        let good = message.withUnsafeBytes { m in
            mac.withUnsafeBytes { checker.verifyMAC(.sha256, secret: secret, message: m, signature: $0) }
        }
        #expect(good)
        var bad = mac
        bad[31] ^= 1
        #expect(
            !message.withUnsafeBytes { m in
                bad.withUnsafeBytes { checker.verifyMAC(.sha256, secret: secret, message: m, signature: $0) }
            })
        // A secret is never printed, nor a digest of it: only its length.
        #expect(secret.description == "HMAC secret (4 bytes)")
        #expect(secret.equals(Array("Jefe".utf8)) && !secret.equals(Array("Jeff".utf8)))
    }

    /// RFC 4231 §4.3 (test case 2: a 4-byte key) and §4.7 (test case 6: a 131-byte key, longer than the block of
    /// every hash, so it is hashed first), for each hash JOSE's HS* algorithms use.
    @Test(
        "HMAC key states (ipad/opad computed once) give RFC 4231's MACs and refuse any other",
        arguments: [
            (
                "4a656665", "what do ya want for nothing?", HashAlgorithm.sha256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                "4a656665", "what do ya want for nothing?", .sha384,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
            ),
            (
                "4a656665", "what do ya want for nothing?", .sha512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
            ),
            (
                String(repeating: "aa", count: 131), "Test Using Larger Than Block-Size Key - Hash Key First", .sha256,
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                String(repeating: "aa", count: 131), "Test Using Larger Than Block-Size Key - Hash Key First", .sha384,
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"
            ),
            (
                String(repeating: "aa", count: 131), "Test Using Larger Than Block-Size Key - Hash Key First", .sha512,
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
            ),
        ])
    func hmacKeyStates(_ keyHex: String, _ data: String, _ hash: HashAlgorithm, _ expected: String) throws {
        let keyBytes = stride(from: 0, to: keyHex.count, by: 2).map {
            UInt8(keyHex.dropFirst($0).prefix(2), radix: 16)!
        }
        let secret = HMACSecret(keyBytes)
        let key = try #require(secret.key(for: hash))
        let message = Array(data.utf8)
        var mac = stride(from: 0, to: expected.count, by: 2).map { UInt8(expected.dropFirst($0).prefix(2), radix: 16)! }
        func check(_ m: [UInt8], _ s: [UInt8]) -> Bool {
            m.withUnsafeBytes { mb in s.withUnsafeBytes { key.matches(mb, signature: $0) } }
        }
        #expect(check(message, mac))
        // The same answer again (the states are copied, never consumed), and through a thread's checker.
        #expect(check(message, mac))
        let checker = SignatureChecker()
        #expect(
            message.withUnsafeBytes { m in
                mac.withUnsafeBytes { checker.verifyMAC(hash, secret: secret, message: m, signature: $0) }
            })
        // One-shot HMAC agrees.
        #expect(message.withUnsafeBytes { secret.mac(hash, $0) } == mac)
        #expect(!check(message + [0], mac))
        #expect(!check(message, Array(mac.dropLast())))
        mac[mac.count - 1] ^= 1
        #expect(!check(message, mac))
        #expect(key.description == "HMAC key (\(hash))")
    }

    @Test("an HMAC key state over an empty secret and an empty message equals the one-shot HMAC")
    func hmacKeyEmpty() throws {
        let secret = HMACSecret([])
        let key = try #require(secret.key(for: .sha256))
        let mac = [UInt8]().withUnsafeBytes { secret.mac(.sha256, $0) }
        #expect(mac.count == 32)
        #expect(mac.withUnsafeBytes { key.matches(UnsafeRawBufferPointer(start: nil, count: 0), signature: $0) })
        #expect(secret.key(for: .sha1) == nil)
    }

    @Test(
        "every scheme verifies its own signature and refuses a changed message or signature",
        arguments: [
            (KeyShape.rsa(bits: 2048), SignatureScheme.rsaPKCS1(.sha256)), (.rsa(bits: 2048), .rsaPSS(.sha384)),
            (.ec(.p256), .ecdsa(.sha256, .p256)), (.ec(.p384), .ecdsa(.sha384, .p384)), (.edwards(.ed25519), .eddsa),
        ])
    func signVerify(_ shape: KeyShape, _ scheme: SignatureScheme) throws {
        let key = try PrivateKey.generate(shape)
        let message = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0".utf8)
        let signature = try key.sign(scheme, message)
        let checker = SignatureChecker()
        func check(_ m: [UInt8], _ s: [UInt8]) -> Bool {
            m.withUnsafeBytes { mb in
                s.withUnsafeBytes { checker.verify(scheme, key: key.publicKey, message: mb, signature: $0) }
            }
        }
        #expect(check(message, signature))
        #expect(!check(message + [0x2E], signature))
        var flipped = signature
        flipped[flipped.count / 2] ^= 0x40
        #expect(!check(message, flipped))
        #expect(!check(message, Array(signature.dropLast())))
        #expect(!check(message, []))
    }
}

/// Found by the `keys` fuzz target (Fuzz/Sources/FuzzTargets/KeysTarget.swift): an RSA key read from DER (PKCS#1,
/// SPKI, a certificate) skipped the check a JWK's `n`/`e` get — an odd modulus and an exponent of at least 3 — so
/// the same key loaded from PEM but not from a JWK, and a PEM key with e = 1 (every "signature" is its own padded
/// message, so anyone can forge one) was accepted. `fuzz/rsa-even-modulus.der` is the fuzzer's input: a PKCS#1
/// RSAPublicKey whose 2048-bit modulus is even. The e = 1 and e = 2 keys are that one made odd, with a new exponent.
@Suite("JOSECrypto: DER keys the JWK path would refuse")
struct UnusableDERKeyTests {
    static func fixture() throws -> [UInt8] {
        let path = "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/")
        return try #require(FileBytes.read(path + "/Fixtures/fuzz/rsa-even-modulus.der"))
    }

    /// PKCS#1 `SEQUENCE { INTEGER n, INTEGER e }` with a 257-byte n (the fixture's, made odd when asked).
    static func pkcs1(exponent e: UInt8, odd: Bool) throws -> [UInt8] {
        let der = try fixture()
        var n = Array(der[8..<(8 + 257)])  // 30 82 01 0a | 02 82 01 01 | n
        if odd { n[n.count - 1] |= 1 }
        let body = [0x02, 0x82, 0x01, 0x01] + n + [0x02, 0x01, e]
        return [0x30, 0x82, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    @Test("an even modulus or an exponent below 3 is refused from PKCS#1 as from a JWK")
    func refused() throws {
        let even = try Self.fixture()
        #expect(throws: CryptoError.self) { try PublicKey.pkcs1(der: even) }
        for e: UInt8 in [1, 2] {
            let der = try Self.pkcs1(exponent: e, odd: true)
            #expect(throws: CryptoError.self) { try PublicKey.pkcs1(der: der) }
        }
        // The same modulus, odd, with e = 3 loads: the refusals above are about n and e, not the encoding.
        let usable = try PublicKey.pkcs1(der: Self.pkcs1(exponent: 3, odd: true))
        #expect(usable.shape == .rsa(bits: 2048))
        guard case .rsa(let n, let e) = usable.components else {
            Issue.record("not an RSA key")
            return
        }
        #expect(throws: Never.self) { try PublicKey.rsa(modulus: n, exponent: e) }
        // Through SPKI, which wraps the same PKCS#1 key: it ends `… n-last 02 01 03`; an even n is refused there too.
        var spki = usable.subjectPublicKeyInfoDER
        #expect(Array(spki.suffix(3)) == [0x02, 0x01, 0x03])
        #expect(throws: Never.self) { try PublicKey.subjectPublicKeyInfo(der: spki) }
        spki[spki.count - 4] &= 0xFE
        #expect(throws: CryptoError.self) { try PublicKey.subjectPublicKeyInfo(der: spki) }
    }
}

/// Whole-file reads for fixtures.
enum FileBytes {
    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = block.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { return out }
            out += block[0..<n]
        }
    }
}
