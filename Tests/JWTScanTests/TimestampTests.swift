import SiftCore
import Testing

@testable import JWTScan

@Suite("Line timestamps")
struct TimestampTests {
    /// 2023-11-14T22:13:05Z
    static let t: Double = 1_699_999_985

    static let formats: [(String, String, Double)] = [
        ("RFC 3339 Z", "2023-11-14T22:13:05Z INFO x", t),
        ("RFC 3339 fraction", "2023-11-14T22:13:05.250Z x", t + 0.25),
        ("RFC 3339 +hh:mm", "2023-11-14T23:13:05+01:00 x", t),
        ("RFC 3339 -hhmm", "2023-11-14T17:13:05-0500 x", t),
        ("ISO with space", "2023-11-14 22:13:05Z x", t),
        ("ISO zone-less uses --timezone (UTC)", "2023-11-14 22:13:05 x", t),
        ("Python logging comma", "2023-11-14 22:13:05,500 ERROR x", t + 0.5),
        ("nginx access", #"10.0.0.1 - - [14/Nov/2023:23:13:05 +0100] "GET / HTTP/1.1" 200"#, t),
        ("HAProxy", "haproxy[1]: 1.2.3.4:5 [14/Nov/2023:22:13:05.123] fe be", t + 0.123),
        ("nginx error log", "2023/11/14 22:13:05 [warn] 1#0: x", t),
        ("syslog RFC 3164", "Nov 14 22:13:05 host app: x", t),
        ("syslog single-digit day", "Nov  4 22:13:05 host app: x", t - 10 * 86400),
        ("syslog RFC 5424", "<34>1 2023-11-14T22:13:05.003Z host app - - x", t + 0.003),
        ("Apache error log", "[Tue Nov 14 22:13:05.500000 2023] [auth:error] x", t + 0.5),
        ("JSON epoch seconds", #"{"ts":1699999985,"msg":"x"}"#, t),
        ("JSON epoch float", #"{"time":1699999985.5,"msg":"x"}"#, t + 0.5),
        ("JSON epoch milliseconds", #"{"time":1699999985123,"msg":"x"}"#, t + 0.123),
        ("JSON epoch microseconds", #"{"timestamp":1699999985123456}"#, t + 0.123456),
        ("JSON @timestamp string", #"{"@timestamp":"2023-11-14T22:13:05Z","x":1}"#, t),
        ("JSON start_time (Envoy)", #"{"start_time":"2023-11-14T22:13:05.000Z","response_code":401}"#, t),
        ("JSON started_at", #"{"started_at":"2023-11-14T22:13:05Z"}"#, t),
        ("JSON field wins over text", #"2020-01-01T00:00:00Z {"time":"2023-11-14T22:13:05Z"}"#, t),
        ("leftmost wins over message times", "2023-11-14T22:13:05Z Jwt expired at 2023-11-14T22:00:00Z", t),
    ]

    @Test("formats", arguments: formats)
    func format(_ name: String, _ line: String, _ expected: Double) throws {
        let p = TimestampParser(zone: .utc, fallbackYear: 2023, fallbackMonth: 11)
        let got = try #require(withBytes(line) { p.lineTime($0) }, "\(name)")
        #expect(abs(got - expected) < 0.0005, "\(name): \(got) vs \(expected)")
    }

    @Test("zone-less times use the configured zone")
    func zone() {
        let p = TimestampParser(zone: .fixed(seconds: 3600), fallbackYear: 2023, fallbackMonth: 11)
        #expect(withBytes("2023-11-14 23:13:05 x") { p.lineTime($0) } == Self.t)
        #expect(withBytes("2023-11-14T22:13:05Z x") { p.lineTime($0) } == Self.t)
        #expect(withBytes("Nov 14 23:13:05 h x") { p.lineTime($0) } == Self.t)
    }

    @Test("a December syslog stamp in a January file is from the year before")
    func syslogYear() {
        let p = TimestampParser(zone: .utc, fallbackYear: 2024, fallbackMonth: 1)
        #expect(withBytes("Dec 31 23:59:59 h x") { p.lineTime($0) } == 1_704_067_199)
    }

    @Test("a syslog stamp takes its year from a full date later on the same line (HAProxy's accept date)")
    func syslogYearFromTheLine() {
        // The file's modification year says 2026 (a fresh copy); the line itself says 2023.
        let p = TimestampParser(zone: .utc, fallbackYear: 2026, fallbackMonth: 11)
        let line = "Nov 14 22:13:05 lb-1 haproxy[811]: 1.2.3.4:5 [14/Nov/2023:22:13:04.559] fe be/s 0/0/1/2/3 200"
        #expect(withBytes(line) { p.lineTimeAndYear($0)?.time } == Self.t)
        #expect(withBytes(line) { p.lineTimeAndYear($0)?.hasYear } == true)
        #expect(withBytes("Nov 14 22:13:05 h x") { p.lineTimeAndYear($0)?.hasYear } == false)
    }

    @Test("a syslog stamp takes the year that puts it nearest a recent full-dated line of the same source")
    func syslogYearFromTheSource() {
        var p = TimestampParser(zone: .utc, fallbackYear: 2026, fallbackMonth: 11)
        p.reference = Self.t - 3600
        #expect(withBytes("Nov 14 22:13:05 h x") { p.lineTime($0) } == Self.t)
        // Across New Year: a January stamp after a December 31 line is from the next year.
        p.reference = 1_704_067_199  // 2023-12-31T23:59:59Z
        #expect(withBytes("Jan  1 00:00:10 h x") { p.lineTime($0) } == 1_704_067_210)
        // The scanner keeps the reference: a full-dated line, then a yearless one.
        let found = scanText(
            "2023/11/14 22:00:00 [warn] a eyJhbGciOiJIUzI1NiJ9.e30.c2ln\nNov 14 22:13:05 gw kong: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnMg",
            fallbackYear: 2026, fallbackMonth: 11)
        #expect(found.tokens.map(\.logTime) == [Self.t - 785, Self.t])
    }

    @Test(
        "lines without a time, and impossible dates",
        arguments: [
            "no time here", "2023-13-14T22:13:05Z", "2023-11-14T25:13:05Z", "99/Nov/2023:22:13:05", "",
            #"{"time":"soon"}"#, "Nov 14 2023",
        ])
    func none(_ line: String) {
        let p = TimestampParser()
        #expect(withBytes(line) { p.lineTime($0) } == nil)
    }

    @Test("message times: HTTP date, US date, Go time")
    func messageTimes() {
        let p = TimestampParser()
        #expect(withBytes("Tue, 14 Nov 2023 22:13:05 GMT") { p.messageTime($0) } == Self.t)
        #expect(withBytes("'11/14/2023 22:13:05'") { p.messageTime($0) } == Self.t)
        #expect(withBytes("11/14/2023 10:13:05 PM") { p.messageTime($0) } == Self.t)
        #expect(withBytes("2023-11-14 22:13:05 +0000 UTC") { p.messageTime($0) } == Self.t)
    }

    @Test(
        "HTTP status",
        arguments: [
            (#"1.2.3.4 - - [14/Nov/2023:22:13:05 +0000] "GET /a?b HTTP/1.1" 401 12 "-" "ua""#, 401),
            (#"{"response_code":403,"x":1}"#, 403),
            (#"{"status": "502"}"#, 502),
            (#"{"statusCode":200}"#, 200),
            ("level=warn status=401 path=/x", 401),
            ("haproxy[811]: 1.2.3.4:5 [14/Nov/2023:22:13:05.123] fe be/s1 0/0/1/12/13 401 512 - - ----", 401),
        ] as [(String, Int)])
    func status(_ line: String, _ expected: Int) {
        #expect(withBytes(line) { StatusParser.status($0) } == expected)
    }

    @Test(
        "no status where it is ambiguous",
        arguments: [
            "took 401 ms", #"{"status":"ok"}"#, #""GET / HTTP/1.1" 4011"#, #"{"status":9999}"#,
        ])
    func noStatus(_ line: String) {
        #expect(withBytes(line) { StatusParser.status($0) } == nil)
    }

    @Test("timestamps are parsed only on lines with a token or an error")
    func onlyWhenNeeded() {
        let f = scanText("2023-11-14T22:13:05Z plain line\n2023-11-14T22:13:06Z jwt expired\n")
        #expect(f.errors.count == 1)
        #expect(f.errors[0].logTime == Self.t + 1)
        #expect(f.tokens.isEmpty)
    }
}
