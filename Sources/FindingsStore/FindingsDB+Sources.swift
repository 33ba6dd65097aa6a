import CSQLite
import SiftCore

extension FindingsDB {
    // MARK: - Sources

    /// The database's random salt (hex), under which secrets enter a policy fingerprint.
    public func salt() throws(SQLiteError) -> [UInt8] {
        let q = try connection.prepare("SELECT value FROM settings WHERE name = 'salt'")
        guard try q.step(), let hex = q.string(0) else { return [] }
        return Array(hex.utf8)
    }

    /// Decides what to do with a source and records the decision: a new source row, or the resume point of an
    /// existing one (deleting the rows of a line left open by the last run, so it is counted once).
    ///
    /// `policy` is the run's verification-policy fingerprint (nil: not compared). A source last read under
    /// another policy, or any source when `rescan` is set, is read again from its start: its rows are deleted
    /// in this transaction and replaced as the new reading commits, so a run killed part-way leaves it to be
    /// resumed under the new policy.
    public func plan(_ id: SourceIdentity, runID: Int64, policy: String? = nil, rescan: Bool = false)
        throws(SQLiteError)
        -> (sourceID: Int64, plan: ReadPlan)
    {
        try connection.transaction { () throws(SQLiteError) -> (sourceID: Int64, plan: ReadPlan) in
            if id.isStream {
                // Never identified by re-reading: its bytes can be read only once, by the scan.
                let reason = id.isStdin ? "standard input" : "a stream (pipe, FIFO, device): read whole"
                return (try newSource(id, runID: runID, policy: policy), .read(from: 0, line: 1, reason: reason))
            }
            let q = try connection.prepare(
                """
                SELECT id, size, inode, head_hash, head_len, compressed, bytes_scanned, resume_offset, resume_line, completed,
                       policy, tail_hash, tail_len
                FROM sources WHERE path = ?1 AND replaced_by IS NULL ORDER BY id DESC LIMIT 1
                """)
            q.bind(1, id.path)
            var renamedFrom: String? = nil
            if try !q.step() {
                q.reset()
                // Not seen under this name: the same file under another name (logrotate renamed it, or a hard
                // link) is found by its inode and first bytes, and read on from where it was.
                guard let (oldID, oldPath) = try renamed(id) else {
                    return (try newSource(id, runID: runID, policy: policy), .read(from: 0, line: 1, reason: "new"))
                }
                // A copy has an inode of its own: the source now is that file.
                let u = try connection.prepare(
                    "UPDATE sources SET path = ?2, replaced_by = NULL, inode = ?3 WHERE id = ?1")
                u.bind(1, oldID)
                u.bind(2, id.path)
                u.bind(3, id.inode.map { Int64(bitPattern: $0) })
                try u.run()
                renamedFrom = oldPath
                q.bind(1, id.path)
                guard try q.step() else { throw connection.error(SQLITE_ERROR, "renamed source vanished") }
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
            let lastPolicy = q.string(10)
            let tailHash = q.isNull(11) ? nil : q.string(11)
            let tailLen = Int(q.int(12))
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
            } else if !compressed, let tailHash, tailLen > 0, UInt64(tailLen) <= bytesScanned, let read = id.bytesAt,
                hasher(read(bytesScanned - UInt64(tailLen), tailLen)) != tailHash
            {
                // Same first bytes, as long or longer: copied and truncated, then written again (copytruncate).
                changed = "rewritten in place (the bytes before where the last run stopped differ)"
            }
            if let changed {
                let newID = try newSource(id, runID: runID, policy: policy)
                try connection.execute("UPDATE sources SET replaced_by = \(newID) WHERE id = \(sourceID)")
                return (newID, .read(from: 0, line: 1, reason: changed))
            }
            if rescan || (policy != nil && lastPolicy != policy) {
                try deleteRows(source: sourceID, from: 0)
                let u = try connection.prepare(
                    """
                    UPDATE sources SET size = ?2, mtime = ?3, bytes_scanned = 0, resume_offset = 0, resume_line = 1,
                                       completed = 0, last_run_id = ?4, head_hash = ?5, head_len = ?6, policy = ?7,
                                       tail_hash = NULL, tail_len = NULL
                    WHERE id = ?1
                    """)
                u.bind(1, sourceID)
                u.bind(2, id.size.map { Int64(clamping: $0) })
                u.bind(3, id.mtime)
                u.bind(4, runID)
                u.bind(5, hasher(id.head))
                u.bind(6, id.head.count)
                u.bind(7, policy)
                try u.run()
                return (sourceID, .read(from: 0, line: 1, reason: rescan ? ReadPlan.rescanned : ReadPlan.rejudged))
            }
            let renamedNote = renamedFrom.map { " (renamed from \($0))" } ?? ""
            if completed && (compressed || id.size.map { $0 <= bytesScanned } ?? true) {
                return (
                    sourceID, .skip(reason: (compressed ? "archive already scanned" : "unchanged") + renamedNote)
                )
            }
            // Grown, or left unfinished by an interrupted run: continue from the last open line.
            try deleteRows(source: sourceID, from: resumeOffset)
            let u = try connection.prepare(
                """
                UPDATE sources SET size = ?2, mtime = ?3, bytes_scanned = ?4, completed = 0, last_run_id = ?5,
                                   head_hash = ?6, head_len = ?7, tail_hash = ?8, tail_len = ?9 WHERE id = ?1
                """)
            u.bind(1, sourceID)
            u.bind(2, id.size.map { Int64(clamping: $0) })
            u.bind(3, id.mtime)
            u.bind(4, Int64(clamping: resumeOffset))
            u.bind(5, runID)
            u.bind(6, hasher(id.head))
            u.bind(7, id.head.count)
            // bytes_scanned moves back to the resume point: so does the window before it.
            let window = compressed ? [] : Self.window(id, endingAt: resumeOffset)
            u.bind(8, window.isEmpty ? nil : hasher(window))
            u.bind(9, window.isEmpty ? nil : window.count)
            try u.run()
            let reason = (completed ? "grown" : "resuming an interrupted scan") + renamedNote
            return (sourceID, .read(from: resumeOffset, line: resumeLine, reason: reason))
        }
    }

    /// Fewest first bytes a source must have had for a file under another name with the same inode to be taken for
    /// it: fewer could be any new file's start on a reused inode. (Without the inode: all ``headLength``.)
    static let renameMinimumHead = 64

    /// The source this file was under another name: same inode (a rename keeps it) or, for a copy (logrotate's
    /// `copytruncate`, `cp`), the same first ``FindingsDB/headLength`` bytes — at least as long as what was
    /// scanned, and the same first bytes either way. Nil for streams or nothing matching.
    private func renamed(_ id: SourceIdentity) throws(SQLiteError) -> (id: Int64, path: String)? {
        guard !id.isStream else { return nil }
        let q = try connection.prepare(
            """
            SELECT id, path, head_hash, head_len, bytes_scanned, compressed FROM sources
            WHERE path != ?2 AND ((inode = ?1 AND head_len >= ?3) OR (head_len = ?4 AND head_hash = ?5))
            ORDER BY (inode IS ?1) DESC, id DESC LIMIT 1
            """)
        q.bind(1, id.inode.map { Int64(bitPattern: $0) })
        q.bind(2, id.path)
        q.bind(3, Self.renameMinimumHead)
        q.bind(4, Self.headLength)
        q.bind(5, id.head.count >= Self.headLength ? hasher(Array(id.head.prefix(Self.headLength))) : nil)
        guard try q.step(), let path = q.string(1) else { return nil }
        let headLen = Int(q.int(3))
        let compressed = q.int(5) != 0
        guard headLen <= id.head.count, q.string(2) == hasher(Array(id.head.prefix(headLen))),
            compressed == id.looksGzip, compressed || (id.size ?? 0) >= UInt64(q.int(4))
        else { return nil }
        return (q.int(0), path)
    }

    /// The last bytes before `offset` (up to ``tailLength``), read from the file; empty when there is no reader.
    static func window(_ id: SourceIdentity, endingAt offset: UInt64) -> [UInt8] {
        guard let read = id.bytesAt, offset > 0 else { return [] }
        let count = Int(min(offset, UInt64(tailLength)))
        let bytes = read(offset - UInt64(count), count)
        return bytes.count == count ? bytes : []
    }

    private func newSource(_ id: SourceIdentity, runID: Int64, policy: String?) throws(SQLiteError) -> Int64 {
        let s = try connection.prepare(
            """
            INSERT INTO sources (path, size, mtime, inode, head_hash, head_len, compressed, first_run_id, last_run_id,
                                 policy)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)
            """)
        s.bind(9, policy)
        s.bind(1, id.path)
        s.bind(2, id.size.map { Int64(clamping: $0) })
        s.bind(3, id.mtime)
        s.bind(4, id.inode.map { Int64(bitPattern: $0) })
        s.bind(5, id.isStream ? nil : hasher(id.head))
        s.bind(6, id.isStream ? nil : id.head.count)
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
        // The near misses taken off with the rows (their closest and farthest stay: a bound, not a count).
        let near = Rollup.nearMissSQL(cause: "s.cause", logTime: "s.log_time", exp: "t.exp", nbf: "t.nbf")
        try connection.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS affected_tokens (id INTEGER PRIMARY KEY);
            DELETE FROM affected_tokens;
            INSERT OR IGNORE INTO affected_tokens
                SELECT token_id FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o);
            CREATE TEMP TABLE IF NOT EXISTS affected_minutes (m INTEGER PRIMARY KEY);
            DELETE FROM affected_minutes;
            INSERT OR IGNORE INTO affected_minutes
                SELECT \(Rollup.minuteSQL("log_time")) FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o);
            UPDATE tokens SET sightings = sightings - (
                SELECT count(*) FROM sightings s WHERE s.token_id = tokens.id AND s.source_id = \(source) AND s.byte_offset >= \(o))
            WHERE id IN (SELECT id FROM affected_tokens);
            UPDATE sighting_rollup SET n = n - d.c, refused = refused - d.r, near = near - d.nr
            FROM (SELECT s.token_id, s.cause,
                         \(StatusClass.sql(status: "s.status")) AS sc,
                         \(Rollup.minuteSQL("s.log_time")) AS m, count(*) AS c, sum(s.line_error IS NOT NULL) AS r,
                         sum(CASE WHEN \(near.expired) THEN 1 WHEN \(near.early) THEN 1 ELSE 0 END) AS nr
                  FROM sightings s JOIN tokens t ON t.id = s.token_id
                  WHERE s.source_id = \(source) AND s.byte_offset >= \(o) GROUP BY 1, 2, 3, 4) AS d
            WHERE sighting_rollup.token_id = d.token_id AND sighting_rollup.source_id = \(source)
              AND sighting_rollup.cause = d.cause AND sighting_rollup.status_class = d.sc AND sighting_rollup.minute = d.m;
            DELETE FROM sighting_rollup WHERE source_id = \(source) AND n <= 0;
            \(Self.recountTotalsSQL(source: source))
            DELETE FROM sightings WHERE source_id = \(source) AND byte_offset >= \(o);
            DELETE FROM log_errors WHERE source_id = \(source) AND byte_offset >= \(o);
            DELETE FROM tokens WHERE id IN (SELECT id FROM affected_tokens) AND sightings <= 0
                AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.token_id = tokens.id)
                AND NOT EXISTS (SELECT 1 FROM log_errors e WHERE e.token_id = tokens.id);
            """)
    }
}
