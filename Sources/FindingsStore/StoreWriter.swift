import Dispatch
import SiftCore
import Synchronization

/// The one writer: a serial queue that owns the ``FindingsDB`` and writes batches in order, each in its own
/// transaction, while the scan goes on. At most `depth` batches wait, so memory stays bounded and a slow disk
/// slows the scan down instead of filling memory.
///
/// Shared state, all here: the database (touched only on `queue`), the first failure (behind a mutex) and the
/// semaphore counting free slots.
public final class StoreWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "jwtsift.store-writer")
    private let slots: DispatchSemaphore
    private let db: FindingsDB
    public let runID: Int64
    private let failure = Mutex<StoreError?>(nil)
    /// Batches submitted and not yet written (queued or being written).
    private let unwritten = Atomic<Int>(0)

    /// Takes ownership of `db`; from here on it is used only on the writer's queue.
    public init(db: FindingsDB, runID: Int64, depth: Int = 2) {
        self.db = db
        self.runID = runID
        self.slots = DispatchSemaphore(value: max(1, depth))
    }

    /// The first write that failed; once set, later batches are dropped (the scan should stop).
    public var failed: StoreError? { failure.withLock { $0 } }

    /// Whether every batch submitted so far is written: the writer has nothing to do. A scan hands over a smaller
    /// batch then rather than leave the writer's core idle (``SiftPipeline/DatabaseConsumer``).
    public var isIdle: Bool { unwritten.load(ordering: .acquiring) == 0 }

    /// Queues a batch; waits only when `depth` batches are already waiting.
    public func submit(_ batch: Batch) {
        slots.wait()
        unwritten.add(1, ordering: .relaxed)
        queue.async { [self] in
            defer {
                unwritten.subtract(1, ordering: .releasing)
                slots.signal()
            }
            guard failed == nil else { return }
            do throws(SQLiteError) {
                try db.write(batch, runID: runID)
            } catch {
                failure.withLock { if $0 == nil { $0 = .sqlite(error) } }
            }
        }
    }

    /// Runs `body` on the writer's queue after everything queued before it, and returns its result.
    public func sync<T>(_ body: (FindingsDB) throws(SQLiteError) -> T) throws(StoreError) -> T {
        let result: Result<T, SQLiteError> = queue.sync { Result { () throws(SQLiteError) -> T in try body(db) } }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw .sqlite(e)
        }
    }
}
