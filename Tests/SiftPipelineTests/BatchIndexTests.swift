import SiftCore
import Testing

@testable import SiftPipeline

/// ``BatchIndex``, the consumer's per-batch slot tables, against a `Dictionary` doing the same.
@Suite("Batch index")
struct BatchIndexTests {
    @Test("finds what was inserted, nothing else; emptied per batch; grows past its capacity")
    func againstDictionary() {
        var index = BatchIndex<RollupKey>(
            capacity: 8, placeholder: RollupKey(slot: -1, cause: 0, statusClass: 0, minute: 0))
        var generator = SystemRandomNumberGenerator()
        for batch in 0..<5 {
            var reference: [Int64: Int] = [:]
            // Up to 20× the capacity (it doubles), with keys that differ in one field only: same minute many
            // slots, same slot many minutes.
            let count = 10 + batch * 40
            for i in 0..<count {
                let key = RollupKey(
                    slot: Int32(i % 7), cause: UInt8(i % 3), statusClass: 2, minute: Int64(i / 7) - 1)
                let packed = Int64(i % 7) << 40 | Int64(i % 3) << 32 | ((Int64(i / 7) - 1) & 0xFFFF_FFFF)
                #expect(index.find(key) == reference[packed])
                if reference[packed] == nil {
                    let slot = Int.random(in: 0..<1_000_000, using: &generator)
                    index.insert(key, slot: slot)
                    reference[packed] = slot
                }
                #expect(index.find(key) == reference[packed])
            }
            #expect(index.count == reference.count)
            for (packed, slot) in reference {
                let key = RollupKey(
                    slot: Int32(packed >> 40), cause: UInt8((packed >> 32) & 0xFF), statusClass: 2,
                    minute: Int64(Int32(truncatingIfNeeded: packed)))
                #expect(index.find(key) == slot)
            }
            // A key never inserted, next to ones that were.
            #expect(index.find(RollupKey(slot: 0, cause: 0, statusClass: 1, minute: -1)) == nil)
            index.removeAll()
            #expect(index.count == 0)
            #expect(index.find(RollupKey(slot: 0, cause: 0, statusClass: 2, minute: -1)) == nil)
        }
    }

    @Test("digests that share their first word are told apart")
    func digests() {
        var index = BatchIndex<SHA256Digest>(capacity: 4, placeholder: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0))
        let a = SHA256Digest(w0: 1, w1: 2, w2: 3, w3: 4)
        let b = SHA256Digest(w0: 1, w1: 2, w2: 3, w3: 5)
        index.insert(a, slot: 0)
        #expect(index.find(b) == nil)
        index.insert(b, slot: 1)
        #expect(index.find(a) == 0)
        #expect(index.find(b) == 1)
        for i in 0..<100 { index.insert(SHA256Digest(w0: UInt64(i), w1: 9, w2: 9, w3: 9), slot: 10 + i) }
        #expect(index.find(a) == 0)
        #expect(index.find(b) == 1)
        #expect(index.find(SHA256Digest(w0: 42, w1: 9, w2: 9, w3: 9)) == 52)
        #expect(index.count == 102)
    }
}
