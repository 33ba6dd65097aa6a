import SiftCore
import Testing

@Suite("Durations in words")
struct DurationTextTests {
    @Test(
        "spans, signs, tenths, and inputs no integer can hold",
        arguments: [
            (192.0, false, "3 min 12 s"), (-45, false, "-45 s"), (7500, false, "2 h 5 min"),
            (356_400, false, "4 d 3 h"),
            (2.5, true, "2.5 s"), (2.5, false, "3 s"), (12.5, true, "13 s"),
            (.nan, false, "?"), (.infinity, false, "?"), (1e300, false, "30,000+ years"),
            (-1e300, true, "-30,000+ years"),
            (9.3e18, false, "30,000+ years"),
        ])
    func words(_ seconds: Double, _ tenths: Bool, _ expected: String) {
        #expect(DurationText.words(seconds, tenths: tenths) == expected)
    }
}
