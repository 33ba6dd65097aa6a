import JOSECrypto
import SiftCore
import TestSupport
import Testing

@testable import JWTScan

/// The block loops and the token cache behind ``TokenScanner``: each is compared with the plain byte-by-byte
/// answer, at every alignment a 32-byte block can take.
@Suite("Scanner kernels")
struct ScannerKernelTests {
    /// The byte-by-byte answer ``TokenScanner/nextAnchor(_:from:)`` must give.
    static func referenceAnchor(_ b: [UInt8], from: Int) -> Int? {
        guard from >= 1 else { return nil }
        for i in from..<max(from, b.count) where (b[i] == 0x79 || b[i] == 0x77) && b[i - 1] == 0x65 { return i }
        return nil
    }

    @Test("the next `ey`/`ew` pair: same answer as a byte loop, for every start, in random text")
    func anchors() {
        var rng = SplitMix(seed: 7)
        let alphabet = Array("eyw x.\u{7F}".utf8) + [0xC3, 0x65, 0x00]
        for length in 0..<100 {
            let bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            bytes.withUnsafeBytes { raw in
                for from in 1...max(1, length) {
                    #expect(TokenScanner.nextAnchor(raw, from: from) == Self.referenceAnchor(bytes, from: from))
                }
            }
        }
    }

    @Test("a needle is found at every alignment, and only where all of it matches")
    func find() {
        let needle = Array(" HTTP/".utf8)
        for at in 0..<70 {
            var hay = Array(repeating: UInt8(ascii: " "), count: 80)
            for k in stride(from: 0, to: at, by: 7) { hay.replaceSubrange(k..<(k + 3), with: Array(" HT".utf8)) }
            hay.replaceSubrange(at..<(at + needle.count), with: needle)
            hay.withUnsafeBytes { raw in
                #expect(TimestampParser.find(needle, in: raw, from: 0) == at)
                #expect(TimestampParser.find(needle, in: raw, from: at + 1) == nil)
            }
        }
        // Short needles and starts past the end answer nil, never trap.
        Array("a HTTP".utf8).withUnsafeBytes { raw in
            #expect(TimestampParser.find(Array("H".utf8), in: raw, from: 0) == 2)
            #expect(TimestampParser.find(Array("H".utf8), in: raw, from: 9) == nil)
            #expect(TimestampParser.find([], in: raw, from: 0) == nil)
            #expect(TimestampParser.find(needle, in: raw, from: 0) == nil)
        }
    }

    @Test(
        "a token's end is found whichever byte ends it and wherever it falls in a block",
        arguments: Array("\"' ;,&)]}<>|\\\t".utf8) + [0x00, 0x7F, 0x80, 0xE2, 0xFF])
    func tokenEnds(_ terminator: UInt8) {
        let token = Tok.jws(payload: #"{"sub":"u1","pad":"\#(String(repeating: "p", count: 90))"}"#)
        let bytes = Array(token.utf8)
        var scanner = TokenScanner(fingerprint: sha256)
        var hits: [TokenHit] = []
        for lead in 0..<ByteSearch.block {
            for cut in (bytes.count - ByteSearch.block)...bytes.count {
                var piece = Array(bytes[0..<cut])
                if (piece.count - (piece.lastIndex(of: 0x2E)! + 1)) % 4 == 1 { piece.removeLast() }
                let line =
                    Array(repeating: UInt8(ascii: "a"), count: lead) + [UInt8(ascii: " ")] + piece + [terminator]
                    + Array("tail ey".utf8)
                hits.removeAll()
                line.withUnsafeBytes { scanner.scan(line: $0, cutAtEnd: false, into: &hits) }
                #expect(hits.count == 1)
                #expect(hits.first?.start == lead + 1)
                #expect(hits.first?.length == piece.count, "lead \(lead) cut \(cut) terminator \(terminator)")
                #expect(hits.first?.fingerprint == Digest.sha256(piece))
            }
        }
    }

    @Test("a repeated token is decoded once; every repeat has the same fingerprint and is marked as seen before")
    func repeats() {
        let a = Tok.jws(payload: #"{"sub":"a"}"#)
        var b = a
        b.removeLast()
        b += a.hasSuffix("Q") ? "R" : "Q"  // same length, one byte apart
        var scanner = TokenScanner(fingerprint: sha256)
        var hits: [TokenHit] = []
        for line in ["x \(a) y \(a)", "\(b) \(a)", "z=\(b)"] {
            Array(line.utf8).withUnsafeBytes { scanner.scan(line: $0, cutAtEnd: false, into: &hits) }
        }
        #expect(hits.map(\.fingerprint) == [a, a, b, a, b].map { Digest.sha256($0) })
        #expect(hits.map(\.isNew) == [true, false, true, false, false])
        #expect(scanner.decodedCandidates == 2)
    }

    @Test("the cache answers only for the exact bytes, even under a colliding hash")
    func cacheExactness() {
        let cache = TokenCache()
        let facts = TokenScanner.Facts(isToken: true, kind: .jws, alg: "RS256")
        let a = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-a".utf8)
        let b = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-b".utf8)
        a.withUnsafeBytes { ra in
            b.withUnsafeBytes { rb in
                let ha = cache.hash(ra)
                #expect(ha != cache.hash(rb))
                #expect(cache.lookup(ra, hash: ha) == nil)
                cache.insert(ra, hash: ha, entry: .init(fingerprint: Digest.sha256(a), facts: facts))
                #expect(cache.lookup(ra, hash: ha)?.fingerprint == Digest.sha256(a))
                // Same hash, other bytes: a miss, never a's entry.
                #expect(cache.lookup(rb, hash: ha) == nil)
            }
        }
    }

    @Test("the cache stays bounded: at its entry limit it starts over")
    func cacheBound() {
        let cache = TokenCache()
        let facts = TokenScanner.Facts(isToken: false, kind: .jws, alg: nil)
        var last: [UInt8] = []
        var i = 0
        // A key whose probe run is full is dropped, so count inserts by what the cache holds.
        while cache.count < TokenCache.entryLimit {
            last = Array("candidate-\(i)".utf8)
            last.withUnsafeBytes {
                cache.insert(
                    $0, hash: cache.hash($0),
                    entry: .init(fingerprint: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0), facts: facts))
            }
            i += 1
        }
        last.withUnsafeBytes { #expect(cache.lookup($0, hash: cache.hash($0)) != nil) }
        Array("one more".utf8).withUnsafeBytes {
            cache.insert(
                $0, hash: cache.hash($0),
                entry: .init(fingerprint: SHA256Digest(w0: 0, w1: 0, w2: 0, w3: 0), facts: facts))
        }
        #expect(cache.count == 1)
        last.withUnsafeBytes { #expect(cache.lookup($0, hash: cache.hash($0)) == nil) }
    }
}
