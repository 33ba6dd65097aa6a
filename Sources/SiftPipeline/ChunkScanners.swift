import Dispatch
import JOSECrypto
import JWTScan
import LogInput
import SiftCore
import Synchronization

/// A chunk kept with the memory it lives in — a pool buffer (the reader reads on into other buffers) or a slice of
/// a mapped file (``MappedLog``, kept by the scan) — so another thread can scan it while the reader goes on.
struct OwnedChunk: @unchecked Sendable {
    /// The pool buffer the bytes are in; nil for a slice of a mapped file.
    let buffer: ChunkBuffer?
    let start: UnsafeRawPointer
    let count: Int
    var streamOffset: UInt64
    var firstLine: UInt64
    var continuesLine: Bool
    var cutAtEnd: Bool
    var newlines: UInt64
    var openLineStart: Int

    /// `c` must come from a reader with a pool (it has a buffer).
    init(_ c: LogChunk) {
        buffer = c.buffer!
        start = UnsafeRawPointer(c.buffer!.base.baseAddress!)
        count = c.bytes.count
        streamOffset = c.streamOffset
        firstLine = c.firstLine
        continuesLine = c.continuesLine
        cutAtEnd = c.cutAtEnd
        newlines = c.newlines
        openLineStart = c.openLineStart
    }

    /// A chunk of a mapped file, its newlines counted and its first line numbered.
    init(_ c: MappedChunk, in log: MappedLog, firstLine: UInt64, newlines: UInt64) {
        buffer = nil
        start = log.bytes(c).baseAddress!
        count = c.count
        streamOffset = c.streamOffset
        self.firstLine = firstLine
        continuesLine = c.continuesLine
        cutAtEnd = c.cutAtEnd
        self.newlines = newlines
        openLineStart = c.openLineStart
    }

    /// The chunk's bytes; valid while the chunk (its buffer, or the mapped file) is kept.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }

    var endOffset: UInt64 { streamOffset + UInt64(count) }
}

/// One chunk's scan as a worker did it, from an assumed empty carry (see ``LineScanner/Carry``).
struct ChunkScan: Sendable {
    var findings = ScanFindings()
    /// The carry after the chunk, when the chunk itself set it (a full-dated time, a cut last line).
    var endCarry = LineScanner.Carry()
    var setReference = false
    var usedIncomingReference = false
    /// The chunk's records, when the consumer lets the workers render them (``ChunkPrerender``).
    var rendered: RenderedChunk?
    /// Newlines in the chunk (counted by the scan).
    var newlines: UInt64 = 0
    /// The findings carry their real line numbers; false: numbered from 0, left to the merge to renumber (a chunk
    /// of a mapped file scanned before every chunk before it was counted), and not rendered.
    var numbered = true
}

/// What the workers do to a chunk after scanning it, besides keeping its findings.
struct ChunkFinish: Sendable {
    /// Keep only findings on lines whose time is in [since, until) (`--since`, `--until`).
    var window: (since: Double, until: Double)?
    /// Render the chunk's records with this, for the source named (quoted) so.
    var prerender: (ChunkPrerender, source: [UInt8])?

    /// With a window, drops findings on lines outside it or without a time: once per chunk, wherever the chunk
    /// was scanned (a worker, the calling thread, a scan again in order).
    func keepWindow(_ f: inout ScanFindings) {
        guard let (since, until) = window else { return }
        f.tokens.removeAll { t in t.logTime.map { !($0 >= since && $0 < until) } ?? true }
        f.errors.removeAll { e in e.logTime.map { !($0 >= since && $0 < until) } ?? true }
    }
}

/// Scans batches of chunks of one stream on several threads: fork-join over `DispatchQueue.concurrentPerform`,
/// one ``LineScanner`` per worker (sharing the immutable phrase matcher), chunk `i` of a batch scanned by worker
/// `i % workers`. The shared state is all here: the scanners (worker `w` touches only `scanners[w]`) and the
/// result slots (slot `i` written by the one worker that scans chunk `i`, read after the fork-join returns).
/// One batch at a time: ``scan(_:)`` may run on another thread than its caller, never twice at once.
final class ChunkScanners: @unchecked Sendable {
    let workers: Int
    /// The workers' scanners, each on cache lines of its own (a scanner's state changes on every line: two
    /// scanners sharing a line would make the cores fight over it).
    private let scannerMemory: UnsafeMutableRawPointer
    private static let scannerStride = (MemoryLayout<LineScanner>.stride + 127) / 128 * 128 + 128

    private func scanner(_ w: Int) -> UnsafeMutablePointer<LineScanner> {
        (scannerMemory + w * Self.scannerStride).assumingMemoryBound(to: LineScanner.self)
    }

    /// One serial queue per worker: a queue made here gets a thread of its own when it has work (it targets
    /// Dispatch's overcommitting root queue), where a task on the global queue waits for a thread while the
    /// pool counts every core busy.
    private let queues: [DispatchQueue]

    init(workers: Int, zone: LocalZone, matcher: PhraseMatcher) {
        self.workers = max(1, workers)
        queues = (0..<self.workers).map { DispatchQueue(label: "jwtsift.scan.worker\($0)") }
        scannerMemory = .allocate(byteCount: self.workers * Self.scannerStride, alignment: 128)
        for w in 0..<self.workers {
            let hasher = SHA256Context()
            (scannerMemory + w * Self.scannerStride).bindMemory(to: LineScanner.self, capacity: 1).initialize(
                to: LineScanner(timeParser: TimestampParser(zone: zone), matcher: matcher, fingerprint: hasher.hash))
        }
    }

    deinit {
        for w in 0..<workers { _ = scanner(w).deinitialize(count: 1) }
        scannerMemory.deallocate()
    }

    /// The source's fallback year and month for yearless stamps (from its modification time).
    func setFallback(year: Int, month: Int) {
        for w in 0..<workers {
            scanner(w).pointee.timeParser.fallbackYear = year
            scanner(w).pointee.timeParser.fallbackMonth = month
        }
    }

    /// Starts scanning every chunk of the batch, each from an empty carry: one task per worker on the global
    /// queue, all in `group`. The results are in the returned ``BatchResult`` once the group is waited on; the
    /// next batch may start only then (each worker's scanner serves one batch at a time).
    ///
    /// One task per worker, not a `concurrentPerform` inside one task: on a machine whose cores are all busy
    /// (the reader's thread and the task that would call it), Dispatch runs `concurrentPerform`'s iterations one
    /// after another on the calling thread.
    func start(_ batch: [OwnedChunk], finish: ChunkFinish, group: DispatchGroup) -> BatchResult {
        let result = BatchResult(batch)
        let workers = min(self.workers, batch.count)
        for w in 0..<workers {
            let scanner = Scanner(base: self.scanner(w))
            queues[w].async(group: group) {
                var i = w
                while i < result.batch.count {
                    result.slots[i] = self.scan(result.batch[i], with: scanner, finish: finish)
                    i += workers
                }
            }
        }
        return result
    }

    /// One chunk's scan by a worker, from an empty carry. With `numbering`, the chunk's first line is not known yet:
    /// it is scanned numbered from 0, and `numbering` gets its newline count and answers the number of its first
    /// line when every chunk before it has been counted — then the findings are renumbered (and rendered) here,
    /// else they are left for the merge (``ChunkScan/numbered`` false).
    private func scan(
        _ c: OwnedChunk, with scanner: Scanner, finish: ChunkFinish, numbering: ((UInt64) -> UInt64?)? = nil
    ) -> ChunkScan {
        var scan = ChunkScan()
        scan.findings = takeFindings()
        scanner.base.pointee.start(LineScanner.Carry())
        scan.newlines = scanner.base.pointee.scan(
            c.bytes, streamOffset: c.streamOffset, firstLine: numbering == nil ? c.firstLine : 0,
            continuesLine: c.continuesLine, cutAtEnd: c.cutAtEnd, into: &scan.findings)
        finish.keepWindow(&scan.findings)
        if let numbering {
            if let first = numbering(scan.newlines) {
                scan.findings.shiftLines(by: first)
            } else {
                scan.numbered = false
            }
        }
        if scan.numbered, let (prerender, source) = finish.prerender {
            let out = takeRendered()
            prerender.render(scan.findings, source: source, into: out)
            scan.rendered = out
        }
        scan.endCarry = scanner.base.pointee.carry
        scan.setReference = scanner.base.pointee.setReference
        scan.usedIncomingReference = scanner.base.pointee.usedIncomingReference
        return scan
    }

    /// Starts scanning a mapped file: every worker but the last takes the next chunk (``MappedRing/take(waiting:)``:
    /// cut in order under a lock), scans it from an empty carry with its lines numbered from 0, learns the number
    /// of its first line once every chunk before it is counted (``MappedRing/counted(_:newlines:)``) and hands it
    /// to the ring, with no batch to wait for — until the file ends or the ring is cancelled. The last worker's
    /// scanner is the caller's (``scanHere(_:finish:)``): it merges in order and scans a chunk itself whenever the
    /// next one is not ready, so `workers` threads share `workers` cores without a merging thread to wake. At most
    /// ``MappedRing/capacity`` chunks are taken ahead of the merge.
    func start(_ ring: MappedRing, finish: ChunkFinish) {
        for w in 0..<(workers - 1) {
            let scanner = Scanner(base: self.scanner(w))
            queues[w].async(group: ring.done) {
                while let (index, chunk) = ring.take(waiting: true) {
                    guard let chunk else { return }
                    let scan = self.scan(chunk, with: scanner, finish: finish) { ring.counted(index, newlines: $0) }
                    ring.publish(index, chunk, scan)
                }
            }
        }
    }

    /// Takes the next chunk of the ring, if there is room, and scans it on the calling thread (with the last
    /// worker's scanner, which no task uses: see ``start(_:finish:)``). False when there was nothing to take.
    func scanHere(_ ring: MappedRing, finish: ChunkFinish) -> Bool {
        guard let (index, chunk) = ring.take(waiting: false) else { return false }
        if let chunk {
            let scan = scan(chunk, with: Scanner(base: scanner(workers - 1)), finish: finish) {
                ring.counted(index, newlines: $0)
            }
            ring.publish(index, chunk, scan)
        }
        return true
    }

    /// Rendered output buffers no chunk uses any more: reused, so their memory is not mapped afresh per chunk.
    private let renderedFree = Mutex<[RenderedChunk]>([])

    private func takeRendered() -> RenderedChunk {
        renderedFree.withLock { $0.popLast() } ?? RenderedChunk()
    }

    /// Gives back a chunk's rendered output once it is written.
    func recycle(_ rendered: RenderedChunk) {
        renderedFree.withLock { if $0.count < 4 * workers * ScanRun.chunksPerWorker { $0.append(rendered) } }
    }

    /// Findings arrays no chunk uses any more, kept with their capacity: a chunk's token array passes 128 KiB,
    /// where glibc maps and unmaps each allocation afresh (its threshold is fixed, see `JWTSift.main`), so a new
    /// one per chunk cost a page fault per 4 KiB written.
    private let findingsFree = Mutex<[ScanFindings]>([])

    private func takeFindings() -> ScanFindings {
        var f = findingsFree.withLock { $0.popLast() } ?? ScanFindings()
        f.removeAll()
        return f
    }

    /// Gives back a chunk's findings once they are delivered (the caller holds no other reference to them).
    func recycle(findings: ScanFindings) {
        findingsFree.withLock { if $0.count < 4 * workers * ScanRun.chunksPerWorker { $0.append(findings) } }
    }

    /// A worker's scanner, touched only by the one task that runs that worker's share of a batch.
    private struct Scanner: @unchecked Sendable { let base: UnsafeMutablePointer<LineScanner> }
}

/// A batch with the workers: its chunks, and one result slot per chunk — slot `i` written by the one task that
/// scans chunk `i`, read after the batch's group is waited on.
final class BatchResult: @unchecked Sendable {
    let batch: [OwnedChunk]
    let slots: UnsafeMutablePointer<ChunkScan>

    init(_ batch: [OwnedChunk]) {
        self.batch = batch
        slots = .allocate(capacity: batch.count)
        slots.initialize(repeating: ChunkScan(), count: batch.count)
    }

    deinit {
        slots.deinitialize(count: batch.count)
        slots.deallocate()
    }
}

/// A mapped file's chunks on their way from the workers to the in-order merge: a ring of slots, chunk `i` in slot
/// `i % capacity`. A worker takes a free place (`space`) before it takes a chunk, so a slot is written only after
/// the merge let go of the chunk that had it; the merge waits for each slot's `ready` in order. Chunks are cut in
/// order under `cutter`'s lock, by whichever worker takes the next one; their lines are counted by their scans and
/// summed in order in `frontier`.
final class MappedRing: @unchecked Sendable {
    let log: MappedLog
    let capacity: Int
    /// The workers' tasks.
    let done = DispatchGroup()
    private let space = DispatchSemaphore(value: 0)
    private let ready: [DispatchSemaphore]
    /// Slot `i % capacity`: chunk `i` and its scan; a nil chunk marks the end of the file.
    private let slots: UnsafeMutablePointer<(chunk: OwnedChunk?, scan: ChunkScan)>
    private let cutter: Mutex<(next: Int, ended: Bool)>
    /// The newline counts of scanned chunks, summed in chunk order as far as every chunk is counted: `next` is
    /// the first chunk not yet counted, `line` the number of its first line; `bases[i % capacity]` the first line
    /// of chunk `i < next`, `counts[i % capacity]` the count of a chunk at or past `next` (nil: not yet scanned).
    private let frontier: Mutex<(next: Int, line: UInt64, counts: [UInt64?], bases: [UInt64])>
    private let cancelled = Atomic<Bool>(false)
    private let workers: Int

    init(_ log: MappedLog, firstLine: UInt64, workers: Int, capacity: Int) {
        self.log = log
        self.capacity = capacity
        self.workers = workers
        ready = (0..<capacity).map { _ in DispatchSemaphore(value: 0) }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: (nil, ChunkScan()), count: capacity)
        cutter = Mutex((0, false))
        frontier = Mutex((0, firstLine, Array(repeating: nil, count: capacity), Array(repeating: 0, count: capacity)))
        // Signalled rather than set as the start value: Dispatch traps when a semaphore is freed below its start.
        for _ in 0..<capacity { space.signal() }
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// A worker's next chunk and its index: nil when the ring is cancelled or the end was already taken, or
    /// (`waiting` false) when the ring is full; a nil chunk is the end (its index is where the merge finds it).
    func take(waiting: Bool) -> (Int, OwnedChunk?)? {
        if waiting {
            space.wait()
        } else if space.wait(timeout: .now()) == .timedOut {
            return nil
        }
        if cancelled.load(ordering: .acquiring) {
            space.signal()
            return nil
        }
        let log = self.log
        let taken: (Int, OwnedChunk?)? = cutter.withLock { state in
            if state.ended { return nil }
            let index = state.next
            state.next += 1
            guard let c = log.nextChunk() else {
                state.ended = true
                return (index, nil)
            }
            return (index, OwnedChunk(c, in: log, firstLine: 0, newlines: 0))
        }
        guard let taken else {
            space.signal()
            return nil
        }
        if taken.1 == nil { publish(taken.0, nil, ChunkScan()) }
        return taken
    }

    /// Records that chunk `index` holds `newlines` newlines; answers the number of its first line when every
    /// chunk before it is counted, else nil.
    func counted(_ index: Int, newlines: UInt64) -> UInt64? {
        let capacity = self.capacity
        return frontier.withLock { f in
            f.counts[index % capacity] = newlines
            while let n = f.counts[f.next % capacity] {
                f.counts[f.next % capacity] = nil
                f.bases[f.next % capacity] = f.line
                f.line += n
                f.next += 1
            }
            return index < f.next ? f.bases[index % capacity] : nil
        }
    }

    func publish(_ index: Int, _ chunk: OwnedChunk?, _ scan: ChunkScan) {
        slots[index % capacity] = (chunk, scan)
        ready[index % capacity].signal()
    }

    /// What the merge finds at an index.
    enum Arrival {
        case chunk(OwnedChunk, ChunkScan)
        case end
        /// Not handed over yet (``next(_:waiting:)`` without waiting).
        case pending
    }

    /// Chunk `index` and its scan, once a worker handed it over (or ``Arrival/pending`` at once, when not
    /// `waiting`). Calls come in index order, from one thread; each chunk's place is given back with ``free(_:)``.
    func next(_ index: Int, waiting: Bool) -> Arrival {
        if waiting {
            ready[index % capacity].wait()
        } else if ready[index % capacity].wait(timeout: .now()) == .timedOut {
            return .pending
        }
        let slot = slots[index % capacity]
        slots[index % capacity] = (nil, ChunkScan())
        guard let chunk = slot.chunk else { return .end }
        return .chunk(chunk, slot.scan)
    }

    /// Gives chunk `index`'s place back (its findings were delivered).
    func free(_ index: Int) { space.signal() }

    /// Stops the workers after the chunks they are scanning and waits for them (the mapping stays valid until
    /// then). Called once, at the end or on a stop.
    func finish() {
        cancelled.store(true, ordering: .releasing)
        for _ in 0..<(workers + 1) { space.signal() }
        done.wait()
    }
}
