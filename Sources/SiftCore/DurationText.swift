/// Human durations — "3 min 12 s", "-45 s", "2 h 5 min", "4 d 3 h" — for reasons, `inspect` and reports.
/// Every input is safe: claims are hostile numbers (`"iat": 1e300` is valid JSON), so non-finite values and
/// spans beyond ~31,000 years are named, never converted to an integer that would trap.
public enum DurationText {
    /// Spans at least this long (≈ 31,700 years) are not spelled out.
    static let limit = 1e12

    /// - Parameter tenths: below 10 s, keep one decimal ("2.5 s") instead of rounding to whole seconds.
    public static func words(_ seconds: Double, tenths: Bool = false) -> String {
        guard seconds.isFinite else { return "?" }
        let sign = seconds < 0 ? "-" : ""
        let a = abs(seconds)
        guard a < limit else { return "\(sign)30,000+ years" }
        if tenths && a < 10 && a != a.rounded() { return "\(sign)\(Double(Int(a * 10)) / 10) s" }
        var s = Int(a.rounded())
        if s < 60 { return "\(sign)\(s) s" }
        let d = s / 86_400
        s %= 86_400
        let h = s / 3600
        s %= 3600
        let m = s / 60
        s %= 60
        if d > 0 { return "\(sign)\(d) d \(h) h" }
        if h > 0 { return "\(sign)\(h) h \(m) min" }
        return "\(sign)\(m) min \(s) s"
    }
}
