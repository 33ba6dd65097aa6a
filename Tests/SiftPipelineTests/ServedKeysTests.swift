import Foundation
import Testing

/// Issue 17's "done means": the samples judged with keys served by a JWKS server on 127.0.0.1 (through
/// `--config` with `jwks_uri`) give the key files' verdicts; after the served set drops a kid, the next run judges
/// that kid's tokens `key_retired` and the report shows the rotation. No test reaches beyond loopback.
@Suite("Keys served over loopback HTTP", .serialized)
struct ServedKeysTests {
    static let samples = KeyHistoryTests.samples

    /// Tests/KeySourcesTests/Fixtures/jwks_server.py serving `dir` on 127.0.0.1; killed when released.
    final class Server {
        let process = Process()
        let port: Int

        init(dir: String) throws {
            setenv("no_proxy", "127.0.0.1,localhost", 1)
            setenv("NO_PROXY", "127.0.0.1,localhost", 1)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", KeyHistoryTests.root + "/Tests/KeySourcesTests/Fixtures/jwks_server.py", dir,
            ]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line: [UInt8] = []
            while let b = out.fileHandleForReading.readData(ofLength: 1).first, b != UInt8(ascii: "\n") {
                line.append(b)
            }
            port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func config(_ s: Scratch, url: String) -> String {
        s.write(
            "issuers.yaml",
            """
            issuers:
              - iss: https://login.example.com/
                jwks_uri: \(url)
                retired_keys: \(Self.samples)/keys/retired.jwks.json
              - iss: https://edge.example.com/
                jwks_uri: \(url)
              - iss: https://partner.example.net/
                jwks_uri: \(url)
              - iss: orders-service
                hmac_secrets: \(Self.samples)/keys/orders-hs256.secret
            """)
        return s.path("issuers.yaml")
    }

    @Test("served keys give the key files' verdicts; a dropped kid is key_retired next run, and the report says so")
    func rotation() throws {
        let s = Scratch()
        s.write("jwks.json", readAll(Self.samples + "/keys/jwks.json"))
        let server = try Server(dir: s.dir)
        #expect(server.port > 0)
        let url = "http://127.0.0.1:\(server.port)/jwks"
        let logs = Self.samples + "/logs"
        let conf = config(s, url: url)
        let cache = ["--cache-dir", s.path("cache")]

        let files = s.scan(
            [logs, "--keys", Self.samples + "/keys/jwks.json"] + KeyHistoryTests.others, db: s.path("f.sqlite"))
        let served = s.scan([logs, "--config", conf] + cache)
        #expect(files.status == 0 && served.status == 0, "\(files.err) \(served.err)")
        #expect(try s.contents() == s.contents(db: s.path("f.sqlite")))
        #expect(try s.int("SELECT count(*) FROM key_fetches WHERE outcome = 'fetched' AND url = '\(url)'") == 1)
        #expect(try s.int("SELECT count(*) FROM keys WHERE source = '\(url)'") == 9)

        // The identity provider drops kid 2023-11.
        let text = readAll(Self.samples + "/keys/jwks.json")
        let parts = text.split(separator: "\n    },\n    {\n", maxSplits: 1, omittingEmptySubsequences: false)
        s.write("jwks.json", "{\n  \"keys\": [\n    {\n" + (parts.last ?? ""))
        let next = runCLI(["scan", "--db", s.db, logs, "--config", conf] + cache)
        #expect(next.status == 0, "\(next.err)")
        #expect(next.err.contains("re-judged 6 sources"), "\(next.err)")
        #expect(
            try s.sightings(kid: "2023-11", cause: "ok")
                == 0)
        #expect(
            try s.sightings(kid: "2023-11", cause: "key_retired")
                > 100)
        #expect(
            try s.int(
                "SELECT retired FROM keys WHERE kid = '2023-11' AND issuer = 'https://login.example.com/'") == 1)

        let report = runCLI(["report", "--db", s.db, "--format", "text"])
        #expect(report.status == 0, "\(report.err)")
        #expect(
            report.out.contains(
                "https://login.example.com/ kid 2023-11: last published "), "\(report.out)")
        #expect(report.out.contains("gone from the key set since: its tokens are key_retired"))

        // The server fails: a warning naming the URL, the scan goes on with the cached set, exit 2.
        let failing = config(s, url: "http://127.0.0.1:\(server.port)/500")
        let broken = runCLI(["scan", "--db", s.path("b.sqlite"), logs, "--config", failing] + cache)
        #expect(broken.status == 2)
        #expect(
            broken.err.contains("http://127.0.0.1:\(server.port)/500: error: could not fetch: HTTP 500"),
            "\(broken.err)")
        #expect(
            try s.int(
                "SELECT count(*) FROM key_fetches WHERE outcome = 'failed' AND http_status = 500",
                db: s.path("b.sqlite")) == 1)
    }
}
