import SiftCore
import Testing

@Suite struct DistinctCounterTests {
    /// Words from a fixed-seed generator (SplitMix64), so a failure repeats.
    static func words(_ n: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        return (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: [1, 31, 32, 33, 5_000, 100_000])
    func countsEachWordOnceThroughGrowth(n: Int) {
        var c = DistinctCounter(limit: 1 << 20)
        let ws = Self.words(n, seed: UInt64(n))
        for w in ws {
            do {
                let new = c.insert(word: w)
                #expect(new)
            }
        }
        // Every word again, in reverse: none is new.
        for w in ws.reversed() {
            do {
                let new = c.insert(word: w)
                #expect(!new)
            }
        }
        #expect(c.count == Set(ws).count)
        #expect(c.isExact)
        #expect(ws.allSatisfy { c.contains(word: $0) })
        #expect(!c.contains(word: Self.words(1, seed: 999_999)[0]))
    }

    @Test func stopsAtItsLimitAndSaysSo() {
        var c = DistinctCounter(limit: 100)
        let ws = Self.words(150, seed: 7)
        for w in ws.prefix(100) { c.insert(word: w) }
        // At the limit, a repeat keeps the count exact; a new key does not.
        do {
            let new = c.insert(word: ws[3])
            #expect(!new)
        }
        #expect(c.isExact)
        do {
            let new = c.insert(word: ws[120])
            #expect(!new)
        }
        #expect(c.count == 100)
        #expect(!c.isExact)
    }

    @Test func digestsCountByTheirFirstWord() {
        var c = DistinctCounter(limit: 10)
        let a = SHA256Digest(w0: 42, w1: 1, w2: 2, w3: 3)
        do {
            let new = c.insert(a)
            #expect(new)
        }
        do {
            let new = c.insert(a)
            #expect(!new)
        }
        do {
            let new = c.insert(SHA256Digest(w0: 43, w1: 1, w2: 2, w3: 3))
            #expect(new)
        }
        // Zero is a legal word: it is stored as 1 (documented).
        do {
            let new = c.insert(word: 0)
            #expect(new)
        }
        do {
            let new = c.insert(word: 1)
            #expect(!new)
        }
        #expect(c.count == 3)
    }

    @Test func firstWordOfHexMatchesTheDigest() {
        let d = SHA256Digest(w0: 0x0123_4567_89AB_CDEF, w1: 7, w2: 8, w3: 9)
        #expect(SHA256Digest.firstWord(ofHex: d.hex) == d.w0)
        #expect(SHA256Digest.firstWord(ofHex: "") == 0)
    }
}
