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
        // What the service answered, per status class: sightings, failing ones, and those with an error message on
        // their line (an answer even without a status). Agreement is only claimed over the sightings with an answer.
        let answers = try query(
            """
            SELECT sc, \(StatusClass.labelSQL("sc")), sum(n), sum(CASE WHEN failed THEN n ELSE 0 END), sum(nl),
                   sum(CASE WHEN failed THEN nl ELSE 0 END)
            FROM f GROUP BY sc ORDER BY sc DESC
            """)
        var total = 0
        var known = 0
        var noStatus = (all: 0, failing: 0)
        var otherStatus = (all: 0, failing: 0)
        for a in answers {
            let (n, failing, withMessage, failingWithMessage) =
                (Int(a[2].int ?? 0), Int(a[3].int ?? 0), Int(a[4].int ?? 0), Int(a[5].int ?? 0))
            total += n
            switch StatusClass(rawValue: Int(a[0].int ?? 0)) {
            case .accepted?, .refused?: known += n
            case .none?:
                known += withMessage
                noStatus = (n - withMessage, failing - failingWithMessage)
            default:
                known += withMessage
                otherStatus.all += n - withMessage
                otherStatus.failing += failing - failingWithMessage
            }
        }
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
        if noStatus.all > 0 {
            notes.append(
                "\(noStatus.all) of \(total) sightings (\(noStatus.failing) of them failing) had no HTTP status and no error message on their line: whether the service accepted them is unknown."
            )
        }
        if otherStatus.all > 0 {
            notes.append(
                "\(otherStatus.all) sightings (\(otherStatus.failing) of them failing) had a status that is neither 2xx nor 401/403 (or, in rows written before schema 4, none) and no error message: neither accepted nor refused."
            )
        }
        if yes == 0 && no == 0 && total > 0 {
            notes.append(
                known == 0
                    ? "No sighting carries the service's answer (a 2xx, 401 or 403 status, or an error message): whether the services accepted or refused these tokens cannot be told, so no agreement is claimed."
                    : known == total
                        ? "The services' answers agree with jwtsift's verdicts (all \(total) sightings carry an answer)."
                        : "Among the \(known) of \(total) sightings that carry the service's answer (a 2xx, 401 or 403 status, or an error message), the answers agree with jwtsift's verdicts; the other \(total - known) cannot be compared."
            )
        }
        return Section(
            id: "disagreements", title: "Disagreements", notes: notes,
            tables: [
                Table(
                    id: "answers", title: "What the services answered (HTTP status class of the sightings' lines)",
                    columns: [
                        .init("answer", .text), .init("sightings", .int), .init("failing", .int),
                        .init("with_error_message", .int),
                    ],
                    rows: answers.map { [cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4])] }),
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
                SELECT token_id FROM fs GROUP BY token_id HAVING count(*) > 1
                ORDER BY count(*) DESC, sum(n) DESC, (SELECT t.fingerprint FROM tokens t WHERE t.id = fs.token_id)
                LIMIT ?5
            )
            SELECT substr(t.fingerprint, 1, 12), f.path, min(f.first), f.cause,
                   group_concat(DISTINCT \(StatusClass.labelSQL("f.sc"))), sum(f.n)
            FROM f JOIN multi m ON m.token_id = f.token_id JOIN tokens t ON t.id = f.token_id
            GROUP BY f.token_id, f.source_id, f.cause ORDER BY t.fingerprint, min(f.first), 2, 4
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
            SELECT path, count(*), sum(ok), sum(live) FROM fs GROUP BY source_id ORDER BY 3 DESC, 4 DESC, 1
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
            WITH top AS (
                SELECT g.token_id, substr(t.fingerprint, 1, 12) AS token, coalesce(g.iss, '(none)') AS iss, g.kid,
                       t.sub, sum(g.n) AS total, min(g.first) AS first, max(g.last) AS last
                FROM ft g JOIN tokens t ON t.id = g.token_id
                WHERE g.failed GROUP BY g.token_id ORDER BY total DESC, 2, 3 LIMIT ?5
            )
            SELECT token, iss, kid, sub, total,
                   (SELECT g.cause FROM f g WHERE g.token_id = top.token_id AND \(Cause.failureSQL("g.cause"))
                    GROUP BY g.cause ORDER BY sum(g.n) DESC, g.cause LIMIT 1),
                   (SELECT count(DISTINCT g.source_id) FROM f g WHERE g.token_id = top.token_id AND g.failed),
                   first, last
            FROM top ORDER BY total DESC, token, iss
            """, [.int(Int64(limit))])
        let subjects = try query(
            """
            SELECT substr(t.sub_hash, 1, 12), max(t.sub), sum(f.n) AS total, count(DISTINCT f.token_id),
                   group_concat(DISTINCT f.cause), min(f.first), max(f.last)
            FROM f JOIN tokens t ON t.id = f.token_id
            WHERE f.failed AND t.sub_hash IS NOT NULL GROUP BY t.sub_hash ORDER BY total DESC, 1, 2 LIMIT ?5
            """, [.int(Int64(limit))])
        return Section(
            id: "top_offenders", title: "Top offenders",
            notes: [
                "Tokens by fingerprint prefix and subjects by the prefix of sub's SHA-256; sub itself only where the scan stored it (--keep-subjects). Never the token."
            ],
            tables: [
                Table(
                    id: "top_tokens", title: "Tokens with the most failed sightings",
                    columns: [
                        .init("token", .text), .init("iss", .text), .init("kid", .text), .init("sub", .text),
                        .init("failures", .int), .init("main_cause", .text), .init("sources", .int),
                        .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: tokens.map {
                        [
                            cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4]), cell($0[5]), cell($0[6]),
                            time($0[7]), time($0[8]),
                        ]
                    },
                    truncatedAt: limit),
                Table(
                    id: "top_subjects", title: "Subjects (sub_hash) with the most failed sightings",
                    columns: [
                        .init("sub_hash", .text), .init("sub", .text), .init("failures", .int), .init("tokens", .int),
                        .init("causes", .text), .init("first_seen", .time), .init("last_seen", .time),
                    ],
                    rows: subjects.map {
                        [cell($0[0]), cell($0[1]), cell($0[2]), cell($0[3]), cell($0[4]), time($0[5]), time($0[6])]
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
