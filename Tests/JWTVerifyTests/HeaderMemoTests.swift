import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// A thread's memo of headers (``HeaderMemo``) reads each distinct header once: an analysis through a memo that
/// already holds the header must be the one made without it, whatever the header says or where it is refused.
@Suite struct HeaderMemoTests {
    /// Headers that stop the analysis at each step of reading a header, and some that pass.
    static let headers = [
        #"{"alg":"HS256","typ":"JWT","kid":"k1"}"#,
        #"{"alg":"HS256","kid":"../../etc/passwd","jku":"https://x.example/j","crit":["exp"]}"#,
        #"{"alg":"HS256","kid":7}"#,
        #"{"typ":"JWT"}"#,
        #"{"alg":5}"#,
        #"{"alg":"HS256","alg":"none"}"#,
        #"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
        #"{"alg":"none"}"#,
        #"{"alg":"XS999"}"#,
        #"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
        #"["alg"]"#,
    ]

    static func tokens() -> [[UInt8]] {
        var out: [[UInt8]] = []
        let payload = b64(#"{"iss":"https://a.example/","sub":"u1","exp":1700000000,"iat":1699990000}"#)
        for h in headers {
            let head = b64(h)
            out.append(Array("\(head).\(payload).c2lnbmF0dXJlLWJ5dGVzLXRoYXQtZG8tbm90LXZlcmlmeQ".utf8))
            out.append(Array("\(head).\(payload)".utf8))
            out.append(Array("\(head).\(payload).c2ln.ZW5j.dGFn".utf8))
        }
        // Not canonical base64url in the header (stray bits), and an empty header.
        out.append(Array("eyJhbGciOiJIUzI1NiJ9x.\(payload).c2ln".utf8))
        out.append(Array(".\(payload).c2ln".utf8))
        return out
    }

    /// What an analysis shows, compared field by field.
    static func summary(_ a: TokenAnalysis) -> String {
        [
            "\(a.kind) \(a.segments) \(a.signature) \(a.causes) \(a.flags)", a.reasons.values.joined(separator: "|"),
            a.hints.joined(separator: "|"), "\(a.alg ?? "-") \(a.typ ?? "-") \(a.kid ?? "-") \(a.enc ?? "-")",
            a.header.map { JSONValue.object($0).jsonText } ?? "-", "\(a.iss ?? "-") \(a.exp ?? 0)",
        ].joined(separator: "\n")
    }

    @Test("analyses through a memo holding the header equal those made afresh, for every refusal step")
    func sameAsFresh() {
        let secret = KeyLoader.secret(Array("0123456789abcdef0123456789abcdef".utf8), origin: "test", retired: false).0!
        for details in [false, true] {
            let analyzer = TokenAnalyzer(keys: KeyRing(current: [secret]), details: details)
            let shared = AnalysisContext()
            for (i, t) in Self.tokens().enumerated() {
                let fresh = analyzer.analyze(t, verifier: SignatureChecker())
                // Twice through the shared context: the second time the header comes from its memo.
                for round in 0..<2 {
                    let memo = t.withUnsafeBytes { analyzer.analyze($0, context: shared) }
                    #expect(Self.summary(memo) == Self.summary(fresh), "token \(i), round \(round)")
                }
            }
        }
    }

    @Test("each refusal keeps what the header showed before it, as reading it in order does")
    func refusals() {
        // The three-segment token of each header, in the order of `headers`.
        let a = Self.tokens().enumerated().filter { $0.offset % 3 == 0 && $0.offset < 3 * Self.headers.count }.map {
            TokenAnalyzer(keys: KeyRing()).analyze($0.element, verifier: SignatureChecker())
        }
        #expect(a[0].alg == "HS256" && a[0].typ == "JWT" && a[0].kid == "k1" && !a[0].causes.contains(.malformed))
        #expect(a[1].flags.isSuperset(of: [.kidInjection, .jku, .crit]) && a[1].kid == "../../etc/passwd")
        // alg and typ were read before the kid that is not a string; the kid is not kept.
        #expect(a[2].reasons[.malformed] == "\"kid\" is a number, not a string" && a[2].alg == "HS256")
        #expect(a[2].kid == nil && a[2].flags.isEmpty)
        #expect(a[3].reasons[.malformed] == "the header has no \"alg\"" && a[3].alg == nil && a[3].typ == nil)
        #expect(a[4].reasons[.malformed] == "\"alg\" is not a string")
        #expect(a[5].reasons[.malformed]?.hasPrefix("the header is not a JSON object (duplicate member") == true)
        #expect(a[6].flags.contains(.b64False) && a[6].causes.contains(.alg_unsupported))
        #expect(a[7].causes.contains(.alg_none))
        #expect(a[8].causes.contains(.alg_unsupported) && a[8].alg == "XS999")
        #expect(a[10].reasons[.malformed]?.hasPrefix("the header is not a JSON object") == true)
        let jwe = TokenAnalyzer(keys: KeyRing()).analyze(Self.tokens()[29], verifier: SignatureChecker())
        #expect(jwe.kind == .jwe && jwe.enc == "A256GCM")
    }

    @Test("the memo tells headers apart and stays bounded")
    func bounded() {
        let memo = HeaderMemo()
        var seen: [HeaderFacts] = []
        for i in 0..<(HeaderMemo.limit * 2 + 3) {
            let head = Array(b64(#"{"alg":"HS256","kid":"k\#(i)"}"#).utf8)
            let facts = head.withUnsafeBytes { memo.facts($0) }
            #expect(facts.kid == "k\(i)" && facts.encoded == head)
            seen.append(facts)
        }
        #expect(memo.count <= HeaderMemo.limit)
        // A header met again while remembered is the same facts, not read again.
        let last = seen.last!
        #expect(last.encoded.withUnsafeBytes { memo.facts($0) } === last)
    }
}

/// The reasons on time, now spelled piece by piece (``TokenAnalysis/timedReason(_:at:leeway:moment:_:)``), read as
/// they always did.
@Suite struct TimedReasonTests {
    @Test("reasons on time: the same sentences, whole or in pieces")
    func sentences() {
        var a = TokenAnalysis()
        a.exp = 1000
        a.nbf = 9000
        a.iat = 8000
        #expect(
            a.reason(for: .expired, at: 4600, leeway: 60) == "expired 1 h 0 min before the log time (leeway 1 min 0 s)")
        #expect(
            a.reason(for: .not_yet_valid, at: 4600, leeway: 60, moment: "the judged time")
                == "not valid until 1 h 13 min after the judged time (leeway 1 min 0 s)")
        #expect(
            a.reason(for: .issued_in_future, at: 4600, leeway: 60)
                == "issued 56 min 40 s after the log time: the issuer's clock is ahead or the log's is behind")
        for cause in [Cause.expired, .not_yet_valid, .issued_in_future] {
            for t in [0.0, 4600, -1e300, 1e300, .nan] {
                var pieces = ""
                a.timedReason(cause, at: t, leeway: 30) { pieces += $0 }
                #expect(a.isTimed(cause) && pieces == a.reason(for: cause, at: t, leeway: 30))
            }
        }
        // A recorded reason, or a missing claim, is not timed.
        a.reasons[.expired] = "recorded"
        #expect(!a.isTimed(.expired) && a.reason(for: .expired, at: 0, leeway: 0) == "recorded")
        a.iat = nil
        #expect(
            !a.isTimed(.issued_in_future) && a.reason(for: .issued_in_future, at: 0, leeway: 0) == "issued_in_future")
    }
}

/// A chunk's queue of pending tokens (the judge's ``BatchIndex`` by fingerprint): found while queued, forgotten at
/// the next chunk. (The findings writer's rollup keys are tested in SiftPipelineTests.)
@Suite struct ChunkQueueTests {
    @Test("tokens queued in a chunk are found at their places, none from an earlier chunk, across table growth")
    func queue() {
        var q = BatchIndex<SHA256Digest>(capacity: 512, placeholder: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0))
        for (round, n) in [10, 3000, 5, 700].enumerated() {
            q.removeAll()
            let prints = (0..<n).map { Digest.sha256(Array("round \(round) token \($0)".utf8)) }
            // Half inserted: those are found at their places, the other half not.
            for i in stride(from: 0, to: n, by: 2) { q.insert(prints[i], slot: i) }
            for i in 0..<n { #expect(q.find(prints[i]) == (i % 2 == 0 ? i : nil)) }
            // Fingerprints of the chunk before are gone.
            let before = Digest.sha256(Array("round \(round - 1) token 0".utf8))
            #expect(q.find(before) == nil)
        }
    }
}
