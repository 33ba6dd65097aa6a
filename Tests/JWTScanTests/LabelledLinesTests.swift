import SiftCore
import Testing

@testable import JWTScan

#if canImport(Glibc)
import Glibc
#endif

/// Real log lines, each labelled with the cause it must get (Fixtures/labelled-lines.tsv: cause TAB line).
@Suite("Labelled real lines")
struct LabelledLinesTests {
    static func load() -> [(Cause, String)] {
        let path =
            "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/labelled-lines.tsv"
        guard let f = fopen(path, "r") else { return [] }
        defer { fclose(f) }
        var rows: [(Cause, String)] = []
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        while getline(&line, &cap, f) > 0 {
            let text = String(cString: line!).trimmingNewline()
            let parts = text.split(separator: "\t", maxSplits: 1)
            if parts.count == 2, let cause = Cause(rawValue: String(parts[0])) {
                rows.append((cause, String(parts[1])))
            }
        }
        free(line)
        return rows
    }

    @Test("the fixture loads")
    func loads() { #expect(Self.load().count >= 13) }

    @Test("each line gets its cause", arguments: load())
    func cause(_ expected: Cause, _ line: String) {
        let f = scanText(line)
        #expect(f.errors.first?.cause == expected, "\(line.prefix(80))")
        #expect(f.errors.first?.logTime != nil || !line.hasPrefix("20"))
    }
}

extension String {
    func trimmingNewline() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}
