import FindingsReport
import FindingsStore
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let repoRoot = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

/// The samples' keys and logs (as the README's quick start scans them).
private let sampleKeys = [
    "--keys", repoRoot + "/samples/keys/jwks.json", "--retired-keys", repoRoot + "/samples/keys/retired.jwks.json",
    "--hmac-secret-file", repoRoot + "/samples/keys/orders-hs256.secret",
]
private let sampleFiles = ["nginx", "envoy", "haproxy", "kong", "node", "spring"].map {
    repoRoot + "/samples/logs/" + $0
}

/// Recounts, written here independently of the store's SQL: each query lists the rows of one side that the other
/// lacks (so an empty result in both directions is equality, every column compared).
enum Recount {
    static let statusClass = StatusClass.sql(status: "s.status")
    static let minute = Rollup.minuteSQL("s.log_time")
    static let near = Rollup.nearMissSQL(cause: "s.cause", logTime: "s.log_time", exp: "t.exp", nbf: "t.nbf")
    static let nearDistance =
        "CASE WHEN \(near.expired) THEN s.log_time - t.exp WHEN \(near.early) THEN t.nbf - s.log_time END"

    /// `sighting_rollup` from the rows (every sighting is a row unless `--ok-sightings count`).
    static let rollupFromRows = """
        SELECT s.token_id, s.source_id, s.cause, \(statusClass), \(minute), count(*), min(s.log_time), max(s.log_time),
               sum(s.line_error IS NOT NULL), count(\(nearDistance)), min(\(nearDistance)), max(\(nearDistance))
        FROM sightings s JOIN tokens t ON t.id = s.token_id GROUP BY 1, 2, 3, 4, 5
        """
    static let rollup = """
        SELECT token_id, source_id, cause, status_class, minute, n, first, last, refused, near, near_min, near_max
        FROM sighting_rollup
        """
    /// `sighting_totals` from the rows, and from the rollup.
    static let totalsFromRows = """
        SELECT s.token_id, s.source_id, s.cause, \(statusClass), count(*), min(s.log_time), max(s.log_time),
               sum(s.line_error IS NOT NULL), count(\(nearDistance)), min(\(nearDistance)), max(\(nearDistance))
        FROM sightings s JOIN tokens t ON t.id = s.token_id GROUP BY 1, 2, 3, 4
        """
    static let totalsFromRollup = """
        SELECT token_id, source_id, cause, status_class, sum(n), min(first), max(last), sum(refused), sum(near),
               min(near_min), max(near_max)
        FROM sighting_rollup GROUP BY 1, 2, 3, 4
        """
    static let totals = """
        SELECT token_id, source_id, cause, status_class, n, first, last, refused, near, near_min, near_max
        FROM sighting_totals
        """
    /// `sighting_minutes` from the rows, and from the rollup.
    static let minutesFromRows = """
        SELECT \(minute), s.source_id, s.cause, t.iss IS NULL, coalesce(t.iss, ''), count(*), min(s.log_time),
               max(s.log_time)
        FROM sightings s JOIN tokens t ON t.id = s.token_id GROUP BY 1, 2, 3, 4, 5
        """
    static let minutesFromRollup = """
        SELECT r.minute, r.source_id, r.cause, t.iss IS NULL, coalesce(t.iss, ''), sum(r.n), min(r.first), max(r.last)
        FROM sighting_rollup r JOIN tokens t ON t.id = r.token_id GROUP BY 1, 2, 3, 4, 5
        """
    static let minutes = "SELECT minute, source_id, cause, no_iss, iss, n, first, last FROM sighting_minutes"

    /// The pairs that must hold the same rows; `fromRows` false: the rows are not every sighting (`--ok-sightings
    /// count`), so only the rollup is the reference.
    static func pairs(fromRows: Bool) -> [(String, String, String)] {
        var list = [
            ("sighting_totals = the rollup summed over minutes", totals, totalsFromRollup),
            ("sighting_minutes = the rollup summed over tokens", minutes, minutesFromRollup),
        ]
        if fromRows {
            list += [
                ("sighting_rollup = a recount of the rows", rollup, rollupFromRows),
                ("sighting_totals = a recount of the rows", totals, totalsFromRows),
                ("sighting_minutes = a recount of the rows", minutes, minutesFromRows),
            ]
        }
        return list
    }
}

extension Scratch {
    /// Every difference between the writer's aggregates and their recount; empty when they agree.
    func recountDifferences(db: String? = nil, fromRows: Bool = true) throws -> [String] {
        var out: [String] = []
        for (name, kept, recount) in Recount.pairs(fromRows: fromRows) {
            let missing = try query("\(recount) EXCEPT \(kept)", db: db)
            let extra = try query("\(kept) EXCEPT \(recount)", db: db)
            if !missing.isEmpty || !extra.isEmpty {
                out.append(
                    "\(name): recounted but not kept \(missing.prefix(3)), kept but not recounted \(extra.prefix(3))")
            }
        }
        return out
    }
}

@Suite("Report totals (schema 7): what the writer keeps equals a recount of the rows", .serialized)
struct ReportTotalsTests {
    @Test("after a scan, a second scan that continues a grown file's open line, and a rescan under another policy")
    func scans() throws {
        let s = Scratch()
        s.write("hs.secret", testSecret)
        let secret = ["--hmac-secret-file", s.path("hs.secret")]
        // Tokens expire at 1700000600; lines are a second apart from 1700000000: valid, then expired by less than
        // the near-miss bound (near_min/near_max), then long expired. The last line is still open (no newline).
        let grown = accessLog(lines: 0..<700)
        let open = String(accessLog(lines: 700..<701).dropLast())
        s.write("a.log", grown + open)
        #expect(s.scan([s.path("a.log")] + sampleFiles + sampleKeys + secret).status == 0)
        #expect(try s.recountDifferences() == [])
        #expect(try s.int("SELECT count(*) FROM sighting_totals") > 0)
        #expect(try s.int("SELECT count(*) FROM sighting_minutes WHERE no_iss = 1") > 0)
        #expect(try s.int("SELECT count(*) FROM sighting_minutes WHERE no_iss = 0") > 0)
        #expect(try s.int("SELECT sum(near) FROM sighting_totals") > 0)

        // The open line is completed and more lines follow: its rows are replaced (taken off the aggregates, then
        // counted again with the new ones).
        s.write("a.log", "\n" + accessLog(lines: 701..<1000), append: true)
        #expect(s.scan([s.path("a.log")] + secret).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings WHERE line = 701") == 1)
        #expect(try s.recountDifferences() == [])
        #expect(
            try s.int("SELECT sum(n) FROM sighting_totals") == s.int("SELECT count(*) FROM sightings"))

        // Without the secret the policy differs: the file is re-read from its start, its rows replaced.
        #expect(s.scan([s.path("a.log")]).status == 0)
        #expect(try s.recountDifferences() == [])
    }

    @Test("a continued open line whose token was seen earlier in the same minute: its near miss is counted once")
    func openLineSameMinute() throws {
        let s = Scratch()
        s.write("hs.secret", testSecret)
        let secret = ["--hmac-secret-file", s.path("hs.secret")]
        // One token, a line a second from 1700000700 (one minute), expired by 100–110 s: every sighting a near
        // miss in one rollup row; the last line still open.
        s.write(
            "a.log",
            accessLog(lines: 700..<710, distinct: 1) + String(accessLog(lines: 710..<711, distinct: 1).dropLast()))
        #expect(s.scan([s.path("a.log")] + secret).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings WHERE line = 11") == 1)
        s.write("a.log", "\n", append: true)
        #expect(s.scan([s.path("a.log")] + secret).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings") == 10)
        #expect(try s.int("SELECT n FROM sighting_rollup") == 10)
        #expect(try s.int("SELECT near FROM sighting_rollup") == 10)
        #expect(try s.recountDifferences() == [])
    }

    @Test("--ok-sightings count: the totals equal the rollup they are summed from, successes included")
    func rolledUp() throws {
        let s = Scratch()
        s.write("hs.secret", testSecret)
        s.write("a.log", accessLog(lines: 0..<1000))
        #expect(
            s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret"), "--ok-sightings", "count"]).status
                == 0)
        #expect(try s.recountDifferences(fromRows: false) == [])
        #expect(try s.int("SELECT sum(n) FROM sighting_totals") == 900)
        #expect(try s.int("SELECT sum(n) FROM sighting_minutes") == 900)
    }

    @Test("a merge of two shards: the totals are summed, and equal those of one scan of the same files")
    func merged() throws {
        let s = Scratch()
        let single = s.path("single.sqlite")
        #expect(s.scan(sampleFiles + sampleKeys, db: single).status == 0)
        // Tokens seen in files of both shards (gateway → service) meet in the output.
        #expect(s.scan(Array(sampleFiles[0..<3]) + sampleKeys, db: s.path("a.sqlite")).status == 0)
        #expect(s.scan(Array(sampleFiles[3...]) + sampleKeys, db: s.path("b.sqlite")).status == 0)
        let out = s.path("out.sqlite")
        #expect(runCLI(["merge", "--db", out, s.path("a.sqlite"), s.path("b.sqlite")]).status == 0)
        #expect(try s.recountDifferences(db: out) == [])
        let byName = """
            SELECT t.fingerprint, src.path, r.cause, r.status_class, r.n, r.first, r.last, r.refused, r.near
            FROM sighting_totals r JOIN tokens t ON t.id = r.token_id JOIN sources src ON src.id = r.source_id
            ORDER BY 1, 2, 3, 4
            """
        #expect(try s.query(byName, db: out) == s.query(byName, db: single))
        let minutes = """
            SELECT m.minute, src.path, m.cause, m.no_iss, m.iss, m.n, m.first, m.last
            FROM sighting_minutes m JOIN sources src ON src.id = m.source_id ORDER BY 1, 2, 3, 4, 5
            """
        #expect(try s.query(minutes, db: out) == s.query(minutes, db: single))
        #expect(try s.int("SELECT count(*) FROM sighting_minutes", db: out) > 0)
    }

    /// The whole minutes a window selects: from the one holding `since` to the last one starting before `until`.
    static func windowSQL(since: Double?, until: Double?) -> String {
        var c = ["s.log_time IS NOT NULL OR (\(since == nil) AND \(until == nil))"]
        if let since { c.append("CAST(s.log_time / 60 AS INTEGER) >= CAST(\(since) / 60 AS INTEGER)") }
        if let until { c.append("CAST(s.log_time / 60 AS INTEGER) < \(until) / 60.0") }
        return c.map { "(\($0))" }.joined(separator: " AND ")
    }

    @Test(
        "a windowed report counts the sightings of its whole minutes, edges included",
        arguments: [
            // Inside minutes, on minute boundaries, one second wide, before and after every sighting, open-ended.
            (1_700_000_130.5, 1_700_000_430.25), (1_700_000_120, 1_700_000_420), (1_700_000_179, 1_700_000_180),
            (1_699_990_000, 1_700_100_000), (1_700_000_599.9, nil), (nil, 1_700_000_601), (nil, nil),
        ] as [(Double?, Double?)])
    func window(_ since: Double?, _ until: Double?) throws {
        let s = Scratch()
        s.write("hs.secret", testSecret)
        s.write("a.log", accessLog(lines: 0..<1000) + "no time here Bearer \(fakeToken(3))\n")
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status == 0)
        let report = try ReportBuilder(path: s.db, filter: ReportFilter(since: since, until: until)).build(now: 0)
        let w = Self.windowSQL(since: since, until: until)
        let failed = Cause.failureSQL("s.cause")
        #expect(report.overview.sightings == Int64(try s.int("SELECT count(*) FROM sightings s WHERE \(w)")))
        #expect(
            report.overview.failures == Int64(try s.int("SELECT count(*) FROM sightings s WHERE \(w) AND \(failed)")))
        #expect(
            report.overview.distinctTokens
                == Int64(try s.int("SELECT count(DISTINCT token_id) FROM sightings s WHERE \(w)")))
        // The timeline is read from `sighting_minutes`: its buckets add up to the window's timed failures.
        let timeline = report.tables.first { $0.id == "timeline" }
        let plotted = timeline?.rows.reduce(Int64(0)) { sum, row in
            if case .int(let n) = row[2] { return sum + n }
            return sum
        }
        let timedFailures = try s.int(
            "SELECT count(*) FROM sightings s WHERE \(w) AND s.log_time IS NOT NULL AND \(failed)")
        #expect((plotted ?? 0) == Int64(timedFailures), "\(timeline?.rows.prefix(3) ?? [])")
        #expect(report.overview.sightings > 0)
    }
}
