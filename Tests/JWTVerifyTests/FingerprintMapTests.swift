import SiftCore
import TestSupport
import Testing

@testable import JWTVerify

/// The judge's flat fingerprint table (``FingerprintMap``) must answer as a Dictionary does, through growth,
/// removals (tombstones), replacement and emptying.
@Suite struct FingerprintMapTests {
    @Test("random insertions, look-ups, removals and emptying agree with a Dictionary")
    func agreesWithDictionary() {
        var g = SplitMix(seed: 7)
        var map = FingerprintMap<Int>(limit: 5000, placeholder: -1)
        var model: [SHA256Digest: Int] = [:]
        // Few distinct keys, so that keys come back after removal; some share their hashed word (w1).
        func key() -> SHA256Digest {
            let n = g.next() % 6000
            return SHA256Digest(w0: n, w1: n % 7 == 0 ? 42 : n &* 0x9E37_79B9, w2: n, w3: 1)
        }
        var removed = 0
        for step in 0..<60000 {
            let k = key()
            switch g.next() % 4 {
            case 0, 1:
                if model.count < map.capacity {
                    let inserted = map.insert(k, step)
                    #expect(inserted)
                    model[k] = step
                }
            case 2:
                if let slot = map.find(k) {
                    let value = map.remove(at: slot)
                    #expect(value == model[k])
                    model[k] = nil
                    removed += 1
                } else {
                    #expect(model[k] == nil)
                }
            default:
                #expect(map.find(k).map { map[$0] } == model[k])
            }
            #expect(map.count == model.count)
            if step % 20000 == 19999 {
                map.removeAll()
                model.removeAll()
            }
        }
        #expect(removed > 1000)
        for (k, v) in model { #expect(map.find(k).map { map[$0] } == v) }
    }

    @Test("a full map refuses more; emptied, it takes them again")
    func bounded() {
        var map = FingerprintMap<Int>(limit: 3, placeholder: 0)
        let cap = map.capacity
        #expect(cap >= 3)
        for n in 0..<UInt64(cap) {
            let inserted = map.insert(SHA256Digest(w0: n, w1: n, w2: 0, w3: 0), 1)
            #expect(inserted)
        }
        let over = map.insert(SHA256Digest(w0: 999, w1: 999, w2: 0, w3: 0), 1)
        #expect(!over)
        map.removeAll()
        #expect(map.count == 0 && map.find(SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0)) == nil)
        let again = map.insert(SHA256Digest(w0: 999, w1: 999, w2: 0, w3: 0), 2)
        #expect(again)
    }
}
