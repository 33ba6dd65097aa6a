import FindingsReport
import FindingsStore
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

/// A scratch directory for one test.
final class Scratch {
    let dir: String
    init() {
        dir = "/tmp/jwtsift-db-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
    }
    deinit { _ = system("rm -rf '\(dir)'") }

    var db: String { dir + "/findings.sqlite" }
    func path(_ name: String) -> String { dir + "/" + name }

    func write(_ name: String, _ text: String, append: Bool = false) {
        let f = fopen(path(name), append ? "a" : "w")!
        fputs(text, f)
        fclose(f)
    }

    /// `jwtsift scan -q --db <db> ARGS`.
    @discardableResult
    func scan(_ args: [String], db: String? = nil) -> (status: Int32, out: String, err: String) {
        runCLI(["scan", "-q", "--db", db ?? self.db] + args)
    }

    func query(_ sql: String, db: String? = nil) throws -> [[String?]] {
        let c = try Connection(path: db ?? self.db, readOnly: true)
        return try c.prepare(sql).allRows()
    }

    func int(_ sql: String, db: String? = nil) throws -> Int {
        Double(try query(sql, db: db).first?.first?.flatMap { $0 } ?? "").map { Int($0) } ?? -1
    }

    /// Sightings of tokens with this kid stored with this cause (kid and cause are the tests' own literals).
    func sightings(kid: String, cause: String) throws -> Int {
        try int(
            "SELECT count(*) FROM sightings s JOIN tokens t ON t.id = s.token_id WHERE t.kid = '\(kid)' AND s.cause = '\(cause)'"
        )
    }

    /// Everything a run leaves that must not depend on how it was interrupted: rows (not their ids), token
    /// counts and source progress.
    func contents(db: String? = nil) throws -> [String] {
        let parts = [
            "SELECT src.path, s.line, s.byte_offset, s.cause, s.causes, s.status, s.log_time, t.fingerprint, (SELECT name FROM hosts WHERE id = s.host_id) FROM sightings s JOIN tokens t ON t.id = s.token_id JOIN sources src ON src.id = s.source_id ORDER BY 1, 3, 8",
            "SELECT src.path, e.line, e.byte_offset, e.cause, e.message, (SELECT name FROM hosts WHERE id = e.host_id) FROM log_errors e JOIN sources src ON src.id = e.source_id ORDER BY 1, 3",
            "SELECT fingerprint, sightings, ok_rolled, signature, first_seen, last_seen FROM tokens ORDER BY 1",
            "SELECT path, bytes_scanned, lines_scanned, completed FROM sources WHERE replaced_by IS NULL ORDER BY 1",
            "SELECT t.fingerprint, src.path, r.cause, r.status_class, r.minute, r.n, r.first, r.last, r.refused, r.near FROM sighting_rollup r JOIN tokens t ON t.id = r.token_id JOIN sources src ON src.id = r.source_id ORDER BY 1, 2, 3, 4, 5",
            "SELECT t.fingerprint, src.path, r.cause, r.status_class, r.n, r.first, r.last, r.refused, r.near, r.near_min, r.near_max FROM sighting_totals r JOIN tokens t ON t.id = r.token_id JOIN sources src ON src.id = r.source_id ORDER BY 1, 2, 3, 4",
            "SELECT m.minute, src.path, m.cause, m.no_iss, m.iss, m.n, m.first, m.last FROM sighting_minutes m JOIN sources src ON src.id = m.source_id ORDER BY 1, 2, 3, 4, 5",
        ]
        var out: [String] = []
        for sql in parts {
            out += try query(sql, db: db).map { $0.map { $0 ?? "NULL" }.joined(separator: "|") }
        }
        return out
    }
}

/// A folder `logs` of `files` access logs of `lines` lines each (``accessLog(lines:distinct:)``, numbered on from
/// one file to the next), named in scan order.
func smallLogs(_ s: Scratch, files: Int, lines: Int, distinct: Int = 500) -> String {
    let folder = s.path("logs")
    mkdir(folder, 0o700)
    for f in 0..<files {
        s.write("logs/app-\(100_000 + f).log", accessLog(lines: (f * lines)..<((f + 1) * lines), distinct: distinct))
    }
    return folder
}

/// The HMAC secret that signs ``fakeToken(_:exp:)``.
let testSecret = "0123456789abcdef0123456789abcdef"

/// An HS256 token signed with ``testSecret``, issued at 1699999000, expiring at `exp`.
func fakeToken(_ n: Int, exp: Int = 1_700_000_600) -> String {
    let h = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let p = Base64URL.encode(Array(#"{"sub":"user-\#(n)","iat":1699999000,"exp":\#(exp)}"#.utf8))
    let mac = Array((h + "." + p).utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
    return h + "." + p + "." + Base64URL.encode(mac)
}

/// `count` access-log lines; every 10th carries a verifier error instead of a status 200.
func accessLog(lines range: Range<Int>, distinct: Int = 500) -> String {
    var s = ""
    for i in range {
        let t = 1_700_000_000 + i
        let iso = CivilTime.iso8601(Double(t))
        if i % 10 == 9 {
            s += "\(iso) ERROR auth: jwt expired for request \(i)\n"
        } else {
            s +=
                "\(iso) 10.0.\(i % 7).1 \"GET /api/\(i) HTTP/1.1\" 200 \"Authorization: Bearer \(fakeToken(i % distinct))\"\n"
        }
    }
    return s
}

@Suite("Findings database", .serialized)
struct DatabaseTests {
    @Test("a re-run over unchanged files adds nothing; the file is private")
    func rerun() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<200))
        #expect(s.scan([s.path("a.log")]).status == 0)
        let before = try s.contents()
        #expect(try s.int("SELECT count(*) FROM sightings") == 180)
        #expect(try s.int("SELECT count(*) FROM log_errors") == 20)
        #expect(s.scan([s.path("a.log")]).status == 0)
        #expect(try s.contents() == before)
        #expect(
            try s.query("SELECT status, sources, sources_skipped FROM runs ORDER BY id") == [
                ["done", "1", "0"], ["done", "1", "1"],
            ])
        var st = stat()
        stat(s.db, &st)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    @Test("a version 1 database is migrated: sighting_rollup is rebuilt from the sightings, sources get tail columns")
    func migration() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<300))
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status == 0)
        let before = try s.contents()
        let c = try Connection(path: s.db)
        try c.execute(
            """
            DROP TABLE sighting_rollup; ALTER TABLE sources DROP COLUMN tail_hash; ALTER TABLE sources DROP COLUMN tail_len;
            ALTER TABLE sources DROP COLUMN policy; ALTER TABLE runs DROP COLUMN policy; DROP TABLE settings;
            DROP TABLE merged_shards;
            DROP TABLE hosts; ALTER TABLE sightings DROP COLUMN host_id; ALTER TABLE log_errors DROP COLUMN host_id;
            DROP TABLE key_fetches; DROP TABLE sighting_totals; DROP TABLE sighting_minutes;
            PRAGMA user_version = 1
            """)
        c.close()
        // Opening migrates (a scan would also re-judge the source: version 1 recorded no policy).
        _ = try FindingsDB(path: s.db, lockTimeout: 0) { _ in "" }
        #expect(try s.int("PRAGMA user_version") == Schema.version)
        let migrated = try s.contents()
        #expect(migrated == before, "\(Set(migrated).symmetricDifference(before).sorted().prefix(4))")
        let rescan = runCLI(["scan", "--db", s.db, s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")])
        #expect(rescan.err.contains("re-judged 1 source"), "\(rescan.err)")
        #expect(try s.contents() == before)
    }

    /// Version 8 (issue 15): `sighting_rollup` keyed by minute first, its minute index dropped; rows, reports and
    /// the next scans unchanged.
    @Test("migration 7 → 8: sighting_rollup rekeyed by minute, its index dropped, rows and reports unchanged")
    func migrationTo8() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<300))
        s.write("hs.secret", testSecret)
        let key = ["--hmac-secret-file", s.path("hs.secret")]
        #expect(s.scan([s.path("a.log")] + key).status == 0)
        let before = try s.contents()
        let window = ["--since", "2023-11-14T22:15:00Z", "--until", "2023-11-14T22:18:30Z"]
        let reports = [runCLI(["report", "--db", s.db]).out, runCLI(["report", "--db", s.db] + window).out]
        // The table as version 7 wrote it: keyed by token first, with an index on the minute.
        let c = try Connection(path: s.db)
        try c.execute(
            """
            CREATE TABLE old_rollup (
                token_id INTEGER NOT NULL, source_id INTEGER NOT NULL, cause TEXT NOT NULL,
                status_class INTEGER NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL, first REAL, last REAL,
                refused INTEGER NOT NULL DEFAULT 0, near INTEGER NOT NULL DEFAULT 0, near_min REAL, near_max REAL,
                PRIMARY KEY (token_id, source_id, cause, status_class, minute)
            ) WITHOUT ROWID;
            INSERT INTO old_rollup SELECT * FROM sighting_rollup;
            DROP TABLE sighting_rollup;
            ALTER TABLE old_rollup RENAME TO sighting_rollup;
            CREATE INDEX sighting_rollup_minute ON sighting_rollup(minute);
            PRAGMA user_version = 7
            """)
        c.close()
        #expect(try s.int("SELECT count(*) FROM sqlite_schema WHERE name = 'sighting_rollup_minute'") == 1)
        _ = try FindingsDB(path: s.db, lockTimeout: 0) { _ in "" }
        #expect(try s.int("PRAGMA user_version") == Schema.version)
        #expect(try s.contents() == before)
        #expect(try s.int("SELECT count(*) FROM sqlite_schema WHERE name = 'sighting_rollup_minute'") == 0)
        let columns = try s.query("SELECT name, pk FROM pragma_table_info('sighting_rollup') ORDER BY cid")
        #expect(
            columns.map { $0[0] ?? "" } == [
                "token_id", "source_id", "cause", "status_class", "minute", "n", "first", "last", "refused", "near",
                "near_min", "near_max",
            ])
        // The key: minute, source, token, cause, status class.
        #expect(columns.map { $0[1] ?? "" } == ["3", "2", "4", "5", "1", "0", "0", "0", "0", "0", "0", "0"])
        // A window is read through the key.
        let plan = try s.query(
            "EXPLAIN QUERY PLAN SELECT sum(n) FROM sighting_rollup WHERE minute >= 28333335 AND minute < 28333339")
        #expect(plan.contains { ($0.last ?? "")?.contains("USING PRIMARY KEY (minute>? AND minute<?)") == true })
        #expect([runCLI(["report", "--db", s.db]).out, runCLI(["report", "--db", s.db] + window).out] == reports)
        #expect(reports[1] != reports[0] && !reports[1].isEmpty)
        // The next scans write into the new key: a rescan gives the same rows, a grown file adds to them.
        #expect(s.scan([s.path("a.log"), "--rescan"] + key).status == 0)
        #expect(try s.contents() == before)
        s.write("a.log", accessLog(lines: 300..<400), append: true)
        #expect(s.scan([s.path("a.log")] + key).status == 0)
        let fresh = s.path("fresh.sqlite")
        s.write("b.log", accessLog(lines: 0..<400))
        #expect(s.scan([s.path("b.log")] + key, db: fresh).status == 0)
        let grown = try s.contents().map { $0.replacingOccurrences(of: s.path("a.log"), with: "X") }
        let clean = try s.contents(db: fresh).map { $0.replacingOccurrences(of: s.path("b.log"), with: "X") }
        #expect(grown == clean, "\(Set(grown).symmetricDifference(clean).sorted().prefix(6))")
    }

    /// The consumer describes a token once and reuses that row in later batches (at most 8,192 kept, then it starts
    /// over): past the bound, every token row is still whole and counts every sighting.
    @Test("more distinct tokens than the consumer keeps described: every token row whole, every sighting counted")
    func manyDistinctTokens() throws {
        let s = Scratch()
        // Every tenth line is an error line: of the 10,000 tokens, the 9,000 whose number does not end in 9 are seen,
        // three times each (lines k, k + 10,000 and k + 20,000).
        s.write("a.log", accessLog(lines: 0..<30_000, distinct: 10_000))
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status == 0)
        #expect(try s.int("SELECT count(*) FROM tokens") == 9_000)
        #expect(try s.int("SELECT count(DISTINCT token_id) FROM sightings") == 9_000)
        #expect(try s.int("SELECT sum(sightings) FROM tokens") == 27_000)
        #expect(
            try s.int(
                "SELECT count(*) FROM tokens t WHERE sightings != (SELECT count(*) FROM sightings s WHERE s.token_id = t.id)"
            ) == 0)
        // Described from the token each time: its claims, its verdict, its fingerprint.
        #expect(
            try s.int(
                "SELECT count(*) FROM tokens WHERE sub_hash IS NULL OR exp IS NULL OR alg != 'HS256' OR signature != 'valid' OR length(fingerprint) != 64"
            ) == 0)
        // Tokens seen both before and after the bound was passed (in more than one batch).
        #expect(try s.int("SELECT count(*) FROM tokens WHERE sightings = 3") == 9_000)
    }

    /// A batch is handed over before it is full when the writer has nothing to do (``DatabaseConsumer/idleBatchRows``):
    /// where batches end must not change a row — the rollup, totals and minutes are keyed and summed across
    /// batches, ids follow first appearance.
    @Test("batches handed to an idle writer before they are full: more transactions, the same rows")
    func idleHandOff() throws {
        let s = Scratch()
        let logs = twelveLogs(s)
        let secret = KeyLoader.secret(Array(testSecret.utf8), origin: "hs.secret", retired: false).0!
        let keys = VerifyOptions(keys: KeyRing(current: [secret]), workers: 2)
        func run(idleRows: Int?, db: String) throws -> Int {
            let session = try FindingsSession(
                options: DatabaseOptions(path: db), startedAt: 0, version: "test", commandLine: ["test"],
                verify: keys)
            var consumer = DatabaseConsumer(session: session)
            consumer.idleBatchRows = idleRows
            // Chunks of a few dozen lines: many hand-over points in each file.
            let options = ScanOptions(
                paths: [logs], reader: ReaderOptions(maximumLineLength: 4096, blockSize: 8192), now: 1_704_100_000,
                verify: session.verify)
            let totals = ScanRun(options: options).run(into: &consumer)
            try session.finish(status: "done", totals: totals, okRolled: consumer.okRolled, finishedAt: 1)
            return consumer.batchesHanded
        }
        let full = try run(idleRows: nil, db: s.path("full.sqlite"))
        let early = try run(idleRows: 40, db: s.path("early.sqlite"))
        // One batch per file (1,350 sightings each, under a full batch) without the idle path; more with it (the
        // writer is idle at least when the first chunks come).
        #expect(full == 12)
        #expect(early > full, "no batch was handed over early")
        let a = try s.contents(db: s.path("full.sqlite"))
        let b = try s.contents(db: s.path("early.sqlite"))
        #expect(a.count > 16_000)
        #expect(a == b, "\(Set(a).symmetricDifference(b).sorted().prefix(6))")
    }

    /// The last batches of small sources are committed several to a transaction, with the plans between them
    /// (``StoreWriter``): the same rows and ids as a transaction per source.
    @Test("small sources committed several to a transaction: the same database as one transaction per source")
    func groupedSources() throws {
        let s = Scratch()
        let folder = smallLogs(s, files: 300, lines: 20)
        let secret = KeyLoader.secret(Array(testSecret.utf8), origin: "hs.secret", retired: false).0!
        let keys = VerifyOptions(keys: KeyRing(current: [secret]), workers: 2)
        func run(grouped: Bool, db: String) throws -> (batches: Int, transactions: Int) {
            let session = try FindingsSession(
                options: DatabaseOptions(path: db), startedAt: 0, version: "test", commandLine: ["test"],
                verify: keys)
            var consumer = DatabaseConsumer(session: session)
            consumer.groupsSources = grouped
            let options = ScanOptions(paths: [folder], now: 1_704_100_000, verify: session.verify)
            let totals = ScanRun(options: options).run(into: &consumer)
            try session.finish(status: "done", totals: totals, okRolled: consumer.okRolled, finishedAt: 1)
            return (consumer.batchesHanded, session.writer.groupsCommitted)
        }
        let single = try run(grouped: false, db: s.path("single.sqlite"))
        let grouped = try run(grouped: true, db: s.path("grouped.sqlite"))
        #expect(single.batches == 300 && single.transactions == 0)
        // 300 sources' batches in a few transactions (each holds up to 8,192 rows or half a second of them).
        #expect(grouped.batches == 300)
        #expect(grouped.transactions >= 1 && grouped.transactions < 100, "\(grouped.transactions) transactions")
        let a = try s.contents(db: s.path("single.sqlite"))
        let b = try s.contents(db: s.path("grouped.sqlite"))
        #expect(a.count > 5_000)
        #expect(a == b, "\(Set(a).symmetricDifference(b).sorted().prefix(6))")
        // Ids too: sources and tokens numbered in the same order.
        let ids = "SELECT id, path FROM sources ORDER BY id"
        #expect(try s.query(ids, db: s.path("single.sqlite")) == s.query(ids, db: s.path("grouped.sqlite")))
    }

    @Test("a grown file continues where the last run stopped, and a line left open is counted once")
    func append() throws {
        let s = Scratch()
        let full = accessLog(lines: 0..<300)
        // Cut in the middle of a token line: the first run sees an unfinished last line.
        let cut = full.utf8.index(full.utf8.startIndex, offsetBy: full.utf8.count / 2 + 17)
        s.write("a.log", String(full[..<cut]))
        #expect(s.scan([s.path("a.log")]).status == 0)
        s.write("a.log", String(full[cut...]), append: true)
        #expect(s.scan([s.path("a.log")]).status == 0)

        s.write("b.log", full)
        let fresh = s.path("fresh.sqlite")
        #expect(s.scan([s.path("b.log")], db: fresh).status == 0)
        let grown = try s.contents().map { $0.replacingOccurrences(of: s.path("a.log"), with: "X") }
        let clean = try s.contents(db: fresh).map { $0.replacingOccurrences(of: s.path("b.log"), with: "X") }
        #expect(grown == clean, "\(Set(grown).symmetricDifference(clean).sorted().prefix(6))")
        #expect(try s.int("SELECT count(DISTINCT byte_offset) FROM sightings") == 270)
    }

    @Test("a rotated file (new inode) and a truncated one are scanned from the start as new sources")
    func rotateAndTruncate() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<100))
        s.scan([s.path("a.log")])
        // Rotation: the old file moves away, a new one takes its name.
        rename(s.path("a.log"), s.path("a.log.1"))
        s.write("a.log", accessLog(lines: 100..<150))
        s.scan([s.path("a.log")])
        #expect(try s.int("SELECT count(*) FROM sources") == 2)
        #expect(try s.int("SELECT count(*) FROM sources WHERE replaced_by IS NOT NULL") == 1)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + 45)
        // Truncation in place (same inode, smaller, other first bytes).
        truncate(s.path("a.log"), 0)
        s.write("a.log", accessLog(lines: 500..<510), append: true)
        s.scan([s.path("a.log")])
        #expect(try s.int("SELECT count(*) FROM sources") == 3)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + 45 + 9)
    }

    @Test("logrotate: the renamed file is read on from where it was, the new one from its start, nothing twice")
    func renamedByRotation() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<100))
        #expect(s.scan([s.path("a.log")]).status == 0)
        // The file grows, is renamed (same inode), and a new file takes its name; the next run scans both.
        s.write("a.log", accessLog(lines: 100..<120), append: true)
        rename(s.path("a.log"), s.path("a.log.1"))
        s.write("a.log", accessLog(lines: 200..<250))
        let r = s.scan([s.path("a.log"), s.path("a.log.1")])
        #expect(r.status == 0)
        // 90 of each 100 lines carry a token: 90 + 18 for a.log.1, 45 for the new a.log; none read twice.
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + 18 + 45)
        #expect(try s.int("SELECT count(DISTINCT source_id || '/' || byte_offset) FROM sightings") == 90 + 18 + 45)
        #expect(
            try s.query("SELECT path FROM sources WHERE replaced_by IS NULL ORDER BY id") == [
                [s.path("a.log.1")], [s.path("a.log")],
            ])
        // Scanned again with nothing new: both skipped.
        #expect(s.scan([s.path("a.log"), s.path("a.log.1")]).status == 0)
        #expect(try s.query("SELECT sources_skipped FROM runs WHERE id = 3") == [["2"]])
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + 18 + 45)
    }

    @Test("logrotate copytruncate: the copy is read on from where the original was, the truncated file anew")
    func copiedByRotation() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<100))
        #expect(s.scan([s.path("a.log")]).status == 0)
        s.write("a.log", accessLog(lines: 100..<120), append: true)
        // The copy has another inode; the original is truncated and written again.
        #expect(system("cp '\(s.path("a.log"))' '\(s.path("a.log.1"))'") == 0)
        truncate(s.path("a.log"), 0)
        s.write("a.log", accessLog(lines: 200..<250), append: true)
        #expect(s.scan([s.path("a.log"), s.path("a.log.1")]).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + 18 + 45)
        #expect(try s.int("SELECT count(DISTINCT source_id || '/' || byte_offset) FROM sightings") == 90 + 18 + 45)
    }

    @Test("a gzip archive already scanned is skipped")
    func gzip() throws {
        let s = Scratch()
        let gz = fixturePath("logs/haproxy.log.1.gz")
        #expect(s.scan([gz]).status == 0)
        let first = try s.int("SELECT count(*) FROM sightings")
        #expect(first == 40)
        #expect(s.scan([gz]).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings") == first)
        #expect(try s.query("SELECT sources_skipped FROM runs WHERE id = 2") == [["1"]])
        #expect(try s.query("SELECT compressed, completed FROM sources") == [["1", "1"]])
    }

    @Test("--ok-sightings count: successful sightings are counted, not stored")
    func okCount() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<100))
        s.write("hs.secret", testSecret)
        let keys = ["--hmac-secret-file", s.path("hs.secret")]
        s.write("b.log", accessLog(lines: 550..<700))
        let rows = s.path("rows.sqlite")
        #expect(s.scan([s.path("a.log"), s.path("b.log")] + keys, db: rows).status == 0)
        #expect(s.scan([s.path("a.log"), s.path("b.log"), "--ok-sightings", "count"] + keys).status == 0)
        // Tokens expire at 1700000600 (+60 s leeway): a.log is all ok, b.log partly expired.
        #expect(try s.int("SELECT sum(sightings) FROM tokens") == s.int("SELECT sum(sightings) FROM tokens", db: rows))
        #expect(try s.int("SELECT sum(sightings) FROM tokens") == 90 + 135)
        let okRows = try s.int("SELECT count(*) FROM sightings WHERE cause = 'ok'", db: rows)
        #expect(okRows > 90)
        #expect(try s.int("SELECT count(*) FROM sightings WHERE cause = 'ok'") == 0)
        #expect(try s.int("SELECT sum(ok_rolled) FROM tokens") == okRows)
        // The run's row records the same count (runs.ok_rolled, documented in docs/schema.md); without counting, 0.
        #expect(try s.int("SELECT ok_rolled FROM runs ORDER BY id DESC LIMIT 1") == okRows)
        #expect(try s.int("SELECT ok_rolled FROM runs ORDER BY id DESC LIMIT 1", db: rows) == 0)
        #expect(
            try s.int("SELECT failures FROM runs ORDER BY id DESC LIMIT 1")
                == s.int("SELECT count(*) FROM sightings WHERE cause NOT IN ('ok', 'unverified')"))
        #expect(
            try s.int("SELECT count(*) FROM sightings WHERE cause = 'expired'")
                == s.int("SELECT count(*) FROM sightings WHERE cause = 'expired'", db: rows))
        // Reports count the rolled-up sightings too: the same by-cause table either way.
        let counted = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        let stored = try ReportBuilder(path: rows, filter: ReportFilter()).build(now: 0)
        #expect(counted.overview.sightings == 225)
        #expect(counted.tables.first { $0.id == "by_cause" }?.rows == stored.tables.first { $0.id == "by_cause" }?.rows)
    }

    @Test("--since/--until keep lines by their own time; --fail-on sets exit status 1")
    func windowAndFailOn() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<1000))
        // exp = 1700000600: sightings after it are expired.
        #expect(s.scan([s.path("a.log"), "--since", "2023-11-14T22:23:20Z", "--until", "1700000700"]).status == 0)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90)
        #expect(try s.int("SELECT min(log_time) FROM sightings") >= 1_700_000_600)
        // expired once t ≥ exp + 60 s of leeway: lines 660..<700, less the 4 error lines.
        #expect(try s.int("SELECT count(*) FROM sightings WHERE cause = 'expired'") == 36)
        let again = s.path("b.sqlite")
        #expect(s.scan([s.path("a.log"), "--fail-on", "expired,alg_none"], db: again).status == 1)
        #expect(s.scan([s.path("a.log"), "--fail-on", "alg_none"], db: s.path("c.sqlite")).status == 0)
        #expect(s.scan([s.path("a.log"), "--fail-on", "nonsense"], db: s.path("d.sqlite")).status == 2)
    }

    @Test("every example query in docs/schema.md and the README runs against a scan of samples/")
    func documentedQueries() throws {
        let s = Scratch()
        let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let r = s.scan([
            root + "/samples/logs", "--keys", root + "/samples/keys/jwks.json", "--retired-keys",
            root + "/samples/keys/retired.jwks.json", "--hmac-secret-file", root + "/samples/keys/orders-hs256.secret",
        ])
        #expect(r.status == 0, "\(r.err)")
        let doc = readAll(root + "/docs/schema.md")
        let blocks = doc.components(between: "```sql\n", and: "```")
        #expect(blocks.count >= 8)
        for sql in blocks {
            #expect(throws: Never.self, "\(sql)") { _ = try s.query(sql) }
        }
        // The README's queries, as given to the sqlite3 shell (its dot-commands left out).
        let readme = readAll(root + "/README.md")
        let shell = readme.components(between: "sqlite3 jwtsift.sqlite <<'SQL'\n", and: "\nSQL\n")
        #expect(shell.count >= 4)
        var answers: [[[String?]]] = []
        for block in shell {
            let sql = block.split(separator: "\n").filter { !$0.hasPrefix(".") }.joined(separator: "\n")
            #expect(throws: Never.self, "\(sql)") { answers.append(try s.query(sql)) }
        }
        // Readable: times as UTC text, not epoch numbers; and the incident questions have answers on the samples.
        #expect(answers.first?.first?[3]?.contains("-") == true, "\(answers)")
        #expect(answers.count >= 4 && answers[1].count > 0 && answers[2].count > 0, "\(answers)")
        #expect(try s.query("SELECT cause FROM failures_by_cause LIMIT 1") == [["expired"]])
        #expect(try s.int("SELECT count(*) FROM keys") >= 3)
        #expect(try s.int("SELECT count(*) FROM tokens WHERE signature = 'valid'") > 0)
        // No raw token in any text column.
        for (table, column) in [("log_errors", "message"), ("runs", "command_line"), ("tokens", "fingerprint")] {
            #expect(try s.int("SELECT count(*) FROM \(table) WHERE \(column) LIKE '%eyJ%'") == 0)
        }
    }

    @Test("a corrupt database file, or one that cannot be created: a clear message and exit status 4")
    func unusable() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<10))
        s.write("junk.sqlite", String(repeating: "this is not a database\n", count: 400))
        let junk = s.scan([s.path("a.log")], db: s.path("junk.sqlite"))
        #expect(junk.status == 4)
        #expect(junk.err.contains(s.path("junk.sqlite")))
        #expect(junk.err.contains("not a jwtsift database") || junk.err.contains("not a database"))
        let nowhere = s.scan([s.path("a.log")], db: "/proc/jwtsift-cannot-exist/x.sqlite")
        #expect(nowhere.status == 4)
        #expect(nowhere.err.contains("/proc/jwtsift-cannot-exist/x.sqlite"))
    }
}

extension String {
    /// The texts between each `open` and the next `close`.
    func components(between open: String, and close: String) -> [String] {
        var out: [String] = []
        var rest = Substring(self)
        while let a = rest.firstRange(of: open) {
            rest = rest[a.upperBound...]
            guard let b = rest.firstRange(of: close) else { break }
            out.append(String(rest[..<b.lowerBound]))
            rest = rest[b.upperBound...]
        }
        return out
    }
}
