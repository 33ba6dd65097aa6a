import SiftCore
import Testing

@testable import JWTScan

/// The scanner's memo of headers it decided (``HeaderDecisions``) must answer exactly what deciding afresh answers,
/// for the same header met with two, three or more dots (a JWE's `enc` counts only with three or more), for
/// headers that only start like an object, and past its capacity.
@Suite struct HeaderDecisionsTests {
    static let headers: [String] =
        [
            #"{"alg":"HS256","typ":"JWT"}"#, #"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, #"{"alg":"none"}"#,
            #"{"alg":"NONE","kid":"k"}"#, #"{"alg":"HS256","alg":"none"}"#, #"{"typ":"JWT"}"#, #"{"alg":5}"#,
            #"{"kid":"a"}"#, #"{"kid":"b"}"#, #"{"kid":"c"}"#, #"{"kid":"d"}"#, #"{"kid":"e"}"#,
        ].map { Base64URL.encode(Array($0.utf8)) } + ["eyJhbGciOiJIUzI1NiJ9x", "eyJhbGci", "e30", "AAAA"]

    static func same(_ a: TokenScanner.Facts, _ b: TokenScanner.Facts) -> Bool {
        a.isToken == b.isToken && a.kind == b.kind && a.alg == b.alg
    }

    @Test("memo answers equal fresh decisions, in any order, for every dot count, past its capacity")
    func sameAsDecide() {
        let memo = HeaderDecisions()
        var met = 0
        // Three passes, so that headers come back both still kept and already replaced.
        for pass in 0..<3 {
            for (k, header) in Self.headers.enumerated() {
                for dots in pass == 1 ? [4, 2, 3, 1] : [1, 2, 3, 4] {
                    let bytes = Array(header.utf8)
                    let fresh = bytes.withUnsafeBytes { TokenScanner.decide($0, dots: dots) }
                    let kept = bytes.withUnsafeBytes { memo.facts($0, dots: dots) }
                    #expect(Self.same(kept, fresh), "header \(k), dots \(dots), pass \(pass)")
                    met += 1
                }
            }
        }
        // A JWE header is a JWE with four dots and a JWS with two: the dot count is part of the key.
        let jwe = Array(Self.headers[1].utf8)
        #expect(jwe.withUnsafeBytes { memo.facts($0, dots: 4) }.kind == .jwe)
        #expect(jwe.withUnsafeBytes { memo.facts($0, dots: 2) }.kind == .jws)
        #expect(met == Self.headers.count * 12)
    }
}
