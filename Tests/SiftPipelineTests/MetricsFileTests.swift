import JOSECrypto
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `scripts/check-metrics.py`: prometheus_client's text parser plus the checks it leaves out.
let metricsChecker =
    "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/scripts/check-metrics.py"

/// The python3 to run it with: `JWTSIFT_PYTHON`, else the one on PATH.
let metricsPython = getenv("JWTSIFT_PYTHON").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "python3"

/// Whether python3 with prometheus_client is here. `scripts/test` installs it and sets
/// JWTSIFT_REQUIRE_PROMETHEUS_PARSER=1, so that in CI its absence fails instead of skipping.
let prometheusParserAvailable = system("'\(metricsPython)' -c 'import prometheus_client' >/dev/null 2>&1") == 0
let prometheusParserRequired = getenv("JWTSIFT_REQUIRE_PROMETHEUS_PARSER").map { String(cString: $0) == "1" } ?? false

/// Runs the checker on `path`: its exit status, the parsed families (JSON) and its complaints.
func checkMetrics(_ path: String) -> (status: Int32, families: JSONObject?, err: String) {
    let dir = "/tmp/jwtsift-metrics-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    mkdir(dir, 0o700)
    defer { _ = system("rm -rf '\(dir)'") }
    let raw = system("'\(metricsPython)' '\(metricsChecker)' '\(path)' >'\(dir)/out' 2>'\(dir)/err'")
    let out = readAll(dir + "/out")
    return ((raw >> 8) & 0xFF, try? JSONParser.parseObject(Array(out.utf8)), readAll(dir + "/err"))
}

/// An HS256 token signed with ``testSecret`` whose payload is `claims` (JSON members, without braces).
func tokenWithClaims(_ claims: String) -> String {
    let h = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let p = Base64URL.encode(Array("{\(claims)}".utf8))
    let mac = Array((h + "." + p).utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
    return h + "." + p + "." + Base64URL.encode(mac)
}

/// The samples of one family: (labels, value).
func samples(_ families: JSONObject?, _ name: String) -> [([String: String], Double)] {
    guard let rows = families?[name]?.objectValue?["samples"]?.arrayValue else { return [] }
    return rows.compactMap { row in
        guard let o = row.objectValue, let v = o["value"]?.numberValue, let l = o["labels"]?.objectValue else {
            return nil
        }
        var labels: [String: String] = [:]
        for m in l.members { labels[m.name] = m.value.stringValue }
        return (labels, v)
    }
}

@Suite("Metrics file: Prometheus text format")
struct PrometheusTextTests {
    @Test("label values escape backslash, double quote and line feed; HELP escapes backslash and line feed")
    func escaping() {
        #expect(PrometheusText.escapeLabelValue(#"a\b"c"# + "\nd") == #"a\\b\"c\nd"#)
        #expect(PrometheusText.escapeLabelValue("plain é") == "plain é")
        #expect(PrometheusText.escapeHelp(#"a\b"c"# + "\n") == #"a\\b"c\n"#)
        var t = PrometheusText()
        t.family("x_total", type: .counter, help: "two\nlines")
        t.sample("x_total", labels: [("a", "q\"\\"), ("b", "")], 3)
        #expect(t.text == "# HELP x_total two\\nlines\n# TYPE x_total counter\nx_total{a=\"q\\\"\\\\\",b=\"\"} 3\n")
    }

    @Test("values: whole numbers plain, fractions round-trip, NaN and ±Inf spelled as the format does")
    func numbers() {
        #expect(PrometheusText.number(42) == "42")
        #expect(PrometheusText.number(-0.5) == "-0.5")
        #expect(PrometheusText.number(1_796_022_305.5962553) == "1796022305.5962553")
        #expect(PrometheusText.number(.nan) == "NaN")
        #expect(PrometheusText.number(.infinity) == "+Inf")
        #expect(PrometheusText.number(-.infinity) == "-Inf")
        #expect(Double(PrometheusText.number(1e300)) == 1e300)
    }

    @Test("a log-derived label value: tokens redacted, control characters visible, at most the bound in bytes")
    func bounded() {
        let long = String(repeating: "é", count: 200)
        let b = PrometheusText.boundedLabelValue(long, limit: 128)
        #expect(b.utf8.count <= 128)
        #expect(b.hasSuffix("…"))
        #expect(PrometheusText.boundedLabelValue("a\u{1b}]0;x\u{7}b") == "a\\x1b]0;x\\x07b")
        #expect(!PrometheusText.boundedLabelValue("iss-\(fakeToken(1))").contains("eyJ"))
    }

    @Test("last success read back from a file: the sample's value, nil without one or for garbage")
    func readBack() {
        let s = Scratch()
        s.write(
            "a.prom",
            "# HELP jwtsift_last_success_timestamp_seconds x\njwtsift_last_success_timestamp_seconds 1700000000.5\n")
        #expect(MetricsFile.lastSuccess(in: s.path("a.prom")) == 1_700_000_000.5)
        s.write(
            "b.prom", "jwtsift_last_success_timestamp_seconds_other 5\njwtsift_last_success_timestamp_seconds NaN\n")
        #expect(MetricsFile.lastSuccess(in: s.path("b.prom")) == nil)
        #expect(MetricsFile.lastSuccess(in: s.path("none.prom")) == nil)
        #expect(MetricsFile.lastSuccess(in: s.dir) == nil)
    }
}

@Suite("scan --metrics-file", .serialized)
struct MetricsFileTests {
    /// 30 issuers over 25 files: issuer i has 30 - i sightings, file f gets the lines with index ≡ f (mod 25);
    /// one issuer is hostile (quote, backslash, line feed, ESC, 300 bytes).
    static let hostileIssuer =
        "https://evil.example/\"quoted\"\\back\nline\u{1b}[31m" + String(repeating: "x", count: 300)

    static func write(_ s: Scratch) -> (files: [String], sightings: Int) {
        mkdir(s.path("logs"), 0o700)
        var lines = Array(repeating: "", count: 25)
        var n = 0
        for i in 0..<30 {
            let iss = i == 0 ? JSONValue.quote(hostileIssuer) : "\"https://issuer-\(i).example/\""
            for k in 0..<(30 - i) {
                let token = tokenWithClaims(#""iss":\#(iss),"sub":"u\#(k)","iat":1699999000,"exp":1700000600"#)
                lines[n % 25] += "2023-11-14T22:13:05Z GET /x 200 Authorization: Bearer \(token)\n"
                n += 1
            }
        }
        // An error line with no token: no issuer.
        lines[3] += "2023-11-14T22:13:06Z ERROR auth: jwt expired\n"
        var files: [String] = []
        for (f, text) in lines.enumerated() {
            let name = "logs/app-\(f < 10 ? "0" : "")\(f).log"
            s.write(name, text)
            files.append(s.path(name))
        }
        return (files, n)
    }

    @Test(
        "a real Prometheus parser reads the file: every family typed and documented, escaped issuer intact, caps held, sums right",
        .enabled(
            if: prometheusParserAvailable || prometheusParserRequired, "python3 with prometheus_client is not installed"
        ))
    func parsedByPrometheusClient() throws {
        #expect(prometheusParserAvailable, "JWTSIFT_REQUIRE_PROMETHEUS_PARSER=1 but prometheus_client is missing")
        let s = Scratch()
        let (_, sightings) = Self.write(s)
        s.write("hs.secret", testSecret)
        let metrics = s.path("jwtsift.prom")
        let r = s.scan([s.path("logs"), "--hmac-secret-file", s.path("hs.secret"), "--metrics-file", metrics])
        #expect(r.status == 0, "\(r.err)")
        let check = checkMetrics(metrics)
        #expect(check.status == 0, "\(check.err)")
        let families = try #require(check.families)

        let tokens = samples(families, ScanMetrics.Name.tokenSightings)
        #expect(tokens.reduce(0) { $0 + $1.1 } == Double(sightings))
        let issuers = Set(tokens.compactMap { $0.0["issuer"] })
        let sources = Set(tokens.compactMap { $0.0["source"] })
        #expect(issuers.count == 11, "\(issuers)")  // ten by name, other
        #expect(issuers.contains(ScanMetrics.otherLabel))
        #expect(sources.count == 21, "\(sources)")  // twenty by name, other
        // The hostile issuer is the most frequent: kept by name, bounded and made visible, then escaped and
        // read back by the parser as exactly that.
        let shown = PrometheusText.boundedLabelValue(Self.hostileIssuer)
        #expect(issuers.contains(shown))
        #expect(shown.utf8.count <= 128 && !shown.contains("\n") && !shown.contains("\u{1b}"))
        // Issuers 10…29 and five sources are folded.
        let folded = samples(families, ScanMetrics.Name.labelValuesFolded)
        #expect(folded.first { $0.0["label"] == "issuer" }?.1 == 20)
        #expect(folded.first { $0.0["label"] == "source" }?.1 == 5)
        let other = tokens.filter { $0.0["issuer"] == ScanMetrics.otherLabel }.reduce(0) { $0 + $1.1 }
        #expect(other == Double((10..<30).reduce(0) { $0 + 30 - $1 }))

        let errors = samples(families, ScanMetrics.Name.errorLines)
        #expect(errors.count == 1)
        #expect(errors.first?.0 == ["cause": "expired", "issuer": "", "source": s.path("logs/app-03.log")])

        func value(_ name: String) -> Double? { samples(families, name).first?.1 }
        #expect(value(ScanMetrics.Name.sources) == 25)
        #expect(value(ScanMetrics.Name.lines) == Double(sightings + 1))
        #expect(value(ScanMetrics.Name.exitStatus) == 0)
        #expect((value(ScanMetrics.Name.bytes) ?? 0) > 0)
        let lastRun = try #require(value(ScanMetrics.Name.lastRun))
        #expect(value(ScanMetrics.Name.lastSuccess) == lastRun)
        #expect(lastRun > 1_700_000_000)
        for name in [
            ScanMetrics.Name.duration, ScanMetrics.Name.sourcesSkipped, ScanMetrics.Name.inputErrors,
        ] {
            #expect(value(name) != nil, "\(name) missing")
        }
    }

    @Test(
        "the checker fails on a broken file (an unescaped quote, a family without TYPE, a missing line feed)",
        .enabled(
            if: prometheusParserAvailable || prometheusParserRequired, "python3 with prometheus_client is not installed"
        ))
    func checkerRejectsBrokenFiles() {
        #expect(prometheusParserAvailable, "JWTSIFT_REQUIRE_PROMETHEUS_PARSER=1 but prometheus_client is missing")
        let s = Scratch()
        s.write("good.prom", "# HELP x a\n# TYPE x gauge\nx{issuer=\"a\\\"b\"} 1\n")
        #expect(checkMetrics(s.path("good.prom")).status == 0)
        for (name, text) in [
            ("quote.prom", "# HELP x a\n# TYPE x gauge\nx{issuer=\"a\"b\"} 1\n"),
            ("newline.prom", "# HELP x a\n# TYPE x gauge\nx{issuer=\"a\nb\"} 1\n"),
            ("untyped.prom", "x 1\n"),
            ("unterminated.prom", "# HELP x a\n# TYPE x gauge\nx 1"),
        ] {
            s.write(name, text)
            let r = checkMetrics(s.path(name))
            #expect(r.status == 1, "\(name) passed the check")
            #expect(r.err.contains("check-metrics:"), "\(name): \(r.err)")
        }
    }

    @Test("replaced atomically: mode 0644 whatever the umask, a new inode, no temporary file left")
    func atomicAndReadable() throws {
        let s = Scratch()
        s.write("a.log", "2023-11-14T22:13:05Z GET /x 200 Authorization: Bearer \(fakeToken(1))\n")
        let metrics = s.path("jwtsift.prom")
        s.write("jwtsift.prom", "old\n")
        chmod(metrics, 0o600)
        var before = stat()
        stat(metrics, &before)
        let r = runCLI(["scan", "-q", "--db", s.db, s.path("a.log"), "--metrics-file", metrics])
        #expect(r.status == 0, "\(r.err)")
        var after = stat()
        #expect(stat(metrics, &after) == 0)
        #expect(after.st_mode & 0o777 == 0o644)
        #expect(after.st_ino != before.st_ino, "written in place, not renamed over")
        #expect(readAll(metrics).hasPrefix("# HELP jwtsift_scan_token_sightings"))
        let listing = try #require(opendir(s.dir))
        defer { closedir(listing) }
        var names: [String] = []
        while let e = readdir(listing) {
            names.append(
                withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) })
        }
        #expect(!names.contains { $0.contains(".tmp.") }, "\(names)")
    }

    @Test("a run that fails partway writes its status; the last success time is the previous file's, read back")
    func failedRunKeepsLastSuccess() throws {
        let s = Scratch()
        s.write("a.log", "2023-11-14T22:13:05Z GET /x 200 Authorization: Bearer \(fakeToken(1))\n")
        let metrics = s.path("jwtsift.prom")
        #expect(s.scan([s.path("a.log"), "--metrics-file", metrics]).status == 0)
        let first = try #require(MetricsFile.lastSuccess(in: metrics))

        // One input missing among readable ones: exit 3 after scanning the rest.
        s.write("b.log", "2023-11-14T22:13:06Z GET /x 200 Authorization: Bearer \(fakeToken(2))\n")
        let r = s.scan([s.path("b.log"), s.path("missing.log"), "--metrics-file", metrics])
        #expect(r.status == 3, "\(r.err)")
        let text = readAll(metrics)
        #expect(text.contains("\njwtsift_scan_exit_status 3\n"), "\(text)")
        #expect(text.contains("\njwtsift_scan_input_errors 1\n"))
        #expect(text.contains("source=\"\(s.path("b.log"))\"} 1\n"), "the readable input's findings are counted")
        #expect(MetricsFile.lastSuccess(in: metrics) == first)
        #expect(!text.contains("\njwtsift_last_run_timestamp_seconds \(PrometheusText.number(first))\n"))

        // The database locked by another process: exit 4, nothing scanned, still recorded.
        #expect(system("flock '\(s.db)' sleep 3 >/dev/null 2>&1 &") == 0)
        usleep(300_000)
        let locked = s.scan([s.path("a.log"), "--lock-timeout", "0", "--metrics-file", metrics])
        #expect(locked.status == 4, "\(locked.err)")
        #expect(readAll(metrics).contains("\njwtsift_scan_exit_status 4\n"))
        #expect(MetricsFile.lastSuccess(in: metrics) == first)

        // Never succeeded: 0, so an alert on its age fires.
        let fresh = s.path("fresh.prom")
        #expect(s.scan([s.path("missing.log"), "--metrics-file", fresh]).status == 3)
        #expect(readAll(fresh).contains("\njwtsift_last_success_timestamp_seconds 0\n"))
    }

    @Test(
        "--fail-on findings (exit 1) count as a successful run; a metrics directory that does not exist, or a file that cannot be written, is exit 2"
    )
    func failOnAndBadDirectory() {
        let s = Scratch()
        s.write("a.log", "2023-11-14T22:13:05Z ERROR auth: jwt expired\n")
        let metrics = s.path("jwtsift.prom")
        let r = s.scan([s.path("a.log"), "--fail-on", "expired", "--metrics-file", metrics])
        #expect(r.status == 1)
        let text = readAll(metrics)
        #expect(text.contains("\njwtsift_scan_exit_status 1\n"))
        #expect(!text.contains("\njwtsift_last_success_timestamp_seconds 0\n"))

        let bad = runCLI([
            "scan", "-q", "--db", s.path("other.sqlite"), s.path("a.log"), "--metrics-file", s.path("no/such/x.prom"),
        ])
        #expect(bad.status == 2)
        #expect(bad.err.contains("--metrics-file"), "\(bad.err)")
        #expect(access(s.path("other.sqlite"), F_OK) != 0, "a database was created")

        // A directory where no file can be made (procfs): the scan runs, then the write fails: exit 2, said.
        let late = runCLI([
            "scan", "-q", "--db", s.path("late.sqlite"), s.path("a.log"), "--metrics-file", "/proc/self/x.prom",
        ])
        #expect(late.status == 2)
        #expect(late.err.contains("--metrics-file: /proc/self/x.prom: cannot create a temporary file"), "\(late.err)")
        #expect(access(s.path("late.sqlite"), F_OK) == 0, "the scan did not run")
    }
}
