import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Breakdowns

    func byCause(_ o: Overview) throws(ReportError) -> Section {
        let rows = try query(
            """
            SELECT cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last)
            FROM ft GROUP BY cause ORDER BY total DESC, 1, 2
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
            FROM ft WHERE failed GROUP BY iss, cause ORDER BY total DESC, 1, 2 LIMIT ?5
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
            FROM ft f LEFT JOIN (SELECT kid, sum(NOT retired) AS current, sum(retired) AS retired FROM keys GROUP BY kid) k
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
            SELECT path, cause, sum(n) AS total, count(*), min(first), max(last)
            FROM fsc GROUP BY source_id, cause ORDER BY path, total DESC, 2
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

    /// Failed sightings and error lines by the host, pod or service that wrote them (`hosts`, schema 4). Read from
    /// the rows (failures are always stored as rows, whatever `--ok-sightings`), and only when some line named a
    /// host: a database without hosts costs nothing here.
    func byHost() throws(ReportError) -> Section {
        let columns: [Column] = [
            .init("host", .text), .init("cause", .text), .init("sightings", .int), .init("tokens", .int),
            .init("kids", .text), .init("first_seen", .time), .init("last_seen", .time),
        ]
        let errorColumns: [Column] = [
            .init("host", .text), .init("cause", .text), .init("messages", .int), .init("first_seen", .time),
            .init("last_seen", .time),
        ]
        let any = try query("SELECT EXISTS (SELECT 1 FROM hosts)").first?[0].int ?? 0
        guard any > 0 else {
            return Section(
                id: "by_host", title: "By host",
                notes: ["No line named the host, pod or service that wrote it."],
                tables: [
                    Table(id: "by_host", title: "Failed sightings by host and cause", columns: columns),
                    Table(id: "errors_by_host", title: "Error messages by host and cause", columns: errorColumns),
                ])
        }
        let rows = try query(
            """
            SELECT h.name, s.cause, count(*) AS total, count(DISTINCT s.token_id),
                   group_concat(DISTINCT coalesce(t.kid, '(none)')), min(s.log_time), max(s.log_time)
            FROM sightings s
            JOIN hosts h ON h.id = s.host_id
            JOIN tokens t ON t.id = s.token_id
            JOIN sources src ON src.id = s.source_id
            WHERE \(Cause.failureSQL("s.cause"))
              AND (?1 IS NULL OR s.log_time >= ?1) AND (?2 IS NULL OR s.log_time < ?2)
              AND (?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)
            GROUP BY s.host_id, s.cause ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit * 5))])
        let unnamed = try query(
            """
            SELECT count(*), sum(s.host_id IS NULL) FROM sightings s
            JOIN tokens t ON t.id = s.token_id JOIN sources src ON src.id = s.source_id
            WHERE \(Cause.failureSQL("s.cause"))
              AND (?1 IS NULL OR s.log_time >= ?1) AND (?2 IS NULL OR s.log_time < ?2)
              AND (?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)
            """
        ).first
        let errors = try query(
            """
            SELECT h.name, e.cause, count(*) AS total, min(e.log_time), max(e.log_time)
            FROM log_errors e
            JOIN hosts h ON h.id = e.host_id
            JOIN sources src ON src.id = e.source_id
            WHERE (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2) AND (?4 IS NULL OR src.path GLOB ?4)
            GROUP BY e.host_id, e.cause ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit * 5))])
        var notes = [
            "The host, pod or service each line names (syslog HOSTNAME, JSON hostname, kubernetes.pod_name, host, service.name): where the failures were seen, beside the files they were read from."
        ]
        if let u = unnamed, let all = u[0].int, let none = u[1].int, none > 0 {
            notes.append("\(none) of \(all) failed sightings are on lines that name no host.")
        }
        return Section(
            id: "by_host", title: "By host", notes: notes,
            tables: [
                Table(
                    id: "by_host", title: "Failed sightings by host and cause", columns: columns,
                    rows: rows.map {
                        [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4]), time($0[5]), time($0[6])]
                    }, truncatedAt: limit * 5),
                Table(
                    id: "errors_by_host", title: "Error messages by host and cause", columns: errorColumns,
                    rows: errors.map { [cell($0[0]), cell($0[1]), cell($0[2]), time($0[3]), time($0[4])] },
                    truncatedAt: limit * 5),
            ])
    }
}
