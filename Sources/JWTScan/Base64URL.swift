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
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8]? {
        decodeWithQuality(input)?.bytes
    }

    /// Decodes and reports whether the encoding was canonical.
    public static func decodeWithQuality(_ input: some Collection<UInt8>) -> (bytes: [UInt8], quality: Quality)? {
        let table = decodeTable
        let count = input.count
        if count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            let v = table[Int(c)]
            if v == 0xFF { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        return (out, acc == 0 ? .canonical : .nonCanonicalBits)
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
