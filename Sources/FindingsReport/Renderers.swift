import SiftCore

/// Text, Markdown, JSON and CSV renderings of a ``Report``. (HTML is in HTMLRenderer.swift.)

extension Report {
    var windowText: String {
        let a = overview.windowStart.map(Format.time) ?? "–"
        let b = overview.windowEnd.map(Format.time) ?? "–"
        return "\(a) → \(b)"
    }

    var filterText: String? {
        var parts: [String] = []
        if let s = filter.since { parts.append("since \(Format.time(s))") }
        if let u = filter.until { parts.append("until \(Format.time(u))") }
        if let i = filter.issuer { parts.append("issuer \(i)") }
        if let g = filter.sourceGlob { parts.append("sources \(g)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// The overview as label/value pairs.
    var overviewRows: [(String, String)] {
        let o = overview
        var rows: [(String, String)] = [
            ("window", windowText),
            ("sources", "\(o.sources)"),
            ("lines", NumberText.grouped(o.lines)),
            ("token sightings", NumberText.grouped(o.sightings)),
            ("distinct tokens", NumberText.grouped(o.distinctTokens)),
            ("failures", "\(NumberText.grouped(o.failures)) (\(NumberText.percent(o.failureRate)))"),
            ("unverified", NumberText.grouped(o.unverified)),
            ("error messages", NumberText.grouped(o.logErrors)),
        ]
        if let f = filterText { rows.insert(("filter", f), at: 0) }
        return rows
    }
}

/// Aligned tables for a terminal; ANSI colour only when asked (a TTY without NO_COLOR). Every string from the
/// database goes through ``safe(_:)`` (tokens redacted, control and bidi characters shown as escapes), so what the
/// data holds never moves the cursor, retitles the window or starts a line of its own.
public struct TextRenderer {
    public var colour: Bool
    public init(colour: Bool) { self.colour = colour }

    /// The one escape of the text format.
    static func safe(_ s: String) -> String { UntrustedText.display(s) }

    func bold(_ s: String) -> String { colour ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    func red(_ s: String) -> String { colour ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    func dim(_ s: String) -> String { colour ? "\u{1B}[2m\(s)\u{1B}[0m" : s }

    public func render(_ r: Report) -> String {
        var out = bold("jwtsift report") + "  " + dim(Self.safe(r.database)) + "\n\n"
        out += bold("Overview") + "\n"
        for (k, v) in r.overviewRows { out += "  " + k.padded(17) + Self.safe(v) + "\n" }
        for s in r.overview.sentences { out += "  • " + Self.safe(s) + "\n" }
        for section in r.sections {
            out += "\n" + bold(Self.safe(section.title)) + "\n"
            for n in section.notes where section.id != "by_cause" {
                out += "  " + (n.hasPrefix("SECURITY") ? red(Self.safe(n)) : Self.safe(n)) + "\n"
            }
            for t in section.tables { out += table(t) }
        }
        return out
    }

    func table(_ t: Table) -> String {
        let title = Self.safe(t.title)
        guard !t.rows.isEmpty else { return "  " + dim(title + ": none") + "\n" }
        let cells = t.rows.map { $0.map { Self.clip(Self.safe(Format.text($0))) } }
        var widths = t.columns.map { $0.name.count }
        for row in cells {
            for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        var out = "  " + dim(title) + "\n"
        out +=
            "  "
            + zip(t.columns, widths).map { c, w in c.name.padded(w, right: c.kind != .text) }.joined(separator: "  ")
            + "\n"
        for row in cells {
            let line = zip(zip(row, t.columns), widths).map { pair, w in pair.0.padded(w, right: pair.1.kind != .text) }
                .joined(separator: "  ")
            out += "  " + line + "\n"
        }
        if let limit = t.truncatedAt, t.rows.count >= limit { out += "  " + dim("(top \(limit))") + "\n" }
        return out
    }

    static func clip(_ s: String) -> String { s.count > 70 ? String(s.prefix(69)) + "…" : s }
}

public struct MarkdownRenderer {
    public init() {}

    public func render(_ r: Report) -> String {
        var out =
            "# jwtsift report\n\nDatabase `\(Self.code(r.database))`, generated \(Format.time(r.generatedAt)).\n\n## Overview\n\n"
        out += "| | |\n|---|---|\n"
        for (k, v) in r.overviewRows { out += "| \(k) | \(Self.cell(v)) |\n" }
        out += "\n"
        for s in r.overview.sentences { out += "- \(Self.escape(s))\n" }
        for section in r.sections {
            out += "\n## \(Self.escape(section.title))\n\n"
            for n in section.notes where section.id != "by_cause" {
                out += "\(n.hasPrefix("SECURITY") ? "**\(Self.escape(n))**" : Self.escape(n))\n\n"
            }
            for t in section.tables { out += table(t) }
        }
        return out
    }

    func table(_ t: Table) -> String {
        var out = "**\(Self.escape(t.title))**\n\n"
        guard !t.rows.isEmpty else { return out + "_none_\n\n" }
        out += "| " + t.columns.map(\.name).joined(separator: " | ") + " |\n"
        out += "|" + t.columns.map { $0.kind == .text ? "---|" : "---:|" }.joined() + "\n"
        for row in t.rows { out += "| " + row.map { Self.cell(Format.text($0)) }.joined(separator: " | ") + " |\n" }
        return out + "\n"
    }

    static func cell(_ s: String) -> String {
        escape(s).split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }

    static func code(_ s: String) -> String {
        UntrustedText.display(s).split(separator: "`", omittingEmptySubsequences: false).joined(separator: "'")
    }

    /// The one escape of the Markdown format: tokens redacted, control and bidi characters shown as escapes
    /// (``UntrustedText/display(_:)``: a CR or LF in the data never ends a line or a table row), then nothing in
    /// the data read as markup or HTML.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in UntrustedText.display(s) {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "*", "_", "`", "[", "]", "\\": out += "\\\(c)"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The documented, versioned JSON (docs/report-format.md). Strings from the database go through ``str(_:)``:
/// tokens redacted; `JSONValue.quote` escapes controls, bidi and format characters as `\uXXXX`.
public struct JSONRenderer {
    public init() {}

    /// The one escape of the JSON format.
    static func str(_ s: String) -> String { JSONValue.quote(UntrustedText.redactTokens(s)) }

    public func render(_ r: Report) -> String {
        let o = r.overview
        var out = "{\n  \"format\": \"jwtsift-report\",\n  \"version\": \(Report.formatVersion),\n"
        out +=
            "  \"generated_at\": \(Self.json(.time(r.generatedAt))),\n  \"database\": \(Self.str(r.database)),\n"
        out +=
            "  \"filter\": {\"since\": \(Self.opt(r.filter.since.map { .time($0) })), \"until\": \(Self.opt(r.filter.until.map { .time($0) })), "
        out +=
            "\"issuer\": \(Self.opt(r.filter.issuer.map { .text($0) })), \"source\": \(Self.opt(r.filter.sourceGlob.map { .text($0) }))},\n"
        out +=
            "  \"overview\": {\"window_start\": \(Self.opt(o.windowStart.map { .time($0) })), \"window_end\": \(Self.opt(o.windowEnd.map { .time($0) })), "
        out +=
            "\"sources\": \(o.sources), \"lines\": \(o.lines), \"bytes\": \(o.bytes), \"sightings\": \(o.sightings), "
        out +=
            "\"distinct_tokens\": \(o.distinctTokens), \"failures\": \(o.failures), \"failure_rate\": \(Format.plain(.share(o.failureRate))), "
        out += "\"unverified\": \(o.unverified), \"log_errors\": \(o.logErrors), \"runs\": \(o.runs), "
        out += "\"sentences\": [\(o.sentences.map(Self.str).joined(separator: ", "))]},\n"
        out += "  \"sections\": [\n"
        out += r.sections.map { s in
            var t = "    {\"id\": \(JSONValue.quote(s.id)), \"title\": \(Self.str(s.title)), "
            t += "\"notes\": [\(s.notes.map(Self.str).joined(separator: ", "))],\n     \"tables\": [\n"
            t += s.tables.map { table($0) }.joined(separator: ",\n")
            return t + "\n     ]}"
        }.joined(separator: ",\n")
        return out + "\n  ]\n}\n"
    }

    func table(_ t: Table) -> String {
        var out = "      {\"id\": \(JSONValue.quote(t.id)), \"title\": \(Self.str(t.title)), "
        out +=
            "\"columns\": [\(t.columns.map { "{\"name\": \(JSONValue.quote($0.name)), \"type\": \"\($0.kind.rawValue)\"}" }.joined(separator: ", "))],"
        if let limit = t.truncatedAt { out += " \"limit\": \(limit)," }
        out += "\n       \"rows\": ["
        out += t.rows.map { row in "[" + row.map(Self.json).joined(separator: ", ") + "]" }.joined(
            separator: ",\n                ")
        return out + "]}"
    }

    /// Times as ISO 8601 strings; durations and numbers as numbers; shares as 0…1.
    static func json(_ c: Cell) -> String {
        switch c {
        case .text(let s): str(s)
        case .int(let i): String(i)
        case .number(let d), .seconds(let d), .share(let d): d.isFinite ? Format.plain(.number(d)) : "null"
        case .time(let t): JSONValue.quote(Format.isoTime(t))
        case .null: "null"
        }
    }

    static func opt(_ c: Cell?) -> String { c.map(json) ?? "null" }
}

/// CSV (RFC 4180) of one table.
public struct CSVRenderer {
    public init() {}

    public func render(_ t: Table) -> String {
        var out = t.columns.map { Self.field($0.name) }.joined(separator: ",") + "\r\n"
        for row in t.rows { out += row.map { Self.field(Format.plain($0)) }.joined(separator: ",") + "\r\n" }
        return out
    }

    /// The one escape of the CSV format: tokens redacted and hidden characters shown as escapes
    /// (``UntrustedText/display(_:)``), a would-be formula prefixed with `'` so spreadsheets do not run it, then
    /// quoted when needed.
    static func field(_ s: String) -> String {
        var s = UntrustedText.display(s)
        if isFormula(s) { s = "'" + s }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        }
        return s
    }

    /// Whether a spreadsheet could read `s` as a formula: it starts with TAB or CR, or its first character after
    /// leading whitespace, controls and format characters is `=`, `+`, `-` or `@` (a plain number such as `-5`
    /// stays a number).
    static func isFormula(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first else { return false }
        if first == "\t" || first == "\r" { return true }
        let rest = s.unicodeScalars.drop { $0.properties.isWhitespace || UntrustedText.isHidden($0) }
        guard let f = rest.first, f == "=" || f == "+" || f == "-" || f == "@" else { return false }
        return Double(s) == nil
    }
}

extension String {
    func padded(_ width: Int, right: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return right ? pad + self : self + pad
    }
}
