import SiftCore
import TestSupport
import Testing

@testable import JWTScan

#if canImport(Glibc)
import Glibc
#endif

/// The real-lines corpus (Fixtures/real-lines.jsonl): verbatim log lines from public issue threads, Q&A pages and
/// vendor docs, each with its URL, emitter and the cause its text names (`none` for look-alikes). A third of it
/// (`part: holdout`, chosen by a hash of each line before any rule was tuned) is only ever scored.
/// `scripts/eval-real-lines.py` prints the per-cause precision/recall table.
@Suite("Real lines from public threads")
struct RealLinesTests {
    struct Row: Sendable {
        var part: String
        var cause: String
        var alt: String
        var emitter: String
        var url: String
        var line: String
    }

    static let rows: [Row] = {
        let path =
            "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/real-lines.jsonl"
        guard let f = fopen(path, "r") else { return [] }
        defer { fclose(f) }
        var out: [Row] = []
        var buffer: UnsafeMutablePointer<CChar>?
        var cap = 0
        while getline(&buffer, &cap, f) > 0 {
            let text = String(cString: buffer!).trimmingNewline()
            guard let o = try? JSONParser.parseObject(Array(text.utf8)) else { continue }
            func s(_ k: String) -> String { o[k]?.stringValue ?? "" }
            out.append(
                Row(
                    part: s("part"), cause: s("cause"), alt: s("alt"), emitter: s("emitter"), url: s("url"),
                    line: s("line")))
        }
        free(buffer)
        return out
    }()

    /// (right-cause rate over positives, flagged rate over negatives) for one part.
    static func score(_ part: String) -> (right: Double, flagged: Double, positives: Int, negatives: Int) {
        var right = 0
        var flagged = 0
        var positives = 0
        var negatives = 0
        for r in rows where r.part == part {
            let got = scanText(r.line).errors.first?.cause.rawValue
            if r.cause == "none" {
                negatives += 1
                if got != nil { flagged += 1 }
            } else {
                positives += 1
                if got == r.cause || (!r.alt.isEmpty && got == r.alt) { right += 1 }
            }
        }
        return (
            Double(right) / Double(max(positives, 1)), Double(flagged) / Double(max(negatives, 1)), positives, negatives
        )
    }

    @Test("the corpus: at least 300 sourced lines from at least 40 emitters, 40 look-alikes, both parts")
    func corpus() {
        #expect(Self.rows.count >= 300)
        #expect(Set(Self.rows.map(\.emitter)).count >= 40)
        #expect(Self.rows.filter { $0.cause == "none" }.count >= 40)
        #expect(Self.rows.allSatisfy { $0.url.hasPrefix("http") || $0.url.contains("/") })
        for r in Self.rows where r.cause != "none" { #expect(Cause(rawValue: r.cause) != nil, "\(r.cause)") }
        let holdout = Self.rows.filter { $0.part == "holdout" }.count
        #expect(holdout * 4 >= Self.rows.count && holdout * 2 <= Self.rows.count)
    }

    /// Floors just under the rates this build reaches on the 2,823-line corpus (tune 86.8% right, 7.8% flagged;
    /// this test reads each line alone, which gives tune 86.6%; holdout 77.5%, 12.1%), so a change that loses ground
    /// fails. Rounds 4–12 (lines 902–2823, from threads and emitters the corpus did not have, each given its part by
    /// the hash before jwtsift was run on it) were right 52–97% of the time before any rule was tuned on their tune
    /// part; round 11 (lines 2481–2631) was never tuned on, and round 12's holdout (63.3% blind) is new. Rounds 9–12
    /// added look-alikes flagged 3–67% blind (API request signing, token creation, other products' tokens, login
    /// failures), which is why the flagged floors sit above the 5.7% of lines 1–2071. The issue's target is 90% right
    /// and at most 3% flagged on each part; see the README for where both parts stand and why
    /// (`scripts/eval-real-lines.py --frontier`).
    @Test(
        "right cause and look-alikes flagged, on each part",
        arguments: [("tune", 0.86, 0.08), ("holdout", 0.77, 0.125)])
    func floors(_ part: String, _ minimumRight: Double, _ maximumFlagged: Double) {
        let s = Self.score(part)
        #expect(s.positives > 100 && s.negatives > 20)
        #expect(s.right >= minimumRight, "\(part): right cause \(s.right)")
        #expect(s.flagged <= maximumFlagged, "\(part): look-alikes flagged \(s.flagged)")
    }
}

@Suite("Phrase table and the general classifier")
struct PhraseTableTests {
    static let matcher = PhraseMatcher()

    static func match(_ line: String) -> PhraseMatch? { withBytes(line) { matcher.match($0) } }

    @Test("every line of the sourced table becomes a rule, with a literal the matcher can anchor on")
    func sourced() {
        let lines = PhraseTable.sourcedTable.split(separator: "\n").count
        let rules = PhraseTable.sourcedRules(PhraseTable.sourcedTable)
        #expect(lines > 1400)
        #expect(rules.count == lines)
        #expect(Set(rules.map(\.emitter)).count >= 60)
        for r in PhraseTable.rules { #expect(r.fragments.contains { $0.utf8.count >= 8 }, "\(r.row)") }
    }

    @Test(
        "a generic cue carries rule generic and no emitter; a table row beats it",
        arguments: [
            ("ERROR gateway: bearer credential rejected, signature mismatch", Cause.signature_invalid, true),
            (
                "oidc: id token signed with unsupported algorithm, expected [\"RS256\"] got \"HS256\"", .alg_mismatch,
                true
            ),
            // Docker distribution's "token signed by untrusted key with ID: …" is a table row now; these words are no
            // program's.
            ("WARN token signed by an unknown key, kid \"7K7M\"", .key_unknown, true),
            ("WARN token signed by untrusted key with ID: \"7K7M\"", .key_unknown, false),
            ("TokenExpiredError: jwt expired", .expired, false),
            // An exception class row before `:` gives way to the message after it, even a generic cue.
            ("[JwtParseError: Unexpected signature algorithm]", .alg_mismatch, true),
            // `invalid_grant` is soft: a JWT assertion refused at the token endpoint still counts. Both are table rows
            // now (OpenSearch's `Invalid JWT signature`, Entra's AADSTS700024 from its error-code reference).
            ("Error: invalid_grant: Invalid JWT Signature.", .signature_invalid, false),
            ("AADSTS700024: Client assertion is not within its valid time range.", .expired, false),
            ("Error: invalid_grant: the assertion's JWT signature is incorrect", .signature_invalid, true),
            // Cue families: the nbf, kid and JWKS words as other verifiers inflect them (no table row says these).
            ("auth: the JWT can't be used before 2024-01-01T00:00:00Z", .not_yet_valid, true),
            ("gw: the JWKS does not contain a key for kid abc", .key_unknown, true),
            ("gateway: fetching the JWKS failed: connect timed out", .key_fetch_failed, true),
            ("api: JWT with an unexpected number of segments", .malformed, true),
            ("api: No authorisation header present", .missing_token, true),
            // A bare `invalid token` counts where the line names a bearer token or carries the RFC 6750 code.
            ("Failed authentication with /10.1.8.1 ({\"status\":\"invalid_token\"})", .other, true),
            ("api: Bearer token: invalid token", .other, true),
            // A time claim's name as a whole word says the line is about a token (oidc-client-js, round 4).
            ("exp is in the past", .expired, true),
            // `-` folds to a space as `_` does: an error code's words (Confluence Synchrony's `jwt/invalid-aud`).
            ("{\"type\":\"jwt/invalid-aud\",\"message\":\"Error validating JWT\"}", .audience_rejected, true),
            // A message's first part that ends at an open quote does not stand alone without its quote (LexikJWT's
            // `Unable to find key "…" in the token payload.` is not this line's `Unable to find key with kid`).
            ("Failed to get signing key: Unable to find key with kid: 656ea50", .key_unknown, true),
            // This stop's cues, each on a real line of the corpus's tune part, two cut to their message (WSO2, Keycloak's
            // introspection, FusionAuth's Apple login, Envoy's jwt_authn, MinIO's OpenID discovery over TLS,
            // APIcast, Stø's client assertions, Rancher's JWT cookie).
            (
                " org.wso2.carbon.identity.oauth2.IdentityOAuth2Exception: Error occurred while validating token.",
                .other, true
            ),
            ("{\"error\":\"invalid_request\",\"error_description\":\"Failed to introspect token.\"}", .other, true),
            ("\"message\": \"The id_token returned from Apple is invalid or cannot be verified.\"", .other, true),
            (
                "Issuer 'xx' in jwt_authn config has invalid local jwks: [kty] is not supported in [keys]",
                .key_fetch_failed, true
            ),
            (
                "Unable to initialize OpenID: Get https://xxxxxxxxxxxxx/oauth2/oidcdiscovery/.well-known/openid-configuration: x509: cannot validate certificate for xxxxxxxxxx because it doesn't contain any IP SANs.",
                .key_fetch_failed, true
            ),
            ("[jwk] not found, token might belong to a different realm", .key_unknown, true),
            ("Error: unexpected claims in client assertion: [claim_name]", .claims_invalid, true),
            // Round 12's tune part: SeaweedFS, Pterodactyl Wings, Tableau's error table, NetBird (an hashicorp/cap
            // wrapper around an inner message no row knows), Hasura's key-set refresh, Parse Server's Apple adapter.
            ("with httpStatus:401 and JSON:{\"error\":\"wrong jwt\"}", .other, true),
            ("{\"event\":\"jwt error\",\"args\":[\"jwt: no jwt present\"]}", .missing_token, true),
            ("10084 | JWT_PARSE_ERROR | JWT contains issues |", .malformed, true),
            (
                "2024-07-04T20:36:48Z ERRO management/server/jwtclaims/jwtValidator.go:160: error parsing token: unable to find appropriate key",
                .key_unknown, true
            ),
            (
                "{\"type\":\"jwk-refresh-log\",\"level\":\"critical\",\"detail\":{\"error\":{\"http_exception\":{\"type\":\"http_exception\",\"message\":\"ConnectionTimeout\"}},\"message\":null}}",
                .key_fetch_failed, true
            ),
            (
                "error: Parse error: jwt aud parameter does not include this client - is: _bundleid_",
                .audience_rejected, true
            ),
            // OIDC's code flow named beside the ID token it returned (kubelogin): `authorization code` is a soft
            // look-alike word.
            (
                "error: setup: authentication error: authentication error: authorization code flow error: could not verify the ID token: failed to verify signature: failed to verify id token signature",
                .signature_invalid, false
            ),
            // Google Cloud Endpoints' ESP (tune part): a key that could not be fetched, beside a catch-all.
            ("   \"message\": \"JWT validation failed: KEY_RETRIEVAL_ERROR\",", .key_fetch_failed, true),
            ("\"code\":\"JWTNotProvided\",\"message\":\"Request does not contain JWT cookie\"", .missing_token, true),
        ])
    func generic(_ line: String, _ cause: Cause, _ isGeneric: Bool) throws {
        let m = try #require(Self.match(line))
        #expect(m.cause == cause)
        #expect(Self.matcher.rules[m.ruleIndex].isGeneric == isGeneric)
        #expect(Self.matcher.rules[m.ruleIndex].emitter.isEmpty == isGeneric)
    }

    static let genericOnly = PhraseMatcher(rules: PhraseTable.rules.filter(\.isGeneric))

    /// The general classifier alone (no table row), on messages the table holds from source: a claim that is absent
    /// or of the wrong type is claims_invalid, though its words name a time claim (`exp) claim`) or say `token
    /// missing`; a cue that is one identifier stands inside a class name at its camel-case steps.
    @Test(
        "the cue lexicon alone, on messages the table holds",
        arguments: [
            ("jwt: No Not Before (nbf) claim present.", Cause.claims_invalid),  // jose4j
            ("jwt: Expiration Time (exp) claim must be a number present in the token", .claims_invalid),  // auth0-php
            ("jwtsvid: token missing exp claim", .claims_invalid),  // go-spiffe
            ("Provided JWT token has an invalid exp claim: value is not a number", .claims_invalid),  // RabbitMQ
            ("msal: IdTokenIssuerError", .issuer_rejected),  // MSAL Python's class
            ("jwt: TokenExpiredException", .expired),  // tymon/jwt-auth's class
            // A key set with no key at all is a fetch problem, not an unknown kid (ruby-jwt, Nimbus).
            ("jwt: No keys found in jwks", .key_fetch_failed),
            ("jwt: Missing required \"keys\" member", .key_fetch_failed),
            ("jwt: jti is found in replay cache. Possible replay attack.", .claims_invalid),  // Duende
        ])
    func cueLexicon(_ line: String, _ cause: Cause) throws {
        let m = try #require(withBytes(line) { Self.genericOnly.match($0) })
        #expect(m.cause == cause)
    }

    /// The matcher sorts its anchor entries with a radix sort at every start: it must order them as `sorted()` does
    /// (the anchors' order decides which rule is found first on a tie).
    @Test("the anchor entries' radix sort orders as sorted() does", arguments: [0, 1, 2, 1000, 70_000])
    func radixSort(_ count: Int) {
        var generator = SplitMix(seed: UInt64(count))
        var values = (0..<count).map { i in i % 7 == 0 ? UInt64(i % 3) : generator.next() }
        values += [UInt64.max, 0, 1 << 48, 1 << 32 | 5, 1 << 16]
        var sorted = values
        PhraseMatcher.radixSort(&sorted)
        #expect(sorted == values.sorted())
    }

    /// IdentityModel, Open Liberty and SmallRye number their messages: the code alone stands for the message when a
    /// page or logger cut the text (UiPath's `IDX20807: Unable to retrieve document`, round 9), below the whole
    /// message; a code two rows give different causes stands as `other`.
    @Test("a coded message is known by its code when its text is cut")
    func messageCodes() throws {
        let cut = try #require(Self.match("System.IO.IOException: IDX20807: Unable to retrieve document"))
        #expect(cut.cause == .key_fetch_failed)
        #expect(Self.matcher.rules[cut.ruleIndex].fragments == ["IDX20807:"])
        #expect(Self.matcher.rules[cut.ruleIndex].emitter == "Microsoft.IdentityModel")
        // The whole message outranks its code.
        let whole = try #require(Self.match("IDX10205: Issuer validation failed. Issuer: 'a'."))
        #expect(Self.matcher.rules[whole.ruleIndex].fragments != ["IDX10205:"])
        #expect(PhraseTable.messageCode("CWWKS1757E: Validation failed") == "CWWKS1757E:")
        #expect(PhraseTable.messageCode("IDX10205 Issuer") == nil)
        #expect(PhraseTable.messageCode("HTTP2: failed") == nil)
        let reused = PhraseTable.codeRules(PhraseTable.rules.filter { !$0.isGeneric }).filter {
            $0.fragments == ["IDX10700:"]
        }
        #expect(reused.map(\.cause) == [.other])
    }

    @Test("a one-identifier cue does not stand inside a longer word")
    func cueInsideWord() {
        // `InvalidClaims` before `Count` (not Error or Exception), and `invalidclaim` after a lowercase letter with no
        // camel step.
        #expect(withBytes("jwt: InvalidClaimsCount=0") { Self.genericOnly.match($0) } == nil)
        #expect(withBytes("jwt: reinvalidclaim") { Self.genericOnly.match($0) } == nil)
    }

    /// Classes of non-JWT tokens (round 3 of the corpus): each is silenced by the word that names its class, and a
    /// bare `invalid token` needs positive evidence of a JWT or bearer token (`id token` is not in `Invalid token`).
    @Test(
        "look-alike classes and bare invalid-token lines stay quiet",
        arguments: [
            "Invalid token. Please make sure you have entered it correctly",
            "{\"message\":\"Sorry, but that reset token is invalid or has expired.\"}",
            "Assertion has expired (SubjectConformationData/NotOnOrAfter condition).",
            "Error response from daemon: unauthorized: personal access token is expired",
            "FirebaseError: Authentication Error: Your credentials are no longer valid. Please run firebase login --reauth",
            "Original Error: *trace.AccessDeniedError invalid one time token, please check if the token has expired",
            "error: 400: {\"error\":\"invalid token\"}",
            // `EXPIRED` is one word in capitals: no whole-word `exp` in it to make the line about a token.
            "Error: CERT_HAS_EXPIRED",
            // OAuth 1.0a's request signature (Atlassian application links, round 5).
            "oauth_problem=signature_invalid",
            // A verification that ended well (Envoy's jwt_authn, round 7).
            "envoy jwt authenticator.cc:374 origins-0: JWT token verification completed with: OK",
            // A bare `unauthenticated` needs evidence of a JWT (Linkerd's server policy, round 6).
            "linkerd_app_core::errors::respond: Request failed error=unauthorized connection on server default:cluster-unauthenticated",
            // A login failure whose only `auth` is in its own words (round 9: ClickHouse; sshd and PAM say the same).
            "<Error> Access(user directories): user: inserter: Authentication failed: Code: 36. DB::Exception: Credentials required.",
            "sshd[812]: error: PAM: Authentication failure for root from 10.0.0.8",
            "Authentication failed for invalid user admin from 10.0.0.8 port 50514 ssh2",
            // Making a token, not verifying one (SmallRye's build API, round 10).
            "io.smallrye.jwt.build.JwtSignatureException: SRJWT05000: Unsupported signature algorithm: EdDSA",
            // An S3 presigned request past its time (round 9).
            "ExpiredTokenInvalid argument.The provided token has expired. Request signature expired at: 2026-01-31T22:38:15+00:00",
        ])
    func lookAlikeClasses(_ line: String) {
        #expect(Self.match(line) == nil, "\(line)")
    }

    /// The look-alike words added in rounds 9–10 are what silences their lines: each line holds a rule's words (a
    /// table row or a cue), so without the guard it would be a finding.
    @Test(
        "the round 9–10 look-alike lines hold a rule's words: the guard is what silences them",
        arguments: [
            "io.smallrye.jwt.build.JwtSignatureException: SRJWT05000: Unsupported signature algorithm: EdDSA",
            "ExpiredTokenInvalid argument.The provided token has expired. Request signature expired at: 2026-01-31T22:38:15+00:00",
            "Authentication failed: Basic authentication or X-Trino-User must be sent",
            // A program missing an exception class (python-jose, round 11) and a client refused at the token
            // endpoint (Ory Hydra's CLI, round 11): the guards of this stop.
            "AttributeError: module 'jose.jwt' has no attribute 'InvalidAudienceError'",
            "Response: {\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)\",\"status_code\":401}",
        ])
    func lookAlikeGuardRuns(_ line: String) {
        #expect(Self.match(line) == nil, "\(line)")
        let spelled = withBytes(line) { raw in
            Self.matcher.rules.indices.contains { Self.matcher.spans(rule: $0, in: raw) != nil }
        }
        #expect(spelled, "no rule's words in: \(line)")
    }

    /// `invalid_client` is a soft look-alike: a client's JWT assertion refused at the token endpoint still counts
    /// (Okta's token endpoint refusing private_key_jwt assertions: two real lines of the corpus).
    @Test(
        "invalid_client with a client assertion named is still a finding",
        arguments: [
            (
                "{\"error\": \"invalid_client\", \"error_description\": \"The client_assertion signature is invalid.\"}",
                Cause.signature_invalid
            ),
            (
                "{\"error\":\"invalid_client\",\"error_description\":\"The client_assertion JWT kid is invalid.\"}",
                Cause.key_unknown
            ),
        ])
    func clientAssertions(_ line: String, _ cause: Cause) throws {
        #expect(try #require(Self.match(line)).cause == cause)
    }

    /// A table message that ends at a colon introduces another (`Failed to parse JWT token: …`, read in Strimzi's
    /// source, is also what etcd prints around golang-jwt's own error): a message after it that names a cause wins,
    /// while a value after it (`unexpected signing method: HS256`) leaves the row's cause, and a code (`IDX10205:`)
    /// stays the row it is.
    @Test("a row ending at a colon gives way to the message after it, not to a value")
    func colonWrappers() throws {
        let etcd = try #require(
            Self.match("2020-06-28 15:46:32.644739 W | auth: failed to parse jwt token: Token is expired"))
        #expect(etcd.cause == .expired)
        let wrapper = try #require(Self.match("auth: failed to parse jwt token: zzz"))
        #expect(wrapper.cause == .malformed)
        #expect(Self.matcher.rules[wrapper.ruleIndex].isWrapper)
        let argo = try #require(Self.match("unexpected signing method: HS256"))
        #expect(argo.cause == .alg_mismatch)
        #expect(!Self.matcher.rules[argo.ruleIndex].isGeneric)
        let code = try #require(Self.match("IDX10205: Issuer validation failed."))
        #expect(code.cause == .issuer_rejected)
        #expect(Self.matcher.rules[code.ruleIndex].emitter == "Microsoft.IdentityModel")
    }

    @Test("python-jose's exception classes, alone on a line")
    func joseClasses() throws {
        #expect(try #require(Self.match("jose.exceptions.JWSSignatureError")).cause == .signature_invalid)
        #expect(try #require(Self.match("jose.exceptions.JWTClaimsError")).cause == .claims_invalid)
    }

    @Test("the same bare words on a line that names a JWT still count")
    func strongContext() throws {
        #expect(try #require(Self.match("jwt auth: invalid token")).cause == .other)
        // `auth` outside the cue's own words still makes the line about a token (`oauth2`, `auth_jwt`).
        #expect(try #require(Self.match("oauth2 filter: authentication failed")).cause == .other)
        // The RFC 6750 code counts only as written: `invalid_token`, not `Invalid token`.
        #expect(Self.match("Invalid token.") == nil)
        #expect(try #require(Self.match("error=\"invalid_token\"")).cause == .other)
    }

    /// Real look-alike lines from the corpus that a rule's text does match, but whose look-alike word (certificate,
    /// session, refresh token, CSRF…) the rule does not say, where a word starts as the guard reads it (`cache` is
    /// not in `plugin-simplecache`): the guard must silence each. At least five such lines exist, so the guard
    /// provably runs.
    @Test("the look-alike guard silences real look-alikes that a rule's words would otherwise match")
    func lookAlikes() {
        var guarded = 0
        for row in RealLinesTests.rows where row.cause == "none" {
            let wouldMatch = withBytes(row.line) { raw in
                Self.matcher.rules.indices.contains { i in
                    Self.matcher.spans(rule: i, in: raw) != nil
                        && PhraseTable.lookAlikeWords.contains { w in
                            PhraseMatcher.findWordStart(Array(w.utf8), in: raw)
                                && !Self.matcher.rules[i].fragments.contains { $0.lowercased().contains(w) }
                        }
                }
            }
            guard wouldMatch else { continue }
            guarded += 1
            #expect(Self.match(row.line) == nil, "\(row.url): \(row.line.prefix(120))")
        }
        #expect(guarded >= 5)
    }

    @Test("a library's message beats a wrapper that names no cause")
    func specificWins() throws {
        let line =
            #"E0614 authentication.go:75] "Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: token is expired (Token Expiry: 2024-06-14 00:29:50 +0000 UTC)]""#
        #expect(try #require(Self.match(line)).cause == .expired)
    }

    /// A row that names no cause (`other`) gives way to a library's message after it, as a wrapper does (real lines
    /// of round 4: JHipster around jjwt, ASP.NET Core's handler around IdentityModel).
    @Test(
        "a message that names no cause gives way to one after it that names one",
        arguments: [
            (
                "Invalid JWT token. JWT signature does not match the locally computed signature. JWT validity cannot be asserted and should not be trusted.",
                Cause.signature_invalid
            ),
            (
                #"Bearer was not authenticated. Failure message: No SecurityTokenValidator available for token: "the provided access token""#,
                .malformed
            ),
        ])
    func otherGivesWay(_ line: String, _ cause: Cause) throws {
        let m = try #require(Self.match(line))
        #expect(m.cause == cause)
        // Without the message after it, the same row stands alone and names no cause.
        let head = String(line.prefix { $0 != "." && $0 != ":" }) + "."
        #expect(Self.match(head).map(\.cause) != cause)
    }

    /// Short look-alike words (`ssl`, `tls`, `otp`) count only as whole words: ZITADEL's issuer on a `sslip.io`
    /// host is not TLS, and a Java TLS exception class still is.
    @Test("a short look-alike word counts only as a whole word")
    func shortLookAlikes() throws {
        let zitadel =
            #"level=warning msg="token verifier repo: verify JWT access token" error="issuer does not match: Expected: http://127.0.0.1.sslip.io:8080, got: system-user-1""#
        #expect(try #require(Self.match(zitadel)).cause == .issuer_rejected)
        #expect(
            Self.match("jwt: issuer does not match: javax.net.ssl.SSLHandshakeException: PKIX path building failed")
                == nil)
        #expect(Self.match("gpgv: Can't check signature: public key not found") == nil)
    }

    /// A look-alike word inside a URL is the documentation a message links to (Entra ID's AADSTS700024, round 6), and
    /// a JWT on the line is evidence enough for a bare `invalid token` (LiveKit's client, round 6).
    @Test("look-alike words inside URLs and key class names do not count; a JWT on the line is evidence of one")
    func urlsAndTokens() throws {
        let entra =
            "invalid_client: AADSTS700024: Client assertion is not within its valid time range. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
        #expect(try #require(Self.match(entra)).cause == .expired)
        #expect(
            Self.match("AADSTS700024: Client assertion is not within its valid time range. certificate expired") == nil)
        // IdentityModel names the keys it tried by class: `X509SecurityKey` is a key, not a certificate problem.
        let keysTried =
            "Microsoft.IdentityModel.Tokens.SecurityTokenInvalidSignatureException: IDX10503: Signature validation failed. Keys tried: 'Microsoft.IdentityModel.Tokens.X509SecurityKey , KeyId: 7dD-gecNgX1ZdT'."
        #expect(try #require(Self.match(keysTried)).cause == .signature_invalid)
        let livekit = "ro: could not establish signal connection: invalid token: eyJhbGciOiJIUzI1NiJ9.eyJuYW1l"
        #expect(try #require(Self.match(livekit)).cause == .other)
        #expect(Self.match("ro: could not establish signal connection: invalid token: abc123") == nil)
    }

    /// A key-set address and the network error that fetching it met (KrakenD's log, round 4 of the corpus).
    @Test("a key-set fetch that met a network error is key_fetch_failed")
    func keySetNetworkError() throws {
        let line =
            #"[KRAKEND] 2020/03/25 - 14:37:20.803 ▶ ERROR Get "http://authmock:8080/jwk/symmetric.json": dial tcp 23.217.138.110:8080: connect: connection refused /authn"#
        let m = try #require(Self.match(line))
        #expect(m.cause == .key_fetch_failed)
        #expect(Self.matcher.rules[m.ruleIndex].isGeneric)
        #expect(Self.match("GET /static/app.json: dial tcp 10.0.0.1:443: connect: connection refused") == nil)
    }

    @Test("a code matches only as a whole word")
    func wholeWord() throws {
        let m = try #require(Self.match("{ TokenExpiredError: jwt expired"))
        #expect(Self.matcher.rules[m.ruleIndex].emitter == "jsonwebtoken")
        #expect(try #require(Self.match("validate-jwt failed: TokenExpired")).cause == .expired)
    }

    @Test("a message inside a JSON string is seen through its escaped quotes")
    func jsonEscapes() throws {
        let line = #"{"msg":"JsonWebTokenError: \"alg\" parameter for \"RSA\" key type must be one of: RS256, RS384"}"#
        #expect(try #require(Self.match(line)).cause == .alg_mismatch)
    }

    @Test("redaction keeps words and logger names, removes key material")
    func redaction() {
        let words = scanText(
            "response_code_details: jwt_authn_access_denied{Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt} o.s.s.o.s.r.w.BearerTokenAuthenticationFilterWithALongName"
        )
        let message = words.errors.first?.message ?? ""
        #expect(message.contains("Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt"))
        #expect(message.contains("BearerTokenAuthenticationFilterWithALongName"))
        let secret = scanText(
            "jwt expired secret=4f3c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9 key=Zm9vYmFyQmF6cXV4UXV1eDEyMzQ1Njc4OTBhYmNk")
        let m = secret.errors.first?.message ?? ""
        #expect(!m.contains("4f3c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9"))
        #expect(!m.contains("Zm9vYmFyQmF6cXV4UXV1eDEyMzQ1Njc4OTBhYmNk"))
    }
}
