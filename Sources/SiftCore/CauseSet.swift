/// A set of causes, iterated in precedence order.
public struct CauseSet: Sendable, Hashable, Sequence {
    public private(set) var bits: UInt32 = 0
    public init() {}
    public init(_ causes: some Sequence<Cause>) { for c in causes { insert(c) } }

    public mutating func insert(_ c: Cause) { bits |= 1 << UInt32(c.precedence) }
    public mutating func remove(_ c: Cause) { bits &= ~(1 << UInt32(c.precedence)) }
    public func contains(_ c: Cause) -> Bool { bits & (1 << UInt32(c.precedence)) != 0 }
    public var isEmpty: Bool { bits == 0 }
    public var count: Int { bits.nonzeroBitCount }
    public var first: Cause? { bits == 0 ? nil : Cause.ordered[bits.trailingZeroBitCount] }
    public func union(_ o: CauseSet) -> CauseSet {
        var s = self
        s.bits |= o.bits
        return s
    }

    public struct Iterator: IteratorProtocol {
        var rest: UInt32
        public mutating func next() -> Cause? {
            guard rest != 0 else { return nil }
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            return Cause.ordered[i]
        }
    }

    /// Causes in precedence order.
    public func makeIterator() -> Iterator { Iterator(rest: bits) }

    /// "expired,not_yet_valid"
    public var joined: String { map(\.rawValue).joined(separator: ",") }
}
