#if canImport(Glibc)
import Glibc
#endif
import FindingsStore
import SiftCore
import Testing

/// Starts `jwtsift ARGS` without a shell, output discarded; returns its pid.
func spawnJWTSift(_ args: [String]) -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([jwtsiftBinary()] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let rc = posix_spawn(&pid, jwtsiftBinary(), &actions, nil, argv, environ)
    precondition(rc == 0, "posix_spawn failed: \(rc)")
    return pid
}

/// Waits for `pid`; its exit status, or 128 + signal when a signal ended it.
func waitExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let sig = status & 0x7F
    return sig == 0 ? (status >> 8) & 0xFF : 128 + sig
}

/// A log big enough (≈ 27 MB) that a scan can be interrupted in the middle.
func bigLog(_ s: Scratch) -> String {
    let path = s.path("big.log")
    let tokens = (0..<2000).map { fakeToken($0) }
    guard let f = fopen(path, "w") else { return path }
    var chunk = ""
    for i in 0..<120_000 {
        let iso = CivilTime.iso8601(Double(1_700_000_000 + i))
        if i % 10 == 9 {
            chunk += "\(iso) ERROR auth: jwt expired for request \(i)\n"
        } else {
            chunk += "\(iso) 10.0.0.1 \"GET /api/\(i) HTTP/1.1\" 200 \"Authorization: Bearer \(tokens[i % 2000])\"\n"
        }
        if chunk.utf8.count > 1 << 20 {
            fputs(chunk, f)
            chunk = ""
        }
    }
    fputs(chunk, f)
    fclose(f)
    return path
}

import JWTScan

@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    @Test("SIGKILL at several points, then a re-run: the same database as one uninterrupted run")
    func sigkill() throws {
        let s = Scratch()
        let log = bigLog(s)
        s.write("hs.secret", testSecret)
        let args = [log, "-q", "--hmac-secret-file", s.path("hs.secret")]
        let reference = s.path("reference.sqlite")
        #expect(waitExit(spawnJWTSift(["scan"] + args + ["--db", reference])) == 0)
        let expected = try s.contents(db: reference)
        let full = try s.int("SELECT count(*) FROM sightings", db: reference)
        #expect(full == 108_000)

        var partial = 0
        for (i, delay) in [150_000, 400_000, 900_000, 1_600_000].enumerated() {
            let db = s.path("killed-\(i).sqlite")
            let pid = spawnJWTSift(["scan"] + args + ["--db", db])
            usleep(UInt32(delay))
            kill(pid, SIGKILL)
            _ = waitExit(pid)
            // What the killed run left is consistent: rows never beyond the committed progress.
            if let c = try? Connection(path: db, readOnly: true),
                let n = try? c.scalar("SELECT count(*) FROM sightings"), n > 0 && Int(n) < full
            {
                partial += 1
                let beyond = try c.scalar("""
                    SELECT count(*) FROM sightings s JOIN sources src ON src.id = s.source_id
                    WHERE s.byte_offset >= src.bytes_scanned
                    """)
                #expect(beyond == 0)
            }
            #expect(waitExit(spawnJWTSift(["scan"] + args + ["--db", db])) == 0)
            #expect(try s.contents(db: db) == expected, "killed after \(delay / 1000) ms")
            #expect(try s.query("SELECT status FROM runs ORDER BY id", db: db).last == ["done"])
        }
        #expect(partial >= 1, "no kill landed in the middle of a scan; the log is too small for this machine")
    }

    @Test("SIGINT finishes the current batch, exits 130 and marks the run interrupted; the next run completes it")
    func sigint() throws {
        let s = Scratch()
        let log = bigLog(s)
        let reference = s.path("reference.sqlite")
        #expect(waitExit(spawnJWTSift(["scan", log, "-q", "--db", reference])) == 0)
        let pid = spawnJWTSift(["scan", log, "-q", "--db", s.db])
        usleep(500_000)
        kill(pid, SIGINT)
        let status = waitExit(pid)
        if status == 130 {
            #expect(try s.query("SELECT status FROM runs") == [["interrupted"]])
        } else {
            #expect(status == 0, "the scan finished before the signal")
        }
        #expect(waitExit(spawnJWTSift(["scan", log, "-q", "--db", s.db])) == 0)
        #expect(try s.contents() == s.contents(db: reference))
    }

    @Test("a second run on the same database waits for the lock, or stops with a clear message")
    func concurrentRuns() throws {
        let s = Scratch()
        let log = bigLog(s)
        let first = spawnJWTSift(["scan", log, "-q", "--db", s.db])
        usleep(300_000)
        let second = s.scan([log, "--lock-timeout", "0"])
        let firstStatus = waitExit(first)
        #expect(firstStatus == 0)
        if second.status == 4 {
            #expect(second.err.contains("another jwtsift run is writing to this database"))
            #expect(second.err.contains(s.db))
        } else {
            #expect(second.status == 0, "the first run finished before the second started: \(second.err)")
        }
        // A run that waits long enough gets the lock and finds nothing new.
        let third = spawnJWTSift(["scan", log, "-q", "--db", s.db, "--lock-timeout", "60"])
        #expect(waitExit(third) == 0)
        #expect(try s.int("SELECT count(*) FROM sightings") == 108_000)
        #expect(try s.int("SELECT count(*) FROM sources") == 1)
    }
}
