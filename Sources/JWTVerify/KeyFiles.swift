import LogInput
import SiftCore

/// The key options of `scan` and `inspect`, as paths.
public struct KeyPaths: Sendable {
    /// `--keys`: JWKS, JWK, PEM or directories of them.
    public var keys: [String]
    /// `--retired-keys`: the same formats, keys valid before a rotation.
    public var retired: [String]
    /// `--hmac-secret-file`: each file's exact bytes are one secret.
    public var secrets: [String]
    /// The kid a secret file is published under (`hmac_secrets: [{file, kid}]` in `--config`), by its path.
    public var secretKids: [String: String]

    public init(
        keys: [String] = [], retired: [String] = [], secrets: [String] = [], secretKids: [String: String] = [:]
    ) {
        self.keys = keys
        self.retired = retired
        self.secrets = secrets
        self.secretKids = secretKids
    }

    public var isEmpty: Bool { keys.isEmpty && retired.isEmpty && secrets.isEmpty }
}

/// Loads every key the options name. A file or entry that cannot be used is a problem naming the file (and the
/// entry's index); every other key still loads.
public enum KeyFiles {
    public static func load(_ paths: KeyPaths) -> (KeyRing, [KeyProblem]) {
        var current: [VerificationKey] = []
        var retired: [VerificationKey] = []
        var problems: [KeyProblem] = []

        /// Files to read, each with whether it was found inside a directory.
        func files(_ arguments: [String]) -> [(path: String, inDirectory: Bool)] {
            var out: [(String, Bool)] = []
            for a in arguments {
                if a == "-" {
                    problems.append(
                        KeyProblem(.error, origin: "-", "keys cannot be read from standard input; give a file"))
                    continue
                }
                let (sources, errors) = InputPaths.expand([a])
                for e in errors { problems.append(KeyProblem(.error, origin: e.path, e.reason)) }
                let isDirectory = FileFacts.of(a)?.isDirectory == true
                for case .file(let p) in sources { out.append((p, isDirectory)) }
            }
            return out
        }

        func read(_ path: String) -> [UInt8]? {
            do {
                return try SmallFile.contents(of: path, limit: KeyLoader.maximumFileSize)
            } catch {
                problems.append(KeyProblem(.error, origin: path, error.reason))
                return nil
            }
        }

        for (arguments, isRetired) in [(paths.keys, false), (paths.retired, true)] {
            for (path, inDirectory) in files(arguments) {
                guard let bytes = read(path) else { continue }
                let (keys, p) = KeyLoader.parseKeyFile(bytes, origin: path, retired: isRetired)
                if inDirectory && keys.isEmpty {
                    // A directory may hold other files (private keys, secrets, notes): skip them, say so.
                    problems += p.map {
                        KeyProblem(.warning, origin: $0.origin, index: $0.index, "skipped: \($0.message)")
                    }
                } else {
                    problems += p
                }
                if isRetired { retired += keys } else { current += keys }
            }
        }
        // A secret file is used whole, as given: a directory is not a secret.
        for path in paths.secrets {
            if FileFacts.of(path)?.isDirectory == true {
                problems.append(
                    KeyProblem(.error, origin: path, "is a directory; --hmac-secret-file takes one file per secret"))
                continue
            }
            guard let bytes = read(path) else { continue }
            let (key, p) = KeyLoader.secret(bytes, origin: path, retired: false)
            problems += p
            if var key {
                key.kid = paths.secretKids[path]
                current.append(key)
            }
        }
        // Secrets are named by file name; two files of the same name are named by their paths instead.
        let names = current.map(\.thumbprint)
        for i in current.indices where names.filter({ $0 == names[i] }).count > 1 {
            if case .secret = current[i].material { current[i].thumbprint = "hmac:" + current[i].origin }
        }
        return (KeyRing(current: current, retired: retired), problems)
    }
}
