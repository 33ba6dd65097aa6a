import SiftCore
import Testing

@testable import FindingsStore

#if canImport(Glibc)
import Glibc
#endif

/// The writer upserts rollup and totals rows `FindingsDB.rollupGroup` at a time in key order, the rest one by one:
/// whatever the split, the rows are the sums of every batch, as one upsert per row gave.
@Suite("Grouped rollup upserts")
struct GroupedUpsertTests {
    static let expired = InternedText(Cause.expired.rawValue)
    static let ok = InternedText(Cause.ok.rawValue)

    /// A batch of `tokens` tokens, each seen once per minute in `minutes` with cause alternating by token: one rollup
    /// row per (token, minute), given to the writer in an order that is not the key order (minute first).
    static func batch(source: Int64, tokens: Int, minutes: Range<Int64>, offset: UInt64) -> Batch {
        var b = Batch(sourceID: source, progress: ReadProgress(offset: offset, openLineStart: offset, openLine: 1))
        for t in 0..<tokens {
            b.tokens.append(
                TokenUpsert(
                    fingerprint: SHA256Digest(w0: UInt64(t), w1: 7, w2: 7, w3: 7).hex, kind: "jws", alg: "HS256",
                    iss: t % 3 == 0 ? nil : "iss-\(t % 3)", signature: "valid", length: 40))
        }
        var line: UInt64 = 1
        for m in minutes {
            for t in 0..<tokens {
                let time = Double(m * 60 + Int64(t % 60))
                b.tokens[t].saw(at: time, rolled: false)
                let cause = t % 2 == 0 ? expired : ok
                b.sightings.append(
                    SightingRow(
                        token: t, line: line, offset: line * 10, logTime: time, status: 401, cause: cause,
                        causes: nil, skew: nil, timeSource: nil, truncation: nil, lineError: nil))
                var r = RollupRow(token: t, cause: cause, statusClass: .refused, minute: m)
                r.add(at: time, errorOnLine: t % 5 == 0, nearBy: t % 2 == 0 ? Double(t) : nil)
                b.rollups.append(r)
                line += 1
            }
        }
        return b
    }

    @Test("more rows than a group, over two batches that share keys: every row summed, totals and minutes agree")
    func groupedSums() throws {
        let dir = "/tmp/jwtsift-grouped-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
        defer { _ = system("rm -rf '\(dir)'") }
        let path = dir + "/f.sqlite"
        // 7 tokens × 11 minutes = 77 rows: two full groups of 32 and 13 single upserts; the second batch repeats
        // minutes 5..<11 (a minute cut by a batch boundary) and adds 11..<13.
        let tokens = 7
        do {
            let db = try FindingsDB(path: path, lockTimeout: 0) { bytes in "head-\(bytes.count)" }
            let run = try db.beginRun(startedAt: 1, version: "test", commandLine: "test", verify: true, leeway: 60)
            let identity = SourceIdentity(path: "/a.log", size: 10, mtime: 1, inode: 7, head: [], isStdin: false)
            let (source, _) = try db.plan(identity, runID: run)
            #expect(tokens * 11 > 2 * FindingsDB.rollupGroup)
            try db.write(Self.batch(source: source, tokens: tokens, minutes: 0..<11, offset: 100), runID: run)
            try db.write(Self.batch(source: source, tokens: tokens, minutes: 5..<13, offset: 200), runID: run)
            try db.finishRun(run, status: "done", finishedAt: 2, counts: RunCounts())
        }
        let c = try Connection(path: path, readOnly: true)
        defer { c.close() }
        #expect(try c.prepare("SELECT count(*) FROM sighting_rollup").allRows() == [["\(tokens * 13)"]])
        // Minutes 5..<11 were in both batches: n 2, the rest n 1.
        let byN = try c.prepare("SELECT n, count(*) FROM sighting_rollup GROUP BY n ORDER BY n").allRows()
        #expect(byN == [["1", "\(tokens * 7)"], ["2", "\(tokens * 6)"]])
        // Every rollup row against the sightings it counts (the same rows, recounted by SQLite).
        let mismatched = try c.prepare(
            """
            SELECT count(*) FROM sighting_rollup r
            WHERE r.n != (SELECT count(*) FROM sightings s WHERE s.token_id = r.token_id AND s.cause = r.cause
                            AND CAST(s.log_time / 60 AS INTEGER) = r.minute)
               OR r.first != (SELECT min(log_time) FROM sightings s WHERE s.token_id = r.token_id
                                AND CAST(s.log_time / 60 AS INTEGER) = r.minute)
               OR r.refused != r.n * (((SELECT fingerprint FROM tokens t WHERE t.id = r.token_id) GLOB '000000000000000[05]*'))
            """
        ).allRows()
        #expect(mismatched == [["0"]])
        // The totals are the rollup summed over minutes, the minutes the rollup summed over tokens.
        let totals = try c.prepare(
            "SELECT token_id, cause, status_class, n, first, last, refused, near, near_min, near_max FROM sighting_totals ORDER BY 1, 2, 3"
        ).allRows()
        let fromRollup = try c.prepare(
            """
            SELECT token_id, cause, status_class, sum(n), min(first), max(last), sum(refused), sum(near), min(near_min),
                   max(near_max)
            FROM sighting_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """
        ).allRows()
        #expect(totals.count == tokens)
        #expect(totals == fromRollup)
        let minutes = try c.prepare("SELECT sum(n) FROM sighting_minutes").allRows()
        #expect(minutes == [["\(tokens * 19)"]])
        #expect(try c.prepare("SELECT sum(sightings) FROM tokens").allRows() == [["\(tokens * 19)"]])
    }

    @Test(
        "tokens with several causes and status classes, rows out of minute order: totals and minutes are the rollup's sums"
    )
    func totalsPerSlot() throws {
        let dir = "/tmp/jwtsift-totals-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
        defer { _ = system("rm -rf '\(dir)'") }
        let path = dir + "/f.sqlite"
        let causes = [Self.expired, Self.ok, InternedText(Cause.signature_invalid.rawValue)]
        let classes: [StatusClass] = [.refused, .accepted, .none]
        /// Each token's rows in a batch: several causes and classes (a slot's list longer than one), minutes going back
        /// and forth (the last minute met is not always the row's), an issuer shared by several tokens, none for some.
        func batch(_ source: Int64, _ offset: UInt64, minutes: [Int64]) -> Batch {
            var b = Batch(sourceID: source, progress: ReadProgress(offset: offset, openLineStart: offset, openLine: 1))
            for t in 0..<9 {
                b.tokens.append(
                    TokenUpsert(
                        fingerprint: SHA256Digest(w0: UInt64(t), w1: 3, w2: 3, w3: 3).hex, kind: "jws",
                        iss: t % 4 == 0 ? nil : "iss-\(t % 2)", signature: "valid", length: 40))
            }
            var k = 0
            for m in minutes {
                for t in 0..<9 {
                    for c in 0..<(1 + t % 3) {
                        let time = Double(m * 60 + Int64(k % 60))
                        var r = RollupRow(
                            token: t, cause: causes[(t + c) % 3], statusClass: classes[Int((Int64(t) + m) % 3)],
                            minute: m)
                        r.add(at: time, errorOnLine: k % 4 == 0, nearBy: k % 3 == 0 ? Double(k % 50) : nil)
                        if k % 5 == 0 { r.add(at: time + 1, errorOnLine: false, nearBy: nil) }
                        b.tokens[t].saw(at: time, rolled: false)
                        b.rollups.append(r)
                        k += 1
                    }
                }
            }
            return b
        }
        do {
            let db = try FindingsDB(path: path, lockTimeout: 0) { bytes in "head-\(bytes.count)" }
            let run = try db.beginRun(startedAt: 1, version: "test", commandLine: "test", verify: true, leeway: 60)
            let identity = SourceIdentity(path: "/a.log", size: 10, mtime: 1, inode: 7, head: [], isStdin: false)
            let (source, _) = try db.plan(identity, runID: run)
            try db.write(batch(source, 100, minutes: [4, 2, 4, 7, 3, 2]), runID: run)
            try db.write(batch(source, 200, minutes: [7, 8, 1]), runID: run)
            try db.finishRun(run, status: "done", finishedAt: 2, counts: RunCounts())
        }
        let c = try Connection(path: path, readOnly: true)
        defer { c.close() }
        let totals = try c.prepare("SELECT * FROM sighting_totals ORDER BY 1, 2, 3, 4").allRows()
        let fromRollup = try c.prepare("\(Schema.totalsFromRollup(where: "1")) ORDER BY 1, 2, 3, 4").allRows()
        #expect(totals == fromRollup)
        // Every token has 1 to 3 causes and several status classes: more totals rows than tokens.
        #expect(totals.count > 2 * 9)
        let minutes = try c.prepare("SELECT * FROM sighting_minutes ORDER BY 1, 2, 3, 4, 5").allRows()
        let minutesFromRollup = try c.prepare("\(Schema.minutesFromRollup(where: "1")) ORDER BY 1, 2, 3, 4, 5")
            .allRows()
        #expect(minutes == minutesFromRollup)
        #expect(Set(minutes.map { $0[3] }) == ["0", "1"])
    }

    @Test("the grouped statements: one shared source parameter, then each row's own")
    func placeholders() {
        #expect(FindingsDB.groupPlaceholders(rows: 2, perRow: 3) == "(?1, ?2, ?3, ?4), (?1, ?5, ?6, ?7)")
        #expect(
            FindingsDB.upsertRollupSQL(rows: 1).contains("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"))
    }
}
