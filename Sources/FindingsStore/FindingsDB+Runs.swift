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
}
