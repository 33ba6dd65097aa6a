import SiftCore

/// The host, pod or service that wrote a line, where the line names it:
/// - syslog: RFC 5424's HOSTNAME (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME …`); RFC 3164's (`[<PRI>]Mmm dd hh:mm:ss
///   HOSTNAME TAG: …`) and rsyslog's high-precision file format (`2023-11-14T22:13:05.123+00:00 HOSTNAME TAG: …`),
///   both only when a tag (`name:` or `name[pid]:`) follows, so that a yearless or ISO time followed by words is
///   not taken for a host;
/// - a JSON object line: `kubernetes.pod_name` (the nested `kubernetes` object Fluent Bit's and Fluentd's Kubernetes
///   filters add), then `hostname` (pino, bunyan), `host.name`/`host.hostname` (ECS, nested or dotted), a
///   top-level string `host` (GELF, Logstash), then `service.name` (ECS; Kong's log plugins' `service` object) or a
///   top-level string `service`. Only members of the top-level object count (and of its `kubernetes`, `host` and
///   `service` objects): a `host` inside a `request` object (Caddy) or `properties` (Azure) is the requested
///   host, not the writer.
/// The result is a range of the line, at most ``maxLength`` bytes; nothing is allocated.
public enum HostParser {
    /// A host name is cut to this many bytes (a DNS name has at most 253).
    public static let maxLength = 253

    public static func host(_ line: UnsafeRawBufferPointer) -> Range<Int>? {
        var i = 0
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        guard i < line.count else { return nil }
        let found: Range<Int>?
        let first = line[i]
        if first == UInt8(ascii: "{") {
            found = json(line, from: i)
        } else if first == UInt8(ascii: "<")
            // Cheap look at the shape before reading: `Mmm ` or `YYYY-` (most access-log lines start with an address).
            || (i + 4 < line.count
                && ((ByteClass.isDigit(first) && line[i + 4] == UInt8(ascii: "-"))
                    || ((first | 0x20) &- 0x61 < 26 && line[i + 3] == 0x20)))
        {
            found = syslog(line, from: i)
        } else {
            return nil
        }
        guard let r = found, !r.isEmpty else { return nil }
        return r.lowerBound..<min(r.upperBound, r.lowerBound + maxLength)
    }

    // MARK: - Syslog

    static func syslog(_ line: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        var c = ByteCursor(line, index: start)
        if c.eat(UInt8(ascii: "<")) {
            guard c.digits(upTo: 3) != nil, c.eat(UInt8(ascii: ">")) else { return nil }
            // RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP …
            var v = c
            if v.digits(upTo: 2) != nil, v.eat(0x20) {
                guard skipField(&v), v.eat(0x20) else { return nil }
                let h = field(line, at: v.index)
                guard h.count > 0, !(h.count == 1 && line[h.lowerBound] == UInt8(ascii: "-")),
                    h.upperBound < line.count, line[h.upperBound] == 0x20, printable(line, h)
                else { return nil }
                return h
            }
        }
        // RFC 3164 `Mmm dd hh:mm:ss ` or an RFC 3339 time, then HOSTNAME, then a tag ending in ':'.
        guard rfc3164Stamp(&c) || rfc3339Word(&c) else { return nil }
        guard c.eat(0x20) else { return nil }
        let h = field(line, at: c.index)
        guard h.count > 0, h.upperBound < line.count, line[h.upperBound] == 0x20, printable(line, h),
            line[h.upperBound - 1] != UInt8(ascii: ":"), !isLevelWord(line, h)
        else { return nil }
        let tag = field(line, at: h.upperBound + 1)
        guard tag.count >= 2, line[tag.upperBound - 1] == UInt8(ascii: ":") else { return nil }
        return h
    }

    /// `Mmm dd hh:mm:ss` (the day may be space-padded).
    static func rfc3164Stamp(_ c: inout ByteCursor) -> Bool {
        var t = c
        for _ in 0..<3 {
            guard let b = t.pop(), (b | 0x20) &- 0x61 < 26 else { return false }
        }
        guard t.eat(0x20) else { return false }
        _ = t.eat(0x20)
        guard t.digits(upTo: 2) != nil, t.eat(0x20), t.digits(2) != nil, t.eat(UInt8(ascii: ":")), t.digits(2) != nil,
            t.eat(UInt8(ascii: ":")), t.digits(2) != nil
        else { return false }
        c = t
        return true
    }

    /// A word starting `YYYY-MM-DDThh:mm:ss` (fraction and zone included), up to the next space.
    static func rfc3339Word(_ c: inout ByteCursor) -> Bool {
        var t = c
        guard t.digits(4) != nil, t.eat(UInt8(ascii: "-")), t.digits(2) != nil, t.eat(UInt8(ascii: "-")),
            t.digits(2) != nil, t.eat(UInt8(ascii: "T")), t.digits(2) != nil, t.eat(UInt8(ascii: ":"))
        else { return false }
        while let b = t.peek(), b != 0x20 { t.index += 1 }
        c = t
        return true
    }

    /// Skips a field up to the next space.
    static func skipField(_ c: inout ByteCursor) -> Bool {
        let from = c.index
        while let b = c.peek(), b != 0x20 { c.index += 1 }
        return c.index > from
    }

    /// The run of non-space bytes at `at`.
    static func field(_ line: UnsafeRawBufferPointer, at: Int) -> Range<Int> {
        var e = at
        while e < line.count, line[e] != 0x20 { e += 1 }
        return at..<e
    }

    /// Log levels an application writes after its time (`2023-11-14T22:13:20Z ERROR auth: jwt expired`): the same
    /// shape as a syslog HOSTNAME and tag, but no host. Compared without case.
    static let levelWords: [[UInt8]] = [
        "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "CRIT", "CRITICAL", "ALERT", "EMERG",
        "FATAL", "SEVERE", "FINE", "FINER", "FINEST", "CONFIG", "PANIC", "DPANIC", "VERBOSE",
    ].map { Array($0.utf8) }

    static func isLevelWord(_ line: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        guard r.count <= 8 else { return false }
        return levelWords.contains { w in
            w.count == r.count && zip(w, r).allSatisfy { b, k in line[k] & 0xDF == b }
        }
    }

    /// Visible ASCII or UTF-8 (no control bytes, no quotes or brackets a host name never has).
    static func printable(_ line: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        for k in r {
            let b = line[k]
            if b < 0x21 || b == 0x7F || b == UInt8(ascii: "\"") || b == UInt8(ascii: "[") || b == UInt8(ascii: "]")
                || b == UInt8(ascii: "{")
            {
                return false
            }
        }
        return true
    }

    // MARK: - JSON

    /// Names compared by the JSON reader, and the rank of each place a host may be named (lower wins).
    enum Place: Int {
        case pod = 0
        case hostname
        case host
        case service
    }

    static let kubernetes = Array("kubernetes".utf8)
    static let podName = Array("pod_name".utf8)
    static let hostname = Array("hostname".utf8)
    static let hostKey = Array("host".utf8)
    static let name = Array("name".utf8)
    static let service = Array("service".utf8)
    static let hostDotName = Array("host.name".utf8)
    static let hostDotHostname = Array("host.hostname".utf8)
    static let serviceDotName = Array("service.name".utf8)
    static let podDotted = Array("kubernetes.pod_name".utf8)

    /// One pass over a JSON object line: depth, the top-level member an inner object belongs to, and the best
    /// place found so far.
    static func json(_ line: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        let n = line.count
        var depth = 0
        /// The top-level member whose object is open (depth 2), as a range of the line.
        var parent: Range<Int>?
        var lastKey: Range<Int>?
        var best: (place: Place, range: Range<Int>)?
        var i = start
        while i < n {
            let b = line[i]
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 2 { parent = b == UInt8(ascii: "{") ? lastKey : nil }
                lastKey = nil
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 2 { parent = nil }
                depth -= 1
                if depth <= 0 { return best?.range }
                i += 1
            case UInt8(ascii: "\""):
                guard let (s, escaped) = ByteSearch.quoted(line, from: i) else { return best?.range }
                i = s.upperBound + 1
                var c = ByteCursor(line, index: i)
                while c.peek() == 0x20 { c.index += 1 }
                if c.eat(UInt8(ascii: ":")) {
                    lastKey = escaped ? nil : s
                    i = c.index
                    continue
                }
                // A string value: of the member just named?
                defer { lastKey = nil }
                guard let key = lastKey, !escaped, !s.isEmpty, !(s.count == 1 && line[s.lowerBound] == 0x2D),
                    let place = place(line, key: key, depth: depth, parent: parent)
                else { continue }
                if best.map({ place.rawValue < $0.place.rawValue }) ?? true {
                    best = (place, s)
                    if place == .pod { return s }
                }
            default:
                i += 1
            }
        }
        return best?.range
    }

    static func place(_ line: UnsafeRawBufferPointer, key: Range<Int>, depth: Int, parent: Range<Int>?) -> Place? {
        func equal(_ r: Range<Int>, _ word: [UInt8]) -> Bool {
            guard r.count == word.count else { return false }
            var k = 0
            while k < word.count, line[r.lowerBound + k] == word[k] { k += 1 }
            return k == word.count
        }
        if depth == 1 {
            if equal(key, podDotted) { return .pod }
            if equal(key, hostname) || equal(key, hostDotName) || equal(key, hostDotHostname) { return .hostname }
            if equal(key, hostKey) { return .host }
            if equal(key, service) || equal(key, serviceDotName) { return .service }
            return nil
        }
        guard depth == 2, let parent else { return nil }
        if equal(parent, kubernetes) { return equal(key, podName) ? .pod : nil }
        if equal(parent, hostKey) { return equal(key, name) || equal(key, hostname) ? .hostname : nil }
        if equal(parent, service) { return equal(key, name) ? .service : nil }
        return nil
    }
}
