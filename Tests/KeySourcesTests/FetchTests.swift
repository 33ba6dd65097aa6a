import Foundation
import JWTVerify
import KeySources
import SiftCore
import Testing

/// Fetching key sets from a real HTTP server on 127.0.0.1 (issue 17): discovery, revalidation, failures and
/// their fallback to the last cached copy. No test reaches beyond loopback.
@Suite("Key set fetching over loopback HTTP", .serialized)
struct FetchTests {
    /// A server with a two-key JWKS, and a fetcher over a fresh cache.
    func setup(timeout: Double = 10) throws -> (LoopbackServer, cache: KeyCache, [ECSigner]) {
        let dir = temporaryDirectory()
        let signers = [ECSigner(kid: "a-1"), ECSigner(kid: "a-2")]
        write(#"{"keys":[\#(signers.map(\.jwk).joined(separator: ","))]}"#, to: dir + "/jwks.json")
        let server = try LoopbackServer(directory: dir)
        return (server, KeyCache(directory: dir + "/cache"), signers)
    }

    func fetcher(_ cache: KeyCache, offline: Bool = false, timeout: Double = 10, now: Double = 1_000_000)
        -> KeySetFetcher
    {
        KeySetFetcher(cache: cache, options: FetchOptions(timeout: timeout), offline: offline, now: now)
    }

    @Test("OpenID discovery names the JWKS; its keys load, named by the URL")
    func discovery() throws {
        let (server, cache, signers) = try setup()
        let f = fetcher(cache)
        let (keys, problems) = f.keys(discovering: server.base)
        #expect(problems.isEmpty, "\(problems)")
        #expect(keys.map(\.kid) == signers.map(\.kid))
        #expect(keys.first?.origin == server.url("/jwks") + "#0")
        #expect(f.records.map(\.outcome) == [.fetched, .fetched])
        #expect(f.records.map(\.url) == [server.url("/.well-known/openid-configuration"), server.url("/jwks")])
        // A discovery document that names another issuer is refused.
        let (none, refused) = f.keys(discovering: server.url("/wrong-issuer"))
        #expect(none.isEmpty)
        #expect(refused.first?.message.contains("names issuer \"https://elsewhere.example\"") == true, "\(refused)")
    }

    @Test("revalidation: the cached copy's ETag is sent and a 304 keeps it; a fresh max-age asks nothing")
    func revalidation() throws {
        let (server, cache, _) = try setup()
        #expect(fetcher(cache).keys(jwksURI: server.url("/jwks")).0.count == 2)
        let second = fetcher(cache, now: 1_000_100)
        let (keys, problems) = second.keys(jwksURI: server.url("/jwks"))
        #expect(keys.count == 2 && problems.isEmpty)
        #expect(second.records.first?.outcome == .notModified)
        #expect(second.records.first?.httpStatus == 304)
        #expect(server.requests.count == 2)
        #expect(server.requests.last?.hasPrefix("GET /jwks \"") == true, "\(server.requests)")

        write("public, max-age=300", to: server.directory + "/cache-control")
        _ = fetcher(cache, now: 1_000_200).keys(jwksURI: server.url("/jwks"))
        let fresh = fetcher(cache, now: 1_000_400)
        #expect(fresh.keys(jwksURI: server.url("/jwks")).0.count == 2)
        #expect(fresh.records.first?.outcome == .fresh)
        #expect(server.requests.count == 3)
        // Past max-age it asks again.
        let stale = fetcher(cache, now: 1_000_600)
        _ = stale.keys(jwksURI: server.url("/jwks"))
        #expect(stale.records.first?.outcome == .notModified)
        #expect(server.requests.count == 4)
    }

    @Test("an HTTP 500 is a problem naming the URL; the last cached copy is used")
    func serverError() throws {
        let (server, cache, _) = try setup()
        let url = server.url("/500")
        let (none, problems) = fetcher(cache).keys(jwksURI: url)
        #expect(none.isEmpty)
        #expect(
            problems.map(\.description) == ["\(url): error: could not fetch: HTTP 500; no cached copy: no keys from it"]
        )
        // With a copy cached earlier (here: the good document stored under this URL), the scan goes on with it.
        let good = try #require(
            cache.load(server.url("/jwks"), limit: 1 << 20)
                ?? {
                    _ = fetcher(cache).keys(jwksURI: server.url("/jwks"))
                    return cache.load(server.url("/jwks"), limit: 1 << 20)
                }())
        cache.store(url, good)
        let f = fetcher(cache)
        let (keys, warned) = f.keys(jwksURI: url)
        #expect(keys.count == 2)
        #expect(f.records.first?.outcome == .failed && f.records.first?.usedCache == true)
        #expect(warned.first?.message.contains("HTTP 500; the scan goes on with the copy cached at ") == true)
    }

    @Test("a timeout, an oversized and a malformed document, a redirect loop, a redirect to plain http: each refused")
    func failures() throws {
        let (server, cache, _) = try setup()
        let started = Date()
        let slow = fetcher(cache, timeout: 1).keys(jwksURI: server.url("/slow"))
        #expect(slow.0.isEmpty && slow.1.first?.message.contains("timed out") == true, "\(slow.1)")
        #expect(Date().timeIntervalSince(started) < 4.5)
        let big = fetcher(cache).keys(jwksURI: server.url("/big"))
        #expect(big.0.isEmpty && big.1.first?.message.contains("larger than 1048576 bytes") == true, "\(big.1)")
        let malformed = fetcher(cache).keys(jwksURI: server.url("/malformed"))
        #expect(malformed.0.isEmpty && malformed.1.first?.message.contains("could not fetch: ") == true)
        #expect(cache.load(server.url("/malformed"), limit: 1 << 20) == nil)
        let loop = fetcher(cache).keys(jwksURI: server.url("/loop"))
        #expect(loop.0.isEmpty && loop.1.first?.message.contains("more than 3 redirects") == true, "\(loop.1)")
        #expect(server.requests.filter { $0.hasPrefix("GET /loop") }.count == 4)
        let plain = fetcher(cache).keys(jwksURI: server.url("/to-plain"))
        #expect(plain.1.first?.message.contains("plain http:// is refused beyond loopback") == true, "\(plain.1)")
        // One redirect to the JWKS is followed.
        #expect(fetcher(cache).keys(jwksURI: server.url("/redirect")).0.count == 2)
    }

    @Test("a served document that turns malformed: refused, the last good copy used")
    func turnsMalformed() throws {
        let (server, cache, _) = try setup()
        #expect(fetcher(cache).keys(jwksURI: server.url("/jwks")).0.count == 2)
        write(#"{"keys":[{"kty":"EC","crv":"P-256","x":"#, to: server.directory + "/jwks.json")
        let f = fetcher(cache, now: 1_000_100)
        let (keys, problems) = f.keys(jwksURI: server.url("/jwks"))
        #expect(keys.count == 2)
        #expect(f.records.first?.outcome == .failed && f.records.first?.httpStatus == 200)
        #expect(problems.first?.message.contains("the scan goes on with the copy cached at") == true, "\(problems)")
    }

    @Test("--offline: the cache only, never the server")
    func offline() throws {
        let (server, cache, _) = try setup()
        let cold = fetcher(cache, offline: true).keys(jwksURI: server.url("/jwks"))
        #expect(cold.0.isEmpty && cold.1.first?.message.contains("--offline, and no cached copy") == true)
        #expect(server.requests.isEmpty)
        _ = fetcher(cache).keys(jwksURI: server.url("/jwks"))
        let f = fetcher(cache, offline: true)
        #expect(f.keys(jwksURI: server.url("/jwks")).0.count == 2)
        #expect(f.records.first?.outcome == .offline)
        #expect(server.requests.count == 1)
    }

    @Test("https with a certificate no trusted authority signed: refused, nothing requested")
    func untrustedCertificate() throws {
        let dir = temporaryDirectory()
        write(ECSigner(kid: "t-1").jwks, to: dir + "/jwks.json")
        // A self-signed certificate for 127.0.0.1, made for this test by the openssl command.
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out",
            dir + "/cert.pem",
        ]
        made.standardError = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        #expect(made.terminationStatus == 0)
        let server = try LoopbackServer(directory: dir, tls: (dir + "/cert.pem", dir + "/key.pem"))
        #expect(server.base.hasPrefix("https://"))
        let f = fetcher(KeyCache(directory: dir + "/cache"))
        let (keys, problems) = f.keys(jwksURI: server.url("/jwks"))
        #expect(keys.isEmpty)
        #expect(f.records.first?.outcome == .failed)
        #expect(problems.first?.message.hasPrefix("could not fetch: ") == true, "\(problems)")
        // The handshake failed: no request reached the server.
        #expect(server.requests.isEmpty)
    }

    @Test("plain http beyond loopback is refused before any connection")
    func plainHTTP() {
        let options = FetchOptions()
        #expect(options.refusal(URL(string: "http://idp.example.com/jwks")!) != nil)
        #expect(options.refusal(URL(string: "https://idp.example.com/jwks")!) == nil)
        #expect(options.refusal(URL(string: "http://127.0.0.1:8080/jwks")!) == nil)
        #expect(options.refusal(URL(string: "ftp://idp.example.com/jwks")!) != nil)
        #expect(FetchOptions(allowHTTP: true).refusal(URL(string: "http://idp.example.com/jwks")!) == nil)
    }
}
