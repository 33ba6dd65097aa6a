import ArgumentParser
import JWTScan
import JWTVerify
import KeySources
import LogInput
import SiftCore
import SiftPipeline

extension JWTSift {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode, verify and judge single tokens: why does this one fail?",
            discussion: """
                Prefer - (standard input) to a TOKEN argument: arguments end up in shell history and process \
                lists. Standard input may hold several tokens, one per line, with or without "Bearer ". \
                The signature and secrets are never printed.

                Exit status: 0 when every token's verdict is ok; 1 when any is not (a failure, or unverified: \
                no key given could check it); 2 on a usage or key-file error.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @Argument(help: "Tokens, or - to read them from standard input (one per line).")
        var tokens: [String]

        @OptionGroup(title: "Verification")
        var keyOptions: KeyOptions

        @Option(
            help: ArgumentHelp(
                "The moment of judgement: RFC 3339 (2023-11-14T22:13:05Z), 2023-11-14 22:13:05 (UTC) or Unix seconds. Default: now.",
                valueName: "time"))
        var at: String?

        @Option(help: "Output format: text, or json (one object per token, one per line).")
        var format: Format = .text

        func validate() throws {
            guard !tokens.isEmpty else {
                throw ValidationError("give a token, or - to read tokens from standard input")
            }
            if let at, AtOption.parse(at) == nil {
                throw ValidationError("--at '\(Redact.short(at))' is not a time \(AtOption.forms)")
            }
        }

        func run() throws {
            var input: [Inspection.Pasted] = []
            for t in tokens {
                if t == "-" {
                    do {
                        input += Inspection.pasted(in: try SmallFile.contents(of: "/dev/stdin", limit: 64 << 20))
                    } catch {
                        printError("jwtsift: standard input: \(error.reason)")
                        throw ExitCode(2)
                    }
                } else {
                    input += Inspection.pasted(in: Array(t.utf8))
                }
            }
            guard !input.isEmpty else {
                printError("jwtsift: no token given")
                throw ExitCode(2)
            }
            let sets = try keyOptions.load(now: wallClock())
            let keyErrors = sets.hadErrors
            let moment = at.flatMap(AtOption.parse) ?? wallClock()
            let results = Inspection.run(
                input, keys: sets.keys, policy: sets.policy, at: moment, atSource: at == nil ? "now" : "--at",
                issuers: sets.issuers)
            let sink = OutputSink()
            for (i, r) in results.enumerated() {
                let text = format == .json ? r.json() + "\n" : r.text(index: results.count > 1 ? i + 1 : nil)
                sink.write(Array(text.utf8))
            }
            sink.flush()
            if keyErrors { throw ExitCode(2) }
            if results.contains(where: { $0.verdict.cause != .ok }) { throw ExitCode(1) }
        }
    }
}

/// Parses `--at`, `--since`, `--until` and `--generated-at`: times from 1970 to the end of year 9999.
enum AtOption {
    /// The accepted forms, as usage errors say them.
    static let forms = "(RFC 3339, 'YYYY-MM-DD hh:mm:ss' or Unix seconds from 0 to 253402300799, up to 9999-12-31)"

    static func parse(_ s: String) -> Double? {
        if let n = Double(s) { return n.isFinite && Bounds.time.contains(n) ? n : nil }
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBytes { b in
            guard let (t, end) = TimestampParser(zone: .utc).parseAt(b, 0), end == b.count, Bounds.time.contains(t)
            else { return nil }
            return t
        }
    }
}
