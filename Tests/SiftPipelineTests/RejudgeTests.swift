import FindingsStore
import JOSECrypto
import JWTVerify
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Re-judging when the keys or policy change (issue 12): a source last read under another policy is read again
/// and its rows replaced, so the database equals a fresh scan under the new policy.
@Suite("Re-judging", .serialized)
struct RejudgeTests {
    /// A log of `fakeToken`s (HS256, `testSecret`) and error lines.
    func log(_ s: Scratch) -> String {
        var text = ""
        for i in 0..<300 {
            let t = CivilTime.iso8601(Double(1_700_000_000 + i))
            text += "\(t) GET /api/\(i) 401 Authorization: Bearer \(fakeToken(i % 40, exp: 1_700_000_000 + 30 * i))\n"
            if i % 25 == 0 { text += "\(t) ERROR jwt expired\n" }
        }
        s.write("app.log", text)
        return s.path("app.log")
    }

    @Test("a scan with the wrong secret, then the right one: re-judged, and equal to a fresh scan with the right one")
    func fixedSecret() throws {
        let s = Scratch()
        let path = log(s)
        s.write("wrong.secret", "not-the-secret-but-32-bytes-long")
        s.write("right.secret", testSecret)
        let wrong = s.scan([path, "--hmac-secret-file", s.path("wrong.secret")])
        #expect(wrong.status == 0, "\(wrong.err)")
        #expect(try s.int("SELECT count(*) FROM sightings WHERE cause = 'signature_invalid'") > 0)

        let right = runCLI(["scan", "--db", s.db, path, "--hmac-secret-file", s.path("right.secret")])
        #expect(right.err.contains("re-judged 1 source: the keys or policy changed"), "\(right.err)")
        #expect(try s.int("SELECT count(*) FROM sightings WHERE cause = 'signature_invalid'") == 0)

        let fresh = s.path("fresh.sqlite")
        #expect(s.scan([path, "--hmac-secret-file", s.path("right.secret")], db: fresh).status == 0)
        #expect(try s.contents() == s.contents(db: fresh))
        // The same policy again: nothing to do.
        let again = runCLI(["scan", "--db", s.db, path, "--hmac-secret-file", s.path("right.secret")])
        #expect(again.err.contains("unchanged since an earlier run: skipped") && !again.err.contains("re-judged"))
        // The same file name with other bytes is another policy.
        s.write("right.secret", "changed-secret-also-32-bytes-ok!")
        let changed = runCLI(["scan", "--db", s.db, path, "--hmac-secret-file", s.path("right.secret")])
        #expect(changed.err.contains("re-judged 1 source"), "\(changed.err)")
    }

    @Test(
        "each part of the policy re-judges: issuer, audience, leeway, weak secrets, keep-subjects, ok-sightings",
        arguments: [
            ["--issuer", "https://idp"], ["--audience", "api"], ["--leeway", "5"], ["--no-weak-secrets"],
            ["--keep-subjects"], ["--ok-sightings", "count"], ["--timezone", "+02:00"], ["--since", "1700000100"],
        ])
    func everyPart(_ extra: [String]) throws {
        let s = Scratch()
        let path = log(s)
        s.write("right.secret", testSecret)
        let base = [path, "--hmac-secret-file", s.path("right.secret")]
        #expect(s.scan(base).status == 0)
        let r = runCLI(["scan", "--db", s.db] + base + extra)
        #expect(r.err.contains("re-judged 1 source"), "\(extra): \(r.err)")
        let fresh = s.path("fresh.sqlite")
        #expect(s.scan(base + extra, db: fresh).status <= 1)
        #expect(try s.contents() == s.contents(db: fresh), "\(extra)")
        if extra == ["--keep-subjects"] {
            #expect(try s.int("SELECT count(*) FROM tokens WHERE sub IS NOT NULL") == 300)
        }
    }

    @Test("--rescan reads again under the same policy; runs and sources record the policy")
    func rescan() throws {
        let s = Scratch()
        let path = log(s)
        s.write("right.secret", testSecret)
        let base = [path, "--hmac-secret-file", s.path("right.secret")]
        #expect(s.scan(base).status == 0)
        let before = try s.contents()
        let r = runCLI(["scan", "--db", s.db, "--rescan"] + base)
        #expect(r.err.contains("re-judged 1 source"), "\(r.err)")
        #expect(try s.contents() == before)
        let policies = try s.query("SELECT DISTINCT policy FROM runs").compactMap { $0.first ?? nil }
        #expect(policies.count == 1 && policies[0].utf8.count == 16)
        #expect(try s.query("SELECT policy FROM sources").map { $0.first ?? nil } == [policies[0]])
    }

    @Test("the policy fingerprint is salted per database: the same secret gives another fingerprint elsewhere")
    func saltedPerDatabase() throws {
        let s = Scratch()
        let path = log(s)
        s.write("right.secret", testSecret)
        let base = [path, "--hmac-secret-file", s.path("right.secret")]
        #expect(s.scan(base).status == 0)
        #expect(s.scan(base, db: s.path("other.sqlite")).status == 0)
        let a = try s.query("SELECT policy FROM runs")[0][0]
        let b = try s.query("SELECT policy FROM runs", db: s.path("other.sqlite"))[0][0]
        #expect(a != nil && b != nil && a != b)
        // Nothing in the database names the secret by a digest of it.
        let digest = Digest.sha256(Array(testSecret.utf8)).description
        for table in ["tokens", "keys", "runs", "sources", "settings"] {
            for row in try s.query("SELECT * FROM \(table)") {
                for cell in row.compactMap({ $0 }) {
                    #expect(!cell.contains(testSecret) && !cell.contains(digest.prefix(12)), "\(table): \(cell)")
                }
            }
        }
        #expect(
            try s.query("SELECT DISTINCT key FROM tokens WHERE key IS NOT NULL").map { $0[0] } == ["hmac:right.secret"])
    }

    @Test("killed while re-judging: the next run under the new policy finishes it, equal to a fresh scan")
    func killedWhileRejudging() throws {
        let s = Scratch()
        let path = bigLog(s)
        s.write("wrong.secret", "not-the-secret-but-32-bytes-long")
        s.write("right.secret", testSecret)
        #expect(s.scan([path, "--hmac-secret-file", s.path("wrong.secret")]).status == 0)
        let right = [path, "--hmac-secret-file", s.path("right.secret")]
        let pid = spawnJWTSift(["scan", "--db", s.db] + right)
        usleep(400_000)
        kill(pid, SIGKILL)
        _ = waitExit(pid)
        #expect(s.scan(right).status == 0)
        let fresh = s.path("fresh.sqlite")
        #expect(s.scan(right, db: fresh).status == 0)
        #expect(try s.contents() == s.contents(db: fresh))
    }
}
