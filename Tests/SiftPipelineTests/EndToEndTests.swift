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

/// Path of the `jwtsift` binary SwiftPM built next to the test bundle.
func jwtsiftBinary() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    let exe = String(decoding: buf[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var parts = exe.split(separator: "/", omittingEmptySubsequences: false)
    while let last = parts.last, !last.hasSuffix(".xctest") && parts.count > 1 { parts.removeLast() }
    parts.removeLast()
    return parts.joined(separator: "/") + "/jwtsift"
}

func fixturePath(_ name: String) -> String {
    "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/" + name
}

/// A file's whole text (test fixtures and CLI output); empty when it cannot be read.
func readAll(_ path: String) -> String {
    guard let f = fopen(path, "r") else { return "" }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Runs the CLI; returns exit status, stdout and stderr.
func runCLI(_ arguments: [String], stdin: String? = nil) -> (status: Int32, out: String, err: String) {
    let dir = "/tmp/jwtsift-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    mkdir(dir, 0o700)
    defer { _ = system("rm -rf '\(dir)'") }
    let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    var command = "'\(jwtsiftBinary())' \(quoted) >'\(dir)/out' 2>'\(dir)/err'"
    if let stdin { command = stdin + " | " + command }
    let raw = system(command)
    let status = (raw >> 8) & 0xFF
    return (status, readAll(dir + "/out"), readAll(dir + "/err"))
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}

@Suite("jwtsift scan, end to end")
struct EndToEndTests {
    @Test("scan --no-verify --format ndjson: one object per finding, never a token")
    func ndjson() throws {
        let r = runCLI(["scan", "--no-verify", "--format", "ndjson", fixturePath("logs")])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count > 40)
        var sources = Set<String>()
        var types: [String: Int] = [:]
        for line in lines {
            let o = try #require(try JSONParser.parse(String(line)).objectValue)
            let type = try #require(o["type"]?.stringValue)
            types[type, default: 0] += 1
            sources.insert(o["source"]?.stringValue ?? "")
            #expect(o["line"]?.numberValue != nil)
            #expect(o["offset"]?.numberValue != nil)
            #expect(o["log_time"]?.numberValue != nil)
            if type == "token" { #expect(o["fingerprint"]?.stringValue?.utf8.count == 64) }
            if type == "error" { #expect(o["cause"]?.stringValue != nil) }
        }
        #expect(types["token"] ?? 0 > 0 && types["error"] ?? 0 > 0)
        #expect(sources.count == 2)
        #expect(!r.out.contains("eyJ"), "a token leaked into the output")
    }

    @Test("a missing input: the others are scanned, the error names the path, exit code 3")
    func missingInput() {
        let r = runCLI([
            "scan", "--no-verify", "--format", "ndjson", "/nonexistent/x.log", fixturePath("logs/orders-api.log"),
        ])
        #expect(r.status == 3)
        #expect(r.err.contains("/nonexistent/x.log"))
        #expect(r.out.contains("\"type\":\"token\""))
    }

    @Test("standard input, gzip included")
    func stdin() {
        let r = runCLI(
            ["scan", "--no-verify", "--format", "ndjson", "-"], stdin: "cat " + fixturePath("logs/haproxy.log.1.gz"))
        #expect(r.status == 0)
        #expect(r.out.split(separator: "\n").count == 40)
        #expect(r.out.contains("\"source\":\"-\""))
    }

    @Test("usage errors exit 2")
    func usage() {
        #expect(runCLI(["scan", "--no-verify", "--timezone", "Mars/Olympus", "x"]).status == 2)
        #expect(runCLI(["scan"]).status == 2)
    }
}

/// Collects what a scan found.
struct Collector: ScanConsumer {
    var tokens: [TokenSighting] = []
    var errors: [ErrorSighting] = []
    var ended: [String] = []
    mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan { .read(from: 0, line: 1, reason: "test") }
    mutating func consume(_ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress) {
        tokens += findings.tokens
        errors += findings.errors
    }
    mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) { ended.append(source.name) }
}

@Suite("Scan run")
struct ScanRunTests {
    @Test("the gzip fixture: 40 tokens, each with line, offset, time and status")
    func gzipFixture() {
        var c = Collector()
        let totals = ScanRun(options: ScanOptions(paths: [fixturePath("logs/haproxy.log.1.gz")], now: 0)).run(into: &c)
        #expect(totals.counts.lines == 40)
        #expect(c.tokens.count == 40)
        #expect(c.tokens.map(\.line) == Array(1...40))
        #expect(c.tokens.allSatisfy { $0.logTime != nil && $0.status != nil })
        #expect(c.tokens.filter { $0.status == 401 }.count == 10)
    }
}
