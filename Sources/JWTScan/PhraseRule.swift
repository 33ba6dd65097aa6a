import SiftCore

/// What the text in a placeholder of a verifier's message means.
public enum PhraseCapture: Sendable, Hashable {
    case ignore
    /// The token's expiry instant, as printed.
    case exp
    /// The token's not-before (or issued-at) instant.
    case nbf
    /// The verifier's clock when it refused.
    case now
    /// A difference in milliseconds (jjwt).
    case deltaMilliseconds
    /// The verifier's allowed clock skew, in milliseconds (jjwt).
    case skewMilliseconds
    /// A difference in seconds.
    case deltaSeconds
    /// The verifier's allowed clock skew, in seconds.
    case skewSeconds
    /// A Go duration such as `7m0s` (golang-jwt's `token is expired by …`).
    case goDuration
    /// The message of another layer that this one wraps (`failed to verify token: {err}`): the rule is a wrapper,
    /// and a message inside it that names a cause outranks it.
    case inner
}

/// One verification error message: its literal fragments, in order, and the cause it stands for.
///
/// Matching is case-insensitive and treats `_` as a space, so Envoy's access-log form
/// (`jwt_authn_access_denied{Jwt_is_expired}`) matches the message `Jwt is expired`.
public struct PhraseRule: Sendable {
    /// Row number in the phrase reference, or a short name for rules added here.
    public var row: String
    /// The library or gateway that writes it.
    public var emitter: String
    /// Literal text between placeholders, in order.
    public var fragments: [String]
    public var cause: Cause
    /// What the placeholder after each fragment holds (same count as `fragments`, or empty).
    public var captures: [PhraseCapture]
    /// A second reading of an ambiguous message (e.g. Nimbus's "Another algorithm expected, or no matching key(s) found").
    public var alternative: Cause?
    /// Breaks ties before literal length: exception class names rank below messages, and a few precise tells above.
    public var priority: Int

    public init(
        row: String, emitter: String, fragments: [String], cause: Cause, captures: [PhraseCapture] = [],
        alternative: Cause? = nil, priority: Int = 0
    ) {
        self.row = row
        self.emitter = emitter
        self.fragments = fragments
        self.cause = cause
        self.captures = captures
        self.alternative = alternative
        self.priority = priority
    }

    /// The emitter as findings report it: nil for the general classifier's cues, which have none.
    public var emitterName: String? { emitter.isEmpty ? nil : emitter }

    /// A cue of the general classifier, not a message read in an emitter's source.
    public var isGeneric: Bool { row == PhraseTable.genericRow }

    /// A message that wraps another layer's (its text ends in `{err}` or the like): it names a cause only when no
    /// inner message does.
    public var isWrapper: Bool {
        if captures.last == .inner { return true }
        guard captures.isEmpty, !isGeneric, let last = fragments.last?.utf8 else { return false }
        return last.last == UInt8(ascii: ":") && last.contains(UInt8(ascii: " "))
    }

    /// Total literal length: longer (more specific) messages win over shorter ones that also match.
    public var literalLength: Int { fragments.reduce(0) { $0 + $1.utf8.count } }
}

/// The numbers a message carried. Times are Unix seconds.
public struct ErrorDetails: Sendable, Equatable {
    public var exp: Double?
    public var nbf: Double?
    public var now: Double?
    /// now − exp for an expiry, nbf − now for a token used too early, as the verifier saw it (skew added back
    /// where the library subtracted it first: jjwt ≤ 0.11, jwtk/jjwt#660).
    public var deltaSeconds: Double?
    public var skewSeconds: Double?

    public init(
        exp: Double? = nil, nbf: Double? = nil, now: Double? = nil, deltaSeconds: Double? = nil,
        skewSeconds: Double? = nil
    ) {
        self.exp = exp
        self.nbf = nbf
        self.now = now
        self.deltaSeconds = deltaSeconds
        self.skewSeconds = skewSeconds
    }

    public var isEmpty: Bool { exp == nil && nbf == nil && now == nil && deltaSeconds == nil && skewSeconds == nil }

    /// `{"exp":…,"now":…}` with only the fields present.
    public var json: String {
        var parts: [String] = []
        if let exp { parts.append("\"exp\":\(JSONValue.format(exp))") }
        if let nbf { parts.append("\"nbf\":\(JSONValue.format(nbf))") }
        if let now { parts.append("\"now\":\(JSONValue.format(now))") }
        if let deltaSeconds { parts.append("\"delta_seconds\":\(JSONValue.format(deltaSeconds))") }
        if let skewSeconds { parts.append("\"skew_seconds\":\(JSONValue.format(skewSeconds))") }
        return "{" + parts.joined(separator: ",") + "}"
    }
}

/// A classified error line.
public struct PhraseMatch: Sendable, Equatable {
    public var ruleIndex: Int
    public var cause: Cause
    public var alternative: Cause?
    public var details: ErrorDetails
    /// Where the first fragment starts in the line.
    public var start: Int
}

/// The rule table: researched messages plus rules added here.
public enum PhraseTable {
    /// Every rule the matcher uses.
    public static let rules: [PhraseRule] = buildRules()

    /// Builds ``rules``: one array, reserved once, each derived rule appended in place (startup is paid on every
    /// run; no intermediate array per derivation, byte tests rather than String ones).
    static func buildRules() -> [PhraseRule] {
        var all: [PhraseRule] = []
        all.reserveCapacity(8192)
        for rule in researchedRules {
            var r = rule
            if let first = r.fragments.first, let alt = ambiguous[first] { r.alternative = alt }
            all.append(r)
        }
        appendSourcedRules(sourcedTable, to: &all)
        // A message cut by the logger, or with its values hidden (IdentityModel's "[PII is hidden]"), still shows its
        // first part: a first fragment of 16 bytes or more is specific enough to stand alone (ranked below the
        // whole message, which is longer). A first part that begins messages of different causes (Spring's
        // "An error occurred while attempting to decode the Jwt: …") says no cause alone: it stands as `other`.
        let prefixes = PrefixCauses(all)
        for i in all.indices {
            let rule = all[i]
            guard rule.fragments.count > 1, rule.fragments[0].utf8.count >= 16 else { continue }
            var r = rule
            r.fragments = [rule.fragments[0]]
            r.captures = []
            if prefixes.namesSeveralCauses(rule.fragments[0]) {
                r.cause = .other
                r.alternative = nil
            }
            all.append(r)
        }
        // A long one-part message cut by the logger, or written by an older version that stopped earlier (Envoy's
        // `Jwt is not in the form of Header.Payload.Signature`, before `with two dots and 3 sections` was added):
        // its first two thirds, cut at a word and at least 32 bytes, stand alone too.
        for i in all.indices {
            let rule = all[i]
            guard rule.fragments.count == 1 else { continue }
            let text = rule.fragments[0].utf8
            guard text.count >= 60 else { continue }
            var cut = text.count * 2 / 3
            while cut > 32 && text[text.index(text.startIndex, offsetBy: cut)] != 0x20 { cut -= 1 }
            guard cut > 32 else { continue }
            var r = rule
            r.fragments = [String(decoding: text.prefix(cut), as: UTF8.self)]
            r.captures = []
            if prefixes.namesSeveralCauses(r.fragments[0]) {
                r.cause = .other
                r.alternative = nil
            }
            all.append(r)
        }
        all += codeRules(all)
        all += extraRules
        all += genericRules
        // A message logged inside a JSON string has its quotes escaped (`\"alg\" parameter…`): the same rule
        // with `\"` for every `"` sees through it without unescaping the line. A message retold without its quotes
        // (`Token expired: exp claim timestamp check failed`) is the same rule with them dropped. (Single quotes
        // and backticks fold to `"` in the matcher.)
        var quoted: [Int] = []
        quoted.reserveCapacity(1024)
        for i in all.indices where all[i].fragments.contains(where: { $0.utf8.containsByte(0x22) }) {
            quoted.append(i)
        }
        for i in quoted {
            var r = all[i]
            r.fragments = r.fragments.map { $0.replacingQuotes() }
            all.append(r)
        }
        // Not a one-part rule that ends inside an open quote (a message's first part, `Unable to find key "`, whose
        // value and the rest were cut off): without its quote it is only the common words before the value.
        for i in quoted {
            var r = all[i]
            guard r.fragments.count > 1 || r.fragments[0].utf8.count(where: { $0 == 0x22 }) % 2 == 0 else {
                continue
            }
            r.fragments = r.fragments.map { $0.droppingQuotes() }
            guard r.fragments.contains(where: { $0.utf8.count >= 8 }), !r.fragments.contains(where: \.isEmpty)
            else { continue }
            all.append(r)
        }
        return all
    }

    /// A coded message (IdentityModel's `IDX20807: Unable to retrieve document from: …`, Open Liberty's
    /// `CWWKS1757E: …`, SmallRye's `SRJWT07013: …`) is known by its code alone when the logger cut the text or
    /// another version worded it differently: one rule per code, ranked below every whole message (it is shorter).
    /// A code whose rows name different causes (IdentityModel reused a few across versions) stands as `other`.
    static func codeRules(_ rules: [PhraseRule]) -> [PhraseRule] {
        var out: [PhraseRule] = []
        out.reserveCapacity(512)
        var byCode: [String: Int] = [:]
        byCode.reserveCapacity(512)
        for rule in rules where !rule.isGeneric {
            guard let first = rule.fragments.first, let code = messageCode(first) else { continue }
            guard let k = byCode[code] else {
                var r = rule
                r.fragments = [code]
                r.captures = []
                byCode[code] = out.count
                out.append(r)
                continue
            }
            if out[k].cause != rule.cause {
                out[k].cause = .other
                out[k].alternative = nil
            } else if out[k].alternative != rule.alternative {
                out[k].alternative = nil
            }
        }
        return out
    }

    /// The code a message starts with, colon included: 2–8 capital letters, 3–7 digits, an optional severity
    /// letter (`CWWKS1757E:`), 8 bytes at least; nil for any other start.
    static func messageCode(_ text: String) -> String? {
        let utf8 = text.utf8
        // Most messages start with a lowercase letter or one capital: no code, nothing copied.
        guard let b0 = utf8.first, b0 >= 0x41, b0 <= 0x5A else { return nil }
        var head: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let n = withUnsafeMutableBytes(of: &head) { raw in
            var n = 0
            for b in utf8 {
                guard n < 20 else { break }
                raw[n] = b
                n += 1
            }
            return n
        }
        return withUnsafeBytes(of: &head) { b in
            var i = 0
            while i < n, b[i] >= 0x41, b[i] <= 0x5A { i += 1 }
            guard (2...8).contains(i) else { return nil }
            let digitsStart = i
            while i < n, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard (3...7).contains(i - digitsStart) else { return nil }
            if i < n, b[i] >= 0x41, b[i] <= 0x5A { i += 1 }
            guard i < n, b[i] == UInt8(ascii: ":"), i + 1 >= 8 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: b[0...i]), as: UTF8.self)
        }
    }

    /// Messages that name two causes (keyed by the rule's first fragment); the rule's own cause is the likelier.
    static let ambiguous: [String: Cause] = [
        "Signed JWT rejected: Another algorithm expected, or no matching key(s) found": .alg_mismatch,
        "An error occurred while attempting to decode the Jwt: Signed JWT rejected: Another algorithm expected, or no matching key(s) found":
            .alg_mismatch,
        "Jwks doesn't have key to match kid or alg from Jwt": .alg_mismatch,
        "Token is not active": .not_yet_valid,
        "failed to verify signature: failed to verify id token signature": .key_unknown,
        "invalid signature": .key_unknown,
    ]

    /// Exception class names (strong signals when the message itself is cut or wrapped) and a few precise tells.
    static let extraRules: [PhraseRule] = {
        let classes: [(String, Cause)] = [
            ("TokenExpiredError", .expired), ("NotBeforeError", .not_yet_valid), ("ERR_JWT_EXPIRED", .expired),
            ("JWTExpired", .expired), ("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", .signature_invalid),
            ("ERR_JWKS_NO_MATCHING_KEY", .key_unknown), ("ERR_JWT_CLAIM_VALIDATION_FAILED", .claims_invalid),
            ("ExpiredSignatureError", .expired), ("ImmatureSignatureError", .not_yet_valid),
            ("InvalidSignatureError", .signature_invalid), ("InvalidAudienceError", .audience_rejected),
            ("InvalidIssuerError", .issuer_rejected), ("io.jsonwebtoken.ExpiredJwtException", .expired),
            ("ExpiredJwtException", .expired), ("PrematureJwtException", .not_yet_valid),
            ("io.jsonwebtoken.security.SignatureException", .signature_invalid),
            ("io.jsonwebtoken.SignatureException", .signature_invalid), ("MalformedJwtException", .malformed),
            ("com.auth0.jwt.exceptions.TokenExpiredException", .expired),
            ("SignatureVerificationException", .signature_invalid), ("AlgorithmMismatchException", .alg_mismatch),
            ("SecurityTokenExpiredException", .expired), ("SecurityTokenNotYetValidException", .not_yet_valid),
            ("SecurityTokenSignatureKeyNotFoundException", .key_unknown),
            ("SecurityTokenInvalidSignatureException", .signature_invalid),
            ("SecurityTokenInvalidAudienceException", .audience_rejected),
            ("SecurityTokenInvalidIssuerException", .issuer_rejected),
            ("SecurityTokenMalformedException", .malformed), ("TokenNotActiveException", .expired),
            ("TokenSignatureInvalidException", .signature_invalid),
            // python-jose (jose/exceptions.py; jws.py raises the first when no key's signature matches, jwt.py the
            // second for iss, aud, sub, jti and at_hash).
            ("JWSSignatureError", .signature_invalid), ("JWTClaimsError", .claims_invalid),
        ]
        var rules = classes.map {
            PhraseRule(row: "class:\($0.0)", emitter: "exception class", fragments: [$0.0], cause: $0.1, priority: -1)
        }
        rules.append(
            PhraseRule(
                row: "idx-keys-0", emitter: "Microsoft.IdentityModel",
                fragments: ["Number of keys in Configuration: '0'"], cause: .key_fetch_failed, priority: 1))
        // IDX10511 goes on to say where the key it tried was found: a key matched, so the signature failed, whatever
        // the configuration's key count (LogMessages.cs, IDX10511: "Matched key was in '{3}'").
        rules.append(
            PhraseRule(
                row: "idx-matched", emitter: "Microsoft.IdentityModel",
                fragments: ["Number of keys in Configuration: '0'", "Matched key was in '"],
                cause: .signature_invalid, priority: 2))
        rules.append(
            PhraseRule(
                row: "idx-keys-0b", emitter: "Microsoft.IdentityModel",
                fragments: [
                    "Number of keys in TokenValidationParameters: '0'", "Number of keys in Configuration: '0'",
                ],
                cause: .key_fetch_failed, priority: 1))
        return rules
    }()
}

extension PhraseTable {
    /// Parses the generated text table (see `PhraseTable+Sourced.swift`); a malformed line is a build-time bug
    /// caught by the tests (every line must give a rule).
    static func sourcedRules(_ table: String) -> [PhraseRule] {
        var rules: [PhraseRule] = []
        appendSourcedRules(table, to: &rules)
        return rules
    }

    /// Cause names as bytes, for the table's cause fields (no String made per field).
    static let causeNames: [(name: [UInt8], cause: Cause)] = Cause.allCases.map { (Array($0.rawValue.utf8), $0) }

    /// ``sourcedRules(_:)``, appended to `rules`: one pass over the bytes (String.split over 1,700 lines cost a
    /// fifth of the startup), causes, priorities and capture codes read from the bytes, one String per emitter
    /// run (consecutive rows share it).
    static func appendSourcedRules(_ table: String, to rules: inout [PhraseRule]) {
        var text = table
        let causeNames = Self.causeNames
        text.withUTF8 { buf in
            var fields: [Range<Int>] = []
            fields.reserveCapacity(16)
            var lineStart = 0
            var emitter = ""
            var emitterRange = 0..<0
            func string(_ r: Range<Int>) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self)
            }
            func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
                a.count == b.count && buf[a].elementsEqual(buf[b])
            }
            func causeOf(_ r: Range<Int>) -> Cause? {
                for (name, cause) in causeNames where name.count == r.count && buf[r].elementsEqual(name) {
                    return cause
                }
                return nil
            }
            func priority(_ r: Range<Int>) -> Int {
                var i = r.lowerBound
                let negative = i < r.upperBound && buf[i] == UInt8(ascii: "-")
                if negative { i += 1 }
                guard i < r.upperBound, r.upperBound - i <= 18 else { return Int(string(r)) ?? 0 }
                var v = 0
                while i < r.upperBound {
                    let d = buf[i] &- 0x30
                    guard d <= 9 else { return Int(string(r)) ?? 0 }
                    v = v * 10 + Int(d)
                    i += 1
                }
                return negative ? -v : v
            }
            func capture(_ r: Range<Int>) -> PhraseCapture {
                switch string(r) {
                case "exp": .exp
                case "nbf": .nbf
                case "now": .now
                case "dms": .deltaMilliseconds
                case "ds": .deltaSeconds
                case "sms": .skewMilliseconds
                case "ss": .skewSeconds
                case "go": .goDuration
                case "in": .inner
                default: .ignore
                }
            }
            func finish(_ end: Int) {
                fields.append(lineStart..<end)
                defer { fields.removeAll(keepingCapacity: true) }
                guard fields.count >= 8, fields.last!.count == 1, buf[fields.last!.lowerBound] == UInt8(ascii: "|"),
                    let cause = causeOf(fields[2])
                else { return }
                // `-`, `-,-`: no capture at all (the usual row), nothing to read.
                var captures: [PhraseCapture] = []
                if buf[fields[5]].contains(where: { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ",") }) {
                    var from = fields[5].lowerBound
                    for i in fields[5] where buf[i] == UInt8(ascii: ",") {
                        captures.append(capture(from..<i))
                        from = i + 1
                    }
                    captures.append(capture(from..<fields[5].upperBound))
                    if captures.allSatisfy({ $0 == .ignore }) { captures = [] }
                }
                if !same(fields[1], emitterRange) {
                    emitter = string(fields[1])
                    emitterRange = fields[1]
                }
                var fragments: [String] = []
                fragments.reserveCapacity(fields.count - 7)
                for k in 6..<(fields.count - 1) { fragments.append(string(fields[k])) }
                rules.append(
                    PhraseRule(
                        row: string(fields[0]), emitter: emitter, fragments: fragments, cause: cause,
                        captures: captures, alternative: causeOf(fields[3]), priority: priority(fields[4])))
            }
            var i = 0
            while i < buf.count {
                switch buf[i] {
                case UInt8(ascii: "\t"):
                    fields.append(lineStart..<i)
                    lineStart = i + 1
                case UInt8(ascii: "\n"):
                    finish(i)
                    lineStart = i + 1
                default: break
                }
                i += 1
            }
            if lineStart < buf.count { finish(buf.count) }
        }
    }
}

extension PhraseTable {
    /// Which causes the rules whose text begins with a given first part name: the non-generic rules' first parts
    /// of 16 bytes or more, ASCII-lowercased into one byte buffer, sorted by their first 16 bytes (two big-endian
    /// integers); a query is a binary search, then a prefix test over the few rules with the same 16 bytes.
    struct PrefixCauses {
        struct Entry {
            var head0: UInt64
            var head1: UInt64
            var start: Int
            var count: Int
            var cause: Cause
        }
        var bytes: [UInt8] = []
        var entries: [Entry] = []

        @inline(__always)
        static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

        /// Appends `text`'s bytes, ASCII-lowercased (over its contiguous storage when it has one).
        static func appendLowered(_ text: String, to out: inout [UInt8]) {
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { src in
                for b in src { out.append(Self.lower(b)) }
            }
            if done == nil { for b in text.utf8 { out.append(Self.lower(b)) } }
        }

        /// The first 16 bytes of `p`, lowercased, as two integers that compare as the bytes do.
        static func head(_ p: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
            var h0: UInt64 = 0
            var h1: UInt64 = 0
            for k in 0..<8 { h0 = h0 << 8 | UInt64(p[k]) }
            for k in 8..<16 { h1 = h1 << 8 | UInt64(p[k]) }
            return (h0, h1)
        }

        init(_ rules: [PhraseRule]) {
            bytes.reserveCapacity(rules.count * 64)
            entries.reserveCapacity(rules.count)
            for rule in rules where !rule.isGeneric {
                guard let first = rule.fragments.first, first.utf8.count >= 16 else { continue }
                let start = bytes.count
                Self.appendLowered(first, to: &bytes)
                entries.append(Entry(head0: 0, head1: 0, start: start, count: bytes.count - start, cause: rule.cause))
            }
            bytes.withUnsafeBufferPointer { b in
                for k in entries.indices {
                    (entries[k].head0, entries[k].head1) = Self.head(
                        UnsafeBufferPointer(rebasing: b[entries[k].start...]))
                }
            }
            entries.sort { ($0.head0, $0.head1) < ($1.head0, $1.head1) }
        }

        /// Whether the rules whose first part begins with `prefix` (ASCII case folded; 16 bytes at least, or no rule
        /// is found) name more than one cause.
        func namesSeveralCauses(_ prefix: String) -> Bool {
            guard prefix.utf8.count >= 16 else { return false }
            var p: [UInt8] = []
            Self.appendLowered(prefix, to: &p)
            return p.withUnsafeBufferPointer { p in
                bytes.withUnsafeBufferPointer { bytes in
                    let (h0, h1) = Self.head(p)
                    var lo = 0
                    var hi = entries.count
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if (entries[mid].head0, entries[mid].head1) < (h0, h1) { lo = mid + 1 } else { hi = mid }
                    }
                    var first: Cause?
                    while lo < entries.count, entries[lo].head0 == h0, entries[lo].head1 == h1 {
                        let e = entries[lo]
                        lo += 1
                        guard e.count >= p.count,
                            UnsafeBufferPointer(rebasing: bytes[e.start..<(e.start + p.count)]).elementsEqual(p)
                        else { continue }
                        if let c = first, c != e.cause { return true }
                        first = e.cause
                    }
                    return false
                }
            }
        }
    }
}

extension String.UTF8View {
    /// Whether the text holds `byte` (over its contiguous storage when it has one).
    func containsByte(_ byte: UInt8) -> Bool {
        withContiguousStorageIfAvailable { $0.contains(byte) } ?? contains(byte)
    }
}

extension String {
    /// The text without its `"`, `'` and `` ` `` quotes.
    fileprivate func droppingQuotes() -> String {
        String(decoding: utf8.filter { $0 != 0x22 && $0 != 0x27 && $0 != 0x60 }, as: UTF8.self)
    }

    /// `"` → `\"`, as a JSON encoder writes a quote inside a string.
    fileprivate func replacingQuotes() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 8)
        for b in utf8 {
            if b == 0x22 { out.append(0x5C) }
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
