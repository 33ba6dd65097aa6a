#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A few values kept by the exact bytes they were made from — the most recent ones, the oldest replaced once full
/// (its key's storage reused) — found by a plain comparison of the bytes, with no hash, before the work they save:
/// a log repeats a handful of headers, issuers and audiences byte for byte from one token to the next. Keys longer
/// than `maximumKeyLength` are not kept. Not thread-safe (one per scanner or analysing thread).
///
/// Inlinable, so that each module gets it specialised for its values (unspecialised, a look-up from another module
/// goes through value witnesses).
@frozen
public struct RecentBytes<Value> {
    @usableFromInline var keys: [[UInt8]] = []
    @usableFromInline var values: [Value] = []
    @usableFromInline var next = 0
    public let capacity: Int
    public let maximumKeyLength: Int

    @inlinable
    public init(capacity: Int, maximumKeyLength: Int = .max) {
        self.capacity = capacity
        self.maximumKeyLength = maximumKeyLength
    }

    /// The value kept for exactly `key` that `accepts` takes (any, by default), or nil.
    @inlinable
    public func value(for key: UnsafeRawBufferPointer, where accepts: (Value) -> Bool = { _ in true }) -> Value? {
        for k in keys.indices where keys[k].count == key.count && accepts(values[k]) {
            let same =
                key.isEmpty || keys[k].withUnsafeBytes { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
            if same { return values[k] }
        }
        return nil
    }

    /// Keeps `value` for `key` (unless the key is longer than `maximumKeyLength`).
    @inlinable
    public mutating func keep(_ value: Value, for key: UnsafeRawBufferPointer) {
        guard key.count <= maximumKeyLength else { return }
        if keys.count < capacity {
            keys.append(Array(key))
            values.append(value)
        } else {
            keys[next].replaceSubrange(keys[next].indices, with: key)
            values[next] = value
            next = (next + 1) % capacity
        }
    }

    /// The value kept for exactly `key`, else `make()`'s, then kept.
    @inlinable
    public mutating func value(for key: UnsafeRawBufferPointer, orMake make: () -> Value) -> Value {
        if let kept = value(for: key) { return kept }
        let made = make()
        keep(made, for: key)
        return made
    }
}
