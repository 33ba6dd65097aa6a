import SiftCore

/// Text in the Prometheus exposition format (version 0.0.4, the one node_exporter's textfile collector reads):
/// per family a `# HELP` line, a `# TYPE` line, then one `name{label="value",…} number` line per sample.
///
/// Label values are escaped as the format asks (backslash, double quote and line feed become `\\`, `\"` and
/// `\n`); HELP text escapes backslash and line feed. Names are this program's own constants: checked, never
/// escaped.
public struct PrometheusText: Sendable {
    public enum MetricType: String, Sendable {
        case gauge
        case counter
    }

    public private(set) var text = ""

    public init() {}

    /// Starts a family: its HELP and TYPE lines. Its samples follow with ``sample(_:labels:_:)``.
    public mutating func family(_ name: String, type: MetricType = .gauge, help: String) {
        precondition(Self.isMetricName(name), "not a metric name: \(name)")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample line. `labels` are (name, value) pairs in the order written; values are escaped here.
    public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        precondition(Self.isMetricName(name), "not a metric name: \(name)")
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (label, value)) in labels.enumerated() {
                precondition(Self.isLabelName(label), "not a label name: \(label)")
                text += (i == 0 ? "" : ",") + label + "=\"" + Self.escapeLabelValue(value) + "\""
            }
            text += "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    /// A label value as the format writes it between double quotes.
    public static func escapeLabelValue(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// HELP text: backslash and line feed escaped.
    public static func escapeHelp(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// A sample value: whole numbers without a fraction, the others as Swift's shortest round-trip form (which Go's
    /// `ParseFloat` reads), and `NaN`, `+Inf`, `-Inf`.
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { return String(Int64(v)) }
        return "\(v)"
    }

    /// A string from a log (an issuer, a path) made into a bounded label value: tokens redacted and hidden
    /// characters made visible (``UntrustedText/display(_:)``), then cut to at most `limit` bytes of UTF-8 at a
    /// character boundary, `…` marking the cut.
    public static func boundedLabelValue(_ s: String, limit: Int = 128) -> String {
        let shown = UntrustedText.display(s)
        guard shown.utf8.count > limit else { return shown }
        let marker = "…"
        var out = ""
        var bytes = 0
        for c in shown {
            let n = c.utf8.count
            if bytes + n > limit - marker.utf8.count { break }
            out.append(c)
            bytes += n
        }
        return out + marker
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !isDigit(first) else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F || $0 == 0x3A }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !isDigit(first), !s.hasPrefix("__") else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F }
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}
