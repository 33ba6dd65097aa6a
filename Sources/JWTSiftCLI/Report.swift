import ArgumentParser
import FindingsReport
import SiftCore
import SiftPipeline

#if canImport(Glibc)
import Glibc
#endif

extension JWTSift {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract:
                "Explain the failures in a findings database: by cause, issuer, key ID, clock drift, source and time.",
            discussion: """
                Reads the database written by jwtsift scan (never the logs). Formats: text (a terminal; colour only \
                on a TTY, never with NO_COLOR), markdown, json (docs/report-format.md), csv (one table with \
                --section NAME, or every table into the folder given by --output), html (one self-contained file).
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, markdown, json, csv, html
        }

        @Option(help: ArgumentHelp("The findings database.", valueName: "file"))
        var db: String = "jwtsift.sqlite"

        @Option(help: "Output format.")
        var format: Format = .text

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp("Write here instead of stdout (a folder for csv without --section).", valueName: "path"))
        var output: String?

        @Option(help: ArgumentHelp("Only sightings from this minute on (RFC 3339 or Unix seconds).", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only sightings in minutes before this.", valueName: "time"))
        var until: String?

        @Option(help: ArgumentHelp("Only tokens from this issuer (iss).", valueName: "iss"))
        var issuer: String?

        @Option(help: ArgumentHelp("Only sources whose path matches this glob.", valueName: "glob"))
        var source: String?

        @Option(help: ArgumentHelp("csv: the table to print (by_cause, by_issuer, timeline, …).", valueName: "name"))
        var section: String?

        @Option(
            parsing: .unconditional,
            help: ArgumentHelp("Rows in top-N tables (1 to 10000; default 20).", valueName: "n"),
            transform: Bounds.int("--limit", Bounds.limit))
        var limit: Int = 20

        @Option(
            name: .customLong("generated-at"),
            help: ArgumentHelp(
                "The time stamped on the report (default: now); a fixed one makes reports reproducible.",
                valueName: "time"))
        var generatedAt: String?

        func validate() throws {
            for (name, value) in [("--since", since), ("--until", until)] {
                if let value, AtOption.parse(value) == nil {
                    throw ValidationError("\(name) '\(value)' is not a time \(AtOption.forms)")
                }
            }
            if let generatedAt, AtOption.parse(generatedAt) == nil {
                throw ValidationError("--generated-at '\(generatedAt)' is not a time \(AtOption.forms)")
            }
            if section != nil && format != .csv { throw ValidationError("--section goes with --format csv") }
            if format == .csv && section == nil && output == nil {
                throw ValidationError(
                    "--format csv needs --section NAME (one table on stdout) or --output FOLDER (every table)")
            }
        }

        func run() throws {
            guard access(db, R_OK) == 0 else {
                printError("jwtsift: \(db): no findings database here (run jwtsift scan --db \(db) first)")
                throw ExitCode(2)
            }
            let filter = ReportFilter(
                since: since.flatMap(AtOption.parse), until: until.flatMap(AtOption.parse), issuer: issuer,
                sourceGlob: source)
            let report: FindingsReport.Report
            do {
                var builder = try ReportBuilder(path: db, filter: filter)
                builder.limit = limit
                report = try builder.build(now: generatedAt.flatMap(AtOption.parse) ?? wallClock())
            } catch {
                printError("jwtsift: \(error)")
                throw ExitCode(4)
            }
            switch format {
            case .csv:
                if let section {
                    guard let table = report.tables.first(where: { $0.id == section }) else {
                        printError(
                            "jwtsift: no table '\(section)'; tables: \(report.tables.map(\.id).joined(separator: ", "))"
                        )
                        throw ExitCode(2)
                    }
                    try emit(CSVRenderer().render(table), to: output)
                } else if let output {
                    do {
                        try ReportFile.makeFolder(output)
                    } catch {
                        printError("jwtsift: \(error)")
                        throw ExitCode(2)
                    }
                    for table in report.tables {
                        try emit(CSVRenderer().render(table), to: output + "/" + table.id + ".csv")
                    }
                }
            case .text:
                let colour = output == nil && isatty(1) == 1 && getenv("NO_COLOR") == nil
                try emit(TextRenderer(colour: colour).render(report), to: output)
            case .markdown: try emit(MarkdownRenderer().render(report), to: output)
            case .json: try emit(JSONRenderer().render(report), to: output)
            case .html: try emit(HTMLRenderer().render(report), to: output)
            }
        }

        func emit(_ text: String, to path: String?) throws {
            guard let path else {
                let sink = OutputSink()
                sink.write(Array(text.utf8))
                sink.flush()
                return
            }
            // Mode 0600 whatever the umask, like the database the report comes from.
            do {
                try ReportFile.write(text, to: path)
            } catch {
                printError("jwtsift: \(error)")
                throw ExitCode(2)
            }
        }
    }
}
