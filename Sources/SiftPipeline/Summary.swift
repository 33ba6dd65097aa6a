import JWTScan
import SiftCore

/// The short end-of-run summary `scan` prints on stderr.
public enum Summary {
    public static func text(_ t: ScanTotals) -> String {
        var out =
            "jwtsift: \(t.counts.sources) source\(t.counts.sources == 1 ? "" : "s"), \(t.counts.lines) lines, \(t.counts.bytes) bytes; "
        out +=
            "\(t.counts.sightings) token sightings (\(t.distinctTokensExact ? "" : "≥ ")\(t.distinctTokens) distinct), "
        out += "\(t.counts.logErrors) error lines\n"
        if t.counts.sourcesSkipped > 0 {
            out +=
                "\(t.counts.sourcesSkipped) of them unchanged since an earlier run: skipped (their findings are in the database)\n"
        }
        if t.sourcesRejudged > 0 {
            out +=
                "re-judged \(t.sourcesRejudged) source\(t.sourcesRejudged == 1 ? "" : "s"): the keys or policy changed since they were read (or --rescan); their rows were replaced\n"
        }
        if !t.sightingsByCause.isEmpty {
            out += "token sightings by cause:\n"
            out += table(t.sightingsByCause, total: t.counts.sightings)
        }
        if !t.errorsByCause.isEmpty {
            out += "error messages by cause:\n"
            out += table(t.errorsByCause, total: t.counts.logErrors)
        }
        if !t.fallbackIssuers.isEmpty {
            let n = t.fallbackIssuers.values.reduce(0, +)
            let named = t.fallbackIssuers.filter { !$0.key.isEmpty }.sorted {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }
            var list = named.prefix(5).map { "\(UntrustedText.display($0.key)) (\($0.value))" }.joined(separator: ", ")
            if named.count > 5 || t.fallbackIssuers[""] != nil { list += ", …" }
            out +=
                "\(n) token sighting\(n == 1 ? "" : "s") from issuers --config does not name were judged with the global keys and policy: \(list)\n"
        }
        if t.truncatedTokens > 0 { out += "\(t.truncatedTokens) token sightings look cut short by the logger\n" }
        return out
    }

    /// After a failed write: what the database holds of this run (its row's counts), instead of what was found.
    public static func committed(_ c: RunCounts?, path: String) -> String {
        guard let c else {
            return
                "jwtsift: \(path): the run's counts could not be recorded; its committed findings are in the database\n"
        }
        return
            "jwtsift: committed to \(path) before the failure (run recorded as failed): \(c.sources) source\(c.sources == 1 ? "" : "s"), "
            + "\(c.lines) lines, \(c.bytes) bytes; \(c.sightings) token sightings (\(c.failures) failures), \(c.logErrors) error lines\n"
    }

    /// `s` as one shell word: as it is when it holds only safe characters, else in single quotes.
    public static func shellQuoted(_ s: String) -> String {
        let safe = s.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
                || "-_./,:=+@%".unicodeScalars.contains($0)
        }
        if safe && !s.isEmpty { return s }
        return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    static func table(_ counts: [Cause: Int], total: Int) -> String {
        var out = ""
        for (cause, n) in counts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            let share = total > 0 ? Double(n) / Double(total) : 0
            let name = cause.rawValue + String(repeating: " ", count: max(1, 18 - cause.rawValue.count))
            let count = String(n)
            out += "  \(name)\(String(repeating: " ", count: max(0, 9 - count.count)))\(count)  \(percent(share))\n"
        }
        return out
    }

    /// A right-aligned share, six columns wide.
    static func percent(_ share: Double) -> String {
        let s = NumberText.percent(share)
        return String(repeating: " ", count: max(0, 6 - s.count)) + s
    }
}
