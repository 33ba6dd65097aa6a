import Testing

@testable import LogInput

#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed at the end of each test.
final class TempDir {
    let path: String

    init() {
        var template = Array("/tmp/jwtsift-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }

    deinit { _ = system("rm -rf '\(path)'") }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = path + "/" + name
        if let slash = name.lastIndex(of: "/") { _ = system("mkdir -p '\(path)/\(name[..<slash])'") }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return full
    }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }
}

/// Reads a source completely and returns the lines (as the reader delivered them) and the summary.
func readAll(_ source: InputSource, options: ReaderOptions = ReaderOptions()) throws -> (
    chunks: [LogChunkCopy], summary: ReadSummary
) {
    var chunks: [LogChunkCopy] = []
    let summary = try LogReader(source: source, options: options).read { c in
        chunks.append(
            LogChunkCopy(
                bytes: Array(c.bytes), offset: c.streamOffset, firstLine: c.firstLine, continues: c.continuesLine,
                cut: c.cutAtEnd))
        return true
    }
    return (chunks, summary)
}

struct LogChunkCopy {
    var bytes: [UInt8]
    var offset: UInt64
    var firstLine: UInt64
    var continues: Bool
    var cut: Bool
}

func fixture(_ name: String) -> String {
    #filePath.split(separator: "/").dropLast().joined(separator: "/").prepending("/") + "/Fixtures/" + name
}

extension String {
    func prepending(_ s: String) -> String { s + self }
}

@Suite("Log reader")
struct LogReaderTests {
    @Test("plain file: every byte delivered once, lines counted, missing final newline counted")
    func plain() throws {
        let dir = TempDir()
        let p = dir.write("a.log", "one\r\ntwo\n\nthree")
        let (chunks, summary) = try readAll(.file(p))
        #expect(chunks.flatMap(\.bytes) == Array("one\r\ntwo\n\nthree".utf8))
        #expect(summary.lines == 4)
        #expect(summary.bytes == 15)
        #expect(!summary.compressed)
    }

    @Test("empty file")
    func empty() throws {
        let dir = TempDir()
        let (chunks, summary) = try readAll(.file(dir.write("e.log", "")))
        #expect(chunks.isEmpty)
        #expect(summary.lines == 0)
    }

    @Test("multi-member gzip (cat a.gz b.gz) is read to the end")
    func multiMember() throws {
        let (chunks, summary) = try readAll(.file(fixture("multi-member.gz")))
        #expect(String(decoding: chunks.flatMap(\.bytes), as: UTF8.self) == "first line\nsecond\nthird line\n")
        #expect(summary.compressed)
        #expect(summary.lines == 3)
    }

    @Test("gzip is recognised by its magic bytes, not its name")
    func magic() throws {
        let dir = TempDir()
        let bytes = try #require(readFile(fixture("multi-member.gz")))
        let p = dir.write("rotated.log.1", bytes)
        let (_, summary) = try readAll(.file(p))
        #expect(summary.compressed)
        #expect(summary.lines == 3)
        let q = dir.write("plain.gz", "not gzip\n")
        #expect(try readAll(.file(q)).summary.compressed == false)
    }

    @Test("a corrupt archive is an error naming the path; what came before is delivered")
    func corrupt() throws {
        var delivered = 0
        #expect(throws: InputError(code: .corruptArchive, path: fixture("cut-archive.gz"), reason: "")) {
            _ = try LogReader(source: .file(fixture("cut-archive.gz"))).read { c in
                delivered += c.bytes.count
                return true
            }
        }
        let dir = TempDir()
        var garbage = try #require(readFile(fixture("multi-member.gz")))
        garbage += Array("trailing junk".utf8)
        let p = dir.write("junk.gz", garbage)
        var text: [UInt8] = []
        do {
            _ = try LogReader(source: .file(p)).read { c in
                text += c.bytes
                return true
            }
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .corruptArchive)
            #expect(error.description.contains(p))
        }
        #expect(String(decoding: text, as: UTF8.self) == "first line\nsecond\nthird line\n")
    }

    @Test("unreadable and missing files are errors with their path")
    func unreadable() throws {
        let dir = TempDir()
        #expect(throws: InputError(code: .notFound, path: dir.path + "/nope", reason: "")) {
            _ = try readAll(.file(dir.path + "/nope"))
        }
        if getuid() != 0 {
            let p = dir.write("secret.log", "x\n")
            chmod(p, 0)
            #expect(throws: InputError(code: .unreadable, path: p, reason: "")) { _ = try readAll(.file(p)) }
        }
    }

    @Test("a line longer than the bound is delivered in pieces; memory stays at the bound")
    func giantLine() throws {
        let dir = TempDir()
        let giant = String(repeating: "a", count: 10_000)
        let p = dir.write("giant.log", "short\n" + giant + "\nafter\n")
        let options = ReaderOptions(maximumLineLength: 4096, blockSize: 4096)
        let (chunks, summary) = try readAll(.file(p), options: options)
        #expect(chunks.allSatisfy { $0.bytes.count <= 4096 + 4096 })
        #expect(chunks.flatMap(\.bytes).count == 6 + 10_001 + 6)
        #expect(chunks.contains { $0.cut })
        let continued = chunks.filter(\.continues)
        #expect(!continued.isEmpty)
        #expect(continued.allSatisfy { $0.firstLine == 2 })
        #expect(summary.lines == 3)
        // Offsets are contiguous.
        var next: UInt64 = 0
        for c in chunks {
            #expect(c.offset == next)
            next += UInt64(c.bytes.count)
        }
    }

    /// Found by the `gzip` fuzz target (Fuzz/Sources/FuzzTargets/GzipTarget.swift): a last line exactly as long
    /// as the line bound, with no newline, was delivered as a cut piece (`cutAtEnd`, as if more followed) and not
    /// counted in `summary.lines`. `fuzz/line-at-bound.gz` is the archive the fuzzer's input described: those 64
    /// bytes in two gzip members; the plain case is the same bytes in a file.
    @Test("a last line exactly at the bound is whole, not cut, and counted", arguments: ["gzip", "plain"])
    func lastLineAtBound(kind: String) throws {
        let dir = TempDir()
        let archive = fixture("fuzz/line-at-bound.gz")
        let path =
            kind == "gzip" ? archive : dir.write("bound.log", try readAll(.file(archive)).chunks.flatMap(\.bytes))
        let (chunks, summary) = try readAll(.file(path), options: ReaderOptions(maximumLineLength: 64, blockSize: 4096))
        #expect(chunks.flatMap(\.bytes).count == 64)
        #expect(chunks.allSatisfy { !$0.cut && !$0.continues })
        #expect(summary.lines == 1)
        #expect(summary.compressed == (kind == "gzip"))
    }

    @Test("resuming from an offset skips what was read and keeps numbering lines")
    func resume() throws {
        let dir = TempDir()
        let p = dir.write("g.log", "l1\nl2\nl3\n")
        var got: [UInt8] = []
        var firstLine: UInt64 = 0
        let s = try LogReader(source: .file(p)).read(from: 3, line: 2) { c in
            if firstLine == 0 { firstLine = c.firstLine }
            got += c.bytes
            return true
        }
        #expect(String(decoding: got, as: UTF8.self) == "l2\nl3\n")
        #expect(firstLine == 2)
        #expect(s.lines == 2)
    }

    @Test("directories expand recursively in a stable order; missing paths are reported")
    func directories() {
        let dir = TempDir()
        dir.write("b/2.log", "x\n")
        dir.write("a/z.log", "x\n")
        dir.write("a/sub/y.log", "x\n")
        dir.write("c.log", "x\n")
        let (sources, errors) = InputPaths.expand([dir.path, dir.path + "/missing", "-"])
        #expect(
            sources.map(\.name) == ["a/sub/y.log", "a/z.log", "b/2.log", "c.log"].map { dir.path + "/" + $0 } + ["-"])
        #expect(errors.map(\.path) == [dir.path + "/missing"])
    }

    /// A gzip file is inflated on a thread of its own, ahead of the reader (``InflateAhead``): the bytes, the order
    /// of an error after them and an early stop must be as when inflating on the reader's thread.
    @Test("gzip inflated ahead: every byte in order, an early stop, and a cut archive's error after its bytes")
    func inflateAhead() throws {
        let dir = TempDir()
        var text = ""
        for i in 0..<120_000 {
            text += "2023-11-14T10:00:00Z line \(i) GET /api/\(i % 977) 200 token=eyJ\(i * 7919 % 10007)\n"
        }
        let plain = dir.write("big.log", text)
        #expect(system("gzip -1 -k '\(plain)' && cat '\(plain).gz' '\(plain).gz' > '\(dir.path)/two.gz'") == 0)
        // Two members, several MiB inflated, read in 64 KiB blocks: many blocks go through the ahead thread.
        let options = ReaderOptions(blockSize: 1 << 16)
        let whole = try readAll(.file(dir.path + "/two.gz"), options: options)
        #expect(whole.summary.compressed)
        #expect(whole.chunks.flatMap(\.bytes) == Array((text + text).utf8))
        #expect(whole.summary.lines == 240_000)

        // Stopping after the first chunk returns at once, with the inflater stopped.
        var seen = 0
        let stopped = try LogReader(source: .file(dir.path + "/two.gz"), options: options).read { _ in
            seen += 1
            return false
        }
        #expect(seen == 1 && stopped.stopped)

        // Cut in the middle: what was inflated before the cut is delivered, then the error.
        let gz = try #require(readFile(plain + ".gz"))
        let cut = dir.write("cut.gz", Array(gz.prefix(gz.count / 2)))
        var delivered = 0
        #expect(throws: InputError(code: .corruptArchive, path: cut, reason: "")) {
            _ = try LogReader(source: .file(cut), options: options).read { c in
                delivered += c.bytes.count
                return true
            }
        }
        #expect(delivered > text.utf8.count / 4)
    }

    @Test("with a pool, chunks keep buffers of their own: kept to the end, they hold what the plain reader delivers")
    func pooledChunks() throws {
        let dir = TempDir()
        // Short lines, lines longer than the bound (delivered in pieces) and a last line without a newline.
        var text = ""
        for i in 0..<2000 {
            text +=
                i % 97 == 0
                ? String(repeating: "x\(i) ", count: 2000) + "\n" : "line \(i) eyJhbGciOiJIUzI1NiJ9.e30.sig\n"
        }
        text += "last"
        dir.write("a.log", text)
        let options = ReaderOptions(maximumLineLength: 64, blockSize: 4096)
        let plain = try readAll(.file(dir.path + "/a.log"), options: options)
        let pool = ChunkBufferPool(capacity: 64 + 4096, limit: 2)
        var kept: [(chunk: LogChunkCopy, buffer: ChunkBuffer, count: Int)] = []
        let summary = try LogReader(source: .file(dir.path + "/a.log"), options: options).read(pool: pool) { c in
            let buffer = try! #require(c.buffer)
            #expect(c.bytes.baseAddress == UnsafeRawPointer(buffer.base.baseAddress))
            kept.append(
                (
                    LogChunkCopy(
                        bytes: [], offset: c.streamOffset, firstLine: c.firstLine, continues: c.continuesLine,
                        cut: c.cutAtEnd), buffer, c.bytes.count
                ))
            return true
        }
        #expect(summary == plain.summary)
        #expect(kept.count == plain.chunks.count && kept.count > 10)
        // Read only now, after every later chunk was read: no buffer was written again.
        for (k, p) in zip(kept, plain.chunks) {
            #expect(Array(UnsafeRawBufferPointer(rebasing: k.buffer.base[0..<k.count])) == p.bytes)
            #expect(k.chunk.offset == p.offset && k.chunk.firstLine == p.firstLine)
            #expect(k.chunk.continues == p.continues && k.chunk.cut == p.cut)
        }
        #expect(Set(kept.map { ObjectIdentifier($0.buffer) }).count == kept.count)
    }

    @Test("a directory scan leaves out key material and databases it finds; a file named directly is kept")
    func nonLogFiles() {
        let dir = TempDir()
        dir.write("logs/app.log", "GET / 200\n")
        dir.write("logs/events.json", #"{"time":"2023-11-14T08:00:00Z","msg":"jwt expired","kty":"x"}"# + "\n")
        dir.write("logs/queue-wal", "not a write-ahead log\n")
        dir.write("keys/signing.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        dir.write("keys/set.json", #"  {"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#)
        dir.write("keys/one", #"{"alg":"HS256","kty":"oct","k":"c2VjcmV0"}"#)
        dir.write("keys/orders.secret", "hunter2")
        dir.write("keys/unnamed", "\n-----BEGIN PUBLIC KEY-----\n")
        dir.write("db/findings.sqlite", Array("SQLite format 3\u{0}".utf8) + [UInt8](repeating: 0, count: 84))
        dir.write("db/findings.sqlite-wal", [0x37, 0x7F, 0x06, 0x82, 0, 0])
        dir.write("db/findings.sqlite-shm", [UInt8](repeating: 0, count: 64))
        let e = InputPaths.expand([dir.path, dir.path + "/keys/orders.secret"], skippingNonLogs: true)
        let under = { (names: [String]) in names.map { dir.path + "/" + $0 } }
        #expect(
            e.sources.map(\.name)
                == under(["logs/app.log", "logs/events.json", "logs/queue-wal", "keys/orders.secret"]))
        #expect(
            e.skipped.filter { $0.kind == .keyMaterial }.map(\.path)
                == under(["keys/one", "keys/orders.secret", "keys/set.json", "keys/signing.pem", "keys/unnamed"]))
        #expect(
            e.skipped.filter { $0.kind == .database }.map(\.path)
                == under(["db/findings.sqlite", "db/findings.sqlite-shm", "db/findings.sqlite-wal"]))
        // Without the option (key directories given to --keys), everything is listed.
        #expect(InputPaths.expand([dir.path]).sources.count == 11)
    }

    @Test("standard input is read through a pipe, gzip included")
    func stdin() throws {
        let bytes = try #require(readFile(fixture("multi-member.gz")))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let saved = dup(0)
        dup2(fds[0], 0)
        close(fds[0])
        bytes.withUnsafeBytes { _ = Glibc.write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        defer {
            dup2(saved, 0)
            close(saved)
        }
        let (chunks, summary) = try readAll(.stdin())
        #expect(String(decoding: chunks.flatMap(\.bytes), as: UTF8.self) == "first line\nsecond\nthird line\n")
        #expect(summary.compressed)
    }
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

@Suite("Newline count")
struct NewlineCountTests {
    @Test("the block count agrees with a byte loop for every length and position")
    func agrees() {
        var state: UInt64 = 11
        for length in 0..<300 {
            let bytes = (0..<length).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let r = UInt8(truncatingIfNeeded: state >> 59)
                return r < 6 ? 0x0A : r  // about one byte in five is a newline
            }
            let expected = UInt64(bytes.filter { $0 == 0x0A }.count)
            #expect(bytes.withUnsafeBytes { LogReader.countNewlines($0) } == expected, "length \(length)")
        }
        // A block of 64 newlines must not overflow the per-block counter.
        #expect([UInt8](repeating: 0x0A, count: 1000).withUnsafeBytes { LogReader.countNewlines($0) } == 1000)
    }
}
