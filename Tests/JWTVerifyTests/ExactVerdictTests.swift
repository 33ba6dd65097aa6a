import Foundation
import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// The verdict rules of the README's contract made exact (issue 12), each as a table over every algorithm
/// family, with tokens signed through OpenSSL at test time.
@Suite struct ExactVerdictTests {
    static let t0 = 1_700_000_000.0
    static let claims = #"{"iss":"https://issuer.example","sub":"alice","iat":1700000000,"exp":1700000600}"#

    static let asymmetric: [JWSAlgorithm] = [.RS256, .PS384, .ES256, .ES384, .ES512, .EdDSA]
    static let every: [JWSAlgorithm] = [.HS256, .HS384, .HS512] + asymmetric

    /// A kid-less HMAC secret as `--hmac-secret-file` loads it.
    static func secretKey(_ bytes: [UInt8]) -> VerificationKey {
        KeyLoader.secret(bytes, origin: "orders.secret", retired: false).0!
    }

    static func sign(hmac secret: [UInt8], header: String, claims: String = claims) -> String {
        let input = b64(header) + "." + b64(claims)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) }
        return input + "." + Base64URL.encode(mac)
    }

    // MARK: - 1. A kid that names a loaded key is binding

    @Test(
        "HS256 whose kid names an asymmetric key is alg_mismatch, though a kid-less secret verifies it",
        arguments: asymmetric)
    func kidBindsOverKidlessSecret(_ alg: JWSAlgorithm) {
        let named = TestSigner(alg, kid: "signing-2024")
        let secret = Array("a-kid-less-secret-of-32-bytes!!!".utf8)
        let keys = KeyRing(current: ring(named.jwks).current + [Self.secretKey(secret)])
        let token = Self.sign(hmac: secret, header: #"{"alg":"HS256","kid":"signing-2024"}"#)
        let a = analyze(token, keys)
        #expect(a.signature == .alg_mismatch, "\(a.reasons)")
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .alg_mismatch)
        #expect(!a.flags.contains(.publicKeyAsSecret))
        #expect(!a.attempts.contains { $0.outcome == "verified" }, "the kid-less secret was not a candidate")
    }

    @Test(
        "a token whose kid names a key of another type is alg_mismatch",
        arguments: [
            (JWSAlgorithm.ES256, JWSAlgorithm.RS256), (.RS256, .ES256), (.EdDSA, .ES256), (.ES384, .ES256),
            (.PS256, .EdDSA),
        ])
    func kidNamesKeyOfAnotherType(_ tokenAlg: JWSAlgorithm, _ keyAlg: JWSAlgorithm) {
        let signer = TestSigner(tokenAlg, kid: "main")
        let other = TestSigner(keyAlg, kid: "main")
        // The token's own key is loaded too, but without a kid: the kid binds to the other one.
        let kidless = signer.jwk.replacingOccurrences(of: #""kid":"main","#, with: "")
        let keys = ring(#"{"keys":[\#(other.jwk),\#(kidless)]}"#)
        let a = analyze(signer.sign(Self.claims), keys)
        #expect(a.signature == .alg_mismatch, "\(a.reasons)")
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .alg_mismatch)
    }

    @Test("a kid no key has: kid-less keys are candidates, and key_unknown when none verifies", arguments: every)
    func unknownKidFallsBackToKidlessKeys(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg, kid: "published")
        let kidless = s.jwk.replacingOccurrences(of: #""kid":"published","#, with: "")
        let token = s.sign(Self.claims, header: #"{"alg":"\#(alg.rawValue)","kid":"not-published"}"#)
        let ok = analyze(token, ring(#"{"keys":[\#(kidless)]}"#))
        #expect(ok.signature == .valid, "\(ok.reasons)")
        let other = TestSigner(alg, kid: "x").jwk.replacingOccurrences(of: #""kid":"x","#, with: "")
        let unknown = analyze(token, ring(#"{"keys":[\#(other)]}"#))
        #expect(unknown.judge(at: Self.t0, leeway: 60).cause == .key_unknown, "\(unknown.reasons)")
    }

    @Test(
        "forged with a public key's bytes as HMAC secret: alg_mismatch first, with or without a kid",
        arguments: [nil, "rsa1", "no-such-kid"] as [String?])
    func forgedWithPublicKeyBytes(_ kid: String?) throws {
        let rsa = TestSigner(.RS256, kid: "rsa1")
        let keys = KeyRing(
            current: ring(rsa.jwks).current + [Self.secretKey(Array("another-secret-32-bytes-long!!!!".utf8))])
        guard case .publicKey(let pub) = keys.current[0].material else { throw Unexpected.noKey }
        let pem = Array(PEM.encode(pub.subjectPublicKeyInfoDER, label: "PUBLIC KEY").utf8)
        let header = kid.map { #"{"alg":"HS256","kid":"\#($0)"}"# } ?? #"{"alg":"HS256"}"#
        let a = analyze(Self.sign(hmac: pem, header: header), keys)
        #expect(a.signature == .alg_mismatch)
        #expect(a.flags.contains(.publicKeyAsSecret))
        #expect(a.judge(at: Self.t0 + 3600, leeway: 60).cause == .alg_mismatch)
        #expect(a.reasons[.alg_mismatch]?.contains("algorithm-confusion") == true)
    }

    enum Unexpected: Error { case noKey }

    // MARK: - 2. Truncation evidence before malformed and before a failed signature

    /// Characters removed from the end of the signature segment: 1 to 5 (every residue mod 4) and half of it.
    static let cuts: [Int] = [1, 2, 3, 4, 5, 0]

    @Test("a signature cut at any length is truncated, without any hint from the scanner", arguments: every, cuts)
    func cutSignature(_ alg: JWSAlgorithm, _ removed: Int) {
        let s = TestSigner(alg)
        let token = s.sign(Self.claims)
        let signatureLength = token.count - token.lastIndex(of: ".")!.utf16Offset(in: token) - 1
        // Half, plus one character: exactly half of an RS256 signature is 128 bytes, a whole 1024-bit signature.
        let drop = removed == 0 ? signatureLength / 2 + 1 : removed
        let cut = String(token.dropLast(drop))
        for keys in [ring(s.jwks), KeyRing()] {
            let a = analyze(cut, keys)
            #expect(
                a.judge(at: Self.t0, leeway: 60).cause == .truncated, "\(alg) -\(drop): \(a.causes.joined) \(a.reasons)"
            )
            #expect(!a.causes.contains(.malformed) && !a.causes.contains(.signature_invalid))
            #expect(
                a.kid == s.kid && a.alg == alg.rawValue && a.iss == "https://issuer.example" && a.exp == 1_700_000_600)
        }
    }

    @Test("a segment that is not the last with an impossible length is malformed, even with scanner evidence")
    func innerSegmentsAreMalformed() {
        let s = TestSigner(.ES256)
        let parts = s.sign(Self.claims).split(separator: ".").map(String.init)
        let badPayload = parts[0] + "." + parts[1].dropLast() + "." + parts[2]
        let badHeader = parts[0].dropLast() + "." + parts[1] + "." + parts[2]
        for token in [badPayload, badHeader] {
            for evidence in [nil, Truncation.lineLimit] {
                let a = analyze(token, ring(s.jwks), truncation: evidence)
                #expect(a.judge(at: Self.t0, leeway: 60).cause == .malformed, "\(a.reasons)")
                #expect(!a.causes.contains(.truncated))
            }
        }
    }

    @Test("a token cut inside its payload keeps its header and the claims that are whole", arguments: [30, 60, 90])
    func cutInsidePayload(_ keep: Int) {
        let s = TestSigner(.RS256, kid: "rsa-2024")
        let token = s.sign(Self.claims)
        let firstDot = token.firstIndex(of: ".")!.utf16Offset(in: token)
        let cut = String(token.prefix(firstDot + 1 + keep))
        let a = analyze(cut, ring(s.jwks))
        #expect(a.segments == 2)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .truncated, "\(a.reasons)")
        #expect(a.kid == "rsa-2024" && a.alg == "RS256")
        // `{"iss":"https://issuer.example",…`: iss is whole (its comma read) from 44 characters on.
        #expect((a.iss == "https://issuer.example") == (keep >= 48), "\(String(describing: a.iss))")
        #expect(a.exp == nil)
    }

    @Test("a JWE missing its last segment is truncated and encrypted")
    func cutJWE() {
        let header = b64(#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"enc-1"}"#)
        let a = analyze(header + ".AAAA.AAAAAAAAAAAAAAAA.AAAA", KeyRing())
        #expect(a.kind == .jwe && a.kid == "enc-1")
        #expect(Array(a.judge(at: Self.t0, leeway: 60).causes) == [.truncated, .encrypted])
    }

    @Test("an empty signature stays signature_invalid: a stripped-signature forgery, not a cut")
    func strippedSignature() {
        let s = TestSigner(.RS256)
        let parts = s.sign(Self.claims).split(separator: ".").map(String.init)
        let a = analyze(parts[0] + "." + parts[1] + ".", ring(s.jwks))
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .signature_invalid)
    }

    @Test("a whole signature that does not verify is signature_invalid, not truncated", arguments: every)
    func wholeButWrong(_ alg: JWSAlgorithm) {
        let s = TestSigner(alg)
        let other = TestSigner(alg)
        let parts = s.sign(Self.claims).split(separator: ".").map(String.init)
        let theirs = other.sign(Self.claims).split(separator: ".").map(String.init)
        let a = analyze(parts[0] + "." + parts[1] + "." + theirs[2], ring(s.jwks))
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .signature_invalid, "\(a.reasons)")
    }

    // MARK: - 3. A payload that is not a JSON object

    @Test(
        "a payload that is not a JSON object is malformed first; the signature is still checked and reported",
        arguments: ["[1,2]", "\"claims\"", "42", "not json at all", "{\"exp\":1700000600"])
    func nonObjectPayload(_ payload: String) {
        let s = TestSigner(.ES256)
        let token = s.sign(payload)
        let a = analyze(token, ring(s.jwks))
        #expect(a.signature == .valid)
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .malformed)
        let parts = token.split(separator: ".").map(String.init)
        let tampered = parts[0] + "." + b64(payload + " ") + "." + parts[2]
        let b = analyze(tampered, ring(s.jwks))
        #expect(b.signature == .invalid)
        #expect(Array(b.judge(at: Self.t0, leeway: 60).causes).prefix(2) == [.malformed, .signature_invalid])
    }

    @Test("segment counts are named exactly, however many there are", arguments: [6, 65, 28_340])
    func manySegments(_ n: Int) {
        let token = b64(#"{"alg":"HS256"}"#) + String(repeating: ".e30", count: n - 1)
        let a = analyze(token, KeyRing())
        #expect(a.reasons[.malformed] == "\(n) segments; a JWS has 3 and a JWE 5")
    }

    @Test(
        "headers the JSON parser refuses are malformed",
        arguments: [
            #"{"alg":"HS256","alg":"none"}"#, "{\"alg\":\"HS256\",\"kid\":\"\\ud800\"}",
            "{\"a\":" + String(repeating: "[", count: 100) + "}",
            "{\"alg\":\"HS256\",\"x\":\"" + String(repeating: "a", count: 70_000) + "\"}",
        ])
    func refusedHeaders(_ header: String) {
        let a = analyze(b64(header) + "." + b64(Self.claims) + ".c2ln", KeyRing())
        #expect(a.judge(at: Self.t0, leeway: 60).cause == .malformed, "\(a.reasons)")
    }
}
