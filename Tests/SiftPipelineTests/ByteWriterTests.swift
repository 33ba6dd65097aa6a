import JOSECrypto
import SiftCore
import Testing

@testable import SiftPipeline

@Suite("Output bytes")
struct ByteWriterTests {
    static func text(_ body: (inout ByteWriter) -> Void) -> String {
        var w = ByteWriter(capacity: 8)  // small, so the tests also cross growth
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test(
        "integers",
        arguments: [
            (0, "0"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (-1, "-1"), (-10, "-10"),
            (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
        ])
    func integers(_ v: Int, _ expected: String) {
        #expect(Self.text { $0.int(v) } == expected)
        if v >= 0 { #expect(Self.text { $0.int(UInt64(v)) } == expected) }
    }

    @Test(
        "seconds keep up to three decimals and drop trailing zeros",
        arguments: [
            (1.5, "1.5"), (1.05, "1.05"), (1.005, "1.005"), (1.0, "1"), (-0.5, "-0.5"), (-1.25, "-1.25"),
            (1_700_000_000.1, "1700000000.1"),
            // Past the millisecond range (issue 13: `exp` ≥ 1e14 came out null beside an ok verdict): still a number.
            (1e16, "1e+16"), (-1e300, "-1e+300"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        ])
    func seconds(_ t: Double, _ expected: String) {
        #expect(Self.text { $0.seconds(t) } == expected)
    }

    @Test("RFC 3339 times, also when the same second repeats with other milliseconds")
    func iso8601() {
        let out = Self.text { w in
            for t in [1_700_000_000.0, 1_700_000_000.25, 1_700_000_001, 1_700_000_000.5, -1.0, 951_782_400] {
                w.iso8601(t)
                w.raw(" ")
            }
        }
        #expect(
            out
                == "2023-11-14T22:13:20Z 2023-11-14T22:13:20.250Z 2023-11-14T22:13:21Z 2023-11-14T22:13:20.500Z 1969-12-31T23:59:59Z 2000-02-29T00:00:00Z "
        )
    }

    @Test("hex digests, strings and literals in one growing buffer")
    func mixed() {
        let d = Digest.sha256("abc")
        let out = Self.text { w in
            w.raw("{\"f\":\"")
            w.hex(d)
            w.raw("\",\"s\":")
            w.string("a\"b")
            w.raw(",\"n\":")
            w.optionalInt(nil)
            w.raw("}")
        }
        #expect(out == #"{"f":"\#(d.hex)","s":"a\"b","n":null}"#)
    }

    @Test(
        "text inside a string: plain text as is, anything else escaped and redacted as a whole string is",
        arguments: [
            "expired 1 h 0 min before the log time", "issued 6 d 12 h after", "a\"b", "x<y>&z", "tab\there",
            "caf\u{e9}", "bidi \u{202E}x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "JWT",
        ])
    func plainText(_ s: String) {
        let whole = Self.text { $0.string(s) }
        #expect(
            Self.text {
                $0.raw("\"")
                $0.plainText(s)
                $0.raw("\"")
            } == whole)
    }
}

/// Durations written straight into the buffer, and verdict fields written from kept bytes (``VerdictPieces``),
/// are the bytes the direct writers produce.
@Suite struct VerdictBytesTests {
    @Test("durations in the buffer spell what DurationText.words spells")
    func durations() {
        for s in [0, 0.4, -0.4, 59.4, 59.6, 60, 3599, 3600, 86_399, 86_400, 1e11, 1e12, -1e12, -75, .infinity, .nan] {
            #expect(ByteWriterTests.text { $0.duration(s) } == DurationText.words(s), "\(s)")
        }
    }

    @Test("a piece cache writes what its renderer writes, through replacement of its entries")
    func pieceCache() {
        var cache = PieceCache<String?>()
        var direct = ByteWriter(capacity: 8)
        var cached = ByteWriter(capacity: 8)
        // More values than the cache keeps, coming back in turn, with nil and a value needing escapes.
        let values: [String?] = (0..<12).map { "kid-\($0)" } + [nil, "a\"b\u{202E}c"]
        for round in 0..<3 {
            for v in round == 1 ? values.reversed() : values {
                direct.optionalString(v)
                cache.write(v, into: &cached) { $0.optionalString(v) }
            }
        }
        #expect(cached.bytes == direct.bytes)
    }
}
