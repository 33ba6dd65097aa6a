import JWTScan
import LogInput
import SiftCore
import SiftPipeline

#if canImport(Glibc)
import Glibc
#endif

/// The process's stop request, reached from the signal handler (a C function pointer captures nothing).
private let processStop = StopRequest()

/// SIGINT and SIGTERM ask the scan to stop: at the next chunk boundary, or at once when it waits for input on a
/// pipe, FIFO or terminal (``StopRequest`` wakes the reader's `poll`) or for another run's database lock. The
/// current batch is written, the run is marked interrupted, and the process exits 130 (SIGINT) or 143 (SIGTERM).
/// A second signal kills at once.
enum StopSignals {
    static func install() -> StopRequest {
        let stop = processStop  // made here, before a handler can run
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in StopSignals.handle(sig) }
            // SA_RESTART: other blocking calls carry on; the waits that must end poll the stop request's pipe.
            action.sa_flags = Int32(SA_RESTART)
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        // A parent may have started us with them blocked (a thread of a Dispatch pool, say): threads made from
        // here on inherit this mask.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        return stop
    }

    /// The handler: async-signal-safe calls only (an atomic, write, signal, raise).
    private static func handle(_ sig: Int32) {
        if processStop.isRequested {
            Glibc.signal(sig, SIG_DFL)
            raise(sig)
            return
        }
        processStop.request(sig)
    }
}

/// The progress line on a terminal: bytes done of total, MB/s, tokens, failures, ETA; at most 4 times a second.
final class ProgressLine: @unchecked Sendable {
    // Touched only by the scanning thread (ScanOptions.onProgress) and then by the main thread after the scan.
    private let enabled: Bool
    private let totalBytes: UInt64
    private let started = ProgressLine.monotonic()
    private var last = 0.0
    private var shown = false

    init(enabled: Bool, totalBytes: UInt64) {
        self.enabled = enabled
        self.totalBytes = totalBytes
    }

    static func totalBytes(_ sources: [InputSource]) -> UInt64 {
        sources.reduce(0) { sum, s in
            if case .file(let p) = s { return sum + (FileFacts.of(p)?.size ?? 0) }
            return sum
        }
    }

    func update(_ t: ScanTotals) {
        guard enabled else { return }
        let now = Self.monotonic()
        guard now - last >= 0.25 else { return }
        last = now
        let elapsed = max(0.001, now - started)
        let mb = Double(t.counts.bytes) / 1e6
        let rate = mb / elapsed
        let failures = t.sightingsByCause.filter { $0.key.isFailure }.reduce(0) { $0 + $1.value }
        var line = "\r\u{1B}[K\(Int(mb)) MB"
        if totalBytes > 0 { line += " of \(totalBytes / 1_000_000) MB" }
        line += ", \(Int(rate)) MB/s, \(t.counts.sightings) tokens, \(failures) failures"
        if totalBytes > t.counts.bytes, rate > 0 {
            line += ", ETA \(Int(Double(totalBytes - t.counts.bytes) / 1e6 / rate)) s"
        }
        Self.writeStderr(line)
        shown = true
    }

    func finish() {
        if shown { Self.writeStderr("\r\u{1B}[K") }
    }

    static func writeStderr(_ s: String) {
        var s = s
        s.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
