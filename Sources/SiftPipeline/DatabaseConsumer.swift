import FindingsStore
import JOSECrypto
import JWTScan
import JWTVerify
import LogInput
import SiftCore

/// What `scan --db` was asked to do with the findings database.
public struct DatabaseOptions: Sendable {
    public enum OkSightings: String, Sendable, CaseIterable {
        /// A row per successful sighting (the default).
        case rows
        /// Successful sightings only counted in `tokens.sightings` / `tokens.ok_rolled`: huge nightly runs.
        case count
    }

    public var path: String
    public var lockTimeout: Double
    public var okSightings: OkSightings
    /// Store `sub` in clear next to `sub_hash` (`--keep-subjects`).
    public var keepSubjects: Bool
    /// Read every source again and replace its rows, whatever policy it was read under (`--rescan`).
    public var rescan: Bool

    public init(
        path: String, lockTimeout: Double = 30, okSightings: OkSightings = .rows, keepSubjects: Bool = false,
        rescan: Bool = false
    ) {
        self.path = path
        self.lockTimeout = lockTimeout
        self.okSightings = okSightings
        self.keepSubjects = keepSubjects
        self.rescan = rescan
    }
}

/// One run's connection to the findings database: opens it (taking the run lock), records the run and its keys,
/// and finishes the run.
public final class FindingsSession {
    public let writer: StoreWriter
    public let runID: Int64
    public let options: DatabaseOptions
    /// The fingerprint of this run's ``ScanPolicy`` (nil when none was given: sources are not re-judged).
    public let policy: String?
    /// What opening the database changed that the user should hear of (``FindingsDB/notices``).
    public let notices: [String]
    /// The run's keys and policy with the key history brought back (``KeyHistory``): what the scan verifies with.
    public let verify: VerifyOptions?

    /// - Parameter shouldStop: ends the wait for another run's lock early (``StoreError/interrupted(path:waited:)``).
    public init(
        options: DatabaseOptions, startedAt: Double, version: String, commandLine: [String], verify: VerifyOptions?,
        policy: ScanPolicy? = nil, keyFetches: [KeyFetchRecord] = [], shouldStop: (@Sendable () -> Bool)? = nil,
        onWaiting: (@Sendable (_ timeout: Double) -> Void)? = nil
    ) throws(StoreError) {
        self.options = options
        let db = try FindingsDB(
            path: options.path, lockTimeout: options.lockTimeout, shouldStop: shouldStop, onWaiting: onWaiting
        ) { bytes in Digest.sha256(bytes).description }
        notices = db.notices
        do {
            // Keys earlier runs recorded and this run's sets no longer hold verify as retired keys; they are part
            // of the policy, so a set that lost a key re-judges the sources.
            let revived = try verify.map { v throws(SQLiteError) in KeyHistory.revive(try db.keyHistory(), into: v) }
            self.verify = revived
            var policy = policy
            policy?.verify = revived
            let fingerprint = try policy.map { p throws(SQLiteError) in p.fingerprint(salt: try db.salt()) }
            self.policy = fingerprint
            runID = try db.beginRun(
                startedAt: startedAt, version: version, commandLine: Self.redact(commandLine), verify: verify != nil,
                leeway: verify?.policy.leeway, policy: fingerprint)
            try db.recordKeys(KeyHistory.records(verify, publishedAt: startedAt), runID: runID)
            try db.recordFetches(
                keyFetches.map {
                    KeyFetchRecord(
                        url: Self.stored($0.url), outcome: $0.outcome, httpStatus: $0.httpStatus,
                        reason: Self.stored($0.reason), fetchedAt: $0.fetchedAt, usedCache: $0.usedCache)
                }, runID: runID)
        } catch {
            throw .sqlite(error)
        }
        writer = StoreWriter(db: db, runID: runID)
    }

    /// Records the run's end; waits for every queued batch first, and throws the first write that failed. `okRolled` is what the consumer counted in the
    /// rollup instead of writing rows (``DatabaseConsumer/okRolled``).
    public func finish(status: String, totals: ScanTotals, okRolled: Int, finishedAt: Double) throws(StoreError) {
        // After every queued batch: one of them may be the one that fails.
        try writer.sync { _ throws(SQLiteError) in }
        if let e = writer.failed { throw e }
        var counts = totals.counts
        counts.okRolled = okRolled
        let id = runID
        try writer.sync { db throws(SQLiteError) in
            try db.finishRun(id, status: status, finishedAt: finishedAt, counts: counts)
        }
    }

    /// True once a batch failed to commit (a full disk…): the scan should stop, since nothing more is written.
    public var writeFailed: Bool { writer.failed != nil }

    /// Records the run as `failed` after a write failed (or finishing it did): its row keeps the counts of the
    /// batches that were committed, which are returned (nil when even this could not be written; the next run
    /// then records it as `killed`, with the same counts).
    public func recordFailure(totals: ScanTotals, finishedAt: Double) -> RunCounts? {
        let id = runID
        return try? writer.sync { db throws(SQLiteError) in
            try db.finishFailedRun(
                id, finishedAt: finishedAt, sourcesSkipped: totals.counts.sourcesSkipped,
                inputErrors: totals.counts.inputErrors)
        }
    }

    /// The command line as recorded: anything that looks like a token is replaced (secrets are only ever
    /// given as file paths).
    static func redact(_ arguments: [String]) -> String {
        arguments.map { stored($0) }.joined(separator: " ")
    }

    /// A string from a token, a log or the command line as the database stores it: every token-shaped run in it
    /// replaced by `<jwt:fingerprint-prefix>` (``UntrustedText/redactTokens(_:replacement:)``), as the scanner
    /// redacts error messages.
    static func stored(_ s: String) -> String {
        let redacted = UntrustedText.redactTokens(s) { "<jwt:\(Digest.sha256(Array($0)).prefix(12))>" }
        // NUL is the one character stored escaped (`\x00`): SQLite's text functions and the sqlite3 shell stop
        // at it, so a kid "\0admin" would read as '' (issue 13). Other text is stored as found.
        guard redacted.utf8.contains(0) else { return redacted }
        return String(redacted.unicodeScalars.map { $0 == "\u{0}" ? "\\x00" : String($0) }.joined())
    }

    static func stored(_ s: String?) -> String? { s.map { stored($0) } }

}

/// Writes findings to the database through the session's writer, in batches that each carry the source's
/// progress, so a run killed at any moment leaves rows and progress in step.
public struct DatabaseConsumer: ScanConsumer {
    public let session: FindingsSession
    /// Rows per batch (one transaction each). Large enough that the per-token work of a batch (one token row
    /// update and the totals' upserts per distinct token in it) is spread over many sightings; at most 2 batches
    /// wait for the writer. 65,536 (was 32,768): on the 256 MB bench log (5,000 tokens) that work was a third of
    /// the writer's time; doubling the batch cut `scan --db` CPU by ~8% (256 MB) and ~9% (671 MB), for ~10–30 MB
    /// more peak RSS on logs of few distinct tokens (none on 2 M distinct: those batches end at `batchTokens`).
    public var batchRows = 65536
    /// Distinct tokens per batch: a token row is the largest thing a batch holds (its strings), and with up to 2
    /// batches waiting for the writer, a log of mostly distinct tokens would otherwise hold 3 × 65,536 of them
    /// (heaptrack: the batch's token array was the largest consumer at peak). A batch of this many distinct
    /// tokens has enough work per transaction.
    public var batchTokens = 8192
    /// Rows from which a batch is handed over before it is full when the writer is idle (nil: only full batches).
    /// A batch waits for its rows while the writer's core has nothing to do, and the last one is written after the
    /// scan has ended: on the 256 MB bench log (4 batches) the writer was idle until the first batch was full and
    /// wrote the last one alone for 0.1 s after the scan. Handing over what is there whenever the writer is idle
    /// keeps it busy alongside the scan and leaves it only the rows of the last chunks at the end. Batches are
    /// transactions like any other (rows and progress in step); where they end changes no row (the rollup, totals
    /// and minutes tables are keyed and summed, ids follow first appearance): tested.
    public var idleBatchRows: Int? = 16384
    /// A source's last batch is marked as such (``FindingsStore/Batch/endsSource``), so the writer may commit the
    /// last batches of several small sources in one transaction; false: a transaction per source, as before.
    public var groupsSources = true

    private var batch: Batch?
    /// This batch's token slots (index into `batch.tokens`) by fingerprint.
    private var tokenIndex = BatchIndex<SHA256Digest>(
        capacity: 8192, placeholder: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0))
    /// Each token's row as first built (hex fingerprint, aud JSON, sub hash…), so a token seen in many batches
    /// is described once, found by fingerprint through `templateIndex` (an open-addressing index, no SipHash).
    /// Bounded; starts over when full.
    private var templates: [TokenUpsert] = []
    private var templateIndex = BatchIndex<SHA256Digest>(
        capacity: DatabaseConsumer.templateLimit, placeholder: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0))
    private static let templateLimit = 1 << 13
    /// This batch's rollup rows by (token slot, cause, status class, minute).
    private var rollupIndex = BatchIndex<RollupKey>(
        capacity: 65536, placeholder: RollupKey(slot: -1, cause: 0, statusClass: 0, minute: 0))
    /// This batch's host slots (index into `batch.hosts`) by the name as found; the last one looked up.
    private var hostSlots: [String: Int] = [:]
    private var lastHost: (name: String, slot: Int)?
    /// `causes` text by cause bits (a handful of combinations occur).
    private var causeLists: [UInt32: String] = [:]
    private var sourceID: Int64?
    private var lastEnd: ReadProgress?
    /// The last bytes read of the current source (up to ``FindingsDB/tailLength``), ending at `lastEnd`; its hash
    /// goes with each batch's progress. Not kept for streams and gzip archives.
    private var window: [UInt8] = []
    private var keepsWindow = false
    /// The source being read has no batch yet (its first one counts it in the run's `sources`).
    private var sourceUncounted = false
    /// Rows a batch of the current source makes room for at once: a full batch, or (a small file) about what its
    /// size can hold. Room for 73,728 rows per batch of every small file cost a map and an unmap of ~13 MB each,
    /// and their page faults and TLB flushes: half the system time of `--db` over 2,000 files of 100 kB.
    private var batchRoom = 0
    /// Why each source was skipped or how it was resumed, for the summary.
    public private(set) var plans: [(source: String, plan: ReadPlan)] = []
    /// `ok` sightings counted in the rollup instead of written as rows, this run.
    public private(set) var okRolled = 0
    /// This run's failed sightings per (cause, iss, kid), for the summary's sentences; folded from each batch's
    /// rollup rows when it is handed to the writer (never per sighting).
    public private(set) var failures = FailureGroups()
    /// Batches handed to the writer so far (each one transaction).
    public private(set) var batchesHanded = 0

    public init(session: FindingsSession) { self.session = session }

    public mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
        let identity: SourceIdentity
        switch source {
        case .stdin(let name):
            identity = SourceIdentity(
                path: FindingsSession.stored(name), size: nil, mtime: nil, inode: nil, head: [], isStdin: true)
        case .file(let path) where facts.map({ !$0.isRegular && !$0.isDirectory }) ?? false:
            // A pipe (`<(cat log)`), a FIFO, a device: opened and read once, by the scan. Never re-read to be
            // identified, so never resumed or skipped.
            identity = SourceIdentity(
                path: path, size: nil, mtime: facts?.mtime, inode: facts?.inode, head: [], isStdin: false,
                isStream: true)
        case .file(let path):
            // The path as stored: a token in a file name never reaches the database.
            identity = SourceIdentity(
                path: FindingsSession.stored(path), size: facts?.size, mtime: facts?.mtime, inode: facts?.inode,
                head: SmallFile.head(of: path, count: FindingsDB.headLength), isStdin: false,
                bytesAt: { offset, count in SmallFile.bytes(of: path, at: offset, count: count) })
        }
        let runID = session.runID
        let (policy, rescan) = (session.policy, session.options.rescan)
        let sourceID: Int64
        let plan: ReadPlan
        do {
            (sourceID, plan) = try session.writer.syncInGroup { db throws(SQLiteError) in
                try db.plan(identity, runID: runID, policy: policy, rescan: rescan)
            }
        } catch {
            // The failure is reported by the session at the end; nothing more is written.
            return .skip(reason: "\(error)")
        }
        plans.append((source.name, plan))
        lastEnd = nil
        self.sourceID = sourceID
        window.removeAll(keepingCapacity: true)
        // Gzip archives are recognised by their head alone (and resumed in decompressed offsets): no window.
        keepsWindow = !identity.isStream && !identity.looksGzip
        if case .read(let offset, let line, _) = plan {
            lastEnd = ReadProgress(offset: offset, openLineStart: offset, openLine: line)
            // Resuming: the window starts with the bytes before the resume point (the ones plan() just hashed).
            if keepsWindow && offset > 0, case .file(let path) = source {
                let count = Int(min(offset, UInt64(FindingsDB.tailLength)))
                let bytes = SmallFile.bytes(of: path, at: offset - UInt64(count), count: count)
                if bytes.count == count { window = bytes }
            }
            sourceUncounted = true
            // A token line takes well over 128 bytes; a stream's size is unknown.
            let full = batchRows + batchRows / 8
            batchRoom = facts.map { f in f.isRegular ? min(full, max(256, Int(clamping: f.size / 128))) : full } ?? full
        }
        return plan
    }

    public mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource) {
        guard keepsWindow, sourceID != nil else { return }
        let limit = FindingsDB.tailLength
        if bytes.count >= limit {
            window.removeAll(keepingCapacity: true)
            window.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - limit)...]))
        } else {
            window.append(contentsOf: bytes)
            if window.count > limit { window.removeFirst(window.count - limit) }
        }
    }

    public mutating func consume(
        _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
    ) {
        guard let sourceID else { return }
        if batch == nil { startBatch(sourceID, end) }
        // The batch is held here while the chunk is added (its arrays uniquely referenced, grown in place).
        var b = batch!
        batch = nil
        count(&b, findings, judged: judged, end: end)
        let rollOK = session.options.okSightings == .count
        b.sightings.reserveCapacity(b.sightings.count + findings.tokens.count)
        for i in findings.tokens.indices {
            // Fields are read in place (a copy of a sighting or of its verdict costs reference counting).
            let verified = i < judged.count
            let slot =
                tokenIndex.find(findings.tokens[i].fingerprint)
                ?? newTokenSlot(&b, findings.tokens[i], judged: verified ? judged[i] : nil)
            let cause = verified ? judged[i].verdict.cause : .unverified
            // Looked up once per sighting (a search of the causes in order).
            let rank = cause.precedence
            let logTime = findings.tokens[i].logTime
            // A sighting on a line still open at the chunk's end stays a row even when counting: a grown
            // file resumes from that line and deletes its rows, which a rolled-up count could not undo.
            let rolled = rollOK && cause == .ok && findings.tokens[i].offset < end.openLineStart
            b.tokens[slot].saw(at: logTime, rolled: rolled)
            if rolled {
                okRolled += 1
                b.counts.okRolled += 1
            }
            var nearBy: Double? = nil
            if let time = logTime, cause == .expired || cause == .not_yet_valid {
                let shared = judged[i].shared
                if cause == .expired, let exp = shared.exp, time - exp < Rollup.nearMissSeconds { nearBy = time - exp }
                if cause == .not_yet_valid, let nbf = shared.nbf, nbf - time < Rollup.nearMissSeconds {
                    nearBy = nbf - time
                }
            }
            addRollup(
                &b, slot: slot, cause: rank, logTime: logTime, status: findings.tokens[i].status,
                errorOnLine: findings.tokens[i].lineError != nil, nearBy: nearBy)
            if rolled { continue }
            let host = findings.tokens[i].host.map { hostSlot(&b, $0) }
            b.sightings.append(
                SightingRow(
                    token: slot, line: findings.tokens[i].line, offset: findings.tokens[i].offset, logTime: logTime,
                    status: findings.tokens[i].status, host: host, cause: Words.causes[rank],
                    causes: verified && judged[i].verdict.causes.count > 1
                        ? causeList(judged[i].verdict.causes) : nil,
                    skew: verified ? judged[i].verdict.skew : nil,
                    timeSource: verified ? Words.timeSource(judged[i].timeSource) : nil,
                    truncation: findings.tokens[i].truncation.map(Words.truncation),
                    lineError: findings.tokens[i].lineError.map(Words.cause)))
        }
        for e in findings.errors {
            let host = e.host.map { hostSlot(&b, $0) }
            b.errors.append(
                ErrorRow(
                    line: e.line, offset: e.offset, logTime: e.logTime, status: e.status, host: host,
                    cause: e.cause.rawValue, alternative: e.alternative?.rawValue, rule: e.rule, emitter: e.emitter,
                    message: e.message, details: e.details.json, token: e.token.flatMap { tokenIndex.find($0) }))
        }
        b.progress = end
        lastEnd = end
        batch = b
        if b.rowCount >= batchRows || b.tokens.count >= batchTokens
            || idleBatchRows.map({ b.rowCount >= $0 && session.writer.isIdle }) == true
        {
            flush()
        }
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        guard let sourceID, let end = lastEnd else { return }
        // Read to the end (not stopped by a signal, no read error): the source is complete.
        let completed = summary.map { !$0.stopped } ?? false
        var progress = end
        progress.completed = completed
        if batch == nil { startBatch(sourceID, progress) }
        batch!.progress = progress
        batch!.endsSource = groupsSources
        flush()
        self.sourceID = nil
    }

    private mutating func startBatch(_ sourceID: Int64, _ progress: ReadProgress) {
        var b = Batch(sourceID: sourceID, progress: progress)
        // Room for a full batch and the chunk that ends it (or what a small file can hold): grown once, not copied
        // at every doubling.
        b.sightings.reserveCapacity(batchRoom)
        b.rollups.reserveCapacity(batchRoom)
        b.tokens.reserveCapacity(min(batchTokens, 1024))
        batch = b
        if sourceUncounted { batch!.counts.sources = 1 }
        sourceUncounted = false
    }

    /// Adds a chunk to the batch's run counts, counted as ``ScanRun`` counts the run's totals.
    private func count(_ b: inout Batch, _ findings: ScanFindings, judged: [JudgedSighting], end: ReadProgress) {
        b.counts.sightings += findings.tokens.count
        b.counts.logErrors += findings.errors.count
        for i in judged.indices where judged[i].verdict.cause.isFailure { b.counts.failures += 1 }
        if let last = lastEnd {
            b.counts.bytes += end.offset &- min(last.offset, end.offset)
            b.counts.lines += end.linesDone &- min(last.linesDone, end.linesDone)
        }
    }

    private mutating func flush() {
        guard var b = batch else { return }
        failures.fold(b)
        if keepsWindow { b.window = window }
        session.writer.submit(b)
        batchesHanded += 1
        batch = nil
        tokenIndex.removeAll()
        rollupIndex.removeAll()
        hostSlots.removeAll(keepingCapacity: true)
        lastHost = nil
    }

    /// The batch's slot for a host name as found; the name goes into the batch as stored (a token-shaped run in
    /// it redacted, see ``FindingsSession/stored(_:)``), once per batch.
    private mutating func hostSlot(_ b: inout Batch, _ name: String) -> Int {
        if let last = lastHost, last.name == name { return last.slot }
        let slot: Int
        if let known = hostSlots[name] {
            slot = known
        } else {
            slot = b.hosts.count
            b.hosts.append(FindingsSession.stored(name))
            hostSlots[name] = slot
        }
        lastHost = (name, slot)
        return slot
    }

    /// Counts the sighting in its (token, cause, status class, minute) rollup row; `cause` is the cause's
    /// precedence.
    private mutating func addRollup(
        _ b: inout Batch, slot: Int, cause: Int, logTime: Double?, status: Int?, errorOnLine: Bool, nearBy: Double?
    ) {
        let minute = Rollup.minute(logTime)
        let sc = StatusClass(status: status)
        let key = RollupKey(
            slot: Int32(truncatingIfNeeded: slot), cause: UInt8(cause), statusClass: UInt8(sc.rawValue),
            minute: minute)
        let i: Int
        if let existing = rollupIndex.find(key) {
            i = existing
        } else {
            i = b.rollups.count
            b.rollups.append(RollupRow(token: slot, cause: Words.causes[cause], statusClass: sc, minute: minute))
            rollupIndex.insert(key, slot: i)
        }
        b.rollups[i].add(at: logTime, errorOnLine: errorOnLine, nearBy: nearBy)
    }

    private mutating func causeList(_ c: CauseSet) -> String {
        if let s = causeLists[c.bits] { return s }
        let s = c.joined
        if causeLists.count < 1024 { causeLists[c.bits] = s }
        return s
    }

    /// A slot for a token the batch has no row for yet.
    private mutating func newTokenSlot(_ b: inout Batch, _ t: TokenSighting, judged: JudgedSighting?) -> Int {
        let u: TokenUpsert
        if let cached = templateIndex.find(t.fingerprint) {
            u = templates[cached]
        } else {
            u = Self.describe(t, judged: judged, keepSubjects: session.options.keepSubjects)
            if templates.count >= Self.templateLimit {
                templates.removeAll(keepingCapacity: true)
                templateIndex.removeAll()
            }
            templateIndex.insert(t.fingerprint, slot: templates.count)
            templates.append(u)
        }
        let i = b.tokens.count
        b.tokens.append(u)
        tokenIndex.insert(t.fingerprint, slot: i)
        return i
    }

    /// The token's row, with no sightings counted yet. Every string taken from the token goes through
    /// ``FindingsSession/stored(_:)``: a token inside a claim or header value is never stored (`sub_hash` is the
    /// hash of the claim as it is).
    static func describe(_ t: TokenSighting, judged: JudgedSighting?, keepSubjects: Bool) -> TokenUpsert {
        let r = FindingsSession.stored as (String?) -> String?
        let u: TokenUpsert
        if let a = judged?.analysis {
            u = TokenUpsert(
                fingerprint: t.fingerprint.description, kind: a.kind.rawValue, alg: r(a.alg ?? t.alg), enc: r(a.enc),
                kid: r(a.kid), typ: r(a.typ), iss: r(a.iss),
                aud: a.aud.isEmpty
                    ? nil : JSONValue.array(a.aud.map { .string(FindingsSession.stored($0)) }).jsonText,
                subHash: a.sub.map { Digest.sha256(Array($0.utf8)).description },
                sub: keepSubjects ? r(a.sub) : nil, iat: a.iat, nbf: a.nbf, exp: a.exp,
                signature: a.signature.rawValue, key: r(a.key), flags: a.flags.description, length: t.length)
        } else {
            u = TokenUpsert(
                fingerprint: t.fingerprint.description, kind: t.kind.rawValue, alg: r(t.alg),
                signature: SignatureStatus.unchecked.rawValue, length: t.length)
        }
        return u
    }
}

/// The words sighting rows repeat, interned once for the process.
enum Words {
    static let causes: [InternedText] = Cause.ordered.map { InternedText($0.rawValue) }
    static let line = InternedText(TimeSource.line.rawValue)
    static let scan = InternedText(TimeSource.scan.rawValue)
    static let truncations: [Truncation: InternedText] = Dictionary(
        uniqueKeysWithValues: Truncation.allCases.map { ($0, InternedText($0.rawValue)) })

    static func cause(_ c: Cause) -> InternedText { causes[c.precedence] }
    static func timeSource(_ t: TimeSource) -> InternedText { t == .line ? line : scan }
    static func truncation(_ t: Truncation) -> InternedText { truncations[t]! }
}

/// Identifies a rollup row within a batch.
struct RollupKey: BatchIndexKey {
    var slot: Int32
    var cause: UInt8
    var statusClass: UInt8
    var minute: Int64

    @inline(__always)
    func hash(seed: UInt64) -> UInt64 {
        let small = UInt64(UInt32(bitPattern: slot)) << 16 | UInt64(cause) << 8 | UInt64(statusClass)
        return foldedProduct(UInt64(bitPattern: minute) ^ seed, small ^ 0x9E37_79B9_7F4A_7C15)
    }
}
