import SiftCore

/// One self-contained HTML file: inline CSS and SVG, no script, no font, no network. Readable on a laptop screen
/// and printable. Every value from the database is escaped.
public struct HTMLRenderer {
    public init() {}

    public func render(_ r: Report) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>jwtsift report</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            <header><h1>jwtsift report</h1><p class="meta">\(Format.html(r.database)) · generated \(Format.html(Format.time(r.generatedAt)))</p></header>
            <nav><ul>
            """
        out += "<li><a href=\"#overview\">Overview</a></li>"
        for s in r.sections { out += "<li><a href=\"#\(Format.html(s.id))\">\(Format.html(s.title))</a></li>" }
        out += "</ul></nav>\n<main>\n"
        out += "<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">"
        let o = r.overview
        for (label, value) in [
            ("token sightings", NumberText.grouped(o.sightings)),
            ("distinct tokens", NumberText.grouped(o.distinctTokens)),
            ("failures", NumberText.grouped(o.failures)), ("failure rate", NumberText.percent(o.failureRate)),
            ("sources", "\(o.sources)"), ("error messages", NumberText.grouped(o.logErrors)),
        ] {
            out +=
                "<div class=\"card\"><div class=\"v\">\(Format.html(value))</div><div class=\"l\">\(Format.html(label))</div></div>"
        }
        out += "</div><table class=\"kv\">"
        for (k, v) in r.overviewRows { out += "<tr><th>\(Format.html(k))</th><td>\(Format.html(v))</td></tr>" }
        out += "</table><ul class=\"findings\">"
        for s in o.sentences { out += "<li>\(Format.html(s))</li>" }
        out += "</ul></section>\n"
        for section in r.sections {
            out += "<section id=\"\(Format.html(section.id))\"><h2>\(Format.html(section.title))</h2>"
            for n in section.notes where section.id != "by_cause" {
                out += "<p class=\"\(n.hasPrefix("SECURITY") ? "alert" : "note")\">\(Format.html(n))</p>"
            }
            for c in section.charts { out += chart(c) }
            for t in section.tables { out += table(t) }
            out += "</section>\n"
        }
        return out
            + "</main>\n<footer>jwtsift · tokens are named by the first 12 hex digits of their SHA-256; no token, signature or secret appears in this report.</footer>\n</body>\n</html>\n"
    }

    func table(_ t: Table) -> String {
        var out =
            "<figure class=\"table\" id=\"t-\(Format.html(t.id))\"><figcaption>\(Format.html(t.title))</figcaption>"
        guard !t.rows.isEmpty else { return out + "<p class=\"none\">none</p></figure>" }
        out += "<div class=\"scroll\"><table><thead><tr>"
        for c in t.columns { out += "<th class=\"\(c.kind == .text ? "t" : "n")\">\(Format.html(c.name))</th>" }
        out += "</tr></thead><tbody>"
        for row in t.rows {
            out += "<tr>"
            for (i, cell) in row.enumerated() {
                let kind = i < t.columns.count ? t.columns[i].kind : .text
                let text = Format.text(cell)
                let cls = kind == .text ? (Self.causeWords.contains(text) ? "t cause c-\(text)" : "t") : "n"
                out += "<td class=\"\(cls)\">\(Format.html(text))</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table></div></figure>"
    }

    // MARK: - Charts (inline SVG)

    func chart(_ c: Chart) -> String {
        switch c {
        case .bars(let title, let items): return bars(title, items)
        case .histogram(let title, let items): return histogram(title, items)
        case .timeline(let title, let start, let bucket, let buckets, let series):
            return timeline(title, start: start, bucket: bucket, buckets: buckets, series: series)
        }
    }

    func bars(_ title: String, _ items: [(label: String, value: Double)]) -> String {
        let maxValue = max(1, items.map(\.value).max() ?? 1)
        let rowHeight = 22.0
        let height = Double(items.count) * rowHeight + 10
        var svg = "<figure class=\"chart\"><figcaption>\(Format.html(title))</figcaption>"
        svg +=
            "<svg role=\"img\" aria-label=\"\(Format.html(title))\" viewBox=\"0 0 640 \(Int(height))\" width=\"640\" height=\"\(Int(height))\">"
        for (i, item) in items.enumerated() {
            let y = Double(i) * rowHeight + 4
            let w = max(1, item.value / maxValue * 400)
            svg +=
                "<text x=\"150\" y=\"\(Self.n(y + 15))\" text-anchor=\"end\" class=\"lbl\">\(Format.html(item.label))</text>"
            svg +=
                "<rect x=\"158\" y=\"\(Self.n(y + 3))\" width=\"\(Self.n(w))\" height=\"16\" fill=\"\(Self.colour(item.label))\"/>"
            svg +=
                "<text x=\"\(Self.n(164 + w))\" y=\"\(Self.n(y + 15))\" class=\"val\">\(Format.html(NumberText.grouped(Int64(item.value))))</text>"
        }
        return svg + "</svg></figure>"
    }

    func histogram(_ title: String, _ items: [(label: String, value: Double)]) -> String {
        let maxValue = max(1, items.map(\.value).max() ?? 1)
        let width = 90.0
        var svg = "<figure class=\"chart\"><figcaption>\(Format.html(title))</figcaption>"
        svg +=
            "<svg role=\"img\" aria-label=\"\(Format.html(title))\" viewBox=\"0 0 \(Int(Double(items.count) * width + 20)) 200\" width=\"\(Int(Double(items.count) * width + 20))\" height=\"200\">"
        for (i, item) in items.enumerated() {
            let h = item.value / maxValue * 140
            let x = 10 + Double(i) * width
            svg +=
                "<rect x=\"\(Self.n(x + 10))\" y=\"\(Self.n(160 - h))\" width=\"\(Self.n(width - 20))\" height=\"\(Self.n(max(h, 0.5)))\" fill=\"#4c78a8\"/>"
            svg +=
                "<text x=\"\(Self.n(x + width / 2))\" y=\"\(Self.n(155 - h))\" text-anchor=\"middle\" class=\"val\">\(Format.html(NumberText.grouped(Int64(item.value))))</text>"
            svg +=
                "<text x=\"\(Self.n(x + width / 2))\" y=\"180\" text-anchor=\"middle\" class=\"lbl\">\(Format.html(item.label))</text>"
        }
        return svg + "</svg></figure>"
    }

    func timeline(
        _ title: String, start: Double, bucket: Double, buckets: Int, series: [(cause: String, counts: [Int])]
    ) -> String {
        let plotWidth = 760.0
        let plotHeight = 180.0
        let totals = (0..<buckets).map { b in series.reduce(0) { $0 + (b < $1.counts.count ? $1.counts[b] : 0) } }
        let maxTotal = Double(max(1, totals.max() ?? 1))
        let barWidth = plotWidth / Double(max(1, buckets))
        var svg =
            "<figure class=\"chart\"><figcaption>\(Format.html(title)) (per \(Format.html(Format.duration(bucket))))</figcaption>"
        svg +=
            "<svg role=\"img\" aria-label=\"\(Format.html(title))\" viewBox=\"0 0 820 250\" width=\"820\" height=\"250\">"
        svg +=
            "<line x1=\"40\" y1=\"\(Self.n(10 + plotHeight))\" x2=\"\(Self.n(40 + plotWidth))\" y2=\"\(Self.n(10 + plotHeight))\" class=\"axis\"/>"
        svg += "<text x=\"36\" y=\"16\" text-anchor=\"end\" class=\"lbl\">\(Int(maxTotal))</text>"
        for b in 0..<buckets {
            var y = 10 + plotHeight
            for s in series where b < s.counts.count && s.counts[b] > 0 {
                let h = Double(s.counts[b]) / maxTotal * plotHeight
                y -= h
                svg +=
                    "<rect x=\"\(Self.n(40 + Double(b) * barWidth + 1))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(1, barWidth - 2)))\" height=\"\(Self.n(h))\" fill=\"\(Self.colour(s.cause))\"><title>\(Format.html("\(Format.time(start + Double(b) * bucket)) \(s.cause): \(s.counts[b])"))</title></rect>"
            }
        }
        svg += "<text x=\"40\" y=\"\(Self.n(28 + plotHeight))\" class=\"lbl\">\(Format.html(Format.time(start)))</text>"
        svg +=
            "<text x=\"\(Self.n(40 + plotWidth))\" y=\"\(Self.n(28 + plotHeight))\" text-anchor=\"end\" class=\"lbl\">\(Format.html(Format.time(start + Double(buckets) * bucket)))</text>"
        var x = 40.0
        for s in series.prefix(8) {
            svg += "<rect x=\"\(Self.n(x))\" y=\"232\" width=\"10\" height=\"10\" fill=\"\(Self.colour(s.cause))\"/>"
            svg += "<text x=\"\(Self.n(x + 14))\" y=\"241\" class=\"lbl\">\(Format.html(s.cause))</text>"
            x += 14 + Double(s.cause.count) * 7 + 16
        }
        return svg + "</svg></figure>"
    }

    static func n(_ d: Double) -> String { String(Double(Int(d * 10)) / 10) }

    static let causeWords: Set<String> = Set(Cause.ordered.map(\.rawValue))

    /// A chart colour per cause; words that are not causes (issuers, sources) are grey.
    static func colour(_ word: String) -> String {
        guard let cause = Cause(rawValue: word) else { return "#888888" }
        switch cause {
        case .expired: return "#f58518"
        case .signature_invalid: return "#e45756"
        case .key_unknown: return "#b279a2"
        case .key_retired: return "#9d755d"
        case .truncated: return "#72b7b2"
        case .malformed: return "#bab0ac"
        case .alg_none, .alg_mismatch: return "#d62728"
        case .not_yet_valid, .issued_in_future: return "#eeca3b"
        case .issuer_rejected, .audience_rejected: return "#54a24b"
        case .ok: return "#4c78a8"
        case .encrypted, .alg_unsupported, .claims_invalid, .missing_token, .key_fetch_failed, .unverified, .other:
            return "#888888"
        }
    }

    static let css = """
        :root{color-scheme:light;--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#fff;--band:#f5f7fa}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{padding:18px 28px 8px;border-bottom:1px solid var(--line)}h1{margin:0;font-size:22px}.meta{margin:4px 0 0;color:var(--muted)}
        nav{padding:6px 28px;border-bottom:1px solid var(--line);background:var(--band)}nav ul{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px 14px}
        nav a{color:#2457a6;text-decoration:none}main{padding:0 28px 28px;max-width:1280px}
        section{margin-top:26px}h2{font-size:18px;border-bottom:2px solid var(--line);padding-bottom:4px}
        .cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px;background:var(--band)}
        .card .v{font-size:20px;font-weight:600}.card .l{color:var(--muted);font-size:12px}
        table{border-collapse:collapse;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--band);text-align:left;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        table.kv th{background:none;color:var(--muted);font-weight:normal}
        .scroll{overflow-x:auto;max-width:100%}figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px;color:var(--muted)}
        .findings li{margin:3px 0}.note{color:var(--fg)}.alert{color:#9b1c1c;background:#fdecec;border-left:4px solid #d62728;padding:6px 10px}
        .none{color:var(--muted);font-style:italic;margin:2px 0}td.cause{font-weight:500}
        td.c-ok{color:#2d6a2d}td.c-expired,td.c-signature_invalid,td.c-key_unknown,td.c-alg_none,td.c-alg_mismatch{color:#a12a2a}
        svg{max-width:100%;height:auto}svg .lbl{font-size:11px;fill:var(--muted)}svg .val{font-size:11px;fill:var(--fg)}svg .axis{stroke:var(--line)}
        footer{padding:14px 28px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
        @media print{nav{display:none}section{break-inside:avoid-page}.scroll{overflow:visible}body{font-size:11px}}
        """
}
