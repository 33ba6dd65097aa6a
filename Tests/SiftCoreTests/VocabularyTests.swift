import SiftCore
import Testing

@Suite("Shared vocabulary")
struct VocabularyTests {
    @Test("causes: precedence is declaration order; only ok and unverified are not failures")
    func causes() {
        #expect(Cause.ordered == Cause.allCases)
        #expect(Cause.ordered.first == .malformed)
        #expect(Cause.truncated < Cause.expired)
        #expect(Cause.allCases.filter { !$0.isFailure } == [.unverified, .ok])
        #expect(Cause.nonFailures == [.ok, .unverified])
    }

    @Test("the failure predicate in SQL names exactly the causes that are not failures")
    func failureSQL() {
        #expect(Cause.failureSQL("s.cause") == "s.cause NOT IN ('ok', 'unverified')")
        for c in Cause.allCases where c.isFailure { #expect(!Cause.failureSQL("x").contains(c.sqlLiteral)) }
    }

    @Test(
        "a set of causes iterates in precedence order and names its first",
        arguments: [
            [Cause.expired, .truncated, .ok], [.other], [.issued_in_future, .alg_none, .key_unknown],
        ])
    func causeSet(_ causes: [Cause]) {
        let set = CauseSet(causes)
        #expect(Array(set) == causes.sorted())
        #expect(set.first == causes.min())
        #expect(set.count == Set(causes).count)
        #expect(set.joined == causes.sorted().map(\.rawValue).joined(separator: ","))
        var fewer = set
        fewer.remove(causes.min()!)
        #expect(!fewer.contains(causes.min()!))
    }

    @Test(
        "status classes",
        arguments: [
            (nil, StatusClass.none), (200, .accepted), (204, .accepted), (299, .accepted), (300, .other),
            (401, .refused),
            (403, .refused), (404, .other), (500, .other), (199, .other),
        ] as [(Int?, StatusClass)])
    func statusClass(_ status: Int?, _ expected: StatusClass) {
        #expect(StatusClass(status: status) == expected)
    }

    @Test(
        "rollup minutes: floor, -1 without a time, never a trap on hostile values",
        arguments: [
            (nil, -1), (0.0, 0), (59.9, 0), (60.0, 1), (1_700_000_000.5, 28_333_333), (-1.0, -1), (.nan, -1),
            (.infinity, -1), (1e300, -1),
        ] as [(Double?, Int64)])
    func minute(_ t: Double?, _ expected: Int64) {
        #expect(Rollup.minute(t) == expected)
    }

    @Test("near-miss bound in words and in SQL")
    func nearMiss() {
        #expect(Rollup.nearMissWords == "5 min")
        let sql = Rollup.nearMissSQL(cause: "c", logTime: "t", exp: "e", nbf: "n")
        #expect(sql.expired == "c = 'expired' AND t - e < 300")
        #expect(sql.early == "c = 'not_yet_valid' AND n - t < 300")
    }

    @Test("token flags list their names in a fixed order")
    func flags() {
        let f: TokenFlags = [.weakSecret, .noExp, .jku]
        #expect(f.description == "no_exp,jku,weak_secret")
        #expect(TokenFlags().description.isEmpty)
    }

    @Test(
        "numbers as text",
        arguments: [
            (1_234_567, "1,234,567"), (-1000, "-1,000"), (999, "999"), (0, "0"),
        ] as [(Int64, String)])
    func grouped(_ v: Int64, _ expected: String) {
        #expect(NumberText.grouped(v) == expected)
    }

    @Test(
        "percentages",
        arguments: [
            (0.625, "62.5%", "63%"), (0.0567, "5.7%", "5.6%"), (0.0, "0.0%", "0%"), (1.0, "100.0%", "100%"),
            (Double.nan, "?", "?"), (Double.infinity, "?", "?"),
        ])
    func percent(_ f: Double, _ long: String, _ short: String) {
        #expect(NumberText.percent(f) == long)
        #expect(NumberText.shortPercent(f) == short)
    }

    @Test("read progress: lines done counts an open line that has bytes")
    func progress() {
        #expect(ReadProgress(offset: 100, openLineStart: 100, openLine: 11).linesDone == 10)
        #expect(ReadProgress(offset: 120, openLineStart: 100, openLine: 11).linesDone == 11)
    }

    @Test("civil time round trips and prints RFC 3339")
    func civil() {
        for days in [-719_468, -1, 0, 1, 19_675, 2_932_896] {
            let (y, m, d) = CivilTime.civilFromDays(days)
            #expect(CivilTime.daysFromCivil(year: y, month: m, day: d) == days)
        }
        #expect(CivilTime.iso8601(1_699_999_985) == "2023-11-14T22:13:05Z")
        #expect(CivilTime.iso8601(1_699_999_985.25) == "2023-11-14T22:13:05.250Z")
        #expect(CivilTime.iso8601(.nan) == "invalid")
    }

    @Test("fingerprint digests: bytes, hex and ordering agree")
    func digest() throws {
        let bytes = (0..<32).map { UInt8($0) }
        let d = try #require(SHA256Digest(bytes: bytes))
        #expect(d.bytes == bytes)
        #expect(d.hex.hasPrefix("000102030405"))
        #expect(SHA256Digest(hex: d.hex) == d)
        #expect(SHA256Digest(bytes: bytes.dropLast()) == nil)
        #expect(try #require(SHA256Digest(bytes: [1] + bytes.dropFirst())) > d)
    }
}
