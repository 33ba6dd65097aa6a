#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The facts of the last few headers a scanner decided (``TokenScanner/decide(_:dots:)``), by their encoded bytes:
/// a log's distinct tokens share a handful of headers byte for byte, so a new token's header is nearly always one
/// of them, and decoding and parsing it again per distinct token (base64url, a JSON object, its Strings) was
/// ≈ 6% of scanning a log of many distinct tokens. The facts depend on the header and on whether the candidate has
/// two, or three or more, dots: both are the key. A few entries, replaced in turn; one per scanner.
final class HeaderDecisions {
    static let capacity = 8
    /// Longer headers are decided each time, not kept.
    static let maximumLength = 512

    private var headers: [[UInt8]] = []
    private var dotClasses: [Int] = []
    private var facts: [TokenScanner.Facts] = []
    private var next = 0

    /// The facts of `header` for a candidate with `dots` dots: kept ones, else decided (and kept).
    func facts(_ header: UnsafeRawBufferPointer, dots: Int) -> TokenScanner.Facts {
        let dotClass = min(dots, 3)
        let n = header.count
        if n > 0 && n <= Self.maximumLength {
            for k in headers.indices where dotClasses[k] == dotClass && headers[k].count == n {
                let same = headers[k].withUnsafeBytes { memcmp($0.baseAddress!, header.baseAddress!, n) == 0 }
                if same { return facts[k] }
            }
        }
        let decided = TokenScanner.decide(header, dots: dots)
        guard n > 0 && n <= Self.maximumLength else { return decided }
        if headers.count < Self.capacity {
            headers.append(Array(header))
            dotClasses.append(dotClass)
            facts.append(decided)
        } else {
            headers[next].replaceSubrange(headers[next].indices, with: header)
            dotClasses[next] = dotClass
            facts[next] = decided
            next = (next + 1) % Self.capacity
        }
        return decided
    }
}
