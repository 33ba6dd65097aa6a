import SiftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token seen on a log line: what the token scanner found (``TokenHit``: fingerprint, kind, segments, alg,
/// truncation, length, whether it is new) and where and when the line says it was seen. The hit's fields read
/// through the sighting (`sighting.fingerprint`); they are stored once, in `hit`.
public struct TokenSighting: Sendable, Equatable {
    public var hit: TokenHit
    public var line: UInt64
    /// Offset of the token's first byte in the (decompressed) stream (`hit.start` is within the line).
    public var offset: UInt64
    /// The line's own time (Unix seconds), when it has one.
    public var logTime: Double?
    public var status: Int?
    /// The host, pod or service that wrote the line (``HostParser``), as found (at most 253 bytes; escape it
    /// for output).
    public var host: String?
    /// The cause of a verification error message on the same line.
    public var lineError: Cause?

    @inlinable public var length: Int { hit.length }
    @inlinable public var fingerprint: SHA256Digest { hit.fingerprint }
    @inlinable public var kind: TokenKind { hit.kind }
    @inlinable public var segments: Int { hit.segments }
    @inlinable public var truncation: Truncation? { hit.truncation }
    @inlinable public var alg: String? { hit.alg }
    /// See ``TokenHit/isNew``: false means an earlier sighting had exactly these bytes.
    @inlinable public var isNew: Bool { hit.isNew }
}

/// A verification error message seen on a log line.
public struct ErrorSighting: Sendable, Equatable {
    public var line: UInt64
    /// Offset of the line's first byte in the stream.
    public var offset: UInt64
    public var logTime: Double?
    public var status: Int?
    /// See ``TokenSighting/host``.
    public var host: String?
    public var cause: Cause
    public var alternative: Cause?
    /// The rule that matched: `file:line` of its row in docs/phrases, a row of the phrase reference, a class
    /// name rule, or `generic` (``PhraseTable/genericRow``).
    public var rule: String
    /// The library or gateway that writes the message; nil for the general classifier.
    public var emitter: String?
    public var details: ErrorDetails
    /// The line with tokens replaced by `<jwt:fingerprint-prefix>` and long base64 runs (signatures, secrets)
    /// by `<redacted>`, control bytes by `?`, capped at ``LineScanner/messageLimit`` bytes.
    public var message: String
    /// The first token on the same line, if any.
    public var token: SHA256Digest?
}

/// What the scanner found in one chunk of lines. Reused between chunks so the hot path does not allocate.
public struct ScanFindings: Sendable {
    public var tokens: [TokenSighting] = []
    public var errors: [ErrorSighting] = []

    public init() {}

    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        errors.removeAll(keepingCapacity: true)
    }

    /// Adds `lines` to every finding's line number: for a chunk scanned before the number of its first line was
    /// known (numbered from 0), once it is.
    public mutating func shiftLines(by lines: UInt64) {
        guard lines != 0 else { return }
        for i in tokens.indices { tokens[i].line &+= lines }
        for i in errors.indices { errors[i].line &+= lines }
    }
}

/// Splits chunks into lines and runs the token scanner, the phrase matcher and — only on lines that carry a
/// token or an error — the timestamp and status parsers.
public struct LineScanner {
    /// Redacted messages are cut at this many bytes.
    public static let messageLimit = 512
    /// Base64url runs at least this long that are not tokens are redacted from messages.
    static let redactRunLength = 32

    public var tokens: TokenScanner
    public let matcher: PhraseMatcher
    public var timeParser: TimestampParser
    private var hits: [TokenHit] = []
    private var skip: [Range<Int>] = []
    /// Time and status of a line cut into pieces, carried from its first piece to the next ones.
    private var carried: (time: Double?, status: Int?)?
    /// The host of that line, kept apart so that the per-line path only touches plain values (a tuple holding a
    /// string would be retained and released on every line).
    private var carriedHost: String?
    /// Host names already made into strings, so a line from a known host allocates nothing.
    private var hosts = HostNames()
    /// A full-dated line time was read since ``start(_:)``.
    private var referenceSetSinceStart = false
    /// A yearless (syslog) stamp took its year from the reference ``start(_:)`` set, no full-dated line having
    /// come before it since: the chunk's findings depend on the lines before the chunk.
    public private(set) var usedIncomingReference = false

    /// What a chunk's findings take from the lines before it: the reference time yearless stamps take their
    /// year from, and the time and status of a line cut at the previous chunk's end. A scan that splits a stream
    /// among threads scans each chunk from an assumed carry and scans it again when the real one differs in a
    /// way ``usedIncomingReference`` or a continued line shows mattered.
    public struct Carry: Sendable, Equatable {
        public var reference: Double?
        public var lineTime: Double?
        public var lineStatus: Int?
        public var lineHost: String?
        public var cutLine: Bool

        public init(
            reference: Double? = nil, lineTime: Double? = nil, lineStatus: Int? = nil, lineHost: String? = nil,
            cutLine: Bool = false
        ) {
            self.reference = reference
            self.lineTime = lineTime
            self.lineStatus = lineStatus
            self.lineHost = lineHost
            self.cutLine = cutLine
        }
    }

    /// The carry the next chunk takes from everything scanned so far.
    public var carry: Carry {
        Carry(
            reference: timeParser.reference, lineTime: carried?.time, lineStatus: carried?.status,
            lineHost: carried == nil ? nil : carriedHost, cutLine: carried != nil)
    }

    /// Starts a chunk from `carry` (see ``Carry``).
    public mutating func start(_ carry: Carry) {
        timeParser.reference = carry.reference
        carried = carry.cutLine ? (carry.lineTime, carry.lineStatus) : nil
        carriedHost = carry.cutLine ? carry.lineHost : nil
        referenceSetSinceStart = false
        usedIncomingReference = false
    }

    /// Whether a full-dated line time was read since ``start(_:)`` (else the reference is the incoming one).
    public var setReference: Bool { referenceSetSinceStart }

    /// The standard matcher (built once per process, see ``PhraseMatcher/standard(timeParser:)``).
    /// - Parameter fingerprint: the token hash (see ``TokenScanner/Fingerprinter``).
    public init(timeParser: TimestampParser = TimestampParser(), fingerprint: @escaping TokenScanner.Fingerprinter) {
        self.init(
            timeParser: timeParser, matcher: PhraseMatcher.standard(timeParser: timeParser), fingerprint: fingerprint)
    }

    /// A scanner sharing an already built matcher (it is immutable): one per thread of a parallel scan.
    public init(timeParser: TimestampParser, matcher: PhraseMatcher, fingerprint: @escaping TokenScanner.Fingerprinter)
    {
        self.tokens = TokenScanner(fingerprint: fingerprint)
        self.timeParser = timeParser
        self.matcher = matcher
    }

    /// Scans a chunk of lines.
    /// - Parameters:
    ///   - bytes: lines ending in `\n`; the last may be unterminated (end of stream, or `cutAtEnd`).
    ///   - streamOffset: offset of `bytes[0]` in the stream.
    ///   - firstLine: number of the first line.
    ///   - continuesLine: the first line continues a line cut at the end of the previous chunk.
    ///   - cutAtEnd: the last line goes on in the next chunk.
    /// - Returns: the number of `\n` bytes in the chunk (a reader that does not count them learns it here).
    @discardableResult
    public mutating func scan(
        _ bytes: UnsafeRawBufferPointer, streamOffset: UInt64, firstLine: UInt64, continuesLine: Bool, cutAtEnd: Bool,
        into findings: inout ScanFindings
    ) -> UInt64 {
        guard let base = bytes.baseAddress else { return 0 }
        var lineStart = 0
        var lineNumber = firstLine
        let count = bytes.count
        var first = true
        var newlines: UInt64 = 0
        while lineStart < count {
            var lineEnd: Int
            var isCut = false
            if let nl = memchr(base + lineStart, 0x0A, count - lineStart) {
                lineEnd = base.distance(to: UnsafeRawPointer(nl))
                newlines &+= 1
            } else {
                lineEnd = count
                isCut = cutAtEnd
            }
            let next = lineEnd + 1
            if lineEnd > lineStart && bytes[lineEnd - 1] == 0x0D && !isCut { lineEnd -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            scanLine(
                line, offset: streamOffset + UInt64(lineStart), number: lineNumber,
                continues: first && continuesLine, cut: isCut, into: &findings)
            first = false
            lineStart = next
            lineNumber += 1
        }
        return newlines
    }

    mutating func scanLine(
        _ line: UnsafeRawBufferPointer, offset: UInt64, number: UInt64, continues: Bool, cut: Bool,
        into findings: inout ScanFindings
    ) {
        // (`removeAll(keepingCapacity:)` is not free on an empty array: most lines have no token.)
        if !hits.isEmpty { hits.removeAll(keepingCapacity: true) }
        tokens.scan(line: line, cutAtEnd: cut, into: &hits)
        if !skip.isEmpty { skip.removeAll(keepingCapacity: true) }
        for h in hits { skip.append(h.start..<(h.start + h.length)) }
        let match = matcher.match(line, skipping: skip)
        let carriedHere = continues ? carried : nil
        if !continues { carried = nil }
        guard !hits.isEmpty || match != nil || (cut && !continues) else {
            if !cut { carried = nil }
            return
        }
        var time: Double?
        var status: Int?
        var host: String?
        if let carriedHere {
            time = carriedHere.time
            status = carriedHere.status
            host = carriedHost
        } else {
            if let (t, hasYear) = timeParser.lineTimeAndYear(line) {
                time = t
                // Later yearless (syslog) stamps in this source take their year from this one.
                if hasYear {
                    timeParser.reference = t
                    referenceSetSinceStart = true
                } else if !referenceSetSinceStart {
                    usedIncomingReference = true
                }
            }
            status = StatusParser.status(line)
            if let r = HostParser.host(line) { host = hosts.name(UnsafeRawBufferPointer(rebasing: line[r])) }
        }
        if cut {
            carried = (time, status)
            carriedHost = host
        } else {
            carried = nil
        }
        for h in hits {
            findings.tokens.append(
                TokenSighting(
                    hit: h, line: number, offset: offset + UInt64(h.start), logTime: time, status: status,
                    host: host, lineError: match?.cause))
        }
        if let match {
            findings.errors.append(
                ErrorSighting(
                    line: number, offset: offset, logTime: time, status: status, host: host, cause: match.cause,
                    alternative: match.alternative, rule: matcher.rules[match.ruleIndex].row,
                    emitter: matcher.rules[match.ruleIndex].emitterName, details: match.details,
                    message: Self.redact(line, tokens: hits), token: hits.first?.fingerprint))
        }
    }

    /// Whether a long base64url run has the character mix of key material or a token (random bytes encoded):
    /// at least two digits, or letter case that flips at a third of its places. Words a logger writes —
    /// `Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt`, `BearerTokenAuthenticationFilter`, logger names —
    /// have neither, so they are kept.
    static func looksLikeKeyMaterial(_ line: UnsafeRawBufferPointer, _ run: Range<Int>) -> Bool {
        var digits = 0
        var flips = 0
        var lastUpper: Bool?
        for k in run {
            let c = line[k]
            if c >= 0x30 && c <= 0x39 {
                digits += 1
                continue
            }
            let isUpper = c >= 0x41 && c <= 0x5A
            let isLower = c >= 0x61 && c <= 0x7A
            guard isUpper || isLower else {
                lastUpper = nil
                continue
            }
            if let l = lastUpper, l != isUpper { flips += 1 }
            lastUpper = isUpper
        }
        return digits >= 2 || flips * 3 >= run.count
    }

    /// The line as a safe message: tokens → `<jwt:prefix>`, long base64 runs → `<redacted>`, control bytes → `?`,
    /// at most ``messageLimit`` bytes, valid UTF-8.
    public static func redact(_ line: UnsafeRawBufferPointer, tokens: [TokenHit]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(line.count, messageLimit) + 32)
        var i = 0
        var t = 0
        let cls = ByteClass.token
        while i < line.count && out.count < messageLimit {
            if t < tokens.count, i == tokens[t].start {
                out += Array("<jwt:\(tokens[t].fingerprint.prefix(12))>".utf8)
                i += tokens[t].length
                t += 1
                continue
            }
            let c = line[i]
            if cls[Int(c)] == 1 {
                var j = i
                while j < line.count, cls[Int(line[j])] != 0, t >= tokens.count || j < tokens[t].start { j += 1 }
                if j - i >= redactRunLength && Self.looksLikeKeyMaterial(line, i..<j) {
                    out += Array("<redacted>".utf8)
                } else {
                    for k in i..<j { out.append(line[k]) }
                }
                i = j
                continue
            }
            out.append(c < 0x20 && c != 0x09 || c == 0x7F ? UInt8(ascii: "?") : c)
            i += 1
        }
        if out.count > messageLimit {
            out.removeLast(out.count - messageLimit)
        }
        // Repair invalid UTF-8 (which may grow it), then cut whole characters back to the limit.
        var message = String(decoding: out, as: UTF8.self)
        while message.utf8.count > messageLimit { message.removeLast() }
        return message
    }
}

/// Host names as strings, made once per distinct name: looked up by a hash of the bytes (no allocation), the bytes
/// compared on a hit. Bounded: starts over when full.
struct HostNames {
    static let limit = 4096
    private var index: [UInt64: Int] = [:]
    private var names: [(bytes: [UInt8], name: String)] = []

    mutating func name(_ bytes: UnsafeRawBufferPointer) -> String {
        // FNV-1a, 64-bit.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        if let i = index[h], names[i].bytes.elementsEqual(bytes) { return names[i].name }
        // A token-shaped run never leaves the scanner in a host name (it is log-derived like a message).
        let name = UntrustedText.redactTokens(String(decoding: bytes, as: UTF8.self))
        if names.count >= Self.limit {
            names.removeAll(keepingCapacity: true)
            index.removeAll(keepingCapacity: true)
        }
        index[h] = names.count
        names.append((Array(bytes), name))
        return name
    }
}
