import SiftCore

extension ReportBuilder {
    /// What a leading cause usually means, in one sentence for the overview.
    /// - Parameters:
    ///   - share: the cause's share of failures, as text.
    ///   - nearShare: the share of failures that were near misses (expired by less than the bound), as text.
    ///   - mostlyNear: at least half of the cause's sightings were near misses.
    ///   - kids: up to three key IDs its tokens name, comma-separated.
    static func sentence(for cause: Cause, share: String, nearShare: String, mostlyNear: Bool, kids: String) -> String {
        switch cause {
        case .expired:
            if mostlyNear {
                return
                    "\(nearShare) of failures are tokens used 0–\(Rollup.nearMissWords) after they expired: clients are not refreshing tokens before they expire (or clocks disagree by minutes)."
            }
            return
                "\(share) of failures are expired tokens, most of them long past expiry: clients replaying old tokens, or a cache serving them."
        case .signature_invalid:
            return
                "\(share) of failures have signatures that do not verify with the given keys: a key rotation the verifiers missed, the wrong keys given to jwtsift, or tampered tokens."
        case .key_unknown:
            return
                "\(share) of failures carry a kid no given key has (\(kids.isEmpty ? "no kid" : kids)): a new signing key the verifiers do not know yet (a stale JWKS cache) or keys missing from --keys."
        case .key_retired:
            return
                "\(share) of failures verify only with a retired key: clients or an issuer node still sign with the old key."
        case .truncated:
            return
                "\(share) of failures are tokens cut short by a logger or proxy: the logs, not the tokens, are at fault; raise the logger's field limit."
        case .malformed:
            return "\(share) of failures are malformed tokens: clients sending something that is not a JWT."
        case .alg_none:
            return "\(share) of failures are unsecured tokens (alg: none): attack attempts, never legitimate."
        case .alg_mismatch:
            return
                "\(share) of failures use an algorithm their key does not allow, algorithm-confusion attempts included."
        case .not_yet_valid, .issued_in_future:
            return
                "\(share) of failures are tokens not valid yet at the log time: the issuer's clock runs ahead of the services' (see Clock drift)."
        case .issuer_rejected:
            return
                "\(share) of failures come from issuers not in --issuer: a misconfigured client or a second identity provider."
        case .audience_rejected:
            return "\(share) of failures are for another audience: tokens minted for a different API."
        case .encrypted:
            return "\(share) of failures are encrypted tokens (JWE) that could not be read."
        case .alg_unsupported, .claims_invalid, .missing_token, .key_fetch_failed, .other, .unverified, .ok:
            return "\(share) of failures are \(cause.rawValue)."
        }
    }
}
