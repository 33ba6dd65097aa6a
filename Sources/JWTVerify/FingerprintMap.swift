import SiftCore

/// Values by token fingerprint, for one generation of the verdict judge's memory (``SightingJudge``): open
/// addressing with linear probing over flat arrays sized once for the generation (at most half full), a seeded
/// one-multiply hash of one word of the digest (as ``BatchIndex``), removal by tombstone, emptied by one pass.
/// A Swift `Dictionary` here cost a SipHash per look-up and per insertion, and a rehash of its storage per
/// generation: ≈ 4% of a verifying scan of many distinct tokens.
struct FingerprintMap<Value> {
    private enum State: UInt8 {
        case empty
        case full
        case removed
    }
    private var keys: [SHA256Digest]
    private var values: [Value]
    private var states: [State]
    private var mask: Int
    /// The size the table grows to at most (twice the limit, rounded up to a power of two).
    private let largest: Int
    private let seed: UInt64
    private let placeholder: Value
    /// Values held now.
    private(set) var count = 0
    /// Slots no longer empty (held or removed): the table is emptied before they pass half of it.
    private var used = 0

    /// Room for `limit` values (the table starts small and doubles as it fills); `placeholder` fills unused slots.
    init(limit: Int, placeholder: Value) {
        var largest = 16
        while largest < 2 * max(1, limit) { largest <<= 1 }
        self.largest = largest
        let size = min(largest, 1 << 12)
        keys = Array(repeating: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0), count: size)
        values = Array(repeating: placeholder, count: size)
        states = Array(repeating: .empty, count: size)
        mask = size - 1
        seed = UInt64.random(in: 1...UInt64.max)
        self.placeholder = placeholder
    }

    /// The most values one map holds before it must be emptied (half its largest size, tombstones included).
    var capacity: Int { largest / 2 }

    @inline(__always)
    private func start(_ key: SHA256Digest) -> Int { Int(truncatingIfNeeded: key.hash(seed: seed) >> 32) & mask }

    /// The slot holding `key`, if any.
    func find(_ key: SHA256Digest) -> Int? {
        var i = start(key)
        while true {
            switch states[i] {
            case .empty: return nil
            case .full: if keys[i] == key { return i }
            case .removed: break
            }
            i = (i + 1) & mask
        }
    }

    subscript(slot: Int) -> Value {
        get { values[slot] }
        set { values[slot] = newValue }
    }

    /// Holds `value` for `key` (replacing the value it held). False (nothing held) when the map is full.
    @discardableResult
    mutating func insert(_ key: SHA256Digest, _ value: Value) -> Bool {
        guard used < capacity else { return false }
        if 2 * (used + 1) > mask + 1 { grow() }
        var i = start(key)
        while states[i] != .empty {
            if states[i] == .full && keys[i] == key {
                values[i] = value
                return true
            }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        states[i] = .full
        count += 1
        used += 1
        return true
    }

    /// Lets go of the value at `slot` (from ``find(_:)``) and returns it.
    mutating func remove(at slot: Int) -> Value {
        let v = values[slot]
        values[slot] = placeholder
        states[slot] = .removed
        count -= 1
        return v
    }

    /// Twice the slots, the values held placed again (tombstones dropped).
    private mutating func grow() {
        let (oldKeys, oldValues, oldStates) = (keys, values, states)
        let size = 2 * (mask + 1)
        keys = Array(repeating: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0), count: size)
        values = Array(repeating: placeholder, count: size)
        states = Array(repeating: .empty, count: size)
        mask = size - 1
        used = 0
        count = 0
        for k in oldStates.indices where oldStates[k] == .full { insert(oldKeys[k], oldValues[k]) }
    }

    /// Empties the map, keeping its storage.
    mutating func removeAll() {
        guard used > 0 else { return }
        for i in states.indices where states[i] == .full { values[i] = placeholder }
        states.withUnsafeMutableBufferPointer { $0.update(repeating: .empty) }
        count = 0
        used = 0
    }
}

extension FingerprintMap: Sendable where Value: Sendable {}
