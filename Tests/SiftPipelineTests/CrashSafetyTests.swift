import Dispatch
import FindingsStore
import JWTScan
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Starts `jwtsift ARGS` without a shell, output discarded; returns its pid. With `stdin`, the child reads that
/// descriptor as standard input and `closing` is closed in the child (the pipe's other end).
func spawnJWTSift(_ args: [String], stdin: Int32? = nil, closing: Int32? = nil) -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
    if let closing { posix_spawn_file_actions_addclose(&actions, closing) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([jwtsiftBinary()] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let rc = posix_spawn(&pid, jwtsiftBinary(), &actions, nil, argv, environ)
    precondition(rc == 0, "posix_spawn failed: \(rc)")
    return pid
}

/// Starts `jwtsift ARGS` reading standard input from a pipe that a background feeder fills with `file`'s bytes
/// over and over until the process exits: a scan of `-` that cannot finish by itself, so a signal sent to it
/// always lands in the middle of the run. Returns the pid and a wait for the feeder (call after `waitExit`).
func spawnJWTSiftFeeding(_ args: [String], endless file: String) -> (pid: pid_t, feeder: DispatchGroup) {
    signal(SIGPIPE, SIG_IGN)
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    let pid = spawnJWTSift(args, stdin: fds[0], closing: fds[1])
    close(fds[0])
    let bytes = Array(readAll(file).utf8)
    let out = fds[1]
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        // Until the reader goes away (EPIPE): the input never ends on its own.
        writing: while true {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(out, $0.baseAddress! + done, $0.count - done) }
                if n <= 0 { break writing }
                done += n
            }
        }
        close(out)
    }
    return (pid, group)
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

/// Starts `jwtsift ARGS` (a scan into `db`), waits until its first rows are committed (at most 30 s), waits `delay`
/// microseconds more and kills it (SIGKILL). A delay from the first commit, not from the start: on a loaded machine
/// starting up alone took longer than fixed delays.
func killAfterFirstCommit(_ args: [String], db: String, delay: Int) {
    let pid = spawnJWTSift(args)
    var waited = 0
    while waited < 30_000_000,
        (try? Connection(path: db, readOnly: true).scalar("SELECT count(*) FROM sightings")).flatMap({ $0 }) ?? 0 == 0
    {
        usleep(5_000)
        waited += 5_000
    }
    usleep(UInt32(delay))
    kill(pid, SIGKILL)
    _ = waitExit(pid)
}

/// Sightings stored at or past their source's committed progress: none, however a run ended.
let sightingsBeyondProgress = """
    SELECT count(*) FROM sightings s JOIN sources src ON src.id = s.source_id WHERE s.byte_offset >= src.bytes_scanned
    """

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
        // Each kill follows the run's first committed batch by a growing delay.
        for (i, delay) in [0, 60_000, 250_000, 700_000].enumerated() {
            let db = s.path("killed-\(i).sqlite")
            killAfterFirstCommit(["scan"] + args + ["--db", db], db: db, delay: delay)
            // What the killed run left is consistent: rows never beyond the committed progress.
            if let c = try? Connection(path: db, readOnly: true),
                let n = try? c.scalar("SELECT count(*) FROM sightings"), n > 0 && Int(n) < full
            {
                partial += 1
                #expect(try c.scalar(sightingsBeyondProgress) == 0)
            }
            #expect(waitExit(spawnJWTSift(["scan"] + args + ["--db", db])) == 0)
            let when = "\(delay / 1000) ms after the first batch"
            #expect(try s.contents(db: db) == expected, "killed after \(when)")
            #expect(try s.query("SELECT status FROM runs ORDER BY id", db: db).last == ["done"])
        }
        #expect(partial >= 1, "no kill landed in the middle of a scan; the log is too small for this machine")
    }

    /// Small files are committed several to a transaction (``StoreWriter``'s group, with the plans that made
    /// their sources): a kill loses the open group whole, and the next run reads those files again.
    @Test("SIGKILL during a scan of many small files, then a re-run: the same database as one uninterrupted run")
    func sigkillSmallFiles() throws {
        let s = Scratch()
        let folder = smallLogs(s, files: 1500, lines: 40, distinct: 2000)
        s.write("hs.secret", testSecret)
        let args = [folder, "-q", "--hmac-secret-file", s.path("hs.secret")]
        let reference = s.path("reference.sqlite")
        #expect(waitExit(spawnJWTSift(["scan"] + args + ["--db", reference])) == 0)
        let expected = try s.contents(db: reference)
        let sources = "SELECT count(*) FROM sources"
        #expect(try s.int(sources, db: reference) == 1500)
        var partial = 0
        for (i, delay) in [0, 100_000, 400_000].enumerated() {
            let db = s.path("killed-\(i).sqlite")
            killAfterFirstCommit(["scan"] + args + ["--db", db], db: db, delay: delay)
            if let c = try? Connection(path: db, readOnly: true), let n = try? c.scalar(sources), n > 0 && n < 1500 {
                partial += 1
                // No row beyond its source's progress.
                #expect(try c.scalar(sightingsBeyondProgress) == 0)
                // At most the source being read when the group was committed is left unfinished (its plan).
                #expect(try c.scalar("SELECT count(*) FROM sources WHERE completed = 0") ?? 0 <= 1)
            }
            #expect(waitExit(spawnJWTSift(["scan"] + args + ["--db", db])) == 0)
            #expect(try s.contents(db: db) == expected, "killed \(delay / 1000) ms after the first commit")
        }
        #expect(partial >= 1, "no kill landed in the middle of the scan")
    }

    @Test("SIGINT in the middle of a scan finishes the current batch, exits 130 and marks the run interrupted")
    func sigint() throws {
        let s = Scratch()
        let log = bigLog(s)
        // Standard input that never ends: the interrupt path is the only way this run stops.
        let (pid, feeder) = spawnJWTSiftFeeding(["scan", "-", "-q", "--db", s.db], endless: log)
        usleep(700_000)
        kill(pid, SIGINT)
        #expect(waitExit(pid) == 130)
        feeder.wait()
        #expect(try s.query("SELECT status FROM runs") == [["interrupted"]])
        // What was committed is consistent: rows never beyond the recorded progress, and some rows were written.
        #expect(try s.int("SELECT count(*) FROM sightings") > 0)
        #expect(
            try s.int(
                """
                SELECT count(*) FROM sightings s JOIN sources src ON src.id = s.source_id
                WHERE s.byte_offset >= src.bytes_scanned
                """) == 0)
        #expect(try s.query("SELECT completed FROM sources") == [["0"]])
    }

    @Test("an interrupted file scan resumes to the same database as one uninterrupted run")
    func sigintResume() throws {
        let s = Scratch()
        let log = bigLog(s)
        let reference = s.path("reference.sqlite")
        #expect(waitExit(spawnJWTSift(["scan", log, "-q", "--db", reference])) == 0)
        let pid = spawnJWTSift(["scan", log, "-q", "--db", s.db])
        usleep(500_000)
        kill(pid, SIGINT)
        let status = waitExit(pid)
        #expect(status == 130 || status == 0)
        #expect(waitExit(spawnJWTSift(["scan", log, "-q", "--db", s.db])) == 0)
        #expect(try s.contents() == s.contents(db: reference))
    }

    @Test("a second run on a database another run holds stops with a clear message; one that waits gets the lock")
    func concurrentRuns() throws {
        let s = Scratch()
        let log = bigLog(s)
        // The first run reads endless standard input: it holds the lock until it is interrupted.
        let (first, feeder) = spawnJWTSiftFeeding(["scan", "-", "-q", "--db", s.db], endless: log)
        usleep(500_000)
        let second = s.scan([log, "--lock-timeout", "0"])
        #expect(second.status == 4)
        #expect(second.err.contains("another jwtsift run is writing to this database"))
        #expect(second.err.contains(s.db))
        // A run that waits gets the lock as soon as the first one ends.
        let third = spawnJWTSift(["scan", log, "-q", "--db", s.db, "--lock-timeout", "60"])
        usleep(300_000)
        kill(first, SIGINT)
        #expect(waitExit(first) == 130)
        feeder.wait()
        #expect(waitExit(third) == 0)
        #expect(try s.query("SELECT status FROM runs ORDER BY id") == [["interrupted"], ["done"]])
        #expect(
            try s.int(
                "SELECT count(*) FROM sightings s JOIN sources src ON src.id = s.source_id WHERE src.path = '\(log)'")
                == 108_000)
    }
}
