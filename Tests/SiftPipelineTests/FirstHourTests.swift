import Foundation
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a new user trips over (issue 16): a wrong path, an empty directory, a key set given as a secret, a
/// second run waiting in silence.
@Suite("First hour")
struct FirstHourTests {
    @Test("a wrong path: exit 3 naming it, and no empty database left behind")
    func wrongPath() {
        let s = Scratch()
        let r = runCLI(["scan", s.path("no-such.log"), "--db", s.db])
        #expect(r.status == 3)
        #expect(r.err.contains("no-such.log: no such file or directory"), "\(r.err)")
        #expect(access(s.db, F_OK) != 0, "a database was created")
    }

    @Test("an empty directory: says there is nothing to scan, exit 0, no database")
    func emptyDirectory() {
        let s = Scratch()
        mkdir(s.path("logs"), 0o700)
        let r = runCLI(["scan", s.path("logs"), "--db", s.db])
        #expect(r.status == 0)
        #expect(r.err.contains("nothing to scan"), "\(r.err)")
        #expect(access(s.db, F_OK) != 0)
    }

    @Test("a JWKS given as --hmac-secret-file is warned about")
    func jwksAsSecret() {
        let s = Scratch()
        s.write("jwks.json", #"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
        s.write("a.log", "2023-11-14T22:13:05Z GET /x Authorization: Bearer \(fakeToken(1))\n")
        let r = runCLI(["scan", s.path("a.log"), "--format", "ndjson", "--hmac-secret-file", s.path("jwks.json")])
        #expect(r.err.contains("looks like a key file"), "\(r.err)")
    }

    @Test("a second run says it is waiting for the first one's lock")
    func waitingIsSaid() {
        let s = Scratch()
        s.write("a.log", "2023-11-14T22:13:05Z GET /x Authorization: Bearer \(fakeToken(1))\n")
        #expect(s.scan([s.path("a.log")]).status == 0)
        // Another process holds the run lock (flock on the database file) for 4 s.
        #expect(system("flock '\(s.db)' sleep 4 >/dev/null 2>&1 &") == 0)
        usleep(300_000)
        let r = runCLI(["scan", s.path("a.log"), "--db", s.db, "--lock-timeout", "2"])
        #expect(r.status == 4)
        #expect(r.err.contains("another jwtsift run is writing to it; waiting up to 2 s"), "\(r.err)")
    }
}
