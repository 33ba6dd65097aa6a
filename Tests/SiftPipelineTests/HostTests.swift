import Foundation
import SiftCore
import Testing

/// Hosts (issue 16): the host, pod or service a line names goes into the database (`hosts`, `host_id`), NDJSON
/// and the report's "By host" section, escaped for every output.
@Suite("Hosts")
struct HostTests {
    /// Expired tokens (at 22:30) from two syslog hosts and a Kubernetes pod; one host name carries an escape
    /// sequence and a bidi override.
    static func log() -> String {
        var log = ""
        for i in 0..<3 { log += "Nov 14 22:30:0\(i) web-1 api[7]: 401 rejected Bearer \(fakeToken(i))\n" }
        log += "Nov 14 22:30:05 web-2 api[9]: jwt expired\n"
        log +=
            #"{"time":"2023-11-14T22:30:06Z","kubernetes":{"pod_name":"orders-7d9f","host":"node-3"},"auth":"Bearer "#
            + fakeToken(3) + "\"}\n"
        log +=
            "{\"time\":\"2023-11-14T22:30:07Z\",\"hostname\":\"evil\u{1B}]0;pwned\u{07}\u{202E}x\",\"auth\":\"Bearer "
            + fakeToken(4) + "\"}\n"
        log += "2023-11-14T22:30:08Z no host here Bearer \(fakeToken(5))\n"
        return log
    }

    @Test("hosts are stored once each, sightings and error lines refer to them")
    func stored() throws {
        let s = Scratch()
        s.write("a.log", Self.log())
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let names = try s.query("SELECT name FROM hosts ORDER BY name").map { $0[0] ?? "" }
        #expect(names == ["evil\u{1B}]0;pwned\u{07}\u{202E}x", "orders-7d9f", "web-1", "web-2"])
        #expect(
            try s.query(
                "SELECT h.name, count(*) FROM sightings s LEFT JOIN hosts h ON h.id = s.host_id GROUP BY 1 ORDER BY 1")
                == [
                    [nil, "1"], ["evil\u{1B}]0;pwned\u{07}\u{202E}x", "1"], ["orders-7d9f", "1"], ["web-1", "3"],
                ])
        #expect(
            try s.query("SELECT h.name, e.cause FROM log_errors e JOIN hosts h ON h.id = e.host_id") == [
                ["web-2", "expired"]
            ])
        // A second run over the same database: the same ids, nothing duplicated.
        s.write("b.log", "Nov 14 22:31:00 web-1 api[7]: 401 rejected Bearer \(fakeToken(9))\n")
        #expect(s.scan([s.path("b.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        #expect(try s.int("SELECT count(*) FROM hosts") == 4)
        #expect(
            try s.int("SELECT count(*) FROM sightings s JOIN hosts h ON h.id = s.host_id WHERE h.name = 'web-1'") == 4)
    }

    @Test("NDJSON records carry host (escaped as JSON)")
    func ndjson() throws {
        let s = Scratch()
        s.write("a.log", Self.log())
        let r = runCLI(["scan", s.path("a.log"), "--format", "ndjson", "--no-verify"])
        let hosts = r.out.split(separator: "\n").compactMap { line -> String? in
            guard let o = try? JSONParser.parseObject(Array(line.utf8)) else { return "?" }
            return o["host"]?.stringValue ?? "-"
        }
        #expect(
            hosts.sorted() == [
                "-", "evil\u{1B}]0;pwned\u{07}\u{202E}x", "orders-7d9f", "web-1", "web-1", "web-1", "web-2",
            ], "\(r.out)")
        #expect(!r.out.contains("\u{1B}"))
        #expect(r.out.contains(#"\u001b]0;pwned\u0007"#), "\(r.out)")
    }

    @Test("the report's By host section, in every format, with the host name escaped")
    func report() throws {
        let s = Scratch()
        s.write("a.log", Self.log())
        s.write("hs.secret", testSecret)
        #expect(s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret")]).status <= 1)
        let text = runCLI(["report", "--db", s.db, "--format", "text"]).out
        #expect(text.contains("By host"), "\(text)")
        #expect(text.contains("web-1"))
        #expect(text.contains("1 of 6 failed sightings are on lines that name no host"), "\(text)")
        let csv = runCLI(["report", "--db", s.db, "--format", "csv", "--section", "by_host"]).out
        #expect(csv.hasPrefix("host,cause,sightings,tokens,kids,first_seen,last_seen"), "\(csv)")
        #expect(csv.contains("web-1,expired,3,3,(none),"), "\(csv)")
        #expect(csv.contains("orders-7d9f,expired,1,1,"), "\(csv)")
        let errors = runCLI(["report", "--db", s.db, "--format", "csv", "--section", "errors_by_host"]).out
        #expect(errors.contains("web-2,expired,1,"), "\(errors)")
        for format in ["text", "markdown", "json", "csv", "html"] {
            var args = ["report", "--db", s.db, "--format", format]
            if format == "csv" { args += ["--section", "by_host"] }
            let out = runCLI(args).out
            #expect(!out.contains("\u{1B}"), "\(format)")
            #expect(!out.contains("\u{202E}"), "\(format)")
            #expect(out.contains("pwned"), "\(format): the host is shown, escaped")
        }
    }

    @Test("--keep-subjects: the top tokens and subjects tables show sub, escaped; without it, nothing")
    func subjects() throws {
        let s = Scratch()
        s.write("a.log", Self.log())
        s.write("hs.secret", testSecret)
        #expect(
            s.scan([s.path("a.log"), "--hmac-secret-file", s.path("hs.secret"), "--keep-subjects"]).status <= 1)
        let tokens = runCLI(["report", "--db", s.db, "--format", "csv", "--section", "top_tokens"]).out
        #expect(tokens.hasPrefix("token,iss,kid,sub,failures,"), "\(tokens)")
        #expect(tokens.contains(",user-0,"), "\(tokens)")
        let subjects = runCLI(["report", "--db", s.db, "--format", "csv", "--section", "top_subjects"]).out
        #expect(subjects.contains(",user-3,1,1,expired,"), "\(subjects)")
        let other = Scratch()
        other.write("a.log", Self.log())
        other.write("hs.secret", testSecret)
        #expect(other.scan([other.path("a.log"), "--hmac-secret-file", other.path("hs.secret")]).status <= 1)
        let hidden = runCLI(["report", "--db", other.db, "--format", "csv", "--section", "top_tokens"]).out
        #expect(!hidden.contains("user-0"), "\(hidden)")
    }
}
