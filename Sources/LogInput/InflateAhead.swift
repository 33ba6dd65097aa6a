import Dispatch
import Synchronization

/// Inflates a gzip file on a thread of its own, a few blocks ahead of the reader, so that inflating overlaps the
/// scan of what was already inflated. Only for regular files: a stream's waits and stop requests stay on the
/// reader's thread.
///
/// The shared state is all here: the stream (touched only by the producer task until ``finish()`` returns), the
/// blocks (a block is written by the producer while it is on the free list's side, read by the reader once it is
/// on the ready side), and the two lists under one mutex, with a semaphore counting each side.
final class InflateAhead: @unchecked Sendable {
    /// What one block holds once the producer filled it.
    private struct Filled {
        var block: Int
        var count: Int
        var rawBytesRead: UInt64
        var error: InputError?
    }

    private struct Lists {
        var free: [Int]
        var ready: [Filled] = []
        var cancelled = false
    }

    private let stream: UnsafeMutablePointer<ByteStream>
    private let blocks: [UnsafeMutableRawBufferPointer]
    private let lists: Mutex<Lists>
    private let freeCount: DispatchSemaphore
    private let readyCount = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    /// The reader's side: the block being copied out, and where.
    private var current: Filled?
    private var position = 0
    private var ended = false
    /// Compressed bytes read so far, as of the last block handed over.
    private(set) var rawBytesRead: UInt64

    /// Starts inflating `stream` (whose first fill already happened on the reader's thread) into `count` blocks of
    /// `blockSize` bytes. The stream must stay valid, and untouched by anyone else, until ``finish()``.
    init(stream: UnsafeMutablePointer<ByteStream>, blockSize: Int, count: Int = 4) {
        self.stream = stream
        blocks = (0..<count).map { _ in .allocate(byteCount: blockSize, alignment: 64) }
        lists = Mutex(Lists(free: Array(0..<count)))
        // Made at 0 and signalled: libdispatch refuses to free a semaphore left below the value it was made with.
        freeCount = DispatchSemaphore(value: 0)
        for _ in 0..<count { freeCount.signal() }
        rawBytesRead = stream.pointee.rawBytesRead
        done.enter()
        DispatchQueue(label: "jwtsift.inflate").async { self.produce() }
    }

    deinit {
        finish()
        for b in blocks { b.deallocate() }
    }

    private func produce() {
        defer { done.leave() }
        while true {
            freeCount.wait()
            guard let block = lists.withLock({ $0.cancelled ? nil : $0.free.popLast() }) else { return }
            var filled = Filled(block: block, count: 0, rawBytesRead: 0, error: nil)
            do {
                filled.count = try stream.pointee.fill(blocks[block])
            } catch {
                filled.error = error
            }
            filled.rawBytesRead = stream.pointee.rawBytesRead
            let last = filled.count == 0 || filled.error != nil
            lists.withLock { $0.ready.append(filled) }
            readyCount.signal()
            if last { return }
        }
    }

    /// Copies inflated bytes into `dst`, as ``ByteStream/fill(_:)`` would; 0 at the end. Errors come in the order
    /// the stream raised them, after the bytes inflated before them.
    func fill(_ dst: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if ended || dst.count == 0 { return 0 }
        if current == nil {
            readyCount.wait()
            current = lists.withLock { $0.ready.removeFirst() }
            position = 0
        }
        let filled = current!
        rawBytesRead = filled.rawBytesRead
        if let error = filled.error {
            ended = true
            throw error
        }
        if filled.count == 0 {
            ended = true
            return 0
        }
        let n = min(dst.count, filled.count - position)
        dst.baseAddress!.copyMemory(from: blocks[filled.block].baseAddress! + position, byteCount: n)
        position += n
        if position == filled.count {
            lists.withLock { $0.free.append(filled.block) }
            freeCount.signal()
            current = nil
        }
        return n
    }

    /// Stops the producer and waits until it no longer touches the stream. Idempotent.
    func finish() {
        lists.withLock { $0.cancelled = true }
        freeCount.signal()
        done.wait()
    }
}
