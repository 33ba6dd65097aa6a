import SiftCore

/// The claims a verdict needs (`exp`, `nbf`, `iat`, `iss`, `sub`, `aud`), read straight from the payload's bytes in
/// one pass, with no JSON values built: decoding every claims set into a ``JSONObject`` (a String per member name
/// and value, an array of members) was ≈ 10% of a verifying scan of many distinct tokens.
///
/// It reads only the plain form nearly every token has — member names and strings of printable ASCII without
/// escapes, integers of at most 15 digits, `true`, `false`, `null`, and arrays and objects of those — and answers
/// nil for anything else (an escape, a byte ≥ 0x80, a fraction or exponent, a negative number, a duplicate name,
/// deep nesting, a syntax error, a needed claim of an unexpected type), so the caller reads the claims with
/// ``JSONParser`` instead. A document it accepts is one ``JSONParser/parseObject(_:)`` accepts, with the same
/// values for the claims it returns: ASCII names compare equal as Strings exactly when their bytes do, and an
/// integer of at most 15 digits is the Double the parser makes of it.
struct ClaimsReader {
    /// The claims found; ranges are into the payload (string contents, without quotes).
    struct Claims {
        var exp: Double?
        var nbf: Double?
        var iat: Double?
        var iss: Range<Int>?
        var sub: Range<Int>?
        /// `aud` as a string (its contents), or as an array of strings (the whole array's text, brackets included,
        /// with its strings in `audItems`).
        var aud: Range<Int>?
        var audIsArray = false
        var audItems: [Range<Int>] = []
    }

    /// Deepest nesting read here (``JSONParser/maximumDepth`` is larger: deeper documents go to the parser).
    static let maximumDepth = 16
    /// Members per object compared for duplicates here; an object with more goes to the parser.
    static let maximumMembers = 32

    private let p: UnsafeRawBufferPointer
    private var i = 0

    private init(_ p: UnsafeRawBufferPointer) { self.p = p }

    /// The claims of `payload`, or nil when it is not in the plain form (read it with ``JSONParser``).
    /// `audItems` is reused: pass the previous result's to keep its storage.
    static func read(_ payload: UnsafeRawBufferPointer, audItems: [Range<Int>] = []) -> Claims? {
        guard payload.count <= JSONParser.maximumSize, payload.baseAddress != nil else { return nil }
        var r = ClaimsReader(payload)
        var claims = Claims()
        claims.audItems = audItems
        claims.audItems.removeAll(keepingCapacity: true)
        guard r.readTop(into: &claims) else { return nil }
        return claims
    }

    private static let quote = UInt8(ascii: "\"")

    @inline(__always) private var current: UInt8? { i < p.count ? p[i] : nil }

    @inline(__always) private mutating func skipWhitespace() {
        while i < p.count {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// A string of printable ASCII without escapes at `i` (its opening quote): its contents.
    private mutating func plainString() -> Range<Int>? {
        guard current == Self.quote else { return nil }
        i += 1
        let start = i
        while i < p.count {
            let c = p[i]
            if c == Self.quote {
                i += 1
                return start..<(i - 1)
            }
            guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        return nil
    }

    /// A non-negative integer of at most 15 digits at `i`, with no fraction or exponent.
    private mutating func plainInteger() -> Double? {
        guard let first = current, first >= 0x30, first <= 0x39 else { return nil }
        var v = 0
        let start = i
        if first == 0x30 {
            i += 1
        } else {
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 {
                v = v &* 10 &+ Int(p[i] &- 0x30)
                i += 1
            }
        }
        guard i - start <= 15 else { return nil }
        if let c = current,
            c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c >= 0x30 && c <= 0x39
        {
            return nil
        }
        return Double(v)
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        let ok = word.withUTF8Buffer { w in
            for k in 0..<n where p[i + k] != w[k] { return false }
            return true
        }
        if ok { i += n }
        return ok
    }

    /// Any plain value at `i`, skipped.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maximumDepth, let c = current else { return false }
        switch c {
        case Self.quote: return plainString() != nil
        case UInt8(ascii: "{"): return skipObject(depth: depth)
        case UInt8(ascii: "["):
            i += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                i += 1
                return true
            }
            while true {
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                guard let c = current else { return false }
                i += 1
                if c == UInt8(ascii: "]") { return true }
                guard c == UInt8(ascii: ",") else { return false }
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return plainInteger() != nil
        }
    }

    /// Whether the name at `names[k]` repeats one before it.
    private func repeats(_ names: UnsafeMutableBufferPointer<Range<Int>>, _ k: Int) -> Bool {
        let name = names[k]
        for j in 0..<k where names[j].count == name.count {
            var same = true
            for o in 0..<name.count where p[names[j].lowerBound + o] != p[name.lowerBound + o] {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }

    /// A nested object, skipped (its names checked for duplicates).
    private mutating func skipObject(depth: Int) -> Bool {
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: Self.maximumMembers) { names in
            members(depth: depth, names: names) { r, _ in r.skipValue(depth: depth + 1) }
        }
    }

    /// The members of an object at `i` (its `{`): each name checked against those before it, then `value` reads
    /// the value (given the name).
    private mutating func members(
        depth: Int, names: UnsafeMutableBufferPointer<Range<Int>>,
        value: (inout ClaimsReader, Range<Int>) -> Bool
    ) -> Bool {
        guard current == UInt8(ascii: "{") else { return false }
        i += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            i += 1
            return true
        }
        var count = 0
        while true {
            skipWhitespace()
            guard count < names.count, let name = plainString() else { return false }
            names[count] = name
            guard !repeats(names, count) else { return false }
            count += 1
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { return false }
            i += 1
            skipWhitespace()
            guard value(&self, name) else { return false }
            skipWhitespace()
            guard let c = current else { return false }
            i += 1
            if c == UInt8(ascii: "}") { return true }
            guard c == UInt8(ascii: ",") else { return false }
        }
    }

    /// The three-letter claim a name is, as its bytes in one word (0 for any other name).
    private func claimKey(_ name: Range<Int>) -> UInt32 {
        guard name.count == 3 else { return 0 }
        return UInt32(p[name.lowerBound]) << 16 | UInt32(p[name.lowerBound + 1]) << 8 | UInt32(p[name.lowerBound + 2])
    }

    private static func key(_ s: StaticString) -> UInt32 {
        s.withUTF8Buffer { UInt32($0[0]) << 16 | UInt32($0[1]) << 8 | UInt32($0[2]) }
    }
    private static let exp = key("exp")
    private static let nbf = key("nbf")
    private static let iat = key("iat")
    private static let iss = key("iss")
    private static let sub = key("sub")
    private static let aud = key("aud")

    private mutating func readTop(into claims: inout Claims) -> Bool {
        skipWhitespace()
        let ok = withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: Self.maximumMembers) { names in
            members(depth: 0, names: names) { r, name in
                switch r.claimKey(name) {
                case Self.exp:
                    claims.exp = r.plainInteger()
                    return claims.exp != nil
                case Self.nbf:
                    claims.nbf = r.plainInteger()
                    return claims.nbf != nil
                case Self.iat:
                    claims.iat = r.plainInteger()
                    return claims.iat != nil
                case Self.iss:
                    claims.iss = r.plainString()
                    return claims.iss != nil
                case Self.sub:
                    claims.sub = r.plainString()
                    return claims.sub != nil
                case Self.aud:
                    return r.readAudience(into: &claims)
                default:
                    return r.skipValue(depth: 1)
                }
            }
        }
        guard ok else { return false }
        skipWhitespace()
        return i == p.count
    }

    /// `aud`: a string, or an array of strings.
    private mutating func readAudience(into claims: inout Claims) -> Bool {
        if current == Self.quote {
            claims.aud = plainString()
            return claims.aud != nil
        }
        guard current == UInt8(ascii: "[") else { return false }
        let start = i
        i += 1
        claims.audIsArray = true
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            i += 1
            claims.aud = start..<i
            return true
        }
        while true {
            skipWhitespace()
            guard let item = plainString() else { return false }
            claims.audItems.append(item)
            skipWhitespace()
            guard let c = current else { return false }
            i += 1
            if c == UInt8(ascii: "]") {
                claims.aud = start..<i
                return true
            }
            guard c == UInt8(ascii: ",") else { return false }
        }
    }
}
