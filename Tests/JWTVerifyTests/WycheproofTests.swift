import Foundation
import JOSECrypto
import JWTScan
import SiftCore
import Testing

@testable import JWTVerify

/// Project Wycheproof's JWS vectors (json_web_signature_test.json, 401 cases): every `valid` case verifies and
/// every `invalid` one does not — except four cases where this copy of the file contradicts itself or RFC 7515.
@Suite struct WycheproofTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var tcId: Int
        var comment: String
        var key: String
        var jws: String
        var valid: Bool
        var testDescription: String { "tcId \(tcId) \(comment)" }
    }

    /// Cases where the spec-correct verdict differs from the file's `result`, and why:
    /// - 367, 370 ("invalidBase64Padding…"): their `jws` is byte-for-byte the `valid` case 357 with the same key
    ///   (the `=` the comment refers to is absent from this copy), so no verifier can call them invalid.
    /// - 372, 373 ("InvalidCharacterInsertedIn…"): marked valid, but a `?` sits inside the header or payload.
    ///   `?` is not base64url (RFC 7515 §2), and the MAC was computed over the text without it: accepting them
    ///   would mean verifying something other than the bytes received (RFC 7515 §5.2).
    static let errata: [Int: Bool] = [367: true, 370: true, 372: false, 373: false]

    static let cases: [Case] = {
        let data = FileManager.default.contents(atPath: fixturePath("json_web_signature_test.json"))!
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var out: [Case] = []
        for group in root["testGroups"] as! [[String: Any]] {
            let keyObject = (group["public"] ?? group["private"])!
            let key = String(
                decoding: try! JSONSerialization.data(withJSONObject: keyObject, options: [.sortedKeys]), as: UTF8.self)
            for t in group["tests"] as! [[String: Any]] {
                let jws: String
                if let s = t["jws"] as? String {
                    jws = s
                } else {
                    jws = String(
                        decoding: try! JSONSerialization.data(withJSONObject: t["jws"]!, options: [.sortedKeys]),
                        as: UTF8.self)
                }
                out.append(
                    Case(
                        tcId: t["tcId"] as! Int, comment: t["comment"] as! String, key: key, jws: jws,
                        valid: (t["result"] as! String) == "valid"))
            }
        }
        return out
    }()

    @Test func theFileHolds401Cases() {
        #expect(Self.cases.count == 401)
        #expect(Set(Self.cases.map(\.tcId)).count == 401)
    }

    @Test("each case", arguments: cases)
    func verdict(_ c: Case) {
        let (keys, problems) = KeyLoader.parseKeyFile(Array(c.key.utf8), origin: "wycheproof", retired: false)
        #expect(!problems.contains { $0.severity == .error }, "\(problems)")
        let a = TokenAnalyzer(keys: KeyRing(current: keys)).analyze(Array(c.jws.utf8), verifier: SignatureChecker())
        let expected = Self.errata[c.tcId] ?? c.valid
        #expect(
            (a.signature == .valid) == expected, "signature \(a.signature), causes \(a.causes.joined), \(a.reasons)")
        if !expected { #expect(a.judge(at: 0, leeway: 0).cause != .ok) }
    }

    @Test func erratumCasesAreWhatTheCommentSays() {
        let byId = Dictionary(uniqueKeysWithValues: Self.cases.map { ($0.tcId, $0) })
        #expect(byId[367]!.jws == byId[357]!.jws && byId[367]!.key == byId[357]!.key)
        #expect(byId[370]!.jws == byId[357]!.jws)
        #expect(byId[372]!.jws.contains("?") && byId[373]!.jws.contains("?"))
    }

    /// Wycheproof's payloads are mostly not claim sets: each is `malformed` first (RFC 7519 §7.2), and its
    /// signature is still checked and reported as `valid`.
    @Test func payloadsThatAreNotClaimsAreMalformedAndStillSignatureChecked() {
        let c = Self.cases.first { $0.tcId == 1 }!
        let (keys, _) = KeyLoader.parseKeyFile(Array(c.key.utf8), origin: "w", retired: false)
        let a = TokenAnalyzer(keys: KeyRing(current: keys)).analyze(Array(c.jws.utf8), verifier: SignatureChecker())
        #expect(a.signature == .valid)
        #expect(a.judge(at: 0, leeway: 0).cause == .malformed)
        #expect(a.reasons[.malformed]!.contains("payload is not a JSON object"))
    }
}
