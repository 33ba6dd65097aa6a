import JOSECrypto
import JWTScan
import SiftCore
import TestSupport
import Testing

@testable import JWTVerify

/// The judge's compact memory (``VerdictStore``): an analysis rebuilt from its shape and slot is the analysis that
/// was kept, field for field; what it cannot hold exactly it refuses; it stays within its capacity by replacing
/// ways, and starts over when its shapes are full.
@Suite struct VerdictStoreTests {
    static let secret = Array("a-strong-secret-0123456789abcdef".utf8)

    static func token(header: String = #"{"alg":"HS256","typ":"JWT"}"#, _ claims: String) -> PendingToken {
        let input = b64(header) + "." + b64(claims)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) }
        let bytes = Array((input + "." + Base64URL.encode(mac)).utf8)
        return PendingToken(fingerprint: Digest.sha256(bytes), bytes: bytes, truncation: nil)
    }

    static func analyses(_ tokens: [PendingToken], keys: KeyRing = KeyRing()) -> [TokenAnalysis] {
        BatchAnalyzer(analyzer: TokenAnalyzer(keys: keys), workers: 1).analyze(tokens)
    }

    /// Every field a scan reads, compared.
    static func same(_ a: TokenAnalysis, _ b: TokenAnalysis) -> Bool {
        a.isSameShape(as: b) && a.length == b.length && a.sub == b.sub && a.iat?.bitPattern == b.iat?.bitPattern
            && a.exp?.bitPattern == b.exp?.bitPattern && a.nbf?.bitPattern == b.nbf?.bitPattern
    }

    /// How many of `tokens` the store holds, each one checked to rebuild as its analysis in `all`.
    static func rebuiltExactly(_ store: VerdictStore, _ tokens: [PendingToken], _ all: [TokenAnalysis]) -> Int {
        var found = 0
        for (k, (t, a)) in zip(tokens, all).enumerated() {
            guard let slot = store.find(t.fingerprint) else { continue }
            found += 1
            #expect(Self.same(store.analysis(at: slot), a), "token \(k)")
        }
        return found
    }

    @Test("a kept analysis is rebuilt field for field; what the slot cannot hold exactly is refused")
    func rebuiltExactly() throws {
        let kept = [
            #"{"iss":"https://idp/","sub":"user-1","iat":1700000000,"exp":1700000900}"#,
            #"{"sub":"","exp":1700000900}"#,
            #"{"nbf":1700000000}"#,
            #"{"iat":1700000000,"nbf":1699999000,"exp":1800000000}"#,
            #"{"iat":1700000000.5,"exp":1700000900.5}"#,
            #"{"sub":"fifteen-bytes-x","aud":["a","b"],"exp":1700000900}"#,
            #"{"sub":"é-accent","iat":-5,"exp":0}"#,
            #"{"iss":"other"}"#,
        ]
        let refused = [
            #"{"sub":"sixteen-bytes-xx","exp":1700000900}"#,  // sub longer than the slot holds
            #"{"iat":1700000000,"exp":1700000900.25}"#,  // not whole seconds from iat
            #"{"iat":0,"exp":99999999999}"#,  // more than 2^31 s from iat
        ]
        let tokens = (kept + refused).map { Self.token($0) } + [Self.token(header: #"{"alg":"HS256""#, "{}")]
        let all = Self.analyses(tokens)
        let store = VerdictStore(limit: 64)
        for (t, a) in zip(tokens, all) { store.insert(t.fingerprint, a) }
        for (k, (t, a)) in zip(tokens, all).enumerated() {
            if k < kept.count {
                let slot = try #require(store.find(t.fingerprint), "kept: \(kept[k])")
                #expect(Self.same(store.analysis(at: slot), a), "\(kept[k])")
            } else {
                #expect(store.find(t.fingerprint) == nil)  // the last one is malformed
            }
        }
        #expect(all.last!.causes.contains(.malformed))
        #expect(store.count == kept.count)
        // One shape per issuer and claim-set form here, far fewer than tokens when tokens differ only in numbers.
        let many = (0..<200).map { Self.token(#"{"iss":"i","sub":"u\#($0)","iat":\#(1_700_000_000 + $0)}"#) }
        let before = store.shapeCount
        for (t, a) in zip(many, Self.analyses(many)) { store.insert(t.fingerprint, a) }
        #expect(store.shapeCount == before + 1)
    }

    /// Generated claims sets of every form the store's slot packs or refuses (issuers, subjects around its 15-byte
    /// bound and beyond ASCII, integer, fractional, exponent, negative and huge times, audiences, other members):
    /// whatever the store keeps is rebuilt exactly, and what it refuses is simply not found.
    @Test("generated claims sets: everything the store keeps is rebuilt exactly")
    func generatedClaimsRebuildExactly() throws {
        var g = SplitMix(seed: 0x5EED_C0DE)
        let times = [
            "1700000000", "1700000900", "0", "-5", "1700000000.5", "17e8", "1.7e9", "99999999999", "1700000900.25",
            "4102444800", "-2147483649", "1e308", "\"1700000000\"", "null", "true",
        ]
        let subs = ["", "u", "fifteen-bytes-x", "sixteen-bytes-xx", "é-accent", "user@example.com", "a\\u0041b"]
        let issuers = ["https://idp/", "other", "", "https://login.example.com/tenant/v2.0"]
        var tokens: [PendingToken] = []
        for n in 0..<2_000 {
            var members: [String] = []
            if g.below(4) > 0 { members.append(#""iss":"\#(issuers[g.below(issuers.count)])""#) }
            if g.below(3) > 0 {
                members.append(#""sub":"\#(subs[g.below(subs.count)])\#(g.below(3) == 0 ? "\(n)" : "")""#)
            }
            for name in ["iat", "nbf", "exp"] where g.below(3) > 0 {
                members.append(#""\#(name)":\#(times[g.below(times.count)])"#)
            }
            if g.below(4) == 0 { members.append(g.below(2) == 0 ? #""aud":"api""# : #""aud":["a","b"]"#) }
            if g.below(5) == 0 { members.append(#""jti":"\#(n)""#) }
            tokens.append(Self.token("{" + members.joined(separator: ",") + "}"))
        }
        let all = Self.analyses(tokens)
        let store = VerdictStore(limit: 4_096)
        var kept = 0
        for (t, a) in zip(tokens, all) where store.insert(t.fingerprint, a) { kept += 1 }
        let rebuilt = Self.rebuiltExactly(store, tokens, all)
        // Both paths ran: many kept and rebuilt, some refused.
        #expect(rebuilt == kept && kept > 500 && kept < tokens.count, "kept \(kept) of \(tokens.count)")
    }

    @Test("past its capacity the store replaces ways: never more than it holds, every answer still exact")
    func boundedByEviction() throws {
        let store = VerdictStore(limit: 16)
        #expect(store.capacity == 16)
        let tokens = (0..<300).map { Self.token(#"{"sub":"u\#($0)","iat":\#(1_700_000_000 + $0),"exp":1800000000}"#) }
        let all = Self.analyses(tokens)
        for (t, a) in zip(tokens, all) { store.insert(t.fingerprint, a) }
        #expect(store.count == store.capacity)
        #expect(store.evictions == 300 - store.capacity)
        let found = Self.rebuiltExactly(store, tokens, all)
        #expect(found == store.capacity)
        // The last one inserted is always held.
        #expect(store.find(tokens[299].fingerprint) != nil)
    }

    @Test("the table doubles in place while more than half full, every token still found, up to its bound")
    func growsInPlace() throws {
        let store = VerdictStore(limit: 1 << 12, initialBuckets: 2)
        #expect(store.capacity == 16 && store.maximumCapacity == 1 << 12)
        let tokens = (0..<3000).map { Self.token(#"{"sub":"u\#($0)","iat":\#(1_700_000_000 + $0)}"#) }
        let all = Self.analyses(tokens)
        var capacities: Set<Int> = []
        for (t, a) in zip(tokens, all) {
            store.insert(t.fingerprint, a)
            capacities.insert(store.capacity)
        }
        // 16, 32, … 4096: every doubling ran.
        #expect(capacities == Set((4...12).map { 1 << $0 }))
        let found = Self.rebuiltExactly(store, tokens, all)
        #expect(found == store.count)
        #expect(found + store.evictions == 3000)
        // Half full or less after each doubling: few buckets were ever full.
        #expect(store.evictions < 300)
    }

    @Test("when its shapes are full the store starts over: shapes and tokens dropped, then kept again")
    func startsOverOnShapes() {
        let store = VerdictStore(limit: 1 << 14)
        let tokens = (0...VerdictStore.shapeLimit).map { Self.token(#"{"iss":"issuer-\#($0)"}"#) }
        let all = Self.analyses(tokens)
        var kept = 0
        for (t, a) in zip(tokens, all) where store.insert(t.fingerprint, a) { kept += 1 }
        #expect(store.restarts == 1)
        #expect(kept == VerdictStore.shapeLimit)
        #expect(store.count == 0 && store.shapeCount == 0)
        #expect(store.find(tokens[0].fingerprint) == nil)
        #expect(store.insert(tokens[0].fingerprint, all[0]))
        #expect(store.find(tokens[0].fingerprint) != nil && store.shapeCount == 1)
    }

    /// One chunk per call, as a scan hands them over.
    static func see(_ judge: SightingJudge, _ token: PendingToken) throws -> JudgedSighting {
        var scanner = LineScanner(fingerprint: SHA256Context().hash)
        var findings = ScanFindings()
        let line = Array("2023-11-14T22:13:20Z Bearer ".utf8) + token.bytes + [0x0A]
        line.withUnsafeBytes {
            scanner.scan($0, streamOffset: 0, firstLine: 1, continuesLine: false, cutAtEnd: false, into: &findings)
        }
        let judged = line.withUnsafeBytes { judge.judge(findings.tokens, in: $0, streamOffset: 0) }
        return try #require(judged.first)
    }

    @Test("a weak token skipped in a strong group is rebuilt unflagged after its group turned weak: no new analysis")
    func rebuiltKeepsFirstWeakOutcome() throws {
        let weak = Array("secret".utf8)
        let strong = WeakSecretMemoTests.token(0, secret: Array("a-strong-secret-0123456789abcdef".utf8), iss: "g")
        let tokens = (1..<500).map { WeakSecretMemoTests.token($0, secret: weak, iss: "g") }
        let skipped = try #require(tokens.first { HeldAnalysisTests.signatureByte($0) >= 4 })
        let sampled = try #require(tokens.first { HeldAnalysisTests.signatureByte($0) < 4 })
        let judge = SightingJudge(options: VerifyOptions(keys: KeyRing(), workers: 1), now: 0)
        #expect(try !HeldAnalysisTests.see(judge, strong).analysis.flags.contains(.weakSecret))
        #expect(try !HeldAnalysisTests.see(judge, skipped).analysis.flags.contains(.weakSecret))
        #expect(try HeldAnalysisTests.see(judge, sampled).analysis.flags.contains(.weakSecret))
        // Met again: rebuilt from the store as first analysed (a fresh analysis would now flag `skipped`).
        #expect(try !HeldAnalysisTests.see(judge, skipped).analysis.flags.contains(.weakSecret))
        let again = try HeldAnalysisTests.see(judge, sampled)
        #expect(again.analysis.flags.contains(.weakSecret) && again.analysis.weakSecretFound != nil)
        #expect(judge.analysed == 3 && judge.replayed == 0 && judge.rebuilt == 2)
    }

    @Test("the judge answers a token met again from the store, with the verdict a fresh analysis gives")
    func judgeRebuilds() throws {
        let key = KeyLoader.secret(Self.secret, origin: "s", retired: false).0!
        let keys = KeyRing(current: [key])
        let tokens = (0..<40).map {
            Self.token(#"{"iss":"https://idp/","sub":"u\#($0)","iat":1700000000,"exp":\#(1_700_000_000 + $0 * 60)}"#)
        }
        // A store of 16 (two buckets) and a cache of whole analyses too small to hold them.
        let judge = SightingJudge(
            options: VerifyOptions(keys: keys, workers: 1, cacheLimit: 2, compactLimit: 16), now: 0)
        var first: [Verdict] = []
        for t in tokens { first.append(try Self.see(judge, t).verdict) }
        #expect(judge.analysed == 40 && judge.rebuilt == 0)
        for (t, v) in zip(tokens, first) {
            let j = try Self.see(judge, t)
            #expect(j.verdict == v)
            let fresh = try #require(Self.analyses([t], keys: keys).first)
            #expect(Self.same(j.analysis, fresh))
        }
        // Those still in the store were rebuilt; the others (replaced) analysed again.
        #expect(judge.rebuilt > 0 && judge.rebuilt <= 16)
        #expect(judge.analysed == 40 + (40 - judge.rebuilt))
        #expect(judge.store!.evictions > 0)
    }
}
