import SiftCore

/// `JSONParser.parse` on the bytes. What it accepts must serialize (`jsonText`) to text that parses back to the
/// same value (when every number is finite: JSON has no text for an infinity), and every string must survive
/// `JSONValue.quote` and a re-parse. A refusal must point inside the document, and its reason (which messages
/// and reports quote) must hold no control character.
enum JSONTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            FuzzCheck.expect(error.offset >= 0 && error.offset <= bytes.count, .json, "error offset outside the input")
            FuzzCheck.expect(!error.reason.isEmpty, .json, "error without a reason")
            // Reasons end up in messages and reports (a token header's error becomes its verdict's reason).
            FuzzCheck.expect(
                !error.description.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
                .json, "an error reason holds a control character")
            return
        }
        // Only objects pass `parseObject`, and they give the same members.
        if case .object(let o) = value {
            FuzzCheck.expect((try? JSONParser.parseObject(bytes)) == o, .json, "parseObject differs from parse")
        } else {
            FuzzCheck.expect((try? JSONParser.parseObject(bytes)) == nil, .json, "parseObject accepted a non-object")
        }
        let text = value.jsonText
        if allFinite(value) {
            guard let again = try? JSONParser.parse(Array(text.utf8)) else {
                FuzzCheck.fail(.json, "jsonText of an accepted document does not parse")
            }
            FuzzCheck.expect(again == value, .json, "jsonText does not parse back to the same value")
            FuzzCheck.expect(again.jsonText == text, .json, "jsonText is not stable under a second round")
        }
        var strings: [String] = []
        collectStrings(value, into: &strings)
        for s in strings.prefix(64) {
            let quoted = JSONValue.quote(s)
            FuzzCheck.expect(
                (try? JSONParser.parse(Array(quoted.utf8))) == .string(s), .json,
                "quote(s) does not parse back to s")
            FuzzCheck.expect(
                !quoted.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, .json,
                "quote(s) holds a raw control character")
        }
    }

    static func allFinite(_ v: JSONValue) -> Bool {
        switch v {
        case .number(let n): n.isFinite
        case .array(let a): a.allSatisfy(allFinite)
        case .object(let o): o.members.allSatisfy { allFinite($0.value) }
        default: true
        }
    }

    static func collectStrings(_ v: JSONValue, into out: inout [String]) {
        switch v {
        case .string(let s): out.append(s)
        case .array(let a): for x in a { collectStrings(x, into: &out) }
        case .object(let o):
            for m in o.members {
                out.append(m.name)
                collectStrings(m.value, into: &out)
            }
        default: break
        }
    }
}
