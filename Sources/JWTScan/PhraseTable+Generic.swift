import SiftCore

/// The general classifier: messages no table row knows, from software jwtsift has never seen.
///
/// A ranked lexicon of cue phrases in the words verifiers use (expired / used too late, not yet valid, issued in
/// the future, audience, issuer, signature, kid or no key, key-set fetch, algorithm, parse and padding, missing
/// header). Cue rules rank below every table row and exception class, so a library's own message always wins;
/// they carry `rule: generic` and no emitter. A cue counts only on a line that is about a token (``contextWords``)
/// and never on a look-alike (``lookAlikeWords``: certificates, passwords, sessions, refresh tokens at the token
/// endpoint, CSRF and lexer tokens, successes).
extension PhraseTable {
    /// The row name of every generic finding.
    public static let genericRow = "generic"

    /// Cue phrases by cause, most specific first within a cause. Codes written as one identifier (`TokenExpired`,
    /// `InvalidSignature`, `NoMatchingKey`) have their own cues: the fold turns `_` into a space, so
    /// `TOKEN_EXPIRED` is `token expired` already, but camel case has no separator. Each holds a literal of at least 8 bytes (the
    /// matcher's anchor); `…` separates fragments that must appear in order.
    static let genericCues: [(Cause, [String])] = [
        (
            .issued_in_future,
            [
                "issued in the future", "issued in future", "used before issued", "iat claim…future",
                "future issuance",
                "issued at…in the future",
                // jose (panva): `"iat" claim timestamp check failed (it should be in the past)`.
                "\"iat\" claim timestamp", "iat…in the future",
                // Round 4 (the table read as unseen: `scripts/eval-generic.py`): `iat > now`, the time before the iat, an iat
                // ahead of now or that must be before it.
                "iat > now", "before the iat", "iat…ahead of now", "iat…must be before now", "issued at (iat)…future",
                "iat…is in the future", "iat…later than now",
            ]
        ),
        (
            .not_yet_valid,
            [
                "not yet valid", "not valid yet", "used too early", "before nbf", "nbf claim",
                "can't be used yet", "cannot be used yet", "can not be used yet",
                "before the not before", "notbefore", "not-before",
                "notyetvalid", "tokennotactive",
                // The nbf family as verifiers word it: java-jwt `can't be used before`, jjwt `must not be accepted before`, Spring
                // `Jwt used before`, Nimbus `before use time`, ruby-jwt `nbf has not been reached`, PyJWT `ImmatureSignatureError`.
                "can't be used before", "cannot be used before", "must not be accepted before", "before use time",
                "nbf has not been reached", "not valid before", "\"nbf\" claim", "not active yet", "isn't valid yet",
                "immaturesignature",
                // `nbf > now`, the not-before time named in words, a token not active yet or used before it is valid.
                "nbf > now", "invalid not before", "not before time", "not before (nbf)", "nbf…must be before now",
                "cannot be used yet", "can't be used yet", "can't be used just yet", "not yet active",
                "will be active at", "used before it's valid", "used before it is valid", "being used before",
                "jwt is not active", "jwt inactive", "nbf…in the future", "notbefore…in the future", "before the nbf",
                "is used before", "not valid until",
            ]
        ),
        (
            .expired,
            [
                "token expired", "token is expired", "token has expired", "jwt expired", "jwt is expired",
                "jwt has expired", "expired token", "expired jwt", "token was expired", "id_token expired",
                "signature has expired", "used too late", "no longer valid", "lifetime validation failed",
                "exp claim", "\"exp\" claim", "token expiration", "token is no longer",
                "has expired", "is expired", "is too old",
                "tokenexpired", "expiredtoken", "jwtexpired", "expiredjwt",
                // PyJWT and ruby-jwt name the class `ExpiredSignature(Error)`; `expiry` and `expiration` are both written.
                "expiredsignature", "token expiry", "expiry time…passed", "expiration time…passed",
                "jwt has been expired",
                "token has been expired",
                "already expired", "already expires",
                // An assertion (a client's or an on-behalf-of JWT) outside its nbf–exp window, as Entra ID says it.
                "not within its valid time range",
                // A token too old by its age or auth_time (`max age`, `token age`), an exp in the past or that must be after now,
                // `expired at`, and the exception classes.
                "beyond max age", "exceeds max age", "max age exceeded", "exceeded max age", "token age",
                "too far in the past", "more than…in the past", "expired at", "after expiration",
                "after the expiration", "past expiration", "exp) claim", "exp…must be after now",
                "tokenexpiredexception", "expiredtokenexception", "expiredjwtexception", "jwtexpiredexception",
                "is past its expiry", "past its expiration", "lifetime…expired", "token lifetime", "expirederror",
                "token (…) expired", "exp…in the past", "exp < now", "now > exp", "exp…before now",
                "expired or invalid",
                "token is stale",
                "expiredprovidertoken",
                "issued at…is stale",
                "expired signature",
                "issued before the allowed",
            ]
        ),
        (
            .audience_rejected,
            [
                "audience", "aud claim", "invalid aud", "wrong aud", "aud mismatch", "invalidaudience",
                "claim \"aud\"", "\"aud\" claim", "aud parameter",
                "unexpected aud", "'aud' value", "aud value", "aud: …does not match", "audienceerror",
                "audiences…invalid", "target audience", "client id in token", "aud…does not match", "aud…doesn't match",
                "aud…not match",
            ]
        ),
        (
            .issuer_rejected,
            [
                "invalid issuer", "issuer mismatch", "issuer invalid", "wrong issuer", "unknown issuer", "wrong iss",
                "issuer is not", "issuer not ", "untrusted issuer", "issuer validation", "iss claim",
                "issuer does not", "issuer doesn't", "(issuer)", "unexpected issuer", "issuer (iss)",
                "iss mismatch", "invalid iss", "invalidissuer", "claim \"iss\"", "\"iss\" claim",
                // The validator class named as the one that failed (Spring's and SAP's `JwtIssuerValidator`).
                "jwtissuervalidator",
                // The issuer said to be invalid, untrusted or unlisted, and the `iss` value compared.
                "issuer is invalid", "issuer…is invalid", "issuer claim", "issuer…does not match",
                "issuer…doesn't match", "issuer…not trusted", "trusted issuer", "issuer…not listed", "(iss) issuer",
                "'iss' value", "iss value", "unexpected iss", "not issued by", "issuererror", "iss: …does not match",
                "issuer…not valid", "issuer…not allowed", "issuer…not expected", "expected issuer", "issuer…mismatch",
                "iss…does not match", "oidc provider info",
                "wasn't issued by",
                "was not issued by",
                "issued by a different",
                "by a different provider",
                "issued by another",
                "iss do not match",
                "the iss do not",
            ]
        ),
        (
            .key_fetch_failed,
            [
                "unable to obtain configuration", "obtain configuration from", "jwks endpoint",
                "invalid local jwks", "invalid jwks",
                "fetch verification key", "retrieve verification key", "key retrieval error", "fetch the key from",
                // A key set that holds no key at all (unusable as fetched), as against no key for this token's kid:
                // clerk-sdk-go, ruby-jwt, jose4j, Nimbus, kreait, Elasticsearch (eval-generic's cue-tune half).
                "no jwks found", "jwks not found", "no keys found in jwks", "no keys in jwks", "no keys in the jwks",
                "no keys are available", "no keys available", "not any jwks", "no jwks available", "jwks content",
                "\"keys\" member",
                "fetch jwks", "fetching jwks", "jwks fetch", "jwkserror", "jwks_uri", "retrieve jwk",
                "load jwks", "get keys failed", "keys endpoint",
                "failed to fetch jwk", "failed to fetch keys", "error fetching keys", "error fetching jwk",
                "failed to retrieve jwk", "could not retrieve jwk", "unable to retrieve jwk", "failed to load jwk",
                "unable to load jwk", "failed to get jwk", "fetch provider discovery", "discovery document",
                "error sending request…jwks",
                // Nimbus `Couldn't retrieve remote JWK set`, Envoy `Jwks remote fetch is failed`, and their inflections.
                "remote jwk set", "jwks remote fetch", "fetch the jwks", "fetching the jwks", "retrieve jwks",
                "retrieving jwk",
                "getting jwks", "jwks request failed", "download jwks", "downloading jwks", "fetch jwk set",
                "fetching jwk set",
                "fetch key set", "load key set",
                "refresh jwks", "refreshing jwks", "jwks refresh", "remote jwks", "oidc discovery",
                "unable to fetch keys", "could not fetch keys", "fetch signing keys", "retrieve signing keys",
                // A key set that arrived but holds nothing usable (Istio's `Invalid inline jwks`).
                "invalid jwks", "invalid inline jwks", "invalid jwk set", "jwks is empty", "empty jwks",
                "jwks has no keys",
                // Keys downloaded, loaded, refreshed or parsed (`signing keys`, `JWK Set`, `realm keys`, provider metadata), and
                // the failed response.
                "download signing keys", "downloading signing keys", "failed to download keys",
                "authorization server metadata", "fetch metadata", "request for metadata", "discovery failed",
                "load a key from", "failed to load key", "failed to load the key", "unable to load key",
                "could not load key", "failed to create a key", "refresh https jwk", "failed to refresh jwk",
                "refresh jwk set", "resolve the key", "jwk set source", "parse jwk set", "parse jwks", "decode jwks",
                "jwks body", "jwks source", "retrieve realm keys", "realm keys", "retrieve json web key",
                "json web key (jwk) was not returned", "jwk) was not returned", "jwk…from url", "jwks…from url",
                "fetch pubkey", "fetch public key", "fetch jwt public key", "fetching public key",
                "get public key from", "public keys from", "fetch the public key", "certificate location",
                "jwk set url", "jwks url", "jwks uri", "key set is missing", "jwk set refresh",
                "keys not present in json", "json object for keys", "jwksrefresh", "jwksfetch", "no jwks uri",
                "unable to get jwks", "could not get jwks", "failed to get jwks", "error getting jwks",
                "get signing keys", "getting signing keys", "retrieve the signing keys",
                "jwk must contain",
                "jwks must contain",
                "missing field \"keys\"",
                "metadata load",
                "load metadata",
                "configuration load failed",
                "invalid key set",
                "key set format",
                "json web key could not",
                "json web key uri",
                "key uri cannot be reached",
                "could not fetch certificates",
                "fetch certificates",
                "retrieve verification certificates",
                "cannot fetch key",
                "key fetching",
                "keyfetching",
                "signing keys",
                "federation metadata",
                "certs expects",
                "could not be fetched",
                "fetching cert",
                "jwks check",
                "jwksserialisation",
                "jwksserialization",
                "jwt signer",
                "jwtsignererror",
            ]
        ),
        (
            .key_unknown,
            [
                "no matching jwk", "no matching key", "unknown kid", "kid not found", "no key with kid",
                "find appropriate key",
                "jwk…not found",
                "get key with kid", "find key with kid", "key with kid not found",
                "unknown signing key", "unknown key", "no key found", "could not find key",
                "kid mismatch", "no key matching", "unable to find kid", "kid does not match", "no public key",
                "keynotfound", "nomatchingkey", "unknownkid", "kidnotfound", "unknownkey",
                "unable to find key", "unable to find a signing key", "no signing key", "key with id…not found",
                "key with id…could not be found", "public key…not found", "no suitable key",
                "no key for kid", "kid…not found", "key not found", "signing key not found", "unable to match key",
                "unable to resolve securitykeyidentifier", "untrusted key", "no verification key",
                "kid…cannot be found",
                // `kid`, `key id`, `key ID`, and JWKS / JWK set / key set as the place the key is missing from (Envoy's
                // `Jwks doesn't have key to match kid or alg from Jwt`).
                "no key id", "unknown key id", "key id not found", "key id…not found", "key id…does not match",
                "jwks doesn't have key", "jwks does not have key", "invalid claim \"kid\"", "invalid \"kid\"",
                "kid is invalid", "invalid kid", "jwks does not contain", "not found in jwks",
                "not found in the jwks", "jwk set does not contain", "key set does not contain", "not found in key set",
                "no jwk found", "jwk not found", "could not find jwk", "unable to find jwk", "no matching keys",
                // No key to verify with: no key available or set, a key unresolvable, no matching verifier, no key id in the
                // header, a kid or thumbprint no key has.
                "no keys found", "no key available", "key is unresolvable",
                "verification key is unresolvable", "no matching verifier", "no working key",
                "no suitable verification key", "suitable verification key", "matching 'kid'", "matching \"kid\"",
                "matching kid", "with kid…not available", "jwk with kid", "jwk…is not available",
                "jwk is not available", "thumbprint…not available", "thumbprint…do not identify", "kid' header",
                "kid\" header", "kid header", "missing key id", "key id (kid)", "kid) is not", "kid or x5t",
                "public key not set", "secret key not set", "signing key…not found", "signing key…cannot be found",
                "signing key cannot be", "signing key…not available", "no signer certificates",
                "public key that matches", "invalidkid", "invalidkey", "no secret configured", "still no match",
                "no legacy public keys", "no certificates in jwk", "key not available", "no verification keys",
                "no verifying key", "keys for kid", "no key for", "no jwk for", "no key matches", "no key matched",
                "no key that matches", "kid…does not exist", "no bundle found",
                "could not find a key", "could not find public key", "cannot find key", "can't find key",
                "public certificate to verify", "certificate to verify signature", "find a public certificate",
                "and no match",
                "no valid verifier",
                "kid is empty",
                "missing kid",
                "kid field",
                "required \"kid\"",
                "without kid",
                "signature key was not found",
                "signature key…not found",
                "without signature key",
                "unable to find a key",
                "find a key for",
                "certificate for key id",
                "find jwt key",
                "no valid key found",
                "did not contain the key",
                "not contain the key",
                "key specified by the token",
                "ambiguous key",
                "certificate thumbprint",
                "key for validating",
                "cannot be found. refreshing",
                "no jwt authority",
                "does not correspond to",
                "untrusted token jwk",
                "one of the jwks",
                "credentials found for given",
                "resolving signing key",
                "resolve signing key",
                "signing key for kid",
                "kid invalid",
            ]
        ),
        (
            .alg_none,
            [
                // A token without a signature where one is required, and the `none` algorithm refused.
                "has no signature", "no integrity protection", "signature is missing", "signature missing",
                // ForgeRock's `No enum constant org.forgerock.json.jose.jws.JwsAlgorithm.none`.
                "jwsalgorithm.none",
                "missing signature", "not signed. signatures are required", "token is not signed", "jwt is not signed",
                "unsecured (plain)", "unsecured jws", "unsecured jwt", "algorithm \"none\"", "algorithm 'none'",
                "alg \"none\"", "alg: none", "alg none", "none algorithm", "algorithm is none",
                "signature algorithm is none", "unsigned token", "unsigned jwt", "plain jwt", "plaintext jwt",
                "\"none\" not allowed", "none\" not allowed", "'none' not allowed",
            ]
        ),
        (
            .alg_mismatch,
            [
                "algorithm not allowed", "alg not allowed", "algorithm mismatch", "alg mismatch",
                "unexpected algorithm", "algorithm is not allowed", "invalid algorithm", "unsupported algorithm",
                "unexpected signing method", "invalid signing method", "signing method mismatch",
                "unexpected signature algorithm",
                "invalidalgorithm", "algorithmmismatch",
                "disallowed algorithm", "alg…not allowed", "algorithm…not in the allowed", "algorithm…is not permitted",
                // An algorithm named as unexpected, disallowed, blocked or not the key's, and an incompatible key type.
                "unexpected 'alg'", "unexpected alg", "'alg' value", "incorrect alg", "expected algorithm",
                "expected alg", "signing algorithm mismatch", "mismatch of signing algorithms",
                "not a permitted algorithm", "blocked algorithm", "not permitted algorithm",
                "invalid signing algorithm", "signing algorithm…not allowed", "token algorithm", "algorithm is invalid",
                "alg is invalid", "\"alg\" is invalid", "alg…does not match", "algorithm…does not match",
                "alg (…) does not match", "disallowed signature algorithm", "different algorithm",
                "incompatible signing algorithm", "incompatible algorithm", "signer mismatch", "wrong algorithm",
                "wrong type of key", "key type mismatch", "incorrect public key type", "incorrect symmetric key type",
                "invalidkeyalg", "algorithm…not in the list", "algorithms are [", "must be signed using the",
                "was signed using the", "signed with…expected", "cannot be used for hmac", "can only be used with hmac",
                "hmac signing algorithm, but", "pkc signing algorithm", "unexpected jwt alg", "unexpected signing alg",
                "algorithm…not allowed",
                "invalid key type",
                "signed with the…algorithm",
                "signing method: expected",
                "only supported alg",
                "\"alg\" mismatch",
                "expected token signed with",
                "token uses \"",
                "support one of the specified algorithms",
                "can't assert",
                "cannot assert",
                "verification key was provided",
            ]
        ),
        (
            .alg_unsupported,
            [
                "algorithm not supported", "not a valid algorithm",
                // The Rust jsonwebtoken crate's Algorithm enum refusing a name (`unknown variant `EdDSA`, expected one
                // of `HS256`, …`).
                "expected one of \"hs256\"",
                "find a algorithm", "find an algorithm", "unknown algorithm",
                "algorithm is not supported", "unsupported alg", "alg not supported", "does not support algorithm",
                // An algorithm unknown, not recognised or not implemented.
                "unknown jws algorithm", "unknown signature algorithm", "unsupported signature algorithm",
                "unsupported jws algorithm", "not an implemented algorithm", "not implemented algorithm",
                "algorithm type not recognized", "algorithm not recognized", "unrecognized algorithm",
                "unrecognised algorithm", "unrecognized \"alg\"", "unrecognized alg", "no support for signature",
                "algorithm auto-detection", "algos are currently not supported", "algorithm…is not supported",
                "alg…is not supported", "curve…is not supported", "unsupported curve",
                "requires the cryptography package", "unavailable…algorithm", "unsupported, or unavailable",
                "unsupported or unavailable",
                "alg…value is invalid", "[alg] field",
                "not a supported signature algorithm",
                "not a supported algorithm",
                "is not a supported alg",
            ]
        ),
        (
            .signature_invalid,
            [
                "invalid signature", "signature is invalid", "signature invalid", "bad signature",
                "signature mismatch", "signature validation failed", "failed to verify signature",
                "could not verify signature", "signature does not match", "bad jws signature",
                "signature verification", "verify the signature", "signature check failed",
                "signature can not be", "signature cannot be", "signature could not be",
                "invalid token signature", "signature is not valid", "signature not valid",
                "unable to verify signature", "invalid jwt signature", "jwt signature is invalid",
                "jwt signature invalid",
                "cannot verify signature", "signature verification error",
                "invalidsignature", "signatureinvalid", "badsignature",
                "signature doesn't match", "signature did not match", "invalid jws signature", "verify jws signature",
                "verifying the signature", "signature validation",
                "signatureverification", "signature check",
                "signature is incorrect", "signature not verified",
                // A signature that failed: verification failed for a key family, verifying a token's signature, a
                // VerificationFailed class.
                "verification failed (hmac)", "verification failed (rsa", "verification failed (ecdsa",
                "verifying token signature", "verify token signature", "token signature",
                "verification failed for all signatures", "verificationfailed", "signatureerror", "jwtsignatureerror",
                "signature validate failure", "signature validation failure", "signature verify failed",
                "signature verification failed", "signatureexception", "could not verify jwt", "verify/decode",
                "decode/verify", "failed to verify token", "token could not be verified", "could not be verified",
                "verify error", "signature failed", "signature wrong", "wrong signature", "incorrect signature",
                "with any of the keys", "none of the keys", "verify with any key",
                "mismatching signature",
                "mismatched signature",
            ]
        ),
        (
            .encrypted,
            [
                "json web encryption", "jwe format",
                // Decryption of a JWE (its key, its content, its MAC) and encrypted tokens as such.
                "decrypt jwe", "decryption key", "encrypted token", "encrypted jwt", "could not decrypt",
                "cannot be decrypted", "not decrypted", "failed to decrypt", "decryption failed", "unable to decrypt",
                "mac check", "nested signed jwt", "suitable key for jwe", "matching decrypter",
                "no matching decryption", "content encryption", "encryption is not supported",
                "does not match to any recipient", "jwe header", "decrypting jwe", "decrypt the token",
                "decryption error", "decrypt token",
                "not decrypted successfully",
                "decrypted successfully",
                "unexpected jwe",
                "jwe alg received",
            ]
        ),
        (
            .truncated,
            [
                "incorrect padding", "invalid padding", "unexpected end of",
                "token should be longer",
                "token too short",
                "token is too short",
            ]
        ),
        (
            .malformed,
            [
                "unable to parse jwt", "could not parse jwt", "failed to parse jwt", "parse token",
                "malformed jwt", "malformed token", "invalid jwt format", "not a valid jwt", "three segments",
                "is malformed", "illegal base64", "invalid base64", "not valid base64", "parsing jwt", "parsing token",
                "parse the token",
                "malformedjwt", "jwtmalformed", "malformedtoken", "tokenmalformed", "decodeerror",
                "3 segments", "three parts",
                "appear to be a jwt", "wrong number of segments", "not enough segments", "invalid token format",
                "invalid header",
                "kid\" is missing", "missing claim 'kid'", "jwt malformed", "invalid compact",
                "not a json web token",
                // golang-jwt `token contains an invalid number of segments`, jjwt `JWT strings must contain exactly 2 period
                // characters`, and JWS serialisations.
                "number of segments", "period characters", "malformed jws", "invalid jws", "invalid compact jws",
                "failed to decode jwt", "unable to decode jwt",
                // Serialisation words of Nimbus (`Invalid JWT serialization: Missing dot delimiter(s)`), IdentityModel (`JWT is not
                // well formed`), java-jwt (`expected to have 3 parts`), PyJWT (`Invalid header padding`, `Invalid payload
                // string`), Envoy (`Jwt header is an invalid JSON`, `invalid Base64url encoded`), jjwt (`Malformed JWT JSON`).
                "dot delimiter", "part delimiters", "jwt serialization", "serialized jws", "not well formed",
                "expected to have 3 parts", "must have three segments", "header padding", "payload padding",
                "invalid header string", "invalid payload string", "header is an invalid", "payload is an invalid",
                "invalid base64url", "malformed jwt json", "decoding token headers", "compact jws format",
                "header.payload.signature", "jwt is not in the form",
                // The token's shape: its parts, dots and delimiters, segments, header or payload not JSON or base64, a JOSE
                // object or header that will not parse, a missing header part, a token that cannot be decoded or parsed.
                "too many segments", "enough segments", "segment encoding", "invalid segment", "parse segment",
                "can't parse segment", "segment should be", "segments length", "two dots", "one period",
                "at least 1 period", "period ('.')", "missing second delimiter", "missing fourth delimiter",
                "delimiters", "base64url parts", "number of parts", "number of base64", "3 or 5 parts", "parts for jws",
                "parts in signed token", "must have 3 tokens", "compact serializ", "jose object", "jose header",
                "jose compact", "jws object", "jose serialization", "serialization of the jwt",
                "token format unrecognized", "format unrecognized", "invalid token form", "header is not a json",
                "header…not a json", "payload…not a json", "payload…not a valid json", "claims set…json",
                "claims set is not", "claim set json", "header json", "payload json", "claims json",
                "not a valid base64", "not a base64", "base64 encoded string", "base64url serialized",
                "base64url encoded", "decoding from json", "decoding to json", "decoding json", "json from token",
                "header must contain an 'alg'", "must contain an 'alg'", "missing \"alg\"", "no \"alg\"", "missing alg",
                "missing algorithm", "missing 'alg'", "alg header", "alg is a required", "missing jose header",
                "malformed jose", "missing header in", "missing payload in", "header part", "claim part",
                "signature part", "payload part", "missing part", "could not be decoded", "cannot be decoded",
                "can't be decoded", "failed to decode the token", "failed to decode token",
                "failed to parse a token", "failed to parse token",
                "unable to parse token", "could not parse token", "cannot parse token", "error parsing token",
                "parse token error", "parse access token", "parse access_token", "parse id token", "parse id_token",
                "failed to parse jws", "unable to process jose", "to process jose", "not a valid jws",
                "invalid jwt/jws", "invalid serialized", "unexpected number of", "payload is not", "header is not",
                "token header", "tokens header", "header value is not", "invalid payload", "invalid json for part",
                "json for part", "null map", "cannot convert access token to json", "token has no valid content",
                "only one signature", "not a type of json", "crit' header", "crit\" header", "x5c header",
                "malformed header", "malformed payload", "malformed x5c", "we know how to validate",
                "securitytokenvalidator", "not a jwt", "not a jws", "jwtparseerror", "jwtdecodeerror", "jwtformat",
                "invalid jwt type", "invalid jwt form",
                "invalid encoding", "invalid token specified", "encoding before padding",
                "must have 3 segments", "jwt parse error", "token parse error",
                "valid payload",
                "could not parse out",
                "jwt must have 3", "jwt must have three", "token must have 3", "token must have three",
                "not all parts",
                "could not parse…token",
                "token parsing failed", "jwt parsing failed", "token parsing error", "jwt parsing error",
                // A JSON decoder's own words on a token's header or payload: Go's encoding/json (`invalid character
                // 'ÿ' looking for beginning of value`, `unexpected end of JSON input`), IdentityModel's IDX10708.
                "looking for beginning of value", "unexpected end of json input", "cannot read this string",
                "token format invalid", "token format is invalid",
                "parse inbound token",
            ]
        ),
        (
            .missing_token,
            [
                // express-jwt's error code; a cue (with its context) rather than a row, since `_` folds to a space
                // and `Credentials required` alone is any server's login error (ClickHouse's, say).
                "credentials required",
                "no authorization header", "missing authorization", "authorization header is missing",
                "no token provided", "token not provided", "missing token", "no bearer token",
                "token is missing", "token missing", "missing bearer", "no auth token",
                "authorization header was not", "jwt is missing", "'authorization'…header", "token required",
                "missing jwt", "jwt not found", "jwt required", "jwt is required", "no access token",
                // Not `empty token`: `empty tokens allowed` is a setting.
                "missing access token", "access token is missing", "token is empty", "token is required",
                "no authorization",
                "missingtoken", "tokenmissing", "tokennotfound", "missingauthorization",
                "no token was", "no token in", "token not present", "token is not present", "no auth header",
                "auth header is missing", "authorization header missing",
                "no token specified", "no token found", "no jwt present", "no jwt found", "no jwt provided",
                "does not contain jwt", "does not contain a jwt",
                // Fiber's and Echo's jwt middleware (`Missing or malformed JWT`), jsonwebtoken (`jwt must be provided`), API
                // Gateway (`Missing Authentication Token`), and the header named as required or absent.
                "missing or malformed jwt", "jwt must be provided", "token must be provided",
                "missing authentication token",
                "authentication token is missing", "authorization header not found", "authorization header is required",
                "authorization header required", "authorization header not present", "token was not provided",
                // British spelling, and the bearer token named as the missing thing.
                "no authorisation header", "missing authorisation", "authorisation header is missing",
                "bearer token is missing",
                "bearer token not found", "no bearer", "token was not found", "could not find token",
                "unable to find token",
                // No token or header: empty, null, nil or not set, a Bearer prefix or token not found in the request.
                "token is null", "token was null", "token is nil", "nil json web token", "header is empty",
                "auth header is empty", "header was null", "header is null", "does not contain a bearer",
                "no usable bearer", "no bearer prefix", "no jwt auth header", "auth header found", "no token available",
                "token not set", "jwt token not found", "jwt token is missing",
                "no token credentials", "no token supplied", "missing id_token", "missing id token",
                "id_token cannot be null", "token cannot be null", "token cannot be empty", "token is undefined",
                "failed to find a jwt", "could not find a jwt", "no jwt found", "no jwt provided", "no jwt in",
                "could not be parsed from the request", "parsed from the request", "missing \"bearer\"",
                "missing 'bearer'", "missing credentials", "no credentials", "credentials not found",
                "missing authentication", "no authentication token", "cannot create a jwt because the provided string",
                "jwt cannot be found", "no token in request", "no jwt was", "no token present", "missing bearer token",
                "bearer token missing", "header not found", "no logout_token", "there was no",
                "must be not blank",
                "must not be blank",
                "token string must",
                "no token on",
                "authorization header not provided",
                "header not provided",
            ]
        ),
        (
            .claims_invalid,
            [
                "nonce mismatch", "invalid nonce", "claim is missing", "missing claim", "missing required claim",
                "unexpected claim", "id token nonce",
                // A replayed token (its jti seen before), a header typ refused, claims a policy forbids, the scope
                // check (Duende, Open Liberty, Nimbus, WSO2 in eval-generic's cue-tune half).
                "replay cache", "replay attack", "replayed token", "already been received", "prohibited claim",
                "claim is malformed",
                "scope validation", "incorrect access token type", "access token type",
                // An ID token's hash claims (openid-client's `at_hash mismatch`).
                "at hash mismatch", "c hash mismatch", "s hash mismatch", "invalid at hash", "invalid c hash",
                "invalid claim", "claim mismatch", "azp mismatch", "required claim", "claims are invalid",
                "required scope", "insufficient scope", "invalid subject", "invalid token type", "wrong token type",
                "unexpected token type", "claim validation", "claims validation", "invalid claims",
                "invalidclaim", "missingclaim", "unexpected…claim value", "id token nonce", "nonce in the id token",
                "cannot unmarshal…claims", "invalid \"exp\"", "invalid \"nbf\"", "invalid \"iat\"",
                "missingrequiredclaim",
                // Scopes, token-binding hashes, the replay and subject claims, as resource servers name them.
                "missing scope", "invalid scope", "required scopes", "invalid typ", "unexpected typ",
                "jti claim", "token replay", "invalid azp", "azp claim", "\"sub\" claim", "sub claim",
                "subject mismatch",
                // A claim named with its fault: missing, not present, not a string or number or date, not matching, not
                // allowed, required; the nonce, azp, typ, hash claims and scopes.
                "claim…is missing", "claim…is required", "claim…not present", "claim…does not match",
                "claim…doesn't match", "claim…not match", "claim…is not valid", "claim…is invalid", "claim…not allowed",
                "claim…is not a", "claim…not found", "claim…contains", "claim value", "claim present", "claim exists",
                "claims for", "no claim", "required…claim", "custom claim", "date claim", "string claim",
                "claim is not", "claim verification", "claims->", "invalidclaims", "claimserror", "claim error",
                "(sub) claim", "(jti) claim", "authorized party", "issuedfor", "access token hash", "token hash",
                "nonce must", "nonce verification", "nonce…does not match", "nonce…mismatch", "typ header",
                "header typ", "typ (type)", "'typ' value", "typ…not allowed", "unexpected 'sub'", "unexpected 'jti'",
                "unexpected 'iat'", "'sub' value", "jti value", "subject…does not match", "subject…doesn't match",
                "subject is invalid", "subject claim", "field not match", "missing required field", "scope is not",
                "scope…not found", "expected scope", "no scope", "value type is expected", "non-numeric date",
                "stringoruri", "not a string", "not a number", "not a date", "tenant identifier", "organization claim",
                "namespaces did not match", "names did not match", "does not match claim", "secret uid",
                "service account…deleted", "not listed as a trusted",
                "invalid at_hash", "at_hash mismatch",
                "at_hash claim", "does not match sub", "sub…does not match",
                "iat rejected",
                "one of the claims",
                "claims…should be present",
                "invalidclaimexception",
                "expecting claim",
                "nonce is null",
                "nonce cannot be validated",
                "claim doesn't correspond",
                "not found in the jwt",
            ]
        ),
        (
            .other,
            [
                "invalid id_token", "invalid jwt", "jwt invalid", "invalid token", "token not valid",
                "token is invalid", "failed to validate jwt", "jwt validation failed", "token validation failed",
                "failed to validate token",
                "could not validate", "failed to validate the token", "verification failure",
                "invalid_token", "unauthorizederror",
                // "Decode" is what most libraries call the whole verification (PyJWT's `jwt.decode`), so a
                // program's "could not decode JWT" names no cause.
                "decode jwt", "decoding jwt", "decode token", "decoding token",
                "invalidtoken", "tokeninvalid", "invalidjwt", "jwtinvalid", "jsonwebtokenerror",
                "verification failed", "validation failed", "could not verify", "unable to verify", "failed to verify",
                "cannot verify", "unable to validate", "token rejected", "jwt rejected", "rejected token",
                "invalid access token", "invalid bearer token", "not a valid token", "unauthenticated",
                // Round 9's inflections of the same (etcd's `invalid auth token`, Microsoft Graph's `Access token
                // validation failure.`, Kapua's `Error while validating JWT access token`, GoTrue's `Bad ID token`).
                "invalid auth token", "invalid authentication token", "validation failure", "error while validating",
                "error when validating", "error while verifying", "error when verifying", "bad id token",
                "error occurred while validating", "error occurred while verifying", "failed to introspect",
                "token introspection failed", "decode authentication token", "decode access token",
                "decode auth token", "decode the token", "decode id token", "decoding id token", "wrong jwt",
                "cannot be verified", "could not be verified", "can't be verified", "jwt…is invalid",
                "unknown jwt", "invalid oauth access token", "invalid oauth token",
                "cannot be validated", "could not be validated", "can't be validated",
                // Verification failed in general words: a validation error, verifying a token failed, a token not verified,
                // inactive, revoked or blacklisted, an authentication attempt with a token or JWT failed.
                "token validation error", "jwt validation error", "validation error", "error verifying token",
                "error verifying access token", "error verifying identity token", "error verifying id token",
                "verifying token", "token verification has failed", "token verification failed",
                "token verification error", "verification has failed", "failed to verify the token",
                "failed token verification", "jwt check failed", "not a verified", "not verified",
                "failed to validate the id token", "failed to validate the json web token", "failed to validate",
                "error validating", "validation of the token", "identity token validation", "token is not valid",
                "jwt not valid", "token not active", "token inactive", "token is inactive", "is not active",
                "blacklisted", "blocklisted", "denylisted", "revocation list", "token revoked",
                "token has been revoked", "token was revoked", "token is revoked", "revoked token", "token is blocked",
                "stale token",
                "invalid identity token", "invalid id token", "invalid jwt token", "invalidjwttoken",
                "tokeninvalidexception", "invalid reference token", "authentication using", "token failed",
                "authentication attempt failed", "authentication failed", "not authenticated",
                "cannot process the token", "cannot authenticate", "token_invalid", "rejected due to", "violates",
                "constraints", "marked as invalid", "not able to validate", "was able to validate", "jwtsessionerror",
                "jwt_session_error", "idtokenerror", "jwterror", "jwt error", "token error",
                "unsupportedjwtexception", "unsupportedjwt",
                "isn't active",
                "has already been used",
                "jwt authentication failed",
                "failure during jwt",
                "jwt authentication failure",
                "jwt auth failed",
                "jwt auth failure",
                "jwt failed",
                "verify jwt failed",
                "verify token failed",
                "jwt verify failed",
                "verifying jwt failed",
                "invalid assertion",
                "invalidprovidertoken",
                "attempting to validate",
                "during jwt validation",
                "token verification",
            ]
        ),
    ]

    /// Key-set, discovery and `.well-known` addresses, and the network, TLS and HTTP errors that fetching one
    /// meets: every address then every error (`Get "http://…/jwk/symmetric.json": dial tcp …: connection refused`) is
    /// a key_fetch_failed cue. TLS words beside them do not silence it (``tlsLookAlikeWords``).
    static let keySetAddresses: [String] = [
        "jwk", "jwks", "/certs", "discovery", "openid-configuration", "well-known/jwks", "/.well-known",
    ]
    static let fetchErrors: [String] = [
        "context deadline exceeded",
        "connection refused",
        "dial tcp",
        "i/o timeout",
        "no such host",
        "timed out",
        "etimedout",
        "econnrefused",
        "enotfound",
        "econnreset",
        "connection reset",
        "ssl error",
        "tls handshake",
        "certificate verify failed",
        "unexpected status",
        "status code",
        "404 not found",
        "service unavailable",
        "bad gateway",
        "unexpected eof",
        "tls: failed to verify",
        "failed to verify certificate",
        "certificate signed by",
        "i/o error", "x509: certificate", "x509: cannot validate", "connection timeout", "connectiontimeout",
    ]

    /// A claim that is absent or of the wrong type (`No Expiration Time (exp) claim present`, `Expiration Time (exp)
    /// claim must be a number`, `token is missing the sub claim`): claims_invalid, ranked with the named causes so
    /// that its longer words beat the time cue inside them (`exp) claim`) and `token is missing`. (A missing `aud`
    /// or `iss` stays with audience and issuer, as the table's rows have it.)
    static let claimShapeCues: [String] = [
        "did not contain a…claim",
        "exp must be specified",
        "iat must be specified",
        "nbf must be specified",
        "sub must be specified",
        "claim must specify",
        "value exceeds the maximum",
        "missing exp claim",
        "missing \"exp\"",
        "no exp claim",
        "exp claim is missing",
        "exp\" claim is missing",
        "exp claim must be",
        "exp…must be a number",
        "exp…not a number",
        "invalid exp claim",
        "exp field",
        "(exp) claim present",
        "(exp) claim must",
        "missing nbf claim",
        "missing \"nbf\"",
        "no nbf claim",
        "nbf claim is missing",
        "nbf\" claim is missing",
        "nbf claim must be",
        "nbf…must be a number",
        "nbf…not a number",
        "invalid nbf claim",
        "nbf field",
        "(nbf) claim present",
        "(nbf) claim must",
        "missing iat claim",
        "missing \"iat\"",
        "no iat claim",
        "iat claim is missing",
        "iat\" claim is missing",
        "iat claim must be",
        "iat…must be a number",
        "iat…not a number",
        "invalid iat claim",
        "iat field",
        "(iat) claim present",
        "(iat) claim must",
        "missing sub claim",
        "missing \"sub\"",
        "no sub claim",
        "sub claim is missing",
        "sub\" claim is missing",
        "sub claim must be",
        "sub…must be a number",
        "sub…not a number",
        "invalid sub claim",
        "sub field",
        "(sub) claim present",
        "(sub) claim must",
        "missing jti claim",
        "missing \"jti\"",
        "no jti claim",
        "jti claim is missing",
        "jti\" claim is missing",
        "jti claim must be",
        "jti…must be a number",
        "jti…not a number",
        "invalid jti claim",
        "jti field",
        "(jti) claim present",
        "(jti) claim must",
        "claim must be a number",
        "claim must be a string",
        "claim is not a number",
        "claim is not a string",
        "must be a number present",
        "missing the…claim",
        "token missing…claim",
        "is missing the…claim",
        "is missing a…claim",
        "missing a required",
        "missing or invalid…claim",
    ]

    /// Words that make a line about bearer tokens, JWTs or ID tokens.
    public static let contextWords: [String] = [
        "token", "jwt", "jws", "jwk", "jwe", "jose", "bearer", "claim", "oidc", "openid", "kid", "idx1", "idx2", "auth",
        "signature", "audience", "issuer", "nonce", "assertion", "json web key", "key set",
    ]

    /// Context words that count for a catch-all cue (`other`) only outside the cue's own words: `authentication
    /// failed` says `auth` itself, and alone it is any login's failure (sshd's, PAM's, a database's).
    public static let contextWordsOutsideCue: Set<String> = ["auth"]

    /// JWT time claim names, and an ID token's hash claims (`at_hash`), that make a line about a token when they
    /// stand as whole words (`exp is in the past`, oidc-client-js; `at_hash mismatch`, openid-client): too short to
    /// count inside other words (`iat` in `appropriate`, `exp` in `export`, `at hash` in `that hash`).
    public static let claimContextWords: [String] = ["exp", "nbf", "iat", "at hash", "c hash", "s hash"]

    /// Positive evidence that a line is about a JWT, a bearer token or OIDC, not just some token: the words of
    /// ``tokenWords`` and the claim and header names only JWTs have. A cue in ``strongContextCues`` needs one of
    /// them; a bare `token` or `auth` is not enough there.
    public static let strongContextWords: [String] = [
        "jwt", "jws", "jwk", "jwe", "jose", "bearer", "oidc", "openid", "id token", "claim", "assertion", "kid",
        "idx1", "idx2", "audience", "issuer", "nonce",
        // A JWT itself on the line (its header's base64url starts `eyJ`).
        "eyj",
    ]

    /// The cues that say least, and that every kind of token (reset links, one-time passwords, CSRF, plugin
    /// registries) also says: a bare `invalid token`. Their findings need ``strongContextWords`` or the RFC 6750
    /// code written as such (`invalid_token`, underscore and all: only bearer tokens are answered with it). Other
    /// `other` cues (`token validation failed`, `failed to validate token`) name a validation and keep the plain
    /// context words. (Measured on the tune part: needing strong words for every `other` cue lost 7 right causes
    /// to silence 2 look-alikes; for these cues alone it loses 3.)
    public static let strongContextCues: Set<String> = [
        "invalid token", "token is invalid", "invalid_token", "invalidtoken", "tokeninvalid", "not a valid token",
        // Every protocol is `unauthenticated` (Linkerd's `cluster-unauthenticated` server policy, gRPC's status code).
        "unauthenticated", "not authenticated", "invalid auth token", "invalid authentication token",
        // Every login says it (ClickHouse's `Authentication failed: … Credentials required.`).
        "credentials required",
        // Every Go program decoding any JSON says these (an OAuth login's userinfo, a camera bridge's API).
        "looking for beginning of value", "unexpected end of json input",
    ]

    /// Written as is (not folded): the bearer error code that is evidence by itself.
    static let bearerErrorCode = "invalid_token"

    /// Words that say which token a line is about (a JWT, a bearer token, an ID token, OIDC): on such a line a soft
    /// look-alike word (a session, a cookie, a JSON lexer's message) describes the context, not the failure.
    public static let tokenWords: [String] = [
        "jwt", "jws", "jwk", "jwe", "bearer", "oidc", "id token", "claim", "assertion",
    ]

    /// Look-alike words that a line naming a JWT outweighs (``tokenWords``): sessions and cookies carry JWTs
    /// (`invalid session: Token is expired`, `JWT_SESSION_ERROR`, a `session_state` claim), and a JWS header
    /// that is not JSON shows the lexer's `Unexpected token`.
    /// A cache on a line that names a JWT or its claims is where the token sat (`could not get a token from the cache
    /// … cannot unmarshal … StandardClaims.aud`). `invalid_grant` is the token endpoint's answer to a refresh token or a code, and to a JWT assertion (`invalid_grant:
    /// Invalid JWT Signature.`); AWS's `security token` (`ExpiredToken`) is an STS session credential unless the line
    /// names a JWT.
    public static let softLookAlikeWords: Set<String> = [
        "session", "cookie", "cache", "unexpected token", "in json at position", "invalid_grant", "security token",
        "(expiredtoken)",
        // A command-line login (gcloud, Firebase, Azure CLI, npm) and registry tokens: their words say
        // which login expired, unless the line names a JWT (`gcloud.auth… invalid_grant: Invalid JWT Signature`).
        "gcloud", "reauthenticat", "npm err", "npm notice", "npm login",
        // An API key beside a JWT is how the JWT was made (Stream's `JWTAuth error: signature is not valid. Make sure the
        // token is created using the secret for API key …`); alone, it is the credential that failed.
        "api key", "apikey", "api_key",
        // HTTP basic authentication, another scheme (Trino's `Authentication failed: Basic authentication or
        // X-Trino-User must be sent`).
        "basic authentication",
        // The code of OIDC's code flow: a line that names the ID token it returned is about that token
        // (kubelogin's `authorization code flow error: could not verify the ID token: failed to verify signature`).
        "authorization code",
        // A client refused at the token endpoint (RFC 6749 section 5.2: unknown client, wrong client secret), unless
        // the line names the client's JWT assertion (`invalid_client: … Client assertion is not within its valid
        // time range`, Entra ID; `The client_assertion signature is invalid.`, Okta).
        "invalid_client",
    ]

    /// Names that begin with a look-alike word but are not one: IdentityModel's key classes (`Keys tried:
    /// 'Microsoft.IdentityModel.Tokens.X509SecurityKey, KeyId: …'` lists the keys a signature was checked with).
    public static let lookAlikeExceptions: [String] = ["x509securitykey", "x509signingcredentials"]

    /// Look-alike words of TLS: they do not silence a key-set or discovery fetch that failed over TLS
    /// (`failed to fetch provider discovery data: … x509: certificate signed by unknown authority`).
    public static let tlsLookAlikeWords: Set<String> = ["certificate", "x509", "x.509", "pkix", "tls", "ssl"]

    /// Words of the look-alikes the general classifier must stay quiet on.
    public static let lookAlikeWords: [String] = [
        "certificate", "x509", "x.509", "pkix", "password", "session", "cookie", "lease", "lock ", "cache",
        "refresh token", "refresh_token", "refreshtoken", "refreshing expired", "invalid_grant", "grant_type",
        "csrf", "xsrf", "unexpected token", "in json at position", "successfully", "is valid", "tls", "ssl",
        "gpg", "gpgv", "pgp",
        // Consul and Nomad ACL tokens (`acl token lookup failed`), and oauthlib's client, which raises `TokenExpiredError` from
        // its own bookkeeping of the token it holds (oauthlib/oauth2/rfc6749/clients/base.py), before any verifier sees it.
        "acl token", "rfc6749.errors.tokenexpirederror",
        // The OIDC `state` parameter (its nonce and mismatch are the callback's CSRF check, not a token's claims).
        "state parameter", "state mismatch",
        // OAuth 1.0a's error parameter (`oauth_problem=signature_invalid`): a request signature, not a JWT's.
        "oauth problem",
        // A verification that ended well (Envoy's `JWT token verification completed with: OK`).
        "completed with: ok", "authorization code", "code verifier", "security token",
        "(expiredtoken)",
        // A presigned URL or signed request past its time (S3's `Request signature expired at: …`), and Google's
        // token endpoint refusing a refresh token (`invalid_grant: Token has been expired or revoked.`).
        "request signature expired", "been expired or revoked",
        // A program that names an error class it does not have (Ruby's NameError), not a verifier's failure.
        "uninitialized constant",
        // Python, Java and Ruby saying the same of a program that calls or imports what it does not have (`AttributeError:
        // module 'jose.jwt' has no attribute 'InvalidAudienceError'`): a deployment broken, not a token refused.
        "has no attribute", "cannot import name", "no module named", "cannot find symbol", "undefined method",
        // .NET's exception for an argument out of range: IdentityModel throws it for a key too short to sign or
        // decrypt with, a configuration error at token creation, not a verdict on a token (its verdicts are
        // `SecurityToken…Exception`s).
        "argumentoutofrangeexception",
        // Classes of non-JWT tokens (round 3 of the corpus), each by the word that names it: SAML assertions,
        // password-reset, sign-up and e-mail verification tokens, one-time passwords, CSRF spelled out, API keys,
        // personal access tokens of registries, ACME, Vault leases, CLI logins.
        "saml", "notonorafter", "reset token", "reset_token", "password reset", "reset link", "verification code",
        "verification link", "verification email", "signup token", "one time token", "one-time", "otp", "totp",
        "two-factor", "cross-site request forgery", "api key", "apikey", "api_key", "personal access token",
        "docker login", "pypi", "bad credentials", "urn:acme", "revoked lease", "firebase login", "az login",
        "azure login", "gcloud", "reauthenticat", "npm err", "npm notice", "npm login",
        "basic authentication", "invalid_client",
        // Making a token, not verifying one: a signer's failure (SmallRye's `io.smallrye.jwt.build.JwtSignatureException:
        // SRJWT05000: Unsupported signature algorithm`, round 10) shares a verifier's words.
        "jwt.build.", "failed to sign", "error signing", "unable to sign", "could not sign", "cannot sign",
        "error creating token", "failed to create token", "error generating token", "failed to generate token",
    ]

    /// Key cues first (a missing key explains the signature failure beside it), then the named causes, then the
    /// catch-all of claims (`claim mismatch` says less than `issuer` beside it), then `other`.
    static func genericPriority(_ cause: Cause) -> Int {
        switch cause {
        case .key_unknown, .key_fetch_failed: -1
        case .claims_invalid, .other: -3
        default: -2
        }
    }

    /// One rule per cue (every cue holds an 8-byte literal; a test checks it).
    static let genericRules: [PhraseRule] =
        genericCues.flatMap { cause, cues in cues.map { cueRule(fragments(of: $0), cause, rankedAs: cause) } }
        + keySetAddresses.flatMap { address in
            fetchErrors.map { cueRule([address, $0], .key_fetch_failed, rankedAs: .key_fetch_failed) }
        }
        + claimShapeCues.map { cueRule(fragments(of: $0), .claims_invalid, rankedAs: .expired) }

    /// A cue's fragments: `…` separates words that must appear in order.
    /// (Split on the bytes of `…`, E2 80 A6, not on Characters: the same pieces, without grapheme breaking.)
    static func fragments(of cue: String) -> [String] {
        let b = cue.utf8
        guard b.containsEllipsis else { return cue.isEmpty ? [] : [cue] }
        var out: [String] = []
        var start = b.startIndex
        var i = b.startIndex
        while i < b.endIndex {
            if b[i] == 0xE2, b[b.index(after: i)...].starts(with: [0x80, 0xA6] as [UInt8]) {
                if start < i { out.append(String(decoding: b[start..<i], as: UTF8.self)) }
                i = b.index(i, offsetBy: 3)
                start = i
            } else {
                i = b.index(after: i)
            }
        }
        if start < b.endIndex { out.append(String(decoding: b[start..<b.endIndex], as: UTF8.self)) }
        return out
    }

    /// The rule of one cue, ranked as the cues of `rank` are.
    static func cueRule(_ fragments: [String], _ cause: Cause, rankedAs rank: Cause) -> PhraseRule {
        PhraseRule(row: genericRow, emitter: "", fragments: fragments, cause: cause, priority: genericPriority(rank))
    }
}

extension String.UTF8View {
    /// Whether the text holds the bytes of `…` (its lead byte, E2, is enough to look further).
    fileprivate var containsEllipsis: Bool {
        withContiguousStorageIfAvailable { $0.contains(0xE2) } ?? contains(0xE2)
    }
}
