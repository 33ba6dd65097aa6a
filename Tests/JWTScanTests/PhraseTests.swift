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
        // Epoch numbers in a message: milliseconds (Elasticsearch's JWT realm, JwtDateClaimValidator) and seconds
        // (Cognito Identity's reply, quoted in aws-amplify/aws-sdk-ios#2570; nginx-jwt-module).
        (
            "date claim [exp] value [1699999200000] must be after now [1699999985000]",
            .expired, ErrorDetails(exp: 1_699_999_200, now: 1_699_999_985, deltaSeconds: 785)
        ),
        (
            "NotAuthorizedException, message=Invalid login token. Token expired: 1699999985 >= 1699999200}",
            .expired, ErrorDetails(exp: 1_699_999_200, now: 1_699_999_985, deltaSeconds: 785)
        ),
        ("JWT: the jwt has expired [exp=1699999200]", .expired, ErrorDetails(exp: 1_699_999_200)),
        // A short number is no time (a count, a status).
        ("JWT: the jwt has expired [exp=42]", .expired, ErrorDetails()),
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

    /// Text shapes the matcher sees through, each with a real line (URL above it) and the cause it must give.
    static let shapes: [(String, Cause)] = [
        // A wrapper's reason is the message inside it, even a generic cue (krakend/krakend-jose#96).
        // https://github.com/krakend/krakend-jose/issues/96
        (
            #"[KRAKEND] 2022/09/20 - 11:47:12.156 ▶ ERROR [ENDPOINT: /geo/v1/countries][JWTValidator] Unable to validate the token: should have a JSON content type for JWKS endpoint"#,
            .key_fetch_failed
        ),
        // Wrappers two deep (hashicorp/cap's signature wrapper around go-oidc's key fetch).
        // https://github.com/hashicorp/vault/issues/27343
        (
            #"* error validating token: error verifying token signature: fetching keys oidc: get keys failed: 404 Not Found <!DOCTYPE html>"#,
            .key_fetch_failed
        ),
        // A value cut at the end of the line: the space before the trailing placeholder is optional.
        // https://github.com/distribution/distribution/issues/4299
        (#"INFO[0101] failed to verify token: token signed by untrusted key with ID:"#, .key_unknown),
        // A first part shared by messages of different causes says none alone; the Nimbus message inside decides.
        // https://github.com/publicdevop2019/mt-auth/issues/135
        (
            #"Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Invalid JWT serialization: Missing dot delimiter(s)", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1""#,
            .malformed
        ),
        // A bracketed code right after an ANSI colour (no word boundary needed where the code starts with `[`).
        // https://github.com/calcom/cal.diy/issues/2852
        (#"←[32m@calcom/web:start: ←[0m[next-auth][error][JWT_SESSION_ERROR]"#, .other),
        // A look-alike word counts only where a word starts: `Please` holds no `lease`.
        // https://github.com/SAP/cloud-security-services-integration-library/issues/797
        (
            #"2022-01-23T17:33:40.367+0000 [APP/PROC/WEB/0] OUT 2022-01-23 17:33:40.367  WARN 7 --- [nio-8080-exec-1] c.s.c.s.t.validation.ValidationResults   : Issuer is not trusted because issuer 'xxxxxxxx.accounts400.ondemand.com' does not provide a valid URI (missing http scheme). Please contact your Identity Provider Administrator."#,
            .issuer_rejected
        ),
        // A soft look-alike (a `session_state` claim) on a line that names a JWT, inside an exception chain.
        // https://github.com/quarkusio/quarkus/issues/31140
        (
            #"Caused by: org.jose4j.jwt.consumer.InvalidJwtException: JWT (claims->{"exp":1676357992,"iat":1676357932,"jti":"d7a44369-15fb-4653-9981-c9d0d42970ab","iss":"http://localhost:18080/realms/master","sub":"5d15d9ff-0288-4487-8103-94ae1d056ea1","typ":"Bearer","azp":"admin-cli","session_state":"e53cf100-a1e0-4ee0-b9a3-c4ae625af115","acr":"1","scope":"email profile","sid":"e53cf100-a1e0-4ee0-b9a3-c4ae625af115","email_verified":false,"preferred_username":"admin","given_name":"","family_name":"","email":"admin@handaotech.com"}) rejected due to invalid claims or other invalid content. Additional details: [[1] The JWT is no longer valid - the evaluation time NumericDate{1676359301 -> Feb 14, 2023, 3:21:41 PM CST} is on or after the Expiration Time (exp=NumericDate{1676357992 -> Feb 14, 2023, 2:59:52 PM CST}) claim value.]"#,
            .expired
        ),
        // A soft look-alike said by the wrapper around the message (Argo CD's session is the JWT).
        // https://github.com/argoproj-labs/argocd-image-updater/issues/630
        (
            #"level=error msg="Error: rpc error: code = Unauthenticated desc = invalid session: Token is expired"#,
            .expired
        ),
        // A hard look-alike inside a wrapper stays one: the certificate that expired is the TLS one.
        // https://github.com/googleapis/google-auth-library-nodejs/issues/1769
        (
            #"errorType: 'Failed to retrieve verification certificates: request to https://www.googleapis.com/oauth2/v1/certs failed, reason: certificate has expired'"#,
            .key_fetch_failed
        ),
        // A message inside a JSON string inside a JSON string (first 130 bytes of the line).
        // https://github.com/nianhua99/PandoraHelper/issues/105
        (
            #"{"level":"error","ts":1724042271.629171,"caller":"service/share.go:231","msg":"RefreshShareToken error","err":"{\"detail\":\"token has invalid claims: token is expired\"}""#,
            .expired
        ),
        // An older, shorter version of a long message (Envoy before `with two dots and 3 sections`): its first two
        // thirds stand alone.
        // https://github.com/istio/istio/issues/22750
        (
            #"[Envoy (Epoch 0)] [2020-04-10 06:54:20.594][27][debug][jwt] [external/envoy/source/extensions/filters/http/jwt_authn/authenticator.cc:245] JWT token verification completed with: Jwt is not in the form of Header.Payload.Signature"#,
            .malformed
        ),
        // TLS words do not silence a key-set or discovery fetch that failed over TLS.
        // https://github.com/kubernetes/apiserver/issues/27
        (
            #"E1206 06:12:46.728701       1 oidc.go:190] oidc authenticator: failed to fetch provider discovery data: Get https://keycloak.xxxxx.com/auth/realms/k8s/.well-known/openid-configuration: x509: certificate signed by unknown authority"#,
            .key_fetch_failed
        ),
    ]

    @Test("text shapes: wrappers, cut values, shared prefixes, codes in brackets, look-alike words", arguments: shapes)
    func shape(_ line: String, _ cause: Cause) throws {
        let m = try #require(withBytes(line) { Self.matcher.match($0) })
        #expect(m.cause == cause)
    }

    /// A message retold without its quotes is still its emitter's row, not a generic cue (the issue's title).
    /// https://github.com/awinogrodzki/next-firebase-auth-edge/issues/295
    @Test("a message without its quotes is still the emitter's row")
    func quotesDropped() throws {
        let m = try #require(
            withBytes("Token expired: exp claim timestamp check failed for all logins") { Self.matcher.match($0) })
        #expect(m.cause == .expired)
        #expect(Self.matcher.rules[m.ruleIndex].emitter == "jose")
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

    @Test(
        "look-alikes: AWS session credentials, a program missing an error class, a setting",
        arguments: [
            "An error occurred (ExpiredToken) when calling the ListBuckets operation: The security token included in"
                + " the request is expired",
            "An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.",
            "NameError: uninitialized constant JWT::ExpiredSignature",
            "auth_token warn WARNING - empty tokens allowed",
        ])
    func secondRoundLookAlikes(_ line: String) {
        #expect(withBytes(line) { Self.matcher.match($0) } == nil)
    }

    @Test("a soft look-alike word does not silence a line that names a JWT or its claims")
    func softLookAlikes() {
        let m = withBytes("read from the token cache: jwt expired") { Self.matcher.match($0) }
        #expect(m?.cause == .expired)
        let aws = withBytes("security token service: the JWT signature is invalid") { Self.matcher.match($0) }
        #expect(aws?.cause == .signature_invalid)
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
