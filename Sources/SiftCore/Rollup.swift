/// The facts the findings database counts sightings by (`sighting_rollup`): the HTTP status class, the minute
/// and the near-miss bound. The writer computes them in Swift and the store's SQL recomputes them for resumes
/// and views; both take them from here, and the SQL text is generated from the same values.

/// How the HTTP answer of a sighting's line is counted (`sighting_rollup.status_class`).
public enum StatusClass: Int, Sendable, CaseIterable, Hashable {
    /// A status that is neither 2xx nor 401/403 (and, in rows written before schema 4, no status either).
    case other = 0
    /// The line carries no HTTP status (schema 4 on; before, such sightings were counted as ``other``).
    case none = 1
    /// A 2xx answer: the request was accepted.
    case accepted = 2
    /// 401 or 403: the request was refused.
    case refused = 4

    /// The range that counts as accepted and the codes that count as refused.
    public static let acceptedRange = 200...299
    public static let refusedCodes = [401, 403]

    public init(status: Int?) {
        guard let status else {
            self = .none
            return
        }
        if Self.acceptedRange.contains(status) {
            self = .accepted
        } else {
            self = Self.refusedCodes.contains(status) ? .refused : .other
        }
    }

    /// Words for reports.
    public var label: String {
        switch self {
        case .accepted: "2xx"
        case .refused: "401/403"
        case .other: "other status"
        case .none: "no status"
        }
    }

    /// SQL that names the class held in `column` with ``label``.
    public static func labelSQL(_ column: String) -> String {
        let cases = allCases.map { "WHEN \($0.rawValue) THEN '\($0.label)'" }.joined(separator: " ")
        return "CASE \(column) \(cases) END"
    }

    /// SQL that computes the class from an integer status column (the same rule as ``init(status:)``).
    public static func sql(status column: String) -> String {
        let codes = refusedCodes.map(String.init).joined(separator: ", ")
        let (low, high) = (acceptedRange.lowerBound, acceptedRange.upperBound)
        let accepted = Self.accepted.rawValue
        let refused = Self.refused.rawValue
        return
            "CASE WHEN \(column) IS NULL THEN \(Self.none.rawValue) WHEN \(column) BETWEEN \(low) AND \(high) THEN \(accepted) WHEN \(column) IN (\(codes)) THEN \(refused) ELSE \(Self.other.rawValue) END"
    }
}

/// Time buckets and bounds shared by the writer, the store's SQL and the reports.
public enum Rollup {
    /// Seconds in one rollup bucket.
    public static let bucketSeconds = 60

    /// The bucket a log time falls in: floor(t / 60), or -1 for a line without a time.
    public static func minute(_ logTime: Double?) -> Int64 {
        guard let t = logTime, t.isFinite, abs(t) < 9e15 else { return -1 }
        return Int64((t / Double(bucketSeconds)).rounded(.down))
    }

    /// SQL that is true when a sighting (`cause`, `logTime`) of a token (`exp`, `nbf`) is a near miss.
    public static func nearMissSQL(cause: String, logTime: String, exp: String, nbf: String) -> (
        expired: String, early: String
    ) {
        let bound = Int(nearMissSeconds)
        return (
            "\(cause) = \(Cause.expired.sqlLiteral) AND \(logTime) - \(exp) < \(bound)",
            "\(cause) = \(Cause.not_yet_valid.sqlLiteral) AND \(nbf) - \(logTime) < \(bound)"
        )
    }

    /// SQL for ``minute(_:)`` over a REAL column.
    public static func minuteSQL(_ column: String) -> String {
        "coalesce(CAST(\(column) / \(bucketSeconds) AS INTEGER), -1)"
    }

    /// Expired or not yet valid by less than this many seconds is a *near miss*: a client that refreshes too
    /// late, or a clock a few minutes off.
    public static let nearMissSeconds = 300.0

    /// The bound in words, for report titles and sentences ("5 min").
    public static var nearMissWords: String { "\(Int(nearMissSeconds) / 60) min" }
}

extension Cause {
    /// The cause as an SQL string literal (cause words are plain identifiers: no quoting needed beyond the quotes).
    public var sqlLiteral: String { "'\(rawValue)'" }

    /// The causes that are not failures (`ok`, `unverified`), by name (the order the SQL lists them in).
    public static let nonFailures: [Cause] = ordered.filter { !$0.isFailure }.sorted { $0.rawValue < $1.rawValue }

    /// SQL that is true when `column` holds a failure cause (``isFailure``), generated from the enum.
    public static func failureSQL(_ column: String) -> String {
        "\(column) NOT IN (\(nonFailures.map(\.sqlLiteral).joined(separator: ", ")))"
    }
}
