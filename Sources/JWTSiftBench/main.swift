// jwtsift-bench: distinct-token verification throughput, for scripts/bench verify.
//
// For each algorithm it signs a set of distinct tokens through OpenSSL, then measures, for 1 worker and for
// every core:
//   - "check": the signature check alone (JOSECrypto.Verifier on the decoded signing input and signature) —
//     the wrapper's cost on top of OpenSSL's primitive;
//   - "token": the whole per-token analysis `scan` runs for each distinct token (segments, base64url, header
//     and claims JSON, key choice, signature check) through BatchVerifier, the Dispatch fork-join of the scan.
// Output: one line per algorithm and mode, "ALG MODE WORKERS OPS_PER_SECOND".
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import JOSECrypto
import JWTScan
import JWTVerify

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Fixture {
    let alg: JWSAlgorithm
    let keys: KeyRing
    let tokens: [[UInt8]]
    let key: PublicKey?
    let secret: HMACSecret?
}

func fixture(_ alg: JWSAlgorithm, count: Int) -> Fixture {
    var tokens: [[UInt8]] = []
    let header = Base64URL.encode(Array(#"{"alg":"\#(alg.rawValue)","kid":"bench","typ":"JWT"}"#.utf8))
    func claims(_ i: Int) -> String {
        Base64URL.encode(Array(#"{"iss":"https://login.example.com/","sub":"user-\#(i)","aud":"api://orders","iat":1699998900,"exp":1699999800,"jti":"\#(i)"}"#.utf8))
    }
    if alg.isHMAC {
        let secretBytes = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let secret = HMACSecret(secretBytes)
        for i in 0..<count {
            let input = header + "." + claims(i)
            let mac = Array(input.utf8).withUnsafeBytes { secret.mac(alg.hash!, $0) }
            tokens.append(Array((input + "." + Base64URL.encode(mac)).utf8))
        }
        let jwk = #"{"keys":[{"kty":"oct","kid":"bench","k":"\#(Base64URL.encode(secretBytes))"}]}"#
        let (k, _) = KeyLoader.parseKeyFile(Array(jwk.utf8), origin: "bench", retired: false)
        return Fixture(alg: alg, keys: KeyRing(current: k), tokens: tokens, key: nil, secret: secret)
    }
    let shape: KeyShape = switch alg.family {
    case .rsaPKCS1, .rsaPSS: .rsa(bits: 2048)
    case .ecdsa: .ec(alg.curve!)
    default: .edwards(.ed25519)
    }
    let priv = try! PrivateKey.generate(shape)
    for i in 0..<count {
        let input = header + "." + claims(i)
        let sig = try! priv.sign(alg.scheme(for: shape)!, Array(input.utf8))
        tokens.append(Array((input + "." + Base64URL.encode(sig)).utf8))
    }
    let jwk: String = switch priv.publicKey.components {
    case .rsa(let n, let e): #"{"kty":"RSA","kid":"bench","n":"\#(Base64URL.encode(n))","e":"\#(Base64URL.encode(e))"}"#
    case .ec(let c, let x, let y): #"{"kty":"EC","kid":"bench","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
    case .okp(let c, let x): #"{"kty":"OKP","kid":"bench","crv":"\#(c.rawValue)","x":"\#(Base64URL.encode(x))"}"#
    }
    let (k, _) = KeyLoader.parseKeyFile(Array(#"{"keys":[\#(jwk)]}"#.utf8), origin: "bench", retired: false)
    return Fixture(alg: alg, keys: KeyRing(current: k), tokens: tokens, key: priv.publicKey, secret: nil)
}

/// Runs `body(worker)` on `workers` threads for about `seconds`, in 5 slices; returns the best slice's
/// operations per second (a shared 2-core machine is noisy; the best slice is the least disturbed).
func rate(workers: Int, opsPerRound: Int, seconds: Double, _ body: @Sendable (Int) -> Void) -> Double {
    body(0)  // warm up
    var best = 0.0
    for _ in 0..<5 {
        var rounds = 0
        let start = now()
        repeat {
            if workers == 1 {
                body(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { w in body(w) }
            }
            rounds += workers
        } while now() - start < seconds / 5
        best = max(best, Double(rounds * opsPerRound) / (now() - start))
    }
    return best
}

final class Verifiers: @unchecked Sendable {
    let list: [Verifier]
    init(_ n: Int) { list = (0..<n).map { _ in Verifier() } }
}

let arguments = CommandLine.arguments.dropFirst()
let seconds = Double(arguments.first ?? "") ?? 2
/// Optional second argument: only this algorithm.
let only = arguments.dropFirst().first
let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
let workerCounts = cores == 1 ? [1] : [1, cores]

for alg in [JWSAlgorithm.RS256, .PS256, .ES256, .EdDSA, .HS256] where only == nil || only == alg.rawValue {
    let f = fixture(alg, count: alg.isHMAC ? 20_000 : 400)
    // Decoded signing inputs and signatures for the check-only mode.
    let parts: [([UInt8], [UInt8])] = f.tokens.map { t in
        let dot = t.lastIndex(of: UInt8(ascii: "."))!
        return (Array(t[..<dot]), Base64URL.decode(t[(dot + 1)...])!)
    }
    let ringKey: PublicKey? = f.keys.current.first.flatMap { if case .publicKey(let k) = $0.material { k } else { nil } }
    for workers in workerCounts {
        let verifiers = Verifiers(workers)
        let check = rate(workers: workers, opsPerRound: parts.count, seconds: seconds) { w in
            let v = verifiers.list[w]
            var ok = 0
            for (input, sig) in parts {
                let good = input.withUnsafeBytes { m in
                    sig.withUnsafeBytes { s in
                        if let secret = f.secret { return v.verifyMAC(alg.hash!, secret: secret, message: m, signature: s) }
                        return v.verify(alg.scheme(for: f.key!.shape)!, key: ringKey!, message: m, signature: s)
                    }
                }
                if good { ok += 1 }
            }
            precondition(ok == parts.count, "\(alg): a signature did not verify")
        }
        print("\(alg.rawValue) check \(workers) \(Int(check))")

        if workers == 1 {
            // Everything but the signature check: the same analysis with no keys.
            let bare = TokenAnalyzer(keys: KeyRing(), policy: VerifyPolicy(tryWeakSecrets: false))
            let v = Verifiers(1)
            let decode = rate(workers: 1, opsPerRound: f.tokens.count, seconds: seconds / 2) { _ in
                for t in f.tokens { precondition(bare.analyze(t, verifier: v.list[0]).signature == .unchecked) }
            }
            print("\(alg.rawValue) decode 1 \(Int(decode))")
        }
        let batch = BatchVerifier(analyzer: TokenAnalyzer(keys: f.keys), workers: workers)
        let pending = f.tokens.map { PendingToken(fingerprint: Digest.sha256($0), bytes: $0, truncation: nil) }
        // BatchVerifier spreads one call over its workers itself: time whole calls, best of 5 slices.
        _ = batch.analyze(pending)
        var best = 0.0
        for _ in 0..<5 {
            var calls = 0
            let start = now()
            repeat {
                let results = batch.analyze(pending)
                precondition(results.allSatisfy { $0.signature == .valid }, "\(alg): a token did not verify")
                calls += 1
            } while now() - start < seconds / 5
            best = max(best, Double(calls * pending.count) / (now() - start))
        }
        print("\(alg.rawValue) token \(workers) \(Int(best))")
    }
}
