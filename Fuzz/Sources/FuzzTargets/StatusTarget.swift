import JWTScan
import SiftCore

/// `StatusParser.status` and `HostParser.host` on each line of the bytes. Checks: a status is 100–599, its three
/// digits are in the line, and the same line gives the same answer twice; a host is a non-empty range of the line
/// of at most `HostParser.maxLength` bytes.
enum StatusTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        var lineStart = 0
        while lineStart <= data.count {
            var end = lineStart
            while end < data.count, data[end] != 0x0A { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: data[lineStart..<end])
            let status = StatusParser.status(line)
            FuzzCheck.expect(StatusParser.status(line) == status, .status, "not repeatable")
            if let status {
                FuzzCheck.expect((100...599).contains(status), .status, "status outside 100–599")
                FuzzCheck.expect(
                    FuzzCheck.contains(line, Array(String(status).utf8)), .status, "status digits not in the line")
            }
            if let host = HostParser.host(line) {
                FuzzCheck.expect(
                    !host.isEmpty && host.lowerBound >= 0 && host.upperBound <= line.count
                        && host.count <= HostParser.maxLength, .status, "host outside the line or too long")
            }
            lineStart = end + 1
        }
    }
}
