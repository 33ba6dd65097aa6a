import JWTScan
import JWTVerify
import LogInput
import SiftCore

/// What `scan --metrics-file` counts while the scan runs: token sightings and error lines by cause, issuer and
/// source.
///
/// Memory is bounded: the first ``trackedIssuers`` distinct issuers and ``trackedSources`` sources with findings
/// are counted apart, later ones straight into `other`; the label sets written are bounded again by
/// ``ScanMetrics/render(limits:)``.
public struct MetricsTally: Sendable, Equatable {
    public static let trackedIssuers = 1024
    public static let trackedSources = 4096

    struct Key: Hashable, Sendable {
        var error: Bool
        var cause: Cause
        var issuer: Int32
        var source: Int32
    }
    /// The issuer index of a finding without an issuer (no token on the error line, `--no-verify`, no `iss`).
    static let noIssuer: Int32 = -1
    /// The index of what is counted as `other` from the start.
    static let other: Int32 = -2

    var counts: [Key: Int] = [:]
    var issuers: [String] = []
    var issuerIndex: [String: Int32] = [:]
    var sources: [String] = []
    var currentSource: Int32 = other
    /// Distinct issuers or sources that came after the tracked ones were full (then counted as `other` at once).
    var untrackedIssuers = false
    var untrackedSources = false

    public init() {}

    /// The source whose findings follow.
    public mutating func begin(source name: String) {
        if sources.count < Self.trackedSources {
            currentSource = Int32(sources.count)
            sources.append(name)
        } else {
            currentSource = Self.other
            untrackedSources = true
        }
    }

    /// Counts one chunk's findings; `judged[i]` is the verdict for `findings.tokens[i]` (empty with `--no-verify`).
    public mutating func add(_ findings: ScanFindings, judged: [JudgedSighting]) {
        if !judged.isEmpty {
            for j in judged {
                let issuer = issuerIndex(j.analysis.iss)
                counts[Key(error: false, cause: j.verdict.cause, issuer: issuer, source: currentSource), default: 0] +=
                    1
            }
        }
        for e in findings.errors {
            // The issuer of the first token on the error line, when it was judged in this chunk.
            var issuer = Self.noIssuer
            if let fingerprint = e.token, !judged.isEmpty,
                let i = findings.tokens.firstIndex(where: { $0.line == e.line && $0.fingerprint == fingerprint }),
                i < judged.count
            {
                issuer = issuerIndex(judged[i].analysis.iss)
            }
            counts[Key(error: true, cause: e.cause, issuer: issuer, source: currentSource), default: 0] += 1
        }
    }

    mutating func issuerIndex(_ iss: String?) -> Int32 {
        guard let iss else { return Self.noIssuer }
        if let i = issuerIndex[iss] { return i }
        guard issuers.count < Self.trackedIssuers else {
            untrackedIssuers = true
            return Self.other
        }
        let i = Int32(issuers.count)
        issuers.append(iss)
        issuerIndex[iss] = i
        return i
    }
}

/// Feeds `inner` and, when it has a tally, counts the findings for `--metrics-file`.
public struct MetricsConsumer<Inner: ScanConsumer>: ScanConsumer {
    public var inner: Inner
    public var tally: MetricsTally?

    public init(_ inner: Inner, tally: MetricsTally?) {
        self.inner = inner
        self.tally = tally
    }

    public mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
        tally?.begin(source: source.name)
        return inner.begin(source: source, facts: facts)
    }

    public mutating func consume(
        _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
    ) {
        tally?.add(findings, judged: judged)
        inner.consume(findings, judged: judged, source: source, end: end)
    }

    public mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource) {
        inner.scanned(bytes, source: source)
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        inner.end(source: source, summary: summary, error: error)
    }

    /// The inner consumer's, when there are no metrics to count: counting needs every chunk's findings in
    /// ``consume(_:judged:source:end:)``, which a pre-rendered chunk skips.
    public var prerender: ChunkPrerender? { tally == nil ? inner.prerender : nil }
}

/// One `scan` run as Prometheus metrics, for node_exporter's textfile collector (`--metrics-file`). Every value
/// describes the last run (gauges): a nightly incremental run counts only what it read that night.
public struct ScanMetrics: Sendable {
    /// How many label values and label sets are written at most.
    public struct Limits: Sendable {
        /// Issuers written by name, the most frequent first; the rest are summed as `other`.
        public var issuers = 10
        /// Sources written by name, the most frequent first; the rest are summed as `other`.
        public var sources = 20
        /// Label sets per family; beyond them the smallest are summed into their cause's `other`/`other` set,
        /// so a family has at most this many plus one per cause.
        public var series = 500
        /// Bytes of UTF-8 in a label value taken from a log or a path.
        public var labelBytes = 128
        public init() {}
    }

    /// The label value the folded issuers and sources are summed under.
    public static let otherLabel = "other"

    /// The metric names, written once here.
    public enum Name {
        public static let tokenSightings = "jwtsift_scan_token_sightings"
        public static let errorLines = "jwtsift_scan_error_lines"
        public static let labelValuesFolded = "jwtsift_scan_label_values_folded"
        public static let sources = "jwtsift_scan_sources"
        public static let sourcesSkipped = "jwtsift_scan_sources_skipped"
        public static let inputErrors = "jwtsift_scan_input_errors"
        public static let bytes = "jwtsift_scan_bytes"
        public static let lines = "jwtsift_scan_lines"
        public static let duration = "jwtsift_scan_duration_seconds"
        public static let exitStatus = "jwtsift_scan_exit_status"
        public static let lastRun = "jwtsift_last_run_timestamp_seconds"
        public static let lastSuccess = "jwtsift_last_success_timestamp_seconds"
    }

    public var tally: MetricsTally
    public var counts: RunCounts
    public var exitStatus: Int32
    public var startedAt: Double
    public var finishedAt: Double
    /// `jwtsift_last_success_timestamp_seconds` from the file this run replaces (``MetricsFile/lastSuccess(in:)``).
    public var previousSuccess: Double?

    public init(
        tally: MetricsTally, counts: RunCounts, exitStatus: Int32, startedAt: Double, finishedAt: Double,
        previousSuccess: Double?
    ) {
        self.tally = tally
        self.counts = counts
        self.exitStatus = exitStatus
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.previousSuccess = previousSuccess
    }

    /// A run succeeded when it read everything it was given and stored what it found: exit 0, or 1 (findings
    /// matched `--fail-on`: an alert, not a failure of the run).
    public static func succeeded(exitStatus: Int32) -> Bool { exitStatus == 0 || exitStatus == 1 }

    /// The last successful run's end: this run's when it succeeded, else the one the replaced file held (0 when
    /// none ever did, so that an alert on its age fires).
    public var lastSuccess: Double {
        Self.succeeded(exitStatus: exitStatus) ? finishedAt : (previousSuccess ?? 0)
    }

    public func render(limits: Limits = Limits()) -> String {
        var out = PrometheusText()
        let (issuerLabels, foldedIssuers) = Self.labels(
            tally.issuers, totals: totals(\.issuer), keep: limits.issuers, bound: limits.labelBytes)
        let (sourceLabels, foldedSources) = Self.labels(
            tally.sources, totals: totals(\.source), keep: limits.sources, bound: limits.labelBytes)

        for error in [false, true] {
            // Remap to the written label values, then bound the number of label sets.
            var series: [Series: Int] = [:]
            for (key, n) in tally.counts where key.error == error {
                let s = Series(
                    cause: key.cause, issuer: Self.label(key.issuer, issuerLabels),
                    source: Self.label(key.source, sourceLabels))
                series[s, default: 0] += n
            }
            if series.count > limits.series {
                let ranked = series.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                series = [:]
                for (i, (s, n)) in ranked.enumerated() {
                    let kept =
                        i < limits.series ? s : Series(cause: s.cause, issuer: Self.otherLabel, source: Self.otherLabel)
                    series[kept, default: 0] += n
                }
            }
            let name = error ? Name.errorLines : Name.tokenSightings
            out.family(
                name,
                help: error
                    ? "Lines with a JWT verification error message found by the last scan run, by cause, issuer (of the first token on the line, when judged) and source; at most \(limits.issuers) issuers and \(limits.sources) sources by name, the rest summed as other."
                    : "Token sightings found by the last scan run, by primary cause, issuer (iss claim) and source; at most \(limits.issuers) issuers and \(limits.sources) sources by name, the rest summed as other."
            )
            for (s, n) in series.sorted(by: { $0.key < $1.key }) {
                out.sample(
                    name, labels: [("cause", s.cause.rawValue), ("issuer", s.issuer), ("source", s.source)], Double(n))
            }
        }

        out.family(
            Name.labelValuesFolded,
            help:
                "Distinct issuers and sources of the last run summed under the label value other (exact up to \(MetricsTally.trackedIssuers) issuers and \(MetricsTally.trackedSources) sources, a lower bound beyond)."
        )
        out.sample(Name.labelValuesFolded, labels: [("label", "issuer")], Double(foldedIssuers))
        out.sample(Name.labelValuesFolded, labels: [("label", "source")], Double(foldedSources))

        let plain: [(String, String, Double)] = [
            (
                Name.sources, "Sources (files, streams) the last scan run took up, skipped ones included.",
                Double(counts.sources)
            ),
            (
                Name.sourcesSkipped, "Sources the last scan run skipped as unchanged since an earlier run.",
                Double(counts.sourcesSkipped)
            ),
            (Name.inputErrors, "Inputs the last scan run could not read.", Double(counts.inputErrors)),
            (Name.bytes, "Bytes (decompressed) the last scan run read.", Double(counts.bytes)),
            (Name.lines, "Lines the last scan run read.", Double(counts.lines)),
            (Name.duration, "Wall-clock duration of the last scan run.", max(0, finishedAt - startedAt)),
            (
                Name.exitStatus,
                "Exit status of the last scan run: 0 done, 1 findings matched --fail-on, 2 usage or configuration error, 3 some inputs could not be read, 4 the findings database could not be used, 130/143 stopped by SIGINT/SIGTERM.",
                Double(exitStatus)
            ),
            (Name.lastRun, "When the last scan run ended (Unix seconds).", finishedAt),
            (
                Name.lastSuccess,
                "When the last successful scan run (exit status 0 or 1) ended (Unix seconds); kept from the previous file when a run fails, 0 when none has succeeded.",
                lastSuccess
            ),
        ]
        for (name, help, value) in plain {
            out.family(name, help: help)
            out.sample(name, value)
        }
        return out.text
    }

    struct Series: Hashable, Comparable {
        var cause: Cause
        var issuer: String
        var source: String
        static func < (a: Series, b: Series) -> Bool {
            if a.cause != b.cause { return a.cause < b.cause }
            if a.issuer != b.issuer { return a.issuer < b.issuer }
            return a.source < b.source
        }
    }

    /// Findings per issuer or source index.
    func totals(_ part: KeyPath<MetricsTally.Key, Int32>) -> [Int32: Int] {
        var out: [Int32: Int] = [:]
        for (key, n) in tally.counts { out[key[keyPath: part], default: 0] += n }
        return out
    }

    /// The written label value of each tracked index: the `keep` most frequent by name (bounded), the others
    /// `other`; and how many were folded (those tracked but not kept, one more for untracked ones).
    static func labels(_ names: [String], totals: [Int32: Int], keep: Int, bound: Int) -> ([Int32: String], Int) {
        let ranked = totals.filter { $0.key >= 0 }.sorted {
            $0.value != $1.value ? $0.value > $1.value : names[Int($0.key)] < names[Int($1.key)]
        }
        var out: [Int32: String] = [:]
        for (i, (index, _)) in ranked.enumerated() where i < keep {
            out[index] = PrometheusText.boundedLabelValue(names[Int(index)], limit: bound)
        }
        let folded = max(0, ranked.count - keep) + (totals[MetricsTally.other] != nil ? 1 : 0)
        return (out, folded)
    }

    static func label(_ index: Int32, _ labels: [Int32: String]) -> String {
        if index == MetricsTally.noIssuer { return "" }
        return labels[index] ?? otherLabel
    }
}
