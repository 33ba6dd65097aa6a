/// Counts distinct tokens in 8 bytes each: an open-addressing table of each fingerprint's first word (a SHA-256
/// word is already uniform), never more than half full, that stops growing at `limit` keys and from then on says
/// its count is a lower bound.
///
/// A `Set<SHA256Digest>` costs 32 bytes a key plus the table's slack (≈ 34 MB at 512k keys); this costs 8 MB at
/// the same bound. Two fingerprints whose first 64 bits agree count once: at 512k keys the chance that any pair
/// does is about 7 × 10⁻⁹ — an undercount by one, in a count that is only ever shown.
public struct DistinctCounter: Sendable {
    /// 0 marks an empty slot; a key of 0 is stored as 1 (one more collision in 2⁶⁴).
    private var slots: [UInt64]
    public private(set) var count = 0
    /// Keys counted at most; beyond it ``isExact`` turns false.
    public let limit: Int
    /// False once a key was not counted because the table was at ``limit``.
    public private(set) var isExact = true

    public init(limit: Int) {
        self.limit = max(1, limit)
        self.slots = []
    }

    /// Whether a key was counted.
    public func contains(word: UInt64) -> Bool {
        guard !slots.isEmpty else { return false }
        let key = word == 0 ? 1 : word
        var i = Int(truncatingIfNeeded: key) & (slots.count - 1)
        while slots[i] != 0 {
            if slots[i] == key { return true }
            i = (i + 1) & (slots.count - 1)
        }
        return false
    }

    /// Records that a key went uncounted for a reason outside this counter (a budget shared by several).
    public mutating func missed() { isExact = false }

    /// Counts `digest`'s token; returns whether it was new.
    @discardableResult
    public mutating func insert(_ digest: SHA256Digest) -> Bool { insert(word: digest.w0) }

    /// Counts a key that is already uniformly distributed (a digest word).
    @discardableResult
    public mutating func insert(word: UInt64) -> Bool {
        let key = word == 0 ? 1 : word
        if slots.isEmpty { slots = [UInt64](repeating: 0, count: 64) }
        var i = Int(truncatingIfNeeded: key) & (slots.count - 1)
        while slots[i] != 0 {
            if slots[i] == key { return false }
            i = (i + 1) & (slots.count - 1)
        }
        guard count < limit else {
            isExact = false
            return false
        }
        slots[i] = key
        count += 1
        if count * 2 > slots.count { grow() }
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for key in old where key != 0 {
            var i = Int(truncatingIfNeeded: key) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = key
        }
    }
}
