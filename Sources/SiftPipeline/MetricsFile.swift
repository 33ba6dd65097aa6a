import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// Why the metrics file could not be written.
public struct MetricsFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ path: String, _ what: String, errno code: Int32) {
        description = "\(path): \(what): \(String(cString: strerror(code)))"
    }
}

/// The file `scan --metrics-file` writes: replaced atomically, so node_exporter's textfile collector never reads
/// half of one.
public enum MetricsFile {
    /// World-readable: node_exporter usually runs as another user. It holds counts, issuer names and source
    /// paths, never a token.
    public static let fileMode: mode_t = 0o644
    /// How much of an existing file is read back for its last success time.
    static let readLimit = 1 << 20

    /// Writes `text` to a temporary file in the same directory (its name does not end in `.prom`, so the
    /// collector never reads it), makes it 0644, flushes it to disk, renames it over `path`, then flushes the
    /// directory. On failure the temporary file is removed and `path` is left as it was.
    public static func write(_ text: String, to path: String) throws(MetricsFileError) {
        var template = Array((path + ".tmp.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw MetricsFileError(path, "cannot create a temporary file beside it", errno: errno) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var failure: MetricsFileError? = nil
        let written = FileWrite.all(fd, text)
        if !written {
            failure = MetricsFileError(path, "write failed", errno: errno)
        } else if fchmod(fd, fileMode) != 0 {
            failure = MetricsFileError(path, "chmod failed", errno: errno)
        } else if fsync(fd) != 0 {
            failure = MetricsFileError(path, "fsync failed", errno: errno)
        }
        if close(fd) != 0 && failure == nil { failure = MetricsFileError(path, "close failed", errno: errno) }
        if failure == nil && rename(temporary, path) != 0 {
            failure = MetricsFileError(path, "rename failed", errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        // The rename itself reaches the disk with the directory.
        let dir = open(directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// The value of `jwtsift_last_success_timestamp_seconds` in the file at `path`, nil when there is no file,
    /// no such sample or no finite number.
    public static func lastSuccess(in path: String) -> Double? {
        guard let text = read(path) else { return nil }
        let name = ScanMetrics.Name.lastSuccess
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            let value = line.dropFirst(name.utf8.count + 1).split(separator: " ").first.map(String.init)
            if let value, let v = Double(value), v.isFinite, v >= 0 { return v }
        }
        return nil
    }

    /// The directory part of `path` (`.` for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = path[..<slash]
        return dir.isEmpty ? "/" : String(dir)
    }

    /// At most ``readLimit`` bytes of a regular file, nil when it cannot be read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: readLimit)
        var done = 0
        while done < readLimit {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, readLimit - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return String(decoding: bytes[..<done], as: UTF8.self)
    }
}
