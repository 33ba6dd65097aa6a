/// Numbers as people read them, for the summary, `inspect` and reports. Every input is safe: non-finite values
/// print as `?`, never trap.
public enum NumberText {
    /// "1,234,567".
    public static func grouped(_ v: Int64) -> String {
        let digits = String(v.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (v < 0 ? "-" : "") + out
    }

    /// A fraction as a percentage with one decimal, rounded: 0.625 → "62.5%".
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite, abs(fraction) < 1e12 else { return "?" }
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// A fraction as a short percentage for sentences: whole percent from 10% up, one decimal (cut, not rounded)
    /// below: 0.4213 → "42%", 0.0567 → "5.6%".
    public static func shortPercent(_ fraction: Double) -> String {
        guard fraction.isFinite, abs(fraction) < 1e12 else { return "?" }
        let p = fraction * 100
        return p >= 10 || p == 0 ? "\(Int(p.rounded()))%" : "\(Double(Int(p * 10)) / 10)%"
    }

    /// An integer when the value is whole, otherwise cut to two decimals: 3 → "3", 2.345 → "2.34".
    public static func number(_ d: Double) -> String {
        guard d.isFinite else { return "?" }
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        guard abs(d) < 9e16 else { return String(d) }
        return String(Double(Int64(d * 100)) / 100)
    }
}
