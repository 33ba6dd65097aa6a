import FindingsStore
import SiftCore
import Testing

@testable import FindingsReport

#if canImport(Glibc)
import Glibc
#endif

/// The report library on its own, over databases the store writes (the end-to-end report tests, through `scan`,
/// are in SiftPipelineTests).
@Suite("Report builder")
struct ReportBuilderTests {
    final class Scratch {
        let dir = "/tmp/jwtsift-report-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        init() { mkdir(dir, 0o700) }
        deinit { _ = system("rm -rf '\(dir)'") }
        var db: String { dir + "/findings.sqlite" }
    }

    /// A database with one source and the given (cause, sightings) counts, one token each.
    static func database(_ s: Scratch, _ counts: [(Cause, Int)]) throws {
        let db = try FindingsDB(path: s.db, lockTimeout: 0) { _ in "head" }
        let run = try db.beginRun(startedAt: 0, version: "test", commandLine: "test", verify: true, leeway: 60)
        let identity = SourceIdentity(path: "/logs/a.log", size: 1, mtime: 1, inode: 1, head: [], isStdin: false)
        let source = try db.plan(identity, runID: run).sourceID
        var batch = Batch(
            sourceID: source, progress: ReadProgress(offset: 1, openLineStart: 1, openLine: 2, completed: true))
        var line: UInt64 = 1
        for (i, (cause, n)) in counts.enumerated() {
            var token = TokenUpsert(
                fingerprint: String(repeating: String(i % 10), count: 64), kind: "jws", alg: "RS256", kid: "k\(i)",
                iss: "https://issuer.example/", signature: "valid", length: 300)
            var rollup = RollupRow(
                token: i, cause: InternedText(cause.rawValue), statusClass: .refused, minute: 28_333_333)
            for k in 0..<n {
                let t = 1_700_000_000 + Double(k)
                token.saw(at: t, rolled: false)
                rollup.add(at: t, errorOnLine: false, nearBy: cause == .expired ? 30 : nil)
                batch.sightings.append(
                    SightingRow(
                        token: i, line: line, offset: line * 100, logTime: t, status: 401,
                        cause: InternedText(cause.rawValue),
                        causes: nil, skew: nil, timeSource: nil, truncation: nil, lineError: nil))
                line += 1
            }
            batch.tokens.append(token)
            batch.rollups.append(rollup)
        }
        try db.write(batch, runID: run)
        try db.finishRun(run, status: "done", finishedAt: 1, counts: RunCounts())
    }

    @Test("an empty database reports no sightings, in every format")
    func empty() throws {
        let s = Scratch()
        try Self.database(s, [])
        let r = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        #expect(r.overview.sightings == 0)
        #expect(r.overview.sentences == ["No token sightings in this window."])
        #expect(TextRenderer(colour: false).render(r).contains("No token sightings in this window."))
        #expect(HTMLRenderer().render(r).hasPrefix("<!DOCTYPE html>"))
    }

    @Test("overview counts failures by the shared rule and leads with the largest cause")
    func counts() throws {
        let s = Scratch()
        try Self.database(s, [(.expired, 6), (.ok, 3), (.unverified, 2), (.key_unknown, 1)])
        let r = try ReportBuilder(path: s.db, filter: ReportFilter()).build(now: 0)
        #expect(r.overview.sightings == 12)
        #expect(r.overview.failures == 7)
        #expect(r.overview.unverified == 2)
        // All 6 expired sightings are near misses (30 s): the sentence says how many minutes the bound is.
        #expect(
            r.overview.sentences.first
                == "86% of failures are tokens used 0–5 min after they expired: clients are not refreshing tokens before they expire (or clocks disagree by minutes)."
        )
        #expect(r.overview.sentences.count == 2)
        #expect(r.overview.sentences[1].contains("k3"))
    }

    @Test("every cause has a sentence that names its share", arguments: Cause.allCases)
    func sentences(_ cause: Cause) {
        let text = ReportBuilder.sentence(for: cause, share: "42%", nearShare: "7%", mostlyNear: false, kids: "k1")
        #expect(text.hasPrefix("42% of failures"))
        #expect(text.hasSuffix("."))
    }

    @Test("HTML escaping of token-derived text")
    func escaping() {
        #expect(
            Format.html("<script>\"x\"&'y'</script>\u{1}")
                == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;\\x01")
        #expect(HTMLRenderer.colour("expired") != HTMLRenderer.colour("https://issuer.example/"))
        #expect(HTMLRenderer.causeWords == Set(Cause.allCases.map(\.rawValue)))
    }
}
