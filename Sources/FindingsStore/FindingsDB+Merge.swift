import CSQLite
import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// Why a shard database could not be merged. Each case names the file.
public enum MergeError: Error, Sendable, CustomStringConvertible {
    /// The shard cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// Not a findings database (no tables of one, or not SQLite at all).
    case notFindings(path: String, reason: String)
    /// Written by a jwtsift with another schema version.
    case version(path: String, shard: Int, ours: Int)
    /// A scan still holds the shard's run lock.
    case busy(path: String)
    /// Reading the shard met damage (SQLITE_CORRUPT): its copy was rolled back.
    case damaged(path: String, problems: String)
    /// The shard is the output database itself, or a copy of it (same salt).
    case isOutput(path: String)
    /// Some of the shard's runs were merged before and others not: it was scanned again since.
    case grown(path: String, merged: Int, total: Int)
    /// The shard is itself a merge that holds shard runs the output already has.
    case overlapping(path: String, runs: Int)
    /// The copy failed (the output is as before this shard).
    case sqlite(path: String, SQLiteError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read this shard: \(reason)"
        case .notFindings(let path, let reason): "\(path): not a jwtsift findings database (\(reason))"
        case .version(let path, let shard, let ours):
            "\(path): schema version \(shard), but this jwtsift writes version \(ours): "
                + (shard < ours
                    ? "run jwtsift scan --db on it once with this version to migrate it, then merge"
                    : "merge with the newer jwtsift that wrote it")
        case .busy(let path): "\(path): a jwtsift scan is still writing to this shard; merge it when it has finished"
        case .damaged(let path, let problems):
            "\(path): the shard is damaged (\(problems)): not merged, the output is as before it"
        case .isOutput(let path):
            "\(path): this is the output database itself, or a copy of it (same salt): not merged"
        case .grown(let path, let merged, let total):
            "\(path): \(merged) of this shard's \(total) runs were merged before; the shard was scanned again since. "
                + "A grown shard cannot be merged again into the same database: merge every shard into a new one "
                + "(docs/at-scale.md, nightly runs)"
        case .overlapping(let path, let runs):
            "\(path): this merged database holds \(runs) shard runs that the output already has; merging it would count them twice"
        case .sqlite(let path, let e): "\(path): merge failed, the output is as before this shard: \(e)"
        }
    }
}

/// What merging one shard did.
public struct MergeOutcome: Sendable, Equatable {
    /// False: every run of the shard was merged before; nothing was added.
    public var merged = false
    public var runs = 0
    public var sources = 0
    public var tokens = 0
    public var tokensNew = 0
    public var sightings = 0
    public var logErrors = 0
    public var rollupRows = 0
    public var keys = 0
    public init() {}
}

/// How each table of a shard is copied: which columns hold ids that must be remapped into the output's, and how
/// a row that collides with one already there is combined. Every other column is copied by name, for the columns
/// both databases have (`PRAGMA table_info`), so a column a later migration adds flows through with no change
/// here; a column that must not simply be kept-or-filled on a collision gets a rule in ``onConflict``.
enum MergePlan {
    /// What an id column refers to.
    enum Remap {
        /// A `runs.id` of the shard: offset by the output's largest run id.
        case run
        /// A `sources.id` of the shard: offset by the output's largest source id.
        case source
        /// A `tokens.id` of the shard: the output's id of the token with the same fingerprint.
        case token
        /// A `hosts.id` of the shard: the output's id of the host with the same name (NULL stays NULL).
        case host
    }

    struct Table {
        let name: String
        /// Id columns and what they point at. A column listed here that a shard lacks is skipped.
        let remap: [String: Remap]
        /// The row's own id: kept (offset) when the table is referenced by its id (`runs`, `sources`), dropped
        /// (the output assigns one) for row tables nothing references by id (`sightings`, `log_errors`).
        let ownID: Remap?
        /// The conflict target of an upsert (nil: plain insert, no collision possible).
        let conflict: String?
        /// `column = expression` on a collision, by column; other columns: the row already in the output keeps
        /// its value and a NULL is filled from the shard's (`coalesce(main.c, excluded.c)`).
        let onConflict: [String: String]
        /// The token map joins in: `LEFT` when the token id may be NULL.
        let tokenJoin: String

        init(
            _ name: String, remap: [String: Remap] = [:], ownID: Remap? = nil, conflict: String? = nil,
            onConflict: [String: String] = [:], tokenJoin: String = "JOIN"
        ) {
            self.name = name
            self.remap = remap
            self.ownID = ownID
            self.conflict = conflict
            self.onConflict = onConflict
            self.tokenJoin = tokenJoin
        }
    }

    static func least(_ c: String, _ table: String) -> String {
        "CASE WHEN \(table).\(c) IS NULL OR excluded.\(c) < \(table).\(c) THEN coalesce(excluded.\(c), \(table).\(c)) ELSE \(table).\(c) END"
    }
    static func greatest(_ c: String, _ table: String) -> String {
        "CASE WHEN \(table).\(c) IS NULL OR excluded.\(c) > \(table).\(c) THEN coalesce(excluded.\(c), \(table).\(c)) ELSE \(table).\(c) END"
    }
    /// A rollup row or total meeting one already in `table`: counts summed, the earliest and latest times kept.
    static func summed(_ table: String) -> [String: String] {
        [
            "n": "\(table).n + excluded.n", "refused": "\(table).refused + excluded.refused",
            "near": "\(table).near + excluded.near", "first": least("first", table), "last": greatest("last", table),
            "near_min": least("near_min", table), "near_max": greatest("near_max", table),
        ]
    }
    /// A verifying run's findings win over an unverified one's (`unchecked`), as in the writer's upsert.
    static func verified(_ c: String) -> String {
        "CASE WHEN tokens.signature = 'unchecked' THEN excluded.\(c) ELSE tokens.\(c) END"
    }

    /// In the order they are copied (runs and sources before the rows that point at them; tokens before the
    /// token map the rows join).
    /// Where later migrations go: a plain column needs nothing; an id column gets its ``Remap`` (v5's
    /// `sightings.host_id`, `log_errors.host_id` map through `hosts.name`); a key-history column of `keys` that must combine otherwise than keep-or-fill (a first/last time:
    /// ``least(_:_:)``/``greatest(_:_:)``) gets an entry in `keys`'s `onConflict`, one holding a run id an entry
    /// in its `remap`; a new table gets a ``Table`` here (the test `every table is merged` fails until it has one).
    static let tables: [Table] = [
        Table("runs", ownID: .run),
        Table("sources", remap: ["first_run_id": .run, "last_run_id": .run, "replaced_by": .source], ownID: .source),
        Table(
            "tokens", remap: ["first_run_id": .run, "last_run_id": .run], conflict: "fingerprint",
            onConflict: [
                "first_seen": least("first_seen", "tokens"), "last_seen": greatest("last_seen", "tokens"),
                "sightings": "tokens.sightings + excluded.sightings",
                "ok_rolled": "tokens.ok_rolled + excluded.ok_rolled",
                "last_run_id": "excluded.last_run_id",
                "signature": verified("signature"), "key": verified("key"), "flags": verified("flags"),
            ]),
        // Host names: one row each, the output's id kept; the rows below map theirs through the name.
        Table("hosts", conflict: "name"),
        Table("sightings", remap: ["token_id": .token, "source_id": .source, "run_id": .run, "host_id": .host]),
        Table(
            "log_errors", remap: ["token_id": .token, "source_id": .source, "run_id": .run, "host_id": .host],
            tokenJoin: "LEFT JOIN"),
        Table(
            "sighting_rollup", remap: ["token_id": .token, "source_id": .source],
            conflict: "token_id, source_id, cause, status_class, minute",
            onConflict: summed("sighting_rollup")),
        // Schema 7: the rollup summed over minutes and over tokens; rows that meet are summed like the rollup's.
        Table(
            "sighting_totals", remap: ["token_id": .token, "source_id": .source],
            conflict: "token_id, source_id, cause, status_class",
            onConflict: summed("sighting_totals")),
        Table(
            "sighting_minutes", remap: ["source_id": .source], conflict: "minute, source_id, cause, no_iss, iss",
            onConflict: [
                "n": "sighting_minutes.n + excluded.n",
                "first": least("first", "sighting_minutes"), "last": greatest("last", "sighting_minutes"),
            ]),
        // Key history: one row per key and issuer; published from the earliest to the latest run of any shard.
        Table(
            "keys", remap: ["first_run_id": .run, "last_run_id": .run], conflict: "thumbprint, issuer",
            onConflict: [
                "last_run_id": "excluded.last_run_id",
                "first_published": least("first_published", "keys"),
                "last_published": greatest("last_published", "keys"),
            ]),
        Table("key_fetches", remap: ["run_id": .run]),
        // The output keeps its own salt (and any other setting it has); a setting only the shard has is added.
        Table("settings", conflict: "name", onConflict: ["value": "settings.value"]),
        // A shard that is itself a merge: its shard runs, pointing at the runs they became here.
        Table("merged_shards", remap: ["merged_run_id": .run], conflict: "shard_salt, shard_run_id"),
    ]
}

extension FindingsDB {
    // MARK: - Merging shard databases

    /// The tables `merge` copies; every table of the schema is one of them (tested).
    public static var mergedTables: [String] { MergePlan.tables.map(\.name) }

    /// Copies the shard database at `shardPath` into this one, in one transaction: after a crash (SIGKILL
    /// included) this database is as before the shard or as after it. Runs and sources get new ids (and every
    /// row pointing at them follows); a token already here (same fingerprint) stays one row, its first/last seen
    /// the earliest/latest, its sightings and rolled-up successes summed; rollup rows that meet are summed; keys
    /// are one row per thumbprint; this database keeps its own salt. The shard's runs are recorded in
    /// `merged_shards`, so merging it again adds nothing.
    ///
    /// The shard must have this build's schema version and not be locked by a running scan; damage met while
    /// reading it rolls its copy back (``MergeError/damaged(path:problems:)``). `now` is recorded as `merged_at`; `shownPath` is the shard's path as stored.
    public func merge(shard shardPath: String, shownPath: String, now: Double) throws(MergeError) -> MergeOutcome {
        var mine = stat()
        var theirs = stat()
        if stat(path, &mine) == 0, stat(shardPath, &theirs) == 0, mine.st_dev == theirs.st_dev,
            mine.st_ino == theirs.st_ino
        {
            throw .isOutput(path: shardPath)
        }
        let identity = try Self.inspectShard(shardPath)
        // A shared lock: a scan of the shard holds an exclusive one for its whole run.
        let fd = open(shardPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: shardPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { throw .busy(path: shardPath) }

        do {
            let ours = String(decoding: try salt(), as: UTF8.self)
            if ours == identity.salt { throw MergeError.isOutput(path: shardPath) }
            let attach = try connection.prepare("ATTACH DATABASE ?1 AS shard")
            attach.bind(1, shardPath)
            try attach.run()
            defer { try? connection.execute("DETACH DATABASE shard") }
            try connection.execute("BEGIN IMMEDIATE")
            do {
                let outcome = try copy(identity: identity, shownPath: shownPath, now: now)
                try connection.execute("COMMIT")
                return outcome
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        } catch let e as MergeError {
            throw e
        } catch let e as SQLiteError {
            knownTokens.removeAll()
            // The output passed its integrity check when it was opened: damage met while copying is the shard's.
            // (The shard is not quick_check'ed first: that reads it all once more, a third of the merge's time;
            // the copy reads every row of every table anyway, and a damaged page rolls the shard back.)
            if e.primary == SQLITE_CORRUPT || e.primary == SQLITE_NOTADB {
                throw .damaged(path: shardPath, problems: e.message)
            }
            throw .sqlite(path: shardPath, e)
        } catch {
            throw .unreadable(path: shardPath, reason: "\(error)")
        }
    }

    /// Row tables empty before a merge: their indexes are dropped and built once by ``finishMerge()``.
    public func beginMerge() throws(SQLiteError) { try deferIndexesIfEmpty() }

    /// Builds the row indexes a merge deferred.
    public func finishMerge() throws(SQLiteError) { try ensureIndexes() }

    struct ShardIdentity {
        var salt: String
        var version: Int
    }

    /// Opens the shard read-only on its own connection: its schema version, that it is a findings database,
    /// and its salt.
    static func inspectShard(_ path: String) throws(MergeError) -> ShardIdentity {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)).lowercased())
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .notFindings(path: path, reason: "not a regular file") }
        let c: Connection
        do {
            c = try Connection.openForReading(path: path)
        } catch {
            if error.primary == SQLITE_NOTADB { throw .notFindings(path: path, reason: "not an SQLite file") }
            throw .unreadable(path: path, reason: "\(error)")
        }
        defer { c.close() }
        do {
            c.busyTimeout(milliseconds: 10_000)
            let version = try c.userVersion
            let tables = Set(
                try c.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").allRows().compactMap { $0[0] })
            guard tables.contains("tokens") && tables.contains("sightings") && tables.contains("runs") else {
                throw MergeError.notFindings(path: path, reason: "it has no tokens, sightings and runs tables")
            }
            guard version == Schema.version else {
                throw MergeError.version(path: path, shard: version, ours: Schema.version)
            }
            let s = try c.prepare("SELECT value FROM settings WHERE name = 'salt'")
            guard try s.step(), let salt = s.string(0) else {
                throw MergeError.notFindings(path: path, reason: "it has no salt in settings")
            }
            return ShardIdentity(salt: salt, version: version)
        } catch let e as MergeError {
            throw e
        } catch let e as SQLiteError {
            if e.primary == SQLITE_NOTADB { throw .notFindings(path: path, reason: "not an SQLite file") }
            if e.primary == SQLITE_CORRUPT { throw .damaged(path: path, problems: e.message) }
            throw .unreadable(path: path, reason: "\(e)")
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    /// The columns of `table` in `schema`, in order.
    func columns(_ table: String, in schema: String) throws(SQLiteError) -> [String] {
        let q = try connection.prepare("SELECT name FROM pragma_table_info(?1, ?2)")
        q.bind(1, table)
        q.bind(2, schema)
        return try q.allRows().compactMap { $0[0] }
    }

    private func copy(identity: ShardIdentity, shownPath: String, now: Double) throws -> MergeOutcome {
        var outcome = MergeOutcome()
        // Which of the shard's runs are here already.
        let total = Int(try connection.scalar("SELECT count(*) FROM shard.runs") ?? 0)
        let known = try connection.prepare(
            "SELECT count(*) FROM shard.runs r JOIN main.merged_shards m ON m.shard_salt = ?1 AND m.shard_run_id = r.id"
        )
        known.bind(1, identity.salt)
        let merged = try known.step() ? Int(known.int(0)) : 0
        known.reset()
        if merged == total && total > 0 { return outcome }
        if merged > 0 { throw MergeError.grown(path: shownPath, merged: merged, total: total) }
        let overlap = Int(
            try connection.scalar(
                """
                SELECT count(*) FROM shard.merged_shards s JOIN main.merged_shards m
                ON m.shard_salt = s.shard_salt AND m.shard_run_id = s.shard_run_id
                """) ?? 0)
        if overlap > 0 { throw MergeError.overlapping(path: shownPath, runs: overlap) }

        let runOffset = try connection.scalar("SELECT coalesce(max(id), 0) FROM main.runs") ?? 0
        let sourceOffset = try connection.scalar("SELECT coalesce(max(id), 0) FROM main.sources") ?? 0
        let tokensBefore = try connection.scalar("SELECT count(*) FROM main.tokens") ?? 0

        func expression(_ column: String, _ remap: MergePlan.Remap?) -> String {
            switch remap {
            case .run: "s.\(column) + \(runOffset)"
            case .source: "s.\(column) + \(sourceOffset)"
            case .token: "m.out_id"
            case .host: "hm.out_id"
            case nil: "s.\(column)"
            }
        }
        for table in MergePlan.tables {
            let ours = try columns(table.name, in: "main")
            let theirs = Set(try columns(table.name, in: "shard"))
            // Copied by name: the columns both sides have; the row's own id only when it is kept.
            let shared = ours.filter { theirs.contains($0) && ($0 != "id" || table.ownID != nil) }
            guard !shared.isEmpty else { continue }
            let values = shared.map { c in expression(c, c == "id" ? table.ownID : table.remap[c]) }
            let joinsTokens = shared.contains { table.remap[$0] == .token }
            var sql = "INSERT INTO main.\(table.name) (\(shared.joined(separator: ", "))) SELECT "
            sql += values.joined(separator: ", ") + " FROM shard.\(table.name) s"
            if joinsTokens {
                let tokenColumn = shared.first { table.remap[$0] == .token }!
                sql += " \(table.tokenJoin) temp.merge_tokens m ON m.shard_id = s.\(tokenColumn)"
            }
            if let hostColumn = shared.first(where: { table.remap[$0] == .host }) {
                sql += " LEFT JOIN temp.merge_hosts hm ON hm.shard_id = s.\(hostColumn)"
            }
            // WHERE: an upsert's SELECT needs one (SQLite's parsing of ON CONFLICT after a join).
            sql += " WHERE true"
            // In the shard's order: new rows get ids in the order the scan gave them.
            if theirs.contains("id") && table.ownID == nil { sql += " ORDER BY s.id" }
            if let conflict = table.conflict {
                let keys = Set(conflict.split(separator: ",").map { String($0).trimmingCharacters(" ") })
                let updates = shared.filter { !keys.contains($0) && $0 != "id" }.map { c in
                    "\(c) = " + (table.onConflict[c] ?? "coalesce(\(table.name).\(c), excluded.\(c))")
                }
                sql += " ON CONFLICT (\(conflict)) DO "
                sql += updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            }
            try connection.execute(sql)
            let n = connection.changes
            switch table.name {
            case "runs": outcome.runs = n
            case "sources": outcome.sources = n
            case "tokens":
                outcome.tokens = n
                // The shard's token ids → ours, by fingerprint.
                try connection.execute(
                    """
                    CREATE TEMP TABLE IF NOT EXISTS merge_tokens (shard_id INTEGER PRIMARY KEY, out_id INTEGER NOT NULL);
                    DELETE FROM temp.merge_tokens;
                    INSERT INTO temp.merge_tokens (shard_id, out_id)
                    SELECT s.id, t.id FROM shard.tokens s JOIN main.tokens t ON t.fingerprint = s.fingerprint;
                    """)
            case "hosts":
                // The shard's host ids → ours, by name.
                try connection.execute(
                    """
                    CREATE TEMP TABLE IF NOT EXISTS merge_hosts (shard_id INTEGER PRIMARY KEY, out_id INTEGER NOT NULL);
                    DELETE FROM temp.merge_hosts;
                    INSERT INTO temp.merge_hosts (shard_id, out_id)
                    SELECT s.id, h.id FROM shard.hosts s JOIN main.hosts h ON h.name = s.name;
                    """)
            case "sightings": outcome.sightings = n
            case "log_errors": outcome.logErrors = n
            case "sighting_rollup": outcome.rollupRows = n
            case "keys": outcome.keys = n
            default: break
            }
        }
        outcome.tokensNew = Int((try connection.scalar("SELECT count(*) FROM main.tokens") ?? 0) - tokensBefore)
        // The shard's own runs, so merging it again adds nothing.
        let record = try connection.prepare(
            """
            INSERT INTO main.merged_shards (shard_salt, shard_run_id, shard_started_at, shard_path, merged_run_id, merged_at)
            SELECT ?1, r.id, r.started_at, ?2, r.id + ?3, ?4 FROM shard.runs r
            """)
        record.bind(1, identity.salt)
        record.bind(2, shownPath)
        record.bind(3, runOffset)
        record.bind(4, now)
        try record.run()
        try connection.execute("DELETE FROM temp.merge_tokens")
        try connection.execute("DROP TABLE IF EXISTS temp.merge_hosts")
        knownTokens.removeAll()
        outcome.merged = true
        return outcome
    }
}

extension String {
    fileprivate func trimmingCharacters(_ c: Character) -> String {
        String(drop { $0 == c }.reversed().drop { $0 == c }.reversed())
    }
}
