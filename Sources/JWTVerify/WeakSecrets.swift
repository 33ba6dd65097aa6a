import JOSECrypto
import SiftCore

/// Well-known HMAC secrets: defaults from documentation, tutorials and frameworks that end up in production.
/// Tried only against HS* tokens that no given key verifies; a hit is flagged `weak_secret` and the secret itself
/// is never printed. (Larger public lists exist: wallarm/jwt-secrets, ticarpi/jwt_tool's jwt-common.txt.)
public enum WeakSecrets {
    public static let list: [String] = [
        "secret", "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "secretkey", "secret-key",
        "secret_key", "SECRET_KEY", "mysecret", "my-secret", "my_secret", "mysecretkey", "your-secret-key",
        "your_secret_key", "your_jwt_secret", "jwt_secret", "jwt-secret", "jwtsecret", "JWT_SECRET", "supersecret",
        "super-secret", "topsecret", "shhhhh", "shhhhhhared-secret", "keyboard cat", "changeme", "changeit",
        "change-me", "password", "passw0rd", "123456", "12345678", "1234567890", "qwerty", "admin", "test", "testing",
        "dev", "development", "default", "key", "private", "token", "jwt", "hello", "letmein", "abc123", "s3cr3t",
        "secret123", "notasecret", "example", "HS256", "gofiber", "fastapi", "django-insecure", "laravel",
        "ThisIsMySecretKey", "replace-me", "REPLACE_ME", "",
    ]

    /// The list made ready for each HMAC hash (``HMACKey``: key states computed once, read by every thread), in
    /// list order: a check hashes only the token's signing input and an inner digest per secret.
    static let sha256 = list.map { HMACKey(Array($0.utf8), hash: .sha256)! }
    static let sha384 = list.map { HMACKey(Array($0.utf8), hash: .sha384)! }
    static let sha512 = list.map { HMACKey(Array($0.utf8), hash: .sha512)! }

    /// The list's keys for `hash` (empty for SHA-1, which no HS* algorithm uses).
    static func keys(for hash: HashAlgorithm) -> [HMACKey] {
        switch hash {
        case .sha256: sha256
        case .sha384: sha384
        case .sha512: sha512
        case .sha1: []
        }
    }
}
