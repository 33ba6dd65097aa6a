import SiftCore
import Testing

/// A compact token built at test time (header, claims, signature: base64url), so no token is committed.
func testToken(claims: String = #"{"sub":"someone"}"#, signature: Bool = true) -> String {
    let h = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let p = Base64URL.encode(Array(claims.utf8))
    return h + "." + p + "." + (signature ? Base64URL.encode((0..<32).map { UInt8($0 &* 7) }) : "")
}

/// Every scalar a terminal, a Markdown viewer or a browser acts on: C0 controls with ESC/OSC sequences, backspace,
/// CR, LF, DEL, C1 controls (CSI U+009B, NEL U+0085), bidi embeddings/overrides/isolates/marks, zero-width and
/// other format characters, the line and paragraph separators, and one outside the BMP (a Cf tag character).
let hostileScalars: [Unicode.Scalar] =
    (Array(0x00...0x1F) + [0x7F] + Array(0x80...0x9F)
    + [0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E]
    + [0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF, 0xE0001])
    .map { Unicode.Scalar(UInt32($0))! }

@Suite("Untrusted text: hidden characters and token-shaped runs")
struct UntrustedTextTests {
    @Test("every hidden character comes out as a visible escape, nothing else changes", arguments: hostileScalars)
    func visible(_ u: Unicode.Scalar) {
        let s = "a" + String(Character(u)) + "b"
        let v = UntrustedText.visible(s)
        #expect(UntrustedText.isHidden(u))
        #expect(!v.unicodeScalars.contains(where: UntrustedText.isHidden), "\(u.value) left raw")
        #expect(v.hasPrefix("a\\") && v.hasSuffix("b"))
        #expect(v.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test(
        "escapes read like Swift's own",
        arguments: [
            ("\u{1B}]0;title\u{07}", "\\x1b]0;title\\x07"), ("a\nb\rc\td", "a\\nb\\rc\\td"),
            ("\u{08}\u{7F}", "\\x08\\x7f"),
            ("\u{9B}31m", "\\u{9B}31m"), ("abc\u{202E}gpj.exe", "abc\\u{202E}gpj.exe"),
            ("plain text, ünïcödé 🙂", "plain text, ünïcödé 🙂"),
        ])
    func escapes(_ input: String, _ expected: String) {
        #expect(UntrustedText.visible(input) == expected)
    }

    @Test("JSON strings escape hidden characters as \\u and keep their value", arguments: hostileScalars)
    func jsonQuote(_ u: Unicode.Scalar) throws {
        let s = "k" + String(Character(u)) + "id"
        let quoted = JSONValue.quote(s)
        #expect(!quoted.unicodeScalars.contains(where: UntrustedText.isHidden), "\(u.value) left raw")
        #expect(try JSONParser.parse(quoted).stringValue == s)
    }

    /// (input built around a token, expected with `T` standing for the placeholder).
    static let redactions: [(String, String)] = {
        let t = testToken()
        let unsecured = testToken(signature: false)
        let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..bm9uY2U.Y2lwaGVy.dGFn"
        return [
            (t, "T"), ("kid-" + t + "/end", "kid-T/end"), ("/var/log/" + t + "/access.log", "/var/log/T/access.log"),
            ("a " + t + " and " + t + ".", "a T and T."), (unsecured, "T"), (unsecured + " x", "T x"),
            (jwe, "T"), ("Bearer%20" + t, "Bearer%20T"),
            // Not token-shaped: left alone.
            ("eyJ", "eyJ"), ("eyJhbGciOiJIUzI1NiJ9.only-two", "eyJhbGciOiJIUzI1NiJ9.only-two"),
            ("https://issuer.example/realms/x", "https://issuer.example/realms/x"), ("", ""),
        ]
    }()

    @Test("token-shaped runs are replaced wherever they are", arguments: redactions)
    func redact(_ input: String, _ expected: String) {
        let got = UntrustedText.redactTokens(input)
        #expect(got == expected.replacingOccurrences(of: "T", with: UntrustedText.tokenPlaceholder))
        #expect(UntrustedText.containsToken(input) == (got != input))
        #expect(!UntrustedText.containsToken(got))
    }

    @Test("a replacement sees each run's bytes: two strings that differ only in their token stay different")
    func replacement() {
        let a = testToken(claims: #"{"sub":"a"}"#)
        let b = testToken(claims: #"{"sub":"b"}"#)
        func name(_ s: String) -> String {
            UntrustedText.redactTokens(s) { "<jwt:\($0.count):\($0.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF })>" }
        }
        #expect(name("/logs/" + a + "/x.log") != name("/logs/" + b + "/x.log"))
        #expect(!name("/logs/" + a + "/x.log").contains("eyJ"))
        #expect(name("/logs/" + a + "/x.log").hasPrefix("/logs/<jwt:\(a.utf8.count):"))
    }

    @Test("display: tokens redacted, then nothing hidden")
    func display() {
        let s = "x\u{1B}[2J" + testToken() + "\u{202E}"
        #expect(UntrustedText.display(s) == "x\\x1b[2J\(UntrustedText.tokenPlaceholder)\\u{202E}")
    }
}

extension String {
    /// Only the placeholder letter `T` of the tables above is replaced (the tables use no other capital T).
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
