import JWTScan
import JWTVerify
import LogInput
import SiftCore

/// Feeds two consumers (`scan --format ndjson --db FILE`). The first one plans: the second reads what it reads.
public struct TeeConsumer<A: ScanConsumer, B: ScanConsumer>: ScanConsumer {
    public var first: A
    public var second: B

    public init(_ first: A, _ second: B) {
        self.first = first
        self.second = second
    }

    public mutating func begin(source: InputSource, facts: FileFacts?) -> ReadPlan {
        let plan = first.begin(source: source, facts: facts)
        _ = second.begin(source: source, facts: facts)
        return plan
    }

    public mutating func consume(
        _ findings: ScanFindings, judged: [JudgedSighting], source: InputSource, end: ReadProgress
    ) {
        first.consume(findings, judged: judged, source: source, end: end)
        second.consume(findings, judged: judged, source: source, end: end)
    }

    public mutating func scanned(_ bytes: UnsafeRawBufferPointer, source: InputSource) {
        first.scanned(bytes, source: source)
        second.scanned(bytes, source: source)
    }

    public mutating func end(source: InputSource, summary: ReadSummary?, error: InputError?) {
        first.end(source: source, summary: summary, error: error)
        second.end(source: source, summary: summary, error: error)
    }
}
