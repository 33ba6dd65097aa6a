import Foundation
import JOSECrypto
import SiftCore
import Testing

@testable import JWTVerify

/// A PEM chain is not a set of signing keys (issue 13): with a `fullchain.pem`, a token signed by the root CA's
/// or the intermediate's key verified `ok`. Only a file's first certificate signs; the rest must be its chain.
/// The chain is made with the openssl command line at test time.
@Suite("Certificate chains", .serialized)
struct CertificateChainTests {
    final class Chain {
        let dir = "/tmp/jwtsift-chain-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        init() throws {
            mkdir(dir, 0o700)
            let script = """
                set -e; cd '\(dir)'
                for n in root int leaf other; do openssl genrsa -out $n.key 2048 2>/dev/null; done
                openssl req -x509 -new -key root.key -subj /CN=root -days 2 -out root.pem
                printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign\\n' > ca.ext
                openssl req -new -key int.key -subj /CN=intermediate -out int.csr
                openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 -extfile ca.ext -out int.pem 2>/dev/null
                openssl req -new -key leaf.key -subj /CN=leaf -out leaf.csr
                openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 2 -out leaf.pem 2>/dev/null
                openssl req -x509 -new -key other.key -subj /CN=other -days 2 -out other.pem
                cat leaf.pem int.pem root.pem > fullchain.pem
                cat leaf.pem other.pem > bundle.pem
                """
            guard system(script) == 0 else { throw Failure.openssl }
        }

        deinit { _ = system("rm -rf '\(dir)'") }

        func path(_ name: String) -> String { dir + "/" + name }

        /// An RS256 token signed by `key` with the openssl command line.
        func token(signedBy key: String) throws -> String {
            let input = b64(#"{"alg":"RS256"}"#) + "." + b64(#"{"sub":"x","exp":4102444800}"#)
            try input.write(toFile: path("input"), atomically: true, encoding: .utf8)
            guard
                system("openssl dgst -sha256 -sign '\(path(key + ".key"))' -out '\(path("sig"))' '\(path("input"))'")
                    == 0,
                let sig = FileManager.default.contents(atPath: path("sig"))
            else { throw Failure.openssl }
            return input + "." + Base64URL.encode(Array(sig))
        }
    }

    enum Failure: Error { case openssl }

    func load(_ path: String) throws -> ([VerificationKey], [KeyProblem]) {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        return KeyLoader.parseKeyFile(Array(bytes), origin: path, retired: false)
    }

    @Test("fullchain.pem: only the leaf signs; tokens signed by the intermediate's or root's key do not verify")
    func fullChain() throws {
        let c = try Chain()
        let (keys, problems) = try load(c.path("fullchain.pem"))
        #expect(problems.isEmpty, "\(problems)")
        #expect(keys.count == 1)
        let ring = KeyRing(current: keys)
        #expect(analyze(try c.token(signedBy: "leaf"), ring).signature == .valid)
        for signer in ["int", "root"] {
            let a = analyze(try c.token(signedBy: signer), ring)
            #expect(a.signature == .invalid, "\(signer)")
            #expect(a.judge(at: 0, leeway: 0).cause == .signature_invalid)
        }
    }

    @Test("certificates after the first that are not its chain are an error naming their index, and not keys")
    func unrelatedBundle() throws {
        let c = try Chain()
        let (keys, problems) = try load(c.path("bundle.pem"))
        #expect(keys.count == 1)
        #expect(problems.count == 1 && problems[0].severity == .error && problems[0].index == 1, "\(problems)")
        #expect(problems.first?.message.contains("not its chain") == true)
        #expect(analyze(try c.token(signedBy: "other"), KeyRing(current: keys)).signature == .invalid)
    }

    @Test("the chain check itself: issuer order matters")
    func chainProblem() throws {
        let c = try Chain()
        func der(_ name: String) throws -> [UInt8] {
            let pem = try #require(FileManager.default.contents(atPath: c.path(name)))
            let body = String(decoding: pem, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("-----") }
            return try #require(Base64URL.decodeStandard(body.joined()))
        }
        #expect(PublicKey.chainProblem(subject: try der("leaf.pem"), issuer: try der("int.pem")) == nil)
        #expect(PublicKey.chainProblem(subject: try der("int.pem"), issuer: try der("root.pem")) == nil)
        #expect(PublicKey.chainProblem(subject: try der("leaf.pem"), issuer: try der("root.pem")) != nil)
        #expect(PublicKey.chainProblem(subject: try der("int.pem"), issuer: try der("leaf.pem")) != nil)
    }
}
