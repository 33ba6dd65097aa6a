import SiftCore

/// HTTP status, where the line makes it unambiguous.
///
/// Formats, in the order they are tried (the first that reads a status wins):
/// - the quoted request line followed by the status: NCSA common/combined (Apache, nginx and their variants),
///   Traefik's CLF, Envoy's default text format (`"%REQ(:METHOD)% … %PROTOCOL%" %RESPONSE_CODE% …`);
/// - a JSON member, by name in ``jsonKeys`` order: the status the client was sent before the backend's
///   (Traefik `DownstreamStatus` before `OriginStatus`), Google Cloud Load Balancing's `httpRequest.status`,
///   Azure Front Door's `httpStatusCode`, Application Gateway's `httpStatus`, Caddy's `status`;
/// - space-separated fields: HAProxy's five timers then the status; AWS ALB/classic ELB's three processing
///   times then `elb_status_code` and `target_status_code` (the first: what the client got);
/// - W3C extended logs in their fixed default field orders (a file's `#Fields:` header is not followed): CloudFront
///   standard logs (tab-separated, `sc-status` the 9th field after `date` and `time`) and IIS (space-separated,
///   `sc-status sc-substatus sc-win32-status time-taken` the last four fields);
/// - logfmt `status=`.
/// Nothing here allocates: every format is read in place with a cursor that never traps.
public enum StatusParser {
    /// JSON member names that hold the HTTP status, in order of preference.
    static let jsonKeys: [[UInt8]] = [
        "status", "response_code", "statusCode", "status_code", "DownstreamStatus", "httpStatusCode", "httpStatus",
        "OriginStatus",
    ].map { Array($0.utf8) }
    /// The longest name in ``jsonKeys`` (a quoted string longer than this is not compared).
    static let longestKey = jsonKeys.map(\.count).max() ?? 0

    /// The HTTP status (100–599) the line carries, or nil.
    public static func status(_ line: UnsafeRawBufferPointer) -> Int? {
        if let s = combined(line) { return s }
        if let s = json(line) { return s }
        if let s = spaced(line) { return s }
        if let s = w3c(line) { return s }
        if let at = TimestampParser.find(logfmtStatus, in: line, from: 0) {
            var c = ByteCursor(line, index: at + logfmtStatus.count)
            if let v = c.digits(3), (100...599).contains(v), !(c.peek().map(ByteClass.isDigit) ?? false) { return v }
        }
        return nil
    }

    /// A JSON member named in ``jsonKeys`` whose value is a 3-digit status (a number, or a string of one), in one
    /// pass over the line's quoted strings; the most preferred name wins.
    static func json(_ line: UnsafeRawBufferPointer) -> Int? {
        let quote = UInt8(ascii: "\"")
        let n = line.count
        var best: (rank: Int, value: Int)?
        var i = 0
        while i < n {
            guard line[i] == quote else {
                i += 1
                continue
            }
            guard let (contents, escaped) = ByteSearch.quoted(line, from: i) else { return best?.value }
            let j = contents.upperBound
            let length = contents.count
            defer { i = j + 1 }
            guard !escaped, length > 0, length <= longestKey else { continue }
            var c = ByteCursor(line, index: j + 1)
            while c.peek() == 0x20 { c.index += 1 }
            guard c.eat(UInt8(ascii: ":")) else { continue }
            guard let rank = rank(line, from: i + 1, count: length), rank < (best?.rank ?? Int.max) else { continue }
            while c.peek() == 0x20 { c.index += 1 }
            let quoted = c.eat(quote)
            guard let v = c.digits(3), (100...599).contains(v), !(c.peek().map(ByteClass.isDigit) ?? false) else {
                continue
            }
            if quoted && c.peek() != quote { continue }
            best = (rank, v)
            if rank == 0 { return v }
        }
        return best?.value
    }

    /// The position in ``jsonKeys`` of the name `line[from..<from + count]`.
    @inline(__always)
    static func rank(_ line: UnsafeRawBufferPointer, from: Int, count: Int) -> Int? {
        for (r, key) in jsonKeys.enumerated() where key.count == count {
            var k = 0
            while k < count, line[from + k] == key[k] { k += 1 }
            if k == count { return r }
        }
        return nil
    }

    /// Space-separated formats where fields before the status fix its place: HAProxy's HTTP log (the five
    /// timers `Tq/Tw/Tc/Tr/Ta`, then the status) and the AWS load balancers' access logs (three processing times,
    /// each `-1` or with a decimal point, then `elb_status_code` and `target_status_code` (or `-`)).
    static func spaced(_ line: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i < line.count {
            guard line[i] == UInt8(ascii: " ") else {
                i += 1
                continue
            }
            if let v = haproxyTimers(line, after: i) ?? awsTimes(line, after: i) { return v }
            i += 1
        }
        return nil
    }

    /// HAProxy's `Tq/Tw/Tc/Tr/Ta status ` starting after the space at `space`.
    static func haproxyTimers(_ line: UnsafeRawBufferPointer, after space: Int) -> Int? {
        var c = ByteCursor(line, index: space + 1)
        var fields = 0
        while fields < 5 {
            _ = c.eat(UInt8(ascii: "-")) || c.eat(UInt8(ascii: "+"))
            guard c.digits(upTo: 10) != nil else { return nil }
            fields += 1
            if fields < 5 && !c.eat(UInt8(ascii: "/")) { return nil }
        }
        guard c.eat(UInt8(ascii: " ")), let v = c.digits(3), (100...599).contains(v), c.peek() == UInt8(ascii: " ")
        else { return nil }
        return v
    }

    /// The AWS ALB/ELB fields `request_processing_time target_processing_time response_processing_time
    /// elb_status_code target_status_code ` starting after the space at `space`.
    static func awsTimes(_ line: UnsafeRawBufferPointer, after space: Int) -> Int? {
        var c = ByteCursor(line, index: space + 1)
        for _ in 0..<3 {
            guard processingTime(&c), c.eat(UInt8(ascii: " ")) else { return nil }
        }
        guard let v = c.digits(3), (100...599).contains(v), c.eat(UInt8(ascii: " ")) else { return nil }
        // target_status_code: three digits or `-` (no answer from a target), then a space.
        if !c.eat(UInt8(ascii: "-")) {
            guard c.digits(3) != nil else { return nil }
        }
        return c.peek() == UInt8(ascii: " ") ? v : nil
    }

    /// `-1`, or digits with a decimal point and digits (`0.000`, `0.000073`).
    @inline(__always)
    static func processingTime(_ c: inout ByteCursor) -> Bool {
        if c.eat(UInt8(ascii: "-")) { return c.eat(UInt8(ascii: "1")) }
        guard c.digits(upTo: 10) != nil, c.eat(UInt8(ascii: ".")), c.digits(upTo: 9) != nil else { return false }
        return true
    }

    /// W3C extended logs in their default field orders: CloudFront (the line starts `YYYY-MM-DD<TAB>`, the 9th
    /// tab-separated field is `sc-status`) and IIS (the line starts `YYYY-MM-DD hh:mm:ss `, and ends with
    /// `sc-status sc-substatus sc-win32-status time-taken`, four numbers).
    static func w3c(_ line: UnsafeRawBufferPointer) -> Int? {
        var c = ByteCursor(line)
        guard c.digits(4) != nil, c.eat(UInt8(ascii: "-")), c.digits(2) != nil, c.eat(UInt8(ascii: "-")),
            c.digits(2) != nil
        else { return nil }
        if c.peek() == 0x09 {
            // CloudFront: skip to the 9th field.
            var field = 1
            var i = c.index
            while i < line.count && field < 9 {
                if line[i] == 0x09 { field += 1 }
                i += 1
            }
            guard field == 9 else { return nil }
            var s = ByteCursor(line, index: i)
            guard let v = s.digits(3), (100...599).contains(v), s.peek() == 0x09 || s.isAtEnd else { return nil }
            return v
        }
        // IIS: `hh:mm:ss s-ip cs-method ` (an address, then an upper-case method), and the last four
        // space-separated fields are numbers, the first of them the status.
        guard c.eat(0x20), c.digits(2) != nil, c.eat(UInt8(ascii: ":")), c.digits(2) != nil, c.eat(UInt8(ascii: ":")),
            c.digits(2) != nil, c.eat(0x20)
        else { return nil }
        let address = c.index
        while let b = c.peek(), ByteClass.isHex(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") { c.index += 1 }
        guard c.index > address, c.eat(0x20) else { return nil }
        let method = c.index
        while let b = c.peek(), b &- 0x41 < 26 { c.index += 1 }
        guard c.index > method, c.eat(0x20) else { return nil }
        var end = line.count
        var first = 0
        for _ in 0..<4 {
            var j = end
            while j > 0, ByteClass.isDigit(line[j - 1]) { j -= 1 }
            guard j < end, j > 0, line[j - 1] == 0x20 else { return nil }
            first = j
            end = j - 1
        }
        var s = ByteCursor(line, index: first)
        guard let v = s.digits(3), (100...599).contains(v), s.peek() == 0x20 else { return nil }
        return v
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
