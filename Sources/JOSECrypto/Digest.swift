import COpenSSL

/// A SHA-256 digest held as four big-endian words: hashable and comparable without allocating.
///
/// It is the identity of a token everywhere in jwtsift (its *fingerprint*): the database, the reports and
/// joins across files use its lowercase hex form, never the token itself.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Builds a digest from exactly 32 bytes; returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(b) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// The 32 digest bytes, big-endian.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// Lowercase hexadecimal, 64 characters.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        var i = 0
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out[i] = digits[Int((w >> UInt64(shift)) & 0xF)]
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first `count` hex characters: what reports print to name a token.
    public func prefix(_ count: Int = 12) -> String { String(hex.prefix(count)) }

    public var description: String { hex }

    /// The digest is already uniformly distributed: one word is enough for hash tables.
    public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.w0 == b.w0 && a.w1 == b.w1 && a.w2 == b.w2 && a.w3 == b.w3
    }

    public static func < (a: SHA256Digest, b: SHA256Digest) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// Parses 64 hex characters.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = Self.nibble(utf8[i]), let lo = Self.nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

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
