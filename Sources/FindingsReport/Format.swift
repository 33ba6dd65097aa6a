import SiftCore

/// Shared text forms of cells: UTC times, durations, shares, grouped integers (numbers through ``NumberText``).
public enum Format {
    /// "2023-11-14 22:13:05Z".
    public static func time(_ t: Double) -> String {
        var s = isoTime(t)
        if let i = s.firstIndex(of: "T") { s.replaceSubrange(i...i, with: " ") }
        return s
    }

    /// ISO 8601 with a T, whole seconds, for machine-readable formats.
    public static func isoTime(_ t: Double) -> String {
        guard t.isFinite, abs(t) < 253_402_300_800 else { return "?" }
        return CivilTime.iso8601(t.rounded(.down))
    }

    /// "3 min 12 s", "-45 s", "2.5 s", "2 h 5 min", "4 d 3 h" (``DurationText`` with tenths below 10 s).
    public static func duration(_ seconds: Double) -> String { DurationText.words(seconds, tenths: true) }

    /// A cell as text for humans (text, Markdown, HTML).
    public static func text(_ c: Cell) -> String {
        switch c {
        case .text(let s): s
        case .int(let i): NumberText.grouped(i)
        case .number(let d): NumberText.number(d)
        case .time(let t): time(t)
        case .seconds(let s): duration(s)
        case .share(let s): NumberText.percent(s)
        case .null: "–"
        }
    }

    /// A cell as plain text for CSV: full precision, ISO times, raw seconds.
    public static func plain(_ c: Cell) -> String {
        switch c {
        case .text(let s): s
        case .int(let i): String(i)
        case .number(let d), .seconds(let d):
            d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : ""
        case .time(let t): isoTime(t)
        case .share(let s): String(s)
        case .null: ""
        }
    }

    /// The one escape of the HTML format, for element content and attribute values: tokens redacted, control,
    /// bidi and format characters shown as escapes (``UntrustedText/display(_:)``), then markup escaped.
    public static func html(_ s: String) -> String {
        var out = ""
        for c in UntrustedText.display(s).unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
