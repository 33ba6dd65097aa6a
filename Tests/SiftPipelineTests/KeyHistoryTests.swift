import FindingsStore
import SiftCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: the keys a run used are recorded with their history; a key gone from a later set still judges the
/// tokens it signed (`key_retired`, with until when it was published), and `--config` gives the key files'
/// verdicts.
@Suite("Key history and --config", .serialized)
struct KeyHistoryTests {
    static let root: String = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    static let samples = root + "/samples"
    static let others = [
        "--retired-keys", samples + "/keys/retired.jwks.json", "--hmac-secret-file",
        samples + "/keys/orders-hs256.secret",
    ]

    /// The sample JWKS without kid 2023-11 (the login service's current key): a set after it was dropped.
    func dropped(_ s: Scratch) throws -> String {
        let text = readAll(Self.samples + "/keys/jwks.json")
        // Its first entry is kid 2023-11: keep the others.
        let parts = text.split(separator: "\n    },\n    {\n", maxSplits: 1, omittingEmptySubsequences: false)
        #expect(parts.count == 2 && parts[0].contains(#""kid": "2023-11""#), "the sample JWKS changed shape")
        let joined = "{\n  \"keys\": [\n    {\n" + (parts.last ?? "")
        #expect(!joined.contains("2023-11") && joined.contains("edge-ec-1"))
        s.write("dropped.jwks.json", joined)
        return s.path("dropped.jwks.json")
    }

    @Test("a kid gone from the set: its tokens are key_retired, saying until when it was published; then stable")
    func rotation() throws {
        let s = Scratch()
        let logs = Self.samples + "/logs"
        let first = s.scan([logs, "--keys", Self.samples + "/keys/jwks.json"] + Self.others)
        #expect(first.status == 0, "\(first.err)")
        #expect(try s.int("SELECT count(*) FROM keys WHERE kid = '2023-11' AND retired = 0 AND jwk IS NOT NULL") == 1)
        #expect(try s.int("SELECT count(*) FROM keys WHERE kty = 'oct' AND jwk IS NOT NULL") == 0)
        let okBefore = try s.sightings(kid: "2023-11", cause: "ok")
        #expect(okBefore > 100)

        let set = try dropped(s)
        let second = runCLI(["scan", "--db", s.db, "--format", "ndjson", logs, "--keys", set] + Self.others)
        #expect(second.status == 0, "\(second.err)")
        #expect(second.err.contains("re-judged 6 sources"), "\(second.err)")
        #expect(
            try s.sightings(kid: "2023-11", cause: "ok")
                == 0)
        #expect(
            try s.sightings(kid: "2023-11", cause: "key_retired")
                >= okBefore)
        let reason = second.out.split(separator: "\n").first {
            $0.contains(#""kid":"2023-11""#) && $0.contains("key_retired")
        }
        #expect(
            reason?.contains("gone from the current key set: it was published by \(Self.samples)/keys/jwks.json from ")
                == true, "\(reason ?? "none")")
        #expect(try s.int("SELECT retired FROM keys WHERE kid = '2023-11'") == 1)
        #expect(try s.int("SELECT last_run_id FROM keys WHERE kid = '2023-11'") == 1)
        #expect(try s.int("SELECT last_run_id FROM keys WHERE kid = 'edge-ec-1'") == 2)
        #expect(try s.int("SELECT key_state = 'retired' FROM failures_by_kid WHERE kid = '2023-11' LIMIT 1") == 1)

        // The same set again: the same policy (the history is part of it), nothing re-judged.
        let third = runCLI(["scan", "--db", s.db, logs, "--keys", set] + Self.others)
        #expect(third.err.contains("unchanged since an earlier run: skipped") && !third.err.contains("re-judged"))

        let history = runCLI(["keys", "history", "--db", s.db])
        #expect(history.status == 0, "\(history.err)")
        let row = history.out.split(separator: "\n").first { $0.contains("2023-11") }
        #expect(row?.contains("retired") == true && row?.contains("1–1") == true, "\(history.out)")
        #expect(!history.out.contains(readAll(Self.samples + "/keys/orders-hs256.secret")))
    }

    @Test("scan --config samples/issuers.yaml gives the key files' verdicts")
    func configMatchesFiles() throws {
        let s = Scratch()
        let logs = Self.samples + "/logs"
        let files = s.scan(
            [logs, "--keys", Self.samples + "/keys/jwks.json"] + Self.others, db: s.path("files.sqlite"))
        let config = s.scan([logs, "--config", Self.samples + "/issuers.yaml"], db: s.path("config.sqlite"))
        #expect(files.status == 0 && config.status == 0, "\(files.err) \(config.err)")
        #expect(try s.contents(db: s.path("files.sqlite")) == s.contents(db: s.path("config.sqlite")))
        #expect(try s.int("SELECT count(*) FROM sightings", db: s.path("config.sqlite")) > 200)
        #expect(try s.int("SELECT count(DISTINCT issuer) FROM keys", db: s.path("config.sqlite")) == 4)
    }

    @Test("issuers the file does not name fall back to the global keys, and the summary says which")
    func fallbackSummary() throws {
        let s = Scratch()
        s.write(
            "c.yaml",
            """
            defaults:
              keys: \(Self.samples)/keys/jwks.json
              hmac_secrets: \(Self.samples)/keys/orders-hs256.secret
            issuers:
              - iss: https://login.example.com/
                keys: \(Self.samples)/keys/jwks.json
                retired_keys: \(Self.samples)/keys/retired.jwks.json
            """)
        let r = runCLI(["scan", "--db", s.db, Self.samples + "/logs", "--config", s.path("c.yaml")])
        #expect(r.status == 0, "\(r.err)")
        #expect(
            r.err.contains(
                "34 token sightings from issuers --config does not name were judged with the global keys and policy: orders-service (23), https://partner.example.net/ (8), https://edge.example.com/ (3)"
            ), "\(r.err)")
        #expect(try s.int("SELECT count(*) FROM sightings WHERE cause = 'ok'") == 167)
    }

    @Test("a bad --config names file, line and key, exits 2 and scans nothing")
    func badConfig() throws {
        let s = Scratch()
        s.write("c.yaml", "issuers:\n  - iss: https://login.example.com/\n    audience: orders\n")
        let r = s.scan([Self.samples + "/logs", "--config", s.path("c.yaml")])
        #expect(r.status == 2)
        #expect(r.err.contains("\(s.path("c.yaml")):3: issuers[0].audience: unknown key"), "\(r.err)")
        #expect(access(s.db, F_OK) != 0)
    }
}
