import FindingsStore
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The samples' keys, as the README's quick start gives them.
private func sampleKeyArgs() -> [String] {
    let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    return [
        "--keys", root + "/samples/keys/jwks.json", "--retired-keys", root + "/samples/keys/retired.jwks.json",
        "--hmac-secret-file", root + "/samples/keys/orders-hs256.secret",
    ]
}

private func sampleLogs(_ name: String) -> String {
    "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/samples/logs/" + name
}

/// `jwtsift report --format json` with the database path and the run count left out (they differ by design).
private func reportJSON(_ db: String) -> String {
    let r = runCLI(["report", "--db", db, "--format", "json", "--generated-at", "2024-01-01T00:00:00Z"])
    return r.out.split(separator: "\n").filter { !$0.contains("\"database\":") }.map {
        String($0).replacingOccurrences(of: "\"runs\": 1,", with: "").replacingOccurrences(of: "\"runs\": 2,", with: "")
    }.joined(separator: "\n")
}

@Suite("jwtsift merge", .serialized)
struct MergeTests {
    @Test("two shards merged = one scan of the same files: rows, tokens, error lines, rollups, causes, report")
    func equalsSingleScan() throws {
        let s = Scratch()
        let keys = sampleKeyArgs()
        let single = s.path("single.sqlite")
        let all = ["nginx", "envoy", "haproxy", "kong", "node", "spring"].map(sampleLogs)
        #expect(s.scan(all + keys, db: single).status == 0)
        #expect(s.scan(Array(all[0..<3]) + keys, db: s.path("a.sqlite")).status == 0)
        #expect(s.scan(Array(all[3...]) + keys, db: s.path("b.sqlite")).status == 0)
        let out = s.path("out.sqlite")
        let r = runCLI(["merge", "--db", out, s.path("a.sqlite"), s.path("b.sqlite")])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("a.sqlite: merged 1 run, 3 sources"), "\(r.err)")
        #expect(r.err.contains("next: jwtsift report --db"))

        #expect(try s.contents(db: out) == s.contents(db: single))
        // Hosts from both shards (the syslog HOSTNAME of haproxy's lines, the JSON host of others) map by name.
        let hosts = "SELECT name FROM hosts WHERE id IN (SELECT host_id FROM sightings) ORDER BY 1"
        #expect(try s.query(hosts, db: out) == s.query(hosts, db: single))
        #expect(try s.int("SELECT count(*) FROM sightings WHERE host_id IS NOT NULL", db: out) > 0)
        for sql in [
            "SELECT cause, sightings, tokens, first_seen, last_seen FROM failures_by_cause ORDER BY cause",
            "SELECT cause, count(*) FROM log_errors GROUP BY cause ORDER BY cause",
            "SELECT fingerprint, kind, alg, kid, iss, aud, iat, exp, signature, key, flags, length FROM tokens ORDER BY 1",
            "SELECT thumbprint, kid, kty, alg, retired FROM keys ORDER BY 1",
            "SELECT sum(n), sum(refused), sum(near), min(near_min), max(near_max) FROM sighting_rollup",
        ] {
            #expect(try s.query(sql, db: out) == s.query(sql, db: single), "\(sql)")
        }
        // Tokens seen in both halves are one row each, their sightings summed.
        let shared = try s.int(
            "SELECT count(*) FROM tokens WHERE first_run_id <> last_run_id", db: out)
        #expect(shared > 0)
        #expect(try s.int("SELECT count(*) FROM runs", db: out) == 2)
        #expect(try s.int("SELECT count(*) FROM merged_shards", db: out) == 2)
        // Runs and sources keep where they came from: ids remapped, every row points at a row that exists.
        #expect(
            try s.int(
                "SELECT count(*) FROM sightings WHERE source_id NOT IN (SELECT id FROM sources) OR run_id NOT IN (SELECT id FROM runs) OR token_id NOT IN (SELECT id FROM tokens)",
                db: out) == 0)
        #expect(try s.query("SELECT value FROM settings", db: out) != s.query("SELECT value FROM settings", db: single))
        // report reads the merged database as any other.
        let merged = reportJSON(out)
        #expect(merged.count > 1000)
        #expect(merged == reportJSON(single))
        #expect(runCLI(["report", "--db", out]).status == 0)
    }

    @Test("merging a shard again adds nothing; a shard scanned again since is refused")
    func idempotent() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<300))
        s.write("b.log", accessLog(lines: 300..<500))
        #expect(s.scan([s.path("a.log")], db: s.path("a.sqlite")).status == 0)
        #expect(s.scan([s.path("b.log")], db: s.path("b.sqlite")).status == 0)
        let out = s.path("out.sqlite")
        #expect(runCLI(["merge", "--db", out, s.path("a.sqlite"), s.path("b.sqlite")]).status == 0)
        let before = try s.contents(db: out)
        let again = runCLI(["merge", "--db", out, s.path("b.sqlite"), s.path("a.sqlite")])
        #expect(again.status == 0)
        #expect(again.err.contains("b.sqlite: already merged, nothing added"), "\(again.err)")
        #expect(try s.contents(db: out) == before)
        #expect(try s.int("SELECT count(*) FROM runs", db: out) == 2)

        // The shard grew (a second run): its first run is in OUT, so merging it again would count it twice.
        s.write("a.log", accessLog(lines: 300..<320), append: true)
        #expect(s.scan([s.path("a.log")], db: s.path("a.sqlite")).status == 0)
        let grown = runCLI(["merge", "--db", out, s.path("a.sqlite")])
        #expect(grown.status == 2)
        #expect(grown.err.contains("1 of this shard's 2 runs were merged before"), "\(grown.err)")
        #expect(try s.contents(db: out) == before)

        // A merge of merges: its shards' runs come along, so a shard already in the target is not counted twice.
        let second = s.path("second.sqlite")
        #expect(runCLI(["merge", "--db", second, s.path("b.sqlite")]).status == 0)
        let overlap = runCLI(["merge", "--db", second, out])
        #expect(overlap.status == 2 && overlap.err.contains("holds 1 shard runs that the output already has"))
        // The output itself is never a shard.
        let itself = runCLI(["merge", "--db", out, out])
        #expect(itself.status == 2 && itself.err.contains("the output database itself"), "\(itself.err)")
    }

    @Test("a shard of another schema version, or not a findings database, is refused naming the file")
    func refusals() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<100))
        let shard = s.path("old.sqlite")
        #expect(s.scan([s.path("a.log")], db: shard).status == 0)
        let c = try Connection(path: shard)
        try c.execute("PRAGMA user_version = \(Schema.version - 1)")
        c.close()
        let out = s.path("out.sqlite")
        let r = runCLI(["merge", "--db", out, shard])
        #expect(r.status == 2)
        #expect(
            r.err.contains(
                "\(shard): schema version \(Schema.version - 1), but this jwtsift writes version \(Schema.version)"),
            "\(r.err)")
        #expect(try s.int("SELECT count(*) FROM runs", db: out) == 0)

        s.write("junk.sqlite", String(repeating: "junk", count: 2000))
        let junk = runCLI(["merge", "--db", out, s.path("junk.sqlite")])
        #expect(junk.status == 2 && junk.err.contains("junk.sqlite: not a jwtsift findings database"), "\(junk.err)")
        let other = s.path("other.sqlite")
        let o = try Connection(path: other)
        try o.execute("CREATE TABLE t (a)")
        o.close()
        let notOurs = runCLI(["merge", "--db", out, other])
        #expect(notOurs.status == 2 && notOurs.err.contains("it has no tokens, sightings and runs tables"))
        let missing = runCLI(["merge", "--db", out, s.path("missing.sqlite")])
        #expect(missing.status == 3 && missing.err.contains("missing.sqlite: cannot read this shard"))
        // A damaged shard (every page after the first overwritten): refused, the output as before.
        s.write("c.log", accessLog(lines: 0..<3000))
        let damaged = s.path("damaged.sqlite")
        #expect(s.scan([s.path("c.log")], db: damaged).status == 0)
        #expect(system("dd if=/dev/zero of='\(damaged)' bs=16384 seek=1 count=64 conv=notrunc status=none") == 0)
        let hurt = runCLI(["merge", "--db", out, damaged])
        #expect(hurt.status == 2 && hurt.err.contains("damaged.sqlite: the shard is damaged"), "\(hurt.err)")
        #expect(try s.int("SELECT count(*) FROM runs", db: out) == 0)
        // A refused shard among good ones: the good ones are merged, the exit status says one was refused.
        s.write("b.log", accessLog(lines: 0..<50))
        #expect(s.scan([s.path("b.log")], db: s.path("b.sqlite")).status == 0)
        let mixed = runCLI(["merge", "--db", out, shard, s.path("b.sqlite")])
        #expect(mixed.status == 2)
        #expect(try s.int("SELECT count(*) FROM sightings", db: out) == 45)
    }

    @Test("SIGKILL during a merge leaves the output as before or after each shard; a re-run completes it")
    func sigkill() throws {
        let s = Scratch()
        let log = bigLog(s)
        s.write("small.log", accessLog(lines: 0..<100))
        // Two big shards (each its own database, its own salt) after a small one.
        #expect(s.scan([s.path("small.log")], db: s.path("s0.sqlite")).status == 0)
        for i in 1...2 { #expect(s.scan([log], db: s.path("s\(i).sqlite")).status == 0) }
        let shards = (0...2).map { s.path("s\($0).sqlite") }
        // The state after each prefix of the shards.
        var states: [[String]] = []
        for n in 1...3 {
            let ref = s.path("ref-\(n).sqlite")
            #expect(runCLI(["merge", "-q", "--db", ref] + Array(shards[0..<n])).status == 0)
            states.append(try s.contents(db: ref))
        }
        #expect(Set(states.map(\.count)).count == 3)
        var killedMidway = 0
        for (i, delay) in [30_000, 150_000, 400_000].enumerated() {
            let out = s.path("killed-\(i).sqlite")
            #expect(runCLI(["merge", "-q", "--db", out, shards[0]]).status == 0)
            let pid = spawnJWTSift(["merge", "-q", "--db", out] + Array(shards[1...]))
            usleep(UInt32(delay))
            kill(pid, SIGKILL)
            if waitExit(pid) == 128 + SIGKILL { killedMidway += 1 }
            let left = try s.contents(db: out)
            #expect(states.contains(left), "killed \(delay / 1000) ms in: not the state before or after a shard")
            // The indexes the merge deferred are back on the next open; a re-run merges the rest.
            #expect(runCLI(["merge", "-q", "--db", out] + shards).status == 0)
            #expect(try s.contents(db: out) == states[2])
        }
        #expect(killedMidway >= 1, "no kill landed during a merge")
    }

    @Test("every table of the schema is merged (a new table needs a rule in MergePlan)")
    func everyTable() throws {
        let s = Scratch()
        _ = try FindingsDB(path: s.db, lockTimeout: 0) { _ in "" }
        let tables = try s.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).compactMap { $0[0] }
        #expect(tables.sorted() == FindingsDB.mergedTables.sorted())
    }

    @Test("scan - --stdin-name NAME --stdin-mtime T: the rows of a scan of the file itself")
    func stdinName() throws {
        let s = Scratch()
        // A yearless syslog stamp takes its year from the file's mtime (2023 here), or from --stdin-mtime.
        s.write(
            "app.log",
            accessLog(lines: 0..<50) + "Nov 14 22:13:05 host app[1]: jwt expired\n")
        let file = s.path("app.log")
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        #expect(s.scan([file], db: s.path("file.sqlite")).status == 0)
        let piped = runCLI(
            ["scan", "-q", "--db", s.path("stdin.sqlite"), "-", "--stdin-name", file, "--stdin-mtime", "1700000000"],
            stdin: "cat '\(file)'")
        #expect(piped.status == 0, "\(piped.err)")
        #expect(try s.contents(db: s.path("stdin.sqlite")) == s.contents(db: s.path("file.sqlite")))
        #expect(
            try s.query("SELECT log_time FROM log_errors WHERE message LIKE 'Nov 14%'", db: s.path("stdin.sqlite"))
                == [["1699999985.0"]])
        let ndjson = runCLI(
            ["scan", "--format", "ndjson", "-", "--stdin-name", "hdfs://nn/logs/app.log"], stdin: "cat '\(file)'")
        #expect(ndjson.out.contains(#""source":"hdfs://nn/logs/app.log""#), "\(ndjson.out.prefix(300))")
        #expect(runCLI(["scan", "--format", "ndjson", file, "--stdin-name", "x"]).status == 2)
    }
}
