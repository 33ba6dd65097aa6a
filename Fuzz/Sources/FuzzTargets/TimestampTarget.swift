import JWTScan
import SiftCore

/// `TimestampParser` over each line of the bytes, as the scanner calls it: the line's own time (a full-dated one
/// becomes the reference for later yearless stamps), then `parseAt` at every offset, `leftmostTime` and
/// `messageTime`. The first byte picks the zone and the fallback year and month.
///
/// Checks: every time is finite and within the years 0–9999 (± a day for zones) or, for epoch numbers, within
/// 0–10^11 s; `parseAt` ends after where it started and inside the line; the same line parses to the same
/// time twice.
enum TimestampTarget {
    /// 0000-01-01 − 2 days and 9999-12-31 + 2 days, in Unix seconds.
    static let earliest = -62_167_219_200.0 - 2 * 86_400
    static let latest = 253_402_300_799.0 + 2 * 86_400

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let body = UnsafeRawBufferPointer(rebasing: data[1...])
        let zone: LocalZone = first & 1 != 0 ? .fixed(seconds: 900 * (Int(first >> 1) - 64)) : .utc
        var parser = TimestampParser(
            zone: zone, fallbackYear: 1990 + Int(first % 64), fallbackMonth: 1 + Int(first % 12))
        var lineStart = 0
        while lineStart <= body.count {
            var end = lineStart
            while end < body.count, body[end] != 0x0A { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: body[lineStart..<end])
            check(line, parser)
            if let (t, hasYear) = parser.lineTimeAndYear(line), hasYear { parser.reference = t }
            lineStart = end + 1
        }
    }

    static func inRange(_ t: Double) -> Bool { t.isFinite && t >= earliest && t <= latest }

    static func check(_ line: UnsafeRawBufferPointer, _ parser: TimestampParser) {
        let own = parser.lineTimeAndYear(line)
        if let own {
            FuzzCheck.expect(inRange(own.time), .timestamp, "line time out of range")
            let again = parser.lineTimeAndYear(line)
            FuzzCheck.expect(again?.time == own.time && again?.hasYear == own.hasYear, .timestamp, "not repeatable")
        }
        FuzzCheck.expect(parser.lineTime(line) == own?.time, .timestamp, "lineTime differs from lineTimeAndYear")
        for i in 0..<min(line.count, 512) {
            guard let r = parser.parseAt(line, i) else { continue }
            FuzzCheck.expect(r.end > i && r.end <= line.count, .timestamp, "parseAt end outside (start, count]")
            FuzzCheck.expect(inRange(r.time), .timestamp, "parseAt time out of range")
        }
        if let m = parser.messageTime(line) { FuzzCheck.expect(inRange(m), .timestamp, "messageTime out of range") }
        let limit = min(line.count, 256)
        if let l = parser.leftmostTime(line, limit: limit) {
            FuzzCheck.expect(inRange(l), .timestamp, "leftmostTime out of range")
        }
    }
}
