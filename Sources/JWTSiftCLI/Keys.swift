import ArgumentParser
import FindingsStore
import JWTVerify
import KeySources
import SiftCore
import SiftPipeline

extension JWTSift {
    /// `jwtsift keys`: the keys a scan would use, and the keys the findings database has recorded.
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the keys a scan would use, and the key history a findings database recorded.",
            subcommands: [Fetch.self, History.self])

        struct Fetch: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Fetch the key sets a scan would use and print its keys: issuer, kid, alg, thumbprint, source.",
                discussion: """
                    Takes the key options of scan (--config, --keys, --jwks-url, --oidc-issuer, --offline and the \
                    rest): fetches what they name through the cache, then prints one line per key (never a secret: \
                    a secret is named by its file) with the age of the cached copy it came from, and what became of \
                    each fetched document. Exit 2 when a source did not load.
                    """)

            @OptionGroup(title: "Keys")
            var keyOptions: KeyOptions

            func run() throws {
                let now = wallClock()
                let sets = try keyOptions.load(now: now)
                var ages: [String: Double] = [:]
                for f in sets.fetches { if let at = f.fetchedAt { ages[f.url] = now - at } }
                var table = [["issuer", "kid", "alg", "kty", "state", "thumbprint", "source", "cache_age"]]
                func add(_ ring: KeyRing, _ issuer: String) {
                    for k in ring.all {
                        let source = KeyHistory.source(k.origin)
                        table.append(
                            [
                                issuer, k.kid ?? "-", k.declaredAlg?.rawValue ?? "-", k.kty,
                                k.retired ? "retired" : "current", k.thumbprint, k.origin,
                                ages[source].map { DurationText.words(max(0, $0)) } ?? "-",
                            ].map { UntrustedText.display($0) })
                    }
                }
                add(sets.keys, "(global)")
                for (iss, scope) in sets.issuers.sorted(by: { $0.key < $1.key }) where !scope.sharesGlobalKeys {
                    add(scope.keys, iss)
                }
                var out = table.count == 1 ? "no keys\n" : Columns.text(table)
                for f in sets.fetches {
                    out +=
                        "\(UntrustedText.display(f.url)): \(f.outcome.rawValue)\(f.httpStatus.map { " (HTTP \($0))" } ?? "")"
                        + (f.reason.map { ": \(UntrustedText.display($0))" } ?? "") + "\n"
                }
                print(out, terminator: "")
                if sets.hadErrors { throw ExitCode(2) }
            }
        }

        struct History: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List every key the runs recorded: issuer, kid, alg, thumbprint, source, when published.",
                discussion: """
                    One line per key and issuer, oldest first: state (current, or retired: given as retired or gone \
                    from a later set), the first and last time a run saw it published, the runs, its RFC 7638 \
                    thumbprint (a secret is named by its file, never shown) and where it came from.
                    """)

            @Option(help: ArgumentHelp("The findings database (default ./jwtsift.sqlite).", valueName: "file"))
            var db = "jwtsift.sqlite"

            func run() throws {
                var rows: [KeyHistoryRecord] = []
                var problem: String? = nil
                do {
                    let c = try Connection.openForReading(path: db)
                    defer { c.close() }
                    let version = try c.userVersion
                    if version < 1 {
                        problem = "not a jwtsift findings database"
                    } else if version < Schema.version {
                        problem =
                            "written by an older jwtsift (schema \(version)); run jwtsift scan --db once to migrate it"
                    } else {
                        rows = try FindingsDB.keyHistory(c)
                    }
                } catch {
                    problem = "\(error)"
                }
                if let problem {
                    printError("jwtsift: \(UntrustedText.display(db)): \(UntrustedText.display(problem))")
                    throw ExitCode(4)
                }
                print(Self.text(rows), terminator: "")
            }

            /// Aligned columns; every value from the database escaped for the terminal.
            static func text(_ rows: [KeyHistoryRecord]) -> String {
                let header = [
                    "issuer", "kid", "alg", "kty", "state", "first_published", "last_published", "runs", "thumbprint",
                    "source",
                ]
                var table = [header]
                for r in rows {
                    let runs = "\(r.firstRunID.map(String.init) ?? "?")–\(r.lastRunID.map(String.init) ?? "?")"
                    table.append(
                        [
                            r.issuer.isEmpty ? "(global)" : r.issuer, r.kid ?? "-", r.alg ?? "-", r.kty,
                            r.retired ? "retired" : "current", r.firstPublished.map(CivilTime.iso8601) ?? "-",
                            r.lastPublished.map(CivilTime.iso8601) ?? "-", runs, r.thumbprint, r.source ?? "-",
                        ].map { UntrustedText.display($0) })
                }
                if rows.isEmpty { return "no keys recorded: scan with --keys, --hmac-secret-file or --config first\n" }
                return Columns.text(table)
            }
        }
    }
}

/// Aligned columns, two spaces apart; the last column is not padded.
enum Columns {
    static func text(_ table: [[String]]) -> String {
        guard let header = table.first else { return "" }
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        return table.map { row in
            row.indices.map { i in
                i == row.count - 1 ? row[i] : row[i] + String(repeating: " ", count: widths[i] - row[i].count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
