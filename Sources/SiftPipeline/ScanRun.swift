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
    public var errorsByCause: [Cause: Int] = [:]
    public var inputErrors: [InputError] = []
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
}

extension ScanConsumer {
    /// Most consumers need only the findings.
    public mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource) {}
}

/// Streams every input through the scanner. Inputs that cannot be read are recorded and skipped; findings
/// already delivered from them are kept.
public struct ScanRun {
    public let options: ScanOptions

    public init(options: ScanOptions) { self.options = options }

    /// Fingerprints remembered for the distinct-token count (≈ 45 MiB at the bound).
    public static let distinctLimit = 1 << 20

    public func run(into consumer: inout some ScanConsumer) -> ScanTotals {
        var totals = ScanTotals()
        let (sources, pathErrors) = InputPaths.expand(options.paths)
        totals.inputErrors += pathErrors
        let hasher = SHA256Context()
        var scanner = LineScanner(timeParser: TimestampParser(zone: options.zone), fingerprint: hasher.hash)
        var findings = ScanFindings()
        var seen = Set<SHA256Digest>()
        let judge = options.verify.map { SightingJudge(options: $0, now: options.now) }
        var judged: [JudgedSighting] = []
        for source in sources {
            if options.shouldStop?() == true {
                totals.interrupted = true
                break
            }
            totals.counts.sources += 1
            let facts: FileFacts? = if case .file(let p) = source { FileFacts.of(p) } else { nil }
            let (year, month) = Self.yearMonth(facts?.mtime ?? options.now)
            scanner.timeParser.fallbackYear = year
            scanner.timeParser.fallbackMonth = month
            scanner.timeParser.reference = nil
            let start: (offset: UInt64, line: UInt64)
            switch consumer.begin(source: source, facts: facts) {
            case .skip:
                totals.counts.sourcesSkipped += 1
                consumer.end(source: source, summary: nil, error: nil)
                continue
            case .read(let offset, let line, let reason):
                start = (offset, line)
                if ReadPlan.read(from: offset, line: line, reason: reason).isRejudge { totals.sourcesRejudged += 1 }
            }
            var openLineStart = start.offset
            let reader = LogReader(source: source, options: options.reader)
            do {
                let summary = try reader.read(from: start.offset, line: start.line) { chunk in
                    findings.removeAll()
                    scanner.scan(
                        chunk.bytes, streamOffset: chunk.streamOffset, firstLine: chunk.firstLine,
                        continuesLine: chunk.continuesLine, cutAtEnd: chunk.cutAtEnd, into: &findings)
                    let windowed = options.since != nil || options.until != nil
                    if windowed { keepWindow(&findings) }
                    totals.counts.sightings += findings.tokens.count
                    totals.counts.logErrors += findings.errors.count
                    for t in findings.tokens {
                        if t.truncation != nil { totals.truncatedTokens += 1 }
                        // A repeat of bytes the scanner already met is already counted (unless the window
                        // dropped that first sighting).
                        guard t.isNew || windowed else { continue }
                        if seen.count < Self.distinctLimit {
                            seen.insert(t.fingerprint)
                        } else if !seen.contains(t.fingerprint) {
                            totals.distinctTokensExact = false
                        }
                    }
                    for e in findings.errors { totals.errorsByCause[e.cause, default: 0] += 1 }
                    judged.removeAll(keepingCapacity: true)
                    if let judge, !findings.tokens.isEmpty {
                        judged = judge.judge(findings.tokens, in: chunk.bytes, streamOffset: chunk.streamOffset)
                        for j in judged {
                            totals.sightingsByCause[j.verdict.cause, default: 0] += 1
                            if j.verdict.cause.isFailure { totals.counts.failures += 1 }
                        }
                    }
                    if chunk.newlines > 0 { openLineStart = chunk.streamOffset + UInt64(chunk.openLineStart) }
                    let end = ReadProgress(
                        offset: chunk.endOffset, openLineStart: openLineStart,
                        openLine: chunk.firstLine + chunk.newlines)
                    consumer.scanned(chunk.bytes, source: source)
                    consumer.consume(findings, judged: judged, source: source, end: end)
                    totals.counts.bytes += UInt64(chunk.bytes.count)
                    options.onProgress?(totals)
                    if options.shouldStop?() == true {
                        totals.interrupted = true
                        return false
                    }
                    return true
                }
                totals.counts.lines += summary.lines
                // A stop request that ended a wait for input on a stream stops the run as one seen between chunks.
                if summary.stopped { totals.interrupted = true }
                consumer.end(source: source, summary: summary, error: nil)
            } catch {
                totals.inputErrors.append(error)
                consumer.end(source: source, summary: nil, error: error)
            }
            if totals.interrupted { break }
        }
        totals.distinctTokens = seen.count
        totals.counts.inputErrors = totals.inputErrors.count
        totals.analysedTokens = judge?.analysed ?? 0
        return totals
    }

    /// Drops findings on lines outside [since, until) or without a time.
    func keepWindow(_ f: inout ScanFindings) {
        let since = options.since ?? -.infinity
        let until = options.until ?? .infinity
        f.tokens.removeAll { t in t.logTime.map { !($0 >= since && $0 < until) } ?? true }
        f.errors.removeAll { e in e.logTime.map { !($0 >= since && $0 < until) } ?? true }
    }

    static func yearMonth(_ t: Double) -> (Int, Int) {
        let days = Int((t / 86400).rounded(.down))
        let c = CivilTime.civilFromDays(days)
        return (c.year, c.month)
    }
}
