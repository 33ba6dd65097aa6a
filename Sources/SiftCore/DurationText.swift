/// Human durations — "3 min 12 s", "-45 s", "2 h 5 min", "4 d 3 h" — for reasons, `inspect` and reports.
/// Every input is safe: claims are hostile numbers (`"iat": 1e300` is valid JSON), so non-finite values and
/// spans beyond ~31,000 years are named, never converted to an integer that would trap.
public enum DurationText {
    /// Spans at least this long (≈ 31,700 years) are not spelled out.
    static let limit = 1e12

    /// - Parameter tenths: below 10 s, keep one decimal ("2.5 s") instead of rounding to whole seconds.
    public static func words(_ seconds: Double, tenths: Bool = false) -> String {
        var out = ""
        write(seconds, tenths: tenths) { piece in
            switch piece {
            case .text(let t): out += t.description
            case .number(let n): out += String(n)
            case .decimal(let d): out += "\(d)"
            }
        }
        return out
    }

    /// A piece of the words: fixed text, a whole number, or a number with one decimal (as Swift spells a Double).
    public enum Piece {
        case text(StaticString)
        case number(Int)
        case decimal(Double)
    }

    /// The words of ``words(_:tenths:)``, handed to `emit` piece by piece (so a writer spells them without a
    /// String).
    public static func write(_ seconds: Double, tenths: Bool = false, _ emit: (Piece) -> Void) {
        guard seconds.isFinite else { return emit(.text("?")) }
        if seconds < 0 { emit(.text("-")) }
        let a = abs(seconds)
        guard a < limit else { return emit(.text("30,000+ years")) }
        if tenths && a < 10 && a != a.rounded() {
            emit(.decimal(Double(Int(a * 10)) / 10))
            return emit(.text(" s"))
        }
        var s = Int(a.rounded())
        if s < 60 {
            emit(.number(s))
            return emit(.text(" s"))
        }
        let d = s / 86_400
        s %= 86_400
        let h = s / 3600
        s %= 3600
        let m = s / 60
        s %= 60
        if d > 0 {
            emit(.number(d))
            emit(.text(" d "))
            emit(.number(h))
            return emit(.text(" h"))
        }
        if h > 0 {
            emit(.number(h))
            emit(.text(" h "))
            emit(.number(m))
            return emit(.text(" min"))
        }
        emit(.number(m))
        emit(.text(" min "))
        emit(.number(s))
        emit(.text(" s"))
    }
}
