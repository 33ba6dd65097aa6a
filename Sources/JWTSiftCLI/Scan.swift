import ArgumentParser
import FindingsStore
import JWTScan
import JWTVerify
import KeySources
import LogInput
import SiftCore
import SiftPipeline

#if canImport(Glibc)
import Glibc
#endif

extension JWTSift {
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scan logs (files, directories, gzip archives, or - for stdin) for JWTs and JWT errors.",
            discussion: """
                By default findings go to the database ./jwtsift.sqlite (--db FILE), incrementally: files already \
                scanned are skipped, grown files continue where the last run stopped, rotated files start over. \
                --format ndjson prints one JSON object per finding on stdout instead (add --db to do both). \
                --metrics-file PATH writes the run's metrics for node_exporter's textfile collector (docs/cron.md). \
                Exit codes: 0 done; 1 findings matched --fail-on; 2 usage or configuration error (a key file that \
                could not be loaded, a --metrics-file that could not be written); 3 some inputs could not be read \
                (the rest were scanned); 4 the database could not be used; 130/143 stopped by SIGINT/SIGTERM (what \
                was scanned is kept). When several apply, the first in this order wins: 2, 4, 130/143, 3, 1.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case ndjson
        }

        @Argument(help: "Log files, directories (read recursively) or - for standard input.")
        var paths: [String]

        @Flag(name: .customLong("no-verify"), help: "Only find tokens and errors; do not check signatures or claims.")
        var noVerify = false

        @Option(help: "Print findings on stdout in this format instead of (or, with --db, besides) the database.")
        var format: Format?

        @Option(
            help: ArgumentHelp(
                "The findings database (default ./jwtsift.sqlite unless --format is given).", valueName: "file"))
        var db: String?

        @Option(
            name: .customLong("ok-sightings"),
            help: ArgumentHelp(
                "rows: a row per successful sighting; count: only counted in tokens.sightings (huge nightly runs).",
                valueName: "rows|count"))
        var okSightings: String = "rows"

        @Flag(
            name: .customLong("keep-subjects"),
            help: "Store the sub claim in clear in tokens.sub (default: only its SHA-256).")
        var keepSubjects = false

        @Flag(
            help: """
                Read every source again and replace its rows, even one already scanned under the same keys and \
                policy (a changed key, secret, issuer, audience, leeway or --keep-subjects re-judges by itself).
                """)
        var rescan = false

        @Option(
            name: .customLong("lock-timeout"), parsing: .unconditional,
            help: ArgumentHelp(
                "Seconds to wait for another run writing to the same database (0 to 86400; default 30).",
                valueName: "seconds"),
            transform: Bounds.number("--lock-timeout", Bounds.lockTimeout, unit: "seconds"))
        var lockTimeout: Double = 30

        @Option(
            help: ArgumentHelp(
                "Only lines whose own time is at or after this (RFC 3339 or Unix seconds).", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only lines whose own time is before this.", valueName: "time"))
        var until: String?

        @Option(
            name: .customLong("fail-on"),
            help: ArgumentHelp(
                "Exit with status 1 when a token sighting or an error message has one of these causes.",
                valueName: "cause,..."))
        var failOn: String?

        @Option(
            parsing: .unconditional,
            help: "Zone for log times that carry no offset: UTC, or an offset from -14:00 to +14:00 (+01:00, -0500).")
        var timezone: String = "UTC"

        @Option(
            name: .customLong("max-line"), parsing: .unconditional,
            help: ArgumentHelp(
                "Lines longer than this many bytes are scanned in pieces (64 to 268435456; default 1048576); a token across a cut is kept whole.",
                valueName: "bytes"),
            transform: Bounds.int("--max-line", Bounds.maxLine))
        var maxLine: Int = 1 << 20

        @Option(
            name: .customLong("stdin-name"),
            help: ArgumentHelp(
                "What findings call standard input instead of - (the original path of a file streamed in, as a Spark task does).",
                valueName: "name"))
        var stdinName: String?

        @Option(
            name: .customLong("stdin-mtime"),
            help: ArgumentHelp(
                "The modification time of what standard input streams, for the year of syslog stamps without one (default: now).",
                valueName: "time"))
        var stdinMtime: String?

        @Flag(name: .customLong("no-messages"), help: "Leave redacted error messages out of the NDJSON output.")
        var noMessages = false

        @Flag(name: .shortAndLong, help: "No progress line and no summary on standard error.")
        var quiet = false

        @Option(
            name: .customLong("metrics-file"),
            help: ArgumentHelp(
                "Write the run's metrics here in the Prometheus text format, for node_exporter's textfile collector (replaced atomically, mode 0644, also when the run fails).",
                valueName: "path"))
        var metricsFile: String?

        @OptionGroup(title: "Verification")
        var keyOptions: KeyOptions

        @Option(
            parsing: .unconditional,
            help: ArgumentHelp(
                "Threads scanning and verifying, 1 to 1024 (default: the number of cores).",
                valueName: "n"),
            transform: Bounds.int("--jobs", Bounds.jobs))
        var jobs: Int?

        @Option(
            name: .customLong("scan-threads"),
            parsing: .unconditional,
            help: ArgumentHelp(
                "Threads scanning one file's chunks, or the next small files whole, merged in order (output identical to one thread). Default: --jobs without --db; 1 with --db, where the database writer sets the pace (README, Benchmarks).",
                valueName: "n"),
            transform: Bounds.int("--scan-threads", Bounds.jobs))
        var scanThreads: Int?

        var failCauses: Set<Cause> {
            Set((failOn ?? "").split(separator: ",").compactMap { Cause(rawValue: String($0).trimmingSpaces) })
        }

        func validate() throws {
            guard !paths.isEmpty else { throw ValidationError("give at least one path, or - for standard input") }
            if noVerify && keyOptions.givesKeys {
                throw ValidationError(
                    "--no-verify and --keys/--retired-keys/--hmac-secret-file/--config contradict each other")
            }
            guard ZoneOption.parse(timezone) != nil else {
                throw ValidationError(
                    "--timezone '\(timezone)' is not UTC or an offset from -14:00 to +14:00 (such as +01:00 or -0500)")
            }
            guard DatabaseOptions.OkSightings(rawValue: okSightings) != nil else {
                throw ValidationError("--ok-sightings is rows or count")
            }
            for (name, value) in [("--since", since), ("--until", until)] {
                if let value, AtOption.parse(value) == nil {
                    throw ValidationError("\(name) '\(value)' is not a time \(AtOption.forms)")
                }
            }
            if let metricsFile {
                let dir = MetricsFile.directory(of: metricsFile)
                var st = stat()
                guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                    throw ValidationError(
                        "--metrics-file: \(UntrustedText.display(dir)) is not a directory (the file is written beside a temporary one there)"
                    )
                }
                if stat(metricsFile, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
                    throw ValidationError("--metrics-file: \(UntrustedText.display(metricsFile)) is a directory")
                }
            }
            if (stdinName != nil || stdinMtime != nil) && !paths.contains("-") {
                throw ValidationError("--stdin-name and --stdin-mtime name standard input: give - as a path")
            }
            if let stdinName, stdinName.isEmpty || stdinName == "-" {
                throw ValidationError("--stdin-name needs a name other than - ('\(stdinName)')")
            }
            if let stdinMtime, AtOption.parse(stdinMtime) == nil {
                throw ValidationError("--stdin-mtime '\(stdinMtime)' is not a time \(AtOption.forms)")
            }
            if let failOn {
                for word in failOn.split(separator: ",") where Cause(rawValue: String(word).trimmingSpaces) == nil {
                    throw ValidationError(
                        "--fail-on: '\(word)' is not a cause (\(Cause.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
            }
        }

        /// Scans, then writes `--metrics-file` whatever the exit status (a failed run's metrics say how it failed).
        func run() throws {
            let startedAt = wallClock()
            var outcome = ScanOutcome()
            var status: Int32 = 0
            do {
                try scan(startedAt: startedAt, outcome: &outcome)
            } catch let code as ExitCode {
                status = code.rawValue
            }
            if let metricsFile {
                let metrics = ScanMetrics(
                    tally: outcome.tally ?? MetricsTally(), counts: outcome.counts, exitStatus: status,
                    startedAt: startedAt, finishedAt: wallClock(),
                    previousSuccess: MetricsFile.lastSuccess(in: metricsFile))
                do {
                    try MetricsFile.write(metrics.render(), to: metricsFile)
                } catch {
                    printError("jwtsift: --metrics-file: \(UntrustedText.display(error.description))")
                    // A configuration error, and 2 comes first of the exit statuses.
                    status = 2
                }
            }
            if status != 0 { throw ExitCode(status) }
        }

        /// What `run` hands to the metrics file: the counts and the tally so far, however the scan ended.
        struct ScanOutcome {
            var counts = RunCounts()
            var tally: MetricsTally? = nil
        }

        func scan(startedAt: Double, outcome: inout ScanOutcome) throws {
            let zone = ZoneOption.parse(timezone)!
            var verify: VerifyOptions? = nil
            var keyErrors = false
            var fetches: [KeyFetchRecord] = []
            if !noVerify {
                let sets = try keyOptions.load(now: startedAt)
                keyErrors = sets.hadErrors
                verify = sets.verifyOptions(workers: jobs ?? ProcessorCount.online)
                fetches = sets.fetches.map {
                    KeyFetchRecord(
                        url: $0.url, outcome: $0.outcome.rawValue, httpStatus: $0.httpStatus, reason: $0.reason,
                        fetchedAt: $0.fetchedAt, usedCache: $0.usedCache)
                }
            }
            let stop = StopSignals.install()
            // The inputs, expanded once: for the notes below, the progress total and the run.
            let (found, pathErrors, skipped) = InputPaths.expand(
                paths, skippingNonLogs: true, stdinName: stdinName ?? "-")
            let progress = ProgressLine(enabled: !quiet && isatty(2) == 1, totalBytes: ProgressLine.totalBytes(found))
            var options = ScanOptions(
                paths: paths, zone: zone, reader: ReaderOptions(maximumLineLength: maxLine, stop: stop), now: startedAt,
                verify: verify)
            // Writing a database, the writer and the verdicts on this thread set the pace and more scanning
            // threads only compete with them for the cores (measured: scripts/bench scan and db).
            let writesDatabase = db != nil || format == nil
            options.scanThreads = scanThreads ?? (writesDatabase ? 1 : jobs ?? ProcessorCount.online)
            if let stdinName { options.stdinName = stdinName }
            options.stdinModified = stdinMtime.flatMap(AtOption.parse)
            options.since = since.flatMap(AtOption.parse)
            options.until = until.flatMap(AtOption.parse)
            options.shouldStop = { stop.isRequested }
            options.onProgress = { totals in progress.update(totals) }
            options.expanded = (found, pathErrors)

            // Nothing to scan: say so, and leave no empty database behind.
            for (kind, what) in [(NonLogFile.keyMaterial, "key material"), (.database, "SQLite databases")] {
                let files = skipped.filter { $0.kind == kind }.map(\.path)
                guard !files.isEmpty, !quiet else { continue }
                let shown = files.prefix(3).map { UntrustedText.display($0) }.joined(separator: ", ")
                let more = files.count > 3 ? " and \(files.count - 3) more" : ""
                printError(
                    "jwtsift: note: skipped \(files.count) file\(files.count == 1 ? "" : "s") found in the directories "
                        + "(\(shown)\(more)): \(what), not logs; name a file to scan it anyway")
            }
            if found.isEmpty {
                for e in pathErrors { printError("jwtsift: \(UntrustedText.display("\(e)"))") }
                if !pathErrors.isEmpty { throw ExitCode(3) }
                printError(
                    "jwtsift: nothing to scan: \(UntrustedText.display(paths.joined(separator: " "))) holds no files")
                if keyErrors { throw ExitCode(2) }
                return
            }

            let dbPath = db ?? (format == nil ? "jwtsift.sqlite" : nil)
            var session: FindingsSession? = nil
            if let dbPath {
                let database = DatabaseOptions(
                    path: dbPath, lockTimeout: lockTimeout,
                    okSightings: DatabaseOptions.OkSightings(rawValue: okSightings)!,
                    keepSubjects: keepSubjects, rescan: rescan)
                do {
                    session = try FindingsSession(
                        options: database, startedAt: startedAt, version: JWTSiftVersion.string,
                        commandLine: CommandLine.arguments, verify: verify,
                        policy: ScanPolicy(scan: options, database: database), keyFetches: fetches,
                        shouldStop: { stop.isRequested },
                        onWaiting: { timeout in
                            printError(
                                "jwtsift: \(UntrustedText.display(dbPath)): another jwtsift run is writing to it; waiting up to \(Int(timeout)) s (--lock-timeout)"
                            )
                        })
                } catch {
                    printError("jwtsift: \(UntrustedText.display("\(error)"))")
                    if case .interrupted = error {
                        // Nothing was begun: no run row, no rows. Exit as any stopped run does.
                        if keyErrors { throw ExitCode(2) }
                        throw ExitCode(stop.requested == SIGTERM ? 143 : 130)
                    }
                    throw ExitCode(4)
                }
                // The keys with the history the database recorded (retired keys gone from the current sets).
                options.verify = session?.verify ?? options.verify
                for notice in session?.notices ?? [] { printError("jwtsift: \(UntrustedText.display(notice))") }
            }
            // A signal, or a write that failed (a full disk): nothing more would be stored.
            let writer = session?.writer
            options.shouldStop = { stop.isRequested || writer?.failed != nil }
            let sink = OutputSink()
            // Verifying on more than one core: records are written on a thread of their own (NDJSONConsumer).
            let renderAhead = options.verify != nil && (jobs ?? ProcessorCount.online) > 1
            let run = ScanRun(options: options)
            let totals: ScanTotals
            var okRolled = 0
            let tally = metricsFile == nil ? nil : MetricsTally()
            var failures = FailureGroups()
            switch (format, session) {
            case (.ndjson, let session?):
                var tee = MetricsConsumer(
                    TeeConsumer(
                        DatabaseConsumer(session: session),
                        NDJSONConsumer(sink: sink, includeMessages: !noMessages, renderAhead: renderAhead)),
                    tally: tally)
                totals = run.run(into: &tee)
                okRolled = tee.inner.first.okRolled
                outcome.tally = tee.tally
                failures = tee.inner.first.failures
            case (.ndjson, nil):
                var consumer = MetricsConsumer(
                    NDJSONConsumer(sink: sink, includeMessages: !noMessages, renderAhead: renderAhead), tally: tally)
                totals = run.run(into: &consumer)
                outcome.tally = consumer.tally
            case (nil, let session?):
                var consumer = MetricsConsumer(DatabaseConsumer(session: session), tally: tally)
                totals = run.run(into: &consumer)
                okRolled = consumer.inner.okRolled
                outcome.tally = consumer.tally
                failures = consumer.inner.failures
            case (nil, nil):
                fatalError("a database path is always set without --format")
            }
            sink.flush()
            progress.finish()
            outcome.counts = totals.counts

            var databaseFailed = false
            var committed: RunCounts? = nil
            if let session {
                do {
                    try session.finish(
                        status: totals.interrupted ? "interrupted" : "done", totals: totals, okRolled: okRolled,
                        finishedAt: wallClock())
                } catch {
                    // A batch or the run's end could not be written: the run is recorded as failed, with what
                    // was committed.
                    printError(
                        "jwtsift: \(UntrustedText.display(session.options.path)): \(UntrustedText.display("\(error)"))")
                    databaseFailed = true
                    committed = session.recordFailure(totals: totals, finishedAt: wallClock())
                }
            }
            for e in totals.inputErrors { printError("jwtsift: \(UntrustedText.display("\(e)"))") }
            if databaseFailed, let dbPath {
                printError(Summary.committed(committed, path: UntrustedText.display(dbPath)))
            } else if !quiet {
                // Where the findings are, and the next command to run on them.
                let next = dbPath.map { path -> String in
                    let shown = UntrustedText.display(path)
                    return "findings: \(shown)\nnext: jwtsift report --db \(Summary.shellQuoted(shown))\n"
                }
                let top = Summary.findings(failures.top(3), untracked: failures.untracked)
                printError(Summary.text(totals) + top + (next ?? ""))
            }
            if totals.interrupted && stop.requested != 0 {
                printError("jwtsift: stopped by a signal; what was scanned is kept (run again to continue)")
            }

            // Most serious first: configuration, database, signal, unreadable inputs, --fail-on.
            if keyErrors { throw ExitCode(2) }
            if databaseFailed { throw ExitCode(4) }
            if totals.interrupted { throw ExitCode(stop.requested == SIGTERM ? 143 : 130) }
            if !totals.inputErrors.isEmpty { throw ExitCode(3) }
            let fail = failCauses
            if !fail.isEmpty,
                totals.sightingsByCause.keys.contains(where: fail.contains)
                    || totals.errorsByCause.keys.contains(where: fail.contains)
            {
                throw ExitCode(1)
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// Parses `--timezone`.
enum ZoneOption {
    static func parse(_ s: String) -> LocalZone? {
        let u = s.uppercased()
        if u == "UTC" || u == "Z" || u == "GMT" { return .utc }
        let bytes = Array(s.utf8)
        guard bytes.count >= 3, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") else { return nil }
        let digits = bytes.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        let v = digits.map { Int($0 - 0x30) }
        let hours = v[0] * 10 + v[1]
        let minutes = digits.count == 4 ? v[2] * 10 + v[3] : 0
        guard minutes < 60 else { return nil }
        let sign = bytes[0] == UInt8(ascii: "-") ? -1 : 1
        let seconds = sign * (hours * 3600 + minutes * 60)
        guard Bounds.zoneOffset.contains(seconds) else { return nil }
        return .fixed(seconds: seconds, name: s)
    }
}
