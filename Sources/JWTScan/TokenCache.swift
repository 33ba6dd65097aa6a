import SiftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the scanner remembers about the exact bytes of a candidate it has already decided on: the fingerprint
/// and the decoded facts. A log repeats the same few thousand tokens millions of times; this table turns each
/// repeat into a keyed hash and a `memcmp` instead of a SHA-256 and a header decode.
///
/// Open addressing with linear probing over parallel, manually owned buffers (no copy-on-write checks on the hot
/// path). The key hash is a multiply-fold with a per-process random seed over the bytes that tell tokens apart;
/// a probe is bounded — past ``maximumProbe`` slots a lookup simply misses, which only costs the SHA-256 the
/// cache would have saved — so crafted collisions cannot make a hostile log slower than no cache at all. Memory is bounded by ``entryLimit`` and ``arenaLimit``: when
/// either is reached the table starts over.
final class TokenCache {
    struct Entry {
        var fingerprint: SHA256Digest
        var facts: TokenScanner.Facts
    }

    static let entryLimit = 100_000
    /// Bytes of token text kept for equality checks. Each scanning thread has a cache: with two, 32 MiB of token
    /// text at most.
    static let arenaLimit = 16 << 20
    static let maximumProbe = 32
    static let maximumCapacity = 1 << 19

    private var capacity: Int
    private var hashes: UnsafeMutablePointer<UInt64>
    /// Per slot: index into `entries`, and where the key bytes are in `arena`.
    private var slots: UnsafeMutablePointer<(entry: UInt32, offset: UInt32, length: UInt32)>
    private(set) var entries: [Entry] = []
    private var arena: UnsafeMutableRawPointer
    private var arenaUsed = 0
    private var arenaCapacity: Int
    private let seed: (UInt64, UInt64, UInt64)

    init(capacity: Int = 1 << 12) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0)
        self.capacity = capacity
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        arenaCapacity = 1 << 16
        arena = .allocate(byteCount: arenaCapacity, alignment: 16)
        var g = SystemRandomNumberGenerator()
        seed = (g.next() | 1, g.next(), g.next())
    }

    deinit {
        hashes.deallocate()
        slots.deallocate()
        arena.deallocate()
    }

    var count: Int { entries.count }

    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r = a.multipliedFullWidth(by: b)
        return r.high ^ r.low
    }

    /// A keyed 64-bit hash of `bytes`; never 0 (0 marks an empty slot). It reads the length, the first 32 and
    /// the last 32 bytes: tokens from one issuer share their header, but their signatures — at the end — differ.
    /// Keys that agree there only cost probes (bounded), never a wrong answer: `lookup` compares every byte.
    @inline(__always)
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        guard let p = bytes.baseAddress else { return 1 }
        @inline(__always) func word(_ at: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        var h = seed.0 ^ UInt64(truncatingIfNeeded: n)
        if n >= 64 {
            h = Self.fold(word(0) ^ seed.1, word(8) ^ h)
            h = Self.fold(word(16) ^ seed.1, word(24) ^ h)
            h = Self.fold(word(n - 32) ^ seed.1, word(n - 24) ^ h)
            h = Self.fold(word(n - 16) ^ seed.1, word(n - 8) ^ h)
        } else {
            var i = 0
            while i + 16 <= n {
                h = Self.fold(word(i) ^ seed.1, word(i + 8) ^ h)
                i += 16
            }
            if i < n {
                var a: UInt64 = 0
                var b: UInt64 = 0
                if n >= 16 {
                    // The last 16 bytes, overlapping what was already folded.
                    a = word(n - 16)
                    b = word(n - 8)
                } else {
                    for k in 0..<n {
                        let byte = UInt64(p.load(fromByteOffset: k, as: UInt8.self))
                        if k < 8 { a |= byte << UInt64(8 * k) } else { b |= byte << UInt64(8 * (k - 8)) }
                    }
                }
                h = Self.fold(a ^ seed.1, b ^ h)
            }
        }
        return Self.fold(h ^ seed.2, seed.0) | 1
    }

    /// The entry for exactly these bytes, if remembered.
    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer, hash h: UInt64) -> Entry? {
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        for _ in 0..<Self.maximumProbe {
            let stored = hashes[i]
            if stored == 0 { return nil }
            if stored == h {
                let s = slots[i]
                if Int(s.length) == bytes.count, memcmp(arena + Int(s.offset), bytes.baseAddress!, bytes.count) == 0 {
                    return entries[Int(s.entry)]
                }
            }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Remembers `entry` for these bytes (which `lookup` did not find). Silently drops it when its probe run is
    /// full; starts over when a bound is reached.
    func insert(_ bytes: UnsafeRawBufferPointer, hash h: UInt64, entry: Entry) {
        guard bytes.count <= Self.arenaLimit / 64 else { return }
        if entries.count >= Self.entryLimit || arenaUsed + bytes.count > Self.arenaLimit { removeAll() }
        if (entries.count + 1) * 2 > capacity && capacity < Self.maximumCapacity { grow() }
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        for _ in 0..<Self.maximumProbe {
            if hashes[i] == 0 {
                reserveArena(bytes.count)
                (arena + arenaUsed).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                hashes[i] = h
                slots[i] = (UInt32(entries.count), UInt32(arenaUsed), UInt32(bytes.count))
                arenaUsed += bytes.count
                entries.append(entry)
                return
            }
            i = (i + 1) & mask
        }
    }

    func removeAll() {
        hashes.update(repeating: 0, count: capacity)
        entries.removeAll(keepingCapacity: true)
        arenaUsed = 0
    }

    private func reserveArena(_ extra: Int) {
        guard arenaUsed + extra > arenaCapacity else { return }
        var newCapacity = arenaCapacity
        while newCapacity < arenaUsed + extra { newCapacity *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        bigger.copyMemory(from: arena, byteCount: arenaUsed)
        arena.deallocate()
        arena = bigger
        arenaCapacity = newCapacity
    }

    private func grow() {
        let oldCapacity = capacity
        let oldHashes = hashes
        let oldSlots = slots
        capacity *= 2
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        let mask = capacity - 1
        for k in 0..<oldCapacity where oldHashes[k] != 0 {
            var i = Int(truncatingIfNeeded: oldHashes[k]) & mask
            var placed = false
            for _ in 0..<Self.maximumProbe where !placed {
                if hashes[i] == 0 {
                    hashes[i] = oldHashes[k]
                    slots[i] = oldSlots[k]
                    placed = true
                }
                i = (i + 1) & mask
            }
        }
        oldHashes.deallocate()
        oldSlots.deallocate()
    }
}
