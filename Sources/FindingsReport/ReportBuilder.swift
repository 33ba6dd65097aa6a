import FindingsStore
import SiftCore

/// Why a report could not be made.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds a ``Report`` from the findings database. Every aggregation is SQL over the filtered sightings (the
/// writer's `sighting_totals`, or the window's minutes of `sighting_rollup`, and `sighting_minutes`); Swift shapes the
/// (small) results, and walks the first sightings once, in SQL's order, for the clock-drift ranks.
public struct ReportBuilder {
    public let path: String
    public let filter: ReportFilter
    /// Rows kept in top-N tables.
    public var limit = 20
    /// What counts as a near miss: expired or not yet valid by less than this (counted by the writer).
    public let nearMiss = Rollup.nearMissSeconds

    let db: Connection
    /// What `build` learns before the sections: the timeline's first bucket start and bucket size.
    private final class State { var bucket: (first: Double, size: Double)? }
    private let state = State()
    var bucket: (first: Double, size: Double)? { state.bucket }
    /// The filter, bound as ?1…?4 in every query.
    private let params: [SQLValue]

    public init(path: String, filter: ReportFilter) throws(ReportError) {
        self.path = path
        self.filter = filter
        do {
            // Read-only, and immutable when nothing can be written beside the file (an archived database on a
            // read-only mount or directory, or a file the user may only read).
            db = try Connection.openForReading(path: path)
            let version = try db.userVersion
            guard version >= 1 else {
                throw ReportError("\(path): not a jwtsift findings database (run jwtsift scan --db \(path) first)")
            }
            guard version >= Schema.version else {
                throw ReportError(
                    "\(path): written by an older jwtsift (schema \(version)); run jwtsift scan --db \(path) once to migrate it, then report"
                )
            }
            guard version <= Schema.version else {
                throw ReportError("\(path): written by a newer jwtsift (schema \(version)); upgrade jwtsift")
            }
            db.busyTimeout(milliseconds: 10_000)
            // No `PRAGMA quick_check` here: it reads the whole file (1.8 s of a 3 s report on a 1 GB database).
            // `scan` and `merge` check the file before they write to it; a report checks every page it reads
            // (SQLite refuses a damaged one, and ``damage(_:)`` says so), and pages it does not read do not
            // change its numbers.
            // Sorts for the aggregates may use a second thread.
            try db.execute("PRAGMA threads = 2")
        } catch let e as ReportError {
            throw e
        } catch {
            throw ReportError("\(path): \(error)")
        }
        params = [
            filter.since.map { .real($0) } ?? .null, filter.until.map { .real($0) } ?? .null,
            filter.issuer.map { .text($0) } ?? .null, filter.sourceGlob.map { .text($0) } ?? .null,
        ]
    }

    /// `column` (a rollup minute) within `--since` (?1) and `--until` (?2), as one range a `minute` index serves
    /// (`?1 IS NULL OR …` would make SQLite read every row): whole minutes from the one holding `since` to the last
    /// one starting before `until`. Minutes of sightings without a time (negative) only when neither is given and
    /// `timedOnly` is false.
    /// Without a window the range covers every row, and reading them in table order beats going through the
    /// index (`+column` keeps SQLite off it): 1.9 s against 4 s for the full 10 M-sighting report's aggregate.
    static func minuteRange(_ column: String, timedOnly: Bool, windowed: Bool) -> String {
        let floor = timedOnly ? "0" : "CASE WHEN ?2 IS NULL THEN -9223372036854775808 ELSE 0 END"
        let c = windowed ? column : "+" + column
        return "\(c) >= coalesce(CAST(?1 / 60 AS INTEGER), \(floor)) AND \(c) < coalesce(?2 / 60.0, 9.0e18)"
    }

    /// Whether `--since` or `--until` narrows the report.
    var windowed: Bool { filter.since != nil || filter.until != nil }

    /// The temp table `f` every section reads: the filtered sightings per token, source, cause and status class (2:
    /// 2xx, 4: 401/403, 1: no status, 0: other) with their token's and source's columns, counts, first and last
    /// times, error-message lines and near misses, keyed (and so read) in that order. The token columns the
    /// sections group by are copied; the wide ones (fingerprint, sub_hash, sub) are joined where a section needs them.
    static let aggregateTable = """
        CREATE TEMP TABLE f (
            token_id, source_id, cause, sc, n, first, last, nl, near, near_min, near_max, failed,
            iss, kid, alg, exp, iat, path,
            PRIMARY KEY (token_id, source_id, cause, sc)
        ) WITHOUT ROWID
        """

    /// Fills `f`: over the whole database from `sighting_totals` (the writer's sums over minutes) as it stands;
    /// over `--since`/`--until` from the window's whole minutes of `sighting_rollup`, summed.
    static func aggregate(windowed: Bool) -> String {
        let columns = """
            t.iss, t.kid, t.alg, t.exp, t.iat, src.path
            """
        let filters = "(?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)"
        guard windowed else {
            return """
                INSERT INTO f
                SELECT r.token_id, r.source_id, r.cause, r.status_class,
                       r.n, r.first, r.last, r.refused, r.near, r.near_min, r.near_max,
                       \(Cause.failureSQL("r.cause")),
                       \(columns)
                FROM sighting_totals r
                JOIN tokens t ON t.id = r.token_id
                JOIN sources src ON src.id = r.source_id
                WHERE \(filters)
                ORDER BY r.token_id, r.source_id, r.cause, r.status_class
                """
        }
        // Summed first, then joined: one token and source lookup per row of `f`, not per minute, and a narrower sort.
        return """
            INSERT INTO f
            SELECT r.token_id, r.source_id, r.cause, r.sc, r.n, r.first, r.last, r.nl, r.near, r.near_min, r.near_max,
                   \(Cause.failureSQL("r.cause")),
                   \(columns)
            FROM (SELECT token_id, source_id, cause, status_class AS sc, sum(n) AS n, min(first) AS first,
                         max(last) AS last, sum(refused) AS nl, sum(near) AS near, min(near_min) AS near_min,
                         max(near_max) AS near_max
                  FROM sighting_rollup
                  WHERE \(minuteRange("minute", timedOnly: false, windowed: true))
                  GROUP BY token_id, source_id, cause, status_class) r
            JOIN tokens t ON t.id = r.token_id
            JOIN sources src ON src.id = r.source_id
            WHERE \(filters)
            """
    }

    /// `f` summed over status classes: one row per token, source and cause (the key of `f` less its last column, so
    /// filled in `f`'s order, without a sort). By source and cause, a row is a distinct token.
    static let perSourceCauseTable = """
        CREATE TEMP TABLE fsc (
            token_id, source_id, cause, n, first, last, near, near_min, near_max, failed, iss, kid, alg, exp, iat, path,
            PRIMARY KEY (token_id, source_id, cause)
        ) WITHOUT ROWID;
        INSERT INTO fsc
        SELECT token_id, source_id, cause, sum(n), min(first), max(last), sum(near), min(near_min), max(near_max),
               failed, iss, kid, alg, exp, iat, path
        FROM f GROUP BY token_id, source_id, cause;
        """

    /// `fsc` summed over sources: one row per token and cause, with the token columns sections group by, for the
    /// sections that count per token, cause, issuer or kid (a fraction of `f`'s rows to group).
    static let perTokenTable = """
        CREATE TEMP TABLE ft AS
        SELECT token_id, cause, sum(n) AS n, min(first) AS first, max(last) AS last, sum(near) AS near,
               min(near_min) AS near_min, max(near_max) AS near_max, failed, iss, kid, alg
        FROM fsc GROUP BY token_id, cause
        """

    /// The issuer of a `sighting_minutes` row as the report names it, and the `--issuer` filter (?3) on it.
    static let minuteIssuer = "CASE WHEN m.no_iss THEN '(none)' ELSE m.iss END"
    static let minuteIssuerFilter = "(?3 IS NULL OR (m.no_iss = 0 AND m.iss = ?3))"

    /// The same sightings counted per timeline bucket, cause and issuer (timeline and rotation steps), from
    /// `sighting_minutes` (the writer's sums over tokens): timed minutes only.
    static func buckets(windowed: Bool) -> String {
        """
        CREATE TEMP TABLE fb AS
        SELECT CAST((m.minute * 60 - ?5) / ?6 AS INTEGER) AS b, m.cause, \(minuteIssuer) AS iss, sum(m.n) AS n,
               \(Cause.failureSQL("m.cause")) AS failed
        FROM sighting_minutes m
        JOIN sources src ON src.id = m.source_id
        WHERE \(minuteRange("m.minute", timedOnly: true, windowed: windowed))
          AND \(minuteIssuerFilter) AND (?4 IS NULL OR src.path GLOB ?4)
        GROUP BY 1, 2, 3
        """
    }

    /// Runs `sql` (which may use the `f` CTE and ?1…?4, and ?5… for `extra`).
    func query(_ sql: String, _ extra: [SQLValue] = []) throws(ReportError) -> [[SQLValue]] {
        do {
            let s = try db.prepare(sql)
            let count = Int(s.parameterCount)
            for (i, v) in (params + extra).enumerated() where i < count { s.bind(Int32(i + 1), value: v) }
            return try s.values()
        } catch {
            throw damage(error) ?? ReportError("\(path): \(error)")
        }
    }

    /// Runs `sql` (parameters as in ``query(_:_:)``) and hands each row to `row` as it is read: for a result too
    /// large to hold as values.
    func forEachRow(_ sql: String, _ row: (Statement) -> Void) throws(ReportError) {
        do {
            let s = try db.prepare(sql)
            let count = Int(s.parameterCount)
            for (i, v) in params.enumerated() where i < count { s.bind(Int32(i + 1), value: v) }
            while try s.step() { row(s) }
        } catch {
            throw damage(error) ?? ReportError("\(path): \(error)")
        }
    }

    /// The message for a page SQLite found damaged while the report read it (SQLITE_CORRUPT, SQLITE_NOTADB).
    func damage(_ error: SQLiteError) -> ReportError? {
        let primary = error.code & 0xFF
        guard primary == 11 || primary == 26 else { return nil }
        return ReportError("\(path): the database fails its integrity check (\(error.message)); it may be damaged")
    }

    /// The timeline's bucket size and first bucket start, from the window.
    func window() throws(ReportError) -> (start: Double, end: Double, size: Double, first: Double)? {
        let r = try query(
            """
            SELECT min(first), max(last) FROM sighting_minutes
            WHERE \(Self.minuteRange("minute", timedOnly: true, windowed: windowed)) AND (?1 IS NULL OR last >= ?1) AND (?2 IS NULL OR first < ?2)
            """)[0]
        guard let a = filter.since ?? r[0].double, let b = filter.until ?? r[1].double, b >= a else { return nil }
        let size = Self.bucketSize(max(1, b - a))
        return (a, b, size, (a / size).rounded(.down) * size)
    }

    public func build(now: Double) throws(ReportError) -> Report {
        let w = try window()
        do {
            try db.execute(
                """
                DROP TABLE IF EXISTS temp.f; DROP TABLE IF EXISTS temp.fb; DROP TABLE IF EXISTS temp.fs;
                DROP TABLE IF EXISTS temp.ft; DROP TABLE IF EXISTS temp.fsc;
                """)
            try db.execute(Self.aggregateTable)
        } catch {
            throw ReportError("\(path): \(error)")
        }
        _ = try query(Self.aggregate(windowed: windowed))
        _ = try query(Self.buckets(windowed: windowed), [.real(w?.first ?? 0), .real(w?.size ?? 60)])
        do {
            try db.execute(Self.perSourceCauseTable)
            try db.execute(Self.firstSightingsTable)
        } catch {
            throw damage(error) ?? ReportError("\(path): \(error)")
        }
        _ = try query(Self.perTokenTable)
        state.bucket = w.map { ($0.first, $0.size) }
        let overview = try makeOverview()
        var sections: [Section] = []
        sections.append(try byCause(overview))
        sections.append(try byIssuer())
        sections.append(try byKid())
        sections.append(try bySource())
        sections.append(try byHost())
        sections.append(try clockDrift())
        sections.append(try timeline(overview))
        sections.append(try keyRotation(overview))
        sections.append(try disagreements())
        sections.append(try tokenPaths())
        sections.append(try leakAudit())
        sections.append(try topOffenders())
        sections.append(try errorMessages())
        return Report(generatedAt: now, database: path, filter: filter, overview: overview, sections: sections)
    }

    // MARK: - Helpers

    func cell(_ v: SQLValue) -> Cell {
        switch v {
        case .null: .null
        case .int(let i): .int(i)
        case .real(let d): .number(d)
        case .text(let s): .text(s)
        }
    }

    func time(_ v: SQLValue) -> Cell { v.double.map { .time($0) } ?? .null }
    func secs(_ v: SQLValue) -> Cell { v.double.map { .seconds($0) } ?? .null }

    /// "3 min 12 s".
    static func words(_ seconds: Double) -> String { Format.duration(seconds) }
    static func iso(_ t: Double) -> String { Format.time(t) }
}
