import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Disagreements, paths, leaks, offenders

    func disagreements() throws(ReportError) -> Section {
        // Per source, issuer and kid: which verifier refused or accepted which key's tokens.
        let saidNo = try query(
            """
            SELECT path, sum(CASE WHEN sc = 4 THEN n ELSE nl END) AS total, count(DISTINCT token_id), min(first), max(last),
                   iss, kid
            FROM f WHERE cause = \(Cause.ok.sqlLiteral) AND (sc = 4 OR nl > 0)
            GROUP BY source_id, iss, kid ORDER BY total DESC, 1, 6, 7
            """)
        let saidYes = try query(
            """
            SELECT path, cause, sum(n) AS total, count(DISTINCT token_id), min(first), max(last), iss, kid
            FROM f WHERE failed AND sc = 2
            GROUP BY source_id, cause, iss, kid ORDER BY total DESC, 1, 2, 7, 8
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
        // Sightings whose answer is unknown (no status, or one that is neither 2xx nor 401/403, and no error
        // message): agreement cannot be claimed for them (issue 16: a replayed expired token answered 200 in a
        // format whose status was not read looked like agreement).
        let unknown = try query(
            "SELECT coalesce(sum(n - nl), 0), coalesce(sum(CASE WHEN failed THEN n - nl ELSE 0 END), 0) FROM f WHERE sc = 0"
        ).first
        let unknownAll = unknown?[0].int ?? 0
        let unknownFailing = unknown?[1].int ?? 0
        if yes == 0 && no == 0 {
            notes.append(
                unknownAll == 0
                    ? "The services' answers agree with jwtsift's verdicts."
                    : "No disagreement among the sightings whose answer is known; \(unknownAll) sightings (\(unknownFailing) of them failing) carry no 2xx, 401 or 403 status and no error message, so whether the service accepted them is unknown."
            )
        } else if unknownAll > 0 {
            notes.append(
                "\(unknownAll) further sightings (\(unknownFailing) of them failing) carry no 2xx, 401 or 403 status and no error message: their answer is unknown."
            )
        }
        return Section(
            id: "disagreements", title: "Disagreements", notes: notes,
            tables: [
                Table(
                    id: "refused_but_valid", title: "The service said no, the token verifies",
                    columns: [
                        .init("source", .text), .init("sightings", .int), .init("tokens", .int),
                        .init("first_seen", .time), .init("last_seen", .time), .init("iss", .text), .init("kid", .text),
                    ],
                    rows: saidNo.map {
                        [cell($0[0]), cell($0[1]), cell($0[2]), time($0[3]), time($0[4]), cell($0[5]), cell($0[6])]
                    }),
                Table(
                    id: "accepted_but_failing", title: "The service said yes (2xx), the token fails: security findings",
                    columns: [
                        .init("source", .text), .init("cause", .text), .init("sightings", .int), .init("tokens", .int),
                        .init("first_seen", .time), .init("last_seen", .time), .init("iss", .text), .init("kid", .text),
                    ],
                    rows: saidYes.map {
                        [
                            cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), time($0[4]), time($0[5]), cell($0[6]),
                            cell($0[7]),
                        ]
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
}
