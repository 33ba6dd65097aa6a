import ArgumentParser
import JWTScan
import JWTVerify
import LogInput
import SiftEngine

extension JWTSift {
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scan logs (files, directories, gzip archives, or - for stdin) for JWTs and JWT errors.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case ndjson
        }

        @Argument(help: "Log files, directories (read recursively) or - for standard input.")
        var paths: [String]

        @Flag(name: .customLong("no-verify"), help: "Only find tokens and errors; do not check signatures or claims.")
        var noVerify = false

        @Option(help: "Output format.")
        var format: Format = .ndjson

        @Option(help: "Zone for log times that carry no offset: UTC, +01:00, -0500.")
        var timezone: String = "UTC"

        @Option(name: .customLong("max-line"), help: "Lines longer than this many bytes are scanned in pieces.")
        var maxLine: Int = 1 << 20

        @Flag(name: .customLong("no-messages"), help: "Leave redacted error messages out of the output.")
        var noMessages = false

        @Flag(name: .shortAndLong, help: "No summary on standard error at the end.")
        var quiet = false

        @OptionGroup(title: "Verification")
        var keyOptions: KeyOptions

        @Option(help: ArgumentHelp("Threads verifying signatures (default: the number of cores).", valueName: "n"))
        var jobs: Int?

        func validate() throws {
            guard !paths.isEmpty else { throw ValidationError("give at least one path, or - for standard input") }
            guard maxLine >= 64 else { throw ValidationError("--max-line must be at least 64") }
            if let jobs, !(1...1024).contains(jobs) { throw ValidationError("--jobs must be between 1 and 1024") }
            if noVerify && !keyOptions.paths.isEmpty {
                throw ValidationError("--no-verify and --keys/--retired-keys/--hmac-secret-file contradict each other")
            }
            guard ZoneOption.parse(timezone) != nil else {
                throw ValidationError("--timezone '\(timezone)' is not UTC or an offset such as +01:00")
            }
        }

        func run() throws {
            let zone = ZoneOption.parse(timezone)!
            var verify: VerifyOptions? = nil
            var keyErrors = false
            if !noVerify {
                let (ring, hadErrors) = keyOptions.load()
                keyErrors = hadErrors
                verify = VerifyOptions(keys: ring, policy: keyOptions.policy, workers: jobs ?? ProcessorCount.online)
            }
            let options = ScanOptions(
                paths: paths, zone: zone, reader: ReaderOptions(maximumLineLength: maxLine), now: wallClock(),
                verify: verify)
            let sink = OutputSink()
            var consumer = NDJSONConsumer(sink: sink, includeMessages: !noMessages)
            let totals = ScanRun(options: options).run(into: &consumer)
            sink.flush()
            for e in totals.inputErrors { printError("jwtsift: \(e)") }
            if !quiet { printError(Summary.text(totals)) }
            if !totals.inputErrors.isEmpty { throw ExitCode(3) }
            // A key that could not be loaded is a configuration error, reported after the scan that ran
            // with every other key.
            if keyErrors { throw ExitCode(2) }
        }
    }
}

/// Parses `--timezone`.
enum ZoneOption {
    static func parse(_ s: String) -> LocalZone? {
        let u = s.uppercased()
        if u == "UTC" || u == "Z" || u == "GMT" { return .utc }
        let bytes = Array(s.utf8)
        guard bytes.count >= 3, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") else { return nil }
        let digits = bytes.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let v = digits.map { Int($0 - 0x30) }
        let hours = v[0] * 10 + v[1]
        let minutes = digits.count == 4 ? v[2] * 10 + v[3] : 0
        guard hours <= 14, minutes < 60 else { return nil }
        let sign = bytes[0] == UInt8(ascii: "-") ? -1 : 1
        return .fixed(seconds: sign * (hours * 3600 + minutes * 60), name: s)
    }
}
