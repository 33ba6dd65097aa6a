import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("jwtsift inspect")
struct InspectTests {
    let t0 = 1_700_000_000

    @Test("text: times with deltas, keys tried, verdict with every cause, never the signature")
    func text() {
        let f = SignedLogFixture()
        defer { f.remove() }
        let token = f.sign(
            f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2024",
            claims: #"{"iss":"https://idp","sub":"alice","iat":\#(t0),"exp":\#(t0 + 600)}"#)
        f.write("jwks.json", Array(f.keys.current.utf8))
        let r = runCLI(
            ["inspect", "-", "--keys", f.dir + "/jwks.json", "--at", "2023-11-14T22:26:32Z"],
            stdin: "echo 'Authorization: Bearer \(token)'")
        #expect(r.status == 1, "\(r.err)")
        #expect(r.out.contains("sha256:\(Digest.sha256(Array(token.utf8)))"))
        #expect(r.out.contains("exp         2023-11-14T22:23:20Z  expired 3 min 12 s before the judged time"))
        #expect(r.out.contains("2024 (\(f.dir)/jwks.json#0): verified"))
        #expect(r.out.contains("verdict     expired"))
        #expect(r.out.contains(#""sub":"alice""#))
        let signature = String(token.split(separator: ".")[2])
        #expect(!r.out.contains(signature) && !r.err.contains(signature))
    }

    @Test("json: the contract fields, judged at --at given as Unix seconds")
    func json() throws {
        let f = SignedLogFixture()
        defer { f.remove() }
        let token = f.sign(
            f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2025",
            claims: #"{"iat":\#(t0 + 3600),"exp":\#(t0 + 7200)}"#)
        f.write("jwks.json", Array(f.keys.current.utf8))
        let r = runCLI(["inspect", token, "--keys", f.dir + "/jwks.json", "--at", "\(t0)", "--format", "json"])
        #expect(r.status == 1, "\(r.err)")
        let o = try #require(try JSONParser.parse(r.out).objectValue)
        #expect(o["fingerprint"]?.stringValue == "\(Digest.sha256(Array(token.utf8)))")
        #expect(o["signature"]?.stringValue == "key_unknown")
        #expect(o["cause"]?.stringValue == "key_unknown")
        #expect(o["causes"]?.arrayValue?.compactMap(\.stringValue) == ["key_unknown", "issued_in_future"])
        #expect(o["header"]?.objectValue?["kid"]?.stringValue == "2025")
        #expect(o["claims"]?.objectValue?["exp"]?.numberValue == Double(t0 + 7200))
        #expect(o["skew"]?.numberValue == 3600)
        #expect(o["at_source"]?.stringValue == "--at")
    }

    @Test("several tokens: a re-encoded header is pointed out; a cut signature gets a length hint")
    func reencodedAndTruncated() throws {
        let f = SignedLogFixture()
        defer { f.remove() }
        let claims = #"{"sub":"bob","exp":\#(t0 + 600)}"#
        let a = f.sign(f.retired, alg: "RS256", scheme: .rsaPKCS1(.sha256), kid: "2023", claims: claims)
        let b = f.sign(f.retired, alg: "RS256", scheme: .rsaPKCS1(.sha256), kid: nil, claims: claims)
        // 302 of 342 signature characters, the last one with its unused low bits set (a real cut has them set
        // 15 times in 16; fixed here so the test does not depend on the random signature).
        let cut = String(a.prefix(a.count - 41)) + "B"
        let cleanCut = String(a.prefix(a.count - 42))  // 300 characters: decodes, 31 bytes short
        let jwk = #"{"keys":[\#(f.keys.retired)]}"#
        f.write("k.json", Array(jwk.utf8))
        let results = Inspection.run(
            [Array(a.utf8), Array(b.utf8), Array(cut.utf8), Array(cleanCut.utf8)],
            keys: KeyFiles.load(KeyPaths(keys: [f.dir + "/k.json"])).0,
            policy: VerifyPolicy(), at: Double(t0), atSource: "--at")
        // Both cuts are truncated (issue 12): one ends mid-character, the other is 31 bytes short of the modulus.
        #expect(results.map(\.verdict.cause) == [.ok, .ok, .truncated, .truncated])
        #expect(results[1].crossHints.first?.contains("same claims as token #1") == true)
        #expect(results[1].crossHints.first?.contains("header was re-encoded") == true)
        #expect(
            results[2].analysis.hints == [
                "the signature segment is 40 characters shorter than RS256 with key 2023 needs (342): truncated by the logger?"
            ])
        #expect(results[2].text().contains("truncated by the logger?"))
        #expect(
            results[3].analysis.hints == [
                "the signature is 31 bytes shorter than RS256 with key 2023 needs (256): truncated by the logger?"
            ])
    }

    @Test("pasted text: Bearer, quotes and blank lines are stripped")
    func pasted() {
        let text = "Bearer abc.def.ghi\n\n  \"x.y.z\",\nAuthorization: Bearer q.r.s\r\n"
        #expect(
            Inspection.tokens(in: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) } == [
                "abc.def.ghi", "x.y.z", "q.r.s",
            ])
    }

    @Test("usage errors exit 2")
    func usage() {
        #expect(runCLI(["inspect", "a.b.c", "--at", "yesterday"]).status == 2)
        #expect(runCLI(["inspect"]).status == 2)
        #expect(runCLI(["inspect", "-"], stdin: "printf ''").status == 2)
        // The message ends with the subcommand's usage, not a stray root usage line (issue 16).
        let bad = runCLI(["scan", "--max-line", "5"])
        #expect(bad.status == 2 && bad.err.contains("--max-line"))
        #expect(!bad.err.contains("jwtsift <subcommand>"), "\(bad.err)")
        let help = runCLI(["--help"]).out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("4 the findings database could not be used") && help.contains("130/143"))
    }

    /// Scripts branch on it: 0 ok, 1 not ok (failure or unverified), 2 usage or key-file error.
    @Test(
        "exit status: 0 when every verdict is ok, 1 when any is not, 2 on a usage or key error",
        arguments: [
            ("ok", 0), ("expired", 1), ("ok then expired", 1), ("no keys: unverified", 1), ("bad key file", 2),
        ])
    func exitStatus(_ situation: String, _ status: Int32) {
        let f = SignedLogFixture()
        defer { f.remove() }
        let valid = f.hs256(#"{"exp":\#(t0 + 600)}"#, secret: f.secret)
        let expired = f.hs256(#"{"exp":\#(t0 - 600)}"#, secret: f.secret)
        f.write("hs.secret", f.secret)
        f.write("bad.json", Array("{not json".utf8))
        var args = ["inspect", "-", "--at", "\(t0)", "--hmac-secret-file", f.dir + "/hs.secret"]
        var tokens = [valid]
        switch situation {
        case "expired": tokens = [expired]
        case "ok then expired": tokens = [valid, expired]
        case "no keys: unverified": args = ["inspect", "-", "--at", "\(t0)"]
        case "bad key file": args += ["--keys", f.dir + "/bad.json"]
        default: break
        }
        let r = runCLI(args, stdin: "printf '%s\\n' " + tokens.joined(separator: " "))
        #expect(r.status == status, "\(situation): \(r.err.prefix(300))")
        #expect(r.out.contains("verdict"), "the report is printed whatever the status")
    }
}

@Suite("Hostile claim times")
struct HostileClaimTimeTests {
    /// `1e300` and friends are valid JSON numbers; turning a duration that long into an Int trapped (found in
    /// review: `inspect` and `scan --format ndjson` both crashed on `"iat": 1e300`).
    @Test(
        "huge and extreme claim times: scan, inspect and report finish and name the span",
        arguments: [
            #"{"exp":1e300,"nbf":-1e300,"iat":1e300}"#,
            #"{"exp":-1e300,"nbf":1e300,"iat":-1e300}"#,
            #"{"exp":1.7976931348623157e308,"iat":1.7976931348623157e308}"#,
        ])
    func extremes(_ claims: String) {
        let f = SignedLogFixture()
        defer { f.remove() }
        let token = f.hs256(claims, secret: f.secret)
        f.write("hs.secret", f.secret)
        f.write("app.log", Array("2023-11-14T22:13:05Z GET /x Authorization: Bearer \(token)\n".utf8))
        let secret = ["--hmac-secret-file", f.dir + "/hs.secret"]
        let inspect = runCLI(["inspect", token, "--at", "1700000000"] + secret)
        #expect(inspect.status == 0 || inspect.status == 1, "\(inspect.err.prefix(300))")
        #expect(inspect.out.contains("30,000+ years"))
        let ndjson = runCLI(["scan", f.dir + "/app.log", "--format", "ndjson"] + secret)
        #expect(ndjson.status == 0 || ndjson.status == 1, "\(ndjson.err.prefix(300))")
        #expect(ndjson.out.contains("30,000+ years"))
        let db = f.dir + "/f.sqlite"
        let scan = runCLI(["scan", f.dir + "/app.log", "--db", db, "-q"] + secret)
        #expect(scan.status == 0, "\(scan.err.prefix(300))")
        let report = runCLI(["report", "--db", db, "--format", "text"])
        #expect(report.status == 0, "\(report.err.prefix(300))")
    }
}
