import JOSECrypto
import JWTScan
import LogInput

/// Prints one JSON object per finding (`scan --no-verify --format ndjson`). Never the token itself: tokens are
/// named by their SHA-256 fingerprint, and error messages are redacted.
public struct NDJSONConsumer: ScanConsumer {
    public let sink: OutputSink
    public let includeMessages: Bool

    public init(sink: OutputSink, includeMessages: Bool = true) {
        self.sink = sink
        self.includeMessages = includeMessages
    }

    public mutating func begin(source: InputSource, facts: FileFacts?) {}

    public mutating func consume(_ findings: ScanFindings, source: InputSource) {
        let name = JSONValue.quote(source.name)
        // Tokens and errors come back in line order within each list; merge them by line.
        var t = 0
        var e = 0
        while t < findings.tokens.count || e < findings.errors.count {
            if e >= findings.errors.count
                || (t < findings.tokens.count && findings.tokens[t].line <= findings.errors[e].line)
            {
                sink.write(Self.tokenRecord(findings.tokens[t], source: name))
                t += 1
            } else {
                sink.write(Self.errorRecord(findings.errors[e], source: name, includeMessage: includeMessages))
                e += 1
            }
        }
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        sink.flush()
    }

    static func time(_ t: Double?) -> String {
        guard let t else { return "\"log_time\":null" }
        return "\"log_time\":\(JSONValue.format((t * 1000).rounded() / 1000)),\"log_time_iso\":\"\(CivilTime.iso8601(t))\""
    }

    static func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }

    public static func tokenRecord(_ s: TokenSighting, source: String) -> String {
        var r = "{\"type\":\"token\",\"source\":\(source),\"line\":\(s.line),\"offset\":\(s.offset),"
        r += time(s.logTime) + ",\"status\":\(opt(s.status)),"
        r += "\"fingerprint\":\"\(s.fingerprint.hex)\",\"token_kind\":\"\(s.kind.rawValue)\","
        r += "\"alg\":\(s.alg.map(JSONValue.quote) ?? "null"),\"length\":\(s.length),\"segments\":\(s.segments),"
        r += "\"truncated\":\(s.truncation != nil),\"truncation\":\(s.truncation.map { "\"\($0.rawValue)\"" } ?? "null"),"
        r += "\"line_error\":\(s.lineError.map { "\"\($0.rawValue)\"" } ?? "null")}\n"
        return r
    }

    public static func errorRecord(_ s: ErrorSighting, source: String, includeMessage: Bool) -> String {
        let rule = PhraseTable.rules[s.rule]
        var r = "{\"type\":\"error\",\"source\":\(source),\"line\":\(s.line),\"offset\":\(s.offset),"
        r += time(s.logTime) + ",\"status\":\(opt(s.status)),"
        r += "\"cause\":\"\(s.cause.rawValue)\",\"alternative_cause\":\(s.alternative.map { "\"\($0.rawValue)\"" } ?? "null"),"
        r += "\"rule\":\(JSONValue.quote(rule.row)),\"emitter\":\(JSONValue.quote(rule.emitter)),"
        r += "\"details\":\(s.details.json),\"fingerprint\":\(s.token.map { "\"\($0.hex)\"" } ?? "null")"
        if includeMessage { r += ",\"message\":\(JSONValue.quote(s.message))" }
        return r + "}\n"
    }
}
