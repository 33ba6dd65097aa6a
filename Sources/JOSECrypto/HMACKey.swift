import COpenSSL
import SiftCore

/// An HMAC secret made ready for one hash (RFC 2104): the hash states after the key XOR ipad and XOR opad blocks,
/// computed once. Checking a MAC then hashes only the message and the inner digest: no key schedule, no provider
/// lookup, no allocation, and no shared mutable state, so any number of threads may use one key at once.
///
/// What it holds is derived from the secret: it stays in memory and is never printed (``description`` gives the
/// hash alone).
public struct HMACKey: Sendable, CustomStringConvertible {
    public let hash: HashAlgorithm
    private let state: State

    private enum State: Sendable {
        case sha256(COpenSSL_HMAC256State)
        /// SHA-384 or SHA-512 (`bits`), which share SHA-512's state.
        case sha512(bits: Int32, COpenSSL_HMAC512State)
    }

    /// Nil for a hash JOSE's HMAC algorithms do not use (SHA-1), or if OpenSSL fails.
    public init?(_ secret: [UInt8], hash: HashAlgorithm) {
        self.hash = hash
        var s256 = COpenSSL_HMAC256State()
        var s512 = COpenSSL_HMAC512State()
        let bits: Int32
        switch hash {
        case .sha256: bits = 256
        case .sha384: bits = 384
        case .sha512: bits = 512
        case .sha1: return nil
        }
        let ok = secret.withUnsafeBufferPointer { k in
            COpenSSL_hmac_prepare(bits, k.baseAddress, k.count, &s256, &s512)
        }
        guard ok == 1 else { return nil }
        state = bits == 256 ? .sha256(s256) : .sha512(bits: bits, s512)
    }

    /// Whether `signature` is the HMAC of `message` under this key (compared in constant time); false for a
    /// signature of any other length than the hash's.
    public func matches(_ message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == hash.size, let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return false }
        // A zero-length message may have no address; SHA-2 reads nothing then (as `HMACSecret.mac` passes it).
        let m = (message.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self)
        switch state {
        case .sha256(let s):
            return withUnsafePointer(to: s) { COpenSSL_hmac256_matches($0, m, message.count, sig) == 1 }
        case .sha512(let bits, let s):
            return withUnsafePointer(to: s) { COpenSSL_hmac512_matches(bits, $0, m, message.count, sig) == 1 }
        }
    }

    /// Never the secret nor its states.
    public var description: String { "HMAC key (\(hash))" }
}

extension HMACSecret {
    /// This secret made ready for `hash` (see ``HMACKey``); nil for SHA-1.
    public func key(for hash: HashAlgorithm) -> HMACKey? { HMACKey(bytes, hash: hash) }
}
