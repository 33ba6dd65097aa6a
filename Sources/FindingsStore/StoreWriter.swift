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

    /// The open group: one transaction holding the last batches of several sources, and the plans of the sources
    /// between them (``syncInGroup(_:)``). A directory of small files made a transaction per file, each writing
    /// the token, rollup and totals pages it touched to the WAL again (2,000 files of 100 kB: 7.9 s with `--db`).
    /// The group is committed once it holds ``groupRows`` rows or is ``groupSeconds`` old, when a batch that does
    /// not end its source comes (a large file's batches commit on their own, as before), before any other `sync`,
    /// and when the writer has had nothing to do for ``groupSeconds``. A run killed meanwhile loses the group
    /// whole (rows, progress and the plans that made its sources), so the database stays consistent and the next
    /// run reads those sources again. Touched only on `queue`.
    private var group: (started: Double, rows: Int, last: Double)?
    static let groupRows = 8192
    static let groupSeconds = 0.5
    /// Transactions committed by the writer that held several sources' batches (for tests and benches).
    public private(set) var groupsCommitted = 0

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
                if batch.endsSource {
                    let now = FindingsDB.monotonic()
                    if group == nil {
                        try db.connection.execute("BEGIN IMMEDIATE")
                        group = (now, 0, now)
                    }
                    try db.write(batch, runID: runID)
                    group!.rows += batch.rowCount
                    group!.last = now
                    if group!.rows >= Self.groupRows || now - group!.started >= Self.groupSeconds {
                        try commitGroup()
                    } else {
                        commitWhenIdle()
                    }
                } else {
                    try commitGroup()
                    try db.write(batch, runID: runID)
                }
            } catch {
                fail(error)
            }
        }
    }

    /// Commits the open group, if any. On the queue.
    private func commitGroup() throws(SQLiteError) {
        guard group != nil else { return }
        try db.connection.execute("COMMIT")
        group = nil
        groupsCommitted += 1
    }

    /// A write failed: the open group is rolled back (its batches are lost together; ids learnt in it may not
    /// exist), and the first failure is kept (the scan stops, later batches are dropped). On the queue.
    private func fail(_ error: SQLiteError) {
        if group != nil {
            if db.connection.inTransaction { try? db.connection.execute("ROLLBACK") }
            db.forgetIDs()
            group = nil
        }
        failure.withLock { if $0 == nil { $0 = .sqlite(error) } }
    }

    /// A check of the open group is scheduled (``commitWhenIdle()``). Touched only on `queue`.
    private var idleCheck = false

    /// Commits the group once nothing was added to it for ``groupSeconds`` (a run that waits on a stream, or stops,
    /// does not keep its last sources uncommitted). One check at a time, scheduled again while batches keep coming.
    private func commitWhenIdle() {
        guard !idleCheck else { return }
        idleCheck = true
        // Weak: a writer let go of (its run finished, the group committed by the last `sync`) is not kept alive,
        // with its database open, by a pending check.
        queue.asyncAfter(deadline: .now() + Self.groupSeconds) { [weak self] in
            guard let self else { return }
            idleCheck = false
            guard let g = group, failed == nil else { return }
            guard FindingsDB.monotonic() - g.last >= Self.groupSeconds * 0.9 else {
                commitWhenIdle()
                return
            }
            do throws(SQLiteError) { try commitGroup() } catch { fail(error) }
        }
    }

    /// Runs `body` on the writer's queue after everything queued before it, and returns its result. The open
    /// group is committed first (a failure there is the first failure, and `body` does not run).
    public func sync<T>(_ body: (FindingsDB) throws(SQLiteError) -> T) throws(StoreError) -> T {
        try onQueue { () throws(SQLiteError) -> T in
            do throws(SQLiteError) { try commitGroup() } catch {
                fail(error)
                throw error
            }
            return try body(db)
        }
    }

    /// As ``sync(_:)``, but inside the open group if there is one (a source's plan, between the batches of the
    /// sources before and after it: what it reads and writes is committed, or lost, with them). A failure inside
    /// a group loses the group's batches with it, so it is the run's failure as a failed batch is; without a group
    /// it is the caller's alone (the plan's own transaction rolled back).
    public func syncInGroup<T>(_ body: (FindingsDB) throws(SQLiteError) -> T) throws(StoreError) -> T {
        try onQueue { () throws(SQLiteError) -> T in
            do throws(SQLiteError) { return try body(db) } catch {
                if group != nil { fail(error) }
                throw error
            }
        }
    }

    private func onQueue<T>(_ body: () throws(SQLiteError) -> T) throws(StoreError) -> T {
        let result: Result<T, SQLiteError> = queue.sync { Result { () throws(SQLiteError) -> T in try body() } }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw .sqlite(e)
        }
    }
}
