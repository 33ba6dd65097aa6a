import Dispatch
import Synchronization
import Testing

@testable import LogInput

#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `release` after `seconds` on another thread unless `cancel()` came first: the watchdog that unblocks a
/// read a regression would leave blocked forever (so the test fails on its timing instead of hanging the suite).
final class Watchdog: Sendable {
    private let group = DispatchGroup()
    private let cancelled = Atomic<Bool>(false)

    init(after seconds: Double, release: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async(group: group) { [self] in
            let deadline = monotonicNow() + seconds
            while monotonicNow() < deadline {
                if cancelled.load(ordering: .relaxed) { return }
                usleep(10_000)
            }
            release()
        }
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        group.wait()
    }
}

/// Requests a stop after `seconds` from another thread and remembers when it did (the latency is measured from
/// there: on a loaded machine the timer itself may fire late).
final class RequestTime: Sendable {
    private let at = Mutex<Double>(.infinity)

    init(_ stop: StopRequest, after seconds: Double, code: Int32) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            at.withLock { $0 = monotonicNow() }
            stop.request(code)
        }
    }

    /// When the request was made (+∞ before).
    var time: Double { at.withLock { $0 } }
}

@Suite("Streams: FIFOs, pipes, stop requests", .serialized)
struct StreamInputTests {
    @Test("a FIFO with no writer: opening does not wait, and a stop request ends the wait for input at once")
    func fifoWithoutWriter() throws {
        let dir = TempDir()
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let stop = StopRequest()
        // A regression blocks in open() or read(): a writer that connects and leaves after 5 s unblocks it.
        let watchdog = Watchdog(after: 5) {
            // Never blocks: fails (ENXIO) unless a reader is there, which only a regression leaves waiting.
            let w = open(fifo, O_WRONLY | O_NONBLOCK)
            if w >= 0 { close(w) }
        }
        let requested = RequestTime(stop, after: 0.3, code: SIGTERM)
        var chunks = 0
        let summary = try LogReader(source: .file(fifo), options: ReaderOptions(stop: stop)).read { _ in
            chunks += 1
            return true
        }
        let latency = monotonicNow() - requested.time
        watchdog.cancel()
        #expect(summary.stopped)
        #expect(chunks == 0)
        #expect(stop.requested == SIGTERM)
        #expect(latency < 1.0, "the read ended \(latency) s after the stop request")
    }

    @Test("an idle pipe: a stop request ends the wait for input; a partial line is not delivered")
    func idlePipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        // Some bytes, no newline, then silence.
        _ = "2023-11-14T22:13:05Z no newline yet".withCString { write(writeEnd, $0, strlen($0)) }
        let watchdog = Watchdog(after: 5) { close(writeEnd) }
        let stop = StopRequest()
        let requested = RequestTime(stop, after: 0.3, code: SIGINT)
        var delivered = 0
        let summary = try LogReader(source: .file("/proc/self/fd/\(readEnd)"), options: ReaderOptions(stop: stop))
            .read { c in
                delivered += c.bytes.count
                return true
            }
        let latency = monotonicNow() - requested.time
        watchdog.cancel()
        close(writeEnd)
        #expect(summary.stopped)
        #expect(delivered == 0)
        #expect(latency < 1.0, "the read ended \(latency) s after the stop request")
    }

    @Test("a FIFO with a writer is read once, whole, and ends at the writer's close; no stop request needed")
    func fifoWithWriter() throws {
        let dir = TempDir()
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let text = (0..<2000).map { "line \($0) of the log\n" }.joined()
        let bytes = Array(text.utf8)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let w = open(fifo, O_WRONLY)
            guard w >= 0 else { return }
            usleep(200_000)  // the reader is already waiting: it must not take the delay for the end of input
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(w, $0.baseAddress! + done, min(1000, $0.count - done)) }
                if n <= 0 { break }
                done += n
            }
            close(w)
        }
        let watchdog = Watchdog(after: 5) {
            let w = open(fifo, O_WRONLY | O_NONBLOCK)
            if w >= 0 { close(w) }
        }
        let (chunks, summary) = try readAll(.file(fifo))
        watchdog.cancel()
        group.wait()
        #expect(chunks.flatMap(\.bytes) == bytes)
        #expect(summary.lines == 2000)
        #expect(!summary.stopped)
    }

    @Test("the identity helper never opens a stream: a FIFO's head is empty at once, a file's window is its bytes")
    func identityReadsOnlyRegularFiles() {
        let dir = TempDir()
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = monotonicNow()
        #expect(SmallFile.head(of: fifo, count: 4096).isEmpty)
        #expect(monotonicNow() - started < 1)
        let file = dir.write("a.log", "0123456789")
        #expect(SmallFile.bytes(of: file, at: 3, count: 4) == Array("3456".utf8))
        #expect(SmallFile.bytes(of: file, at: 8, count: 4) == Array("89".utf8))
        #expect(SmallFile.bytes(of: file, at: 20, count: 4).isEmpty)
    }
}

@Suite("Over-long lines: a token is never cut between pieces")
struct PieceBoundaryTests {
    /// A token-shaped run of `n` bytes.
    static func run(_ n: Int) -> [UInt8] { (0..<n).map { i in Array("eyJhbGciOi.JIUzI1NiJ9_-".utf8)[i % 23] } }

    @Test("the cut moves back to the start of a token run that reaches it, within the carry bound")
    func pieceEnd() {
        let token = Self.run(120)
        for before in [1, 3, 50, 119] {
            // `before` bytes of the token fall before the cut at 1000.
            let line = [UInt8](repeating: 0x20, count: 1000 - before) + token + [UInt8](repeating: 0x20, count: 500)
            let cut = line.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) }
            #expect(cut == 1000 - before, "\(before) bytes before the cut")
        }
        // A token that ends exactly at the cut moves too (at a piece's end it would look cut short).
        let ending = [UInt8](repeating: 0x20, count: 880) + token + [UInt8](repeating: 0x20, count: 10)
        #expect(ending.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) } == 880)
        // Unknown next byte (the buffer ends at the cut): treated as crossing.
        let open = [UInt8](repeating: 0x20, count: 900) + Self.run(100)
        #expect(open.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) } == 900)
        // `Bearer%20eyJ…`: the escape goes with the token, so the boundary before it is still seen.
        let line = [UInt8](repeating: 0x20, count: 980) + Array("Bearer%20".utf8) + token
        #expect(line.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) } == 986)
        // A non-token byte before the cut: the cut stays.
        let plain = [UInt8](repeating: 0x20, count: 2000)
        #expect(plain.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) } == 1000)
        // A run longer than half the bound is cut at the bound (memory stays bounded).
        let long = [UInt8](repeating: 0x20, count: 10) + Self.run(3000)
        #expect(long.withUnsafeBytes { LogReader.pieceEnd($0, limit: 1000) } == 1000)
    }

    @Test("reading a giant line: every token of it lies whole inside one piece, pieces stay bounded")
    func tokensWhole() throws {
        let dir = TempDir()
        // 200 tokens at irregular spacing over one 100 KiB line, read with a 4 KiB bound.
        var line: [UInt8] = Array("2023-11-14T22:13:05Z ".utf8)
        var tokens: [[UInt8]] = []
        for i in 0..<200 {
            line += [UInt8](repeating: UInt8(ascii: "x"), count: 100 + (i * 37) % 700) + [0x20]
            let token = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1\(i)In0.c2lnbmF0dXJl\(i)".utf8)
            tokens.append(token)
            line += token + [0x20]
        }
        let path = dir.write("giant.log", Array("first\n".utf8) + line + Array("\nlast\n".utf8))
        let (chunks, summary) = try readAll(
            .file(path), options: ReaderOptions(maximumLineLength: 4096, blockSize: 4096))
        #expect(chunks.count > 20)
        #expect(chunks.allSatisfy { $0.bytes.count <= 4096 + 4096 })
        #expect(summary.lines == 3)
        let pieces = chunks.map { String(decoding: $0.bytes, as: UTF8.self) }
        for token in tokens {
            let t = String(decoding: token, as: UTF8.self)
            // Whole: followed by its space in the same piece, and preceded by a space or starting the piece.
            #expect(
                pieces.contains { $0.hasPrefix(t + " ") || $0.contains(" " + t + " ") }, "\(t) is split between pieces")
        }
    }
}
