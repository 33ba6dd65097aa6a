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
    public func contains(word: UInt64) -> Bool { !slots.isEmpty && probe(Self.key(word)).found }

    /// Records that a key went uncounted for a reason outside this counter (a budget shared by several).
    public mutating func missed() { isExact = false }

    /// Counts `digest`'s token; returns whether it was new.
    @discardableResult
    public mutating func insert(_ digest: SHA256Digest) -> Bool { insert(word: digest.w0) }

    /// Counts a key that is already uniformly distributed (a digest word).
    @discardableResult
    public mutating func insert(word: UInt64) -> Bool {
        let key = Self.key(word)
        if slots.isEmpty { slots = [UInt64](repeating: 0, count: 64) }
        let (i, found) = probe(key)
        if found { return false }
        guard count < limit else {
            isExact = false
            return false
        }
        slots[i] = key
        count += 1
        if count * 2 > slots.count { grow() }
        return true
    }

    private static func key(_ word: UInt64) -> UInt64 { word == 0 ? 1 : word }

    /// The slot holding `key`, or the empty slot where it would go (the table is never full).
    private func probe(_ key: UInt64) -> (slot: Int, found: Bool) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: key) & mask
        while slots[i] != 0 {
            if slots[i] == key { return (i, true) }
            i = (i + 1) & mask
        }
        return (i, false)
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        for key in old where key != 0 { slots[probe(key).slot] = key }
    }
}
