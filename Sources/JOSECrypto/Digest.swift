import COpenSSL
import SiftCore

/// SHA-2 digests through OpenSSL (which uses the CPU's SHA extensions where present).
public enum Digest {
    /// SHA-256 of `bytes`. No allocation.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &out) { raw in
            let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let src = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            if let src {
                _ = SHA256(src, bytes.count, dst)
            } else {
                var empty: UInt8 = 0
                _ = SHA256(&empty, 0, dst)
            }
        }
        return SHA256Digest(
            w0: UInt64(bigEndian: out.0), w1: UInt64(bigEndian: out.1),
            w2: UInt64(bigEndian: out.2), w3: UInt64(bigEndian: out.3))
    }

    /// SHA-256 of a byte collection.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> SHA256Digest {
        let array = Array(bytes)
        return array.withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 of a string's UTF-8 bytes.
    public static func sha256(_ string: String) -> SHA256Digest { sha256(Array(string.utf8)) }

    /// Raw SHA-1/256/384/512 digest bytes, for thumbprints and certificate hashes.
    public static func digest(_ algorithm: HashAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        bytes.withUnsafeBytes { src in
            _ = EVP_Digest(src.baseAddress, src.count, &out, &len, algorithm.evp, nil)
        }
        return Array(out.prefix(Int(len)))
    }
}

/// A reusable SHA-256 context for hot loops: the digest is fetched once and the context reused, which avoids
/// the provider lookup and locking that OpenSSL 3's one-shot `SHA256()` pays on every call.
/// Not thread-safe: each thread owns its own (openssl-threads(7)).
public final class SHA256Context {
    private let ctx: OpaquePointer
    private let md: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()!
        md = EVP_MD_fetch(nil, "SHA256", nil)!
    }

    deinit {
        EVP_MD_CTX_free(ctx)
        EVP_MD_free(md)
    }

    /// SHA-256 of `bytes`. No allocation.
    public func hash(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var len: UInt32 = 0
        withUnsafeMutableBytes(of: &out) { raw in
            let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_DigestInit_ex(ctx, md, nil) == 1,
                EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) == 1,
                EVP_DigestFinal_ex(ctx, dst, &len) == 1
            else {
                // Cannot happen with a fetched SHA-256; fall back to the one-shot call.
                _ = SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, dst)
                return
            }
        }
        return SHA256Digest(
            w0: UInt64(bigEndian: out.0), w1: UInt64(bigEndian: out.1),
            w2: UInt64(bigEndian: out.2), w3: UInt64(bigEndian: out.3))
    }
}

/// The hash functions JOSE uses.
public enum HashAlgorithm: Sendable, Hashable {
    case sha1, sha256, sha384, sha512

    var evp: OpaquePointer? {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// Output size in bytes.
    public var size: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}
