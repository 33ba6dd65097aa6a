import SiftCore

/// HTTP status, where the line makes it unambiguous.
public enum StatusParser {
    static let jsonKeys: [[UInt8]] = ["status", "response_code", "statusCode", "status_code"].map {
        Array("\"\($0)\"".utf8)
    }

    /// The HTTP status: the number after the quoted request line of the combined log format, a JSON field
    /// `status`/`response_code`/`statusCode`/`status_code`, or logfmt `status=`.
    public static func status(_ line: UnsafeRawBufferPointer) -> Int? {
        if let s = combined(line) { return s }
        for key in jsonKeys {
            guard let at = TimestampParser.find(key, in: line, from: 0) else { continue }
            var c = ByteCursor(line, index: at + key.count)
            while c.peek() == 0x20 { c.index += 1 }
            guard c.eat(UInt8(ascii: ":")) else { continue }
            while c.peek() == 0x20 { c.index += 1 }
            let quoted = c.eat(UInt8(ascii: "\""))
            if let v = c.digits(3), (100...599).contains(v), !(c.peek().map(ByteClass.isDigit) ?? false) {
                if quoted && c.peek() != UInt8(ascii: "\"") { continue }
                return v
            }
        }
        if let s = haproxy(line) { return s }
        if let at = TimestampParser.find(logfmtStatus, in: line, from: 0) {
            var c = ByteCursor(line, index: at + 8)
            if let v = c.digits(3), (100...599).contains(v), !(c.peek().map(ByteClass.isDigit) ?? false) { return v }
        }
        return nil
    }

    /// HAProxy's HTTP log: the five timers `Tq/Tw/Tc/Tr/Ta` are followed by the status.
    static func haproxy(_ line: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i < line.count {
            guard line[i] == UInt8(ascii: " ") else {
                i += 1
                continue
            }
            var c = ByteCursor(line, index: i + 1)
            var fields = 0
            while fields < 5 {
                _ = c.eat(UInt8(ascii: "-")) || c.eat(UInt8(ascii: "+"))
                guard c.digits(upTo: 10) != nil else { break }
                fields += 1
                if fields < 5 && !c.eat(UInt8(ascii: "/")) { break }
            }
            if fields == 5, c.eat(UInt8(ascii: " ")), let v = c.digits(3), (100...599).contains(v),
                c.peek() == UInt8(ascii: " ")
            {
                return v
            }
            i += 1
        }
        return nil
    }

    /// `"GET /x HTTP/1.1" 401 123`: the request line is a quoted string containing ` HTTP/`.
    static let httpVersion = Array(" HTTP/".utf8)
    static let logfmtStatus = Array(" status=".utf8)

    static func combined(_ line: UnsafeRawBufferPointer) -> Int? {
        let needle = httpVersion
        var from = 0
        while let at = TimestampParser.find(needle, in: line, from: from) {
            from = at + 1
            var i = at + needle.count
            while i < line.count, line[i] != UInt8(ascii: "\"") {
                if line[i] == UInt8(ascii: " ") { break }
                i += 1
            }
            guard i < line.count, line[i] == UInt8(ascii: "\"") else { continue }
            var c = ByteCursor(line, index: i + 1)
            guard c.eat(UInt8(ascii: " ")), let v = c.digits(3), (100...599).contains(v) else { continue }
            if let next = c.peek(), next != UInt8(ascii: " ") { continue }
            return v
        }
        return nil
    }
}
