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
    /// A schema version no jwtsift writes (negative): not a findings database, or a damaged one.
    case badVersion(path: String, version: Int)
    /// A stop was requested (SIGINT/SIGTERM) while waiting for another run's lock.
    case interrupted(path: String, waited: Double)
    /// `PRAGMA quick_check` found damage.
    case damaged(path: String, problems: String)

    public var description: String {
        switch self {
        case .sqlite(let e): "database: \(e)"
        case .busy(let path, let waited):
            "\(path): another jwtsift run is writing to this database (waited \(Int(waited)) s; --lock-timeout to wait longer)"
        case .unusable(let path, let reason): "\(path): \(reason)"
        case .tooNew(let path, let version):
            "\(path): schema version \(version) is newer than this jwtsift understands (\(Schema.version)); upgrade jwtsift"
        case .badVersion(let path, let version):
            "\(path): schema version \(version) is not one jwtsift writes (0 to \(Schema.version)): not a findings database, or a damaged one"
        case .interrupted(let path, let waited):
            "\(path): stopped by a signal while waiting \(Int(waited)) s for another jwtsift run's lock; nothing was scanned"
        case .damaged(let path, let problems):
            "\(path): the database fails its integrity check (\(problems)); it may be damaged: nothing was written (restore it, or scan into a new --db)"
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
    let hasher: @Sendable ([UInt8]) -> String

    /// Bytes of a file's head hashed to recognise it after a rotation.
    public static let headLength = 4096
    /// Bytes just before where a run stopped, hashed to recognise a file rewritten in place past that point.
    public static let tailLength = 4096

    /// What opening changed that the user should hear of (a database file made private), for standard error.
    public private(set) var notices: [String] = []

    /// The mode of every findings file: the database and its `-wal`, `-shm` and `-journal` files (SQLite gives
    /// those the database file's mode when it creates them).
    public static let fileMode: mode_t = 0o600

    /// The statements the writer reuses, held together so that all of them are finalized before the connection
    /// closes (see `deinit`).
    struct Prepared {
        let insertSighting: Statement
        /// `sightingGroup` rows per INSERT.
        let insertSightings: Statement
        let insertError: Statement
        let upsertToken: Statement
        let upsertHost: Statement
        let updateProgress: Statement
        let upsertRollup: Statement
        /// `rollupGroup` rollup rows per upsert.
        let upsertRollups: Statement
        let upsertTotal: Statement
        /// `rollupGroup` totals rows per upsert.
        let upsertTotals: Statement
        let upsertMinute: Statement
        /// Adds a batch's counts to a token row this run already wrote.
        let addTokenCounts: Statement
        let addRunCounts: Statement
    }
    var statements: Prepared!
    public static let sightingGroup = 64
    /// Token ids this connection has written in this run, by fingerprint: later batches only add counts to
    /// them (one UPDATE by row id each) instead of an upsert per token. Bounded; cleared whenever
    /// rows are deleted or a transaction fails.
    /// Keyed by the digest (32 bytes inline), not its hex text. The bound is three quarters of a power of two, the
    /// most a Swift dictionary holds before doubling its table: 2¹⁸ buckets of 40 bytes (10 MiB), where 2¹⁸ entries
    /// took 2¹⁹ buckets (21 MiB, heaptrack).
    var knownTokens: [SHA256Digest: Int64] = [:]
    static let knownTokenLimit = (1 << 18) * 3 / 4
    /// Host ids by name, as ``knownTokens`` (`hosts` rows are never deleted).
    var knownHosts: [String: Int64] = [:]

    /// Opens or creates the database (mode 0600; an existing file readable or writable by others is made 0600,
    /// with its `-wal`/`-shm`/`-journal` files, and ``notices`` says so), takes the run lock (waiting up to
    /// `lockTimeout` seconds, looking at `shouldStop` every 20 ms), checks it (`PRAGMA quick_check`), sets WAL and
    /// migrates. `hasher` names a file's head (hex SHA-256).
    public init(
        path: String, lockTimeout: Double, shouldStop: (@Sendable () -> Bool)? = nil,
        onWaiting: (@Sendable (_ timeout: Double) -> Void)? = nil, hasher: @escaping @Sendable ([UInt8]) -> String
    ) throws(StoreError) {
        self.path = path
        self.hasher = hasher
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, Self.fileMode)
        guard fd >= 0 else {
            throw .unusable(path: path, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        let started = Self.monotonic()
        notices += Self.makePrivate(fd: fd, path: path)
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, waited < lockTimeout else {
                close(fd)
                throw .busy(path: path, waited: waited)
            }
            if shouldStop?() == true {
                close(fd)
                throw .interrupted(path: path, waited: waited)
            }
            usleep(20_000)
            let before = waited
            waited = Self.monotonic() - started
            // Said once, after a second: a run that waits in silence looks hung.
            if before < 1 && waited >= 1 { onWaiting?(lockTimeout) }
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
            guard version >= 0 else { throw StoreError.badVersion(path: path, version: version) }
            if let problems = try connection.quickCheck() {
                throw StoreError.damaged(path: path, problems: problems)
            }
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

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Makes the database file (open as `fd`) and the SQLite files beside it 0600 when they are open to others;
    /// what was changed, as notices.
    static func makePrivate(fd: Int32, path: String) -> [String] {
        var notices: [String] = []
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & 0o077 != 0, fchmod(fd, fileMode) == 0 {
            notices.append(
                "\(path): was mode \(String(st.st_mode & 0o777, radix: 8)), readable or writable by others; made 0600 (findings files are private)"
            )
        }
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = path + suffix
            if lstat(side, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0,
                chmod(side, fileMode) == 0
            {
                notices.append("\(side): was mode \(String(st.st_mode & 0o777, radix: 8)); made 0600")
            }
        }
        return notices
    }

    deinit {
        // Every statement is finalized before the connection closes (close_v2 would otherwise leave it open as a
        // zombie while the lock descriptor below is closed).
        statements = nil
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

    /// On empty row tables, drops their indexes for a merge; ``finishMerge()`` (or the next open) builds them.
    func deferIndexesIfEmpty() throws(SQLiteError) {
        let empty =
            try connection.scalar(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM sightings LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM log_errors LIMIT 1))"
            ) == 0
        guard empty else { return }
        for index in Schema.rowIndexes { try connection.execute("DROP INDEX IF EXISTS \(index.name)") }
    }

    /// The writer's connection settings (after `page_size` on a new file). Index builds at the end of a run may
    /// sort on a second thread. The WAL is checkpointed every 2,048 pages (32 MiB) by the writer as it commits,
    /// overlapping the scan: at 16,384 pages a 256 MB log left an 89 MB WAL (each batch rewrites the rollup's pages)
    /// for the close to copy back after the scan, on no one else's time.
    public static let connectionSettings = [
        "journal_mode = WAL", "synchronous = NORMAL", "temp_store = FILE", "cache_size = -16384",
        "wal_autocheckpoint = 2048", "threads = 2",
    ]

    /// The INSERT of `rows` sightings, 14 parameters each, in the order ``bindSighting`` binds them.
    public static func insertSightingsSQL(rows: Int) -> String {
        let columns =
            "(token_id, source_id, line, byte_offset, log_time, status, cause, causes, skew, run_id, time_source, truncation, line_error, host_id)"
        let placeholders = (0..<rows).map { r in
            "(" + (1...14).map { "?\(r * 14 + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
        return "INSERT INTO sightings \(columns) VALUES \(placeholders)"
    }

    /// Rollup (and totals) rows per multi-row upsert: one statement step for many rows, as `sightingGroup` for
    /// sightings (perf: a step per rollup row was a third of the writer's time on a log whose tokens are seen
    /// about once a minute each).
    public static let rollupGroup = 32

    /// The upsert of `rows` `sighting_rollup` rows: `?1` the source, then 11 parameters per row (token_id, cause,
    /// status_class, minute, n, first, last, refused, near, near_min, near_max). Rows of one key within the
    /// statement are summed as rows of two statements are.
    static func upsertRollupSQL(rows: Int) -> String {
        """
        INSERT INTO sighting_rollup (source_id, token_id, cause, status_class, minute, n, first, last, refused, near,
                                     near_min, near_max)
        VALUES \(groupPlaceholders(rows: rows, perRow: 11))
        ON CONFLICT (token_id, source_id, cause, status_class, minute) DO UPDATE SET \(summedCounts)
        """
    }

    /// The upsert of `rows` `sighting_totals` rows: `?1` the source, then 10 parameters per row (token_id, cause,
    /// status_class, n, first, last, refused, near, near_min, near_max).
    static func upsertTotalSQL(rows: Int) -> String {
        """
        INSERT INTO sighting_totals (source_id, token_id, cause, status_class, n, first, last, refused, near, near_min,
                                     near_max)
        VALUES \(groupPlaceholders(rows: rows, perRow: 10))
        ON CONFLICT (token_id, source_id, cause, status_class) DO UPDATE SET \(summedCounts)
        """
    }

    /// `(?1, ?2, …), (?1, ?k, …)`: every row starts with the shared `?1`, then its own `perRow` parameters.
    static func groupPlaceholders(rows: Int, perRow: Int) -> String {
        (0..<rows).map { r in
            "(?1, " + (1...perRow).map { "?\(1 + r * perRow + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
    }

    /// How a rollup row and a total that meet are combined: counts summed, the earliest first and the latest last
    /// times kept (a NULL side gives way).
    static let summedCounts = """
        n = n + excluded.n, refused = refused + excluded.refused, near = near + excluded.near,
        first = CASE WHEN first IS NULL OR excluded.first < first THEN coalesce(excluded.first, first) ELSE first END,
        last = CASE WHEN last IS NULL OR excluded.last > last THEN coalesce(excluded.last, last) ELSE last END,
        near_min = CASE WHEN near_min IS NULL OR excluded.near_min < near_min THEN coalesce(excluded.near_min, near_min) ELSE near_min END,
        near_max = CASE WHEN near_max IS NULL OR excluded.near_max > near_max THEN coalesce(excluded.near_max, near_max) ELSE near_max END
        """

    private func prepareStatements() throws(SQLiteError) {
        let insertSighting = try connection.prepare(Self.insertSightingsSQL(rows: 1))
        let insertSightings = try connection.prepare(Self.insertSightingsSQL(rows: Self.sightingGroup))
        let insertError = try connection.prepare(
            """
            INSERT INTO log_errors (source_id, line, byte_offset, log_time, status, cause, alternative_cause, rule, emitter,
                                    message, details, token_id, run_id, host_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """)
        let upsertHost = try connection.prepare(
            "INSERT INTO hosts (name) VALUES (?1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id")
        let upsertToken = try connection.prepare(
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
        // One UPDATE by row id per token (a temporary table of deltas and one UPDATE … FROM it did the same work
        // twice: an insert and then a look-up per token).
        let addTokenCounts = try connection.prepare(
            """
            UPDATE tokens SET
                sightings = sightings + ?2, ok_rolled = ok_rolled + ?3, last_run_id = ?6,
                first_seen = CASE WHEN first_seen IS NULL OR ?4 < first_seen THEN coalesce(?4, first_seen)
                                  ELSE first_seen END,
                last_seen = CASE WHEN last_seen IS NULL OR ?5 > last_seen THEN coalesce(?5, last_seen) ELSE last_seen END
            WHERE id = ?1
            """)
        let upsertRollup = try connection.prepare(Self.upsertRollupSQL(rows: 1))
        let upsertRollups = try connection.prepare(Self.upsertRollupSQL(rows: Self.rollupGroup))
        let upsertTotal = try connection.prepare(Self.upsertTotalSQL(rows: 1))
        let upsertTotals = try connection.prepare(Self.upsertTotalSQL(rows: Self.rollupGroup))
        let upsertMinute = try connection.prepare(
            """
            INSERT INTO sighting_minutes (minute, source_id, cause, no_iss, iss, n, first, last)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (minute, source_id, cause, no_iss, iss) DO UPDATE SET
                n = n + excluded.n,
                first = CASE WHEN first IS NULL OR excluded.first < first THEN coalesce(excluded.first, first) ELSE first END,
                last = CASE WHEN last IS NULL OR excluded.last > last THEN coalesce(excluded.last, last) ELSE last END
            """)
        let updateProgress = try connection.prepare(
            """
            UPDATE sources SET bytes_scanned = ?2, lines_scanned = ?3, resume_offset = ?4, resume_line = ?5,
                               completed = ?6, last_run_id = ?7, tail_hash = ?8, tail_len = ?9
            WHERE id = ?1
            """)
        let addRunCounts = try connection.prepare(
            """
            UPDATE runs SET sources = sources + ?2, bytes = bytes + ?3, lines = lines + ?4, sightings = sightings + ?5,
                            ok_rolled = ok_rolled + ?6, failures = failures + ?7, log_errors = log_errors + ?8
            WHERE id = ?1
            """)
        statements = Prepared(
            insertSighting: insertSighting, insertSightings: insertSightings, insertError: insertError,
            upsertToken: upsertToken, upsertHost: upsertHost, updateProgress: updateProgress,
            upsertRollup: upsertRollup, upsertRollups: upsertRollups, upsertTotal: upsertTotal,
            upsertTotals: upsertTotals, upsertMinute: upsertMinute,
            addTokenCounts: addTokenCounts, addRunCounts: addRunCounts)
    }
}
