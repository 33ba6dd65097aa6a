import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Base64url and JSON")
struct CodecTests {
    @Test(
        "base64url round trip, and rejects the same text with one more character",
        arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar"])
    func roundTrip(_ s: String) {
        let encoded = Base64URL.encode(Array(s.utf8))
        #expect(!encoded.contains("="))
        #expect(Base64URL.decode(encoded) == Array(s.utf8))
        // Padding and the standard alphabet are not base64url; a length of 1 mod 4 decodes to no whole byte.
        #expect(Base64URL.decode(encoded + "=") == nil)
        #expect(Base64URL.decode(encoded + "+") == nil)
        if encoded.count % 4 == 0 { #expect(Base64URL.decode(encoded + "A") == nil) }
    }

    /// The quad decoder against a bit-by-bit reference, for every length up to 70 and a bad byte at every place.
    @Test("base64url decoder agrees with a bit-by-bit reference")
    func reference() {
        func slow(_ text: [UInt8]) -> (bytes: [UInt8], canonical: Bool)? {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            if text.count % 4 == 1 { return nil }
            var bits: [Bool] = []
            for c in text {
                guard let v = alphabet.firstIndex(of: c) else { return nil }
                for k in (0..<6).reversed() { bits.append((v >> k) & 1 == 1) }
            }
            var out: [UInt8] = []
            var i = 0
            while i + 8 <= bits.count {
                out.append(bits[i..<(i + 8)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) })
                i += 8
            }
            return (out, !bits[i...].contains(true))
        }
        var rng = SystemRandomNumberGenerator()
        var reused: [UInt8] = Array(repeating: 7, count: 100)
        for length in (0...70).shuffled(using: &rng) {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Array(Base64URL.encode(bytes).utf8)
            #expect(Base64URL.decode(text) == bytes)
            for variant in [text, text.map { $0 == UInt8(ascii: "A") ? UInt8(ascii: "B") : $0 }] {
                let fast = Base64URL.decodeWithQuality(variant)
                let ref = slow(variant)
                #expect(fast?.bytes == ref?.bytes)
                #expect((fast?.quality == .canonical) == (ref?.canonical ?? false) || fast == nil)
                // Decoding into a reused buffer (longer or shorter from the last length) gives the same.
                let quality = variant.withUnsafeBytes { Base64URL.decodeWithQuality($0, into: &reused) }
                #expect(quality == fast?.quality)
                if fast != nil { #expect(reused == fast?.bytes) }
            }
            for i in 0..<text.count {
                var broken = text
                broken[i] = UInt8(ascii: "=")
                #expect(Base64URL.decodeWithQuality(broken) == nil, "bad byte at \(i) of \(text.count)")
                #expect(broken.withUnsafeBytes { Base64URL.decodeWithQuality($0, into: &reused) } == nil)
            }
        }
    }

    @Test("compactShape finds what compactDots finds, without an array")
    func compactShape() {
        let cases = [
            "", "a", "a.b", "a.b.c", ".", "..", "a..b", "a.b.c.d.e.f.g", "a.b*c", "*.b.c", "ab.cd.e=f", "a.b.c.",
        ]
        for text in cases {
            for maxDots in [0, 1, 2, 4, 64] {
                let (dots, bad) = Array(text.utf8).withUnsafeBytes { Base64URL.compactDots($0, maxDots: maxDots) }
                let shape = Array(text.utf8).withUnsafeBytes { Base64URL.compactShape($0, maxDots: maxDots) }
                #expect(shape.count == dots.count && shape.badByte == bad, "\(text) \(maxDots)")
                #expect(
                    shape.first == (dots.count > 0 ? dots[0] : -1) && shape.second == (dots.count > 1 ? dots[1] : -1))
            }
        }
    }

    @Test("invalid base64url")
    func invalid() {
        #expect(Base64URL.decode("abcde") == nil)  // length 1 mod 4
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("ab=c") == nil)
        #expect(Base64URL.decodeWithQuality(Array("Zm9=".utf8)) == nil)
        #expect(Base64URL.decodeWithQuality(Array("Zm9v".utf8))?.quality == .canonical)
        #expect(Base64URL.decodeWithQuality(Array("Zm9w".utf8))?.quality == .canonical)
        #expect(Base64URL.decodeWithQuality(Array("Zh".utf8))?.quality == .nonCanonicalBits)
    }

    /// Found by the `json` fuzz target (Fuzz/Sources/FuzzTargets/JSONTarget.swift): a duplicate member name was
    /// quoted raw in the error, so a token header could put a tab, an ESC or a newline into its verdict's reason
    /// (which reports print). `fuzz/duplicate-member-control-byte.json` is the minimised input: the name holds an
    /// escaped tab.
    @Test("a refused document's reason holds no control character")
    func errorReasonIsPrintable() throws {
        let path = #filePath.split(separator: "/").dropLast().joined(separator: "/")
        let fixture = try #require(FileBytes.read("/\(path)/Fixtures/fuzz/duplicate-member-control-byte.json"))
        for document in [fixture, Array(#"{"a\u001b]0;x\u0007":1,"a\u001b]0;x\u0007":2}"#.utf8)] {
            let error = try #require(throws: JSONError.self) { try JSONParser.parse(document) }
            #expect(error.reason.hasPrefix("duplicate member"))
            #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        }
    }

    @Test("JSON values")
    func json() throws {
        let v = try JSONParser.parse(#" {"a":[1,-2.5e2,true,false,null],"b":"x\u00e9\n\ud83d\ude00","c":{}} "#)
        let o = try #require(v.objectValue)
        #expect(o["a"] == .array([.number(1), .number(-250), .bool(true), .bool(false), .null]))
        #expect(o["b"] == .string("xé\n😀"))
        #expect(o.names == ["a", "b", "c"])
        for bad in ["{", "{\"a\"}", "[1,]", "01", "\"\u{01}\"", "{\"a\":1}x", "1e", "-", "{\"a\":1,\"a\":2}"] {
            #expect(throws: JSONError.self) { try JSONParser.parse(bad) }
        }
    }
}

/// Whole-file reads for fixtures (SiftCore has no file API of its own).
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
