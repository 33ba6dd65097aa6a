#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole writes to a file descriptor: the one loop every output of jwtsift (NDJSON, reports, metrics files) goes
/// through, retrying short writes and `EINTR`.
public enum FileWrite {
    /// Writes every byte; false when `write(2)` fails (`errno` says why) or writes nothing.
    public static func all(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let n = write(fd, base + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Writes the string's UTF-8 bytes; false on failure.
    public static func all(_ fd: Int32, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { all(fd, UnsafeRawBufferPointer($0)) }
    }
}
