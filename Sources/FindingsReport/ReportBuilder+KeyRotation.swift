import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Key rotation

    func keyRotation(_ o: Overview) throws(ReportError) -> Section {
        var notes: [String] = []
        // When a kid entered and left its key set, from the key history (`keys`): its first publication when it
        // came after the first run that recorded that set, its last when a later run's set no longer held it.
        let kids = try query(
            """
            WITH kh AS (
                SELECT k.kid, k.issuer,
                       CASE WHEN k.first_run_id > (SELECT min(x.first_run_id) FROM keys x WHERE x.issuer = k.issuer)
                            THEN k.first_published END AS appeared,
                       CASE WHEN k.last_run_id < (SELECT max(x.last_run_id) FROM keys x WHERE x.issuer = k.issuer)
                            THEN k.last_published END AS gone
                FROM keys k WHERE k.kid IS NOT NULL
            )
            SELECT coalesce(f.iss, '(none)'), coalesce(f.kid, '(none)'),
                   CASE WHEN f.kid IS NULL THEN '-' WHEN k.current > 0 THEN 'current' WHEN k.retired > 0 THEN 'retired' ELSE 'unknown' END,
                   sum((f.cause = \(Cause.ok.sqlLiteral)) * f.n), min(CASE WHEN f.cause = \(Cause.ok.sqlLiteral) THEN f.first END), max(CASE WHEN f.cause = \(Cause.ok.sqlLiteral) THEN f.last END),
                   sum(f.failed * f.n), min(CASE WHEN f.failed THEN f.first END), max(CASE WHEN f.failed THEN f.last END),
                   sum((f.cause IN ('key_unknown', 'signature_invalid')) * f.n),
                   (SELECT kh.appeared FROM kh WHERE kh.kid = f.kid AND (kh.issuer = f.iss OR kh.issuer = '')
                    ORDER BY kh.issuer = '' LIMIT 1),
                   (SELECT kh.gone FROM kh WHERE kh.kid = f.kid AND (kh.issuer = f.iss OR kh.issuer = '')
                    ORDER BY kh.issuer = '' LIMIT 1),
                   sum((f.cause = 'key_retired') * f.n)
            FROM ft f LEFT JOIN (SELECT kid, sum(NOT retired) AS current, sum(retired) AS retired FROM keys GROUP BY kid) k
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
                .init("published_from", .time), .init("published_until", .time),
            ])
        for r in kids {
            let ok = r[3].int ?? 0
            let failed = r[6].int ?? 0
            let keyFailures = r[9].int ?? 0
            let state = r[2].string ?? ""
            var reading = ""
            let retiredFailures = r[12].int ?? 0
            if let gone = r[11].double, retiredFailures > 0 {
                reading = "kid used after it left the key set"
                notes.append(
                    "\(r[0].string ?? "?") kid \(r[1].string ?? "?"): last published \(Self.iso(gone)), gone from the key set since: its tokens are key_retired (\(retiredFailures) sightings\(r[8].double.map { ", the last at \(Self.iso($0))" } ?? ""))."
                )
            } else if let appeared = r[10].double, failed > 0 && keyFailures > 0 {
                reading = "kid failing after it appeared in the key set"
                notes.append(
                    "\(r[0].string ?? "?") kid \(r[1].string ?? "?"): first published \(Self.iso(appeared)); \(keyFailures) key failures\(r[7].double.map { " from \(Self.iso($0))" } ?? ""): verifiers without the new key (stale JWKS cache?)."
                )
            } else if failed > 0 && keyFailures > 0 {
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
                time(r[7]), time(r[8]), reading.isEmpty ? .null : .text(reading), time(r[10]), time(r[11]),
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
        let stale = try staleVerifiers(&notes)
        return Section(id: "key_rotation", title: "Key rotation", notes: notes, tables: [table, steps, stale])
    }

    /// The stale verifier, named: error lines that say no key matched (key_unknown, first or second reading) whose
    /// token verifies with the given keys, per source, issuer and kid, beside when that kid first appeared in any
    /// log. A service that refuses a kid the others accept, starting soon after it appeared, missed a rotation.
    func staleVerifiers(_ notes: inout [String]) throws(ReportError) -> Table {
        let rows = try query(
            """
            SELECT src.path, t.iss, t.kid, count(*), min(e.log_time), max(e.log_time),
                   (SELECT min(r.first) FROM sighting_totals r JOIN tokens k ON k.id = r.token_id
                    WHERE k.kid = t.kid AND k.iss IS t.iss AND r.first IS NOT NULL) AS kid_first
            FROM log_errors e
            JOIN tokens t ON t.id = e.token_id
            JOIN sources src ON src.id = e.source_id
            WHERE (e.cause = 'key_unknown' OR e.alternative_cause = 'key_unknown') AND t.signature = 'valid'
              AND t.kid IS NOT NULL
              AND (?1 IS NULL OR e.log_time >= ?1) AND (?2 IS NULL OR e.log_time < ?2)
              AND (?3 IS NULL OR t.iss = ?3) AND (?4 IS NULL OR src.path GLOB ?4)
            GROUP BY e.source_id, t.iss, t.kid ORDER BY count(*) DESC, 1, 2, 3
            """)
        var table = Table(
            id: "stale_verifiers",
            title: "Refusals saying no key matched, of tokens that verify with the given keys (stale key caches)",
            columns: [
                .init("source", .text), .init("iss", .text), .init("kid", .text), .init("refusals", .int),
                .init("first_refused", .time), .init("last_refused", .time), .init("kid_first_seen", .time),
                .init("delay_seconds", .number),
            ])
        for r in rows {
            let first = r[4].double
            let appeared = r[6].double
            let delay = first.flatMap { f in appeared.map { f - $0 } }
            table.rows.append([
                cell(r[0]), cell(r[1]), cell(r[2]), cell(r[3]), time(r[4]), time(r[5]), time(r[6]),
                delay.map { .number($0) } ?? .null,
            ])
            let n = r[3].int ?? 0
            var sentence =
                "\(r[0].string ?? "?") refused kid \(r[2].string ?? "?") (issuer \(r[1].string ?? "(none)"))"
            if let first, let last = r[5].double {
                sentence += " from \(Self.iso(first)) to \(Self.iso(last))"
            }
            sentence += ", \(n) sighting\(n == 1 ? "" : "s")"
            if let delay { sentence += ", starting \(DurationText.words(max(0, delay))) after the kid first appeared" }
            notes.append(sentence + ": a stale JWKS cache?")
        }
        return table
    }
}
