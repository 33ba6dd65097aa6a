import JOSECrypto
import SiftCore
import Testing

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
