import SiftCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer to a file descriptor (stdout by default). Not thread-safe: one owner.
public final class OutputSink {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let flushAt = 1 << 16
    /// A write failed (e.g. EPIPE when piped into `head`): further output is dropped.
    public private(set) var failed = false

    public init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(flushAt + 4096)
    }

    deinit { flush() }

    public func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= flushAt { flush() }
    }

    public func write(_ bytes: [UInt8]) {
        if buffer.isEmpty && bytes.count >= flushAt {
            buffer = bytes
            flush()
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushAt { flush() }
    }

    /// Writes bytes the caller keeps: large writes go straight to the descriptor, small ones are buffered.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        if buffer.count + bytes.count >= flushAt {
            flush()
            if bytes.count >= flushAt {
                writeAll(bytes)
                return
            }
        }
        buffer.append(contentsOf: bytes)
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        guard !failed else { return }
        buffer.withUnsafeBytes { writeAll($0) }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        guard !failed else { return }
        if !FileWrite.all(fd, raw) { failed = true }
    }
}

/// Writes a line to standard error at once.
public func printError(_ message: String) {
    let line = message.hasSuffix("\n") ? message : message + "\n"
    var bytes = Array(line.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var off = 0
        while off < raw.count {
            let n = Glibc.write(2, raw.baseAddress! + off, raw.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            off += n
        }
    }
}
