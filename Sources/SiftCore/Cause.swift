/// Why a token failed, in jwtsift's public vocabulary.
///
/// The raw values are a contract: they are stored in the database (`sightings.cause`, `log_errors.cause`),
/// printed in every report and accepted by `--fail-on`. Add cases; never rename one.
public enum Cause: String, Sendable, CaseIterable, Hashable, Comparable, Codable {
    case malformed
    case truncated
    case encrypted
    case alg_none
    case alg_unsupported
    case key_unknown
    case alg_mismatch
    case signature_invalid
    case key_retired
    case issuer_rejected
    case audience_rejected
    case expired
    case not_yet_valid
    case issued_in_future
    case claims_invalid
    case missing_token
    case key_fetch_failed
    case unverified
    case other
    case ok

    /// Position in the precedence order of the verdict (issue #3): the first cause that applies is primary.
    public var precedence: Int { Cause.ordered.firstIndex(of: self)! }

    /// Every cause in precedence order, built once (`allCases` builds a new array on each call).
    public static let ordered: [Cause] = allCases

    public static func < (a: Cause, b: Cause) -> Bool { a.precedence < b.precedence }

    /// Whether the cause means the token was refused (everything but `ok` and `unverified`).
    public var isFailure: Bool { self != .ok && self != .unverified }
}
