import SiftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds and parses the timestamp a log line carries.
///
/// **Which one wins when a line holds several:** a JSON time field wins, looked up by name in this order:
/// `@timestamp`, `timestamp`, `time`, `ts`, `start_time`, `started_at` (numbers are epoch seconds, milliseconds or
/// microseconds by magnitude; strings are parsed as below). Otherwise the *leftmost* recognised timestamp in the
/// line wins — the prefix a logger writes — so times quoted inside error messages further right never do.
public struct TimestampParser: Sendable {
    public var zone: LocalZone
    /// Year for syslog RFC 3164 stamps, which carry none: the source file's modification year.
    public var fallbackYear: Int
    /// Month (1–12) of the file's modification time: a December stamp in a January file belongs to the year before.
    public var fallbackMonth: Int
    /// A recent full-dated time from the same source (Unix seconds). When set, a syslog stamp takes the year
    /// (of the three around it) that puts it closest to this time: more reliable than a modification time
    /// that a copy or a restore has changed.
    public var reference: Double?

    public init(zone: LocalZone = .utc, fallbackYear: Int = 1970, fallbackMonth: Int = 12) {
        self.zone = zone
        self.fallbackYear = fallbackYear
        self.fallbackMonth = fallbackMonth
    }

    static let jsonKeys: [[UInt8]] = ["@timestamp", "timestamp", "time", "ts", "start_time", "started_at"].map {
        Array("\"\($0)\"".utf8)
    }
    static let months: [[UInt8]] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        .map { Array($0.utf8) }

    /// The line's own time, in Unix seconds.
    public func lineTime(_ line: UnsafeRawBufferPointer) -> Double? {
        lineTimeAndYear(line)?.time
    }

    /// The line's own time, and whether its year was read from the line (false for a syslog RFC 3164 stamp,
    /// whose year is inferred). A yearless stamp takes its year from a full-dated time further on the same line
    /// (HAProxy's accept date after the syslog prefix) when one lies within two days of it.
    public func lineTimeAndYear(_ line: UnsafeRawBufferPointer) -> (time: Double, hasYear: Bool)? {
        if let t = jsonFieldTime(line) { return (t, true) }
        guard let first = leftmost(line, from: 0) else { return nil }
        guard syslog(line, first.start) != nil else { return (first.time, true) }
        if let later = leftmost(line, from: first.end), syslog(line, later.start) == nil {
            var p = self
            p.reference = later.time
            if let r = p.syslog(line, first.start), abs(r.time - later.time) < 2 * 86_400 { return (r.time, true) }
        }
        return (first.time, false)
    }

    // MARK: - JSON fields

    func jsonFieldTime(_ line: UnsafeRawBufferPointer) -> Double? {
        // JSON objects anywhere after a prefix also count (e.g. "2023-… app {json}"), but only if a brace is present.
        guard let base = line.baseAddress, memchr(base, Int32(UInt8(ascii: "{")), line.count) != nil else { return nil }
        for key in Self.jsonKeys {
            guard let at = Self.find(key, in: line, from: 0) else { continue }
            var c = ByteCursor(line, index: at + key.count)
            while c.peek() == 0x20 { c.index += 1 }
            guard c.eat(UInt8(ascii: ":")) else { continue }
            while c.peek() == 0x20 { c.index += 1 }
            if c.eat(UInt8(ascii: "\"")) {
                var end = c.index
                while end < line.count, line[end] != UInt8(ascii: "\"") { end += 1 }
                let inner = UnsafeRawBufferPointer(rebasing: line[c.index..<end])
                if let t = parseAt(inner, 0)?.time { return t }
                if let n = Self.number(inner, 0)?.value { return Self.epochFromMagnitude(n) }
            } else if let n = Self.number(line, c.index)?.value {
                return Self.epochFromMagnitude(n)
            }
        }
        return nil
    }

    /// Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude.
    static func epochFromMagnitude(_ n: Double) -> Double? {
        guard n > 0 else { return nil }
        if n < 1e11 { return n }
        if n < 1e14 { return n / 1e3 }
        if n < 1e17 { return n / 1e6 }
        if n < 1e20 { return n / 1e9 }
        return nil
    }

    static func number(_ b: UnsafeRawBufferPointer, _ at: Int) -> (value: Double, end: Int)? {
        var i = at
        var intPart: Double = 0
        var digits = 0
        while i < b.count, ByteClass.isDigit(b[i]), digits < 20 {
            intPart = intPart * 10 + Double(b[i] - 0x30)
            i += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < b.count, ByteClass.isDigit(b[i]) {
                intPart += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        return (intPart, i)
    }

    static func find(_ needle: [UInt8], in hay: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, from >= 0, hay.count - from >= needle.count, let raw = hay.baseAddress else {
            return nil
        }
        if needle.count == 1 { return hay[from...].firstIndex(of: needle[0]) }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let starts = hay.count - needle.count + 1
        var i = from
        while let at = ByteSearch.firstPair(p, from: i, to: starts, needle[0], needle[1]) {
            var j = 2
            while j < needle.count, p[at + j] == needle[j] { j += 1 }
            if j == needle.count { return at }
            i = at + 1
        }
        return nil
    }

    /// The leftmost position where a known format parses.
    public func leftmostTime(_ line: UnsafeRawBufferPointer, limit: Int) -> Double? {
        leftmost(UnsafeRawBufferPointer(rebasing: line[0..<min(limit, line.count)]), from: 0)?.time
    }

    /// The leftmost time at or after `from`: its value, where it starts and where it ends.
    func leftmost(_ line: UnsafeRawBufferPointer, from: Int) -> (time: Double, start: Int, end: Int)? {
        var i = from
        let n = line.count
        while i < n {
            let c = line[i]
            if ByteClass.isDigit(c) || c == UInt8(ascii: "[") || (c | 0x20) &- 0x61 < 26 {
                // Only start where a word or number starts.
                let prev: UInt8 = i > 0 ? line[i - 1] : 0x20
                if !(ByteClass.isDigit(prev) || (prev | 0x20) &- 0x61 < 26) {
                    if let r = parseAt(line, i) { return (r.time, i, r.end) }
                }
            }
            i += 1
        }
        return nil
    }

    /// Tries every format at `i`; returns the time and the index after it.
    public func parseAt(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        guard i < b.count else { return nil }
        let c = b[i]
        if ByteClass.isDigit(c) {
            if let r = isoLike(b, i) { return r }
            if let r = dayMonthYear(b, i) { return r }
            if let r = usDate(b, i) { return r }
            return nil
        }
        if c == UInt8(ascii: "[") {
            if let r = dayMonthYear(b, i + 1) { return r }
            if let r = ctimeLike(b, i + 1) { return r }
            return nil
        }
        if let r = syslog(b, i) { return r }
        if let r = httpDate(b, i) { return r }
        if let r = ctimeLike(b, i) { return r }
        return nil
    }

    /// `2023-11-14T22:13:05.123+01:00`, `2023-11-14 22:13:05,123`, `2023/11/14 22:13:05`, Go's `… +0000 UTC`.
    func isoLike(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        var c = ByteCursor(b, index: i)
        guard let year = c.digits(4), let sep = c.pop(), sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/"),
            let month = c.digits(2), c.eat(sep), let day = c.digits(2)
        else { return nil }
        guard c.eat(UInt8(ascii: "T")) || c.eat(UInt8(ascii: " ")) || c.eat(UInt8(ascii: "t")) else { return nil }
        return clock(&c, year: year, month: month, day: day, zoneAllowed: true)
    }

    /// Shared tail: `HH:MM:SS[.frac][zone]`.
    func clock(_ c: inout ByteCursor, year: Int, month: Int, day: Int, zoneAllowed: Bool) -> (time: Double, end: Int)? {
        guard let hour = c.digits(2), c.eat(UInt8(ascii: ":")), let minute = c.digits(2), c.eat(UInt8(ascii: ":")),
            let second = c.digits(2),
            CivilTime.valid(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        var fraction = 0.0
        if c.peek() == UInt8(ascii: ".") || c.peek() == UInt8(ascii: ","), let d = c.peek(1), ByteClass.isDigit(d) {
            c.index += 1
            var scale = 0.1
            while let d = c.peek(), ByteClass.isDigit(d) {
                fraction += Double(d - 0x30) * scale
                scale /= 10
                c.index += 1
            }
        }
        let local = CivilTime.epoch(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        var offset: Int?
        if zoneAllowed { offset = zoneOffset(&c) }
        let utc = local - Int64(offset ?? zone.offsetForLocal(local))
        return (Double(utc) + fraction, c.index)
    }

    /// `Z`, `±hh:mm`, `±hhmm`, `±hh`, optionally after one space, and a trailing ` UTC`/` GMT`.
    func zoneOffset(_ c: inout ByteCursor) -> Int? {
        let save = c.index
        if c.eat(UInt8(ascii: "Z")) || c.eat(UInt8(ascii: "z")) { return 0 }
        _ = c.eat(UInt8(ascii: " "))
        if let s = c.peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
            c.index += 1
            if let hh = c.digits(2), hh <= 14 {
                var mm = 0
                let afterHours = c.index
                if c.eat(UInt8(ascii: ":")) {
                    guard let m = c.digits(2) else {
                        c.index = afterHours
                        return nil
                    }
                    mm = m
                } else if let m = c.digits(2) {
                    mm = m
                }
                if c.matches(" UTC") || c.matches(" GMT") { c.index += 4 }
                let off = hh * 3600 + mm * 60
                return s == UInt8(ascii: "-") ? -off : off
            }
        }
        c.index = save
        if c.matches(" UTC") || c.matches(" GMT") {
            c.index += 4
            return 0
        }
        return nil
    }

    static func month(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        guard i + 3 <= b.count else { return nil }
        let l = ByteClass.lower
        for (k, m) in months.enumerated()
        where l[Int(b[i])] == m[0] && l[Int(b[i + 1])] == m[1] && l[Int(b[i + 2])] == m[2] {
            return k + 1
        }
        return nil
    }

    /// nginx/Apache `14/Nov/2023:22:13:05 +0100` and HAProxy `14/Nov/2023:22:13:05.123` (called after `[`).
    func dayMonthYear(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        var c = ByteCursor(b, index: i)
        guard let day = c.digits(2), c.eat(UInt8(ascii: "/")), let month = Self.month(b, c.index) else { return nil }
        c.index += 3
        guard c.eat(UInt8(ascii: "/")), let year = c.digits(4), c.eat(UInt8(ascii: ":")) else { return nil }
        return clock(&c, year: year, month: month, day: day, zoneAllowed: true)
    }

    /// `11/14/2023 22:13:05` (ASP.NET invariant culture), with an optional ` PM`.
    func usDate(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        var c = ByteCursor(b, index: i)
        guard let mm = c.digits(upTo: 2), c.eat(UInt8(ascii: "/")), let dd = c.digits(upTo: 2),
            c.eat(UInt8(ascii: "/")), let year = c.digits(4), c.eat(UInt8(ascii: " ")),
            let h = c.digits(upTo: 2), c.eat(UInt8(ascii: ":")), let mi = c.digits(2), c.eat(UInt8(ascii: ":")),
            let s = c.digits(2)
        else { return nil }
        var hour = h.value
        if c.matches(" PM") {
            hour = hour % 12 + 12
            c.index += 3
        } else if c.matches(" AM") {
            hour %= 12
            c.index += 3
        }
        guard CivilTime.valid(year: year, month: mm.value, day: dd.value, hour: hour, minute: mi, second: s) else {
            return nil
        }
        let local = CivilTime.epoch(year: year, month: mm.value, day: dd.value, hour: hour, minute: mi, second: s)
        let off = zoneOffset(&c) ?? zone.offsetForLocal(local)
        return (Double(local - Int64(off)), c.index)
    }

    /// syslog RFC 3164 `Nov 14 22:13:05` (also `Nov  4`): the year comes from the file's modification time.
    func syslog(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        guard let month = Self.month(b, i) else { return nil }
        var c = ByteCursor(b, index: i + 3)
        guard c.eat(UInt8(ascii: " ")) else { return nil }
        _ = c.eat(UInt8(ascii: " "))
        guard let day = c.digits(upTo: 2), c.eat(UInt8(ascii: " ")) else { return nil }
        if let reference {
            // The year that puts the stamp closest to a recent full-dated time of the same source.
            let y = CivilTime.civilFromDays(Int((reference / 86_400).rounded(.down))).year
            var best: (time: Double, end: Int)? = nil
            for year in [y - 1, y, y + 1] {
                var probe = c
                guard let r = clock(&probe, year: year, month: month, day: day.value, zoneAllowed: false) else {
                    continue
                }
                if best.map({ abs(r.time - reference) < abs($0.time - reference) }) ?? true { best = r }
            }
            return best
        }
        // A stamp from a later month than the file's mtime was written the year before.
        let year = month > fallbackMonth ? fallbackYear - 1 : fallbackYear
        return clock(&c, year: year, month: month, day: day.value, zoneAllowed: false)
    }

    /// HTTP-date `Mon, 01 Jan 2024 00:00:00 GMT` (lua-resty-jwt, APISIX).
    func httpDate(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        var c = ByteCursor(b, index: i + 3)
        guard c.eat(UInt8(ascii: ",")), c.eat(UInt8(ascii: " ")), let day = c.digits(upTo: 2), c.eat(UInt8(ascii: " ")),
            let month = Self.month(b, c.index)
        else { return nil }
        c.index += 3
        guard c.eat(UInt8(ascii: " ")), let year = c.digits(4), c.eat(UInt8(ascii: " ")) else { return nil }
        return clock(&c, year: year, month: month, day: day.value, zoneAllowed: true)
    }

    /// Apache error log and ctime: `Tue Nov 14 22:13:05.123456 2023`.
    func ctimeLike(_ b: UnsafeRawBufferPointer, _ i: Int) -> (time: Double, end: Int)? {
        var c = ByteCursor(b, index: i + 3)
        guard c.eat(UInt8(ascii: " ")), let month = Self.month(b, c.index) else { return nil }
        c.index += 3
        guard c.eat(UInt8(ascii: " ")) else { return nil }
        _ = c.eat(UInt8(ascii: " "))
        guard let day = c.digits(upTo: 2), c.eat(UInt8(ascii: " ")),
            let h = c.digits(2), c.eat(UInt8(ascii: ":")), let mi = c.digits(2), c.eat(UInt8(ascii: ":")),
            let s = c.digits(2)
        else { return nil }
        var fraction = 0.0
        if c.eat(UInt8(ascii: ".")) {
            var scale = 0.1
            while let d = c.peek(), ByteClass.isDigit(d) {
                fraction += Double(d - 0x30) * scale
                scale /= 10
                c.index += 1
            }
        }
        guard c.eat(UInt8(ascii: " ")), let year = c.digits(4),
            CivilTime.valid(year: year, month: month, day: day.value, hour: h, minute: mi, second: s)
        else { return nil }
        let local = CivilTime.epoch(year: year, month: month, day: day.value, hour: h, minute: mi, second: s)
        return (Double(local - Int64(zone.offsetForLocal(local))) + fraction, c.index)
    }

    /// Parses a time quoted inside an error message (any of the formats above, from its first byte), or an epoch
    /// number of nine digits or more (Elasticsearch's `value [1699999200000]`, nginx-jwt-module's `[exp=1699999200]`,
    /// Cognito's `Token expired: 1699999985 >= 1699999200`), told apart by magnitude.
    public func messageTime(_ b: UnsafeRawBufferPointer) -> Double? {
        var i = 0
        while i < b.count, b[i] == 0x20 || b[i] == UInt8(ascii: "'") || b[i] == UInt8(ascii: "\"") { i += 1 }
        if let t = parseAt(b, i)?.time { return t }
        var digits = 0
        while i + digits < b.count, ByteClass.isDigit(b[i + digits]) { digits += 1 }
        guard digits >= 9, let n = Self.number(b, i) else { return nil }
        return Self.epochFromMagnitude(n.value)
    }
}
