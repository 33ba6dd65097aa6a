import Foundation
import JOSECrypto
import SiftCore

/// Fetched documents on disk, one pair of files per URL, named by the SHA-256 of the URL: `<hash>.body` (the bytes
/// as served) and `<hash>.meta` (when it was fetched, its `ETag`, `Last-Modified` and `Cache-Control: max-age`).
/// The directory is made private (0700) and every file 0600; a file is written beside its final name and renamed,
/// so a reader sees the old or the new copy, never half of one.
public struct KeyCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `--cache-dir`, else `$XDG_CACHE_HOME/jwtsift`, else `$HOME/.cache/jwtsift`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/jwtsift" }
        return (environment["HOME"] ?? "/tmp") + "/.cache/jwtsift"
    }

    /// What is remembered about one URL's document.
    public struct Entry: Sendable, Equatable {
        public var body: [UInt8]
        /// When the body was fetched, or last confirmed unchanged (304), in Unix seconds.
        public var fetchedAt: Double
        public var etag: String?
        public var lastModified: String?
        /// `Cache-Control: max-age`, in seconds.
        public var maxAge: Double?

        public init(
            body: [UInt8], fetchedAt: Double, etag: String? = nil, lastModified: String? = nil, maxAge: Double? = nil
        ) {
            self.body = body
            self.fetchedAt = fetchedAt
            self.etag = etag
            self.lastModified = lastModified
            self.maxAge = maxAge
        }

        /// Still fresh at `now` by its max-age: used without asking the server.
        public func isFresh(at now: Double) -> Bool {
            guard let maxAge else { return false }
            return now >= fetchedAt && now < fetchedAt + maxAge
        }
    }

    func name(_ url: String) -> String { Digest.sha256(Array(url.utf8)).description }

    public func load(_ url: String, limit: Int) -> Entry? {
        let base = directory + "/" + name(url)
        guard let meta = FileManager.default.contents(atPath: base + ".meta"),
            let body = FileManager.default.contents(atPath: base + ".body"), body.count <= limit,
            let text = String(data: meta, encoding: .utf8)
        else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            fields[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        // A file of another URL under the same name (a collision, or a hand-edited cache) is not used.
        guard fields["url"] == url, let at = fields["fetched"].flatMap(Double.init), at.isFinite else { return nil }
        return Entry(
            body: Array(body), fetchedAt: at, etag: fields["etag"], lastModified: fields["last-modified"],
            maxAge: fields["max-age"].flatMap(Double.init))
    }

    /// Writes the entry; false when the directory cannot be written (the run goes on without a cache).
    @discardableResult
    public func store(_ url: String, _ entry: Entry) -> Bool {
        let fm = FileManager.default
        do {
            try fm.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return false
        }
        var meta = "url \(Self.oneLine(url))\nfetched \(entry.fetchedAt)\n"
        if let e = entry.etag { meta += "etag \(Self.oneLine(e))\n" }
        if let l = entry.lastModified { meta += "last-modified \(Self.oneLine(l))\n" }
        if let m = entry.maxAge { meta += "max-age \(m)\n" }
        let base = directory + "/" + name(url)
        return write(Data(entry.body), to: base + ".body") && write(Data(meta.utf8), to: base + ".meta")
    }

    func write(_ data: Data, to path: String) -> Bool {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { return false }
        return rename(temporary, path) == 0
    }

    /// Header values and URLs as one line of the meta file (a newline would start a forged field).
    static func oneLine(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0 != "\n" && $0 != "\r" }.map(Character.init))
    }
}
