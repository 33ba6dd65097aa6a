import Foundation
import JOSECrypto
import JWTVerify
import KeySources
import SiftCore

/// A fresh directory under the system's temporary directory.
func temporaryDirectory(_ name: String = #function) -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let dir = "\(base)/jwtsift-keysources-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Removes a directory made by ``temporaryDirectory(_:)`` and everything in it.
func removeDirectory(_ dir: String) {
    try? FileManager.default.removeItem(atPath: dir)
}

func write(_ text: String, to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

/// An ES256 signing key and its public JWK.
struct ECSigner {
    let key = try! PrivateKey.generate(.ec(.p256))
    let kid: String

    init(kid: String) { self.kid = kid }

    var jwk: String {
        guard case .ec(let c, let x, let y) = key.publicKey.components else { fatalError("not EC") }
        return
            #"{"kty":"EC","kid":"\#(kid)","alg":"ES256","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
    }

    var jwks: String { #"{"keys":[\#(jwk)]}"# }

    func sign(_ claims: String, alg: String = "ES256") -> String {
        let input =
            Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"\#(kid)","typ":"JWT"}"#.utf8)) + "."
            + Base64URL.encode(Array(claims.utf8))
        let sig = try! key.sign(.ecdsa(.sha256, .p256), Array(input.utf8))
        return input + "." + Base64URL.encode(sig)
    }
}

func analyze(_ token: String, _ sets: KeySets) -> TokenAnalysis {
    TokenAnalyzer(keys: sets.keys, policy: sets.policy, issuers: sets.issuers).analyze(
        Array(token.utf8), verifier: SignatureChecker())
}
