import SiftCore

/// The report as values: sections of tables (plus a few charts), rendered by every format the same way.
/// The JSON form of this model is documented in docs/report-format.md; `Report.formatVersion` versions it.

/// Which findings a report covers.
public struct ReportFilter: Sendable, Equatable {
    /// Lines whose own time is in [since, until).
    public var since: Double?
    public var until: Double?
    /// Only tokens with this `iss`.
    public var issuer: String?
    /// Only sources whose path matches this glob (SQLite GLOB: `*`, `?`, `[...]`).
    public var sourceGlob: String?

    public init(since: Double? = nil, until: Double? = nil, issuer: String? = nil, sourceGlob: String? = nil) {
        self.since = since
        self.until = until
        self.issuer = issuer
        self.sourceGlob = sourceGlob
    }
}

/// One cell of a table.
public enum Cell: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case number(Double)
    /// Unix seconds, shown as UTC.
    case time(Double)
    /// A duration in seconds, shown as "3 min 12 s".
    case seconds(Double)
    /// 0…1, shown as a percentage.
    case share(Double)
    case null
}

public struct Column: Sendable, Equatable {
    public enum Kind: String, Sendable { case text, int, number, time, seconds, share }
    public var name: String
    public var kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// A table: its id is the CSV section name and the JSON key.
public struct Table: Sendable {
    public var id: String
    public var title: String
    public var columns: [Column]
    public var rows: [[Cell]]
    /// Rows left out (`LIMIT`), when the table is a top-N.
    public var truncatedAt: Int?

    public init(id: String, title: String, columns: [Column], rows: [[Cell]] = [], truncatedAt: Int? = nil) {
        self.id = id
        self.title = title
        self.columns = columns
        self.rows = rows
        self.truncatedAt = truncatedAt
    }
}

/// A chart the HTML report draws (other formats show the same data as tables).
public enum Chart: Sendable {
    /// Horizontal bars, one per label.
    case bars(title: String, items: [(label: String, value: Double)])
    /// Failures per cause per time bucket, stacked.
    case timeline(title: String, start: Double, bucket: Double, buckets: Int, series: [(cause: String, counts: [Int])])
    /// Counts per bucket label.
    case histogram(title: String, items: [(label: String, value: Double)])
}

public struct Section: Sendable {
    public var id: String
    public var title: String
    /// Plain sentences: what the section shows, or what it found.
    public var notes: [String]
    public var tables: [Table]
    public var charts: [Chart]

    public init(id: String, title: String, notes: [String] = [], tables: [Table] = [], charts: [Chart] = []) {
        self.id = id
        self.title = title
        self.notes = notes
        self.tables = tables
        self.charts = charts
    }
}

public struct Overview: Sendable {
    public var windowStart: Double?
    public var windowEnd: Double?
    public var sources = 0
    public var lines: Int64 = 0
    public var bytes: Int64 = 0
    public var sightings: Int64 = 0
    public var distinctTokens: Int64 = 0
    public var failures: Int64 = 0
    public var unverified: Int64 = 0
    public var logErrors: Int64 = 0
    public var runs = 0
    /// One sentence per leading cause.
    public var sentences: [String] = []

    public var failureRate: Double { sightings > 0 ? Double(failures) / Double(sightings) : 0 }
}

public struct Report: Sendable {
    /// Version of the JSON structure (docs/report-format.md).
    public static let formatVersion = 1

    public var generatedAt: Double
    public var database: String
    public var filter: ReportFilter
    public var overview: Overview
    public var sections: [Section]

    /// Every table in order, for CSV.
    public var tables: [Table] { sections.flatMap(\.tables) }
}
