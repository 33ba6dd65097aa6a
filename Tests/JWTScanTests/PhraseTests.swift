import SiftCore
import Testing

@testable import JWTScan

@Suite("Error phrases")
struct PhraseTests {
    static let matcher = PhraseMatcher()

    /// A line as a logger writes it: prefix, the message with sample values in its placeholders, suffix.
    static func sampleLine(_ rule: PhraseRule) -> String {
        "2023-11-14T22:13:05Z ERROR [svc] " + rule.fragments.joined(separator: "x1") + " (request 42)"
    }

    @Test("every row of the phrase table is recognised with its cause", arguments: PhraseTable.rules.indices)
    func row(_ index: Int) throws {
        let rule = PhraseTable.rules[index]
        let line = Self.sampleLine(rule)
        guard let m = withBytes(line, { Self.matcher.match($0) }) else {
            // Only a look-alike word in the sample line that the rule itself does not say silences it.
            let guarded = withBytes(line) { raw in
                PhraseTable.lookAlikeWords.contains { w in
                    PhraseMatcher.findFolded(Array(w.utf8), in: raw, from: 0) != nil
                        && !rule.fragments.contains { $0.lowercased().contains(w) }
                }
            }
            #expect(guarded || rule.isGeneric, "row \(rule.row): \(line)")
            return
        }
        let winner = PhraseTable.rules[m.ruleIndex]
        #expect(
            // Equal rank: two emitters print the same words for different causes; the first row in table order wins.
            m.cause == rule.cause || PhraseMatcher.rank(winner) >= PhraseMatcher.rank(rule),
            "row \(rule.row) gave \(m.cause) via row \(winner.row)")
    }

    @Test("matching ignores case and reads Envoy's underscored access-log form")
    func folding() {
        let f = scanText(#"{"response_code_details":"jwt_authn_access_denied{Jwt_is_expired}"}"#)
        #expect(f.errors.first?.cause == .expired)
        #expect(scanText("JWT EXPIRED").errors.first?.cause == .expired)
    }

    /// Real lines from real emitters, with what must come out.
    static let realLines: [(String, Cause, ErrorDetails)] = [
        (
            "2023-11-14 22:13:05 ERROR io.jsonwebtoken.ExpiredJwtException: JWT expired 95012 milliseconds ago at 2023-11-14T22:03:00.000Z. Current time: 2023-11-14T22:04:35.012Z. Allowed clock skew: 0 milliseconds.",
            .expired, ErrorDetails(exp: 1_699_999_380, now: 1_699_999_475.012, deltaSeconds: 95.012, skewSeconds: 0)
        ),
        (
            "JWT expired at 2019-10-24T14:06:41Z. Current time: 2019-10-24T14:06:48Z, a difference of 7343 milliseconds.  Allowed clock skew: 0 milliseconds.",
            .expired, ErrorDetails(exp: 1_571_926_001, now: 1_571_926_008, deltaSeconds: 7.343, skewSeconds: 0)
        ),
        (
            "An error occurred while attempting to decode the Jwt: Jwt expired at 2023-11-14T22:00:00Z",
            .expired, ErrorDetails(exp: 1_699_999_200)
        ),
        (
            "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '11/14/2023 22:00:00', Current time (UTC): '11/14/2023 22:13:05'.",
            .expired, ErrorDetails(exp: 1_699_999_200, now: 1_699_999_985, deltaSeconds: 785)
        ),
        (
            "level=error msg=\"token has invalid claims: token is expired by 7m0s\"",
            .expired, ErrorDetails(deltaSeconds: 420)
        ),
        (
            "2023/11/14 22:13:05 [error] failed to verify jwt: 'exp' claim expired at Tue, 14 Nov 2023 22:00:00 GMT",
            .expired, ErrorDetails(exp: 1_699_999_200)
        ),
        (
            "IDX10501: Signature validation failed. Unable to match key: kid: 'abc'. Number of keys in Configuration: '0'.",
            .key_fetch_failed, ErrorDetails()
        ),
        ("[warn] Jwks remote fetch is failed", .key_fetch_failed, ErrorDetails()),
        ("Signed JWT rejected: Another algorithm expected, or no matching key(s) found", .key_unknown, ErrorDetails()),
        ("JsonWebTokenError: jwt audience invalid. expected: api://orders", .audience_rejected, ErrorDetails()),
        (
            "oidc: current time 2023-11-14 22:13:05 +0000 UTC before the nbf (not before) time: 2023-11-14 22:20:00 +0000 UTC",
            .not_yet_valid, ErrorDetails(nbf: 1_700_000_400, now: 1_699_999_985, deltaSeconds: 415)
        ),
    ]

    @Test("real lines: cause and extracted numbers", arguments: realLines)
    func real(_ line: String, _ cause: Cause, _ details: ErrorDetails) throws {
        let m = try #require(withBytes(line) { Self.matcher.match($0) })
        #expect(m.cause == cause)
        #expect(m.details.exp == details.exp)
        #expect(m.details.nbf == details.nbf)
        #expect(m.details.now.map { ($0 * 1000).rounded() } == details.now.map { ($0 * 1000).rounded() })
        #expect(
            m.details.deltaSeconds.map { ($0 * 1000).rounded() } == details.deltaSeconds.map { ($0 * 1000).rounded() })
        #expect(m.details.skewSeconds == details.skewSeconds)
    }

    @Test("ambiguous messages carry their second reading")
    func ambiguous() {
        let m = withBytes("Jwks doesn't have key to match kid or alg from Jwt") { Self.matcher.match($0) }
        #expect(m?.cause == .key_unknown)
        #expect(m?.alternative == .alg_mismatch)
    }

    @Test(
        "ordinary lines match nothing",
        arguments: [
            "GET /index.html 200", "user logged in", "the signature on the contract expired", "tokenizer ready",
            "", "x",
        ])
    func ordinary(_ line: String) {
        #expect(withBytes(line) { Self.matcher.match($0) } == nil)
    }

    @Test("messages are redacted: tokens, signatures, control bytes; capped at 512 bytes")
    func redaction() {
        let t = Tok.jws()
        let f = scanText(
            "failed to verify jwt: signature mismatch: c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLW1vcmU token=\(t) \u{1B}[31m")
        let msg = f.errors.first?.message ?? ""
        #expect(!msg.contains(t))
        #expect(!msg.contains("c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLW1vcmU"))
        #expect(msg.contains("<jwt:"))
        #expect(!msg.contains("\u{1B}"))
        let long = scanText("jwt expired " + String(repeating: "ab ", count: 400))
        #expect((long.errors.first?.message.utf8.count ?? 0) <= LineScanner.messageLimit)
    }
}
