import SiftCore

/// A hand-written multi-phrase matcher for verification error messages.
///
/// Each rule is anchored on `stride + 3` (eight) bytes of one of its fragments: the window whose quads are least
/// common in logs (``commonLogWords``), then rarest by letter. The `stride` quads starting in those bytes are filed
/// in two 32 KiB bitmaps under two independent 18-bit hashes. The per-line loop reads one unaligned 32-bit word
/// every `stride`-th byte, folds case with `| 0x20`, hashes and tests the first bitmap, and at a hit the second — a
/// fifth of the work of a byte-by-byte scan, and every occurrence of an anchor still covers one tested position.
/// (The stride is bounded by the shortest anchor: the IdentityModel codes such as `IDX10204` are eight bytes.)
/// Only when both hit are the anchors under the first hash compared (with the exact fold); a rule's other
/// fragments are searched only when its anchor matched. Among the rules found, the most specific wins (see
/// ``match(_:skipping:)``): priority, a cause over none, the longest text; a wrapper gives way to the message
/// inside it; a rule the look-alike guard silences gives way to the next.
public struct PhraseMatcher: Sendable {
    /// One fragment at one offset, shared by every rule anchored there (a message, its JSON-escaped form's
    /// neighbours, its first-part rule, the same words from another emitter): compared once per hit. It holds no
    /// array (copying it in the hot loop costs no retain): its fragment is a range of `anchorBytes` and its rules
    /// a range of `anchorRules`.
    struct Anchor: Sendable, Equatable {
        var fragmentStart: Int
        var fragmentCount: Int
        /// Offset of the anchor's four bytes inside the fragment.
        var quadOffset: Int
        var rulesStart = 0
        var rulesCount = 0
    }

    public let rules: [PhraseRule]
    let folded: [[[UInt8]]]
    /// Rules that are one identifier (`TokenExpired`, `IDX10223`, an exception class): they match only as a whole
    /// word, so `TokenExpired` does not fire inside `TokenExpiredError`. Bit 0: the identifier starts with a word
    /// byte (the byte before must not be one); bit 1: it ends with one. A code in brackets
    /// (`[next-auth][error][JWT_SESSION_ERROR]`) may follow anything (`←[0m[next-auth]…`).
    let wholeWord: [UInt8]
    /// Generic cues that are one identifier (`InvalidClaim`, `TokenExpired`) also stand inside a class name at its
    /// camel-case steps: `JwtInvalidClaimException`, `IdTokenIssuerError`. (A table row's class stays whole: its
    /// emitter's `TokenExpired` is not `TokenExpiredError`.)
    let camelCaseEdges: [Bool]
    /// Rules of one fragment (their anchor's fragment is the whole rule).
    let singleFragment: [Bool]
    /// ``rank(_:)`` of every rule, precomputed (plain integers: no rule struct is copied while matching).
    let ranks: [(Int, Int)]
    /// The folded fragments anchors point into.
    let anchorBytes: [UInt8]
    /// The rules of each anchor.
    let anchorRules: [Int]
    /// Folded ``PhraseTable/lookAlikeWords`` and ``PhraseTable/contextWords`` (each at least three bytes); which
    /// look-alike words are soft (``PhraseTable/softLookAlikeWords``); folded ``PhraseTable/tokenWords``.
    let lookAlike: [[UInt8]]
    /// Folded ``PhraseTable/lookAlikeExceptions``.
    let lookAlikeExceptions: [[UInt8]]
    let softLookAlike: [Bool]
    let tlsLookAlike: [Bool]
    let context: [[UInt8]]
    /// Per context word, whether it counts only outside the cue's own words (``PhraseTable/contextWordsOutsideCue``).
    let contextOutsideCue: [Bool]
    /// Folded ``PhraseTable/claimContextWords`` (whole words only).
    let claimContext: [[UInt8]]
    let tokenWords: [[UInt8]]
    /// Folded ``PhraseTable/strongContextWords``; per rule, whether it needs one (a cue in
    /// ``PhraseTable/strongContextCues``).
    let strongContext: [[UInt8]]
    let needsStrongContext: [Bool]
    let bitmap: [UInt64]
    /// The same quads under a second, independent hash: a window must hit both before the anchors are looked up
    /// (with ~10,000 quads filed, one bitmap alone lets ~1.5% of random windows through).
    let bitmap2: [UInt64]
    /// Anchors filed by quad hash: `anchorIndex[key]` packs the start in `anchorList` (high 20 bits) and the
    /// count (low 12 bits).
    let anchorIndex: [UInt32]
    let anchorList: [Anchor]
    var parser: TimestampParser

    /// Case fold used on both sides: ASCII lowercase, `_` and `-` → space (Envoy's `Jwt_is_expired`, an error
    /// code's `jwt/invalid-aud`), and the three ASCII quotes (`'`, `` ` ``, `"`) one quote: a message's
    /// `"exp" claim` logged as `'exp' claim`.
    static let fold: [UInt8] = {
        var t = ByteClass.lower
        t[0x5F] = 0x20
        t[0x2D] = 0x20
        t[0x27] = 0x22
        t[0x60] = 0x22
        return t
    }()

    /// How many raw bytes a folded pattern byte stands for, as the text loop's `| 0x20` sees them (a space is also
    /// an `_` or a `-`, a quote any of the three), and the `i`-th of them: no array per byte.
    @inline(__always)
    static func spellingCount(_ b: UInt8) -> Int { b == 0x20 || b == 0x22 ? 3 : 1 }

    @inline(__always)
    static func spelling(_ b: UInt8, _ i: Int) -> UInt8 {
        switch b {
        case 0x20: i == 0 ? 0x20 : i == 1 ? 0x5F : 0x2D
        case 0x22: i == 0 ? 0x22 : i == 1 ? 0x27 : 0x60
        default: b
        }
    }

    /// Approximate English letter frequencies (per mille); bytes that are not letters count as very common.
    static let commonness: [Int] = {
        var t = [Int](repeating: 200, count: 256)
        let letters = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)
        let freq = [127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1]
        for (c, f) in zip(letters, freq) { t[Int(c)] = f }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = 60 }
        return t
    }()

    /// The phrase window is tested at every `stride`-th byte.
    static let stride = 5

    /// Four pattern bytes as the text loop sees them: little-endian, each byte `| 0x20` (ASCII case fold).
    static func quadKey(_ b: [UInt8]) -> UInt32 {
        (UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24) | 0x2020_2020
    }

    /// Bits of the quad hash: the bitmap has `1 << hashBits` bits.
    static let hashBits = 18

    /// The 18-bit hash of a folded four-byte window.
    @inline(__always)
    static func quadHash(_ window: UInt32) -> Int { Int((window &* 0x9E37_79B1) &>> UInt32(32 - hashBits)) }

    /// A second 18-bit hash, independent of the first (another odd multiplier, other bits).
    @inline(__always)
    static func quadHash2(_ window: UInt32) -> Int {
        Int(((window ^ (window &>> 15)) &* 0x85EB_CA6B) &>> UInt32(32 - hashBits))
    }

    /// The four pattern bytes at `i`, as ``quadKey(_:)`` files them.
    static func quadKey(_ b: [UInt8], at i: Int) -> UInt32 {
        (UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24) | 0x2020_2020
    }

    /// Words that fill ordinary log lines — HTTP, user agents, clients, levels, logger vocabulary — whose quads an
    /// anchor avoids: `requ` (in `python-requests`, `request`) anchored `is required` and hit on most access-log
    /// lines; `http` in `HTTP/1.1` is in every one.
    static let commonLogWords = [
        "http", "https", "request", "requests", "response", "user", "users", "agent", "mozilla", "applewebkit",
        "khtml", "gecko", "chrome", "safari", "firefox", "windows", "macintosh", "linux", "android", "iphone",
        "curl", "python", "okhttp", "client", "server", "service", "status", "method", "content", "length",
        "application", "json", "error", "warning", "info", "debug", "trace", "notice", "message", "thread",
        "exec", "main", "java", "springframework", "upstream", "duration", "bytes", "connection", "health",
        "static", "index", "login", "time", "path", "host", "version", "null", "true", "false", "default",
        "handler", "context", "token", "bearer", "authorization", "get ", "post ", "delete", "options", "api/",
        "/api", "/v1/", "html", "text", "accept", "referer", "forwarded", "address", "remote", "local",
        "invalid", "failed", "unable", "cannot", "warn",
    ]

    /// Quads of ``commonLogWords`` as the text loop sees them, filed in a bitmap by ``quadHash(_:)`` (a rare
    /// false hit only moves an anchor).
    static let commonQuads: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: (1 << hashBits) / 64)
        for word in commonLogWords {
            let b = Array(word.utf8)
            for i in 0...(b.count - 4) {
                let key = quadHash(quadKey(b, at: i))
                bits[key >> 6] |= 1 << UInt64(key & 63)
            }
        }
        return bits
    }()

    @inline(__always)
    static func isCommon(_ quad: UInt32, _ bits: [UInt64]) -> Bool {
        let key = quadHash(quad)
        return bits[key >> 6] & (1 << UInt64(key & 63)) != 0
    }

    /// A 64-bit hash of a folded fragment, eight bytes a step (it only finds candidates: equal bytes decide).
    static func fragmentHash(_ fragment: [UInt8]) -> UInt64 {
        fragment.withUnsafeBytes { raw in
            let n = raw.count
            var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(n)
            var i = 0
            while i + 8 <= n {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
                h ^= h &>> 29
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(raw[i]) &<< shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
            return h ^ (h &>> 32)
        }
    }

    /// `text`'s bytes through `fold`, in one allocation.
    static func folded(_ text: String, _ fold: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let n = text.utf8.count
        return [UInt8](unsafeUninitializedCapacity: n) { out, count in
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { src in
                for i in 0..<n { out[i] = fold[Int(src[i])] }
            }
            if done == nil {
                var i = 0
                for b in text.utf8 {
                    out[i] = fold[Int(b)]
                    i += 1
                }
            }
            count = n
        }
    }

    /// The `stride + 3` bytes of a folded fragment (at least that long) whose quads are least common in logs, then
    /// rarest by letter, and their score: sliding sums of the letter score of the window's bytes and of the
    /// common quads starting in it; the first of equal scores.
    static func bestWindow(_ fragment: [UInt8], common: [Int], commonQuads: [UInt64]) -> (score: Int, at: Int) {
        let span = Self.stride + 3
        return fragment.withUnsafeBufferPointer { b in
            common.withUnsafeBufferPointer { common in
                commonQuads.withUnsafeBufferPointer { bits in
                    let n = b.count
                    precondition(n >= span)
                    let base = UnsafeRawPointer(b.baseAddress!)
                    @inline(__always) func isCommon(_ i: Int) -> Int {
                        let key = Self.quadHash(base.loadUnaligned(fromByteOffset: i, as: UInt32.self) | 0x2020_2020)
                        return Int(truncatingIfNeeded: (bits[key &>> 6] &>> UInt64(key & 63)) & 1)
                    }
                    var letters = 0
                    for j in 0..<span { letters &+= common[Int(b[j])] }
                    var commonCount = 0
                    for k in 0..<Self.stride { commonCount &+= isCommon(k) }
                    var best = 0
                    var bestScore = Int.max
                    var i = 0
                    while true {
                        let score = letters &+ commonCount &* 10_000
                        if score < bestScore {
                            bestScore = score
                            best = i
                        }
                        guard i + span < n else { break }
                        letters &+= common[Int(b[i + span])] &- common[Int(b[i])]
                        commonCount &+= isCommon(i + Self.stride) &- isCommon(i)
                        i += 1
                    }
                    return (bestScore, best)
                }
            }
        }
    }

    public init(rules: [PhraseRule] = PhraseTable.rules, timeParser: TimestampParser = TimestampParser()) {
        self.rules = rules
        self.parser = timeParser
        let fold = Self.fold
        let folded = fold.withUnsafeBufferPointer { table in
            var out: [[[UInt8]]] = []
            out.reserveCapacity(rules.count)
            for rule in rules {
                var fragments: [[UInt8]] = []
                fragments.reserveCapacity(rule.fragments.count)
                for fragment in rule.fragments { fragments.append(Self.folded(fragment, table)) }
                out.append(fragments)
            }
            return out
        }
        self.folded = folded
        self.lookAlike = PhraseTable.lookAlikeWords.map { Array($0.utf8).map { fold[Int($0)] } }
        self.lookAlikeExceptions = PhraseTable.lookAlikeExceptions.map { Array($0.utf8).map { fold[Int($0)] } }
        self.softLookAlike = PhraseTable.lookAlikeWords.map(PhraseTable.softLookAlikeWords.contains)
        self.tlsLookAlike = PhraseTable.lookAlikeWords.map(PhraseTable.tlsLookAlikeWords.contains)
        precondition(
            (PhraseTable.lookAlikeWords + PhraseTable.contextWords + PhraseTable.tokenWords
                + PhraseTable.strongContextWords + PhraseTable.claimContextWords).allSatisfy {
                    $0.utf8.count >= 3
                },
            "look-alike and context words need three bytes (the trigram filter)")
        self.context = PhraseTable.contextWords.map { Array($0.utf8).map { fold[Int($0)] } }
        self.contextOutsideCue = PhraseTable.contextWords.map { PhraseTable.contextWordsOutsideCue.contains($0) }
        self.claimContext = PhraseTable.claimContextWords.map { Array($0.utf8).map { fold[Int($0)] } }
        self.tokenWords = PhraseTable.tokenWords.map { Array($0.utf8).map { fold[Int($0)] } }
        self.strongContext = PhraseTable.strongContextWords.map { Array($0.utf8).map { fold[Int($0)] } }
        self.needsStrongContext = rules.map {
            $0.isGeneric && $0.fragments.count == 1 && PhraseTable.strongContextCues.contains($0.fragments[0])
        }
        self.ranks = rules.map(Self.rank)
        self.singleFragment = rules.map { $0.fragments.count == 1 }
        self.camelCaseEdges = rules.map(\.isGeneric)
        self.wholeWord = rules.map { rule in
            guard rule.fragments.count == 1, let first = rule.fragments[0].utf8.first,
                let last = rule.fragments[0].utf8.last, !rule.fragments[0].utf8.containsByte(0x20)
            else { return 0 }
            return (Self.isWordByte(first) ? 1 : 0) | (Self.isWordByte(last) ? 2 : 0)
        }
        // One entry per anchor quad spelling: (hash, fragment, offset of the quad in it, rule). Sorted and grouped
        // below; no dictionary of arrays, no array per quad (startup is paid on every run).
        // Packed (high to low): hash (18 bits), fragment (14), offset of the quad in it (10), rule (16) — sorted as
        // plain integers.
        var entries: [UInt64] = []
        entries.reserveCapacity(rules.count * Self.stride * 2)
        var bitmap = [UInt64](repeating: 0, count: (1 << Self.hashBits) / 64)
        var bitmap2 = [UInt64](repeating: 0, count: (1 << Self.hashBits) / 64)
        var bytes: [UInt8] = []
        // Fragments already in `bytes`, by a 64-bit hash of their folded bytes (checked on a hit).
        var fragmentAt: [UInt64: (start: Int, count: Int, id: Int)] = [:]
        var fragmentStarts: [Int] = []
        var fragmentCounts: [Int] = []
        fragmentAt.reserveCapacity(rules.count)
        fragmentStarts.reserveCapacity(rules.count)
        fragmentCounts.reserveCapacity(rules.count)
        bytes.reserveCapacity(rules.count * 64)
        let span = Self.stride + 3
        let common = Self.commonness
        let commonQuads = Self.commonQuads
        for (r, fragments) in folded.enumerated() {
            // The `stride + 3` bytes, in any of the rule's fragments, whose quads are least common in logs, then
            // rarest by letter: a window checked every `stride` bytes always covers one of the `stride`
            // consecutive quads starting in it.
            var best = 0
            var bestFragment = -1
            var bestScore = Int.max
            for (f, fragment) in fragments.enumerated() where fragment.count >= span {
                let (score, at) = Self.bestWindow(fragment, common: common, commonQuads: commonQuads)
                if score < bestScore {
                    bestScore = score
                    best = at
                    bestFragment = f
                }
            }
            guard bestFragment >= 0 else {
                preconditionFailure("phrase rule \(rules[r].row) has no literal of \(span) bytes to anchor on")
            }
            let anchored = fragments[bestFragment]
            let hash = Self.fragmentHash(anchored)
            let fragment: Int
            if let known = fragmentAt[hash], known.count == anchored.count,
                bytes[known.start..<(known.start + known.count)].elementsEqual(anchored)
            {
                fragment = known.id
            } else {
                fragment = fragmentStarts.count
                fragmentAt[hash] = (bytes.count, anchored.count, fragment)
                fragmentStarts.append(bytes.count)
                fragmentCounts.append(anchored.count)
                bytes += anchored
            }
            for k in 0..<Self.stride {
                // The text side folds with `| 0x20`, which maps '_' to 0x7F and keeps the three quotes apart: file
                // every spelling (`Jwt_is_expired`, `'exp'`).
                // Most quads have one spelling (no space, no quote): no arrays for them.
                func file(_ v: UInt32) {
                    let window = v | 0x2020_2020
                    let key = Self.quadHash(window)
                    bitmap[key >> 6] |= 1 << UInt64(key & 63)
                    let key2 = Self.quadHash2(window)
                    bitmap2[key2 >> 6] |= 1 << UInt64(key2 & 63)
                    entries.append(
                        UInt64(key) << 40 | UInt64(fragment) << 26 | UInt64(best + k) << 16 | UInt64(r))
                }
                var plain = true
                for j in 0..<4 where anchored[best + k + j] == 0x20 || anchored[best + k + j] == 0x22 { plain = false }
                if plain {
                    file(Self.quadKey(anchored, at: best + k))
                } else {
                    // Every combination of the four bytes' spellings (a space is also `_` or `-`, a quote any of three),
                    // counted through like a mixed-radix number: no array per quad.
                    var digit = (0, 0, 0, 0)
                    let b0 = anchored[best + k]
                    let b1 = anchored[best + k + 1]
                    let b2 = anchored[best + k + 2]
                    let b3 = anchored[best + k + 3]
                    let n = (
                        Self.spellingCount(b0), Self.spellingCount(b1), Self.spellingCount(b2), Self.spellingCount(b3)
                    )
                    while true {
                        file(
                            UInt32(Self.spelling(b0, digit.0)) | UInt32(Self.spelling(b1, digit.1)) << 8
                                | UInt32(Self.spelling(b2, digit.2)) << 16 | UInt32(Self.spelling(b3, digit.3)) << 24)
                        digit.0 += 1
                        if digit.0 < n.0 { continue }
                        digit.0 = 0
                        digit.1 += 1
                        if digit.1 < n.1 { continue }
                        digit.1 = 0
                        digit.2 += 1
                        if digit.2 < n.2 { continue }
                        digit.2 = 0
                        digit.3 += 1
                        if digit.3 < n.3 { continue }
                        break
                    }
                }
            }
        }
        self.bitmap = bitmap
        self.bitmap2 = bitmap2
        precondition(
            rules.count < 1 << 16 && fragmentStarts.count < 1 << 14 && (fragmentCounts.max() ?? 0) < 1 << 10,
            "phrase table outgrew the packed anchor entries")
        // Bits 16–57 (hash, fragment, offset): the rule bits are already in order (see ``radixSort(_:passes:bits:from:)``).
        Self.radixSort(&entries, passes: 3, bits: 14, from: 16)
        var index = [UInt32](repeating: 0, count: 1 << Self.hashBits)
        var list: [Anchor] = []
        var anchorRules: [Int] = []
        list.reserveCapacity(entries.count)
        anchorRules.reserveCapacity(entries.count)
        var e = 0
        while e < entries.count {
            let key = entries[e] >> 40
            let first = list.count
            while e < entries.count, entries[e] >> 40 == key {
                let anchorBits = entries[e] >> 16
                let fragment = Int((anchorBits >> 10) & 0x3FFF)
                var a = Anchor(
                    fragmentStart: fragmentStarts[fragment], fragmentCount: fragmentCounts[fragment],
                    quadOffset: Int(anchorBits & 0x3FF))
                a.rulesStart = anchorRules.count
                while e < entries.count, entries[e] >> 16 == anchorBits {
                    let rule = Int(entries[e] & 0xFFFF)
                    if anchorRules.count == a.rulesStart || anchorRules.last != rule { anchorRules.append(rule) }
                    e += 1
                }
                a.rulesCount = anchorRules.count - a.rulesStart
                list.append(a)
            }
            precondition(list.count - first <= 0xFFF && first < 1 << 20, "too many phrase anchors under one hash")
            index[Int(key)] = UInt32(first) << 12 | UInt32(list.count - first)
        }
        self.anchorIndex = index
        self.anchorList = list
        self.anchorBytes = bytes
        self.anchorRules = anchorRules
    }

    /// Classifies `line` (bytes without the newline); nil when no rule matches.
    public func match(_ line: UnsafeRawBufferPointer) -> PhraseMatch? {
        match(line, skipping: [])
    }

    /// Classifies `line`, not looking inside `skip` ranges (the tokens already found on it).
    public func match(_ line: UnsafeRawBufferPointer, skipping skip: [Range<Int>]) -> PhraseMatch? {
        let n = line.count
        guard n >= 2 else { return nil }
        // Every rule whose fragments all matched, in the order found (rare: only lines with a message get here).
        var found: [(rule: Int, start: Int)] = []
        bitmap.withUnsafeBufferPointer { bits in
            bitmap2.withUnsafeBufferPointer { bits2 in
                // Scan each stretch between skipped ranges (the tokens) with a tight pointer loop.
                var segmentStart = 0
                var k = 0
                while segmentStart < n {
                    let segmentEnd = k < skip.count ? min(n, skip[k].lowerBound) : n
                    if segmentEnd - segmentStart >= 4 {
                        let base = line.baseAddress!
                        var i = segmentStart
                        while i + 4 <= segmentEnd {
                            let window = base.loadUnaligned(fromByteOffset: i, as: UInt32.self) | 0x2020_2020
                            let key = Self.quadHash(window)
                            if bits[key &>> 6] & (1 &<< UInt64(key & 63)) != 0 {
                                let key2 = Self.quadHash2(window)
                                if bits2[key2 &>> 6] & (1 &<< UInt64(key2 & 63)) != 0 {
                                    checkAnchors(key: key, at: i, line: line, found: &found)
                                }
                            }
                            i += Self.stride
                        }
                    }
                    guard k < skip.count else { break }
                    segmentStart = skip[k].upperBound
                    k += 1
                }
            }
        }
        guard !found.isEmpty else { return nil }
        // Where the message inside each wrapper found starts (after its last fragment); nil for other rules. (No
        // array at all on the usual line, which holds no wrapper.)
        var anyWrapper = false
        for f in found where givesWay(f.rule) || classMessageStart(f, in: line) != nil {
            anyWrapper = true
            break
        }
        var inner: [Int?] = []
        if anyWrapper {
            inner = found.map { f in
                givesWay(f.rule)
                    ? spans(rule: f.rule, in: line)?.last?.upperBound : classMessageStart(f, in: line)
            }
        }
        // The wrappers around a candidate: their words say what the line is about (`invalid session: Token is
        // expired` — Argo CD's session is the JWT), so a soft look-alike word they say does not silence it.
        func enclosing(_ k: Int) -> [Int] {
            guard anyWrapper else { return [] }
            return found.indices.filter { w in w != k && inner[w].map { $0 <= found[k].start } ?? false }.map {
                found[$0].rule
            }
        }
        // Most specific wins: priority, then a message that names a cause over one that names none (`other`:
        // "Unable to authenticate the request", "invalid_token"), then the longest literal text; on a tie the
        // first found. A candidate the look-alike guard silences gives way to the next. (Plain loops: no sort,
        // no closure retaining the arrays per comparison.)
        var rejected: [Bool] = []  // made on the first rejection
        func best(from innerStart: Int?) -> Int? {
            while true {
                var b = -1
                for k in found.indices where rejected.isEmpty || !rejected[k] {
                    if let innerStart, found[k].start < innerStart || rules[found[k].rule].cause == .other { continue }
                    if b < 0 || ranks[found[k].rule] > ranks[found[b].rule] { b = k }
                }
                guard b >= 0 else { return nil }
                if accepts(rule: found[b].rule, in: line, saidBy: enclosing(b)) { return b }
                if rejected.isEmpty { rejected = [Bool](repeating: false, count: found.count) }
                rejected[b] = true
            }
        }
        guard var pick = best(from: nil) else { return nil }
        // A wrapper's reason is the message inside it: the best accepted rule found there that names a cause,
        // even a generic cue, wins over the wrapper (`Unable to validate the token: should have a JSON content
        // type for JWKS endpoint`; `error verifying token signature: … oidc: get keys failed`).
        var depth = 0
        while anyWrapper, let innerStart = inner[pick], depth < 8, let next = best(from: innerStart) {
            pick = next
            depth += 1
        }
        let index = found[pick].rule
        let rule = rules[index]
        return PhraseMatch(
            ruleIndex: index, cause: rule.cause, alternative: rule.alternative,
            details: details(rule: index, line: line), start: found[pick].start)
    }

    /// A rule that gives way to a message after it that names a cause: a wrapper (its text ends in the inner
    /// error), and any message that names none (`other`: `Invalid JWT token.`, `Bearer was not authenticated.
    /// Failure message:`), whose next words are often the library's own (`JWT signature does not match …`).
    @inline(__always)
    func givesWay(_ rule: Int) -> Bool { rules[rule].isWrapper || rules[rule].cause == .other }

    /// Where the message after an exception class starts (`JwtParseError: Unexpected signature algorithm`): a row
    /// that is one identifier ending in `Error` or `Exception`, followed by `:`. The class is a wrapper there — the
    /// message says the cause, and the class only when the message names none (a library's class names its whole
    /// family of failures). Nil for other rules.
    func classMessageStart(_ f: (rule: Int, start: Int), in line: UnsafeRawBufferPointer) -> Int? {
        guard wholeWord[f.rule] == 3, !rules[f.rule].isGeneric else { return nil }
        let text = folded[f.rule][0]
        let end = f.start + text.count
        guard end < line.count, line[end] == UInt8(ascii: ":") else { return nil }
        func endsWith(_ suffix: String) -> Bool {
            let tail = Array(suffix.utf8)
            return text.count > tail.count && text[(text.count - tail.count)...].elementsEqual(tail)
        }
        return endsWith("error") || endsWith("exception") ? end + 1 : nil
    }

    private func checkAnchors(
        key: Int, at quadStart: Int, line: UnsafeRawBufferPointer, found: inout [(rule: Int, start: Int)]
    ) {
        let entry = anchorIndex[key]
        let first = Int(entry >> 12)
        let fold = Self.fold
        for k in first..<(first + Int(entry & 0xFFF)) {
            let a = anchorList[k]
            let start = quadStart - a.quadOffset
            guard start >= 0, start + a.fragmentCount <= line.count else { continue }
            var ok = true
            for j in 0..<a.fragmentCount where fold[Int(line[start + j])] != anchorBytes[a.fragmentStart + j] {
                ok = false
                break
            }
            guard ok else { continue }
            let end = start + a.fragmentCount
            // By index, not through a slice of `anchorRules` (a slice retains the array's buffer).
            var j = a.rulesStart
            while j < a.rulesStart + a.rulesCount {
                let rule = anchorRules[j]
                j += 1
                let edges = wholeWord[rule]
                if edges != 0 {
                    let camel = camelCaseEdges[rule]
                    if edges & 1 != 0 && start > 0 && Self.isWordByte(line[start - 1])
                        && !(camel && Self.isCamelStart(line, at: start))
                    {
                        continue
                    }
                    if edges & 2 != 0 && end < line.count && Self.isWordByte(line[end])
                        && !(camel && Self.isClassSuffix(line, at: end))
                    {
                        continue
                    }
                }
                // A one-fragment rule is its anchor's fragment, just compared here; others are searched in order.
                if singleFragment[rule] {
                    found.append((rule, start))
                } else if let firstStart = locate(rule: rule, in: line) {
                    found.append((rule, firstStart))
                }
            }
        }
    }

    /// A match stands unless the line is a look-alike (a certificate, a password, a refresh token…) that the
    /// rule's own text does not mention; a generic cue also needs a word that makes the line about a token.
    /// A look-alike word counts only where a word starts (`lease` is not in `Please`; `Csrf` is in `VerifyCsrfToken`);
    /// a soft one (a session, a cookie, a JSON lexer's `Unexpected token`) does not count on a line that names a
    /// JWT, a bearer token, an ID token or OIDC, nor when a wrapper around the message says it (`invalid session:
    /// Token is expired`): those say which token the line is about. A hard word a wrapper says stays a look-alike
    /// for the message inside it (`Failed to retrieve verification certificates: … certificate has expired`).
    /// Runs only on lines that matched (rare), so the words are searched plainly.
    func accepts(rule index: Int, in line: UnsafeRawBufferPointer, saidBy wrappers: [Int] = []) -> Bool {
        let ownText = folded[index]
        let wrapperText = wrappers.flatMap { folded[$0] }
        let isGeneric = rules[index].isGeneric
        // One pass files every folded trigram of the line in a 4096-bit set; a word is searched only when its
        // first three bytes occur, instead of ~30 searches over the whole line.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 64) { bits in
            bits.initialize(repeating: 0)
            let fold = Self.fold
            if line.count >= 3 {
                for i in 0...(line.count - 3) {
                    let h = Self.trigramHash(fold[Int(line[i])], fold[Int(line[i + 1])], fold[Int(line[i + 2])])
                    bits[h &>> 6] |= 1 &<< UInt64(h & 63)
                }
            }
            // Every trigram of the word must be in the set (not only its first: `res` of `reset token` is in most
            // lines, `t t` is not), before the line is searched.
            func mayOccur(_ word: [UInt8]) -> Bool {
                var i = 0
                while i + 3 <= word.count {
                    let h = Self.trigramHash(word[i], word[i + 1], word[i + 2])
                    if bits[h &>> 6] & (1 &<< UInt64(h & 63)) == 0 { return false }
                    i += 1
                }
                return true
            }
            func occurs(_ word: [UInt8]) -> Bool {
                mayOccur(word) && Self.findFolded(word, in: line, from: 0) != nil
            }
            var namesToken: Bool?
            for (k, word) in lookAlike.enumerated()
            where mayOccur(word)
                && Self.findWordStart(
                    word, in: line, wholeWord: word.count <= 3, outsideURLs: true, except: lookAlikeExceptions)
            {
                // Fragments are folded already, and folding twice changes nothing: the same search serves.
                func says(_ text: [[UInt8]]) -> Bool {
                    text.contains { fragment in
                        fragment.withUnsafeBytes { Self.findFolded(word, in: $0, from: 0) != nil }
                    }
                }
                if says(ownText) { continue }
                if tlsLookAlike[k] && rules[index].cause == .key_fetch_failed { continue }
                if softLookAlike[k] {
                    if says(wrapperText) { continue }
                    if namesToken == nil { namesToken = tokenWords.contains(where: occurs) }
                    if namesToken == true { continue }
                }
                return false
            }
            guard isGeneric else { return true }
            // Where a word starts: `id token` is not in `Invalid token`, `kid` not in `skid`.
            if needsStrongContext[index] {
                return strongContext.contains { mayOccur($0) && Self.findWordStart($0, in: line) }
                    || Self.findExact(PhraseTable.bearerErrorCode.utf8, in: line)
            }
            // Where a catch-all cue (`other`) itself says a word of ``PhraseTable/contextWordsOutsideCue``, another
            // occurrence must (a cue that names a cause, `no authorization header`, is specific enough).
            var cueSpans: [Range<Int>]?? = nil
            func occursOutsideCue(_ word: [UInt8]) -> Bool {
                guard mayOccur(word) else { return false }
                if cueSpans == nil { cueSpans = spans(rule: index, in: line) }
                var from = 0
                while let at = Self.findFolded(word, in: line, from: from) {
                    let found = at..<(at + word.count)
                    if !(cueSpans!.map { $0.contains { $0.overlaps(found) } } ?? false) { return true }
                    from = at + 1
                }
                return false
            }
            let catchAll = rules[index].cause == .other
            return zip(context, contextOutsideCue).contains { word, outside in
                outside && catchAll ? occursOutsideCue(word) : occurs(word)
            }
                || claimContext.contains { mayOccur($0) && Self.findWordStart($0, in: line, wholeWord: true) }
        }
    }

    /// Whether `text` occurs in `line` byte for byte (no folding: `invalid_token` is not `Invalid token`).
    static func findExact(_ text: String.UTF8View, in line: UnsafeRawBufferPointer) -> Bool {
        let needle = Array(text)
        guard let first = needle.first, line.count >= needle.count else { return false }
        var i = 0
        while i + needle.count <= line.count {
            if line[i] == first {
                var k = 1
                while k < needle.count && line[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Whether `word` (folded) occurs in `line` where a word starts: after a byte that is not a letter or digit, or
    /// at a lowercase-to-uppercase step (`VerifyCsrfToken`). With `wholeWord`, it must also end there (`ssl` is
    /// not in `sslip.io`, `otp` not in `otpauth`, `exp` not in `EXPIRED`; `ssl` is in `SSLHandshakeException`).
    /// With `outsideURLs`, not inside a URL; never where one of `names` starts.
    static func findWordStart(
        _ word: [UInt8], in line: UnsafeRawBufferPointer, wholeWord: Bool = false, outsideURLs: Bool = false,
        except names: [[UInt8]] = []
    ) -> Bool {
        var from = 0
        while let at = findFolded(word, in: line, from: from) {
            from = at + 1
            if names.contains(where: { startsFolded($0, in: line, at: at) }) { continue }
            if at > 0 {
                let before = line[at - 1]
                let isAlnum =
                    ByteClass.isLowerLetter(before) || ByteClass.isUpperLetter(before) || ByteClass.isDigit(before)
                guard !isAlnum || Self.isCamelStart(line, at: at) else { continue }
            }
            if outsideURLs && Self.isInURL(line, at: at) { continue }
            if wholeWord, at + word.count < line.count {
                // Ends at a byte that is no letter or digit, or where a capitalised word follows an acronym
                // (`SSLHandshake`), not inside one word in capitals (`EXPIRED`).
                let after = line[at + word.count]
                if ByteClass.isLowerLetter(after) || ByteClass.isDigit(after) { continue }
                if ByteClass.isUpperLetter(after) {
                    let next = at + word.count + 1 < line.count ? line[at + word.count + 1] : 0
                    guard ByteClass.isLowerLetter(next) else { continue }
                }
            }
            return true
        }
        return false
    }

    /// Whether the folded `name` starts at `at` in `line`.
    static func startsFolded(_ name: [UInt8], in line: UnsafeRawBufferPointer, at: Int) -> Bool {
        guard at + name.count <= line.count else { return false }
        var k = 0
        while k < name.count && fold[Int(line[at + k])] == name[k] { k += 1 }
        return k == name.count
    }

    /// Whether `at` is inside a URL: the run of bytes around it up to a space, quote or bracket holds `://`
    /// (`…/active-directory-certificate-credentials` is documentation a message links to, not what failed).
    static func isInURL(_ line: UnsafeRawBufferPointer, at: Int) -> Bool {
        func isStop(_ b: UInt8) -> Bool {
            b <= 0x20 || b == 0x22 || b == 0x27 || b == 0x3C || b == 0x3E || b == 0x28 || b == 0x29 || b == 0x5B
                || b == 0x5D || b == 0x60
        }
        var start = at
        while start > 0 && !isStop(line[start - 1]) { start -= 1 }
        var i = start
        while i + 3 <= at {
            if line[i] == 0x3A && line[i + 1] == 0x2F && line[i + 2] == 0x2F { return true }
            i += 1
        }
        return false
    }

    /// A 12-bit hash of three folded bytes.
    @inline(__always)
    static func trigramHash(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int {
        Int(((UInt32(a) | UInt32(b) << 8 | UInt32(c) << 16) &* 0x9E37_79B1) &>> 20)
    }

    /// How a rule ranks among the rules that match one line (higher wins): priority, then naming a cause over
    /// `other`, then literal length.
    public static func rank(_ rule: PhraseRule) -> (Int, Int) {
        (rule.priority * 2 + (rule.cause == .other ? 0 : 1), rule.literalLength)
    }

    /// Sorts plain integers in four passes of 16 bits (least significant first, each pass stable): the anchor
    /// entries are ~10⁵ integers sorted on every run's start, where a comparison sort took a few milliseconds.
    static func radixSort(_ a: inout [UInt64]) {
        radixSort(&a, passes: 4, bits: 16, from: 0)
    }

    /// Sorts on `passes × bits` bits from bit `from` up, least significant digit first, each pass stable: equal keys
    /// keep their order. The anchor entries are made in rule order, so sorting them on everything above the rule
    /// (three passes of 14 bits, counts that fit in the L1 cache) orders them exactly as sorting the whole integers.
    static func radixSort(_ a: inout [UInt64], passes: Int, bits: Int, from: Int) {
        guard a.count > 1 else { return }
        let n = a.count
        var scratch = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << bits)
        let mask = UInt64(1 << bits - 1)
        counts.withUnsafeMutableBufferPointer { counts in
            for pass in 0..<passes {
                let shift = UInt64(from + bits * pass)
                a.withUnsafeMutableBufferPointer { src in
                    scratch.withUnsafeMutableBufferPointer { dst in
                        counts.update(repeating: 0)
                        for v in src { counts[Int((v &>> shift) & mask)] &+= 1 }
                        var sum = 0
                        for i in counts.indices {
                            let c = counts[i]
                            counts[i] = sum
                            sum &+= c
                        }
                        for v in src {
                            let d = Int((v &>> shift) & mask)
                            dst[counts[d]] = v
                            counts[d] &+= 1
                        }
                    }
                }
                swap(&a, &scratch)
            }
        }
    }

    /// A lowercase-to-uppercase step at `i` (`Jwt|InvalidClaim`): where a word starts inside a camel-case name.
    @inline(__always)
    static func isCamelStart(_ line: UnsafeRawBufferPointer, at i: Int) -> Bool {
        ByteClass.isLowerLetter(line[i - 1]) && ByteClass.isUpperLetter(line[i])
    }

    /// The class-name endings ``isClassSuffix(_:at:)`` looks for, as bytes (made once, not per call).
    static let classSuffixes: [[UInt8]] = [Array("Error".utf8), Array("Exception".utf8)]

    /// `Error` or `Exception` at `i`, ending a class name (`InvalidClaim|Exception`).
    static func isClassSuffix(_ line: UnsafeRawBufferPointer, at i: Int) -> Bool {
        for b in classSuffixes {
            guard i + b.count <= line.count else { continue }
            var k = 0
            while k < b.count && line[i + k] == b[k] { k += 1 }
            if k == b.count { return true }
        }
        return false
    }

    /// ASCII letters, digits and `_`: what continues an identifier.
    @inline(__always)
    static func isWordByte(_ b: UInt8) -> Bool {
        let l = b | 0x20
        return (l >= 0x61 && l <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }

    /// Finds all fragments of a rule in order; returns where the first starts.
    func locate(rule: Int, in line: UnsafeRawBufferPointer) -> Int? {
        spans(rule: rule, in: line)?.first?.lowerBound
    }

    /// The byte range of every fragment, in order.
    func spans(rule: Int, in line: UnsafeRawBufferPointer) -> [Range<Int>]? {
        var from = 0
        var out: [Range<Int>] = []
        for fragment in folded[rule] {
            guard let at = Self.findFolded(fragment, in: line, from: from) else { return nil }
            out.append(at..<(at + fragment.count))
            from = at + fragment.count
        }
        return out
    }

    static func findFolded(_ needle: [UInt8], in hay: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty else { return from }
        guard hay.count - from >= needle.count else { return nil }
        let fold = Self.fold
        var i = from
        while i <= hay.count - needle.count {
            var j = 0
            while j < needle.count, fold[Int(hay[i + j])] == needle[j] { j += 1 }
            if j == needle.count { return i }
            i += 1
        }
        return nil
    }

    /// Extracts the numbers a matched message carries.
    func details(rule index: Int, line: UnsafeRawBufferPointer) -> ErrorDetails {
        let rule = rules[index]
        var d = ErrorDetails()
        guard !rule.captures.isEmpty, let spans = spans(rule: index, in: line) else { return d }
        var deltaMs: Double?
        var skewMs: Double?
        for (k, capture) in rule.captures.enumerated() where capture != .ignore && k < spans.count {
            let start = spans[k].upperBound
            let end = k + 1 < spans.count ? spans[k + 1].lowerBound : line.count
            guard start <= end else { continue }
            let text = UnsafeRawBufferPointer(rebasing: line[start..<end])
            switch capture {
            case .ignore, .inner: break
            case .exp: d.exp = parser.messageTime(text)
            case .nbf: d.nbf = parser.messageTime(text)
            case .now: d.now = parser.messageTime(text)
            case .deltaMilliseconds: deltaMs = TimestampParser.number(text, 0)?.value
            case .skewMilliseconds: skewMs = TimestampParser.number(text, 0)?.value
            case .deltaSeconds: d.deltaSeconds = TimestampParser.number(text, 0)?.value
            case .skewSeconds: d.skewSeconds = TimestampParser.number(text, 0)?.value
            case .goDuration: d.deltaSeconds = Self.goDuration(text)
            }
        }
        if let skewMs { d.skewSeconds = skewMs / 1000 }
        if let deltaMs {
            var delta = deltaMs / 1000
            // jjwt ≤ 0.11 prints "a difference of" after subtracting the allowed skew (jwtk/jjwt#660).
            if rule.fragments.contains(where: { $0.contains("a difference of") }) { delta += d.skewSeconds ?? 0 }
            d.deltaSeconds = delta
        }
        if d.deltaSeconds == nil, let now = d.now {
            if let exp = d.exp, rule.cause == .expired {
                d.deltaSeconds = now - exp
            } else if let nbf = d.nbf, rule.cause == .not_yet_valid || rule.cause == .issued_in_future {
                d.deltaSeconds = nbf - now
            }
        }
        return d
    }

    /// Parses Go's `time.Duration` text: `7m0s`, `1h2m3.5s`, `350ms`, `2.5µs`, `-3s`.
    public static func goDuration(_ b: UnsafeRawBufferPointer) -> Double? {
        var i = 0
        var total = 0.0
        var sign = 1.0
        var any = false
        if i < b.count, b[i] == UInt8(ascii: "-") {
            sign = -1
            i += 1
        }
        while i < b.count {
            guard let (value, end) = TimestampParser.number(b, i) else { break }
            i = end
            var unit = 0.0
            var c = ByteCursor(b, index: i)
            if c.matches("ms") {
                unit = 1e-3
                i += 2
            } else if c.matches("\u{00B5}s") {
                unit = 1e-6
                i += 3
            } else if c.matches("us") {
                unit = 1e-6
                i += 2
            } else if c.matches("ns") {
                unit = 1e-9
                i += 2
            } else if c.eat(UInt8(ascii: "h")) {
                unit = 3600
                i += 1
            } else if c.eat(UInt8(ascii: "m")) {
                unit = 60
                i += 1
            } else if c.eat(UInt8(ascii: "s")) {
                unit = 1
                i += 1
            } else {
                break
            }
            total += value * unit
            any = true
        }
        return any ? sign * total : nil
    }
}
