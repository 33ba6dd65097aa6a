import FuzzTargets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `fuzz-replay TARGET PATH...`: runs each file (a directory: each file in it) through a fuzz target's body and
/// invariants, without libFuzzer, so a saved input reproduces in a plain build. Prints one line per input (its
/// path and size, never its bytes); a broken invariant stops with the target's message.
@main
struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTarget(rawValue: name), args.count >= 2 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            warn("usage: fuzz-replay \(names) FILE|DIR...")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            for file in files(path) {
                guard let bytes = read(file) else {
                    warn("fuzz-replay: cannot read \(file)")
                    exit(2)
                }
                bytes.withUnsafeBytes { target.run($0) }
                print("ok \(file) (\(bytes.count) bytes)")
                count += 1
            }
        }
        print("fuzz-replay \(target.rawValue): \(count) inputs, no invariant broken")
    }

    static func warn(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func files(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            out.append(path + "/" + name)
        }
        return out.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = block.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { break }
            out += block[0..<n]
        }
        return out
    }
}
