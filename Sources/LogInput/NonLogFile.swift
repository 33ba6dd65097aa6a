/// Files a directory scan leaves out because they are plainly not logs: key material (a key directory kept beside
/// the logs, private keys included) and SQLite databases (a findings database written into the scanned directory,
/// its `-wal` and `-shm`). Only files found by walking a directory are filtered: a file named on the command line
/// is always read.
public enum NonLogFile: Sendable, Equatable {
    case keyMaterial
    case database

    /// What the file at `path` plainly is, when it is not a log.
    public static func classify(_ path: String) -> NonLogFile? {
        if KeyMaterial.isKeyFile(path) { return .keyMaterial }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        if name.hasSuffix("-wal") || name.hasSuffix("-shm") || name.hasSuffix("-journal") {
            // Only beside a database of the same stem, or with a WAL file's magic.
            let stem = String(path.dropLast(name.hasSuffix("-journal") ? 8 : 4))
            if isDatabase(SmallFile.head(of: stem, count: 16)) { return .database }
            let head = SmallFile.head(of: path, count: 4)
            if head == [0x37, 0x7F, 0x06, 0x82] || head == [0x37, 0x7F, 0x06, 0x83] { return .database }
        }
        return isDatabase(SmallFile.head(of: path, count: 16)) ? .database : nil
    }

    /// The 16-byte header every SQLite 3 database file starts with.
    static func isDatabase(_ head: [UInt8]) -> Bool { head.elementsEqual("SQLite format 3\u{0}".utf8) }
}

/// Recognises key material by its name or its first bytes.
public enum KeyMaterial {
    /// File name endings that only key, certificate or secret files carry.
    static let suffixes = [
        ".pem", ".key", ".crt", ".cer", ".der", ".p8", ".p12", ".pfx", ".jwk", ".jwks", ".jwks.json", ".secret",
    ]

    /// How much of the file's start is looked at.
    static let headLength = 512

    /// Whether the file at `path` is key material: by its name, or by how it starts (a PEM block, or a JSON object
    /// whose first members hold `"kty"` or `"keys"`, as a JWK or a JWK set does).
    public static func isKeyFile(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        if suffixes.contains(where: { name.hasSuffix($0) }) { return true }
        return looksLikeKey(SmallFile.head(of: path, count: headLength))
    }

    /// Whether these first bytes of a file start a PEM block or a JWK / JWK set.
    public static func looksLikeKey(_ head: [UInt8]) -> Bool {
        var i = 0
        while i < head.count, head[i] == 0x20 || head[i] == 0x09 || head[i] == 0x0A || head[i] == 0x0D { i += 1 }
        let rest = head[i...]
        if rest.starts(with: "-----BEGIN ".utf8) { return true }
        guard rest.first == UInt8(ascii: "{") else { return false }
        // A JWK or JWK set: its first member is a JWK member name and "kty" appears. A log line that is a JSON
        // object starts with other members (a time, a level), even when it mentions "kty" later.
        var j = rest.startIndex + 1
        while j < rest.endIndex, rest[j] == 0x20 || rest[j] == 0x09 || rest[j] == 0x0A || rest[j] == 0x0D { j += 1 }
        guard j < rest.endIndex, rest[j] == UInt8(ascii: "\"") else { return false }
        let nameEnd = rest[(j + 1)...].firstIndex(of: UInt8(ascii: "\"")) ?? rest.endIndex
        let first = String(decoding: rest[(j + 1)..<nameEnd], as: UTF8.self)
        return jwkMembers.contains(first) && contains(rest, "\"kty\"")
    }

    /// Member names of RFC 7517 (JWK and JWK set) and RFC 7518 key parameters.
    static let jwkMembers: Set<String> = [
        "keys", "kty", "kid", "alg", "use", "key_ops", "x5u", "x5c", "x5t", "x5t#S256", "n", "e", "d", "p", "q", "dp",
        "dq", "qi", "crv", "x", "y", "k",
    ]

    private static func contains(_ bytes: ArraySlice<UInt8>, _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        var i = bytes.startIndex
        while i + n.count <= bytes.endIndex {
            if bytes[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }
}
