import Foundation
import JOSECrypto
import SiftCore
import Testing

@testable import JWTVerify

/// Key files a hostile or careless publisher writes (issue 13): each is an error naming the entry, never a key
/// that silently changes verdicts, and a huge key set cannot make a token cost seconds.
@Suite struct HostileKeyTests {
    static let x = Base64URL.encode([UInt8](repeating: 1, count: 32))
    static let entries: [(String, String, String)] = [
        ("key_ops as a string", #"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ","key_ops":"verify"}"#, "key_ops"),
        (
            "key_ops with a number", #"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ","key_ops":["verify",1]}"#,
            "key_ops"
        ),
        ("unregistered EC curve", #"{"kty":"EC","crv":"P-999","x":"\#(x)","y":"\#(x)"}"#, "P-999"),
        ("unregistered OKP curve", #"{"kty":"OKP","crv":"Ed9999","x":"\#(x)"}"#, "Ed9999"),
        ("a point off the curve", #"{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(x)"}"#, "EC key rejected"),
        (
            "RSA e=1",
            #"{"kty":"RSA","n":"\#(Base64URL.encode([0xC1] + [UInt8](repeating: 7, count: 255)))","e":"AQ"}"#, "RSA"
        ),
    ]

    @Test("broken entries are errors that name their index; the good entry beside them still loads", arguments: entries)
    func brokenEntries(_ name: String, _ jwk: String, _ mention: String) {
        let good = TestSigner(.ES256, kid: "good").jwk
        let (keys, problems) = KeyLoader.parseKeyFile(
            Array(#"{"keys":[\#(good),\#(jwk)]}"#.utf8), origin: "k", retired: false)
        #expect(keys.map(\.kid) == ["good"], "\(name)")
        #expect(
            problems.contains { $0.severity == .error && $0.index == 1 && $0.message.contains(mention) },
            "\(name): \(problems)")
    }

    @Test("X25519 in a key set is skipped with a warning: key agreement, not a broken entry")
    func keyAgreementCurve() {
        let (keys, problems) = KeyLoader.parseKeyFile(
            Array(#"{"keys":[{"kty":"OKP","crv":"X25519","x":"\#(Self.x)"}]}"#.utf8), origin: "k", retired: false)
        #expect(keys.isEmpty)
        #expect(problems.count == 1 && problems[0].severity == .warning)
    }

    /// 10,000 secrets without kids: a kid-less token is tried against at most 64 (those of the right length
    /// first), then called unverified with the reason — not checked against every key.
    @Test("a kid-less token against 10,000 keys: at most 64 tried, unverified beyond, verified within")
    func hugeKeySet() {
        let secrets = (0..<10_000).map { i in Array("secret-number-\(i)-padded-to-32-bytes!!".utf8.prefix(32)) }
        let jwks =
            #"{"keys":["# + secrets.map { #"{"kty":"oct","k":"\#(Base64URL.encode($0))"}"# }.joined(separator: ",")
            + "]}"
        let (keys, problems) = KeyLoader.parseKeyFile(Array(jwks.utf8), origin: "big.json", retired: false)
        #expect(keys.count == 10_000 && problems.isEmpty)
        let ring = KeyRing(current: keys)
        func token(_ secret: [UInt8]) -> String {
            let input = b64(#"{"alg":"HS256"}"#) + "." + b64(#"{"sub":"x"}"#)
            return input + "."
                + Base64URL.encode(Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) })
        }
        let early = analyze(token(secrets[10]), ring)
        #expect(early.signature == .valid && early.key == "oct:big.json#10")
        let late = analyze(token(secrets[9_999]), ring)
        #expect(late.signature == .unchecked)
        #expect(late.attempts.filter { $0.outcome != "verified" }.count == TokenAnalyzer.maximumUnboundCandidates)
        #expect(late.judge(at: 0, leeway: 0).cause == .unverified)
        #expect(late.reasons[.unverified]?.contains("tries at most 64") == true)
        // A kid naming the key binds: found whatever its place.
        let named = KeyRing(
            current: keys.enumerated().map { i, k in
                var k = k
                if i == 9_999 { k.kid = "last" }
                return k
            })
        let input = b64(#"{"alg":"HS256","kid":"last"}"#) + "." + b64(#"{"sub":"x"}"#)
        let bound =
            input + "."
            + Base64URL.encode(Array(input.utf8).withUnsafeBytes { HMACSecret(secrets[9_999]).mac(.sha256, $0) })
        #expect(analyze(bound, named).signature == .valid)
    }

    /// Found by the keys fuzz target (`Fuzz/Reproducers/keys/pem-label-control-bytes.pem`): a PEM block's label
    /// reached key problems raw, so a key file could send terminal escapes (OSC, BEL) to the operator's stderr.
    @Test("a PEM label with control bytes is shown without them")
    func pemLabelEscapes() {
        let label = "X\u{1B}]0;owned\u{07}"
        for body in ["not base64 at all!", "TUlJQg=="] {
            let pem = "-----BEGIN \(label)-----\n\(body)\n-----END \(label)-----\n"
            let (_, problems) = KeyLoader.parseKeyFile(Array(pem.utf8), origin: "k.pem", retired: false)
            #expect(!problems.isEmpty)
            for p in problems {
                #expect(!p.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(p)")
            }
        }
    }

    /// Found by the keys fuzz target in CI: `Redact.short` masked C0 controls and DEL but passed C1 controls (U+009B
    /// is a one-character CSI on many terminals) and bidi overrides, so a key file's `kid`, `kty` or PEM label
    /// could still reorder or drive the operator's terminal. Every quoted member is masked the same way now.
    @Test(
        "hidden characters in a quoted key member are masked in every message",
        arguments: ["\u{9B}31m", "\u{202E}txt.exe", "a\u{2028}b", "zero\u{200B}width", "\u{FEFF}bom", "\u{85}nel"])
    func hiddenCharactersMasked(_ hidden: String) throws {
        let json = try #require(String(data: try JSONEncoder().encode(hidden), encoding: .utf8))
        let n = "x6M6p8PkG2g"
        let files = [
            #"{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":\#(json)},"#
                + #"{"kty":"oct","k":"b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcjEy","kid":\#(json)}]}"#,
            #"{"kty":\#(json),"n":"\#(n)","e":"AQAB"}"#,
            #"{"kty":"EC","crv":\#(json),"x":"AA","y":"AA"}"#,
            #"{"kty":"OKP","crv":\#(json),"x":"AA"}"#,
            #"{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","alg":\#(json)}"#,
            #"{\#(json):1,\#(json):2}"#,
            "-----BEGIN \(hidden)-----\nTUlJQg==\n-----END \(hidden)-----\n",
        ]
        for file in files {
            let (_, problems) = KeyLoader.parseKeyFile(Array(file.utf8), origin: "k.json", retired: false)
            try #require(!problems.isEmpty, "no problem reported for \(file)")
            for p in problems {
                #expect(!p.description.unicodeScalars.contains(where: UntrustedText.isHidden), "\(p)")
                #expect(p.description.contains("?"), "the hidden character is not shown as ?: \(p)")
            }
        }
    }
}
