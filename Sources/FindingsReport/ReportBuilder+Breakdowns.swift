import FindingsStore
import SiftCore

extension ReportBuilder {
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
}
