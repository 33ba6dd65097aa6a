import JOSECrypto
import JWTScan
import JWTVerify
import LogInput
import SiftCore

/// Prints one JSON object per finding (`scan --no-verify --format ndjson`). Never the token itself: tokens are
/// named by their SHA-256 fingerprint, and error messages are redacted.
public struct NDJSONConsumer: ScanConsumer {
    public let sink: OutputSink
    public let includeMessages: Bool

    public init(sink: OutputSink, includeMessages: Bool = true) {
        self.sink = sink
        self.includeMessages = includeMessages
    }

    public mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
        .read(from: 0, line: 1, reason: "new")
    }

    private var writer = ByteWriter()
    private var quotedSource: (name: String, bytes: [UInt8])?

    public mutating func consume(
        _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
    ) {
        if findings.tokens.isEmpty && findings.errors.isEmpty { return }
        if quotedSource?.name != source.name {
            quotedSource = (source.name, Array(JSONValue.quote(UntrustedText.redactTokens(source.name)).utf8))
        }
        let name = quotedSource!.bytes
        writer.removeAll()
        // Tokens and errors come back in line order within each list; merge them by line.
        var t = 0
        var e = 0
        while t < findings.tokens.count || e < findings.errors.count {
            if e >= findings.errors.count
                || (t < findings.tokens.count && findings.tokens[t].line <= findings.errors[e].line)
            {
                Self.tokenRecord(
                    findings.tokens[t], judged: t < judged.count ? judged[t] : nil, source: name, into: &writer)
                t += 1
            } else {
                Self.errorRecord(findings.errors[e], source: name, includeMessage: includeMessages, into: &writer)
                e += 1
            }
            if writer.count >= 1 << 16 {
                writer.withUnsafeBytes { sink.write($0) }
                writer.removeAll()
            }
        }
        writer.withUnsafeBytes { sink.write($0) }
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        sink.flush()
    }

    static func time(_ t: Double?, into w: inout ByteWriter) {
        guard let t else {
            w.raw("\"log_time\":null")
            return
        }
        w.raw("\"log_time\":")
        w.seconds(t)
        w.raw(",\"log_time_iso\":\"")
        w.iso8601(t)
        w.raw("\"")
    }

    /// The fields every record starts with: where it was seen and when.
    static func location(
        source: [UInt8], line: UInt64, offset: UInt64, time t: Double?, status: Int?, host: String?,
        into w: inout ByteWriter
    ) {
        w.raw("\"source\":")
        w.raw(source)
        w.raw(",\"line\":")
        w.int(line)
        w.raw(",\"offset\":")
        w.int(offset)
        w.raw(",")
        time(t, into: &w)
        w.raw(",\"status\":")
        w.optionalInt(status)
        w.raw(",\"host\":")
        w.optionalString(host)
    }

    static func tokenRecord(_ s: TokenSighting, judged: JudgedSighting?, source: [UInt8], into w: inout ByteWriter) {
        w.raw("{\"type\":\"token\",")
        location(
            source: source, line: s.line, offset: s.offset, time: s.logTime, status: s.status, host: s.host,
            into: &w)
        w.raw(",\"fingerprint\":\"")
        w.hex(s.fingerprint)
        w.raw("\",\"token_kind\":\"")
        w.raw(s.kind.rawValue)
        w.raw("\",\"alg\":")
        w.optionalString(s.alg)
        w.raw(",\"length\":")
        w.int(s.length)
        w.raw(",\"segments\":")
        w.int(s.segments)
        w.raw(s.truncation == nil ? ",\"truncated\":false,\"truncation\":" : ",\"truncated\":true,\"truncation\":")
        w.optionalString(s.truncation?.rawValue)
        w.raw(",\"line_error\":")
        w.optionalString(s.lineError?.rawValue)
        if let judged { verdictFields(judged, into: &w) }
        w.raw("}\n")
    }

    static func errorRecord(_ s: ErrorSighting, source: [UInt8], includeMessage: Bool, into w: inout ByteWriter) {
        w.raw("{\"type\":\"error\",")
        location(
            source: source, line: s.line, offset: s.offset, time: s.logTime, status: s.status, host: s.host,
            into: &w)
        w.raw(",\"cause\":\"")
        w.raw(s.cause.rawValue)
        w.raw("\",\"alternative_cause\":")
        w.optionalString(s.alternative?.rawValue)
        w.raw(",\"rule\":")
        w.string(s.rule)
        w.raw(",\"emitter\":")
        w.optionalString(s.emitter)
        w.raw(",\"details\":")
        w.raw(s.details.json)
        w.raw(",\"fingerprint\":")
        if let t = s.token {
            w.raw("\"")
            w.hex(t)
            w.raw("\"")
        } else {
            w.raw("null")
        }
        if includeMessage {
            w.raw(",\"message\":")
            w.string(s.message)
        }
        w.raw("}\n")
    }

    /// The verdict's fields: `cause`, `causes`, `signature`, `key`, header and claim facts, `skew`, `flags`,
    /// the moment of judgement and a reason for anything but ok. Never the token, its signature or `sub`.
    static func verdictFields(_ j: JudgedSighting, into w: inout ByteWriter) {
        // Fields are read through the shared analysis, not a per-record copy of it.
        let a = j.shared
        VerdictJSON.causes(j.verdict, into: &w)
        VerdictJSON.signature(a.analysis, into: &w)
        VerdictJSON.key(a.analysis, into: &w)
        VerdictJSON.kid(a.analysis, short: true, into: &w)
        VerdictJSON.iss(a.analysis, short: true, into: &w)
        VerdictJSON.seconds("iat", a.analysis.iat, into: &w)
        VerdictJSON.seconds("exp", a.analysis.exp, into: &w)
        VerdictJSON.seconds("skew", j.verdict.skew, into: &w)
        VerdictJSON.flags(a.analysis, into: &w)
        w.raw(",\"judged_at\":")
        w.seconds(j.at)
        w.raw(",\"time_source\":\"")
        w.raw(j.timeSource.rawValue)
        w.raw("\"")
        VerdictJSON.reason(j.verdict, a.analysis, at: j.at, leeway: j.leeway, into: &w)
    }
}
