import SiftCore

/// The facts of the last few headers a scanner decided (``TokenScanner/decide(_:dots:)``), by their encoded bytes:
/// a log's distinct tokens share a handful of headers byte for byte, so a new token's header is nearly always one
/// of them, and decoding and parsing it again per distinct token (base64url, a JSON object, its Strings) was
/// ≈ 6% of scanning a log of many distinct tokens. The facts depend on the header and on whether the candidate has
/// two, or three or more, dots: both are the key. A few entries, replaced in turn; one per scanner.
final class HeaderDecisions {
    static let capacity = 8
    /// Longer headers are decided each time, not kept.
    static let maximumLength = 512

    private var kept = RecentBytes<(dotClass: Int, facts: TokenScanner.Facts)>(
        capacity: HeaderDecisions.capacity, maximumKeyLength: HeaderDecisions.maximumLength)

    /// The facts of `header` for a candidate with `dots` dots: kept ones, else decided (and kept).
    func facts(_ header: UnsafeRawBufferPointer, dots: Int) -> TokenScanner.Facts {
        let dotClass = min(dots, 3)
        guard !header.isEmpty else { return TokenScanner.decide(header, dots: dots) }
        if let known = kept.value(for: header, where: { $0.dotClass == dotClass }) { return known.facts }
        let decided = TokenScanner.decide(header, dots: dots)
        kept.keep((dotClass, decided), for: header)
        return decided
    }
}
