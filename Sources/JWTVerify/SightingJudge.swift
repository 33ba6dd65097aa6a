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

    public init(
        keys: KeyRing, policy: VerifyPolicy = VerifyPolicy(), workers: Int, cacheLimit: Int = 1 << 16,
        issuers: [String: IssuerScope] = [:]
    ) {
        self.keys = keys
        self.policy = policy
        self.issuers = issuers
        self.workers = max(1, workers)
        self.cacheLimit = max(1, cacheLimit)
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
        func judge(at t: Double, leeway: Double) -> Verdict { analysis.judge(at: t, leeway: leeway) }
        public var exp: Double? { analysis.exp }
        public var nbf: Double? { analysis.nbf }
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
/// Per chunk: tokens not in the cache are copied out of the chunk (only those), checked in parallel through
/// ``BatchAnalyzer`` and cached; then every sighting is judged, which is cheap.
public final class SightingJudge {
    public let options: VerifyOptions
    /// The moment used for lines that carry no time.
    public let now: Double
    private let batch: BatchAnalyzer
    /// Analyses by fingerprint, in two generations: `cache` fills up to half the limit, then becomes `previous`
    /// (the one before is dropped). A hit in `previous` moves the token to `cache`. Recently met tokens stay, one
    /// token met once long ago does not hold memory forever.
    private var cache: [SHA256Digest: JudgedSighting.Shared] = [:]
    private var previous: [SHA256Digest: JudgedSighting.Shared] = [:]
    /// Distinct tokens analysed (re-analyses after the cache starts over are counted again).
    public private(set) var analysed = 0

    public init(options: VerifyOptions, now: Double) {
        self.options = options
        self.now = now
        self.batch = BatchAnalyzer(
            analyzer: TokenAnalyzer(keys: options.keys, policy: options.policy, issuers: options.issuers),
            workers: options.workers)
        cache.reserveCapacity(min(generationLimit, 1 << 16))
    }

    /// Verdicts for `tokens`, in order. `bytes` is the chunk the sightings were found in, starting at stream
    /// offset `streamOffset`.
    public func judge(_ tokens: [TokenSighting], in bytes: UnsafeRawBufferPointer, streamOffset: UInt64)
        -> [JudgedSighting]
    {
        // One cache lookup per sighting; the misses (each distinct one once) go to the batch verifier, their bytes
        // read in place in the chunk.
        var known = [JudgedSighting.Shared?](repeating: nil, count: tokens.count)
        var pending: [TokenRef] = []
        var pendingPrints: [SHA256Digest] = []
        // A miss's place in `pending`, by fingerprint (a token twice in the chunk is analysed once), and each
        // sighting's (-1: known).
        var queued: [SHA256Digest: Int] = [:]
        var pendingIndex = [Int](repeating: -1, count: tokens.count)
        for (i, t) in tokens.enumerated() {
            if let shared = cache[t.fingerprint] {
                known[i] = shared
            } else if let shared = previous.removeValue(forKey: t.fingerprint) {
                known[i] = shared
                keep(t.fingerprint, shared)
            } else if let p = queued[t.fingerprint] {
                pendingIndex[i] = p
            } else {
                if queued.isEmpty { queued.reserveCapacity(tokens.count - i) }
                queued[t.fingerprint] = pending.count
                pendingIndex[i] = pending.count
                pending.append(TokenRef(bytes: Self.slice(t, bytes, streamOffset), truncation: t.truncation))
                pendingPrints.append(t.fingerprint)
            }
        }
        if !pending.isEmpty {
            let results = pending.withUnsafeBufferPointer { batch.analyzeShared($0) }
            for (p, shared) in zip(pendingPrints, results) { keep(p, shared) }
            analysed += pending.count
            for i in tokens.indices where pendingIndex[i] >= 0 { known[i] = results[pendingIndex[i]] }
        }
        let leeway = options.policy.leeway
        return tokens.indices.map { i in
            let t = tokens[i]
            let shared = known[i] ?? Self.nothing
            let at = t.logTime ?? now
            let leeway = shared.analysis.leeway ?? leeway
            return JudgedSighting(
                shared: shared, verdict: shared.judge(at: at, leeway: leeway), at: at,
                timeSource: t.logTime == nil ? .scan : .line, leeway: leeway)
        }
    }

    private var generationLimit: Int { max(1, options.cacheLimit / 2) }

    /// Remembers an analysis in the current generation, turning generations over when it is full. The two
    /// tables swap storage rather than a new one being made per generation (fresh memory cost a page fault per
    /// 4 KiB, on the thread every sighting waits for).
    private func keep(_ fingerprint: SHA256Digest, _ shared: JudgedSighting.Shared) {
        if cache.count >= generationLimit {
            swap(&previous, &cache)
            cache.removeAll(keepingCapacity: true)
            if cache.capacity < min(generationLimit, 1 << 16) { cache.reserveCapacity(min(generationLimit, 1 << 16)) }
        }
        cache[fingerprint] = shared
    }

    /// Analyses remembered now (both generations); never more than `cacheLimit`.
    public var cachedCount: Int { cache.count + previous.count }

    /// For a sighting whose analysis is missing (cannot happen: every miss is analysed above).
    private static let nothing = JudgedSighting.Shared(TokenAnalysis())

    /// The token's bytes as found in the chunk (a token cut at a piece boundary ends where the chunk does).
    static func slice(_ t: TokenSighting, _ bytes: UnsafeRawBufferPointer, _ streamOffset: UInt64)
        -> UnsafeRawBufferPointer
    {
        guard t.offset >= streamOffset else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = Int(clamping: t.offset - streamOffset)
        guard start < bytes.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let end = min(bytes.count, start + t.length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}
