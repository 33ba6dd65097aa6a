import CSQLite
import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// Why the database could not be used. Each case says what to do.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case sqlite(SQLiteError)
    /// Another jwtsift run holds the database's run lock.
    case busy(path: String, waited: Double)
    /// The file cannot be opened or created.
    case unusable(path: String, reason: String)
    /// Written by a newer jwtsift.
    case tooNew(path: String, version: Int)

    public var description: String {
        switch self {
        case .sqlite(let e): "database: \(e)"
        case .busy(let path, let waited):
            "\(path): another jwtsift run is writing to this database (waited \(Int(waited)) s; --lock-timeout to wait longer)"
        case .unusable(let path, let reason): "\(path): \(reason)"
        case .tooNew(let path, let version):
            "\(path): schema version \(version) is newer than this jwtsift understands (\(Schema.version)); upgrade jwtsift"
        }
    }
}

/// The findings database: one writer connection, owned by one thread at a time (``StoreWriter``'s queue).
///
/// A run holds an exclusive `flock` on the database file for its whole life, so two runs never scan the same
/// sources into one database at once; readers (sqlite3, reports) are never blocked, thanks to WAL.
public final class FindingsDB {
    public let path: String
    public let connection: Connection
    /// Descriptor holding the run lock. Closed only after the connection (closing another descriptor of the
    /// same file would drop SQLite's POSIX locks).
    private let lockFD: Int32
    private let hasher: @Sendable ([UInt8]) -> String

    /// Bytes of a file's head hashed to recognise it after a rotation.
    public static let headLength = 4096

    private var insertSighting: Statement!
    /// `sightingGroup` rows per INSERT.
    private var insertSightings: Statement!
    public static let sightingGroup = 64
    private var insertError: Statement!
    private var upsertToken: Statement!
    private var updateProgress: Statement!
    private var upsertRollup: Statement!
    private var insertDelta: Statement!
    private var applyDeltas: Statement!
    /// Token ids this connection has written in this run, by fingerprint: later batches only add counts to
    /// them (through `token_delta` and one UPDATE) instead of an upsert per token. Bounded; cleared whenever
    /// rows are deleted or a transaction fails.
    private var knownTokens: [String: Int64] = [:]
    static let knownTokenLimit = 1 << 19

    /// Opens or creates the database (mode 0600), takes the run lock (waiting up to `lockTimeout` seconds),
    /// sets WAL and migrates. `hasher` names a file's head (hex SHA-256).
    public init(path: String, lockTimeout: Double, hasher: @escaping @Sendable ([UInt8]) -> String) throws(StoreError) {
        self.path = path
        self.hasher = hasher
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .unusable(path: path, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, waited < lockTimeout else {
                close(fd)
                throw .busy(path: path, waited: waited)
            }
            usleep(100_000)
            waited += 0.1
        }
        lockFD = fd
        do {
            connection = try Connection(path: path)
        } catch {
            close(fd)
            throw .unusable(path: path, reason: "\(error)")
        }
        do {
            connection.busyTimeout(milliseconds: 10_000)
            // A file that is not a database fails here, before anything is written.
            let version = try connection.userVersion
            guard version <= Schema.version else { throw StoreError.tooNew(path: path, version: version) }
            // Larger pages: fewer b-tree splits per inserted row (only takes effect on a new file).
            if version == 0 { try connection.execute("PRAGMA page_size = 16384") }
            for setting in Self.connectionSettings { try connection.execute("PRAGMA \(setting)") }
            try migrate(from: version)
            try ensureIndexes()
            try prepareStatements()
        } catch let e as StoreError {
            throw e
        } catch let e as SQLiteError {
            throw .unusable(path: path, reason: "\(e)")
        } catch {
            throw .unusable(path: path, reason: "\(error)")
        }
    }

    deinit {
        insertSighting = nil
        insertSightings = nil
        insertError = nil
        upsertToken = nil
        updateProgress = nil
        upsertRollup = nil
        // SQLite first: closing another descriptor of the file while it is open would drop its POSIX locks.
        connection.close()
        close(lockFD)
    }

    private func migrate(from version: Int) throws(SQLiteError) {
        guard version < Schema.version else { return }
        for v in version..<Schema.version {
            try connection.transaction { () throws(SQLiteError) in
                try connection.execute(Schema.migrations[v])
                try connection.execute("PRAGMA user_version = \(v + 1)")
            }
        }
    }

    /// Creates the row-table indexes that are missing.
    public func ensureIndexes() throws(SQLiteError) {
        for index in Schema.rowIndexes { try connection.execute(index.sql) }
    }

    /// On empty row tables, drops their indexes for the run; ``finishRun`` (or the next open) builds them.
    func deferIndexesIfEmpty() throws(SQLiteError) {
        let empty =
            try connection.scalar(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM sightings LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM log_errors LIMIT 1))"
            ) == 0
        guard empty else { return }
        for index in Schema.rowIndexes { try connection.execute("DROP INDEX IF EXISTS \(index.name)") }
    }

    /// The writer's connection settings (after `page_size` on a new file). Index builds at the end of a run may
    /// sort on a second thread.
    public static let connectionSettings = [
        "journal_mode = WAL", "synchronous = NORMAL", "temp_store = MEMORY", "cache_size = -65536",
        "wal_autocheckpoint = 16384", "threads = 2",
    ]

    /// The INSERT of `rows` sightings, 13 parameters each, in the order ``bindSighting`` binds them.
    public static func insertSightingsSQL(rows: Int) -> String {
        let columns =
            "(token_id, source_id, line, byte_offset, log_time, status, cause, causes, skew, run_id, time_source, truncation, line_error)"
        let placeholders = (0..<rows).map { r in
            "(" + (1...13).map { "?\(r * 13 + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
        return "INSERT INTO sightings \(columns) VALUES \(placeholders)"
    }

    private func prepareStatements() throws(SQLiteError) {
        insertSighting = try connection.prepare(Self.insertSightingsSQL(rows: 1))
        insertSightings = try connection.prepare(Self.insertSightingsSQL(rows: Self.sightingGroup))
        insertError = try connection.prepare(
            """
            INSERT INTO log_errors (source_id, line, byte_offset, log_time, status, cause, alternative_cause, rule, emitter,
                                    message, details, token_id, run_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """)
        upsertToken = try connection.prepare(
            """
            INSERT INTO tokens (fingerprint, kind, alg, enc, kid, typ, iss, aud, sub_hash, sub, iat, nbf, exp, signature, key,
                                flags, length, first_seen, last_seen, sightings, ok_rolled, first_run_id, last_run_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22)
            ON CONFLICT (fingerprint) DO UPDATE SET
                -- A later run without verification ('unchecked') never erases what a verifying run found.
                signature = CASE WHEN excluded.signature = 'unchecked' THEN tokens.signature ELSE excluded.signature END,
                key = CASE WHEN excluded.signature = 'unchecked' THEN tokens.key ELSE excluded.key END,
                flags = CASE WHEN excluded.signature = 'unchecked' THEN tokens.flags ELSE excluded.flags END,
                enc = coalesce(excluded.enc, tokens.enc), kid = coalesce(excluded.kid, tokens.kid),
                typ = coalesce(excluded.typ, tokens.typ), iss = coalesce(excluded.iss, tokens.iss),
                aud = coalesce(excluded.aud, tokens.aud), sub_hash = coalesce(excluded.sub_hash, tokens.sub_hash),
                iat = coalesce(excluded.iat, tokens.iat), nbf = coalesce(excluded.nbf, tokens.nbf),
                exp = coalesce(excluded.exp, tokens.exp),
                sub = coalesce(excluded.sub, tokens.sub),
                first_seen = CASE WHEN tokens.first_seen IS NULL OR excluded.first_seen < tokens.first_seen
                                  THEN coalesce(excluded.first_seen, tokens.first_seen) ELSE tokens.first_seen END,
                last_seen = CASE WHEN tokens.last_seen IS NULL OR excluded.last_seen > tokens.last_seen
                                 THEN coalesce(excluded.last_seen, tokens.last_seen) ELSE tokens.last_seen END,
                sightings = tokens.sightings + excluded.sightings,
                ok_rolled = tokens.ok_rolled + excluded.ok_rolled,
                last_run_id = excluded.last_run_id
            RETURNING id
            """)
        try connection.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS token_delta (id INTEGER PRIMARY KEY, n INTEGER, ok INTEGER, first REAL, last REAL)
            """)
        insertDelta = try connection.prepare(
            "INSERT INTO temp.token_delta (id, n, ok, first, last) VALUES (?1, ?2, ?3, ?4, ?5)")
        applyDeltas = try connection.prepare(
            """
            UPDATE tokens SET
                sightings = tokens.sightings + d.n, ok_rolled = tokens.ok_rolled + d.ok, last_run_id = ?1,
                first_seen = CASE WHEN tokens.first_seen IS NULL OR d.first < tokens.first_seen
                                  THEN coalesce(d.first, tokens.first_seen) ELSE tokens.first_seen END,
                last_seen = CASE WHEN tokens.last_seen IS NULL OR d.last > tokens.last_seen
                                 THEN coalesce(d.last, tokens.last_seen) ELSE tokens.last_seen END
            FROM temp.token_delta d WHERE tokens.id = d.id
            """)
        upsertRollup = try connection.prepare(
            """
            INSERT INTO sighting_rollup (token_id, source_id, cause, status_class, minute, n, first, last, refused, near,
                                         near_min, near_max)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            ON CONFLICT (token_id, source_id, cause, status_class, minute) DO UPDATE SET
                n = n + excluded.n, refused = refused + excluded.refused, near = near + excluded.near,
                first = CASE WHEN first IS NULL OR excluded.first < first THEN coalesce(excluded.first, first) ELSE first END,
                last = CASE WHEN last IS NULL OR excluded.last > last THEN coalesce(excluded.last, last) ELSE last END,
                near_min = CASE WHEN near_min IS NULL OR excluded.near_min < near_min THEN coalesce(excluded.near_min, near_min) ELSE near_min END,
                near_max = CASE WHEN near_max IS NULL OR excluded.near_max > near_max THEN coalesce(excluded.near_max, near_max) ELSE near_max END
            """)
        updateProgress = try connection.prepare(
            """
            UPDATE sources SET bytes_scanned = ?2, lines_scanned = ?3, resume_offset = ?4, resume_line = ?5,
                               completed = ?6, last_run_id = ?7
            WHERE id = ?1
            """)
    }

    // MARK: - Runs and keys

    public func beginRun(startedAt: Double, version: String, commandLine: String, verify: Bool, leeway: Double?)
        throws(SQLiteError) -> Int64
    {
        // Runs that were killed never finished: say so.
        try connection.execute("UPDATE runs SET status = 'killed' WHERE status = 'running'")
        let s = try connection.prepare(
            """
            INSERT INTO runs (started_at, version, command_line, status, verify, leeway) VALUES (?1, ?2, ?3, 'running', ?4, ?5)
            """)
        s.bind(1, startedAt)
        s.bind(2, version)
        s.bind(3, commandLine)
        s.bind(4, verify)
        s.bind(5, leeway)
        try s.run()
        let id = connection.lastInsertRowID
        try deferIndexesIfEmpty()
        return id
    }

    public func finishRun(_ id: Int64, status: String, finishedAt: Double, counts: RunCounts) throws(SQLiteError) {
        try ensureIndexes()
        let s = try connection.prepare(
            """
            UPDATE runs SET finished_at = ?2, status = ?3, sources = ?4, sources_skipped = ?5, bytes = ?6, lines = ?7,
                            sightings = ?8, ok_rolled = ?9, failures = ?10, log_errors = ?11, input_errors = ?12,
                            tokens_new = (SELECT count(*) FROM tokens WHERE first_run_id = ?1)
            WHERE id = ?1
            """)
        s.bind(1, id)
        s.bind(2, finishedAt)
        s.bind(3, status)
        s.bind(4, counts.sources)
        s.bind(5, counts.sourcesSkipped)
        s.bind(6, Int64(clamping: counts.bytes))
        s.bind(7, Int64(clamping: counts.lines))
        s.bind(8, counts.sightings)
        s.bind(9, counts.okRolled)
        s.bind(10, counts.failures)
        s.bind(11, counts.logErrors)
        s.bind(12, counts.inputErrors)
        try s.run()
    }

    public func recordKeys(_ keys: [KeyRecord], runID: Int64) throws(SQLiteError) {
        guard !keys.isEmpty else { return }
        try connection.transaction { () throws(SQLiteError) in
            let s = try connection.prepare(
                """
                INSERT INTO keys (thumbprint, kid, kty, alg, origin, retired, first_run_id, last_run_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                ON CONFLICT (thumbprint) DO UPDATE SET kid = excluded.kid, alg = excluded.alg, origin = excluded.origin,
                    retired = excluded.retired, last_run_id = excluded.last_run_id
                """)
            for k in keys {
                s.bind(1, k.thumbprint)
                s.bind(2, k.kid)
                s.bind(3, k.kty)
                s.bind(4, k.alg)
                s.bind(5, k.origin)
                s.bind(6, k.retired)
                s.bind(7, runID)
                try s.run()
            }
        }
    }

    // MARK: - Sources

    /// Decides what to do with a source and records the decision: a new source row, or the resume point of an
    /// existing one (deleting the rows of a line left open by the last run, so it is counted once).
    public func plan(_ id: SourceIdentity, runID: Int64) throws(SQLiteError) -> (sourceID: Int64, plan: ReadPlan) {
        try connection.transaction { () throws(SQLiteError) -> (sourceID: Int64, plan: ReadPlan) in
            if id.isStdin {
                return (try newSource(id, runID: runID), .read(from: 0, line: 1, reason: "standard input"))
            }
            let q = try connection.prepare(
                """
                SELECT id, size, inode, head_hash, head_len, compressed, bytes_scanned, resume_offset, resume_line, completed
                FROM sources WHERE path = ?1 AND replaced_by IS NULL ORDER BY id DESC LIMIT 1
                """)
            q.bind(1, id.path)
            guard try q.step() else {
                return (try newSource(id, runID: runID), .read(from: 0, line: 1, reason: "new"))
            }
            let sourceID = q.int(0)
            let inode = q.isNull(2) ? nil : UInt64(bitPattern: q.int(2))
            let headHash = q.string(3)
            let headLen = Int(q.int(4))
            let compressed = q.int(5) != 0
            let bytesScanned = UInt64(q.int(6))
            let resumeOffset = UInt64(q.int(7))
            let resumeLine = UInt64(q.int(8))
            let completed = q.int(9) != 0
            q.reset()

            var changed: String? = nil
            if let inode, let now = id.inode, inode != now {
                changed = "rotated (another inode)"
            } else if headLen > id.head.count || headHash != hasher(Array(id.head.prefix(headLen))) {
                changed = "rotated or rewritten (its first bytes differ)"
            } else if !compressed, let size = id.size, size < bytesScanned {
                changed = "truncated (\(size) bytes, \(bytesScanned) were scanned)"
            } else if compressed != id.looksGzip {
                changed = "rewritten"
            }
            if let changed {
                let newID = try newSource(id, runID: runID)
                try connection.execute("UPDATE sources SET replaced_by = \(newID) WHERE id = \(sourceID)")
                return (newID, .read(from: 0, line: 1, reason: changed))
            }
            if completed && (compressed || id.size.map { $0 <= bytesScanned } ?? true) {
                return (sourceID, .skip(reason: compressed ? "archive already scanned" : "unchanged"))
            }
            // Grown, or left unfinished by an interrupted run: continue from the last open line.
            try deleteRows(source: sourceID, from: resumeOffset)
            let u = try connection.prepare(
                """
                UPDATE sources SET size = ?2, mtime = ?3, bytes_scanned = ?4, completed = 0, last_run_id = ?5,
                                   head_hash = ?6, head_len = ?7 WHERE id = ?1
                """)
            u.bind(1, sourceID)
            u.bind(2, id.size.map { Int64(clamping: $0) })
            u.bind(3, id.mtime)
            u.bind(4, Int64(clamping: resumeOffset))
            u.bind(5, runID)
            u.bind(6, hasher(id.head))
            u.bind(7, id.head.count)
            try u.run()
            let reason = completed ? "grown" : "resuming an interrupted scan"
            return (sourceID, .read(from: resumeOffset, line: resumeLine, reason: reason))
        }
    }

    private func newSource(_ id: SourceIdentity, runID: Int64) throws(SQLiteError) -> Int64 {
        let s = try connection.prepare(
            """
            INSERT INTO sources (path, size, mtime, inode, head_hash, head_len, compressed, first_run_id, last_run_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
            """)
        s.bind(1, id.path)
        s.bind(2, id.size.map { Int64(clamping: $0) })
        s.bind(3, id.mtime)
        s.bind(4, id.inode.map { Int64(bitPattern: $0) })
        s.bind(5, id.isStdin ? nil : hasher(id.head))
        s.bind(6, id.isStdin ? nil : id.head.count)
        s.bind(7, id.looksGzip)
        s.bind(8, runID)
        try s.run()
        return connection.lastInsertRowID
    }

    /// Removes a source's rows at or after `offset`, takes them off their tokens' counts, and drops tokens
    /// left with no sighting at all (a token cut in half by the end of the file, say).
    private func deleteRows(source: Int64, from offset: UInt64) throws(SQLiteError) {
        knownTokens.removeAll()
        let o = Int64(clamping: offset)
        try connection.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS affected_tokens (id INTEGER PRIMARY KEY);
            DELETE FROM affected_tokens;
            INSERT OR IGNORE INTO affected_tokens
                SELECT token_id FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o);
            UPDATE tokens SET sightings = sightings - (
                SELECT count(*) FROM sightings s WHERE s.token_id = tokens.id AND s.source_id = \(source) AND s.byte_offset >= \(o))
            WHERE id IN (SELECT id FROM affected_tokens);
            UPDATE sighting_rollup SET n = n - d.c, refused = refused - d.r
            FROM (SELECT token_id, cause,
                         \(StatusClass.sql(status: "status")) AS sc,
                         \(Rollup.minuteSQL("log_time")) AS m, count(*) AS c, sum(line_error IS NOT NULL) AS r
                  FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o) GROUP BY 1, 2, 3, 4) AS d
            WHERE sighting_rollup.token_id = d.token_id AND sighting_rollup.source_id = \(source)
              AND sighting_rollup.cause = d.cause AND sighting_rollup.status_class = d.sc AND sighting_rollup.minute = d.m;
            DELETE FROM sighting_rollup WHERE source_id = \(source) AND n <= 0;
            DELETE FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o);
            DELETE FROM log_errors WHERE source_id = \(source) AND byte_offset >= \(o);
            DELETE FROM tokens WHERE id IN (SELECT id FROM affected_tokens) AND sightings <= 0
                AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.token_id = tokens.id)
                AND NOT EXISTS (SELECT 1 FROM log_errors e WHERE e.token_id = tokens.id);
            """)
    }

    // MARK: - Batches

    /// Binds one sighting to parameters `base + 1 … base + 13`.
    @inline(__always)
    private func bindSighting(
        _ s: Statement, base: Int32, _ row: SightingRow, tokenID: Int64, source: Int64, runID: Int64
    ) {
        s.bind(base + 1, tokenID)
        s.bind(base + 2, source)
        s.bind(base + 3, Int64(clamping: row.line))
        s.bind(base + 4, Int64(clamping: row.offset))
        s.bind(base + 5, row.logTime)
        s.bind(base + 6, row.status)
        s.bind(base + 7, interned: row.cause)
        if let list = row.causes { s.bind(base + 8, list) } else { s.bind(base + 8, interned: row.cause) }
        s.bind(base + 9, row.skew)
        s.bind(base + 10, runID)
        s.bind(base + 11, interned: row.timeSource)
        s.bind(base + 12, interned: row.truncation)
        s.bind(base + 13, interned: row.lineError)
    }

    /// Writes one batch and the source's progress in one transaction.
    public func write(_ batch: Batch, runID: Int64) throws(SQLiteError) {
        do {
            try writeRows(batch, runID: runID)
        } catch {
            // The transaction was rolled back: ids learnt in it may not exist.
            knownTokens.removeAll()
            throw error
        }
    }

    private func writeRows(_ batch: Batch, runID: Int64) throws(SQLiteError) {
        try connection.transaction { () throws(SQLiteError) in
            var ids = [Int64](repeating: 0, count: batch.tokens.count)
            let t = upsertToken!
            var deltas = 0
            for (i, token) in batch.tokens.enumerated() {
                if let id = knownTokens[token.fingerprint] {
                    ids[i] = id
                    insertDelta.bind(1, id)
                    insertDelta.bind(2, token.count)
                    insertDelta.bind(3, token.okRolled)
                    insertDelta.bind(4, token.firstSeen)
                    insertDelta.bind(5, token.lastSeen)
                    try insertDelta.run()
                    deltas += 1
                    continue
                }
                t.bind(1, token.fingerprint)
                t.bind(2, token.kind)
                t.bind(3, token.alg)
                t.bind(4, token.enc)
                t.bind(5, token.kid)
                t.bind(6, token.typ)
                t.bind(7, token.iss)
                t.bind(8, token.aud)
                t.bind(9, token.subHash)
                t.bind(10, token.sub)
                t.bind(11, token.iat)
                t.bind(12, token.nbf)
                t.bind(13, token.exp)
                t.bind(14, token.signature)
                t.bind(15, token.key)
                t.bind(16, token.flags)
                t.bind(17, token.length)
                t.bind(18, token.firstSeen)
                t.bind(19, token.lastSeen)
                t.bind(20, token.count)
                t.bind(21, token.okRolled)
                t.bind(22, runID)
                guard try t.step() else { throw connection.error(SQLITE_ERROR, "token upsert returned no id") }
                ids[i] = t.int(0)
                t.reset()
                if knownTokens.count >= Self.knownTokenLimit { knownTokens.removeAll(keepingCapacity: true) }
                knownTokens[token.fingerprint] = ids[i]
            }
            if deltas > 0 {
                applyDeltas.bind(1, runID)
                try applyDeltas.run()
                try connection.execute("DELETE FROM temp.token_delta")
            }
            // Rows go in `sightingGroup` at a time through one multi-row INSERT (one statement step for many
            // rows), the rest one by one.
            var k = 0
            let rows = batch.sightings
            let group = insertSightings!
            while rows.count - k >= Self.sightingGroup {
                for r in 0..<Self.sightingGroup {
                    bindSighting(
                        group, base: Int32(r * 13), rows[k + r], tokenID: ids[rows[k + r].token],
                        source: batch.sourceID, runID: runID)
                }
                try group.run()
                k += Self.sightingGroup
            }
            let one = insertSighting!
            while k < rows.count {
                bindSighting(one, base: 0, rows[k], tokenID: ids[rows[k].token], source: batch.sourceID, runID: runID)
                try one.run()
                k += 1
            }
            let u = upsertRollup!
            u.bind(2, batch.sourceID)
            for r in batch.rollups {
                u.bind(1, ids[r.token])
                u.bind(3, interned: r.cause)
                u.bind(4, r.statusClass.rawValue)
                u.bind(5, r.minute)
                u.bind(6, r.n)
                u.bind(7, r.first)
                u.bind(8, r.last)
                u.bind(9, r.refused)
                u.bind(10, r.near)
                u.bind(11, r.nearMin)
                u.bind(12, r.nearMax)
                try u.run()
            }
            let e = insertError!
            e.bind(1, batch.sourceID)
            e.bind(13, runID)
            for row in batch.errors {
                e.bind(2, Int64(clamping: row.line))
                e.bind(3, Int64(clamping: row.offset))
                e.bind(4, row.logTime)
                e.bind(5, row.status)
                e.bind(6, row.cause)
                e.bind(7, row.alternative)
                e.bind(8, row.rule)
                e.bind(9, row.emitter)
                e.bind(10, row.message)
                e.bind(11, row.details)
                e.bind(12, row.token.map { ids[$0] })
                try e.run()
            }
            let p = updateProgress!
            p.bind(1, batch.sourceID)
            p.bind(2, Int64(clamping: batch.progress.offset))
            p.bind(3, Int64(clamping: batch.progress.linesDone))
            p.bind(4, Int64(clamping: batch.progress.openLineStart))
            p.bind(5, Int64(clamping: batch.progress.openLine))
            p.bind(6, batch.progress.completed)
            p.bind(7, runID)
            try p.run()
        }
    }
}
