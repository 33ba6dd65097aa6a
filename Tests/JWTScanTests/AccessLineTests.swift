import Foundation
import SiftCore
import Testing

@testable import JWTScan

/// Statuses and hosts read from the gateway, load-balancer, CDN, server and logger formats in
/// Fixtures/access-lines.jsonl: each line from the vendor's documentation (or the emitter's own source), with its
/// URL and how it was written down in `note`.
@Suite("Statuses and hosts of access-log formats")
struct AccessLineTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var format: String
        var url: String
        var line: String
        var status: Int?
        var host: String?
        var testDescription: String { format }
    }

    static let rows: [Row] = {
        let path =
            "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/access-lines.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONParser.parseObject(Array(line.utf8)) else { return nil }
            return Row(
                format: o["format"]?.stringValue ?? "", url: o["url"]?.stringValue ?? "",
                line: o["line"]?.stringValue ?? "", status: o["status"]?.numberValue.map { Int($0) },
                host: o["host"]?.stringValue)
        }
    }()

    @Test("the fixture is there and every line names its source")
    func fixture() {
        #expect(Self.rows.count >= 20)
        for r in Self.rows { #expect(r.url.hasPrefix("https://"), "\(r.format)") }
    }

    @Test("the status each format carries", arguments: rows)
    func status(_ r: Row) {
        #expect(withBytes(r.line) { StatusParser.status($0) } == r.status, "\(r.format): \(r.url)")
    }

    @Test("the host, pod or service that wrote the line", arguments: rows)
    func host(_ r: Row) {
        let found = withBytes(r.line) { p in HostParser.host(p).map { String(decoding: p[$0], as: UTF8.self) } }
        #expect(found == r.host, "\(r.format): \(r.url)")
    }

    @Test("Traefik: the status sent downstream wins over the origin's (a ForwardAuth 401 has no origin answer)")
    func downstreamFirst() {
        #expect(
            withBytes(#"{"OriginStatus":0,"DownstreamStatus":401,"RequestPath":"/x"}"#) { StatusParser.status($0) }
                == 401)
        #expect(withBytes(#"{"OriginStatus":200,"DownstreamStatus":401}"#) { StatusParser.status($0) } == 401)
        #expect(withBytes(#"{"OriginStatus":503}"#) { StatusParser.status($0) } == 503)
    }

    @Test("ALB: a target that never answered (`-`) still gives the load balancer's status; no status without one")
    func albWithoutTarget() {
        let line =
            #"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -"#
        #expect(withBytes(line) { StatusParser.status($0) } == 502)
        let noStatus =
            #"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 - - 34 366 "-" "-" - -"#
        #expect(withBytes(noStatus) { StatusParser.status($0) } == nil)
    }

    @Test(
        "look-alikes are not statuses or hosts",
        arguments: [
            "2023-11-14 22:13:05 worker took 0.123 0.456 0.789 401 ms",  // times without the load balancer's shape
            "2023-11-14\tjob\t401",  // a tab-separated line without nine fields
            "2023-11-14 22:13:05 retried 3 times, 401 1 2 3",  // IIS's fields start with an address and a method
            "2023-11-14 22:13:05 10.0.0.1 GET /x - 80 - 10.0.0.2 curl 4011 0 0 15",  // a 4-digit "status"
        ])
    func lookAlikes(_ line: String) {
        #expect(withBytes(line) { StatusParser.status($0) } == nil)
    }

    @Test(
        "no host where the line does not name its writer",
        arguments: [
            "Nov 14 22:13:05 GET /api failed",  // no tag after the would-be host
            "2023-11-14T22:13:05Z GET /x 401 Authorization: Bearer x",  // an ISO time then words
            #"{"request":{"host":"api.example.com"},"status":401}"#,  // the requested host
            #"{"hostname":"-","service":""}"#,  // placeholders
            "2023-11-14T22:13:20Z ERROR auth: jwt expired for request 9",  // a level, not a host
            "Nov 14 22:13:05 warn jwt: token expired",
        ])
    func noHost(_ line: String) {
        #expect(withBytes(line) { HostParser.host($0) } == nil)
    }

    @Test("a host name is cut to 253 bytes; the scanner hands it on with the sighting, tokens in it redacted")
    func bounded() {
        let long = String(repeating: "h", count: 400)
        let found = withBytes(#"{"hostname":"\#(long)"}"#) { HostParser.host($0)?.count }
        #expect(found == HostParser.maxLength)
        let token = Tok.jws()
        let f = scanText(
            """
            {"time":"2023-11-14T22:13:05Z","hostname":"web-1","status":401,"auth":"Bearer \(token)"}
            {"time":"2023-11-14T22:13:06Z","hostname":"\(token)","msg":"jwt expired"}
            Oct 11 22:14:15 mymachine api[12]: 401 Bearer \(token)

            """)
        #expect(f.tokens.map(\.host) == ["web-1", "<redacted token>", "mymachine"])
        #expect(f.tokens.map(\.status) == [401, nil, nil])
        #expect(f.errors.first?.host == "<redacted token>")
    }
}
