import FindingsStore
import SiftCore
import Testing

@testable import SiftPipeline

/// The summary's groups of failed sightings stay bounded whatever a log names (issuers and kids come from tokens).
@Suite struct FailureGroupsTests {
    /// A batch of `n` distinct expired tokens, token i from issuer `iss(i)`, each seen `seen` times.
    static func batch(_ n: Int, first: Int = 0, seen: Int = 1, iss: (Int) -> String) -> Batch {
        var b = Batch(sourceID: 1, progress: ReadProgress(offset: 0, openLineStart: 0, openLine: 1))
        for i in first..<(first + n) {
            let d = SHA256Digest(w0: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 | 1, w1: 0, w2: 0, w3: UInt64(i))
            b.tokens.append(
                TokenUpsert(fingerprint: d.hex, kind: "jws", kid: "k", iss: iss(i), signature: "valid", length: 100))
            var r = RollupRow(token: b.tokens.count - 1, cause: Words.cause(.expired), statusClass: .none, minute: 0)
            r.n = seen
            b.rollups.append(r)
        }
        return b
    }

    @Test func countsSightingsAndDistinctTokensPerGroup() {
        var g = FailureGroups()
        g.fold(Self.batch(300, seen: 2) { "iss-\($0 % 3)" })
        // The same tokens again in a later batch: sightings add up, tokens stay distinct.
        g.fold(Self.batch(300, seen: 1) { "iss-\($0 % 3)" })
        let top = g.top(3)
        #expect(top.count == 3)
        #expect(top.allSatisfy { $0.sightings == 300 && $0.tokens.count == 100 && $0.tokensExact })
        #expect(g.untracked == 0)
    }

    @Test func groupsBeyondTheLimitAreCountedNotKept() {
        var g = FailureGroups()
        let n = FailureGroups.groupLimit + 500
        g.fold(Self.batch(n) { "iss-\($0)" })
        #expect(g.groups.count == FailureGroups.groupLimit)
        #expect(g.untracked == 500)
        // A group already kept still counts after the limit.
        g.fold(Self.batch(1, first: 0, seen: 5) { "iss-\($0)" })
        #expect(g.groups[.init(cause: .expired, iss: "iss-0", kid: "k")]?.sightings == 6)
        #expect(Summary.findings(g.top(1), untracked: g.untracked).contains("500 more failed sightings"))
    }

    @Test func distinctTokensShareOneBudget() {
        var g = FailureGroups()
        // Groups of as many tokens as one may count, until together they pass the budget: the last stops counting.
        let per = FailureGroups.tokenLimit
        let groups = FailureGroups.keyBudget / per + 1
        for k in 0..<groups { g.fold(Self.batch(per, first: k * per) { _ in "iss-\(k)" }) }
        let counted = (0..<groups).map { g.groups[.init(cause: .expired, iss: "iss-\($0)", kid: "k")]! }
        #expect(counted.dropLast().allSatisfy { $0.tokens.count == per && $0.tokensExact })
        let last = counted.last!
        #expect(last.tokens.count == FailureGroups.keyBudget - (groups - 1) * per && !last.tokensExact)
        #expect(last.sightings == per)
        #expect(Summary.findings([last]).contains("≥ \(last.tokens.count) tokens"))
    }
}
