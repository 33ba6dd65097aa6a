import Synchronization

/// Memory a chunk's bytes live in when the reader hands chunks to other threads
/// (``LogReader/read(from:line:pool:_:)``): whoever keeps a reference keeps the bytes valid, and gives the buffer
/// back to its pool when done (or lets it go: it is freed then).
public final class ChunkBuffer: @unchecked Sendable {
    /// The whole buffer; a chunk uses a prefix of it. Written only by the reader, before it hands the chunk over.
    public let base: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        base = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { base.deallocate() }
}

/// Free buffers of one size, reused instead of allocated per chunk. Shared by the reader (which takes) and the
/// threads done with chunks (which give back); at most ``limit`` are kept.
public final class ChunkBufferPool: Sendable {
    public let capacity: Int
    public let limit: Int
    private let free = Mutex<[ChunkBuffer]>([])

    /// - Parameters:
    ///   - capacity: bytes per buffer (the reader needs `maximumLineLength + blockSize`).
    ///   - limit: free buffers kept; more are freed.
    public init(capacity: Int, limit: Int) {
        self.capacity = capacity
        self.limit = limit
    }

    func take() -> ChunkBuffer {
        free.withLock { $0.popLast() } ?? ChunkBuffer(capacity: capacity)
    }

    /// Returns a buffer no chunk uses any more.
    public func giveBack(_ buffer: ChunkBuffer) {
        guard buffer.base.count == capacity else { return }
        free.withLock { if $0.count < limit { $0.append(buffer) } }
    }
}
