import Foundation
import JOSECrypto
import JWTScan
import JWTVerify
import SiftCore
import SiftPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `inspect` and `scan` give the same verdict for the same token bytes (issue 12): every token `scan` reports is
/// pasted, with its log line, into `inspect`'s reader and judged at the same moment; cause, causes, signature
/// status and what the token still shows must be equal.
@Suite("scan and inspect agree")
struct ScanInspectAgreementTests {
    static let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    @Test("every token of samples/")
    func samples() throws {
        let keys = KeyPaths(
            keys: [Self.root + "/samples/keys/jwks.json"], retired: [Self.root + "/samples/keys/retired.jwks.json"],
            secrets: [Self.root + "/samples/keys/orders-hs256.secret"])
        let compared = try compare(paths: [Self.root + "/samples/logs"], keys: keys)
        #expect(compared.tokens >= 200)
        #expect(compared.causes.contains(.truncated) && compared.causes.contains(.signature_invalid))
    }

    @Test("a generated corpus of whole, cut, forged and broken tokens in several contexts")
    func generated() throws {
        let f = SignedLogFixture()
        defer { f.remove() }
        f.write("jwks.json", Array(f.keys.current.utf8))
        f.write("retired.json", Array(#"{"keys":[\#(f.keys.retired)]}"#.utf8))
        f.write("hs.secret", f.secret)
        let t0 = 1_700_000_000
        let claims = #"{"iss":"https://idp.example","sub":"u","iat":\#(t0),"exp":\#(t0 + 600)}"#
        var tokens = [
            f.sign(f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2024", claims: claims),
            f.sign(f.retired, alg: "RS256", scheme: .rsaPKCS1(.sha256), kid: "2023", claims: claims),
            f.sign(f.retired, alg: "RS256", scheme: .rsaPKCS1(.sha256), kid: nil, claims: claims),
            f.hs256(claims, secret: f.secret),
            f.hs256(#"["not","claims"]"#, secret: f.secret),
            f.sign(f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "2023", claims: claims),
            f.sign(f.current, alg: "ES256", scheme: .ecdsa(.sha256, .p256), kid: "rotated", claims: claims),
            SignedLogFixture.b64(#"{"alg":"HS256","alg":"none"}"#) + "." + SignedLogFixture.b64(claims) + ".c2ln",
            SignedLogFixture.b64(#"{"alg":"none"}"#) + "." + SignedLogFixture.b64(claims) + ".",
        ]
        // Cuts: 1 to 5 characters off the end, half the signature, inside the payload, right after the header.
        for whole in tokens.prefix(4) {
            let dots = whole.indices.filter { whole[$0] == "." }
            let signatureLength = whole.distance(from: dots[1], to: whole.endIndex) - 1
            for drop in [1, 2, 3, 4, 5, signatureLength / 2] { tokens.append(String(whole.dropLast(drop))) }
            tokens.append(String(whole[..<whole.index(dots[0], offsetBy: 40)]))
            tokens.append(String(whole[..<whole.index(after: dots[0])]) + "eyJ")
        }
        let contexts: [(String) -> String] = [
            { "GET /api HTTP/1.1 Authorization: Bearer \($0) 401" },
            { #"{"level":"warn","token":"\#($0)","msg":"jwt rejected"}"# },
            { "GET /cb?access_token=\($0)&state=1 200" },
            { "auth header Bearer \($0)... [truncated]" },
            { "token=\($0)[TRUNCATED]" },
        ]
        var log = ""
        for (i, t) in tokens.enumerated() {
            for (j, context) in contexts.enumerated() {
                log += "2023-11-14T22:\(10 + j):\(10 + i % 50)Z " + context(t) + "\n"
            }
        }
        f.write("gen.log", Array(log.utf8))
        let keys = KeyPaths(
            keys: [f.dir + "/jwks.json"], retired: [f.dir + "/retired.json"], secrets: [f.dir + "/hs.secret"])
        let compared = try compare(paths: [f.dir + "/gen.log"], keys: keys)
        // Each generated token is found in every context but the 2-segment stubs ending in "eyJ" (a header and
        // three characters are no token) — at least four in five overall.
        #expect(compared.tokens * 5 >= tokens.count * contexts.count * 4, "\(compared.tokens)")
        for cause: Cause in [.ok, .truncated, .malformed, .key_retired, .alg_none, .key_unknown] {
            #expect(compared.causes.contains(cause), "\(cause) never came up: the corpus lost a case")
        }
    }

    struct Compared {
        var tokens = 0
        var causes: Set<Cause> = []
    }

    /// Scans `paths` to NDJSON, then inspects every reported token's line and compares.
    func compare(paths: [String], keys paths2: KeyPaths) throws -> Compared {
        var keyArgs: [String] = []
        for k in paths2.keys { keyArgs += ["--keys", k] }
        for k in paths2.retired { keyArgs += ["--retired-keys", k] }
        for k in paths2.secrets { keyArgs += ["--hmac-secret-file", k] }
        let r = runCLI(["scan"] + paths + keyArgs + ["--format", "ndjson"])
        #expect(r.status == 0 || r.status == 1, "\(r.err.prefix(300))")
        let (ring, problems) = KeyFiles.load(paths2)
        #expect(!problems.contains { $0.severity == .error })
        var sources: [String: [UInt8]] = [:]
        var out = Compared()
        for line in r.out.split(separator: "\n") {
            let o = try #require(try JSONParser.parse(String(line)).objectValue)
            guard o["type"]?.stringValue == "token" else { continue }
            let source = try #require(o["source"]?.stringValue)
            let offset = Int(try #require(o["offset"]?.numberValue))
            let length = Int(try #require(o["length"]?.numberValue))
            let at = try #require(o["judged_at"]?.numberValue)
            let bytes = sources[source] ?? decompressed(source)
            sources[source] = bytes
            var start = offset
            while start > 0 && bytes[start - 1] != 0x0A { start -= 1 }
            var end = offset + length
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let token = Array(bytes[offset..<(offset + length)])
            let pasted = Inspection.pasted(in: Array(bytes[start..<end]))
            let mine = try #require(pasted.first { $0.bytes == token }, "inspect did not find the token scan found")
            let i = Inspection.run([mine], keys: ring, policy: VerifyPolicy(), at: at, atSource: "--at")[0]
            let a = i.analysis
            let place = "\(source):\(o["line"]?.numberValue ?? 0)"
            #expect(i.verdict.cause.rawValue == o["cause"]?.stringValue, "\(place) \(a.reasons)")
            #expect(i.verdict.causes.map(\.rawValue) == o["causes"]?.arrayValue?.compactMap(\.stringValue), "\(place)")
            #expect(a.signature.rawValue == o["signature"]?.stringValue, "\(place)")
            #expect(a.kid == o["kid"]?.stringValue && a.iss == o["iss"]?.stringValue, "\(place)")
            #expect(a.exp == o["exp"]?.numberValue, "\(place)")
            out.tokens += 1
            out.causes.insert(i.verdict.cause)
        }
        return out
    }

    /// A source's bytes as `scan` read them (gzip undone).
    func decompressed(_ path: String) -> [UInt8] {
        let tmp = "/tmp/jwtsift-agree-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(tmp) }
        _ = system("gzip -dcf '\(path)' > '\(tmp)'")
        return FileManager.default.contents(atPath: tmp).map { Array($0) } ?? []
    }
}
