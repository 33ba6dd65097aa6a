import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run of complete lines (or one piece of an over-long line) from a log stream.
///
/// The bytes are valid only inside the closure that receives the chunk: do not escape them.
public struct LogChunk {
    /// The lines, each ending in `\n` except possibly the last (at end of stream, or when `cutAtEnd`).
    public let bytes: UnsafeRawBufferPointer
    /// Offset of `bytes[0]` in the (decompressed) stream.
    public let streamOffset: UInt64
    /// 1-based number of the first line in `bytes`.
    public let firstLine: UInt64
    /// The first line in `bytes` continues a line cut at the end of the previous chunk.
    public let continuesLine: Bool
    /// The last line in `bytes` is cut here at the line bound; it goes on in the next chunk.
    public let cutAtEnd: Bool
    /// Number of `\n` bytes in `bytes`.
    public let newlines: UInt64
    /// Index just after the last `\n` in `bytes` (0 when there is none): where the line still open at the
    /// chunk's end starts.
    public let openLineStart: Int
    /// With a pool (``LogReader/read(from:line:pool:_:)``): the buffer `bytes` lives in, which the reader no longer
    /// writes once it handed the chunk over; keep it to keep `bytes` valid. Nil otherwise: `bytes` is valid only
    /// during the call.
    public let buffer: ChunkBuffer?

    /// Offset in the stream just after the chunk.
    public var endOffset: UInt64 { streamOffset + UInt64(bytes.count) }
}

/// How the reader sizes its buffers, and what wakes it.
public struct ReaderOptions: Sendable {
    /// Smallest and largest line bound (`--max-line`): the reader's buffer is this plus ``blockSize``.
    public static let lineLengthRange = 64...(256 << 20)
    /// Lines longer than this are delivered in pieces of about this size, so memory stays bounded.
    public var maximumLineLength: Int
    /// Size of each `read(2)`.
    public var blockSize: Int
    /// Ends a wait for input on a stream (pipe, FIFO, terminal) when a stop is requested; nil: waits until input.
    public var stop: StopRequest?

    public init(maximumLineLength: Int = 1 << 20, blockSize: Int = 1 << 20, stop: StopRequest? = nil) {
        self.maximumLineLength = min(
            max(Self.lineLengthRange.lowerBound, maximumLineLength), Self.lineLengthRange.upperBound)
        self.blockSize = min(max(4096, blockSize), 64 << 20)
        self.stop = stop
    }
}

/// What reading one source produced.
public struct ReadSummary: Sendable, Equatable {
    /// Bytes of the (decompressed) stream delivered, counting from the start offset.
    public var bytes: UInt64
    /// Lines delivered, including a last line with no newline.
    public var lines: UInt64
    /// Compressed bytes read from the file.
    public var rawBytes: UInt64
    public var compressed: Bool
    /// The reader was asked to stop before the end.
    public var stopped: Bool

    public init(bytes: UInt64, lines: UInt64, rawBytes: UInt64, compressed: Bool, stopped: Bool) {
        self.bytes = bytes
        self.lines = lines
        self.rawBytes = rawBytes
        self.compressed = compressed
        self.stopped = stopped
    }
}

/// Reads a file, a gzip archive (recognised by its magic bytes, any number of members) or standard input in
/// constant memory: one buffer of `maximumLineLength + blockSize` bytes, refilled with `read(2)`.
///
/// A stream (pipe, FIFO, terminal, socket, character device; standard input unless it is a regular file) is opened
/// once and read once, from its start: a FIFO is opened without waiting for a writer, and every read first waits in
/// `poll(2)` for input or for ``ReaderOptions/stop``, so a stop request ends the wait at once.
///
/// A line longer than the bound is delivered in pieces. A piece never ends inside a run of token bytes
/// (base64url and `.`) that began less than ``tokenCarryLimit`` bytes before the cut: the piece ends where the run
/// begins and the run starts the next piece, so a token that straddles the bound is seen whole.
public struct LogReader {
    /// The longest run of token bytes carried whole into the next piece of an over-long line (at most half the
    /// line bound).
    public static let tokenCarryLimit = 256 * 1024

    public let source: InputSource
    public let options: ReaderOptions

    public init(source: InputSource, options: ReaderOptions = ReaderOptions()) {
        self.source = source
        self.options = options
    }

    /// Streams the source through `body`, chunk by chunk.
    /// - Parameters:
    ///   - offset: skip this many bytes of the (decompressed) stream first (resuming a grown file).
    ///   - line: the line number at `offset`.
    ///   - body: gets each chunk; returns false to stop early.
    /// - Throws: ``InputError`` when the source cannot be opened, read or decompressed. Chunks already
    ///   delivered stay delivered.
    public func read(
        from offset: UInt64 = 0, line: UInt64 = 1, _ body: (LogChunk) -> Bool
    ) throws(InputError) -> ReadSummary {
        try read(from: offset, line: line, pool: nil, body)
    }

    /// As ``read(from:line:_:)``; with a `pool` (of `maximumLineLength + blockSize` bytes per buffer), every chunk
    /// comes in a buffer of its own (``LogChunk/buffer``) that the reader never writes again, so chunks can be kept
    /// and scanned on other threads without a copy. Only the unfinished line after a chunk is copied, into the next
    /// buffer.
    public func read(
        from offset: UInt64 = 0, line: UInt64 = 1, pool: ChunkBufferPool?, _ body: (LogChunk) -> Bool
    ) throws(InputError) -> ReadSummary {
        let path = source.name
        let fd: Int32
        switch source {
        case .stdin: fd = 0
        case .file(let p):
            // O_NONBLOCK: opening a FIFO that has no writer yet returns at once (the wait happens in poll).
            fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                throw InputError(
                    code: errno == ENOENT ? .notFound : .unreadable, path: path,
                    reason: String(cString: strerror(errno)))
            }
        }
        defer { if fd != 0 { close(fd) } }
        let isStream = Self.isStream(fd)
        if fd != 0 {
            let flags = fcntl(fd, F_GETFL)
            if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
            #if os(Linux)
            if !isStream { _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL)) }
            #endif
        }
        let stream = UnsafeMutablePointer<ByteStream>.allocate(capacity: 1)
        stream.initialize(
            to: ByteStream(
                fd: fd, path: path, blockSize: options.blockSize, waitsForInput: isStream, stop: options.stop))
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        return try pump(stream, skip: offset, firstLine: line, pool: pool, body)
    }

    /// Whether `fd` is anything but a regular file (or a block device): input that may have to be waited for and
    /// cannot be read twice.
    static func isStream(_ fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return true }
        let mode = st.st_mode & S_IFMT
        return mode != S_IFREG && mode != S_IFBLK
    }

    private func pump(
        _ stream: UnsafeMutablePointer<ByteStream>, skip: UInt64, firstLine: UInt64, pool: ChunkBufferPool?,
        _ body: (LogChunk) -> Bool
    ) throws(InputError) -> ReadSummary {
        let maxLine = options.maximumLineLength
        let capacity = maxLine + options.blockSize
        precondition(pool == nil || pool!.capacity == capacity, "a chunk pool's buffers must hold a line and a block")
        var owner = pool?.take()
        var buffer = owner?.base ?? UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer {
            // The current buffer was never handed over (each chunk took the one it was delivered in).
            if let owner { pool?.giveBack(owner) } else { buffer.deallocate() }
        }
        var used = 0
        var toSkip = skip
        var streamOffset = skip
        var lineNumber = firstLine
        var continues = false
        var summary = ReadSummary(bytes: 0, lines: 0, rawBytes: 0, compressed: false, stopped: false)
        // Inflating ahead on its own thread (gzip files); stopped before the stream goes away.
        var ahead: InflateAhead? = nil
        defer { ahead?.finish() }

        func deliver(_ count: Int, cut: Bool) -> Bool {
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            let newlines = Self.countNewlines(bytes)
            var openLineStart = 0
            if newlines > 0 {
                var i = count - 1
                while bytes[i] != 0x0A { i -= 1 }  // a newline exists: the loop stops within the chunk
                openLineStart = i + 1
            }
            let chunk = LogChunk(
                bytes: bytes, streamOffset: streamOffset, firstLine: lineNumber, continuesLine: continues,
                cutAtEnd: cut,
                newlines: newlines, openLineStart: openLineStart, buffer: owner)
            let keepGoing = body(chunk)
            lineNumber += newlines
            summary.lines += newlines
            if !cut && count > 0 && bytes[count - 1] != 0x0A { summary.lines += 1 }
            streamOffset += UInt64(count)
            summary.bytes += UInt64(count)
            continues = cut
            if let pool {
                // The chunk keeps its buffer: the undelivered tail starts the next one.
                let next = pool.take()
                if count < used { memcpy(next.base.baseAddress!, buffer.baseAddress! + count, used - count) }
                owner = next
                buffer = next.base
            } else if count < used {
                // Move the undelivered tail to the front.
                memmove(buffer.baseAddress!, buffer.baseAddress! + count, used - count)
            }
            used -= count
            return keepGoing
        }

        while true {
            let room = UnsafeMutableRawBufferPointer(rebasing: buffer[used..<capacity])
            var n: Int
            if let ahead {
                n = try ahead.fill(room)
                summary.rawBytes = ahead.rawBytesRead
            } else {
                n = try stream.pointee.fill(room)
                summary.compressed = stream.pointee.isGzip
                summary.rawBytes = stream.pointee.rawBytesRead
                // A gzip file: inflate on a thread of its own from now on, overlapping the scan — unless the first
                // fill held all of it (a small archive: a thread and its 4 MiB of blocks for nothing; with 500 files
                // of 25 kB, half the time of their scan).
                if summary.compressed && !stream.pointee.waitsForInput && n > 0 && !stream.pointee.atEnd {
                    ahead = InflateAhead(stream: stream, blockSize: options.blockSize)
                }
            }
            if n == 0 && ahead == nil && stream.pointee.stopped {
                // A stop request ended a wait for input: what is buffered is an unfinished line, left undelivered.
                summary.stopped = true
                return summary
            }
            if toSkip > 0 && n > 0 {
                // Resuming: drop already-scanned bytes (only the start of the buffer can hold them).
                let drop = Int(min(UInt64(n), toSkip))
                if drop < n { memmove(buffer.baseAddress! + used, buffer.baseAddress! + used + drop, n - drop) }
                n -= drop
                toSkip -= UInt64(drop)
                if n == 0 { continue }
            }
            if n == 0 {
                if used > 0 { _ = deliver(used, cut: false) }
                return summary
            }
            used += n
            // Deliver up to the last newline.
            var last = used - 1
            while last >= 0, buffer[last] != 0x0A { last -= 1 }
            if last >= 0 {
                if !deliver(last + 1, cut: false) {
                    summary.stopped = true
                    return summary
                }
            }
            // No newline in what is left: cut pieces off an over-long line, never inside a token. A line exactly at
            // the bound waits for the next read: it is whole if the stream ends there (or a newline comes next), cut
            // only if more follows.
            while used > maxLine {
                let piece = Self.pieceEnd(UnsafeRawBufferPointer(rebasing: buffer[0..<used]), limit: maxLine)
                if !deliver(piece, cut: true) {
                    summary.stopped = true
                    return summary
                }
            }
        }
    }

    /// Where to cut a piece off the over-long line in `bytes` (which holds no newline): at `limit`, unless a run of
    /// token bytes (base64url, `.`) reaches the cut (crosses it or ends there) and began less than ``tokenCarryLimit`` (and half of `limit`)
    /// bytes before it: then where that run begins (with a `%` just before it, for `Bearer%20eyJ…`).
    static func pieceEnd(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int {
        // A run that ends right at the cut moves too: at a piece's end the scanner cannot tell it is whole.
        guard limit > 0, limit <= bytes.count, isTokenByte(bytes[limit - 1]) else { return limit }
        let floor = max(1, limit - min(tokenCarryLimit, limit / 2))
        var start = limit - 1
        while start > floor && isTokenByte(bytes[start - 1]) { start -= 1 }
        guard start > floor || !isTokenByte(bytes[start - 1]) else { return limit }  // longer than the carry
        if start >= 2 && bytes[start - 1] == UInt8(ascii: "%") { start -= 1 }
        return start
    }

    /// The size of the first `read(2)` of a stream (into the buffer its first bytes are sniffed in, for the gzip
    /// magic): the first fill of the line buffer delivers at most this much.
    static func firstReadSize(blockSize: Int) -> Int { max(blockSize, 64 * 1024) }

    /// Base64url alphabet or `.`: the bytes a token is made of.
    @inline(__always)
    static func isTokenByte(_ c: UInt8) -> Bool {
        (c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x2D || c == 0x5F || c == 0x2E
    }

    /// Counts `\n` bytes, 64 at a time: a fixed-count loop of compares that LLVM vectorises (one call per chunk,
    /// instead of a `memchr` call per line).
    public static func countNewlines(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let raw = bytes.baseAddress else { return 0 }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var count: UInt64 = 0
        var i = 0
        while i + 64 <= n {
            var inBlock: UInt8 = 0
            for k in 0..<64 {
                // 1 exactly when the byte is '\n', in arithmetic (a `? :` here becomes a branch per byte).
                let x = p[i &+ k] ^ 0x0A
                inBlock &+= ((x | (0 &- x)) >> 7) ^ 1
            }
            count &+= UInt64(inBlock)
            i += 64
        }
        while i < n {
            if p[i] == 0x0A { count &+= 1 }
            i += 1
        }
        return count
    }
}

/// Raw bytes from a descriptor, inflated when the stream starts with the gzip magic `1f 8b`.
/// Owns the zlib stream and its input buffer.
struct ByteStream: ~Copyable {
    let fd: Int32
    let path: String
    let blockSize: Int
    /// A stream: every read first waits in `poll(2)` for input or for `stop`.
    let waitsForInput: Bool
    let stop: StopRequest?
    /// A stop request ended a wait for input; `fill` returns 0 from then on.
    private(set) var stopped = false
    private(set) var isGzip = false
    private(set) var rawBytesRead: UInt64 = 0
    private var sniffed = false
    private var finished = false
    /// Everything is read and inflated (the next fill returns 0).
    var atEnd: Bool { finished && pendingError == nil }
    private var input: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var z: UnsafeMutablePointer<z_stream>?
    private var outputSoFar: UInt64 = 0
    /// An error found after some output was handed over; thrown on the next call.
    private var pendingError: InputError?

    init(fd: Int32, path: String, blockSize: Int, waitsForInput: Bool = false, stop: StopRequest? = nil) {
        self.fd = fd
        self.path = path
        self.blockSize = blockSize
        self.waitsForInput = waitsForInput
        self.stop = stop
        self.input = UnsafeMutableRawBufferPointer.allocate(
            byteCount: LogReader.firstReadSize(blockSize: blockSize), alignment: 16)
    }

    deinit {
        if let z {
            inflateEnd(z)
            z.deallocate()
        }
        input.deallocate()
    }

    /// One `read(2)`; on a stream, after waiting for input. Returns 0 at end of file, or when a stop request
    /// ended the wait (`stopped`).
    private mutating func readRaw(into dst: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if stopped { return 0 }
        while true {
            if waitsForInput {
                if let stop {
                    guard stop.waitReadable(fd) else {
                        stopped = true
                        return 0
                    }
                } else {
                    // Nobody can ask to stop: wait for input alone (a FIFO's first writer, say).
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    while poll(&p, 1, -1) < 0 && errno == EINTR {}
                }
            }
            let n = Glibc.read(fd, dst.baseAddress, dst.count)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw InputError(
                    code: .readFailed, path: path, reason: String(cString: strerror(errno)), offset: rawBytesRead)
            }
            rawBytesRead += UInt64(n)
            return n
        }
    }

    /// Refills the compressed input buffer; returns false at end of file.
    private mutating func refillInput() throws(InputError) -> Bool {
        if inputStart < inputEnd { return true }
        let n = try readRaw(into: input)
        inputStart = 0
        inputEnd = n
        return n > 0
    }

    /// Fills `dst` with stream bytes; returns 0 only at the end of the stream.
    mutating func fill(_ dst: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if !sniffed {
            sniffed = true
            // Read until we have at least two bytes (pipes may deliver one at a time) or EOF.
            while inputEnd < 2 {
                let n = try readRaw(into: UnsafeMutableRawBufferPointer(rebasing: input[inputEnd...]))
                if n == 0 { break }
                inputEnd += n
            }
            if inputEnd >= 2 && input[0] == 0x1F && input[1] == 0x8B {
                isGzip = true
                try startInflate()
            }
        }
        if stopped { return 0 }
        if let pendingError {
            self.pendingError = nil
            finished = true
            throw pendingError
        }
        if finished || dst.count == 0 { return 0 }
        if !isGzip {
            if inputStart < inputEnd {
                let n = min(dst.count, inputEnd - inputStart)
                dst.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: n)
                inputStart += n
                return n
            }
            let n = try readRaw(into: dst)
            if n == 0 { finished = true }
            return n
        }
        return try inflateInto(dst)
    }

    private mutating func startInflate() throws(InputError) {
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        // 15 + 16: gzip wrapper only (the magic was checked).
        guard CZlib_inflateInit2(s, 15 + 16) == Z_OK else {
            s.deallocate()
            throw InputError(code: .corruptArchive, path: path, reason: "zlib could not start")
        }
        z = s
    }

    private mutating func corrupt(_ reason: String) -> InputError {
        InputError(code: .corruptArchive, path: path, reason: "corrupt gzip archive: \(reason)", offset: outputSoFar)
    }

    private mutating func inflateInto(_ dst: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        guard let z else { return 0 }
        var produced = 0
        while produced == 0 {
            if inputStart >= inputEnd {
                guard try refillInput() else {
                    if stopped { return 0 }
                    // End of file inside a member.
                    if z.pointee.total_in > 0 || z.pointee.total_out > 0 { throw corrupt("unexpected end of file") }
                    finished = true
                    return 0
                }
            }
            z.pointee.next_in = (input.baseAddress! + inputStart).assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_in = UInt32(inputEnd - inputStart)
            z.pointee.next_out = (dst.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_out = UInt32(dst.count - produced)
            let rc = inflate(z, Z_NO_FLUSH)
            let consumed = (inputEnd - inputStart) - Int(z.pointee.avail_in)
            inputStart += consumed
            produced = dst.count - Int(z.pointee.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                if rc == Z_BUF_ERROR && consumed == 0 && produced == 0 && inputStart < inputEnd {
                    throw corrupt("no progress")
                }
            case Z_STREAM_END:
                // Another member may follow (`cat a.gz b.gz`): reset when the next bytes are a gzip header.
                if inputStart >= inputEnd { _ = try refillInput() }
                if stopped {
                    outputSoFar += UInt64(produced)
                    return produced
                }
                if inputStart < inputEnd {
                    if input[inputStart] == 0x1F {
                        inflateReset(z)
                    } else if input[inputStart] == 0 {
                        finished = true  // zero padding after the last member (tape/rotator padding)
                        outputSoFar += UInt64(produced)
                        return produced
                    } else {
                        outputSoFar += UInt64(produced)
                        let error = corrupt("trailing bytes after the last member")
                        if produced > 0 {
                            pendingError = error
                            return produced
                        }
                        throw error
                    }
                } else {
                    finished = true
                    outputSoFar += UInt64(produced)
                    return produced
                }
            default:
                let message = z.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                if produced > 0 {
                    // Hand over what was inflated; the error surfaces on the next call.
                    outputSoFar += UInt64(produced)
                    return produced
                }
                throw corrupt(message)
            }
        }
        outputSoFar += UInt64(produced)
        return produced
    }
}
