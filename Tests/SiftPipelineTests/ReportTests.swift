import FindingsReport
import FindingsStore
import JOSECrypto
import JWTScan
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A line of an access log at `t` with `token` and HTTP `status`.
func accessLine(_ t: Int, _ token: String, status: Int, path: String = "/api") -> String {
    "\(CivilTime.iso8601(Double(t))) 10.0.0.1 \"GET \(path) HTTP/1.1\" \(status) \"Authorization: Bearer \(token)\"\n"
}

/// An HS256 token signed with ``testSecret`` with the given claims and header.
func signedToken(_ claims: String, header: String = #"{"alg":"HS256","kid":"a"}"#) -> String {
    let h = Base64URL.encode(Array(header.utf8))
    let p = Base64URL.encode(Array(claims.utf8))
    let mac = Array((h + "." + p).utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
    return h + "." + p + "." + Base64URL.encode(mac)
}

@Suite("Reports", .serialized)
struct ReportTests {
    /// A scanned database with a known story: a gateway that accepts expired tokens, an issuer whose clock runs
    /// 50 s ahead (inside the leeway), a burst of tokens under an unknown kid at 22:50 with a failed JWKS fetch
    /// beside it.
    static func story(_ s: Scratch) -> String {
        let t0 = 1_700_000_000  // 22:13:20
        var gw = ""
        var api = ""
        for i in 0..<40 {
            let t = t0 + i * 20
            // Issued by idp-a 60 s before use, valid 10 min.
            let good = signedToken(#"{"iss":"https://idp-a","sub":"u\#(i % 5)","iat":\#(t - 60),"exp":\#(t + 540)}"#)
            gw += accessLine(t, good, status: 200)
            api += accessLine(t + 1, good, status: 200)
        }
        // idp-b's clock is 50 s ahead: tokens show up 50 s before they were issued.
        for i in 0..<25 {
            let t = t0 + 1000 + i * 10
            gw += accessLine(
                t, signedToken(#"{"iss":"https://idp-b","sub":"b\#(i)","iat":\#(t + 50),"exp":\#(t + 3650)}"#),
                status: 200)
        }
        // Expired tokens answered 200 by the gateway: a security finding.
        for i in 0..<6 {
            let t = t0 + 1400 + i * 5
            gw += accessLine(
                t, signedToken(#"{"iss":"https://idp-a","sub":"late\#(i)","iat":\#(t - 4000),"exp":\#(t - 100)}"#),
                status: 200)
        }
        // 22:50: a burst of tokens under a kid nobody has, after a failed JWKS fetch, refused with 401.
        api += "\(CivilTime.iso8601(Double(t0 + 2195))) ERROR Jwks remote fetch is failed\n"
        for i in 0..<12 {
            let t = t0 + 2200 + i * 3
            let tok = signedToken(
                #"{"iss":"https://idp-a","sub":"n\#(i)","iat":\#(t - 30),"exp":\#(t + 600)}"#,
                header: #"{"alg":"HS256","kid":"rotated-2"}"#)
            api += accessLine(t, tok, status: 401)
        }
        s.write("gateway.log", gw)
        s.write("api.log", api)
        s.write("jwks.json", #"{"keys":[{"kty":"oct","kid":"a","k":"\#(Base64URL.encode(Array(testSecret.utf8)))"}]}"#)
        let r = s.scan([s.path("gateway.log"), s.path("api.log"), "--keys", s.path("jwks.json")])
        precondition(r.status == 0, r.err)
        return s.db
    }

    @Test("the sections tell the story: drift, disagreements, rotation, paths, leaks")
    func story() throws {
        let s = Scratch()
        let db = Self.story(s)
        let report = try ReportBuilder(path: db, filter: ReportFilter()).build(now: 0)
        let o = report.overview
        #expect(o.sightings == 40 + 40 + 25 + 6 + 12)
        #expect(o.failures == 6 + 12)
        #expect(o.sources == 2)
        #expect(
            report.sections.map(\.id) == [
                "by_cause", "by_issuer", "by_kid", "by_source", "by_host", "clock_drift", "timeline", "key_rotation",
                "disagreements", "token_paths", "leak_audit", "top_offenders", "error_messages",
            ])
        func table(_ id: String) throws -> Table { try #require(report.tables.first { $0.id == id }) }
        // By cause adds up.
        let byCause = try table("by_cause")
        #expect(byCause.rows.reduce(Int64(0)) { if case .int(let n) = $1[1] { $0 + n } else { $0 } } == o.sightings)
        #expect(o.sentences.contains { $0.contains("carry a kid no given key has (rotated-2)") })
        // idp-b's clock: +50 s, from 25 first sightings.
        let offsets = try table("clock_offset")
        let b = try #require(offsets.rows.first { $0[0] == .text("https://idp-b") })
        #expect(b[2] == .seconds(50))
        #expect(b[3] == .text("medium"))
        // The gateway accepted 6 expired tokens.
        let accepted = try table("accepted_but_failing")
        #expect(accepted.rows.count == 1)
        #expect(accepted.rows[0][0] == .text(s.path("gateway.log")))
        #expect(accepted.rows[0][1] == .text("expired") && accepted.rows[0][2] == .int(6))
        #expect(
            report.sections.first { $0.id == "disagreements" }?.notes.first?.hasPrefix("SECURITY: 6 sightings") == true)
        // The key burst is a step change with the failed fetch beside it; the kid is new and failing.
        let steps = try table("rotation_steps")
        #expect(steps.rows.count == 1)
        #expect(steps.rows.first?[4] == .int(1))
        let kids = try table("kid_lifecycle")
        #expect(
            kids.rows.contains {
                $0[1] == .text("rotated-2") && $0[2] == .text("unknown")
                    && $0[9] == .text("new kid failing: verifiers without this key (stale JWKS cache?)")
            })
        // Tokens seen by the gateway and the API.
        let paths = try table("token_paths")
        #expect(Set(paths.rows.map { $0[1] }) == [.text(s.path("gateway.log")), .text(s.path("api.log"))])
        // Leak audit: every token was unexpired when logged except the 6 late ones.
        let leaks = try table("leak_audit")
        let gw = try #require(leaks.rows.first { $0[0] == .text(s.path("gateway.log")) })
        #expect(gw[1] == .int(40 + 25 + 6) && gw[3] == .int(40 + 25))
    }

    @Test("filters: issuer, time window, source glob")
    func filters() throws {
        let s = Scratch()
        let db = Self.story(s)
        let onlyB = try ReportBuilder(path: db, filter: ReportFilter(issuer: "https://idp-b")).build(now: 0)
        #expect(onlyB.overview.sightings == 25)
        let window = try ReportBuilder(path: db, filter: ReportFilter(since: 1_700_002_200, until: 1_700_002_300))
            .build(now: 0)
        #expect(window.overview.sightings == 12)
        #expect(window.overview.failures == 12)
        let api = try ReportBuilder(path: db, filter: ReportFilter(sourceGlob: "*/api.log")).build(now: 0)
        #expect(api.overview.sightings == 40 + 12)
        #expect(api.overview.sources == 1)
    }

    @Test("every format renders the same report; no token, no script, no remote resource")
    func formats() throws {
        let s = Scratch()
        let db = Self.story(s)
        let report = try ReportBuilder(path: db, filter: ReportFilter()).build(now: 1_800_000_000)
        let text = TextRenderer(colour: false).render(report)
        let markdown = MarkdownRenderer().render(report)
        let json = JSONRenderer().render(report)
        let html = HTMLRenderer().render(report)
        for out in [text, markdown, json, html] {
            #expect(!out.contains("eyJ"), "a token leaked")
            #expect(!out.contains(testSecret))
        }
        #expect(!text.contains("\u{1B}["))
        #expect(TextRenderer(colour: true).render(report).contains("\u{1B}[1m"))
        for section in report.sections {
            #expect(text.contains(section.title) && markdown.contains("## \(section.title)"))
            #expect(html.contains("<section id=\"\(section.id)\">"))
        }
        // JSON: versioned, parseable, every table with its rows.
        let o = try #require(try JSONParser.parse(json).objectValue)
        #expect(o["format"]?.stringValue == "jwtsift-report")
        #expect(o["version"]?.numberValue == Double(Report.formatVersion))
        #expect(o["overview"]?.objectValue?["sightings"]?.numberValue == 123)
        let sections = try #require(o["sections"]?.arrayValue)
        #expect(sections.count == report.sections.count)
        let firstTable = try #require(sections[0].objectValue?["tables"]?.arrayValue?.first?.objectValue)
        #expect(firstTable["id"]?.stringValue == "by_cause")
        #expect(firstTable["rows"]?.arrayValue?.count == report.tables[0].rows.count)
        // HTML: self-contained.
        #expect(
            !html.contains("<script") && !html.contains("src=") && !html.contains("@import") && !html.contains("url("))
        #expect(html.contains("<svg"))
        // CSV: a header and one line per row, RFC 4180 line ends.
        let csv = CSVRenderer().render(report.tables[0])
        #expect(csv.split(separator: "\r\n").count == report.tables[0].rows.count + 1)
        #expect(csv.hasPrefix("cause,sightings,share,tokens,first_seen,last_seen\r\n"))
    }

    @Test("CSV fields are quoted, and formulas are defused")
    func csvFields() {
        var t = Table(id: "x", title: "x", columns: [.init("a", .text), .init("b", .int)])
        t.rows = [[.text("=HYPERLINK(\"http://e\")"), .int(-5)], [.text("a,b"), .null]]
        #expect(CSVRenderer().render(t) == "a,b\r\n\"'=HYPERLINK(\"\"http://e\"\")\",-5\r\n\"a,b\",\r\n")
    }

    @Test("HTML escapes what the logs wrote")
    func htmlEscaping() throws {
        let s = Scratch()
        let t = 1_700_000_000
        let tok = signedToken(
            #"{"iss":"<script>alert(1)</script>","exp":\#(t - 10)}"#, header: #"{"alg":"HS256","kid":"\"><img src=x>"}"#
        )
        s.write("x.log", accessLine(t, tok, status: 200))
        #expect(s.scan([s.path("x.log")]).status == 0)
        let html = HTMLRenderer().render(try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0))
        #expect(!html.contains("<script>") && !html.contains("<img"))
        #expect(html.contains("&lt;script&gt;"))
    }

    @Test("the CLI: formats, csv sections and folders, errors")
    func cli() throws {
        let s = Scratch()
        let db = Self.story(s)
        let text = runCLI(["report", "--db", db])
        #expect(text.status == 0)
        #expect(text.out.contains("Overview") && !text.out.contains("\u{1B}["))
        let csv = runCLI(["report", "--db", db, "--format", "csv", "--section", "by_source"])
        #expect(csv.status == 0 && csv.out.hasPrefix("source,cause,sightings"))
        let folder = s.path("csv")
        #expect(runCLI(["report", "--db", db, "--format", "csv", "--output", folder]).status == 0)
        #expect(readAll(folder + "/timeline.csv").hasPrefix("bucket_start,cause,sightings"))
        #expect(runCLI(["report", "--db", db, "--format", "csv"]).status == 2)
        #expect(runCLI(["report", "--db", db, "--format", "csv", "--section", "nope"]).status == 2)
        #expect(runCLI(["report", "--db", s.path("missing.sqlite")]).status == 2)
        s.write("junk.sqlite", String(repeating: "junk", count: 2000))
        let junk = runCLI(["report", "--db", s.path("junk.sqlite")])
        #expect(junk.status == 4 && junk.err.contains(s.path("junk.sqlite")))
        // A file from an older schema is not guessed at: the message says how to migrate it.
        let old = s.path("old.sqlite")
        #expect(system("cp '\(db)' '\(old)'") == 0)
        let c = try Connection(path: old)
        try c.execute("PRAGMA user_version = 1")
        c.close()
        let stale = runCLI(["report", "--db", old])
        #expect(stale.status == 4 && stale.err.contains("run jwtsift scan --db \(old) once to migrate it"))
        let html = s.path("r.html")
        #expect(runCLI(["report", "--db", db, "--format", "html", "--output", html]).status == 0)
        #expect(readAll(html).hasPrefix("<!DOCTYPE html>"))
    }
}
