import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away directory with a signed log and its keys, written through OpenSSL at test time.
struct SignedLogFixture {
    let dir: String
    let current = try! PrivateKey.generate(.ec(.p256))
    let retired = try! PrivateKey.generate(.rsa(bits: 2048))
    let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    var tokens: [String] = []

    init() {
        dir = "/tmp/jwtsift-verify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
    }

    func remove() { _ = system("rm -rf '\(dir)'") }

    func write(_ name: String, _ bytes: [UInt8]) {
        let f = fopen(dir + "/" + name, "w")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    static func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

    func sign(_ key: PrivateKey, alg: String, scheme: SignatureScheme, kid: String?, claims: String) -> String {
        let header = kid.map { #"{"alg":"\#(alg)","kid":"\#($0)"}"# } ?? #"{"alg":"\#(alg)"}"#
        let input = Self.b64(header) + "." + Self.b64(claims)
        return input + "." + Base64URL.encode(try! key.sign(scheme, Array(input.utf8)))
    }

    func hs256(_ claims: String, secret: [UInt8]) -> String {
        let input = Self.b64(#"{"alg":"HS256"}"#) + "." + Self.b64(claims)
        return input + "." + Base64URL.encode(Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) })
    }

    /// The current key's JWKS and the retired key's JWK.
    var keys: (current: String, retired: String) {
        guard case .ec(_, let x, let y) = current.publicKey.components,
            case .rsa(let n, let e) = retired.publicKey.components
        else { return ("", "") }
        let ec = #"{"kty":"EC","kid":"2024","crv":"P-256","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        let rsa = #"{"kty":"RSA","kid":"2023","n":"\#(Base64URL.encode(n))","e":"\#(Base64URL.encode(e))"}"#
        return (#"{"keys":[\#(ec)]}"#, rsa)
    }
}

@Suite("jwtsift scan with keys")
struct VerifyScanTests {
    @Test("each sighting judged at its own log time; distinct tokens verified once; keys named on error")
    func verdicts() throws {
        var f = SignedLogFixture()
        defer { f.remove() }
        let t0 = 1_700_000_000  // 2023-11-14T22:13:20Z
        let good = f.sign(
            f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2024",
            claims: #"{"iss":"https://idp","iat":\#(t0),"exp":\#(t0 + 600)}"#)
        let old = f.sign(
            f.retired, alg: "RS256", scheme: .rsaPKCS1(.sha256), kid: "2023",
            claims: #"{"iss":"https://idp","iat":\#(t0),"exp":\#(t0 + 600)}"#)
        let unknown = f.sign(
            f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2025",
            claims: #"{"iss":"https://idp","iat":\#(t0),"exp":\#(t0 + 600)}"#)
        let forever = f.sign(
            f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2024",
            claims: #"{"iss":"https://idp","exp":99999999999}"#)
        let hs = f.hs256(#"{"exp":\#(t0 + 600)}"#, secret: f.secret)
        f.tokens = [good, old, unknown, forever, hs]
        let log = """
            2023-11-14T22:13:30Z GET /a HTTP/1.1 Authorization: Bearer \(good)
            2023-11-14T23:13:30Z GET /a HTTP/1.1 Authorization: Bearer \(good)
            2023-11-14T22:13:31Z GET /b?access_token=\(old) 200
            {"ts":"2023-11-14T22:13:32Z","msg":"Jwks doesn't have key to match kid or alg from Jwt","token":"\(unknown)"}
            no time on this line Bearer \(forever)
            2023-11-14T22:13:33Z Bearer \(hs)

            """
        f.write("app.log", Array(log.utf8))
        let (current, retired) = f.keys
        f.write("jwks.json", Array(current.utf8))
        f.write("retired.json", Array(#"{"keys":[\#(retired),{"kty":"RSA","kid":"broken","n":"AQAB"}]}"#.utf8))
        f.write("hs.secret", f.secret + [0x0A])

        let r = runCLI([
            "scan", f.dir + "/app.log", "--keys", f.dir + "/jwks.json", "--retired-keys", f.dir + "/retired.json",
            "--hmac-secret-file", f.dir + "/hs.secret", "--jobs", "2", "--format", "ndjson",
        ])
        // The broken retired key is a configuration error (exit 2) that names its file and index; the scan ran.
        #expect(r.status == 2)
        #expect(r.err.contains("retired.json: key #1"))
        #expect(r.err.contains("hs.secret") && r.err.contains("newline"))
        var records: [JSONObject] = []
        for line in r.out.split(separator: "\n") {
            let o = try #require(try JSONParser.parse(String(line)).objectValue)
            if o["type"]?.stringValue == "token" { records.append(o) }
        }
        #expect(
            records.map { $0["cause"]?.stringValue ?? "" }
                == ["ok", "expired", "key_retired", "key_unknown", "ok", "signature_invalid"])
        #expect(
            records.map { $0["signature"]?.stringValue ?? "" }
                == ["valid", "valid", "retired_key", "key_unknown", "valid", "invalid"])
        #expect(records[0]["skew"]?.numberValue == -10)
        #expect(records[1]["reason"]?.stringValue?.hasPrefix("expired 50 min 10 s before the log time") == true)
        #expect(records[4]["time_source"]?.stringValue == "scan")
        #expect(records[0]["time_source"]?.stringValue == "line")
        #expect(records[2]["key"]?.stringValue == "2023")
        #expect(records[3]["line_error"]?.stringValue == "key_unknown")
        #expect(records[3]["causes"]?.arrayValue?.compactMap(\.stringValue) == ["key_unknown"])
        for t in f.tokens {
            #expect(!r.out.contains(t) && !r.err.contains(t))
            let signature = String(t.split(separator: ".").last!)
            #expect(!r.out.contains(signature) && !r.err.contains(signature))
        }
        #expect(!r.err.contains("0123456789abcdef"), "the secret leaked")
    }

    @Test("the verdict cache: a token seen 500 times is analysed once")
    func cacheOnce() {
        let f = SignedLogFixture()
        defer { f.remove() }
        let tok = f.hs256(#"{"exp":99999999999}"#, secret: f.secret)
        let lines = (0..<500).map { "2023-11-14T22:13:\(String(format2: $0 % 60))Z Bearer \(tok)" }
        f.write("a.log", Array((lines.joined(separator: "\n") + "\n").utf8))
        let (key, _) = KeyLoader.secret(f.secret, origin: "s", retired: false)
        var c = Collector()
        let verify = VerifyOptions(keys: KeyRing(current: [key!]), workers: 2)
        let totals = ScanRun(options: ScanOptions(paths: [f.dir + "/a.log"], now: 0, verify: verify)).run(into: &c)
        #expect(totals.counts.sightings == 500)
        #expect(totals.sightingsByCause == [.ok: 500])
        #expect(totals.distinctTokens == 1)
        #expect(totals.analysedTokens == 1)
    }

    @Test("the verdict cache stays bounded: recent tokens stay, a token not met for long is analysed again")
    func cacheBounded() throws {
        let f = SignedLogFixture()
        defer { f.remove() }
        let tokens = (0..<10).map { f.hs256(#"{"exp":99999999999,"n":\#($0)}"#, secret: f.secret) }
        let (key, _) = KeyLoader.secret(f.secret, origin: "s", retired: false)
        let judge = SightingJudge(
            options: VerifyOptions(keys: KeyRing(current: [key!]), workers: 1, cacheLimit: 4, compactLimit: 0), now: 0)
        // One sighting per chunk, as a scan hands them over.
        var scanner = LineScanner(fingerprint: SHA256Context().hash)
        func see(_ i: Int) throws -> Cause {
            var findings = ScanFindings()
            let line = Array("Bearer \(tokens[i])\n".utf8)
            _ = line.withUnsafeBytes {
                scanner.scan(
                    $0, streamOffset: 0, firstLine: 1, continuesLine: false, cutAtEnd: false, into: &findings)
            }
            let judged = line.withUnsafeBytes { judge.judge(findings.tokens, in: $0, streamOffset: 0) }
            return try #require(judged.first).verdict.cause
        }
        for i in 0..<10 { #expect(try see(i) == .ok) }
        #expect(judge.analysed == 10)
        #expect(judge.cachedCount <= 4)
        // The last two are in the current generation: no new analysis.
        for i in [9, 8, 9] { #expect(try see(i) == .ok) }
        #expect(judge.analysed == 10)
        // The first was dropped long ago: analysed again, with the same verdict.
        #expect(try see(0) == .ok)
        #expect(judge.analysed == 11)
        #expect(judge.cachedCount <= 4)
    }
}

extension String {
    init(format2 v: Int) { self = v < 10 ? "0\(v)" : "\(v)" }
}
