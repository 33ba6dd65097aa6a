import Dispatch
import JOSECrypto
import JWTScan
import SiftCore
import Synchronization

/// A distinct token waiting for analysis: its exact bytes and what the scanner suspected.
public struct PendingToken: Sendable {
    public var fingerprint: SHA256Digest
    public var bytes: [UInt8]
    public var truncation: Truncation?

    public init(fingerprint: SHA256Digest, bytes: [UInt8], truncation: Truncation?) {
        self.fingerprint = fingerprint
        self.bytes = bytes
        self.truncation = truncation
    }
}

/// Analyses batches of distinct tokens in parallel: fork-join over `DispatchQueue.concurrentPerform`, one
/// ``AnalysisContext`` (a ``SignatureChecker`` with its OpenSSL contexts, the headers read) per worker, the keys
/// shared read-only.
///
/// The shared state is all here: the work index (an atomic counter the workers pull from) and the result slots,
/// each written by exactly one worker. Not itself thread-safe: one thread calls ``analyze(_:)`` at a time.
public final class BatchAnalyzer {
    public let analyzer: TokenAnalyzer
    public let workers: Int
    private let contexts: [AnalysisContext]

    /// What earlier batches found about weak secrets, by header and issuer: read as a snapshot during a batch,
    /// updated after it in token order.
    private var weakSecrets = WeakSecretMemo()
    /// The memo as it stands (for tests).
    var weakSecretsForTesting: WeakSecretMemo { weakSecrets }

    public init(analyzer: TokenAnalyzer, workers: Int) {
        self.analyzer = analyzer
        self.workers = max(1, workers)
        self.contexts = (0..<max(1, workers)).map { _ in AnalysisContext() }
    }

    /// Analyses every token; results come back in the same order.
    public func analyze(_ tokens: [PendingToken]) -> [TokenAnalysis] { analyzeShared(tokens).map(\.analysis) }

    /// Analyses every token, each into the shared form sightings refer to, made on the thread that analysed it:
    /// the judging thread, which every sighting waits for, then only moves references (copying each analysis
    /// out of the workers' slots and into its shared form took ≈ 6% of that thread on a log of mostly distinct
    /// tokens). Results come back in the same order.
    func analyzeShared(_ tokens: [PendingToken]) -> [JudgedSighting.Shared] {
        // The tokens' bytes side by side in one buffer, borrowed for the batch.
        var joined: [UInt8] = []
        joined.reserveCapacity(tokens.reduce(0) { $0 + $1.bytes.count })
        for t in tokens { joined.append(contentsOf: t.bytes) }
        return joined.withUnsafeBytes { all in
            var start = 0
            let refs = tokens.map { t in
                defer { start += t.bytes.count }
                return TokenRef(
                    bytes: UnsafeRawBufferPointer(rebasing: all[start..<(start + t.bytes.count)]),
                    truncation: t.truncation, replay: nil, fingerprint: t.fingerprint)
            }
            return refs.withUnsafeBufferPointer { analyzeShared($0) }
        }
    }

    /// The same over tokens borrowed for the call (a chunk's bytes: no copy per token).
    func analyzeShared(_ tokens: UnsafeBufferPointer<TokenRef>) -> [JudgedSighting.Shared] {
        let results = analyzeBatch(tokens)
        for (k, r) in results.enumerated() {
            guard let record = r.analysis.weakRecord else { continue }
            weakSecrets.record(record)
            // A record is made only by a check over the whole list (or by the answer of an earlier one).
            if let fingerprint = tokens[k].fingerprint { weakSecrets.recordFullCheck(fingerprint, record.outcome) }
        }
        return results
    }

    private func analyzeBatch(_ tokens: UnsafeBufferPointer<TokenRef>) -> [JudgedSighting.Shared] {
        if tokens.isEmpty { return [] }
        let analyzer = self.analyzer
        let memo = weakSecrets
        if workers == 1 || tokens.count < 4 {
            return tokens.map { t in
                JudgedSighting.Shared(
                    analyzer.analyze(
                        t.bytes, truncation: t.truncation, context: contexts[0], weakSecrets: memo, replay: t.replay,
                        fingerprint: t.fingerprint))
            }
        }
        let slots = ResultSlots(count: tokens.count)
        let next = Atomic<Int>(0)
        let pool = ContextPool(contexts)
        // Small grains keep both cores busy when RSA and HMAC tokens are mixed.
        let grain = max(1, min(64, tokens.count / (workers * 8)))
        let input = SharedInput(base: tokens)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let context = pool.contexts[w]
            while true {
                let start = next.add(grain, ordering: .relaxed).oldValue
                if start >= input.base.count { break }
                for i in start..<min(start + grain, input.base.count) {
                    let t = input.base[i]
                    let analysis = analyzer.analyze(
                        t.bytes, truncation: t.truncation, context: context, weakSecrets: memo, replay: t.replay,
                        fingerprint: t.fingerprint)
                    slots.store(i, JudgedSighting.Shared(analysis))
                }
            }
        }
        return slots.take()
    }
}

/// A token's bytes borrowed for one batch (a chunk's, or a joined copy's), and what the scanner suspected; for a
/// token analysed again, what its first weak-secret check found.
struct TokenRef {
    let bytes: UnsafeRawBufferPointer
    let truncation: Truncation?
    let replay: WeakReplay?
    /// The token's fingerprint, when known (see ``TokenAnalyzer/checkHMACAttacks``).
    var fingerprint: SHA256Digest? = nil
}

/// The input tokens, read by all workers. Invariant: they and the bytes they borrow outlive `concurrentPerform`
/// (the caller holds both for the call) and nobody writes to them meanwhile.
private struct SharedInput: @unchecked Sendable {
    let base: UnsafeBufferPointer<TokenRef>
}

/// Each worker uses only `contexts[w]`, its own index, so no two threads touch one `AnalysisContext`.
private final class ContextPool: @unchecked Sendable {
    let contexts: [AnalysisContext]
    init(_ c: [AnalysisContext]) { contexts = c }
}

/// One slot per token; slot i is written by exactly one worker, and read only after `concurrentPerform` returns.
private final class ResultSlots: @unchecked Sendable {
    private let base: UnsafeMutablePointer<JudgedSighting.Shared?>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: nil, count: count)
    }

    func store(_ i: Int, _ value: JudgedSighting.Shared) { base[i] = value }

    /// Every slot is stored by then (each index is taken by one worker).
    func take() -> [JudgedSighting.Shared] { (0..<count).map { base[$0]! } }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
