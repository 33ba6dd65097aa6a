/// The outcome of the signature check, in the words of the database's `tokens.signature` and
/// `inspect --format json`'s `signature` (a public contract).
public enum SignatureStatus: String, Sendable, CaseIterable {
    case valid
    case invalid
    case key_unknown
    case retired_key
    case alg_mismatch
    case unsupported
    case unchecked
    case malformed
}
