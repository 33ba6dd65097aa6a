/// A SHA-256 digest held as four big-endian words: hashable and comparable without allocating.
///
/// It is the identity of a token everywhere in jwtsift (its *fingerprint*): the database, the reports and
/// joins across files use its lowercase hex form, never the token itself.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    @inlinable
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Builds a digest from exactly 32 bytes; returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(b) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// The 32 digest bytes, big-endian.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift)))
            }
        }
        return out
    }

    /// Lowercase hexadecimal, 64 characters.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        var i = 0
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out[i] = digits[Int((w >> UInt64(shift)) & 0xF)]
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first `count` hex characters: what reports print to name a token.
    public func prefix(_ count: Int = 12) -> String { String(hex.prefix(count)) }

    public var description: String { hex }

    /// The digest is already uniformly distributed: one word is enough for hash tables.
    @inlinable
    public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

    @inlinable
    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.w0 == b.w0 && a.w1 == b.w1 && a.w2 == b.w2 && a.w3 == b.w3
    }

    public static func < (a: SHA256Digest, b: SHA256Digest) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// Parses 64 hex characters.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = Self.nibble(utf8[i]), let lo = Self.nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.init(bytes: bytes)
    }

    /// The first word (``w0``) of a digest given in hex, read from its first 16 characters; characters that are
    /// not hex digits read as 0. For hashing and counting, where the whole digest is not needed.
    public static func firstWord(ofHex hex: String) -> UInt64 {
        var w: UInt64 = 0
        for c in hex.utf8.prefix(16) { w = w << 4 | UInt64(nibble(c) ?? 0) }
        return w
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
