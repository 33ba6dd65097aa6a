import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// The weak-secret check's cost bound (issue 15): full checks for a group's first token and a 1-in-64 sample,
/// the found secret only for the rest of a weak group, nothing for the rest of a strong one — decided per batch,
/// so the same whatever the thread count.
@Suite struct WeakSecretMemoTests {
    static func token(_ n: Int, secret: [UInt8], iss: String) -> PendingToken {
        let input = b64(#"{"alg":"HS256","typ":"JWT"}"#) + "." + b64(#"{"iss":"\#(iss)","n":\#(n)}"#)
        let mac = Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(.sha256, $0) }
        let bytes = Array((input + "." + Base64URL.encode(mac)).utf8)
        return PendingToken(fingerprint: Digest.sha256(bytes), bytes: bytes, truncation: nil)
    }

    static func flagged(_ batches: [[PendingToken]], workers: Int) -> [Bool] {
        let b = BatchAnalyzer(analyzer: TokenAnalyzer(keys: KeyRing()), workers: workers)
        return batches.flatMap { b.analyze($0) }.map { $0.flags.contains(.weakSecret) }
    }

    @Test("a weak group is flagged throughout; the same flags on 1 and 2 threads")
    func weakGroup() {
        let batches = (0..<4).map { k in
            (0..<50).map { Self.token(k * 50 + $0, secret: Array("secret".utf8), iss: "a") }
        }
        let one = Self.flagged(batches, workers: 1)
        #expect(one.allSatisfy { $0 })
        #expect(Self.flagged(batches, workers: 2) == one)
    }

    @Test("a strong group's first batch is checked in full, later batches only by sample")
    func strongGroupThenWeak() {
        let strong = (0..<50).map { Self.token($0, secret: Array("strong-secret-0123456789abcdefgh".utf8), iss: "b") }
        // The same issuer and header, now signed with a weak secret: only sampled tokens are checked.
        let weak = (50..<450).map { Self.token($0, secret: Array("changeme".utf8), iss: "b") }
        let flags = Self.flagged([strong, weak], workers: 2)
        #expect(!flags.prefix(50).contains(true))
        let sampled = weak.map { t in
            Base64URL.decode(String(decoding: t.bytes.split(separator: 0x2E)[2], as: UTF8.self))![0] < 4
        }
        #expect(Array(flags.dropFirst(50)) == sampled)
        #expect(sampled.contains(true) && sampled.contains(false))
        #expect(Self.flagged([strong, weak], workers: 1) == flags)
        // Another issuer is another group: checked in full.
        #expect(
            Self.flagged([strong, [Self.token(999, secret: Array("changeme".utf8), iss: "c")]], workers: 1).last == true
        )
    }

    @Test("a token checked in full before is answered by its record, with the same flags and hints")
    func fullCheckRecorded() {
        let b = BatchAnalyzer(analyzer: TokenAnalyzer(keys: KeyRing()), workers: 1)
        // The first batch of each group is checked in full: one weak, one strong, and a strong group's sampled token.
        let weak = Self.token(1, secret: Array("changeme".utf8), iss: "w")
        let strong = Self.token(2, secret: Array("strong-secret-0123456789abcdefgh".utf8), iss: "s")
        let first = b.analyze([weak, strong])
        for t in [weak, strong] { #expect(b.weakSecretsForTesting.fullCheck(t.fingerprint) != nil) }
        #expect(b.weakSecretsForTesting.fullCheck(weak.fingerprint) != WeakSecretMemo.Outcome.none)
        #expect(b.weakSecretsForTesting.fullCheck(strong.fingerprint) == WeakSecretMemo.Outcome.none)
        // Met again (their analyses let go): answered by the record, exactly as the full check answered.
        let again = b.analyze([weak, strong])
        for (x, y) in zip(first, again) {
            #expect(x.flags == y.flags && x.hints == y.hints && x.weakSecretFound == y.weakSecretFound)
        }
        #expect(again[0].flags.contains(.weakSecret) && !again[1].flags.contains(.weakSecret))
        // A record that says "none" answers without checking the list: a recorded weak token it was not is not
        // flagged (the record is what is read).
        var memo = WeakSecretMemo()
        memo.recordFullCheck(weak.fingerprint, .none)
        let analyzer = TokenAnalyzer(keys: KeyRing())
        let fromRecord = weak.bytes.withUnsafeBytes {
            analyzer.analyze($0, context: AnalysisContext(), weakSecrets: memo, fingerprint: weak.fingerprint)
        }
        #expect(!fromRecord.flags.contains(.weakSecret))
        let fresh = weak.bytes.withUnsafeBytes {
            analyzer.analyze($0, context: AnalysisContext(), weakSecrets: memo, fingerprint: nil)
        }
        #expect(fresh.flags.contains(.weakSecret))
    }
}

/// The verdict cache holds an analysis only for a token met again (``SightingJudge``); a token met again before
/// that is analysed again with its first weak-secret outcome, so its verdict is the first one — as when every
/// analysis was held — even when its group's memo has changed since.
@Suite struct HeldAnalysisTests {
    /// One chunk per call, as a scan hands them over.
    static func see(_ judge: SightingJudge, _ token: PendingToken) throws -> JudgedSighting {
        var scanner = LineScanner(fingerprint: SHA256Context().hash)
        var findings = ScanFindings()
        let line = Array("Bearer ".utf8) + token.bytes + [0x0A]
        line.withUnsafeBytes {
            scanner.scan($0, streamOffset: 0, firstLine: 1, continuesLine: false, cutAtEnd: false, into: &findings)
        }
        let judged = line.withUnsafeBytes { judge.judge(findings.tokens, in: $0, streamOffset: 0) }
        return try #require(judged.first)
    }

    static func signatureByte(_ t: PendingToken) -> UInt8 {
        Base64URL.decode(String(decoding: t.bytes.split(separator: 0x2E)[2], as: UTF8.self))![0]
    }

    @Test("a weak token skipped in a strong group stays unflagged when met again after the group turned weak")
    func replayKeepsFirstOutcome() throws {
        let weak = Array("secret".utf8)
        let strong = WeakSecretMemoTests.token(0, secret: Array("a-strong-secret-0123456789abcdef".utf8), iss: "g")
        // Not sampled (its signature's first byte is 4 or more), and one that is (below 4); both signed "secret".
        let skipped = try #require(
            (1..<500).lazy.map { WeakSecretMemoTests.token($0, secret: weak, iss: "g") }.first {
                Self.signatureByte($0) >= 4
            })
        let sampled = try #require(
            (1..<500).lazy.map { WeakSecretMemoTests.token($0, secret: weak, iss: "g") }.first {
                Self.signatureByte($0) < 4
            })
        // The cache of whole analyses alone (no compact store, which would rebuild both without analysing them).
        let judge = SightingJudge(options: VerifyOptions(keys: KeyRing(), workers: 1, compactLimit: 0), now: 0)
        #expect(try !Self.see(judge, strong).analysis.flags.contains(.weakSecret))
        #expect(try !Self.see(judge, skipped).analysis.flags.contains(.weakSecret))
        // The sample finds the weak secret: the group is weak from now on.
        #expect(try Self.see(judge, sampled).analysis.flags.contains(.weakSecret))
        #expect(judge.analysed == 3 && judge.replayed == 0)
        // Met again: analysed again, with its first outcome (a fresh analysis would now try the group's secret and
        // flag it, unlike its first verdict).
        #expect(try !Self.see(judge, skipped).analysis.flags.contains(.weakSecret))
        let again = try Self.see(judge, sampled)
        #expect(again.analysis.flags.contains(.weakSecret))
        #expect(again.analysis.hints.contains { $0.hasPrefix("signed with a well-known weak secret") })
        #expect(judge.analysed == 3 && judge.replayed == 2)
        // Held from their second sighting on: no further analysis.
        for _ in 0..<3 {
            #expect(try !Self.see(judge, skipped).analysis.flags.contains(.weakSecret))
            #expect(try Self.see(judge, sampled).analysis.flags.contains(.weakSecret))
        }
        #expect(judge.analysed == 3 && judge.replayed == 2)
        #expect(judge.cachedCount == 3)
    }
}
