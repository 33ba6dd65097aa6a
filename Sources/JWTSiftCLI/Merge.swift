import ArgumentParser
import FindingsStore
import LogInput
import SiftCore
import SiftPipeline

#if canImport(Glibc)
import Glibc
#endif

extension JWTSift {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge findings databases written by separate scans (shards) into one.",
            discussion: """
                Each shard is copied in one transaction: a run killed at any moment leaves --db as before or after \
                that shard. Tokens are one row per fingerprint (first/last seen, sightings combined), runs and \
                sources keep where they came from, keys are one row per thumbprint, rollups are summed; --db keeps \
                its own salt. A shard already merged adds nothing (the table merged_shards). Shards must have this \
                jwtsift's schema version. Exit codes: 0 done; 2 a shard was refused (another schema version, not \
                a findings database, scanned again since it was merged); 3 a shard could not be read or is still \
                being written; 4 the output database could not be used; 130/143 stopped by SIGINT/SIGTERM (the \
                shards merged so far are kept).
                """)

        @Argument(help: "Shard databases (written by jwtsift scan --db).")
        var shards: [String]

        @Option(help: ArgumentHelp("The database to merge into (created when missing).", valueName: "file"))
        var db: String = "jwtsift.sqlite"

        @Option(
            name: .customLong("lock-timeout"), parsing: .unconditional,
            help: ArgumentHelp(
                "Seconds to wait for a jwtsift run writing to --db (0 to 86400; default 30).", valueName: "seconds"),
            transform: Bounds.number("--lock-timeout", Bounds.lockTimeout, unit: "seconds"))
        var lockTimeout: Double = 30

        @Flag(name: .shortAndLong, help: "Only errors on standard error.")
        var quiet = false

        func validate() throws {
            guard !shards.isEmpty else { throw ValidationError("give at least one shard database") }
        }

        func run() throws {
            let stop = StopSignals.install()
            let shown = UntrustedText.display(db)
            let out: FindingsDB
            do {
                out = try ShardMerge.open(
                    path: db, lockTimeout: lockTimeout, shouldStop: { stop.isRequested },
                    onWaiting: { timeout in
                        printError(
                            "jwtsift: \(shown): another jwtsift run is writing to it; waiting up to \(Int(timeout)) s (--lock-timeout)"
                        )
                    })
            } catch {
                printError("jwtsift: \(UntrustedText.display("\(error)"))")
                if case .interrupted = error { throw ExitCode(stop.requested == SIGTERM ? 143 : 130) }
                throw ExitCode(4)
            }
            for notice in out.notices { printError("jwtsift: \(UntrustedText.display(notice))") }
            var status: Int32 = 0
            do {
                try out.beginMerge()
                defer { try? out.finishMerge() }
                for shard in shards {
                    if stop.isRequested { break }
                    do {
                        let outcome = try out.merge(shard: shard, shownPath: ShardMerge.stored(shard), now: wallClock())
                        if !quiet { printError(ShardMerge.line(UntrustedText.display(shard), outcome)) }
                    } catch {
                        printError("jwtsift: \(UntrustedText.display("\(error)"))")
                        switch error {
                        case .sqlite:
                            // The output failed (a full disk…): the next shard would too.
                            throw ExitCode(4)
                        // Most serious first, as scan: a refused shard (2) before one that could not be read (3).
                        case .unreadable, .busy: if status == 0 { status = 3 }
                        case .damaged, .notFindings, .version, .isOutput, .grown, .overlapping: status = 2
                        }
                    }
                }
            } catch let e as SQLiteError {
                printError("jwtsift: \(shown): \(UntrustedText.display("\(e)"))")
                throw ExitCode(4)
            }
            if stop.isRequested {
                printError("jwtsift: stopped by a signal; the shards merged so far are kept (run again to continue)")
                throw ExitCode(stop.requested == SIGTERM ? 143 : 130)
            }
            if !quiet { printError("findings: \(shown)\nnext: jwtsift report --db \(Summary.shellQuoted(shown))") }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
