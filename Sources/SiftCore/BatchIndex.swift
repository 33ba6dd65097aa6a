/// A key of a ``BatchIndex``: equality, and a hash from the per-process seed.
public protocol BatchIndexKey: Equatable {
    func hash(seed: UInt64) -> UInt64
}

/// Slots of a batch by key: a database batch's token and rollup rows (the findings writer's per-sighting
/// look-ups), a chunk's tokens waiting for analysis (the verdict judge). Open addressing with linear probing over
/// flat arrays, emptied in O(1) when the batch is over (entries carry the batch's generation), and a one-multiply
/// hash. A Swift `Dictionary` here cost a SipHash and a table clear per batch, about a fifth of the writer's
/// consumer's time (perf, `scan --db`).
///
/// The hash mixes a random per-process seed in, so that keys chosen by a log (minutes, fingerprints) cannot be
/// ground to collide; the table stays at most half full (it doubles past that).
///
/// Inlinable, so that each module using it gets it specialised for its key: unspecialised, a look-up from another
/// module went through the key's value witnesses (a `memmove` per entry compared, generic metadata looked up per
/// call: perf of `scan --db`, about 6% of the scanning thread).
@frozen
public struct BatchIndex<Key: BatchIndexKey> {
    /// One entry per place: key, slot and generation side by side (one cache line read per probe).
    @frozen @usableFromInline
    struct Entry {
        @usableFromInline var key: Key
        @usableFromInline var slot: Int32
        @usableFromInline var generation: UInt32

        @inlinable
        init(key: Key, slot: Int32, generation: UInt32) {
            self.key = key
            self.slot = slot
            self.generation = generation
        }
    }
    @usableFromInline var entries: [Entry]
    @usableFromInline var generation: UInt32 = 1
    @usableFromInline var mask: Int
    /// Keys in the index this batch.
    @inlinable public var count: Int { stored }
    @usableFromInline var stored = 0
    @usableFromInline let seed: UInt64
    @usableFromInline let placeholder: Key

    /// `capacity`: the number of entries expected per batch (the table starts at twice that, rounded up to a
    /// power of two). `placeholder` fills unused entries.
    @inlinable
    public init(capacity: Int, placeholder: Key) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        entries = Array(repeating: Entry(key: placeholder, slot: 0, generation: 0), count: size)
        mask = size - 1
        seed = UInt64.random(in: 1...UInt64.max)
        self.placeholder = placeholder
    }

    /// The slot of `key`, or nil when it has none in this batch.
    @inlinable
    public func find(_ key: Key) -> Int? {
        var i = Int(truncatingIfNeeded: key.hash(seed: seed) >> 32) & mask
        while entries[i].generation == generation {
            if entries[i].key == key { return Int(entries[i].slot) }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Records `slot` for `key` (which has none yet in this batch).
    @inlinable
    public mutating func insert(_ key: Key, slot: Int) {
        if 2 * (stored + 1) > entries.count { grow() }
        var i = Int(truncatingIfNeeded: key.hash(seed: seed) >> 32) & mask
        while entries[i].generation == generation { i = (i + 1) & mask }
        entries[i] = Entry(key: key, slot: Int32(truncatingIfNeeded: slot), generation: generation)
        stored += 1
    }

    /// Empties the index (a new batch).
    @inlinable
    public mutating func removeAll() {
        stored = 0
        generation &+= 1
        if generation == 0 {
            // Wrapped after 2³² batches: stamps from long ago could read as current.
            for i in entries.indices { entries[i].generation = 0 }
            generation = 1
        }
    }

    @inlinable
    mutating func grow() {
        let old = entries
        let current = generation
        entries = Array(repeating: Entry(key: placeholder, slot: 0, generation: 0), count: old.count * 2)
        mask = entries.count - 1
        stored = 0
        generation = 1
        for e in old where e.generation == current { insert(e.key, slot: Int(e.slot)) }
    }
}

/// The multiply-and-fold step of the hashes below: the 128-bit product's halves, xor-ed.
@inlinable @inline(__always)
public func foldedProduct(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let p = a.multipliedFullWidth(by: b)
    return p.high ^ p.low
}

extension SHA256Digest: BatchIndexKey {
    /// A digest is already uniform: one word, mixed with the seed (a log cannot choose a token's digest bits
    /// without grinding, and the seed is unknown to it).
    @inlinable @inline(__always)
    public func hash(seed: UInt64) -> UInt64 { foldedProduct(w1 ^ seed, 0x9E37_79B9_7F4A_7C15) }
}
