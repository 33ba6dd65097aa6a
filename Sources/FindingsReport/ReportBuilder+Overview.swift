import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Overview

    func makeOverview() throws(ReportError) -> Overview {
        var o = Overview()
        let r = try query(
            """
            SELECT coalesce(sum(n), 0), count(DISTINCT token_id), coalesce(sum(failed * n), 0),
                   coalesce(sum((cause = \(Cause.unverified.sqlLiteral)) * n), 0), min(first), max(last)
            FROM ft
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
            FROM ft WHERE failed GROUP BY cause ORDER BY total DESC, 1, 2 LIMIT 4
            """)
        return rows.map { r in
            let cause = r[0].string ?? "?"
            let n = Double(r[1].int ?? 0)
            let share = NumberText.shortPercent(n / Double(o.failures))
            // Sorted: group_concat's order is the rows' (token ids), which a merge of shards assigns otherwise.
            let kids = (r[4].string ?? "").split(separator: ",").sorted().prefix(3).joined(separator: ", ")
            guard let word = Cause(rawValue: cause) else { return "\(share) of failures are \(cause)." }
            return Self.sentence(
                for: word, share: share, nearShare: NumberText.shortPercent(Double(r[3].int ?? 0) / Double(o.failures)),
                mostlyNear: Double(r[3].int ?? 0) >= n / 2, kids: kids)
        }
    }
}
