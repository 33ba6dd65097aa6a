import ArgumentParser
import JWTScan
import LogInput
import SiftCore
import SiftPipeline

#if canImport(Glibc)
import Glibc
#endif

@main
struct JWTSift: ParsableCommand {
    /// Runs the command; usage and configuration errors exit with 2 (the documented contract), not
    /// ArgumentParser's default 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error).rawValue == ExitCode.validationFailure.rawValue {
                printError(fullMessage(for: error))
                printError(usageString())
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "jwtsift",
        abstract: "Find out from the logs why JWT authentication failed.",
        discussion: """
            Exit codes: 0 done; 1 findings matched --fail-on; 2 usage or configuration error; \
            3 some inputs could not be read (the rest were scanned).
            """,
        version: JWTSiftVersion.string,
        subcommands: [Scan.self, Inspect.self, Report.self]
    )
}

/// The version printed by `--version` and recorded with each run.
enum JWTSiftVersion {
    static let string = "0.1.0"
}

/// Wall-clock time, read once at the edge of the program and passed inward.
func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Cores this process may run on.
enum ProcessorCount {
    static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
