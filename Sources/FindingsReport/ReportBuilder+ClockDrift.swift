import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Clock drift

    /// Skew at each token's first sighting in each source: iat − log time. Later sightings only measure the
    /// token's age; the first one measures issuance-to-use delay plus any clock offset.
    static let firstSightings = """
        WITH first AS (SELECT * FROM temp.fs WHERE timed)
        """

    /// One row per token and source (`fsc` by the first two columns of its key, so without a sort): the skew at
    /// the token's first sighting there (`timed`: it has an iat and a timed sighting), and for the leak audit and
    /// token paths, whether it was seen verified there, whether logged before it expired, and how often.
    static let firstSightingsTable = """
        CREATE TEMP TABLE fs (
            token_id, source_id, path, iss, skew, timed, ok, live, n, PRIMARY KEY (token_id, source_id)
        ) WITHOUT ROWID;
        INSERT INTO fs
        SELECT token_id, source_id, path, coalesce(iss, '(none)'), iat - min(first),
               iat IS NOT NULL AND min(first) IS NOT NULL, max(cause = \(Cause.ok.sqlLiteral)),
               max(coalesce(exp > first, 0)), sum(n)
        FROM fsc GROUP BY token_id, source_id;
        """

    func skewDistribution(by key: String, id: String, title: String) throws(ReportError) -> Table {
        // The skews in (key, skew) order, numbered: each key's are one run of row numbers from `base`, so its median
        // and p95 are one lookup each (NULLs first, as the sort of a rank would place them).
        do {
            try db.execute(
                """
                DROP TABLE IF EXISTS temp.fsr;
                CREATE TEMP TABLE fsr (r INTEGER PRIMARY KEY, k, skew);
                INSERT INTO fsr (k, skew) SELECT \(key), skew FROM temp.fs WHERE timed ORDER BY \(key), skew;
                """)
        } catch {
            throw damage(error) ?? ReportError("\(path): \(error)")
        }
        let rows = try query(
            """
            WITH g AS (
                SELECT k, min(r) AS base, count(*) AS n, min(skew) AS lo, max(skew) AS hi,
                       sum(abs(skew) < 1) AS b0, sum(abs(skew) >= 1 AND abs(skew) < 5) AS b1,
                       sum(abs(skew) >= 5 AND abs(skew) < 30) AS b2, sum(abs(skew) >= 30 AND abs(skew) < 120) AS b3,
                       sum(abs(skew) >= 120 AND abs(skew) < 600) AS b4, sum(abs(skew) >= 600) AS b5
                FROM temp.fsr GROUP BY k
            )
            SELECT k, n, lo, (SELECT x.skew FROM temp.fsr x WHERE x.r = base + (n + 1) / 2 - 1),
                   (SELECT x.skew FROM temp.fsr x WHERE x.r = base + max(1, CAST(round(n * 0.95) AS INTEGER)) - 1),
                   hi, b0, b1, b2, b3, b4, b5
            FROM g ORDER BY n DESC, k
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
            // Confidence counts the sightings that agree with the reading: for an offset, the tokens logged
            // before their iat (one early token among 149 on time is one witness, not 150).
            let support = est > 1 ? ahead : n
            let confidence = support >= 100 ? "high" : support >= 20 ? "medium" : "low"
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
                    "\(r[0].string ?? "?"): the issuer's clock looks \(Self.words(est)) ahead (\(confidence) confidence: \(ahead) of \(n) first sightings logged before their iat)."
                )
            }
        }

        let near = try query(
            """
            SELECT coalesce(iss, '(none)'), cause, sum(near) AS total, min(near_min), max(near_max)
            FROM ft WHERE near > 0
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
}
