import JOSECrypto
import SiftCore
import Testing

/// Issue 17, "the stale verifier, named": a service that refused a new kid for 20 minutes after a rotation, with
/// a "no matching key" message on every line and every token valid with the given keys, is named in the report
/// with the kid, its issuer and how soon after the kid first appeared the refusals started.
@Suite("The stale verifier, named")
struct StaleVerifierTests {
    /// HS256 with kid b-2025 from https://idp.example/, signed with ``testSecret``, valid until 2100.
    static let token: String = {
        let h = Base64URL.encode(Array(#"{"alg":"HS256","kid":"b-2025","typ":"JWT"}"#.utf8))
        let p = Base64URL.encode(
            Array(#"{"iss":"https://idp.example/","sub":"u-1","iat":1763118000,"exp":4102444800}"#.utf8))
        let mac = Array((h + "." + p).utf8).withUnsafeBytes { HMACSecret(Array(testSecret.utf8)).mac(.sha256, $0) }
        return h + "." + p + "." + Base64URL.encode(mac)
    }()

    @Test("refusals paired with the token's kid and issuer and the kid's first appearance; rows carry iss and kid")
    func named() throws {
        let s = Scratch()
        // The gateway accepts the new kid from 11:07:30; the orders service refuses it from 11:07:35 for 20 minutes.
        s.write("gateway.log", "2025-11-14T11:07:30Z gateway GET /orders 200 Authorization: Bearer \(Self.token)\n")
        var orders = ""
        for i in 0..<21 {
            let t = CivilTime.iso8601(1_763_118_455 + Double(i) * 59.65).prefix(19) + "Z"
            // lestrrat-go/jwx v2.1.1, jws/key_provider.go:177.
            orders +=
                "\(t) orders level=error msg=\"failed to find key with key ID \\\"b-2025\\\" in key set\" Authorization: Bearer \(Self.token)\n"
        }
        s.write("orders.log", orders)
        s.write("hs.secret", testSecret)
        let scan = s.scan([s.path("gateway.log"), s.path("orders.log"), "--hmac-secret-file", s.path("hs.secret")])
        #expect(scan.status == 0, "\(scan.err)")
        #expect(try s.int("SELECT count(*) FROM log_errors WHERE cause = 'key_unknown'") == 21)

        let report = runCLI(["report", "--db", s.db, "--format", "text"])
        #expect(report.status == 0, "\(report.err)")
        #expect(
            report.out.contains(
                "\(s.path("orders.log")) refused kid b-2025 (issuer https://idp.example/) from 2025-11-14 11:07:35Z to 2025-11-14 11:27:28Z, 21 sightings, starting 5 s after the kid first appeared: a stale JWKS cache?"
            ), "\(report.out)")
        let json = runCLI(["report", "--db", s.db, "--format", "json"]).out
        #expect(json.contains(#""id":"stale_verifiers""#) || json.contains(#""id": "stale_verifiers""#))
        // The refused-but-valid row names the issuer and the kid.
        let csvDir = s.path("csv")
        #expect(runCLI(["report", "--db", s.db, "--format", "csv", "-o", csvDir]).status == 0)
        let refused = readAll(csvDir + "/refused_but_valid.csv")
        #expect(refused.hasPrefix("source,sightings,tokens,first_seen,last_seen,iss,kid"), "\(refused)")
        #expect(refused.contains("https://idp.example/,b-2025"), "\(refused)")
    }
}
