/// base64url (RFC 4648 §5) without padding, as JOSE uses it (RFC 7515 §2).
public enum Base64URL {
    /// 0...63 for alphabet bytes, 0xFF for everything else.
    @usableFromInline
    static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Whether `b` is in the base64url alphabet.
    @inlinable
    public static func isAlphabet(_ b: UInt8) -> Bool { decodeTable[Int(b)] != 0xFF }

    static let encodeTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// How a decode went: strict JOSE wants `.canonical`.
    public enum Quality: Sendable, Equatable {
        /// Every byte is in the alphabet, the length is valid and the unused trailing bits are zero.
        case canonical
        /// Decodable, but trailing bits are set (another encoder's output or a mangled token).
        case nonCanonicalBits
    }

    /// Decodes `input` into a new array; nil when it holds a byte outside the alphabet or has a length ≡ 1 (mod 4).
    @inlinable
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8]? {
        decodeWithQuality(input)?.bytes
    }

    /// Decodes and reports whether the encoding was canonical. Contiguous inputs (arrays, slices, buffers) are
    /// decoded in place, without a copy.
    @inlinable
    public static func decodeWithQuality(_ input: some Collection<UInt8>) -> (bytes: [UInt8], quality: Quality)? {
        if let r = input.withContiguousStorageIfAvailable({ decodeWithQuality(UnsafeRawBufferPointer($0)) }) {
            return r
        }
        return Array(input).withUnsafeBytes { decodeWithQuality($0) }
    }

    /// Splits a compact JOSE serialization: the offsets of its dots (at most `maxDots + 1` are recorded), or the
    /// offset of the first byte that is neither a dot nor base64url.
    public static func compactDots(_ token: UnsafeRawBufferPointer, maxDots: Int = 4) -> (dots: [Int], badByte: Int?) {
        var dots: [Int] = []
        let bad = walkDots(token, maxDots: maxDots) { dots.append($0) }
        return (dots, bad)
    }

    /// What ``compactDots(_:maxDots:)`` finds, without an array: how many dots were recorded (at most
    /// `maxDots + 1`), the offsets of the first two (-1 when absent), and the first foreign byte.
    public static func compactShape(_ token: UnsafeRawBufferPointer, maxDots: Int = 4) -> (
        count: Int, first: Int, second: Int, badByte: Int?
    ) {
        var count = 0
        var first = -1
        var second = -1
        let bad = walkDots(token, maxDots: maxDots) { i in
            if count == 0 { first = i } else if count == 1 { second = i }
            count += 1
        }
        return (count, first, second, bad)
    }

    /// Calls `dot` with each dot's offset until more than `maxDots` were met; answers the offset of the first byte
    /// that is neither a dot nor base64url, if one comes first.
    @inline(__always)
    private static func walkDots(_ token: UnsafeRawBufferPointer, maxDots: Int, _ dot: (Int) -> Void) -> Int? {
        decodeTable.withUnsafeBufferPointer { table in
            var dots = 0
            for i in 0..<token.count {
                let b = token[i]
                if b == UInt8(ascii: ".") {
                    dot(i)
                    dots += 1
                    if dots > maxDots { break }
                } else if table[Int(b)] == 0xFF {
                    return i
                }
            }
            return nil
        }
    }

    /// Decodes raw bytes: the one implementation behind every overload.
    public static func decodeWithQuality(_ input: UnsafeRawBufferPointer) -> (bytes: [UInt8], quality: Quality)? {
        guard let outCount = decodedCount(input.count) else { return nil }
        var quality: Quality? = nil
        let out = [UInt8](unsafeUninitializedCapacity: outCount) { buffer, initialized in
            quality = decode(input, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = quality == nil ? 0 : outCount
        }
        guard let quality else { return nil }
        return (out, quality)
    }

    /// Decodes into `out`, replacing what it held and reusing its storage (a thread decoding one token after
    /// another allocates nothing). Nil, and `out` unspecified, when ``decodeWithQuality(_:)`` would give nil.
    public static func decodeWithQuality(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Quality? {
        guard let outCount = decodedCount(input.count) else { return nil }
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: outCount))
        return out.withUnsafeMutableBytes { decode(input, into: $0) }
    }

    /// The decoded length of `count` base64url characters; nil for a length ≡ 1 (mod 4), which no encoder makes.
    static func decodedCount(_ count: Int) -> Int? {
        let tail = count % 4
        if tail == 1 { return nil }
        return count / 4 * 3 + (tail == 0 ? 0 : tail - 1)
    }

    /// Four characters at a time into `buffer` (exactly ``decodedCount(_:)`` bytes): an invalid one shows as the
    /// high bit of the table's 0xFF.
    private static func decode(_ input: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer) -> Quality?
    {
        let count = input.count
        let tail = count % 4
        let quads = count / 4
        return decodeTable.withUnsafeBufferPointer { table -> Quality? in
            var i = 0
            var o = 0
            for _ in 0..<quads {
                let a = table[Int(input[i])]
                let b = table[Int(input[i + 1])]
                let c = table[Int(input[i + 2])]
                let d = table[Int(input[i + 3])]
                if (a | b | c | d) & 0x80 != 0 { return nil }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                buffer[o] = UInt8(truncatingIfNeeded: v >> 16)
                buffer[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                buffer[o + 2] = UInt8(truncatingIfNeeded: v)
                i += 4
                o += 3
            }
            var canonical = true
            if tail >= 2 {
                let a = table[Int(input[i])]
                let b = table[Int(input[i + 1])]
                let c = tail == 3 ? table[Int(input[i + 2])] : 0
                if (a | b | c) & 0x80 != 0 { return nil }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                buffer[o] = UInt8(truncatingIfNeeded: v >> 16)
                o += 1
                if tail == 3 {
                    buffer[o] = UInt8(truncatingIfNeeded: v >> 8)
                    o += 1
                    canonical = v & 0xFF == 0  // the last character's 2 unused bits
                } else {
                    canonical = v & 0xFFFF == 0  // the second character's 4 unused bits
                }
            }
            return canonical ? .canonical : .nonCanonicalBits
        }
    }

    /// Decodes a string.
    public static func decode(_ string: String) -> [UInt8]? { decode(Array(string.utf8)) }

    /// Encodes without padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let table = encodeTable
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var acc: UInt32 = 0
        var bits = 0
        for b in bytes {
            acc = acc << 8 | UInt32(b)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(table[Int((acc >> UInt32(bits)) & 0x3F)])
            }
            acc &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(table[Int((acc << UInt32(6 - bits)) & 0x3F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64 (RFC 4648 §4, with or without padding), as `x5c` uses it.
    public static func decodeStandard(_ string: String) -> [UInt8]? {
        var mapped: [UInt8] = []
        mapped.reserveCapacity(string.utf8.count)
        for c in string.utf8 {
            switch c {
            case UInt8(ascii: "+"): mapped.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): mapped.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: " "): continue
            default: mapped.append(c)
            }
        }
        return decode(mapped)
    }
}
