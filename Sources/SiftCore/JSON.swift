/// A JSON value, parsed from untrusted bytes with explicit limits.
///
/// Objects keep their members in document order; a duplicate member name makes the document invalid
/// (RFC 7515 §4 lets a JOSE parser reject them, and accepting them invites header-confusion attacks).
///
/// Not `indirect`: arrays and objects already hold their elements on the heap, and an indirect enum boxed every
/// value, a string or a number included (an allocation per member of every header and claims set decoded).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The JSON type name, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object: members in document order, unique names.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var name: String
        public var value: JSONValue
    }

    public var members: [Member]

    public init(members: [Member] = []) { self.members = members }

    public subscript(name: String) -> JSONValue? {
        for m in members where m.name == name { return m.value }
        return nil
    }

    public var names: [String] { members.map(\.name) }
}

/// Why a JSON document was refused.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "\(reason) at byte \(offset)" }
}

/// A recursive-descent JSON parser over bytes. It never traps: every read is bounds-checked and nesting is capped.
public struct JSONParser {
    /// Deepest nesting accepted (swift-asn1 caps its node depth the same way).
    public static let maximumDepth = 32
    /// Largest document accepted, in bytes.
    public static let maximumSize = 1 << 20

    private let bytes: [UInt8]
    private var index = 0

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses one JSON document; leading and trailing whitespace is allowed, anything else after it is not.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        guard bytes.count <= maximumSize else {
            throw JSONError(reason: "document larger than \(maximumSize) bytes", offset: 0)
        }
        var p = JSONParser(bytes: bytes)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        guard p.index == bytes.count else { throw JSONError(reason: "trailing data", offset: p.index) }
        return v
    }

    /// Parses a document that must be an object.
    public static func parseObject(_ bytes: [UInt8]) throws(JSONError) -> JSONObject {
        guard case .object(let o) = try parse(bytes) else { throw JSONError(reason: "not an object", offset: 0) }
        return o
    }

    public static func parse(_ string: String) throws(JSONError) -> JSONValue { try parse(Array(string.utf8)) }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
    }

    private func fail(_ reason: String) -> JSONError { JSONError(reason: reason, offset: index) }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
        guard let c = current else { throw fail("unexpected end") }
        switch c {
        case UInt8(ascii: "{"): return .object(try parseObjectBody(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArrayBody(depth: depth))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected byte")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw fail("unexpected end") }
        let ok = word.withUTF8Buffer { w in
            for i in 0..<n where bytes[index + i] != w[i] { return false }
            return true
        }
        guard ok else { throw fail("invalid literal") }
        index += n
    }

    private mutating func parseObjectBody(depth: Int) throws(JSONError) -> JSONObject {
        index += 1
        var members: [JSONObject.Member] = []
        // Duplicate names: a linear look over the few members a JOSE header or claims set has; a set past that.
        var seen: Set<String>? = nil
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return JSONObject(members: members)
        }
        // A JOSE header or claims set has a few members: one allocation for them, not one per doubling.
        members.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected member name") }
            let name = try parseString()
            let duplicate: Bool
            if seen == nil && members.count < 16 {
                duplicate = members.contains { $0.name == name }
            } else {
                if seen == nil { seen = Set(members.map(\.name)) }
                duplicate = !seen!.insert(name).inserted
            }
            guard !duplicate else { throw fail("duplicate member \"\(UntrustedText.masked(name.prefix(40)))\"") }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(.init(name: name, value: value))
            skipWhitespace()
            guard let c = current else { throw fail("unexpected end") }
            index += 1
            if c == UInt8(ascii: "}") { return JSONObject(members: members) }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
        }
    }

    private mutating func parseArrayBody(depth: Int) throws(JSONError) -> [JSONValue] {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard let c = current else { throw fail("unexpected end") }
            index += 1
            if c == UInt8(ascii: "]") { return items }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
        }
    }

    private mutating func parseNumber() throws(JSONError) -> Double {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, first >= 0x30, first <= 0x39 else { throw fail("invalid number") }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let c = current, c >= 0x30, c <= 0x39 { index += 1 }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard let c = current, c >= 0x30, c <= 0x39 else { throw fail("invalid fraction") }
            while let c = current, c >= 0x30, c <= 0x39 { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let c = current, c >= 0x30, c <= 0x39 else { throw fail("invalid exponent") }
            while let c = current, c >= 0x30, c <= 0x39 { index += 1 }
        }
        // Plain integers of up to 15 digits (every NumericDate) are exact in a Double: no String needed.
        let digits = index - start
        if digits <= 15, bytes[start] != UInt8(ascii: "-") {
            var v = 0
            var plain = true
            for i in start..<index {
                let c = bytes[i]
                guard c >= 0x30 && c <= 0x39 else {
                    plain = false
                    break
                }
                v = v &* 10 &+ Int(c &- 0x30)
            }
            if plain { return Double(v) }
        }
        guard index - start <= 64, let d = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw fail("invalid number")
        }
        return d
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end in \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private mutating func parseString() throws(JSONError) -> String {
        index += 1
        // Fast path: no escape before the closing quote. ASCII needs no UTF-8 validation.
        let start = index
        var ascii = true
        var i = index
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                index = i + 1
                let slice = bytes[start..<i]
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else { throw fail("string is not UTF-8") }
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string") }
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                guard let e = current else { throw fail("unterminated escape") }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard current == UInt8(ascii: "\\"), index + 1 < bytes.count,
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw fail("lone surrogate") }
                        index += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw fail("lone surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid scalar") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("invalid escape")
                }
            case 0x00..<0x20:
                throw fail("control character in string")
            default:
                out.append(c)
            }
        }
    }
}

extension JSONValue {
    /// Serializes compactly (keys in stored order); used for output, never for signature input.
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += JSONValue.format(n)
        case .string(let s): out += JSONValue.quote(s)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, m) in o.members.enumerated() {
                if i > 0 { out += "," }
                out += JSONValue.quote(m.name)
                out += ":"
                m.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Formats a number the way JSON wants: integers without a fraction.
    public static func format(_ n: Double) -> String {
        if n.isFinite, n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        if !n.isFinite { return "null" }
        return "\(n)"
    }

    /// Quotes and escapes a string for JSON output.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"  // safe inside HTML <script> blocks
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                // Controls, DEL, C1, bidi and other format characters, U+2028/9: escaped (the value is kept, and
                // no terminal or viewer acts on them).
                if UntrustedText.isHidden(u) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// `\u` and four hex digits.
    static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}

extension JSONParser {
    /// The members a JSON object cut short still holds whole: `{"iss":"a","exp":17` gives `iss` alone (a value
    /// is whole only when a `,` or `}` follows it, so a cut number is not taken for a smaller one). Nil when no
    /// member is whole, or the text does not start an object, or a name repeats.
    public static func leadingMembers(_ bytes: [UInt8]) -> JSONObject? {
        guard bytes.count <= maximumSize else { return nil }
        var p = JSONParser(bytes: bytes)
        p.skipWhitespace()
        guard p.current == UInt8(ascii: "{") else { return nil }
        p.index += 1
        var members: [JSONObject.Member] = []
        while true {
            p.skipWhitespace()
            guard p.current == UInt8(ascii: "\""), let name = try? p.parseString() else { break }
            p.skipWhitespace()
            guard p.current == UInt8(ascii: ":") else { break }
            p.index += 1
            p.skipWhitespace()
            guard let value = try? p.parseValue(depth: 1) else { break }
            p.skipWhitespace()
            guard let c = p.current, c == UInt8(ascii: ",") || c == UInt8(ascii: "}") else { break }
            guard !members.contains(where: { $0.name == name }) else { return nil }
            members.append(.init(name: name, value: value))
            if c == UInt8(ascii: "}") || members.count >= 256 { break }
            p.index += 1
        }
        return members.isEmpty ? nil : JSONObject(members: members)
    }
}
