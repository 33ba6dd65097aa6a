import CSQLite
import SiftCore

/// What a batch adds to one `sighting_totals` or `sighting_minutes` row: its rollup rows summed in memory, so the
/// writer upserts each row of the two tables once per batch (never once per sighting, and no trigger).
struct RollupSum {
    var n = 0
    var first: Double?
    var last: Double?
    var refused = 0
    var near = 0
    var nearMin: Double?
    var nearMax: Double?

    mutating func add(_ r: RollupRow) {
        n += r.n
        refused += r.refused
        near += r.near
        first = Self.least(first, r.first)
        last = Self.greatest(last, r.last)
        nearMin = Self.least(nearMin, r.nearMin)
        nearMax = Self.greatest(nearMax, r.nearMax)
    }

    static func least(_ a: Double?, _ b: Double?) -> Double? {
        guard let a else { return b }
        guard let b else { return a }
        return b < a ? b : a
    }

    static func greatest(_ a: Double?, _ b: Double?) -> Double? {
        guard let a else { return b }
        guard let b else { return a }
        return b > a ? b : a
    }
}

extension FindingsDB {
    // MARK: - Report totals (schema 7)

    /// A `sighting_totals` row of the batch: token slot, cause word (interned: by its address), status class.
    private struct TotalKey: Hashable {
        let token: Int
        let cause: UnsafeRawPointer
        let statusClass: Int
    }

    /// A `sighting_minutes` row of the batch: minute, cause word, the issuer's index in the batch (-1: none).
    private struct MinuteKey: Hashable {
        let minute: Int64
        let cause: UnsafeRawPointer
        let issuer: Int
    }

    /// Adds the batch's rollup rows to `sighting_totals` (summed over minutes) and `sighting_minutes` (summed over
    /// tokens), inside the batch's transaction. Two rows with the same key and different copies of a cause word
    /// are two upserts of one row: the sums are the same.
    func writeTotals(_ batch: Batch, tokenIDs ids: [Int64]) throws(SQLiteError) {
        guard !batch.rollups.isEmpty else { return }
        var issuers: [String] = []
        var issuerIndex: [String: Int] = [:]
        var tokenIssuer = [Int](repeating: -1, count: batch.tokens.count)
        for (i, token) in batch.tokens.enumerated() {
            guard let iss = token.iss else { continue }
            if let k = issuerIndex[iss] {
                tokenIssuer[i] = k
            } else {
                issuerIndex[iss] = issuers.count
                tokenIssuer[i] = issuers.count
                issuers.append(iss)
            }
        }
        var totals: [TotalKey: (row: RollupRow, sum: RollupSum)] = [:]
        var minutes: [MinuteKey: (row: RollupRow, sum: RollupSum)] = [:]
        totals.reserveCapacity(batch.tokens.count * 2)
        minutes.reserveCapacity(256)
        for r in batch.rollups {
            let cause = UnsafeRawPointer(r.cause.pointer)
            totals[
                TotalKey(token: r.token, cause: cause, statusClass: r.statusClass.rawValue), default: (r, RollupSum())
            ]
            .sum.add(r)
            minutes[MinuteKey(minute: r.minute, cause: cause, issuer: tokenIssuer[r.token]), default: (r, RollupSum())]
                .sum.add(r)
        }
        // In key order (token id first), `rollupGroup` rows per statement, as the rollup.
        let rows = totals.sorted { a, b in
            (ids[a.key.token], a.key.statusClass, Int(bitPattern: a.key.cause))
                < (ids[b.key.token], b.key.statusClass, Int(bitPattern: b.key.cause))
        }
        try upsertGrouped(
            rows.count, group: statements.upsertTotals, one: statements.upsertTotal, perRow: 10,
            source: batch.sourceID
        ) { t, base, i in
            let (key, value) = rows[i]
            t.bind(base + 1, ids[key.token])
            t.bind(base + 2, interned: value.row.cause)
            t.bind(base + 3, key.statusClass)
            t.bind(base + 4, value.sum.n)
            t.bind(base + 5, value.sum.first)
            t.bind(base + 6, value.sum.last)
            t.bind(base + 7, value.sum.refused)
            t.bind(base + 8, value.sum.near)
            t.bind(base + 9, value.sum.nearMin)
            t.bind(base + 10, value.sum.nearMax)
        }
        let m = statements.upsertMinute
        m.bind(2, batch.sourceID)
        for (key, value) in minutes {
            m.bind(1, key.minute)
            m.bind(3, interned: value.row.cause)
            m.bind(4, key.issuer < 0)
            m.bind(5, key.issuer < 0 ? "" : issuers[key.issuer])
            m.bind(6, value.sum.n)
            m.bind(7, value.sum.first)
            m.bind(8, value.sum.last)
            try m.run()
        }
    }

    /// After rows of `source` at or after a byte offset were taken off `sighting_rollup`: recounts, from it, the
    /// `sighting_totals` rows of the tokens in `temp.affected_tokens` and the `sighting_minutes` rows of the
    /// minutes in `temp.affected_minutes` (first and last times are not subtracted: a recount keeps them those of
    /// the rollup).
    static func recountTotalsSQL(source: Int64) -> String {
        """
        DELETE FROM sighting_totals WHERE source_id = \(source) AND token_id IN (SELECT id FROM affected_tokens);
        INSERT INTO sighting_totals
        \(Schema.totalsFromRollup(where: "r.source_id = \(source) AND r.token_id IN (SELECT id FROM affected_tokens)"));
        DELETE FROM sighting_minutes WHERE source_id = \(source) AND minute IN (SELECT m FROM affected_minutes);
        INSERT INTO sighting_minutes
        \(Schema.minutesFromRollup(where: "r.source_id = \(source) AND r.minute IN (SELECT m FROM affected_minutes)"));
        """
    }
}
