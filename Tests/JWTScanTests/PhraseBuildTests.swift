import SiftCore
import Testing

@testable import JWTScan

/// The rule table and the matcher built at startup are the same, field for field, whatever the builder's speed:
/// the table against a plain, slow derivation of the same inputs written here, and both against fingerprints pinned
/// when the fast builder was written (issue 15: a faster start, not a different classifier).
@Suite("Phrase table build")
struct PhraseBuildTests {
    /// FNV-1a over a stream of fields, each length-prefixed (so `["ab", "c"]` and `["a", "bc"]` differ).
    struct Fingerprint {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325

        mutating func add(_ bytes: some Sequence<UInt8>) {
            var n = 0
            for b in bytes {
                value = (value ^ UInt64(b)) &* 0x0100_0000_01B3
                n += 1
            }
            add(n)
        }

        mutating func add(_ n: Int) {
            var v = UInt64(bitPattern: Int64(n))
            for _ in 0..<8 {
                value = (value ^ (v & 0xFF)) &* 0x0100_0000_01B3
                v >>= 8
            }
        }

        mutating func add(_ s: String) { add(s.utf8) }
    }

    static func fingerprint(_ rules: [PhraseRule]) -> UInt64 {
        var f = Fingerprint()
        f.add(rules.count)
        for r in rules {
            f.add(r.row)
            f.add(r.emitter)
            f.add(r.fragments.count)
            for fragment in r.fragments { f.add(fragment) }
            f.add(r.cause.rawValue)
            f.add(r.alternative?.rawValue ?? "-")
            f.add(r.priority)
            f.add(r.captures.count)
            for c in r.captures { f.add(String(describing: c)) }
        }
        return f.value
    }

    static func fingerprint(_ m: PhraseMatcher) -> UInt64 {
        var f = Fingerprint()
        f.add(fingerprint(m.rules).description)
        for rule in m.folded {
            f.add(rule.count)
            for fragment in rule { f.add(fragment) }
        }
        f.add(m.wholeWord)
        f.add(m.camelCaseEdges.map { $0 ? 1 : 0 })
        f.add(m.singleFragment.map { $0 ? 1 : 0 })
        f.add(m.needsStrongContext.map { $0 ? 1 : 0 })
        for (a, b) in m.ranks {
            f.add(a)
            f.add(b)
        }
        f.add(m.anchorBytes)
        f.add(m.anchorRules.count)
        for r in m.anchorRules { f.add(r) }
        for words in [m.lookAlike, m.lookAlikeExceptions, m.context, m.claimContext, m.tokenWords, m.strongContext] {
            f.add(words.count)
            for w in words { f.add(w) }
        }
        for flags in [m.softLookAlike, m.tlsLookAlike, m.contextOutsideCue] {
            f.add(flags.map { $0 ? 1 : 0 })
        }
        f.add(m.bitmap.count)
        for w in m.bitmap { f.add(Int(bitPattern: UInt(w))) }
        f.add(m.bitmap2.count)
        for w in m.bitmap2 { f.add(Int(bitPattern: UInt(w))) }
        f.add(m.anchorIndex.count)
        for w in m.anchorIndex { f.add(Int(w)) }
        f.add(m.anchorList.count)
        for a in m.anchorList {
            f.add(a.fragmentStart)
            f.add(a.fragmentCount)
            f.add(a.quadOffset)
            f.add(a.rulesStart)
            f.add(a.rulesCount)
        }
        return f.value
    }

    // The two pinned fingerprints below are of the tables as they stood when the builder was made faster (issue 15):
    // a change to a rule, a cue or a look-alike word changes them on purpose, and then they are pinned again (print
    // them from a failing run). The slow derivation further down is what guards the builder itself.
    @Test("the rule table's fingerprint is the one pinned before the builder was made faster")
    func pinnedRules() {
        #expect(Self.fingerprint(PhraseTable.rules) == 10_584_820_114_080_604_171)
        #expect(PhraseTable.rules.count == 7371)
    }

    @Test("the matcher's tables' fingerprint is the one pinned before the builder was made faster")
    func pinnedMatcher() {
        #expect(Self.fingerprint(PhraseMatcher()) == 5_138_460_335_886_089_272)
    }

    @Test("the standard matcher, built once and shared, has the same tables and the caller's clock")
    func standardMatcher() {
        let parser = TimestampParser(zone: .utc, fallbackYear: 2019, fallbackMonth: 3)
        let m = PhraseMatcher.standard(timeParser: parser)
        #expect(Self.fingerprint(m) == Self.fingerprint(PhraseMatcher()))
        #expect(m.parser.fallbackYear == 2019 && m.parser.fallbackMonth == 3)
        #expect(PhraseMatcher.standard().parser.fallbackYear != 2019)
    }

    @Test("the rule table is what a plain derivation of the same inputs gives, rule for rule")
    func sameAsSlowDerivation() {
        let slow = SlowPhraseTable.rules()
        let fast = PhraseTable.rules
        #expect(slow.count == fast.count)
        for (i, (a, b)) in zip(slow, fast).enumerated() {
            let same =
                a.row == b.row && a.emitter == b.emitter && a.fragments == b.fragments && a.cause == b.cause
                && a.alternative == b.alternative && a.priority == b.priority && a.captures == b.captures
            #expect(same, "rule \(i): \(a.row) \(a.fragments) against \(b.row) \(b.fragments)")
            if !same { break }
        }
        #expect(Self.fingerprint(slow) == Self.fingerprint(fast))
    }

    @Test("a changed rule changes the fingerprint (the comparison can fail)")
    func fingerprintSeesChanges() {
        var rules = Array(PhraseTable.rules.prefix(50))
        let before = Self.fingerprint(rules)
        rules[7].fragments[0] += " "
        #expect(Self.fingerprint(rules) != before)
        rules = Array(PhraseTable.rules.prefix(50))
        rules.swapAt(3, 4)
        #expect(Self.fingerprint(rules) != before)
    }
}

/// The rule table derived the plain way — Strings, `split`, `filter` and `map`, a dictionary of sets — from the
/// same inputs as ``PhraseTable/rules`` (the researched rules, the sourced text table, the extra and generic
/// rules): slow, and obviously what the comments of ``PhraseTable/rules`` say.
enum SlowPhraseTable {
    static func rules() -> [PhraseRule] {
        var all = PhraseTable.researchedRules.map { rule -> PhraseRule in
            var r = rule
            if let first = r.fragments.first, let alt = PhraseTable.ambiguous[first] { r.alternative = alt }
            return r
        }
        all += sourced(PhraseTable.sourcedTable)
        // The causes of the table's rules (as it stands here, before any derived rule) whose first part begins with
        // `prefix`, ASCII case folded.
        let base = all
        func lower(_ s: String) -> [UInt8] { s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }
        let firsts = base.filter { !$0.isGeneric }.map { (text: lower($0.fragments[0]), cause: $0.cause) }
        func causes(_ prefix: String) -> Set<Cause> {
            let p = lower(prefix)
            return Set(firsts.filter { $0.text.starts(with: p) }.map(\.cause))
        }
        let firstParts: [PhraseRule] = base.filter { $0.fragments.count > 1 && $0.fragments[0].utf8.count >= 16 }
            .map { rule in
                var r = rule
                r.fragments = [rule.fragments[0]]
                r.captures = []
                if causes(rule.fragments[0]).count > 1 {
                    r.cause = .other
                    r.alternative = nil
                }
                return r
            }
        all += firstParts
        all += all.compactMap { rule -> PhraseRule? in
            guard rule.fragments.count == 1, rule.fragments[0].utf8.count >= 60 else { return nil }
            let bytes = Array(rule.fragments[0].utf8)
            var cut = bytes.count * 2 / 3
            while cut > 32 && bytes[cut] != 0x20 { cut -= 1 }
            guard cut > 32 else { return nil }
            var r = rule
            r.fragments = [String(decoding: bytes[0..<cut], as: UTF8.self)]
            r.captures = []
            if causes(r.fragments[0]).count > 1 {
                r.cause = .other
                r.alternative = nil
            }
            return r
        }
        all += codes(all)
        all += PhraseTable.extraRules
        all += PhraseTable.genericRules
        let quoted = all.filter { $0.fragments.contains { $0.contains("\"") } }
        all += quoted.map { rule in
            var r = rule
            r.fragments = rule.fragments.map { String($0.flatMap { $0 == "\"" ? ["\\", "\""] : [$0] }) }
            return r
        }
        all += quoted.compactMap { rule in
            guard rule.fragments.count > 1 || rule.fragments[0].filter({ $0 == "\"" }).count % 2 == 0 else {
                return nil
            }
            var r = rule
            r.fragments = rule.fragments.map { $0.filter { $0 != "\"" && $0 != "'" && $0 != "`" } }
            guard r.fragments.contains(where: { $0.utf8.count >= 8 }), !r.fragments.contains(where: \.isEmpty)
            else { return nil }
            return r
        }
        return all
    }

    static func sourced(_ table: String) -> [PhraseRule] {
        table.split(separator: "\n").compactMap { line -> PhraseRule? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 8, f.last == "|", let cause = Cause(rawValue: f[2]) else { return nil }
            let codes: [String: PhraseCapture] = [
                "exp": .exp, "nbf": .nbf, "now": .now, "dms": .deltaMilliseconds, "ds": .deltaSeconds,
                "sms": .skewMilliseconds, "ss": .skewSeconds, "go": .goDuration, "in": .inner,
            ]
            let captures = f[5].split(separator: ",", omittingEmptySubsequences: false).map {
                codes[String($0)] ?? .ignore
            }
            return PhraseRule(
                row: f[0], emitter: f[1], fragments: Array(f[6..<(f.count - 1)]), cause: cause,
                captures: captures.allSatisfy { $0 == .ignore } ? [] : captures,
                alternative: Cause(rawValue: f[3]), priority: Int(f[4]) ?? 0)
        }
    }

    static func codes(_ rules: [PhraseRule]) -> [PhraseRule] {
        var out: [PhraseRule] = []
        for rule in rules where !rule.isGeneric {
            guard let code = code(rule.fragments[0]) else { continue }
            if let k = out.firstIndex(where: { $0.fragments[0] == code }) {
                if out[k].cause != rule.cause {
                    out[k].cause = .other
                    out[k].alternative = nil
                } else if out[k].alternative != rule.alternative {
                    out[k].alternative = nil
                }
            } else {
                var r = rule
                r.fragments = [code]
                r.captures = []
                out.append(r)
            }
        }
        return out
    }

    /// 2–8 capitals, 3–7 digits, an optional capital, a colon; 8 bytes at least.
    static func code(_ text: String) -> String? {
        let b = Array(text.utf8)
        let capitals = b.prefix { $0 >= 0x41 && $0 <= 0x5A }.count
        guard (2...8).contains(capitals) else { return nil }
        let digits = b.dropFirst(capitals).prefix { $0 >= 0x30 && $0 <= 0x39 }.count
        guard (3...7).contains(digits) else { return nil }
        var end = capitals + digits
        if end < b.count, b[end] >= 0x41, b[end] <= 0x5A { end += 1 }
        guard end < b.count, b[end] == 0x3A, end + 1 >= 8 else { return nil }
        return String(decoding: b[0...end], as: UTF8.self)
    }
}
