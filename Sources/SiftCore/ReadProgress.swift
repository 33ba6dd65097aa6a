/// How far a source has been read. The scan reports it after each chunk; the findings database stores it with
/// the rows of the same batch (so a resume starts where the committed rows end); one type on both sides.
public struct ReadProgress: Sendable, Equatable {
    /// Stream offset just after what has been read (bytes of the decompressed stream).
    public var offset: UInt64
    /// Start of the line still open at `offset` (== `offset` after a newline): a grown file resumes here, after
    /// its rows from here on are deleted, so a line finished by the append is counted once.
    public var openLineStart: UInt64
    /// The number of that line.
    public var openLine: UInt64
    /// The reader reached the end of the stream.
    public var completed: Bool

    public init(offset: UInt64, openLineStart: UInt64, openLine: UInt64, completed: Bool = false) {
        self.offset = offset
        self.openLineStart = openLineStart
        self.openLine = openLine
        self.completed = completed
    }

    /// Lines completely or partly read (a final line without a newline counts).
    public var linesDone: UInt64 { openLine - 1 + (offset > openLineStart ? 1 : 0) }
}

/// What to do with a source, as a consumer with memory (the findings database) decides.
public enum ReadPlan: Sendable, Equatable {
    /// Already scanned to its end, unchanged.
    case skip(reason: String)
    /// Read from stream offset `from`, which is line `line`; `reason` says why (new, grown, rotated…).
    case read(from: UInt64, line: UInt64, reason: String)

    /// The reason of a source read again because the run's keys or policy differ from its last reading.
    public static let rejudged = "re-judged: the keys or policy changed"
    /// The reason of a source read again because `--rescan` asked for it.
    public static let rescanned = "re-judged: --rescan"

    /// Whether this plan reads a source again from its start to replace its verdicts.
    public var isRejudge: Bool {
        if case .read(_, _, let reason) = self { return reason == Self.rejudged || reason == Self.rescanned }
        return false
    }
}

/// A run's totals as recorded on its row in the findings database (`runs`).
public struct RunCounts: Sendable, Equatable {
    public var sources = 0
    public var sourcesSkipped = 0
    public var bytes: UInt64 = 0
    public var lines: UInt64 = 0
    /// Token sightings found (rows and rolled-up `ok` sightings).
    public var sightings = 0
    /// `ok` sightings counted in the rollup instead of written as rows (`--ok-sightings count`).
    public var okRolled = 0
    /// Sightings whose cause is a failure (``Cause/isFailure``).
    public var failures = 0
    public var logErrors = 0
    public var inputErrors = 0

    public init() {}
}
