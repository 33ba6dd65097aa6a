import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// The verdict judge's memory of many distinct tokens (issue 15: a log of 530 k distinct HS256 tokens drawn from a
/// 700 k pool met most of its repeats after the 64 k-entry cache of whole analyses had let them go, and analysed
/// them again: 1.04 M analyses for 560 k distinct tokens).
///
/// A token's analysis is kept as a **shape** and a few numbers. The shape is the analysis with what differs from
/// token to token of one issuer and header cleared (length, `sub`, `iat`, `nbf`, `exp`): tokens of one issuer and
/// header share one (the store holds at most ``shapeLimit``). The numbers sit in one 48-byte slot per token: no
/// reference, no allocation. A token met again is rebuilt from its shape and slot (a copy of the shape, its
/// numbers set), which is the analysis it had.
///
/// Slots are set-associative: ``ways`` slots per bucket, the bucket chosen by bits of the fingerprint's first word,
/// that word kept for each way side by side (a bucket's in one cache line: a miss reads one line), the second word
/// checked in the slot. A token is known by these two words, 128 of the fingerprint's 256 bits (a collision would
/// need ≈ 2^64 SHA-256 computations). A full bucket replaces one of its ways, chosen by the incoming fingerprint's
/// last word: the store holds at most ``maximumCapacity`` tokens whatever the log, and a crafted run of
/// fingerprints into one bucket only turns that bucket over.
///
/// What is not kept (the judge's other memory handles it): an analysis with details (header, claims, attempts),
/// a `malformed` or `truncated` one (their reasons name the token's own bytes and lengths), a `sub` longer than
/// ``subLimit`` bytes, claim times that do not fit the slot exactly (see ``times(_:into:)``), and a token whose first word
/// is zero (the empty mark).
///
/// The memory is mapped zeroed from the system (in huge pages where it allows), and pages untouched by a small log
/// cost nothing. Not thread-safe: one judging thread.
final class VerdictStore {
    /// Ways per bucket.
    static let ways = 8
    /// Shapes kept at most; past it the store starts over (every slot and shape dropped).
    static let shapeLimit = 4096
    /// Longest `sub` kept (bytes of UTF-8, inline in the slot).
    static let subLimit = 15

    /// One token's numbers (48 bytes, trivially copied).
    struct Slot {
        var w1: UInt64 = 0
        /// The first claim time present (iat, else exp, else nbf), its bits.
        var base: Double = 0
        var subLo: UInt64 = 0
        var subHi: UInt64 = 0
        /// exp and nbf as whole seconds from `base`.
        var expDelta: Int32 = 0
        var nbfDelta: Int32 = 0
        var length: UInt32 = 0
        var shape: UInt16 = 0
        /// Which of iat (1), exp (2), nbf (4) are present; 8: `sub` present.
        var present: UInt8 = 0
        var subCount: UInt8 = 0
    }

    /// Tokens held at most.
    let maximumCapacity: Int
    /// Tokens held at most now: the table starts with a few buckets of the mapped memory (a small log touches a few
    /// pages) and doubles while more than half full, up to ``maximumCapacity``.
    var capacity: Int { buckets * Self.ways }
    private var buckets: Int
    private let maximumBuckets: Int
    /// `tags[b * ways + w]`: the first word of the fingerprint in way w of bucket b, 0 when empty.
    private let tags: UnsafeMutablePointer<UInt64>
    private let slots: UnsafeMutablePointer<Slot>
    /// The shapes, by index (``shapeCount`` of them, read in place: no copy per comparison); and their indexes by a
    /// hash of their fields.
    private let shapes: UnsafeMutablePointer<TokenAnalysis>
    private(set) var shapeCount = 0
    private var shapeIndex: [Int: [UInt16]] = [:]
    /// The shapes most recently found or added, newest first (a log's tokens mostly share a few).
    private var recent: [Int] = []

    /// Tokens held now.
    private(set) var count = 0
    /// Tokens let go to make room for others (a full bucket's way replaced).
    private(set) var evictions = 0
    /// Times the store started over because its shapes were full.
    private(set) var restarts = 0

    /// Room for about `limit` tokens (rounded up to a power of two of buckets of ``ways``, at least one), starting
    /// with at most `initialBuckets`.
    init(limit: Int, initialBuckets: Int = 1 << 10) {
        var buckets = 1
        while buckets * Self.ways < limit { buckets <<= 1 }
        maximumBuckets = buckets
        maximumCapacity = buckets * Self.ways
        while buckets > max(1, initialBuckets) { buckets >>= 1 }
        self.buckets = buckets
        tags = Self.map(maximumCapacity * MemoryLayout<UInt64>.stride).bindMemory(
            to: UInt64.self, capacity: maximumCapacity)
        slots = Self.map(maximumCapacity * MemoryLayout<Slot>.stride).bindMemory(
            to: Slot.self, capacity: maximumCapacity)
        shapes = .allocate(capacity: Self.shapeLimit)
    }

    /// Zeroed memory from the system, in huge pages where it allows (`MADV_HUGEPAGE`): every probe lands on a
    /// random page, and with 4 KiB pages most probes also missed the address translation cache.
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            fatalError("jwtsift: out of memory (\(bytes) bytes for the verdict store)")
        }
        _ = madvise(p, bytes, MADV_HUGEPAGE)
        return p
    }

    deinit {
        munmap(tags, maximumCapacity * MemoryLayout<UInt64>.stride)
        munmap(slots, maximumCapacity * MemoryLayout<Slot>.stride)
        shapes.deinitialize(count: shapeCount)
        shapes.deallocate()
    }

    /// Reads the buckets of `prints` (no answer): their look-ups and insertions that follow then find them in the
    /// processor's cache, and these independent reads overlap where one probe after another waits for each.
    func warm(_ prints: UnsafeBufferPointer<SHA256Digest>) {
        var x: UInt64 = 0
        for d in prints {
            let b = bucket(d)
            x ^= tags[b] ^ slots[b].w1 ^ slots[b + Self.ways / 2].w1
        }
        warmed = x
    }
    private var warmed: UInt64 = 0

    @inline(__always)
    private func bucket(_ d: SHA256Digest) -> Int {
        Self.bucket(d.w0, buckets)
    }

    /// The first way of the bucket of a fingerprint whose first word is `w0`, in a table of `buckets`: by bits of
    /// the word kept in ``tags``, so that a doubling finds where each held token goes.
    @inline(__always)
    private static func bucket(_ w0: UInt64, _ buckets: Int) -> Int {
        Int(truncatingIfNeeded: (w0 >> 20) & UInt64(buckets - 1)) * ways
    }

    /// Twice the buckets, in place: a token of bucket b stays there or moves to bucket b + the old count (the next
    /// bit of its first word), whose ways are all empty.
    private func grow() {
        let old = buckets
        buckets = 2 * old
        for b in 0..<old {
            var free = (b + old) * Self.ways
            for w in 0..<Self.ways {
                let i = b * Self.ways + w
                let t = tags[i]
                guard t != 0, Self.bucket(t, buckets) != b * Self.ways else { continue }
                tags[free] = t
                slots[free] = slots[i]
                tags[i] = 0
                free += 1
            }
        }
    }

    /// The slot index holding `d`, if any.
    @inline(__always)
    func find(_ d: SHA256Digest) -> Int? {
        guard d.w0 != 0 else { return nil }
        let b = bucket(d)
        for w in 0..<Self.ways where tags[b + w] == d.w0 && slots[b + w].w1 == d.w1 { return b + w }
        return nil
    }

    /// The analysis held at `slot` (from ``find(_:)``), rebuilt.
    func analysis(at slot: Int) -> TokenAnalysis {
        let s = slots[slot]
        var a = shapes[Int(s.shape)]
        a.length = Int(s.length)
        if s.present & 1 != 0 { a.iat = s.base }
        if s.present & 2 != 0 { a.exp = s.present & 1 != 0 ? s.base + Double(s.expDelta) : s.base }
        if s.present & 4 != 0 { a.nbf = s.present & 3 != 0 ? s.base + Double(s.nbfDelta) : s.base }
        if s.present & 8 != 0 {
            a.sub = withUnsafeBytes(of: (s.subLo, s.subHi)) { b in
                String(decoding: UnsafeRawBufferPointer(rebasing: b.prefix(Int(s.subCount))), as: UTF8.self)
            }
        }
        return a
    }

    /// Keeps `x`'s analysis for the token with fingerprint `d`, when it can be kept (see the type's notes). True when kept.
    @discardableResult
    func insert(_ d: SHA256Digest, _ x: JudgedSighting.Shared) -> Bool {
        guard d.w0 != 0, x.analysis.attempts.isEmpty, x.analysis.header == nil, x.analysis.claims == nil,
            !x.analysis.causes.contains(.malformed), !x.analysis.causes.contains(.truncated),
            x.analysis.length <= Int(UInt32.max)
        else { return false }
        var slot = Slot()
        slot.w1 = d.w1
        slot.length = UInt32(x.analysis.length)
        guard Self.times(x, into: &slot) else { return false }
        if var sub = x.analysis.sub {
            let fits = sub.withUTF8 { b -> Bool in
                guard b.count <= Self.subLimit else { return false }
                var words: (UInt64, UInt64) = (0, 0)
                withUnsafeMutableBytes(of: &words) {
                    UnsafeMutableRawBufferPointer(rebasing: $0[..<b.count]).copyMemory(from: UnsafeRawBufferPointer(b))
                }
                slot.subLo = words.0
                slot.subHi = words.1
                slot.subCount = UInt8(b.count)
                return true
            }
            guard fits else { return false }
            slot.present |= 8
        }
        guard let shape = shapeOf(x) else { return false }
        slot.shape = shape
        if 2 * count >= capacity && buckets < maximumBuckets { grow() }
        let b = bucket(d)
        var way = -1
        for w in 0..<Self.ways {
            let t = tags[b + w]
            if t == d.w0 && slots[b + w].w1 == d.w1 {
                way = w
                break
            }
            if t == 0 && way < 0 { way = w }
        }
        if way < 0 {
            // Full: one way chosen by the incoming fingerprint's bits.
            way = Int(truncatingIfNeeded: d.w3 % UInt64(Self.ways))
            evictions += 1
        } else if tags[b + way] == 0 {
            count += 1
        }
        tags[b + way] = d.w0
        slots[b + way] = slot
        return true
    }

    /// Keeps `a` (for tests).
    @discardableResult
    func insert(_ d: SHA256Digest, _ a: TokenAnalysis) -> Bool { insert(d, JudgedSighting.Shared(a)) }

    /// Claim times that the slot holds exactly: the first present as its bits, the others as whole seconds from
    /// it within ±2^31 (as tokens' `exp` and `nbf` are); anything else is not kept.
    private static func times(_ x: JudgedSighting.Shared, into s: inout Slot) -> Bool {
        guard let base = x.analysis.iat ?? x.analysis.exp ?? x.analysis.nbf else { return true }
        s.base = base
        if x.analysis.iat != nil { s.present |= 1 }
        func delta(_ t: Double?, _ bit: UInt8, _ out: inout Int32) -> Bool {
            guard let t else { return true }
            s.present |= bit
            if s.present & (bit - 1) == 0 { return true }  // it is the base
            let d = t - base
            guard d.isFinite, d == d.rounded(), abs(d) < 2_147_483_647 else { return false }
            out = Int32(d)
            return (base + Double(out)).bitPattern == t.bitPattern
        }
        return delta(x.analysis.exp, 2, &s.expDelta) && delta(x.analysis.nbf, 4, &s.nbfDelta)
    }

    /// The index of `a`'s shape, added when new; nil (and the store starts over) when the shapes are full.
    private func shapeOf(_ x: JudgedSighting.Shared) -> UInt16? {
        for k in recent.indices where shapes[recent[k]].isSameShape(as: x) {
            let i = recent[k]
            if k > 0 { recent.swapAt(k, k - 1) }
            return UInt16(i)
        }
        let h = x.shapeHash
        let i: Int
        if let found = shapeIndex[h]?.first(where: { shapes[Int($0)].isSameShape(as: x) }) {
            i = Int(found)
        } else {
            if shapeCount >= Self.shapeLimit {
                startOver()
                return nil
            }
            (shapes + shapeCount).initialize(to: x.analysis.shape)
            shapeCount += 1
            i = shapeCount - 1
            shapeIndex[h, default: []].append(UInt16(i))
        }
        if recent.count < Self.recentShapes { recent.append(i) } else { recent[recent.count - 1] = i }
        return UInt16(i)
    }

    /// Shapes tried before the hash look-up.
    static let recentShapes = 8

    /// Drops every token and shape.
    func startOver() {
        memset(tags, 0, capacity * MemoryLayout<UInt64>.stride)
        // Kept at its size: the log that filled it goes on.
        shapes.deinitialize(count: shapeCount)
        shapeCount = 0
        shapeIndex.removeAll()
        recent.removeAll()
        count = 0
        restarts += 1
    }
}

extension TokenAnalysis {

    /// This analysis with what differs between tokens of one issuer and header cleared (see ``VerdictStore``).
    var shape: TokenAnalysis {
        var s = self
        s.length = 0
        s.sub = nil
        s.iat = nil
        s.nbf = nil
        s.exp = nil
        s.weakRecord = nil
        return s
    }

    /// Whether everything but the cleared fields (and the weak-secret record, which only the analysing batch reads)
    /// is the same as in `x`'s analysis (read through the reference: no copy of it).
    func isSameShape(as x: JudgedSighting.Shared) -> Bool {
        causes == x.analysis.causes && flags == x.analysis.flags && signature == x.analysis.signature
            && kind == x.analysis.kind && segments == x.analysis.segments
            && signatureLength == x.analysis.signatureLength && kid == x.analysis.kid && alg == x.analysis.alg
            && iss == x.analysis.iss && typ == x.analysis.typ && enc == x.analysis.enc && key == x.analysis.key
            && aud == x.analysis.aud && scope == x.analysis.scope && leeway == x.analysis.leeway
            && weakSecretFound == x.analysis.weakSecretFound && hints == x.analysis.hints
            && reasons.isSame(as: x.analysis.reasons) && attempts.isEmpty && x.analysis.attempts.isEmpty
            && header == nil && x.analysis.header == nil && claims == nil && x.analysis.claims == nil
    }

    /// The same against another analysis.
    func isSameShape(as o: TokenAnalysis) -> Bool { isSameShape(as: JudgedSighting.Shared(o)) }
}

extension JudgedSighting.Shared {
    /// A hash of the fields most likely to tell shapes apart.
    var shapeHash: Int {
        var h = Hasher()
        h.combine(analysis.causes.bits)
        h.combine(analysis.flags.rawValue)
        h.combine(analysis.kid)
        h.combine(analysis.alg)
        h.combine(analysis.iss)
        h.combine(analysis.signatureLength)
        return h.finalize()
    }
}
