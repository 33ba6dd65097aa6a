import JOSECrypto
import JWTScan
import SiftCore

/// Builds output bytes without String interpolation: literals, integers, hex digests and JSON strings are
/// appended straight into one reusable buffer. The buffer is raw memory owned by a class, so an append is a
/// bounds check and a copy — no copy-on-write uniqueness check per field. Copies of a writer share that buffer
/// (like a file handle): give each owner its own.
struct ByteWriter {
    private final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0
        /// The last whole second written by `iso8601` and its `YYYY-MM-DDTHH:MM:SS` text: log lines come in
        /// time order, so most stamps repeat the previous one.
        var isoSecond = Int64.min
        let isoText = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        var isoLength = 0

        init(capacity: Int) {
            self.capacity = max(capacity, 64)
            base = .allocate(capacity: self.capacity)
        }

        deinit {
            base.deallocate()
            isoText.deallocate()
        }

        func grow(toFit extra: Int) {
            var newCapacity = capacity * 2
            while newCapacity < count + extra { newCapacity *= 2 }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            bigger.update(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity = newCapacity
        }
    }

    private let storage: Storage

    init(capacity: Int = 1 << 16) { storage = Storage(capacity: capacity) }

    /// Bytes written so far.
    var count: Int { storage.count }

    /// A copy of the bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage.base, count: storage.count)) }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.base, count: storage.count))
    }

    mutating func removeAll() { storage.count = 0 }

    /// Room for `n` more bytes, returned as the address to write them at; the caller then calls `advance(n)`.
    @inline(__always)
    private func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if storage.count + n > storage.capacity { storage.grow(toFit: n) }
        return storage.base + storage.count
    }

    @inline(__always)
    private func advance(_ n: Int) { storage.count += n }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1).pointee = byte
        advance(1)
    }

    @inline(__always)
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let src = raw.baseAddress, raw.count > 0 else { return }
        UnsafeMutableRawPointer(reserve(raw.count)).copyMemory(from: src, byteCount: raw.count)
        advance(raw.count)
    }

    @inline(__always)
    mutating func raw(_ s: StaticString) {
        append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Dynamic text. Disfavoured so that literals take the StaticString overload (no String is made for them).
    @_disfavoredOverload
    mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func raw(_ b: [UInt8]) { b.withUnsafeBytes { append($0) } }

    mutating func int(_ v: UInt64) {
        var digits = 1
        var x = v
        while x >= 10 {
            x /= 10
            digits += 1
        }
        let out = reserve(digits)
        x = v
        var k = digits
        repeat {
            k -= 1
            out[k] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
            x /= 10
        } while k > 0
        advance(digits)
    }

    mutating func int(_ v: Int) {
        if v < 0 {
            append(UInt8(ascii: "-"))
            int(UInt64(bitPattern: Int64(v)).magnitudeOfNegative)
        } else {
            int(UInt64(v))
        }
    }

    mutating func optionalInt(_ v: Int?) {
        if let v { int(v) } else { raw("null") }
    }

    static let hexDigits: StaticString = "0123456789abcdef"

    mutating func hex(_ d: SHA256Digest) {
        let out = reserve(64)
        let digits = Self.hexDigits.utf8Start
        for k in 0..<4 {
            let w = k == 0 ? d.w0 : k == 1 ? d.w1 : k == 2 ? d.w2 : d.w3
            for j in 0..<16 { out[k &* 16 &+ j] = digits[Int((w &>> UInt64(60 &- 4 &* j)) & 0xF)] }
        }
        advance(64)
    }

    /// A JSON string (quoted and escaped), with any token-shaped run in it redacted
    /// (``UntrustedText/redactTokens(_:)``): the one place NDJSON and `inspect --format json` write a string.
    mutating func string(_ s: String) {
        var s = s
        let done = s.withUTF8 { utf8 -> Bool in
            for (i, c) in utf8.enumerated()
            where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "<")
                || c == UInt8(ascii: ">") || c == UInt8(ascii: "&") || c >= 0x80
                // "eyJ": perhaps a token (a "JWT" in a message stays on the fast path).
                || (c == UInt8(ascii: "J") && i >= 2 && utf8[i - 1] == UInt8(ascii: "y")
                    && utf8[i - 2] == UInt8(ascii: "e"))
            {
                return false
            }
            append(UInt8(ascii: "\""))
            append(UnsafeRawBufferPointer(utf8))
            append(UInt8(ascii: "\""))
            return true
        }
        if !done { raw(JSONValue.quote(UntrustedText.redactTokens(s))) }
    }

    /// Text inside a JSON string already opened: as it is when it is plain printable ASCII with nothing JSON or
    /// ``string(_:)`` would escape, else escaped as ``string(_:)`` escapes it (its quotes left out).
    mutating func plainText(_ s: String) {
        var s = s
        let plain = s.withUTF8 { utf8 -> Bool in
            for c in utf8
            where c < 0x20 || c >= 0x7F || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "<")
                || c == UInt8(ascii: ">") || c == UInt8(ascii: "&") || c == UInt8(ascii: "J")
            {
                return false
            }
            append(UnsafeRawBufferPointer(utf8))
            return true
        }
        if !plain {
            let quoted = JSONValue.quote(UntrustedText.redactTokens(s))
            raw(String(quoted.utf8.dropFirst().dropLast())!)
        }
    }

    /// RFC 3339 UTC with milliseconds when present, as ``CivilTime/iso8601(_:)`` but without a String.
    mutating func iso8601(_ t: Double) {
        guard t.isFinite, abs(t) < 253_402_300_800 else {
            raw("invalid")
            return
        }
        let whole = t.rounded(.down)
        let secs = Int64(whole)
        let days = Int(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400)
        let rem = Int(secs - Int64(days) * 86400)
        if secs == storage.isoSecond {
            append(UnsafeRawBufferPointer(start: storage.isoText, count: storage.isoLength))
        } else {
            let (y, m, d) = CivilTime.civilFromDays(days)
            let start = storage.count
            int(y)
            append(UInt8(ascii: "-"))
            twoDigits(m)
            append(UInt8(ascii: "-"))
            twoDigits(d)
            append(UInt8(ascii: "T"))
            twoDigits(rem / 3600)
            append(UInt8(ascii: ":"))
            twoDigits(rem / 60 % 60)
            append(UInt8(ascii: ":"))
            twoDigits(rem % 60)
            let length = storage.count - start
            if length <= 32 {
                storage.isoText.update(from: storage.base + start, count: length)
                storage.isoLength = length
                storage.isoSecond = secs
            }
        }
        let ms = Int(((t - whole) * 1000).rounded())
        if ms > 0 && ms < 1000 {
            append(UInt8(ascii: "."))
            append(UInt8(ms / 100) + 0x30)
            twoDigits(ms % 100)
        }
        append(UInt8(ascii: "Z"))
    }

    private mutating func twoDigits(_ v: Int) {
        append(UInt8(v / 10) + 0x30)
        append(UInt8(v % 10) + 0x30)
    }

    /// A duration in words (``DurationText/words(_:tenths:)``, whose text needs no escaping), without a String.
    mutating func duration(_ seconds: Double) {
        DurationText.write(seconds) { piece in
            switch piece {
            case .text(let t): raw(t)
            case .number(let n): int(n)
            case .decimal(let d): raw("\(d)")
            }
        }
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
        guard ms.isFinite, abs(ms) < 1e17 else {
            // A claim's time is a finite JSON number: past the millisecond range it is written as Swift spells a
            // Double ("1e+16"), which is valid JSON, rather than as null beside an `ok` verdict.
            raw(t.isFinite ? "\(t)" : "null")
            return
        }
        let v = Int64(ms)
        // -0.5 must keep its sign even though its whole part is 0.
        if v < 0 && v > -1000 { raw("-") }
        int(Int(v / 1000))
        let frac = Int(abs(v % 1000))
        if frac != 0 {
            append(UInt8(ascii: "."))
            append(UInt8(frac / 100) + 0x30)
            if frac % 100 != 0 { append(UInt8(frac / 10 % 10) + 0x30) }
            if frac % 10 != 0 { append(UInt8(frac % 10) + 0x30) }
        }
    }
}

extension UInt64 {
    /// |v| for the bit pattern of a negative Int64 v (defined for Int64.min too).
    fileprivate var magnitudeOfNegative: UInt64 { 0 &- self }
}
