import JOSECrypto
import JWTScan
import SiftCore

/// The whole `LineScanner` over the bytes as one chunk of lines. The first byte picks the chunk flags and the
/// zone; the rest is the chunk.
///
/// Checks: every token lies inside its line and is made of base64url and dots, starting `ey`/`ew`; its line
/// number is the count of newlines before it; its fingerprint is the SHA-256 of exactly those bytes; times are
/// finite and statuses are HTTP statuses; an error message is at most 512 bytes, holds no control byte and no
/// token found in the chunk; scanning the chunk again (the token cache warm) gives the same findings, all
/// repeats; scanning it as two chunks split at a line boundary gives the same findings as one.
enum ScannerTarget {
    /// The phrase table is parsed once per process (about 20 ms); each input gets a copy with a fresh token cache.
    nonisolated(unsafe) static let prototype = LineScanner(
        timeParser: TimestampParser(zone: .utc, fallbackYear: 2023, fallbackMonth: 11), fingerprint: Digest.sha256)

    static func fresh(zone: LocalZone) -> LineScanner {
        var s = prototype
        s.tokens = TokenScanner(fingerprint: Digest.sha256)
        s.timeParser = TimestampParser(zone: zone, fallbackYear: 2023, fallbackMonth: 11)
        return s
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let flags = data.first else { return }
        let chunk = UnsafeRawBufferPointer(rebasing: data[1...])
        let continues = flags & 1 != 0
        let cut = flags & 2 != 0
        let zone: LocalZone = flags & 4 != 0 ? .fixed(seconds: 3600 * (Int(flags >> 3) - 16)) : .utc
        let streamOffset = UInt64(flags) * 1000
        let firstLine = UInt64(flags) + 1

        var scanner = fresh(zone: zone)
        var findings = ScanFindings()
        scanner.scan(
            chunk, streamOffset: streamOffset, firstLine: firstLine, continuesLine: continues, cutAtEnd: cut,
            into: &findings)
        check(findings, chunk, streamOffset: streamOffset, firstLine: firstLine)

        // Again with the same scanner: its cache now knows every candidate.
        var again = ScanFindings()
        var warm = fresh(zone: zone)
        warm.tokens = scanner.tokens
        warm.scan(
            chunk, streamOffset: streamOffset, firstLine: firstLine, continuesLine: continues, cutAtEnd: cut,
            into: &again)
        FuzzCheck.expect(again.tokens.allSatisfy { !$0.isNew }, .scanner, "a token is new to a warm cache")
        FuzzCheck.expect(
            same(findings, again, ignoringNew: true), .scanner, "a warm cache changes the findings")

        // Split into two chunks at the line boundary nearest the middle.
        guard !continues, chunk.count >= 2 else { return }
        var split = chunk.count / 2
        while split < chunk.count, chunk[split - 1] != 0x0A { split += 1 }
        guard split < chunk.count else { return }
        let newlines = chunk[0..<split].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        var halves = ScanFindings()
        var two = fresh(zone: zone)
        two.scan(
            UnsafeRawBufferPointer(rebasing: chunk[0..<split]), streamOffset: streamOffset, firstLine: firstLine,
            continuesLine: false, cutAtEnd: false, into: &halves)
        two.scan(
            UnsafeRawBufferPointer(rebasing: chunk[split...]), streamOffset: streamOffset + UInt64(split),
            firstLine: firstLine + UInt64(newlines), continuesLine: false, cutAtEnd: cut, into: &halves)
        FuzzCheck.expect(
            same(findings, halves, ignoringNew: false), .scanner, "two chunks give other findings than one")
    }

    static func same(_ a: ScanFindings, _ b: ScanFindings, ignoringNew: Bool) -> Bool {
        guard a.errors == b.errors, a.tokens.count == b.tokens.count else { return false }
        for (x, y) in zip(a.tokens, b.tokens) {
            var y = y
            if ignoringNew { y.hit.isNew = x.hit.isNew }
            if x != y { return false }
        }
        return true
    }

    static func check(_ f: ScanFindings, _ chunk: UnsafeRawBufferPointer, streamOffset: UInt64, firstLine: UInt64) {
        let count = chunk.count
        var tokenTexts: [[UInt8]] = []
        for t in f.tokens {
            let start = Int(t.offset - streamOffset)
            FuzzCheck.expect(
                t.offset >= streamOffset && start + t.length <= count && t.length > 0, .scanner,
                "token outside the chunk")
            let text = Array(chunk[start..<(start + t.length)])
            FuzzCheck.expect(
                text.count >= 2 && text[0] == UInt8(ascii: "e")
                    && (text[1] == UInt8(ascii: "y") || text[1] == UInt8(ascii: "w")), .scanner,
                "token does not start with ey/ew")
            FuzzCheck.expect(
                text.allSatisfy { Base64URL.isAlphabet($0) || $0 == UInt8(ascii: ".") }, .scanner,
                "token holds a byte outside base64url and '.'")
            FuzzCheck.expect(
                text.count(where: { $0 == UInt8(ascii: ".") }) + 1 == t.segments, .scanner,
                "segments is not the number of dots + 1")
            let lineNumber = firstLine + UInt64(chunk[0..<start].count(where: { $0 == 0x0A }))
            FuzzCheck.expect(t.line == lineNumber, .scanner, "token line number is not its newline count")
            let lineStart = (chunk[0..<start].lastIndex(of: 0x0A) ?? -1) + 1
            FuzzCheck.expect(t.hit.start == start - lineStart, .scanner, "token start is not its offset in its line")
            FuzzCheck.expect(
                text.withUnsafeBytes { Digest.sha256($0) } == t.fingerprint, .scanner,
                "fingerprint is not the SHA-256 of the token's bytes")
            FuzzCheck.expect(t.logTime.map(\.isFinite) ?? true, .scanner, "token log time is not finite")
            FuzzCheck.expect(t.status.map { (100...599).contains($0) } ?? true, .scanner, "status out of range")
            tokenTexts.append(text)
        }
        for e in f.errors {
            let start = Int(e.offset - streamOffset)
            FuzzCheck.expect(
                e.offset >= streamOffset && start <= count && (start == 0 || chunk[start - 1] == 0x0A), .scanner,
                "error offset is not a line start")
            let lineNumber = firstLine + UInt64(chunk[0..<start].count(where: { $0 == 0x0A }))
            FuzzCheck.expect(e.line == lineNumber, .scanner, "error line number is not its newline count")
            FuzzCheck.expect(e.message.utf8.count <= LineScanner.messageLimit, .scanner, "message over the limit")
            FuzzCheck.expect(
                !e.message.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }, .scanner,
                "message holds a control byte")
            FuzzCheck.expect(!e.rule.isEmpty, .scanner, "error without a rule")
            FuzzCheck.expect(e.logTime.map(\.isFinite) ?? true, .scanner, "error log time is not finite")
            for d in [e.details.exp, e.details.nbf, e.details.now] {
                FuzzCheck.expect(d.map(\.isFinite) ?? true, .scanner, "error detail is not finite")
            }
            for text in tokenTexts {
                FuzzCheck.expect(
                    !FuzzCheck.contains(e.message.utf8, text), .scanner, "a token's text is in a redacted message")
            }
        }
    }
}
