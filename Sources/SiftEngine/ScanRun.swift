import JOSECrypto
import JWTScan
import JWTVerify
import LogInput

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
    public var sources = 0
    public var bytes: UInt64 = 0
    public var lines: UInt64 = 0
    public var tokenSightings = 0
    public var errorLines = 0
    /// Distinct fingerprints; exact up to ``ScanRun/distinctLimit``, a lower bound beyond.
    public var distinctTokens = 0
    public var distinctTokensExact = true
    /// Distinct tokens decoded and signature-checked (verification only).
    public var analysedTokens = 0
    /// Token sightings by primary cause (verification only).
    public var sightingsByCause: [Cause: Int] = [:]
    public var truncatedTokens = 0
    public var errorsByCause: [Cause: Int] = [:]
    public var inputErrors: [InputError] = []
}

/// Receives what the scan finds, source by source.
public protocol ScanConsumer {
    mutating func begin(source: InputSource, facts: FileFacts?)
    /// `judged[i]` is the verdict for `findings.tokens[i]`; empty with `--no-verify`.
    mutating func consume(_ findings: ScanFindings, judged: [JudgedSighting], source: InputSource)
    mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?)
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
        var scanner = LineScanner(timeParser: TimestampParser(zone: options.zone))
        var findings = ScanFindings()
        var seen = Set<SHA256Digest>()
        let judge = options.verify.map { TokenJudge(options: $0, now: options.now) }
        var judged: [JudgedSighting] = []
        for source in sources {
            totals.sources += 1
            let facts: FileFacts? = if case .file(let p) = source { FileFacts.of(p) } else { nil }
            let (year, month) = Self.yearMonth(facts?.mtime ?? options.now)
            scanner.timeParser.fallbackYear = year
            scanner.timeParser.fallbackMonth = month
            consumer.begin(source: source, facts: facts)
            let reader = LogReader(source: source, options: options.reader)
            do {
                let summary = try reader.read { chunk in
                    findings.removeAll()
                    scanner.scan(
                        chunk.bytes, streamOffset: chunk.streamOffset, firstLine: chunk.firstLine,
                        continuesLine: chunk.continuesLine, cutAtEnd: chunk.cutAtEnd, into: &findings)
                    totals.tokenSightings += findings.tokens.count
                    totals.errorLines += findings.errors.count
                    for t in findings.tokens {
                        if t.truncation != nil { totals.truncatedTokens += 1 }
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
                        for j in judged { totals.sightingsByCause[j.verdict.cause, default: 0] += 1 }
                    }
                    if !findings.tokens.isEmpty || !findings.errors.isEmpty {
                        consumer.consume(findings, judged: judged, source: source)
                    }
                    return true
                }
                totals.bytes += summary.bytes
                totals.lines += summary.lines
                consumer.end(source: source, summary: summary, error: nil)
            } catch {
                totals.inputErrors.append(error)
                consumer.end(source: source, summary: nil, error: error)
            }
        }
        totals.distinctTokens = seen.count
        totals.analysedTokens = judge?.analysed ?? 0
        return totals
    }

    static func yearMonth(_ t: Double) -> (Int, Int) {
        let days = Int((t / 86400).rounded(.down))
        let c = CivilTime.civilFromDays(days)
        return (c.year, c.month)
    }
}
