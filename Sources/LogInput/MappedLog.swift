import CMapGuard

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One chunk of a mapped file (``MappedLog``): where it is and how it is cut. Its bytes stay valid while the
/// ``MappedLog`` is kept. The newlines in it are not counted here (whoever scans the chunk counts them), so cutting
/// a chunk touches only the bytes around its end.
public struct MappedChunk: Sendable {
    /// Offset of the chunk's first byte in the file.
    public let streamOffset: UInt64
    public let count: Int
    /// See ``LogChunk/continuesLine``.
    public let continuesLine: Bool
    /// See ``LogChunk/cutAtEnd``.
    public let cutAtEnd: Bool
    /// See ``LogChunk/openLineStart``: the chunk's length when it ends with a newline, else 0 (a chunk that does not
    /// end with one holds none).
    public let openLineStart: Int

    public var endOffset: UInt64 { streamOffset + UInt64(count) }
}

/// A regular file read through a read-only mapping: no copy into a buffer, and chunks that are slices of the
/// mapping, so several threads can scan them while the next ones are cut. The chunks are exactly those
/// ``LogReader`` delivers for the same file (the same line-bound pieces of over-long lines, cut at the same
/// places), so findings do not depend on which of the two read it.
///
/// The file is read as it is when it is mapped: bytes appended later are left for the next run (it resumes at
/// ``ReadSummary/bytes``). A file truncated under the mapping does not crash the process: a SIGBUS handler
/// (`CMapGuard`) replaces the pages past the new end with zeros and records where, and ``shrank()`` reports it.
/// Pages already read are released behind the reader (``release(upTo:)``), so memory stays flat.
public final class MappedLog: @unchecked Sendable {
    public let path: String
    /// The mapping; `size` bytes of the file from offset 0.
    private let base: UnsafeRawPointer
    public let size: Int
    private let fd: Int32
    private let guardSlot: Int32
    private let maxLine: Int
    private let capacity: Int
    /// Where the next chunk starts (a line start, or inside an over-long line cut into pieces).
    private var position: Int
    private var continues = false
    /// How far the reader has read the file: what it holds is `position..<fetched` (no newline in it between
    /// chunks).
    private var fetched = 0
    /// The end of the reader's first read (see ``nextChunk()``).
    private let firstRead: Int
    /// Start of the pages not yet released.
    private var released = 0
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps `path` for reading from `offset`, or returns nil when the file is not for mapping — not a regular file,
    /// empty, a gzip archive, or a mapping the system refuses (then ``LogReader`` reads it).
    /// - Throws: ``InputError`` when the file cannot be opened.
    public static func open(
        _ source: InputSource, from offset: UInt64 = 0, options: ReaderOptions = ReaderOptions()
    ) throws(InputError) -> MappedLog? {
        guard case .file(let path) = source else { return nil }
        // Looked at before it is opened: opening a FIFO (even to close it at once) would let its writer start,
        // then break its pipe.
        var before = stat()
        guard stat(path, &before) == 0 else {
            guard errno == ENOENT else { return nil }  // the reader says why it cannot be read
            throw InputError(code: .notFound, path: path, reason: String(cString: strerror(ENOENT)))
        }
        guard before.st_mode & S_IFMT == S_IFREG else { return nil }
        // O_NONBLOCK: a FIFO with no writer must not block the open (it is left to the reader).
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw InputError(
                code: errno == ENOENT ? .notFound : .unreadable, path: path, reason: String(cString: strerror(errno)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0, st.st_size <= Int.max / 2 else {
            close(fd)
            return nil
        }
        let size = Int(st.st_size)
        var magic: (UInt8, UInt8) = (0, 0)
        if pread(fd, &magic, 2, 0) == 2 && magic == (0x1F, 0x8B) {
            close(fd)
            return nil
        }
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else {
            close(fd)
            return nil
        }
        // A file mostly not in the page cache is read: faults would block the scanning threads on the disk a
        // page at a time, where the reader's sequential read(2)s overlap the disk with the scan.
        guard Self.isCached(map, size) else {
            munmap(map, size)
            close(fd)
            return nil
        }
        let slot = jwtsift_mapguard_add(map, size)
        guard slot >= 0 else {
            munmap(map, size)
            close(fd)
            return nil
        }
        #if os(Linux)
        _ = madvise(map, size, MADV_SEQUENTIAL)
        #endif
        return MappedLog(
            path: path, base: UnsafeRawPointer(map), size: size, fd: fd, slot: slot, offset: offset, options: options)
    }

    /// How much of the file's start the page-cache check looks at, and the share of it that must be cached.
    static let cacheCheckLength = 64 << 20
    static let cachedShare = 0.9

    /// Whether at least ``cachedShare`` of 64 pages spread over the file's first ``cacheCheckLength`` bytes are in
    /// the page cache (`mincore`; a look at every page of them cost about 0.6% of a scan).
    static func isCached(_ map: UnsafeMutableRawPointer, _ size: Int) -> Bool {
        let length = min(size, cacheCheckLength)
        let samples = 64
        let pages = (length + pageSize - 1) / pageSize
        var resident = 0
        if pages <= samples {
            // A file of at most 64 pages: all of them, in one call (64 calls of one page each cost a directory of
            // small files more system time than their scan).
            var v = [UInt8](repeating: 0, count: pages)
            guard mincore(map, length, &v) == 0 else { return true }
            for r in v where r & 1 != 0 { resident += 1 }
            return Double(resident) >= cachedShare * Double(pages)
        }
        for k in 0..<samples {
            var v: UInt8 = 0
            let page = length / samples * k / pageSize * pageSize
            guard mincore(map + page, 1, &v) == 0 else { return true }
            if v & 1 != 0 { resident += 1 }
        }
        return Double(resident) >= cachedShare * Double(samples)
    }

    private init(
        path: String, base: UnsafeRawPointer, size: Int, fd: Int32, slot: Int32, offset: UInt64,
        options: ReaderOptions
    ) {
        self.path = path
        self.base = base
        self.size = size
        self.fd = fd
        self.guardSlot = slot
        self.maxLine = options.maximumLineLength
        self.capacity = options.maximumLineLength + options.blockSize
        let start = Int(min(offset, UInt64(size)))
        self.position = start
        self.firstRead = min(size, LogReader.firstReadSize(blockSize: options.blockSize))
        self.released = start / Self.pageSize * Self.pageSize
    }

    deinit {
        jwtsift_mapguard_remove(guardSlot)
        munmap(UnsafeMutableRawPointer(mutating: base), size)
        close(fd)
    }

    /// The bytes of a chunk of this file; valid while the ``MappedLog`` is kept.
    public func bytes(_ chunk: MappedChunk) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Int(chunk.streamOffset), count: chunk.count)
    }

    /// Where the next chunk starts.
    public var offset: UInt64 { UInt64(position) }

    /// Cuts the next chunk, or nil at the end. Not for concurrent calls (whoever calls it from several threads
    /// holds a lock).
    ///
    /// ``LogReader`` fills a buffer of `maximumLineLength + blockSize` bytes (its first fill comes from the first
    /// read of the stream, ``LogReader/firstReadSize(blockSize:)`` bytes at most; when resuming, it reads from the
    /// file's start and drops what it skips), delivers up to its last newline, cuts pieces of `maximumLineLength`
    /// (``LogReader/pieceEnd(_:limit:)``) off what it holds while that is longer, and fills again; at the end of
    /// the stream it delivers what it holds. The same, on the mapping, with the same fills.
    public func nextChunk() -> MappedChunk? {
        while true {
            let held = fetched - position  // negative while skipping to the start offset
            if held > maxLine {
                // No newline in what the reader holds, and it is over the bound: a piece.
                let bytes = UnsafeRawBufferPointer(start: base + position, count: held)
                return take(LogReader.pieceEnd(bytes, limit: maxLine), cut: true)
            }
            // The reader fills its buffer.
            let limit = fetched < firstRead ? firstRead : size
            let n = min(capacity - max(0, held), limit - fetched)
            if n == 0 { return held > 0 ? take(held, cut: false) : nil }  // the end: what it holds is the last line
            fetched += n
            readAhead()
            guard fetched > position else { continue }
            let window = UnsafeRawBufferPointer(start: base + position, count: fetched - position)
            var last = window.count - 1
            while last >= 0 && window[last] != 0x0A { last -= 1 }
            if last >= 0 { return take(last + 1, cut: false) }
        }
    }

    /// Where the file was last asked to be read ahead to (``readAhead()``).
    private var advised = 0
    /// How far ahead of the chunks the file is asked for.
    static let readAheadStep = 32 << 20

    /// Asks the system to read the next ``readAheadStep`` bytes or so into the page cache, in the background
    /// (`MADV_WILLNEED`), when the chunks come within a step of where it last asked: a file not in the page cache
    /// is then read from disk ahead of the scan rather than a fault at a time (which reads only the small
    /// readahead window).
    private func readAhead() {
        guard advised < size, fetched + Self.readAheadStep > advised else { return }
        let to = min(size, advised + 2 * Self.readAheadStep)
        let range = UnsafeMutableRawPointer(mutating: base + advised)
        // Eight pages of the range looked at first: when all are cached (the usual case), asking costs a page
        // cache lookup per page (about 1% of a scan) for nothing.
        var cached = true
        // (A range of at most 8 pages: the sampled pages are its first; the same page is not asked again.)
        var last = -1
        for k in 0..<8 {
            let page = (to - advised) / 8 * k / Self.pageSize * Self.pageSize
            guard page != last else { continue }
            last = page
            var resident: UInt8 = 0
            if mincore(range + page, 1, &resident) == 0 && resident & 1 == 0 { cached = false }
        }
        if !cached { _ = madvise(range, to - advised, MADV_WILLNEED) }
        advised = to
    }

    private func take(_ count: Int, cut: Bool) -> MappedChunk {
        let chunk = MappedChunk(
            streamOffset: UInt64(position), count: count, continuesLine: continues, cutAtEnd: cut,
            openLineStart: cut || base.load(fromByteOffset: position + count - 1, as: UInt8.self) != 0x0A ? 0 : count)
        position += count
        continues = cut
        return chunk
    }

    /// Lets the system drop the pages before `offset` from this process (they stay in the page cache): call with
    /// the end of what was delivered, so a long file does not stay mapped in memory behind the scan.
    public func release(upTo offset: UInt64) {
        let end = Int(min(offset, UInt64(size))) / Self.pageSize * Self.pageSize
        guard end > released else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + released), end - released, MADV_DONTNEED)
        released = end
    }

    /// Whether the file was found shorter than its mapping — a page past its new end was read (SIGBUS, the page
    /// read as zeros), or it is shorter now — and from where its bytes cannot be trusted; nil when not.
    public func shrank() -> UInt64? {
        let fault = jwtsift_mapguard_fault(guardSlot)
        var st = stat()
        let now = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        let from = min(fault < 0 ? size : fault, now)
        return from < size ? UInt64(from) : nil
    }

    /// Whether a SIGBUS replaced a page of the mapping (cheap: one atomic load; see ``shrank()``).
    public var faulted: Bool { jwtsift_mapguard_fault(guardSlot) >= 0 }

    /// The error a scan reports when the file shrank under it.
    public func shrinkError(at offset: UInt64) -> InputError {
        InputError(
            code: .readFailed, path: path,
            reason: "the file shrank while it was read (truncated or rewritten at byte \(offset))", offset: offset)
    }
}
