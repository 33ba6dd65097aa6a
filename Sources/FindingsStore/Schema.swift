import SiftCore

/// The findings database's schema: a public contract (see docs/schema.md). Versions only move forward; each
/// migration runs in one transaction and sets `PRAGMA user_version`.
public enum Schema {
    /// The version this build writes.
    public static let version = 8

    /// Indexes on the row tables. Part of the schema, but kept apart: a merge into empty row tables drops them and
    /// builds them once at its end (one sort instead of a b-tree insert per row; a scan keeps them, see
    /// ``FindingsDB/beginRun``), and every open creates any that a killed run left missing.
    static let rowIndexes: [(name: String, sql: String)] = [
        ("sightings_time", "CREATE INDEX IF NOT EXISTS sightings_time ON sightings(log_time)"),
        ("sightings_source", "CREATE INDEX IF NOT EXISTS sightings_source ON sightings(source_id, byte_offset)"),
        ("log_errors_time", "CREATE INDEX IF NOT EXISTS log_errors_time ON log_errors(log_time)"),
        ("log_errors_source", "CREATE INDEX IF NOT EXISTS log_errors_source ON log_errors(source_id, byte_offset)"),
        // `sighting_rollup` needs none since version 8: its key starts with the minute.
    ]

    /// Migration `i` takes the database from version `i` to `i + 1`.
    static let migrations: [String] = [
        v1, v2, v3, mergedShards, hostsAndStatuses, keyHistory, reportTotals, rollupByMinute,
    ]

    /// Version 8 (issue 15: the writer near SQLite's floor): `sighting_rollup` keyed by
    /// (`minute`, `source_id`, `token_id`, `cause`, `status_class`) instead of by token first. A log is written in
    /// time order, so a batch's rollup rows now land at the end of the table instead of on every page of it (each
    /// batch rewrote the whole table into the WAL: 37 MB of WAL for a 256 MB log, 10 MB now), and a `--since`/`--until`
    /// window reads its minutes through the key: the index `sighting_rollup_minute` is dropped. Same columns in the
    /// same order, same rows; rebuilt by copying.
    static let rollupByMinute = """
        CREATE TABLE sighting_rollup_v8 (
            token_id INTEGER NOT NULL,
            source_id INTEGER NOT NULL,
            cause TEXT NOT NULL,
            status_class INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            n INTEGER NOT NULL,
            first REAL,
            last REAL,
            refused INTEGER NOT NULL DEFAULT 0,
            near INTEGER NOT NULL DEFAULT 0,
            near_min REAL,
            near_max REAL,
            PRIMARY KEY (minute, source_id, token_id, cause, status_class)
        ) WITHOUT ROWID;
        INSERT INTO sighting_rollup_v8 SELECT * FROM sighting_rollup ORDER BY minute, source_id, token_id, cause, status_class;
        DROP TABLE sighting_rollup;
        ALTER TABLE sighting_rollup_v8 RENAME TO sighting_rollup;
        """

    /// `merged_shards` (issue 14; version 4):
    /// one row per run of a shard database that `jwtsift merge` copied into this one, named by the shard's
    /// `settings.salt` (random per database) and the run's id there, with where it came from and the id the run
    /// got here. Merging a shard whose runs are all listed adds nothing. Self-contained: creates one table.
    static let mergedShards = """
        CREATE TABLE merged_shards (
            shard_salt TEXT NOT NULL,
            shard_run_id INTEGER NOT NULL,
            shard_started_at REAL,
            shard_path TEXT NOT NULL,
            merged_run_id INTEGER NOT NULL,
            merged_at REAL NOT NULL,
            PRIMARY KEY (shard_salt, shard_run_id)
        ) WITHOUT ROWID;
        """

    /// Version 5 (issue 16: hosts and statuses):
    /// - `hosts` (id, name): the host, pod or service that wrote a line (syslog HOSTNAME, JSON `hostname`,
    ///   `kubernetes.pod_name`, `host`, `service.name`…), each name once (log-derived: at most 253 bytes, tokens in
    ///   it redacted); `sightings.host_id` and `log_errors.host_id` refer to it (NULL: the line names none). An id
    ///   keeps the rows as small as before for lines without a host, and 1–2 bytes for lines with one; a tool that
    ///   copies rows between databases maps `host_id` through `hosts.name` as it maps `token_id` and `source_id`.
    /// - `sighting_rollup.status_class` 1: the line carries no HTTP status (before, such sightings were counted
    ///   with the other statuses under 0), so reports can say how many sightings had no status.
    /// - Every source's `policy` is cleared, so the next scan re-judges the sources still there: statuses are now
    ///   read from more formats (Traefik, ALB/ELB, CloudFront, Azure, IIS…) and hosts from the lines, neither of
    ///   which rows written before have.
    static let hostsAndStatuses = """
        CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        ALTER TABLE sightings ADD COLUMN host_id INTEGER;
        ALTER TABLE log_errors ADD COLUMN host_id INTEGER;
        UPDATE sources SET policy = NULL;
        """

    /// `sighting_totals`: the rollup summed over its minutes, one row per (token, source, cause, status class). What
    /// a report over all of the database reads instead of every minute of `sighting_rollup`.
    static let totalsTable = """
        CREATE TABLE sighting_totals (
            token_id INTEGER NOT NULL,
            source_id INTEGER NOT NULL,
            cause TEXT NOT NULL,
            status_class INTEGER NOT NULL,
            n INTEGER NOT NULL,
            first REAL,
            last REAL,
            refused INTEGER NOT NULL DEFAULT 0,
            near INTEGER NOT NULL DEFAULT 0,
            near_min REAL,
            near_max REAL,
            PRIMARY KEY (token_id, source_id, cause, status_class)
        ) WITHOUT ROWID
        """

    /// `sighting_minutes`: the rollup summed over its tokens, one row per (minute, source, cause, issuer): the
    /// report's timeline, key-rotation steps and time window. `iss` is the token's `iss` ('' with `no_iss` = 1 for a
    /// token without one, so a real empty `iss` stays apart).
    static let minutesTable = """
        CREATE TABLE sighting_minutes (
            minute INTEGER NOT NULL,
            source_id INTEGER NOT NULL,
            cause TEXT NOT NULL,
            no_iss INTEGER NOT NULL,
            iss TEXT NOT NULL,
            n INTEGER NOT NULL,
            first REAL,
            last REAL,
            PRIMARY KEY (minute, source_id, cause, no_iss, iss)
        ) WITHOUT ROWID
        """

    /// SELECTs that recount the two tables from `sighting_rollup` rows matching `filter` (an expression over the
    /// rollup's columns, alias `r`): the migration's backfill, and the writer's recount after it removes rows.
    static func totalsFromRollup(where filter: String) -> String {
        """
        SELECT r.token_id, r.source_id, r.cause, r.status_class, sum(r.n), min(r.first), max(r.last), sum(r.refused),
               sum(r.near), min(r.near_min), max(r.near_max)
        FROM sighting_rollup r WHERE \(filter)
        GROUP BY r.token_id, r.source_id, r.cause, r.status_class
        """
    }

    static func minutesFromRollup(where filter: String) -> String {
        """
        SELECT r.minute, r.source_id, r.cause, t.iss IS NULL, coalesce(t.iss, ''), sum(r.n), min(r.first), max(r.last)
        FROM sighting_rollup r JOIN tokens t ON t.id = r.token_id WHERE \(filter)
        GROUP BY r.minute, r.source_id, r.cause, t.iss IS NULL, coalesce(t.iss, '')
        """
    }

    /// Version 7 (issue 15: reports in seconds): `sighting_totals` and `sighting_minutes`, kept by the writer in the
    /// same transactions as `sighting_rollup` (upserts of each batch's sums), so a report reads one row per token and
    /// source instead of one per minute, and its timeline one row per minute and issuer instead of one per token.
    /// Backfilled from `sighting_rollup`.
    static let reportTotals = """
        \(totalsTable);
        \(minutesTable);
        INSERT INTO sighting_totals \(totalsFromRollup(where: "1"));
        INSERT INTO sighting_minutes \(minutesFromRollup(where: "1"));
        """

    /// Version 6, key history (issue 17):
    /// - `keys` is keyed by (`thumbprint`, `issuer`) instead of `thumbprint`: `issuer` is the configured issuer a
    ///   key was published for (`--config`), `''` for the global keys. Rebuilt, with its rows kept (issuer `''`).
    /// - `source`: the file or URL the key came from (`origin` keeps `file#index`); `jwk`: the public key's JWK
    ///   (RFC 7638 members, kid, alg), so that a key gone from a later set still verifies the tokens it signed
    ///   (`key_retired`). NULL for secrets: neither a secret nor anything derived from it alone is stored.
    /// - `first_published`, `last_published`: the start of the first and last run that saw it in its set.
    ///   Rows kept from earlier versions take their runs' start times.
    /// - `failures_by_kid` matches a token's kid with the keys of its issuer (or the global ones), once per kid.
    /// - `key_fetches`: what became of each key set or discovery document a run fetched (or failed to).
    static let keyHistory = """
        CREATE TABLE key_fetches (
            run_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            outcome TEXT NOT NULL,
            http_status INTEGER,
            reason TEXT,
            fetched_at REAL,
            used_cache INTEGER NOT NULL DEFAULT 0
        );
        DROP VIEW failures_by_kid;
        CREATE TABLE keys_new (
            thumbprint TEXT NOT NULL,
            issuer TEXT NOT NULL DEFAULT '',
            kid TEXT,
            kty TEXT NOT NULL,
            alg TEXT,
            origin TEXT NOT NULL,
            retired INTEGER NOT NULL,
            first_run_id INTEGER,
            last_run_id INTEGER,
            source TEXT,
            jwk TEXT,
            first_published REAL,
            last_published REAL,
            PRIMARY KEY (thumbprint, issuer)
        );
        INSERT INTO keys_new (thumbprint, issuer, kid, kty, alg, origin, retired, first_run_id, last_run_id, source,
                             first_published, last_published)
        SELECT k.thumbprint, '', k.kid, k.kty, k.alg, k.origin, k.retired, k.first_run_id, k.last_run_id,
               CASE WHEN instr(k.origin, '#') > 0 THEN substr(k.origin, 1, instr(k.origin, '#') - 1) ELSE k.origin END,
               (SELECT started_at FROM runs WHERE id = k.first_run_id), (SELECT started_at FROM runs WHERE id = k.last_run_id)
        FROM keys k;
        DROP TABLE keys;
        ALTER TABLE keys_new RENAME TO keys;
        CREATE INDEX keys_kid ON keys(kid);
        CREATE VIEW failures_by_kid AS
        SELECT t.kid, t.alg,
               CASE (SELECT min(k.retired) FROM keys k
                     WHERE k.kid = t.kid AND (k.issuer = '' OR k.issuer = t.iss))
                   WHEN 0 THEN 'current' WHEN 1 THEN 'retired' ELSE 'unknown' END AS key_state,
               s.cause, count(*) AS sightings, count(DISTINCT s.token_id) AS tokens,
               min(s.log_time) AS first_seen, max(s.log_time) AS last_seen
        FROM sightings s JOIN tokens t ON t.id = s.token_id
        WHERE \(Cause.failureSQL("s.cause"))
        GROUP BY t.kid, t.alg, key_state, s.cause ORDER BY sightings DESC;
        """

    /// Version 3 (issues 12 and 13):
    /// - `runs.policy` and `sources.policy`: the fingerprint of the verification policy a run used and a
    ///   source was last read under. Sources of earlier versions have none, so the next scan re-judges them.
    /// - `settings`: a random per-database `salt`, under which secrets enter that fingerprint (PBKDF2).
    /// - `sources.tail_hash`, `tail_len`: the SHA-256 of the last bytes read before `bytes_scanned` (up to
    ///   4096), committed with the progress, so a file rewritten in place (copytruncate) up to or past the old size
    ///   with the same first bytes is recognised as a new source instead of taken for a grown one. NULL on rows
    ///   written before (no such check for them until their next progress).
    /// - Secrets are no longer named by a digest of their bytes (`hmac:<12 hex>`; an oct JWK's RFC 7638
    ///   thumbprint), which let whoever reads the database test guesses of the secret offline: those names are
    ///   replaced by `hmac secret` and `oct key`, and the next scan with the secret records its new name.
    static let v3 = """
        ALTER TABLE runs ADD COLUMN policy TEXT;
        ALTER TABLE sources ADD COLUMN policy TEXT;
        ALTER TABLE sources ADD COLUMN tail_hash TEXT;
        ALTER TABLE sources ADD COLUMN tail_len INTEGER;
        CREATE TABLE settings (name TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;
        INSERT INTO settings (name, value) VALUES ('salt', lower(hex(randomblob(16))));
        UPDATE tokens SET key = 'hmac secret' WHERE key GLOB 'hmac:[0-9a-f][0-9a-f][0-9a-f][0-9a-f]*' AND length(key) = 17;
        UPDATE tokens SET key = 'oct key' WHERE key IN (SELECT thumbprint FROM keys WHERE kty = 'oct' AND kid IS NULL);
        DELETE FROM keys WHERE kty = 'oct' OR thumbprint GLOB 'hmac:*';
        """

    /// Version 2: `sighting_rollup`, the sightings counted per (token, source, cause, status class, minute), kept
    /// by the writer in the same transactions as the rows, so reports aggregate a table far smaller than
    /// `sightings` (and count the successful sightings `--ok-sightings count` does not store). Backfilled from
    /// `sightings` for databases written by version 1.
    /// Near-miss conditions for the backfill, from the same bound the writer uses.
    private static let near = Rollup.nearMissSQL(cause: "s.cause", logTime: "s.log_time", exp: "t.exp", nbf: "t.nbf")

    static let v2 = """
        CREATE TABLE sighting_rollup (
            token_id INTEGER NOT NULL,
            source_id INTEGER NOT NULL,
            cause TEXT NOT NULL,
            status_class INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            n INTEGER NOT NULL,
            first REAL,
            last REAL,
            refused INTEGER NOT NULL DEFAULT 0,
            near INTEGER NOT NULL DEFAULT 0,
            near_min REAL,
            near_max REAL,
            PRIMARY KEY (token_id, source_id, cause, status_class, minute)
        ) WITHOUT ROWID;
        INSERT INTO sighting_rollup
        SELECT s.token_id, s.source_id, s.cause,
               \(StatusClass.sql(status: "s.status")),
               \(Rollup.minuteSQL("s.log_time")),
               count(*), min(s.log_time), max(s.log_time), sum(s.line_error IS NOT NULL),
               sum(CASE WHEN \(near.expired) THEN 1
                        WHEN \(near.early) THEN 1 ELSE 0 END),
               min(CASE WHEN \(near.expired) THEN s.log_time - t.exp
                        WHEN \(near.early) THEN t.nbf - s.log_time END),
               max(CASE WHEN \(near.expired) THEN s.log_time - t.exp
                        WHEN \(near.early) THEN t.nbf - s.log_time END)
        FROM sightings s JOIN tokens t ON t.id = s.token_id
        GROUP BY 1, 2, 3, 4, 5;
        """

    static let v1 = """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            version TEXT NOT NULL,
            command_line TEXT NOT NULL,
            status TEXT NOT NULL,
            verify INTEGER NOT NULL,
            leeway REAL,
            sources INTEGER NOT NULL DEFAULT 0,
            sources_skipped INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            lines INTEGER NOT NULL DEFAULT 0,
            sightings INTEGER NOT NULL DEFAULT 0,
            ok_rolled INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            log_errors INTEGER NOT NULL DEFAULT 0,
            tokens_new INTEGER NOT NULL DEFAULT 0,
            input_errors INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            size INTEGER,
            mtime REAL,
            inode INTEGER,
            head_hash TEXT,
            head_len INTEGER,
            compressed INTEGER NOT NULL DEFAULT 0,
            bytes_scanned INTEGER NOT NULL DEFAULT 0,
            lines_scanned INTEGER NOT NULL DEFAULT 0,
            resume_offset INTEGER NOT NULL DEFAULT 0,
            resume_line INTEGER NOT NULL DEFAULT 1,
            completed INTEGER NOT NULL DEFAULT 0,
            first_run_id INTEGER,
            last_run_id INTEGER,
            replaced_by INTEGER
        );
        CREATE INDEX sources_path ON sources(path);

        CREATE TABLE tokens (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            alg TEXT,
            enc TEXT,
            kid TEXT,
            typ TEXT,
            iss TEXT,
            aud TEXT,
            sub_hash TEXT,
            sub TEXT,
            iat REAL,
            nbf REAL,
            exp REAL,
            signature TEXT NOT NULL,
            key TEXT,
            flags TEXT NOT NULL DEFAULT '',
            length INTEGER,
            first_seen REAL,
            last_seen REAL,
            sightings INTEGER NOT NULL DEFAULT 0,
            ok_rolled INTEGER NOT NULL DEFAULT 0,
            first_run_id INTEGER,
            last_run_id INTEGER
        );
        CREATE INDEX tokens_iss ON tokens(iss);
        CREATE INDEX tokens_kid ON tokens(kid);

        CREATE TABLE sightings (
            id INTEGER PRIMARY KEY,
            token_id INTEGER NOT NULL,
            source_id INTEGER NOT NULL,
            line INTEGER NOT NULL,
            byte_offset INTEGER NOT NULL,
            log_time REAL,
            status INTEGER,
            cause TEXT NOT NULL,
            causes TEXT NOT NULL,
            skew REAL,
            run_id INTEGER NOT NULL,
            time_source TEXT,
            truncation TEXT,
            line_error TEXT
        );

        CREATE TABLE log_errors (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL,
            line INTEGER NOT NULL,
            byte_offset INTEGER NOT NULL,
            log_time REAL,
            status INTEGER,
            cause TEXT NOT NULL,
            alternative_cause TEXT,
            rule TEXT,
            emitter TEXT,
            message TEXT,
            details TEXT,
            token_id INTEGER,
            run_id INTEGER NOT NULL
        );

        CREATE TABLE keys (
            thumbprint TEXT PRIMARY KEY,
            kid TEXT,
            kty TEXT NOT NULL,
            alg TEXT,
            origin TEXT NOT NULL,
            retired INTEGER NOT NULL,
            first_run_id INTEGER,
            last_run_id INTEGER
        );

        -- Every sighting whose token was refused (everything but ok and unverified).
        CREATE VIEW failures AS
        SELECT s.id AS sighting_id, s.log_time, datetime(s.log_time, 'unixepoch') AS log_time_utc, s.cause, s.causes,
               s.status, s.skew, t.fingerprint, t.kind, t.alg, t.kid, t.iss, t.signature, t.key, t.exp,
               src.path AS source, s.line, s.byte_offset, s.run_id
        FROM sightings s
        JOIN tokens t ON t.id = s.token_id
        JOIN sources src ON src.id = s.source_id
        WHERE \(Cause.failureSQL("s.cause"));

        CREATE VIEW failures_by_cause AS
        SELECT cause, count(*) AS sightings, count(DISTINCT token_id) AS tokens,
               min(log_time) AS first_seen, max(log_time) AS last_seen
        FROM sightings WHERE \(Cause.failureSQL("cause"))
        GROUP BY cause ORDER BY sightings DESC;

        CREATE VIEW failures_by_issuer AS
        SELECT t.iss, s.cause, count(*) AS sightings, count(DISTINCT s.token_id) AS tokens,
               min(s.log_time) AS first_seen, max(s.log_time) AS last_seen
        FROM sightings s JOIN tokens t ON t.id = s.token_id
        WHERE \(Cause.failureSQL("s.cause"))
        GROUP BY t.iss, s.cause ORDER BY sightings DESC;

        CREATE VIEW failures_by_kid AS
        SELECT t.kid, t.alg,
               CASE WHEN k.thumbprint IS NULL THEN 'unknown' WHEN k.retired THEN 'retired' ELSE 'current' END AS key_state,
               s.cause, count(*) AS sightings, count(DISTINCT s.token_id) AS tokens,
               min(s.log_time) AS first_seen, max(s.log_time) AS last_seen
        FROM sightings s JOIN tokens t ON t.id = s.token_id
        LEFT JOIN keys k ON k.kid = t.kid
        WHERE \(Cause.failureSQL("s.cause"))
        GROUP BY t.kid, t.alg, key_state, s.cause ORDER BY sightings DESC;

        -- skew = iat - log_time: positive when the issuer's clock is ahead of the logging host's.
        CREATE VIEW clock_skew AS
        SELECT t.iss, count(*) AS sightings, min(s.skew) AS min_skew, avg(s.skew) AS avg_skew, max(s.skew) AS max_skew,
               sum(abs(s.skew) < 1) AS under_1s, sum(abs(s.skew) >= 1 AND abs(s.skew) < 5) AS s1_5,
               sum(abs(s.skew) >= 5 AND abs(s.skew) < 30) AS s5_30, sum(abs(s.skew) >= 30 AND abs(s.skew) < 120) AS s30_120,
               sum(abs(s.skew) >= 120 AND abs(s.skew) < 600) AS s120_600, sum(abs(s.skew) >= 600) AS over_600s,
               sum(s.skew > 0) AS issued_after_log_time
        FROM sightings s JOIN tokens t ON t.id = s.token_id
        WHERE s.skew IS NOT NULL
        GROUP BY t.iss;
        """
}
