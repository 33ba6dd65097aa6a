import Dispatch
import Synchronization
import TestSupport
import Testing

@testable import LogInput

#if canImport(Glibc)
import Glibc
#endif

/// A chunk as comparable values: where it is, how it is cut, its newlines and the number of its first line.
struct ChunkShape: Equatable, CustomStringConvertible {
    var offset: UInt64
    var count: Int
    var firstLine: UInt64
    var continues: Bool
    var cut: Bool
    var newlines: UInt64
    var openLineStart: Int
    var bytes: [UInt8]

    var description: String {
        "@\(offset)+\(count) line \(firstLine) continues \(continues) cut \(cut) nl \(newlines) open \(openLineStart)"
    }
}

/// The chunks ``LogReader`` delivers for a file, and its summary.
func readerChunks(_ path: String, from offset: UInt64 = 0, line: UInt64 = 1, options: ReaderOptions) throws -> (
    [ChunkShape], ReadSummary
) {
    var shapes: [ChunkShape] = []
    let summary = try LogReader(source: .file(path), options: options).read(from: offset, line: line) { c in
        shapes.append(
            ChunkShape(
                offset: c.streamOffset, count: c.bytes.count, firstLine: c.firstLine, continues: c.continuesLine,
                cut: c.cutAtEnd, newlines: c.newlines, openLineStart: c.openLineStart, bytes: Array(c.bytes)))
        return true
    }
    return (shapes, summary)
}

/// The chunks ``MappedLog`` cuts for a file (their newlines counted and lines numbered here, as a scan does), or
/// nil when it does not map the file.
func mappedChunks(_ path: String, from offset: UInt64 = 0, line: UInt64 = 1, options: ReaderOptions) throws
    -> [ChunkShape]?
{
    guard let log = try MappedLog.open(.file(path), from: offset, options: options) else { return nil }
    var shapes: [ChunkShape] = []
    var next = line
    while let c = log.nextChunk() {
        let bytes = log.bytes(c)
        let newlines = LogReader.countNewlines(bytes)
        shapes.append(
            ChunkShape(
                offset: c.streamOffset, count: c.count, firstLine: next, continues: c.continuesLine,
                cut: c.cutAtEnd, newlines: newlines, openLineStart: c.openLineStart, bytes: Array(bytes)))
        next += newlines
    }
    #expect(log.shrank() == nil)
    return shapes
}

/// Lines of every kind of length around the bounds: empty, short, exactly the line bound (with and without its
/// newline), longer than the reader's whole buffer, token runs across where a piece would be cut, CRLF, and
/// (when `finalNewline` is false) a last line without a newline.
func mixedLog(seed: UInt64, maxLine: Int, blockSize: Int, lines: Int, finalNewline: Bool) -> [UInt8] {
    var g = SplitMix(seed: seed)
    var out: [UInt8] = []
    let token = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl".utf8)
    for i in 0..<lines {
        let length: Int
        switch g.below(12) {
        case 0: length = 0
        case 1: length = maxLine
        case 2: length = maxLine - 1 + g.below(3)
        case 3: length = maxLine + blockSize + g.below(3 * maxLine)
        case 4: length = 2 * maxLine + g.below(blockSize)
        default: length = g.below(200)
        }
        var line: [UInt8] = []
        line.reserveCapacity(length)
        while line.count < length {
            if g.below(8) == 0 {
                line += Array(" Bearer ".utf8) + token
            } else {
                line.append(UInt8(ascii: "a") + UInt8(g.below(26)))
            }
        }
        line.removeLast(line.count - length)
        out += line
        if i + 1 < lines || finalNewline { out += g.below(10) == 0 ? [0x0D, 0x0A] : [0x0A] }
    }
    return out
}

@Suite("Mapped files")
struct MappedLogTests {
    @Test(
        "a mapped file is cut into exactly the chunks the reader delivers: same pieces of over-long lines, same counts",
        arguments: [(64, 4096), (4096, 4096), (100, 8192), (65536, 4096)])
    func sameChunksAsTheReader(_ maxLine: Int, _ blockSize: Int) throws {
        let dir = TempDir()
        let options = ReaderOptions(maximumLineLength: maxLine, blockSize: blockSize)
        for seed in UInt64(1)...6 {
            let bytes = mixedLog(
                seed: seed, maxLine: maxLine, blockSize: blockSize, lines: 150, finalNewline: seed % 2 == 0)
            let path = dir.write("mixed-\(seed).log", bytes)
            let (expected, summary) = try readerChunks(path, options: options)
            let mapped = try #require(try mappedChunks(path, options: options))
            #expect(expected.contains { $0.cut }, "seed \(seed): some line is cut into pieces")
            #expect(mapped.count == expected.count, "seed \(seed)")
            if let i = expected.indices.first(where: { $0 >= mapped.count || mapped[$0] != expected[$0] }) {
                Issue.record(
                    "seed \(seed), bound \(maxLine)/\(blockSize): chunk \(i) \(i < mapped.count ? "\(mapped[i])" : "missing") ≠ \(expected[i])"
                )
            }
            #expect(mapped.reduce(0) { $0 + $1.count } == Int(summary.bytes))
            // Resuming mid-file (the reader skips by reading whole buffers from the start): the same chunks.
            for offset in [UInt64(1), UInt64(blockSize + maxLine), UInt64(bytes.count / 2), UInt64(bytes.count)] {
                let (from, _) = try readerChunks(path, from: offset, line: 7, options: options)
                let mappedFrom = try #require(try mappedChunks(path, from: offset, line: 7, options: options))
                #expect(mappedFrom.count == from.count, "seed \(seed), resumed at \(offset)")
                if let i = from.indices.first(where: { $0 >= mappedFrom.count || mappedFrom[$0] != from[$0] }) {
                    Issue.record(
                        "seed \(seed), resumed at \(offset): chunk \(i) \(i < mappedFrom.count ? "\(mappedFrom[i])" : "missing") ≠ \(from[i])"
                    )
                }
            }
        }
    }

    @Test("empty files, gzip archives, FIFOs and standard input are not mapped (the reader reads them)")
    func notMapped() throws {
        let dir = TempDir()
        let options = ReaderOptions()
        #expect(try MappedLog.open(.file(dir.write("empty.log", [])), options: options) == nil)
        #expect(try MappedLog.open(.file(dir.write("a.gz", [0x1F, 0x8B, 8, 0, 0, 0])), options: options) == nil)
        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        #expect(try MappedLog.open(.file(dir.path + "/fifo"), options: options) == nil)
        #expect(try MappedLog.open(.stdin(), options: options) == nil)
        #expect(throws: InputError.self) { try MappedLog.open(.file(dir.path + "/missing.log"), options: options) }
        #expect(try MappedLog.open(.file(dir.write("one.log", "x")), options: options) != nil)
    }

    @Test("a FIFO is not even opened: a writer waiting for a reader keeps waiting (opened and closed, its pipe breaks)")
    func fifoLeftAlone() throws {
        let dir = TempDir()
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let opened = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let fd = open(fifo, O_WRONLY)  // blocks until a reader opens the FIFO
            opened.store(true, ordering: .sequentiallyConsistent)
            if fd >= 0 { close(fd) }
            done.signal()
        }
        usleep(50_000)
        #expect(try MappedLog.open(.file(fifo)) == nil)
        usleep(100_000)
        let stillWaiting = !opened.load(ordering: .sequentiallyConsistent)
        #expect(stillWaiting)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        done.wait()
        close(reader)
        let openedAtLast = opened.load(ordering: .sequentiallyConsistent)
        #expect(openedAtLast)
    }

    @Test("a file not in the page cache is read, not mapped (faults would wait on the disk a page at a time)")
    func coldFileIsRead() throws {
        let dir = TempDir()
        let path = dir.write("cold.log", Array(String(repeating: "a line of a log\n", count: 100_000).utf8))
        #expect(try MappedLog.open(.file(path)) != nil)
        // Written back, then dropped from the page cache (where the file system lets it: not tmpfs).
        let fd = open(path, O_RDONLY)
        #expect(fsync(fd) == 0)
        #expect(posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)) == 0)
        let map = try #require(mmap(nil, 1_600_000, PROT_READ, MAP_SHARED, fd, 0))
        let cached = MappedLog.isCached(map, 1_600_000)
        munmap(map, 1_600_000)
        close(fd)
        guard !cached else { return }  // the file system keeps it cached: nothing to check here
        #expect(try MappedLog.open(.file(path)) == nil)
        // Read once, it is cached again: mapped.
        _ = try readAll(.file(path))
        #expect(try MappedLog.open(.file(path)) != nil)
    }

    @Test("a file truncated under its mapping reads as zeros past its new end and says where it shrank (no SIGBUS)")
    func truncatedUnderTheMapping() throws {
        let dir = TempDir()
        let line = Array(String(repeating: "z", count: 99).utf8) + [0x0A]
        let path = dir.write("shrinking.log", Array([[UInt8]](repeating: line, count: 4000).joined()))
        let options = ReaderOptions(maximumLineLength: 4096, blockSize: 4096)
        let log = try #require(try MappedLog.open(.file(path), options: options))
        let first = try #require(log.nextChunk())
        #expect(log.bytes(first).allSatisfy { $0 == 0x0A || $0 == UInt8(ascii: "z") })
        #expect(log.shrank() == nil && !log.faulted)
        #expect(truncate(path, 1000) == 0)
        // Every later chunk is read (pages past the new end raise SIGBUS; the guard maps zeros there).
        var zeros = 0
        while let c = log.nextChunk() { zeros += log.bytes(c).filter { $0 == 0 }.count }
        #expect(zeros > 300_000)
        #expect(log.faulted)
        #expect(log.shrank() == 1000)
        #expect(log.shrinkError(at: 1000).code == .readFailed)
    }
}
