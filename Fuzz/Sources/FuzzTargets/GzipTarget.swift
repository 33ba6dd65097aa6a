import LogInput

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `LogReader` over the bytes written to a file (in /dev/shm when there is one), with small buffers so lines are
/// cut into pieces. The first byte picks the line bound, the resume offset and the mode:
/// - as is: a plain file or a gzip archive, whatever the fuzzer made of it;
/// - wrapped: the rest of the bytes wrapped in gzip members of stored deflate blocks (written here, CRC-32 and
///   all), so the reader must give back exactly those bytes.
///
/// Checks: chunks follow each other (offsets, line numbers); a chunk counts its newlines and knows where its
/// open line starts; a cut piece is exactly the line bound long and holds no newline; every other chunk ends at
/// a newline or at the end; the summary adds up; a plain file or a wrapped one reads back byte for byte (from the
/// resume offset on); an error leaves no chunk beyond what was read; a plain file mapped (`MappedLog`) is cut into
/// exactly the reader's chunks.
enum GzipTarget {
    nonisolated(unsafe) static var path: String = {
        let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        return "\(dir)/jwtsift-fuzz-gzip-\(getpid())"
    }()
    nonisolated(unsafe) static var registered = false

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let payload = Array(data[1...])
        let wrapped = first & 0x80 != 0
        let maxLine = 64 << Int(first & 0x7)  // 64 B … 8 KiB
        let file: [UInt8] = wrapped ? StoredGzip.wrap(payload, splitSeed: first) : payload
        let resume = first & 0x40 != 0 ? UInt64(payload.count / 3) : 0
        write(file)

        let options = ReaderOptions(maximumLineLength: maxLine, blockSize: 4096)
        let reader = LogReader(source: .file(path), options: options)
        var out: [UInt8] = []
        var shapes: [(offset: UInt64, bytes: [UInt8], continues: Bool, cut: Bool, open: Int)] = []
        var nextOffset = resume
        var nextLine: UInt64 = 7
        var openLine = false
        var ended = false
        let summary: ReadSummary?
        do {
            summary = try reader.read(from: resume, line: 7) { chunk in
                let bytes = Array(chunk.bytes)
                FuzzCheck.expect(!ended, .gzip, "a chunk after a short final one")
                FuzzCheck.expect(!bytes.isEmpty, .gzip, "an empty chunk")
                FuzzCheck.expect(chunk.streamOffset == nextOffset, .gzip, "chunk offsets do not follow each other")
                FuzzCheck.expect(chunk.firstLine == nextLine, .gzip, "chunk line numbers do not follow each other")
                FuzzCheck.expect(chunk.continuesLine == openLine, .gzip, "continuesLine is not the last chunk's cut")
                let newlines = UInt64(bytes.count(where: { $0 == 0x0A }))
                FuzzCheck.expect(chunk.newlines == newlines, .gzip, "newlines miscounted")
                FuzzCheck.expect(
                    chunk.openLineStart == (bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0), .gzip,
                    "openLineStart is not just after the last newline")
                if chunk.cutAtEnd {
                    // A piece ends at the bound, or earlier where a token-shaped run would be split (issue 13).
                    FuzzCheck.expect(
                        bytes.count <= maxLine && newlines == 0, .gzip,
                        "a cut piece is longer than the bound or holds a newline")
                } else if bytes.last != 0x0A {
                    ended = true  // only the stream's last line may lack its newline
                }
                FuzzCheck.expect(bytes.count <= maxLine + 4096, .gzip, "a chunk larger than the buffer")
                out += bytes
                shapes.append((chunk.streamOffset, bytes, chunk.continuesLine, chunk.cutAtEnd, chunk.openLineStart))
                nextOffset = chunk.endOffset
                nextLine += newlines
                openLine = chunk.cutAtEnd
                return true
            }
        } catch {
            FuzzCheck.expect(!wrapped, .gzip, "a well-formed stored-block archive was refused")
            FuzzCheck.expect(
                file.count >= 2 && file[0] == 0x1F && file[1] == 0x8B, .gzip, "a plain file failed to read")
            summary = nil
        }
        guard let summary else { return }
        FuzzCheck.expect(summary.bytes == UInt64(out.count), .gzip, "summary bytes differ from what was delivered")
        let endsOpen = !out.isEmpty && out.last != 0x0A
        FuzzCheck.expect(
            summary.lines == UInt64(out.count(where: { $0 == 0x0A })) + (endsOpen ? 1 : 0), .gzip,
            "summary lines differ from what was delivered")
        let isGzip = file.count >= 2 && file[0] == 0x1F && file[1] == 0x8B
        FuzzCheck.expect(summary.compressed == isGzip, .gzip, "compressed flag differs from the magic bytes")
        if !isGzip {
            FuzzCheck.expect(out[...] == payload.dropFirst(Int(resume)), .gzip, "a plain file read back differently")
            // The same file mapped: the same chunks, cut at the same places.
            let mapped = try? MappedLog.open(.file(path), from: resume, options: options)
            FuzzCheck.expect((mapped == nil) == file.isEmpty, .gzip, "a plain file was not mapped, or an empty one was")
            var i = 0
            while let m = mapped?.nextChunk() {
                FuzzCheck.expect(i < shapes.count, .gzip, "the mapped file has more chunks than the reader delivered")
                let s = shapes[i]
                FuzzCheck.expect(
                    m.streamOffset == s.offset && Array(mapped!.bytes(m)) == s.bytes && m.continuesLine == s.continues
                        && m.cutAtEnd == s.cut && m.openLineStart == s.open, .gzip,
                    "the mapped file's chunk differs from the reader's")
                i += 1
            }
            FuzzCheck.expect(i == shapes.count, .gzip, "the mapped file has fewer chunks than the reader delivered")
        } else if wrapped {
            FuzzCheck.expect(out[...] == payload.dropFirst(Int(resume)), .gzip, "a stored-block archive inflated wrong")
        }
    }

    static func write(_ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { FuzzCheck.fail(.gzip, "cannot write the input file") }
        if !registered {
            registered = true
            atexit { unlink(GzipTarget.path) }
        }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        FuzzCheck.expect(n == bytes.count, .gzip, "short write of the input file")
    }
}

/// Writes gzip (RFC 1952) members whose deflate data (RFC 1951 §3.2.4) is stored blocks: no compression, so the
/// expected output is known without a second inflater.
enum StoredGzip {
    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// One member per part (the payload split at points drawn from `splitSeed`), each in blocks of at most 1000 bytes.
    static func wrap(_ payload: [UInt8], splitSeed: UInt8) -> [UInt8] {
        var cuts = [0]
        let parts = 1 + Int(splitSeed >> 4 & 0x3)
        for k in 1..<parts { cuts.append(payload.count * k / parts) }
        cuts.append(payload.count)
        var out: [UInt8] = []
        for m in 0..<(cuts.count - 1) {
            let part = payload[cuts[m]..<cuts[m + 1]]
            out += [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
            var at = part.startIndex
            repeat {
                let n = min(1000, part.endIndex - at)
                let final: UInt8 = at + n == part.endIndex ? 1 : 0
                out.append(final)  // BFINAL, BTYPE 00 (stored), then byte-aligned LEN and NLEN
                let len = UInt16(n)
                out += [UInt8(len & 0xFF), UInt8(len >> 8), UInt8(~len & 0xFF), UInt8(~len >> 8)]
                out += part[at..<(at + n)]
                at += n
            } while at < part.endIndex
            out += le32(crc32(part)) + le32(UInt32(truncatingIfNeeded: part.count))
        }
        return out
    }
}
