import Foundation
import JOSECrypto
import JWTScan
import SiftCore

@testable import JWTVerify

func fixturePath(_ name: String) -> String {
    "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/" + name
}

func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }

/// Keys from JWK/JWKS text; fails the test on any error.
func ring(_ jwks: String, retired: String? = nil) -> KeyRing {
    let (current, p1) = KeyLoader.parseKeyFile(Array(jwks.utf8), origin: "test", retired: false)
    let (old, p2) = retired.map { KeyLoader.parseKeyFile(Array($0.utf8), origin: "retired", retired: true) } ?? ([], [])
    precondition((p1 + p2).allSatisfy { $0.severity == .warning }, "key errors: \(p1 + p2)")
    return KeyRing(current: current, retired: old)
}

func analyze(_ token: String, _ keys: KeyRing, policy: VerifyPolicy = VerifyPolicy(), truncation: Truncation? = nil)
    -> TokenAnalysis
{
    TokenAnalyzer(keys: keys, policy: policy, details: true).analyze(
        Array(token.utf8), truncation: truncation, verifier: SignatureChecker())
}

/// A signing key and its public JWK, generated through OpenSSL.
struct TestSigner {
    let alg: JWSAlgorithm
    let privateKey: PrivateKey?
    let secret: [UInt8]?
    let kid: String

    init(_ alg: JWSAlgorithm, kid: String? = nil) {
        self.alg = alg
        self.kid = kid ?? "k-\(alg.rawValue)"
        switch alg.family {
        case .hmac:
            privateKey = nil
            secret = (0..<(alg.hash!.size)).map { _ in UInt8.random(in: 0...255) }
        case .rsaPKCS1, .rsaPSS:
            privateKey = try! PrivateKey.generate(.rsa(bits: 2048))
            secret = nil
        case .ecdsa:
            privateKey = try! PrivateKey.generate(.ec(alg.curve!))
            secret = nil
        case .eddsa:
            privateKey = try! PrivateKey.generate(.edwards(alg == .Ed448 ? .ed448 : .ed25519))
            secret = nil
        }
    }

    var jwk: String {
        if let secret { return #"{"kty":"oct","kid":"\#(kid)","k":"\#(Base64URL.encode(secret))"}"# }
        switch privateKey!.publicKey.components {
        case .rsa(let n, let e):
            return #"{"kty":"RSA","kid":"\#(kid)","n":"\#(Base64URL.encode(n))","e":"\#(Base64URL.encode(e))"}"#
        case .ec(let c, let x, let y):
            return
                #"{"kty":"EC","kid":"\#(kid)","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .okp(let c, let x):
            return #"{"kty":"OKP","kid":"\#(kid)","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))"}"#
        }
    }

    var jwks: String { #"{"keys":[\#(jwk)]}"# }

    func sign(_ claims: String, header: String? = nil) -> String {
        let h = header ?? #"{"alg":"\#(alg.rawValue)","kid":"\#(kid)","typ":"JWT"}"#
        let input = b64(h) + "." + b64(claims)
        let sig: [UInt8]
        if let secret {
            sig = Array(input.utf8).withUnsafeBytes { HMACSecret(secret).mac(alg.hash!, $0) }
        } else {
            let k = privateKey!
            sig = try! k.sign(alg.scheme(for: k.shape)!, Array(input.utf8))
        }
        return input + "." + Base64URL.encode(sig)
    }
}
