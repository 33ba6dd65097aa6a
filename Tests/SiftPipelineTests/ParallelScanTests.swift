import Foundation
import JOSECrypto
import JWTScan
import JWTVerify
import LogInput
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One file on every core (issue 15): chunks scanned concurrently and merged in order give exactly what a
/// single-threaded scan gives — line numbers, offsets, syslog years inferred across chunks, lines cut into
/// pieces, verdicts, progress — for any number of workers and any chunk size.
@Suite("Parallel scan", .serialized)
struct ParallelScanTests {
    /// Everything a consumer sees, as comparable text, plus each chunk's progress.
    struct Recorder: ScanConsumer {
        var out: [String] = []
        mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
            .read(from: 0, line: 1, reason: "test")
        }
        mutating func consume(
            _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
        ) {
            for (i, t) in findings.tokens.enumerated() {
                let v = i < judged.count ? "\(judged[i].verdict.causes.map(\.rawValue))" : "-"
                out.append(
                    "T \(source.name) \(t.line) \(t.offset) \(t.fingerprint) \(t.logTime ?? -1) \(t.status ?? -1) \(t.truncation?.rawValue ?? "-") \(t.lineError?.rawValue ?? "-") \(v)"
                )
            }
            for e in findings.errors {
                out.append("E \(source.name) \(e.line) \(e.offset) \(e.cause) \(e.logTime ?? -1) \(e.message.count)")
            }
            out.append("P \(end.offset) \(end.openLineStart) \(end.openLine)")
        }
        mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
            out.append(
                "END \(source.name) \(summary?.lines ?? 0) \(summary?.bytes ?? 0) \(error.map { "\($0)" } ?? "-")")
        }
    }

    /// A log mixing full-dated and yearless syslog lines across a year's end (the year of a yearless line comes
    /// from the last full-dated one, possibly in an earlier chunk), JSON lines with status, error messages,
    /// lines far longer than a chunk with tokens in them, CRLF endings and a line without a newline at the end.
    static func corpus() -> String {
        var text = ""
        let tokens = (0..<60).map { fakeToken($0, exp: 1_700_000_000 + $0 * 50) }
        for i in 0..<3000 {
            let t = tokens[i % tokens.count]
            switch i % 11 {
            case 0: text += "\(CivilTime.iso8601(Double(1_703_980_000 + i))) GET /a Authorization: Bearer \(t) 401\n"
            case 1, 2: text += "Dec 31 23:\(50 + i % 10):0\(i % 10) host app[1]: rejected Bearer \(t)\n"
            case 3: text += "Jan  1 00:0\(i % 10):00 host app[1]: jwt expired\r\n"
            case 4:
                text +=
                    #"{"time":"\#(CivilTime.iso8601(Double(1_704_000_000 + i)))","status":403,"auth":"Bearer \#(t)"}"#
                    + "\n"
            case 5 where i % 7 == 0:
                text +=
                    "2024-01-01T00:00:00Z huge " + String(repeating: "x", count: 9000) + " Bearer \(t) "
                    + String(repeating: "y", count: 5000) + "\n"
            case 6: text += "Nov 14 22:13:05 gw nginx: IDX10223: Lifetime validation failed. The token is expired.\n"
            default: text += "\(CivilTime.iso8601(Double(1_704_000_000 + i))) plain line \(i)\n"
            }
        }
        return text + "Jan  2 00:00:00 host app[1]: last Bearer \(tokens[0])"
    }

    func run(_ paths: [String], jobs: Int, blockSize: Int, maxLine: Int, mapsFiles: Bool = true) -> [String] {
        let secret = KeyLoader.secret(Array(testSecret.utf8), origin: "hs.secret", retired: false).0!
        var options = ScanOptions(
            paths: paths, reader: ReaderOptions(maximumLineLength: maxLine, blockSize: blockSize), now: 1_704_100_000,
            verify: VerifyOptions(keys: KeyRing(current: [secret]), workers: 2))
        options.scanThreads = jobs
        options.mapsFiles = mapsFiles
        var r = Recorder()
        let totals = ScanRun(options: options).run(into: &r)
        return r.out + [
            "TOTALS \(totals.counts.sightings) \(totals.counts.lines) \(totals.counts.bytes) \(totals.distinctTokens) \(totals.sightingsByCause.sorted { $0.key < $1.key })"
        ]
    }

    @Test(
        "1, 2, 3 and 8 workers give what one gives, chunk for chunk",
        arguments: [(4096, 4096), (4096, 65536), (65536, 1 << 20)])
    func sameAsSerial(_ blockSize: Int, _ maxLine: Int) throws {
        let s = Scratch()
        let text = Self.corpus()
        s.write("mixed.log", text)
        // The same text as two gzip members.
        let half = text.utf8.index(text.utf8.startIndex, offsetBy: text.utf8.count / 2)
        s.write("a.part", String(text[..<half]))
        s.write("b.part", String(text[half...]))
        #expect(
            system("cd '\(s.dir)' && gzip -c a.part > mixed.gz && gzip -c b.part >> mixed.gz && rm a.part b.part") == 0)
        s.write("empty.log", "")
        let paths = [s.path("mixed.log"), s.path("mixed.gz"), s.path("empty.log")]
        let serial = run(paths, jobs: 1, blockSize: blockSize, maxLine: maxLine)
        #expect(serial.filter { $0.hasPrefix("T ") }.count > 1500)
        #expect(serial.contains { $0.hasPrefix("T ") && $0.contains(" 1703980") })
        // The mapped file (chunks numbered by the workers' scans) gives what read(2) into buffers gives.
        let read = run(paths, jobs: 1, blockSize: blockSize, maxLine: maxLine, mapsFiles: false)
        #expect(read == serial)
        #expect(run(paths, jobs: 2, blockSize: blockSize, maxLine: maxLine, mapsFiles: false) == serial)
        for jobs in [2, 3, 8] {
            let parallel = run(paths, jobs: jobs, blockSize: blockSize, maxLine: maxLine)
            #expect(parallel.count == serial.count, "jobs \(jobs)")
            if let i = serial.indices.first(where: { $0 < parallel.count && serial[$0] != parallel[$0] }) {
                Issue.record(
                    "jobs \(jobs), block \(blockSize): first difference at \(i): \(serial[i]) ≠ \(parallel[i])")
            }
        }
    }

    @Test("--scan-threads 1, 2 and 8: NDJSON byte-identical and databases equal on samples/ and the generated log")
    func cliDeterminism() throws {
        let s = Scratch()
        // More than two of the reader's buffers (1 MiB + the line bound): split among the workers when mapped.
        let mixed = String(repeating: Self.corpus() + "\n", count: 4)
        #expect(mixed.utf8.count > 2 * ((1 << 20) + 4096))
        s.write("mixed.log", mixed)
        s.write("hs.secret", testSecret)
        let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let args = [
            root + "/samples/logs", s.path("mixed.log"), "--keys", root + "/samples/keys/jwks.json",
            "--hmac-secret-file", s.path("hs.secret"), "--max-line", "4096",
        ]
        let one = runCLI(["scan"] + args + ["--format", "ndjson", "--scan-threads", "1"])
        #expect(one.out.count > 100_000)
        for jobs in ["2", "8"] {
            #expect(
                runCLI(["scan"] + args + ["--format", "ndjson", "--scan-threads", jobs]).out == one.out, "jobs \(jobs)")
        }
        // Records written on the judging thread (--jobs 1) or on a thread of their own (--jobs 2: RenderAhead),
        // whatever the scanning threads: the same bytes.
        for extra in [
            ["--jobs", "1"], ["--jobs", "2", "--scan-threads", "1"], ["--jobs", "2", "--scan-threads", "8"],
        ] {
            #expect(runCLI(["scan"] + args + ["--format", "ndjson"] + extra).out == one.out, "\(extra)")
        }
        // Nothing judged: the workers write the records themselves.
        let logs = [root + "/samples/logs", s.path("mixed.log"), "--max-line", "4096"]
        let plain = runCLI(["scan"] + logs + ["--format", "ndjson", "--no-verify", "--scan-threads", "1"])
        #expect(plain.out.count > 100_000)
        for jobs in ["2", "8"] {
            let out = runCLI(["scan"] + logs + ["--format", "ndjson", "--no-verify", "--scan-threads", jobs]).out
            #expect(out == plain.out, "--no-verify, jobs \(jobs)")
        }
        // A time window: kept or dropped once per chunk, wherever the chunk was scanned.
        let window = ["--since", "2023-11-14T22:01:00Z", "--until", "2023-11-14T22:03:00Z"]
        let windowed = runCLI(["scan"] + logs + window + ["--format", "ndjson", "--no-verify", "--scan-threads", "1"])
        #expect(windowed.out.count > 1000 && windowed.out.count < plain.out.count)
        for jobs in ["2", "8"] {
            let out = runCLI(["scan"] + logs + window + ["--format", "ndjson", "--no-verify", "--scan-threads", jobs])
            #expect(out.out == windowed.out, "window, jobs \(jobs)")
        }
        var contents: [[String]] = []
        for jobs in ["1", "2", "8"] {
            let db = s.path("j\(jobs).sqlite")
            #expect(s.scan(args + ["--scan-threads", jobs], db: db).status <= 1)
            contents.append(try s.contents(db: db))
        }
        #expect(contents[0].count > 1000 && contents[1] == contents[0] && contents[2] == contents[0])
    }

    /// A recorder whose plan skips some files and resumes one part-way, as a database run's plans do.
    struct PlanningRecorder: ScanConsumer {
        var inner = Recorder()
        let plans: [String: ReadPlan]
        mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
            let name = String(source.name.split(separator: "/").last ?? "")
            return plans[name] ?? inner.begin(source: source, facts: facts)
        }
        mutating func consume(
            _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
        ) { inner.consume(findings, judged: judged, source: source, end: end) }
        mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
            inner.end(source: source, summary: summary, error: error)
        }
    }

    /// Many small files (each of at most two of the reader's fills; over-long lines cut into pieces) among a large one, a gzip file and an empty one, yearless syslog
    /// lines dated by each file's own modification time: scanned several at once by `--jobs` workers, they give
    /// what one thread gives, file for file — also when the plans skip files or resume one part-way (the workers'
    /// scans of those are dropped), and with a time window.
    @Test("several small files at once: the same findings as one thread, skipped and resumed files included")
    func smallFilesAtOnce() throws {
        let s = Scratch()
        let folder = s.path("logs")
        mkdir(folder, 0o700)
        let lines = Self.corpus().split(separator: "\n", omittingEmptySubsequences: false)
        var plans: [String: ReadPlan] = [:]
        for f in 0..<36 {
            let name = "f\(f < 10 ? "0" : "")\(f).log"
            // First a yearless line: dated by the file's own modification time (no full date before it).
            let part =
                "Mar  3 10:00:0\(f % 10) host app[1]: first Bearer \(fakeToken(f))\n"
                + lines[(f * 60)..<((f + 1) * 60)].joined(separator: "\n") + "\n"
            let path = folder + "/" + name
            let file = fopen(path, "w")!
            fputs(part, file)
            fclose(file)
            // Modification times a year apart: the year of a yearless stamp comes from each file's own.
            var times = [timespec(tv_sec: 1_650_000_000 + f * 31_536_000 / 4, tv_nsec: 0)]
            times.append(times[0])
            #expect(utimensat(AT_FDCWD, path, times, 0) == 0)
            if f % 9 == 4 { plans[name] = .skip(reason: "test") }
            if f % 9 == 7 {
                // Resumed at its 6th line.
                let offset = part.utf8.split(separator: 10, omittingEmptySubsequences: false).prefix(5)
                    .reduce(0) { $0 + $1.count + 1 }
                plans[name] = .read(from: UInt64(offset), line: 6, reason: "test")
            }
        }
        s.write("logs/g40-large.log", String(repeating: Self.corpus() + "\n", count: 2))
        s.write("logs/g41-empty.log", "")
        #expect(system("cd '\(folder)' && gzip -c f03.log > g42-zipped.log.gz") == 0)
        s.write("logs/h50-after.log", lines[0..<50].joined(separator: "\n") + "\n")
        let secret = KeyLoader.secret(Array(testSecret.utf8), origin: "hs.secret", retired: false).0!
        func run(jobs: Int, plans: [String: ReadPlan], window: Bool = false) -> (out: [String], ahead: Int) {
            var options = ScanOptions(
                paths: [folder], reader: ReaderOptions(maximumLineLength: 4096, blockSize: 16384), now: 1_704_100_000,
                verify: VerifyOptions(keys: KeyRing(current: [secret]), workers: 2))
            options.scanThreads = jobs
            if window { (options.since, options.until) = (1_703_980_500, 1_704_000_800) }
            var r = PlanningRecorder(plans: plans)
            let totals = ScanRun(options: options).run(into: &r)
            let summary =
                "TOTALS \(totals.counts.sightings) \(totals.counts.lines) \(totals.counts.bytes) \(totals.distinctTokens) \(totals.sightingsByCause.sorted { $0.key < $1.key })"
            return (r.inner.out + [summary], totals.sourcesScannedAhead)
        }
        for (plan, window) in [([:], false), (plans, false), ([:], true)] {
            let serial = run(jobs: 1, plans: plan, window: window)
            #expect(serial.ahead == 0)
            #expect(serial.out.filter { $0.hasPrefix("END ") }.count == 40)
            #expect(serial.out.filter { $0.hasPrefix("T ") }.count > (window ? 50 : 1000))
            for jobs in [2, 3, 8] {
                let parallel = run(jobs: jobs, plans: plan, window: window)
                // The workers scanned files ahead (the small ones), and the merge used their scans.
                #expect(parallel.ahead > 10, "jobs \(jobs): \(parallel.ahead) files scanned ahead")
                if let i = serial.out.indices.first(where: {
                    $0 >= parallel.out.count || serial.out[$0] != parallel.out[$0]
                }) {
                    Issue.record(
                        "jobs \(jobs), plans \(plan.count), window \(window): first difference at \(i): \(serial.out[i]) ≠ \(i < parallel.out.count ? parallel.out[i] : "(end)")"
                    )
                }
                #expect(parallel.out.count == serial.out.count)
            }
        }
    }
}

/// Truncates its file when the first chunk comes (logrotate's copytruncate, say, under a running scan).
struct TruncatingRecorder: ScanConsumer {
    let path: String
    var chunks = 0
    var lastEnd: UInt64 = 0
    var errors: [InputError] = []
    mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan { .read(from: 0, line: 1, reason: "test") }
    mutating func consume(_ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress) {
        if chunks == 0 { #expect(truncate(path, 1000) == 0) }
        chunks += 1
        lastEnd = end.offset
    }
    mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        if let error { errors.append(error) }
    }
}

/// Appends to its file when the first chunk comes (a log still being written).
struct AppendingRecorder: ScanConsumer {
    let path: String
    var chunks = 0
    var summary: ReadSummary?
    var error: InputError?
    mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan { .read(from: 0, line: 1, reason: "test") }
    mutating func consume(_ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress) {
        if chunks == 0 {
            let fd = open(path, O_WRONLY | O_APPEND)
            let more = Array(String(repeating: "appended line\n", count: 10_000).utf8)
            #expect(more.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == more.count)
            close(fd)
        }
        chunks += 1
    }
    mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        self.summary = summary
        self.error = error
    }
}

@Suite("Mapped file shrinking or growing under a scan", .serialized)
struct ShrinkingFileTests {
    /// A scan of `path` in 4 KiB chunks on `jobs` threads.
    static func options(_ path: String, jobs: Int) -> ScanOptions {
        var options = ScanOptions(
            paths: [path], reader: ReaderOptions(maximumLineLength: 4096, blockSize: 4096), now: 1_704_100_000)
        options.scanThreads = jobs
        return options
    }

    @Test("a file truncated while it is scanned ends its source with a read error: no crash, nothing past the cut")
    func truncatedWhileScanned() throws {
        for jobs in [1, 2, 8] {
            let s = Scratch()
            let line = "2024-01-01T00:00:00Z GET /x Authorization: Bearer \(fakeToken(1, exp: 1_700_000_000)) 401\n"
            s.write("big.log", String(repeating: line, count: 40_000))
            let options = Self.options(s.path("big.log"), jobs: jobs)
            var r = TruncatingRecorder(path: s.path("big.log"))
            let totals = ScanRun(options: options).run(into: &r)
            #expect(r.chunks == 1, "jobs \(jobs)")
            #expect(r.lastEnd <= 8192, "jobs \(jobs)")
            #expect(r.errors.count == 1 && r.errors.first?.code == .readFailed, "jobs \(jobs)")
            #expect(r.errors.first?.reason.contains("shrank") == true, "jobs \(jobs)")
            #expect(totals.inputErrors.count == 1, "jobs \(jobs)")
        }
    }

    @Test("a file that grows while it is scanned is read as it was when opened; the next run continues from there")
    func grownWhileScanned() throws {
        for jobs in [1, 2, 8] {
            let s = Scratch()
            let line = "2024-01-01T00:00:00Z GET /x Authorization: Bearer \(fakeToken(1, exp: 1_700_000_000)) 401\n"
            s.write("growing.log", String(repeating: line, count: 20_000))
            let size = UInt64(line.utf8.count * 20_000)
            let options = Self.options(s.path("growing.log"), jobs: jobs)
            var r = AppendingRecorder(path: s.path("growing.log"))
            let totals = ScanRun(options: options).run(into: &r)
            #expect(r.error == nil && totals.inputErrors.isEmpty, "jobs \(jobs)")
            #expect(r.summary?.bytes == size && r.summary?.lines == 20_000, "jobs \(jobs)")
            #expect(totals.counts.sightings == 20_000, "jobs \(jobs)")
        }
    }
}

@Suite("Pre-rendered output")
struct PrerenderTests {
    @Test("the workers write NDJSON records only when every chunk's findings need not come to consume")
    func prerenderedOnlyWithoutMetrics() {
        let ndjson = NDJSONConsumer(sink: OutputSink(fd: -1))
        #expect(ndjson.prerender != nil)
        #expect(MetricsConsumer(ndjson, tally: nil).prerender != nil)
        #expect(MetricsConsumer(ndjson, tally: MetricsTally()).prerender == nil)
        // Rendering ahead on a thread of its own keeps one order only if the workers do not also write.
        #expect(NDJSONConsumer(sink: OutputSink(fd: -1), renderAhead: true).prerender == nil)
    }
}
