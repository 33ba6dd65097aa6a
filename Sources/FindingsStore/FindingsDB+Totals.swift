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

    /// A `sighting_minutes` row of the batch: minute, cause word, the issuer's index in the batch (-1: none).
    private struct MinuteKey: Hashable {
        let minute: Int64
        let cause: UnsafeRawPointer
        let issuer: Int
    }

    /// A `sighting_totals` row of the batch (token slot, cause word, status class) and its sum; `next` links the
    /// slot's rows (a token has a few causes and status classes in a batch), `-1` ending the list.
    private struct TotalEntry {
        let row: RollupRow
        var sum = RollupSum()
        var next: Int32
    }

    /// Adds the batch's rollup rows to `sighting_totals` (summed over minutes) and `sighting_minutes` (summed over
    /// tokens), inside the batch's transaction. Two rows with the same key and different copies of a cause word
    /// are two upserts of one row: the sums are the same.
    ///
    /// Totals are found through a list per token slot and minutes through the last one met (rows come in log
    /// order, so the next row is mostly in the same minute): no hashing per rollup row (perf: the dictionaries
    /// and their SipHash were half of this function).
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
        var head = [Int32](repeating: -1, count: batch.tokens.count)
        var totals: [TotalEntry] = []
        totals.reserveCapacity(batch.tokens.count * 2)
        var minutes: [MinuteKey: Int] = [:]
        var minuteSums: [(key: MinuteKey, row: RollupRow, sum: RollupSum)] = []
        minutes.reserveCapacity(256)
        var lastMinute: (key: MinuteKey, index: Int)? = nil
        for r in batch.rollups {
            let cause = UnsafeRawPointer(r.cause.pointer)
            var e = head[r.token]
            while e >= 0 {
                let t = totals[Int(e)].row
                if UnsafeRawPointer(t.cause.pointer) == cause && t.statusClass == r.statusClass { break }
                e = totals[Int(e)].next
            }
            if e < 0 {
                e = Int32(totals.count)
                totals.append(TotalEntry(row: r, next: head[r.token]))
                head[r.token] = e
            }
            totals[Int(e)].sum.add(r)
            let key = MinuteKey(minute: r.minute, cause: cause, issuer: tokenIssuer[r.token])
            let m: Int
            if let last = lastMinute, last.key == key {
                m = last.index
            } else if let known = minutes[key] {
                m = known
            } else {
                m = minuteSums.count
                minutes[key] = m
                minuteSums.append((key, r, RollupSum()))
            }
            lastMinute = (key, m)
            minuteSums[m].sum.add(r)
        }
        // In key order (token id first), `rollupGroup` rows per statement.
        let order = totals.indices.sorted { a, b in totals[a].row.precedes(totals[b].row, tokenIDs: ids) }
        try upsertGrouped(
            order.count, group: statements.upsertTotals, one: statements.upsertTotal, perRow: 10,
            source: batch.sourceID
        ) { t, base, i in
            let entry = totals[order[i]]
            t.bind(base + 1, ids[entry.row.token])
            t.bind(base + 2, interned: entry.row.cause)
            t.bind(base + 3, entry.row.statusClass.rawValue)
            t.bind(base + 4, entry.sum.n)
            t.bind(base + 5, entry.sum.first)
            t.bind(base + 6, entry.sum.last)
            t.bind(base + 7, entry.sum.refused)
            t.bind(base + 8, entry.sum.near)
            t.bind(base + 9, entry.sum.nearMin)
            t.bind(base + 10, entry.sum.nearMax)
        }
        // In the order first met: log order, so mostly the key's (minute first).
        let m = statements.upsertMinute
        m.bind(2, batch.sourceID)
        for value in minuteSums {
            let key = value.key
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

extension RollupRow {
    /// The order of the rollup's and the totals' keys after the minute: the token's database id, then the cause
    /// (by its interned word) and the status class.
    @inline(__always)
    func precedes(_ other: RollupRow, tokenIDs ids: [Int64]) -> Bool {
        let (i, j) = (ids[token], ids[other.token])
        if i != j { return i < j }
        return (Int(bitPattern: cause.pointer), statusClass.rawValue)
            < (Int(bitPattern: other.cause.pointer), other.statusClass.rawValue)
    }
}
