import FindingsStore
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The database under faults: file modes whatever the umask, damage found at open, a full disk in the middle of a
/// run, a run killed after some batches. Each fault is made deterministically here.
@Suite("Findings store faults", .serialized)
struct StoreFaultTests {
    typealias Scratch = StoreTests.Scratch

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : nil
    }

    /// A batch of `n` sightings of one new token (every third a failure) and `n / 4` error rows, with its counts.
    static func batch(source: Int64, index: Int, n: Int, offset: UInt64) -> Batch {
        var b = Batch(
            sourceID: source, progress: ReadProgress(offset: offset + 1000, openLineStart: offset + 1000, openLine: 1))
        var token = TokenUpsert(
            fingerprint: String(repeating: String(index % 10), count: 63) + "f", kind: "jws", alg: "HS256",
            kid: String(repeating: "k", count: 200), signature: "valid", length: 300)
        var rollup = RollupRow(token: 0, cause: InternedText("expired"), statusClass: .refused, minute: 1)
        for k in 0..<n {
            token.saw(at: 60 + Double(k), rolled: false)
            rollup.add(at: 60 + Double(k), errorOnLine: false, nearBy: nil)
            b.sightings.append(
                SightingRow(
                    token: 0, line: UInt64(index * n + k + 1), offset: offset + UInt64(k), logTime: 60 + Double(k),
                    status: 401, cause: InternedText(k % 3 == 0 ? "expired" : "ok"), causes: nil, skew: nil,
                    timeSource: nil, truncation: nil, lineError: nil))
            if k % 3 == 0 { b.counts.failures += 1 }
        }
        for k in 0..<(n / 4) {
            b.errors.append(
                ErrorRow(
                    line: UInt64(k + 1), offset: offset + UInt64(k), logTime: nil, status: nil, cause: "expired",
                    alternative: nil, rule: "test", emitter: nil,
                    message: String(repeating: "jwt expired ", count: 20), details: "{}", token: nil))
        }
        b.tokens = [token]
        b.rollups = [rollup]
        b.counts.sources = index == 0 ? 1 : 0
        b.counts.sightings = n
        b.counts.logErrors = n / 4
        b.counts.bytes = 1000
        b.counts.lines = UInt64(n)
        return b
    }

    static func openSource(_ db: FindingsDB, run: Int64) throws -> Int64 {
        let identity = SourceIdentity(
            path: "/var/log/a.log", size: 10, mtime: 1, inode: 7, head: Array("line\n".utf8), isStdin: false)
        return try db.plan(identity, runID: run).sourceID
    }

    /// The run's row against the rows the database holds for it.
    static func rowAndRows(_ path: String, run: Int64) throws -> (row: [String?], rows: [String?]) {
        let c = try Connection(path: path, readOnly: true)
        let row = try c.prepare("SELECT status, sightings, failures, log_errors, sources FROM runs WHERE id = \(run)")
            .allRows()[0]
        let rows = try c.prepare(
            """
            SELECT (SELECT count(*) FROM sightings WHERE run_id = \(run)),
                   (SELECT count(*) FROM sightings WHERE run_id = \(run) AND cause = 'expired'),
                   (SELECT count(*) FROM log_errors WHERE run_id = \(run))
            """
        ).allRows()[0]
        return (row, rows)
    }

    @Test("a new database and its -wal and -shm are 0600 under umask 000")
    func newFileModes() throws {
        let s = Scratch()
        let old = umask(0)
        defer { umask(old) }
        let db = try StoreTests.open(s.db)
        let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
        try db.write(Self.batch(source: try Self.openSource(db, run: run), index: 0, n: 10, offset: 0), runID: run)
        #expect(db.notices.isEmpty)
        for suffix in ["", "-wal", "-shm"] {
            #expect(Self.mode(s.db + suffix) == 0o600, "\(suffix): \(String(Self.mode(s.db + suffix) ?? 0, radix: 8))")
        }
    }

    @Test("an existing 0666 database (and its -wal/-shm) is made 0600 on open for writing, and says so")
    func tightened() throws {
        let s = Scratch()
        // A reader keeps -wal and -shm in place after the writer closes.
        let reader: Connection
        do {
            let db = try StoreTests.open(s.db)
            let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
            _ = try Self.openSource(db, run: run)
            reader = try Connection(path: s.db, readOnly: true)
            _ = try reader.userVersion
        }
        // World-readable and -writable, as a careless copy or umask 000 with an older jwtsift leaves them.
        for suffix in ["", "-wal", "-shm"] {
            #expect(chmod(s.db + suffix, 0o666) == 0)
        }
        let db = try StoreTests.open(s.db)
        for suffix in ["", "-wal", "-shm"] {
            #expect(Self.mode(s.db + suffix) == 0o600, "\(suffix): \(String(Self.mode(s.db + suffix) ?? 0, radix: 8))")
        }
        #expect(db.notices.count == 3)
        #expect(db.notices.first?.contains("made 0600") == true && db.notices.first?.contains(s.db) == true)
        reader.close()
    }

    @Test("a database that fails its integrity check is refused at open, naming the file")
    func damaged() throws {
        let s = Scratch()
        do {
            let db = try StoreTests.open(s.db)
            let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
            try db.write(Self.batch(source: try Self.openSource(db, run: run), index: 0, n: 50, offset: 0), runID: run)
            try db.finishRun(run, status: "done", finishedAt: 1, counts: RunCounts())
        }
        let (pageSize, root): (Int64, Int64)
        do {
            let c = try Connection(path: s.db, readOnly: true)
            pageSize = try c.scalar("PRAGMA page_size") ?? 0
            root = try c.scalar("SELECT rootpage FROM sqlite_master WHERE name = 'log_errors'") ?? 0
        }
        let fd = open(s.db, O_WRONLY)
        let garbage = [UInt8](repeating: 0xFF, count: 16)
        #expect(pwrite(fd, garbage, garbage.count, off_t((root - 1) * pageSize)) == garbage.count)
        close(fd)
        do {
            _ = try StoreTests.open(s.db)
            Issue.record("a damaged database was opened")
        } catch {
            guard case .damaged(let path, _)? = error as? StoreError else {
                Issue.record("\(error)")
                return
            }
            #expect(path == s.db)
            #expect("\(error)".contains("integrity check"))
        }
    }

    @Test("each batch's counts are committed on the run's row: a killed run keeps the counts of its rows")
    func killedRunCounts() throws {
        let s = Scratch()
        var run: Int64 = 0
        do {
            let db = try StoreTests.open(s.db)
            run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
            let source = try Self.openSource(db, run: run)
            for i in 0..<3 {
                try db.write(Self.batch(source: source, index: i, n: 30, offset: UInt64(i) * 1000), runID: run)
            }
            // Never finished: the process "dies" here.
        }
        let db = try StoreTests.open(s.db)
        _ = try db.beginRun(startedAt: 1, version: "t", commandLine: "t", verify: false, leeway: nil)
        let (row, rows) = try Self.rowAndRows(s.db, run: run)
        #expect(row == ["killed", "90", "30", "21", "1"])
        #expect(rows == ["90", "30", "21"])
    }

    @Test("a full disk (max_page_count) mid-run: the run is failed, with the counts of what was committed")
    func diskFull() throws {
        let s = Scratch()
        let db = try StoreTests.open(s.db)
        let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
        let source = try Self.openSource(db, run: run)
        let pages = try db.connection.scalar("PRAGMA page_count") ?? 0
        try db.connection.execute("PRAGMA max_page_count = \(pages + 12)")
        var committed = 0
        var failure: SQLiteError? = nil
        for i in 0..<200 {
            do {
                try db.write(Self.batch(source: source, index: i, n: 200, offset: UInt64(i) * 1000), runID: run)
                committed += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.primary == 13, "SQLITE_FULL expected, got \(String(describing: failure))")
        #expect(committed >= 1)
        let counts = try db.finishFailedRun(run, finishedAt: 9, sourcesSkipped: 2, inputErrors: 0)
        #expect(counts.sightings == committed * 200)
        #expect(counts.logErrors == committed * 50)
        #expect(counts.sources == 3)
        let (row, rows) = try Self.rowAndRows(s.db, run: run)
        #expect(row == ["failed", "\(committed * 200)", rows[1], "\(committed * 50)", "3"])
        #expect(rows[0] == "\(committed * 200)")
    }

    /// The writer's group (``StoreWriter``): the last batches of several sources in one transaction, with the
    /// plans between them. A failure inside the group (a plan's here) loses its batches with it, so it is the run's
    /// failure; a failure with no group open is the caller's alone, as before.
    @Test("a plan that fails inside the writer's group fails the run and loses the group's batches together")
    func failureInsideGroup() throws {
        let s = Scratch()
        let db = try StoreTests.open(s.db)
        let run = try db.beginRun(startedAt: 0, version: "t", commandLine: "t", verify: false, leeway: nil)
        let source = try Self.openSource(db, run: run)
        let writer = StoreWriter(db: db, runID: run)
        let refusal = SQLiteError(code: 1, message: "refused", context: "test")
        // No group open: the failure is the caller's, the writer goes on.
        #expect(throws: StoreError.self) {
            try writer.syncInGroup { _ throws(SQLiteError) in throw refusal }
        }
        #expect(writer.failed == nil)
        // A source's last batch opens a group; a failed plan after it gives the group up.
        var last = Self.batch(source: source, index: 0, n: 30, offset: 0)
        last.endsSource = true
        writer.submit(last)
        #expect(try writer.syncInGroup { db throws(SQLiteError) in db.connection.inTransaction })
        #expect(throws: StoreError.self) {
            try writer.syncInGroup { _ throws(SQLiteError) in throw refusal }
        }
        #expect(writer.failed != nil)
        #expect(try writer.syncInGroup { db throws(SQLiteError) in db.connection.inTransaction } == false)
        // Nothing of the group was committed, and later batches are dropped.
        writer.submit(Self.batch(source: source, index: 1, n: 30, offset: 1000))
        let (_, rows) = try Self.rowAndRows(s.db, run: run)
        #expect(rows == ["0", "0", "0"])
        #expect(writer.groupsCommitted == 0)
    }
}
