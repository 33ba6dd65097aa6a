/// Why an input could not be read. Every case names the path, so a message can be shown as is.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notFound = "not_found"
        case unreadable
        case corruptArchive = "corrupt_archive"
        case readFailed = "read_failed"
    }

    public var code: Code
    public var path: String
    public var reason: String
    /// Bytes of (decompressed) stream already delivered when the error happened.
    public var offset: UInt64?

    public init(code: Code, path: String, reason: String, offset: UInt64? = nil) {
        self.code = code
        self.path = path
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        var s = "\(path): \(reason)"
        if let offset { s += " (after \(offset) bytes)" }
        return s
    }

    /// Equality looks at the code and path only, so tests can compare against a freshly built error.
    public static func == (a: InputError, b: InputError) -> Bool { a.code == b.code && a.path == b.path }
}
