import Dispatch
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

    /// Renders the records on a thread of its own (see ``RenderAhead``); nil: on the caller's.
    private let ahead: RenderAhead?

    /// `renderAhead`: write the records of judged chunks on a thread of their own, in order, while the scan
    /// judges the next ones (for verifying scans with more than one core; the workers' prerendering is then
    /// off, as the two would not keep one order).
    public init(sink: OutputSink, includeMessages: Bool = true, renderAhead: Bool = false) {
        self.sink = sink
        self.includeMessages = includeMessages
        self.ahead = renderAhead ? RenderAhead(sink: sink, includeMessages: includeMessages) : nil
    }

    public mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
        .read(from: 0, line: 1, reason: "new")
    }

    private var writer = ByteWriter()
    private let pieces = VerdictPieces()
    private var quotedSource: (name: String, bytes: [UInt8])?

    /// With nothing judged, the scan's workers write each chunk's records themselves (in parallel), and the
    /// records come out in chunk order exactly as ``consume(_:judged:source:end:)`` writes them.
    public var prerender: ChunkPrerender? {
        ahead == nil ? ChunkPrerender(sink: sink, includeMessages: includeMessages) : nil
    }

    /// A source's name as the records carry it: redacted, quoted JSON.
    static func quotedName(_ source: InputSource) -> [UInt8] {
        Array(JSONValue.quote(UntrustedText.redactTokens(source.name)).utf8)
    }

    public mutating func consume(
        _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
    ) {
        if findings.tokens.isEmpty && findings.errors.isEmpty { return }
        if quotedSource?.name != source.name {
            quotedSource = (source.name, Self.quotedName(source))
        }
        let name = quotedSource!.bytes
        if let ahead {
            ahead.submit(findings, judged: judged, source: name)
            return
        }
        writer.removeAll()
        let sink = self.sink
        Self.records(
            findings, judged: judged, source: name, includeMessages: includeMessages, pieces: pieces, into: &writer
        ) { w in
            w.withUnsafeBytes { sink.write($0) }
            w.removeAll()
        }
        writer.withUnsafeBytes { sink.write($0) }
    }

    /// Every record of a chunk, tokens and errors merged by line (each list is in line order). `spill` is called
    /// whenever the writer holds 64 KiB or more. `pieces`: the writer's kept verdict fields (needed when `judged`
    /// is not empty).
    static func records(
        _ findings: ScanFindings, judged: [JudgedSighting], source name: [UInt8], includeMessages: Bool,
        pieces: VerdictPieces? = nil, into writer: inout ByteWriter, spill: (inout ByteWriter) -> Void = { _ in }
    ) {
        let pieces = pieces ?? (judged.isEmpty ? nil : VerdictPieces())
        // Sightings and verdicts read in place (an array's element copied out retains and releases its strings).
        findings.tokens.withUnsafeBufferPointer { tokens in
            findings.errors.withUnsafeBufferPointer { errors in
                judged.withUnsafeBufferPointer { judged in
                    var t = 0
                    var e = 0
                    while t < tokens.count || e < errors.count {
                        if e >= errors.count || (t < tokens.count && tokens[t].line <= errors[e].line) {
                            if t < judged.count {
                                // Borrowed in place (a copy of the sighting retained and released its analysis).
                                tokenRecord(
                                    tokens[t], judged: judged.baseAddress! + t, source: name, pieces: pieces,
                                    into: &writer)
                            } else {
                                tokenRecord(tokens[t], judged: nil, source: name, pieces: pieces, into: &writer)
                            }
                            t += 1
                        } else {
                            errorRecord(errors[e], source: name, includeMessage: includeMessages, into: &writer)
                            e += 1
                        }
                        if writer.count >= 1 << 16 { spill(&writer) }
                    }
                }
            }
        }
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        ahead?.drain()
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

    static func tokenRecord(
        _ s: TokenSighting, judged: UnsafePointer<JudgedSighting>?, source: [UInt8], pieces: VerdictPieces?,
        into w: inout ByteWriter
    ) {
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
        if let judged, let pieces { verdictFields(judged, pieces: pieces, into: &w) }
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
    static func verdictFields(_ j: UnsafePointer<JudgedSighting>, pieces: VerdictPieces, into w: inout ByteWriter) {
        // Fields are read one by one through the shared analysis, not a per-record copy of it; those that repeat
        // from record to record are written as the bytes kept for their value.
        let a = j.pointee.shared
        let v = j.pointee.verdict
        if v.causes.first == v.cause {
            // The primary cause is the first of them (as every verdict judged is): the set alone says both.
            pieces.causes.write(v.causes.bits, into: &w) { VerdictJSON.causes(v, into: &$0) }
        } else {
            VerdictJSON.causes(v, into: &w)
        }
        VerdictJSON.signature(a.analysis.signature, into: &w)
        VerdictJSON.key(a.analysis.key, into: &w)
        let kid = a.analysis.kid
        pieces.kids.write(kid, into: &w) { VerdictJSON.kid(kid, short: true, into: &$0) }
        let iss = a.analysis.iss
        pieces.issuers.write(iss, into: &w) { VerdictJSON.iss(iss, short: true, into: &$0) }
        VerdictJSON.seconds("iat", a.analysis.iat, into: &w)
        VerdictJSON.seconds("exp", a.analysis.exp, into: &w)
        VerdictJSON.seconds("skew", v.skew, into: &w)
        let flags = a.analysis.flags
        pieces.flags.write(flags.rawValue, into: &w) { VerdictJSON.flags(flags, into: &$0) }
        w.raw(",\"judged_at\":")
        w.seconds(j.pointee.at)
        w.raw(",\"time_source\":\"")
        w.raw(j.pointee.timeSource.rawValue)
        w.raw("\"")
        VerdictJSON.reason(v, a, at: j.pointee.at, leeway: j.pointee.leeway, into: &w)
    }
}

/// Writes judged chunks' records on a serial queue of its own, in the order they are submitted, while the caller
/// goes on judging: with verification, rendering every sighting's record took ≈ 18% of the judging thread, the
/// one every sighting waits for (perf, 530 k distinct HS256 tokens). At most `depth` chunks wait, so memory stays
/// bounded; ``drain()`` returns once all are written. The sink is written only on the queue while chunks are
/// pending (the consumer drains before anything else writes to it).
final class RenderAhead: @unchecked Sendable {
    private let queue = DispatchQueue(label: "jwtsift.ndjson-render")
    private let slots: DispatchSemaphore
    private let sink: OutputSink
    private let includeMessages: Bool
    /// Touched only on `queue`.
    private var writer = ByteWriter()
    private let pieces = VerdictPieces()

    init(sink: OutputSink, includeMessages: Bool, depth: Int = 4) {
        self.sink = sink
        self.includeMessages = includeMessages
        self.slots = DispatchSemaphore(value: max(1, depth))
    }

    deinit { drain() }

    func submit(_ findings: ScanFindings, judged: [JudgedSighting], source: [UInt8]) {
        slots.wait()
        let work = Pending(findings: findings, judged: judged, source: source)
        queue.async { [self] in
            defer { slots.signal() }
            writer.removeAll()
            let sink = self.sink
            NDJSONConsumer.records(
                work.findings, judged: work.judged, source: work.source, includeMessages: includeMessages,
                pieces: pieces, into: &writer
            ) { w in
                w.withUnsafeBytes { sink.write($0) }
                w.removeAll()
            }
            writer.withUnsafeBytes { sink.write($0) }
        }
    }

    func drain() { queue.sync {} }

    /// A chunk's findings and verdicts as handed over: values (copy-on-write arrays; the analyses they share are
    /// immutable once made).
    private struct Pending: @unchecked Sendable {
        let findings: ScanFindings
        let judged: [JudgedSighting]
        let source: [UInt8]
    }
}

/// Output a consumer lets the scan's workers write for it when nothing is judged (``ScanConsumer/prerender``):
/// each worker renders the records of the chunks it scanned into a buffer of its own, and the scan writes those
/// buffers to ``sink`` in chunk order (a chunk scanned again in order is rendered again).
public final class ChunkPrerender: @unchecked Sendable {
    /// Written by the thread that runs the scan only.
    let sink: OutputSink
    let includeMessages: Bool

    init(sink: OutputSink, includeMessages: Bool) {
        self.sink = sink
        self.includeMessages = includeMessages
    }

    /// One chunk's records, into `out` (emptied first); any thread.
    func render(_ findings: ScanFindings, source: [UInt8], into out: RenderedChunk) {
        out.writer.removeAll()
        NDJSONConsumer.records(
            findings, judged: [], source: source, includeMessages: includeMessages, into: &out.writer)
    }
}

/// A chunk's rendered records, written by the one worker that rendered them and read after the fork-join.
final class RenderedChunk: @unchecked Sendable {
    var writer = ByteWriter(capacity: 1 << 18)
}
