import SiftCore

/// Byte classes and small helpers shared by the scanner's hot loops.
@usableFromInline
enum ByteClass {
    /// 1 for base64url alphabet bytes, 2 for '.', 0 otherwise.
    static let token: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] = 1 }
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] = 1 }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = 1 }
        t[Int(UInt8(ascii: "-"))] = 1
        t[Int(UInt8(ascii: "_"))] = 1
        t[Int(UInt8(ascii: "."))] = 2
        return t
    }()

    /// ASCII lowercase mapping, identity elsewhere.
    static let lower: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        for i in 0..<256 {
            let c = UInt8(i)
            t[i] = (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
        }
        return t
    }()

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    @inline(__always)
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- 0x61 < 6 }

    @inline(__always)
    static func isLowerLetter(_ c: UInt8) -> Bool { c &- 0x61 < 26 }

    @inline(__always)
    static func isUpperLetter(_ c: UInt8) -> Bool { c &- 0x41 < 26 }
}

/// Searches written as fixed-count loops over plain byte compares with no early exit inside a block, which LLVM
/// turns into SSE compares on x86 and NEON on arm64; lanes are looked at one by one only in a block that holds a
/// match.
enum ByteSearch {
    static let block = 32

    /// The first `i` in `from..<to` with `p[i] == a && p[i + 1] == b`; `p[to]` must be readable.
    @inline(__always)
    static func firstPair(_ p: UnsafePointer<UInt8>, from: Int, to: Int, _ a: UInt8, _ b: UInt8) -> Int? {
        var i = from
        while i + block <= to {
            var found: UInt8 = 0
            for k in 0..<block { found |= (p[i &+ k] == a ? 1 : 0) & (p[i &+ k &+ 1] == b ? 1 : 0) }
            if found != 0 { break }
            i += block
        }
        while i < to {
            if p[i] == a && p[i + 1] == b { return i }
            i += 1
        }
        return nil
    }

    /// The JSON-style quoted string whose opening quote is at `at`: the range of its contents (up to the closing
    /// quote, a backslash skipping the byte after it) and whether it holds an escape; nil when the line ends first.
    static func quoted(_ line: UnsafeRawBufferPointer, from at: Int) -> (contents: Range<Int>, escaped: Bool)? {
        var j = at + 1
        var escaped = false
        while j < line.count, line[j] != UInt8(ascii: "\"") {
            if line[j] == UInt8(ascii: "\\") {
                escaped = true
                j += 1
            }
            j += 1
        }
        guard j < line.count else { return nil }
        return ((at + 1)..<j, escaped)
    }
}

/// A read-only cursor over untrusted bytes that never traps: every read outside the bytes yields nil.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    public var index: Int

    public init(_ bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    @inline(__always)
    public func peek(_ ahead: Int = 0) -> UInt8? {
        let i = index + ahead
        return i >= 0 && i < bytes.count ? bytes[i] : nil
    }

    @inline(__always)
    public mutating func pop() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    public var isAtEnd: Bool { index >= bytes.count }

    /// Consumes `expected` if the next byte equals it.
    @inline(__always)
    public mutating func eat(_ expected: UInt8) -> Bool {
        if peek() == expected {
            index += 1
            return true
        }
        return false
    }

    /// Reads exactly `count` ASCII digits as a number.
    public mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var v = 0
        for i in 0..<count {
            let c = bytes[index + i]
            guard ByteClass.isDigit(c) else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        index += count
        return v
    }

    /// Reads 1...max digits.
    public mutating func digits(upTo max: Int) -> (value: Int, count: Int)? {
        var v = 0
        var n = 0
        while n < max, let c = peek(), ByteClass.isDigit(c) {
            v = v * 10 + Int(c - 0x30)
            n += 1
            index += 1
        }
        return n == 0 ? nil : (v, n)
    }

    /// Whether the bytes at the cursor equal `literal` (ASCII, case-sensitive).
    public func matches(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index >= 0, index + n <= bytes.count else { return false }
        return literal.withUTF8Buffer { w in
            for i in 0..<n where bytes[index + i] != w[i] { return false }
            return true
        }
    }
}
