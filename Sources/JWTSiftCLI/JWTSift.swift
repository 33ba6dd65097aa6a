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
        #if canImport(Glibc)
        // glibc returns freed memory at the top of a heap only above a threshold that grows with the largest block
        // freed (to tens of MiB per arena); jwtsift's caches turn over whole generations, so that memory sat unused
        // in the peak RSS (`scripts/bench memory`: 227 → 195 MB on 300 MB of distinct tokens with --db). A fixed
        // threshold returns it. (It also fixes the mmap threshold at 128 KiB: buffers that large are reused, not
        // allocated per chunk — see ChunkScanners.takeFindings.)
        // (`mallopt` is not in Swift's Glibc module: looked up by name; M_TRIM_THRESHOLD is -1 in <malloc.h>.)
        if let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
            _ = unsafeBitCast(f, to: MallOpt.self)(-1, 1 << 20)
        }
        #endif
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error).rawValue == ExitCode.validationFailure.rawValue {
                // The message already ends with the failing subcommand's usage.
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "jwtsift",
        abstract: "Find out from the logs why JWT authentication failed.",
        discussion: """
            Exit codes: 0 done; 1 findings matched --fail-on (scan), or a token is not ok (inspect); \
            2 usage or configuration error (a bad option, key file or JWKS entry, a --metrics-file that \
            cannot be written); 3 some inputs could not be read (the rest were scanned); 4 the findings \
            database could not be used; 130/143 stopped by SIGINT/SIGTERM (what was scanned is kept).
            """,
        version: JWTSiftVersion.string,
        subcommands: [Scan.self, Merge.self, Inspect.self, Report.self, Keys.self]
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
