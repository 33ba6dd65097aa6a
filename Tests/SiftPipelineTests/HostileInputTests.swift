import Dispatch
import FindingsStore
import JOSECrypto
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock.
private func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Starts `jwtsift ARGS` with stdout discarded and stderr into `errPath`. `stdin` becomes descriptor 0, `extra`
/// is duplicated onto descriptor `extra.to` (a `<(…)` path is `/dev/fd/N`); `closing` is closed in the child.
private func spawn(
    _ args: [String], stdin: Int32? = nil, extra: (from: Int32, to: Int32)? = nil, closing: Int32? = nil,
    errPath: String
) -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
    if let extra { posix_spawn_file_actions_adddup2(&actions, extra.from, extra.to) }
    if let closing { posix_spawn_file_actions_addclose(&actions, closing) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // As a shell starts it: no signal blocked, SIGINT and SIGTERM at their defaults (this thread, a test
    // runner's, may block them; a child would inherit that mask).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([jwtsiftBinary()] + args).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let rc = posix_spawn(&pid, jwtsiftBinary(), &actions, &attributes, argv, environ)
    precondition(rc == 0, "posix_spawn failed: \(rc)")
    return pid
}

/// Waits up to `seconds` for `pid`: its exit status (128 + signal when a signal ended it), or nil when it was
/// still running (it is then killed, so a regression fails the test instead of hanging the suite).
private func waitExit(_ pid: pid_t, within seconds: Double) -> Int32? {
    let deadline = now() + seconds
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if r < 0 && errno != EINTR { return nil }
        if now() > deadline {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return nil
        }
        usleep(2_000)
    }
    let sig = status & 0x7F
    return sig == 0 ? (status >> 8) & 0xFF : 128 + sig
}

/// Polls `condition` every 10 ms for up to `seconds`.
private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = now() + seconds
    while now() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Whether process `pid` has `path` open (a descriptor in /proc/PID/fd points to it).
private func hasOpen(_ pid: pid_t, _ path: String) -> Bool {
    guard let d = opendir("/proc/\(pid)/fd") else { return false }
    defer { closedir(d) }
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/fd/\(name)", &buf, buf.count - 1)
        if n > 0, String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == path { return true }
    }
    return false
}

/// Writes `bytes` to `fd` (opening `path` for writing first when given, which waits for a reader), then closes.
private func feed(_ bytes: [UInt8], to fd: Int32? = nil, path: String? = nil) -> DispatchGroup {
    signal(SIGPIPE, SIG_IGN)
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        let out = fd ?? open(path!, O_WRONLY)
        guard out >= 0 else { return }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(out, $0.baseAddress! + done, min(65536, $0.count - done)) }
            if n <= 0 { break }
            done += n
        }
        close(out)
    }
    return group
}

@Suite("Hostile options: every number is bounded, a bad one is a usage error naming the option and its range")
struct OptionBoundsTests {
    @Test(
        "out-of-range, overflowing, NaN and infinite values exit 2 with the option and its range",
        arguments: [
            (["scan", "LOG", "--max-line", "9223372036854775807"], "--max-line", "64 to 268435456"),
            (["scan", "LOG", "--max-line", "100000000000"], "--max-line", "64 to 268435456"),
            (["scan", "LOG", "--max-line", "99999999999999999999"], "--max-line", "64 to 268435456"),
            (["scan", "LOG", "--max-line", "-1"], "--max-line", "64 to 268435456"),
            (["scan", "LOG", "--lock-timeout", "1e300"], "--lock-timeout", "0 to 86400"),
            (["scan", "LOG", "--lock-timeout", "-1"], "--lock-timeout", "0 to 86400"),
            (["scan", "LOG", "--lock-timeout", "nan"], "--lock-timeout", "0 to 86400"),
            (["scan", "LOG", "--lock-timeout", "inf"], "--lock-timeout", "0 to 86400"),
            (["scan", "LOG", "--jobs", "0"], "--jobs", "1 to 1024"),
            (["scan", "LOG", "--jobs", "18446744073709551616"], "--jobs", "1 to 1024"),
            (["scan", "LOG", "--leeway", "-5"], "--leeway", "0 to 31536000"),
            (["scan", "LOG", "--leeway", "1e400"], "--leeway", "0 to 31536000"),
            (["scan", "LOG", "--timezone", "+14:30"], "--timezone", "-14:00 to +14:00"),
            (["scan", "LOG", "--timezone", "-99:00"], "--timezone", "-14:00 to +14:00"),
            (["scan", "LOG", "--since", "1e300"], "--since", "0 to 253402300799"),
            (["scan", "LOG", "--until", "1e20"], "--until", "0 to 253402300799"),
            (["inspect", "-", "--leeway", "nan"], "--leeway", "0 to 31536000"),
            (["inspect", "-", "--at", "1e300"], "--at", "0 to 253402300799"),
            (["report", "--limit", "0"], "--limit", "1 to 10000"),
            (["report", "--limit", "9223372036854775807"], "--limit", "1 to 10000"),
            (["report", "--since", "inf"], "--since", "0 to 253402300799"),
            (["report", "--generated-at", "1e20"], "--generated-at", "0 to 253402300799"),
        ])
    func refused(args: [String], option: String, range: String) throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<5))
        let full = args.map { $0 == "LOG" ? s.path("a.log") : $0 } + (args[0] == "inspect" ? [] : ["--db", s.db])
        let r = runCLI(full, stdin: args[0] == "inspect" ? "echo x" : nil)
        #expect(r.status == 2, "\(args): \(r.err)")
        #expect(r.err.contains(option), "\(r.err)")
        #expect(r.err.contains(range), "\(r.err)")
        #expect(access(s.db, F_OK) != 0, "nothing was opened")
    }

    @Test("the bounds themselves are accepted; --help shows every range")
    func boundsAcceptedAndDocumented() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<20))
        let r = s.scan([
            s.path("a.log"), "--max-line", "64", "--lock-timeout", "86400", "--jobs", "1", "--leeway", "31536000",
            "--timezone", "-14:00", "--since", "0", "--until", "253402300799",
        ])
        #expect(r.status == 0, "\(r.err)")
        #expect(try s.int("SELECT count(*) FROM sightings") == 18)
        /// Help text with its line wrapping undone.
        func help(_ command: String) -> String {
            runCLI([command, "--help"]).out.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        }
        let scanHelp = help("scan")
        for range in ["64 to 268435456", "0 to 86400", "1 to 1024", "0 to 31536000", "-14:00 to +14:00"] {
            #expect(scanHelp.contains(range), "scan --help lacks \(range)")
        }
        #expect(help("inspect").contains("0 to 31536000"))
        #expect(help("report").contains("1 to 10000"))
    }
}

@Suite("Hostile databases")
struct DatabaseVersionTests {
    @Test(
        "a schema version outside 0…current is refused with exit 4 and a message; nothing is written",
        arguments: [-1, Int(Int32.min), Schema.version + 1])
    func badVersion(version: Int) throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<10))
        #expect(s.scan([s.path("a.log")]).status == 0)
        let c = try Connection(path: s.db)
        try c.execute("PRAGMA user_version = \(version)")
        c.close()
        let r = s.scan([s.path("a.log")])
        #expect(r.status == 4, "\(r.err)")
        #expect(r.err.contains(s.db))
        #expect(r.err.contains("schema version \(version)"))
        #expect(try s.int("SELECT count(*) FROM runs") == 1)
        #expect(try s.int("PRAGMA user_version") == version)
        #expect(runCLI(["report", "--db", s.db]).status == 4)
    }
}

@Suite("SIGINT/SIGTERM end every wait at once", .serialized)
struct SignalWaitTests {
    /// The upper bound on a signal's effect the tests accept (measured ≈ 5–40 ms on the 2-core VM).
    static let bound = 1.0

    @Test("a FIFO with no writer: opened without waiting; SIGTERM ends the wait, the run is marked interrupted")
    func fifoWithoutWriter() throws {
        let s = Scratch()
        let fifo = s.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let pid = spawn(["scan", fifo, "-q", "--db", s.db], errPath: s.path("err"))
        // The FIFO is open (not stuck in open()) and the run has begun.
        let opened = eventually(within: 5) { hasOpen(pid, fifo) }
        #expect(opened, "jwtsift never got past open() of a FIFO without a writer")
        usleep(100_000)
        let sent = now()
        kill(pid, SIGTERM)
        let status = waitExit(pid, within: 5)
        let took = now() - sent
        print("SIGTERM → exit, FIFO without a writer: \(Int(took * 1000)) ms")
        #expect(status == 143)
        #expect(took < Self.bound, "took \(took) s")
        #expect(try s.query("SELECT status FROM runs") == [["interrupted"]])
        #expect(try s.query("SELECT path, completed, head_hash FROM sources") == [[fifo, "0", nil]])
    }

    @Test("idle standard input (sleep 30 | jwtsift scan -): SIGTERM ends the wait for input")
    func idleStdin() throws {
        let s = Scratch()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        // Half a line, then nothing: the writer stays open, as `sleep 30 |` would.
        _ = "2023-11-14T22:13:05Z half a line".withCString { write(fds[1], $0, strlen($0)) }
        let pid = spawn(["scan", "-", "-q", "--db", s.db], stdin: fds[0], closing: fds[1], errPath: s.path("err"))
        close(fds[0])
        defer { close(fds[1]) }
        let running = eventually(within: 5) {
            (try? s.query("SELECT status FROM runs")) == [["running"]] && hasOpen(pid, s.db)
        }
        #expect(running)
        // Until the reader sits in its wait for input.
        _ = eventually(within: 3) { ["pipe", "poll"].contains { readAll("/proc/\(pid)/wchan").contains($0) } }
        usleep(100_000)
        let sent = now()
        kill(pid, SIGTERM)
        let status = waitExit(pid, within: 5)
        let took = now() - sent
        print("SIGTERM → exit, idle standard input: \(Int(took * 1000)) ms")
        #expect(status == 143)
        #expect(took < Self.bound, "took \(took) s")
        #expect(try s.query("SELECT status FROM runs") == [["interrupted"]])
        #expect(readAll(s.path("err")).contains("stopped by a signal"))
    }

    @Test("waiting for another run's lock: SIGINT ends the wait (exit 130, a message, nothing begun)")
    func lockWait() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<10))
        #expect(s.scan([s.path("a.log")]).status == 0)
        // This process plays the other run: it holds the run lock.
        let holder = open(s.db, O_RDWR)
        #expect(holder >= 0)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        s.write("b.log", accessLog(lines: 10..<20))
        let pid = spawn(["scan", s.path("b.log"), "-q", "--db", s.db, "--lock-timeout", "600"], errPath: s.path("err"))
        usleep(400_000)
        let sent = now()
        kill(pid, SIGINT)
        let status = waitExit(pid, within: 5)
        let took = now() - sent
        print("SIGINT → exit, waiting for the database lock: \(Int(took * 1000)) ms")
        #expect(status == 130)
        #expect(took < Self.bound, "took \(took) s")
        #expect(readAll(s.path("err")).contains("stopped by a signal while waiting"))
        flock(holder, LOCK_UN)
        #expect(try s.query("SELECT status FROM runs") == [["done"]])
    }
}

@Suite("Streams with --db: read once, nothing dropped", .serialized)
struct StreamDatabaseTests {
    static func reference(_ s: Scratch, _ log: String) throws -> (sightings: Int, errors: Int) {
        let ref = s.path("reference.sqlite")
        #expect(s.scan([log, "--no-verify"], db: ref).status == 0)
        return (
            try s.int("SELECT count(*) FROM sightings", db: ref), try s.int("SELECT count(*) FROM log_errors", db: ref)
        )
    }

    @Test("a FIFO with one writer: every byte scanned once, the run done, no resume identity")
    func fifoWithWriter() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<400))
        let expected = try Self.reference(s, s.path("a.log"))
        let fifo = s.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let feeder = feed(Array(readAll(s.path("a.log")).utf8), path: fifo)
        let pid = spawn(["scan", fifo, "-q", "--no-verify", "--db", s.db], errPath: s.path("err"))
        let status = waitExit(pid, within: 10)
        if status == nil {
            // Unblock a feeder still waiting for a reader.
            let r = open(fifo, O_RDONLY | O_NONBLOCK)
            if r >= 0 { close(r) }
        }
        feeder.wait()
        #expect(status == 0, "\(readAll(s.path("err")))")
        #expect(try s.int("SELECT count(*) FROM sightings") == expected.sightings)
        #expect(try s.int("SELECT count(*) FROM log_errors") == expected.errors)
        #expect(try s.query("SELECT status FROM runs") == [["done"]])
        #expect(try s.query("SELECT completed, head_hash, tail_hash FROM sources") == [["1", nil, nil]])
    }

    @Test("a pipe given by path (scan <(cat log)): the first 4 KiB are not lost")
    func pipeByPath() throws {
        let s = Scratch()
        s.write("a.log", accessLog(lines: 0..<400))
        let expected = try Self.reference(s, s.path("a.log"))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let pid = spawn(
            ["scan", "/dev/fd/5", "-q", "--no-verify", "--db", s.db], extra: (fds[0], 5), closing: fds[1],
            errPath: s.path("err"))
        close(fds[0])
        let feeder = feed(Array(readAll(s.path("a.log")).utf8), to: fds[1])
        let status = waitExit(pid, within: 10)
        feeder.wait()
        #expect(status == 0, "\(readAll(s.path("err")))")
        #expect(try s.int("SELECT count(*) FROM sightings") == expected.sightings)
        #expect(try s.int("SELECT count(*) FROM log_errors") == expected.errors)
        #expect(try s.int("SELECT min(line) FROM sightings") == 1)
    }
}

@Suite("Rewritten in place")
struct CopyTruncateTests {
    @Test("copytruncate, then rewritten past the old size with the same first 4 KiB: a new source, as a fresh scan")
    func sameHead() throws {
        let s = Scratch()
        let old = accessLog(lines: 0..<100)
        s.write("a.log", old)
        #expect(s.scan([s.path("a.log")]).status == 0)
        var before = stat()
        stat(s.path("a.log"), &before)
        // copytruncate: copied away, truncated in place (same inode), then the service writes again. The new
        // contents start with the same lines (same first 4 KiB), then differ, and end up longer than before.
        let new = accessLog(lines: 0..<30) + accessLog(lines: 1000..<1100, distinct: 37)
        #expect(Array(new.utf8).prefix(4096) == Array(old.utf8).prefix(4096))
        #expect(new.utf8.count > old.utf8.count)
        truncate(s.path("a.log"), 0)
        s.write("a.log", new, append: true)
        var after = stat()
        stat(s.path("a.log"), &after)
        #expect(after.st_ino == before.st_ino)
        #expect(s.scan([s.path("a.log")]).status == 0)

        s.write("fresh.log", new)
        let fresh = s.path("fresh.sqlite")
        #expect(s.scan([s.path("fresh.log")], db: fresh).status == 0)
        let expected = try s.int("SELECT count(*) FROM sightings", db: fresh)
        #expect(try s.int("SELECT count(*) FROM sources") == 2)
        #expect(try s.int("SELECT count(*) FROM sources WHERE replaced_by IS NOT NULL") == 1)
        #expect(
            try s.int(
                "SELECT count(*) FROM sightings WHERE source_id = (SELECT id FROM sources WHERE replaced_by IS NULL)")
                == expected)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + expected)
        // And from there on it grows as any file does: continued, not started over.
        s.write("a.log", accessLog(lines: 2000..<2010), append: true)
        #expect(s.scan([s.path("a.log")]).status == 0)
        #expect(try s.int("SELECT count(*) FROM sources") == 2)
        #expect(try s.int("SELECT count(*) FROM sightings") == 90 + expected + 9)
        #expect(try s.query("SELECT tail_len FROM sources WHERE replaced_by IS NULL") == [["4096"]])
    }
}

@Suite("Over-long lines through the scanner")
struct LongLineTests {
    @Test("tokens straddling piece boundaries of a 2 MB line are found whole, on its one line number")
    func straddling() throws {
        let s = Scratch()
        // One line of ~2 MB holding 2,500 tokens at irregular spacing, read with a 4 KiB bound: hundreds of cuts.
        var line = "2023-11-14T22:13:05Z start"
        var expected: [(offset: Int, fingerprint: String)] = []
        let head = "first line\n"
        for i in 0..<2500 {
            line += " " + String(repeating: "x", count: 200 + (i * 131) % 700) + " Bearer "
            let token = fakeToken(i)
            expected.append((head.utf8.count + line.utf8.count, Digest.sha256(Array(token.utf8)).description))
            line += token
        }
        s.write("long.log", head + line + "\nlast line\n")
        let r = runCLI(["scan", s.path("long.log"), "--no-verify", "--format", "ndjson", "--max-line", "4096"])
        #expect(r.status == 0, "\(r.err)")
        var found: [(offset: Int, fingerprint: String)] = []
        var truncated = 0
        var lines = Set<Int>()
        for text in r.out.split(separator: "\n") {
            let o = try #require(try JSONParser.parse(String(text)).objectValue)
            guard o["type"]?.stringValue == "token" else { continue }
            found.append((Int(o["offset"]?.numberValue ?? -1), o["fingerprint"]?.stringValue ?? ""))
            if o["truncation"]?.stringValue != nil { truncated += 1 }
            lines.insert(Int(o["line"]?.numberValue ?? -1))
        }
        #expect(found.count == expected.count)
        #expect(truncated == 0)
        #expect(lines == [2])
        #expect(found.map(\.offset) == expected.map(\.offset))
        #expect(found.map(\.fingerprint) == expected.map(\.fingerprint))
    }
}
