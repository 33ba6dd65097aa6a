import FindingsStore
import SiftCore

/// Why a report could not be made.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds a ``Report`` from the findings database. Every aggregation is one SQL query over the filtered
/// sightings; Swift only shapes the (small) results.
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
    private var bucket: (first: Double, size: Double)? { state.bucket }
    /// The filter, bound as ?1…?4 in every query.
    private let params: [SQLValue]

    public init(path: String, filter: ReportFilter) throws(ReportError) {
        self.path = path
        self.filter = filter
        do {
            db = try Connection(path: path, readOnly: true, create: false)
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

    /// Two passes over `sighting_rollup` (the sightings counted per token, source, cause, status class and minute
    /// by the writer): `f`, the filtered rows per token, source, cause and status class (2: 2xx, 4: 401/403, 0:
    /// other or none) with their token's and source's columns, counts, first and last times, error-message lines
    /// and near misses; and `fb`, counts per timeline bucket, cause and issuer. Every section is one query over
    /// these. `--since`/`--until` select whole minutes.
    static let aggregate = """
        CREATE TEMP TABLE f AS
        SELECT r.token_id, r.source_id, r.cause, r.status_class AS sc,
               sum(r.n) AS n, min(r.first) AS first, max(r.last) AS last, sum(r.refused) AS nl,
               sum(r.near) AS near, min(r.near_min) AS near_min, max(r.near_max) AS near_max,
               \(Cause.failureSQL("r.cause")) AS failed,
               t.iss, t.kid, t.alg, t.exp, t.nbf, t.iat, t.sub_hash, t.fingerprint, t.signature, src.path
        FROM sighting_rollup r
        JOIN tokens t ON t.id = r.token_id
        JOIN sources src ON src.id = r.source_id
        WHERE (?1 IS NULL OR r.minute >= CAST(?1 / 60 AS INTEGER)) AND (?2 IS NULL OR (r.minute >= 0 AND r.minute * 60 < ?2))
          AND (?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)
        GROUP BY r.token_id, r.source_id, r.cause, r.status_class
        """

    /// The same rows counted per timeline bucket, cause and issuer (timeline and rotation steps).
    static let buckets = """
        CREATE TEMP TABLE fb AS
        SELECT CAST((r.minute * 60 - ?5) / ?6 AS INTEGER) AS b, r.cause, coalesce(t.iss, '(none)') AS iss, sum(r.n) AS n,
               \(Cause.failureSQL("r.cause")) AS failed
        FROM sighting_rollup r
        JOIN tokens t ON t.id = r.token_id
        JOIN sources src ON src.id = r.source_id
        WHERE r.minute >= 0 AND (?1 IS NULL OR r.minute >= CAST(?1 / 60 AS INTEGER)) AND (?2 IS NULL OR r.minute * 60 < ?2)
          AND (?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)
        GROUP BY 1, 2, 3
        """

    /// Runs `sql` (which may use the `f` CTE and ?1…?4, and ?5… for `extra`).
    func query(_ sql: String, _ extra: [SQLValue] = []) throws(ReportError) -> [[SQLValue]] {
        do {
            let s = try db.prepare(sql)
            let count = Int(s.parameterCount)
            for (i, v) in (params + extra).enumerated() where i < count { s.bind(Int32(i + 1), value: v) }
            return try s.values()
        } catch {
            throw ReportError("\(path): \(error)")
        }
    }

    /// The timeline's bucket size and first bucket start, from the window.
    func window() throws(ReportError) -> (start: Double, end: Double, size: Double, first: Double)? {
        let r = try query(
            """
            SELECT min(first), max(last) FROM sighting_rollup
            WHERE minute >= 0 AND (?1 IS NULL OR last >= ?1) AND (?2 IS NULL OR first < ?2)
            """)[0]
        guard let a = filter.since ?? r[0].double, let b = filter.until ?? r[1].double, b >= a else { return nil }
        let size = Self.bucketSize(max(1, b - a))
        return (a, b, size, (a / size).rounded(.down) * size)
    }

    public func build(now: Double) throws(ReportError) -> Report {
        let w = try window()
        do {
            try db.execute("DROP TABLE IF EXISTS temp.f; DROP TABLE IF EXISTS temp.fb; DROP TABLE IF EXISTS temp.fs")
        } catch {
            throw ReportError("\(path): \(error)")
        }
        _ = try query(Self.aggregate)
        _ = try query(Self.buckets, [.real(w?.first ?? 0), .real(w?.size ?? 60)])
        _ = try query(Self.firstSightingsTable)
        do {
            try db.execute("CREATE INDEX temp.f_token ON f(token_id)")
        } catch {
            throw ReportError("\(path): \(error)")
        }
        state.bucket = w.map { ($0.first, $0.size) }
        let overview = try makeOverview()
        var sections: [Section] = []
        sections.append(try byCause(overview))
        sections.append(try byIssuer())
        sections.append(try byKid())
        sections.append(try bySource())
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

    // MARK: - Overview

    func makeOverview() throws(ReportError) -> Overview {
        var o = Overview()
        let r = try query(
            """
            SELECT coalesce(sum(n), 0), count(DISTINCT token_id), coalesce(sum(failed * n), 0),
                   coalesce(sum((cause = 'unverified') * n), 0), min(first), max(last)
            FROM f
            """)[0]
        o.sightings = r[0].int ?? 0
        o.distinctTokens = r[1].int ?? 0
        o.failures = r[2].int ?? 0
        o.unverified = r[3].int ?? 0
        o.windowStart = filter.since ?? r[4].double
        o.windowEnd = filter.until ?? r[5].double
        let s = try query(
            """
            SELECT count(*), coalesce(sum(lines_scanned), 0), coalesce(sum(bytes_scanned), 0) FROM sources
            WHERE ?4 IS NULL OR path GLOB ?4
            """)[0]
        o.sources = Int(s[0].int ?? 0)
        o.lines = s[1].int ?? 0
        o.bytes = s[2].int ?? 0
        o.logErrors =
            try query(
                """
                SELECT count(*) FROM log_errors e JOIN sources src ON src.id = e.source_id
                WHERE (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2) AND (?4 IS NULL OR src.path GLOB ?4)
                """)[0][0].int ?? 0
        o.runs = Int(try query("SELECT count(*) FROM runs")[0][0].int ?? 0)
        o.sentences = try leadingCauseSentences(o)
        return o
    }

    /// One plain sentence per leading cause (up to four), with what it usually means.
    func leadingCauseSentences(_ o: Overview) throws(ReportError) -> [String] {
        guard o.failures > 0 else {
            return o.sightings == 0 ? ["No token sightings in this window."] : ["No failed token in this window."]
        }
        let rows = try query(
            """
            SELECT cause, sum(n) AS total, count(DISTINCT token_id), sum(CASE WHEN cause = \(Cause.expired.sqlLiteral) THEN near ELSE 0 END),
                   group_concat(DISTINCT kid)
            FROM f WHERE failed GROUP BY cause ORDER BY total DESC, 1, 2 LIMIT 4
            """)
        return rows.map { r in
            let cause = r[0].string ?? "?"
            let n = Double(r[1].int ?? 0)
            let share = NumberText.shortPercent(n / Double(o.failures))
            let kids = (r[4].string ?? "").split(separator: ",").prefix(3).joined(separator: ", ")
            guard let word = Cause(rawValue: cause) else { return "\(share) of failures are \(cause)." }
            return Self.sentence(
                for: word, share: share, nearShare: NumberText.shortPercent(Double(r[3].int ?? 0) / Double(o.failures)),
                mostlyNear: Double(r[3].int ?? 0) >= n / 2, kids: kids)
        }
    }

    // MARK: - Breakdowns

    func byCause(_ o: Overview) throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM f GROUP BY cause ORDER BY total DESC, 1, 2
            """)
        var table = Table(
            id: "by_cause", title: "Token sightings by cause",
            columns: [
                .init("cause", .text), .init("sightings", .int), .init("share", .share), .init("tokens", .int),
                .init("first_seen", .time), .init("last_seen", .time),
            ])
        for r in rows {
            let n = r[1].int ?? 0
            table.rows.append([
                cell(r[0]), .int(n), .share(o.sightings > 0 ? Double(n) / Double(o.sightings) : 0),
                cell(r[2]), time(r[3]), time(r[4]),
            ])
        }
        let bars = rows.filter { ($0[0].string).flatMap(Cause.init(rawValue:))?.isFailure ?? true }
            .map { (label: $0[0].string ?? "?", value: $0[1].double ?? 0) }
        return Section(
            id: "by_cause", title: "By cause", notes: o.sentences, tables: [table],
            charts: bars.isEmpty ? [] : [.bars(title: "Failures by cause", items: bars)])
    }

    func byIssuer() throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT coalesce(iss, '(none)'), cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM f WHERE failed GROUP BY iss, cause ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit * 5))])
        let table = Table(
            id: "by_issuer", title: "Failures by issuer and cause",
            columns: [
                .init("iss", .text), .init("cause", .text), .init("sightings", .int), .init("tokens", .int),
                .init("first_seen", .time), .init("last_seen", .time),
            ],
            rows: rows.map { [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), time($0[4]), time($0[5])] })
        return Section(id: "by_issuer", title: "By issuer", tables: [table])
    }

    func byKid() throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT coalesce(f.kid, '(none)'), coalesce(f.alg, '?'),
                   CASE WHEN f.kid IS NULL THEN '-' WHEN k.current > 0 THEN 'current' WHEN k.retired > 0 THEN 'retired' ELSE 'unknown' END,
                   f.cause, sum(f.n) AS total, count(DISTINCT f.token_id), min(f.first), max(f.last)
            FROM f LEFT JOIN (SELECT kid, sum(NOT retired) AS current, sum(retired) AS retired FROM keys GROUP BY kid) k
                ON k.kid = f.kid
            GROUP BY f.kid, f.alg, f.cause ORDER BY f.kid, total DESC, 4, 2
            """)
        let table = Table(
            id: "by_kid",
            title: "Sightings by key ID, algorithm and cause (key: current, retired or unknown to the keys given)",
            columns: [
                .init("kid", .text), .init("alg", .text), .init("key", .text), .init("cause", .text),
                .init("sightings", .int), .init("tokens", .int), .init("first_seen", .time), .init("last_seen", .time),
            ],
            rows: rows.map {
                [
                    cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4]), cell($0[5]), time($0[6]),
                    time($0[7]),
                ]
            })
        return Section(id: "by_kid", title: "By key ID", tables: [table])
    }

    func bySource() throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT path, cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM f GROUP BY source_id, cause ORDER BY path, total DESC, 2
            """)
        let table = Table(
            id: "by_source", title: "Sightings by source and cause",
            columns: [
                .init("source", .text), .init("cause", .text), .init("sightings", .int), .init("tokens", .int),
                .init("first_seen", .time), .init("last_seen", .time),
            ],
            rows: rows.map { [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), time($0[4]), time($0[5])] })
        return Section(id: "by_source", title: "By source", tables: [table])
    }

    // MARK: - Clock drift

    /// Skew at each token's first sighting in each source: iat − log time. Later sightings only measure the
    /// token's age; the first one measures issuance-to-use delay plus any clock offset.
    static let firstSightings = """
        WITH first AS (SELECT * FROM temp.fs)
        """

    /// The first sighting of each token in each source, made once for the drift tables.
    static let firstSightingsTable = """
        CREATE TEMP TABLE fs AS
        SELECT f.token_id, f.source_id, f.path, coalesce(f.iss, '(none)') AS iss, f.iat - min(f.first) AS skew
        FROM f WHERE f.iat IS NOT NULL AND f.first IS NOT NULL GROUP BY f.token_id, f.source_id
        """

    func skewDistribution(by key: String, id: String, title: String) throws(ReportError) -> Table {
        let rows = try query(
            Self.firstSightings + """
                , ranked AS (
                    SELECT \(key) AS k, skew, row_number() OVER (PARTITION BY \(key) ORDER BY skew) AS r,
                           count(*) OVER (PARTITION BY \(key)) AS n
                    FROM first
                )
                SELECT k, n, min(skew), max(CASE WHEN r = (n + 1) / 2 THEN skew END),
                       max(CASE WHEN r = max(1, CAST(round(n * 0.95) AS INTEGER)) THEN skew END), max(skew),
                       sum(abs(skew) < 1), sum(abs(skew) >= 1 AND abs(skew) < 5), sum(abs(skew) >= 5 AND abs(skew) < 30),
                       sum(abs(skew) >= 30 AND abs(skew) < 120), sum(abs(skew) >= 120 AND abs(skew) < 600), sum(abs(skew) >= 600)
                FROM ranked GROUP BY k ORDER BY n DESC, k
                """)
        return Table(
            id: id, title: title,
            columns: [
                .init(key == "iss" ? "iss" : "source", .text), .init("tokens", .int), .init("min", .seconds),
                .init("median", .seconds), .init("p95", .seconds), .init("max", .seconds),
                .init("lt_1s", .int), .init("1_5s", .int), .init("5_30s", .int), .init("30s_2min", .int),
                .init("2_10min", .int), .init("gt_10min", .int),
            ],
            rows: rows.map { r in
                [cell(r[0]), cell(r[1]), secs(r[2]), secs(r[3]), secs(r[4]), secs(r[5])] + r[6...11].map { cell($0) }
            })
    }

    func clockDrift() throws(ReportError) -> Section {
        var notes = [
            "Skew = iat − log time at each token's first sighting in each source (negative: used after it was issued). A positive skew means the token was logged before it was issued: the issuer's clock is ahead of the logging host's."
        ]
        let perIssuer = try skewDistribution(
            by: "iss", id: "drift_by_issuer", title: "Skew at first sighting, by issuer")
        let perSource = try skewDistribution(
            by: "path", id: "drift_by_source", title: "Skew at first sighting, by source")

        // The fastest first use bounds the offset: log − iat can't be below 0 when clocks agree.
        let offsets = try query(
            Self.firstSightings + """
                SELECT iss, count(*), max(skew), sum(skew > 0) FROM first GROUP BY iss ORDER BY count(*) DESC, iss
                """)
        var offsetTable = Table(
            id: "clock_offset",
            title: "Estimated issuer clock offset (from the smallest delay between iat and first use)",
            columns: [
                .init("iss", .text), .init("first_sightings", .int), .init("estimate", .seconds),
                .init("confidence", .text), .init("reading", .text),
            ])
        for r in offsets {
            let n = r[1].int ?? 0
            let est = r[2].double ?? 0
            let ahead = r[3].int ?? 0
            let confidence = n >= 100 ? "high" : n >= 20 ? "medium" : "low"
            let reading: String
            if est > 1 {
                reading = "issuer clock ahead by at least \(Self.words(est)) (\(ahead) tokens logged before their iat)"
            } else if est >= -5 {
                reading = "no sign of an offset (fastest first use \(Self.words(-est)) after issue)"
            } else {
                reading =
                    "no token seen within \(Self.words(-est)) of issue: offset unknown (issuer behind, or tokens cached before use)"
            }
            offsetTable.rows.append([cell(r[0]), .int(n), .seconds(est), .text(confidence), .text(reading)])
            if est > 1 && confidence != "low" {
                notes.append(
                    "\(r[0].string ?? "?"): the issuer's clock looks \(Self.words(est)) ahead (\(confidence) confidence, \(n) first sightings)."
                )
            }
        }

        let near = try query(
            """
            SELECT coalesce(iss, '(none)'), cause, sum(near) AS total, min(near_min), max(near_max)
            FROM f WHERE near > 0
            GROUP BY iss, cause ORDER BY total DESC, 1, 2
            """)
        let nearTable = Table(
            id: "near_misses", title: "Near misses: expired or not yet valid by less than \(Rollup.nearMissWords)",
            columns: [
                .init("iss", .text), .init("cause", .text), .init("sightings", .int), .init("closest", .seconds),
                .init("farthest", .seconds),
            ],
            rows: near.map { [cell($0[0]), cell($0[1]), cell($0[2]), secs($0[3]), secs($0[4])] })

        let fromMessages = try query(
            """
            SELECT e.emitter, count(*),
                   min(coalesce(json_extract(e.details, '$.skew_seconds'), json_extract(e.details, '$.delta_seconds'))),
                   avg(coalesce(json_extract(e.details, '$.skew_seconds'), json_extract(e.details, '$.delta_seconds'))),
                   max(coalesce(json_extract(e.details, '$.skew_seconds'), json_extract(e.details, '$.delta_seconds')))
            FROM log_errors e JOIN sources src ON src.id = e.source_id
            WHERE coalesce(json_extract(e.details, '$.skew_seconds'), json_extract(e.details, '$.delta_seconds')) IS NOT NULL
              AND (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2) AND (?4 IS NULL OR src.path GLOB ?4)
            GROUP BY e.emitter ORDER BY count(*) DESC, e.emitter
            """)
        let messageTable = Table(
            id: "drift_from_messages",
            title:
                "Time differences quoted by error messages (jjwt, Spring, IdentityModel…): message time − token time",
            columns: [
                .init("emitter", .text), .init("messages", .int), .init("min", .seconds), .init("mean", .seconds),
                .init("max", .seconds),
            ],
            rows: fromMessages.map { [cell($0[0]), cell($0[1]), secs($0[2]), secs($0[3]), secs($0[4])] })

        let histogram = try query(
            Self.firstSightings + """
                SELECT sum(abs(skew) < 1), sum(abs(skew) >= 1 AND abs(skew) < 5), sum(abs(skew) >= 5 AND abs(skew) < 30),
                       sum(abs(skew) >= 30 AND abs(skew) < 120), sum(abs(skew) >= 120 AND abs(skew) < 600), sum(abs(skew) >= 600)
                FROM first
                """)[0]
        let labels = ["< 1 s", "1–5 s", "5–30 s", "30 s–2 min", "2–10 min", "> 10 min"]
        let items = zip(labels, histogram).map { (label: $0, value: $1.double ?? 0) }
        return Section(
            id: "clock_drift", title: "Clock drift", notes: notes,
            tables: [perIssuer, perSource, offsetTable, nearTable, messageTable],
            charts: [.histogram(title: "|skew| at first sighting", items: items)])
    }

    // MARK: - Timeline

    /// A bucket size that cuts the window into at most 48 buckets.
    static func bucketSize(_ span: Double) -> Double {
        let sizes: [Double] = [60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800]
        for size in sizes where span / size <= 48 { return size }
        return 30 * 86_400
    }

    func timeline(_ o: Overview) throws(ReportError) -> Section {
        guard let (first, size) = bucket, let end = o.windowEnd else {
            return Section(id: "timeline", title: "Timeline", notes: ["No timed sightings."])
        }
        let buckets = Int(((end - first) / size).rounded(.down)) + 1
        let rows = try query(
            """
            SELECT b, cause, sum(n) FROM fb WHERE failed GROUP BY b, cause ORDER BY b, cause
            """)
        var series: [String: [Int]] = [:]
        var table = Table(
            id: "timeline", title: "Failures per \(Self.words(size)) bucket and cause",
            columns: [.init("bucket_start", .time), .init("cause", .text), .init("sightings", .int)])
        for r in rows {
            let b = Int(r[0].int ?? 0)
            let cause = r[1].string ?? "?"
            guard b >= 0 && b < buckets else { continue }
            series[cause, default: [Int](repeating: 0, count: buckets)][b] += Int(r[2].int ?? 0)
            table.rows.append([.time(first + Double(b) * size), .text(cause), cell(r[2])])
        }
        // Largest first; ties by name, so the output does not depend on dictionary order.
        var totals: [(cause: String, total: Int)] = []
        for (cause, counts) in series { totals.append((cause, counts.reduce(0, +))) }
        totals.sort { a, b in a.total != b.total ? a.total > b.total : a.cause < b.cause }
        let ordered: [(cause: String, counts: [Int])] = totals.map { t in
            (cause: t.cause, counts: series[t.cause] ?? [])
        }
        return Section(
            id: "timeline", title: "Timeline", tables: [table],
            charts: ordered.isEmpty
                ? []
                : [
                    .timeline(
                        title: "Failures over time", start: first, bucket: size, buckets: buckets, series: ordered)
                ])
    }

    // MARK: - Key rotation

    func keyRotation(_ o: Overview) throws(ReportError) -> Section {
        var notes: [String] = []
        let kids = try query(
            """
            SELECT coalesce(f.iss, '(none)'), coalesce(f.kid, '(none)'),
                   CASE WHEN f.kid IS NULL THEN '-' WHEN k.current > 0 THEN 'current' WHEN k.retired > 0 THEN 'retired' ELSE 'unknown' END,
                   sum((f.cause = \(Cause.ok.sqlLiteral)) * f.n), min(CASE WHEN f.cause = \(Cause.ok.sqlLiteral) THEN f.first END), max(CASE WHEN f.cause = \(Cause.ok.sqlLiteral) THEN f.last END),
                   sum(f.failed * f.n), min(CASE WHEN f.failed THEN f.first END), max(CASE WHEN f.failed THEN f.last END),
                   sum((f.cause IN ('key_unknown', 'signature_invalid')) * f.n)
            FROM f LEFT JOIN (SELECT kid, sum(NOT retired) AS current, sum(retired) AS retired FROM keys GROUP BY kid) k
                ON k.kid = f.kid
            GROUP BY f.iss, f.kid ORDER BY f.iss, min(f.first), 2
            """)
        var table = Table(
            id: "kid_lifecycle",
            title: "Each kid's first and last sighting among successes and among failures, per issuer",
            columns: [
                .init("iss", .text), .init("kid", .text), .init("key", .text), .init("ok", .int),
                .init("ok_first", .time), .init("ok_last", .time), .init("failures", .int),
                .init("failed_first", .time), .init("failed_last", .time), .init("reading", .text),
            ])
        for r in kids {
            let ok = r[3].int ?? 0
            let failed = r[6].int ?? 0
            let keyFailures = r[9].int ?? 0
            let state = r[2].string ?? ""
            var reading = ""
            if failed > 0 && keyFailures > 0 {
                if state == "unknown" && ok == 0 {
                    reading = "new kid failing: verifiers without this key (stale JWKS cache?)"
                } else if state == "retired" {
                    reading = "old kid still in use after the rotation"
                } else if ok > 0, let okLast = r[5].double, let failFirst = r[7].double, failFirst > okLast {
                    reading = "kid verified, then failed: the key changed under it"
                } else {
                    reading = "kid fails with key errors"
                }
                notes.append(
                    "\(r[0].string ?? "?") kid \(r[1].string ?? "?"): \(reading) (\(keyFailures) key failures).")
            }
            table.rows.append([
                cell(r[0]), cell(r[1]), cell(r[2]), .int(ok), time(r[4]), time(r[5]), .int(failed),
                time(r[7]), time(r[8]), reading.isEmpty ? .null : .text(reading),
            ])
        }

        // Step changes: a bucket where key failures jump to ≥ 5 and ≥ 3× the mean of the 3 buckets before.
        var steps = Table(
            id: "rotation_steps",
            title: "Step changes in signature_invalid / key_unknown per issuer (likely rotations)",
            columns: [
                .init("iss", .text), .init("bucket_start", .time), .init("key_failures", .int),
                .init("before", .number), .init("key_fetch_failed_errors", .int),
            ])
        if let (first, size) = bucket {
            let counts = try query(
                """
                SELECT iss, b, sum(n)
                FROM fb WHERE cause IN ('key_unknown', 'signature_invalid')
                GROUP BY iss, b ORDER BY iss, b
                """)
            let fetch = try query(
                """
                SELECT CAST((e.log_time - ?5) / ?6 AS INTEGER) AS b, count(*)
                FROM log_errors e JOIN sources src ON src.id = e.source_id
                WHERE e.cause = 'key_fetch_failed' AND e.log_time IS NOT NULL
                  AND (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2) AND (?4 IS NULL OR src.path GLOB ?4)
                GROUP BY b
                """, [.real(first), .real(size)])
            var fetchBy: [Int64: Int64] = [:]
            for r in fetch { fetchBy[r[0].int ?? 0] = r[1].int ?? 0 }
            var byIssuer: [String: [Int64: Int64]] = [:]
            for r in counts { byIssuer[r[0].string ?? "?", default: [:]][r[1].int ?? 0] = r[2].int ?? 0 }
            for (iss, series) in byIssuer.sorted(by: { $0.key < $1.key }) {
                // A step needs history before it: the window's first three buckets can't show one.
                for (b, n) in series.sorted(by: { $0.key < $1.key }) where b >= 3 {
                    let before = (1...3).map { Double(series[b - Int64($0)] ?? 0) }.reduce(0, +) / 3
                    guard n >= 5, Double(n) >= 3 * max(before, 0.34) else { continue }
                    let fetchNear = (b - 1...b + 1).map { fetchBy[$0] ?? 0 }.reduce(0, +)
                    steps.rows.append([
                        .text(iss), .time(first + Double(b) * size), .int(n), .number(before), .int(fetchNear),
                    ])
                    notes.append(
                        "\(iss): key failures jump to \(n) in the \(Self.words(size)) from \(Self.iso(first + Double(b) * size))\(fetchNear > 0 ? ", beside \(fetchNear) key_fetch_failed errors (the verifier could not fetch the new keys)" : ""): likely a key rotation."
                    )
                }
            }
        }
        return Section(id: "key_rotation", title: "Key rotation", notes: notes, tables: [table, steps])
    }

    // MARK: - Disagreements, paths, leaks, offenders

    func disagreements() throws(ReportError) -> Section {
        let saidNo = try query(
            """
            SELECT path, sum(CASE WHEN sc = 4 THEN n ELSE nl END) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM f WHERE cause = \(Cause.ok.sqlLiteral) AND (sc = 4 OR nl > 0)
            GROUP BY source_id ORDER BY total DESC, 1, 2
            """)
        let saidYes = try query(
            """
            SELECT path, cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM f WHERE failed AND sc = 2
            GROUP BY source_id, cause ORDER BY total DESC, 1, 2
            """)
        var notes: [String] = []
        let yes = saidYes.reduce(0) { $0 + ($1[2].int ?? 0) }
        let no = saidNo.reduce(0) { $0 + ($1[1].int ?? 0) }
        if yes > 0 {
            notes.append(
                "SECURITY: \(yes) sightings were answered 2xx although the token fails verification at that time: a service accepted invalid, expired or forged tokens."
            )
        }
        if no > 0 {
            notes.append(
                "\(no) sightings were refused (401/403 or an error message) although the token verifies with the given keys at that time: stale key caches or skewed clocks at the verifier."
            )
        }
        if yes == 0 && no == 0 { notes.append("The services' answers agree with jwtsift's verdicts.") }
        return Section(
            id: "disagreements", title: "Disagreements", notes: notes,
            tables: [
                Table(
                    id: "refused_but_valid", title: "The service said no, the token verifies",
                    columns: [
                        .init("source", .text), .init("sightings", .int), .init("tokens", .int),
                        .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: saidNo.map { [cell($0[0]), cell($0[1]), cell($0[2]), time($0[3]), time($0[4])] }),
                Table(
                    id: "accepted_but_failing", title: "The service said yes (2xx), the token fails: security findings",
                    columns: [
                        .init("source", .text), .init("cause", .text), .init("sightings", .int), .init("tokens", .int),
                        .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: saidYes.map {
                        [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), time($0[4]), time($0[5])]
                    }),
            ])
    }

    func tokenPaths() throws(ReportError) -> Section {
        let rows = try query(
            """
            WITH multi AS (
                SELECT token_id FROM f GROUP BY token_id HAVING count(DISTINCT source_id) > 1
                ORDER BY count(DISTINCT source_id) DESC, sum(n) DESC, token_id LIMIT ?5
            )
            SELECT substr(f.fingerprint, 1, 12), f.path, min(f.first), f.cause,
                   group_concat(DISTINCT CASE f.sc WHEN 2 THEN '2xx' WHEN 4 THEN '401/403' ELSE 'other status' END), sum(f.n)
            FROM f JOIN multi m ON m.token_id = f.token_id
            GROUP BY f.token_id, f.source_id, f.cause ORDER BY f.fingerprint, min(f.first), 2, 4
            """, [.int(Int64(limit))])
        return Section(
            id: "token_paths", title: "Token paths",
            notes: [
                "Tokens seen in several sources (gateway → service), hop by hop in time order: where a token started to fail."
            ],
            tables: [
                Table(
                    id: "token_paths", title: "Tokens seen in more than one source",
                    columns: [
                        .init("token", .text), .init("source", .text), .init("first_seen", .time),
                        .init("cause", .text),
                        .init("statuses", .text), .init("sightings", .int),
                    ],
                    rows: rows.map { [cell($0[0]), cell($0[1]), time($0[2]), cell($0[3]), cell($0[4]), cell($0[5])] },
                    truncatedAt: limit)
            ])
    }

    func leakAudit() throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT path, count(DISTINCT token_id), count(DISTINCT CASE WHEN cause = \(Cause.ok.sqlLiteral) THEN token_id END),
                   count(DISTINCT CASE WHEN exp > first THEN token_id END)
            FROM f GROUP BY source_id ORDER BY 3 DESC, 4 DESC, 1
            """)
        var notes = [
            "Every bearer token written to a log in clear while still valid can be replayed by anyone who reads the log."
        ]
        let live = rows.reduce(0) { $0 + ($1[3].int ?? 0) }
        if live > 0 {
            notes.append(
                "\(live) tokens were logged before they expired; mask Authorization headers and token parameters in these sources."
            )
        }
        return Section(
            id: "leak_audit", title: "Leak audit", notes: notes,
            tables: [
                Table(
                    id: "leak_audit", title: "Tokens logged in clear, per source",
                    columns: [
                        .init("source", .text), .init("tokens", .int), .init("verified_valid_when_logged", .int),
                        .init("unexpired_when_logged", .int),
                    ],
                    rows: rows.map { [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3])] })
            ])
    }

    func topOffenders() throws(ReportError) -> Section {
        let tokens = try query(
            """
            SELECT substr(fingerprint, 1, 12), coalesce(iss, '(none)'), kid, sum(n) AS total,
                   (SELECT g.cause FROM f g WHERE g.token_id = f.token_id AND \(Cause.failureSQL("g.cause"))
                    GROUP BY g.cause ORDER BY sum(g.n) DESC, g.cause LIMIT 1),
                   count(DISTINCT source_id), min(first), max(last)
            FROM f WHERE failed GROUP BY token_id ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit))])
        let subjects = try query(
            """
            SELECT substr(sub_hash, 1, 12), sum(n) AS total, count(DISTINCT token_id), group_concat(DISTINCT cause),
                   min(first), max(last)
            FROM f WHERE failed AND sub_hash IS NOT NULL GROUP BY sub_hash ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit))])
        return Section(
            id: "top_offenders", title: "Top offenders",
            notes: [
                "Tokens by fingerprint prefix and subjects by the prefix of sub's SHA-256: never the token or the subject."
            ],
            tables: [
                Table(
                    id: "top_tokens", title: "Tokens with the most failed sightings",
                    columns: [
                        .init("token", .text), .init("iss", .text), .init("kid", .text), .init("failures", .int),
                        .init("main_cause", .text), .init("sources", .int), .init("first_seen", .time),
                        .init("last_seen", .time),
                    ],
                    rows: tokens.map {
                        [
                            cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4]), cell($0[5]), time($0[6]),
                            time($0[7]),
                        ]
                    },
                    truncatedAt: limit),
                Table(
                    id: "top_subjects", title: "Subjects (sub_hash) with the most failed sightings",
                    columns: [
                        .init("sub_hash", .text), .init("failures", .int), .init("tokens", .int),
                        .init("causes", .text),
                        .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: subjects.map {
                        [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), time($0[4]), time($0[5])]
                    },
                    truncatedAt: limit),
            ])
    }

    func errorMessages() throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT e.cause, e.emitter, count(*) AS n, min(e.log_time), max(e.log_time)
            FROM log_errors e JOIN sources src ON src.id = e.source_id
            WHERE (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2) AND (?4 IS NULL OR src.path GLOB ?4)
            GROUP BY e.cause, e.emitter ORDER BY n DESC, 1, 2
            """)
        return Section(
            id: "error_messages", title: "Verification error messages",
            tables: [
                Table(
                    id: "error_messages",
                    title: "Error messages in the logs, by cause and by the library that writes them",
                    columns: [
                        .init("cause", .text), .init("emitter", .text), .init("messages", .int),
                        .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: rows.map { [cell($0[0]), cell($0[1]), cell($0[2]), time($0[3]), time($0[4])] })
            ])
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
