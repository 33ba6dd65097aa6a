#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where log bytes come from.
public enum InputSource: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    /// Standard input; `name` is what findings call it: `-`, or the name the scan was given for it
    /// (`--stdin-name`, the path of a file streamed in from elsewhere).
    case stdin(name: String = "-")

    /// The name findings carry: the path, or the standard input's name.
    public var name: String {
        switch self {
        case .file(let p): p
        case .stdin(let name): name
        }
    }

    public var description: String { name }
}

/// Facts about a file, read with `stat(2)`.
public struct FileFacts: Sendable, Equatable {
    public var size: UInt64
    /// Modification time, Unix seconds.
    public var mtime: Double
    public var inode: UInt64
    public var isDirectory: Bool
    public var isRegular: Bool

    public static func of(_ path: String) -> FileFacts? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mode = st.st_mode & S_IFMT
        return FileFacts(
            size: UInt64(max(0, st.st_size)),
            mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9,
            inode: UInt64(st.st_ino),
            isDirectory: mode == S_IFDIR,
            isRegular: mode == S_IFREG)
    }
}

/// Expands command-line paths into inputs: files as given, directories recursively in byte order of their paths,
/// `-` as standard input. Paths that do not exist come back as errors; the others are still returned.
public enum InputPaths {
    public static func expand(_ arguments: [String]) -> (sources: [InputSource], errors: [InputError]) {
        let e = expand(arguments, skippingNonLogs: false)
        return (e.sources, e.errors)
    }

    /// As ``expand(_:)``; with `skippingNonLogs`, files found by walking a directory that are plainly not logs
    /// (``NonLogFile``: key material, SQLite databases) are left out and listed in `skipped`. Files named directly
    /// are always kept.
    public static func expand(_ arguments: [String], skippingNonLogs: Bool, stdinName: String = "-") -> (
        sources: [InputSource], errors: [InputError], skipped: [(path: String, kind: NonLogFile)]
    ) {
        var skipped: [(path: String, kind: NonLogFile)] = []
        var sources: [InputSource] = []
        var errors: [InputError] = []
        for arg in arguments {
            if arg == "-" {
                sources.append(.stdin(name: stdinName))
                continue
            }
            guard let facts = FileFacts.of(arg) else {
                // Say what stat(2) said: a symlink loop (ELOOP) or a denied directory is not a missing file.
                let e = errno
                let reason = e == ELOOP ? "a loop of symbolic links (ELOOP)" : String(cString: strerror(e)).lowercased()
                errors.append(InputError(code: e == ENOENT ? .notFound : .unreadable, path: arg, reason: reason))
                continue
            }
            if facts.isDirectory {
                var found: [String] = []
                walk(arg, into: &found, errors: &errors, depth: 0)
                for path in found.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                    if skippingNonLogs, let kind = NonLogFile.classify(path) {
                        skipped.append((path, kind))
                    } else {
                        sources.append(.file(path))
                    }
                }
            } else {
                sources.append(.file(arg))
            }
        }
        return (sources, errors, skipped)
    }

    /// Directories nested deeper than this are reported, not followed.
    static let maximumDepth = 64

    private static func walk(_ dir: String, into found: inout [String], errors: inout [InputError], depth: Int) {
        guard depth < maximumDepth else {
            errors.append(
                InputError(code: .unreadable, path: dir, reason: "directory nesting deeper than \(maximumDepth)"))
            return
        }
        guard let d = opendir(dir) else {
            errors.append(InputError(code: .unreadable, path: dir, reason: String(cString: strerror(errno))))
            return
        }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        for name in names {
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            // lstat: a symlink to a directory is not followed (no cycles); a symlink to a file is read.
            guard lstat(path, &st) == 0 else { continue }
            let mode = st.st_mode & S_IFMT
            if mode == S_IFDIR {
                walk(path, into: &found, errors: &errors, depth: depth + 1)
            } else if mode == S_IFREG {
                found.append(path)
            } else if mode == S_IFLNK, let facts = FileFacts.of(path), facts.isRegular {
                found.append(path)
            }
        }
    }
}
