import SiftCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes reports to files that only their owner can read: a report names issuers, keys, sources and token
/// fingerprints, like the database it comes from (mode 0600 whatever the umask; folders 0700).
public enum ReportFile {
    public static let fileMode: mode_t = 0o600
    public static let folderMode: mode_t = 0o700

    /// Creates or replaces the file at `path` with `text`. An existing regular file open to others is made 0600;
    /// anything else (a FIFO, `/dev/stdout`) keeps its mode.
    public static func write(_ text: String, to path: String) throws(ReportError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw ReportError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 { fchmod(fd, fileMode) }
        guard FileWrite.all(fd, text) else {
            throw ReportError("\(path): write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Makes the folder for `--format csv --output DIR` (0700); an existing one is kept as it is.
    public static func makeFolder(_ path: String) throws(ReportError) {
        if mkdir(path, folderMode) != 0 && errno != EEXIST {
            throw ReportError("\(path): \(String(cString: strerror(errno)))")
        }
    }
}
