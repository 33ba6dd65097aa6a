import FindingsStore
import SiftCore

extension ReportBuilder {
    // MARK: - Timeline

    /// A bucket size that cuts the window into at most 48 buckets.
    static func bucketSize(_ span: Double) -> Double {
        let sizes: [Double] = [60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800]
        for size in sizes where span / size <= 48 { return size }
        return 30 * 86_400
    }

    func timeline(_ o: Overview) throws(ReportError) -> Section {
        guard let (first, size) = bucket, let end = o.windowEnd else {
            return Section(id: "timeline", title: "Timeline", notes: ["No timed sightings."])
        }
        let buckets = Int(((end - first) / size).rounded(.down)) + 1
        let rows = try query(
            """
            SELECT b, cause, sum(n) FROM fb WHERE failed GROUP BY b, cause ORDER BY b, cause
            """)
        var series: [String: [Int]] = [:]
        var table = Table(
            id: "timeline", title: "Failures per \(Self.words(size)) bucket and cause",
            columns: [.init("bucket_start", .time), .init("cause", .text), .init("sightings", .int)])
        for r in rows {
            let b = Int(r[0].int ?? 0)
            let cause = r[1].string ?? "?"
            guard b >= 0 && b < buckets else { continue }
            series[cause, default: [Int](repeating: 0, count: buckets)][b] += Int(r[2].int ?? 0)
            table.rows.append([.time(first + Double(b) * size), .text(cause), cell(r[2])])
        }
        // Largest first; ties by name, so the output does not depend on dictionary order.
        var totals: [(cause: String, total: Int)] = []
        for (cause, counts) in series { totals.append((cause, counts.reduce(0, +))) }
        totals.sort { a, b in a.total != b.total ? a.total > b.total : a.cause < b.cause }
        let ordered: [(cause: String, counts: [Int])] = totals.map { t in
            (cause: t.cause, counts: series[t.cause] ?? [])
        }
        return Section(
            id: "timeline", title: "Timeline", tables: [table],
            charts: ordered.isEmpty
                ? []
                : [
                    .timeline(
                        title: "Failures over time", start: first, bucket: size, buckets: buckets, series: ordered)
                ])
    }
}
