import Dispatch
import JOSECrypto
import JWTScan
import LogInput
import SiftCore

/// A chunk copied out of the reader's buffer so another thread can scan it while the reader goes on.
struct OwnedChunk: Sendable {
    var bytes: [UInt8]
    var streamOffset: UInt64
    var firstLine: UInt64
    var continuesLine: Bool
    var cutAtEnd: Bool
    var newlines: UInt64
    var openLineStart: Int

    init(_ c: LogChunk) {
        bytes = Array(c.bytes)
        streamOffset = c.streamOffset
        firstLine = c.firstLine
        continuesLine = c.continuesLine
        cutAtEnd = c.cutAtEnd
        newlines = c.newlines
        openLineStart = c.openLineStart
    }

    var endOffset: UInt64 { streamOffset + UInt64(bytes.count) }
}

/// One chunk's scan as a worker did it, from an assumed empty carry (see ``LineScanner/Carry``).
struct ChunkScan: Sendable {
    var findings = ScanFindings()
    /// The carry after the chunk, when the chunk itself set it (a full-dated time, a cut last line).
    var endCarry = LineScanner.Carry()
    var setReference = false
    var usedIncomingReference = false
}

/// Scans batches of chunks of one stream on several threads: fork-join over `DispatchQueue.concurrentPerform`,
/// one ``LineScanner`` per worker (sharing the immutable phrase matcher), chunk `i` of a batch scanned by worker
/// `i % workers`. The shared state is all here: the scanners (worker `w` touches only `scanners[w]`) and the
/// result slots (slot `i` written by the one worker that scans chunk `i`, read after the fork-join returns).
/// One batch at a time: ``scan(_:)`` may run on another thread than its caller, never twice at once.
final class ChunkScanners: @unchecked Sendable {
    let workers: Int
    private let scanners: UnsafeMutablePointer<LineScanner>

    init(workers: Int, zone: LocalZone, matcher: PhraseMatcher) {
        self.workers = max(1, workers)
        scanners = .allocate(capacity: self.workers)
        for w in 0..<self.workers {
            let hasher = SHA256Context()
            (scanners + w).initialize(
                to: LineScanner(timeParser: TimestampParser(zone: zone), matcher: matcher, fingerprint: hasher.hash))
        }
    }

    deinit {
        scanners.deinitialize(count: workers)
        scanners.deallocate()
    }

    /// The source's fallback year and month for yearless stamps (from its modification time).
    func setFallback(year: Int, month: Int) {
        for w in 0..<workers {
            scanners[w].timeParser.fallbackYear = year
            scanners[w].timeParser.fallbackMonth = month
        }
    }

    /// Scans every chunk, each from an empty carry; results in chunk order.
    func scan(_ batch: [OwnedChunk]) -> [ChunkScan] {
        let slots = UnsafeMutablePointer<ChunkScan>.allocate(capacity: batch.count)
        slots.initialize(repeating: ChunkScan(), count: batch.count)
        defer {
            slots.deinitialize(count: batch.count)
            slots.deallocate()
        }
        let out = Slots(base: slots)
        let workers = min(self.workers, batch.count)
        batch.withUnsafeBufferPointer { chunks in
            let input = Input(base: chunks)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let scanner = self.scanners + w
                var i = w
                while i < input.base.count {
                    let c = input.base[i]
                    var result = ChunkScan()
                    scanner.pointee.start(LineScanner.Carry())
                    c.bytes.withUnsafeBytes { bytes in
                        scanner.pointee.scan(
                            bytes, streamOffset: c.streamOffset, firstLine: c.firstLine,
                            continuesLine: c.continuesLine, cutAtEnd: c.cutAtEnd, into: &result.findings)
                    }
                    result.endCarry = scanner.pointee.carry
                    result.setReference = scanner.pointee.setReference
                    result.usedIncomingReference = scanner.pointee.usedIncomingReference
                    out.base[i] = result
                    i += workers
                }
            }
        }
        return Array(UnsafeBufferPointer(start: slots, count: batch.count))
    }

    /// The batch, read by all workers while `concurrentPerform` runs (it is inside `withUnsafeBufferPointer`).
    private struct Input: @unchecked Sendable { let base: UnsafeBufferPointer<OwnedChunk> }
    /// Result slots: slot `i` is written by exactly one worker.
    private struct Slots: @unchecked Sendable { let base: UnsafeMutablePointer<ChunkScan> }
}
