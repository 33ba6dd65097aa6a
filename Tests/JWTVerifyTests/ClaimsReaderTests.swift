import JOSECrypto
import SiftCore
import TestSupport
import Testing

@testable import JWTVerify

/// The claims read in place (``ClaimsReader``) must be those ``JSONParser`` reads, for every document it accepts;
/// anything outside its plain form must go to the parser (nil), never be answered differently.
@Suite struct ClaimsReaderTests {
    /// Plain claims sets the reader must accept.
    static let plain = [
        #"{"iss":"https://login.example.com/","sub":"user-571858","aud":"api://orders","iat":1700561858,"exp":1700562758}"#,
        #"{}"#,
        #" { "exp" : 0 , "nbf":1 ,"iat":999999999999999 } "#,
        #"{"aud":["a","b c",""],"scope":["read","write"],"n":null,"t":true,"f":false}"#,
        #"{"aud":[],"realm_access":{"roles":["x","y"],"deep":{"a":[1,[2,{}]]}},"azp":"c"}"#,
        "{\n\t\"iss\":\"i\",\r\n\"exp\":1700000000000}",
    ]

    /// Documents outside the plain form (or not JSON at all): the reader answers nil.
    static let other = [
        #"{"iss":"caf\u00e9"}"#, "{\"iss\":\"café\"}", #"{"exp":1.5}"#, #"{"exp":-1}"#, #"{"exp":1e9}"#,
        #"{"exp":"1700000000"}"#, #"{"iss":5}"#, #"{"sub":null}"#, #"{"aud":[1]}"#, #"{"aud":{}}"#,
        #"{"exp":1,"exp":2}"#, #"{"x":{"a":1,"a":2}}"#, #"{"exp":01}"#, #"{"exp":1234567890123456}"#,
        #"{"a":1} x"#, #"{"a":1"#, #"{"a" 1}"#, #"{"a":1,}"#, #"["a"]"#, #""#, #"{"a":tru}"#,
        #"{"x":"a\"b"}"#, "{\"x\":\"a\u{7F}\"}", "{\"x\":\"a\tb\"}", #"{"x":[1,]}"#,
        String(repeating: #"{"a":"#, count: 20) + "1" + String(repeating: "}", count: 20),
    ]

    /// The claims as the parser reads them, or nil when it refuses the document.
    static func parsed(_ text: [UInt8]) -> String? {
        guard let o = try? JSONParser.parseObject(text) else { return nil }
        func n(_ k: String) -> String { o[k]?.numberValue.map { "\($0)" } ?? "-" }
        let aud: String =
            if let s = o["aud"]?.stringValue { s } else {
                o["aud"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "|") ?? "-"
            }
        return [n("exp"), n("nbf"), n("iat"), o["iss"]?.stringValue ?? "-", o["sub"]?.stringValue ?? "-", aud]
            .joined(separator: " ")
    }

    /// The claims as the reader reads them, or nil.
    static func read(_ text: [UInt8]) -> String? {
        text.withUnsafeBytes { p -> String? in
            guard let c = ClaimsReader.read(p) else { return nil }
            func s(_ r: Range<Int>?) -> String { r.map { String(decoding: p[$0], as: UTF8.self) } ?? "-" }
            func n(_ v: Double?) -> String { v.map { "\($0)" } ?? "-" }
            let aud =
                c.audIsArray
                ? c.audItems.map { String(decoding: p[$0], as: UTF8.self) }.joined(separator: "|") : s(c.aud)
            return [n(c.exp), n(c.nbf), n(c.iat), s(c.iss), s(c.sub), aud].joined(separator: " ")
        }
    }

    @Test("plain claims sets are read in place, with the parser's values")
    func plainForm() {
        for doc in Self.plain {
            let bytes = Array(doc.utf8)
            #expect(Self.read(bytes) != nil, "\(doc)")
            #expect(Self.read(bytes) == Self.parsed(bytes), "\(doc)")
        }
    }

    @Test("anything else goes to the parser")
    func otherForms() {
        for doc in Self.other {
            #expect(Self.read(Array(doc.utf8)) == nil, "\(doc)")
        }
    }

    @Test("whatever the reader accepts among mutated claims sets, the parser accepts with the same claims")
    func mutations() {
        var g = SplitMix(seed: 15)
        let alphabet = Array(#"{}[]":,. -0123456789eE\tnulrfsaxpi"#.utf8) + [0x80, 0x7F, 0x0A, 0x00]
        var accepted = 0
        for doc in Self.plain {
            let base = Array(doc.utf8)
            for _ in 0..<4000 {
                var m = base
                for _ in 0..<Int(g.next() % 3 + 1) {
                    guard !m.isEmpty else { break }
                    let at = Int(g.next() % UInt64(m.count))
                    switch g.next() % 3 {
                    case 0: m[at] = alphabet[Int(g.next() % UInt64(alphabet.count))]
                    case 1: m.remove(at: at)
                    default: m.insert(alphabet[Int(g.next() % UInt64(alphabet.count))], at: at)
                    }
                }
                guard let fast = Self.read(m) else { continue }
                accepted += 1
                #expect(fast == Self.parsed(m), "\(String(decoding: m, as: UTF8.self))")
            }
        }
        // The mutations reach documents the reader accepts (the property was tested, not vacuous).
        #expect(accepted > 1000)
    }

    @Test("an analysis with claims read in place equals one read through the parser (details kept)")
    func sameAnalysis() {
        let secret = KeyLoader.secret(Array("0123456789abcdef0123456789abcdef".utf8), origin: "test", retired: false).0!
        let payloads =
            Self.plain + Self.other + [
                #"{"iss":"https://a.example/","exp":1700000000,"iat":1600000000,"nbf":1800000000}"#,
                #"{"aud":["x","y"],"exp":1700000000000}"#,
            ]
        let fast = TokenAnalyzer(keys: KeyRing(current: [secret]), policy: VerifyPolicy(audiences: ["y"]))
        let slow = TokenAnalyzer(
            keys: KeyRing(current: [secret]), policy: VerifyPolicy(audiences: ["y"]), details: true)
        let context = AnalysisContext()
        let header = b64(#"{"alg":"HS256"}"#)
        for (i, p) in payloads.enumerated() {
            let token = Array("\(header).\(b64(p)).c2lnbmF0dXJlLWJ5dGVzLXRoYXQtZG8tbm90LXZlcmlmeQ".utf8)
            // Twice through one context: the second time the issuer and audience come from its interned texts.
            for _ in 0..<2 {
                let a = token.withUnsafeBytes { fast.analyze($0, context: context) }
                let b = slow.analyze(token, verifier: SignatureChecker())
                #expect(Self.summary(a) == Self.summary(b), "payload \(i): \(p)")
            }
        }
    }

    static func summary(_ a: TokenAnalysis) -> String {
        [
            "\(a.signature) \(a.causes) \(a.flags)", a.reasons.values.joined(separator: "|"),
            "\(a.iss ?? "-") \(a.sub ?? "-") \(a.aud) \(a.exp ?? -1) \(a.nbf ?? -1) \(a.iat ?? -1)",
        ].joined(separator: "\n")
    }

    @Test("cause reasons keep their order and their first entry through removal")
    func reasons() {
        var r = CauseReasons()
        #expect(r.values.isEmpty && r[.expired] == nil)
        r[.malformed] = "m"
        r[.truncated] = "t"
        r[.key_unknown] = "k"
        #expect(r.values == ["m", "t", "k"])
        r[.malformed] = nil
        #expect(r.values == ["t", "k"] && r[.truncated] == "t" && r[.malformed] == nil)
        r[.key_unknown] = "k2"
        r[.malformed] = "m2"
        #expect(r.values == ["t", "k2", "m2"])
        r[.truncated] = nil
        r[.key_unknown] = nil
        #expect(r.values == ["m2"] && r[.malformed] == "m2")
        r[.malformed] = nil
        #expect(r.values.isEmpty)
    }
}
