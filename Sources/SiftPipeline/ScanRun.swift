import Dispatch
import JOSECrypto
import JWTScan
import JWTVerify
import LogInput
import SiftCore

/// What `jwtsift scan` was asked to do.
public struct ScanOptions: Sendable {
    public var paths: [String]
    public var zone: LocalZone
    public var reader: ReaderOptions
    /// The moment of the run (Unix seconds), passed in: used for stdin's syslog year and as the time of lines
    /// that carry none.
    public var now: Double
    /// Keys and policy to verify with; nil for `--no-verify`.
    public var verify: VerifyOptions?
    /// `--since` / `--until`: only findings on lines whose own time is in [since, until) are kept (lines without
    /// a time are left out when either is given).
    public var since: Double?
    public var until: Double?
    /// Polled once per chunk; true stops the scan at the chunk boundary (SIGINT/SIGTERM).
    public var shouldStop: (@Sendable () -> Bool)?
    /// Called after each chunk with the bytes read so far in this run (for a progress line).
    public var onProgress: (@Sendable (ScanTotals) -> Void)?
    /// Threads scanning one file's chunks (`--scan-threads`, or `--jobs` without a database); 1 scans on the calling
    /// thread alone.
    public var scanThreads = 1
    /// `paths` already expanded, with the errors met (the CLI expands them once, for its notes and the progress
    /// total); nil: the run expands `paths` itself, leaving out files that are plainly not logs.
    public var expanded: (sources: [InputSource], errors: [InputError])?
    /// What findings call standard input (`--stdin-name`): `-`, or the path of a file streamed in from
    /// elsewhere (a Spark task streaming an HDFS or S3 file), so its rows match a scan of the file itself.
    public var stdinName = "-"
    /// The modification time of what standard input streams (`--stdin-mtime`), for the year of syslog stamps
    /// that carry none, as a file's own mtime is; nil: the run's time.
    public var stdinModified: Double?
    /// Regular files are read through a mapping (``MappedLog``: no copy, chunks cut ahead by the workers); false
    /// reads every file with `read(2)` (``LogReader``). Findings are the same either way.
    public var mapsFiles = true

    public init(
        paths: [String], zone: LocalZone = .utc, reader: ReaderOptions = ReaderOptions(), now: Double,
        verify: VerifyOptions? = nil
    ) {
        self.paths = paths
        self.zone = zone
        self.reader = reader
        self.now = now
        self.verify = verify
    }
}

/// Totals of one scan.
public struct ScanTotals: Sendable, Equatable {
    /// What the run's row in the database records (sources, bytes, lines, sightings, failures, error lines…).
    public var counts = RunCounts()
    /// Distinct fingerprints; exact up to ``ScanRun/distinctLimit``, a lower bound beyond.
    public var distinctTokens = 0
    public var distinctTokensExact = true
    /// Distinct tokens decoded and signature-checked (verification only).
    public var analysedTokens = 0
    /// Token sightings by primary cause (verification only).
    public var sightingsByCause: [Cause: Int] = [:]
    public var truncatedTokens = 0
    /// The run stopped early (signal).
    public var interrupted = false
    /// Sources read again from their start because the keys or policy changed (or `--rescan`).
    public var sourcesRejudged = 0
    /// Small files scanned by other threads while earlier ones were merged (``FilePrefetch``).
    public var sourcesScannedAhead = 0
    public var errorsByCause: [Cause: Int] = [:]
    public var inputErrors: [InputError] = []
    /// Sightings judged with the global keys because `--config` does not name their `iss`, by iss (at most
    /// ``ScanRun/fallbackIssuerLimit`` names; the rest under `""`).
    public var fallbackIssuers: [String: Int] = [:]
}

/// Receives what the scan finds, source by source.
public protocol ScanConsumer {
    /// Called before a source is read; the answer says whether and from where to read it.
    mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan
    /// Called for every chunk, findings or not. `judged[i]` is the verdict for `findings.tokens[i]`; empty with
    /// `--no-verify`.
    mutating func consume(_ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress)
    mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?)
    /// Called with each chunk's bytes just before ``consume(_:judged:source:end:)``; valid only during the call.
    mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource)
    /// Output the scan's workers may render for this consumer when nothing is judged: a chunk they rendered is
    /// written through it in chunk order and does not come to ``consume(_:judged:source:end:)``.
    var prerender: ChunkPrerender? { get }
}

extension ScanConsumer {
    /// Most consumers need only the findings.
    public mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource) {}
    /// Most consumers render nothing in advance.
    public var prerender: ChunkPrerender? { nil }
}

/// Streams every input through the scanner. Inputs that cannot be read are recorded and skipped; findings
/// already delivered from them are kept.
public struct ScanRun {
    public let options: ScanOptions

    public init(options: ScanOptions) { self.options = options }

    /// Issuers named in ``ScanTotals/fallbackIssuers``.
    public static let fallbackIssuerLimit = 20

    /// Fingerprints remembered for the distinct-token count (8 MiB at the bound, see ``DistinctCounter``).
    public static let distinctLimit = 1 << 19

    /// Chunks per batch and per worker in a parallel scan (≈ 1 MiB each): enough that a worker's share of a batch
    /// outweighs the fork-join, few enough that memory stays at a few MiB per worker.
    static let chunksPerWorker = 4

    /// How far behind the merge a mapped file's pages are let go (``MappedLog/release(upTo:)``).
    static let releaseStep: UInt64 = 8 << 20

    public func run(into consumer: inout some ScanConsumer) -> ScanTotals {
        var totals = ScanTotals()
        let (sources, pathErrors) =
            options.expanded
            ?? {
                let e = InputPaths.expand(options.paths, skippingNonLogs: true, stdinName: options.stdinName)
                return (e.sources, e.errors)
            }()
        totals.inputErrors += pathErrors
        let hasher = SHA256Context()
        var scanner = LineScanner(timeParser: TimestampParser(zone: options.zone), fingerprint: hasher.hash)
        // One file on every core: chunks are scanned by these workers while the reader goes on, then merged in
        // order (the carry between chunks checked, a chunk scanned again when it mattered).
        let workers =
            options.scanThreads > 1
            ? ChunkScanners(workers: options.scanThreads, zone: options.zone, matcher: scanner.matcher) : nil
        // The reader hands each chunk to the workers in a buffer of its own: two batches in flight, a few spare.
        let pool = workers.map { w in
            ChunkBufferPool(
                capacity: options.reader.maximumLineLength + options.reader.blockSize,
                limit: 2 * w.workers * Self.chunksPerWorker + 2)
        }
        var findings = ScanFindings()
        var seen = DistinctCounter(limit: Self.distinctLimit)
        let judge = options.verify.map { SightingJudge(options: $0, now: options.now) }
        // With nothing to judge, the workers also render the consumer's output (when it has such output).
        let prerender = judge == nil ? consumer.prerender : nil
        let ownRendering = RenderedChunk()
        var judged: [JudgedSighting] = []
        let windowed = options.since != nil || options.until != nil
        let configured = options.verify.map { !$0.issuers.isEmpty } ?? false
        // Several small files at once: the other threads scan the next files whole while this one merges.
        let prefetch =
            options.scanThreads > 1 && options.mapsFiles && sources.count > 1
            ? FilePrefetch(
                sources: sources, options: options, matcher: scanner.matcher, workers: options.scanThreads - 1,
                prerender: prerender) : nil
        prefetch?.start()
        defer { prefetch?.stop() }
        for (sourceIndex, source) in sources.enumerated() {
            if options.shouldStop?() == true {
                totals.interrupted = true
                break
            }
            totals.counts.sources += 1
            let facts: FileFacts? = if case .file(let p) = source { FileFacts.of(p) } else { nil }
            let (year, month) = scanner.beginSource(modified: facts?.mtime ?? options.stdinModified ?? options.now)
            // A gzip file is inflated on a thread of its own (the reader's): with two cores, inflating and one
            // scanning thread already fill them, and more scanning threads only slow the inflater down.
            let isGzip =
                facts?.isRegular == true && SmallFile.head(of: source.name, count: 2) == [0x1F, 0x8B]
            let workers = isGzip && options.scanThreads <= 2 ? nil : workers
            workers?.setFallback(year: year, month: month)
            var finish = ChunkFinish()
            if windowed { finish.window = (options.since ?? -.infinity, options.until ?? .infinity) }
            if let prerender { finish.prerender = (prerender, NDJSONConsumer.quotedName(source)) }
            let start: (offset: UInt64, line: UInt64)
            let plan = consumer.begin(source: source, facts: facts)
            var fromStart = false
            if case .read(0, 1, _) = plan { fromStart = true }
            // The file as a worker scanned it, if one did and it is still the file it mapped.
            let scannedAhead = prefetch?.arrive(at: sourceIndex, readingFromStart: fromStart).flatMap {
                $0.facts == facts ? $0 : nil
            }
            switch plan {
            case .skip:
                totals.counts.sourcesSkipped += 1
                consumer.end(source: source, summary: nil, error: nil)
                continue
            case .read(let offset, let line, _):
                start = (offset, line)
                if plan.isRejudge { totals.sourcesRejudged += 1 }
            }
            var openLineStart = start.offset
            var deliveredLines: UInt64 = 0
            /// The chunk being delivered was scanned by a ``FilePrefetch`` worker, whose memory of tokens met is
            /// its own (and may hold a file whose scan was dropped): every sighting goes to the distinct count.
            var scannedElsewhere = false

            /// Everything after the scan of one chunk (and its window), in stream order: totals, verdicts, the
            /// consumer. False when a stop was requested.
            func deliver(
                _ bytes: UnsafeRawBufferPointer, streamOffset: UInt64, firstLine: UInt64, newlines: UInt64,
                openLine: Int, rendered: RenderedChunk? = nil
            ) -> Bool {
                totals.counts.sightings += findings.tokens.count
                totals.counts.logErrors += findings.errors.count
                // Fields read in place (a copy of each sighting retained and released its strings).
                findings.tokens.withUnsafeBufferPointer { tokens in
                    for i in tokens.indices {
                        if tokens[i].hit.truncation != nil { totals.truncatedTokens += 1 }
                        // A repeat of bytes the scanner already met is already counted (unless the window dropped
                        // that first sighting). With several workers each has its own memory of what it met, and
                        // this still holds: a worker's repeat follows its own first sighting, which was delivered
                        // — or replaced by a scan in order, whose scanner then met the bytes first or had met them.
                        guard tokens[i].hit.isNew || windowed || scannedElsewhere else { continue }
                        seen.insert(tokens[i].hit.fingerprint)
                    }
                }
                for e in findings.errors { totals.errorsByCause[e.cause, default: 0] += 1 }
                // Let go of the last chunk's verdicts (a consumer may still hold them: it frees them then).
                judged = []
                if let judge, !findings.tokens.isEmpty {
                    judged = judge.judge(findings.tokens, in: bytes, streamOffset: streamOffset)
                    Self.countCauses(judged, into: &totals)
                    if configured {
                        for j in judged where j.shared.analysis.scope == .fallback {
                            var iss = j.shared.analysis.iss ?? "(no iss)"
                            if totals.fallbackIssuers[iss] == nil
                                && totals.fallbackIssuers.count >= Self.fallbackIssuerLimit
                            {
                                iss = ""
                            }
                            totals.fallbackIssuers[iss, default: 0] += 1
                        }
                    }
                }
                if newlines > 0 { openLineStart = streamOffset + UInt64(openLine) }
                deliveredLines += newlines
                let end = ReadProgress(
                    offset: streamOffset + UInt64(bytes.count), openLineStart: openLineStart,
                    openLine: firstLine + newlines)
                consumer.scanned(bytes, source: source)
                if let prerender {
                    if let rendered {
                        rendered.writer.withUnsafeBytes { prerender.sink.write($0) }
                    } else {
                        // Rendered here (one thread, or a chunk scanned again in order), into one reused buffer.
                        prerender.render(findings, source: finish.prerender!.source, into: ownRendering)
                        ownRendering.writer.withUnsafeBytes { prerender.sink.write($0) }
                    }
                } else {
                    consumer.consume(findings, judged: judged, source: source, end: end)
                    // Its analyses are freed where the consumer lets go of them, not on this thread.
                    judged = []
                }
                totals.counts.bytes += UInt64(bytes.count)
                options.onProgress?(totals)
                if options.shouldStop?() == true {
                    totals.interrupted = true
                    return false
                }
                return true
            }

            // Parallel: batches scanned by the workers in the background while the previous batch is merged.
            var pending: [OwnedChunk] = []
            var inFlight: (done: DispatchGroup, result: BatchResult)? = nil
            var carry = LineScanner.Carry()
            /// Delivers chunk `c` as scanned by a worker from an empty carry — or scanned again from the real one
            /// when what came before mattered. False when a stop was requested.
            func merge(_ c: OwnedChunk, _ scan: ChunkScan) -> Bool {
                var r = scan
                if (c.continuesLine && carry.cutLine) || (r.usedIncomingReference && carry.reference != nil) {
                    // What came before mattered: scan it again from the real carry.
                    scanner.start(carry)
                    r.findings.removeAll()
                    if let rendered = r.rendered { workers?.recycle(rendered) }
                    r.rendered = nil
                    scanner.scan(
                        c.bytes, streamOffset: c.streamOffset, firstLine: c.firstLine,
                        continuesLine: c.continuesLine, cutAtEnd: c.cutAtEnd, into: &r.findings)
                    finish.keepWindow(&r.findings)
                    carry = scanner.carry
                } else {
                    let reference = r.setReference ? r.endCarry.reference : carry.reference
                    carry = r.endCarry
                    carry.reference = reference
                }
                findings = r.findings
                let more = deliver(
                    c.bytes, streamOffset: c.streamOffset, firstLine: c.firstLine, newlines: c.newlines,
                    openLine: c.openLineStart, rendered: r.rendered)
                if let rendered = r.rendered { workers?.recycle(rendered) }
                findings = ScanFindings()
                workers?.recycle(findings: r.findings)
                return more
            }
            func merge(_ result: BatchResult) -> Bool {
                for (i, c) in result.batch.enumerated() {
                    let r = result.slots[i]
                    // The slot lets go of its findings, so that once delivered they can be reused in place.
                    result.slots[i] = ChunkScan()
                    if !merge(c, r) { return false }
                }
                for c in result.batch { if let b = c.buffer { pool?.giveBack(b) } }
                return true
            }
            /// Sends the pending chunks to the workers and merges the batch sent before. False on a stop.
            func flush() -> Bool {
                guard let workers else { return true }
                // The workers' scanners serve one batch at a time: the previous batch's scan ends first, then the
                // next one starts, and the previous batch is merged while it runs.
                inFlight?.done.wait()
                var next: (done: DispatchGroup, result: BatchResult)? = nil
                if !pending.isEmpty {
                    let done = DispatchGroup()
                    next = (done, workers.start(pending, finish: finish, group: done))
                    pending = []
                }
                var more = true
                if let previous = inFlight { more = merge(previous.result) }
                inFlight = next
                return more
            }
            /// Waits for the batch still with the workers and merges it unless the run stopped.
            func drain(merging: Bool) {
                if merging { _ = flush() }
                if let last = inFlight {
                    last.done.wait()
                    if merging && !totals.interrupted { _ = merge(last.result) }
                    inFlight = nil
                }
            }

            // A regular file is mapped (no copy; chunks cut ahead and counted by the workers); anything else, or a
            // file the system will not map, is read.
            let mapped: MappedLog?
            if let scannedAhead {
                mapped = scannedAhead.log
            } else {
                do {
                    mapped =
                        isGzip || !options.mapsFiles || facts?.isRegular != true
                        ? nil : try MappedLog.open(source, from: start.offset, options: options.reader)
                } catch {
                    totals.inputErrors.append(error)
                    consumer.end(source: source, summary: nil, error: error)
                    continue
                }
            }
            if let mapped {
                // A chunk is delivered only if, once scanned, the file is still as long as its end (a file truncated
                // under the mapping reads as zeros past its new end: see MappedLog); else the source ends with an
                // error, what came before it delivered.
                var summary = ReadSummary(bytes: 0, lines: 0, rawBytes: 0, compressed: false, stopped: false)
                var failure: InputError? = nil
                var released = start.offset
                func take(_ c: OwnedChunk) -> Bool {
                    if let from = mapped.shrank(), c.endOffset > from {
                        failure = mapped.shrinkError(at: from)
                        return false
                    }
                    return true
                }
                func delivered(_ c: OwnedChunk) {
                    summary.bytes += UInt64(c.count)
                    summary.lines += c.newlines
                    if !c.cutAtEnd && c.count > 0 && c.bytes[c.count - 1] != 0x0A { summary.lines += 1 }
                    // Pages behind the merge are let go every few MiB (they stay in the page cache).
                    if c.endOffset - released >= Self.releaseStep {
                        mapped.release(upTo: c.endOffset)
                        released = c.endOffset
                    }
                }
                var line = start.line
                // A file of a chunk or two is scanned on this thread: starting the workers would cost more.
                let capacity = options.reader.maximumLineLength + options.reader.blockSize
                let parallel = scannedAhead == nil && mapped.size - Int(start.offset) > 2 * capacity ? workers : nil
                if let scannedAhead {
                    // Scanned by a worker: delivered as the loop below would have (the same chunks and findings).
                    scannedElsewhere = true
                    for a in scannedAhead.chunks {
                        findings = a.findings
                        guard take(a.chunk) else { break }
                        let more = deliver(
                            a.chunk.bytes, streamOffset: a.chunk.streamOffset, firstLine: a.chunk.firstLine,
                            newlines: a.chunk.newlines, openLine: a.chunk.openLineStart, rendered: a.rendered)
                        delivered(a.chunk)
                        if let r = a.rendered { prefetch?.recycle(r) }
                        if !more { break }
                    }
                    findings = ScanFindings()
                    scannedElsewhere = false
                } else if let workers = parallel {
                    let ring = MappedRing(
                        mapped, firstLine: start.line, workers: workers.workers,
                        capacity: workers.workers * Self.chunksPerWorker)
                    workers.start(ring, finish: finish)
                    var index = 0
                    merging: while true {
                        var arrival = ring.next(index, waiting: false)
                        if case .pending = arrival {
                            // The next chunk in order is still being scanned: scan one ahead meanwhile.
                            if workers.scanHere(ring, finish: finish) { continue }
                            arrival = ring.next(index, waiting: true)
                        }
                        guard case .chunk(var c, var scan) = arrival else { break }
                        // Numbered here, in order, from the counts of the chunks before.
                        c.firstLine = line
                        c.newlines = scan.newlines
                        line += scan.newlines
                        if !scan.numbered { scan.findings.shiftLines(by: c.firstLine) }
                        guard take(c) else { break }
                        let more = merge(c, scan)
                        delivered(c)
                        ring.free(index)
                        index += 1
                        if !more { break merging }
                    }
                    ring.finish()
                } else {
                    while let m = mapped.nextChunk() {
                        var c = OwnedChunk(m, in: mapped, firstLine: line, newlines: 0)
                        findings.removeAll()
                        c.newlines = scanner.scan(
                            c.bytes, streamOffset: c.streamOffset, firstLine: c.firstLine,
                            continuesLine: c.continuesLine, cutAtEnd: c.cutAtEnd, into: &findings)
                        line += c.newlines
                        finish.keepWindow(&findings)
                        guard take(c) else { break }
                        let more = deliver(
                            c.bytes, streamOffset: c.streamOffset, firstLine: c.firstLine, newlines: c.newlines,
                            openLine: c.openLineStart)
                        delivered(c)
                        if !more { break }
                    }
                }
                if let failure {
                    totals.inputErrors.append(failure)
                    consumer.end(source: source, summary: nil, error: failure)
                } else {
                    summary.rawBytes = summary.bytes
                    summary.stopped = totals.interrupted
                    totals.counts.lines += summary.lines
                    consumer.end(source: source, summary: summary, error: nil)
                }
                if totals.interrupted { break }
                continue
            }

            let reader = LogReader(source: source, options: options.reader)
            do {
                let summary = try reader.read(from: start.offset, line: start.line, pool: pool) { chunk in
                    if let workers {
                        pending.append(OwnedChunk(chunk))
                        return pending.count < workers.workers * Self.chunksPerWorker || flush()
                    }
                    findings.removeAll()
                    scanner.scan(
                        chunk.bytes, streamOffset: chunk.streamOffset, firstLine: chunk.firstLine,
                        continuesLine: chunk.continuesLine, cutAtEnd: chunk.cutAtEnd, into: &findings)
                    finish.keepWindow(&findings)
                    return deliver(
                        chunk.bytes, streamOffset: chunk.streamOffset, firstLine: chunk.firstLine,
                        newlines: chunk.newlines, openLine: chunk.openLineStart)
                }
                drain(merging: !totals.interrupted)
                // Stopped with chunks read but not delivered (still with the workers): count what was delivered.
                totals.counts.lines += totals.interrupted && workers != nil ? deliveredLines : summary.lines
                // A stop request that ended a wait for input on a stream stops the run as one seen between chunks.
                if summary.stopped { totals.interrupted = true }
                consumer.end(source: source, summary: summary, error: nil)
            } catch {
                // What was read before the error is still delivered.
                drain(merging: !totals.interrupted)
                totals.inputErrors.append(error)
                consumer.end(source: source, summary: nil, error: error)
            }
            if totals.interrupted { break }
        }
        totals.sourcesScannedAhead = prefetch?.scansUsed ?? 0
        totals.distinctTokens = seen.count
        if !seen.isExact { totals.distinctTokensExact = false }
        totals.counts.inputErrors = totals.inputErrors.count
        totals.analysedTokens = judge?.analysed ?? 0
        return totals
    }

    /// Adds a chunk's verdicts to the counts by cause and of failures: counted per cause in a small array (the
    /// primary cause of a judged verdict is the first of its causes, so its index is the set's lowest bit), then
    /// added to the totals once per cause, rather than a dictionary update per sighting.
    static func countCauses(_ judged: [JudgedSighting], into totals: inout ScanTotals) {
        var counts = [Int](repeating: 0, count: Cause.ordered.count)
        judged.withUnsafeBufferPointer { judged in
            for i in judged.indices {
                let v = judged[i].verdict
                let k = Int(v.causes.bits.trailingZeroBitCount)
                if k < counts.count && Cause.ordered[k] == v.cause {
                    counts[k] += 1
                } else {
                    totals.sightingsByCause[v.cause, default: 0] += 1
                    if v.cause.isFailure { totals.counts.failures += 1 }
                }
            }
        }
        for k in counts.indices where counts[k] > 0 {
            let cause = Cause.ordered[k]
            totals.sightingsByCause[cause, default: 0] += counts[k]
            if cause.isFailure { totals.counts.failures += counts[k] }
        }
    }

    static func yearMonth(_ t: Double) -> (Int, Int) {
        let days = Int((t / 86400).rounded(.down))
        let c = CivilTime.civilFromDays(days)
        return (c.year, c.month)
    }
}

extension LineScanner {
    /// Ready for a new source whose modification time is `modified`: its yearless stamps take that year and month,
    /// no reference time from the last source, no carry. Returns the year and month.
    @discardableResult
    mutating func beginSource(modified: Double) -> (year: Int, month: Int) {
        let (year, month) = ScanRun.yearMonth(modified)
        timeParser.fallbackYear = year
        timeParser.fallbackMonth = month
        timeParser.reference = nil
        start(LineScanner.Carry())
        return (year, month)
    }
}
