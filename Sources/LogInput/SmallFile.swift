#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole reads of small files (keys, secrets), bounded: never used for logs, which stream through ``LogReader``.
public enum SmallFile {
    /// The file's exact bytes. Throws when it cannot be read or holds more than `limit` bytes.
    public static func contents(of path: String, limit: Int) throws(InputError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InputError(
                code: errno == ENOENT ? .notFound : .unreadable, path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw InputError(code: .readFailed, path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return out }
            out += block[0..<n]
            if out.count > limit {
                throw InputError(code: .readFailed, path: path, reason: "larger than \(limit) bytes: not a key file?")
            }
        }
    }

    /// Up to `count` bytes from the start of the file (fewer when it is shorter); empty when it cannot be read.
    /// Only for regular files: a stream's bytes would be consumed (``bytes(of:at:count:)`` refuses streams).
    public static func head(of path: String, count: Int) -> [UInt8] {
        bytes(of: path, at: 0, count: count)
    }

    /// Up to `count` bytes of a regular file from `offset` (fewer when it ends first); empty when it cannot be
    /// read or is not a regular file (a FIFO, a pipe or a device is never opened here: opening or reading it would
    /// wait for a writer or take bytes the scan needs).
    public static func bytes(of path: String, at offset: UInt64, count: Int) -> [UInt8] {
        guard count > 0, count <= 1 << 20, let start = off_t(exactly: offset) else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, start + off_t(got)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        out.removeLast(count - got)
        return out
    }
}
