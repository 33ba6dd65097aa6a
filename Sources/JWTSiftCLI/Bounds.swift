import ArgumentParser
import LogInput

/// The allowed range of every numeric option, in one place. A value is checked while it is parsed: anything that
/// is not a number in range (overflow, NaN, infinity, a negative count) is a usage error (exit 2) whose message
/// names the option and the range. `--help` and the README show the same ranges.
enum Bounds {
    /// `scan --max-line`: the reader's buffer is this plus one 1 MiB block, so the top stays far from memory limits.
    static let maxLine = ReaderOptions.lineLengthRange
    /// `scan --lock-timeout`, seconds: up to a day.
    static let lockTimeout = 0.0...86_400.0
    /// `scan --jobs`.
    static let jobs = 1...1024
    /// `--leeway`, seconds: up to 365 days.
    static let leeway = 0.0...31_536_000.0
    /// `report --limit`.
    static let limit = 1...10_000
    /// Times given as Unix seconds (`--since`, `--until`, `--at`, `--generated-at`): 1970-01-01 up to
    /// 9999-12-31T23:59:59Z, the range RFC 3339 times can name.
    static let time = 0.0...253_402_300_799.0
    /// `--timezone` offsets, seconds: −14:00 to +14:00.
    static let zoneOffset = -14 * 3600...14 * 3600

    /// Parses a whole number in `range` for `option`.
    static func int(_ option: String, _ range: ClosedRange<Int>) -> @Sendable (String) throws -> Int {
        { value in
            guard let n = Int(value.trimmingSpaces), range.contains(n) else {
                throw ValidationError(
                    "\(option) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
    }

    /// Parses a finite number in `range` for `option` (`unit` names it in the message).
    static func number(_ option: String, _ range: ClosedRange<Double>, unit: String)
        -> @Sendable (String) throws -> Double
    {
        { value in
            guard let x = Double(value.trimmingSpaces), x.isFinite, range.contains(x) else {
                throw ValidationError(
                    "\(option) must be a number of \(unit) from \(text(range.lowerBound)) to \(text(range.upperBound))")
            }
            return x
        }
    }

    /// A bound as written in messages and help: `30`, not `30.0`.
    static func text(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
