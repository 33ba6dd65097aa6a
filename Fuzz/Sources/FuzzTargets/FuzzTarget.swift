/// The fuzz targets. Each takes the fuzzer's bytes, drives one library API with them and checks invariants that
/// must hold for every input; a broken invariant stops the process through ``FuzzCheck/fail(_:_:)`` (libFuzzer
/// then saves the input as a crash).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The whole `LineScanner` over a chunk of lines: tokens, timestamps, status, error phrases.
    case scanner
    /// `JSONParser` (SiftCore).
    case json
    /// `Base64URL` (SiftCore).
    case base64url
    /// `KeyLoader` (JWKS, JWK, PEM, X.509) and `PublicKey`'s DER readers.
    case keys
    /// `TimestampParser`.
    case timestamp
    /// `StatusParser`.
    case status
    /// `LogReader` over the bytes as a file: plain, gzip, and stored-block gzip wrapped around the input.
    case gzip
    /// `TokenAnalyzer` on the bytes as a token, with a small fixed key set.
    case token

    /// Builds the target's fixed state (the phrase table, the key set) before the first input, so libFuzzer's
    /// per-input leak check does not count it.
    public func prepare() {
        switch self {
        case .scanner: _ = ScannerTarget.prototype
        case .token: _ = TokenTarget.analyzer
        case .gzip: _ = GzipTarget.path
        default: break
        }
    }

    /// Runs one input.
    public func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .scanner: ScannerTarget.run(data)
        case .json: JSONTarget.run(data)
        case .base64url: Base64URLTarget.run(data)
        case .keys: KeysTarget.run(data)
        case .timestamp: TimestampTarget.run(data)
        case .status: StatusTarget.run(data)
        case .gzip: GzipTarget.run(data)
        case .token: TokenTarget.run(data)
        }
    }
}

/// How a target reports a broken invariant. The message names the target and the invariant, never the input's
/// bytes (an input may hold a token or a secret): the input itself is what libFuzzer saves.
enum FuzzCheck {
    static func fail(_ target: FuzzTarget, _ invariant: String) -> Never {
        fatalError("fuzz-\(target.rawValue): invariant broken: \(invariant)")
    }

    @inline(__always)
    static func expect(_ condition: Bool, _ target: FuzzTarget, _ invariant: @autoclosure () -> String) {
        if !condition { fail(target, invariant()) }
    }

    /// Whether `needle` occurs in `hay` (byte search; both small).
    static func contains(_ hay: some Collection<UInt8>, _ needle: [UInt8]) -> Bool {
        let h = Array(hay)
        guard !needle.isEmpty, h.count >= needle.count else { return needle.isEmpty }
        for i in 0...(h.count - needle.count) where h[i] == needle[0] {
            var j = 1
            while j < needle.count, h[i + j] == needle[j] { j += 1 }
            if j == needle.count { return true }
        }
        return false
    }
}
