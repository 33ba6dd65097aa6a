import FindingsStore
import JWTScan
import SiftCore

/// Failed sightings per (cause, issuer, kid): what the summary's closing sentences say.
public struct FailureGroups: Sendable {
    public struct Key: Hashable, Sendable {
        public var cause: Cause
        public var iss: String?
        public var kid: String?
    }

    public struct Group: Sendable {
        public var key: Key
        public var sightings = 0
        /// Distinct tokens, exact up to ``FailureGroups/tokenLimit`` per group (then a lower bound).
        public var tokens = DistinctCounter(limit: FailureGroups.tokenLimit)
        public var tokensExact: Bool { tokens.isExact }
        public var first: Double?
        public var last: Double?
    }

    public static let tokenLimit = 100_000
    /// Groups kept at most: issuers and kids come from tokens, so a hostile log could name millions. Sightings of
    /// groups beyond it are counted in ``untracked`` only (the summary names the largest three).
    public static let groupLimit = 10_000
    public private(set) var groups: [Key: Group] = [:]
    public private(set) var untracked = 0
    /// Fingerprints held by all groups' counters together, at most ``keyBudget`` (4 MiB of keys).
    private var keysHeld = 0
    public static let keyBudget = 1 << 19

    public init() {}

    /// A batch's failed sightings per token slot and cause, summed from its rollup rows before the (string-keyed)
    /// groups are touched once per token and cause: `entry[slot]` is the slot's first entry in `entries`, each
    /// entry links to the slot's next (another cause). Plain arrays, reused between batches: no hashing per row.
    private var entry: [Int32] = []
    private var entries: [(slot: Int32, cause: Int32, next: Int32, n: Int, first: Double?, last: Double?)] = []

    /// Adds a batch's failed sightings (its rollup rows carry counts, first and last times per token).
    mutating func fold(_ b: Batch) {
        entry.removeAll(keepingCapacity: true)
        entry.append(contentsOf: repeatElement(-1, count: b.tokens.count))
        entries.removeAll(keepingCapacity: true)
        // The words and their causes, looked up once per batch, not once per row.
        let words = Words.causes
        let failure = Cause.ordered.map(\.isFailure)
        // The last word met and its index: rows come in log order, mostly of one cause (no search of the words).
        var last: (pointer: UnsafePointer<CChar>, index: Int?)? = nil
        for r in b.rollups where r.n > 0 && r.token < b.tokens.count {
            let index: Int?
            if let last, last.pointer == r.cause.pointer {
                index = last.index
            } else {
                index = words.firstIndex(where: { $0.pointer == r.cause.pointer })
                last = (r.cause.pointer, index)
            }
            guard let c = index, failure[c] else { continue }
            var e = entry[r.token]
            while e >= 0 && entries[Int(e)].cause != Int32(c) { e = entries[Int(e)].next }
            if e < 0 {
                entries.append((Int32(r.token), Int32(c), entry[r.token], 0, nil, nil))
                e = Int32(entries.count - 1)
                entry[r.token] = e
            }
            let k = Int(e)
            entries[k].n += r.n
            if let f = r.first, entries[k].first.map({ f < $0 }) ?? true { entries[k].first = f }
            if let l = r.last, entries[k].last.map({ l > $0 }) ?? true { entries[k].last = l }
        }
        for e in entries {
            let slot = Int(e.slot)
            let key = Key(cause: Cause.ordered[Int(e.cause)], iss: b.tokens[slot].iss, kid: b.tokens[slot].kid)
            guard groups.count < Self.groupLimit || groups[key] != nil else {
                untracked += e.n
                continue
            }
            // In place (the dictionary's modify accessor): a copied group would copy its token set on insert.
            Self.add(
                (e.n, e.first, e.last), fingerprint: b.tokens[slot].fingerprint,
                to: &groups[key, default: Group(key: key)], held: &keysHeld)
        }
    }

    private static func add(
        _ e: (n: Int, first: Double?, last: Double?), fingerprint: String, to g: inout Group, held: inout Int
    ) {
        g.sightings += e.n
        let word = SHA256Digest.firstWord(ofHex: fingerprint)
        if held < keyBudget {
            if g.tokens.insert(word: word) { held += 1 }
        } else if !g.tokens.contains(word: word) {
            g.tokens.missed()
        }
        if let f = e.first, g.first.map({ f < $0 }) ?? true { g.first = f }
        if let l = e.last, g.last.map({ l > $0 }) ?? true { g.last = l }
    }

    /// The largest groups, most sightings first.
    public func top(_ n: Int) -> [Group] {
        Array(
            groups.values.sorted {
                $0.sightings != $1.sightings
                    ? $0.sightings > $1.sightings
                    : ($0.key.cause, $0.key.iss ?? "", $0.key.kid ?? "") < (
                        $1.key.cause, $1.key.iss ?? "", $1.key.kid ?? ""
                    )
            }.prefix(n))
    }
}

/// The short end-of-run summary `scan` prints on stderr.
public enum Summary {
    /// The top findings in words, one line each: "expired: 32 sightings of 12 tokens from https://idp.example (kid
    /// rsa-2023-11), 2023-11-14 08:01:12–08:47:50 UTC". Issuer and kid come from tokens: escaped for a terminal
    /// and cut short.
    public static func findings(_ groups: [FailureGroups.Group], untracked: Int = 0) -> String {
        guard !groups.isEmpty else { return "" }
        var out = "top findings:\n"
        for g in groups {
            let tokens =
                "\(g.tokensExact ? "" : "≥ ")\(g.tokens.count) token\(g.tokens.count == 1 && g.tokensExact ? "" : "s")"
            var line = "  \(g.key.cause.rawValue): \(g.sightings) sighting\(g.sightings == 1 ? "" : "s") of \(tokens)"
            line += g.key.iss.map { " from \(shown($0))" } ?? " without an issuer"
            line += g.key.kid.map { " (kid \(shown($0)))" } ?? " (no kid)"
            if let span = span(g.first, g.last) { line += ", \(span)" }
            out += line + "\n"
        }
        if untracked > 0 {
            out +=
                "  (\(untracked) more failed sightings under issuer/kid pairs beyond the first \(FailureGroups.groupLimit) were not ranked: see the report)\n"
        }
        return out
    }

    /// A value from a token as one safe, short piece of a terminal line.
    static func shown(_ s: String) -> String {
        let v = UntrustedText.display(s)
        guard v.count > 64 else { return v }
        return String(v.prefix(63)) + "…"
    }

    /// "2023-11-14 08:01:12–08:47:50 UTC" (the date once when both times fall on one day).
    static func span(_ first: Double?, _ last: Double?) -> String? {
        guard let first, let last else { return nil }
        let a = CivilTime.iso8601(first.rounded(.down))
        let b = CivilTime.iso8601(last.rounded(.down))
        // "YYYY-MM-DDThh:mm:ssZ"
        let (dayA, timeA) = (a.prefix(10), a.dropFirst(11).prefix(8))
        let (dayB, timeB) = (b.prefix(10), b.dropFirst(11).prefix(8))
        if a == b { return "at \(dayA) \(timeA) UTC" }
        return dayA == dayB ? "\(dayA) \(timeA)–\(timeB) UTC" : "\(dayA) \(timeA) – \(dayB) \(timeB) UTC"
    }

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
