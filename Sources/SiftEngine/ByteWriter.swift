import JOSECrypto
import JWTScan

/// Builds output bytes without String interpolation: literals, integers, hex digests and JSON strings are
/// appended straight into one reusable buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    @inline(__always)
    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Dynamic text. Disfavoured so that literals take the StaticString overload (no String is made for them).
    @_disfavoredOverload
    mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    mutating func int(_ v: UInt64) {
        if v < 10 {
            bytes.append(UInt8(truncatingIfNeeded: v) &+ 0x30)
            return
        }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var x = v
        withUnsafeMutableBytes(of: &tmp) { buf in
            while x > 0 {
                buf[23 - n] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
                x /= 10
                n += 1
            }
            bytes.append(contentsOf: buf[(24 - n)...])
        }
    }

    mutating func int(_ v: Int) {
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            int(UInt64(-v))
        } else {
            int(UInt64(v))
        }
    }

    mutating func optionalInt(_ v: Int?) {
        if let v { int(v) } else { raw("null") }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func hex(_ d: SHA256Digest) {
        // 64 digits into a stack buffer, appended at once: no array per call.
        var out: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &out) { buf in
            Self.hexDigits.withUnsafeBufferPointer { digits in
                for k in 0..<4 {
                    let w = k == 0 ? d.w0 : k == 1 ? d.w1 : k == 2 ? d.w2 : d.w3
                    for j in 0..<16 { buf[k * 16 + j] = digits[Int((w >> UInt64(60 - 4 * j)) & 0xF)] }
                }
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(buf))
        }
    }

    /// A JSON string (quoted and escaped).
    mutating func string(_ s: String) {
        var s = s
        let done = s.withUTF8 { utf8 -> Bool in
            for c in utf8 where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "<")
                || c == UInt8(ascii: ">") || c == UInt8(ascii: "&") || c >= 0x80
            {
                return false
            }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if !done { raw(JSONValue.quote(s)) }
    }

    /// RFC 3339 UTC with milliseconds when present, as ``CivilTime/iso8601(_:)`` but without a String.
    mutating func iso8601(_ t: Double) {
        guard t.isFinite, abs(t) < 253_402_300_800 else { raw("invalid"); return }
        let whole = t.rounded(.down)
        let secs = Int64(whole)
        let days = Int(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400)
        let rem = Int(secs - Int64(days) * 86400)
        let (y, m, d) = CivilTime.civilFromDays(days)
        func two(_ v: Int) {
            bytes.append(UInt8(v / 10) + 0x30)
            bytes.append(UInt8(v % 10) + 0x30)
        }
        int(y)
        bytes.append(UInt8(ascii: "-"))
        two(m)
        bytes.append(UInt8(ascii: "-"))
        two(d)
        bytes.append(UInt8(ascii: "T"))
        two(rem / 3600)
        bytes.append(UInt8(ascii: ":"))
        two(rem / 60 % 60)
        bytes.append(UInt8(ascii: ":"))
        two(rem % 60)
        let ms = Int(((t - whole) * 1000).rounded())
        if ms > 0 && ms < 1000 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ms / 100) + 0x30)
            two(ms % 100)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    /// A JSON string, or `null`.
    mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    /// A JSON array of strings.
    mutating func strings(_ list: some Sequence<String>) {
        raw("[")
        var first = true
        for s in list {
            if !first { raw(",") }
            first = false
            string(s)
        }
        raw("]")
    }

    /// A number of seconds, or `null`.
    mutating func optionalSeconds(_ t: Double?) {
        if let t { seconds(t) } else { raw("null") }
    }

    /// Seconds with up to 3 decimals.
    mutating func seconds(_ t: Double) {
        let ms = (t * 1000).rounded()
        guard ms.isFinite, abs(ms) < 1e17 else { raw("null"); return }
        let v = Int64(ms)
        // -0.5 must keep its sign even though its whole part is 0.
        if v < 0 && v > -1000 { raw("-") }
        int(Int(v / 1000))
        let frac = Int(abs(v % 1000))
        if frac != 0 {
            bytes.append(UInt8(ascii: "."))
            var digits = [UInt8(frac / 100), UInt8(frac / 10 % 10), UInt8(frac % 10)]
            while digits.last == 0 { digits.removeLast() }
            for d in digits { bytes.append(d + 0x30) }
        }
    }
}
