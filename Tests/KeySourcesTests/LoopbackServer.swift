import Foundation

/// Tests/KeySourcesTests/Fixtures/jwks_server.py on 127.0.0.1 (a port the system picks), serving `directory`;
/// stopped when released. Nothing it serves leaves loopback.
final class LoopbackServer {
    let directory: String
    let port: Int
    let tls: Bool
    private let process: Process

    static let script =
        "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/jwks_server.py"

    init(directory: String, tls: (certificate: String, key: String)? = nil) throws {
        // libcurl would send loopback requests to a proxy named in the environment.
        setenv("no_proxy", "127.0.0.1,localhost", 1)
        setenv("NO_PROXY", "127.0.0.1,localhost", 1)
        self.directory = directory
        self.tls = tls != nil
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, directory] + (tls.map { [$0.certificate, $0.key] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else { break }
            if b == UInt8(ascii: "\n") { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown)
        }
        self.port = port
    }

    /// SIGKILL: a child spawned from a test thread may inherit a mask that blocks SIGTERM.
    /// It owns its directory: removed with it.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var base: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    func url(_ path: String) -> String { base + path }

    /// The requests it has answered: "GET /path If-None-Match".
    var requests: [String] {
        (try? String(contentsOfFile: directory + "/requests.log", encoding: .utf8))?.split(separator: "\n").map(
            String.init) ?? []
    }
}
