/// Calendar arithmetic without Foundation (proleptic Gregorian, UTC).
public enum CivilTime {
    /// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Civil date for days since 1970-01-01.
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    public static func valid(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Bool {
        year >= 1970 && year <= 9999 && (1...12).contains(month) && (1...31).contains(day) && hour < 24 && minute < 60
            && second <= 60
    }

    /// Seconds since the epoch for a wall-clock time, before any zone offset is applied.
    public static func epoch(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        Int64(daysFromCivil(year: year, month: month, day: day)) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// RFC 3339 UTC text for epoch seconds, with milliseconds when the time has a fraction.
    public static func iso8601(_ t: Double) -> String {
        guard t.isFinite, abs(t) < 253_402_300_800 else { return "invalid" }
        let whole = t.rounded(.down)
        let secs = Int64(whole)
        let days = Int(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400)
        let rem = Int(secs - Int64(days) * 86400)
        let (y, m, d) = civilFromDays(days)
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var s = "\(y)-\(p2(m))-\(p2(d))T\(p2(rem / 3600)):\(p2(rem / 60 % 60)):\(p2(rem % 60))"
        let ms = Int(((t - whole) * 1000).rounded())
        if ms > 0 && ms < 1000 { s += "." + String(String(ms + 1000).dropFirst()) }
        return s + "Z"
    }
}
