import Dispatch
import JOSECrypto
import JWTScan
import LogInput
import SiftCore
import Synchronization

/// Several small files at once: worker threads scan the files after the one being merged, each whole, while the
/// merging thread delivers them in order (or scans a file itself when no worker has taken it yet).
///
/// A file of a chunk or two is not split over the cores (``ScanRun`` scans it on the merging thread: starting the
/// chunk workers costs more than its scan), so a directory of thousands of small files used one core whatever
/// `--jobs` said. Here each worker takes the next file in order, maps it and scans its chunks one after another
/// from the start, exactly as the merging thread would (the same chunks, the same scanner state carried from one
/// chunk to the next, the file's own fallback year), and hands the chunks' findings over; the merge delivers them
/// when it comes to the file, if the consumer's plan is to read it from its start and the file is what the worker
/// mapped (same size, modification time and inode). Otherwise the worker's scan is dropped and the file is read
/// as before.
///
/// A worker takes only small regular files (``MappedLog`` maps them: not gzip, in the page cache), and none past
/// one that is not: a large file is scanned by every core in its turn, with nothing running ahead of it. It stays
/// at most ``window`` files ahead of the merge, and runs ahead only while the consumer reads files from their
/// start (a database run that skips files already scanned does not pay for scans it drops).
///
/// Shared state, all here: the claims (who scans which file), the finished scans waiting for the merge, and the
/// flags that stop or pause the workers — behind one mutex; each worker's scanner is its own.
final class FilePrefetch: @unchecked Sendable {
    /// One chunk of a file scanned ahead: the chunk (numbered), its findings, and its records when the workers
    /// render them.
    struct Chunk {
        var chunk: OwnedChunk
        var findings: ScanFindings
        var rendered: RenderedChunk?
    }

    /// A file scanned ahead, whole.
    struct File {
        let log: MappedLog
        let facts: FileFacts
        let chunks: [Chunk]
    }

    private enum Slot {
        /// Taken by a worker, not finished.
        case scanning
        /// Finished: the scan, or nil when the file is not for scanning ahead.
        case done(File?)
    }

    private struct State {
        /// The first file no one has taken.
        var next: Int
        /// The file the merge is at (files before it are done with).
        var merge = 0
        /// No worker takes a file at or past this one (a file not for scanning ahead, until the merge passes it).
        var barrier = Int.max
        /// False while the consumer skips or resumes files (nothing is scanned ahead meanwhile).
        var ahead = true
        var stopped = false
        var slots: [Int: Slot] = [:]
    }

    let sources: [InputSource]
    let window: Int
    private let state: Mutex<State>
    /// Signalled for the workers when the merge moves on or the run stops (they look at the state again).
    private let mayTake = DispatchSemaphore(value: 0)
    /// Signalled for the merge when a worker hands a scan over.
    private let handedOver = DispatchSemaphore(value: 0)
    private let workers: Int
    private let done = DispatchGroup()
    private let queues: [DispatchQueue]
    /// Files whose scan the merge used.
    private let used = Atomic<Int>(0)
    var scansUsed: Int { used.load(ordering: .relaxed) }

    private let options: ScanOptions
    private let matcher: PhraseMatcher
    /// The merging thread's scanner, for the files it scans ahead while it waits (``arrive(at:readingFromStart:)``).
    private var mergeScanner: LineScanner
    /// The run's window (`--since`/`--until`) and the consumer's renderer, for every file.
    private let finish: ChunkFinish
    private let prerender: ChunkPrerender?

    /// `workers` threads scanning ahead of the merge; `prerender`: the consumer's records rendered by the workers.
    init(
        sources: [InputSource], options: ScanOptions, matcher: PhraseMatcher, workers: Int,
        prerender: ChunkPrerender?
    ) {
        self.sources = sources
        self.options = options
        self.matcher = matcher
        mergeScanner = LineScanner(
            timeParser: TimestampParser(zone: options.zone), matcher: matcher, fingerprint: SHA256Context().hash)
        self.workers = max(1, workers)
        window = 4 * self.workers + 2
        state = Mutex(State(next: 0))
        queues = (0..<self.workers).map { DispatchQueue(label: "jwtsift.scan.ahead\($0)") }
        var finish = ChunkFinish()
        if options.since != nil || options.until != nil {
            finish.window = (options.since ?? -.infinity, options.until ?? .infinity)
        }
        self.finish = finish
        self.prerender = prerender
    }

    /// Starts the workers.
    func start() {
        for w in 0..<workers {
            queues[w].async(group: done) { [self] in
                let hasher = SHA256Context()
                var scanner = LineScanner(
                    timeParser: TimestampParser(zone: options.zone), matcher: matcher, fingerprint: hasher.hash)
                while let index = take(waiting: true) {
                    let file = scan(index, with: &scanner)
                    state.withLock { s in
                        s.slots[index] = .done(file)
                        if file == nil { s.barrier = min(s.barrier, index + 1) }
                    }
                    handedOver.signal()
                }
            }
        }
    }

    /// The next file for a worker, waiting while it may not take one (`waiting`; else nil at once); nil once the
    /// run is stopped or every file is taken.
    private func take(waiting: Bool) -> Int? {
        while true {
            let taken: Int?? = state.withLock { s in
                if s.stopped || s.next >= sources.count { return .some(nil) }
                guard s.ahead, s.next < s.barrier, s.next < s.merge + window else { return nil }
                let index = s.next
                s.next += 1
                s.slots[index] = .scanning
                return index
            }
            if let taken { return taken }
            guard waiting else { return nil }
            mayTake.wait()
        }
    }

    /// Scans file `index` whole from its start, as ``ScanRun`` scans a mapped file on one thread; nil when it is
    /// not for scanning ahead.
    private func scan(_ index: Int, with scanner: inout LineScanner) -> File? {
        guard case .file(let path) = sources[index], let facts = FileFacts.of(path), facts.isRegular,
            let log = try? MappedLog.open(sources[index], options: options.reader),
            log.size <= 2 * (options.reader.maximumLineLength + options.reader.blockSize)
        else { return nil }
        scanner.beginSource(modified: facts.mtime)
        var finish = self.finish
        if let prerender { finish.prerender = (prerender, NDJSONConsumer.quotedName(sources[index])) }
        var chunks: [Chunk] = []
        var line: UInt64 = 1
        while let m = log.nextChunk() {
            var c = OwnedChunk(m, in: log, firstLine: line, newlines: 0)
            var findings = ScanFindings()
            c.newlines = scanner.scan(
                c.bytes, streamOffset: c.streamOffset, firstLine: c.firstLine, continuesLine: c.continuesLine,
                cutAtEnd: c.cutAtEnd, into: &findings)
            line += c.newlines
            finish.keepWindow(&findings)
            var rendered: RenderedChunk? = nil
            if let (prerender, name) = finish.prerender {
                let out = renderedFree.withLock { $0.popLast() } ?? RenderedChunk()
                prerender.render(findings, source: name, into: out)
                rendered = out
            }
            chunks.append(Chunk(chunk: c, findings: findings, rendered: rendered))
        }
        return File(log: log, facts: facts, chunks: chunks)
    }

    /// The merge is at file `index`: its scan when a worker took it (waiting for it), else nil — then no worker
    /// will take it and the merge reads it itself. `reading`: the consumer's plan is to read it from its first
    /// byte, line 1 (else a worker's scan is dropped, and no file is scanned ahead until a plan reads from the
    /// start again).
    func arrive(at index: Int, readingFromStart reading: Bool) -> File? {
        let wasTaken: Bool = state.withLock { s in
            s.merge = index
            s.ahead = reading
            if s.barrier <= index { s.barrier = Int.max }
            if s.next <= index {
                s.next = index + 1
                return false
            }
            return true
        }
        for _ in 0..<workers { mayTake.signal() }
        guard wasTaken else { return nil }
        while true {
            let slot: Slot? = state.withLock { s in s.slots[index] }
            if case .done(let file) = slot {
                state.withLock { s in _ = s.slots.removeValue(forKey: index) }
                guard reading, let file else { return nil }
                used.add(1, ordering: .relaxed)
                return file
            }
            // Still being scanned: the merge scans the next file no one has taken meanwhile (kept for its turn),
            // so the merging thread is a scanner too and not only a waiter.
            if let ahead = take(waiting: false) {
                let file = scan(ahead, with: &mergeScanner)
                state.withLock { s in
                    s.slots[ahead] = .done(file)
                    if file == nil { s.barrier = min(s.barrier, ahead + 1) }
                }
                continue
            }
            handedOver.wait()
        }
    }

    /// Gives back a delivered chunk's records buffer, for the next file's chunks.
    func recycle(_ rendered: RenderedChunk) {
        renderedFree.withLock { if $0.count < 2 * window { $0.append(rendered) } }
    }

    private let renderedFree = Mutex<[RenderedChunk]>([])

    /// Stops the workers after the files they are scanning, and waits for them.
    func stop() {
        state.withLock { s in s.stopped = true }
        for _ in 0..<workers { mayTake.signal() }
        done.wait()
    }
}
