import JOSECrypto
import SiftCore

/// Bounds the cost of the weak-secret check over many distinct HS* tokens (issue 15: 60 HMACs per distinct token
/// made 500 k distinct tokens cost minutes).
///
/// Tokens that share a header and an issuer are signed alike. So the check runs in full for the first token of
/// such a group and for a sample of the rest (1 in 64, chosen by the signature's first byte, so the same token is
/// always chosen or not); in a group where a weak secret was found only that secret is tried; in a group where
/// none was, the rest are not checked. What it can miss: a token signed with a weak secret inside a group whose
/// first token was not (an issuer mixing a weak and a strong secret under one header), unless it is sampled.
///
/// Decisions read a snapshot taken before each batch and the batch's findings are recorded after it, in token
/// order: the outcome does not depend on the number of threads or their timing.
public struct WeakSecretMemo: Sendable {
    struct Key: Hashable, Sendable {
        var header: [UInt8]
        var iss: String?

        /// The header's bytes in one call (the synthesized hash fed them to the hasher one by one: 2% of a
        /// verifying scan of many distinct HS256 tokens).
        func hash(into hasher: inout Hasher) {
            hasher.combine(header.count)
            header.withUnsafeBytes { hasher.combine(bytes: $0) }
            hasher.combine(iss)
        }
    }

    enum Outcome: Sendable, Equatable {
        case none
        case found(Int)
    }

    /// What a full check of one token found, to be recorded for its group.
    struct Record: Sendable {
        var key: Key
        var outcome: Outcome
    }

    enum Decision: Equatable {
        case all
        case only(Int)
        case skip
    }

    /// Groups remembered; past it the memo starts over (memory stays bounded whatever the token count).
    static let limit = 1 << 16

    private(set) var groups: [Key: Outcome] = [:]

    /// Tokens whose weak-secret check ran over the whole list (a group's first token, a sampled one), by
    /// fingerprint, with what it found: a token met again after its analysis was let go is sampled again, and its
    /// answer is known (≈ 6% of a verifying scan of 530 k distinct HS256 tokens was such repeats). Past
    /// ``checkedLimit`` tokens it starts over.
    private var checked = FingerprintMap<Outcome>(limit: Self.checkedLimit, placeholder: .none)
    static let checkedLimit = 1 << 15

    public init() {}

    /// What the full check of the token with this fingerprint found, when it ran before (and is remembered).
    func fullCheck(_ fingerprint: SHA256Digest) -> Outcome? { checked.find(fingerprint).map { checked[$0] } }

    /// Records what a full check of a token found.
    mutating func recordFullCheck(_ fingerprint: SHA256Digest, _ outcome: Outcome) {
        if checked.count >= checked.capacity { checked.removeAll() }
        checked.insert(fingerprint, outcome)
    }

    /// `header` is the token's encoded header (shared with the thread's ``HeaderMemo``: no copy per token).
    func decision(header: [UInt8], iss: String?, signatureFirstByte: UInt8) -> (Decision, Key) {
        let key = Key(header: header, iss: iss)
        switch groups[key] {
        case nil: return (.all, key)
        case .found(let i)?: return (.only(i), key)
        case .none?: return (signatureFirstByte < 4 ? .all : .skip, key)
        }
    }

    mutating func record(_ r: Record) {
        if groups.count >= Self.limit { groups.removeAll(keepingCapacity: true) }
        if groups[r.key] == nil || r.outcome != .none { groups[r.key] = r.outcome }
    }
}

/// What a token's weak-secret check found — nothing (or it did not run), or the list's secret at an index — so
/// that the token, analysed again while its first analysis is remembered, is found alike (``SightingJudge``),
/// without consulting or updating the memo.
enum WeakReplay: Sendable, Equatable {
    case none
    case found(Int)
}
