import JOSECrypto
import JWTScan
import SiftCore

/// How `scan` verifies: keys, policy and how many threads check signatures.
public struct VerifyOptions: Sendable {
    public var keys: KeyRing
    public var policy: VerifyPolicy
    /// Issuers with keys and policy of their own (`--config`), by `iss`; tokens of other issuers are judged with
    /// ``keys`` and ``policy``.
    public var issuers: [String: IssuerScope]
    /// Threads checking signatures in parallel (`--jobs`).
    public var workers: Int
    /// Distinct tokens whose analysis is kept (memory stays bounded whatever the number of distinct tokens): the
    /// tokens met since the last turnover and those of the generation before it, each at most half of this. A
    /// token last met before both is analysed again.
    public var cacheLimit: Int
    /// Distinct tokens whose analysis is kept in compact form (``VerdictStore``: a shape shared by the tokens of
    /// one issuer and header, and 48 bytes per token; 2^19 tokens ≈ 28 MiB at most, touched as they fill), besides
    /// ``cacheLimit``; 0 keeps none.
    public var compactLimit: Int

    public init(
        keys: KeyRing, policy: VerifyPolicy = VerifyPolicy(), workers: Int, cacheLimit: Int = 1 << 16,
        compactLimit: Int = 1 << 19, issuers: [String: IssuerScope] = [:]
    ) {
        self.keys = keys
        self.policy = policy
        self.issuers = issuers
        self.workers = max(1, workers)
        self.cacheLimit = max(1, cacheLimit)
        self.compactLimit = max(0, compactLimit)
    }
}

/// Where the moment a sighting is judged at came from.
public enum TimeSource: String, Sendable {
    /// The log line's own timestamp.
    case line
    /// The line has none: the time of the scan.
    case scan
}

/// One token sighting with its verdict.
public struct JudgedSighting: Sendable {
    /// One token's analysis, held once and referenced by every sighting of it: a sighting costs one reference,
    /// not a copy of the analysis's strings and arrays.
    public final class Shared: Sendable {
        public let analysis: TokenAnalysis
        init(_ analysis: TokenAnalysis) { self.analysis = analysis }

        /// Judged in place: no copy of the analysis per sighting.
        func judge(at t: Double, leeway: Double) -> Verdict {
            TokenAnalysis.judge(
                causes: analysis.causes, exp: analysis.exp, nbf: analysis.nbf, iat: analysis.iat,
                signature: analysis.signature, at: t, leeway: leeway)
        }
        public var exp: Double? { analysis.exp }
        public var nbf: Double? { analysis.nbf }

        // What a writer of records reads per sighting, through the reference: a method of the analysis called on
        // `analysis` copies the whole analysis first (its texts and arrays retained and released each time).

        /// ``TokenAnalysis/isTimed(_:)``.
        public func isTimed(_ cause: Cause) -> Bool {
            TokenAnalysis.isTimed(
                cause, recorded: analysis.reasons[cause] != nil, exp: analysis.exp, nbf: analysis.nbf,
                iat: analysis.iat)
        }

        /// ``TokenAnalysis/timedReason(_:at:leeway:moment:text:duration:)``.
        public func timedReason(
            _ cause: Cause, at t: Double, leeway: Double, moment: String = "the log time",
            text part: (String) -> Void, duration: (Double) -> Void
        ) {
            TokenAnalysis.timedReason(
                cause, exp: analysis.exp, nbf: analysis.nbf, iat: analysis.iat, at: t, leeway: leeway, moment: moment,
                text: part, duration: duration)
        }
    }

    /// The token's analysis as one shared reference (read fields through it, without copying).
    public let shared: Shared
    /// The token's analysis, shared by every sighting of it.
    public var analysis: TokenAnalysis { shared.analysis }
    public var verdict: Verdict
    /// The moment of judgement (Unix seconds) and where it came from.
    public var at: Double
    public var timeSource: TimeSource
    /// The leeway the verdict used.
    public var leeway: Double
}

/// Verifies each distinct token once (by fingerprint) and judges every sighting at its own log time.
///
/// Two memories: most analyses are kept compactly in a large ``VerdictStore`` (a token met again is rebuilt from
/// it, not analysed); those it does not keep go to the cache below.
///
/// Per chunk: tokens not in the cache are checked in parallel through ``BatchAnalyzer``, their bytes read in place
/// in the chunk, and cached; then every sighting is judged, which is cheap.
///
/// The cache remembers every token analysed (two generations, see ``cachedCount``), but holds a token's analysis
/// only once the token was met again: a log of mostly distinct tokens then keeps no analysis, where holding each
/// until its generation ended meant freeing it long after, from memory no longer in any cache (≈ 15% of a
/// verifying scan of 530 k distinct HS256 tokens). A token met again whose analysis is not held is analysed
/// again with its first analysis's weak-secret outcome (``WeakReplay``), so its verdict is the one the first
/// analysis gave — the same as if the analysis had been held.
public final class SightingJudge {
    public let options: VerifyOptions
    /// The moment used for lines that carry no time.
    public let now: Double
    private let batch: BatchAnalyzer

    /// A remembered token: its analysis once held, and what its first analysis's weak-secret check found and the
    /// scanner suspected, to analyse it again alike.
    struct Entry {
        var shared: JudgedSighting.Shared?
        var weak: WeakReplay
        var truncation: Truncation?
    }

    /// Tokens by fingerprint, in two generations: `cache` fills up to half the limit, then becomes `previous`
    /// (the one before is dropped). A hit in `previous` moves the token to `cache`. Recently met tokens stay, one
    /// token met once long ago does not hold memory forever.
    private var cache: FingerprintMap<Entry>
    private var previous: FingerprintMap<Entry>
    /// Which fingerprints each generation may hold: most sightings of a log of distinct tokens are in neither, and
    /// two bit tests rule that out without probing two large tables.
    private var cacheBits = PresenceBits()
    private var previousBits = PresenceBits()
    /// The current chunk's pending tokens by fingerprint (reused from chunk to chunk).
    /// A chunk's pending tokens by fingerprint: their places in `pending` (a table kept from chunk to chunk,
    /// emptied by a new generation).
    private var queued = BatchIndex<SHA256Digest>(capacity: 512, placeholder: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0))
    /// Distinct tokens analysed (re-analyses after the cache starts over are counted again).
    public private(set) var analysed = 0
    /// Tokens met again while remembered but not held, analysed again with their first outcome.
    public private(set) var replayed = 0
    /// Analyses kept compactly (nil: none, ``VerifyOptions/compactLimit`` 0).
    let store: VerdictStore?
    /// Sightings answered from ``store``.
    public private(set) var rebuilt = 0

    public init(options: VerifyOptions, now: Double) {
        self.options = options
        self.now = now
        self.batch = BatchAnalyzer(
            analyzer: TokenAnalyzer(keys: options.keys, policy: options.policy, issuers: options.issuers),
            workers: options.workers)
        let limit = max(1, options.cacheLimit / 2)
        cache = FingerprintMap(limit: limit, placeholder: Entry(shared: nil, weak: .none, truncation: nil))
        previous = cache
        store = options.compactLimit > 0 ? VerdictStore(limit: options.compactLimit) : nil
    }

    /// Verdicts for `tokens`, in order. `bytes` is the chunk the sightings were found in, starting at stream
    /// offset `streamOffset`.
    public func judge(_ tokens: [TokenSighting], in bytes: UnsafeRawBufferPointer, streamOffset: UInt64)
        -> [JudgedSighting]
    {
        tokens.withUnsafeBufferPointer { judge($0, in: bytes, streamOffset: streamOffset) }
    }

    private func judge(
        _ tokens: UnsafeBufferPointer<TokenSighting>, in bytes: UnsafeRawBufferPointer, streamOffset: UInt64
    )
        -> [JudgedSighting]
    {
        // One cache lookup per sighting (none where the presence bits rule it out); the misses (each distinct one
        // once) and the tokens to analyse again go to the batch verifier, their bytes read in place in the chunk.
        var known = [JudgedSighting.Shared?](repeating: nil, count: tokens.count)
        var pending: [TokenRef] = []
        var pendingPrints: [SHA256Digest] = []
        // Per pending token: whether it is analysed again (else a miss); whether it is held once made (met more than
        // once).
        var replays: [Bool] = []
        var hold: [Bool] = []
        // A pending token's place in `pending`, by fingerprint (a token twice in the chunk is analysed once), and
        // each sighting's (-1: known).
        queued.removeAll()
        var pendingIndex = [Int](repeating: -1, count: tokens.count)
        func enqueue(_ i: Int, _ fingerprint: SHA256Digest, replay: Entry?) {
            queued.insert(fingerprint, slot: pending.count)
            pendingIndex[i] = pending.count
            pending.append(
                TokenRef(
                    bytes: Self.slice(tokens[i], bytes, streamOffset),
                    truncation: replay.map(\.truncation) ?? tokens[i].truncation, replay: replay?.weak,
                    fingerprint: fingerprint))
            pendingPrints.append(fingerprint)
            replays.append(replay != nil)
            hold.append(replay != nil)
        }
        /// A remembered token: its held analysis, or queued to be analysed again.
        func remembered(_ i: Int, _ fingerprint: SHA256Digest, _ e: Entry) {
            if let shared = e.shared {
                known[i] = shared
            } else if let p = queued.find(fingerprint) {
                pendingIndex[i] = p
            } else {
                enqueue(i, fingerprint, replay: e)
            }
        }
        // The compact store first, for every sighting (its probes are independent: their cache misses overlap).
        var stored = [Int32](repeating: -1, count: tokens.count)
        if let store {
            for i in 0..<tokens.count { if let slot = store.find(tokens[i].fingerprint) { stored[i] = Int32(slot) } }
        }
        for i in 0..<tokens.count {
            let fingerprint = tokens[i].fingerprint
            if stored[i] >= 0, let store {
                known[i] = JudgedSighting.Shared(store.analysis(at: Int(stored[i])))
                rebuilt += 1
            } else if cacheBits.mayContain(fingerprint), let slot = cache.find(fingerprint) {
                remembered(i, fingerprint, cache[slot])
            } else if previousBits.mayContain(fingerprint), let slot = previous.find(fingerprint) {
                let e = previous.remove(at: slot)
                keep(fingerprint, e)
                remembered(i, fingerprint, e)
            } else if let p = queued.find(fingerprint) {
                pendingIndex[i] = p
                hold[p] = true
            } else {
                enqueue(i, fingerprint, replay: nil)
            }
        }
        if !pending.isEmpty {
            let results = pending.withUnsafeBufferPointer { batch.analyzeShared($0) }
            pendingPrints.withUnsafeBufferPointer { store?.warm($0) }
            for k in pending.indices {
                let shared = results[k]
                if replays[k] {
                    // Held from now on, wherever its entry is (a turnover since may have moved or dropped it).
                    holdAnalysis(pendingPrints[k], shared)
                } else if let store, store.insert(pendingPrints[k], shared) {
                    // Kept compactly: met again, it is rebuilt from the store.
                } else {
                    keep(
                        pendingPrints[k],
                        Entry(
                            shared: hold[k] ? shared : nil, weak: shared.analysis.weakOutcome,
                            truncation: pending[k].truncation))
                }
            }
            analysed += replays.count { !$0 }
            replayed += replays.count { $0 }
            for i in 0..<tokens.count where pendingIndex[i] >= 0 { known[i] = results[pendingIndex[i]] }
        }
        let leeway = options.policy.leeway
        var out: [JudgedSighting] = []
        out.reserveCapacity(tokens.count)
        for i in 0..<tokens.count {
            let shared = known[i] ?? Self.nothing
            let logTime = tokens[i].logTime
            let at = logTime ?? now
            let leeway = shared.analysis.leeway ?? leeway
            out.append(
                JudgedSighting(
                    shared: shared, verdict: shared.judge(at: at, leeway: leeway), at: at,
                    timeSource: logTime == nil ? .scan : .line, leeway: leeway))
        }
        return out
    }

    /// Holds a remembered token's analysis (made again for it) in its entry, if it is still remembered.
    private func holdAnalysis(_ fingerprint: SHA256Digest, _ shared: JudgedSighting.Shared) {
        if let slot = cache.find(fingerprint) {
            cache[slot].shared = shared
        } else if let slot = previous.find(fingerprint) {
            previous[slot].shared = shared
        }
    }

    private var generationLimit: Int { max(1, options.cacheLimit / 2) }

    /// Remembers an analysis in the current generation, turning generations over when it is full. The two
    /// tables swap storage rather than a new one being made per generation (fresh memory cost a page fault per
    /// 4 KiB, on the thread every sighting waits for).
    private func keep(_ fingerprint: SHA256Digest, _ entry: Entry) {
        if cache.count >= generationLimit {
            swap(&previous, &cache)
            swap(&previousBits, &cacheBits)
            cache.removeAll()
            cacheBits.removeAll()
        }
        cache.insert(fingerprint, entry)
        cacheBits.insert(fingerprint)
    }

    /// Analyses remembered now (both generations); never more than `cacheLimit`.
    public var cachedCount: Int { cache.count + previous.count }

    /// For a sighting whose analysis is missing (cannot happen: every miss is analysed above).
    private static let nothing = JudgedSighting.Shared(TokenAnalysis())

    /// The token's bytes as found in the chunk (a token cut at a piece boundary ends where the chunk does).
    static func slice(_ t: borrowing TokenSighting, _ bytes: UnsafeRawBufferPointer, _ streamOffset: UInt64)
        -> UnsafeRawBufferPointer
    {
        guard t.offset >= streamOffset else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = Int(clamping: t.offset - streamOffset)
        guard start < bytes.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let end = min(bytes.count, start + t.length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}

/// A set of fingerprints that may answer "maybe" for one it does not hold, never "no" for one it holds: one bit
/// per fingerprint (by its second word; a fingerprint is a SHA-256, so its bits are uniform, and a crafted
/// collision only costs a table probe), 2^20 bits (128 KiB).
struct PresenceBits {
    private static let mask: UInt64 = (1 << 20) - 1
    private var words = [UInt64](repeating: 0, count: 1 << 14)

    func mayContain(_ d: SHA256Digest) -> Bool {
        let bit = d.w1 & Self.mask
        return words[Int(bit >> 6)] & (1 << (bit & 63)) != 0
    }

    mutating func insert(_ d: SHA256Digest) {
        let bit = d.w1 & Self.mask
        words[Int(bit >> 6)] |= 1 << (bit & 63)
    }

    mutating func removeAll() {
        words.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
