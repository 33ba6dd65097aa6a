import FindingsStore
import SiftCore
import Testing

@testable import FindingsReport

#if canImport(Glibc)
import Glibc
#endif

/// Reports over a database whose strings were written by an attacker (token header and claims, log file names):
/// whatever the format, nothing in the data reaches the output raw, forges a line or a table row, or shows a
/// token. The strings are built at test time.
@Suite("Reports of hostile data")
struct HostileReportTests {
    typealias Scratch = ReportBuilderTests.Scratch

    /// A token for the payload, built here (never committed).
    static let token: String = {
        let h = Base64URL.encode(Array(#"{"alg":"RS256","kid":"k"}"#.utf8))
        let p = Base64URL.encode(Array(#"{"sub":"victim","exp":1700000600}"#.utf8))
        return h + "." + p + "." + Base64URL.encode((0..<64).map { UInt8(truncatingIfNeeded: $0 * 5) })
    }()

    /// ESC/OSC that retitles the window, a clear-screen CSI, backspace, CR, DEL, a C1 CSI, a bidi override, and a
    /// token.
    static let kid = "k\u{1B}]0;pwned\u{07}\u{1B}[2J\u{08}\r\u{7F}\u{9B}\u{202E}fdp.exe" + token
    /// A newline that would start a report line of its own, CRLF and pipes that would end a Markdown table row,
    /// a backslash before a pipe (which would otherwise escape the pipe's escape), bidi isolates.
    static let iss = "https://issuer.example/\nFAKE: all tokens ok | 0 | 0 |\r\n\\| \u{2066}x\u{2069}"
    /// A formula for spreadsheets.
    static let formulaIss = "\t=HYPERLINK(\"http://evil/\",\"x\")"
    static let path = "/logs/\u{1B}[31m" + token + "\n/access.log"

    static func database(_ s: Scratch) throws {
        let db = try FindingsDB(path: s.db, lockTimeout: 0) { _ in "head" }
        let run = try db.beginRun(startedAt: 0, version: "test", commandLine: "test", verify: true, leeway: 60)
        let identity = SourceIdentity(path: path, size: 1, mtime: 1, inode: 1, head: [], isStdin: false)
        let source = try db.plan(identity, runID: run).sourceID
        var batch = Batch(
            sourceID: source, progress: ReadProgress(offset: 1, openLineStart: 1, openLine: 2, completed: true))
        for (i, (kid, iss, cause)) in [(kid, iss, Cause.key_unknown), (kid, formulaIss, .expired), ("k2", iss, .ok)]
            .enumerated()
        {
            var token = TokenUpsert(
                fingerprint: String(repeating: String(i), count: 64), kind: "jws", alg: "RS256", kid: kid, iss: iss,
                signature: cause == .ok ? "valid" : "key_unknown", length: 300)
            var rollup = RollupRow(
                token: i, cause: InternedText(cause.rawValue), statusClass: .refused, minute: 28_333_333)
            for k in 0..<3 {
                let t = 1_700_000_000 + Double(k)
                token.saw(at: t, rolled: false)
                rollup.add(at: t, errorOnLine: false, nearBy: nil)
                batch.sightings.append(
                    SightingRow(
                        token: i, line: UInt64(i * 3 + k + 1), offset: UInt64(i * 300 + k * 100), logTime: t,
                        status: 401, cause: InternedText(cause.rawValue), causes: nil, skew: -5, timeSource: nil,
                        truncation: nil, lineError: nil))
            }
            batch.tokens.append(token)
            batch.rollups.append(rollup)
        }
        try db.write(batch, runID: run)
        try db.finishRun(run, status: "done", finishedAt: 1, counts: RunCounts())
    }

    enum Output: String, CaseIterable { case text, markdown, html, json, csv }

    static func render(_ r: Report, _ format: Output) -> String {
        switch format {
        case .text: TextRenderer(colour: false).render(r)
        case .markdown: MarkdownRenderer().render(r)
        case .html: HTMLRenderer().render(r)
        case .json: JSONRenderer().render(r)
        case .csv: r.tables.map { CSVRenderer().render($0) }.joined()
        }
    }

    @Test("nothing hidden, no forged line, no token: in every format", arguments: Output.allCases)
    func everyFormat(_ format: Output) throws {
        let s = Scratch()
        try Self.database(s)
        let report = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        let out = Self.render(report, format)
        // The hostile strings made it into the report (the path ran): the kid's visible part, the issuer's host.
        #expect(out.contains("fdp.exe") && out.contains("issuer.example") && out.contains("access.log"))
        let raw = out.unicodeScalars.filter { UntrustedText.isHidden($0) && $0 != "\n" && $0 != "\r" }
        #expect(raw.isEmpty, "\(format): raw \(raw.map { String($0.value, radix: 16) })")
        // Line ends are the renderer's own: CR only as CSV's CRLF.
        let crs = out.utf8.enumerated().filter { $0.element == 0x0D }
        #expect(
            crs.allSatisfy {
                format == .csv && out.utf8[out.utf8.index(out.utf8.startIndex, offsetBy: $0.offset + 1)] == 0x0A
            })
        for line in out.split(separator: "\n") {
            #expect(
                !line.drop { $0 == " " || $0 == "|" || $0 == "-" || $0 == "\"" }.hasPrefix("FAKE"),
                "forged line: \(line)")
        }
        #expect(!out.contains("eyJ"), "\(format): a token in the output")
        #expect(out.contains("redacted token"), "\(format): the token was not where it was put")
    }

    @Test("Markdown: every row of a table has its header's cells")
    func markdownRows() throws {
        let s = Scratch()
        try Self.database(s)
        let md = MarkdownRenderer().render(try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0))
        func pipes(_ line: Substring) -> Int {
            var n = 0
            var escaped = false
            for c in line {
                if c == "|" && !escaped { n += 1 }
                escaped = c == "\\" && !escaped
            }
            return n
        }
        var header: Int? = nil
        var rows = 0
        for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("|") else {
                header = nil
                continue
            }
            if let h = header {
                #expect(pipes(line) == h, "\(line)")
                rows += 1
            } else {
                header = pipes(line)
            }
        }
        #expect(rows > 10)
    }

    @Test(
        "CSV: a cell that a spreadsheet would run is defused",
        arguments: [
            "=1+1", "+A1", "-cmd", "@SUM(A1)", "\t=1+1", "\r=1+1", " =1+1", "\u{00A0}=1+1", "\u{200B}=1+1", "\u{1B}=1",
            "\t", "\r", "\n=1", " \t @x",
        ])
    func csvFormula(_ cell: String) {
        var field = CSVRenderer.field(cell)
        if field.hasPrefix("\"") { field = String(field.dropFirst().dropLast()) }
        let first = field.unicodeScalars.first
        let afterSpace = field.unicodeScalars.drop { $0.properties.isWhitespace || UntrustedText.isHidden($0) }.first
        #expect(first == "'" || !(afterSpace.map { "=+-@".unicodeScalars.contains($0) } ?? false), "\(field)")
        #expect(first != "\t" && first != "\r", "\(field)")
    }

    @Test("CSV: numbers and plain words stay as they are", arguments: ["-5", "-1.5e3", "12", "expired", "k-1"])
    func csvPlain(_ cell: String) {
        #expect(CSVRenderer.field(cell) == cell)
    }

    @Test("report files are 0600 under umask 000, and an existing 0666 one is made 0600")
    func reportFileMode() throws {
        let s = Scratch()
        let old = umask(0)
        defer { umask(old) }
        let fresh = s.dir + "/report.md"
        try ReportFile.write("x\n", to: fresh)
        let existing = s.dir + "/old.md"
        close(open(existing, O_WRONLY | O_CREAT, 0o666))
        chmod(existing, 0o666)
        try ReportFile.write("y\n", to: existing)
        let folder = s.dir + "/csv"
        try ReportFile.makeFolder(folder)
        for (path, mode) in [(fresh, 0o600), (existing, 0o600), (folder, 0o700)] {
            var st = stat()
            #expect(stat(path, &st) == 0)
            #expect(st.st_mode & 0o777 == mode_t(mode), "\(path): \(String(st.st_mode & 0o777, radix: 8))")
        }
    }

    @Test("a damaged page the report reads is refused, naming the file; one it never reads changes nothing")
    func damaged() throws {
        let s = Scratch()
        try ReportBuilderTests.database(s, [(.expired, 3), (.ok, 2)])
        let intact = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        // The sightings table, and the per-minute rollup: a report over the whole database reads the writer's
        // totals (`sighting_totals`, `sighting_minutes`), not the rows or the minutes of every token.
        try corruptRoot(of: "sightings", in: s.db)
        try corruptRoot(of: "sighting_rollup", in: s.db)
        let report = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        #expect(report.overview.sightings == intact.overview.sightings && report.overview.sightings == 5)
        // The totals themselves: refused.
        try corruptRoot(of: "sighting_totals", in: s.db)
        var message = ""
        do {
            _ = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        } catch {
            message = error.message
        }
        #expect(message.contains(s.db) && message.contains("integrity check"), "\(message)")
    }
}

/// Overwrites the page header of a table's root page: SQLite still opens the file and reads its version; a query
/// that reads the table, and `PRAGMA quick_check`, find the damage.
func corruptRoot(of table: String, in path: String) throws {
    let (pageSize, root): (Int64, Int64)
    do {
        let c = try Connection(path: path, readOnly: true)
        pageSize = try c.scalar("PRAGMA page_size") ?? 0
        root = try c.scalar("SELECT rootpage FROM sqlite_master WHERE name = '\(table)'") ?? 0
    }
    #expect(pageSize > 0 && root > 1)
    let fd = open(path, O_WRONLY)
    defer { close(fd) }
    let garbage = [UInt8](repeating: 0xFF, count: 16)
    #expect(pwrite(fd, garbage, garbage.count, off_t((root - 1) * pageSize)) == garbage.count)
}
