import JOSECrypto
import SiftCore
import Testing

@testable import JWTScan

@Suite("Token scanner")
struct TokenScannerTests {
    static let token = Tok.jws()

    /// Every place a token stands in real logs, with the token spelled out once.
    static let placements: [(String, String)] = [
        ("Bearer header", "Authorization: Bearer \(token)"),
        ("lowercase bearer", "authorization: bearer \(token) rest"),
        ("BEARER", "BEARER \(token)"),
        ("access_token query", "GET /cb?access_token=\(token)&state=x HTTP/1.1"),
        ("id_token query", "GET /cb?id_token=\(token) HTTP/1.1"),
        ("token query", "/api?token=\(token)"),
        ("cookie", "Cookie: theme=dark; session=\(token); lang=en"),
        ("JSON string", #"{"authorization":"Bearer \#(token)","status":401}"#),
        ("JSON with escaped slashes", #"{"uri":"\/api\/x?token=\#(token)","x":"\/"}"#),
        ("single quotes", "token='\(token)'"),
        ("brackets", "[\(token)]"),
        ("braces (HAProxy captures)", "{Bearer \(token)}"),
        ("parentheses", "(\(token))"),
        ("start of line", "\(token) was rejected"),
        ("end of line", "token: \(token)"),
        ("URL-encoded space", "Authorization=Bearer%20\(token)"),
        ("tab separated", "a\t\(token)\tb"),
        ("sentence period", "rejected token \(token)."),
    ]

    @Test("finds a token wherever it stands", arguments: placements)
    func placement(_ name: String, _ line: String) {
        let f = scanText(line)
        #expect(f.tokens.count == 1, "\(name)")
        #expect(f.tokens.first?.fingerprint == Digest.sha256(Self.token))
        #expect(f.tokens.first?.kind == .jws)
        #expect(f.tokens.first?.truncation == nil, "\(name)")
        #expect(f.tokens.first?.length == Self.token.utf8.count)
    }

    @Test("several tokens on one line are all found, with their offsets")
    func several() {
        let a = Tok.jws(payload: #"{"sub":"a"}"#)
        let b = Tok.jws(payload: #"{"sub":"b"}"#)
        let line = "x=\(a) y=\(b) z=\(a)"
        let f = scanText(line)
        #expect(f.tokens.map(\.fingerprint) == [Digest.sha256(a), Digest.sha256(b), Digest.sha256(a)])
        #expect(
            f.tokens.map(\.offset) == [
                2, UInt64(2 + a.utf8.count + 3), UInt64(2 + a.utf8.count + 3 + b.utf8.count + 3),
            ])
    }

    @Test("kinds: JWS, JWE, unsecured")
    func kinds() {
        let none = Tok.jws(header: #"{"alg":"none"}"#, signature: "")
        let f = scanText("a \(Tok.jwe()) b \(none) c \(Self.token)")
        #expect(f.tokens.map(\.kind) == [.jwe, .unsecured, .jws])
        #expect(f.tokens.map(\.segments) == [5, 3, 3])
        #expect(f.tokens[1].length == none.utf8.count)
    }

    @Test("header with whitespace after the brace (eyA…, ew…) is found")
    func whitespaceHeaders() {
        let spaced = Tok.jws(header: #"{ "alg": "HS256" }"#)
        let newline = Tok.jws(header: "{\n\"alg\":\"HS256\"}")
        #expect(spaced.hasPrefix("eyA"))
        #expect(newline.hasPrefix("ew"))
        let f = scanText("a \(spaced) b \(newline)")
        #expect(f.tokens.count == 2)
    }

    /// Base64-looking text that is not a token.
    static let nonTokens: [String] = [
        "eyJub3QganNvbg.eyJzdWIiOiJ4In0.c2ln",  // header `{"not json`: starts like an object, so a (malformed) token
        "eyJhIjpbMSwyXX0.eyJzdWIiOiJ4In0.c2ln",  // header is JSON but an array? no: {"a":[1,2]} is an object
        "keyJwks doesn't have key",
        "honeyJar.example.com",
        "eyJhbGciOiJSUzI1NiJ9",  // a header alone
        String(repeating: "ey", count: 500),
        "ey.ey.ey",
    ]

    @Test("random base64 and words are not tokens")
    func notTokens() {
        #expect(scanText(Self.nonTokens[0]).tokens.count == 1)  // reported, to be judged malformed
        #expect(scanText("eyAgICAgICAgICAgICAgICAg.eyJzdWIiOiJ4In0.c2ln").tokens.count == 1)  // `{   …`
        #expect(scanText("ezEyMzQ1Njc4OTA.eyJzdWIiOiJ4In0.c2ln").tokens.isEmpty)  // `{1234567890`: not a member name
        #expect(scanText("eyJub3QganNvbg.eyJzdWIiOiJ4In0").tokens.isEmpty)  // one dot: not enough to call it a token
        #expect(scanText(Self.nonTokens[1]).tokens.count == 1)  // a JSON object header is enough
        for s in Self.nonTokens.dropFirst(2) { #expect(scanText(s).tokens.isEmpty, "\(s.prefix(40))") }
    }

    static let truncations: [(String, String, Truncation)] = [
        ("ellipsis", "token=\(token.dropLast(10))... more", .marker),
        ("unicode ellipsis", "token=\(token.dropLast(10))\u{2026}", .marker),
        ("[truncated]", "token=\(token.dropLast(10)) [truncated]", .marker),
        ("segment length 1 mod 4", "t=\(segmentMod4())", .segmentLength),
        (
            "missing signature segment", "t=\(token.split(separator: ".").prefix(2).joined(separator: "."))",
            .missingSegments
        ),
        ("4096-byte field", "Cookie: s=\(longToken(4096 - 2))", .roundLimit),
    ]

    static func segmentMod4() -> String {
        var t = token
        while t.split(separator: ".", omittingEmptySubsequences: false).last!.count % 4 != 1 { t += "A" }
        return t
    }

    static func longToken(_ length: Int) -> String {
        var t = Tok.jws(payload: "{\"g\":\"" + String(repeating: "x", count: length) + "\"}")
        t = String(t.prefix(length))
        while t.split(separator: ".", omittingEmptySubsequences: false).last!.count % 4 == 1 { t.removeLast() }
        return t
    }

    @Test("a token cut short is kept and marked", arguments: truncations)
    func truncated(_ name: String, _ line: String, _ expected: Truncation) {
        let f = scanText(line)
        #expect(f.tokens.count == 1, "\(name)")
        #expect(f.tokens.first?.truncation == expected, "\(name)")
    }

    /// A token of exactly `length` bytes whose signature segment has `signature` characters.
    static func token(length: Int, alg: String, signature: Int) -> String {
        var pad = ""
        while true {
            let t = Tok.jws(
                header: #"{"alg":"\#(alg)"}"#, payload: #"{"p":"\#(pad)"}"#,
                signature: String(repeating: "Q", count: signature))
            if t.count >= length {
                return t.count == length ? t : token(length: length, alg: alg, signature: signature + 1)
            }
            pad += "x"
        }
    }

    @Test("a whole token that happens to be 256 or 512 bytes long is not taken for a cut one")
    func roundLengthButComplete() {
        // Found by scripts/crosscheck.py: an HS256 token of exactly 256 bytes was reported truncated.
        #expect(
            scanText("Bearer \(Self.token(length: 256, alg: "HS256", signature: 43))").tokens.first?.truncation == nil)
        #expect(
            scanText("Bearer \(Self.token(length: 512, alg: "ES256", signature: 86))").tokens.first?.truncation == nil)
        #expect(
            scanText("Bearer \(Self.token(length: 1024, alg: "RS256", signature: 342))").tokens.first?.truncation == nil
        )
        // The same lengths with a signature no algorithm produces are still suspect.
        #expect(
            scanText("Bearer \(Self.token(length: 256, alg: "HS256", signature: 40))").tokens.first?.truncation
                == .roundLimit)
    }

    @Test("a token cut at the line bound is reported as truncated, not lost")
    func lineBound() {
        var scanner = LineScanner(fingerprint: sha256)
        var findings = ScanFindings()
        let line = "2023-11-14T22:13:05Z Bearer \(Self.token)"
        let cut = Array(line.utf8.prefix(line.utf8.count - 20))
        cut.withUnsafeBytes { raw in
            scanner.scan(raw, streamOffset: 0, firstLine: 7, continuesLine: false, cutAtEnd: true, into: &findings)
        }
        #expect(findings.tokens.count == 1)
        #expect(findings.tokens.first?.truncation == .lineLimit)
        #expect(findings.tokens.first?.line == 7)
        #expect(findings.tokens.first?.logTime == 1_699_999_985)
    }

    @Test("binary garbage, NUL bytes and invalid UTF-8 do not stop the scan")
    func garbage() {
        var bytes: [UInt8] = []
        var x: UInt32 = 12345
        for _ in 0..<200_000 {
            x = x &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        bytes += [0, 0xFF, 0xFE, 0xC0, 0x80, 0x0A] + Array("Bearer \(Self.token)\n".utf8) + [0xED, 0xA0, 0x80, 0]
        var scanner = LineScanner(fingerprint: sha256)
        var findings = ScanFindings()
        bytes.withUnsafeBytes { raw in
            scanner.scan(raw, streamOffset: 0, firstLine: 1, continuesLine: false, cutAtEnd: false, into: &findings)
        }
        #expect(findings.tokens.contains { $0.fingerprint == Digest.sha256(Self.token) })
    }

    @Test("CRLF line endings: the \\r is not part of the token or the line")
    func crlf() {
        let f = scanText("a \(Self.token)\r\nb \(Self.token)\r\n")
        #expect(f.tokens.count == 2)
        #expect(f.tokens.allSatisfy { $0.truncation == nil && $0.length == Self.token.utf8.count })
        #expect(f.tokens.map(\.line) == [1, 2])
    }

    /// Headers the JSON parser refuses are still tokens (judged malformed downstream), never silence: duplicate
    /// members are an attack shape (issue 13).
    static let hostileHeaderTable: [(String, [UInt8])] = [
        ("deep nesting", Array(("{\"a\":" + String(repeating: "[", count: 5000) + "}").utf8)),
        ("duplicate alg", Array(#"{"alg":"RS256","alg":"none"}"#.utf8)),
        ("lone surrogate", Array("{\"a\":\"\\ud800\"}".utf8)),
        ("NUL in a name", Array("{\"al".utf8) + [0] + Array("g\":\"HS256\"}".utf8)),
        ("invalid UTF-8", Array(#"{"alg":"HS256","kid":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
        ("over 64 KiB", Array(("{\"alg\":\"HS256\",\"x\":\"" + String(repeating: "a", count: 70_000) + "\"}").utf8)),
    ]

    @Test("hostile headers are reported as tokens, without crashing", arguments: hostileHeaderTable)
    func hostileHeaders(_ name: String, _ header: [UInt8]) {
        let t = Base64URL.encode(header) + "." + Tok.b64(#"{"sub":"u1"}"#) + ".c2lnbmF0dXJl"
        let found = scanText("x \(t)").tokens
        #expect(found.count == 1, "\(name)")
        #expect(found.first?.length == t.utf8.count, "\(name)")
    }
}
