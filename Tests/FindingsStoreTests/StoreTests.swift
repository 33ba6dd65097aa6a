import SiftCore
import Testing

@testable import FindingsStore

#if canImport(Glibc)
import Glibc
#endif

/// The store on its own: plans, batches, run counts, and the SQL generated from the shared vocabulary
/// evaluated by SQLite itself against the Swift rule it restates.
@Suite("Findings store")
struct StoreTests {
    final class Scratch {
        let dir = "/tmp/jwtsift-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        init() { mkdir(dir, 0o700) }
        deinit { _ = system("rm -rf '\(dir)'") }
        var db: String { dir + "/findings.sqlite" }
    }

    static func open(_ path: String) throws -> FindingsDB {
        try FindingsDB(path: path, lockTimeout: 0) { bytes in "head-\(bytes.count)" }
    }

    static func values(_ sql: String) throws -> [[String?]] {
        let c = try Connection(path: ":memory:")
        return try c.prepare(sql).allRows()
    }

    @Test("StatusClass.sql computes what StatusClass(status:) computes")
    func statusClassSQL() throws {
        let statuses: [Int?] = [nil, 100, 199, 200, 204, 299, 300, 302, 400, 401, 403, 404, 500]
        let rows = statuses.map { "SELECT \($0.map(String.init) ?? "NULL") AS status" }.joined(separator: " UNION ALL ")
        let got = try Self.values("SELECT \(StatusClass.sql(status: "status")) FROM (\(rows))")
        #expect(got.map { $0[0] } == statuses.map { String(StatusClass(status: $0).rawValue) })
    }

    @Test("Cause.failureSQL is true exactly for failure causes")
    func failureSQL() throws {
        let rows = Cause.allCases.map { "SELECT \($0.sqlLiteral) AS cause" }.joined(separator: " UNION ALL ")
        let got = try Self.values("SELECT cause, \(Cause.failureSQL("cause")) FROM (\(rows))")
        #expect(got.count == Cause.allCases.count)
        for row in got {
            let cause = try #require(row[0].flatMap(Cause.init(rawValue:)))
            #expect(row[1] == (cause.isFailure ? "1" : "0"), "\(cause)")
        }
    }

    @Test("Rollup.minuteSQL buckets as Rollup.minute does", arguments: [nil, 0.0, 59.999, 60.0, 1_700_000_000.5])
    func minuteSQL(_ t: Double?) throws {
        let got = try Self.values("SELECT \(Rollup.minuteSQL("t")) FROM (SELECT \(t.map { "\($0)" } ?? "NULL") AS t)")
        #expect(got[0][0] == String(Rollup.minute(t)))
    }

    @Test("a new source is read from its start; once complete and unchanged it is skipped; run counts are stored whole")
    func planWriteFinish() throws {
        let s = Scratch()
        let identity = SourceIdentity(
            path: "/var/log/a.log", size: 10, mtime: 1, inode: 7, head: Array("line\n".utf8), isStdin: false)
        do {
            let db = try Self.open(s.db)
            let run = try db.beginRun(startedAt: 1, version: "test", commandLine: "test", verify: true, leeway: 60)
            let (source, plan) = try db.plan(identity, runID: run)
            #expect(plan == .read(from: 0, line: 1, reason: "new"))
            var batch = Batch(
                sourceID: source, progress: ReadProgress(offset: 10, openLineStart: 10, openLine: 3, completed: true))
            var token = TokenUpsert(
                fingerprint: String(repeating: "ab", count: 32), kind: "jws", alg: "HS256", signature: "valid",
                length: 100)
            token.saw(at: 1_700_000_000, rolled: false)
            token.saw(at: 1_700_000_100, rolled: true)
            batch.tokens = [token]
            batch.sightings = [
                SightingRow(
                    token: 0, line: 1, offset: 0, logTime: 1_700_000_000, status: 401, cause: InternedText("expired"),
                    causes: nil, skew: nil, timeSource: nil, truncation: nil, lineError: nil)
            ]
            var rollup = RollupRow(
                token: 0, cause: InternedText("expired"), statusClass: .refused, minute: Rollup.minute(1_700_000_000))
            rollup.add(at: 1_700_000_000, errorOnLine: false, nearBy: 12)
            batch.rollups = [rollup]
            try db.write(batch, runID: run)
            var counts = RunCounts()
            counts.sources = 1
            counts.sightings = 2
            counts.okRolled = 1
            counts.failures = 1
            try db.finishRun(run, status: "done", finishedAt: 2, counts: counts)
        }
        let c = try Connection(path: s.db, readOnly: true)
        #expect(
            try c.prepare("SELECT sources, sightings, ok_rolled, failures, status FROM runs").allRows() == [
                ["1", "2", "1", "1", "done"]
            ])
        #expect(try c.prepare("SELECT sightings, ok_rolled FROM tokens").allRows() == [["2", "1"]])
        #expect(try c.prepare("SELECT status_class, n, near FROM sighting_rollup").allRows() == [["4", "1", "1"]])
        #expect(
            try c.prepare("SELECT bytes_scanned, lines_scanned, completed FROM sources").allRows() == [
                ["10", "2", "1"]
            ])
        c.close()
        let db = try Self.open(s.db)
        let run = try db.beginRun(startedAt: 3, version: "test", commandLine: "test", verify: true, leeway: 60)
        #expect(try db.plan(identity, runID: run).plan == .skip(reason: "unchanged"))
    }

    @Test("a second writer on a locked database is refused with the path, not blocked")
    func busy() throws {
        let s = Scratch()
        let first = try Self.open(s.db)
        #expect(throws: StoreError.self) { _ = try Self.open(s.db) }
        _ = first
    }

    /// Version 3 (issues 12 and 13): names that were digests of a secret are gone, a per-database salt exists,
    /// and sources read by an earlier version (no policy) are re-judged by the next scan that has one.
    @Test("migration 2 → 3: secret-derived key names replaced, salt created, old sources re-judged")
    func migrationTo3() throws {
        let s = Scratch()
        do {
            let c = try Connection(path: s.db)
            try c.execute(Schema.migrations[0])
            try c.execute(Schema.migrations[1])
            let octThumbprint = String(repeating: "T", count: 43)
            try c.execute(
                """
                INSERT INTO tokens (fingerprint, kind, signature, key) VALUES ('f1', 'jws', 'valid', 'hmac:0123456789ab'),
                    ('f2', 'jws', 'valid', '\(octThumbprint)'), ('f3', 'jws', 'valid', 'rsa-2024');
                INSERT INTO keys (thumbprint, kid, kty, origin, retired) VALUES ('hmac:0123456789ab', NULL, 'oct', 's', 0),
                    ('\(octThumbprint)', NULL, 'oct', 'k.json#0', 0), ('R', 'rsa-2024', 'RSA', 'k.json#1', 0);
                INSERT INTO sources (path, size, head_hash, head_len, bytes_scanned, completed)
                    VALUES ('/var/log/a.log', 5, 'head-5', 5, 5, 1);
                PRAGMA user_version = 2;
                """)
            c.close()
        }
        let db = try Self.open(s.db)
        let c = try Connection(path: s.db, readOnly: true)
        #expect(try c.scalar("PRAGMA user_version") == Int64(Schema.version))
        #expect(
            try c.prepare("SELECT key FROM tokens ORDER BY fingerprint").allRows() == [
                ["hmac secret"], ["oct key"], ["rsa-2024"],
            ])
        #expect(try c.prepare("SELECT thumbprint FROM keys").allRows() == [["R"]])
        // Version 4 (key history) kept the row: the global keys' issuer '', its source from its origin, no JWK.
        #expect(
            try c.prepare("SELECT issuer, source, jwk, retired FROM keys").allRows() == [["", "k.json", nil, "0"]])
        #expect(try c.prepare("SELECT count(*) FROM key_fetches").allRows() == [["0"]])
        #expect(try db.salt().count == 32)
        let identity = SourceIdentity(
            path: "/var/log/a.log", size: 5, mtime: nil, inode: nil, head: Array("line\n".utf8), isStdin: false)
        let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: true, leeway: 60, policy: "p1")
        #expect(
            try db.plan(identity, runID: run, policy: "p1").plan == .read(from: 0, line: 1, reason: ReadPlan.rejudged))
        #expect(
            try db.plan(identity, runID: run, policy: "p1").plan
                == .read(from: 0, line: 1, reason: "resuming an interrupted scan"))
        // Two databases never share a salt.
        #expect(try Self.open(s.dir + "/other.sqlite").salt() != db.salt())
    }

    /// Version 5 (issue 16): hosts, the no-status class, and every source re-judged so that statuses and hosts
    /// are read from lines written before.
    @Test("migration from 3: hosts table and host_id columns (v5, after v4's merged_shards), sources re-judged")
    func migrationTo5() throws {
        let s = Scratch()
        do {
            let c = try Connection(path: s.db)
            for m in Schema.migrations[0..<3] { try c.execute(m) }
            try c.execute(
                """
                INSERT INTO tokens (fingerprint, kind, signature) VALUES ('f1', 'jws', 'valid');
                INSERT INTO sources (path, size, head_hash, head_len, bytes_scanned, completed, policy)
                    VALUES ('/var/log/a.log', 5, 'head-5', 5, 5, 1, 'p1');
                INSERT INTO sightings (token_id, source_id, line, byte_offset, cause, causes, run_id)
                    VALUES (1, 1, 1, 0, 'ok', 'ok', 1);
                PRAGMA user_version = 3;
                """)
            c.close()
        }
        let db = try Self.open(s.db)
        let c = try Connection(path: s.db, readOnly: true)
        #expect(try c.scalar("PRAGMA user_version") == Int64(Schema.version))
        #expect(try c.prepare("SELECT count(*), sum(host_id IS NULL) FROM sightings").allRows() == [["1", "1"]])
        #expect(try c.prepare("SELECT count(*) FROM hosts").allRows() == [["0"]])
        #expect(try c.prepare("SELECT host_id FROM log_errors").allRows().isEmpty)
        let identity = SourceIdentity(
            path: "/var/log/a.log", size: 5, mtime: nil, inode: nil, head: Array("line\n".utf8), isStdin: false)
        let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: true, leeway: 60, policy: "p1")
        // Read under the same policy before, but not since statuses and hosts are read: read again.
        #expect(
            try db.plan(identity, runID: run, policy: "p1").plan == .read(from: 0, line: 1, reason: ReadPlan.rejudged))
    }
}
