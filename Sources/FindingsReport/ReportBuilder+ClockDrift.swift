import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Clock drift

    /// One row per token and source (`fsc` by the first two columns of its key, so without a sort): the skew at
    /// the token's first sighting there (iat − log time: later sightings only measure the token's age, the first
    /// one measures issuance-to-use delay plus any clock offset) (`timed`: it has an iat and a timed sighting), and for the leak audit and
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

    /// One key's first-sighting skews in ascending order, NULLs first (as SQL sorts them).
    struct SkewGroup {
        var name: String
        /// The key's bytes: groups and their order are by bytes, as SQL's BINARY collation.
        var key: [UInt8]
        var skews: [Double?] = []

        /// Sightings per |skew| bucket (< 1 s, 1–5 s, 5–30 s, 30 s–2 min, 2–10 min, ≥ 10 min); nil when no skew is
        /// known (SQL's sum over no values).
        var buckets: [Int64]? {
            var counts = [Int64](repeating: 0, count: 6)
            var any = false
            for case let d? in skews {
                any = true
                let a = abs(d)
                counts[a < 1 ? 0 : a < 5 ? 1 : a < 30 ? 2 : a < 120 ? 3 : a < 600 ? 4 : 5] += 1
            }
            return any ? counts : nil
        }

        /// The skew at 1-based `rank` of the sorted list.
        func at(rank: Int) -> Double? { skews[rank - 1] }
    }

    /// The first sightings' skews grouped by `key` (a column of `fs`): one SQL sort by (key, skew), walked once,
    /// instead of a rank per row and a GROUP BY (each a sort of every first sighting). Largest group first, then
    /// by key, as `ORDER BY count(*) DESC, key`.
    func skewGroups(by key: String) throws(ReportError) -> [SkewGroup] {
        var groups: [SkewGroup] = []
        try forEachRow("SELECT \(key), skew FROM temp.fs WHERE timed ORDER BY \(key), skew") { s in
            let same = groups.last.map { g in s.withBytes(0) { $0.elementsEqual(g.key) } } ?? false
            if !same { groups.append(SkewGroup(name: s.string(0) ?? "", key: s.withBytes(0) { Array($0) })) }
            groups[groups.count - 1].skews.append(s.isNull(1) ? nil : s.double(1))
        }
        groups.sort { a, b in
            a.skews.count != b.skews.count ? a.skews.count > b.skews.count : a.key.lexicographicallyPrecedes(b.key)
        }
        return groups
    }

    func skewDistribution(_ groups: [SkewGroup], by key: String, id: String, title: String) -> Table {
        Table(
            id: id, title: title,
            columns: [
                .init(key == "iss" ? "iss" : "source", .text), .init("tokens", .int), .init("min", .seconds),
                .init("median", .seconds), .init("p95", .seconds), .init("max", .seconds),
                .init("lt_1s", .int), .init("1_5s", .int), .init("5_30s", .int), .init("30s_2min", .int),
                .init("2_10min", .int), .init("gt_10min", .int),
            ],
            rows: groups.map { g in
                let n = g.skews.count
                let known = g.skews.compactMap { $0 }
                // The ranks SQL's `(n + 1) / 2` and `max(1, CAST(round(n * 0.95) AS INTEGER))` give (SQLite rounds
                // by adding 0.5 and truncating).
                let p95 = max(1, Int(Double(n) * 0.95 + 0.5))
                let seconds: (Double?) -> Cell = { $0.map { .seconds($0) } ?? .null }
                let counts: [Cell] = g.buckets.map { $0.map { .int($0) } } ?? Array(repeating: .null, count: 6)
                return [
                    .text(g.name), .int(Int64(n)), seconds(known.first), seconds(g.at(rank: (n + 1) / 2)),
                    seconds(g.at(rank: p95)), seconds(known.last),
                ] + counts
            })
    }

    func clockDrift() throws(ReportError) -> Section {
        var notes = [
            "Skew = iat − log time at each token's first sighting in each source (negative: used after it was issued). A positive skew means the token was logged before it was issued: the issuer's clock is ahead of the logging host's."
        ]
        let byIssuer = try skewGroups(by: "iss")
        let perIssuer = skewDistribution(
            byIssuer, by: "iss", id: "drift_by_issuer", title: "Skew at first sighting, by issuer")
        let perSource = skewDistribution(
            try skewGroups(by: "path"), by: "path", id: "drift_by_source", title: "Skew at first sighting, by source")

        // The fastest first use bounds the offset: log − iat can't be below 0 when clocks agree. Per issuer: first
        // sightings, the largest skew, how many are positive (NULL, as SQL's max and sum, when none is known).
        let offsets: [[SQLValue]] = byIssuer.map { g in
            let known = g.skews.compactMap { $0 }
            return [
                .text(g.name), .int(Int64(g.skews.count)), known.last.map { .real($0) } ?? .null,
                known.isEmpty ? .null : .int(Int64(known.filter { $0 > 0 }.count)),
            ]
        }
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

        // Every first sighting, per |skew| bucket (the issuers' buckets added up).
        var histogram = [Int64](repeating: 0, count: 6)
        for g in byIssuer { for (i, c) in (g.buckets ?? []).enumerated() { histogram[i] += c } }
        let labels = ["< 1 s", "1–5 s", "5–30 s", "30 s–2 min", "2–10 min", "> 10 min"]
        let items = zip(labels, histogram).map { (label: $0, value: Double($1)) }
        return Section(
            id: "clock_drift", title: "Clock drift", notes: notes,
            tables: [perIssuer, perSource, offsetTable, nearTable, messageTable],
            charts: [.histogram(title: "|skew| at first sighting", items: items)])
    }
}
