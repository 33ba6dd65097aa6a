import SiftCore

extension FindingsDB {
    // MARK: - Runs and keys

    public func beginRun(
        startedAt: Double, version: String, commandLine: String, verify: Bool, leeway: Double?, policy: String? = nil
    ) throws(SQLiteError) -> Int64 {
        // Runs that were killed never finished: say so. Their counts are those of their committed batches; the
        // tokens they were first to see are counted here.
        try connection.execute(
            """
            UPDATE runs SET status = 'killed', tokens_new = (SELECT count(*) FROM tokens WHERE first_run_id = runs.id)
            WHERE status = 'running'
            """)
        let s = try connection.prepare(
            """
            INSERT INTO runs (started_at, version, command_line, status, verify, leeway, policy)
            VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)
            """)
        s.bind(6, policy)
        s.bind(1, startedAt)
        s.bind(2, version)
        s.bind(3, commandLine)
        s.bind(4, verify)
        s.bind(5, leeway)
        try s.run()
        // The row indexes stay in place, even on empty tables: a scan's rows come in source and offset order, and
        // mostly in time order, so each index grows at its end as the writer commits, overlapping the scan. Dropped
        // and built once after the last batch, the build was serial time at the end of a first load (~80 ms of
        // about 0.8 s for a 256 MB log, measured; 3.1 vs 3.0 s on 671 MB). `merge` still defers them (its rows are
        // copied table by table).
        let id = connection.lastInsertRowID
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

    /// Records a run that stopped because a write failed (a full disk…): `failed`, with the counts its committed
    /// batches left on its row, plus the sources it skipped as unchanged (nothing else is written: the failure
    /// may come back; indexes deferred for the run are built by the next open). Returns those counts.
    @discardableResult
    public func finishFailedRun(_ id: Int64, finishedAt: Double, sourcesSkipped: Int, inputErrors: Int)
        throws(SQLiteError) -> RunCounts
    {
        let s = try connection.prepare(
            """
            UPDATE runs SET finished_at = ?2, status = 'failed', sources = sources + ?3, sources_skipped = ?3,
                            input_errors = ?4,
                            tokens_new = (SELECT count(*) FROM tokens WHERE first_run_id = ?1)
            WHERE id = ?1
            """)
        s.bind(1, id)
        s.bind(2, finishedAt)
        s.bind(3, sourcesSkipped)
        s.bind(4, inputErrors)
        try s.run()
        return try runCounts(id)
    }

    /// The counts on a run's row.
    public func runCounts(_ id: Int64) throws(SQLiteError) -> RunCounts {
        let s = try connection.prepare(
            """
            SELECT sources, sources_skipped, bytes, lines, sightings, ok_rolled, failures, log_errors, input_errors
            FROM runs WHERE id = ?1
            """)
        s.bind(1, id)
        var c = RunCounts()
        guard try s.step() else { return c }
        c.sources = Int(s.int(0))
        c.sourcesSkipped = Int(s.int(1))
        c.bytes = UInt64(max(0, s.int(2)))
        c.lines = UInt64(max(0, s.int(3)))
        c.sightings = Int(s.int(4))
        c.okRolled = Int(s.int(5))
        c.failures = Int(s.int(6))
        c.logErrors = Int(s.int(7))
        c.inputErrors = Int(s.int(8))
        return c
    }

    /// Records the keys a run used, and marks retired the keys recorded earlier for the same issuer (or the
    /// global keys) that this run's set no longer holds: for each issuer this run has a current key for, a key
    /// not seen in it is gone from its set.
    public func recordKeys(_ keys: [KeyRecord], runID: Int64) throws(SQLiteError) {
        guard !keys.isEmpty else { return }
        try connection.transaction { () throws(SQLiteError) in
            let s = try connection.prepare(
                """
                INSERT INTO keys (thumbprint, issuer, kid, kty, alg, origin, retired, first_run_id, last_run_id, source,
                                  jwk, first_published, last_published)
                VALUES (?1, ?8, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?9, ?10, ?11, ?11)
                ON CONFLICT (thumbprint, issuer) DO UPDATE SET kid = excluded.kid, alg = excluded.alg,
                    origin = excluded.origin, retired = excluded.retired, last_run_id = excluded.last_run_id,
                    source = excluded.source, jwk = coalesce(excluded.jwk, keys.jwk),
                    first_published = coalesce(keys.first_published, excluded.first_published),
                    last_published = excluded.last_published
                """)
            for k in keys {
                s.bind(1, k.thumbprint)
                s.bind(2, k.kid)
                s.bind(3, k.kty)
                s.bind(4, k.alg)
                s.bind(5, k.origin)
                s.bind(6, k.retired)
                s.bind(7, runID)
                s.bind(8, k.issuer)
                s.bind(9, k.source)
                s.bind(10, k.jwk)
                s.bind(11, k.publishedAt)
                try s.run()
            }
            let gone = try connection.prepare(
                "UPDATE keys SET retired = 1 WHERE issuer = ?1 AND (last_run_id IS NULL OR last_run_id < ?2)")
            for issuer in Set(keys.filter { !$0.retired }.map(\.issuer)).sorted() {
                gone.bind(1, issuer)
                gone.bind(2, runID)
                try gone.run()
            }
        }
    }

    /// Records what became of each key set or discovery document the run fetched.
    public func recordFetches(_ fetches: [KeyFetchRecord], runID: Int64) throws(SQLiteError) {
        guard !fetches.isEmpty else { return }
        try connection.transaction { () throws(SQLiteError) in
            let s = try connection.prepare(
                """
                INSERT INTO key_fetches (run_id, url, outcome, http_status, reason, fetched_at, used_cache)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                """)
            for f in fetches {
                s.bind(1, runID)
                s.bind(2, f.url)
                s.bind(3, f.outcome)
                s.bind(4, f.httpStatus.map(Int64.init))
                s.bind(5, f.reason)
                s.bind(6, f.fetchedAt)
                s.bind(7, f.usedCache)
                try s.run()
            }
        }
    }

    /// Every recorded key, by issuer, then first publication.
    public func keyHistory() throws(SQLiteError) -> [KeyHistoryRecord] { try Self.keyHistory(connection) }

    /// Every key recorded in the database `c` (read-only is enough), by issuer, then first publication.
    public static func keyHistory(_ c: Connection) throws(SQLiteError) -> [KeyHistoryRecord] {
        let s = try c.prepare(
            """
            SELECT issuer, thumbprint, kid, kty, alg, source, jwk, retired, first_run_id, last_run_id,
                   first_published, last_published
            FROM keys ORDER BY issuer, first_published, kid, thumbprint
            """)
        var out: [KeyHistoryRecord] = []
        while try s.step() {
            out.append(
                KeyHistoryRecord(
                    issuer: s.string(0) ?? "", thumbprint: s.string(1) ?? "", kid: s.string(2), kty: s.string(3) ?? "",
                    alg: s.string(4), source: s.string(5), jwk: s.string(6), retired: s.int(7) != 0,
                    firstRunID: s.isNull(8) ? nil : s.int(8), lastRunID: s.isNull(9) ? nil : s.int(9),
                    firstPublished: s.isNull(10) ? nil : s.double(10), lastPublished: s.isNull(11) ? nil : s.double(11))
            )
        }
        return out
    }
}
