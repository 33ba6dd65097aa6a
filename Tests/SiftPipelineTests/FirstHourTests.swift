import Foundation
import JOSECrypto
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

    @Test("the summary ends with where the findings are and the next command, quoted for the shell")
    func nextCommand() {
        let s = Scratch()
        s.write("a.log", "2023-11-14T22:13:05Z GET /x Authorization: Bearer \(fakeToken(1))\n")
        let db = s.path("my findings.sqlite")
        let r = runCLI(["scan", s.path("a.log"), "--db", db])
        #expect(r.err.hasSuffix("findings: \(db)\nnext: jwtsift report --db '\(db)'\n"), "\(r.err)")
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

/// The clock-offset estimate's confidence counts the tokens that agree with it (issue 16: one early token among
/// 149 on time was "high confidence, 150 first sightings").
@Suite("Clock offset confidence")
struct ClockOffsetConfidenceTests {
    /// `early` of `total` tokens are logged 60 s before their iat, the others 30 s after it.
    func confidence(early: Int, total: Int) throws -> String? {
        let s = Scratch()
        var log = ""
        for i in 0..<total {
            // fakeToken's iat is 1699999000.
            let t = 1_699_999_000 + (i < early ? -60 : 30)
            log += "\(CivilTime.iso8601(Double(t))) GET /x 200 Authorization: Bearer \(fakeToken(i))\n"
        }
        s.write("a.log", log)
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let r = runCLI(["report", "--db", s.db, "--format", "json"])
        let report = try #require(try JSONParser.parse(r.out).objectValue)
        func find(_ v: JSONValue) -> JSONObject? {
            if let o = v.objectValue {
                if o["id"]?.stringValue == "clock_offset" { return o }
                for m in o.members { if let f = find(m.value) { return f } }
            }
            for e in v.arrayValue ?? [] { if let f = find(e) { return f } }
            return nil
        }
        let table = try #require(find(.object(report)))
        return table["rows"]?.arrayValue?.first?.arrayValue?[3].stringValue
    }

    @Test("one early token among 150 is low confidence; 30 is medium; 120 is high")
    func agreeingTokens() throws {
        #expect(try confidence(early: 1, total: 150) == "low")
        #expect(try confidence(early: 30, total: 150) == "medium")
        #expect(try confidence(early: 120, total: 150) == "high")
    }
}

/// No false reassurance (issue 16): sightings whose answer is unknown are counted, never called agreement.
@Suite("Unknown answers")
struct UnknownAnswerTests {
    @Test("expired tokens on lines without a status: the report says the answer is unknown, not that it agrees")
    func noStatus() {
        let s = Scratch()
        var log = ""
        for i in 0..<5 { log += "2023-11-14T22:30:00Z worker picked up job \(i) with Bearer \(fakeToken(i))\n" }
        s.write("a.log", log)
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let text = runCLI(["report", "--db", s.db, "--format", "text"]).out
        #expect(!text.contains("agree with jwtsift's verdicts"), "\(text)")
        #expect(
            text.contains("5 of 5 sightings (5 of them failing) had no HTTP status and no error message"), "\(text)")
        #expect(text.contains("whether the services accepted or refused these tokens cannot be told"), "\(text)")
    }

    @Test("some sightings answered, some not: agreement is claimed only over those with an answer, and counted")
    func partlyKnown() {
        let s = Scratch()
        var log = ""
        // Expired at the lines' time (fakeToken's exp is 1700000000 = 22:13:20).
        for i in 0..<3 { log += "2023-11-14T22:30:00Z worker picked up job \(i) with Bearer \(fakeToken(i))\n" }
        for i in 3..<5 {
            log +=
                #"10.0.0.1 - - [14/Nov/2023:22:30:00 +0000] "GET /x HTTP/1.1" 401 0 "-" "curl" "Bearer "#
                + fakeToken(i) + "\"\n"
        }
        s.write("a.log", log)
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let text = runCLI(["report", "--db", s.db, "--format", "text"]).out
        #expect(text.contains("3 of 5 sightings (3 of them failing) had no HTTP status"), "\(text)")
        #expect(
            text.contains(
                "Among the 2 of 5 sightings that carry the service's answer (a 2xx, 401 or 403 status, or an error message), the answers agree"
            ), "\(text)")
        let json = runCLI(["report", "--db", s.db, "--format", "csv", "--section", "answers"]).out
        #expect(json.contains("401/403,2,2,0"), "\(json)")
        #expect(json.contains("no status,3,3,0"), "\(json)")
    }

    @Test("a 2xx answer to an expired token is a security finding, not agreement")
    func acceptedExpired() {
        let s = Scratch()
        let log =
            #"{"time":"2023-11-14T22:30:00Z","DownstreamStatus":200,"OriginStatus":200,"request_Authorization":"Bearer "#
            + fakeToken(1) + "\"}\n"
        s.write("traefik.json", log)
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("traefik.json"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let text = runCLI(["report", "--db", s.db, "--format", "text"]).out
        #expect(text.contains("SECURITY: 1 sightings were answered 2xx"), "\(text)")
        #expect(!text.contains("agree with jwtsift"), "\(text)")
    }
}

/// The scan summary ends with its top findings in words (issue 16), then where they are and the next command.
@Suite("Summary in words")
struct SummaryWordsTests {
    /// An HS256 token signed with ``testSecret`` with this issuer and kid, expiring at 22:13:20.
    static func token(_ n: Int, iss: String, kid: String) -> String {
        func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }
        let h = b64(#"{"alg":"HS256","kid":"# + JSONValue.quote(kid) + "}")
        let p = b64(
            #"{"sub":"u\#(n)","iss":"# + JSONValue.quote(iss) + #","iat":1699999000,"exp":1700000000}"#)
        let mac = Array((h + "." + p).utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
        return h + "." + p + "." + Base64URL.encode(mac)
    }

    @Test("top findings: cause × issuer × kid, how many, since when; issuer and kid escaped")
    func words() {
        let s = Scratch()
        var log = ""
        for i in 0..<12 {
            let t = Self.token(i % 4, iss: "https://idp.example", kid: "rsa-2023-11")
            log += "2023-11-14T22:\(30 + i):12Z GET /x 401 Bearer \(t)\n"
        }
        for i in 0..<2 {
            log +=
                "2023-11-14T23:00:0\(i)Z GET /y 401 Bearer \(Self.token(9, iss: "evil\u{1B}[2J", kid: "k\u{202E}2"))\n"
        }
        s.write("a.log", log)
        s.write("hs.secret", testSecret)
        let r = runCLI(["scan", s.path("a.log"), "--db", s.db, "--hmac-secret-file", s.path("hs.secret")])
        #expect(r.status == 0)
        #expect(
            r.err.contains(
                """
                top findings:
                  expired: 12 sightings of 4 tokens from https://idp.example (kid rsa-2023-11), 2023-11-14 22:30:12–22:41:12 UTC
                  expired: 2 sightings of 1 token from evil\\x1b[2J (kid k\\u{202E}2), 2023-11-14 23:00:00–23:00:01 UTC
                findings: \(s.db)
                next: jwtsift report --db
                """), "\(r.err)")
        #expect(!r.err.contains("\u{1B}"))
    }

    @Test("nothing failed: no findings line, the next command still")
    func nothing() {
        let s = Scratch()
        s.write("a.log", "2023-11-14T08:00:00Z GET /x no token here\n")
        let r = runCLI(["scan", s.path("a.log"), "--db", s.db])
        #expect(!r.err.contains("top findings"))
        #expect(r.err.contains("next: jwtsift report --db"))
    }
}
