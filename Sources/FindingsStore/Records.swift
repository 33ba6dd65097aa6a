import SiftCore

/// What the scan hands the store, one batch per transaction. Plain values: the store knows nothing of the
/// scanner's or verifier's types.

/// A token to insert or update (one per distinct token in a batch), with its sightings in the batch.
///
/// What describes the token (its fingerprint, header and claim fields) is held once in a shared immutable box, so
/// that handing the same token to batch after batch copies one reference instead of a dozen strings (perf: copying
/// and releasing them was most of a token's cost per batch). Its fields read and write through the upsert
/// (`upsert.kid`); setting one copies the description into a new box.
@dynamicMemberLookup
public struct TokenUpsert: Sendable {
    /// What describes the token: the columns of its `tokens` row.
    public struct Description: Sendable {
        public var fingerprint: String { didSet { digest = SHA256Digest(hex: fingerprint) } }
        public var kind: String
        public var alg: String?
        public var enc: String?
        public var kid: String?
        public var typ: String?
        public var iss: String?
        /// JSON array text, e.g. `["api"]`.
        public var aud: String?
        public var subHash: String?
        /// Only with `--keep-subjects`.
        public var sub: String?
        public var iat: Double?
        public var nbf: Double?
        public var exp: Double?
        public var signature: String
        public var key: String?
        public var flags: String
        public var length: Int
        /// The fingerprint parsed (nil when it is not 64 hex characters), once per fingerprint.
        public private(set) var digest: SHA256Digest?
    }

    /// One description, shared by every copy of the upsert until a field is set.
    @usableFromInline
    final class Shared: Sendable {
        @usableFromInline let description: Description
        @usableFromInline init(_ description: Description) { self.description = description }
    }

    @usableFromInline var shared: Shared

    /// The token's description, as a value.
    public var description: Description { shared.description }

    /// Inlinable, so that a read from another module (`upsert.iss` in the scan's failure groups) is a field load:
    /// not inlined, each went through `swift_getAtKeyPath` (perf of `scan --db`).
    @inlinable
    public subscript<T>(dynamicMember field: KeyPath<Description, T>) -> T { shared.description[keyPath: field] }

    @inlinable
    public subscript<T>(dynamicMember field: WritableKeyPath<Description, T>) -> T {
        get { shared.description[keyPath: field] }
        set {
            var changed = shared.description
            changed[keyPath: field] = newValue
            shared = Shared(changed)
        }
    }

    /// Sightings of it in this batch (rows and rolled-up ones), their earliest and latest log times.
    public var count = 0
    public var okRolled = 0
    public var firstSeen: Double?
    public var lastSeen: Double?

    public init(
        fingerprint: String, kind: String, alg: String? = nil, enc: String? = nil, kid: String? = nil,
        typ: String? = nil,
        iss: String? = nil, aud: String? = nil, subHash: String? = nil, sub: String? = nil, iat: Double? = nil,
        nbf: Double? = nil, exp: Double? = nil, signature: String, key: String? = nil, flags: String = "", length: Int
    ) {
        shared = Shared(
            Description(
                fingerprint: fingerprint, kind: kind, alg: alg, enc: enc, kid: kid, typ: typ, iss: iss, aud: aud,
                subHash: subHash, sub: sub, iat: iat, nbf: nbf, exp: exp, signature: signature, key: key, flags: flags,
                length: length, digest: SHA256Digest(hex: fingerprint)))
    }

    /// Counts one sighting at `t`. Inlinable: called per sighting from the scan's consumer (another module).
    @inlinable
    public mutating func saw(at t: Double?, rolled: Bool) {
        count += 1
        if rolled { okRolled += 1 }
        if let t {
            if firstSeen.map({ t < $0 }) ?? true { firstSeen = t }
            if lastSeen.map({ t > $0 }) ?? true { lastSeen = t }
        }
    }
}

/// One sighting. The repeated words (cause, time source…) are ``InternedText`` made once by the caller, so
/// rows bind them without a copy or a lookup.
public struct SightingRow: Sendable {
    /// Index into the batch's `tokens`.
    public var token: Int
    public var line: UInt64
    public var offset: UInt64
    public var logTime: Double?
    public var status: Int?
    /// Index into the batch's `hosts`: the host that wrote the line.
    public var host: Int?
    public var cause: InternedText
    /// Every cause, comma-separated, when there is more than one (otherwise `causes` = `cause`).
    public var causes: String?
    public var skew: Double?
    public var timeSource: InternedText?
    public var truncation: InternedText?
    public var lineError: InternedText?

    public init(
        token: Int, line: UInt64, offset: UInt64, logTime: Double?, status: Int?, host: Int? = nil,
        cause: InternedText, causes: String?, skew: Double?, timeSource: InternedText?, truncation: InternedText?,
        lineError: InternedText?
    ) {
        self.token = token
        self.line = line
        self.offset = offset
        self.logTime = logTime
        self.status = status
        self.host = host
        self.cause = cause
        self.causes = causes
        self.skew = skew
        self.timeSource = timeSource
        self.truncation = truncation
        self.lineError = lineError
    }
}

public struct ErrorRow: Sendable {
    public var line: UInt64
    public var offset: UInt64
    public var logTime: Double?
    public var status: Int?
    /// Index into the batch's `hosts`.
    public var host: Int?
    public var cause: String
    public var alternative: String?
    public var rule: String
    /// Nil for the general classifier (`rule` = `generic`).
    public var emitter: String?
    /// Already redacted and capped by the scanner.
    public var message: String
    /// JSON object text.
    public var details: String
    /// Index into the batch's `tokens`, when the line also carries a token.
    public var token: Int?

    public init(
        line: UInt64, offset: UInt64, logTime: Double?, status: Int?, host: Int? = nil, cause: String,
        alternative: String?, rule: String, emitter: String?, message: String, details: String, token: Int?
    ) {
        self.line = line
        self.offset = offset
        self.logTime = logTime
        self.status = status
        self.host = host
        self.cause = cause
        self.alternative = alternative
        self.rule = rule
        self.emitter = emitter
        self.message = message
        self.details = details
        self.token = token
    }
}

/// Sightings of one token in one source with one cause and status class in one minute: what reports read.
public struct RollupRow: Sendable {
    /// Index into the batch's `tokens`.
    public var token: Int
    public var cause: InternedText
    public var statusClass: StatusClass
    /// floor(log time / 60), or -1 for lines without a time.
    public var minute: Int64
    public var n = 0
    public var first: Double?
    public var last: Double?
    /// Sightings on lines that also carry a verification error message.
    public var refused = 0
    /// Expired or not yet valid by less than the near-miss bound, and by how much (closest, farthest).
    public var near = 0
    public var nearMin: Double?
    public var nearMax: Double?

    public init(token: Int, cause: InternedText, statusClass: StatusClass, minute: Int64) {
        self.token = token
        self.cause = cause
        self.statusClass = statusClass
        self.minute = minute
    }

    /// Counts one sighting. Inlinable: called per sighting from the scan's consumer (another module).
    @inlinable
    public mutating func add(at t: Double?, errorOnLine: Bool, nearBy: Double?) {
        n += 1
        if let t {
            if first.map({ t < $0 }) ?? true { first = t }
            if last.map({ t > $0 }) ?? true { last = t }
        }
        if errorOnLine { refused += 1 }
        if let d = nearBy {
            near += 1
            if nearMin.map({ d < $0 }) ?? true { nearMin = d }
            if nearMax.map({ d > $0 }) ?? true { nearMax = d }
        }
    }
}

/// One transaction's worth of findings for one source.
public struct Batch: Sendable {
    public var sourceID: Int64
    public var tokens: [TokenUpsert] = []
    /// The host names the batch's rows refer to (as stored: already through the caller's redaction), each once.
    public var hosts: [String] = []
    public var sightings: [SightingRow] = []
    public var errors: [ErrorRow] = []
    /// Every sighting of the batch, rolled-up ones included, counted per token, cause, status class and minute.
    public var rollups: [RollupRow] = []
    public var progress: ReadProgress
    /// The last bytes read before `progress.offset` (up to ``FindingsDB/tailLength``), raw: their hash is stored
    /// with the progress, so the next run can tell a file rewritten in place (copytruncate) from one that grew.
    /// Empty: none (streams).
    public var window: [UInt8] = []
    /// What the batch adds to its run's counts (`sources`: 1 on a source's first batch), committed with its rows
    /// so that the run's row always counts what is in the database, however the run ends.
    public var counts = RunCounts()
    /// The source's last batch (its reading ended, completed or not): the writer may commit it together with
    /// other sources' last batches (``StoreWriter``).
    public var endsSource = false

    public init(sourceID: Int64, progress: ReadProgress) {
        self.sourceID = sourceID
        self.progress = progress
    }

    public var rowCount: Int { sightings.count + errors.count }
}

/// A key loaded for the run (public keys by thumbprint; a secret by its opaque id).
public struct KeyRecord: Sendable {
    public var thumbprint: String
    public var kid: String?
    public var kty: String
    public var alg: String?
    public var origin: String
    public var retired: Bool
    /// The configured issuer it was published for; `""`: the global keys.
    public var issuer: String
    /// The file or URL it came from.
    public var source: String?
    /// The public key as a JWK (nil for a secret: never stored).
    public var jwk: String?
    /// When it was seen in its set (the run's start).
    public var publishedAt: Double?

    public init(
        thumbprint: String, kid: String?, kty: String, alg: String?, origin: String, retired: Bool,
        issuer: String = "", source: String? = nil, jwk: String? = nil, publishedAt: Double? = nil
    ) {
        self.thumbprint = thumbprint
        self.kid = kid
        self.kty = kty
        self.alg = alg
        self.origin = origin
        self.retired = retired
        self.issuer = issuer
        self.source = source
        self.jwk = jwk
        self.publishedAt = publishedAt
    }
}

/// What became of one fetched document in a run (a row of `key_fetches`).
public struct KeyFetchRecord: Sendable, Equatable {
    public var url: String
    /// `fetched`, `not_modified`, `fresh`, `offline` or `failed`.
    public var outcome: String
    public var httpStatus: Int?
    public var reason: String?
    public var fetchedAt: Double?
    public var usedCache: Bool

    public init(
        url: String, outcome: String, httpStatus: Int?, reason: String?, fetchedAt: Double?, usedCache: Bool
    ) {
        self.url = url
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.reason = reason
        self.fetchedAt = fetchedAt
        self.usedCache = usedCache
    }
}

/// A key recorded by an earlier run (a row of `keys`).
public struct KeyHistoryRecord: Sendable, Equatable {
    public var issuer: String
    public var thumbprint: String
    public var kid: String?
    public var kty: String
    public var alg: String?
    public var source: String?
    public var jwk: String?
    public var retired: Bool
    public var firstRunID: Int64?
    public var lastRunID: Int64?
    public var firstPublished: Double?
    public var lastPublished: Double?
}

/// What a file looks like now, for deciding whether to skip, resume or start over.
public struct SourceIdentity: Sendable {
    public var path: String
    public var size: UInt64?
    public var mtime: Double?
    public var inode: UInt64?
    /// The first bytes of the file (up to ``FindingsDB/headLength``), raw.
    public var head: [UInt8]
    public var isStdin: Bool
    /// Not a regular file (standard input, a pipe, a FIFO, a socket, a device): read once from its start, never
    /// identified, resumed or skipped (its bytes could only be looked at by consuming them).
    public var isStream: Bool
    /// Reads up to `count` bytes of the file at `offset` (the window before where the last run stopped,
    /// ``FindingsDB/tailLength`` bytes, is compared with its hash); nil: no such check.
    public var bytesAt: (@Sendable (_ offset: UInt64, _ count: Int) -> [UInt8])?

    public init(
        path: String, size: UInt64?, mtime: Double?, inode: UInt64?, head: [UInt8], isStdin: Bool,
        isStream: Bool = false, bytesAt: (@Sendable (_ offset: UInt64, _ count: Int) -> [UInt8])? = nil
    ) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.inode = inode
        self.head = head
        self.isStdin = isStdin
        self.isStream = isStream || isStdin
        self.bytesAt = bytesAt
    }

    public var looksGzip: Bool { head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B }
}
