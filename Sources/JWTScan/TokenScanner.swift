import SiftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The compact serialization a token uses.
public enum TokenKind: String, Sendable, Hashable, CaseIterable {
    /// A signed token: three segments (RFC 7515 §7.1).
    case jws
    /// An encrypted token: five segments with `enc` in the header (RFC 7516 §7.1).
    case jwe
    /// A JWS whose header says `alg: none` (RFC 7519 §6).
    case unsecured
}

/// Why the scanner believes a token was cut short.
public enum Truncation: String, Sendable, Hashable, CaseIterable {
    /// The token ran into the line-length bound and the line was scanned in pieces.
    case lineLimit = "line_limit"
    /// `...`, `…` or `[truncated` follows the token.
    case marker
    /// A segment's length is 1 (mod 4), which no base64url encoding produces.
    case segmentLength = "segment_length"
    /// The token, or the field holding it, ends at a round size (1024, 2048, 4096, 8192 bytes…).
    case roundLimit = "round_limit"
    /// Two or four segments: a JWS or JWE missing its tail.
    case missingSegments = "missing_segments"
}

/// One token found on a line. Positions are relative to the line; the token bytes are never copied.
public struct TokenHit: Sendable, Equatable {
    /// Offset of the token's first byte within the line (or line piece).
    public var start: Int
    public var length: Int
    public var fingerprint: SHA256Digest
    public var kind: TokenKind
    public var segments: Int
    public var truncation: Truncation?
    /// The header's `alg`, when it is a string.
    public var alg: String?
    /// The scanner decoded these bytes for this hit: it had not met them since its cache last started over.
    /// Every other hit repeats an earlier one exactly.
    public var isNew: Bool
}

/// Finds JWS and JWE compact tokens in raw line bytes.
///
/// The search anchors on `ey`/`ew` — what base64url makes of a JSON object's opening `{"`, `{ ` or `{\n` — with a
/// block loop over byte pairs, then extends over the base64url alphabet a block at a time. A candidate is kept
/// only when its first segment decodes to a JSON object. Decoding and the SHA-256 fingerprint happen once per
/// distinct candidate: repeats are recognised by ``TokenCache`` (exact bytes, bounded). Copies of a scanner share
/// that cache, so a scanner belongs to one thread (each scan has its own).
public struct TokenScanner {
    /// Facts about a distinct candidate, decided once.
    @usableFromInline
    struct Facts {
        var isToken: Bool
        var kind: TokenKind
        var alg: String?
    }

    /// How many distinct candidates are remembered before the cache is cleared (keeps memory flat).
    public static let cacheLimit = TokenCache.entryLimit
    /// Shortest first segment considered (`eyJ9` is `{}`).
    static let minimumHeaderLength = 4
    /// Longest header segment decoded, in bytes (a real header is well under 1 KiB; `x5c` can make it ~8 KiB).
    public static let maximumHeaderLength = 64 * 1024
    /// Round sizes at which loggers, proxies and browsers clip fields.
    @inline(__always)
    static func isRoundLimit(_ n: Int) -> Bool {
        switch n {
        case 256, 512, 1000, 1024, 2000, 2048, 4000, 4095, 4096, 8000, 8190, 8192, 16384, 32768, 65536: true
        default: false
        }
    }

    /// Computes a token's fingerprint (SHA-256 of its exact bytes). The scanner is pure Swift; the pipeline
    /// passes in the hash (JOSECrypto's `SHA256Context.hash`), called once per distinct token.
    public typealias Fingerprinter = (UnsafeRawBufferPointer) -> SHA256Digest

    private let cache = TokenCache()
    private let headers = HeaderDecisions()
    private let fingerprinter: Fingerprinter

    /// Distinct candidates decoded so far (for statistics and tests).
    public private(set) var decodedCandidates = 0

    public init(fingerprint: @escaping Fingerprinter) {
        self.fingerprinter = fingerprint
    }

    /// Appends every token on `line` to `hits`.
    /// - Parameters:
    ///   - line: the line's bytes without its `\n` (and without a trailing `\r`).
    ///   - cutAtEnd: the line continues past these bytes (it was longer than the line bound).
    public mutating func scan(line: UnsafeRawBufferPointer, cutAtEnd: Bool, into hits: inout [TokenHit]) {
        guard line.count >= 6 else { return }
        let count = line.count
        let cls = ByteClass.token
        var from = 1
        while let second = Self.nextAnchor(line, from: from) {
            from = second + 1
            let start = second - 1
            guard isBoundary(line, before: start) else { continue }
            switch candidate(line, start: start, cutAtEnd: cutAtEnd, classes: cls) {
            case .token(let hit):
                hits.append(hit)
                from = hit.start + hit.length + 1
            case .rejected(let end):
                // Nothing inside a rejected run can start a token (a token never follows an alphabet byte or '.').
                from = max(from, end)
            }
            if from >= count { break }
        }
    }

    /// The index of the next `y` or `w` at or after `from` that follows an `e`: `ey` is what base64url makes of
    /// `{"`, `{ ` and `{\r`; `ew` of `{\n` and `{\t`. A block loop like ``ByteSearch/firstPair(_:from:to:_:_:)``.
    @inline(__always)
    static func nextAnchor(_ line: UnsafeRawBufferPointer, from: Int) -> Int? {
        let count = line.count
        guard from >= 1, let raw = line.baseAddress else { return nil }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        var i = from
        while i + ByteSearch.block <= count {
            var found: UInt8 = 0
            for k in 0..<ByteSearch.block {
                let first = p[i &+ k &- 1]
                let second = p[i &+ k]
                found |= (first == 0x65 ? 1 : 0) & ((second == 0x79 ? 1 : 0) | (second == 0x77 ? 1 : 0))
            }
            if found != 0 { break }
            i += ByteSearch.block
        }
        while i < count {
            let c = p[i]
            if (c == 0x79 || c == 0x77) && p[i - 1] == 0x65 { return i }
            i += 1
        }
        return nil
    }

    /// The end of the run of base64url alphabet bytes from `from`, a block at a time (as in ``ByteSearch``); stops
    /// at the first block holding any other byte (the caller finishes byte by byte).
    @inline(__always)
    static func alphabetRun(_ line: UnsafeRawBufferPointer, from: Int) -> Int {
        let count = line.count
        guard let raw = line.baseAddress else { return from }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        var i = from
        while i + ByteSearch.block <= count {
            var other: UInt8 = 0
            for k in 0..<ByteSearch.block {
                let b = p[i &+ k]
                let letter: UInt8 = (b | 0x20) &- 0x61 < 26 ? 1 : 0
                let digit: UInt8 = b &- 0x30 < 10 ? 1 : 0
                let mark: UInt8 = b == 0x2D || b == 0x5F ? 1 : 0
                other |= (letter | digit | mark) ^ 1
            }
            if other != 0 { break }
            i += ByteSearch.block
        }
        return i
    }

    /// A token starts after a byte that is neither base64url nor '.', or after a URL escape such as `%20`
    /// (`Bearer%20eyJ…`). (A token's own payload often starts `eyJ` too: the '.' before it rules it out.)
    @inline(__always)
    private func isBoundary(_ line: UnsafeRawBufferPointer, before start: Int) -> Bool {
        if start == 0 { return true }
        let prev = line[start - 1]
        if ByteClass.token[Int(prev)] == 0 { return true }
        return start >= 3 && line[start - 3] == UInt8(ascii: "%") && ByteClass.isHex(line[start - 2])
            && ByteClass.isHex(prev)
    }

    enum Candidate {
        case token(TokenHit)
        /// Not a token; the run of token bytes ends at this index.
        case rejected(end: Int)
    }

    private mutating func candidate(
        _ line: UnsafeRawBufferPointer, start: Int, cutAtEnd: Bool, classes cls: [UInt8]
    ) -> Candidate {
        let count = line.count
        var end = start
        var dots = 0
        var firstDot = -1
        var segmentStart = start
        var badSegment = false
        cls.withUnsafeBufferPointer { table in
            let p = line.baseAddress!.assumingMemoryBound(to: UInt8.self)
            while end < count {
                // Alphabet bytes are the common case: run over them a block at a time, then byte by byte.
                end = Self.alphabetRun(line, from: end)
                guard end < count else { return }
                var c = table[Int(p[end])]
                while c == 1 {
                    end += 1
                    guard end < count else { return }
                    c = table[Int(p[end])]
                }
                if c == 0 { return }
                if (end - segmentStart) % 4 == 1 { badSegment = true }
                if firstDot < 0 { firstDot = end }
                dots += 1
                segmentStart = end + 1
                end += 1
            }
        }
        let runEndBeforeTrim = end
        // `eyJ….x.y...` — an ellipsis after a cut token: the dots are the logger's, not the token's.
        var trailing = 0
        while end - trailing - 1 > start, line[end - trailing - 1] == UInt8(ascii: ".") { trailing += 1 }
        if trailing >= 2 {
            end -= trailing
            dots -= trailing
        }
        // A sentence may end right after a token: "… token eyJ….x.y." — drop one trailing dot when it would
        // leave a well-formed JWS, or a JWE.
        if dots == 3 || dots == 5, line[end - 1] == UInt8(ascii: ".") {
            end -= 1
            dots -= 1
        }
        if end < runEndBeforeTrim {
            // The last segment now starts after the last dot that is left.
            segmentStart = start
            var i = end
            while i > start {
                if line[i - 1] == UInt8(ascii: ".") {
                    segmentStart = i
                    break
                }
                i -= 1
            }
        }
        let runEnd = end
        guard dots >= 1, firstDot - start >= Self.minimumHeaderLength else { return .rejected(end: runEnd) }
        if (end - segmentStart) % 4 == 1 { badSegment = true }
        let length = end - start
        let tokenBytes = UnsafeRawBufferPointer(rebasing: line[start..<end])
        let key = cache.hash(tokenBytes)
        let fingerprint: SHA256Digest
        let facts: Facts
        var isNew = false
        if let known = cache.lookup(tokenBytes, hash: key) {
            (fingerprint, facts) = (known.fingerprint, known.facts)
        } else {
            facts = headers.facts(UnsafeRawBufferPointer(rebasing: line[start..<firstDot]), dots: dots)
            // Only tokens need their fingerprint.
            fingerprint = facts.isToken ? fingerprinter(tokenBytes) : SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0)
            cache.insert(tokenBytes, hash: key, entry: TokenCache.Entry(fingerprint: fingerprint, facts: facts))
            decodedCandidates += 1
            isNew = true
        }
        guard facts.isToken else { return .rejected(end: runEnd) }
        var truncation: Truncation?
        // A signature of exactly the length its algorithm produces was not cut, whatever surrounds it: a line
        // bound, a marker or a round size right at its end is a coincidence (and the same bytes seen elsewhere
        // must get the same verdict: analyses are cached by fingerprint).
        let whole = dots == 2 && Self.isCompleteSignature(alg: facts.alg, characters: end - segmentStart)
        if whole {
            truncation = nil
        } else if cutAtEnd && end == count {
            truncation = .lineLimit
        } else if Self.followedByMarker(line, at: end) {
            truncation = .marker
        } else if Self.isRoundLimit(length) || (end == count && Self.isRoundLimit(count))
            || Self.isRoundLimit(end - Self.fieldStart(line, before: start))
        {
            truncation = .roundLimit
        } else if badSegment {
            truncation = .segmentLength
        } else if dots == 1 || dots == 3 {
            truncation = .missingSegments
        }
        return .token(
            TokenHit(
                start: start, length: length, fingerprint: fingerprint, kind: facts.kind, segments: dots + 1,
                truncation: truncation, alg: facts.alg, isNew: isNew))
    }

    /// Whether a JWS signature segment of this many characters is exactly what `alg` produces (RSA: 1024 to
    /// 4096-bit keys), so a token that merely happens to end at a round size is not taken for a cut one.
    static func isCompleteSignature(alg: String?, characters n: Int) -> Bool {
        switch alg {
        case "HS256": n == 43
        case "HS384": n == 64
        case "HS512": n == 86
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512": n == 171 || n == 342 || n == 512 || n == 683
        case "ES256", "ES256K", "Ed25519": n == 86
        case "ES384": n == 128
        case "ES512": n == 176
        case "EdDSA": n == 86 || n == 152
        case "Ed448": n == 152
        default: false
        }
    }

    /// Start of the field holding the token: just after the closest preceding quote, space, tab or start of line.
    private static func fieldStart(_ line: UnsafeRawBufferPointer, before start: Int) -> Int {
        var i = start
        while i > 0 {
            let c = line[i - 1]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "'") {
                return i
            }
            i -= 1
        }
        return 0
    }

    private static func followedByMarker(_ line: UnsafeRawBufferPointer, at end: Int) -> Bool {
        var c = ByteCursor(line, index: end)
        if c.matches("...") || c.matches("\u{2026}") { return true }
        _ = c.eat(UInt8(ascii: " "))
        return c.matches("[truncated") || c.matches("[TRUNCATED") || c.matches("(truncated") || c.matches("<truncated")
    }

    /// Decodes the header of a new candidate. A JSON object makes it a token. So does a header that only starts
    /// like one (`{"` after optional whitespace: duplicate names, a NUL or invalid UTF-8, nesting past the limit,
    /// a header over ``maximumHeaderLength``) when the candidate has its dots: such a token is reported as
    /// malformed, never dropped — `{"alg":"HS256","alg":"none"}` is an attack shape.
    static func decide(_ header: UnsafeRawBufferPointer, dots: Int) -> Facts {
        let notToken = Facts(isToken: false, kind: .jws, alg: nil)
        let broken = Facts(isToken: dots >= 2 && startsLikeObject(header), kind: .jws, alg: nil)
        guard header.count <= maximumHeaderLength, let decoded = Base64URL.decode(header) else { return broken }
        guard let object = try? JSONParser.parseObject(decoded) else { return decoded.isEmpty ? notToken : broken }
        let alg = object["alg"]?.stringValue
        let kind: TokenKind
        if dots >= 3, object["enc"] != nil {
            kind = .jwe
        } else if let alg, alg.lowercased() == "none" {
            kind = .unsecured
        } else {
            kind = .jws
        }
        return Facts(isToken: true, kind: kind, alg: alg)
    }

    /// Whether a header segment's first bytes decode to `{"` or `{` and whitespace (`eyJ`, `eyAi`, `ewog`…).
    static func startsLikeObject(_ header: UnsafeRawBufferPointer) -> Bool {
        guard header.count >= 4, let head = Base64URL.decode(UnsafeRawBufferPointer(rebasing: header[0..<4])) else {
            return false
        }
        var i = 0
        guard head[0] == UInt8(ascii: "{") else { return false }
        i = 1
        while i < head.count, head[i] == 0x20 || head[i] == 0x0A || head[i] == 0x0D || head[i] == 0x09 { i += 1 }
        return i == head.count || head[i] == UInt8(ascii: "\"")
    }
}
