import JWTVerify
import LogInput
import SiftCore
import Yams

/// Reads a `--config` file (YAML, read with Yams; see docs/config.md) into an ``IssuerConfiguration``. Every key
/// is checked: an unknown key, a value of the wrong type or out of range, or an issuer named twice is a
/// ``ConfigError`` naming the file, the line and the key.
public enum ConfigReader {
    /// Larger files are refused (a configuration is a few kilobytes).
    public static let maximumFileSize = 1 << 20

    /// Leeway bounds, as `--leeway`.
    public static let leewayRange: ClosedRange<Double> = 0...31_536_000

    public static func read(path: String) throws(ConfigError) -> IssuerConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try SmallFile.contents(of: path, limit: maximumFileSize)
        } catch {
            throw ConfigError(file: path, line: 0, key: "", error.reason)
        }
        let directory = path.utf8.contains(UInt8(ascii: "/")) ? String(path[..<path.lastIndex(of: "/")!]) : "."
        return try parse(bytes, file: path, directory: directory)
    }

    /// Parses the file's bytes; relative paths in it are resolved against `directory`.
    public static func parse(_ bytes: [UInt8], file: String, directory: String) throws(ConfigError)
        -> IssuerConfiguration
    {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: file, line: 0, key: "", "is not UTF-8 text")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlProblem(error, file: file)
        } catch {
            throw ConfigError(file: file, line: 0, key: "", "cannot be read as YAML")
        }
        let reader = Reader(file: file, directory: directory)
        var config = IssuerConfiguration()
        config.file = file
        guard let root else { return config }
        let top = try reader.mapping(root, key: "", allowed: ["defaults", "issuers", "allow_http"])
        for (name, value) in top {
            switch name {
            case "defaults":
                config.defaults = try reader.settings(value, key: "defaults", isIssuer: false)
            case "issuers":
                var seen: [String: Int] = [:]
                for (i, entry) in try reader.sequence(value, key: "issuers").enumerated() {
                    let s = try reader.settings(entry, key: "issuers[\(i)]", isIssuer: true)
                    if let iss = s.iss {
                        if let first = seen[iss] {
                            throw reader.error(
                                entry, "issuers[\(i)].iss",
                                "issuer \"\(UntrustedText.display(iss))\" is already configured at line \(first)")
                        }
                        seen[iss] = s.line
                    }
                    config.issuers.append(s)
                }
            case "allow_http":
                config.allowHTTP = try reader.bool(value, key: "allow_http")
            default: break
            }
        }
        return config
    }

    static func yamlProblem(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, key: "", "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: file, line: context.mark.line, key: duplicates.first.map { UntrustedText.display($0) } ?? "",
                "given twice in the same mapping")
        case .reader(let problem, _, _, _):
            return ConfigError(file: file, line: 0, key: "", "cannot be read: \(problem)")
        default:
            return ConfigError(file: file, line: 0, key: "", "cannot be read as YAML")
        }
    }

    /// Walks the node tree, naming each value's line and key in its errors.
    struct Reader {
        let file: String
        let directory: String

        func error(_ node: Node, _ key: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: node.mark?.line ?? 0, key: key, message)
        }

        /// A mapping's entries in file order; keys must be plain strings among `allowed`.
        func mapping(_ node: Node, key: String, allowed: Set<String>) throws(ConfigError) -> [(String, Node)] {
            guard let map = node.mapping else {
                throw error(node, key, "expected a mapping of \(allowed.sorted().joined(separator: ", "))")
            }
            var out: [(String, Node)] = []
            for (k, v) in map {
                let name = k.scalar?.string ?? ""
                let path = key.isEmpty ? name : "\(key).\(name)"
                guard allowed.contains(name) else {
                    throw error(
                        k, UntrustedText.display(path),
                        "unknown key (allowed here: \(allowed.sorted().joined(separator: ", ")))")
                }
                out.append((name, v))
            }
            return out
        }

        func sequence(_ node: Node, key: String) throws(ConfigError) -> [Node] {
            guard let s = node.sequence else { throw error(node, key, "expected a list") }
            return Array(s)
        }

        func string(_ node: Node, key: String) throws(ConfigError) -> String {
            guard let s = node.scalar, !s.string.isEmpty else { throw error(node, key, "expected a non-empty string") }
            return s.string
        }

        /// A string, or a list of strings.
        func strings(_ node: Node, key: String) throws(ConfigError) -> [String] {
            if node.scalar != nil { return [try string(node, key: key)] }
            var out: [String] = []
            for (i, n) in try sequence(node, key: key).enumerated() { out.append(try string(n, key: "\(key)[\(i)]")) }
            return out
        }

        func bool(_ node: Node, key: String) throws(ConfigError) -> Bool {
            guard node.scalar != nil, let b = node.bool else { throw error(node, key, "expected true or false") }
            return b
        }

        func path(_ s: String) -> String { s.hasPrefix("/") ? s : "\(directory)/\(s)" }

        func url(_ node: Node, key: String) throws(ConfigError) -> [String] {
            let urls = try strings(node, key: key)
            for u in urls where !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
                throw error(node, key, "\"\(UntrustedText.display(u))\" is not an https:// URL")
            }
            return urls
        }

        func settings(_ node: Node, key: String, isIssuer: Bool) throws(ConfigError) -> IssuerSettings {
            var allowed: Set<String> = [
                "keys", "retired_keys", "hmac_secrets", "jwks_uri", "oidc_issuer", "audiences", "leeway", "algorithms",
            ]
            if isIssuer { allowed.formUnion(["iss", "discovery"]) }
            var s = IssuerSettings()
            s.line = node.mark?.line ?? 0
            var discoveryOfItself = false
            for (name, value) in try mapping(node, key: key, allowed: allowed) {
                let at = "\(key).\(name)"
                switch name {
                case "iss": s.iss = try string(value, key: at)
                case "keys": s.keys = try strings(value, key: at).map(path)
                case "retired_keys": s.retiredKeys = try strings(value, key: at).map(path)
                case "hmac_secrets":
                    let items = value.scalar != nil ? [value] : try sequence(value, key: at)
                    for (i, item) in items.enumerated() {
                        let itemKey = "\(at)[\(i)]"
                        if item.scalar != nil {
                            s.secrets.append(SecretFile(path: path(try string(item, key: itemKey))))
                            continue
                        }
                        var secret = SecretFile(path: "")
                        for (n, v) in try mapping(item, key: itemKey, allowed: ["file", "kid"]) {
                            if n == "file" { secret.path = path(try string(v, key: "\(itemKey).file")) }
                            if n == "kid" { secret.kid = try string(v, key: "\(itemKey).kid") }
                        }
                        guard !secret.path.isEmpty else { throw error(item, itemKey, "needs file: PATH") }
                        s.secrets.append(secret)
                    }
                case "jwks_uri": s.jwksURIs = try url(value, key: at)
                case "oidc_issuer": s.discovery += try url(value, key: at)
                case "discovery": discoveryOfItself = try bool(value, key: at)
                case "audiences": s.audiences = try strings(value, key: at)
                case "leeway":
                    guard value.scalar != nil, let n = value.float, n.isFinite, leewayRange.contains(n) else {
                        throw error(value, at, "expected a number of seconds from 0 to 31536000")
                    }
                    s.leeway = n
                case "algorithms":
                    for (i, name) in try strings(value, key: at).enumerated() {
                        guard let alg = JWSAlgorithm(rawValue: name) else {
                            throw error(
                                value, "\(at)[\(i)]",
                                "\"\(UntrustedText.display(name))\" is not a JWS signature algorithm (RS256, ES256, EdDSA, HS256, …)"
                            )
                        }
                        s.algorithms.append(alg)
                    }
                default: break
                }
            }
            if isIssuer {
                guard let iss = s.iss else { throw error(node, key, "needs iss: the issuer's exact iss claim") }
                if discoveryOfItself {
                    guard iss.hasPrefix("https://") || iss.hasPrefix("http://") else {
                        throw error(
                            node, "\(key).discovery",
                            "iss \"\(UntrustedText.display(iss))\" is not a URL to discover from; give oidc_issuer: URL"
                        )
                    }
                    s.discovery.insert(iss, at: 0)
                }
            }
            return s
        }
    }
}
