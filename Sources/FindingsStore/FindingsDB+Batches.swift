import CSQLite
import SiftCore

extension FindingsDB {
    // MARK: - Batches

    /// Binds one sighting to parameters `base + 1 … base + 14`.
    @inline(__always)
    private func bindSighting(
        _ s: Statement, base: Int32, _ row: SightingRow, tokenID: Int64, source: Int64, runID: Int64,
        hostIDs: [Int64]
    ) {
        s.bind(base + 1, tokenID)
        s.bind(base + 2, source)
        s.bind(base + 3, Int64(clamping: row.line))
        s.bind(base + 4, Int64(clamping: row.offset))
        s.bind(base + 5, row.logTime)
        s.bind(base + 6, row.status)
        s.bind(base + 7, interned: row.cause)
        if let list = row.causes { s.bind(base + 8, list) } else { s.bind(base + 8, interned: row.cause) }
        s.bind(base + 9, row.skew)
        s.bind(base + 10, runID)
        s.bind(base + 11, interned: row.timeSource)
        s.bind(base + 12, interned: row.truncation)
        s.bind(base + 13, interned: row.lineError)
        s.bind(base + 14, row.host.map { hostIDs[$0] })
    }

    /// Upserts `count` rows, `rollupGroup` at a time through `group` and the rest through `one`: both take the
    /// source as `?1`, then `perRow` parameters per row, which `bind(statement, base, i)` binds for row `i` to
    /// `base + 1 … base + perRow`.
    func upsertGrouped(
        _ count: Int, group: Statement, one: Statement, perRow: Int, source: Int64,
        bind: (Statement, Int32, Int) -> Void
    ) throws(SQLiteError) {
        var k = 0
        if count >= Self.rollupGroup {
            group.bind(1, source)
            while count - k >= Self.rollupGroup {
                for r in 0..<Self.rollupGroup { bind(group, Int32(1 + r * perRow), k + r) }
                try group.run()
                k += Self.rollupGroup
            }
        }
        one.bind(1, source)
        while k < count {
            bind(one, 1, k)
            try one.run()
            k += 1
        }
    }

    /// Writes one batch, the source's progress and the batch's counts on the run's row in one transaction.
    public func write(_ batch: Batch, runID: Int64) throws(SQLiteError) {
        do {
            try writeRows(batch, runID: runID)
        } catch {
            // The transaction was rolled back: ids learnt in it may not exist.
            forgetIDs()
            throw error
        }
    }

    /// Forgets the token and host ids learnt so far (a transaction that made some was rolled back).
    public func forgetIDs() {
        knownTokens.removeAll()
        knownHosts.removeAll()
    }

    private func writeRows(_ batch: Batch, runID: Int64) throws(SQLiteError) {
        try connection.transaction { () throws(SQLiteError) in
            var ids = [Int64](repeating: 0, count: batch.tokens.count)
            let t = statements.upsertToken
            for (i, token) in batch.tokens.enumerated() {
                let key = token.digest
                if let key, let id = knownTokens[key] {
                    ids[i] = id
                    let d = statements.addTokenCounts
                    d.bind(1, id)
                    d.bind(2, token.count)
                    d.bind(3, token.okRolled)
                    d.bind(4, token.firstSeen)
                    d.bind(5, token.lastSeen)
                    d.bind(6, runID)
                    try d.run()
                    continue
                }
                t.bind(1, token.fingerprint)
                t.bind(2, token.kind)
                t.bind(3, token.alg)
                t.bind(4, token.enc)
                t.bind(5, token.kid)
                t.bind(6, token.typ)
                t.bind(7, token.iss)
                t.bind(8, token.aud)
                t.bind(9, token.subHash)
                t.bind(10, token.sub)
                t.bind(11, token.iat)
                t.bind(12, token.nbf)
                t.bind(13, token.exp)
                t.bind(14, token.signature)
                t.bind(15, token.key)
                t.bind(16, token.flags)
                t.bind(17, token.length)
                t.bind(18, token.firstSeen)
                t.bind(19, token.lastSeen)
                t.bind(20, token.count)
                t.bind(21, token.okRolled)
                t.bind(22, runID)
                guard try t.step() else { throw connection.error(SQLITE_ERROR, "token upsert returned no id") }
                ids[i] = t.int(0)
                t.reset()
                if knownTokens.count >= Self.knownTokenLimit { knownTokens.removeAll(keepingCapacity: true) }
                if let key { knownTokens[key] = ids[i] }
            }
            var hostIDs = [Int64](repeating: 0, count: batch.hosts.count)
            for (i, name) in batch.hosts.enumerated() {
                if let id = knownHosts[name] {
                    hostIDs[i] = id
                    continue
                }
                let h = statements.upsertHost
                h.bind(1, name)
                guard try h.step() else { throw connection.error(SQLITE_ERROR, "host upsert returned no id") }
                hostIDs[i] = h.int(0)
                h.reset()
                if knownHosts.count >= Self.knownTokenLimit { knownHosts.removeAll(keepingCapacity: true) }
                knownHosts[name] = hostIDs[i]
            }
            // Rows go in `sightingGroup` at a time through one multi-row INSERT (one statement step for many
            // rows), the rest one by one.
            var k = 0
            let rows = batch.sightings
            let group = statements.insertSightings
            while rows.count - k >= Self.sightingGroup {
                for r in 0..<Self.sightingGroup {
                    bindSighting(
                        group, base: Int32(r * 14), rows[k + r], tokenID: ids[rows[k + r].token],
                        source: batch.sourceID, runID: runID, hostIDs: hostIDs)
                }
                try group.run()
                k += Self.sightingGroup
            }
            let one = statements.insertSighting
            while k < rows.count {
                bindSighting(
                    one, base: 0, rows[k], tokenID: ids[rows[k].token], source: batch.sourceID, runID: runID,
                    hostIDs: hostIDs)
                try one.run()
                k += 1
            }
            // In key order (minute first, then token id: schema 8), so that consecutive upserts meet the same b-tree
            // pages, `rollupGroup` rows per statement. Rows come in log order, so the sort meets long sorted runs.
            let order = batch.rollups.indices.sorted { a, b in
                let (x, y) = (batch.rollups[a], batch.rollups[b])
                if x.minute != y.minute { return x.minute < y.minute }
                return x.precedes(y, tokenIDs: ids)
            }
            try upsertGrouped(
                order.count, group: statements.upsertRollups, one: statements.upsertRollup, perRow: 11,
                source: batch.sourceID
            ) { s, base, i in
                let r = batch.rollups[order[i]]
                s.bind(base + 1, ids[r.token])
                s.bind(base + 2, interned: r.cause)
                s.bind(base + 3, r.statusClass.rawValue)
                s.bind(base + 4, r.minute)
                s.bind(base + 5, r.n)
                s.bind(base + 6, r.first)
                s.bind(base + 7, r.last)
                s.bind(base + 8, r.refused)
                s.bind(base + 9, r.near)
                s.bind(base + 10, r.nearMin)
                s.bind(base + 11, r.nearMax)
            }
            try writeTotals(batch, tokenIDs: ids)
            let e = statements.insertError
            e.bind(1, batch.sourceID)
            e.bind(13, runID)
            for row in batch.errors {
                e.bind(2, Int64(clamping: row.line))
                e.bind(3, Int64(clamping: row.offset))
                e.bind(4, row.logTime)
                e.bind(5, row.status)
                e.bind(6, row.cause)
                e.bind(7, row.alternative)
                e.bind(8, row.rule)
                e.bind(9, row.emitter)
                e.bind(10, row.message)
                e.bind(11, row.details)
                e.bind(12, row.token.map { ids[$0] })
                e.bind(14, row.host.map { hostIDs[$0] })
                try e.run()
            }
            let p = statements.updateProgress
            p.bind(1, batch.sourceID)
            p.bind(2, Int64(clamping: batch.progress.offset))
            p.bind(3, Int64(clamping: batch.progress.linesDone))
            p.bind(4, Int64(clamping: batch.progress.openLineStart))
            p.bind(5, Int64(clamping: batch.progress.openLine))
            p.bind(6, batch.progress.completed)
            p.bind(7, runID)
            p.bind(8, batch.window.isEmpty ? nil : hasher(batch.window))
            p.bind(9, batch.window.isEmpty ? nil : batch.window.count)
            try p.run()
            let c = statements.addRunCounts
            c.bind(1, runID)
            c.bind(2, batch.counts.sources)
            c.bind(3, Int64(clamping: batch.counts.bytes))
            c.bind(4, Int64(clamping: batch.counts.lines))
            c.bind(5, batch.counts.sightings)
            c.bind(6, batch.counts.okRolled)
            c.bind(7, batch.counts.failures)
            c.bind(8, batch.counts.logErrors)
            try c.run()
        }
    }
}
