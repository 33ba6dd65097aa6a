import JOSECrypto
import SiftCore

/// What a JOSE header says, read once per distinct encoded header: tokens of one issuer share their header byte for
/// byte, so a log of many distinct tokens holds few distinct headers (decoding and parsing each token's header was
/// ≈ 10% of analysing a distinct HS256 token).
///
/// A pure function of the encoded bytes: the facts are what ``TokenAnalyzer`` reads from the header, in its order,
/// up to the first refusal, which ``failure`` then names.
final class HeaderFacts {
    /// The encoded header (the token's first segment), as found.
    let encoded: [UInt8]
    /// The decoded header; nil when it is not canonical base64url or not a JSON object.
    let header: JSONObject?
    /// Why the header makes the token malformed, if it does.
    let failure: String?
    let alg: String?
    let typ: String?
    let kid: String?
    /// kidInjection, jku, x5u, jwk, x5c, crit.
    let flags: TokenFlags
    let enc: String?
    /// RFC 7797 `"b64"` given as a string, or as `false`.
    let unencodedPayload: Bool

    /// Reads `encoded` (its length already checked against ``TokenScanner/maximumHeaderLength``).
    init(_ encoded: [UInt8]) {
        self.encoded = encoded
        var alg: String? = nil
        var typ: String? = nil
        var kid: String? = nil
        var flags = TokenFlags()
        var header: JSONObject? = nil
        func facts() -> String? {
            guard let (raw, quality) = Base64URL.decodeWithQuality(encoded), quality == .canonical, !raw.isEmpty
            else {
                return "the header is not canonical base64url"
            }
            let h: JSONObject
            do {
                h = try JSONParser.parseObject(raw)
            } catch {
                return "the header is not a JSON object (\(error))"
            }
            header = h
            guard let algValue = h["alg"], let a = algValue.stringValue else {
                return h["alg"] == nil ? "the header has no \"alg\"" : "\"alg\" is not a string"
            }
            alg = a
            typ = h["typ"]?.stringValue
            if let kidValue = h["kid"] {
                guard let k = kidValue.stringValue else { return "\"kid\" is a \(kidValue.typeName), not a string" }
                kid = k
                if TokenAnalyzer.looksInjected(k) { flags.insert(.kidInjection) }
            }
            if h["jku"] != nil { flags.insert(.jku) }
            if h["x5u"] != nil { flags.insert(.x5u) }
            if h["jwk"] != nil { flags.insert(.jwk) }
            if h["x5c"] != nil { flags.insert(.x5c) }
            if h["crit"] != nil { flags.insert(.crit) }
            return nil
        }
        failure = facts()
        self.header = header
        self.alg = alg
        self.typ = typ
        self.kid = kid
        self.flags = flags
        enc = failure == nil ? header?["enc"]?.stringValue : nil
        unencodedPayload = header.map { $0["b64"]?.stringValue != nil || $0["b64"] == .bool(false) } ?? false
    }
}

/// A thread's recently met headers (see ``HeaderFacts``), looked up by the encoded bytes without copying them.
/// Bounded: past ``limit`` headers it starts over. Not thread-safe: one per analysing thread.
final class HeaderMemo {
    static let limit = 256
    /// By a hash of the encoded bytes; a hit is confirmed by comparing them (a collision is a miss, replaced).
    private var table: [Int: HeaderFacts] = [:]
    /// The last few headers looked up, compared directly before anything is hashed (a log of one issuer's tokens
    /// has a handful of headers).
    private var recent = RecentBytes<HeaderFacts>(capacity: 8)

    init() {}

    /// Headers remembered now.
    var count: Int { table.count }

    /// The facts of the header `encoded`.
    func facts(_ encoded: UnsafeRawBufferPointer) -> HeaderFacts {
        recent.value(for: encoded) {
            var hasher = Hasher()
            hasher.combine(bytes: encoded)
            let h = hasher.finalize()
            if let f = table[h], f.encoded.elementsEqual(encoded) { return f }
            if table.count >= Self.limit { table.removeAll(keepingCapacity: true) }
            let f = HeaderFacts(Array(encoded))
            table[h] = f
            return f
        }
    }
}

/// What one analysing thread keeps between tokens: its signature checker (OpenSSL contexts, HMAC key states), the
/// headers it has read and its decoding buffers. Each thread must have its own.
public final class AnalysisContext {
    public let verifier: SignatureChecker
    let headers = HeaderMemo()
    /// The current token's decoded payload and signature, reusing their storage from token to token.
    var payload: [UInt8] = []
    var signature: [UInt8] = []
    /// Issuers and audiences of recent tokens, each String (array) made once per distinct text: a log's tokens
    /// repeat them byte for byte (texts over 256 bytes are made each time).
    var issuers = RecentBytes<String>(capacity: 8, maximumKeyLength: 256)
    var audiences = RecentBytes<[String]>(capacity: 8, maximumKeyLength: 256)
    var audienceLists = RecentBytes<[String]>(capacity: 8, maximumKeyLength: 256)

    public init(verifier: SignatureChecker = SignatureChecker()) { self.verifier = verifier }
}
