import Foundation
import JOSECrypto
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Inputs that try to exhaust memory or never end, and paths that loop (issue 13's hostile-input suite; the
/// options, signals, streams and pieces are in HostileInputTests). Everything is generated at test time.
@Suite("Hostile files", .serialized)
struct HostileFilesTests {
    /// Peak resident memory of `jwtsift ARGS`, in KiB, measured by a fresh Python process around it (its
    /// RUSAGE_CHILDREN holds that one child only), with the exit status and stderr.
    func peak(_ args: [String]) -> (kib: Int, status: Int32, out: String, err: String) {
        let s = Scratch()
        let script = """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[1:], stdout=open(sys.argv[0] + ".out", "wb"), stderr=open(sys.argv[0] + ".err", "wb"))
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)
            """
        s.write("peak.py", script)
        let quoted = ([jwtsiftBinary()] + args).map { "'\($0)'" }.joined(separator: " ")
        let r = system("python3 '\(s.path("peak.py"))' \(quoted) > '\(s.path("peak.out"))'")
        let fields = readAll(s.path("peak.out")).split(separator: " ").compactMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard r == 0, fields.count == 2 else { return (-1, -1, "", "") }
        return (fields[0], Int32(fields[1]), readAll(s.path("peak.py.out")), readAll(s.path("peak.py.err")))
    }

    @Test("a 2 GiB gzip bomb is read in flat memory, to its end: the token after it is found")
    func gzipBomb() throws {
        let s = Scratch()
        let token = fakeToken(1)
        let script = """
            set -e; cd '\(s.dir)'
            head -c 67108864 /dev/zero | gzip -9 > member.gz
            for i in $(seq 32); do cat member.gz; done > bomb.gz
            printf '\\n2023-11-14T22:10:10Z GET /x Authorization: Bearer %s\\n' '\(token)' | gzip >> bomb.gz
            """
        #expect(system(script) == 0)
        let size = try #require(FileManager.default.attributesOfItem(atPath: s.path("bomb.gz"))[.size] as? Int)
        #expect(size < 3_000_000, "the bomb is small: \(size) bytes")
        let m = peak(["scan", s.path("bomb.gz"), "--format", "ndjson", "--no-verify"])
        #expect(m.status == 0, "\(m.err)")
        let tail = "\n2023-11-14T22:10:10Z GET /x Authorization: Bearer \(token)\n"
        #expect(m.err.contains(" \(2_147_483_648 + tail.utf8.count) bytes"), "\(m.err)")
        #expect(m.out.contains(#""type":"token""#))
        #expect(m.kib > 0 && m.kib < 150_000, "peak RSS \(m.kib) KiB for 2 GiB of output")
    }

    @Test("/dev/zero: memory stays flat while it is read, and SIGTERM ends it")
    func devZero() throws {
        let pid = spawnJWTSift(["scan", "/dev/zero", "--format", "ndjson"])
        func rss() -> Int {
            let status = readAll("/proc/\(pid)/status")
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        usleep(1_500_000)
        let early = rss()
        usleep(1_500_000)
        let late = rss()
        kill(pid, SIGTERM)
        let started = Date()
        #expect(waitExit(pid) == 143)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(early > 0 && late > 0 && late < 150_000, "RSS \(early) then \(late) KiB")
        #expect(late < early + 20_000, "memory grows while reading zeros: \(early) → \(late) KiB")
    }

    @Test("a loop of symbolic links is named as such; a directory linking to its parent is walked once")
    func symlinkLoops() throws {
        let s = Scratch()
        #expect(symlink(s.path("b"), s.path("a")) == 0 && symlink(s.path("a"), s.path("b")) == 0)
        let loop = runCLI(["scan", s.path("a"), "--format", "ndjson"])
        #expect(loop.status == 3)
        #expect(loop.err.contains("\(s.path("a")): a loop of symbolic links (ELOOP)"), "\(loop.err)")
        mkdir(s.path("d"), 0o700)
        #expect(symlink("..", s.path("d/up")) == 0)
        s.write("d/app.log", "2023-11-14T22:10:10Z GET /x Authorization: Bearer \(fakeToken(2))\n")
        let walk = runCLI(["scan", s.path("d"), "--format", "ndjson", "--no-verify"])
        #expect(walk.status == 0, "\(walk.err)")
        #expect(walk.out.split(separator: "\n").count == 1)
    }

    /// Found by the hostile trial (issue 13): a NUL in `kid` read back as '' and `exp` ≥ 1e14 came out null
    /// beside an `ok` verdict.
    @Test("a NUL in kid is stored visibly; a far-future exp is a number in NDJSON and the database")
    func nulKidAndHugeExp() throws {
        let s = Scratch()
        let header = Base64URL.encode(Array(#"{"alg":"HS256","kid":"a\u0000b"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"exp":1e16,"iat":1700000000}"#.utf8))
        let input = header + "." + payload
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
        s.write("app.log", "2023-11-14T22:13:05Z GET /x Authorization: Bearer \(input).\(Base64URL.encode(mac))\n")
        s.write("hs.secret", testSecret)
        let args = [s.path("app.log"), "--hmac-secret-file", s.path("hs.secret")]
        let ndjson = runCLI(["scan"] + args + ["--format", "ndjson"])
        #expect(ndjson.out.contains(#""cause":"ok""#) && ndjson.out.contains(#""exp":1e+16"#), "\(ndjson.out)")
        #expect(s.scan(args).status == 0)
        #expect(try s.query("SELECT kid, exp FROM tokens") == [["a\\x00b", "1.0e+16"]])
    }
}
